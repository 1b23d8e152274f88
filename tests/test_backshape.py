"""The back-shape model (formcheck/backshape.py) on MediaPipe tracks of two synthetic renders with
known lumbar and thoracic flexion per rep (tests/data, written by `python -m formcheck.bench
backshape --fixtures`): one without a barbell whose lockouts arch the lower back 8 deg, one with
45 cm plates. Both renders are among the model's training clips, so these tests check behaviour
(uncertainty, references, occlusion, mirror), not accuracy: the held-out accuracy is the bench's.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from scipy.stats import spearmanr

from formcheck import backshape, deadlift, plates
from formcheck.types import PoseTrack

# The slow tier: each test analyses 423-frame MediaPipe tracks of renders (~1 s each).
pytestmark = pytest.mark.slow

DATA = os.path.join(os.path.dirname(__file__), "data")


def fixture(name: str) -> tuple[PoseTrack, dict]:
    tr = PoseTrack.load(os.path.join(DATA, name + ".track.npz"))
    with open(os.path.join(DATA, name + ".truth.json")) as fh:
        return tr, json.load(fh)


def values(a, key: str) -> list:
    return [r.metrics[key] for r in a.reps]


def with_profile(tr: PoseTrack, profile: np.ndarray) -> PoseTrack:
    return PoseTrack(t=tr.t, xy=tr.xy, vis=tr.vis, profile=profile, video=tr.video, plates=tr.plates)


@pytest.mark.parametrize("name", ["back_plain", "back_plates"])
def test_lower_and_upper_back_read_what_was_imposed_within_their_uncertainty(name):
    tr, truth = fixture(name)
    a = deadlift.analyze(tr)
    assert len(a.reps) == len(truth["lumbar"])
    assert a.summary["back_reference"] is True  # the lifter stood upright with the outline in view
    for key, want in (("lumbar_flexion_deg", truth["lumbar"]), ("thoracic_flexion_deg", truth["thoracic"])):
        got, sd = values(a, key), values(a, key.replace("_deg", "_sd_deg"))
        assert all(g is not None and s is not None for g, s in zip(got, sd)), key
        for g, s, w in zip(got, sd, want):
            assert abs(g - w) <= 2 * s, (key, got, want)  # the stated +/- covers the truth
        assert spearmanr(got, want)[0] >= 0.9, (key, got, want)  # and the lifter's reps in order


def test_an_arched_lockout_does_not_read_as_rounding_at_the_floor():
    """The plain render arches its lower back 8 deg at every lockout; the reference is read from
    every upright frame, lockouts included. Replacing those frames by the unarched standing before
    the first pull shifts the set (mean) by under 2 deg, where an arch taken for the neutral
    would add its 8, and no rep by more than its stated 1 SD."""
    tr, _ = fixture("back_plain")
    a = deadlift.analyze(tr)
    first = a.reps[0].key_frames["setup"]
    dorsal = 1 if a.view.facing == "right" else 0
    upright = np.abs(a.series["trunk_deg"]) < backshape.REF_TRUNK_DEG
    before = upright & (np.arange(len(tr)) < first)
    assert before.sum() >= backshape.MIN_REF_FRAMES
    prof = tr.profile.copy()
    prof[upright & ~before, dorsal] = np.median(tr.profile[before, dorsal], axis=0)
    b = deadlift.analyze(with_profile(tr, prof))
    for key in backshape.OUTPUTS:
        va, vb = np.array(values(a, key)), np.array(values(b, key))
        assert abs(np.mean(va - vb)) < 2.0, (key, va, vb)
        assert np.all(np.abs(va - vb) <= np.array(values(a, key.replace("_deg", "_sd_deg")))), (key, va, vb)


def test_no_upright_frame_still_gives_a_number_with_a_larger_uncertainty():
    """No frame with the lifter upright and the outline whole (a clip that starts at the bar, a
    plate over the hips at every lockout): every rep is still measured, by the model without the
    reference, and says so with its larger uncertainty."""
    tr, truth = fixture("back_plain")
    a = deadlift.analyze(tr)
    prof = tr.profile.copy()
    prof[np.abs(a.series["trunk_deg"]) < 25] = np.nan
    b = deadlift.analyze(with_profile(tr, prof))
    assert b.summary["back_reference"] is False
    info = backshape.model_info()
    assert info["rep_sd_lumbar_flexion_deg_noref"] > info["rep_sd_lumbar_flexion_deg_ref"]
    for ra, rb, want in zip(a.reps, b.reps, truth["lumbar"]):
        assert rb.metrics["lumbar_flexion_deg"] is not None
        assert rb.metrics["lumbar_flexion_sd_deg"] >= info["rep_sd_lumbar_flexion_deg_noref"] - 1e-6
        assert rb.metrics["lumbar_flexion_sd_deg"] > ra.metrics["lumbar_flexion_sd_deg"] - 1.0
        assert abs(rb.metrics["lumbar_flexion_deg"] - want) <= 2 * rb.metrics["lumbar_flexion_sd_deg"]


def test_a_plate_over_the_back_is_not_measured_and_says_why(monkeypatch):
    """A plate lying over the back outline from set-up to knee height of rep 2: that rep's back is
    'not measured' with the plate as the reason, never traced; the other reps barely move."""
    tr, _ = fixture("back_plain")
    a = deadlift.analyze(tr)
    r2 = a.reps[1]
    s, k = r2.key_frames["setup"], r2.key_frames["knee_pass"]
    hip = 0.5 * (tr.xy[:, 23] + tr.xy[:, 24])
    sh = 0.5 * (tr.xy[:, 11] + tr.xy[:, 12])
    plate = np.full((len(tr), 3), np.nan)
    plate[s - 3:k + 3, :2] = (hip + 0.5 * (sh - hip))[s - 3:k + 3]  # centred mid-back, covering its outline
    plate[s - 3:k + 3, 2] = np.linalg.norm(sh - hip, axis=1)[s - 3:k + 3]
    monkeypatch.setattr(plates, "plate_track", lambda *a, **kw: plate)
    b = deadlift.analyze(tr)
    assert b.reps[1].metrics["lumbar_flexion_deg"] is None
    assert "plate" in b.reps[1].not_measured["lumbar_flexion_deg"]
    assert "lumbar_rounding" not in {f.code for f in b.reps[1].faults}
    for i in (0, 2, 3, 4):
        assert b.reps[i].metrics["lumbar_flexion_deg"] == pytest.approx(a.reps[i].metrics["lumbar_flexion_deg"], abs=0.5)


def test_a_left_and_a_right_facing_lifter_get_the_same_back_numbers():
    tr, _ = fixture("back_plates")
    flipped = PoseTrack(t=tr.t, xy=tr.xy.copy(), vis=tr.vis, profile=tr.profile[:, ::-1].copy(), video=tr.video,
                        plates=None if tr.plates is None else tr.plates.copy())
    flipped.xy[..., 0] = tr.video.width - tr.xy[..., 0]
    if flipped.plates is not None:
        flipped.plates[..., 0] = tr.video.width - tr.plates[..., 0]
    a, b = deadlift.analyze(tr), deadlift.analyze(flipped)
    assert a.view.facing != b.view.facing
    for key in backshape.OUTPUTS:
        assert np.allclose(values(a, key), values(b, key), atol=1e-3), key


def test_a_rep_without_its_back_outline_says_why_for_every_back_number():
    """The person lost (or the outline off the picture) from set-up to knee height of rep 3: each
    back number of that rep is None with a reason, never a silent gap."""
    tr, _ = fixture("back_plain")
    k = deadlift.analyze(tr).reps[2].key_frames
    prof = tr.profile.copy()
    prof[k["setup"] - 2:k["knee_pass"] + 3] = np.nan
    r = deadlift.analyze(with_profile(tr, prof)).reps[2]
    for key in ("back_rounding_deg",) + backshape.OUTPUTS:
        assert r.metrics[key] is None and r.not_measured[key].startswith("not measured: the back outline"), key
