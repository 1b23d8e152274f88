"""Turning an Analysis into report.json / frames.csv / per-rep tables."""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from .exercise import get as get_exercise
from .types import Analysis, Fault, PoseTrack, trunk_ends

PROXY_NOTE = ("MediaPipe has no landmarks on the spine or the pelvis bones. 'Back rounding' (deadlift) and "
              "'overarching' (running) are estimates from the outline of the back in the person silhouette "
              "(segmentation mask) between the hip and shoulder landmarks: the deadlift number is the outline's "
              "bend from set-up to knee height (a flat back reads about 0; flat backs on real clips read 1 +/- 7 deg, "
              "so each rep's number carries that uncertainty; on synthetic bodies it follows upper-back flexion far more "
              "than lower-back flexion, so read it as 'the back as a whole is rounded'; the upper-back flag reads the outline's arc, its bulge beyond "
              "straight, with +/- 13 deg), the running arch is the angle between the "
              "lower back outline's buttock-to-waist and waist-to-mid-back lines: on synthetic runners it follows "
              "lumbar extension (0.63 deg per degree) but builds differ by as much as 10 deg of extension, so one clip "
              "flags only a large arch (about 20 deg beyond neutral), each number carries +/- 5.5 deg, and it is best read "
              "against your own runs. On the labelled real clips the rounding flag caught 3 of 5 rounded-back "
              "clips with 2 false alarms in 17 flat-back clips (README, accuracy). Angles are 2D, from one camera, "
              "and carry 5-10 deg of error.")


# Plotted per-frame series that are not per-rep metrics: their names for people.
SERIES_LABELS = {"trunk_deg": "Trunk angle from vertical", "hip_deg": "Hip angle", "knee_deg": "Knee angle"}


def series_label(a: Analysis, key: str) -> str:
    return a.metric_info.get(key, {}).get("label") or SERIES_LABELS.get(key, key.replace("_", " "))


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else round(float(x), 4)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def build_report(track: PoseTrack, a: Analysis) -> dict[str, Any]:
    # One shape for every entry: a Fault (the worst occurrence, for a per-rep fault) plus its
    # scope ("rep" or "set"), the reps it happened on and how many.
    by_code: dict[str, list[tuple[int, Fault]]] = {}
    for r in a.reps:
        for f in r.faults:
            by_code.setdefault(f.code, []).append((r.index, f))
    summary_faults = []
    for code, hits in by_code.items():
        worst = max((f for _, f in hits), key=lambda f: abs(f.value) / (abs(f.threshold) or 1.0))
        summary_faults.append(dict(worst.to_dict(), scope="rep", reps=[i for i, _ in hits], count=len(hits)))
    summary_faults += [dict(f.to_dict(), scope="set", reps=[r.index for r in a.reps], count=1) for f in a.faults]
    v = track.video
    rep = {
        "exercise": a.exercise,
        "video": {"fps": v.fps, "frames": v.frames, "duration_s": v.duration_s, "width": v.width,
                  "height": v.height, "rotation": v.rotation, "codec": v.codec, "variable_frame_rate": v.vfr},
        "view": {"side": a.view.side, "facing": a.view.facing, "ok": a.view.ok, "reason": a.view.reason,
                 "width_ratio": a.view.width_ratio},
        "subject": track.subject_note,
        "reps": [r.to_dict() for r in a.reps],
        "faults": summary_faults,
        "withheld": a.withheld,
        "warnings": a.warnings,
        "summary": a.summary,
        "metrics_info": a.metric_info,
        "proxy_note": PROXY_NOTE,
    }
    return _clean(rep)


def frames_table(track: PoseTrack, a: Analysis) -> pd.DataFrame:
    # The tracked subject's hip midpoint as found in each frame, in pixels of the upright picture
    # as players show it (x right, y down; blank where no body was found): anyone can check which
    # body every number is about. An analysis series of the same name (its smoothed, gap-filled
    # hip height) is written beside it as <name>_smoothed.
    hip, _ = trunk_ends(track.xy)
    cols = {"frame": np.arange(len(track)), "t_s": track.t, "hip_x": np.round(hip[:, 0], 1), "hip_y": np.round(hip[:, 1], 1)}
    for k, v in a.series.items():
        if k != "t" and len(v) == len(track):
            cols[k if k not in cols else f"{k}_smoothed"] = np.round(v, 3)
    rep_idx = np.zeros(len(track), dtype=int)
    for r in a.reps:
        rep_idx[r.frames[0]: r.frames[1] + 1] = r.index
    cols["rep"] = rep_idx
    return pd.DataFrame(cols)


def reps_table(a: Analysis) -> pd.DataFrame:
    rows = []
    for r in a.reps:
        row = {"rep": r.index, "start_s": r.start_s, "end_s": r.end_s}
        row.update(r.metrics)
        row["faults"] = ", ".join(f.code for f in r.faults)
        row["not_measured"] = "; ".join(f"{k}: {why}" for k, why in r.not_measured.items())
        rows.append(row)
    return pd.DataFrame(rows)


def readable_table(a) -> pd.DataFrame:
    """The per-rep table for people: the metric labels and units the analysis carries, the
    faults and the back number first, one decimal, blanks for what was not measured."""
    rows = reps_table(a)
    spec = get_exercise(a.exercise)
    first = ["rep", "faults", spec.back_key] + [k for k in rows.columns if k not in ("rep", "faults", spec.back_key)]
    rows = rows[[c for c in first if c in rows.columns]]
    names = {k: f"{v['label']} ({v['unit']})" for k, v in a.metric_info.items()}
    names.update(rep=spec.unit.title(), faults="Faults", start_s="Start (s)", end_s="End (s)", not_measured="Not measured")
    # text cells: Arrow shows a float column that also holds blanks as empty
    text = rows.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else f"{v:.1f}" if isinstance(v, float) else str(v))
    return text.rename(columns=names)


def write_json(obj: dict, path: str) -> None:
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=2)
