"""The annotated frame draws what was measured and says how sure it is."""
import warnings

import numpy as np

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
