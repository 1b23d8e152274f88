"""Running analysis (work in progress) on real clips: plausibility, view handling."""
from formcheck.pipeline import analyze_track, choose_exercise


def test_treadmill_side_view_gives_running_cadence(track_of):
    tr = track_of("running", "run_zzzhushi_treadmill_side_1.mp4")
    assert choose_exercise(tr)[0] == "running"
    a = analyze_track(tr, "running")
    assert a.view.ok
    assert 150 <= a.summary["cadence_spm"] <= 185  # ~17 strides in 12 s (manifest) = ~170 steps/min
    assert len(a.reps) >= 25
    assert all(r.metrics["shank_at_contact_deg"] is not None for r in a.reps[:5])


def test_front_view_withholds_sagittal_metrics(track_of):
    a = analyze_track(track_of("running", "run_sreevijnya_promenade_front_1.mp4"), "running")
    assert not a.view.ok and a.view.facing == "toward"
    assert "trunk_lean_deg" in a.withheld and "side-on" in a.withheld["trunk_lean_deg"]
    assert "pelvic_drop_deg" in a.withheld  # needs a rear view


def test_deadlift_is_not_mistaken_for_a_run(track_of):
    assert choose_exercise(track_of("deadlift", "dl_formfit_01_good.mp4"))[0] == "deadlift"
