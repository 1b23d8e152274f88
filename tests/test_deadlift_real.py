"""End to end on real deadlift clips from ../shared/data/videos/deadlift (see MANIFEST.tsv)."""
import json
import os
import subprocess
import sys

import av
import numpy as np
import pytest

from formcheck import analyze_video
from formcheck.pipeline import analyze_track
from formcheck.types import FormcheckError
from formcheck.video import H264Writer, frames
from tests.conftest import clip
from tests.media import set_mp4_rotation

pytestmark = pytest.mark.slow  # MediaPipe on real or rendered clips, or a browser

DL = "deadlift"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reps_and_codes(a):
    return len(a.reps), [{f.code for f in r.faults} for r in a.reps]


@pytest.mark.parametrize("name,reps", [
    ("dl_formfit_01_good.mp4", 2),
    ("dl_bichraix_01_good.mp4", 2),            # gym phone clip, a second person in the background
    ("dl_bichraix_11_bad_3reps.mp4", 3),       # touch-and-go, small lifter far away
    ("dl_bichraix_10_bad_home.mp4", 2),        # handheld pan, long pauses
    ("other_kbdl_tby_01_correct.mp4", 10),
])
def test_rep_counts_match_manifest(track_of, name, reps):
    a = analyze_track(track_of(DL, name), "deadlift")
    assert len(a.reps) == reps


def test_rounded_back_clips_flag_rounding_more_than_good_ones(track_of):
    def rate(names):
        flagged = total = 0
        for n in names:
            a = analyze_track(track_of(DL, n), "deadlift")
            total += len(a.reps)
            flagged += sum(any(f.code == "lumbar_rounding" for f in r.faults) for r in a.reps)
        return flagged / max(total, 1)
    good = rate(["dl_formfit_01_good.mp4", "dl_bichraix_01_good.mp4", "dl_bichraix_03_good.mp4",
                 "dl_posereader_01_good.mp4", "other_kbdl_tby_01_correct.mp4"])
    rounded = rate(["dl_bichraix_05_bad_roundback.mp4", "dl_bichraix_09_bad_gym.mp4",
                    "other_kbdl_tby_04_roundedback.mp4"])
    assert good == 0.0
    assert rounded > good


def test_labelled_faults_fire(track_of):
    squat = analyze_track(track_of(DL, "other_kbdl_tby_03_kneedominant.mp4"), "deadlift")
    assert sum("squatting_deadlift" in c for c in reps_and_codes(squat)[1]) >= 8
    correct = analyze_track(track_of(DL, "other_kbdl_tby_01_correct.mp4"), "deadlift")
    assert all(not c for c in reps_and_codes(correct)[1])
    # The labelled lean-back: the near plate covers the hips at lockout, so the lean is not
    # measured and the rep says why, instead of an angle read from MediaPipe's guess of a hidden
    # hip (on the gym renders those guesses are 15-60 deg off; README). The kettlebell lifter's
    # hips are in view at the top and are still measured.
    lean = analyze_track(track_of(DL, "dl_bichraix_06_bad_hyperext.mp4"), "deadlift")
    assert lean.reps[0].metrics["lockout_hyperext_deg"] is None
    assert "behind the plate at lockout" in lean.reps[0].not_measured["lockout_hyperext_deg"]
    assert all(r.metrics["lockout_hyperext_deg"] is not None for r in correct.reps)


def test_oblique_view_withholds_and_says_why(track_of):
    a = analyze_track(track_of(DL, "dl_bichraix_04_good_oblique.mp4"), "deadlift")
    assert "back_rounding_deg" in a.withheld
    assert "side-on" in a.withheld["back_rounding_deg"]
    assert all(r.metrics["back_rounding_deg"] is None for r in a.reps)


def test_cli_writes_report_csv_and_playable_video(tmp_path):
    src = clip(DL, "dl_posereader_01_good.mp4")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "formcheck", "analyze", src, "--exercise", "deadlift", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    rep = json.loads((out / "report.json").read_text())
    for k in ("exercise", "video", "view", "reps", "faults", "warnings"):
        assert k in rep
    assert set(rep["video"]) >= {"fps", "frames", "duration_s", "width", "height", "rotation"}
    assert set(rep["view"]) >= {"side", "facing", "ok", "reason"}
    assert len(rep["reps"]) == 1
    r0 = rep["reps"][0]
    assert {"index", "start_s", "end_s", "metrics", "faults"} <= set(r0)
    assert 20 < r0["metrics"]["liftoff_trunk_deg"] < 80
    assert (out / "frames.csv").read_text().count("\n") == rep["video"]["frames"] + 1
    with av.open(str(out / "annotated.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in c.decode(s)) == rep["video"]["frames"]


def test_portrait_phone_clip_with_rotation_metadata(tmp_path, track_of):
    """Store the frames sideways as a phone sensor does, tag them 90 deg: same reps as upright."""
    src = clip(DL, "dl_formfit_01_good.mp4")
    p = str(tmp_path / "portrait.mp4")
    first = None
    with av.open(src) as c:
        fps = float(c.streams.video[0].average_rate)
    sideways = None
    for t, img, _ in frames(src):
        s = np.ascontiguousarray(np.rot90(img, k=1))  # stored turned a quarter counter-clockwise
        if sideways is None:
            sideways = H264Writer(p, s.shape[1], s.shape[0], fps)
            first = img.shape
        sideways.write(s, t)
    sideways.close()
    set_mp4_rotation(p, 90)
    res = analyze_video(p, "deadlift")
    assert res.report["video"]["rotation"] == 90
    assert (res.report["video"]["height"], res.report["video"]["width"]) == (first[0], first[1])
    assert len(res.analysis.reps) == len(analyze_track(track_of(DL, "dl_formfit_01_good.mp4"), "deadlift").reps) == 2


def test_non_video_and_no_person_and_too_short(tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4000))
    r = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(bad), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "could not be opened" in r.stderr or "could not be decoded" in r.stderr
    assert not (tmp_path / "o").exists()

    from tests.media import make_clip
    empty_scene = str(tmp_path / "wall.mp4")
    make_clip(empty_scene, n=40, w=320, h=240)
    with pytest.raises(FormcheckError, match="No person"):
        analyze_video(empty_scene, "deadlift")

    src = clip(DL, "dl_formfit_01_good.mp4")
    short = str(tmp_path / "short.mp4")
    with H264Writer(short, 492, 720, 24) as w:
        for i, (t, img, _) in enumerate(frames(src)):
            if i == 6:
                break
            w.write(img, t)
    with pytest.raises(FormcheckError, match="too short"):
        analyze_video(short, "deadlift")
