"""Subject choice: a bystander who stands still is never the subject when someone moves."""
from __future__ import annotations

import numpy as np

from formcheck import subject
from formcheck.types import L_HIP, N_LANDMARKS, PROFILE_T, R_HIP, PoseTrack, VideoInfo
from tests.media import fake_pose
from tests.synth import deadlift_track, pose_frame

SCALE = 0.125  # synth poses are drawn for 1280x720; the test clip is 160x90


def _track(frames: list[np.ndarray], w=1280, h=720, fps=30.0) -> PoseTrack:
    n = len(frames)
    info = VideoInfo(path="synthetic", width=w, height=h, fps=fps, frames=n, duration_s=n / fps,
                     rotation=0, codec="none", vfr=False)
    return PoseTrack(t=np.arange(n) / fps, xy=np.array(frames), vis=np.ones((n, N_LANDMARKS)),
                     profile=np.full((n, 2, len(PROFILE_T)), np.nan), video=info)


def _standing(i: int, x: float = 300.0, jitter: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(i)
    return pose_frame(2.0, 0.0, 3.0, ankle=(x, 650.0)) + rng.normal(0, jitter, (N_LANDMARKS, 2))


def _moving(i: int, x: float = 1000.0) -> np.ndarray:
    ph = np.sin(2 * np.pi * i / 30.0)
    return pose_frame(15 + 15 * ph, 40 + 40 * ph, 40 + 40 * ph, ankle=(x, 650.0))


def test_a_lifter_moves_and_a_bystander_is_still():
    assert not subject.motion(deadlift_track(reps=2)).still
    still = subject.motion(_track([_standing(i) for i in range(90)]))
    assert still.still and still.limbs < 0.1 and still.posed == 1.0


def test_a_foot_below_the_frame_is_not_movement():
    """MediaPipe guesses feet it cannot see (a coach cut off at the thighs): those guesses swing,
    but only landmarks in the picture count."""
    frames = []
    for i in range(90):
        xy = _standing(i)
        xy[27:33, 1] = 760.0 + 40 * np.sin(i / 3)  # ankles, heels, toes: below a 720 px frame
        xy[27:33, 0] += 150 * np.sin(i / 3)
        frames.append(xy)
    assert subject.motion(_track(frames)).still


def test_choose_keeps_a_moving_first_person_and_swaps_a_still_one():
    mover = _track([_moving(i) for i in range(90)])
    by = _track([_standing(i) for i in range(90)])
    chosen, note = subject.choose(mover, None)
    assert chosen is mover and "they move" in note
    chosen, note = subject.choose(by, mover)
    assert chosen is mover and "bystander" in note and "first (around x = 3" in note
    chosen, note = subject.choose(by, _track([_standing(i, x=900) for i in range(90)]))
    assert chosen is by and "no other moving person" in note
    chosen, note = subject.choose(by, None)
    assert chosen is by and "stands nearly still" in note


def test_cover_paints_the_person_and_not_the_rest():
    img = np.zeros((720, 1280, 3), np.uint8)
    img[:, 640:] = 200
    xy = _standing(0)
    out = subject.cover(img, xy)
    assert out is not img and img[:, :640].max() == 0  # a copy; the input is untouched
    hip = np.round(0.5 * (xy[L_HIP] + xy[R_HIP])).astype(int)
    assert out[hip[1], hip[0]].tolist() == [100, 100, 100]  # the picture's mean colour
    assert np.array_equal(out[:, 1000:], img[:, 1000:])     # far from the person: untouched


def test_extraction_looks_past_a_still_bystander(tmp_path):
    """The fake pose model finds the bystander (left) while they are in the picture, and the mover
    (right) once they are covered: extraction must end on the mover and say why."""
    from formcheck.extract import extract_pose
    from formcheck.video import H264Writer
    p = str(tmp_path / "two.mp4")
    w, h, n = 160, 90, 60
    with H264Writer(p, w, h, 30.0) as wr:
        for _ in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[:, : w // 2] = (255, 0, 0)   # the bystander stands on red; the cover is the mean, purple
            img[:, w // 2:] = (0, 0, 255)
            wr.write(img)
    calls = {"n": 0}

    def process(rgb_small, full_size):
        i = calls["n"] % n
        calls["n"] += 1
        by = _standing(i) * SCALE
        hip = np.round(0.5 * (by[L_HIP] + by[R_HIP])).astype(int)
        covered = rgb_small[hip[1], hip[0], 2] > 60
        xy = (_moving(i) if covered else _standing(i)) * SCALE
        return xy, np.ones(N_LANDMARKS), np.zeros((2, len(PROFILE_T)))
    Fake = fake_pose(process)

    tr = extract_pose(p, backend=Fake)
    assert calls["n"] == 2 * n                       # a second pass, because the first person stood still
    assert not subject.motion(tr).still
    assert np.nanmedian(tr.xy[:, L_HIP, 0]) > w / 2  # the mover, on the right
    assert "bystander" in tr.subject_note
    tr1 = extract_pose(p, backend=Fake, pick_subject=False)
    assert subject.motion(tr1).still and "stands nearly still" in tr1.subject_note


def test_an_app_cache_from_before_the_subject_check_is_not_trusted(tmp_path):
    """A pose track cached before the subject check: a still person in it is tracked again (it may
    be the bystander), a moving one is kept with today's note."""
    import os
    from formcheck import uploads
    for name, frames, kept in (("still", [_standing(i) for i in range(90)], False),
                               ("moving", [_moving(i) for i in range(90)], True)):
        tr = _track(frames)
        tr.plates = np.full((len(tr), 3, 3), np.nan)
        tr.subject_note = "Subject: MediaPipe detects the most prominent person and then tracks them frame to frame."
        os.makedirs(tmp_path / name)
        tr.save(str(tmp_path / name / "track.npz"))
        got = uploads.load_track(str(tmp_path), name)
        assert (got is not None) == kept
        if kept:
            assert subject.decided(got.subject_note) and "they move" in got.subject_note
        else:
            assert not (tmp_path / name / "track.npz").exists()


def test_a_person_whose_limbs_are_never_seen_is_not_said_to_move():
    frames = []
    for i in range(90):
        xy = _standing(i)
        frames.append(xy)
    tr = _track(frames)
    tr.vis[:, [15, 16, 27, 28]] = 0.1  # hands and feet never seen
    m = subject.motion(tr)
    assert not np.isfinite(m.limbs) and m.still and "(not seen)" in m.words()


def test_a_failed_second_look_keeps_the_first_track_and_says_so(tmp_path):
    from formcheck.extract import extract_pose
    from tests.media import make_clip
    p = str(tmp_path / "c.mp4")
    make_clip(p, n=40, w=160, h=96)
    calls = {"n": 0}

    def process(rgb_small, full_size):
        calls["n"] += 1
        if calls["n"] > 40:
            raise RuntimeError("the second graph broke")
        return _standing(calls["n"]) * SCALE, np.ones(N_LANDMARKS), np.zeros((2, len(PROFILE_T)))

    tr = extract_pose(p, backend=fake_pose(process))
    assert len(tr) == 40 and "failed (RuntimeError)" in tr.subject_note
