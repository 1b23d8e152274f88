"""The whole job: video -> pose -> analysis -> report files and annotated clip.

The Python API is `analyze_video`; the CLI and the app are thin shells over it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass


import numpy as np

from . import exercise as exercise_spec
from .extract import Progress, extract_pose
from .render import Overlay
from .report import build_report, frames_table, reps_table, write_json
from .types import L_ANKLE, R_ANKLE, Analysis, FormcheckError, PoseTrack
from .video import H264Writer, frames

MIN_DETECTED = 0.2   # a person in fewer frames than this: no analysis


@dataclass
class Result:
    track: PoseTrack
    analysis: Analysis
    report: dict
    out_dir: str | None = None

    @property
    def annotated_path(self) -> str | None:
        p = os.path.join(self.out_dir, "annotated.mp4") if self.out_dir else None
        return p if p and os.path.exists(p) else None


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


def analyze_video(path: str, exercise: str = "deadlift", out_dir: str | None = None, render: bool = True,
                  progress: Progress | None = None, track: PoseTrack | None = None,
                  pose_workers: int | None = None, backend=None) -> Result:
    """Analyse one clip. With out_dir, writes report.json, frames.csv, reps.csv and annotated.mp4
    there; everything is built in a temporary folder first so a failure leaves nothing half-written.
    pose_workers, backend: see extract_pose (None: MediaPipe, two pose processes on a long clip)."""
    if exercise != "auto" and exercise not in exercise_spec.names():
        raise FormcheckError(f"Unknown exercise '{exercise}'; choose one of auto, {', '.join(exercise_spec.names())}.")
    if track is None:
        track = extract_pose(path, progress, workers=pose_workers, backend=backend)
    a = analyze_track(track, exercise)
    if not a.reps:
        why = "; ".join(a.warnings) or "no rep was found"
        raise FormcheckError(f"No complete {exercise_spec.get(a.exercise).unit} could be measured in this clip: {why}")
    report = build_report(track, a)
    if out_dir is None:
        return Result(track, a, report)
    parent = os.path.dirname(os.path.abspath(out_dir)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".formcheck-", dir=parent)
    try:
        write_json(report, os.path.join(tmp, "report.json"))
        frames_table(track, a).to_csv(os.path.join(tmp, "frames.csv"), index=False)
        reps_table(a).to_csv(os.path.join(tmp, "reps.csv"), index=False)
        if render:
            render_video(path, track, a, os.path.join(tmp, "annotated.mp4"), progress)
        os.makedirs(out_dir, exist_ok=True)
        for name in os.listdir(tmp):
            os.replace(os.path.join(tmp, name), os.path.join(out_dir, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Result(track, a, report, out_dir)
