"""Odd files that phones and editors make, derived from a real clip with PyAV (nothing binary
committed): the real track is read, pictures are shown at their displayed shape, and the
timeline stays sane. Video-level only (no MediaPipe)."""

import numpy as np
import pytest

from formcheck.pipeline import capture_notes
from formcheck.video import frames, probe
from tests.conftest import clip
from tests.media import write_odd

N = 60


@pytest.fixture(scope="module")
def pictures():
    src = clip("deadlift", "dl_formfit_01_good.mp4")
    out = []
    for i, (_, img, small) in enumerate(frames(src, max_side=360)):
        if i >= N:
            break
        out.append(small)
    return out


def times(path):
    return np.array([t for t, _, _ in frames(path)])


def test_non_square_pixels_are_shown_at_their_displayed_width(tmp_path, pictures):
    """SAR 2:1: stored half as wide; ignoring it squeezed the lifter (a false 25 deg lean-back)."""
    p = str(tmp_path / "sar.mp4")
    write_odd(p, pictures, sar=2)
    h, w = pictures[0].shape[:2]
    info = probe(p)
    stored = int(w / 2) // 2 * 2
    assert (info.width, info.height) == (2 * stored, h // 2 * 2) and info.sar == "2"
    img = next(iter(frames(p)))[1]
    assert img.shape[:2] == (info.height, info.width)
    assert any("not square" in n for n in capture_notes(info))


@pytest.mark.parametrize("first", ["cover", "thumb"])
def test_the_real_video_track_is_read_not_a_cover_or_thumbnail(tmp_path, pictures, first):
    p = str(tmp_path / f"{first}.mp4")
    write_odd(p, pictures, first_track=first)
    info = probe(p)
    h, w = pictures[0].shape[:2]
    assert (info.width, info.height, info.frames, info.streams) == (w // 2 * 2, h // 2 * 2, N, 2)
    assert len(times(p)) == N
    assert any("video tracks" in n for n in capture_notes(info))


def test_negative_timestamps_in_matroska_keep_the_timeline(tmp_path, pictures):
    """Matroska stores times before 0 as none; they used to collapse the first 0.5 s into 1 ms steps."""
    p = str(tmp_path / "neg.mkv")
    write_odd(p, pictures, fmt="matroska", shift_s=0.5)
    t = times(p)
    assert len(t) == N
    assert np.min(np.diff(t)) > 0.02 and t[-1] == pytest.approx((N - 1) / 30, abs=0.05)
    assert probe(p).frames == N


def test_an_edit_list_counts_only_the_frames_shown(tmp_path, pictures):
    p = str(tmp_path / "edit.mp4")
    write_odd(p, pictures, shift_s=0.5)  # the mp4 muxer hides the first 0.5 s with an edit list
    t = times(p)
    info = probe(p)
    assert info.frames == len(t) < N
    assert info.duration_s == pytest.approx(t[-1] + 1 / 30, abs=0.02)


def test_a_break_in_the_timestamps_is_closed_and_reported(tmp_path, pictures):
    p = str(tmp_path / "gap.mp4")
    write_odd(p, pictures, times=lambda i: i / 30 + (3600.0 if i >= 30 else 0.0))
    t = times(p)
    assert t[-1] == pytest.approx((N - 1) / 30, abs=0.01) and np.min(np.diff(t)) > 0.02
    info = probe(p)
    assert len(info.gaps) == 1 and info.gaps[0][1] == pytest.approx(3600.0, abs=0.1)
    assert info.duration_s < 3
    assert any("jump by +3600.0 s at 1.0 s" in n for n in capture_notes(info))


def test_decoding_from_the_middle_of_a_mkv_matches(tmp_path, pictures):
    p = str(tmp_path / "plain.mkv")
    write_odd(p, pictures, fmt="matroska")
    whole = times(p)
    part = np.array([t for t, _, _ in frames(p, start_s=1.0)])
    assert np.allclose(part, whole[len(whole) - len(part):], atol=1e-6)
