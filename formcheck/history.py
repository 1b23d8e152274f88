"""Training history: analyses saved as sessions in a local database, and their trends.

Storage is SQLAlchemy: SQLite in the data folder by default (FORMCHECK_DATA, default ~/.formcheck),
any database SQLAlchemy reaches with FORMCHECK_DB_URL (a coach's PostgreSQL server). The schema is
versioned with Alembic (formcheck/migrations); a database is brought up to date when it is opened.

A session's rows hold what the trend needs (the set's key numbers with their uncertainty, every
rep's metrics, the faults); its folder (DATA/sessions/<id>) holds the report, the pose track and a
small clean copy of the clip (<= CLIP_HEIGHT px high), so the session can be reviewed, compared with
another session and put in a PDF after the upload or the output folder is gone. Nothing leaves the
machine. No Streamlit here: the app, the CLI and the API share it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import (JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine,
                        select)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session as DbSession, mapped_column, relationship

from .exercise import get as get_exercise
from .types import Analysis, FormcheckError, PoseTrack

CLIP_HEIGHT = 480      # the session's own copy of the clip: enough for review and the side-by-side
DEFAULT_ATHLETE = "me"
# Faults that bear on the lower back, in the order the lower-back summary lists them.
LOWER_BACK = ("lumbar_rounding", "hips_shoot_up", "legs_first", "hips_too_high", "lockout_lean_back", "set_breakdown", "squatting_deadlift",
              "overarching_lower_back", "overstride", "overstride_reach", "excessive_lean", "fatigue_drift")


def data_dir() -> str:
    return os.path.abspath(os.path.expanduser(os.environ.get("FORMCHECK_DATA") or os.path.join("~", ".formcheck")))


def db_url(data: str | None = None) -> str:
    return os.environ.get("FORMCHECK_DB_URL") or "sqlite:///" + os.path.join(data or data_dir(), "history.sqlite3")


# ---------------------------------------------------------------- schema (migrations/versions mirror it)

class Base(DeclarativeBase):
    pass


class Athlete(Base):
    __tablename__ = "athlete"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sessions: Mapped[list["SessionRow"]] = relationship(back_populates="athlete", cascade="all, delete-orphan")


class SessionRow(Base):
    __tablename__ = "session"
    # One session per athlete, clip (content hash) and exercise: the same upload seen again, or
    # saved by two overlapping script runs of the app, is not a second session. (NULL keys: any number.)
    # AUTOINCREMENT: a deleted session's id is never given to another one (a page that still
    # holds the old id must not edit someone else's session).
    __table_args__ = (UniqueConstraint("athlete_id", "source_key", "exercise", name="uq_session_clip"),
                      {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive
    date_source: Mapped[str] = mapped_column(String(20))        # "video" (its metadata) / "saved" / "given"
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime)
    exercise: Mapped[str] = mapped_column(String(40), index=True)
    load_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    source_name: Mapped[str] = mapped_column(String(255))
    source_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # content hash of the clip
    folder: Mapped[str] = mapped_column(String(64))              # under DATA/sessions
    result_dir: Mapped[str | None] = mapped_column(Text, nullable=True)  # the CLI/API output folder, if any
    headline: Mapped[str] = mapped_column(Text)
    numbers: Mapped[dict] = mapped_column(JSON)                  # session_numbers()
    athlete: Mapped[Athlete] = relationship(back_populates="sessions")
    reps: Mapped[list["RepRow"]] = relationship(cascade="all, delete-orphan", order_by="RepRow.number")
    faults: Mapped[list["FaultRow"]] = relationship(cascade="all, delete-orphan")


class RepRow(Base):
    __tablename__ = "rep"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    metrics: Mapped[dict] = mapped_column(JSON)
    not_measured: Mapped[dict] = mapped_column(JSON)


class FaultRow(Base):
    __tablename__ = "fault"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    rep: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the whole set
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)


def upgrade(engine) -> None:
    """Bring the database to the newest schema (an empty one is created from nothing)."""
    from alembic import command
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", "formcheck:migrations")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


# ---------------------------------------------------------------- the numbers a trend is made of

def _med(vals) -> float | None:
    v = [x for x in vals if x is not None and np.isfinite(x)]
    return round(float(np.median(v)), 2) if v else None


def session_numbers(a: Analysis) -> dict:
    """The set's key numbers, each with its uncertainty where it has one. Pure.

    The back number's uncertainty is the per-rep one (its median): most of it is the spread of
    flat backs between bodies, which does not shrink by averaging one person's reps."""
    spec = get_exercise(a.exercise)
    reps = a.reps
    n = len(reps)
    counts: dict[str, int] = {}
    for r in reps:
        for f in r.faults:
            counts[f.code] = counts.get(f.code, 0) + 1
    out: dict = {"units": n, "fault_reps": counts, "set_faults": [f.code for f in a.faults]}
    back = spec.back_key
    if back in a.withheld:
        out["back_not_measured"] = a.withheld[back]
    vals = [(r.metrics.get(back), r.metrics.get(back.replace("_deg", "_sd_deg"))) for r in reps]
    measured = [(v, s if s is not None else spec.back_sd) for v, s in vals if v is not None and back not in a.withheld]
    out["back_measured"] = len(measured)
    if measured:
        worst = max(measured, key=lambda vs: vs[0])
        out["back_worst"], out["back_worst_sd"] = round(float(worst[0]), 2), worst[1]
        out["back_median"] = _med([v for v, _ in measured])
        out["back_sd"] = _med([s for _, s in measured if s is not None])
    for t in spec.trend:  # the exercise's own numbers (exercise.Trend); the back ones are above
        if t.source == "median":
            out[t.key] = _med([r.metrics.get(t.arg) for r in reps])
        elif t.source == "summary":
            out[t.key] = a.summary.get(t.arg)
        elif t.source == "share":
            hit = sum(1 for r in reps if any(f.code.startswith(t.arg) for f in r.faults))
            out[t.key] = round(hit / n, 3) if n else None
    return out


def _trend_columns(exercise: str) -> list[tuple[str, str | None]]:
    """(column, its +/- column's source key or None) for each number the exercise's trend shows."""
    return [(t.key, t.sd_key) for t in get_exercise(exercise).trend]


# ---------------------------------------------------------------- the store

@dataclass
class SessionInfo:
    id: int
    athlete: str
    recorded_at: dt.datetime
    date_source: str
    exercise: str
    load_kg: float | None
    notes: str
    source_name: str
    source_key: str | None
    folder: str                 # absolute
    result_dir: str | None
    headline: str
    numbers: dict
    reps: list[dict] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)

    @property
    def clip(self) -> str | None:
        p = os.path.join(self.folder, "clip.mp4")
        return p if os.path.exists(p) else None

    @property
    def label(self) -> str:
        load = f", {self.load_kg:g} kg" if self.load_kg is not None else ""
        return f"#{self.id} {self.recorded_at:%Y-%m-%d} {self.exercise}{load} ({self.source_name})"


def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _clean_json(x):
    """JSON columns: NaN as null, numpy scalars as numbers (PostgreSQL's JSON refuses NaN)."""
    from .report import _clean
    return _clean(x)


class History:
    """The sessions of every athlete on this machine (or on FORMCHECK_DB_URL's server)."""

    def __init__(self, url: str | None = None, data: str | None = None):
        self.data = os.path.abspath(data or data_dir())
        self.sessions_dir = os.path.join(self.data, "sessions")
        os.makedirs(self.sessions_dir, exist_ok=True)
        self.engine = create_engine(url or db_url(self.data))
        upgrade(self.engine)
        self.sweep()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ writing

    def save(self, track: PoseTrack, a: Analysis, report: dict, video_path: str | None = None,
             athlete: str = DEFAULT_ATHLETE, recorded_at: dt.datetime | None = None, load_kg: float | None = None,
             notes: str = "", result_dir: str | None = None, source_name: str | None = None,
             keep_video: bool = True, source_key: str | None = None) -> int:
        """Save one analysis as a session; returns its id. recorded_at: None = the video's own
        recording time (its metadata), else now. keep_video: store a small copy of the clip (for
        review, the cross-session side-by-side and the PDF's key frame). source_key: the clip's
        content hash, by which find() tells a clip already saved (an upload seen again). The session's folder is written whole before the
        row is committed; if the row cannot be written the folder goes again."""
        from .verdict import cards, headline
        athlete = (athlete or DEFAULT_ATHLETE).strip()[:100] or DEFAULT_ATHLETE
        if load_kg is not None and not (0 <= float(load_kg) < 2000):
            raise FormcheckError(f"The load must be between 0 and 2000 kg, not {load_kg}.")
        if recorded_at is not None:
            when, source = _utc(recorded_at), "given"
        else:
            from .video import recorded_time
            t = recorded_time(video_path) if video_path else None
            when, source = (_utc(t), "video") if t else (dt.datetime.utcnow().replace(microsecond=0), "saved")
        folder = uuid.uuid4().hex
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=self.sessions_dir)
        try:
            with open(os.path.join(tmp, "report.json"), "w") as fh:
                json.dump(report, fh, indent=1)
            track.save(os.path.join(tmp, "track.npz"))
            if video_path and keep_video:
                small_copy(video_path, os.path.join(tmp, "clip.mp4"), len(track))
            os.rename(tmp, os.path.join(self.sessions_dir, folder))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fields = dict(recorded_at=when, date_source=source, saved_at=dt.datetime.utcnow().replace(microsecond=0),
                      exercise=a.exercise, load_kg=None if load_kg is None else float(load_kg), notes=notes or "",
                      source_name=(source_name or os.path.basename(video_path or track.video.path))[:255],
                      source_key=source_key, folder=folder, result_dir=result_dir, headline=headline(a, cards(a))[1],
                      numbers=_clean_json(session_numbers(a)))
        try:
            for attempt in (1, 2):
                try:
                    return self._insert(athlete, fields, a)
                except IntegrityError:
                    existing = self.find(athlete, source_key, a.exercise) if source_key else None
                    if existing is not None:  # saved meanwhile by another run: that session stands
                        shutil.rmtree(os.path.join(self.sessions_dir, folder), ignore_errors=True)
                        return existing
                    if attempt == 2:
                        raise
                    # else the athlete was created by another run meanwhile: once more, with theirs
        except BaseException:
            shutil.rmtree(os.path.join(self.sessions_dir, folder), ignore_errors=True)
            raise

    def _insert(self, athlete: str, fields: dict, a: Analysis) -> int:
        with DbSession(self.engine) as db, db.begin():
            who = db.scalar(select(Athlete).where(Athlete.name == athlete)) or Athlete(name=athlete)
            row = SessionRow(athlete=who, **fields)
            row.reps = [RepRow(number=r.index, start_s=r.start_s, end_s=r.end_s, metrics=_clean_json(r.metrics),
                               not_measured=_clean_json(r.not_measured)) for r in a.reps]
            row.faults = ([FaultRow(rep=r.index, **_fault(f)) for r in a.reps for f in r.faults]
                          + [FaultRow(rep=None, **_fault(f)) for f in a.faults])
            db.add(row)
            db.flush()
            return row.id

    def update(self, session_id: int, recorded_at: dt.datetime | None = None, load_kg: float | None | str = "keep",
               notes: str | None = None) -> None:
        """Edit the date (it then counts as given), the load (None clears it) or the notes."""
        with DbSession(self.engine) as db, db.begin():
            row = self._row(db, session_id)
            if recorded_at is not None:
                row.recorded_at, row.date_source = _utc(recorded_at), "given"
            if load_kg != "keep":
                if load_kg is not None and not (0 <= float(load_kg) < 2000):
                    raise FormcheckError(f"The load must be between 0 and 2000 kg, not {load_kg}.")
                row.load_kg = None if load_kg is None else float(load_kg)
            if notes is not None:
                row.notes = notes

    def delete_session(self, session_id: int) -> None:
        with DbSession(self.engine) as db, db.begin():
            row = self._row(db, session_id)
            folder = row.folder
            db.delete(row)
        self._remove(folder)
        self._remove_compares([int(session_id)])

    def delete_athlete(self, name: str) -> int:
        """Remove the athlete, every session of theirs and its files; returns how many sessions."""
        with DbSession(self.engine) as db, db.begin():
            who = db.scalar(select(Athlete).where(Athlete.name == name))
            if who is None:
                return 0
            folders = [s.folder for s in who.sessions]
            ids = [s.id for s in who.sessions]
            db.delete(who)
        for f in folders:
            self._remove(f)
        self._remove_compares(ids)
        return len(folders)

    def _remove_compares(self, ids: list[int]) -> None:
        """Side-by-side clips built from these sessions (DATA/compare/<a>_<rep>_vs_<b>_<rep>_...)."""
        d = os.path.join(self.data, "compare")
        if not os.path.isdir(d):
            return
        for name in os.listdir(d):
            parts = name.split("_")
            if len(parts) >= 5 and parts[2] == "vs" and {parts[0], parts[3]} & {str(i) for i in ids}:
                os.remove(os.path.join(d, name))

    def sweep(self, min_age_s: float = 600.0) -> int:
        """Remove session folders that no row names (a save that died between writing the folder
        and committing the row). Only folders older than min_age_s: a save in progress elsewhere
        writes its folder before its row."""
        import time
        with DbSession(self.engine) as db:
            known = set(db.scalars(select(SessionRow.folder)))
        n = 0
        for name in os.listdir(self.sessions_dir):
            p = os.path.join(self.sessions_dir, name)
            ours = name.startswith(".tmp-") or (len(name) == 32 and all(c in "0123456789abcdef" for c in name))
            if ours and name not in known and time.time() - os.path.getmtime(p) > min_age_s:
                shutil.rmtree(p, ignore_errors=True)
                n += 1
        return n

    def _remove(self, folder: str) -> None:
        # only a session folder of ours: a bare hex name directly under DATA/sessions
        if folder and all(c in "0123456789abcdef" for c in folder):
            shutil.rmtree(os.path.join(self.sessions_dir, folder), ignore_errors=True)

    # ------------------------------------------------------------ reading

    def _row(self, db, session_id: int) -> SessionRow:
        row = db.get(SessionRow, int(session_id))
        if row is None:
            raise FormcheckError(f"There is no saved session #{session_id}.")
        return row

    def _info(self, row: SessionRow, full: bool = False) -> SessionInfo:
        return SessionInfo(
            id=row.id, athlete=row.athlete.name, recorded_at=row.recorded_at, date_source=row.date_source,
            exercise=row.exercise, load_kg=row.load_kg, notes=row.notes, source_name=row.source_name,
            source_key=row.source_key, folder=os.path.join(self.sessions_dir, row.folder), result_dir=row.result_dir, headline=row.headline,
            numbers=dict(row.numbers or {}),
            reps=[dict(number=r.number, start_s=r.start_s, end_s=r.end_s, metrics=r.metrics, not_measured=r.not_measured)
                  for r in row.reps] if full else [],
            faults=[dict(rep=f.rep, code=f.code, severity=f.severity, value=f.value, threshold=f.threshold, unit=f.unit,
                         start_s=f.start_s, end_s=f.end_s) for f in row.faults] if full else [])

    def find(self, athlete: str, source_key: str, exercise: str) -> int | None:
        """The session of this athlete already saved from this clip (content hash) and exercise."""
        with DbSession(self.engine) as db:
            return db.scalar(select(SessionRow.id).join(Athlete).where(
                Athlete.name == athlete, SessionRow.source_key == source_key, SessionRow.exercise == exercise))

    def athletes(self) -> list[str]:
        """Athletes with at least one session (an athlete whose sessions were all deleted is not listed)."""
        with DbSession(self.engine) as db:
            return list(db.scalars(select(Athlete.name).join(SessionRow).distinct().order_by(Athlete.name)))

    def sessions(self, athlete: str | None = None, exercise: str | None = None,
                 since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[SessionInfo]:
        """Oldest first."""
        with DbSession(self.engine) as db:
            q = select(SessionRow).join(Athlete)
            if athlete:
                q = q.where(Athlete.name == athlete)
            if exercise:
                q = q.where(SessionRow.exercise == exercise)
            if since:
                q = q.where(SessionRow.recorded_at >= _utc(since))
            if until:
                q = q.where(SessionRow.recorded_at <= _utc(until))
            return [self._info(r) for r in db.scalars(q.order_by(SessionRow.recorded_at, SessionRow.id))]

    def session(self, session_id: int) -> SessionInfo:
        with DbSession(self.engine) as db:
            return self._info(self._row(db, session_id), full=True)

    def load(self, session_id: int) -> tuple[SessionInfo, PoseTrack, Analysis]:
        """A session with its pose track and the analysis of it (recomputed by this version)."""
        from .pipeline import analyze_track
        info = self.session(session_id)
        try:
            track = PoseTrack.load(os.path.join(info.folder, "track.npz"))
        except (OSError, ValueError, KeyError) as e:
            raise FormcheckError(f"Session #{session_id}'s files are damaged or gone ({e.__class__.__name__}).") from None
        return info, track, analyze_track(track, info.exercise)

    def trend(self, athlete: str, exercise: str) -> pd.DataFrame:
        """One row per session, oldest first: date, load, the exercise's trend numbers with their +/-."""
        rows = []
        for s in self.sessions(athlete, exercise):
            row = {"session": s.id, "date": s.recorded_at, "load_kg": s.load_kg, "units": s.numbers.get("units"),
                   "label": s.label}
            for key, sd in _trend_columns(exercise):
                row[key] = s.numbers.get(key)
                if sd:
                    row[key + "_sd"] = s.numbers.get(sd)
            rows.append(row)
        return pd.DataFrame(rows)

    def lower_back(self, athlete: str, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[dict]:
        """Which faults recur, in which exercise, and whether they are getting better: per
        (exercise, fault) the sessions it appeared in, and its share of reps or steps in the
        earlier vs the later half of the sessions."""
        from .exercise import names
        out = []
        for exercise in names():
            rules = get_exercise(exercise).rules
            ss = self.sessions(athlete, exercise, since, until)
            if not ss:
                continue
            codes = sorted({c for s in ss for c in list(s.numbers.get("fault_reps", {})) + s.numbers.get("set_faults", [])},
                           key=lambda c: LOWER_BACK.index(c) if c in LOWER_BACK else 99)
            back_code = get_exercise(exercise).back_rule.code
            for code in codes:
                # a back fault counts over the reps whose back was measured: a session filmed so
                # that it could not be measured is left out, never counted as fault-free
                share = [_share(s.numbers, code, code == back_code) for s in ss]
                seen = [(s, x) for s, x in zip(ss, share) if x is not None]
                hit = sum(1 for _, x in seen if x > 0)
                out.append(dict(exercise=exercise, code=code, sessions=hit, of=len(seen),
                                trend=_direction([x for _, x in seen]),
                                last_seen=max(s.recorded_at for s, x in seen if x > 0) if hit else None,
                                cue=rules[code].cue if code in rules else ""))
        return out

    def to_csv(self, path: str, athlete: str | None = None, exercise: str | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
        """One row per session: who, when, what, load, the key numbers, faults per code."""
        rows = []
        for s in self.sessions(athlete, exercise, since, until):
            n = s.numbers
            row = {"session": s.id, "athlete": s.athlete, "recorded_at": s.recorded_at.isoformat(),
                   "date_source": s.date_source, "exercise": s.exercise, "load_kg": s.load_kg, "source": s.source_name,
                   "reps_or_steps": n.get("units"), "headline": s.headline, "notes": s.notes}
            for key, sd in _trend_columns(s.exercise):
                row[key] = n.get(key)
                if sd:
                    row[key + "_sd"] = n.get(sd)
            row["faults"] = "; ".join(f"{c} x{k}" for c, k in n.get("fault_reps", {}).items())
            row["set_faults"] = "; ".join(n.get("set_faults", []))
            rows.append(row)
        pd.DataFrame(rows).to_csv(path, index=False)
        return len(rows)


def _fault(f) -> dict:
    return dict(code=f.code, severity=f.severity, value=float(f.value), threshold=float(f.threshold), unit=f.unit,
                start_s=float(f.start_s), end_s=float(f.end_s))


def _share(numbers: dict, code: str, back: bool = False) -> float | None:
    """The share of reps or steps with the fault (1 for a set fault); None where it could not be
    judged (a back fault in a session whose back was not measured)."""
    if code in numbers.get("set_faults", []):
        return 1.0
    n = numbers.get("back_measured") if back else numbers.get("units")
    if not n:
        return None
    return numbers.get("fault_reps", {}).get(code, 0) / n


def _direction(share: list[float]) -> str:
    """Earlier half vs later half of the sessions (3 or more): a change of at least a quarter of
    the reps or steps counts; less is 'no clear change' (one rep more of a four-rep set is noise)."""
    if len(share) < 3:
        return "too few sessions to tell"
    h = len(share) // 2
    early, late = float(np.mean(share[:h])), float(np.mean(share[-h:]))
    if late <= early - 0.25:
        return "better"
    if late >= early + 0.25:
        return "worse"
    return "no clear change"


def small_copy(path: str, out: str, max_frames: int | None = None, height: int = CLIP_HEIGHT) -> float:
    """A clean H.264 copy of the clip at most `height` px high, same timestamps; returns the scale
    applied (track coordinates times it land on the copy)."""
    import cv2
    from .video import H264Writer, frames, probe
    info = probe(path)
    s = min(1.0, height / max(info.height, 1))
    w, h = int(round(info.width * s)) // 2 * 2, int(round(info.height * s)) // 2 * 2
    with H264Writer(out, w, h, info.fps, crf=26) as wr:
        for i, (t, img, _) in enumerate(frames(path)):
            if max_frames is not None and i >= max_frames:
                break
            wr.write(img if s == 1.0 else cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA), t)
    return s


def scaled_track(track: PoseTrack, clip: str) -> PoseTrack:
    """The track in the pixel frame of a session's small clip (the profile is in chord lengths: unchanged)."""
    import dataclasses
    from .video import probe
    info = probe(clip)
    # per axis: the copy's sides are each rounded to an even number of pixels
    s = np.array([info.width / max(track.video.width, 1), info.height / max(track.video.height, 1)])
    video = dataclasses.replace(track.video, width=info.width, height=info.height, path=clip)
    return PoseTrack(t=track.t, xy=track.xy * s, vis=track.vis, profile=track.profile, video=video,
                     subject_note=track.subject_note)
