"""The whole job: video -> pose -> analysis -> report files and annotated clip.

The Python API is `analyze_video`; the CLI and the app are thin shells over it.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass

import numpy as np

from . import exercise as exercise_spec
from .extract import Progress, extract_pose
from .render import Overlay
from .report import build_report, frames_table, reps_table, write_json
from .results import ResultWriter, load as load_result
from .types import L_ANKLE, R_ANKLE, Analysis, FormcheckError, PoseTrack
from .video import H264Writer, frames

MIN_DETECTED = 0.2   # a person in fewer frames than this: no analysis


@dataclass
class Result:
    track: PoseTrack
    analysis: Analysis
    report: dict
    out_dir: str | None = None
    replaced: str | None = None  # the source of a different clip's result this one replaced
    session_id: int | None = None  # its session in the history database, when saved (formcheck.history)

    @property
    def annotated_path(self) -> str | None:
        """The annotated clip of this result: only if the folder's completion marker lists it
        (a folder another run has since replaced, or one written with render=False, has none)."""
        marker = load_result(self.out_dir, deep=False) if self.out_dir else None
        if not marker or "annotated.mp4" not in marker["files"]:
            return None
        return os.path.join(self.out_dir, "annotated.mp4")


# The motion tests: a deadlift hinges the trunk this far with the ankles closer than PLANTED_MAX;
# a run separates the ankles by STRIDE_MIN (torso lengths) with the trunk hinging less than HINGE_MIN.
HINGE_MIN, PLANTED_MAX, STRIDE_MIN = 30.0, 0.8, 0.5


def _motion(track: PoseTrack) -> tuple[float, float, bool]:
    """How far the trunk hinges (deg, 5th-95th percentile range), how far apart the ankles get
    (torso lengths, 90th percentile), and whether ankles were seen at all."""
    from .signals import condition, incline_from_vertical
    c = condition(track, 6.0)
    trunk = incline_from_vertical(c.joints["hip_mid"], c.joints["shoulder_mid"], c.facing_sign)
    hinge = float(np.nanpercentile(trunk, 95) - np.nanpercentile(trunk, 5)) if np.isfinite(trunk).sum() > 5 else 0.0
    ankle_sep = np.abs(track.xy[:, L_ANKLE, 0] - track.xy[:, R_ANKLE, 0]) / max(c.torso_len, 1e-6)
    stride = float(np.nanpercentile(ankle_sep, 90)) if np.isfinite(ankle_sep).any() else 0.0
    return hinge, stride, bool(np.isfinite(c.joints["ankle"]).any())


def choose_exercise(track: PoseTrack) -> tuple[str, str]:
    """Tell a deadlift from a run by the motion: a run moves the feet in a steady rhythm and
    keeps the trunk near upright; a deadlift hinges the trunk far over with the feet planted."""
    hinge, stride, ankles = _motion(track)
    if hinge >= HINGE_MIN and stride < PLANTED_MAX:
        return "deadlift", f"Chose deadlift: the trunk hinged through {hinge:.0f} deg with the feet planted."
    if stride >= STRIDE_MIN:
        return "running", f"Chose running: the ankles separated by up to {stride:.1f} torso lengths in a repeating stride."
    if ankles and hinge >= 20:
        return "deadlift", f"Chose deadlift: the trunk hinged through {hinge:.0f} deg."
    raise FormcheckError("Could not tell whether this is a deadlift or a run from the movement; "
                         "choose the exercise yourself.")


def capture_notes(info) -> list[str]:
    """What the file itself did that the user should know: breaks in its timeline, the track
    chosen among several, non-square pixels."""
    notes = []
    for at, removed in getattr(info, "gaps", [])[:3]:
        notes.append(f"The clip's timestamps jump by {removed:+.1f} s at {at:.1f} s (a paused recording, or a file edited or "
                     f"joined badly). The jump was closed so the motion stays continuous: times after {at:.1f} s are "
                     "measured without it and differ from what a player shows.")
    if getattr(info, "streams", 1) > 1:
        notes.append(f"This file holds {info.streams} video tracks; analysed the main one ({info.width}x{info.height}, "
                     f"track {info.stream}), not a cover picture or thumbnail.")
    if getattr(info, "sar", "1") not in ("1", "1/1"):
        notes.append(f"The video's pixels are not square (aspect {info.sar.replace('/', ':')}); frames were stretched to "
                     f"the {info.width}x{info.height} picture a player shows before measuring angles.")
    return notes


def analyze_track(track: PoseTrack, exercise: str = "deadlift") -> Analysis:
    if len(track) < 8 or track.t[-1] < 0.3:
        n = len(track)
        raise FormcheckError(f"The clip is too short ({n} frame{'' if n == 1 else 's'}, {track.t[-1]:.2f} s) "
                             "to contain a rep or a stride.")
    det = float(np.mean(track.detected))
    if det < MIN_DETECTED:
        raise FormcheckError("No person was found in this video" if det == 0 else
                             f"A person was found in only {det:.0%} of the frames. Film the whole body, side-on, in good light.")
    note = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if exercise == "auto":
            exercise, note = choose_exercise(track)
            mismatch = None
        else:
            mismatch = _contradiction(track, exercise)
        a = exercise_spec.get(exercise).analyze(track)
    a.warnings.extend(capture_notes(track.video))
    if note:
        a.warnings.insert(0, note)
        a.summary["exercise_choice"] = note
    if mismatch:
        a.warnings.insert(0, mismatch)
        a.summary["exercise_mismatch"] = mismatch
    return a


def _contradiction(track: PoseTrack, exercise: str) -> str | None:
    """When the user picked the exercise, say so if the motion clearly is the other one: forcing
    'running' on a deadlift gives strides and a lean that mean nothing. Clearly = both halves of
    the auto-chooser's description hold (a hinge with planted feet; a stride with an upright trunk)."""
    hinge, stride, _ = _motion(track)
    if hinge >= HINGE_MIN and stride < PLANTED_MAX:
        seen, why = "deadlift", f"the trunk hinged through {hinge:.0f} deg with the feet planted"
    elif stride >= STRIDE_MIN and hinge < HINGE_MIN:
        seen, why = "running", f"the ankles separated by up to {stride:.1f} torso lengths with the trunk near upright"
    else:
        return None
    if seen == exercise:
        return None
    return (f"You chose {exercise}, but the motion looks like {seen} ({why}). "
            f"The {exercise_spec.get(exercise).unit} metrics below may mean nothing; analyse it as {seen} or check the clip.")


def render_video(path: str, track: PoseTrack, a: Analysis, out_path: str, progress: Progress | None = None) -> None:
    """Pass 2: decode again and draw; frames stream straight from decoder to encoder."""
    info = track.video
    ov = Overlay(track, a, info.width, info.height)  # the exercise's own back-shape line
    with H264Writer(out_path, info.width, info.height, info.fps) as w:
        for i, (t, img, _) in enumerate(frames(path)):
            if i >= len(track):
                break
            w.write(ov.draw(img, i), t)
            if progress and i % 10 == 0:
                progress("render", i + 1, len(track))
    if progress:
        progress("render", len(track), len(track))


def check_video_path(path) -> str:
    if path is None or not isinstance(path, (str, os.PathLike)) or not os.fspath(path).strip():
        raise FormcheckError(f"The video must be a file path, not {path!r}.")
    return os.fspath(path)


def analyze(track: PoseTrack, exercise: str = "deadlift") -> Result:
    """The analysis and its report, in memory: no file is read or written."""
    a = analyze_track(track, exercise)
    if not a.reps:
        why = "; ".join(a.warnings) or "no rep was found"
        raise FormcheckError(f"No complete {exercise_spec.get(a.exercise).unit} could be measured in this clip: {why}")
    return Result(track, a, build_report(track, a))


def write_results(path: str, res: Result, w: ResultWriter, render: bool = True,
                  progress: Progress | None = None, pdf: bool = True) -> Result:
    """Write report.json, frames.csv, reps.csv, report.pdf (and annotated.mp4) into w's temporary
    folder and commit them as one complete result."""
    write_json(res.report, w.path("report.json"))
    frames_table(res.track, res.analysis).to_csv(w.path("frames.csv"), index=False)
    reps_table(res.analysis).to_csv(w.path("reps.csv"), index=False)
    if pdf:
        from .pdf import session_pdf
        session_pdf(w.path("report.pdf"), res.track, res.analysis, res.report, video_path=path,
                    source=os.path.basename(path))
    if render:
        render_video(path, res.track, res.analysis, w.path("annotated.mp4"), progress)
    w.commit({"exercise": res.analysis.exercise})
    res.out_dir = w.out_dir
    res.replaced = w.replaced  # another file's result (by path), or None
    return res


def analyze_video(path: str, exercise: str = "deadlift", out_dir: str | None = None, render: bool = True,
                  progress: Progress | None = None, track: PoseTrack | None = None,
                  pose_workers: int | None = None, backend=None, save: bool = False, athlete: str = "me",
                  load_kg: float | None = None, notes: str = "", history=None, pdf: bool = True) -> Result:
    """Analyse one clip. With out_dir, writes report.json, frames.csv, reps.csv, report.pdf and
    annotated.mp4 there as one complete result (formcheck.results): the folder is checked writable
    and locked before any work, and holds either the whole new result or the previous one, never a mix.
    pose_workers, backend: see extract_pose (None: MediaPipe, two pose processes on a long clip).
    save: also save it as a session of `athlete` in the history database (formcheck.history;
    `history`: an open History, else the default one); Result.session_id is then its id.
    pdf: write report.pdf too (~0.3 s)."""
    path = check_video_path(path)
    if exercise != "auto" and exercise not in exercise_spec.names():
        raise FormcheckError(f"Unknown exercise '{exercise}'; choose one of auto, {', '.join(exercise_spec.names())}.")
    writer = (ResultWriter(out_dir, source=os.path.basename(path), source_path=os.path.abspath(path))
              if out_dir is not None else contextlib.nullcontext())
    with writer as w:
        if track is None:
            track = extract_pose(path, progress, workers=pose_workers, backend=backend)
        res = analyze(track, exercise)
        if w is not None:
            write_results(path, res, w, render, progress, pdf=pdf)
    if save:
        from .history import History
        from .results import sha256
        h = history or History()
        try:  # the same clip saved again returns its session
            res.session_id = h.save(res.track, res.analysis, res.report, video_path=path, athlete=athlete,
                                    load_kg=load_kg, notes=notes, result_dir=res.out_dir, source_key=sha256(path, 20))
        finally:
            if history is None:
                h.close()
    return res
