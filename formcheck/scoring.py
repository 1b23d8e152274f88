"""Scoring fault rules against reference labels. Pure: label rows and analysis results in, counts out.

The measuring stick for every threshold (`python -m formcheck.bench real`):
- each labelled rep (deadlift) or clip (running) becomes one `Item` per fault: its label (yes/no),
  the rule's scalar value (or None: not measured) and whether the shipped pipeline fired;
- counts per rep and per clip at the shipped threshold, with the margin: how far the threshold
  sits from the nearest labelled value on each side;
- leave-one-source-out (LOSO): for every source (the repository a clip came from), a threshold
  is chosen on all the other sources' items and scored on the one left out. A rule that only
  works when its threshold has seen the clips it is judged on shows up here.

"unclear" and "n/a" labels are excluded from every count and listed.
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Scored:
    """How one labelled fault maps onto the pipeline: the label column, the fault code the
    pipeline emits, and the scalar(s) its threshold applies to (None: no rule exists yet)."""
    label: str
    code: str | None
    metric: str | None = None
    direction: str = ">"            # ">": flagged above the threshold; "<": below
    rule: str | None = None         # key in the thresholds table (the shipped number)
    note: str = ""
    method: str = "youden"          # how the shipped number is chosen: "youden" (best split) or
                                    # "reference" (edge of the 'no' clips' normal range)


@dataclass
class Item:
    fault: str          # label column
    source: str         # repository the clip came from (MANIFEST column 2)
    clip: str
    unit: str           # "rep 2", "clip"
    label: str          # yes / no / unclear / n/a
    value: float | None  # the rule's scalar; None = not measured
    fired: bool         # the shipped pipeline flagged it
    t: float | None = None
    why_missing: str = ""
    metric: str | None = None  # which scalar of the rule `value` is


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(float(x))


def flags(value: float | None, thr: float, direction: str) -> bool:
    if not _is_num(value):
        return False  # not measured is never a detection
    return value > thr if direction == ">" else value < thr


def confusion(items: Iterable[Item], predict=None) -> dict[str, Any]:
    """tp/fp/tn/fn over yes/no items (predict(item) -> bool, default: what the pipeline fired),
    with sensitivity, specificity and how many labelled items had no value."""
    c = dict(tp=0, fp=0, tn=0, fn=0, not_measured_yes=0, not_measured_no=0)
    for it in items:
        if it.label not in (YES, NO):
            continue
        p = it.fired if predict is None else predict(it)
        if not _is_num(it.value):
            c["not_measured_yes" if it.label == YES else "not_measured_no"] += 1
        if it.label == YES:
            c["tp" if p else "fn"] += 1
        else:
            c["fp" if p else "tn"] += 1
    c["sensitivity"] = _ratio(c["tp"], c["tp"] + c["fn"])
    c["specificity"] = _ratio(c["tn"], c["tn"] + c["fp"])
    return c


def _ratio(a: int, b: int) -> float | None:
    return None if b == 0 else round(a / b, 3)


def per_clip(items: Sequence[Item], direction: str = ">") -> list[Item]:
    """Collapse rep items to one per clip and fault: yes if any rep is yes, no if every rep is no
    (unclear reps ignored), fired if any rep fired; value = the most extreme rep value."""
    groups: dict[tuple[str, str, str | None], list[Item]] = {}
    for it in items:
        groups.setdefault((it.fault, it.clip, it.metric), []).append(it)
    out = []
    for (fault, clip, _), its in groups.items():
        labels = [i.label for i in its if i.label in (YES, NO)]
        label = YES if YES in labels else NO if labels else (its[0].label if its else "unclear")
        vals = [i.value for i in its if _is_num(i.value)]
        value = (max(vals) if direction == ">" else min(vals)) if vals else None
        out.append(Item(fault, its[0].source, clip, "clip", label, value, any(i.fired for i in its), metric=its[0].metric))
    return out


def choose_threshold(items: Sequence[Item], direction: str = ">") -> float | None:
    """The threshold that best separates yes from no among measured items (Youden's J: sensitivity
    + specificity - 1); among equally good thresholds the middle of the widest gap between values.
    None when the items hold no yes or no 'no' to separate."""
    pts = sorted((float(i.value), i.label) for i in items if i.label in (YES, NO) and _is_num(i.value))
    n_yes = sum(lab == YES for _, lab in pts)
    n_no = len(pts) - n_yes
    if not n_yes or not n_no:
        return None
    vals = sorted({v for v, _ in pts})
    # candidates: below all, every midpoint, above all
    cands = [(vals[0] - 1.0, 1.0)] + [((a + b) / 2, b - a) for a, b in zip(vals, vals[1:])] + [(vals[-1] + 1.0, 1.0)]
    best, best_key = None, None
    for thr, gap in cands:
        tp = sum(lab == YES and flags(v, thr, direction) for v, lab in pts)
        tn = sum(lab == NO and not flags(v, thr, direction) for v, lab in pts)
        j = tp / n_yes + tn / n_no - 1.0
        key = (round(j, 9), gap)
        if best_key is None or key > best_key:
            best, best_key = thr, key
    return float(best)


def reference_threshold(items: Sequence[Item], direction: str = ">", z: float = 1.96) -> float | None:
    """The edge of the normal range: mean + z SD (direction '>') of the 'no' items, one value per
    clip (its median), so a 10-rep clip counts as one body, not ten. Uses no 'yes' item at all:
    a flag then means 'outside what flat-back lifters show', at a known false-alarm rate."""
    byclip: dict[str, list[float]] = {}
    for i in items:
        if i.label == NO and _is_num(i.value):
            byclip.setdefault(i.clip, []).append(float(i.value))
    if len(byclip) < 3:
        return None
    meds = [statistics.median(v) for v in byclip.values()]
    mean, sd = statistics.mean(meds), statistics.stdev(meds)
    return mean + z * sd if direction == ">" else mean - z * sd


def loso(items: Sequence[Item], direction: str = ">", chooser=None) -> dict[str, Any]:
    """Leave-one-source-out: per held-out source, the threshold chosen on the rest and the counts
    it gives on the held-out items; pooled sensitivity and specificity over all folds. A fold
    whose training items hold no yes or no 'no' cannot choose a threshold: its items are listed as
    unscored, not counted. chooser(items, direction) picks the threshold (default: choose_threshold)."""
    chooser = chooser or choose_threshold
    sources = sorted({i.source for i in items if i.label in (YES, NO)})
    folds = []
    pooled = dict(tp=0, fp=0, tn=0, fn=0)
    unscored = 0
    for s in sources:
        train = [i for i in items if i.source != s]
        test = [i for i in items if i.source == s and i.label in (YES, NO)]
        thr = chooser(train, direction)
        if thr is None:
            folds.append(dict(source=s, threshold=None, n=len(test)))
            unscored += len(test)
            continue
        c = confusion(test, predict=lambda it, thr=thr: flags(it.value, thr, direction))
        folds.append(dict(source=s, threshold=round(thr, 3), n=len(test),
                          **{k: c[k] for k in ("tp", "fp", "tn", "fn")}))
        for k in pooled:
            pooled[k] += c[k]
    thrs = [f["threshold"] for f in folds if f["threshold"] is not None]
    return dict(folds=folds, unscored=unscored, **pooled,
                sensitivity=_ratio(pooled["tp"], pooled["tp"] + pooled["fn"]),
                specificity=_ratio(pooled["tn"], pooled["tn"] + pooled["fp"]),
                threshold_range=[min(thrs), max(thrs)] if thrs else None,
                all_sources_threshold=chooser(items, direction))


def auc(items: Sequence[Item], direction: str = ">") -> float | None:
    """How well a scalar separates the labels, whatever the line: the chance that a 'yes' item
    reads past a 'no' item (ties count half; 0.5 = no better than a coin). Unmeasured items are
    left out. None without both labels."""
    sign = 1.0 if direction == ">" else -1.0
    yes = [sign * float(i.value) for i in items if i.label == YES and _is_num(i.value)]
    no = [sign * float(i.value) for i in items if i.label == NO and _is_num(i.value)]
    if not yes or not no:
        return None
    wins = sum((y > n) + 0.5 * (y == n) for y in yes for n in no)
    return wins / (len(yes) * len(no))


def margins(items: Sequence[Item], thr: float, direction: str = ">") -> dict[str, Any]:
    """Nearest labelled value on each side of the threshold: distance, label, clip and unit.
    A small distance to an item on the wrong side (or to either side) means the threshold sits
    within noise of one clip."""
    below = [i for i in items if i.label in (YES, NO) and _is_num(i.value) and i.value <= thr]
    above = [i for i in items if i.label in (YES, NO) and _is_num(i.value) and i.value > thr]
    out: dict[str, Any] = {}
    for name, group, key in (("below", below, lambda i: thr - i.value), ("above", above, lambda i: i.value - thr)):
        if group:
            i = min(group, key=key)
            out[name] = dict(distance=round(key(i), 3), value=round(i.value, 3), label=i.label, clip=i.clip, unit=i.unit)
        else:
            out[name] = None
    return out


def either_rule(items: Sequence[Item], label: str, metrics: Sequence[str]) -> dict[str, Any]:
    """One label answered by several rules (one per metric): a unit counts as flagged when any of
    them fired on it. Counts as confusion(), plus the units missed and falsely flagged."""
    units: dict[tuple[str, str], list[Item]] = {}
    for i in items:
        if i.fault == label and i.metric in metrics:
            units.setdefault((i.clip, i.unit), []).append(i)
    merged = [replace(v[0], fired=any(x.fired for x in v), value=None) for v in units.values()]
    c = confusion(merged)
    return dict(**{k: c[k] for k in ("tp", "fp", "tn", "fn", "sensitivity", "specificity")},
                missed=[f"{i.clip} {i.unit}" for i in merged if i.label == "yes" and not i.fired],
                false_alarms=[f"{i.clip} {i.unit}" for i in merged if i.label == "no" and i.fired])


def within_lifter_sd(rows: Iterable[dict], metric: str, min_reps: int = 3) -> dict[str, Any]:
    """The pooled rep-to-rep SD of a metric within each clip (one lifter) of min_reps or more
    measured reps: measurement noise plus real variation, with no label used."""
    per: dict[str, list[float]] = {}
    for r in rows:
        v = (r.get("metrics") or {}).get(metric)
        if r["unit"].startswith("rep") and v is not None:
            per.setdefault(r["clip"], []).append(float(v))
    groups = [v for v in per.values() if len(v) >= min_reps]
    dof = sum(len(v) - 1 for v in groups)
    ss = sum((x - statistics.fmean(v)) ** 2 for v in groups for x in v)
    return dict(metric=metric, sd=math.sqrt(ss / dof) if dof else None, clips=len(groups), reps=sum(len(v) for v in groups))


def timing_errors(pairs: Sequence[dict], tolerance_s: float = 0.3, worst: int = 5) -> dict[str, Any]:
    """Found minus labelled time per event (dicts with clip, rep, label_s, found_s): how many fall
    within the labels' own precision, the median miss, and the furthest ones."""
    errs = sorted(({**p, "error_s": round(p["found_s"] - p["label_s"], 3)} for p in pairs), key=lambda e: -abs(e["error_s"]))
    return dict(n=len(errs), tolerance_s=tolerance_s, within=sum(abs(e["error_s"]) <= tolerance_s for e in errs),
                median_abs_s=statistics.median(abs(e["error_s"]) for e in errs) if errs else None, worst=errs[:worst])


def implausible(rows: Iterable[dict], ranges: dict[str, tuple[float, float, str]]) -> list[dict]:
    """Every reported metric outside its possible range. rows: dicts with clip, unit, t and metrics."""
    out = []
    for r in rows:
        for k, v in (r.get("metrics") or {}).items():
            if k in ranges and _is_num(v):
                lo, hi, why = ranges[k]
                if not lo <= v <= hi:
                    out.append(dict(clip=r["clip"], unit=r["unit"], t=r.get("t"), metric=k, value=round(float(v), 3),
                                    range=[lo, hi], why=why))
    return out


# --- labels ---------------------------------------------------------------------------------

def _num(s: str | None) -> float | None:
    try:
        v = float(s)  # "NA", "" -> ValueError
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass
class LabelRep:
    clip: str
    rep: str                 # "1", "2", ... or "all"
    t_setup: float | None
    t_lockout: float | None
    view: str
    faults: dict[str, str]   # label column -> yes/no/unclear/n/a
    confidence: str = ""
    matched: list[int] = field(default_factory=list)  # detected rep indices (1-based)


def deadlift_labels(rows: Iterable[dict], fault_columns: Sequence[str]) -> dict[str, list[LabelRep]]:
    """Per clip, its labelled reps (rows of deadlift_reps.tsv as dicts)."""
    out: dict[str, list[LabelRep]] = {}
    for r in rows:
        out.setdefault(r["clip"], []).append(LabelRep(
            clip=r["clip"], rep=str(r["rep"]).strip(), t_setup=_num(r.get("t_setup_s")), t_lockout=_num(r.get("t_lockout_s")),
            view=r.get("view", ""), confidence=r.get("confidence", ""),
            faults={c: (r.get(c) or "").strip().lower() for c in fault_columns}))
    return out


def match_reps(labels: list[LabelRep], detected: Sequence[tuple[float, float]], pad_s: float = 0.5) -> list[LabelRep]:
    """Pair labelled reps with detected ones. detected: (set-up time, lockout time) per detected
    rep. A timed label takes the detected rep whose padded set-up..lockout span overlaps its own
    the most (each detected rep used once). A label with no times ('all', or the clip's only row)
    stands for every detected rep. Unmatched labels keep matched == []."""
    used: set[int] = set()
    for lab in labels:
        lab.matched = []
        if lab.rep == "all" or (lab.t_setup is None and lab.t_lockout is None):
            if lab.rep == "all" or len(labels) == 1:
                lab.matched = list(range(1, len(detected) + 1))
            continue
        lo = lab.t_setup if lab.t_setup is not None else lab.t_lockout - 1.5
        hi = lab.t_lockout if lab.t_lockout is not None else lab.t_setup + 1.5
        best, best_ov = None, 0.0
        for k, (a, b) in enumerate(detected, start=1):
            if k in used:
                continue
            ov = min(hi, b + pad_s) - max(lo, a - pad_s)
            if ov > best_ov:
                best, best_ov = k, ov
        if best is not None:
            used.add(best)
            lab.matched = [best]
    return labels


_RATE = re.compile(r"~?\s*(\d{2,3}(?:\.\d+)?)\s*(?:-\s*(\d{2,3}))?\s*real-time")


def hand_cadence(text: str) -> float | None:
    """The hand-counted real-time steps/min of running_clips.tsv ('~170 real-time: ...',
    '~167-172 real-time', '~265 in the real-time part'); None where there is none."""
    if not text or text.lower().startswith("n/a"):
        return None
    m = _RATE.search(text)
    if m:
        a = float(m.group(1))
        return (a + float(m.group(2))) / 2 if m.group(2) else a
    m = re.match(r"~?\s*(\d{2,3})\s+in the real-time part", text)
    return float(m.group(1)) if m else None


def lean_label(text: str) -> str:
    """running_clips.tsv trunk_lean prose -> excessive-lean yes/no/unclear."""
    t = (text or "").lower().replace("not exaggerated", "")
    if "exaggerated" in t:
        return YES
    if t.startswith("upright") or t.startswith("slight"):
        return NO
    return "unclear"


def yes_no(text: str) -> str:
    t = (text or "").strip().lower()
    return t if t in (YES, NO, "n/a") else "unclear"
