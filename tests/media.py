"""Making test videos with PyAV (nothing binary is committed)."""
from __future__ import annotations

import struct

import av
import numpy as np

from formcheck.video import H264Writer


def pattern(i: int, w: int = 160, h: int = 96) -> np.ndarray:
    """A frame with a red block in the top-left corner and a moving green bar."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 4, : w // 4] = (255, 0, 0)
    x = (i * 4) % w
    img[:, x: x + 4] = (0, 255, 0)
    return img


def make_clip(path: str, n: int = 30, fps: float = 30.0, w: int = 160, h: int = 96, times=None) -> None:
    with H264Writer(path, w, h, fps) as wr:
        for i in range(n):
            wr.write(pattern(i, w, h), None if times is None else times[i])


def write_hevc_mov(path: str, pictures, rate: int) -> int:
    """An iPhone-style HEVC .mov from (pts in 1/rate units, RGB) pairs; returns frames written."""
    n = 0
    with av.open(path, "w", format="mov") as c:
        s = None
        for pts, rgb in pictures:
            if s is None:
                s = c.add_stream("libx265", rate=rate)
                s.width, s.height, s.pix_fmt = rgb.shape[1] // 2 * 2, rgb.shape[0] // 2 * 2, "yuv420p"
                s.options = {"x265-params": "log-level=none", "preset": "ultrafast"}
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: s.height, : s.width]), format="rgb24")
            fr.pts = pts
            for pkt in s.encode(fr):
                c.mux(pkt)
            n += 1
        for pkt in s.encode():
            c.mux(pkt)
    return n


# Display matrices as phones write them (16.16 fixed point, w in 2.30), keyed by the clockwise
# turn a player applies: 90 = portrait iPhone clip stored landscape.
_MATRIX = {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}


def set_mp4_rotation(path: str, clockwise: int) -> None:
    """Rewrite the video track header's matrix in place (what a phone records for portrait)."""
    data = bytearray(open(path, "rb").read())
    i = data.find(b"tkhd")
    assert i > 0, "no tkhd box"
    version = data[i + 4]
    off = i + 4 + 4 + (20 if version == 0 else 32) + 16
    a, b, c, d = _MATRIX[clockwise % 360]
    fx = lambda v: v * 0x10000 & 0xFFFFFFFF  # noqa: E731
    data[off: off + 36] = struct.pack(">9I", fx(a), fx(b), 0, fx(c), fx(d), 0, 0, 0, 0x40000000)
    open(path, "wb").write(bytes(data))


def first_frame_rotation(path: str) -> float:
    with av.open(path) as c:
        return next(c.decode(video=0)).rotation


def write_odd(path: str, pictures, fmt: str | None = None, shift_s: float = 0.0, sar=None,
              first_track: str | None = None, times=None) -> None:
    """An odd phone/editor file from RGB pictures at 30 fps, as PyAV muxes it:
    shift_s: every timestamp moved earlier (mp4: an edit list that hides the first shift_s;
    Matroska: negative timestamps, which it stores as none); sar: non-square pixels (the
    pictures are stored that many times narrower); first_track: "cover" (a 1-frame picture) or
    "thumb" (a 160x90 copy) muxed as the first video track; times(i) -> seconds: own timestamps."""
    opts = {"avoid_negative_ts": "disabled"} if shift_s else {}
    with av.open(path, "w", format=fmt, container_options=opts) as c:
        extra = None
        if first_track:
            extra = c.add_stream("libx264", rate=30)
            extra.width, extra.height, extra.pix_fmt = (320, 240, "yuv420p") if first_track == "cover" else (160, 90, "yuv420p")
        s = None
        for i, rgb in enumerate(pictures):
            if s is None:
                s = c.add_stream("libx264", rate=30)
                w = rgb.shape[1] if not sar else int(rgb.shape[1] / sar)
                s.width, s.height, s.pix_fmt = w // 2 * 2, rgb.shape[0] // 2 * 2, "yuv420p"
                s.options = {"preset": "ultrafast"}
                if sar:
                    s.codec_context.sample_aspect_ratio = sar
            if sar:
                import cv2
                rgb = cv2.resize(rgb, (s.width, s.height), interpolation=cv2.INTER_AREA)
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: s.height, : s.width]), format="rgb24")
            fr.pts = int(round((times(i) if times else i / 30) * 30))
            for p in s.encode(fr):
                _mux(c, p, shift_s)
            if extra is not None and (first_track == "thumb" or i == 0):
                import cv2
                small = cv2.resize(rgb, (extra.width, extra.height))
                ef = av.VideoFrame.from_ndarray(np.ascontiguousarray(small), format="rgb24")
                ef.pts = fr.pts
                for p in extra.encode(ef):
                    c.mux(p)
        for p in s.encode():
            _mux(c, p, shift_s)
        if extra is not None:
            for p in extra.encode():
                c.mux(p)


def _mux(c, p, shift_s: float) -> None:
    if shift_s:
        d = int(round(shift_s / p.time_base))
        p.pts -= d
        p.dts -= d
    c.mux(p)


def fake_pose(process):
    """A PoseBackend factory whose process(rgb_small, full_size) is the given function: the pose
    pass runs on it in this process, and no MediaPipe runs."""
    class Fake:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def process(self, rgb_small, full_size):
            return process(rgb_small, full_size)
    return Fake
