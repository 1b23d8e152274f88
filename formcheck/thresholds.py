"""Every fault threshold in one table, with its evidence level and its cue.

Evidence: S = measured in a study, R = review/clinical commentary, C = coaching or vendor
convention, P = our proposal (tuned on the clips in ../shared and the synthetic benchmark, not
validated). Sources are in ../shared/docs/measurement-evidence.md and the README.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    threshold: float
    unit: str
    evidence: str
    basis: str   # where the number comes from, briefly
    cue: str


DEADLIFT = {
    "lumbar_rounding": Rule(
        "lumbar_rounding", 20.0, "deg", "P",
        "Back-outline bend at the floor vs your own standing outline. Lifters normally lose 13-20 deg of "
        "lumbar lordosis from standing to set-up (Bengtsson 2022, S), which this silhouette proxy reads as "
        "~0-8 deg; no injury cut-off exists. Threshold tuned on the rounded vs flat-back clips.",
        "Brace before the bar moves: big breath into the belly, 'chest proud', pull the slack out of the bar "
        "so the back is set before lift-off. If it still rounds, the load is too heavy for today."),
    "hips_shoot_up": Rule(
        "hips_shoot_up", 1.6, "ratio", "P",
        "Hip rise / shoulder rise from set-up until the bar has covered 30% of its travel; 1 = they rise "
        "together. Widening hip-trunk lag is the fatigue pattern in van Dieen 1998 (S); ratio cut-off is ours.",
        "Push the floor away with your legs: 'chest and hips rise together'. Keep your back angle fixed "
        "until the bar passes the knees; if the hips pop up first, start with them a little higher."),
    "hips_shoot_up_trunk": Rule(
        "hips_shoot_up", 12.0, "deg", "P",
        "Trunk tipping more horizontal from set-up to 30% of the bar's rise: the knees straighten first and "
        "the back is left to lift (Rippetoe, C; van Dieen 1998, S). MediaPipe trunk noise puts our line at 12 deg, "
        "above the 5 deg in the evidence table.",
        "Push the floor away with your legs: 'chest and hips rise together'. Keep your back angle fixed "
        "until the bar passes the knees; if the hips pop up first, start with them a little higher."),
    "squatting_deadlift": Rule(
        "squatting_deadlift", 15.0, "deg", "P",
        "Thigh within 15 deg of horizontal at lift-off with the trunk more upright than 55 deg from vertical, "
        "or the trunk within 35 deg of vertical with the thigh within 25 deg of horizontal: a squat start. Conventional pullers start with the hips higher (Escamilla 2000, S); cut-off ours.",
        "Hinge, don't squat: push the hips back, shins close to vertical, shoulders over or slightly ahead "
        "of the bar at lift-off."),
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
    "set_breakdown": Rule(
        "set_breakdown", 6.0, "deg", "P",
        "A metric worsening from the first reps to the last third of the set by more than twice the rep-to-rep "
        "noise (and this many degrees). Repetitions to failure increase trunk flexion (Ramirez 2024, S).",
        "Your form drifted as the set went on: stop the set a rep or two earlier, or take weight off, and keep "
        "the reps that look like your first one."),
}


def severity(value: float, threshold: float) -> str:
    """How far past the line: up to 1.25x mild, up to 1.75x moderate, beyond that severe."""
    r = abs(value) / abs(threshold) if threshold else 1.0
    return "mild" if r < 1.25 else "moderate" if r < 1.75 else "severe"
