"""Interrupted, mixed and repeated runs through the real CLI on real clips (MediaPipe): nothing
is left behind, nothing is shared, one line is printed."""
import os
import signal
import subprocess
import sys
import threading
import time

import av
import pytest

from formcheck import analyze_video
from formcheck.results import load
from tests.conftest import clip

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _start(args, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    p = subprocess.Popen([sys.executable, "-m", "formcheck", "analyze", *args], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    buf = []
    threading.Thread(target=lambda: buf.extend(iter(lambda: p.stderr.read(64).decode(errors="replace"), "")), daemon=True).start()
    return p, buf


def _wait_for(p, buf, word, timeout=240):
    t0 = time.time()
    while word not in "".join(buf):
        assert p.poll() is None, "".join(buf)
        assert time.time() - t0 < timeout, f"never saw {word!r}"
        time.sleep(0.2)


@pytest.mark.parametrize("sig,stage", [(signal.SIGTERM, "pose"), (signal.SIGINT, "render")])
def test_an_interrupted_run_leaves_nothing_and_prints_one_line(tmp_path, sig, stage):
    """15 s clip: two pose processes (the helper's temporary track file), then the export."""
    out = tmp_path / "out"
    p, buf = _start([clip("deadlift", "dl_bichraix_09_bad_gym.mp4"), "--exercise", "deadlift", "--out", str(out)], tmp_path)
    _wait_for(p, buf, f"{stage} ")
    if stage == "pose":
        time.sleep(1.0)  # both pose processes running (the export takes ~3 s here: signal at once)
    os.killpg(p.pid, sig)  # what a terminal's Ctrl-C does: the whole process group
    assert p.wait(timeout=60) == 130
    time.sleep(0.5)
    err = "".join(buf)
    lines = [ln for ln in err.replace("\r", "\n").splitlines()
             if ln.strip() and "frames/s" not in ln and not ln.startswith("INFO: Created TensorFlow")]  # MediaPipe's own
    assert lines == ["formcheck: interrupted; results not finished were not written."], err
    assert not out.exists()
    assert os.listdir(tmp_path / "tmp") == []


def test_batch_with_one_name_in_two_folders_keeps_both(tmp_path):
    """a/set.mp4 and b/set.mp4 into one --out: two folders, both named in the summary."""
    for d, name in (("a", "dl_posereader_01_good.mp4"), ("b", "dl_posereader_03_heellift.mp4")):
        os.makedirs(tmp_path / d)
        os.symlink(clip("deadlift", name), tmp_path / d / "set.mp4")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(tmp_path / "a" / "set.mp4"),
                        str(tmp_path / "b" / "set.mp4"), "--exercise", "deadlift", "--out", str(out), "--no-video",
                        "--jobs", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, FORMCHECK_DATA=str(tmp_path / "data")))  # a history of its own
    assert r.returncode == 0, r.stderr
    assert f"-> {out / 'a_set'}" in r.stdout and f"-> {out / 'b_set'}" in r.stdout and "2 of 2 clips analysed" in r.stdout
    assert load(str(out / "a_set"))["source"] == load(str(out / "b_set"))["source"] == "set.mp4"
    assert open(out / "a_set" / "report.json").read() != open(out / "b_set" / "report.json").read()
    assert (out / "a_set" / "report.pdf").read_bytes()[:5] == b"%PDF-"  # the shareable report, in the result
    # both workers saved their session to one history database (opened once before they start)
    assert r.stdout.count("saved to the history as session #") == 2, r.stdout
    # and the history lists exactly those two
    r2 = subprocess.run([sys.executable, "-m", "formcheck", "history"], cwd=ROOT, capture_output=True, text=True,
                        timeout=120, env=dict(os.environ, FORMCHECK_DATA=str(tmp_path / "data")))
    assert "2 session(s)" in r2.stdout, r2.stdout


def test_the_same_frames_in_another_container_give_the_same_verdict(tmp_path):
    """Pixel-identical frames re-muxed into Matroska (millisecond timestamps): the hips measure read
    0.93 against 1.72 as a ratio; now it agrees within its noise, and the faults are the same."""
    src = clip("deadlift", "dl_yfgd_03_bad_hipsup.mp4")
    mkv = str(tmp_path / "same.mkv")
    with av.open(src) as i, av.open(mkv, "w", format="matroska") as o:
        s_in = i.streams.video[0]
        s_out = o.add_stream_from_template(s_in)
        for pkt in i.demux(s_in):
            if pkt.dts is None:
                continue
            pkt.stream = s_out
            o.mux(pkt)
    a, b = (analyze_video(p, "deadlift").analysis for p in (src, mkv))
    assert len(a.reps) == len(b.reps)
    for ra, rb in zip(a.reps, b.reps):
        assert [f.code for f in ra.faults] == [f.code for f in rb.faults]
        assert abs(ra.metrics["hip_lead_tl"] - rb.metrics["hip_lead_tl"]) < 0.05


def test_the_pose_helper_stopped_during_start_up_leaves_no_temporary_file(tmp_path):
    """The helper is stopped with SIGTERM (by its parent, or with the parent's process group).
    MediaPipe's import makes a temporary file (ctypes' find_library, via sounddevice); a process
    that dies at once on SIGTERM left it in TMPDIR. Signalled at several moments of its start-up,
    it must unwind (exit 143) and leave TMPDIR empty."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    codes = []
    for delay in (0.5, 1.2, 2.5):
        p = subprocess.Popen([sys.executable, "-m", "formcheck.extract", clip("deadlift", "dl_posereader_01_good.mp4"),
                              "0", "0", str(tmp_path / "rows.npz")], cwd=ROOT, env=dict(os.environ, TMPDIR=str(tmp)),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.terminate()
        codes.append(p.wait(timeout=30))
        assert os.listdir(tmp) == [], (delay, os.listdir(tmp))
    assert 143 in codes, codes
