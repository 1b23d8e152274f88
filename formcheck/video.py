"""Video in and out with PyAV: real timestamps, rotation metadata, H.264 mp4 export.

Frames are streamed one at a time; nothing here holds a whole clip in memory.
"""
from __future__ import annotations

import heapq
import os
import queue
import threading
from fractions import Fraction
from typing import Iterator, TypeVar

import av
import numpy as np

from .types import FormcheckError, VideoInfo


def _open(path: str):
    if not os.path.exists(path):
        raise FormcheckError(f"File not found: {path}")
    if os.path.getsize(path) == 0:
        raise FormcheckError(f"'{os.path.basename(path)}' is empty (0 bytes). Please upload the video again.")
    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise FormcheckError(
            f"'{os.path.basename(path)}' could not be opened as a video ({e.__class__.__name__}). "
            "It may be corrupt or not a video file; phone .mp4 and .mov files work.") from None
    if not container.streams.video:
        container.close()
        raise FormcheckError(f"'{os.path.basename(path)}' has no video track (is it an audio file or an image?).")
    return container


def video_stream(container):
    """The clip's real video track: never an attached cover picture; then, as FFmpeg's own
    choice does, the largest picture, then the longest track, then the container's default.
    (A phone or editor may put a thumbnail track or a 1-frame cover first.)"""
    def key(st):
        d = st.disposition
        cover = bool(d & av.stream.Disposition.attached_pic) if d is not None else False
        cc = st.codec_context
        seconds = float(st.duration * st.time_base) if st.duration and st.time_base else 0.0
        one_frame = st.frames == 1 or (st.frames == 0 and 0 < seconds < 0.2)
        default = bool(d & av.stream.Disposition.default) if d is not None else False
        return (not cover, not one_frame, (cc.width or 0) * (cc.height or 0), seconds, st.frames, default, -st.index)
    return max(container.streams.video, key=key)


def stream_sar(stream):
    """Sample aspect ratio as FFmpeg guesses it: the container's, else the codec's."""
    for sar in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if sar and sar > 0:
            return sar
    return None


def display_width(width: int, sar) -> int:
    """Stored width stretched by the sample aspect ratio (non-square pixels), as players show it."""
    if not sar or sar <= 0 or sar == 1:
        return width
    return max(2, int(round(width * float(sar) / 2)) * 2)


REORDER_DEPTH = 16  # frames a decoder may hold back to reorder B-frames (H.264/HEVC use at most 16)
GAP_MIN_S = 1.0      # a jump in the timestamps longer than this...
GAP_FRAMES = 10      # ...and than this many frame intervals is a break in the timeline, not motion


class Timeline:
    """Turns a stream's presentation times into clip times: 0 at the first frame, strictly
    increasing, continuous. A frame without a timestamp (Matroska stores times before 0 as
    none) follows the previous one by a frame interval, and the next timed frame continues from
    there. A break (a paused recording, an editing or muxing glitch: a 3600 s jump, or a jump
    back) is closed to one frame interval and recorded in `gaps` as (clip time, seconds removed).
    Fed in presentation order, so probe (packet times) and decode (frame times) agree."""

    def __init__(self, nominal_dt: float):
        self.nominal = nominal_dt if nominal_dt > 0 else 1 / 30
        self.last_raw: float | None = None
        self.last = -1.0
        self.recent: list[float] = []
        self.gaps: list[tuple[float, float]] = []

    def __call__(self, raw: float | None) -> float:
        ref = float(np.median(self.recent)) if len(self.recent) >= 3 else self.nominal
        nxt = self.last + ref if self.last >= 0 else 0.0
        if raw is None or self.last_raw is None:
            t = nxt
        else:
            dt = raw - self.last_raw
            if abs(dt) > max(GAP_MIN_S, GAP_FRAMES * ref):
                self.gaps.append((round(nxt, 3), round(dt - ref, 3)))
                t = nxt
            else:
                t = self.last + dt
                if dt > 0:
                    self.recent = (self.recent + [dt])[-15:]
        self.last_raw = raw
        if t <= self.last:  # duplicate/out-of-order timestamps: keep time strictly increasing
            t = self.last + 1e-3
        self.last = t
        return t


def _nominal_dt(stream) -> float:
    rate = stream.base_rate or stream.guessed_rate or stream.average_rate
    return 1.0 / float(rate) if rate else 1 / 30


def _upright(img: np.ndarray, rotation: int) -> np.ndarray:
    # rotation is the clockwise turn needed for display; np.rot90 turns counter-clockwise.
    if rotation == 0:
        return img
    return np.ascontiguousarray(np.rot90(img, k=-(rotation // 90)))


def _display_rotation(frame) -> int:
    """Clockwise degrees to turn a decoded frame upright, from its display matrix.

    PyAV's frame.rotation is FFmpeg's av_display_rotation_get: the counter-clockwise angle the
    matrix applies, e.g. -90 for a portrait iPhone clip stored landscape.
    """
    try:
        ccw = float(frame.rotation or 0.0)
    except (AttributeError, ValueError):
        return 0
    return int(round(-ccw / 90.0)) % 4 * 90


T = TypeVar("T")
_END = object()


def in_background(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Run a generator in a worker thread, `depth` items ahead of the consumer.

    MediaPipe keeps one core busy; decoding, colour conversion and resizing (which release the
    GIL) then run on the other core instead of in series with inference. Errors are re-raised
    in the consumer; stopping early (break, close) stops and joins the worker.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for x in items:
                if not put((x, None)):
                    break
            put((_END, None))
        except BaseException as e:  # handed to the consumer
            put((_END, e))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    th = threading.Thread(target=work, name="formcheck-decode", daemon=True)
    th.start()
    try:
        while True:
            x, err = q.get()
            if x is _END:
                if err is not None:
                    raise err
                return
            yield x
    finally:
        stop.set()
        th.join()


def frames(path: str, max_side: int | None = None, start_s: float | None = None
           ) -> Iterator[tuple[float, np.ndarray, np.ndarray | None]]:
    """Yield (t_seconds, upright RGB frame, downscaled copy or None) for every decodable frame.

    t starts at 0 and comes from the frame's own presentation timestamp, so variable-frame-rate
    phone clips keep their real timing. A damaged tail ends the stream instead of raising.
    Decoding runs one thread ahead of the caller; the file is opened here, so a bad file
    raises on the first next().

    start_s: begin at the first frame at or after this time (seeks to the keyframe before it);
    t stays measured from the clip's first frame, so the times match a decode from the start.
    """
    return in_background(_decode(path, max_side, start_s))


def _decode(path: str, max_side: int | None, start_s: float | None = None
            ) -> Iterator[tuple[float, np.ndarray, np.ndarray | None]]:
    import cv2
    container = _open(path)
    try:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        clock = Timeline(_nominal_dt(stream))
        sar = stream_sar(stream)
        i = 0
        it = container.decode(stream)
        if start_s:
            first = next(it)
            if first.time is None:
                raise FormcheckError("This clip's frames carry no timestamps, so it cannot be read from the middle.")
            clock(first.time)
            container.seek(int((first.time + start_s) / stream.time_base), stream=stream, backward=True, any_frame=False)
            it = container.decode(stream)
            clock = _Resumed(clock)
        while True:
            try:
                frame = next(it)
            except StopIteration:
                break
            except av.error.FFmpegError:
                if i == 0:
                    raise FormcheckError(f"'{os.path.basename(path)}' could not be decoded: the video data is damaged.") from None
                break  # truncated file: keep what decoded
            t = clock(frame.time)
            if start_s and t < start_s - 1e-6:
                continue
            rot = _display_rotation(frame)
            img = frame.to_ndarray(format="rgb24")
            dw = display_width(img.shape[1], sar)
            if dw != img.shape[1]:  # non-square pixels: stretch to the picture players show
                img = cv2.resize(img, (dw, img.shape[0]), interpolation=cv2.INTER_LINEAR if dw > img.shape[1] else cv2.INTER_AREA)
            img = _upright(img, rot)
            small = None
            if max_side:
                h, w = img.shape[:2]
                s = max_side / max(h, w)
                if s < 1.0:
                    small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
                else:
                    small = img
            i += 1
            yield t, img, small
    finally:
        container.close()


class _Resumed:
    """A Timeline for a decode that seeks into the middle: clip times measured from the
    clip's first frame (a break before the seek point is not seen; extract_pose only joins the
    two halves when their times agree)."""

    def __init__(self, clock: Timeline):
        self.t0, self.last = clock.last_raw, -1.0

    def __call__(self, raw: float) -> float:
        t = max(raw - self.t0, self.last + 1e-3)
        self.last = t
        return t


def probe(path: str) -> VideoInfo:
    """Read the header and scan packet timestamps (no decoding) for frame count and timing.
    Packets an edit list discards are not counted: they are never shown."""
    container = _open(path)
    try:
        stream = video_stream(container)
        index = stream.index
        codec = stream.codec_context.name
        try:
            first = next(container.decode(stream))
            rotation = _display_rotation(first)
            sar = stream_sar(stream)
            w, h = display_width(first.width, sar), first.height
        except (StopIteration, av.error.FFmpegError):
            raise FormcheckError(f"'{os.path.basename(path)}' could not be decoded: no frame in it is readable video (damaged, or not a video file).") from None
    finally:
        container.close()
    container = _open(path)  # a fresh pass: seeking back to 0 fails on a stream that starts before 0
    try:
        stream = container.streams.video[[s.index for s in container.streams.video].index(index)]
        # Packets come in decode order; a decoder shows them in presentation order, reordering only
        # within a few frames (B-frames). Emulate that with a small reorder buffer, not a global
        # sort: a file whose times restart (two clips joined) must show its jump back here as in decode.
        tb = float(stream.time_base)
        raw, heap, untimed = [], [], 0
        try:
            for packet in container.demux(stream):
                if packet.size > 0 and not packet.is_discard:
                    if packet.pts is None:
                        untimed += 1
                        continue
                    heapq.heappush(heap, packet.pts)
                    if len(heap) > REORDER_DEPTH:
                        raw.append(heapq.heappop(heap) * tb)
        except av.error.FFmpegError:
            pass  # truncated: count what is there
        raw = [None] * untimed + raw + [x * tb for x in sorted(heap)]
        clock = Timeline(_nominal_dt(stream))
        ts = np.array([clock(x) for x in raw] or [0.0])
        n = max(len(ts), 1)
        dt = np.diff(ts)
        fps = float(1.0 / np.median(dt)) if len(dt) else float(stream.average_rate or 30.0)
        duration = float(ts[-1] - ts[0] + (np.median(dt) if len(dt) else 0.0))
        vfr = bool(len(dt) > 5 and np.std(dt) / max(np.mean(dt), 1e-9) > 0.1)
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(path=os.path.abspath(path), width=w, height=h, fps=round(fps, 3), frames=n,
                         duration_s=round(duration, 3), rotation=rotation, codec=codec, vfr=vfr,
                         sar=str(sar) if sar and sar != 1 else "1", gaps=clock.gaps,
                         stream=index, streams=len(container.streams.video))
    finally:
        container.close()


class H264Writer:
    """H.264 mp4 (yuv420p, faststart) that browsers and st.video play."""

    def __init__(self, path: str, width: int, height: int, fps: float, crf: int = 23):
        self.path = path
        self.w, self.h = width - width % 2, height - height % 2  # yuv420p needs even sizes
        self.rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
        self.container = av.open(path, mode="w", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream("libx264", rate=self.rate)
        self.stream.width, self.stream.height = self.w, self.h
        self.stream.pix_fmt = "yuv420p"
        # superfast: 1080p export 48 vs 40 fps for veryfast (measured on dl_yfgd_01), files ~1.4x
        # larger at the same crf; the wait is what the user feels.
        self.stream.options = {"crf": str(crf), "preset": "superfast"}
        self.last_pts = -1
        # OpenCV's RGB->I420 is the same BT.601 video-range conversion swscale does by default,
        # at ~1 ms instead of ~13 ms for a 1080p frame (measured): the export's biggest cost after
        # x264. The synthetic-clip environment (.venv-render) has no OpenCV: PyAV converts there.
        try:
            import cv2
            self._cv2 = cv2
        except ImportError:
            self._cv2 = None
        # One YUV buffer for the whole clip. A fresh 3 MB one a frame (cvtColor's output plus
        # from_ndarray's copy) fragmented glibc's heap: a 10-minute 1080p export reached 1.8 GB,
        # and 1 in 2 runs of a 34 s clip jumped by 450 MB (measured; flat at ~420 MB with this).
        self._yuv = np.empty((self.h * 3 // 2, self.w), np.uint8) if self._cv2 else None

    def write(self, rgb: np.ndarray, t: float | None = None) -> None:
        rgb = np.ascontiguousarray(rgb[: self.h, : self.w])
        if self._cv2 is not None:
            self._cv2.cvtColor(rgb, self._cv2.COLOR_RGB2YUV_I420, dst=self._yuv)
            # Wrapped, not copied: x264 copies the picture in before encode() returns, so the
            # buffer is free for the next frame (tests/test_video.py checks every frame).
            frame = av.VideoFrame.from_numpy_buffer(self._yuv, format="yuv420p")
        else:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        # Put real timestamps on the output grid so a variable-rate clip keeps its timing.
        pts = self.last_pts + 1 if t is None else max(int(round(t * self.rate)), self.last_pts + 1)
        frame.pts = pts
        self.last_pts = pts
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def recorded_time(path: str):
    """When the clip was filmed, from its metadata (timezone-aware datetime), or None.

    Phones write it as the container's creation_time (UTC; iPhones also
    com.apple.quicktime.creationdate with the local offset). A time before 2000 is an unset
    clock (QuickTime's epoch is 1904), not a recording time."""
    import datetime as dt
    try:
        container = _open(path)
    except FormcheckError:
        return None
    try:
        tags = dict(container.metadata)
        for s in container.streams.video:
            for k, v in s.metadata.items():
                tags.setdefault(k, v)
    finally:
        container.close()
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        v = (tags.get(key) or "").strip()
        if not v:
            continue
        try:
            t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            continue
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        if t.year >= 2000:
            return t
    return None
