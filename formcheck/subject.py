"""Who the subject is: the person who moves, never a bystander who stands still.

MediaPipe's legacy pose follows one person: the most prominent one when it first detects, then
that person frame to frame. A coach standing in the foreground wins that (run_cez_treadmill_sprint
_side_1: the skeleton sat on the coach for the whole clip while the sprinter ran behind him). So
after the pose pass the tracked person's movement is measured; if they stand still, extraction
runs the pass again with that person painted over, the detector finds the next person, and the
one who moves is kept. Both exercises move a hand or a foot by a torso length or more, so the
same test serves the deadlift (the hands travel with the bar) and running (the feet cycle).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import (L_ANKLE, L_ELBOW, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NOSE, R_ANKLE,
                    R_ELBOW, R_HIP, R_KNEE, R_SHOULDER, R_WRIST, PoseTrack, trunk_ends)

# Still: every hand and foot stays within this many torso lengths of its place relative to the
# hips (5th-95th percentile), and the hips within it of their place in the picture. Why 0.3:
# quiet standing sways the hands and feet by a few centimetres plus a few px of landmark jitter
# (< 0.2 torso lengths, ~10 cm). A deadlift moves the hips up and down (set-up to lockout, about
# half a torso length or more) and back over the heels, so the feet move relative to them; running
# swings each foot ~1.5 torso lengths fore and aft of the hip. (On the 44 labelled clips every
# lifter and runner moves 0.49 torso lengths or more by the larger of the two; the standing coach 0.16.)
STILL_TL = 0.3
VERSION = "still0.3-cover-v1"  # the benchmark caches a second pass under this name
MIN_SEEN = 10            # frames with the limb in view before its range counts as measured
MIN_POSED = 0.2          # a second person must be posed on this share of frames to be taken
ENDS = (L_WRIST, R_WRIST, L_ANKLE, R_ANKLE)
# Painted over, bone by bone: the trunk outline plus the limbs, thick enough to cover clothing.
_BONES = ((L_SHOULDER, R_SHOULDER), (L_HIP, R_HIP), (L_SHOULDER, L_HIP), (R_SHOULDER, R_HIP),
          (L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST), (R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST),
          (L_HIP, L_KNEE), (L_KNEE, L_ANKLE), (R_HIP, R_KNEE), (R_KNEE, R_ANKLE))
LIMB_WIDTH_TL = 0.5      # a forearm or shin in a sleeve or trouser leg, with margin
HEAD_RADIUS_TL = 0.45    # the head measured from the nose, with hair and cap


@dataclass
class Motion:
    limbs: float          # largest 5-95 % range of a hand or foot relative to the hips, torso lengths
    hips: float           # largest 5-95 % range of the hip midpoint in the picture, torso lengths
    posed: float          # share of frames with a pose
    where_x: float        # median hip midpoint, px (to name the person in the report)

    @property
    def still(self) -> bool:
        """Hips still, and no hand or foot seen moving (none seen at all counts as still: a
        bystander cut off by the frame edge shows no limb, and a second look costs only time)."""
        return (self.posed > 0 and np.isfinite(self.hips) and self.hips < STILL_TL
                and not (np.isfinite(self.limbs) and self.limbs >= STILL_TL))

    def words(self) -> str:
        limbs = f"{self.limbs:.2f}" if np.isfinite(self.limbs) else "(not seen)"
        return (f"hands/feet travel {limbs} and hips {self.hips:.2f} torso lengths; "
                f"posed on {100 * self.posed:.0f}% of frames")


def _torso(xy: np.ndarray) -> float:
    hip, sh = trunk_ends(xy)
    d = np.linalg.norm(sh - hip, axis=-1)
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")


def motion(track: PoseTrack) -> Motion:
    """How much the tracked person moves. Only landmarks in the picture with visibility > 0.5
    count: MediaPipe's guess for a foot below the frame edge (a coach cut off at the thighs)
    is not movement."""
    xy, vis = track.xy, track.vis
    W, H = track.video.width, track.video.height
    hip, _ = trunk_ends(xy)
    posed = np.isfinite(hip[:, 0])
    torso = _torso(xy)
    if not posed.any() or not np.isfinite(torso) or torso <= 0:
        return Motion(0.0, 0.0, 0.0, float("nan"))

    def spread(v: np.ndarray, ok: np.ndarray) -> float:
        v = v[ok & np.isfinite(v)]
        if len(v) < MIN_SEEN:
            return float("nan")  # not seen enough to say
        return float(np.percentile(v, 95) - np.percentile(v, 5)) / torso

    ends = []
    for j in ENDS:
        p = xy[:, j]
        inside = (vis[:, j] > 0.5) & (p[:, 0] >= 0) & (p[:, 0] < W) & (p[:, 1] >= 0) & (p[:, 1] < H)
        ends += [spread(p[:, k] - hip[:, k], inside) for k in (0, 1)]
    limbs = float(np.nanmax(ends)) if np.isfinite(ends).any() else float("nan")
    hips = float(np.nanmax([spread(hip[:, k], posed) for k in (0, 1)]))
    return Motion(limbs, hips, float(posed.mean()), float(np.nanmedian(hip[:, 0])))


def cover(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """img with the person at landmarks xy (pixels of img) painted over in the picture's mean
    colour, so the pose detector looks past them. Returns a copy; img is left as it was."""
    import cv2
    out = img.copy()
    torso = _torso(xy[None])
    if not np.isfinite(torso) or torso <= 0:
        return out
    colour = tuple(int(c) for c in img.reshape(-1, img.shape[-1]).mean(axis=0))
    width = max(2, int(round(LIMB_WIDTH_TL * torso)))
    hip_l, hip_r, sh_l, sh_r = xy[L_HIP], xy[R_HIP], xy[L_SHOULDER], xy[R_SHOULDER]
    trunk = np.array([sh_l, sh_r, hip_r, hip_l])
    if np.isfinite(trunk).all():
        cv2.fillPoly(out, [np.round(trunk).astype(np.int32)], colour)
    for a, b in _BONES:
        if np.isfinite(xy[a]).all() and np.isfinite(xy[b]).all():
            cv2.line(out, tuple(int(v) for v in np.round(xy[a])), tuple(int(v) for v in np.round(xy[b])),
                     colour, width)
    if np.isfinite(xy[NOSE]).all():
        cv2.circle(out, tuple(int(v) for v in np.round(xy[NOSE])), int(round(HEAD_RADIUS_TL * torso)), colour, -1)
    return out


def painter(first: PoseTrack, max_gap_s: float = 0.5):
    """paint(i, t, img) -> img with the first pass's person covered at that frame. A frame the
    first pass left unposed borrows the nearest posed frame within max_gap_s (a still bystander
    has not moved), so a missed detection does not uncover them."""
    posed = np.flatnonzero(np.isfinite(first.xy[:, L_HIP, 0]) & np.isfinite(first.xy[:, R_HIP, 0]))
    W = first.video.width

    def paint(i: int, t: float, img: np.ndarray) -> np.ndarray:
        if len(posed) == 0:
            return img
        k = posed[np.argmin(np.abs(first.t[posed] - t))]
        if abs(first.t[k] - t) > max_gap_s:
            return img
        return cover(img, first.xy[k] * (img.shape[1] / W))
    return paint


def decided(note: str) -> bool:
    """Whether a track's subject note comes from this module's choice (a track cached before it
    was written followed whoever MediaPipe found first, still or not)."""
    return note.startswith(NOTE_PREFIX)


NOTE_PREFIX = "Subject: the "


def choose(first: PoseTrack, second: PoseTrack | None, why_not: str = "no second person was looked for"
           ) -> tuple[PoseTrack, str]:
    """The subject's track and the sentence the report gives about the choice. why_not: what
    to say when a still first person has no second track to compare."""
    m1 = motion(first)
    where = (f" (around x = {m1.where_x:.0f} px)" if np.isfinite(m1.where_x) else "")
    if not m1.still:
        return first, ("Subject: the person MediaPipe found most prominent, tracked frame to frame; "
                       f"they move ({m1.words()}). A jump to another body is reported as a warning with its time.")
    if second is None:
        return first, (f"Subject: the person found{where} stands nearly still ({m1.words()}); {why_not}.")
    m2 = motion(second)
    if m2.still or m2.posed < MIN_POSED:
        return first, (f"Subject: the only person found{where} stands nearly still ({m1.words()}); "
                       "with them covered, no other moving person was found.")
    where2 = f" (around x = {m2.where_x:.0f} px)" if np.isfinite(m2.where_x) else ""
    return second, (f"Subject: the person who moves{where2} ({m2.words()}). The person MediaPipe found "
                    f"first{where} stood still ({m1.words()}), so they were taken for a bystander "
                    "and covered while the clip was tracked again.")
