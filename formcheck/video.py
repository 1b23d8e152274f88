"""Video in and out with PyAV: real timestamps, rotation metadata, H.264 mp4 export.

Frames are streamed one at a time; nothing here holds a whole clip in memory.
"""
from __future__ import annotations

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
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        t0 = None
        last_t = -1.0
        rate = float(stream.average_rate or stream.guessed_rate or 30.0)
        i = 0
        it = container.decode(stream)
        if start_s:
            first = next(it)
            if first.time is None:
                raise FormcheckError("This clip's frames carry no timestamps, so it cannot be read from the middle.")
            t0 = first.time
            container.seek(int((t0 + start_s) / stream.time_base), stream=stream, backward=True, any_frame=False)
            it = container.decode(stream)
        while True:
            try:
                frame = next(it)
            except StopIteration:
                break
            except av.error.FFmpegError:
                if i == 0:
                    raise FormcheckError(f"'{os.path.basename(path)}' could not be decoded: the video data is damaged.") from None
                break  # truncated file: keep what decoded
            t = frame.time if frame.time is not None else i / rate
            if t0 is None:
                t0 = t
            t = t - t0
            if start_s and t < start_s - 1e-6:
                continue
            if t <= last_t:  # duplicate/out-of-order timestamps: keep time strictly increasing
                t = last_t + 1e-3
            last_t = t
            rot = _display_rotation(frame)
            img = _upright(frame.to_ndarray(format="rgb24"), rot)
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


def probe(path: str) -> VideoInfo:
    """Read the header and scan packet timestamps (no decoding) for frame count and timing."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        w, h = stream.codec_context.width, stream.codec_context.height
        rotation = 0
        try:
            first = next(container.decode(stream))
            rotation = _display_rotation(first)
            w, h = first.width, first.height
        except (StopIteration, av.error.FFmpegError):
            raise FormcheckError(f"'{os.path.basename(path)}' could not be decoded: no frame in it is readable video (damaged, or not a video file).") from None
        container.seek(0)
        pts = []
        try:
            for packet in container.demux(stream):
                if packet.pts is not None and packet.size > 0:
                    pts.append(packet.pts)
        except av.error.FFmpegError:
            pass  # truncated: count what is there
        tb = float(stream.time_base)
        ts = np.unique(np.asarray(pts, dtype=np.int64)) * tb if pts else np.zeros(1)
        n = max(len(ts), 1)
        dt = np.diff(ts)
        fps = float(1.0 / np.median(dt)) if len(dt) else float(stream.average_rate or 30.0)
        duration = float(ts[-1] - ts[0] + (np.median(dt) if len(dt) else 0.0))
        vfr = bool(len(dt) > 5 and np.std(dt) / max(np.mean(dt), 1e-9) > 0.1)
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(path=os.path.abspath(path), width=w, height=h, fps=round(fps, 3), frames=n,
                         duration_s=round(duration, 3), rotation=rotation, codec=codec, vfr=vfr)
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
