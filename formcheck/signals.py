"""Signal conditioning shared by every exercise: pure functions on PoseTrack arrays.

Low-visibility points become missing, outliers (a landmark jumping to another person or a
shadow for a frame or two) are rejected, short gaps are filled, and each coordinate gets a
zero-lag Butterworth low-pass. Then: which side faces the camera, which way the person faces,
and whether the view is side-on enough for sagittal angles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, filtfilt

from .joints import view_yaw
from .thresholds import VIEW
from .types import (L_EAR, L_HIP, L_SHOULDER, NOSE, R_EAR, R_HIP, R_SHOULDER, SIDE_JOINTS,
                    PoseTrack, ViewCheck, trunk_ends)

VIS_MIN = 0.3          # MediaPipe visibility below this = not seen
FAR_VIS_MIN = 0.05     # far-side limbs are hidden behind the body in a side view, yet MediaPipe places them well
MAX_GAP_S = 0.2        # fill gaps up to this long; longer gaps stay missing (not scored)
SIDE_ON_MAX, OBLIQUE_MAX = VIEW["side_on_max"], VIEW["oblique_max"]  # see thresholds.VIEW


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of every run of True, inclusive."""
    m = np.asarray(mask, dtype=bool)
    starts = np.flatnonzero(m & ~np.r_[False, m[:-1]])
    ends = np.flatnonzero(m & ~np.r_[m[1:], False])
    return list(zip(starts.tolist(), ends.tolist()))


def step_noise(v: np.ndarray) -> float:
    """Rep-to-rep (or step-to-step) noise: robust SD of successive differences (MAD x 1.4826,
    over sqrt 2 because a difference carries two samples' noise). A drift must clear twice this."""
    return float(np.median(np.abs(np.diff(v)))) * 1.4826 / np.sqrt(2) if len(v) > 2 else 0.0


def value_with_sd(x: np.ndarray, q: float, sd: float, min_n: int = 2) -> tuple[float, float]:
    """One number for a stretch of frames and its 1 SD: the q-th percentile of the measured frames
    (one bad frame must not decide it), and the measure's own between-body spread `sd` combined with
    how much the frames disagree (their IQR / 1.35). (nan, nan) with fewer than min_n measured."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) < min_n:
        return float("nan"), float("nan")
    return float(np.percentile(x, q)), float(np.hypot(sd, np.subtract(*np.percentile(x, [75, 25])) / 1.35))


def fill_gaps(x: np.ndarray, t: np.ndarray, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Linear fill of interior NaN runs no longer than max_gap_s; longer runs stay NaN."""
    x = x.astype(float).copy()
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return x
    idx = np.flatnonzero(ok)
    filled = np.interp(t, t[idx], x[idx])
    # walk the NaN runs
    for s, e in true_runs(~ok):
        if s == 0 or e == len(x) - 1:
            continue  # never extrapolate at the ends
        if t[e + 1] - t[s - 1] <= max_gap_s + 1e-9:
            x[s:e + 1] = filled[s:e + 1]
    return x


def lowpass(x: np.ndarray, fs: float, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Zero-lag Butterworth (filtfilt of a 2nd-order filter = 4th-order, no phase shift),
    applied to each finite run separately; runs too short to filter are left as they are."""
    y = x.astype(float).copy()
    wn = min(cutoff_hz / (0.5 * fs), 0.9)
    if wn <= 0:
        return y
    b, a = butter(order, wn)
    pad = 3 * max(len(a), len(b))
    for s, e in true_runs(np.isfinite(y)):
        if e - s + 1 > pad:
            y[s:e + 1] = filtfilt(b, a, y[s:e + 1])
    return y


def reject_outliers(x: np.ndarray, scale: np.ndarray | float, window: int = 7, k: float = 4.0,
                    floor: float = 0.08) -> np.ndarray:
    """Hampel filter: NaN where a sample is far from its running median (in units of `scale`,
    e.g. torso length, with a floor so still frames are not over-rejected)."""
    x = x.astype(float).copy()
    n = len(x)
    if n < window:
        return x
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(padded, window)
    med = np.nanmedian(win, axis=1) if np.isfinite(win).any() else np.full(n, np.nan)
    mad = np.nanmedian(np.abs(win - med[:, None]), axis=1)
    tol = np.maximum(k * 1.4826 * mad, floor * np.asarray(scale, dtype=float))
    bad = np.abs(x - med) > tol
    x[bad] = np.nan
    return x


@dataclass
class Conditioned:
    """Filtered near-side joints and midpoints, ready for the exercise analysers."""
    t: np.ndarray
    fs: float
    side: str
    facing_sign: float               # +1 person faces image-right, -1 faces left
    joints: dict[str, np.ndarray]    # name -> (N, 2) filtered pixels: near side, "far_"+name, "hip_mid", "shoulder_mid"
    torso_len: float                 # median hip_mid -> shoulder_mid distance, pixels
    coverage: float                  # fraction of frames with a usable pose
    view: ViewCheck
    outlier_frames: int
    switches: list[float]            # times where the tracked body jumped (likely another person)
    missing: list[tuple[float, float]]  # stretches of >= 0.5 s with no person found
    yaw_deg: float = 0.0             # camera yaw off side-on, from the shoulders' spread (joints.view_yaw)
    plate: np.ndarray | None = None  # (N, 3) the bar's plate per frame (x, y, r px), NaN where none (plates.py)
    behind_plate: dict[str, np.ndarray] | None = None  # joint name -> (N,) True where the plate hid it


def _median_torso(xy: np.ndarray) -> float:
    hip, sh = trunk_ends(xy)
    d = np.hypot(*(sh - hip).T)
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")


def near_side(vis: np.ndarray) -> str:
    score = {}
    for side, j in SIDE_JOINTS.items():
        score[side] = float(np.nanmean(vis[:, [j["shoulder"], j["hip"], j["knee"], j["ankle"]]]))
    return max(score, key=score.get)


def facing_sign(xy: np.ndarray, vis: np.ndarray, side: str) -> float:
    """+1 if the person faces image-right. Votes: nose ahead of the ear, toes ahead of the heel."""
    j = SIDE_JOINTS[side]
    votes = []
    ear = xy[:, j["ear"], 0]
    nose_ear = xy[:, NOSE, 0] - ear
    toe_heel = xy[:, j["toe"], 0] - xy[:, j["heel"], 0]
    for d, w in ((nose_ear, 1.0), (toe_heel, 1.0)):
        d = d[np.isfinite(d)]
        if len(d):
            votes.append(w * np.mean(np.sign(d)))
    s = float(np.sum(votes)) if votes else 0.0
    return 1.0 if s >= 0 else -1.0


def check_view(xy: np.ndarray, vis: np.ndarray, side: str, facing: float, torso: float) -> ViewCheck:
    """Side-on test: in a side view the left and right shoulders (and hips) overlap in the picture."""
    sw = np.hypot(*(xy[:, L_SHOULDER] - xy[:, R_SHOULDER]).T)
    hw = np.hypot(*(xy[:, L_HIP] - xy[:, R_HIP]).T)
    ratio = float(np.nanmedian((sw + hw) / 2.0) / torso) if np.isfinite(torso) and torso > 0 else float("nan")
    facing_name = "right" if facing > 0 else "left"
    if not np.isfinite(ratio):
        return ViewCheck(side="unknown", facing="unknown", ok=False, width_ratio=float("nan"),
                         reason="No person was found reliably enough to judge the camera angle.")
    if ratio <= SIDE_ON_MAX:
        return ViewCheck(side=side, facing=facing_name, ok=True, width_ratio=round(ratio, 3),
                         reason=f"Side-on view ({side} side toward the camera; shoulder/hip width is {ratio:.2f} of torso length).")
    if ratio <= OBLIQUE_MAX:
        return ViewCheck(side=side, facing=facing_name, ok=True, width_ratio=round(ratio, 3), oblique=True,
                         reason=(f"Oblique view: shoulders/hips show {ratio:.2f} of torso length across the picture "
                                 "(about 20-40 degrees off side-on). Angles are read with more error and the back-shape proxy is withheld; "
                                 "film from straight side-on at hip height for all metrics."))
    # Toward or away: facing the camera, the person's left shoulder and hip are on the image's right.
    # (Nose visibility does not tell: MediaPipe reports a confident face on the back of a head.)
    lr = np.sign(xy[:, L_SHOULDER, 0] - xy[:, R_SHOULDER, 0]) + np.sign(xy[:, L_HIP, 0] - xy[:, R_HIP, 0])
    toward = float(np.nanmean(lr)) >= 0
    off = head_turn_deg(xy)
    what = ("Front or rear view" if not np.isfinite(off) or off < 30 else
            f"Oblique view, about {90 - off:.0f} deg off side-on (the head shows turned {off:.0f} deg from facing the camera)")
    return ViewCheck(side="unknown", facing="toward" if toward else "away", ok=False, width_ratio=round(ratio, 3),
                     reason=(f"{what}: shoulders/hips span {ratio:.2f} of torso length across the picture. "
                             "Hip, knee, trunk and back-shape angles need a side-on camera (within about 30 deg), so they are withheld."))


# The nose sits ~10.5 cm ahead of the line between the ears, which are ~15 cm apart: turned
# theta from facing the camera, the nose shows 0.7 tan(theta) ear-widths off the ears' midpoint.
NOSE_AHEAD = 0.7


def head_turn_deg(xy: np.ndarray) -> float:
    """How far the head is turned from facing the camera (or facing away), degrees, median over the
    clip: it tells a 45 deg oblique view from a front or rear one when the shoulders and hips
    already span too much of the picture to say (a front view reads 7-17 deg, bichraix_04 46)."""
    ears = 0.5 * (xy[:, L_EAR, 0] + xy[:, R_EAR, 0])
    width = np.abs(xy[:, L_EAR, 0] - xy[:, R_EAR, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.abs(xy[:, NOSE, 0] - ears) / width
    r = r[np.isfinite(r)]
    return float(np.degrees(np.arctan(np.median(r) / NOSE_AHEAD))) if len(r) else float("nan")


def _pair_mid(xy: np.ndarray, vis: np.ndarray, a: int, b: int) -> np.ndarray:
    mid = 0.5 * (xy[:, a] + xy[:, b])
    seen = np.maximum(vis[:, a], vis[:, b]) >= VIS_MIN
    mid[~seen] = np.nan
    return mid


def condition(track: PoseTrack, cutoff_hz: float, plates: bool = False) -> Conditioned:
    """plates: treat landmarks behind the bar's plate as missing (deadlift; formcheck/plates.py).
    The midpoints and the near knee as MediaPipe placed them stay under "hip_mid_lm",
    "shoulder_mid_lm" and "knee_lm": when things happen (rep, lockout, set-up, the bar passing
    the knee) is read from them, which a guess behind the plate still follows."""
    t = track.t
    n = len(t)
    dt = np.diff(t)
    fs = float(1.0 / np.median(dt)) if n > 1 else 30.0
    xy = track.xy.copy()
    vis = track.vis
    side = near_side(vis)
    far = "right" if side == "left" else "left"
    gate = np.full(vis.shape[1], VIS_MIN)
    gate[list(SIDE_JOINTS[far].values())] = FAR_VIS_MIN
    xy[vis < gate[None, :]] = np.nan
    torso = _median_torso(track.xy)
    face = facing_sign(track.xy, vis, side)
    view = check_view(track.xy, vis, side, face, torso)
    joints: dict[str, np.ndarray] = {}
    rejected = 0
    plate, behind, placed_mid = None, None, {}
    gated = track.xy  # the landmarks with the plate's hidden ones missing (visibility not applied)
    if plates and track.plates is not None:
        from .plates import hidden, plate_track
        plate = plate_track(track.plates, track.xy, t, torso)
        hid = hidden(track.xy, plate)
        xy[hid] = np.nan
        gated = np.where(hid[..., None], np.nan, track.xy)
        knee = SIDE_JOINTS[side]["knee"]
        placed_mid = {"hip_mid_lm": _pair_mid(track.xy, vis, L_HIP, R_HIP),
                      "shoulder_mid_lm": _pair_mid(track.xy, vis, L_SHOULDER, R_SHOULDER),
                      "knee_lm": np.where((vis[:, knee] >= VIS_MIN)[:, None], track.xy[:, knee], np.nan)}
        behind = {name: hid[:, idx] for name, idx in SIDE_JOINTS[side].items()}
        behind.update({f"far_{name}": hid[:, idx] for name, idx in SIDE_JOINTS[far].items()})
    raw = {name: xy[:, idx] for name, idx in SIDE_JOINTS[side].items()}
    # The far side too, under "far_": running needs both feet.
    raw.update({f"far_{name}": xy[:, idx] for name, idx in SIDE_JOINTS[far].items()})
    # Midpoints from the raw (ungated) landmarks: in a side view the far-side shoulder and hip
    # are guessed, but the midpoint of the pair is still the best 2D trunk line.
    # A pair counts only if at least one of its points is seen (a head leaving the frame
    # drags both shoulder guesses off the picture).
    raw["hip_mid"] = _pair_mid(gated, vis, L_HIP, R_HIP)
    raw["shoulder_mid"] = _pair_mid(gated, vis, L_SHOULDER, R_SHOULDER)
    raw.update(placed_mid)
    raw["nose"] = xy[:, NOSE]
    for name, p in raw.items():
        q = np.empty_like(p)
        for c in range(2):
            x = reject_outliers(p[:, c], torso if np.isfinite(torso) else 1.0)
            rejected += int(np.sum(np.isfinite(p[:, c]) & ~np.isfinite(x)))
            x = fill_gaps(x, t)
            q[:, c] = lowpass(x, fs, cutoff_hz)
        joints[name] = q
    coverage = float(np.mean(track.detected)) if n else 0.0
    return Conditioned(t=t, fs=fs, side=side, facing_sign=face, joints=joints, torso_len=torso,
                       coverage=coverage, view=view, outlier_frames=rejected, switches=subject_switches(track, torso),
                       missing=missing_spans(track), yaw_deg=view_yaw(track.xy, torso, side, face),
                       plate=plate, behind_plate=behind)


def missing_spans(track: PoseTrack, min_s: float = 0.5) -> list[tuple[float, float]]:
    """Stretches with no person detected (left the picture, hidden, too dark), in seconds."""
    return [(round(float(track.t[i]), 2), round(float(track.t[j]), 2))
            for i, j in true_runs(~track.detected) if track.t[j] - track.t[i] >= min_s]


def presence_warnings(c: "Conditioned") -> list[str]:
    """What the user should know about who was tracked and when (shared by every analyser)."""
    w = []
    if c.missing:
        spans = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in c.missing[:4])
        w.append(f"No person was found at {spans} (out of the picture, hidden or too dark); those frames are not scored.")
    if c.switches:
        w.append("The tracked body jumped (another person, or the subject leaving the frame) at "
                 + ", ".join(f"{x:.1f} s" for x in c.switches[:5]) + "; check the skeleton in the annotated video there.")
    return w


def subject_switches(track: PoseTrack, torso: float, w: int = 5) -> list[float]:
    """Times where the tracked body moves by more than a torso length, or changes size by half,
    and stays there (5 detections either side compared by their medians): MediaPipe has most
    likely locked onto someone else. One-frame glitches are the outlier filter's business."""
    hip, sh = trunk_ends(track.xy)
    size = np.hypot(*(sh - hip).T)
    ok = np.flatnonzero(np.isfinite(size) & (size > 0))
    if len(ok) < 2 * w or not np.isfinite(torso):
        return []
    out: list[float] = []
    last = -np.inf
    for k in range(w, len(ok) - w + 1):
        before, after = ok[k - w:k], ok[k:k + w]
        step = np.hypot(*(np.median(hip[after], axis=0) - np.median(hip[before], axis=0)))
        ratio = np.median(size[after]) / np.median(size[before])
        t = float(track.t[ok[k]])
        if (step > torso or ratio > 1.5 or ratio < 1 / 1.5) and t - last > 1.0:
            out.append(round(t, 2))
            last = t
    return out


# --- geometry -------------------------------------------------------------------------------

def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle ABC in degrees (180 = straight), per frame; inputs (N, 2)."""
    v1, v2 = a - b, c - b
    cos = np.sum(v1 * v2, axis=-1) / (np.linalg.norm(v1, axis=-1) * np.linalg.norm(v2, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def incline_from_vertical(lower: np.ndarray, upper: np.ndarray, facing: float) -> np.ndarray:
    """Signed angle of the lower->upper segment from vertical, degrees; + leans toward where the
    person faces (trunk forward), - leans back. Image y points down."""
    dx = (upper[:, 0] - lower[:, 0]) * facing
    dy = lower[:, 1] - upper[:, 1]
    return np.degrees(np.arctan2(dx, dy))


def value_at(x: np.ndarray, i: int, half: int = 1) -> float:
    """Median of x around frame i (robust to a one-frame glitch)."""
    seg = x[max(0, i - half): i + half + 1]
    seg = seg[np.isfinite(seg)]
    return float(np.median(seg)) if len(seg) else float("nan")
