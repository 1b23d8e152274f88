"""The annotated frame draws what was measured and says how sure it is."""
import warnings

import numpy as np
import pytest

from formcheck import deadlift
from formcheck.render import GREEN, Overlay
from tests.synth import deadlift_track

warnings.filterwarnings("ignore", category=RuntimeWarning)


def _green_px(img):
    return int(np.all(img == np.array(GREEN, dtype=np.uint8), axis=-1).sum())


def test_back_outline_drawn_only_where_the_back_was_measured():
    tr = deadlift_track(reps=1, rounding=0.0)
    a = deadlift.analyze(tr)
    k = a.reps[0].key_frames
    ov = Overlay(tr, a, 640, 480, 14.0)
    blank = lambda: np.zeros((480, 640, 3), np.uint8)
    setup = _green_px(ov.draw(blank(), (k["setup"] + k["knee_pass"]) // 2))
    lockout = _green_px(ov.draw(blank(), k["lockout"] + 3))
    assert setup > 20          # a flat back at set-up: a green outline
    assert lockout == 0        # standing at lockout is not measured: nothing drawn


def test_live_back_number_carries_its_uncertainty():
    tr = deadlift_track(reps=1)
    a = deadlift.analyze(tr)
    ov = Overlay(tr, a, 640, 480, 14.0)
    ov.draw(np.zeros((480, 640, 3), np.uint8), a.reps[0].key_frames["setup"])
    texts = [key[0] for key in ov._sprites]
    assert any(t.startswith("Back rounding*") and "+/-7" in t for t in texts), texts


def test_each_exercise_colours_its_back_against_its_own_rule():
    """The running arch was coloured against the deadlift's rounding line; each uses its own."""
    import dataclasses
    from formcheck.thresholds import DEADLIFT, RUNNING
    dl = deadlift_track(reps=1)
    a = deadlift.analyze(dl)
    assert Overlay(dl, a, 640, 480).round_thr == DEADLIFT["lumbar_rounding"].threshold
    run = dataclasses.replace(a, exercise="running", reps=[])
    assert Overlay(dl, run, 640, 480).round_thr == RUNNING["overarching_lower_back"].threshold


def test_live_back_number_only_where_it_is_measured():
    tr = deadlift_track(reps=1)
    a = deadlift.analyze(tr)
    ov = Overlay(tr, a, 640, 480, 14.0)
    ov.draw(np.zeros((480, 640, 3), np.uint8), a.reps[0].key_frames["lockout"] + 3)
    texts = [key[0] for key in ov._sprites]
    assert any(t.startswith("Back rounding*:") and t.rstrip().endswith("-") for t in texts), texts


def test_joints_behind_the_plate_are_drawn_hollow_inside_its_outline():
    from formcheck.types import L_HIP
    from tests.test_plates import with_plate
    tr = with_plate(deadlift_track(reps=1, lean_back=20))
    a = deadlift.analyze(tr)
    i = a.reps[0].key_frames["lockout"] + 3
    ov = Overlay(tr, a, 1280, 720, 14.0)
    img = ov.draw(np.zeros((720, 1280, 3), np.uint8), i)
    hx, hy = np.round(tr.xy[i, L_HIP]).astype(int)

    def white(im):  # white pixels within the dot's radius of the hip
        win = im[hy - 6:hy + 7, hx - 6:hx + 7]
        return int(np.all(win == 255, axis=-1).sum())
    plain = deadlift_track(reps=1, lean_back=20)
    dot = Overlay(plain, deadlift.analyze(plain), 1280, 720, 14.0).draw(np.zeros((720, 1280, 3), np.uint8), i)
    assert white(img) < 0.6 * white(dot)  # a ring, not the filled dot of a seen joint: the hip there is a guess
    assert (img == 150).all(axis=-1).sum() > (dot == 150).all(axis=-1).sum()  # grey bones and the plate's outline


def _run_overlay(ext: int):
    import os
    from formcheck import running
    from formcheck.types import PoseTrack
    tr = PoseTrack.load(os.path.join(os.path.dirname(__file__), "data", f"arch_base_ext{ext}.track.npz"))
    return tr, running.analyze(tr)


@pytest.mark.slow  # analyses a MediaPipe track of a render (~1 s), like tests/test_arch.py
def test_the_running_outline_is_drawn_only_over_the_lower_back_it_is_read_from():
    """The arch is read from the buttock-to-mid-back part of the outline: only that is drawn."""
    from formcheck.contour import LOWER_SEGMENTS
    from formcheck.types import trunk_ends
    tr, a = _run_overlay(0)
    ov = Overlay(tr, a, tr.video.width, tr.video.height)
    frames = [i for i in range(len(tr)) if np.isfinite(a.series["arch_deg"][i])]
    assert frames
    for i in frames[::10]:
        img = np.zeros((tr.video.height, tr.video.width, 3), np.uint8)
        ov._back(img, i, 1)
        ys, xs = np.nonzero(img.any(axis=-1))
        assert len(xs) > 20
        hip, sh = trunk_ends(tr.xy[i])
        v = sh - hip
        along = ((np.stack([xs, ys], 1) - hip) @ v) / (v @ v)   # 0 at the hip, 1 at the shoulder
        assert along.max() < LOWER_SEGMENTS[2] + 0.08 and along.min() > LOWER_SEGMENTS[0] - 0.08


@pytest.mark.slow
def test_a_neutral_runners_back_is_green_and_carries_its_uncertainty():
    """Neutral backs read 21-37 on the arch proxy (not ~0, as a flat deadlift back does): within one
    SD of neutral the outline is green, not 'nearly past the line'."""
    from formcheck.render import AMBER
    from formcheck.thresholds import RUNNING
    rule = RUNNING["overarching_lower_back"]
    tr, a = _run_overlay(0)
    ov = Overlay(tr, a, tr.video.width, tr.video.height)
    arch = a.series["arch_deg"]
    i = int(np.nanargmin(np.abs(arch - rule.params["neutral_mean"])))   # a frame reading the neutral mean
    img = np.zeros((tr.video.height, tr.video.width, 3), np.uint8)
    ov._back(img, i, 1)
    assert _green_px(img) > 20 and not np.all(img == np.array(AMBER, np.uint8), axis=-1).any()
    ov.draw(np.zeros_like(img), i)
    assert any(t.startswith("Back arch*") and f"+/-{rule.params['noise_sd']:.0f}" in t for t in (k[0] for k in ov._sprites))
