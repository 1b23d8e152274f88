"""A weight plate in front of the lifter: found in the picture, and what it hides is never measured."""
import warnings

import numpy as np
import pytest

from formcheck import deadlift, plates
from formcheck.signals import condition
from formcheck.types import L_HIP, L_WRIST, R_HIP, R_WRIST, PoseTrack
from tests.synth import TRUNK, deadlift_track, pose_frame

warnings.filterwarnings("ignore", category=RuntimeWarning)

PLATE_R = 0.5 * TRUNK  # a 45 cm plate on a ~0.5 m torso, seen from ~3 m


def with_plate(track: PoseTrack, where: str = "hands") -> PoseTrack:
    """The track with one plate candidate per frame: at the hands (the bar's plate) or above the
    head (a plate on a rack behind the lifter)."""
    hands = 0.5 * (track.xy[:, L_WRIST] + track.xy[:, R_WRIST])
    centre = hands if where == "hands" else hands - np.array([0.0, 3.5 * TRUNK])
    c = np.full((len(track), plates.K, 3), np.nan)
    c[:, 0, :2], c[:, 0, 2] = centre, PLATE_R
    track.plates = c
    return track


def test_find_circles_finds_a_plate_at_the_hands_and_ignores_one_far_away():
    cv2 = pytest.importorskip("cv2")
    xy = pose_frame(0.0, 0.0, 0.0)  # standing: the hands hang at the hips
    hands = 0.5 * (xy[L_WRIST] + xy[R_WRIST])
    img = np.full((720, 1280), 150, np.uint8)
    cv2.circle(img, (int(hands[0]), int(hands[1])), int(PLATE_R), 40, -1, cv2.LINE_AA)
    cv2.circle(img, (150, 150), int(PLATE_R), 40, -1, cv2.LINE_AA)  # outside the search box
    found = plates.find_circles(img, xy)
    ok = found[np.isfinite(found[:, 2])]
    assert len(ok) >= 1
    best = ok[np.argmin(np.hypot(*(ok[:, :2] - hands).T))]
    assert np.hypot(*(best[:2] - hands)) < 4 and best[2] == pytest.approx(PLATE_R, rel=0.06)
    assert not np.any(np.hypot(ok[:, 0] - 150, ok[:, 1] - 150) < 20)
    assert np.isnan(plates.find_circles(img, np.full_like(xy, np.nan))).all()  # no pose, no search


def test_the_bars_plate_hides_the_hips_at_lockout_and_they_are_not_measured(tmp_path, landmarks_are_joint_centres):
    plain = deadlift.analyze(deadlift_track(reps=2, lean_back=20))
    assert all(r.metrics["lockout_hyperext_deg"] == pytest.approx(20, abs=4) for r in plain.reps)
    tr = with_plate(deadlift_track(reps=2, lean_back=20))
    tr.save(str(tmp_path / "t.npz"))  # the candidates travel with the track
    tr = PoseTrack.load(str(tmp_path / "t.npz"))
    c = condition(tr, deadlift.CUTOFF_HZ, plates=True)
    assert np.allclose(c.plate[:, 2], PLATE_R)
    hid = plates.hidden(tr.xy, c.plate)
    standing = 0
    assert hid[standing, L_HIP] and hid[standing, R_HIP] and not hid[standing, 0]
    a = deadlift.analyze(tr)
    assert len(a.reps) == len(plain.reps) == 2  # the rep is still timed on the placed landmarks
    for r in a.reps:
        for k in ("lockout_hyperext_deg", "lockout_trunk_deg", "lockout_hip_deg"):
            assert r.metrics[k] is None
            assert "behind the plate at lockout" in r.not_measured[k]
        assert r.metrics["liftoff_trunk_deg"] == pytest.approx(plain.reps[0].metrics["liftoff_trunk_deg"], abs=2)
    assert "lockout_lean_back" not in {f.code for r in a.reps for f in r.faults}


def test_a_circle_away_from_the_hands_is_not_the_bars_plate(landmarks_are_joint_centres):
    plain = deadlift.analyze(deadlift_track(reps=2, lean_back=20))
    a = deadlift.analyze(with_plate(deadlift_track(reps=2, lean_back=20), where="above"))
    assert [r.metrics for r in a.reps] == [r.metrics for r in plain.reps]
    assert "lockout_lean_back" in {f.code for r in a.reps for f in r.faults}


def test_a_metric_lost_to_the_far_hip_behind_the_plate_says_so(landmarks_are_joint_centres):
    """The trunk line runs through the hip pair's midpoint: the far hip alone behind the plate
    loses it, and every metric lost that way says why (never a bare None)."""
    from formcheck.signals import near_side
    tr = deadlift_track(reps=1)
    far = R_HIP if near_side(tr.vis) == "left" else L_HIP
    near = L_HIP if far == R_HIP else R_HIP
    tr.xy[:, far, 0] += 25.0
    r = 60.0
    c = np.full((len(tr), plates.K, 3), np.nan)
    c[:, 0, 0], c[:, 0, 1], c[:, 0, 2] = tr.xy[:, near, 0] + 0.95 * r, tr.xy[:, near, 1], r
    tr.plates = c
    rep = deadlift.analyze(tr).reps[0]
    lost = [k for k, v in rep.metrics.items() if v is None]
    assert lost
    for k in lost:
        why = rep.not_measured.get(k, "")
        assert "far hip" in why or (k in deadlift.BACK_KEYS and "back outline" in why), (k, rep.not_measured)


def test_a_cached_track_from_before_plates_is_not_reused(tmp_path):
    """The app's pose cache: a track saved without plate candidates would skip the gate, so it is dropped."""
    from formcheck import uploads
    tr = deadlift_track(reps=1)
    tr.plates = None  # as saved before tracks carried plate candidates
    (tmp_path / "k").mkdir()
    tr.save(str(tmp_path / "k" / "track.npz"))
    assert uploads.load_track(str(tmp_path), "k") is None
    assert not (tmp_path / "k" / "track.npz").exists()
    uploads.save_track(str(tmp_path), "k", with_plate(tr))
    assert uploads.load_track(str(tmp_path), "k").plates is not None


def test_outline_samples_on_the_plate_are_the_plate_not_the_back():
    """A back-outline sample lying on the plate is the plate's rim taken into the silhouette: not
    measured, so a rim bulging out of the back does not read as rounding."""
    # chord straight up from the hip, lifter facing right: the back is to the left (dorsal sign -1)
    xy = np.zeros((1, 33, 2))
    xy[0, [23, 24]] = (0.0, 0.0)
    xy[0, [11, 12]] = (0.0, -100.0)
    prof = np.full((1, 25), 0.2)                       # the back 20 px behind the chord
    plate = np.array([[-20.0, -100.0 / 3, 6.0]])       # on the sample at t = 1/3; its neighbours are 4.2 px away
    on = plates.outline_on_plate(prof, xy, plate, -1.0)
    assert np.flatnonzero(on[0]).tolist() == [7, 8, 9]
    assert not plates.outline_on_plate(prof, xy, plate, +1.0).any()  # the chest side is elsewhere
    assert not plates.outline_on_plate(prof, xy, np.full((1, 3), np.nan), -1.0).any()


def test_rounding_ignores_a_plate_rim_on_the_back(monkeypatch):
    tr = deadlift_track(reps=1, rounding=0.0)
    clean = deadlift.analyze(tr).reps[0].metrics["back_rounding_deg"]
    # the rim: the lower back outline pushed out more and more over t = 0.25-0.42 on every frame
    rim = tr.profile.copy()
    dorsal = 1                                         # synth lifters face right
    rim[:, dorsal, 6:11] += np.linspace(0.0, 0.15, 5)
    bumped = PoseTrack(t=tr.t, xy=tr.xy, vis=tr.vis, profile=rim, video=tr.video, plates=tr.plates)
    rimmed = deadlift.analyze(bumped).reps[0].metrics["back_rounding_deg"]
    assert abs(rimmed - clean) > 5  # the rim alone moves the number
    # a plate over exactly those samples (placed per frame): they are dropped, the number comes back
    hip = 0.5 * (tr.xy[:, L_HIP] + tr.xy[:, R_HIP])
    sh = 0.5 * (tr.xy[:, 11] + tr.xy[:, 12])
    v = sh - hip
    n = np.stack([-v[:, 1], v[:, 0]], axis=1)
    t_mid = np.linspace(0, 1, 25)[8]
    centre = hip + t_mid * v - rim[:, dorsal, 8:9] * n
    r = 0.13 * np.linalg.norm(v, axis=1)  # covers the rim samples (t = 0.25-0.42), not t = 0.21 or 0.46
    plate = np.column_stack([centre, r])
    monkeypatch.setattr(plates, "plate_track", lambda *a, **k: plate)
    back = deadlift.analyze(bumped).reps[0].metrics["back_rounding_deg"]
    assert abs(back - clean) < 2.5, (clean, rimmed, back)
