import av
import numpy as np
import pytest

from formcheck.types import FormcheckError
from formcheck.video import frames, probe
from tests.media import make_clip, pattern, set_mp4_rotation, write_hevc_mov


def test_h264_export_plays_in_browsers(tmp_path):
    p = str(tmp_path / "out.mp4")
    make_clip(p, n=45, fps=30, w=161, h=97)  # odd sizes must be made even for yuv420p
    with av.open(p) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264"
        assert s.codec_context.pix_fmt == "yuv420p"
        assert (s.codec_context.width, s.codec_context.height) == (160, 96)
        n = sum(1 for _ in c.decode(s))
    assert n == 45
    head = open(p, "rb").read(4096)
    assert head.find(b"moov") != -1, "faststart: the moov atom must come before the media data"


def test_export_keeps_each_frame_its_own_picture(tmp_path):
    """The writer reuses one YUV buffer; every decoded frame must still show its own input
    (the green bar moves 4 px a frame), not a later one written over it."""
    p = str(tmp_path / "bars.mp4")
    make_clip(p, n=40, fps=30, w=320, h=96)
    with av.open(p) as c:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(got) == 40
    for i, img in enumerate(got):
        green = img[48, :, 1].astype(int) - img[48, :, 0]
        assert abs(int(np.argmax(green)) - ((i * 4) % 320 + 1.5)) <= 2.5, f"frame {i}"
        if i * 4 >= 80:  # the bar has left the red block: the colour planes are in place
            assert np.abs(img[4:20, 4:76].mean(axis=(0, 1)) - (255, 0, 0)).max() < 6, f"frame {i}"


def test_real_timestamps_survive_variable_frame_rate(tmp_path):
    p = str(tmp_path / "vfr.mp4")
    times = np.cumsum([0] + [1 / 30] * 10 + [1 / 15] * 10 + [1 / 60] * 9)
    make_clip(p, n=30, fps=60, times=times)
    ts = np.array([t for t, _, _ in frames(p)])
    assert len(ts) == 30
    assert np.allclose(ts, times - times[0], atol=1 / 60 + 1e-3)
    info = probe(p)
    assert info.vfr and info.frames == 30


@pytest.mark.parametrize("rot,corner", [(0, (0, 0)), (90, (0, 1)), (180, (1, 1)), (270, (1, 0))])
def test_rotation_metadata_is_applied(tmp_path, rot, corner):
    p = str(tmp_path / f"rot{rot}.mp4")
    make_clip(p, n=5)
    set_mp4_rotation(p, rot)
    _, img, small = next(frames(p, max_side=64))
    h, w = img.shape[:2]
    assert (w, h) == ((96, 160) if rot in (90, 270) else (160, 96))
    assert small.shape[0] == 64 or small.shape[1] == 64
    ys, xs = np.nonzero((img[..., 0] > 200) & (img[..., 1] < 100))
    # the red block (top-left in the stored picture) ends up where a phone would show it
    assert (int(ys.mean() > h / 2), int(xs.mean() > w / 2)) == corner
    assert probe(p).rotation == rot


def test_bad_files_raise_clear_errors(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    for p, words in ((empty, "empty"), (text, "could not be opened"), (tmp_path / "missing.mp4", "not found")):
        with pytest.raises(FormcheckError, match=words):
            probe(str(p))


def test_truncated_file_keeps_what_decodes(tmp_path):
    p = str(tmp_path / "full.mp4")
    make_clip(p, n=60)
    cut = tmp_path / "cut.mp4"
    data = open(p, "rb").read()
    cut.write_bytes(data[: len(data) * 2 // 3])
    try:
        n = sum(1 for _ in frames(str(cut)))
    except FormcheckError as e:  # acceptable: a clear message
        assert "damaged" in str(e) or "could not" in str(e)
    else:
        assert 0 < n <= 60


def test_audio_only_file_is_refused(tmp_path):
    p = str(tmp_path / "voice.mp4")
    with av.open(p, "w") as c:
        s = c.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for _ in range(10):
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    with pytest.raises(FormcheckError, match="no video track"):
        probe(p)


def test_hevc_mov_with_rotation_decodes_upright(tmp_path):
    """An iPhone-style clip: HEVC in a .mov container, stored landscape, tagged to show portrait."""
    p = str(tmp_path / "IMG_0001.mov")
    write_hevc_mov(p, ((i, pattern(i)) for i in range(20)), 30)
    set_mp4_rotation(p, 90)
    info = probe(p)
    assert info.codec == "hevc" and info.rotation == 90 and (info.width, info.height) == (96, 160)
    imgs = [img for _, img, _ in frames(p)]
    assert len(imgs) == 20 and imgs[0].shape[:2] == (160, 96)


def test_background_decode_passes_errors_and_stops_early(tmp_path):
    import threading
    from formcheck.video import in_background

    def boom():
        yield 1
        raise FormcheckError("damaged at frame 2")
    it = in_background(boom())
    assert next(it) == 1
    with pytest.raises(FormcheckError, match="frame 2"):
        next(it)

    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)
    it = in_background(endless(), depth=2)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()  # the consumer stops: the worker must stop and close the source
    assert closed == [True]
    assert not any(t.name == "formcheck-decode" for t in threading.enumerate())


def test_decoding_from_the_middle_matches_decoding_from_the_start(tmp_path):
    p = str(tmp_path / "gop.mp4")
    make_clip(p, n=120)
    whole = [(t, img) for t, img, _ in frames(p)]
    part = [(t, img) for t, img, _ in frames(p, start_s=2.0)]
    k = next(i for i, (t, _) in enumerate(whole) if t >= 2.0 - 1e-6)
    assert len(part) == len(whole) - k
    assert all(abs(a[0] - b[0]) < 1e-9 and np.array_equal(a[1], b[1]) for a, b in zip(whole[k:], part))


def test_pose_backend_is_passed_in_not_patched(tmp_path):
    """The pose pass takes any PoseBackend: a fake one here, so no MediaPipe runs."""
    from formcheck.extract import extract_pose
    from formcheck.types import N_LANDMARKS, PROFILE_T
    from tests.media import fake_pose, make_clip
    p = str(tmp_path / "c.mp4")
    make_clip(p, n=20, w=160, h=120)
    seen = []

    def process(rgb_small, full_size):
        seen.append(full_size)
        xy = np.full((N_LANDMARKS, 2), float(len(seen)))
        return xy, np.ones(N_LANDMARKS), np.zeros((2, len(PROFILE_T)))
    tr = extract_pose(p, backend=fake_pose(process), workers=2)
    assert len(tr) == 20 and seen[0] == (160, 120)
    assert tr.xy[:, 0, 0].tolist() == [float(i + 1) for i in range(20)]  # one process, every frame in order
