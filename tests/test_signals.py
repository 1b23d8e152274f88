import numpy as np
import pytest

from formcheck.contour import bend_angle, chord_profile
from formcheck.signals import fill_gaps, incline_from_vertical, joint_angle, lowpass, reject_outliers


def test_fill_gaps_fills_short_not_long():
    t = np.arange(30) / 30.0
    x = np.arange(30, dtype=float)
    x[5:8] = np.nan       # 0.1 s: filled
    x[15:25] = np.nan     # 0.33 s: left missing
    y = fill_gaps(x, t, max_gap_s=0.2)
    assert np.allclose(y[5:8], [5, 6, 7])
    assert np.isnan(y[15:25]).all()


def test_lowpass_is_zero_lag():
    fs = 60.0
    t = np.arange(0, 4, 1 / fs)
    x = np.exp(-((t - 2.0) ** 2) / 0.05) + 0.05 * np.random.default_rng(0).normal(size=len(t))
    y = lowpass(x, fs, 6.0)
    assert abs(t[np.argmax(y)] - 2.0) < 1.5 / fs
    assert np.std(np.diff(y)) < np.std(np.diff(x))


def test_outlier_rejected():
    x = np.linspace(0, 10, 50)
    x[20] += 50
    y = reject_outliers(x, scale=10.0)
    assert np.isnan(y[20]) and np.isfinite(y[[0, 19, 21, 49]]).all()


def test_angles():
    a, b, c = np.array([[0, 0.0]]), np.array([[0, 1.0]]), np.array([[1, 1.0]])
    assert joint_angle(a, b, c)[0] == pytest.approx(90)
    hip, sh = np.array([[0, 100.0]]), np.array([[10, 0.0]])  # shoulder up and to the right
    assert incline_from_vertical(hip, sh, +1)[0] == pytest.approx(np.degrees(np.arctan(0.1)))
    assert incline_from_vertical(hip, sh, -1)[0] < 0  # facing left, that is leaning back


def _mask_with_back(bulge: float, hip=(200.0, 400.0), shoulder=(200.0, 150.0)):
    """A vertical trunk (hip below shoulder) facing right, back to the left with a given bulge."""
    h, w = 500, 400
    yy, xx = np.mgrid[0:h, 0:w]
    hip, shoulder = np.array(hip), np.array(shoulder)
    L = np.linalg.norm(shoulder - hip)
    s = np.clip((hip[1] - yy) / L, 0, 1)  # 0 at hip, 1 at shoulder
    back = hip[0] - L * (0.2 + bulge * np.sin(np.pi * s))
    front = hip[0] + 0.25 * L
    m = ((xx >= back) & (xx <= front) & (yy <= hip[1] + 20) & (yy >= shoulder[1] - 20)).astype(np.float32)
    return m, hip, shoulder


def test_chord_profile_reads_the_outline():
    m, hip, sh = _mask_with_back(0.0)
    prof = chord_profile(m, hip, sh)
    # chord points up, n = (-u_y, u_x) = (1, 0): +n is the front (0.25), -n the back (0.2)
    assert np.nanmedian(prof[0]) == pytest.approx(0.25, abs=0.01)
    assert np.nanmedian(prof[1]) == pytest.approx(0.2, abs=0.01)


def test_bend_angle_sign_and_order():
    bends = []
    for b in (-0.04, 0.0, 0.04, 0.08):
        m, hip, sh = _mask_with_back(b)
        bends.append(bend_angle(chord_profile(m, hip, sh)[1]))
    assert abs(bends[1]) < 2
    assert bends[0] < 0 < bends[2] < bends[3]


def test_profile_unknown_at_image_border():
    m = np.ones((100, 100), np.float32)
    prof = chord_profile(m, np.array([50.0, 90.0]), np.array([50.0, 10.0]))
    assert np.isnan(prof).all()  # silhouette runs off the picture: no edge to measure


def test_segment_bends_see_a_hump_where_it_is():
    """A hump of the outline in the upper back bends the upper segment, not the lower one; a flat
    back bends neither."""
    from formcheck.contour import LOWER_SEGMENTS, UPPER_SEGMENTS, segment_bend
    from formcheck.types import PROFILE_T
    flat = np.full(len(PROFILE_T), 0.2)
    assert segment_bend(flat, *UPPER_SEGMENTS) == pytest.approx(0, abs=1e-6)
    assert segment_bend(flat, *LOWER_SEGMENTS) == pytest.approx(0, abs=1e-6)
    hump = 0.2 + 0.15 * np.clip(1 - np.abs(PROFILE_T - 0.65) / 0.25, 0, None)  # peak at 0.65 of the chord
    assert segment_bend(hump, *UPPER_SEGMENTS) > 20
    assert abs(segment_bend(hump, *LOWER_SEGMENTS)) < segment_bend(hump, *UPPER_SEGMENTS) / 2


def test_head_turn_tells_an_oblique_view_from_a_front_view():
    """Ears 15 cm apart, the nose 10.5 cm ahead of them: a head turned 45 deg from the camera shows
    its nose 0.7 ear-widths off the ears' midpoint; facing the camera, on it."""
    from formcheck.signals import head_turn_deg
    from formcheck.types import L_EAR, NOSE, R_EAR

    def head(turn_deg, n=20):
        th = np.radians(turn_deg)
        xy = np.full((n, 33, 2), np.nan)
        xy[:, L_EAR] = (500 + 7.5 * np.cos(th), 100)
        xy[:, R_EAR] = (500 - 7.5 * np.cos(th), 100)
        xy[:, NOSE] = (500 + 10.5 * np.sin(th), 105)
        return xy
    for turn in (0, 15, 45, 60):
        assert head_turn_deg(head(turn)) == pytest.approx(turn, abs=0.5)
    assert np.isnan(head_turn_deg(np.full((5, 33, 2), np.nan)))


@pytest.mark.parametrize("deg", [10.0, 30.0, 60.0])
def test_the_outline_arc_reads_a_circular_back_as_its_angle(deg):
    """contour.arc_angle: a back outline that is an arc of known angle over the span it is read on
    (0.15-0.85 of the hip-shoulder chord) reads that angle, + bulging out, - hollow, 0 straight."""
    from formcheck.contour import arc_angle
    from formcheck.types import PROFILE_T as T
    sel = (T >= 0.15) & (T <= 0.85)
    span = T[sel][-1] - T[sel][0]
    R = span / 2 / np.sin(np.radians(deg) / 2)          # the arc of `deg` over exactly that span
    x = T - 0.5 * (T[sel][0] + T[sel][-1])
    bulge = np.sqrt(R ** 2 - x ** 2) - np.sqrt(R ** 2 - (span / 2) ** 2)
    assert arc_angle(0.2 + bulge) == pytest.approx(deg, rel=0.03)
    assert arc_angle(0.2 - bulge) == pytest.approx(-deg, rel=0.03)
    assert arc_angle(0.2 + 0.0 * T) == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(arc_angle(np.full_like(T, np.nan)))
