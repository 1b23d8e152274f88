"""Two reps side by side, time-normalised by phase, as one H.264 clip."""
from __future__ import annotations

import cv2
import numpy as np

from .exercise import get as get_exercise
from .render import Overlay
from .types import Analysis, PoseTrack, Rep
from .video import H264Writer, frames

def default_pair(a: Analysis) -> tuple[int, int]:
    """Deadlift (spec.pair_by_back): the least vs the most rounded rep; running: an early vs a
    late step. 1-based indices."""
    if len(a.reps) < 2:
        return (1, 1)
    spec = get_exercise(a.exercise)
    if spec.pair_by_back:
        vals = [(r.metrics.get(spec.back_key), r.index) for r in a.reps if r.metrics.get(spec.back_key) is not None]
        if len(vals) >= 2:
            return min(vals)[1], max(vals)[1]
        return a.reps[0].index, a.reps[-1].index
    n = len(a.reps)
    return a.reps[min(1, n - 1)].index, a.reps[max(n - 2, 0)].index


def phase_map(rep: Rep, exercise: str, n_out: int) -> np.ndarray:
    """Source frame index for each of n_out output frames, piecewise-linear between key frames,
    so lift-off, knee pass and lockout (or strike and toe-off) line up in both panels."""
    keys = [rep.key_frames[k] for k in get_exercise(exercise).phases if k in rep.key_frames]
    keys = np.maximum.accumulate(np.asarray(keys, dtype=float))
    if len(keys) < 2 or keys[-1] <= keys[0]:
        keys = np.array([rep.frames[0], rep.frames[1]], dtype=float)
    knots = np.linspace(0, 1, len(keys))
    return np.rint(np.interp(np.linspace(0, 1, n_out), knots, keys)).astype(int)


def curves(a: Analysis, rep: Rep, key: str, n: int = 101) -> np.ndarray:
    """A series over one rep on the normalised phase axis (for overlaid plots)."""
    idx = phase_map(rep, a.exercise, n)
    s = a.series.get(key)
    return s[idx] if s is not None else np.full(n, np.nan)


def side_by_side(path: str, track: PoseTrack, a: Analysis, rep_a: int, rep_b: int, out_path: str,
                 height: int = 480, fps: float = 30.0) -> str:
    ra = next(r for r in a.reps if r.index == rep_a)
    rb = next(r for r in a.reps if r.index == rep_b)
    dur = max(ra.end_s - ra.start_s, rb.end_s - rb.start_s, 0.5)
    n_out = int(round(dur * fps))
    ma, mb = phase_map(ra, a.exercise, n_out), phase_map(rb, a.exercise, n_out)
    need = set(ma.tolist()) | set(mb.tolist())
    ov = Overlay(track, a, track.video.width, track.video.height)
    kept: dict[int, np.ndarray] = {}  # only the two reps' frames, downscaled
    last = max(need)
    for i, (t, img, _) in enumerate(frames(path)):
        if i > last:
            break
        if i in need:
            img = ov.draw(img, i)
            s = height / img.shape[0]
            kept[i] = cv2.resize(img, (int(img.shape[1] * s) // 2 * 2, height), interpolation=cv2.INTER_AREA)
    w_panel = next(iter(kept.values())).shape[1]
    with H264Writer(out_path, 2 * w_panel, height + 40, fps) as w:
        for k in range(n_out):
            canvas = np.zeros((height + 40, 2 * w_panel, 3), np.uint8)
            for col, (m, rep) in enumerate(((ma, ra), (mb, rb))):
                fr = kept.get(int(m[k]))
                if fr is not None:
                    canvas[40:, col * w_panel: col * w_panel + fr.shape[1]] = fr
                label = f"{get_exercise(a.exercise).unit.title()} {rep.index}  ({rep.start_s:.1f}-{rep.end_s:.1f} s)"
                cv2.putText(canvas, label, (col * w_panel + 10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
            w.write(canvas)
    return out_path
