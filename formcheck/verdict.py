"""The answer first: one card per rep (or per stretch of steps) in plain words. Pure: an
Analysis in, cards out; the app draws them, tests read them.

A card says what was measured against which line, how sure we are, where in the clip, and the
cue; a rep whose back could not be measured says so with the reason - never a green all-clear.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .exercise import get as get_exercise
from .types import Analysis, Rep

STRETCH_STEPS = 10  # running: steps per card (a card per step of a 2-minute run is noise)


@dataclass
class Card:
    title: str                  # "Rep 3 - 4.2 to 6.8 s"
    status: str                 # "fault" / "ok" / "unmeasured"
    back: str                   # the back-shape line: value +/- uncertainty vs the line, or "back not measured: why"
    faults: list[str] = field(default_factory=list)   # "Lumbar rounding (moderate): 21 deg, line 14 deg. <message>"
    cues: list[str] = field(default_factory=list)
    jump_s: float = 0.0         # where the video should start to show it (the earliest fault, else the rep)
    reps: tuple[int, ...] = ()
    unmeasured: list[str] = field(default_factory=list)  # other numbers not measured here, with why: never a silent pass


def _name(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _fmt(v: float) -> str:
    return f"{v:.2f}" if abs(v) < 1 else f"{v:.0f}"


def back_line(a: Analysis, reps: list[Rep]) -> tuple[str, bool]:
    """(text, measured) for the back-shape number of one rep or a stretch (the median)."""
    spec = get_exercise(a.exercise)
    key = spec.back_key
    label = a.metric_info.get(key, {}).get("label", key)
    unit = a.metric_info.get(key, {}).get("unit", "deg").split(" (")[0]
    if key in a.withheld:
        return f"{label}: not measured - {a.withheld[key]}", False
    vals = [r.metrics.get(key) for r in reps if r.metrics.get(key) is not None]
    if not vals:
        why = next((r.not_measured[key] for r in reps if key in r.not_measured), "no clear back outline in this " + spec.unit)
        return f"{label}: back not measured - {why.removeprefix('not measured: ')}", False
    v = float(np.median(vals))
    sds = [r.metrics.get(key.replace("_deg", "_sd_deg")) for r in reps]
    sds = [s for s in sds if s is not None]
    sd = float(np.median(sds)) if sds else spec.back_sd
    pm = f" +/- {sd:.0f}" if sd else ""
    line = f", line {spec.back_rule.threshold:g} {unit}" if spec.back_rule.threshold is not None else ""
    what = "median of the steps" if len(reps) > 1 else "estimate from the silhouette"
    return f"{label}: {v:.0f}{pm} {unit}{line} ({what})", True


def _card(a: Analysis, reps: list[Rep], title: str) -> Card:
    back, measured = back_line(a, reps)
    hits = [(r, f) for r in reps for f in r.faults]
    faults, cues = [], []
    by_code: dict[str, list] = {}
    for r, f in hits:
        by_code.setdefault(f.code, []).append((r, f))
    for code, fs in by_code.items():
        worst = max(fs, key=lambda rf: abs(rf[1].value) / (abs(rf[1].threshold) or 1.0))[1]
        many = f" in {len(fs)} of {len(reps)} steps" if len(reps) > 1 else ""
        faults.append(f"{_name(code)} ({worst.severity}){many}: {_fmt(worst.value)} {worst.unit}, line "
                      f"{_fmt(worst.threshold)} {worst.unit}. {worst.message}")
        if worst.cue not in cues:
            cues.append(worst.cue)
    status = "fault" if hits else "ok" if measured else "unmeasured"
    spec = get_exercise(a.exercise)
    why: dict[str, list[str]] = {}  # label -> reasons, in order
    for r in reps:
        for k, reason in r.not_measured.items():
            if k != spec.back_key and k not in a.withheld:
                label = a.metric_info.get(k, {}).get("label", k)
                why.setdefault(label, [])
                if reason not in why[label]:
                    why[label].append(reason)
    unmeasured = [f"{label}: not measured - {'; '.join(x.removeprefix('not measured: ') for x in rs)}"
                  for label, rs in why.items()]
    worst_t = min((f.start_s for _, f in hits), default=reps[0].start_s)
    return Card(title=title, status=status, back=back, faults=faults, cues=cues, jump_s=float(worst_t),
                reps=tuple(r.index for r in reps), unmeasured=unmeasured)


def cards(a: Analysis) -> list[Card]:
    """Deadlift: one card per rep. Running: one per stretch of STRETCH_STEPS steps."""
    spec = get_exercise(a.exercise)
    if spec.unit == "rep":
        return [_card(a, [r], f"Rep {r.index} - {r.start_s:.1f} to {r.end_s:.1f} s") for r in a.reps]
    out = []
    for k in range(0, len(a.reps), STRETCH_STEPS):
        part = a.reps[k:k + STRETCH_STEPS]
        out.append(_card(a, part, f"Steps {part[0].index}-{part[-1].index} - {part[0].start_s:.1f} to {part[-1].end_s:.1f} s"))
    return out


def headline(a: Analysis, cs: list[Card]) -> tuple[str, str]:
    """(level, text) for the whole clip: "error" when a fault fired, "warning" when the back could
    not be measured or the tracked body jumped (never an all-clear then), else "success". (Other
    metrics withheld, e.g. for a low frame rate, are listed under the capture check.)"""
    spec = get_exercise(a.exercise)
    n = len(a.reps)
    bad = [c for c in cs if c.status == "fault"]
    unmeasured = [c for c in cs if c.status == "unmeasured"]
    jumped = any("jumped" in w for w in a.warnings)
    words = f"{n} {spec.unit}{'' if n == 1 else 's'}"
    set_faults = ", ".join(_name(f.code).lower() for f in a.faults)
    if bad:
        hits: dict[str, list[int]] = {}
        for r in a.reps:
            for f in r.faults:
                hits.setdefault(f.code, []).append(r.index)
        parts = [f"{_name(c).lower()} in {spec.unit} {idx[0]}" if len(idx) == 1 else
                 f"{_name(c).lower()} in {spec.units} {', '.join(map(str, idx))}" if len(idx) <= 5 else
                 f"{_name(c).lower()} in {len(idx)} of {n} {spec.units}" for c, idx in hits.items()]
        return "error", f"{words}: " + "; ".join(parts) + (f"; across the set: {set_faults}." if set_faults else ".")
    if a.faults:
        return "error", f"{words}: no single {spec.unit} crossed a line, but the set did: {set_faults}."
    if unmeasured or jumped:
        of = f"{len(unmeasured)} of {len(cs)} {spec.units}" if spec.unit == "rep" else f"{len(unmeasured)} of {len(cs)} stretches of steps"
        why = (f"the back was not measured on {of}" if unmeasured
               else "the tracked body jumped during the clip (see the warnings)")
        return "warning", f"{words}: no fault crossed its line, but {why} - this is not an all-clear."
    partly = sorted({u.split(":")[0] for c in cs for u in c.unmeasured})
    if partly:  # not a silent pass: say which numbers were not there to check
        where = "" if n == 1 else f" on some {spec.units}"
        return "success", (f"{words}: no fault crossed its line where it was measured; not measured{where}: "
                           f"{', '.join(partly).lower()} (see each {spec.unit}).")
    return "success", f"{words}: no fault crossed its line."
