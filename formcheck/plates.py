"""Weight plates in the picture, and which landmarks they hide.

In a side view the near plate stands between the camera and the lifter: at lockout it covers
the hips, at the floor the ankles. MediaPipe still returns a landmark there, guessed, and on
the rendered gym grid those guesses are 15-60 deg wrong at the hip (README, "Joint angles").
A landmark behind the plate is therefore treated as missing, never measured.

Two halves, as everywhere: `find_circles` looks at pixels (one grey frame, near the hands,
called by the pose shell per frame); `plate_track` and `hidden` are pure arrays-in,
arrays-out and decide, over the whole clip, which circle is the bar's plate.
"""
from __future__ import annotations

import numpy as np

from .types import (L_ANKLE, L_FOOT, L_HEEL, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, R_ANKLE, R_FOOT, R_HEEL, R_HIP,
                    R_KNEE, R_SHOULDER, R_WRIST, trunk_ends)

VERSION = "hough-alt-v1"  # bump when find_circles changes (the benchmark caches its output)
K = 3                 # circle candidates kept per frame
# Plate radius in torso lengths (hip-to-shoulder landmarks, 0.42-0.55 m on adults). A 45 cm
# bumper plate is 0.41-0.54 torso; the near plate is ~0.7 m nearer the camera than the body,
# which magnifies it 1.5x at 2 m, 1.2x at 4 m: up to 0.8. 25 cm plates at 4 m: down to 0.27.
R_MIN, R_MAX = 0.22, 0.9
ROI_TORSO_PX = 120.0  # the search box is scaled so a torso is this many pixels
ROI_HALF = 1.3        # search box half-size around the hands, torso lengths (holds the largest plate)
# The bar runs through the plate's centre and the hands hold the bar, but the nearer plate is
# also shifted against the hands by parallax (up to ~0.3 m with the lifter off the picture's
# centre at 2 m) and a hidden wrist is a guess: the centre lies within this many radii of a wrist.
NEAR_HANDS = 1.5
MIN_SHARE = 0.15      # a plate must be found on this share of the posed frames, or there is none
R_SPREAD = 0.2        # one plate, one size: frames whose radius is off the clip's median by more are dropped
FILL_S = 0.5          # the plate does not vanish: fill misses up to this long
INSIDE = 0.9          # a landmark nearer the centre than this many radii is behind the plate
                      # (at the rim a joint half shows and MediaPipe places it well)


def find_circles(gray: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Up to K circles (x, y, r) in gray's pixels near this frame's hands, NaN-padded to (K, 3).

    gray: uint8 frame; xy: (33, 2) landmarks in the same pixels (NaN when no pose)."""
    import cv2
    out = np.full((K, 3), np.nan)
    hip, sh = trunk_ends(xy)
    torso = float(np.hypot(*(sh - hip)))
    w2 = xy[[L_WRIST, R_WRIST]]
    seen = np.isfinite(w2).all(axis=1)
    hands = w2[seen].mean(axis=0) if seen.any() else np.full(2, np.nan)
    if not (np.isfinite(torso) and torso > 8 and np.isfinite(hands).all()):
        return out
    h, w = gray.shape
    half = ROI_HALF * torso
    x0, y0 = int(max(0, hands[0] - half)), int(max(0, hands[1] - half))
    x1, y1 = int(min(w, hands[0] + half)), int(min(h, hands[1] + half))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return out
    roi = gray[y0:y1, x0:x1]
    # Searched at ROI_TORSO_PX a torso: a plate is then >= 26 px in radius, plenty for its rim,
    # and a close-up costs no more than a far shot (2.6-8 ms a frame before, at 640 px).
    s = min(1.0, ROI_TORSO_PX / torso)
    if s < 1.0:
        roi = cv2.resize(roi, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    tp = torso * s
    # HOUGH_GRADIENT_ALT scores circles by edge completeness (param2 ~ 0.75 of a full rim); far
    # fewer false circles on clutter than HOUGH_GRADIENT.
    c = cv2.HoughCircles(roi, cv2.HOUGH_GRADIENT_ALT, dp=1.5, minDist=max(4.0, R_MIN * tp),
                         param1=150, param2=0.75, minRadius=int(R_MIN * tp), maxRadius=int(R_MAX * tp) + 1)
    if c is None:
        return out
    c = c[0][:K].astype(float) / s
    c[:, 0] += x0
    c[:, 1] += y0
    out[:len(c)] = c
    return out


def near_hands(rgb: np.ndarray, xy: np.ndarray, full_width: int) -> np.ndarray:
    """find_circles on one RGB frame (possibly downscaled from full_width), in source pixels."""
    import cv2
    s = rgb.shape[1] / full_width
    return find_circles(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), xy * s) / s


def plate_track(circles: np.ndarray, xy: np.ndarray, t: np.ndarray, torso: float) -> np.ndarray:
    """The bar's plate per frame, (N, 3) x, y, r in source pixels; NaN where none.

    circles: (N, K, 3) candidates; xy: (N, 33, 2) landmarks; torso: the clip's torso length."""
    n = len(t)
    out = np.full((n, 3), np.nan)
    if circles is None or not np.isfinite(torso) or n == 0:
        return out
    wr = xy[:, [L_WRIST, R_WRIST]]                                   # (N, 2, 2)
    d = np.linalg.norm(circles[:, :, None, :2] - wr[:, None, :, :], axis=-1)  # (N, K, 2)
    d = np.nanmin(np.where(np.isfinite(d), d, np.inf), axis=2)        # nearer wrist
    r = circles[:, :, 2]
    ok = np.isfinite(r) & (r >= R_MIN * torso) & (r <= R_MAX * torso) & (d <= NEAR_HANDS * r)
    posed = np.isfinite(xy[:, [L_HIP, R_HIP, L_WRIST, R_WRIST]]).all(axis=(1, 2))
    if ok.any(axis=1).sum() < MIN_SHARE * max(1, posed.sum()):
        return out
    # One plate, one size: the clip's plate radius is the median over every acceptable
    # candidate; per frame, the candidate of about that size nearest the hands.
    R = float(np.median(r[ok]))
    ok &= np.abs(r - R) <= R_SPREAD * R
    score = np.where(ok, d, np.inf)
    best = np.argmin(score, axis=1)
    have = np.isfinite(score[np.arange(n), best])
    if have.sum() < MIN_SHARE * max(1, posed.sum()):
        return out
    pick = circles[np.arange(n), best]
    pick[~have] = np.nan
    from .signals import fill_gaps
    for c in range(3):
        out[:, c] = fill_gaps(pick[:, c], t, FILL_S)
    return out


# Landmarks a plate can hide that the angles use (not the hands: they hold the bar at its centre).
GATED = [L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_HEEL, R_HEEL, L_FOOT, R_FOOT]


def hidden(xy: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """(N, 33) True where one of the GATED landmarks lies behind the plate."""
    d = np.linalg.norm(xy[:, GATED] - plate[:, None, :2], axis=-1)
    out = np.zeros(xy.shape[:2], bool)
    with np.errstate(invalid="ignore"):
        out[:, GATED] = d < INSIDE * plate[:, None, 2]
    return out


def outline_on_plate(profile: np.ndarray, xy: np.ndarray, plate: np.ndarray, dorsal_sign: float) -> np.ndarray:
    """(N, K) True where a back-outline sample (half-widths `profile`, (N, K), as contour.chord_profile
    measured them from the landmarks xy) lies on the plate: there the silhouette took in the plate
    and its rim, not the back, so the sample is not measured (nor drawn)."""
    from .contour import back_points
    hip, sh = trunk_ends(xy)
    d = np.linalg.norm(back_points(hip, sh, profile, dorsal_sign) - plate[:, None, :2], axis=-1)
    with np.errstate(invalid="ignore"):
        return d < plate[:, None, 2]
