"""Playback speed per stretch, on gait signals with known answers."""
import numpy as np
import pytest

from formcheck import playback as pb

FS = 30.0


def _gait(spans, fs=FS, jitter=0.0, seed=0):
    """Leading-heel and trailing-toe signals (torso lengths ahead of the hips) for a runner whose
    step time changes by stretch: spans = [(seconds, step_s), ...]. Each step the heel reaches
    ahead once (a strike) and the toe trails behind once (a toe-off), half a step later."""
    rate = np.concatenate([np.full(int(round(d * fs)), 1.0 / st) for d, st in spans])
    phase = np.cumsum(rate) / fs                       # steps done
    lead = 0.8 * np.cos(2 * np.pi * phase) ** 3
    toe = -0.8 * np.cos(2 * np.pi * (phase - 0.5)) ** 3
    rng = np.random.default_rng(seed)
    return lead + jitter * rng.normal(size=len(lead)), toe


def _analyse(lead, toe, fs=FS):
    period = pb.step_period(lead, fs)
    per = pb.local_periods(lead, fs, period, confirm=toe)
    strikes = pb.pick_peaks(lead, 0.15, per, fs)
    return pb.stretches(strikes / fs, per[strikes])


def test_a_real_time_run_up_a_slowed_middle_and_real_time_again():
    """run_cez_treadmill_sprint_side_1's shape: 265/min sprinting, a ~3.7x slow-motion middle."""
    lead, toe = _gait([(3.0, 0.2264), (7.0, 0.85), (3.0, 0.2264)])
    parts = _analyse(lead, -toe)
    kinds = [p.playback for p in parts if p.playback != "unknown"]
    assert kinds == ["real-time", "slowed", "real-time"], [(p.start_s, p.end_s, p.playback, p.why) for p in parts]
    over = pb.cadence(parts)
    assert over.cadence_spm == pytest.approx(265, rel=0.03)
    slowed = next(p for p in parts if p.playback == "slowed")
    assert slowed.cadence_spm is None and slowed.slowed_x == pytest.approx(0.85 / 0.2264, rel=0.1)
    assert 2.5 < slowed.start_s < 4.0 and 9.5 < slowed.end_s < 11.0


def test_one_speed_is_one_stretch():
    for step_s, kind in ((0.36, "real-time"), (0.85, "slowed"), (3.4, "slowed")):
        lead, toe = _gait([(20.0, step_s)], jitter=0.03)
        parts = _analyse(lead, -toe)
        judged = [p for p in parts if p.playback != "unknown"]
        assert len(judged) == 1 and judged[0].playback == kind, (step_s, [(p.playback, p.why) for p in parts])


def test_jitter_on_one_foot_is_not_a_speed_change():
    """A 10x slow-motion run whose heel landmark jitters at a running rhythm for 1 s: the toe
    does not echo it, so it is not taken for a real-time stretch."""
    lead, toe = _gait([(30.0, 3.4)])
    t = np.arange(len(lead)) / FS
    burst = (t > 15) & (t < 16.2)
    lead[burst] += 0.7 * np.cos(2 * np.pi * t[burst] / 0.23) ** 3
    period = pb.step_period(lead, FS)
    per = pb.local_periods(lead, FS, period, confirm=-toe)
    assert np.allclose(per, period)
    per_unconfirmed = pb.local_periods(lead, FS, period)
    assert not np.allclose(per_unconfirmed, period)  # the check above is what stops it


def test_stretch_verdicts():
    st = pb.stretches(np.arange(0, 10, 0.36), np.full(28, 0.36))
    assert [p.playback for p in st] == ["real-time"] and st[0].cadence_spm == pytest.approx(166.7, abs=0.1)
    assert pb.stretches(np.arange(0, 3, 1.0), np.full(3, 1.0))[0].playback == "unknown"    # 2 steps
    assert pb.stretches(np.arange(0, 3, 0.15), np.full(20, 0.15))[0].playback == "sped-up"  # 400/min
    odd = pb.stretches(np.arange(0, 6, 0.6), np.full(10, 0.9))[0]                          # merged strikes
    assert odd.playback == "unknown" and "rhythm" in odd.why
