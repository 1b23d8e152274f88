"""Back shape from the person-segmentation silhouette. Pure NumPy: arrays in, arrays out.

MediaPipe has no landmarks on the spine. What we can see is the outline of the back in the
silhouette between the hip and shoulder landmarks (the approach of TBY66's IDDS and of the
synthetic-humans spike). We sample it as half-widths along the hip->shoulder chord, then
summarise its bend. The number is a proxy for spinal flexion, meaningful as a change within
one person and one clip, not as an absolute angle.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import medfilt

from .signals import lowpass
from .types import PROFILE_T


def chord_profile(mask: np.ndarray, hip: np.ndarray, shoulder: np.ndarray, threshold: float = 0.5,
                  t: np.ndarray = PROFILE_T) -> np.ndarray:
    """Half-widths of the silhouette either side of the hip->shoulder chord.

    mask: (H, W) float in [0, 1]; hip, shoulder: (2,) pixel coordinates in the mask's frame.
    Returns (2, K): distance to the silhouette edge along +n and -n (n = (-u_y, u_x)) at each
    chord position, as a fraction of chord length; NaN where the ray starts outside the mask or
    runs into the image border (an edge we cannot see is not an edge we can measure).
    """
    out = np.full((2, len(t)), np.nan)
    if mask is None or not (np.all(np.isfinite(hip)) and np.all(np.isfinite(shoulder))):
        return out
    h, w = mask.shape
    v = shoulder - hip
    length = float(np.hypot(*v))
    if length < 8:
        return out
    u = v / length
    n = np.array([-u[1], u[0]])
    steps = np.arange(0, int(0.9 * length) + 1, dtype=float)  # 1 px steps out to 0.9 chord lengths
    base = hip[None, :] + t[:, None] * v[None, :]             # (K, 2)
    for s, sign in enumerate((1.0, -1.0)):
        pts = base[:, None, :] + sign * steps[None, :, None] * n[None, None, :]  # (K, L, 2)
        xi = np.rint(pts[..., 0]).astype(int)
        yi = np.rint(pts[..., 1]).astype(int)
        inside_img = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        vals = np.zeros(xi.shape, dtype=float)
        vals[inside_img] = mask[yi[inside_img], xi[inside_img]]
        fg = vals >= threshold
        # first step that leaves the silhouette
        leaves = ~fg
        first_out = np.where(leaves.any(axis=1), leaves.argmax(axis=1), -1)
        for k in range(len(t)):
            j = first_out[k]
            if j <= 0:  # starts outside (j == 0) or never leaves within reach (j == -1)
                continue
            if not inside_img[k, j]:  # ran off the picture: edge unknown
                continue
            out[s, k] = steps[j] / length
    return out


def back_points(hip: np.ndarray, shoulder: np.ndarray, half_widths: np.ndarray,
                dorsal_sign: float, t: np.ndarray = PROFILE_T) -> np.ndarray:
    """Pixel positions of the back outline: (K, 2), NaN where unknown; for every frame at once
    given hip, shoulder (N, 2) and half_widths (N, K): (N, K, 2)."""
    v = shoulder - hip
    n = np.stack([-v[..., 1], v[..., 0]], axis=-1)  # chord length long: half-widths are in chord lengths
    return hip[..., None, :] + t[:, None] * v[..., None, :] + dorsal_sign * half_widths[..., None] * n[..., None, :]


# Where along the chord the back outline is read: the ends are buttocks and neck/shoulder blades.
_BACK_LO, _BACK_HI = 0.15, 0.85
BACK_SPAN = (_BACK_LO, _BACK_HI)


def bend_angle(d: np.ndarray, t: np.ndarray = PROFILE_T) -> float:
    """Bend of the back outline, degrees: + convex (rounded), - concave (arched).

    d: dorsal half-widths (fraction of chord length) at positions t. Fits a line to the lower
    half and one to the upper half of the outline, in chord-length units, and returns the angle
    between them. A flat back gives ~0 whatever the trunk's tilt or the person's thickness.
    """
    sel = (t >= _BACK_LO) & (t <= _BACK_HI) & np.isfinite(d)
    if sel.sum() < 8:
        return float("nan")
    tt, dd = t[sel], d[sel]
    mid = 0.5 * (_BACK_LO + _BACK_HI)
    lo, hi = tt <= mid, tt >= mid
    if lo.sum() < 3 or hi.sum() < 3:
        return float("nan")
    s_lo = np.polyfit(tt[lo], dd[lo], 1)[0]
    s_hi = np.polyfit(tt[hi], dd[hi], 1)[0]
    # Outline rising then falling (away from the chord) = convex back.
    return float(np.degrees(np.arctan(s_lo) - np.arctan(s_hi)))


def sag_mean(d: np.ndarray, t: np.ndarray = PROFILE_T) -> float:
    """Mean deviation of the outline beyond the straight line through its ends (spike's sagmean)."""
    sel = (t >= _BACK_LO) & (t <= _BACK_HI) & np.isfinite(d)
    if sel.sum() < 8:
        return float("nan")
    tt, dd = t[sel], d[sel]
    line = dd[0] + (dd[-1] - dd[0]) * (tt - tt[0]) / (tt[-1] - tt[0])
    return float(np.mean(dd - line))


# The outline's bulge beyond the straight line through its own ends, as the angle of the arc that
# makes it: an arc of angle a over a span w rises s = (w / 2) tan(a / 4) at its middle (its
# sagitta), and a parabola of sagitta s sampled where the outline was seen has the mean offset
# s * mean(4u(1-u)) (a shallow arc is a parabola to within 2% at 60 deg).


def arc_angle(d: np.ndarray, t: np.ndarray = PROFILE_T) -> float:
    """Arc of the back outline, degrees: how far it bulges beyond the line through its ends (0.15-0.85
    of the chord), as the angle of a circular arc with that bulge (+ rounded, - hollow; 0 straight)."""
    sel = (t >= _BACK_LO) & (t <= _BACK_HI) & np.isfinite(d)
    if sel.sum() < 8:
        return float("nan")
    tt = t[sel]
    span = tt[-1] - tt[0]
    u = (tt - tt[0]) / span
    sagitta = sag_mean(d, t) / np.mean(4 * u * (1 - u))
    return float(np.degrees(4.0 * np.arctan(2.0 * sagitta / span)))


# Segments of the hip->shoulder chord for the lower and the upper outline (fractions of the chord).
# On the synthetic gym grid (three bodies) the upper bend moves 0.13-0.48 deg per degree of thoracic
# flexion and ~0 per degree of lumbar; the lower bend 0.14-0.28 per lumbar degree but 0.26-0.42 per
# thoracic degree (python -m formcheck.bench accuracy --grid gym).
LOWER_SEGMENTS = (0.05, 0.30, 0.55)
UPPER_SEGMENTS = (0.45, 0.65, 0.90)


def segment_bend(d: np.ndarray, a: float, b: float, c: float, t: np.ndarray = PROFILE_T) -> float:
    """Angle between the outline's line fits over [a, b] and [b, c] of the chord, degrees, + convex."""
    ok = np.isfinite(d)
    lo, hi = ok & (t >= a) & (t <= b), ok & (t >= b) & (t <= c)
    if lo.sum() < 3 or hi.sum() < 3:
        return float("nan")
    return float(np.degrees(np.arctan(np.polyfit(t[lo], d[lo], 1)[0]) - np.arctan(np.polyfit(t[hi], d[hi], 1)[0])))


def bend_series(profile: np.ndarray, facing_sign: float, fs: float, cutoff_hz: float, segments=None,
                measure=None) -> np.ndarray:
    """Per-frame bend of the dorsal outline, degrees (+ rounded), median- then low-pass filtered.
    profile: (N, 2, K) from the pose backend; facing right puts the back along -n (index 1).
    segments: (a, b, c) for a segment bend instead of the whole back's; measure: another reading
    of one outline (arc_angle)."""
    dorsal = 1 if facing_sign > 0 else 0
    bend = measure or (bend_angle if segments is None else (lambda d: segment_bend(d, *segments)))
    raw = np.array([bend(p[dorsal]) for p in profile])
    ok = np.isfinite(raw)
    out = raw.copy()
    if ok.sum() >= 5:
        out[ok] = medfilt(raw[ok], 5)
    return lowpass(out, fs, cutoff_hz)
