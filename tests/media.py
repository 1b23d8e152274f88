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
