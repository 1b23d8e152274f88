"""Two reps side by side, time-normalised by phase, as one H.264 clip."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .exercise import get as get_exercise
from .render import Overlay
from .types import Analysis, FormcheckError, PoseTrack, Rep
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
    first = min(1, n - 2)  # skip the first step where there are enough (it is often the push-off)
    return a.reps[first].index, a.reps[max(n - 2, first + 1)].index


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


@dataclass
class Panel:
    """One side of a side-by-side: a rep of an analysed clip. label: the heading (None: "Rep k of N")."""
    path: str
    track: PoseTrack
    analysis: Analysis
    rep: int
    label: str | None = None


def side_by_side(path: str, track: PoseTrack, a: Analysis, rep_a: int, rep_b: int, out_path: str,
                 height: int = 480, fps: float = 30.0, speed: float = 1.0, stacked: bool = False,
                 stills: list | None = None) -> str:
    """Two reps of one clip: see side_by_side_panels."""
    return side_by_side_panels([Panel(path, track, a, rep_a), Panel(path, track, a, rep_b)], out_path,
                               height=height, fps=fps, speed=speed, stacked=stacked, stills=stills)


def side_by_side_panels(panels: list[Panel], out_path: str, height: int = 480, fps: float = 30.0, speed: float = 1.0,
                        stacked: bool = False, stills: list | None = None) -> str:
    """Two reps phase-aligned in one clip (of one clip, or of two sessions): side by side, or one
    above the other (stacked, for a phone). speed < 1 plays it slowed (0.25 = each frame shown 4x
    as long). Each panel is labelled with its own rep and shows only that rep's faults. stills: a
    list to receive each output frame as JPEG bytes (for stepping frame by frame)."""
    if len({p.analysis.exercise for p in panels}) != 1:
        raise FormcheckError("Only reps of the same exercise can be compared side by side.")
    reps = []
    for p in panels:
        r = next((r for r in p.analysis.reps if r.index == p.rep), None)
        if r is None:
            raise FormcheckError(f"There is no {get_exercise(p.analysis.exercise).unit} {p.rep} to compare.")
        reps.append(r)
    exercise = panels[0].analysis.exercise
    dur = max(max(r.end_s - r.start_s for r in reps), 0.5)
    n_out = int(round(dur * fps))
    maps = [phase_map(r, exercise, n_out) for r in reps]
    # one decode per source clip; only the frames the panels show are kept, drawn and downscaled
    kept: list[dict[int, np.ndarray]] = [{} for _ in panels]
    sources: dict[tuple[str, int], list[int]] = {}
    for k, p in enumerate(panels):
        sources.setdefault((p.path, id(p.track)), []).append(k)
    for (path, _), ks in sources.items():
        ovs = {k: Overlay(panels[k].track, panels[k].analysis, panels[k].track.video.width,
                          panels[k].track.video.height, only_rep=panels[k].rep) for k in ks}
        need = {k: set(int(i) for i in maps[k]) for k in ks}
        last = max(max(v) for v in need.values())
        for i, (t, img, _) in enumerate(frames(path)):
            if i > last:
                break
            for k in ks:
                if i in need[k]:
                    drawn = ovs[k].draw(img.copy(), i)
                    s = height / drawn.shape[0]
                    kept[k][i] = cv2.resize(drawn, (int(drawn.shape[1] * s) // 2 * 2, height), interpolation=cv2.INTER_AREA)
    w_panel = max((fr.shape[1] for d in kept for fr in d.values()), default=height)
    W, H = (w_panel, 2 * (height + 40)) if stacked else (2 * w_panel, height + 40)
    labels = [p.label or f"{get_exercise(exercise).unit.title()} {r.index} of {len(p.analysis.reps)}  ({r.start_s:.1f}-{r.end_s:.1f} s)"
              for p, r in zip(panels, reps)]
    with H264Writer(out_path, W, H, fps) as w:
        for j in range(n_out):
            canvas = np.zeros((H, W, 3), np.uint8)
            for col in range(len(panels)):
                x0, y0 = (0, col * (height + 40)) if stacked else (col * w_panel, 0)
                fr = kept[col].get(int(maps[col][j]))
                if fr is not None:
                    dx = (w_panel - fr.shape[1]) // 2  # a narrower clip (another session's) centred
                    canvas[y0 + 40: y0 + 40 + height, x0 + dx: x0 + dx + fr.shape[1]] = fr
                # shrunk to fit: a portrait panel is ~270 px wide and cut the label off
                width = cv2.getTextSize(labels[col], cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)[0][0]
                scale = min(0.7, 0.7 * (w_panel - 20) / max(width, 1))
                cv2.putText(canvas, labels[col], (x0 + 10, y0 + 28), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                            2 if scale > 0.5 else 1, cv2.LINE_AA)
            w.write(canvas, j / (fps * speed))
            if stills is not None:
                stills.append(cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return out_path
