"""An exercise is one spec object: a third one plugs in through its own module and the registry
alone, and every shell (pipeline, report, drawing, compare, CLI summary) works with it."""
import numpy as np

from formcheck import exercise
from formcheck.compare import default_pair, phase_map
from formcheck.pipeline import analyze_track
from formcheck.render import Overlay
from formcheck.report import build_report, reps_table
from formcheck.signals import condition, incline_from_vertical
from formcheck.thresholds import Rule
from formcheck.types import Analysis, Rep
from tests.synth import deadlift_track

HOLD_RULE = Rule("long_hold", 2.0, "s", "P", "test rule", "test cue")


def _analyze(track):
    """A toy 'good-morning hold': each stretch with the trunk past 30 deg is one hold."""
    c = condition(track, 6.0)
    trunk = incline_from_vertical(c.joints["hip_mid"], c.joints["shoulder_mid"], c.facing_sign)
    bent = np.nan_to_num(trunk) > 30
    reps = []
    from formcheck.signals import true_runs
    for k, (a, b) in enumerate(true_runs(bent)):
        reps.append(Rep(index=k + 1, start_s=float(c.t[a]), end_s=float(c.t[b]), frames=(a, b),
                        key_frames={"start": a, "end": b}, metrics={"hold_s": float(c.t[b] - c.t[a])}))
    return Analysis(exercise="hold", view=c.view, reps=reps, faults=[], series={"t": c.t, "trunk_deg": trunk},
                    withheld={}, warnings=[], metric_info={"hold_s": dict(label="Hold", unit="s", how="test")})


HOLD = exercise.Exercise(name="hold", unit="hold", analyze=_analyze, phases=("start", "end"), phase_words="start, end",
                         readouts=(("trunk_deg", "Trunk", "deg"),), plot_keys=("trunk_deg",), back_key="trunk_deg",
                         back_rule=HOLD_RULE, rules={"long_hold": HOLD_RULE})


def test_a_third_exercise_plugs_in_through_the_registry_alone():
    exercise.register(HOLD)
    try:
        assert "hold" in exercise.names()
        tr = deadlift_track(reps=2)
        a = analyze_track(tr, "hold")
        assert a.exercise == "hold" and len(a.reps) == 2
        rep = build_report(tr, a)
        assert len(rep["reps"]) == 2 and len(reps_table(a)) == 2
        ov = Overlay(tr, a, 320, 240)
        assert ov.round_thr == HOLD_RULE.threshold
        ov.draw(np.zeros((240, 320, 3), np.uint8), a.reps[0].frames[0])
        assert any(k[0].startswith("Hold 1 of 2") for k in ov._sprites)  # the spec's word, not "Rep"
        assert default_pair(a) == (1, 2)  # not paired by the back measure: an earlier vs a later hold
        assert len(phase_map(a.reps[0], "hold", 10)) == 10
        from formcheck.cli import _summary

        class R:
            analysis = a
        assert "2 holds" in _summary(R())
    finally:
        exercise._REGISTRY.pop("hold", None)


def test_unknown_exercise_is_a_clear_message():
    import pytest
    from formcheck.types import FormcheckError
    with pytest.raises(FormcheckError, match="not supported"):
        exercise.get("squat")


def test_every_metric_has_its_own_name_for_people():
    """The per-rep table the app shows names each column by the metric's label and unit; two
    metrics sharing one (two 'uncertainty' columns) made Arrow refuse the whole table."""
    import os
    from formcheck import deadlift, running
    from formcheck.report import readable_table
    from formcheck.types import PoseTrack
    for info in (deadlift.METRIC_INFO, running.METRIC_INFO):
        names = [f"{v['label']} ({v['unit']})" for v in info.values()]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_videos")
    for name, kind in (("deadlift_rounding", "deadlift"), ("run_overstride", "running")):
        table = readable_table(analyze_track(PoseTrack.load(os.path.join(sample, name + ".track.npz")), kind))
        assert table.columns.is_unique and len(table) > 0
