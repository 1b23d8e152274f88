"""The answer first: verdict cards from synthetic analyses with known answers (no video)."""
import numpy as np
import pytest

from formcheck import deadlift
from formcheck.compare import default_pair
from formcheck.render import Overlay
from formcheck.types import Analysis, Fault, Rep, ViewCheck
from formcheck.verdict import STRETCH_STEPS, cards, headline
from tests.synth import deadlift_track


def test_a_rounded_rep_gets_a_fault_card_with_value_line_time_and_cue():
    a = deadlift.analyze(deadlift_track(reps=3, rounding=[0.0, 0.0, 0.1]))
    cs = cards(a)
    assert [c.status for c in cs] == ["ok", "ok", "fault"]
    c = cs[2]
    assert c.title.startswith("Rep 3 - ") and c.reps == (3,)
    assert "Lumbar rounding" in c.faults[0] and "line 14 deg" in c.faults[0] and c.cues
    assert "+/- " in c.back and "line 14" in c.back  # the number with its uncertainty against the line
    assert a.reps[2].start_s - 2 <= c.jump_s <= a.reps[2].end_s
    level, text = headline(a, cs)
    # the drawn bulge rounds the whole outline: its bend and its arc both pass their lines
    assert level == "error" and text == "3 reps: lumbar rounding in rep 3; upper back rounding in rep 3."


def test_an_unmeasured_back_is_never_an_all_clear():
    a = deadlift.analyze(deadlift_track(reps=2))
    a.reps[1].metrics["back_rounding_deg"] = None
    a.reps[1].not_measured["back_rounding_deg"] = "not measured: 151 is outside -45..90 (a plate)"
    cs = cards(a)
    assert cs[1].status == "unmeasured" and "back not measured - 151 is outside" in cs[1].back
    level, text = headline(a, cs)
    assert level == "warning" and "not an all-clear" in text
    a.withheld["back_rounding_deg"] = "Oblique view"
    assert all(c.status == "unmeasured" and "not measured - Oblique view" in c.back for c in cards(a))


def _run(n_steps: int, overstride_on=()) -> Analysis:
    reps = []
    for i in range(n_steps):
        faults = [Fault("overstride", "mild", 12.0, 10.0, "deg", "S", "Shin ahead.", "Land under you.", i * 0.35, i * 0.35 + 0.1)] \
            if i + 1 in overstride_on else []
        reps.append(Rep(i + 1, i * 0.35, (i + 1) * 0.35, (i, i + 1), {"foot_strike": i}, {"arch_deg": 5.0 + i % 3}, faults))
    return Analysis("running", ViewCheck("left", "right", True, "side", 0.05), reps, [], {"t": np.arange(n_steps)}, {}, [],
                    metric_info={"arch_deg": {"label": "Lower-back arch proxy", "unit": "deg"}})


def test_running_cards_cover_stretches_of_steps():
    a = _run(25, overstride_on=(3, 4, 22))
    cs = cards(a)
    assert len(cs) == 3 and cs[0].reps == tuple(range(1, STRETCH_STEPS + 1)) and cs[2].reps == tuple(range(21, 26))
    assert cs[0].status == "fault" and "in 2 of 10 steps" in cs[0].faults[0]
    assert cs[1].status == "ok" and "median of the steps" in cs[1].back
    assert cs[0].jump_s == a.reps[2].start_s
    assert headline(a, cs) == ("error", "25 steps: overstride in steps 3, 4, 22.")
    many = _run(25, overstride_on=range(1, 20))
    assert headline(many, cards(many))[1] == "25 steps: overstride in 19 of 25 steps."


def test_the_default_pair_is_two_different_reps():
    for n in (2, 3, 5):
        x, y = default_pair(_run(n))
        assert x != y, n
    a = deadlift.analyze(deadlift_track(reps=3, rounding=[0.02, 0.1, 0.0]))
    assert default_pair(a) == (3, 2)  # least vs most rounded


def test_a_compare_panel_shows_only_its_own_rep():
    tr = deadlift_track(reps=3, rounding=[0.0, 0.1, 0.0])
    a = deadlift.analyze(tr)
    own = Overlay(tr, a, 1280, 720, only_rep=1)
    other = Overlay(tr, a, 1280, 720, only_rep=2)
    assert (own.rep_shown == 1).all() and not own.banners  # rep 1 had no fault: no banner from rep 2
    assert any("Rep 2" in s[2] for spans in other.banners.values() for s in spans)


def test_side_by_side_slowed_stacked_and_steppable(tmp_path):
    """The compare clip: 0.25x lasts four times as long, stacked panels sit one above the other,
    every output frame is kept as a still for stepping."""
    from formcheck.compare import side_by_side
    from formcheck.video import probe
    from tests.test_results import job
    p, tr = job(tmp_path, reps=2)
    a = deadlift.analyze(tr)
    stills = []
    fast = side_by_side(p, tr, a, 1, 2, str(tmp_path / "x1.mp4"), height=90, fps=15.0)
    slow = side_by_side(p, tr, a, 1, 2, str(tmp_path / "x025.mp4"), height=90, fps=15.0, speed=0.25, stacked=True, stills=stills)
    f, s = probe(fast), probe(slow)
    assert s.duration_s == pytest.approx(4 * f.duration_s, rel=0.1)
    assert (f.width, f.height) == (2 * s.width, 90 + 40) and s.height == 2 * (90 + 40)
    assert len(stills) == f.frames and stills[0][:2] == b"\xff\xd8"  # JPEG


def test_a_rule_whose_angle_was_hidden_is_named_not_passed(landmarks_are_joint_centres):
    """A lean-back behind the plate is not measured: the card says so and the headline is no plain all-clear."""
    from formcheck import deadlift
    from formcheck.verdict import cards, headline
    from tests.synth import deadlift_track
    from tests.test_plates import with_plate
    a = deadlift.analyze(with_plate(deadlift_track(reps=2, lean_back=20)))
    cs = cards(a)
    assert all(any(u.startswith("Lean-back at lockout: not measured - the hip") and "behind the plate" in u
                   for u in c.unmeasured) for c in cs)
    level, text = headline(a, cs)
    assert "where it was measured" in text and "lean-back at lockout" in text
    clean = deadlift.analyze(deadlift_track(reps=2))
    assert headline(clean, cards(clean))[1] == "2 reps: no fault crossed its line."
