"""The data that moves between stages.

`PoseTrack` is the one currency: the video shell and the pose backend produce it, the pure
analysis core consumes it, the renderer reads it back. Results are plain dataclasses that
serialise straight to report.json.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# MediaPipe BlazePose landmark indices used across the package.
NOSE = 0
L_EAR, R_EAR = 7, 8
L_SHOULDER, R_SHOULDER = 11, 12
L_ELBOW, R_ELBOW = 13, 14
L_WRIST, R_WRIST = 15, 16
L_HIP, R_HIP = 23, 24
L_KNEE, R_KNEE = 25, 26
L_ANKLE, R_ANKLE = 27, 28
L_HEEL, R_HEEL = 29, 30
L_FOOT, R_FOOT = 31, 32  # "foot index": the toe tip
N_LANDMARKS = 33

# Named joints per side, so analysis code says "shoulder" and the side picks the index.
SIDE_JOINTS = {
    "left": dict(ear=L_EAR, shoulder=L_SHOULDER, elbow=L_ELBOW, wrist=L_WRIST, hip=L_HIP,
                 knee=L_KNEE, ankle=L_ANKLE, heel=L_HEEL, toe=L_FOOT),
    "right": dict(ear=R_EAR, shoulder=R_SHOULDER, elbow=R_ELBOW, wrist=R_WRIST, hip=R_HIP,
                  knee=R_KNEE, ankle=R_ANKLE, heel=R_HEEL, toe=R_FOOT),
}

def trunk_ends(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hip and shoulder midpoints of landmarks shaped (..., 33, 2): the two ends of the trunk line."""
    return (0.5 * (xy[..., L_HIP, :] + xy[..., R_HIP, :]),
            0.5 * (xy[..., L_SHOULDER, :] + xy[..., R_SHOULDER, :]))


# Back-profile sampling: PROFILE_T[k] is the position along the hip->shoulder chord (0 = hip).
PROFILE_T = np.linspace(0.0, 1.0, 25)


@dataclass
class VideoInfo:
    path: str
    width: int          # upright (after rotation) frame size in pixels
    height: int
    fps: float          # average frame rate from the real timestamps
    frames: int
    duration_s: float
    rotation: int       # degrees applied to make the picture upright (clockwise, 0/90/180/270)
    codec: str
    vfr: bool           # variable frame rate (phone clips often are)
    sar: str = "1"      # sample aspect ratio of the stored pixels; width above is the displayed one
    gaps: list = field(default_factory=list)  # (clip time s, seconds removed): breaks closed in the timeline
    stream: int = 0     # index of the video track read (see video.video_stream)
    streams: int = 1    # video tracks in the file

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PoseTrack:
    """Per-frame pose of the one tracked subject. NaN where the frame had no usable pose.

    xy:       (N, 33, 2) landmark positions in upright source pixels (x right, y down)
    vis:      (N, 33) MediaPipe visibility, 0 where there was no detection
    profile:  (N, 2, K) silhouette half-widths either side of the hip->shoulder chord, as a
              fraction of chord length, sampled at PROFILE_T; [:, 0] along the normal
              n = (-u_y, u_x) of the chord direction u, [:, 1] along -n. Which side is the back
              is decided by the analysis (it knows which way the person faces).
    plates:   (N, K, 3) circles (x, y, r in source pixels) found near the hands, NaN-padded
              (formcheck/plates.py picks the bar's plate from them); None: not looked for.
    """

    t: np.ndarray
    xy: np.ndarray
    vis: np.ndarray
    profile: np.ndarray
    video: VideoInfo
    subject_note: str = ""
    plates: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.t)
        assert self.xy.shape == (n, N_LANDMARKS, 2), self.xy.shape
        assert self.vis.shape == (n, N_LANDMARKS)
        assert self.profile.shape[:2] == (n, 2)
        assert self.plates is None or (self.plates.shape[0] == n and self.plates.shape[2] == 3), self.plates.shape

    def __len__(self) -> int:
        return len(self.t)

    @property
    def detected(self) -> np.ndarray:
        return np.isfinite(self.xy[:, L_HIP, 0]) | np.isfinite(self.xy[:, R_HIP, 0])

    def save(self, path: str) -> None:
        extra = {} if self.plates is None else {"plates": self.plates}
        np.savez_compressed(path, t=self.t, xy=self.xy, vis=self.vis, profile=self.profile,
                            video=np.array([repr(self.video.to_dict())]),
                            subject_note=np.array([self.subject_note]), **extra)

    @classmethod
    def load(cls, path: str) -> "PoseTrack":
        import ast
        d = np.load(path)
        info = VideoInfo(**ast.literal_eval(str(d["video"][0])))
        return cls(t=d["t"], xy=d["xy"], vis=d["vis"], profile=d["profile"], video=info,
                   subject_note=str(d["subject_note"][0]), plates=d["plates"] if "plates" in d.files else None)


@dataclass
class ViewCheck:
    side: str           # which body side faces the camera: "left" / "right" / "unknown"
    facing: str         # which way the person faces in the picture: "left" / "right" / "toward" / "away"
    ok: bool            # side-on enough for sagittal metrics
    reason: str         # why not, or what was measured
    width_ratio: float  # shoulder+hip width across the image / torso length (0 = pure side view)
    oblique: bool = False  # accepted, but off side-on enough that the back-shape estimate is withheld


@dataclass
class Fault:
    code: str
    severity: str       # "mild" / "moderate" / "severe"
    value: float
    threshold: float
    unit: str
    evidence: str       # S study / R review / C coaching convention / P our proposal
    message: str        # what was measured, in plain words
    cue: str            # what to do about it
    start_s: float
    end_s: float
    basis: str = ""     # where the threshold comes from (the rule table's basis)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Rep:
    index: int                      # 1-based
    start_s: float                  # lift-off (deadlift) / foot strike (running)
    end_s: float
    frames: tuple[int, int]         # inclusive frame range
    key_frames: dict[str, int]      # e.g. liftoff, knee_pass, lockout
    metrics: dict[str, float | None]
    faults: list[Fault] = field(default_factory=list)
    not_measured: dict[str, str] = field(default_factory=dict)  # metric -> why it is None on this rep

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["frames"] = list(self.frames)
        return d


@dataclass
class Analysis:
    """What an exercise analyser returns: typed, no I/O."""
    exercise: str
    view: ViewCheck
    reps: list[Rep]
    faults: list[Fault]                 # clip-level (set breakdown, fatigue drift) faults
    series: dict[str, np.ndarray]       # per-frame conditioned series for plots/CSV/overlay
    withheld: dict[str, str]            # metric -> reason it is not reported
    warnings: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    metric_info: dict[str, dict[str, str]] = field(default_factory=dict)  # label, unit, how measured


class FormcheckError(Exception):
    """Input we cannot analyse. The message is for the user, written to be shown as is."""
