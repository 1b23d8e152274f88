"""Running analysis on real clips from ../shared/data/videos/running (see MANIFEST.tsv)."""
import pytest

from formcheck.pipeline import analyze_track, choose_exercise

pytestmark = pytest.mark.slow  # MediaPipe on real or rendered clips, or a browser

RUN = "running"

# Hand counts, made by stepping through frames (contact sheets of every frame / every 2nd frame,
# cropped around the runner) and marking the frame where the leading foot lands:
# - run_zzzhushi_treadmill_side_1 (30 fps): landings at frames 3, 14, 24, 35, 45, 55, 66, 77, 87, 98
#   -> 9 steps in 95 frames = 170.5 steps/min.
# - run_mhuang_treadmill_side_1 (60 fps): landings at frames 11, 31, 51, 72, 93, 114, 134, 155
#   -> 7 steps in 144 frames = 175.0 steps/min.
HAND_CADENCE = {"run_zzzhushi_treadmill_side_1.mp4": 170.5, "run_mhuang_treadmill_side_1.mp4": 175.0}


@pytest.mark.parametrize("name", sorted(HAND_CADENCE))
def test_cadence_within_5_percent_of_hand_count(track_of, name):
    tr = track_of(RUN, name)
    assert choose_exercise(tr)[0] == "running"
    a = analyze_track(tr, "running")
    assert a.view.ok
    cad = a.summary["cadence_spm"]
    assert abs(cad - HAND_CADENCE[name]) / HAND_CADENCE[name] < 0.05, cad


def test_overstride_flagged_on_the_overstride_candidate(track_of):
    a = analyze_track(track_of(RUN, "run_zzzhushi_treadmill_side_1.mp4"), "running")
    over = [r for r in a.reps if any(f.code == "overstride" for f in r.faults)]
    assert len(over) >= len(a.reps) // 2
    f = next(f for r in over for f in r.faults if f.code == "overstride")
    assert f.value > f.threshold and f.evidence in "SRCP" and f.cue


def test_lean_demo_is_flagged_where_the_runner_leans(track_of):
    a = analyze_track(track_of(RUN, "run_movup_treadmill_oblique_leandemo_1.mp4"), "running")
    lean = [f for f in a.faults if f.code == "excessive_lean"]
    assert lean, [f.code for f in a.faults]
    # the demo leans between ~6 and ~12 s of the clip
    assert any(f.start_s < 8 and f.end_s > 9 and f.value > 15 for f in lean)


def test_slow_motion_withholds_cadence_and_says_why(track_of):
    a = analyze_track(track_of(RUN, "run_mhuang_labtreadmill_side_slowmo_2.mp4"), "running")
    assert a.summary.get("cadence_spm") is None
    assert "slow-motion" in a.withheld["cadence_spm"]
    assert all(r.metrics["cadence_spm"] is None for r in a.reps)


def test_front_view_withholds_sagittal_metrics(track_of):
    a = analyze_track(track_of(RUN, "run_sreevijnya_promenade_front_1.mp4"), "running")
    assert not a.view.ok and a.view.facing == "toward"
    assert "trunk_lean_deg" in a.withheld and "side-on" in a.withheld["trunk_lean_deg"]
    assert "pelvic_drop_deg" in a.withheld  # needs a rear view


def test_deadlift_is_not_mistaken_for_a_run(track_of):
    assert choose_exercise(track_of("deadlift", "dl_formfit_01_good.mp4"))[0] == "deadlift"


def test_the_sprinter_not_the_coach_standing_in_front():
    """run_cez_treadmill_sprint_side_1: a coach stands still in the right foreground, larger than
    the sprinter on the treadmill behind him; MediaPipe's detector picks the coach. The first 4 s
    (the sprinter gets up to speed and runs in real time) are enough to tell them apart."""
    from formcheck.extract import extract_pose
    from formcheck.types import trunk_ends
    from tests.conftest import clip
    import numpy as np
    tr = extract_pose(clip(RUN, "run_cez_treadmill_sprint_side_1.mp4"), max_frames=120)
    hip, _ = trunk_ends(tr.xy)
    # the coach stands at x ~ 0.75 of the 1280 px frame; the treadmill runs x ~ 0.2-0.6
    assert np.nanmedian(hip[:, 0]) < 0.62 * tr.video.width, np.nanmedian(hip[:, 0])
    assert "bystander" in tr.subject_note
