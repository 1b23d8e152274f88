"""Synthetic pose tracks with known answers, for testing the analysis core without video.

A 2D sagittal stick figure (ankle fixed, shank/thigh/trunk angles driven over time) facing
image-right, with both body sides drawn at the same place (a pure side view) and a back
outline whose bulge we set directly.
"""
from __future__ import annotations

import numpy as np

from formcheck.types import (L_ANKLE, L_EAR, L_ELBOW, L_FOOT, L_HEEL, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NOSE,
                             N_LANDMARKS, PROFILE_T, R_ANKLE, R_EAR, R_ELBOW, R_FOOT, R_HEEL, R_HIP, R_KNEE,
                             R_SHOULDER, R_WRIST, PoseTrack, VideoInfo)

SHANK, THIGH, TRUNK, ARM, FOOT = 110.0, 120.0, 150.0, 150.0, 70.0


def _info(n: int, fps: float) -> VideoInfo:
    return VideoInfo(path="synthetic", width=1280, height=720, fps=fps, frames=n, duration_s=n / fps,
                     rotation=0, codec="none", vfr=False)


def pose_frame(shank_deg: float, thigh_deg: float, trunk_deg: float, facing: float = 1.0,
               ankle=(600.0, 650.0), width: float = 0.0):
    """Landmarks for one frame. Angles from vertical, + toward the facing direction:
    shank + = knee ahead of ankle; thigh = hip->knee direction... given as the thigh's forward
    lean of the knee from the hip (0 = vertical, 90 = horizontal); trunk + = shoulders ahead of hips.
    width: left/right separation across the picture (0 = pure side view)."""
    a = np.array(ankle)
    up = np.array([0.0, -1.0])
    fwd = np.array([facing, 0.0])

    def seg(start, angle, length):
        r = np.radians(angle)
        return start + length * (np.cos(r) * up + np.sin(r) * fwd)

    knee = seg(a, shank_deg, SHANK)
    hip = knee + THIGH * (np.cos(np.radians(thigh_deg)) * up - np.sin(np.radians(thigh_deg)) * fwd)
    sh = seg(hip, trunk_deg, TRUNK)
    wrist = sh + np.array([0.0, ARM])
    elbow = 0.5 * (sh + wrist)
    heel = a + np.array([-0.3 * FOOT * facing, 15.0])
    toe = a + np.array([0.7 * FOOT * facing, 15.0])
    ear = seg(sh, trunk_deg, 40.0)
    nose = ear + 15.0 * fwd
    xy = np.full((N_LANDMARKS, 2), np.nan)
    half = np.array([width / 2, 0.0])
    for (li, ri), p in {(L_SHOULDER, R_SHOULDER): sh, (L_ELBOW, R_ELBOW): elbow, (L_WRIST, R_WRIST): wrist,
                        (L_HIP, R_HIP): hip, (L_KNEE, R_KNEE): knee, (L_ANKLE, R_ANKLE): a,
                        (L_HEEL, R_HEEL): heel, (L_FOOT, R_FOOT): toe, (L_EAR, R_EAR): ear}.items():
        xy[li], xy[ri] = p - half, p + half
    xy[NOSE] = nose
    for i in range(N_LANDMARKS):
        if not np.isfinite(xy[i, 0]):
            xy[i] = sh
    return xy


def back_profile(bulge: float) -> np.ndarray:
    """Half-width profile: a body 0.2 chord lengths thick with a sinusoidal bulge (+ rounded)."""
    return 0.2 + bulge * np.sin(np.pi * PROFILE_T)


def deadlift_track(reps: int = 3, fps: float = 30.0, rounding=0.0, hips_up: float = 0.0, lean_back: float = 0.0,
                   squat: bool = False, stand_s: float = 1.0, rep_s: float = 3.0, facing: float = 1.0,
                   width: float = 0.0, noise: float = 0.0, seed: int = 0, hitch: float = 0.0,
                   legs_first: float = 0.0, setup_trunk: float = 60.0) -> PoseTrack:
    """A set of dead-stop deadlifts. rounding: bulge of the back outline at the floor (scalar or
    one per rep; 0.06 reads about 20 deg of bend); hips_up: how far (0-1) the legs straighten before
    the trunk rises; lean_back: trunk degrees behind vertical at lockout; squat: low-hip start;
    hitch: how far (0-1) the legs bend back toward the set-up mid-pull before straightening;
    legs_first: how far (0-1) the legs' extension runs ahead of the trunk's rise, the trunk held
    meanwhile (1: the knees lock at mid-pull, then the back lifts); setup_trunk: trunk degrees from
    vertical at the floor (88: hips about level with the shoulders)."""
    rng = np.random.default_rng(seed)
    rounding = np.broadcast_to(np.asarray(rounding, dtype=float), (reps,))
    n_stand = int(stand_s * fps)
    n_rep = int(rep_s * fps)
    setup = dict(shank=30.0, thigh=60.0, trunk=setup_trunk) if not squat else dict(shank=45.0, thigh=85.0, trunk=30.0)
    frames, bulges = [], []
    stand_bulge = -0.02  # standing: slight lumbar concavity

    def stand(k):
        for _ in range(k):
            frames.append(pose_frame(0.0, 0.0, -lean_back * 0.0, facing, width=width))
            bulges.append(stand_bulge)

    stand(n_stand)
    for r in range(reps):
        # descend (1/3), pull (1/3), hold lockout (1/3)
        for i in range(n_rep):
            u = i / n_rep
            if u < 1 / 3:    # lowering to the floor
                p = 1 - 0.5 * (1 - np.cos(np.pi * u * 3))  # 1 -> 0
                pl = pt = p
            elif u < 2 / 3:  # pull
                q = (u - 1 / 3) * 3
                lead = 0.5 * legs_first  # the legs' extension ends this much of the pull early, the trunk's starts as late
                pt = 0.5 * (1 - np.cos(np.pi * max(0.0, (q - lead) / (1 - lead))))
                pl = 0.5 * (1 - np.cos(np.pi * min(1.0, q / (1 - lead))))
                pl = min(1.0, pl + hips_up * np.sin(np.pi * min(q * 1.5, 1.0)))  # legs lead the trunk
                if 0.4 <= q < 0.8:  # the knees dip back under the bar, then drive again
                    pl -= hitch * np.sin(np.pi * (q - 0.4) / 0.4)
            else:
                pl = pt = 1.0
            shank = setup["shank"] * (1 - pl)
            thigh = setup["thigh"] * (1 - pl)
            trunk = setup["trunk"] * (1 - pt)
            if 1 / 3 <= u < 2 / 3:  # hips shooting up: the back tips over while the legs straighten
                trunk += hips_up * 45.0 * np.sin(np.pi * min((u - 1 / 3) * 6, 1.0))
            if u >= 2 / 3:
                trunk = -lean_back * np.sin(np.pi * min((u - 2 / 3) * 6, 1.0) / 2)
            frames.append(pose_frame(shank, thigh, trunk, facing, width=width))
            bulges.append(stand_bulge + (rounding[r] - stand_bulge) * (1 - pt))
    stand(n_stand)
    n = len(frames)
    xy = np.asarray(frames) + (rng.normal(0, noise, (n, N_LANDMARKS, 2)) if noise else 0.0)
    vis = np.full((n, N_LANDMARKS), 0.99)
    prof = np.full((n, 2, len(PROFILE_T)), 0.25)
    dorsal = 1 if facing > 0 else 0
    for i, b in enumerate(bulges):
        prof[i, dorsal] = back_profile(b)
    # plates looked for and none found, as extraction leaves a clip without a barbell plate
    return PoseTrack(t=np.arange(n) / fps, xy=xy, vis=vis, profile=prof, video=_info(n, fps),
                     plates=np.full((n, 3, 3), np.nan))
