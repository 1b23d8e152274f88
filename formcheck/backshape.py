"""Lower-back (lumbar) and upper-back (thoracic) flexion estimated from the back's outline.

MediaPipe has no spine landmarks. What a side view shows of the spine is the silhouette's back
edge between the hip and shoulder landmarks (contour.chord_profile: 25 half-widths along that
chord). One bend angle over that outline mixes lumbar and thoracic flexion and moved only 0.1 deg
per degree of lumbar flexion on the renders (README, "The gym grid"); a small model reads the
whole outline instead: a small network (one hidden layer of 32 tanh units; a linear map caught
only half the lumbar flexion) from the dorsal half-widths, the chord's length and the trunk's
inclination to the two flexions, trained on renders of nine bodies with lumbar and thoracic
flexion imposed separately, with and without plates (`python -m formcheck.bench backshape
--fit`, formcheck_bench/backshape.py; models/back_shape.onnx, run with onnxruntime).

Why it also reads the lifter's own upright outline: on true silhouettes of the rendered bodies,
one body's outline gives its lumbar flexion to ~1 deg, but bodies differ in their neutral curve
(a held-out body's lumbar flexion was off by up to 19 deg from the outline alone, 1.5-2 deg
median with the body's own standing outline beside it). So the model takes, with the bent
outline, its difference from the lifter's outline when upright in the same clip (standing before
the first pull or at a lockout). It was fitted with lockouts that arch the lower back by up to
15 deg, so an arched finish does not read as rounding at the floor, and a lean-back is a rotation
of the whole outline, which the chord frame does not see. A clip with no upright frame whose
outline is whole gets the model without the reference, and a larger uncertainty.

Flexion is from the body's neutral standing spine (the rig's rest posture). It is an estimate
from a silhouette: every number carries the held-out bodies' error (kept in the model file). A
frame whose outline is partly hidden (a plate's rim, the picture's edge) or whose trunk is
outside what the model was fitted on is not measured.
"""
from __future__ import annotations

import os

import numpy as np

from .onnxmodel import metadata, session
from .signals import value_with_sd

MODEL_PATH = os.path.join(os.path.dirname(__file__), "models", "back_shape.onnx")
OUTPUTS = ("lumbar_flexion_deg", "thoracic_flexion_deg")
N_PROFILE = 25  # PROFILE_T samples, hip (0) to shoulder (1)
# [1, outline (25), chord per thigh, sin/cos trunk, outline - upright outline (25), chord - upright chord]
N_FEATURES = 1 + N_PROFILE + 3 + N_PROFILE + 1
REF_COLS = slice(1 + N_PROFILE + 3, N_FEATURES)
TRUNK_COLS = (1 + N_PROFILE + 1, 1 + N_PROFILE + 2)
# The model's outputs: with the upright reference (lumbar, thoracic), then without it.
WITH_REF, WITHOUT_REF = (0, 1), (2, 3)

# Upright frames (the trunk within this of vertical, either way) whose outline is whole are the
# lifter's own reference; fewer than MIN_REF_FRAMES of them and the clip has none.
REF_TRUNK_DEG = 10.0
MIN_REF_FRAMES = 5


def chord_per_thigh(J: dict[str, np.ndarray]) -> np.ndarray:
    """Hip-to-shoulder landmark chord per frame, in the clip's median thigh length (hip->knee on
    the camera side): flexing the spine shortens the chord, the thigh stays as long. The median,
    so a frame whose knee is behind a plate still has its reference."""
    chord = np.linalg.norm(J["shoulder_mid"] - J["hip_mid"], axis=1)
    thigh = np.linalg.norm(J["knee"] - J["hip"], axis=1)
    ref = float(np.nanmedian(thigh)) if np.isfinite(thigh).any() else float("nan")
    return chord / ref if ref > 0 else np.full(len(chord), np.nan)


def reference(dorsal: np.ndarray, chord_thigh: np.ndarray, trunk_deg: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The lifter's upright outline and chord: the per-sample median over the frames with the
    trunk within REF_TRUNK_DEG of vertical and the whole outline seen; (None, n) when fewer than
    MIN_REF_FRAMES such frames exist."""
    with np.errstate(invalid="ignore"):
        ok = (np.abs(trunk_deg) < REF_TRUNK_DEG) & np.all(np.isfinite(dorsal), axis=1) & np.isfinite(chord_thigh)
    n = int(ok.sum())
    if n < MIN_REF_FRAMES:
        return None, n
    return np.concatenate([np.median(dorsal[ok], axis=0), [np.median(chord_thigh[ok])]]), n


def features(dorsal: np.ndarray, chord_thigh: np.ndarray, trunk_deg: np.ndarray,
             ref: np.ndarray | None) -> np.ndarray:
    """(N, 55): 1, the 25 dorsal half-widths (chord lengths), the chord per thigh length, sin/cos
    of the trunk's inclination from vertical, and the outline's and chord's difference from the
    upright reference (zeros without one: the model's second pair of outputs ignores them)."""
    a = np.radians(trunk_deg)
    own = np.concatenate([dorsal, chord_thigh[:, None]], axis=1)
    diff = own - ref[None, :] if ref is not None else np.zeros_like(own)
    return np.concatenate([np.ones((len(a), 1)), dorsal, chord_thigh[:, None],
                           np.sin(a)[:, None], np.cos(a)[:, None], diff], axis=1)


def _session():
    return session(MODEL_PATH)


def model_info() -> dict[str, float]:
    """What the model file says about itself: the trunk range it was fitted on (deg) and the
    held-out error of a rep's number (1 SD, deg) per output, with and without the reference."""
    return {k: float(v) for k, v in metadata(MODEL_PATH).items()}


def trunk_of(X: np.ndarray) -> np.ndarray:
    """The trunk inclination (deg from vertical) of each feature row, from its sin/cos columns."""
    return np.degrees(np.arctan2(X[:, TRUNK_COLS[0]], X[:, TRUNK_COLS[1]]))


def estimate(X: np.ndarray, with_ref: bool, model=None, trunk_range: tuple[float, float] | None = None) -> np.ndarray:
    """(N, 2) lumbar and thoracic flexion, degrees, NaN where a feature is missing or the trunk
    lies outside the range fitted on. `model` (a function of the rows, returning (n, 4)) and
    `trunk_range` override the shipped model's (the benchmark's held-out folds)."""
    out = np.full((len(X), len(OUTPUTS)), np.nan)
    if trunk_range is None:
        info = model_info()
        trunk_range = (info["trunk_lo_deg"], info["trunk_hi_deg"])
    trunk = trunk_of(X)
    with np.errstate(invalid="ignore"):
        ok = np.all(np.isfinite(X), axis=1) & (trunk >= trunk_range[0]) & (trunk <= trunk_range[1])
    if not ok.any():
        return out
    if model is not None:
        y = model(X[ok])
    else:
        sess = _session()
        y = sess.run(None, {sess.get_inputs()[0].name: X[ok].astype(np.float32)})[0]
    out[ok] = y[:, list(WITH_REF if with_ref else WITHOUT_REF)]
    return out


# A rep's number: the 75th percentile of its measured frames from set-up to knee height (one bad
# mask frame must not decide it), from at least this many frames, else not measured.
MIN_FRAMES = 3


def rep_value(est: np.ndarray, model_sd: float) -> tuple[float, float]:
    """(value, 1 SD) of one rep from its per-frame estimates over set-up..knee height: the 75th
    percentile, and the model's held-out error combined with how much the frames disagree.
    (nan, nan) when fewer than MIN_FRAMES frames were measured."""
    return value_with_sd(est, 75, model_sd, MIN_FRAMES)
