"""Pass 1: stream a video through the pose backend into a PoseTrack."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .pose import POSE_MAX_SIDE, PoseEstimator
from .types import FormcheckError, PoseTrack, PROFILE_T, N_LANDMARKS
from .video import frames, probe

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def extract_pose(path: str, progress: Progress | None = None, max_frames: int | None = None) -> PoseTrack:
    info = probe(path)
    ts, xys, viss, profs = [], [], [], []
    total = info.frames
    t_last = time.monotonic()
    with PoseEstimator() as est:
        for i, (t, img, small) in enumerate(frames(path, max_side=POSE_MAX_SIDE)):
            if max_frames is not None and i >= max_frames:
                break
            xy, vis, prof = est.process(small, (img.shape[1], img.shape[0]))
            ts.append(t)
            xys.append(xy)
            viss.append(vis)
            profs.append(prof)
            if progress and (time.monotonic() - t_last > 0.25 or i + 1 == total):
                progress("pose", i + 1, max(total, i + 1))
                t_last = time.monotonic()
    if not ts:
        raise FormcheckError(f"No frame of '{info.path}' could be decoded.")
    n = len(ts)
    info.frames = n
    track = PoseTrack(t=np.asarray(ts), xy=np.asarray(xys).reshape(n, N_LANDMARKS, 2),
                      vis=np.asarray(viss).reshape(n, N_LANDMARKS),
                      profile=np.asarray(profs).reshape(n, 2, len(PROFILE_T)), video=info,
                      subject_note=("Subject: MediaPipe detects the most prominent person and then tracks them frame to frame; "
                                    "a jump to another body is reported as a warning with its time."))
    if progress:
        progress("pose", n, n)
    return track
