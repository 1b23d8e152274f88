"""The synthetic generator's pose scripts (pure Python: no body model, no renderer)."""
import dataclasses

import pytest

from formcheck.synthetic.clips import running_poses


def test_a_run_can_start_with_quiet_standing_in_a_neutral_spine():
    frames, events = running_poses(2.0, 30.0, cadence=180.0, lumbar_ext=12.0, stand_s=1.0)
    assert len(frames) == 30 + 60
    start = [e["frame"] for e in events if e["event"] == "run_start"]
    assert start == [30]
    # standing: upright, neutral spine, arms down; running: the lower back extended as asked
    assert all(f.lumbar == 0.0 and f.trunk == 0.0 and f.thigh_l == 0.0 for f in frames[:30])
    assert all(f.lumbar == pytest.approx(-12.0) for f in frames[30:])
    strikes = [e["frame"] for e in events if e["event"].startswith("strike")]
    assert strikes and min(strikes) > 30
    # 180 steps/min at 30 fps is a 20-frame stride: the poses repeat exactly
    a, b = dataclasses.astuple(frames[35]), dataclasses.astuple(frames[55])
    assert all(x == pytest.approx(y, abs=1e-9) for x, y in zip(a[:-1], b[:-1]))


def test_without_standing_a_run_is_as_before():
    frames, events = running_poses(1.0, 30.0, cadence=170.0, lumbar_ext=5.0)
    assert len(frames) == 30 and not [e for e in events if e["event"] == "run_start"]
    assert frames[0].lumbar == pytest.approx(-5.0)
