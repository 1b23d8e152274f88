"""The deadlift analysis on synthetic tracks with known answers (no video, no MediaPipe)."""
import warnings

import numpy as np
import pytest

from formcheck import deadlift
from formcheck.thresholds import BACK_ARC_SD, BACK_SHAPE_SD, DEADLIFT
from tests.synth import deadlift_track

warnings.filterwarnings("ignore", category=RuntimeWarning)


def codes(a):
    return {f.code for r in a.reps for f in r.faults} | {f.code for f in a.faults}


@pytest.mark.parametrize("reps", [1, 3, 5])
def test_rep_count(reps):
    a = deadlift.analyze(deadlift_track(reps=reps))
    assert len(a.reps) == reps
    # reps are in time order and do not overlap
    for r0, r1 in zip(a.reps, a.reps[1:]):
        assert r0.end_s <= r1.start_s + 1e-6


def test_touch_and_go_and_noise():
    a = deadlift.analyze(deadlift_track(reps=4, stand_s=0.3, rep_s=2.0, noise=2.0, seed=3))
    assert len(a.reps) == 4


def test_clean_set_has_no_faults():
    a = deadlift.analyze(deadlift_track(reps=3, noise=1.0))
    assert codes(a) == set()
    assert a.view.ok and a.view.side in ("left", "right") and a.view.facing == "right"


def test_angles_at_liftoff_match_the_figure():
    a = deadlift.analyze(deadlift_track(reps=2))
    m = a.reps[0].metrics
    # the generator's set-up: trunk 60 deg from vertical, thigh 60 deg from vertical (30 below horizontal)
    assert m["liftoff_trunk_deg"] == pytest.approx(60, abs=4)
    assert m["liftoff_thigh_deg"] == pytest.approx(30, abs=4)


@pytest.mark.parametrize("facing", [1.0, -1.0])
def test_rounding_fires_only_when_rounded(facing):
    flat = deadlift.analyze(deadlift_track(rounding=0.0, facing=facing))
    rounded = deadlift.analyze(deadlift_track(rounding=0.1, facing=facing))
    assert "lumbar_rounding" not in codes(flat)
    assert "lumbar_rounding" in codes(rounded)
    f = next(f for r in rounded.reps for f in r.faults if f.code == "lumbar_rounding")
    assert f.value > f.threshold and f.evidence and f.cue and f.start_s < f.end_s
    # the upper-back flag reads the same outline's arc, against its own line, with its own +/-
    assert all(abs(r.metrics["back_arc_deg"]) < DEADLIFT["upper_back_rounding"].threshold for r in flat.reps)
    assert "upper_back_rounding" not in codes(flat) and "upper_back_rounding" in codes(rounded)
    assert all(r.metrics["back_arc_sd_deg"] >= BACK_ARC_SD for r in rounded.reps)


def test_rounding_proxies_are_monotonic_in_bulge():
    reps = [deadlift.analyze(deadlift_track(reps=1, rounding=b)).reps[0] for b in (0.0, 0.03, 0.06, 0.09)]
    for key in ("back_rounding_deg", "back_arc_deg"):  # the outline's bend and its arc
        vals = [r.metrics[key] for r in reps]
        assert all(b > a for a, b in zip(vals, vals[1:])), key


def test_hips_shoot_up():
    assert "hips_shoot_up" not in codes(deadlift.analyze(deadlift_track(hips_up=0.0)))
    assert "hips_shoot_up" in codes(deadlift.analyze(deadlift_track(hips_up=1.0)))


def test_lockout_lean_back(landmarks_are_joint_centres):
    assert "lockout_lean_back" not in codes(deadlift.analyze(deadlift_track(lean_back=3)))
    a = deadlift.analyze(deadlift_track(lean_back=20))
    assert "lockout_lean_back" in codes(a)
    assert a.reps[0].metrics["lockout_hyperext_deg"] == pytest.approx(20, abs=3)


def test_squatting_deadlift():
    assert "squatting_deadlift" in codes(deadlift.analyze(deadlift_track(squat=True)))


def test_set_breakdown_needs_a_real_trend():
    worse = deadlift.analyze(deadlift_track(reps=5, rounding=[0.0, 0.01, 0.05, 0.08, 0.1]))
    steady = deadlift.analyze(deadlift_track(reps=5, rounding=[0.03, 0.02, 0.03, 0.02, 0.03]))
    assert "set_breakdown" in codes(worse)
    assert "set_breakdown" not in codes(steady)


def test_front_view_withholds_sagittal_metrics():
    a = deadlift.analyze(deadlift_track(reps=2, width=160))
    assert not a.view.ok and "side-on" in a.view.reason
    assert "back_rounding_deg" in a.withheld and "liftoff_trunk_deg" in a.withheld
    for r in a.reps:
        assert r.metrics["back_rounding_deg"] is None and r.faults == []


def test_no_movement_no_reps():
    tr = deadlift_track(reps=0, stand_s=3.0)
    a = deadlift.analyze(tr)
    assert a.reps == [] and any("No complete pull" in w for w in a.warnings)


def test_segment_reps_hysteresis_ignores_wobble():
    t = np.arange(300) / 30
    hinge = 5 + 3 * np.sin(t * 7)  # small wobble while standing
    assert deadlift.segment_reps(hinge, t) == []


def test_subject_switch_is_reported_but_a_glitch_is_not():
    from formcheck.signals import subject_switches
    tr = deadlift_track(reps=2)
    torso = 150.0
    glitch = deadlift_track(reps=2)
    glitch.xy[50] += 500.0  # one wild frame
    assert subject_switches(glitch, torso) == []
    tr.xy[200:] += np.array([600.0, 0.0])  # someone else from frame 200 on
    sw = subject_switches(tr, torso)
    assert len(sw) == 1 and abs(sw[0] - tr.t[200]) < 0.2
    a = deadlift.analyze(tr)
    assert any("jumped" in w for w in a.warnings)


def test_rounding_is_read_at_set_up_not_against_the_lockout():
    """A lean-back at the top, or a plate hiding the back when standing, must not change the
    set-up number: the outline is read as it is (a flat back ~0), never against the lockout."""
    base = deadlift.analyze(deadlift_track(reps=2, rounding=0.0)).reps
    leaning = deadlift.analyze(deadlift_track(reps=2, rounding=0.0, lean_back=20)).reps
    for a, b in zip(base, leaning):
        assert b.metrics["back_rounding_deg"] == pytest.approx(a.metrics["back_rounding_deg"], abs=1.0)
        assert "lumbar_rounding" not in {f.code for f in b.faults}


def test_rounding_is_measured_without_any_clean_standing_frame():
    """The plate covers the hips at lockout in a side view: no standing outline at all. The set-up
    is still measured, with its uncertainty, and a rounded back still fires."""
    tr = deadlift_track(reps=2, rounding=0.1)
    a0 = deadlift.analyze(tr)
    upright = np.abs(a0.series["trunk_deg"]) < 15
    tr.profile[upright] = np.nan
    a = deadlift.analyze(tr)
    assert "back_rounding_deg" not in a.withheld
    for r in a.reps:
        assert r.metrics["back_rounding_deg"] is not None and r.metrics["back_rounding_sd_deg"] >= 6.0
    assert "lumbar_rounding" in codes(a)


def test_every_rounding_number_carries_its_uncertainty():
    for r in deadlift.analyze(deadlift_track(reps=3, noise=1.0)).reps:
        assert r.metrics["back_rounding_sd_deg"] is not None
        assert r.metrics["back_rounding_sd_deg"] >= BACK_SHAPE_SD - 1e-6


def test_impossible_values_are_not_measured_and_fire_nothing():
    """A lean-back of 60 deg behind the thigh is a lost knee landmark, not a lifter: the value is
    withheld on that rep with the reason, and the lean-back rule does not fire on it."""
    a = deadlift.analyze(deadlift_track(reps=1, lean_back=60))
    r = a.reps[0]
    assert r.metrics["lockout_hyperext_deg"] is None
    assert "outside" in r.not_measured["lockout_hyperext_deg"]
    assert "lockout_lean_back" not in codes(a)


def test_gate_plausible_in_place():
    from formcheck.thresholds import gate_plausible
    m = {"liftoff_trunk_deg": 150.6, "liftoff_hip_deg": 70.0, "hip_lead_tl": 1.5, "bar_drift_fl": None}
    why = gate_plausible(m)
    assert m == {"liftoff_trunk_deg": None, "liftoff_hip_deg": 70.0, "hip_lead_tl": None, "bar_drift_fl": None}
    assert set(why) == {"liftoff_trunk_deg", "hip_lead_tl"}


def test_every_fault_carries_its_rules_basis_into_the_report():
    from formcheck.report import build_report
    tr = deadlift_track(reps=1, rounding=0.1, lean_back=20)
    a = deadlift.analyze(tr)
    reps = build_report(tr, a)["reps"]
    faults = [f for r in reps for f in r["faults"]]
    assert faults and all(f["basis"] and f["evidence"] for f in faults)


def test_report_faults_have_one_shape():
    from formcheck.report import build_report
    from formcheck.types import Fault
    tr = deadlift_track(reps=5, rounding=[0.0, 0.05, 0.08, 0.1, 0.12])
    a = deadlift.analyze(tr)
    faults = build_report(tr, a)["faults"]
    assert {f["scope"] for f in faults} == {"rep", "set"}
    fields = set(Fault.__dataclass_fields__)
    for f in faults:
        assert fields <= set(f) and f["reps"] and f["count"] >= 1
    rounding = next(f for f in faults if f["code"] == "lumbar_rounding")
    per_rep = [r for r in a.reps if any(x.code == "lumbar_rounding" for x in r.faults)]
    assert rounding["count"] == len(per_rep) and rounding["value"] == max(
        x.value for r in per_rep for x in r.faults if x.code == "lumbar_rounding")


def test_a_forced_exercise_that_contradicts_the_motion_is_warned():
    from formcheck.pipeline import analyze_track
    tr = deadlift_track(reps=3)
    a = analyze_track(tr, "running")
    assert a.warnings and "looks like deadlift" in a.warnings[0]
    assert "exercise_mismatch" in a.summary
    assert not any("looks like" in w for w in analyze_track(tr, "deadlift").warnings)


def _resample(tr, step: int):
    """Every step-th frame: the same lift filmed at a lower frame rate."""
    from formcheck.types import PoseTrack, VideoInfo
    v = tr.video
    fps = v.fps / step
    return PoseTrack(t=tr.t[::step], xy=tr.xy[::step], vis=tr.vis[::step], profile=tr.profile[::step],
                     video=VideoInfo(path=v.path, width=v.width, height=v.height, fps=fps, frames=len(tr.t[::step]),
                                     duration_s=v.duration_s, rotation=0, codec="none", vfr=False))


def test_low_frame_rate_warns_then_withholds_timing():
    tr = deadlift_track(reps=3, hips_up=0.6, fps=60.0)
    a12 = deadlift.analyze(_resample(tr, 5))    # 12 fps: told, still measured
    assert any("unreliable below 15 fps" in w for w in a12.warnings)
    assert a12.reps[0].metrics["early_trunk_change_deg"] is not None
    a6 = deadlift.analyze(_resample(tr, 10))    # 6 fps: the early pull is 1-2 frames
    assert any("were not measured" in w for w in a6.warnings)
    for r in a6.reps:
        assert all(r.metrics[k] is None for k in deadlift.TIMING)
        assert "hips_shoot_up" not in [f.code for f in r.faults]  # never a confident timing fault
        assert r.metrics["liftoff_trunk_deg"] is not None       # angles still reported


def test_hips_lead_is_stable_when_the_shoulders_barely_rise():
    """The old hip/shoulder rise ratio divided by the shoulder rise: one clip re-muxed read 0.2 to
    10. The lead in torso lengths moves no more than the landmark noise."""
    vals = []
    for seed in range(6):
        a = deadlift.analyze(deadlift_track(reps=2, hips_up=0.9, noise=1.5, seed=seed))
        vals += [r.metrics["hip_lead_tl"] for r in a.reps]
    assert all(v is not None and 0 < v < 1 for v in vals)
    assert np.ptp(vals) < 0.1


def test_bar_path_ignores_a_wrist_that_jumps():
    """A mirrored (selfie) clip read 2.0 foot lengths of drift from a wrist landmark jumping; one
    wrist jumping ahead for a few frames does not make a bar path."""
    from formcheck.types import L_WRIST
    tr = deadlift_track(reps=2)
    base = [r.metrics["bar_drift_fl"] for r in deadlift.analyze(tr).reps]
    rep1 = deadlift.analyze(tr).reps[0]
    lo, lock = rep1.key_frames["liftoff"], rep1.key_frames["lockout"]
    mid = (lo + lock) // 2
    tr.xy[mid:mid + 3, L_WRIST, 0] += 140.0  # two foot lengths ahead, three frames
    jumped = [r.metrics["bar_drift_fl"] for r in deadlift.analyze(tr).reps]
    assert abs(jumped[0] - base[0]) < 0.1 and jumped[1] == pytest.approx(base[1], abs=1e-6)


def test_frames_csv_names_the_tracked_body_by_its_hip_midpoint():
    """frames.csv carries the subject's hip midpoint per frame (pixels of the upright picture),
    NaN where no body was found, so a reader can check who every number is about."""
    from formcheck.pipeline import analyze_track
    from formcheck.report import frames_table
    from formcheck.types import L_HIP, R_HIP
    tr = deadlift_track(reps=2)
    tr.xy[5] = np.nan
    df = frames_table(tr, analyze_track(tr, "deadlift"))
    assert list(df.columns[:4]) == ["frame", "t_s", "hip_x", "hip_y"]
    mid = 0.5 * (tr.xy[:, L_HIP] + tr.xy[:, R_HIP])
    ok = np.isfinite(mid[:, 0])
    assert np.allclose(df["hip_x"][ok], mid[ok, 0], atol=0.05) and np.allclose(df["hip_y"][ok], mid[ok, 1], atol=0.05)
    assert np.isnan(df["hip_x"][5]) and np.isnan(df["hip_y"][5])


def test_a_hitch_is_a_dip_and_drive_not_a_settle():
    """The knees re-bending under the bar mid-pull (hips sink, then rise again) is a hitch; a
    clean pull, and a drop with no rise after it (the settle at lockout), are not."""
    clean = deadlift.analyze(deadlift_track(reps=2))
    assert all(r.metrics["hitch_dip_tl"] < 0.05 for r in clean.reps)
    assert not any(f.code == "hitch" for r in clean.reps for f in r.faults)
    hitched = deadlift.analyze(deadlift_track(reps=2, hitch=0.9))  # the hips dip ~0.5 torso lengths
    assert len(hitched.reps) == 2
    for r in hitched.reps:
        f = next(f for f in r.faults if f.code == "hitch")
        assert f.value > DEADLIFT["hitch"].threshold and f.start_s == r.start_s
    assert deadlift.dip(np.array([0.0, 1.0, 2.0, 1.5, 1.0])) == 0.0        # sinks at the end, never rises
    assert deadlift.dip(np.array([0.0, 1.0, 0.4, np.nan, 1.2, 2.0])) == pytest.approx(0.6)


def test_a_flipped_pose_times_nothing_and_measures_nothing():
    """A few frames where MediaPipe turned the skeleton upside down (trunk ~180 deg; bichraix_10,
    a 400x300 handheld clip) are not a lift-off, a lockout or a dip of the hips."""
    clean = deadlift.analyze(deadlift_track(reps=1))
    tr = deadlift_track(reps=1)
    r0 = clean.reps[0]
    hip = 0.5 * (tr.xy[:, 23] + tr.xy[:, 24])
    for lo, hi in ((r0.key_frames["setup"] - 12, r0.key_frames["setup"] - 4),
                   (r0.key_frames["lockout"] + 4, r0.key_frames["lockout"] + 12)):
        tr.xy[lo:hi] = 2 * hip[lo:hi, None, :] - tr.xy[lo:hi] + np.array([0.0, 60.0])  # upside down, a little lower
    a = deadlift.analyze(tr)
    assert len(a.reps) == 1
    r = a.reps[0]
    for k in ("liftoff", "lockout"):
        assert abs(r.key_frames[k] - r0.key_frames[k]) <= 2, (k, r.key_frames, r0.key_frames)
    assert not np.isfinite(a.series["hip_y"][r0.key_frames["lockout"] + 6])
    assert r.metrics["hitch_dip_tl"] < 0.05 and not any(f.code == "hitch" for f in r.faults)


def test_legs_first_is_the_knees_locking_before_the_back_lifts():
    """Legs straightening with the trunk held, then the back lifting the rest (a stiff-leg pull), is
    legs-first; knees and hips finishing together is not. Both timed on the same synthetic body."""
    clean = deadlift.analyze(deadlift_track(reps=2))
    assert all(r.metrics["back_rise_at_knee_lock"] > 0.7 for r in clean.reps)
    assert not any(f.code == "legs_first" for r in clean.reps for f in r.faults)
    stiff = deadlift.analyze(deadlift_track(reps=2, legs_first=1.0))
    assert len(stiff.reps) == 2
    for r in stiff.reps:
        assert r.metrics["back_rise_at_knee_lock"] < 0.2
        f = next(f for f in r.faults if f.code == "legs_first")
        assert f.value < DEADLIFT["legs_first"].threshold and (f.start_s, f.end_s)[0] == r.start_s
        assert not any(f.code == "hips_shoot_up" for f in r.faults)  # the trunk held: not tipping over


def test_legs_first_is_not_measured_when_the_knees_are_hidden():
    """Knees never seen straightening (landmarks lost, as behind a plate) are not a pass."""
    tr = deadlift_track(reps=1, legs_first=1.0)
    r0 = deadlift.analyze(tr).reps[0]
    lo, hi = r0.key_frames["liftoff"], r0.key_frames["end"]
    tr.xy[lo:hi, [25, 26]] = np.nan  # both knees
    r = deadlift.analyze(tr).reps[0]
    assert r.metrics["back_rise_at_knee_lock"] is None
    assert "knee" in r.not_measured["back_rise_at_knee_lock"]
    assert not any(f.code == "legs_first" for f in r.faults)


def test_hips_too_high_is_a_set_up_with_the_hips_level_with_the_shoulders():
    """Trunk within 9 deg of horizontal at lift-off fires; the usual 60 deg set-up does not; for a
    left- and a right-facing lifter alike."""
    for facing in (1.0, -1.0):
        ok = deadlift.analyze(deadlift_track(reps=1, facing=facing)).reps[0]
        assert ok.metrics["liftoff_trunk_deg"] < 70 and not any(f.code == "hips_too_high" for f in ok.faults)
        high = deadlift.analyze(deadlift_track(reps=1, facing=facing, setup_trunk=88.0)).reps[0]
        assert high.metrics["liftoff_trunk_deg"] > DEADLIFT["hips_too_high"].threshold
        f = next(f for f in high.faults if f.code == "hips_too_high")
        assert f.start_s <= high.start_s and f.cue
