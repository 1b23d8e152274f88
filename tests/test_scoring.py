"""The accuracy harness's counting, margins, leave-one-source-out and label parsing, on small
hand-made tables whose answers are worked out by hand."""
import pytest

from formcheck.scoring import (Item, LabelRep, auc, choose_threshold, confusion, deadlift_labels, either_rule, flags,
                               hand_cadence, implausible, lean_label, loso, margins, match_reps, per_clip,
                               timing_errors, within_lifter_sd)


def it(source, clip, label, value, fired=False, unit="rep 1"):
    return Item("lumbar_rounding", source, clip, unit, label, value, fired, metric="m")


def test_confusion_counts_and_excludes_unclear():
    items = [it("A", "a", "yes", 30, True), it("A", "a", "yes", 10, False), it("A", "b", "no", 25, True),
             it("B", "c", "no", 5, False), it("B", "c", "unclear", 50, True), it("B", "d", "n/a", 1, False),
             it("B", "e", "yes", None, False)]
    c = confusion(items)
    assert (c["tp"], c["fp"], c["tn"], c["fn"]) == (1, 1, 1, 2)
    assert c["sensitivity"] == pytest.approx(1 / 3, abs=1e-3) and c["specificity"] == 0.5
    assert c["not_measured_yes"] == 1 and c["not_measured_no"] == 0


def test_not_measured_never_flags_either_way():
    assert not flags(None, 10, ">") and not flags(float("nan"), 10, "<")
    assert flags(11, 10, ">") and not flags(10, 10, ">") and flags(9, 10, "<")


def test_per_clip_any_yes_all_no_and_extreme_value():
    items = [it("A", "a", "no", 3, False, "rep 1"), it("A", "a", "yes", 12, True, "rep 2"),
             it("A", "b", "no", 4, False, "rep 1"), it("A", "b", "unclear", 40, True, "rep 2"),
             it("A", "c", "unclear", 1, False)]
    by = {i.clip: i for i in per_clip(items, ">")}
    assert by["a"].label == "yes" and by["a"].value == 12 and by["a"].fired
    assert by["b"].label == "no" and by["b"].value == 40 and by["b"].fired  # a flag on an unclear rep still shows
    assert by["c"].label == "unclear"
    lo = {i.clip: i for i in per_clip(items, "<")}
    assert lo["a"].value == 3


def test_choose_threshold_separates_and_takes_the_middle_of_the_gap():
    items = [it("A", "a", "no", v) for v in (1, 2, 3)] + [it("A", "b", "yes", v) for v in (9, 10)]
    assert choose_threshold(items, ">") == pytest.approx(6.0)
    # reversed direction: yes below
    items2 = [it("A", "a", "yes", v) for v in (1, 2)] + [it("A", "b", "no", v) for v in (8, 9)]
    assert choose_threshold(items2, "<") == pytest.approx(5.0)
    assert choose_threshold([it("A", "a", "no", 1)], ">") is None  # nothing to separate


def test_choose_threshold_best_youden_when_classes_overlap():
    # no: 1 2 3 7 ; yes: 5 8 9. Best J: thr between 3 and 5 (sens 1, spec .75 -> J .75)
    items = [it("A", "a", "no", v) for v in (1, 2, 3, 7)] + [it("A", "b", "yes", v) for v in (5, 8, 9)]
    assert choose_threshold(items, ">") == pytest.approx(4.0)


def test_loso_scores_each_source_with_a_threshold_it_never_saw():
    # Source A separates at ~5, source B at ~15: leaving B out picks A's 5 and flags all of B's "no" (10, 12).
    items = [it("A", "a1", "no", 1), it("A", "a2", "no", 2), it("A", "a3", "yes", 8), it("A", "a4", "yes", 9),
             it("B", "b1", "no", 10), it("B", "b2", "no", 12), it("B", "b3", "yes", 18), it("B", "b4", "yes", 20)]
    r = loso(items, ">")
    folds = {f["source"]: f for f in r["folds"]}
    assert folds["B"]["threshold"] == pytest.approx(5.0)       # from A alone: middle of 2..8
    assert (folds["B"]["tp"], folds["B"]["fp"], folds["B"]["tn"], folds["B"]["fn"]) == (2, 2, 0, 0)
    assert folds["A"]["threshold"] == pytest.approx(15.0)      # from B alone: middle of 12..18
    assert (folds["A"]["tp"], folds["A"]["fp"], folds["A"]["tn"], folds["A"]["fn"]) == (0, 0, 2, 2)
    assert r["sensitivity"] == 0.5 and r["specificity"] == 0.5
    assert r["threshold_range"] == [5.0, 15.0]


def test_loso_fold_without_both_classes_is_unscored_not_counted():
    items = [it("A", "a", "yes", 9), it("A", "a2", "no", 1), it("B", "b", "no", 3)]
    r = loso(items, ">")
    folds = {f["source"]: f for f in r["folds"]}
    assert folds["A"]["threshold"] is None  # B alone has no "yes"
    assert r["unscored"] == 2
    assert folds["B"]["fn"] == 0 and folds["B"]["tn"] == 1


def test_margins_name_the_nearest_item_each_side():
    items = [it("A", "a", "no", 18.3), it("A", "b", "no", 20.15), it("A", "c", "yes", 35), it("A", "d", "yes", 5)]
    m = margins(items, 20.0, ">")
    assert m["below"]["clip"] == "a" and m["below"]["distance"] == pytest.approx(1.7)
    assert m["above"]["clip"] == "b" and m["above"]["distance"] == pytest.approx(0.15)
    assert margins([it("A", "a", "no", 1)], 20.0)["above"] is None


def test_implausible_lists_values_outside_the_range():
    rows = [dict(clip="x", unit="rep 1", t=1.0, metrics={"liftoff_trunk_deg": 150.6, "liftoff_hip_deg": 70.0, "other": 1e9}),
            dict(clip="y", unit="rep 1", t=2.0, metrics={"liftoff_trunk_deg": None})]
    out = implausible(rows, {"liftoff_trunk_deg": (-10, 100, "why"), "liftoff_hip_deg": (35, 180, "why")})
    assert [(o["clip"], o["metric"], o["value"]) for o in out] == [("x", "liftoff_trunk_deg", 150.6)]


def test_deadlift_labels_and_matching_by_time():
    rows = [dict(clip="c", rep="1", t_setup_s="1.0", t_lockout_s="2.0", view="side", lumbar_rounding="yes"),
            dict(clip="c", rep="2", t_setup_s="6.0", t_lockout_s="7.3", view="side", lumbar_rounding="No"),
            dict(clip="d", rep="all", t_setup_s="", t_lockout_s="", view="side", lumbar_rounding="no"),
            dict(clip="e", rep="1", t_setup_s="NA", t_lockout_s="NA", view="side", lumbar_rounding="yes"),
            dict(clip="f", rep="1", t_setup_s="NA", t_lockout_s="0.7", view="side", lumbar_rounding="unclear")]
    labs = deadlift_labels(rows, ["lumbar_rounding"])
    assert labs["c"][1].faults["lumbar_rounding"] == "no" and labs["c"][0].t_setup == 1.0
    # detected reps: a spurious one at 3.5-4.5 s, then the two real ones (listed out of label order)
    c = match_reps(labs["c"], [(3.5, 4.5), (5.9, 7.2), (0.9, 2.1)])
    assert [lab.matched for lab in c] == [[3], [2]]
    assert match_reps(labs["d"], [(1, 2), (3, 4)])[0].matched == [1, 2]        # 'all' = every rep
    assert match_reps(labs["e"], [(1, 2), (3, 4)])[0].matched == [1, 2]        # the clip's only row, no times
    assert match_reps(labs["f"], [(0.1, 0.8)])[0].matched == [1]               # lockout only
    assert match_reps(labs["c"], [(20.0, 21.0)])[0].matched == []              # nothing near: unmatched


def test_running_label_parsing():
    assert hand_cadence("~170 real-time: strikes at frames 3,14") == 170
    assert hand_cadence("~167-172 real-time: strikes") == pytest.approx(169.5)
    assert hand_cadence("~265 in the real-time part: strikes at 10.70") == 265
    assert hand_cadence("n/a (slow motion). Video time: ~78/min") is None
    assert lean_label("MIXED by segment: upright 0-5.3 s; exaggerated forward lean") == "yes"
    assert lean_label("upright") == "no" and lean_label("slight forward (not exaggerated)") == "no"
    assert lean_label("forward (sprint)") == "unclear"


def test_label_rep_defaults():
    lab = LabelRep("c", "1", None, None, "side", {})
    assert lab.matched == []


def test_reference_threshold_is_the_edge_of_the_normal_range_per_clip():
    from formcheck.scoring import reference_threshold
    # clip medians 0, 2, 4 (the 10-rep clip counts once): mean 2, SD 2 -> 2 + 1.96 * 2
    items = [it("A", "a", "no", v) for v in (-1, 0, 0, 0, 1, 0, 0, 0, 0, 0)] + [it("B", "b", "no", 2)] + \
            [it("C", "c", "no", 4), it("C", "d", "yes", 100)]
    assert reference_threshold(items, ">") == pytest.approx(2 + 1.96 * 2)
    assert reference_threshold(items, "<") == pytest.approx(2 - 1.96 * 2)
    assert reference_threshold(items[:2], ">") is None  # one clip is no range
    r = loso(items + [it("D", "e", "no", 1)], ">", chooser=reference_threshold)
    assert {f["source"] for f in r["folds"] if f["threshold"] is not None} == {"A", "B", "C", "D"}


def test_either_rule_flags_a_unit_when_any_of_its_rules_fired():
    def two(clip, label, fired_a, fired_b, unit="rep 1"):
        return [Item("hips_shoot_up", "S", clip, unit, label, 1.0, fired_a, metric="a"),
                Item("hips_shoot_up", "S", clip, unit, label, 0.2, fired_b, metric="b")]
    items = (two("x", "yes", False, True) + two("x", "yes", False, False, "rep 2") + two("y", "no", True, False)
             + two("z", "no", False, False) + [Item("other", "S", "x", "rep 1", "yes", 9.0, True, metric="a")])
    e = either_rule(items, "hips_shoot_up", ("a", "b"))
    assert (e["tp"], e["fp"], e["tn"], e["fn"]) == (1, 1, 1, 1)
    assert e["missed"] == ["x rep 2"] and e["false_alarms"] == ["y rep 1"]


def test_within_lifter_sd_pools_clips_with_enough_reps_and_uses_no_label():
    rows = ([{"clip": "a", "unit": f"rep {k}", "metrics": {"m": v}} for k, v in enumerate([1.0, 3.0, 5.0])]
            + [{"clip": "b", "unit": f"rep {k}", "metrics": {"m": v}} for k, v in enumerate([10.0, 10.0, 16.0])]
            + [{"clip": "c", "unit": "rep 1", "metrics": {"m": 100.0}}, {"clip": "c", "unit": "rep 2", "metrics": {"m": None}},
               {"clip": "d", "unit": "step 1", "metrics": {"m": 50.0}}])
    r = within_lifter_sd(rows, "m")
    # a: squares 4+0+4 = 8; b: 4+4+16 = 24; 4 degrees of freedom; c has one measured rep, d is a step
    assert r["clips"] == 2 and r["reps"] == 6 and r["sd"] == pytest.approx((32 / 4) ** 0.5)
    assert within_lifter_sd(rows[:2], "m")["sd"] is None


def test_timing_errors_count_within_the_labels_precision_and_name_the_furthest():
    pairs = [dict(clip="a", rep="1", label_s=2.9, found_s=1.56), dict(clip="b", rep="1", label_s=1.0, found_s=1.1),
             dict(clip="b", rep="2", label_s=5.0, found_s=4.75), dict(clip="c", rep="1", label_s=3.0, found_s=3.5)]
    r = timing_errors(pairs, worst=2)
    assert r["n"] == 4 and r["within"] == 2
    assert r["median_abs_s"] == pytest.approx((0.25 + 0.5) / 2)
    assert [(w["clip"], w["error_s"]) for w in r["worst"]] == [("a", -1.34), ("c", 0.5)]
    assert timing_errors([])["median_abs_s"] is None


def test_auc_is_the_chance_a_yes_reads_past_a_no():
    items = [it("a", "c1", "yes", 5.0), it("a", "c2", "yes", 2.0), it("b", "c3", "no", 1.0), it("b", "c4", "no", 2.0),
             it("b", "c5", "no", None), it("b", "c6", "unclear", 9.0)]
    # yes 5 beats both no; yes 2 beats 1 and ties 2: (2 + 1.5) / 4
    assert auc(items) == pytest.approx(3.5 / 4)
    assert auc(items, "<") == pytest.approx(0.5 / 4)  # a rule that fires below its line
    assert auc([it("a", "c1", "yes", 1.0)]) is None   # one label only: nothing to separate
