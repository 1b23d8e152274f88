"""The pose pass: one tracker, or two processes joined at a split (real clips)."""
import numpy as np

from formcheck import extract
from formcheck.pipeline import analyze_track
from tests.conftest import clip
import pytest

pytestmark = pytest.mark.slow  # MediaPipe on real or rendered clips, or a browser

# 15 s at 30 fps: past PARALLEL_MIN_S, so two pose processes by default, with its one pull at the
# split (~8 s). (The 24.6 s, 60 fps kettlebell clip this used to be cost 80 s of the suite.)
LONG = ("deadlift", "dl_bichraix_09_bad_gym.mp4")


@pytest.fixture(scope="module")
def single_long():
    """LONG through one tracker, shared by the tests that compare against it."""
    return extract.extract_pose(clip(*LONG), workers=1)


def test_two_pose_processes_join_into_one_track(track_of, single_long):
    """The joined track has every frame once, at the times a single tracker gives, and the
    same reps and faults."""
    single = single_long
    joined = track_of(*LONG)  # clips this long get two pose processes by default
    assert len(joined) == len(single) == single.video.frames
    assert np.array_equal(joined.t, single.t)
    split = extract._split_time(single.video.duration_s, single.video.fps)
    before = single.t < split
    # before the split it is the same tracker on the same frames
    assert np.allclose(joined.xy[before], single.xy[before], equal_nan=True)
    gap = np.nanmedian(np.abs(joined.xy[~before] - single.xy[~before]))
    assert gap < 3.0, f"second tracker drifts from the first by {gap:.1f} px"
    a1, a2 = analyze_track(single, "deadlift"), analyze_track(joined, "deadlift")
    assert len(a1.reps) == len(a2.reps) == 1
    split_at = [r for r in a1.reps if r.start_s < split < r.end_s]
    assert split_at, "the pull should straddle the split, where the two trackers meet"
    f1 = [sorted(f.code for f in r.faults) for r in a1.reps]
    f2 = [sorted(f.code for f in r.faults) for r in a2.reps]
    assert sum(x != y for x, y in zip(f1, f2)) <= 1


def test_a_failed_helper_means_one_tracker_to_the_end(monkeypatch, single_long):
    """If the second process dies, this process carries on alone: same result as one tracker."""
    class Dead(extract._Helper):
        def result(self, tick=None):
            self.stop()
            return None
    monkeypatch.setattr(extract, "_Helper", Dead)
    alone = extract.extract_pose(clip(*LONG), workers=2)
    single = single_long
    assert np.array_equal(alone.t, single.t)
    assert np.allclose(alone.xy, single.xy, equal_nan=True)


def test_join_refuses_another_person():
    t = np.arange(0, 2, 1 / 30)
    xy = np.zeros((len(t), 33, 2))
    xy[:, [23, 24]] = (100, 300)   # hips
    xy[:, [11, 12]] = (100, 100)   # shoulders: torso 200 px
    mine = {"t": t, "xy": xy}
    other = xy.copy()
    other[..., 0] += 150           # a body 0.75 torso lengths away
    k = int(np.searchsorted(t, 1.0))
    theirs = {"t": t[k:], "xy": other[k:]}
    assert not extract._joinable(mine, theirs, 1.0)
    assert extract._joinable(mine, {"t": t[k:], "xy": xy[k:] + 5}, 1.0)
    assert not extract._joinable(mine, {"t": t[k:] + 0.01, "xy": xy[k:]}, 1.0)  # other frames
    assert not extract._joinable(mine, {"t": t[k + 1:], "xy": xy[k + 1:]}, 1.0)  # a frame missing
