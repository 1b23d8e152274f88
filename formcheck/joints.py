"""Joint centres from MediaPipe landmarks: the hip, knee, trunk and shank angles are read between
these, not between raw landmarks.

MediaPipe's "shoulder" is on the surface near the acromion and its "hip" is on the side of the
pelvis, not at the joints. On synthetic renders with known joints the hip landmark sits about 5%
of a torso length ahead of the hip joint centre and the shoulder landmark above the glenohumeral
centre; read between raw landmarks the hip angle was 6.8 deg off (median) on side-on deadlifts
of bodies the correction never saw, 1.9 between joint centres (README, "Joint angles"). A small correction learned on those renders moves each landmark to
its joint centre: the offset (joint centre - landmark), in torso lengths along the person's
forward and downward directions, as a linear function of the trunk, thigh and shank inclinations
and the camera's yaw. The joint centre it learns is where the joint sits in
the body's sagittal plane, not where it shows in the picture: 10-20 deg off side-on, a hip or a
knee that sits off the mid-plane shows shifted across the picture, and read between the projected
centres the hip angle was 2-5 deg off even with the true joints (proportional to the yaw).

In video mode MediaPipe crops each frame around the previous frame's landmarks, so a body
that moves fast is read partly where it was: on the renders the hip angle during a 0.8 s descent
read up to 16 deg behind (straighter than true) and the same pose on the way up 6 deg; run
backwards through the same frames, the bias moved to the ascent, and on every other frame (15 fps)
it grew to 24 deg. So the offsets also take each segment's angular velocity per frame (not per
second: the bias follows how far the body moved between the frames MediaPipe saw).

The weights are `models/joint_centres.onnx` (run with onnxruntime, offline), rebuilt by
`python -m formcheck.bench joints --fit` (formcheck_bench/joints.py) from the rendered clips.
Everything is in the person's own frame (x toward where they face), so a left- and a
right-facing lifter get the same correction.
"""
from __future__ import annotations

import os

import numpy as np

from .onnxmodel import metadata, session

MODEL_PATH = os.path.join(os.path.dirname(__file__), "models", "joint_centres.onnx")

# The landmarks moved to joint centres (near side; the far side with its own leg angles), in the
# order of the model's outputs: (forward, down) offset per joint, in torso lengths.
JOINTS = ("shoulder", "hip", "knee", "ankle")
KINDS = ("deadlift", "running")   # one block of weights per exercise (the arms and legs move differently)
PER_KIND = 14
N_FEATURES = PER_KIND * len(KINDS)
# Shoulder landmarks' separation across the picture per unit of sin(camera yaw), in torso lengths:
# 0.63-0.66 on the three synthetic bodies filmed 20 deg off side-on (0.02-0.03 side-on).
SHOULDER_SPAN = 0.65
MAX_YAW_DEG = 40.0
# Whose change per frame the offsets may use (trunk, thigh, shank). Not the running trunk: the
# rendered runners hold the trunk still, so its change there is only landmark noise, and a model
# fitted to cancel it would also cancel a real runner's trunk motion (held out it gained nothing).
RATE_SEGMENTS = {"deadlift": (True, True, True), "running": (False, True, True)}
# Where the inclinations sit in an exercise's block of features(): the sines of trunk, thigh and
# shank (each cosine follows its sine), and their change per frame. The trained ranges and the
# benchmark read the columns through these.
SIN_COLS = (1, 3, 5)
RATE_COLS = (8, 9, 10)


def view_yaw(xy: np.ndarray, torso: float, side: str, facing: float) -> float:
    """Camera yaw off side-on, degrees, from how far apart the two shoulder landmarks sit across
    the picture (median over the clip); the sign says which side of side-on the camera stands
    (+ when the far shoulder shows ahead of the near one, toward where the person faces). The
    shoulders, not the hips: a plate in front of the hips pushes the hip pair apart."""
    from .types import SIDE_JOINTS
    near = SIDE_JOINTS.get(side)
    if near is None or not np.isfinite(torso) or torso <= 0:
        return 0.0
    far = SIDE_JOINTS["right" if side == "left" else "left"]
    sx = (xy[:, far["shoulder"], 0] - xy[:, near["shoulder"], 0]) * facing
    if not np.isfinite(sx).any():
        return 0.0
    s = float(np.nanmedian(sx)) / torso / SHOULDER_SPAN
    return float(np.clip(np.degrees(np.arcsin(np.clip(s, -1.0, 1.0))), -MAX_YAW_DEG, MAX_YAW_DEG))


def features(J: dict[str, np.ndarray], facing: float, kind: str, prefix: str = "",
             trained: tuple[np.ndarray, np.ndarray] | None = None, yaw_deg: float = 0.0) -> np.ndarray:
    """(N, 28): for the exercise's block, 1, sin/cos of the trunk, thigh and shank inclinations
    (from vertical, + toward where the person faces), sin(camera yaw) (a joint beside the body's
    mid-plane, and the landmark on its surface, show across the picture by that much), the
    three inclinations' change per frame, degrees (MediaPipe's tracking lag, module docstring;
    RATE_SEGMENTS),
    and sin(yaw) x sin(each inclination) (off side-on, how far a landmark on a segment's side
    shows from its joint depends on how the segment is turned); zeros in the other block. (Adding sin/cos of twice each inclination gained 0.1-0.3 deg on the
    held-out synthetic bodies but moved two real lockouts by ~6 deg: more freedom than five bodies
    pin down; not kept.) `prefix` "far_" reads the far leg (the trunk is shared). `trained`:
    (low, high) of the trunk, thigh and shank inclination (degrees) and of their change per frame
    (degrees) that the model was fitted on; values outside are clipped to them."""
    from .signals import incline_from_vertical  # here: signals imports this module
    # limbs point down: their inclination is the upward segment's, negated (+ = distal end ahead)
    segs = [np.radians(a) for a in (
        incline_from_vertical(J["hip_mid"], J["shoulder_mid"], facing),
        -incline_from_vertical(J[prefix + "knee"], J[prefix + "hip"], facing),
        -incline_from_vertical(J[prefix + "ankle"], J[prefix + "knee"], facing))]
    # degrees per frame (a scale near 1, like the other features, so the ridge treats it alike);
    # unknown (a gap's edge, a lone frame) counts as still: no lag correction there
    rates = [np.nan_to_num(np.degrees(np.gradient(a)), nan=0.0) if len(a) > 1 and use else np.zeros(len(a))
             for a, use in zip(segs, RATE_SEGMENTS[kind])]
    # A segment unseen on a frame (a knee behind a plate, feet out of the picture) takes its
    # median over the clip here, so the joints that are seen still get their offsets; the unseen
    # joint itself stays missing in joint_centres.
    segs = [np.where(np.isfinite(a), a, np.nanmedian(a) if np.isfinite(a).any() else 0.0) for a in segs]
    if trained is not None:
        # never extrapolate: a pose (or a speed) outside what the renders covered gets the offsets
        # of the nearest covered one (a 60 deg lean-back is not in any training clip)
        lo, hi = np.asarray(trained[0], float), np.asarray(trained[1], float)
        segs = [np.clip(a, np.radians(lo[i]), np.radians(hi[i])) for i, a in enumerate(segs)]
        rates = [np.clip(r, lo[3 + i], hi[3 + i]) for i, r in enumerate(rates)]
    trunk, thigh, shank = segs
    one = np.ones(len(trunk))
    sy = np.sin(np.radians(yaw_deg))
    x = np.stack([one, np.sin(trunk), np.cos(trunk), np.sin(thigh), np.cos(thigh), np.sin(shank), np.cos(shank),
                  one * sy] + rates + [sy * np.sin(a) for a in segs], axis=1)
    out = np.zeros((len(x), N_FEATURES))
    k = PER_KIND * KINDS.index(kind)
    out[:, k:k + PER_KIND] = x
    return out


SAGITTAL = ("shoulder", "hip", "knee", "ankle", "far_shoulder", "far_hip", "far_knee", "far_ankle", "hip_mid", "shoulder_mid")


def unproject(J: dict[str, np.ndarray], yaw_deg: float) -> dict[str, np.ndarray]:
    """Undo the camera yaw's foreshortening of the body's sagittal plane: horizontal distances
    from the hip midpoint stretched by 1/cos(yaw). Only the joints that move in that plane."""
    if yaw_deg == 0:
        return dict(J)
    k = 1.0 / np.cos(np.radians(yaw_deg))
    x0 = J["hip_mid"][:, 0]
    out = dict(J)
    for name in SAGITTAL:
        if name in J:
            p = J[name].copy()
            p[:, 0] = x0 + (p[:, 0] - x0) * k
            out[name] = p
    return out


def _session():
    return session(MODEL_PATH)


def trained_range(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) degrees of trunk, thigh and shank inclination, and of their change per frame,
    that the shipped model was fitted on (0.2nd-99.8th percentile of the training frames: the few
    lean-back frames count), kept in the model file's metadata."""
    r = np.array([float(x) for x in metadata(MODEL_PATH)[f"range_{kind}"].split(",")]).reshape(2, -1)
    return r[0], r[1]


def predict_offsets(X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(N, 8) offsets for feature rows X (a row is NaN only when the whole clip lacks a segment). `weights` (28, 8) overrides the
    shipped model (the benchmark's held-out folds fit their own)."""
    out = np.full((len(X), 2 * len(JOINTS)), np.nan)
    ok = np.all(np.isfinite(X), axis=1)
    if not ok.any():
        return out
    if weights is not None:
        out[ok] = X[ok] @ weights
    else:
        sess = _session()
        out[ok] = sess.run(None, {sess.get_inputs()[0].name: X[ok].astype(np.float32)})[0]
    return out


def joint_centres(J: dict[str, np.ndarray], facing: float, torso: float, kind: str, yaw_deg: float = 0.0,
                  weights: np.ndarray | None = None, trained: tuple | None = None) -> dict[str, np.ndarray]:
    """A copy of the conditioned joints with shoulder, hip, knee and ankle (both sides) and the
    hip and shoulder midpoints moved to the estimated joint centres in the body's sagittal plane
    (yaw foreshortening undone first). The raw landmarks stay under "lm_<name>". `weights` and
    `trained` (range) override the shipped model's, for the benchmark's held-out folds."""
    out = dict(J)
    if not np.isfinite(torso) or torso <= 0:
        return out
    J = unproject(J, yaw_deg)
    if weights is None:
        trained = trained_range(kind)
    for prefix in ("", "far_"):
        if any(prefix + j not in J for j in ("hip", "knee", "ankle")):
            continue
        off = predict_offsets(features(J, facing, kind, prefix, trained, yaw_deg), weights) * torso
        for k, name in enumerate(JOINTS):
            key = prefix + name
            if key not in J:
                continue
            d = np.stack([off[:, 2 * k] * facing, off[:, 2 * k + 1]], axis=1)
            out["lm_" + key] = out[key]
            out[key] = J[key] + d
            if prefix == "" and name in ("shoulder", "hip"):
                # the trunk line: the pair's midpoint moved by the near side's offset (the far
                # landmark is a guess in a side view, so the pair keeps its midpoint's steadiness)
                out["lm_" + name + "_mid"] = out[name + "_mid"]
                out[name + "_mid"] = J[name + "_mid"] + d
    return out


def trunk_line(J: dict[str, np.ndarray], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) ends of the trunk line. Deadlift: the hip and shoulder pairs' midpoints
    (moved to the joint centres); running: the camera-side hip and shoulder joint centres, because
    the swinging far arm drags the far shoulder's guess (held-out bodies: trunk 3.7 deg median
    error through the midpoints, 1.0 through the near side; deadlift 1.4 vs 1.9)."""
    if kind == "running":
        return J["hip"], J["shoulder"]
    return J["hip_mid"], J["shoulder_mid"]
