"""MediaPipe pose backend (legacy solutions API, full model, segmentation on).

Per frame it keeps the 33 landmarks and the silhouette half-widths along the hip->shoulder
chord; the full-resolution mask is dropped as soon as the profile is read from it.
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Protocol

import numpy as np

from .contour import chord_profile
from .types import N_LANDMARKS, PROFILE_T, trunk_ends

# Pose runs on a downscaled copy: MediaPipe crops to 256x256 for the landmark model anyway,
# and the mask at this size still resolves the back outline to ~1% of torso length.
POSE_MAX_SIDE = 640


@contextlib.contextmanager
def _quiet_native_stderr():
    """MediaPipe/TFLite log from C++ straight to fd 2 while loading; keep that off the user's terminal."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


class PoseBackend(Protocol):
    """What the pose pass needs from a pose model: a context manager whose process() turns one
    (downscaled) RGB frame into landmarks in full-frame pixels, their visibility and the back
    profile. PoseEstimator (MediaPipe) is the default; tests pass a fake."""

    def __enter__(self) -> "PoseBackend": ...

    def __exit__(self, *exc) -> None: ...

    def process(self, rgb_small: np.ndarray, full_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class PoseEstimator:
    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5):
        with _quiet_native_stderr():
            import mediapipe as mp
            self._build(mp, model_complexity, min_detection_confidence, min_tracking_confidence)
        self._warm = False

    def _build(self, mp, model_complexity, min_detection_confidence, min_tracking_confidence):
        # smooth_landmarks off: MediaPipe's landmark filter is causal and left the landmarks about
        # one frame behind the body on the synthetic renders (the hip angle read best against truth
        # shifted by a frame); signals.condition filters them with zero lag instead. Measured on
        # held-out synthetic bodies: hip angle error 2.6 -> 2.0 deg median, 9.3 -> 7.2 p95 (deadlift).
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False, model_complexity=model_complexity, smooth_landmarks=False,
            enable_segmentation=True, smooth_segmentation=True,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence)

    def close(self) -> None:
        self._pose.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def process(self, rgb_small: np.ndarray, full_size: tuple[int, int]):
        """Landmarks of one frame in full-frame pixels, visibility, and the chord profile.

        rgb_small: the (downscaled) RGB frame given to MediaPipe; full_size: (width, height) of
        the upright source frame that coordinates are reported in.
        """
        xy = np.full((N_LANDMARKS, 2), np.nan)
        vis = np.zeros(N_LANDMARKS)
        prof = np.full((2, len(PROFILE_T)), np.nan)
        if not self._warm:  # the graph logs its set-up on the first frame
            with _quiet_native_stderr():
                res = self._pose.process(rgb_small)
            self._warm = True
        else:
            res = self._pose.process(rgb_small)
        if res.pose_landmarks is None:
            return xy, vis, prof
        lm = res.pose_landmarks.landmark
        norm = np.array([[p.x, p.y] for p in lm])
        vis = np.array([p.visibility for p in lm])
        W, H = full_size
        xy = norm * np.array([W, H], dtype=float)
        if res.segmentation_mask is not None:
            h, w = res.segmentation_mask.shape
            small = norm * np.array([w, h], dtype=float)
            hip, shoulder = trunk_ends(small)
            prof = chord_profile(res.segmentation_mask, hip, shoulder)
        return xy, vis, prof


BackendFactory = Callable[[], PoseBackend]
