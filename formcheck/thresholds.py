"""Every fault threshold in one table, with its evidence level and its cue.

Evidence: S = measured in a study, R = review/clinical commentary, C = coaching or vendor
convention, P = our proposal, not validated. Some older P numbers were set by eye on the clips in
../shared; `python -m formcheck.bench real` reports each one's margins and leave-one-source-out
scores (README, "Accuracy on real footage"), and new ones are chosen by a stated method.
Sources are in ../shared/docs/measurement-evidence.md and the README.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .types import Fault


@dataclass(frozen=True)
class Rule:
    code: str
    threshold: float
    unit: str
    evidence: str
    basis: str   # where the number comes from, briefly
    cue: str
    params: dict = field(default_factory=dict)  # the rule's other numbers, named (none outside this table)


HIPS_CUE = ("Push the floor away with your legs: 'chest and hips rise together'. Keep your back angle fixed "
            "until the bar passes the knees; if the hips pop up first, start with them a little higher.")
OVERSTRIDE_CUE = ("Land with the foot closer under your hips and a more vertical shin: take quicker, slightly shorter "
                  "steps (+5-10% cadence) rather than reaching forward.")

DEADLIFT = {
    "lumbar_rounding": Rule(
        "lumbar_rounding", 14.0, "deg", "P",
        "Back-outline bend from set-up to knee height; a flat back reads ~0. Flagged beyond the normal range "
        "of flat backs: 17 labelled flat-back clips from 9 sources read 0.8 +/- 6.9 deg (mean +/- SD of each "
        "clip's median), so mean + 1.96 SD = 14.3; chosen that way with each source left out it is 10.8-16.0. "
        "Uses no rounded clip, so it is a normal-range line (about 2.5% of flat backs flagged), not a fitted cut. "
        "No injury cut-off exists (Bengtsson 2022, S: set-up loses 13-20 deg of lordosis in normal lifters).",
        "Brace before the bar moves: big breath into the belly, 'chest proud', pull the slack out of the bar "
        "so the back is set before lift-off. If it still rounds, the load is too heavy for today."),
    "upper_back_rounding": Rule(
        "upper_back_rounding", 25.3, "deg", "P",
        "Back-outline arc from set-up to knee height (how far the outline bulges beyond the line through its ends, as "
        "an arc angle; a flat back reads ~0). Flagged beyond the normal range of flat upper backs: the labelled clips "
        "whose upper back is flat (16 clips, 9 sources) read -1.1 +/- 13.4 deg (mean + 1.96 SD of each clip's median "
        "= 25.3), chosen that way with each source left out it is 21.0-28.5. Uses no rounded clip: about 2.5% of flat "
        "upper backs are flagged. On synthetic bodies the arc follows upper-back flexion "
        "(README, Back shape). A rounded upper back is common in heavy pulls and not shown to injure (no cut-off exists); "
        "it is flagged because it moves the bar forward of the mid-foot and is what coaches cue first.",
        "Set the upper back before the pull: 'proud chest', pull the shoulder blades down and lock the lats ('bend the "
        "bar around your shins', 'protect your armpits'), eyes a few metres ahead. If it rounds as the bar leaves the "
        "floor, the load is too heavy for today.",
        params={"noise_sd": 13.4}),
    "hips_shoot_up": Rule(
        "hips_shoot_up", 12.0, "deg", "P",
        "Trunk tipping more horizontal from set-up to 30% of the bar's rise: the knees straighten first and "
        "the back is left to lift (Rippetoe, C; van Dieen 1998, S). MediaPipe trunk noise puts our line at 12 deg, "
        "above the 5 deg in the evidence table. The hip/shoulder rise ratio no longer flags: on the labelled clips "
        "no ratio line separated (best split on every source left out: 'always'), it divides by a small shoulder "
        "rise, and it only added false alarms. It is now reported as the hips' lead in torso lengths (hip_lead_tl), which divides by nothing that can be near zero.",
        HIPS_CUE),
    "legs_first": Rule(
        "legs_first", 0.5, "share of the trunk's rise", "P",
        "The knees nearly straight (within 20 deg of their lockout angle) while the trunk has done less than half "
        "of its rise from lift-off to lockout: the legs finished first and the back lifted the rest as a stiff-leg "
        "pull, with the trunk held (not tipping over, which is hips_shoot_up). A well-timed pull finishes knees and "
        "hips together (Rippetoe, C), so the share is near 1; 0.5 is the midpoint (P). Read only where the knees are "
        "seen reaching at least 155 deg and the trunk rises at least 15 deg (3x the 4.7 deg rep-to-rep spread of the "
        "lift-off trunk angle; an upright start has no back rise to time).",
        "Don't lock the knees early: push the floor away and let the chest rise with the hips, then drive the hips "
        "through as the bar passes the knees so knees and hips finish together. Straight legs with the chest still "
        "low leave the lower back to lift the bar on its own.",
        params={"knee_near": 20.0, "knee_straight_min": 155.0, "trunk_rise_min": 15.0}),
    "hips_too_high": Rule(
        "hips_too_high", 81.0, "deg from vertical", "P",
        "The hip-shoulder line at lift-off within 9 deg of horizontal: the hips level with (or above) the shoulders, "
        "not between the knees and the shoulders (Rippetoe, C; the labels' own definition: 'hips level with or above "
        "the shoulders'). 81 = 90 - 1.96 x 4.7 deg, the rep-to-rep spread of the lift-off trunk angle within a "
        "lifter (pooled over the labelled multi-rep clips: measurement noise plus real variation, so the line is "
        "conservative): a trunk that cannot be told from level. Not fitted to the faulty clips.",
        "Set up with the hips between the knees and the shoulders: shins to the bar, hips down until the shoulders "
        "are clearly higher than the hips, then pull. (A stiff-leg or Romanian deadlift starts this way on purpose.)",
        params={"noise_sd": 4.7}),
    "squatting_deadlift": Rule(
        "squatting_deadlift", 15.0, "deg", "P",
        "Thigh within 15 deg of horizontal at lift-off with the trunk more upright than 55 deg from vertical, "
        "or the trunk within 35 deg of vertical with the thigh within 25 deg of horizontal: a squat start. Conventional pullers start with the hips higher (Escamilla 2000, S); cut-off ours.",
        "Hinge, don't squat: push the hips back, shins close to vertical, shoulders over or slightly ahead "
        "of the bar at lift-off.",
        params={"trunk_max": 55.0, "upright_trunk": 35.0, "upright_thigh": 25.0}),
    "lockout_lean_back": Rule(
        "lockout_lean_back", 10.0, "deg", "C",
        "Trunk line (hip to shoulder) tipped back past the thigh line (knee to hip) at lockout. 'Stand tall, don't lean back' is coaching "
        "convention; no study of lockout hyperextension was found.",
        "Finish tall: squeeze the glutes to bring the hips through, ribs down, shoulders stacked over the hips. "
        "Leaning back adds nothing to the lift and loads the lower back in extension."),
    "bar_drift": Rule(
        "bar_drift", 0.70, "foot lengths", "C",
        "Hands (bar proxy) moving forward of their lift-off position during the pull, in foot lengths. 'Bar over mid-foot, vertical "
        "path' is coaching convention (Rippetoe). Hands sit ahead of the bar and follow the thighs, so normal pulls read up to ~0.6 here (good clips in ../shared); 0.7 is our line (P).",
        "Keep the bar over mid-foot and against your legs: 'lats tight, drag the bar up the shins and thighs'."),
    "hitch": Rule(
        "hitch", 0.25, "torso lengths", "P",
        "The hips sink and then drive up again while the bar is off the floor: the knees re-bend to get under a bar that "
        "stalled at the knee ('hitching' is a red light under the IPF rules, C). 0.25 torso lengths (~12 cm) is what "
        "re-bending the knees by ~40 deg from the mid-pull position costs in hip height (thigh and shank ~0.9 torso "
        "lengths each); landmark jitter and the settle at lockout (a drop with no rise after it) do not count (P).",
        "Pull in one continuous drive: if the bar stalls at the knee, finish with the hips (squeeze the glutes through) "
        "rather than dipping the knees under it, or lower it and take less weight."),
    "set_breakdown": Rule(
        "set_breakdown", 6.0, "deg", "P",
        "A metric worsening from the first reps to the last third of the set by more than twice the rep-to-rep "
        "noise (and this many degrees). Repetitions to failure increase trunk flexion (Ramirez 2024, S).",
        "Your form drifted as the set went on: stop the set a rep or two earlier, or take weight off, and keep "
        "the reps that look like your first one."),
}


RUNNING = {
    "overarching_lower_back": Rule(
        "overarching_lower_back", 38.3, "deg", "P",
        "Arch proxy: the angle between the back outline's buttock-to-waist and waist-to-mid-back lines in the "
        "silhouette (frames with an arm over the back excluded), median over the run's steps, together with little "
        "hip extension at toe-off (< 10 deg: more anterior tilt goes with less hip extension, Schache 2000, Franz "
        "2009, S). The line is the edge of the normal range of neutral backs: nine synthetic runners of different "
        "builds with a neutral lumbar spine read 27.6 +/- 5.5 (mean + 1.96 SD = 38.3; with each build left out "
        "35.2-39.2). The proxy rises 0.63 deg per degree of lumbar extension, so the line catches an arch about 20 deg "
        "beyond neutral on most builds, not 10: build shifts it as much as 10 deg of extension "
        "(python -m formcheck.bench arch). True pelvic tilt cannot be seen without pelvis landmarks.",
        "Run 'tall with the hips under you': gently tuck the tailbone and keep the ribs down over the pelvis; "
        "let the leg finish behind you from the hip, not by arching the lower back. Hip-flexor mobility helps.",
        # noise_sd: the neutral backs' spread across builds (the +/- of every arch number); min_steps:
        # average at least 7 steps (Dingenen 2018, S)
        params={"hip_ext_max": 10.0, "noise_sd": 5.5, "neutral_mean": 27.6, "min_steps": 7}),
    "excessive_lean": Rule(
        "excessive_lean", 15.0, "deg", "S",
        "Trunk-to-vertical over stance, averaged over runs of 7+ consecutive steps (Dingenen 2018). Self-selected "
        "lean is 7 +/- 4 deg and high-lean runners ~11 deg (Teng & Powers 2014/2015, S); flag above 15 deg "
        "forward or more than 5 deg behind vertical (single-camera error).",
        "Stand tall and lean slightly from the ankles, not the waist: 'head over hips over feet'.",
        params={"lean_back_max": -5.0, "min_steps": 7}),  # -5: the ~5 deg one camera can be off; 7 steps: Dingenen 2018
    "overstride": Rule(
        "overstride", 10.0, "deg", "P",
        "Shank angle at foot strike (ankle ahead of knee) > 10 deg, or heel more than 0.25 leg lengths ahead of "
        "the hips. Braking force scales with foot-ahead-of-hip distance (Lieberman 2015, S); no validated cut-off "
        "(Souza 2016, R).",
        OVERSTRIDE_CUE),
    "overstride_reach": Rule(
        "overstride", 0.25, "leg lengths", "P",
        "Heel ahead of the hip midpoint at foot strike, in leg lengths (Lieberman 2015, S); single-camera "
        "estimate, poorly reproducible (Souza 2016, R).",
        OVERSTRIDE_CUE),
    "low_cadence": Rule(
        "low_cadence", 160.0, "steps/min", "C",
        "Preferred cadence at 3 m/s is 165 +/- 8 steps/min (van Oeveren 2020, S); +5-10% step rate reduces knee "
        "and hip loading (Heiderscheit 2011, S). 160 is a coaching line, and cadence depends on speed.",
        "Try +5% steps per minute (a metronome app helps) at the same pace; it shortens the stride by itself."),
    "excess_bounce": Rule(
        "excess_bounce", 0.15, "leg lengths", "P",
        "Vertical travel of the hip midpoint within a step, in leg lengths (landmark leg length runs ~10% short, so "
        "0.15 is ~12-13 cm for most adults; "
        "vendors call 3-15 cm typical, Tseh 2008 links exaggerated bounce to cost, S).",
        "Run 'forward, not up': quicker steps and a softer push-off keep the hips level."),
    "pelvic_drop": Rule(
        "pelvic_drop", 8.0, "deg", "P",
        "Rear view: hip line tilt at mid-stance, averaged over at least 7 steps. Each +1 deg of drop raised "
        "the odds of being injured by 80% (Bramah 2018, S); 2D smallest detectable difference 2.7-2.8 deg "
        "(Dingenen 2018, S). The 8 deg line is ours.",
        "Strengthen the hip abductors (side planks, single-leg work) and think 'run tall, level hips'.",
        params={"min_steps": 7}),
    "fatigue_drift": Rule(
        "fatigue_drift", 4.0, "deg", "S",
        "First vs last third of the clip: trunk lean +4 deg is the change novices show when tired "
        "(Koblbauer 2014, S); also checks overstride and the arch proxy.",
        "Your form changed as you tired: shorten the run or add a walk break before the form goes, and build "
        "up volume gradually.",
        params={"shank_line": 4.0, "arch_line": 5.0, "min_steps": 9}),  # thirds of at least 3 steps
}


# Camera view: (shoulder width + hip width across the picture) / torso length. At or below
# side_on_max the view is side-on; up to oblique_max it is oblique (~20-40 deg off), angles kept
# and the back-shape estimate withheld; above it a front or rear view.
VIEW = {"side_on_max": 0.30, "oblique_max": 0.45}

# Between-body spread (1 SD) of the outline bend of flat backs, from the same 17 clips: the
# uncertainty of one rep's number when nothing calibrates this body's own shape.
BACK_SHAPE_SD = 6.9
# The same for the outline's arc: the upper_back_rounding rule's noise_sd (flat upper backs' spread).
BACK_ARC_SD = DEADLIFT["upper_back_rounding"].params["noise_sd"]


def severity(value: float, threshold: float, below: bool = False, sd: float | None = None) -> str:
    """How far past the line: up to 1.25x mild, up to 1.75x moderate, beyond that severe. below: a
    rule that fires under its line (a thigh near horizontal, a share near 0), where half the line
    is twice as far past it. sd: a line placed by the measurement's spread (an angle near 90 deg,
    where ratios say nothing): past it by under 1 SD mild, under 2 moderate."""
    if sd:
        past = abs(value - threshold) / sd
        return "mild" if past < 1 else "moderate" if past < 2 else "severe"
    if below:
        r = abs(threshold) / value if value > 0 else float("inf")
    else:
        r = abs(value) / abs(threshold) if threshold else 1.0
    return "mild" if r < 1.25 else "moderate" if r < 1.75 else "severe"


def make_fault(rule: Rule, value: float, message: str, t0: float, t1: float, threshold: float | None = None,
               below: bool = False) -> Fault:
    thr = rule.threshold if threshold is None else threshold
    sev = severity(value, thr, below, rule.params.get("noise_sd"))
    return Fault(code=rule.code, severity=sev, value=round(float(value), 3), threshold=thr,
                 unit=rule.unit, evidence=rule.evidence, message=message, cue=rule.cue,
                 start_s=round(float(t0), 3), end_s=round(float(t1), 3), basis=rule.basis)


# What a human body can show, per reported metric: (low, high, why). A value outside is a
# tracking failure (a landmark lost behind a plate, dragged onto another object, a swapped leg),
# never a measurement. The accuracy harness lists every one it finds on the labelled clips.
PLAUSIBLE: dict[str, tuple[float, float, str]] = {
    # deadlift
    "liftoff_trunk_deg": (-10.0, 100.0, "at lift-off the trunk is between upright and a little past horizontal"),
    "liftoff_hip_deg": (35.0, 180.0, "hip flexion tops out near 140 deg, so the shoulder-hip-knee angle stays above ~35"),
    "liftoff_knee_deg": (40.0, 180.0, "knee flexion tops out near 140-150 deg; a bar on the floor needs far less"),
    "liftoff_thigh_deg": (-40.0, 90.0, "hips more than 40 deg below the knees is not a lift-off position"),
    "hip_lead_tl": (-1.0, 1.0, "the hips cannot rise a torso length more (or less) than the shoulders"),
    "back_rise_at_knee_lock": (-1.0, 1.5, "the trunk cannot tip over by more than its whole rise, nor rise 1.5x it, before the knees lock"),
    "hitch_dip_tl": (0.0, 2.0, "the hips cannot sink further than standing to a full squat (~2 torso lengths) mid-pull"),
    "early_trunk_change_deg": (-60.0, 60.0, "the trunk cannot swing 60 deg in the first 30% of the bar's rise"),
    "lockout_trunk_deg": (-45.0, 45.0, "nobody locks out leaning back or forward more than 45 deg"),
    "lockout_hyperext_deg": (-30.0, 45.0, "hip hyperextension ends near 30 deg; 30 deg the other way is not a lockout"),
    "lockout_hip_deg": (100.0, 180.0, "a lockout opens the hip past 100 deg"),
    "back_rounding_deg": (-45.0, 90.0, "whole-spine flexion and extension limits"),
    "back_arc_deg": (-60.0, 90.0, "the back's outline cannot arc further than whole-spine flexion and extension allow"),
    "lumbar_flexion_deg": (-40.0, 80.0, "lumbar flexion and extension limits"),
    "thoracic_flexion_deg": (-40.0, 80.0, "thoracic flexion and extension limits"),
    "upper_back_bend_deg": (-45.0, 90.0, "the same, for half the back"),
    "lower_back_bend_deg": (-60.0, 90.0, "the same; the lower outline also carries the lordosis"),
    "bar_start_fl": (-1.0, 2.0, "a bar two foot lengths ahead of mid-foot cannot be lifted"),
    "bar_drift_fl": (-2.0, 2.0, "the same, during the pull"),
    # running
    "shank_at_contact_deg": (-30.0, 45.0, "a shin past 45 deg at foot strike is a swapped or lost leg"),
    "knee_flex_contact_deg": (-5.0, 80.0, "runners land with 5-40 deg of knee flexion"),
    "hip_ext_toeoff_deg": (-30.0, 45.0, "hip extension ends near 30 deg"),
    "trunk_lean_deg": (-30.0, 60.0, "running with the trunk past 60 deg is not running"),
    "heel_ahead_ll": (-0.6, 0.8, "a leg cannot reach further ahead of the hips"),
    "bounce_ll": (0.0, 0.4, "hips rising and falling by 40% of leg length is a jump"),
    "cadence_spm": (100.0, 300.0, "a real-time step outside 100-300/min is a missed or doubled foot strike"),
    "arch_deg": (-30.0, 75.0, "neutral backs read 21-39 and the proxy rises at most ~1.1 deg per degree of a lumbar "
                            "extension range of ~30 deg; past 75 (or a hollow reading below -30) the outline traced "
                            "something else (an arm, clothing, the picture's edge)"),
    "pelvic_drop_deg": (-20.0, 20.0, "pelvic drop beyond 20 deg is not a running stride"),
}


# Frame rate. A step at 180/min lasts 0.33 s and the deadlift's early pull (set-up to 30 % of the
# bar's rise) 0.2-0.4 s: at 10 fps that is 2-3 frames, so the instant a timing metric hangs on
# (lift-off, foot strike, toe-off) is only known to +/- 50 ms, a quarter of the phase, and the
# rhythm cannot be resolved below ~6 fps (two samples per step). Below FPS_WARN the user is told;
# below FPS_MIN_TIMING those metrics are withheld.
FPS_WARN = 15.0
FPS_MIN_TIMING = 10.0


def frame_rate_limits(fps: float, timing: tuple[str, ...], label: str) -> tuple[list[str], dict[str, str]]:
    """(warnings, withheld) for a clip filmed at fps; timing: the exercise's metrics that hang on
    an instant; label: what they are, for people."""
    if not fps or fps >= FPS_WARN:
        return [], {}
    if fps < FPS_MIN_TIMING:
        why = (f"not measured: filmed at {fps:.0f} fps, below {FPS_MIN_TIMING:g} fps {label} fall between frames "
               "(film at 30 fps or more)")
        return [f"Filmed at only {fps:.0f} fps: {label} were not measured; the angles shown are from the nearest frames."], \
            {k: why for k in timing}
    return [f"Filmed at only {fps:.0f} fps: {label} are unreliable below {FPS_WARN:g} fps (film at 30 fps or more)."], {}


def fault_above(rule: Rule, value: float | None, message: str, t0: float, t1: float, **fmt) -> Fault | None:
    """The shape of most rules: a fault when the value is measured and past the rule's line.
    message is formatted with v=value and fmt."""
    if value is None or value <= rule.threshold:
        return None
    return make_fault(rule, value, message.format(v=value, **fmt), t0, t1)


def gate_plausible(metrics: dict[str, float | None], skip=()) -> dict[str, str]:
    """Set every metric outside PLAUSIBLE to None in place; return why, per metric. skip: metrics
    already withheld for another reason (that reason stands)."""
    out = {}
    for k, v in metrics.items():
        if k in PLAUSIBLE and k not in skip and v is not None and np.isfinite(v):
            lo, hi, why = PLAUSIBLE[k]
            if not lo <= v <= hi:
                out[k] = f"not measured: {v:.3g} is outside {lo:g}..{hi:g} ({why}); a landmark was most likely lost or swapped"
                metrics[k] = None
    return out
