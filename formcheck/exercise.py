"""What an exercise is, for everything outside its own module: one spec object per exercise.

The analysers (deadlift.py, running.py) each define a SPEC; the registry below lists them.
Shells (pipeline, render, compare, report, app, CLI) ask the spec - the word for a repetition,
its phases, the live readouts, the back-shape measure and its rule - and never compare
exercise names. A new exercise is its own module plus one line in `_builtin()`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .thresholds import Rule
from .types import Analysis, FormcheckError, PoseTrack


@dataclass(frozen=True)
class Trend:
    """One number the history follows over sessions (formcheck.history). source: "back_worst" /
    "back_median" (the exercise's back measure: worst rep, set median, each with its +/-),
    "median" (of the per-rep metric `arg`), "summary" (the analysis summary's `arg`) or "share"
    (of reps/steps with a fault whose code starts with `arg`)."""
    key: str
    label: str
    unit: str
    source: str
    arg: str = ""

    @property
    def sd_key(self) -> str | None:
        return {"back_worst": "back_worst_sd", "back_median": "back_sd"}.get(self.source)


@dataclass(frozen=True)
class Exercise:
    name: str
    unit: str                                   # the word for one repetition: "rep", "step"
    analyze: Callable[[PoseTrack], Analysis]    # pure: track in, typed result out
    phases: tuple[str, ...]                     # key frames a repetition is time-normalised by (compare)
    phase_words: str                            # the same, for people
    readouts: tuple[tuple[str, str, str], ...]  # live numbers on the annotated clip: (series, label, unit)
    plot_keys: tuple[str, ...]                  # series plotted over time
    back_key: str                               # the back-shape series / metric
    back_rule: Rule                             # its rule (colours the outline, draws the plot line)
    back_window: tuple[str, str] | None = None  # key frames the back is measured between (None: the whole rep)
    back_span: tuple[float, float] = (0.0, 1.0)  # the part of the hip->shoulder line its outline is read over (drawn only there)
    pair_by_back: bool = False                  # side-by-side default: least vs most affected by the back measure
    back_sd: float | None = None                # the back number's +/- (1 SD), shown beside it live
    rules: dict[str, Rule] = field(default_factory=dict)
    trend: tuple[Trend, ...] = ()               # what the history plots per session

    @property
    def units(self) -> str:
        return self.unit + "s"


_REGISTRY: dict[str, Exercise] = {}


def register(spec: Exercise) -> None:
    _REGISTRY[spec.name] = spec


def _builtin() -> None:
    if not _REGISTRY:
        from . import deadlift, running
        register(deadlift.SPEC)
        register(running.SPEC)


def names() -> list[str]:
    _builtin()
    return list(_REGISTRY)


def get(name: str) -> Exercise:
    _builtin()
    if name not in _REGISTRY:
        raise FormcheckError(f"Exercise '{name}' is not supported (choose from {', '.join(_REGISTRY)}).")
    return _REGISTRY[name]
