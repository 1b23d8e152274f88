"""Pass 1: stream a video through the pose backend into a PoseTrack.

One MediaPipe graph keeps one core busy. On a long enough clip a second process tracks the
later part of the clip at the same time: it starts WARMUP_S before the split so its tracker has
settled, and both trackers cover OVERLAP_S after the split. The halves
are joined only if both saw the same frames there and followed the same person; otherwise this
process simply carries on to the end alone, exactly as a single tracker would.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable

import numpy as np

from . import plates, subject
from .pose import POSE_MAX_SIDE, BackendFactory, PoseEstimator
from .types import (N_LANDMARKS, PROFILE_T, FormcheckError, trunk_ends,
                    PoseTrack)
from .video import frames, probe

Progress = Callable[[str, int, int], None]  # (stage, done, total)

PARALLEL_MIN_S = 12.0  # shorter clips barely repay the helper's start-up (11.6 s clip: 1.0-1.16x)
HELPER_START_S = 2.5   # measured: python + mediapipe import + graph set-up on 2 cores
POSE_FPS = 25.0        # a conservative guess of one graph's frames/s, to balance the two parts
WARMUP_S = 1.0
OVERLAP_S = 0.5
SAME_SUBJECT = 0.15    # hip/shoulder centres within this many torso lengths in the overlap


class _Rows:
    """Per-frame pose rows, appended as frames stream past."""

    def __init__(self):
        self.t, self.xy, self.vis, self.prof, self.plates = [], [], [], [], []

    def add(self, t, xy, vis, prof, plates):
        self.t.append(t)
        self.xy.append(xy)
        self.vis.append(vis)
        self.prof.append(prof)
        self.plates.append(plates)

    def __len__(self):
        return len(self.t)

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.t)
        return {"t": np.asarray(self.t, dtype=float),
                "xy": np.asarray(self.xy, dtype=float).reshape(n, N_LANDMARKS, 2),
                "vis": np.asarray(self.vis, dtype=float).reshape(n, N_LANDMARKS),
                "prof": np.asarray(self.prof, dtype=float).reshape(n, 2, len(PROFILE_T)),
                "plates": np.asarray(self.plates, dtype=float).reshape(n, plates.K, 3)}


def _track_from(path: str, start_s: float | None, keep_from: float, rows: _Rows, stop=None,
                max_frames: int | None = None, on_frame=None, backend: BackendFactory = PoseEstimator,
                paint=None) -> None:
    """paint(i, t, small) -> small: a change to the pose frame before MediaPipe sees it (the
    second pass of subject.py covers a bystander with it)."""
    with backend() as est:
        for i, (t, img, small) in enumerate(frames(path, max_side=POSE_MAX_SIDE, start_s=start_s)):
            if max_frames is not None and i >= max_frames:
                break
            if paint is not None:
                small = paint(i, t, small)
            xy, vis, prof = est.process(small, (img.shape[1], img.shape[0]))
            if t >= keep_from - 1e-9:
                rows.add(t, xy, vis, prof, plates.near_hands(small, xy, img.shape[1]))
            if on_frame:
                on_frame(t)
            if stop is not None and stop(t):
                break


def _helper_main(argv: list[str]) -> int:
    """`python -m formcheck.extract PATH START_S KEEP_FROM OUT.npz`: the helper process.

    Track from START_S to the end and save the rows kept from KEEP_FROM; print the count of
    kept frames as it goes (the parent's progress bar)."""
    import signal
    import warnings
    # The parent stops this process with SIGTERM (and a terminal's Ctrl-C or kill reaches the whole
    # group): unwind instead of dying at once, so that temporary files made by libraries during
    # MediaPipe's import (ctypes.util.find_library, via sounddevice) are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    warnings.simplefilter("ignore")
    path, start_s, keep_from, out = argv[0], float(argv[1]), float(argv[2]), argv[3]
    rows = _Rows()
    last = [0.0]

    def count(_t):
        if time.monotonic() - last[0] > 0.25:
            print(len(rows), flush=True)
            last[0] = time.monotonic()
    _track_from(path, start_s, keep_from, rows, on_frame=count)
    np.savez(out, **rows.arrays())
    return 0


class _Helper:
    """The second pose process. A plain subprocess, not multiprocessing: spawn would re-run the
    caller's main script, which a user's own script using the Python API need not guard."""

    def __init__(self, path: str, start_s: float, keep_from: float):
        fd, self.out = tempfile.mkstemp(suffix=".npz", prefix="formcheck-pose-")
        os.close(fd)
        self.done = 0
        # The package is installed (pip install -e .), so the helper imports it from anywhere.
        self.proc = subprocess.Popen([sys.executable, "-m", "formcheck.extract", path, repr(start_s), repr(keep_from), self.out],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                self.done = int(line)
            except ValueError:
                pass

    def result(self, tick=None) -> dict | None:
        """The helper's rows, or None if it failed; waits for it."""
        while True:
            try:
                self.proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                if tick:
                    tick()
        if self.proc.returncode != 0:
            return None
        try:
            with np.load(self.out) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(self.out):
            os.remove(self.out)


def _centres(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return trunk_ends(xy)


def _joinable(mine: dict, theirs: dict, split: float) -> bool:
    """Both trackers decoded the same frames from the split on and follow the same person."""
    k = int(np.searchsorted(mine["t"], split - 1e-9))
    a_t, b_t = mine["t"][k:], theirs["t"][: len(mine["t"]) - k]
    if len(a_t) < 2 or len(b_t) != len(a_t) or not np.allclose(a_t, b_t, atol=1e-6):
        return False
    ha, sa = _centres(mine["xy"][k:])
    hb, sb = _centres(theirs["xy"][: len(a_t)])
    seen_a, seen_b = np.isfinite(ha[:, 0]), np.isfinite(hb[:, 0])
    if not seen_a.any() and not seen_b.any():
        return True  # nobody in view at the join: nothing to mix up
    both = seen_a & seen_b
    if both.sum() < max(2, 0.5 * len(a_t)):
        return False
    torso = np.nanmedian(np.linalg.norm(sa[both] - ha[both], axis=1))
    gap = np.maximum(np.linalg.norm(ha[both] - hb[both], axis=1), np.linalg.norm(sa[both] - sb[both], axis=1))
    return bool(np.median(gap) < SAME_SUBJECT * max(torso, 1e-6))


def _split_time(duration_s: float, fps: float) -> float:
    """Where the helper takes over, so both finish together: this process tracks
    [0, split + OVERLAP_S]; the helper starts HELPER_START_S late and tracks [split - WARMUP_S, end].
    Times are clip seconds; one graph covers POSE_FPS / fps clip seconds per second."""
    rate = POSE_FPS / max(fps, 1.0)
    split = 0.5 * (duration_s + WARMUP_S - OVERLAP_S + HELPER_START_S * rate)
    return round(min(max(split, WARMUP_S + 0.5), duration_s - 2 * OVERLAP_S), 3)


def _workers(duration_s: float, workers: int | None, max_frames: int | None) -> int:
    if max_frames is not None:
        return 1
    if workers is None:
        workers = int(os.environ.get("FORMCHECK_POSE_WORKERS", "0")) or (2 if (os.cpu_count() or 1) >= 2 else 1)
    return 2 if workers >= 2 and duration_s >= PARALLEL_MIN_S else 1


def extract_pose(path: str, progress: Progress | None = None, max_frames: int | None = None,
                 workers: int | None = None, backend: BackendFactory | None = None,
                 pick_subject: bool = True) -> PoseTrack:
    """workers: pose processes (1 or 2); None = 2 on a multi-core machine for clips of
    PARALLEL_MIN_S or more (FORMCHECK_POSE_WORKERS overrides). backend: a factory of PoseBackend
    (default MediaPipe's PoseEstimator); another backend runs in this process alone, since the
    helper process can only build the default. pick_subject: if the person tracked stands
    still, track the clip again past them (see subject.py and pick_subject below)."""
    info = probe(path)
    total = info.frames
    helper, split, joined = None, None, None
    if backend is None and _workers(info.duration_s, workers, max_frames) > 1:
        split = _split_time(info.duration_s, info.fps)
        helper = _Helper(path, split - WARMUP_S, split)
    rows = _Rows()
    last = [time.monotonic()]

    def report():
        if progress and time.monotonic() - last[0] > 0.25:
            done = len(rows) + (helper.done if helper is not None else 0)
            progress("pose", min(done, total), max(total, done))
            last[0] = time.monotonic()

    def at_join(t: float) -> bool:
        nonlocal helper, joined
        report()
        if helper is None or t < split + OVERLAP_S:
            return False
        theirs = helper.result(tick=report)
        mine = rows.arrays()
        if theirs is not None and _joinable(mine, theirs, split):
            joined = (mine, theirs)
            return True
        helper.stop()  # failed or tracked someone else: go on alone from here
        helper = None
        return False

    try:
        _track_from(path, None, 0.0, rows, stop=at_join, max_frames=max_frames, backend=backend or PoseEstimator)
    finally:
        if helper is not None:
            helper.stop()
    if joined:
        mine, theirs = joined
        k = int(np.searchsorted(mine["t"], split - 1e-9))
        arr = {key: np.concatenate([mine[key][:k], theirs[key]]) for key in mine}
    else:
        arr = rows.arrays()
    n = len(arr["t"])
    if n == 0:
        raise FormcheckError(f"No frame of '{info.path}' could be decoded.")
    info.frames = n
    if n > 1:  # what decoded, not what the header or packets claim (an edit list hides packets)
        info.duration_s = round(float(arr["t"][-1] + np.median(np.diff(arr["t"]))), 3)
    if progress:
        progress("pose", n, n)
    track = _as_track(arr, info)
    if not pick_subject:
        track.subject_note = subject.choose(track, None, "no second person was looked for (asked not to)")[1]
        return track
    return choose_subject(track, path, progress, backend)


def _as_track(arr: dict, info) -> PoseTrack:
    return PoseTrack(t=arr["t"], xy=arr["xy"], vis=arr["vis"], profile=arr["prof"], video=info,
                     plates=arr["plates"])


def choose_subject(first: PoseTrack, path: str, progress: Progress | None = None,
                   backend: BackendFactory | None = None) -> PoseTrack:
    """The track of the person who moves. A first pass that followed someone standing still
    is repeated with that person covered (one process: it is the rare case), and the moving
    person found then is kept; the report's subject note says which and why."""
    if not subject.motion(first).still:
        first.subject_note = subject.choose(first, None)[1]
        return first
    rows = _Rows()
    n = len(first)
    last = [time.monotonic()]

    def tick(_t):
        if progress and time.monotonic() - last[0] > 0.25:
            progress("subject", min(len(rows), n), n)
            last[0] = time.monotonic()
    second, why_not = None, ""
    try:
        _track_from(path, None, 0.0, rows, on_frame=tick, backend=backend or PoseEstimator,
                    paint=subject.painter(first), max_frames=n)
    except Exception as e:  # the first track stands: a failed second look loses nothing
        why_not = f"a second look for a moving person failed ({type(e).__name__})"
    else:
        arr = rows.arrays()
        if len(arr["t"]) == n and np.allclose(arr["t"], first.t, atol=1e-6):  # the same frames, or no swap
            second = _as_track(arr, first.video)
        else:
            why_not = "a second look for a moving person decoded other frames, so it was not used"
    if progress:
        progress("subject", n, n)
    chosen, note = subject.choose(first, second, why_not)
    chosen.subject_note = note
    return chosen


def add_plates(track: PoseTrack, path: str) -> PoseTrack:
    """Look for plates in a track saved before tracks carried them (the benchmark's pose cache, the
    bundled samples): decode the clip again, as extraction does, without re-running pose."""
    found = []
    for i, (t, img, small) in enumerate(frames(path, max_side=POSE_MAX_SIDE)):
        if i >= len(track):
            break
        if abs(t - track.t[i]) > 1e-3:  # not the frames the track was made from: leave it unlooked
            track.plates = None
            return track
        found.append(plates.near_hands(small, track.xy[i], img.shape[1]))
    found += [np.full((plates.K, 3), np.nan)] * (len(track) - len(found))
    track.plates = np.asarray(found, dtype=float).reshape(len(track), plates.K, 3)
    return track


if __name__ == "__main__":
    sys.exit(_helper_main(sys.argv[1:]))
