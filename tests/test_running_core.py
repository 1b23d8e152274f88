"""Running core on synthetic signals with known answers."""
import numpy as np
import pytest

from formcheck import running
from formcheck.types import Rep


@pytest.mark.parametrize("spm,fs", [(170, 30.0), (150, 60.0), (190, 120.0)])
def test_step_period_from_rhythm_survives_double_peaks(spm, fs):
    t = np.arange(0, 10, 1 / fs)
    period = 60.0 / spm
    x = np.sin(2 * np.pi * t / period) ** 9 + 0.05 * np.random.default_rng(1).normal(size=len(t))
    x[int(3 * fs)] += 0.8  # a spurious extra peak
    assert running.step_period(x, fs) == pytest.approx(period, rel=0.05)


def test_no_rhythm_no_period():
    x = np.random.default_rng(0).normal(size=600)
    assert np.isnan(running.step_period(x, 30.0))


def _steps(leans):
    return [Rep(index=i + 1, start_s=i * 0.35, end_s=(i + 1) * 0.35, frames=(i, i + 1), key_frames={},
                metrics={"trunk_lean_deg": v}) for i, v in enumerate(leans)]


def test_lean_flagged_only_over_a_sustained_run():
    leans = [6] * 10 + [22] * 12 + [7] * 10
    f = running._lean_spans(_steps(leans))
    assert len(f) == 1 and f[0].code == "excessive_lean"
    assert f[0].start_s == pytest.approx(10 * 0.35 - 6 * 0.35, abs=0.8) or f[0].start_s <= 10 * 0.35
    assert f[0].end_s >= 21 * 0.35 and f[0].value > 15
    assert running._lean_spans(_steps([6] * 10 + [25] * 3 + [6] * 10)) == []  # 3 steps: not sustained
    back = running._lean_spans(_steps([-9] * 9))
    assert back and "behind" in back[0].message
