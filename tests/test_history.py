"""Training history (formcheck.history), the PDF reports (formcheck.pdf) and the history CLI,
on the bundled samples' shipped pose tracks and on synthetic tracks: no MediaPipe."""
import datetime as dt
import os

import av
import numpy as np
import pytest

from formcheck.history import History, scaled_track, session_numbers
from formcheck.pipeline import analyze
from formcheck.types import PoseTrack
from tests.synth import deadlift_track

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "sample_videos")


def sample(name: str):
    """(video path, Result) of a bundled sample from its shipped track."""
    track = PoseTrack.load(os.path.join(SAMPLES, name + ".track.npz"))
    return os.path.join(SAMPLES, name + ".mp4"), analyze(track, "running" if name.startswith("run") else "deadlift")


@pytest.fixture
def hist(tmp_path):
    h = History(data=str(tmp_path / "data"))
    yield h
    h.close()


def _save(h, name, video=True, **kw):
    """Save a sample as a session; video=False skips the clip copy (~2 s a sample on 2 cores)."""
    path, res = sample(name)
    return h.save(res.track, res.analysis, res.report, video_path=path if video else None, **kw)


def test_an_empty_database_is_migrated_to_the_schema_the_code_uses(tmp_path):
    """Alembic builds the schema from nothing, and what it builds is exactly what the models
    declare (a model changed without a migration fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.config import Config
    from formcheck.history import Base
    h = History(data=str(tmp_path / "d"))
    with h.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        cfg = Config()
        cfg.set_main_option("script_location", "formcheck:migrations")
        assert ctx.get_current_revision() == ScriptDirectory.from_config(cfg).get_current_head()
        assert compare_metadata(ctx, Base.metadata) == []
    h.close()
    History(data=str(tmp_path / "d")).close()  # opening it again is a no-op, not a second create


def test_a_saved_session_reads_back_with_its_reps_faults_and_files(hist):
    path, res = sample("run_overstride")  # the shortest sample: its clip copy is quick
    sid = hist.save(res.track, res.analysis, res.report, video_path=path, athlete="Ann", load_kg=0, notes="easy 5k")
    s = hist.session(sid)
    assert (s.athlete, s.exercise, s.load_kg, s.notes, s.source_name) == ("Ann", "running", 0.0, "easy 5k", "run_overstride.mp4")
    assert s.date_source == "saved"  # the sample has no recording time in its metadata
    assert [r["number"] for r in s.reps] == [r.index for r in res.analysis.reps]
    assert s.reps[0]["metrics"]["arch_deg"] == pytest.approx(res.analysis.reps[0].metrics["arch_deg"], abs=1e-3)
    assert sorted(f["code"] for f in s.faults) == sorted([f.code for r in res.analysis.reps for f in r.faults]
                                                         + [f.code for f in res.analysis.faults])
    from formcheck.report import _clean
    assert s.numbers == _clean(session_numbers(res.analysis)) and s.numbers["units"] == len(res.analysis.reps)
    assert s.numbers["overstride_share"] == 1.0 and s.numbers["cadence_spm"] > 150
    assert sorted(os.listdir(s.folder)) == ["clip.mp4", "report.json", "track.npz"]
    assert sorted(os.listdir(hist.sessions_dir)) == [os.path.basename(s.folder)]  # no temporary folder left
    with av.open(s.clip) as c:
        assert c.streams.video[0].height <= 480
    info, track, a = hist.load(sid)
    assert len(a.reps) == len(res.analysis.reps)
    small = scaled_track(track, s.clip)
    assert small.video.height <= 480 and np.nanmax(small.xy[..., 1]) <= small.video.height


def test_a_deadlift_session_keeps_the_back_number_with_its_uncertainty(hist):
    _, res = sample("deadlift_rounding")
    s = hist.session(hist.save(res.track, res.analysis, res.report))
    assert s.numbers["back_sd"] > 0 and s.numbers["back_worst_sd"] > 0 and s.numbers["back_measured"] == len(res.analysis.reps)
    assert s.numbers["set_faults"] == ["set_breakdown"] and s.numbers["liftoff_trunk_median"] > 30


def test_the_recording_time_comes_from_the_video_and_can_be_edited(hist, tmp_path):
    from formcheck.video import recorded_time
    _, res = sample("deadlift_good")
    src = os.path.join(SAMPLES, "deadlift_good.mp4")
    dated = str(tmp_path / "dated.mp4")
    with av.open(src) as i, av.open(dated, "w") as o:  # the same frames, with a phone's creation_time
        o.metadata["creation_time"] = "2026-03-01T17:30:00.000000Z"
        s_in = i.streams.video[0]
        s_out = o.add_stream_from_template(s_in)
        for p in i.demux(s_in):
            if p.dts is not None:
                p.stream = s_out
                o.mux(p)
    assert recorded_time(dated) == dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.timezone.utc)
    sid = hist.save(res.track, res.analysis, res.report, video_path=dated, keep_video=False)
    s = hist.session(sid)
    assert (s.recorded_at, s.date_source) == (dt.datetime(2026, 3, 1, 17, 30), "video")
    hist.update(sid, recorded_at=dt.datetime(2026, 3, 2, 9, 0), load_kg=100.0, notes="felt easy")
    s = hist.session(sid)
    assert (s.recorded_at, s.date_source, s.load_kg, s.notes) == (dt.datetime(2026, 3, 2, 9, 0), "given", 100.0, "felt easy")
    hist.update(sid, load_kg=None)
    assert hist.session(sid).load_kg is None


def test_deleting_an_athlete_removes_their_sessions_and_files_only(hist):
    a1 = _save(hist, "run_overstride", athlete="Ann")
    a2 = _save(hist, "run_overstride", athlete="Ann", video=False)
    b1 = _save(hist, "deadlift_good", athlete="Bob", video=False)
    folders = {i: hist.session(i).folder for i in (a1, a2, b1)}
    assert hist.delete_athlete("Ann") == 2
    assert hist.athletes() == ["Bob"]
    assert not os.path.exists(folders[a1]) and not os.path.exists(folders[a2]) and os.path.exists(folders[b1])
    assert [s.id for s in hist.sessions()] == [b1]
    with hist.engine.connect() as c:  # no orphaned rep or fault rows
        from sqlalchemy import text
        assert c.execute(text("select count(*) from rep where session_id in (:a, :b)"), {"a": a1, "b": a2}).scalar() == 0
        assert c.execute(text("select count(*) from fault where session_id in (:a, :b)"), {"a": a1, "b": a2}).scalar() == 0
    hist.delete_session(b1)
    assert hist.sessions() == [] and not os.path.exists(folders[b1])


@pytest.mark.slow  # 2-3 s each, these two: keeps the fast tier under a minute on 2 cores
def test_the_trend_over_three_sessions_and_the_lower_back_summary(hist):
    """Three deadlift sessions a week apart, the back rounding more each time (synthetic tracks
    with a known outline bulge): the trend is in date order, rises, carries its +/-, and the
    lower-back summary says the rounding fault is getting worse."""
    day = dt.datetime(2026, 10, 1)
    for k, bulge in enumerate([0.0, 0.02, 0.09]):
        res = analyze(deadlift_track(reps=3, rounding=bulge), "deadlift")
        hist.save(res.track, res.analysis, res.report, athlete="me", recorded_at=day + dt.timedelta(days=7 * k),
                  load_kg=100 + 10 * k)
    # saved out of order: still listed by date
    res = analyze(deadlift_track(reps=3), "deadlift")
    hist.save(res.track, res.analysis, res.report, athlete="me", recorded_at=day - dt.timedelta(days=7))
    df = hist.trend("me", "deadlift")
    assert list(df["date"]) == sorted(df["date"]) and len(df) == 4
    back = df["back_median"].to_numpy()
    assert back[-1] > back[1] + 10 and (df["back_median_sd"] > 0).all()
    lb = {(x["exercise"], x["code"]): x for x in hist.lower_back("me")}
    x = lb[("deadlift", "lumbar_rounding")]
    assert (x["sessions"], x["of"], x["trend"]) == (1, 4, "worse") and "back" in x["cue"].lower()
    assert hist.lower_back("nobody") == []


@pytest.mark.slow
def test_two_reps_from_two_sessions_side_by_side(hist, tmp_path):
    """A step of one session next to a step of another (two runs), phase-aligned."""
    from formcheck.compare import Panel, side_by_side_panels
    from formcheck.types import FormcheckError
    from formcheck.video import probe
    i1 = _save(hist, "run_overstride", recorded_at=dt.datetime(2026, 9, 1))
    i2 = _save(hist, "run_overstride", recorded_at=dt.datetime(2026, 10, 1))
    (s1, t1, a1), (s2, t2, a2) = hist.load(i1), hist.load(i2)
    out = str(tmp_path / "x.mp4")
    stills = []
    side_by_side_panels([Panel(s1.clip, scaled_track(t1, s1.clip), a1, 2, "September"),
                         Panel(s2.clip, scaled_track(t2, s2.clip), a2, len(a2.reps) - 1, "October")], out, height=240,
                        stills=stills)
    info = probe(out)
    assert info.height == 280 and info.frames == len(stills) >= 10
    longest = max(a1.reps[1].end_s - a1.reps[1].start_s, a2.reps[-2].end_s - a2.reps[-2].start_s)
    assert abs(info.frames / 30.0 - max(longest, 0.5)) < 0.1  # phase-aligned to the longer one
    lift = _save(hist, "deadlift_good", video=False)
    s3, t3, a3 = hist.load(lift)
    with pytest.raises(FormcheckError, match="same exercise"):
        side_by_side_panels([Panel(s1.clip, t1, a1, 1), Panel(s1.clip, t3, a3, 1)], out)


def _pdf_text(path):
    from pypdf import PdfReader
    r = PdfReader(path)
    return len(r.pages), "\n".join(p.extract_text() for p in r.pages), r


def test_the_session_pdf_has_the_verdict_key_frame_plot_table_and_sources(tmp_path):
    from formcheck.pdf import session_pdf
    from formcheck.verdict import cards, headline
    path, res = sample("deadlift_rounding")
    out = session_pdf(str(tmp_path / "r.pdf"), res.track, res.analysis, res.report, path, source="my set.mp4")
    n, text, r = _pdf_text(out)
    assert 3 <= n <= 4  # verdict and key frame, plot and per-rep table, the glossary of what each number is
    flat = " ".join(text.split())
    for words in ("formcheck report: my set.mp4", "Verdict", "Filming check", "The most affected rep", "Angles over time",
                  "Per rep", "What each number is measured from", "Back rounding (outline bend)", "+/-", "silhouette",
                  headline(res.analysis, cards(res.analysis))[1]):
        assert words in flat, words
    images = [img for p in r.pages for img in p.images]
    assert len(images) >= 2  # the key frame and the angle plot
    # no video: still a report, and it says why there is no key frame
    n, text, _ = _pdf_text(session_pdf(str(tmp_path / "n.pdf"), res.track, res.analysis, res.report, None))
    assert "No key frame" in text


@pytest.mark.slow  # 5-6 s: keeps the fast tier under a minute on 2 cores
def test_the_history_pdf_and_the_history_command(hist, tmp_path, monkeypatch, capsys):
    from formcheck.cli import main
    from formcheck.pdf import history_pdf
    _save(hist, "deadlift_rounding", False, athlete="Ann", recorded_at=dt.datetime(2026, 9, 1), load_kg=100)
    _save(hist, "deadlift_good", False, athlete="Ann", recorded_at=dt.datetime(2026, 10, 1), load_kg=110)
    _save(hist, "run_overstride", False, athlete="Ann", recorded_at=dt.datetime(2026, 10, 2))
    n, text, _ = _pdf_text(history_pdf(str(tmp_path / "h.pdf"), hist, "Ann"))
    flat = " ".join(text.split())
    assert "formcheck history: Ann" in flat and "Your lower back, across lifting and running" in flat
    assert "Deadlift: 2 sessions" in flat and "Running: 1 sessions" in flat and "overstride" in flat
    _, text, _ = _pdf_text(history_pdf(str(tmp_path / "h2.pdf"), hist, "Ann", since=dt.datetime(2026, 9, 15)))
    assert "Deadlift: 1 sessions" in " ".join(text.split())

    monkeypatch.setenv("FORMCHECK_DATA", hist.data)
    assert main(["history", "--athlete", "Ann", "--exercise", "deadlift", "--csv", str(tmp_path / "h.csv")]) == 0
    out = capsys.readouterr().out
    assert "2 session(s)" in out and "deadlift_good.mp4" in out and "run_overstride" not in out
    import pandas as pd
    csv = pd.read_csv(tmp_path / "h.csv")
    assert list(csv["load_kg"]) == [100.0, 110.0] and "back_median_sd" in csv
    assert main(["history", "--until", "2026-09-01"]) == 0
    assert "1 session(s)" in capsys.readouterr().out  # --until includes that day
    assert main(["history", "--delete", "999"]) == 1
    assert "no saved session #999" in capsys.readouterr().err
    assert main(["history", "--delete-athlete", "Ann"]) == 0
    assert "Deleted Ann: 3 session(s)" in capsys.readouterr().out


def _history_page():
    from formcheck.app_history import history_page
    history_page()


@pytest.mark.slow  # 5-6 s: keeps the fast tier under a minute on 2 cores
def test_the_history_page_shows_trends_a_session_and_deletes_an_athlete(tmp_path, monkeypatch):
    """The app's History page (AppTest) on three saved sessions: the lower-back summary over both
    exercises, a trend chart per exercise, the newest session open with its PDF, and deleting the
    athlete (after the confirmation) empties it."""
    from streamlit.testing.v1 import AppTest
    data = str(tmp_path / "data")
    monkeypatch.setenv("FORMCHECK_DATA", data)
    with History(data=data) as h:
        _save(h, "deadlift_rounding", False, athlete="me", recorded_at=dt.datetime(2026, 9, 1))
        _save(h, "deadlift_good", False, athlete="me", recorded_at=dt.datetime(2026, 10, 1))
        newest = _save(h, "run_overstride", True, athlete="me", recorded_at=dt.datetime(2026, 10, 2))
    app = AppTest.from_function(_history_page, default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    heads = [x.value for x in app.subheader]
    assert heads[:3] == ["Your lower back, across lifting and running", "Deadlift: 2 session(s)", "Running: 1 session(s)"]
    md = " ".join(m.value for m in app.markdown)
    assert "Running - overstride**: in 1 of 1 sessions" in md and "Deadlift - set breakdown" in md
    assert len(app.get("vega_lite_chart")) == 2
    assert app.selectbox(key="open_None").value == newest  # the newest session is open
    assert "Session #%d" % newest in md and any(b.label == "Report of this session (PDF)" for b in app.get("download_button"))
    assert len(app.get("video")) == 1  # its annotated clip, drawn from the saved copy
    assert app.button[-1].disabled  # deleting the athlete needs the box ticked first
    app.checkbox(key="sure_delete").check().run()
    app.button[-1].click().run()
    assert not app.exception, app.exception
    assert any("No saved sessions yet" in i.value for i in app.info)
    assert not os.listdir(os.path.join(data, "sessions"))


def test_one_clip_is_one_session_even_when_two_runs_save_it_at_once(hist):
    """The app can run two script passes of one page at once (a click while a pass is saving):
    both save the same upload, one session results. Another athlete, or no content key, is
    another session."""
    import threading
    _, res = sample("deadlift_good")
    ids, errors = [], []

    def save():
        try:
            ids.append(hist.save(res.track, res.analysis, res.report, source_key="k" * 20))
        except Exception as e:  # pragma: no cover - the failure this test is about
            errors.append(e)
    ts = [threading.Thread(target=save) for _ in range(3)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors and len(set(ids)) == 1 and len(hist.sessions()) == 1
    assert len(os.listdir(hist.sessions_dir)) == 1  # the losers' folders are gone
    assert hist.find("me", "k" * 20, "deadlift") == ids[0]
    assert hist.save(res.track, res.analysis, res.report, source_key="k" * 20, athlete="Bob") != ids[0]
    assert hist.save(res.track, res.analysis, res.report) != hist.save(res.track, res.analysis, res.report)


def test_what_a_delete_or_a_crash_leaves_and_what_an_unmeasured_back_counts_as(hist, tmp_path):
    """An athlete whose sessions are all deleted is not listed; side-by-side clips of a deleted
    session go with it; a session folder no row names (a save that died before its commit) is
    swept once old; a session whose back could not be measured is left out of the rounding
    trend, not counted as fault-free; an aware --since works for the PDF."""
    from formcheck.pdf import history_pdf
    day = dt.datetime(2026, 10, 1)
    for k, bulge in enumerate([0.09, 0.09, 0.09]):
        res = analyze(deadlift_track(reps=3, rounding=bulge), "deadlift")
        hist.save(res.track, res.analysis, res.report, recorded_at=day + dt.timedelta(days=k))
    res = analyze(deadlift_track(reps=3), "deadlift")
    res.analysis.withheld["back_rounding_deg"] = "not side-on enough"  # as the analysis withholds it off side-on
    for r in res.analysis.reps:
        r.metrics["back_rounding_deg"] = None
    last = hist.save(res.track, res.analysis, res.report, recorded_at=day + dt.timedelta(days=9))
    x = next(x for x in hist.lower_back("me") if x["code"] == "lumbar_rounding")
    assert (x["sessions"], x["of"], x["trend"]) == (3, 3, "no clear change")  # not "better"
    compare = os.path.join(hist.data, "compare")
    os.makedirs(compare)
    for name in (f"{last}_1_vs_2_1_0.5x.mp4", "1_1_vs_2_1_0.5x.mp4"):
        open(os.path.join(compare, name), "w").close()
    hist.delete_session(last)
    assert os.listdir(compare) == ["1_1_vs_2_1_0.5x.mp4"]
    for s in hist.sessions():
        hist.delete_session(s.id)
    assert hist.athletes() == []
    orphan = os.path.join(hist.sessions_dir, "ab" * 16)
    os.makedirs(orphan)
    assert hist.sweep() == 0  # young: maybe a save in progress
    os.utime(orphan, (0, 0))
    assert hist.sweep() == 1 and not os.path.exists(orphan)
    since = dt.datetime(2026, 9, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert os.path.getsize(history_pdf(str(tmp_path / "h.pdf"), hist, "me", since=since)) > 0
