"""The running arch proxy on MediaPipe tracks of three synthetic runs of one body (the base build)
with the lower back extended 0, 10 and 20 deg beyond neutral (python -m formcheck.bench arch
--fixtures). Known answers on real tracks: it must rise with the imposed extension, carry its
uncertainty, and read the same for a left- and a right-facing runner. The accuracy across
builds is the bench's (README, "Running arch")."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from formcheck import running
from formcheck.contour import bend_series
from formcheck.signals import condition
from formcheck.thresholds import RUNNING
from formcheck.types import PoseTrack

pytestmark = pytest.mark.slow  # analyses MediaPipe tracks of renders (~1 s each), like test_backshape

DATA = os.path.join(os.path.dirname(__file__), "data")
EXTS = (0, 10, 20)


def fixture(ext: int) -> tuple[PoseTrack, dict]:
    name = f"arch_base_ext{ext}"
    return PoseTrack.load(os.path.join(DATA, name + ".track.npz")), json.load(open(os.path.join(DATA, name + ".truth.json")))


@pytest.fixture(scope="module")
def analysed():
    return {e: running.analyze(fixture(e)[0]) for e in EXTS}


def test_the_arch_rises_with_the_imposed_lumbar_extension(analysed):
    arch = [analysed[e].summary["median_arch_deg"] for e in EXTS]
    assert arch[0] < arch[1] < arch[2]
    # 0.63 deg per degree of extension on the nine builds (bench arch): 20 deg moves it at least half that
    assert arch[2] - arch[0] > 0.5 * 0.63 * 20


def test_the_whole_back_bend_it_replaced_did_not(analysed):
    """The proxy before: the whole back outline's bend. On the same runs it does not follow the
    extension, which is why the arch now reads the lower outline only."""
    whole = []
    for e in EXTS:
        tr, _ = fixture(e)
        c = condition(tr, running.CUTOFF_HZ)
        b = -bend_series(tr.profile, c.facing_sign, c.fs, running.CUTOFF_HZ)
        b[running.arm_over_back(tr, c.facing_sign)] = np.nan
        whole.append(float(np.nanmedian(b[fixture(e)[1]["run_start_frame"]:])))
    arch = [analysed[e].summary["median_arch_deg"] for e in EXTS]
    assert abs(whole[2] - whole[0]) < 0.5 * (arch[2] - arch[0])


def test_every_step_carries_its_uncertainty(analysed):
    sd = RUNNING["overarching_lower_back"].params["noise_sd"]
    for a in analysed.values():
        steps = [r for r in a.reps if r.metrics.get("arch_deg") is not None]
        assert len(steps) >= RUNNING["overarching_lower_back"].params["min_steps"]
        assert all(r.metrics["arch_sd_deg"] >= sd for r in steps)
        assert all(r.metrics["arch_sd_deg"] is None for r in a.reps if r.metrics.get("arch_deg") is None)


def test_a_left_and_a_right_facing_runner_get_the_same_arch():
    tr, _ = fixture(20)
    flipped = PoseTrack(t=tr.t, xy=tr.xy.copy(), vis=tr.vis, profile=tr.profile[:, ::-1].copy(), video=tr.video,
                        plates=tr.plates)
    flipped.xy[..., 0] = tr.video.width - tr.xy[..., 0]
    a, b = running.analyze(tr), running.analyze(flipped)
    assert a.summary["facing"] != b.summary["facing"]
    assert b.summary["median_arch_deg"] == pytest.approx(a.summary["median_arch_deg"], abs=0.5)
