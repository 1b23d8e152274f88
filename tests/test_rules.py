"""Each fault rule on its own: a rep's metrics in, a fault or None out, firing just past the
number in the rule table and not at or below it."""
import pytest

from formcheck import deadlift, running
from formcheck.thresholds import DEADLIFT, RUNNING

AT = dict(setup=1.0, liftoff=1.2, early=1.5, knee_pass=1.7, lockout=2.3, hold_end=2.8)


def thr(rule, d=0.0):
    return rule.threshold + d


@pytest.mark.parametrize("rule,key,table", [
    (deadlift.lumbar_rounding, "back_rounding_deg", "lumbar_rounding"),
    (deadlift.upper_back_rounding, "back_arc_deg", "upper_back_rounding"),
    (deadlift.lockout_lean_back, "lockout_hyperext_deg", "lockout_lean_back"),
    (deadlift.bar_drift, "bar_drift_fl", "bar_drift"),
])
def test_single_number_rules_fire_just_past_their_line(rule, key, table):
    line = DEADLIFT[table]
    assert rule({key: thr(line, 0.01), "back_rounding_sd_deg": 7.0}, AT).code == line.code
    assert rule({key: thr(line), "back_rounding_sd_deg": 7.0}, AT) is None
    assert rule({key: None}, AT) is None  # not measured: never a fault


def test_lumbar_rounding_says_how_sure_and_when():
    f = deadlift.lumbar_rounding({"back_rounding_deg": 25.0, "back_rounding_sd_deg": 8.0}, AT)
    assert "+/- 8" in f.message and (f.start_s, f.end_s) == (AT["setup"], AT["knee_pass"])
    assert f.basis and f.cue and f.evidence == "P"


def test_upper_back_rounding_says_how_sure_and_grows_in_spreads_past_its_line():
    r = DEADLIFT["upper_back_rounding"]
    f = deadlift.upper_back_rounding({"back_arc_deg": r.threshold + 1, "back_arc_sd_deg": 14.0}, AT)
    assert "+/- 14" in f.message and (f.start_s, f.end_s) == (AT["setup"], AT["knee_pass"])
    assert f.severity == "mild" and f.basis and f.cue and f.evidence == "P"
    far = deadlift.upper_back_rounding({"back_arc_deg": r.threshold + 2.5 * r.params["noise_sd"]}, AT)
    assert far.severity == "severe" and f"+/- {r.params['noise_sd']:.0f}" in far.message  # no per-rep SD: the table's


def test_hips_shoot_up_on_the_trunk_change_alone():
    trunk = DEADLIFT["hips_shoot_up"]
    assert deadlift.hips_shoot_up({"early_trunk_change_deg": thr(trunk, 1)}, AT).unit == "deg"
    assert deadlift.hips_shoot_up({"early_trunk_change_deg": thr(trunk)}, AT) is None
    # a large ratio (a tiny shoulder rise in the denominator) no longer flags by itself
    assert deadlift.hips_shoot_up({"hip_lead_tl": 0.9, "early_trunk_change_deg": 2.0}, AT) is None


def test_squat_start_needs_a_flat_thigh_and_an_upright_trunk():
    r = DEADLIFT["squatting_deadlift"]
    p = r.params
    assert deadlift.squat_start({"liftoff_thigh_deg": r.threshold - 1, "liftoff_trunk_deg": p["trunk_max"] - 1}, AT)
    assert deadlift.squat_start({"liftoff_thigh_deg": r.threshold - 1, "liftoff_trunk_deg": p["trunk_max"] + 1}, AT) is None
    assert deadlift.squat_start({"liftoff_thigh_deg": p["upright_thigh"] - 1, "liftoff_trunk_deg": p["upright_trunk"] - 1}, AT)
    assert deadlift.squat_start({"liftoff_thigh_deg": 40.0, "liftoff_trunk_deg": 20.0}, AT) is None
    assert deadlift.squat_start({"liftoff_thigh_deg": None, "liftoff_trunk_deg": 20.0}, AT) is None


def test_overstride_shank_or_reach():
    sh, reach = RUNNING["overstride"], RUNNING["overstride_reach"]
    at = dict(strike=1.0, after_strike=1.1, next_strike=1.35)
    assert running.overstride({"shank_at_contact_deg": sh.threshold + 1, "heel_ahead_ll": 0.0}, at).unit == "deg"
    assert running.overstride({"shank_at_contact_deg": 0.0, "heel_ahead_ll": reach.threshold + 0.01}, at).unit == "leg lengths"
    assert running.overstride({"shank_at_contact_deg": sh.threshold, "heel_ahead_ll": reach.threshold}, at) is None


def test_excess_bounce():
    b = RUNNING["excess_bounce"]
    at = dict(strike=1.0, after_strike=1.1, next_strike=1.35)
    assert running.excess_bounce({"bounce_ll": b.threshold + 0.01}, at).code == "excess_bounce"
    assert running.excess_bounce({"bounce_ll": b.threshold}, at) is None
    assert running.excess_bounce({"bounce_ll": None}, at) is None


def _steps(n, **metrics):
    from formcheck.types import Rep
    out = []
    for i in range(n):
        m = {k: (v(i) if callable(v) else v) for k, v in metrics.items()}
        out.append(Rep(index=i + 1, start_s=i * 0.35, end_s=(i + 1) * 0.35, frames=(i, i + 1), key_frames={}, metrics=m))
    return out


def _ctx(steps, withheld=None):
    return dict(med=running._medians(steps), withheld=withheld or {})


def test_low_cadence_fires_below_its_line_and_not_when_withheld():
    line = RUNNING["low_cadence"].threshold
    slow, ok = _steps(10, cadence_spm=line - 5), _steps(10, cadence_spm=line)
    assert running.low_cadence(slow, _ctx(slow))[0].code == "low_cadence"
    assert running.low_cadence(ok, _ctx(ok)) == []
    assert running.low_cadence(slow, _ctx(slow, withheld={"cadence_spm": "slow motion"})) == []


def test_overarching_needs_the_arch_and_little_hip_extension():
    r = RUNNING["overarching_lower_back"]
    arched = _steps(10, arch_deg=r.threshold + 2, hip_ext_toeoff_deg=r.params["hip_ext_max"] - 2)
    f = running.overarching_lower_back(arched, _ctx(arched))
    assert f[0].code == "overarching_lower_back" and f[0].threshold == r.threshold
    assert f[0].severity == "mild"  # 2 deg past the line is under one SD of the neutral backs' spread
    assert f"+/- {r.params['noise_sd']:.0f}" in f[0].message  # the estimate says how sure it is
    far = _steps(10, arch_deg=r.threshold + 2.5 * r.params["noise_sd"], hip_ext_toeoff_deg=0.0)
    assert running.overarching_lower_back(far, _ctx(far))[0].severity == "severe"
    within = _steps(10, arch_deg=r.threshold - 0.5, hip_ext_toeoff_deg=0.0)
    assert running.overarching_lower_back(within, _ctx(within)) == []
    extends = _steps(10, arch_deg=r.threshold + 2, hip_ext_toeoff_deg=r.params["hip_ext_max"] + 2)
    assert running.overarching_lower_back(extends, _ctx(extends)) == []
    # not measured on this clip (too few steps, a front view): no verdict, whatever the number
    assert running.overarching_lower_back(arched, _ctx(arched, withheld={"arch_deg": "too few steps"})) == []


def test_the_arch_is_not_measured_on_too_few_steps_and_says_why():
    need = RUNNING["overarching_lower_back"].params["min_steps"]
    short = _steps(need - 1, arch_deg=50.0, arch_sd_deg=6.0)
    withheld: dict = {}
    running._few_arch_steps(short, withheld)
    assert f"only {need - 1} steps" in withheld["arch_deg"]
    assert all(r.metrics["arch_deg"] is None and r.metrics["arch_sd_deg"] is None for r in short)
    hidden = _steps(need + 5, arch_deg=lambda i: 30.0 if i < need - 2 else None)
    withheld = {}
    running._few_arch_steps(hidden, withheld)
    assert f"clear on only {need - 2} of {need + 5} steps" in withheld["arch_deg"]
    enough = _steps(need, arch_deg=30.0)
    withheld = {}
    running._few_arch_steps(enough, withheld)
    assert withheld == {} and enough[0].metrics["arch_deg"] == 30.0


def test_fatigue_drift_beyond_noise_only():
    line = RUNNING["fatigue_drift"].threshold
    drifting = _steps(12, trunk_lean_deg=lambda i: 5.0 if i < 4 else (5.0 if i < 8 else 5.0 + line + 2))
    assert any(f.code == "fatigue_drift" for f in running.fatigue_drift(drifting, _ctx(drifting)))
    steady = _steps(12, trunk_lean_deg=lambda i: 5.0 + (i % 2))
    assert running.fatigue_drift(steady, _ctx(steady)) == []
    assert running.fatigue_drift(drifting[:8], _ctx(drifting[:8])) == []  # too few steps for thirds


def test_pelvic_drop():
    line = RUNNING["pelvic_drop"].threshold
    steps = _steps(8)
    assert running.pelvic_drop(line + 0.5, 8, steps)[0].code == "pelvic_drop"
    assert running.pelvic_drop(line, 8, steps) == []


@pytest.mark.parametrize("rule,key,table,window", [
    (deadlift.hitch, "hitch_dip_tl", "hitch", ("liftoff", "lockout")),
    (deadlift.hips_too_high, "liftoff_trunk_deg", "hips_too_high", ("setup", "liftoff")),
])
def test_a_rule_fires_just_past_its_line_over_its_own_window(rule, key, table, window):
    line = DEADLIFT[table]
    f = rule({key: thr(line, 0.01)}, AT)
    assert f.code == table and (f.start_s, f.end_s) == (AT[window[0]], AT[window[1]]) and f.cue
    assert rule({key: thr(line)}, AT) is None
    assert rule({key: None}, AT) is None


def test_legs_first_fires_just_below_its_line_and_not_twice_for_one_movement():
    line = DEADLIFT["legs_first"]
    f = deadlift.legs_first({"back_rise_at_knee_lock": thr(line, -0.01)}, AT)
    assert f.code == "legs_first" and (f.start_s, f.end_s) == (AT["liftoff"], AT["lockout"]) and f.cue
    assert deadlift.legs_first({"back_rise_at_knee_lock": thr(line)}, AT) is None
    assert deadlift.legs_first({"back_rise_at_knee_lock": None}, AT) is None
    # the back also tipped over: hips_shoot_up says it, with the same cue
    tipped = {"back_rise_at_knee_lock": 0.1, "early_trunk_change_deg": thr(DEADLIFT["hips_shoot_up"], 5)}
    assert deadlift.legs_first(tipped, AT) is None and deadlift.hips_shoot_up(tipped, AT) is not None


def test_a_rule_that_fires_below_its_line_grows_more_severe_further_below():
    """A share of 0.1 against a 0.5 line is far past it, not 'mild' because 0.1 is small."""
    from formcheck.thresholds import severity
    assert severity(0.45, 0.5, below=True) == "mild"
    assert severity(0.35, 0.5, below=True) == "moderate"
    assert severity(0.1, 0.5, below=True) == severity(-0.2, 0.5, below=True) == "severe"
    assert deadlift.legs_first({"back_rise_at_knee_lock": 0.1}, AT).severity == "severe"
    assert severity(20.0, 14.0) == "moderate"  # above-line rules as before


def test_hips_too_high_severity_counts_the_measurement_spread_past_its_line():
    """92 deg against an 81 deg line is more than 2 SD of the lift-off trunk angle past it, not
    'mild' because 92 / 81 is a small ratio."""
    line = DEADLIFT["hips_too_high"]
    sd = line.params["noise_sd"]
    assert deadlift.hips_too_high({"liftoff_trunk_deg": line.threshold + 0.5 * sd}, AT).severity == "mild"
    assert deadlift.hips_too_high({"liftoff_trunk_deg": line.threshold + 1.5 * sd}, AT).severity == "moderate"
    assert deadlift.hips_too_high({"liftoff_trunk_deg": 92.7}, AT).severity == "severe"
