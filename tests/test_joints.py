"""The joint-centre correction (formcheck/joints.py): the shipped model, mirror symmetry, the
oblique-camera stretch and no extrapolation. Accuracy itself is `python -m formcheck.bench joints`."""
import numpy as np
import pytest

from formcheck import deadlift, joints
from formcheck.joints import joint_centres, trained_range, unproject, view_yaw
from formcheck.signals import condition, joint_angle
from formcheck.types import L_SHOULDER, R_SHOULDER, PoseTrack
from tests.synth import deadlift_track


def _upright(n=5, facing=1.0, torso=100.0):
    """A standing body's conditioned joints, person facing +x (facing=1) or -x."""
    def p(x, y):
        return np.tile([[500.0 + facing * x, y]], (n, 1))
    J = dict(shoulder=p(0, 100), hip=p(0, 100 + torso), knee=p(0, 190 + torso), ankle=p(0, 280 + torso))
    J.update({"far_" + k: v.copy() for k, v in J.items()})
    J["shoulder_mid"], J["hip_mid"] = J["shoulder"].copy(), J["hip"].copy()
    J["heel"] = p(-10, 290 + torso)
    return J


def test_the_shipped_model_moves_landmarks_to_where_the_joints_are():
    """Standing, MediaPipe's hip landmark is ahead of the hip joint centre and its shoulder
    landmark above the shoulder joint (measured on the renders): the shipped ONNX model, run with
    onnxruntime, moves them back and down by a few percent of a torso, and no further."""
    J = _upright()
    C = joint_centres(J, 1.0, 100.0, "deadlift")
    d_hip, d_sh = C["hip"][0] - J["hip"][0], C["shoulder"][0] - J["shoulder"][0]
    assert -10 < d_hip[0] < -2          # back (the person faces +x)
    assert 0 < d_sh[1] < 8              # down
    for k in ("shoulder", "hip", "knee", "ankle"):
        assert np.all(np.abs(C[k] - J[k]) < 15), k
    assert np.array_equal(C["lm_hip"], J["hip"])    # the landmark is kept beside it
    assert np.array_equal(C["heel"], J["heel"])      # feet, hands: landmarks, untouched
    lo, hi = trained_range("deadlift")
    assert lo[0] < 0 < 45 < hi[0]       # it was fitted on upright to deeply bent trunks


@pytest.mark.parametrize("kind", ["deadlift", "running"])
def test_a_left_and_a_right_facing_lifter_get_the_same_angles(kind):
    """Mirror test: the same body mirrored left-right gives the same joint angles."""
    track = deadlift_track(reps=2)
    flipped = PoseTrack(t=track.t, xy=track.xy.copy(), vis=track.vis, profile=track.profile, video=track.video)
    flipped.xy[..., 0] = track.video.width - track.xy[..., 0]
    out = []
    for tr in (track, flipped):
        c = condition(tr, deadlift.CUTOFF_HZ)
        C = joint_centres(c.joints, c.facing_sign, c.torso_len, kind, c.yaw_deg)
        out.append(joint_angle(C["shoulder"], C["hip"], C["knee"]))
    assert np.nanmax(np.abs(out[0] - out[1])) < 1e-6
    a, b = deadlift.analyze(track), deadlift.analyze(flipped)
    for ra, rb in zip(a.reps, b.reps):
        for k in ("liftoff_hip_deg", "liftoff_trunk_deg", "liftoff_knee_deg", "lockout_hyperext_deg"):
            assert ra.metrics[k] == pytest.approx(rb.metrics[k], abs=1e-3), k


def test_an_oblique_camera_is_measured_and_undone():
    """Shoulders 0.65 x sin(yaw) torso lengths apart across the picture read as that yaw (its sign
    from which shoulder is ahead), and the stretch by 1/cos(yaw) gives back a sagittal angle
    foreshortened by the camera."""
    xy = np.full((10, 33, 2), np.nan)
    yaw = 20.0
    xy[:, L_SHOULDER, 0] = 500.0
    xy[:, R_SHOULDER, 0] = 500.0 + 0.65 * np.sin(np.radians(yaw)) * 100.0
    assert view_yaw(xy, 100.0, "left", 1.0) == pytest.approx(yaw, abs=0.5)
    # the far shoulder behind the near one: the camera sees a little of the back, the other sign
    assert view_yaw(xy, 100.0, "left", -1.0) == pytest.approx(-yaw, abs=0.5)
    assert view_yaw(xy, 100.0, "right", 1.0) == pytest.approx(-yaw, abs=0.5)
    # a thigh 50 deg forward of vertical, filmed 20 deg off side-on: its x is shortened by cos(20)
    th = np.radians(50.0)
    J = {"hip_mid": np.array([[0.0, 0.0]]), "hip": np.array([[0.0, 0.0]]),
         "knee": np.array([[np.sin(th) * np.cos(np.radians(yaw)), np.cos(th)]])}
    seen = np.degrees(np.arctan2(J["knee"][0, 0], J["knee"][0, 1]))
    U = unproject(J, yaw)
    back = np.degrees(np.arctan2(U["knee"][0, 0], U["knee"][0, 1]))
    assert seen < 48.5 and back == pytest.approx(50.0, abs=1e-6)
    assert view_yaw(np.full((10, 33, 2), np.nan), 100.0, "left", 1.0) == 0.0  # nothing seen: no stretch
    assert unproject(J, -yaw)["knee"][0, 0] == pytest.approx(U["knee"][0, 0])  # either side of side-on


def _trunk_sweep(n=21, step_deg=3.0, torso=100.0):
    """Legs straight, the trunk tipping from upright to 60 deg forward at 3 deg a frame."""
    J = _upright(n=n, torso=torso)
    a = np.radians(np.arange(n) * step_deg)
    sh = J["hip"] + np.stack([np.sin(a) * torso, -np.cos(a) * torso], axis=1)
    J["shoulder"], J["far_shoulder"], J["shoulder_mid"] = sh, sh.copy(), sh.copy()
    return J


def test_a_fast_descent_is_read_past_where_the_lagging_landmarks_show_it():
    """MediaPipe's video mode reads a fast-moving body partly where it was. The same landmarks,
    passed going down and coming up, give a more bent hip and trunk going down (the body is ahead
    of its landmarks) and a straighter one coming up; the speed is per frame, so running the clip
    backwards negates it."""
    J = _trunk_sweep()
    back = {k: v[::-1].copy() for k, v in J.items()}
    X, Xb = joints.features(J, 1.0, "deadlift"), joints.features(back, 1.0, "deadlift")
    rates = list(joints.RATE_COLS)
    assert X[10, rates] == pytest.approx([3.0, 0.0, 0.0]) and Xb[10, rates] == pytest.approx([-3.0, 0.0, 0.0])
    down, up = joint_centres(J, 1.0, 100.0, "deadlift"), joint_centres(back, 1.0, 100.0, "deadlift")
    hip_down = joint_angle(down["shoulder"], down["hip"], down["knee"])[10]
    hip_up = joint_angle(up["shoulder"], up["hip"], up["knee"])[10]
    assert hip_down < hip_up - 1.0
    still = joint_centres({k: np.repeat(v[10:11], 5, axis=0) for k, v in J.items()}, 1.0, 100.0, "deadlift")
    hip_still = joint_angle(still["shoulder"], still["hip"], still["knee"])[2]
    assert hip_down < hip_still < hip_up   # held still, in between


def test_poses_outside_the_renders_are_not_extrapolated():
    """A 60 deg lean-back is in no training clip: it gets the offsets of the nearest covered pose,
    so the correction stays a few percent of a torso instead of growing with the lean."""
    J = _upright()
    lean = _upright()
    ang = np.radians(-60.0)
    lean["shoulder"] = lean["hip"] + np.array([np.sin(ang) * 100.0, -np.cos(ang) * 100.0])
    lean["shoulder_mid"] = lean["shoulder"].copy()
    lo, hi = trained_range("deadlift")
    assert lo[0] > -60
    C = joint_centres(lean, 1.0, 100.0, "deadlift")
    assert np.all(np.abs(C["shoulder"] - lean["shoulder"]) < 15)
    X = joints.features(lean, 1.0, "deadlift", trained=(lo, hi))
    Xe = joints.features(_with_trunk(J, lo[0]), 1.0, "deadlift", trained=(lo, hi))
    assert np.allclose(X[:, 1:3], Xe[:, 1:3], atol=1e-6)  # the trunk clipped to the covered edge


def _with_trunk(J, deg):
    J = {k: v.copy() for k, v in J.items()}
    a = np.radians(deg)
    J["shoulder_mid"] = J["hip_mid"] + np.array([np.sin(a) * 100.0, -np.cos(a) * 100.0])
    return J


def test_a_joint_out_of_the_picture_costs_only_the_angles_that_use_it():
    """Feet out of the picture on some frames: the knee and ankle are missing there, but the
    shoulder and hip still get their joint centres, so the trunk angle is still measured."""
    J = _upright(n=6)
    for k in ("ankle", "far_ankle"):
        J[k][2:4] = np.nan
    C = joint_centres(J, 1.0, 100.0, "deadlift")
    assert np.all(np.isfinite(C["shoulder_mid"])) and np.all(np.isfinite(C["hip_mid"]))
    assert np.all(np.isfinite(C["hip"])) and np.all(np.isfinite(C["knee"]))
    assert np.all(np.isnan(C["ankle"][2:4])) and np.all(np.isfinite(C["ankle"][[0, 1, 4, 5]]))


def test_the_correction_is_fitted_to_sagittal_joints_whose_angles_are_the_truth():
    """The targets drawn from the rig's sagittal inclinations give back the rig's hip, knee and
    trunk angles exactly, whichever way the person faces, wherever the projected points lie."""
    from formcheck.signals import incline_from_vertical, joint_angle
    from formcheck_bench.joints import sagittal_targets
    rng = np.random.default_rng(3)
    n = 20
    frames = [dict(trunk_deg=float(a), thigh_l_deg=float(b), shank_l_deg=float(c))
              for a, b, c in zip(rng.uniform(0, 80, n), rng.uniform(0, 65, n), rng.uniform(-25, 0, n))]  # no hyperextension
    P = {k: rng.uniform(100, 500, (n, 2)) for k in ("shoulder", "hip", "knee", "ankle")}
    for facing in (1.0, -1.0):
        S = sagittal_targets(P, frames, facing)
        hip = joint_angle(S["shoulder"], S["hip"], S["knee"])
        knee = joint_angle(S["hip"], S["knee"], S["ankle"])
        trunk = incline_from_vertical(S["hip"], S["shoulder"], facing)
        for f, h, k, t in zip(frames, hip, knee, trunk):
            assert h == pytest.approx(180 - f["trunk_deg"] - f["thigh_l_deg"], abs=1e-6)
            assert k == pytest.approx(180 - f["thigh_l_deg"] + f["shank_l_deg"], abs=1e-6)
            assert t == pytest.approx(f["trunk_deg"], abs=1e-6)
