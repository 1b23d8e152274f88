"""Playback speed per stretch of a running clip, from the step rhythm. Pure: arrays in, stretches out.

Phone and stock running clips are often slow motion, and some change speed part-way (a
real-time run-up, a slowed middle, real time again). The capture rate is not in the file, so the
only clock is the runner: nobody runs slower than SLOWMO_CADENCE steps a minute or faster than
MAX_CADENCE. The step rhythm is found locally (short windows), so a stretch whose rhythm differs
clearly from the clip's own is given its own step spacing and its own verdict, and cadence is
reported only over stretches that play in real time, named by their times.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import find_peaks

MIN_STEP_S = 0.2            # 300 steps/min: elite sprinters reach ~4.5-5 steps/s (Mann 1985; Weyand 2000)
MAX_CADENCE = 60.0 / MIN_STEP_S
SLOWMO_CADENCE = 110.0      # below this "running" is slow-motion playback: walking is ~100-120, running >= ~140
LOCAL_WINDOW_S = 2.0        # a local rhythm needs ~2 periods: covers steps up to 1 s apart
LOCAL_HOP_S = 0.25
SPEED_CHANGE = 1.6          # a local rhythm this many times faster or slower than the clip's is a speed change,
                            # not stride-to-stride variation (~5 %) or a gentle acceleration (< 20 % in 2 s)
CLEAR_RHYTHM = 0.3          # autocorrelation peak a local rhythm must reach (0.1 for the whole clip; a 2 s
                            # window of a runner whose near and far strikes differ reads 0.35-0.6)
LOCAL_NEARLY = 0.6          # in a short window the step lag may reach only ~0.6 of the stride lag's correlation
SAME_RHYTHM = 0.25          # neighbouring windows within this fraction of each other keep one rhythm
MIN_SEEN_SHARE = 0.8        # a window with more gaps than this is not read: rhythm() closes gaps, which shifts lags
MIN_LOCAL_S = 0.75          # a speed change must hold this long (several overlapping windows) to count
MIN_STRETCH_STEPS = 3       # fewer steps than this: the stretch's speed is "unknown"


def rhythm(x: np.ndarray, fs: float, lo_s: float = MIN_STEP_S, hi_s: float = 4.0,
           nearly: float = 0.8) -> tuple[float, float]:
    """(step period s, autocorrelation at it) of a signal that peaks once per step; (NaN, 0) if
    no rhythm. The shortest lag with `nearly` the best correlation wins: the step, not the stride
    (near- and far-foot strikes differ in a side view, so the stride lag can correlate better)."""
    y = x[np.isfinite(x)]
    if len(y) < 3 * hi_s * fs / 2 and len(y) < 40:
        return float("nan"), 0.0
    y = y - y.mean()
    ac = np.correlate(y, y, mode="full")[len(y) - 1:]
    ac = ac / (ac[0] + 1e-12)
    lo, hi = max(1, int(lo_s * fs)), min(len(ac) - 1, int(hi_s * fs))
    if hi <= lo + 2:
        return float("nan"), 0.0
    pk, props = find_peaks(ac[lo:hi + 1], height=0.1)
    if not len(pk):
        return float("nan"), 0.0
    best = float(np.max(props["peak_heights"]))
    k = min(lo + int(p) for p, h in zip(pk, props["peak_heights"]) if h >= nearly * best)
    # a parabola through the peak and its neighbours: a step period finer than one frame
    if 0 < k < len(ac) - 1:
        a, b, c = ac[k - 1], ac[k], ac[k + 1]
        den = a - 2 * b + c
        k = k + (0.5 * (a - c) / den if den < 0 else 0.0)
    return float(k / fs), float(ac[int(round(k))])


def step_period(x: np.ndarray, fs: float, lo_s: float = MIN_STEP_S, hi_s: float = 4.0) -> float:
    """Step period (s) from the autocorrelation; NaN if no clear rhythm. Counting peaks one by one
    is fooled by double peaks; the rhythm is not."""
    return rhythm(x, fs, lo_s, hi_s)[0]


def local_periods(x: np.ndarray, fs: float, period: float, confirm: np.ndarray | None = None) -> np.ndarray:
    """The step period at each frame: the clip's own (period), except over a stretch of at least
    MIN_LOCAL_S whose short-window rhythm is clear and SPEED_CHANGE times faster or slower.

    confirm: a second signal of the same gait (the trailing toe, for strikes from the leading
    heel) that must keep the same rhythm there, per step or per stride (one foot hidden). A
    step is a whole-leg event; landmark jitter on one foot (seen on a 10x slow-motion clip:
    0.23 s "steps" for 0.7 s) is not echoed by the other events of the cycle."""
    n = len(x)
    out = np.full(n, period, dtype=float)
    win, hop = int(round(LOCAL_WINDOW_S * fs)), max(1, int(round(LOCAL_HOP_S * fs)))
    if not np.isfinite(period) or n < win:
        return out
    centres, local = [], []
    for a in range(0, n - win + 1, hop):
        w = x[a:a + win]
        seen = np.isfinite(w).mean() >= MIN_SEEN_SHARE and (confirm is None or np.isfinite(confirm[a:a + win]).mean() >= MIN_SEEN_SHARE)
        p, h = rhythm(w, fs, hi_s=LOCAL_WINDOW_S / 2, nearly=LOCAL_NEARLY) if seen else (float("nan"), 0.0)
        changed = np.isfinite(p) and h >= CLEAR_RHYTHM and max(p / period, period / p) >= SPEED_CHANGE
        if changed and confirm is not None:
            q = rhythm(confirm[a:a + win], fs, hi_s=LOCAL_WINDOW_S / 2, nearly=LOCAL_NEARLY)[0]
            changed = np.isfinite(q) and min(abs(q / p - 1), abs(q / (2 * p) - 1)) <= SAME_RHYTHM
        centres.append(a + win // 2)
        local.append(p if changed else np.nan)
    centres, local = np.array(centres), np.array(local)
    need = max(1, int(np.ceil(MIN_LOCAL_S / LOCAL_HOP_S)))
    ok = np.isfinite(local)
    i = 0
    while i < len(ok):  # runs of changed windows with one rhythm, long enough to be a stretch
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(ok) and ok[j + 1] and abs(local[j + 1] / np.median(local[i:j + 1]) - 1) <= SAME_RHYTHM:
            j += 1  # against the run so far, so a slow drift does not chain unlike rhythms
        if j - i + 1 >= need:
            lo = centres[i] - hop // 2 if i > 0 else 0           # the first and last windows reach the clip's ends
            hi = centres[j] + hop // 2 + 1 if j < len(ok) - 1 else n
            out[lo:hi] = np.median(local[i:j + 1])
        i = j + 1
    return out


def pick_peaks(x: np.ndarray, prominence: float, periods: np.ndarray, fs: float, spacing: float = 0.6) -> np.ndarray:
    """Peaks of x at least `spacing` of the local step period apart (the more prominent kept),
    as find_peaks' distance does for one period."""
    filled = np.nan_to_num(x, nan=np.nanmin(x) if np.isfinite(x).any() else 0.0)
    cand, props = find_peaks(filled, prominence=prominence)
    prom = {int(i): p for i, p in zip(cand, props["prominences"]) if np.isfinite(x[i])}
    keep: list[int] = []
    for i in sorted(prom, key=lambda i: -prom[i]):
        gap = max(1, int(spacing * periods[i] * fs))  # whole frames, as find_peaks counts
        if all(abs(i - k) >= gap for k in keep):
            keep.append(int(i))
    return np.array(sorted(keep), dtype=int)


@dataclass
class Stretch:
    start_s: float
    end_s: float
    playback: str            # "real-time", "slowed", "sped-up" or "unknown"
    steps: int
    cadence_spm: float | None  # only for real time
    step_time_s: float       # mean of the consistent step times, seconds of the video
    slowed_x: float | None   # how much slower than the clip's real-time stretches, when it has both
    why: str
    first_step: int = 0      # index of its first step in the clip's steps

    def to_dict(self) -> dict:
        return asdict(self)


def _mean_step(st: np.ndarray) -> float:
    """Mean of the consistent step times: a missed or doubled strike does not drag it."""
    med = float(np.median(st))
    ok = (st > 0.6 * med) & (st < 1.5 * med)
    return float(np.mean(st[ok])) if ok.any() else med


def stretches(strike_t: np.ndarray, periods_at_strike: np.ndarray) -> list[Stretch]:
    """Consecutive steps grouped by their local rhythm (the same period), each judged."""
    if len(strike_t) < 2:
        return []
    st = np.diff(strike_t)
    key = np.round(periods_at_strike[:-1], 6)
    out: list[Stretch] = []
    a = 0
    for b in range(1, len(st) + 1):
        if b < len(st) and key[b] == key[a]:
            continue
        seg = st[a:b]
        mean = _mean_step(seg)
        spm = 60.0 / mean
        n = b - a
        if n < MIN_STRETCH_STEPS:
            kind, why = "unknown", f"{n} step{'s' if n > 1 else ''}: too few to judge the speed"
        elif abs(mean / key[a] - 1) > SAME_RHYTHM:  # strikes merged or split: their spacing is not a step time
            kind, why = "unknown", (f"steps every {mean:.2f} s do not keep the {key[a]:.2f} s rhythm they were found with, "
                                    "so the step time is not clear")
        elif spm < SLOWMO_CADENCE:
            kind, why = "slowed", f"steps every {mean:.2f} s ({spm:.0f}/min): slower than anyone runs"
        elif spm > MAX_CADENCE:
            kind, why = "sped-up", f"steps every {mean:.2f} s ({spm:.0f}/min): faster than anyone runs"
        else:
            kind, why = "real-time", f"steps every {mean:.2f} s ({spm:.0f}/min), a running cadence"
        out.append(Stretch(round(float(strike_t[a]), 2), round(float(strike_t[b]), 2), kind, n,
                           round(spm, 1) if kind == "real-time" else None, round(mean, 4), None, why, a))
        a = b
    real = [s for s in out if s.playback == "real-time"]
    if real:
        ref = sum(s.step_time_s * s.steps for s in real) / sum(s.steps for s in real)
        for s in out:
            if s.playback == "slowed":
                s.slowed_x = round(s.step_time_s / ref, 1)
                s.why += f"; about {s.slowed_x:g}x slower than the real-time stretch{'es' if len(real) > 1 else ''}"
    return out


def cadence(parts: list[Stretch]) -> Stretch | None:
    """The real-time stretch cadence is reported from: the one with the most steps."""
    real = [s for s in parts if s.playback == "real-time"]
    return max(real, key=lambda s: s.steps) if real else None
