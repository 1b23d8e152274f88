"""Result folders are complete or absent; runs never mix; uploads never collide (no MediaPipe:
the pose track is given, the video is a small generated clip)."""
import errno
import io
import os
import threading

import numpy as np
import pytest

from formcheck import pipeline, uploads
from formcheck.cli import out_names
from formcheck.pipeline import analyze_video
from formcheck.results import MARKER, ResultWriter, load
from formcheck.types import FormcheckError, VideoInfo
from tests.media import make_clip
from tests.synth import deadlift_track


def job(tmp_path, reps=2, name="set.mp4"):
    """A small clip and a pose track of a synthetic lifter that fits it (1/8 size, 15 fps)."""
    tr = deadlift_track(reps=reps, fps=15.0, rep_s=2.5)
    tr.xy *= 0.125
    tr.video = VideoInfo(path=name, width=160, height=90, fps=15.0, frames=len(tr), duration_s=len(tr) / 15,
                         rotation=0, codec="h264", vfr=False)
    p = str(tmp_path / name)
    make_clip(p, n=len(tr), w=160, h=90, fps=15.0)
    return p, tr


class NoPose:
    """A pose backend that must not be reached: the folder is checked before any work."""
    def __enter__(self):
        raise AssertionError("pose estimation started before the output folder was checked")


def test_result_folder_has_a_marker_listing_every_file(tmp_path):
    p, tr = job(tmp_path)
    res = analyze_video(p, "deadlift", str(tmp_path / "out"), track=tr)
    marker = load(res.out_dir)
    assert set(marker["files"]) == {"report.json", "frames.csv", "reps.csv", "report.pdf", "annotated.mp4"}
    assert marker["source"] == "set.mp4" and res.annotated_path.endswith("annotated.mp4")
    assert not [n for n in os.listdir(res.out_dir) if n.startswith(".formcheck-tmp-")]


@pytest.mark.parametrize("damage", ["truncate report", "drop csv", "truncate video", "drop marker"])
def test_a_damaged_result_is_not_a_result(tmp_path, damage):
    p, tr = job(tmp_path)
    out = analyze_video(p, "deadlift", str(tmp_path / "out"), track=tr, pdf=False).out_dir
    f = {"truncate report": "report.json", "drop csv": "reps.csv", "truncate video": "annotated.mp4", "drop marker": MARKER}[damage]
    if damage.startswith("truncate"):
        with open(os.path.join(out, f), "r+b") as fh:
            fh.truncate(os.path.getsize(os.path.join(out, f)) // 2)
    else:
        os.remove(os.path.join(out, f))
    assert load(out) is None
    assert pipeline.Result(tr, None, {}, out).annotated_path is None
    # and the next run into it simply replaces it
    analyze_video(p, "deadlift", out, track=tr, pdf=False)
    assert load(out) is not None


def _full_disk(path, *a, **k):
    with open(path, "wb") as fh:
        fh.write(b"\0" * 1000)  # half an mp4, as a full disk leaves it
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_run_leaves_the_previous_result_as_it_was(tmp_path, monkeypatch):
    p, tr = job(tmp_path)
    out = str(tmp_path / "out")
    analyze_video(p, "deadlift", out, track=tr, pdf=False)
    before = load(out)
    monkeypatch.setattr(pipeline, "render_video", _full_disk)
    with pytest.raises(OSError):
        analyze_video(p, "deadlift", out, track=job(tmp_path, reps=3, name="b.mp4")[1], pdf=False)
    assert load(out) == before  # same files, same hashes
    assert sorted(os.listdir(out)) == sorted(list(before["files"]) + [MARKER, ".formcheck.lock"])


def test_a_failed_first_run_leaves_no_folder(tmp_path, monkeypatch):
    p, tr = job(tmp_path)
    monkeypatch.setattr(pipeline, "render_video", _full_disk)
    with pytest.raises(OSError):
        analyze_video(p, "deadlift", str(tmp_path / "out"), track=tr, pdf=False)
    assert not (tmp_path / "out").exists()


def test_a_run_without_video_replaces_another_clips_result_whole(tmp_path):
    """A 2-rep clip with video, then a 3-rep clip with --no-video into the same folder: nothing of
    the first is left (its annotated.mp4 would be the other clip's video)."""
    p, tr = job(tmp_path)
    out = str(tmp_path / "out")
    analyze_video(p, "deadlift", out, track=tr, pdf=False)
    p3, tr3 = job(tmp_path, reps=3, name="other.mp4")
    res = analyze_video(p3, "deadlift", out, render=False, track=tr3, pdf=False)
    assert res.replaced == "set.mp4"
    assert not os.path.exists(os.path.join(out, "annotated.mp4")) and res.annotated_path is None
    assert len(res.analysis.reps) == 3 and load(out)["source"] == "other.mp4"
    assert analyze_video(p3, "deadlift", out, render=False, track=tr3, pdf=False).replaced is None  # the same file again
    q = tmp_path / "elsewhere"
    q.mkdir()
    p4, tr4 = job(q, reps=3, name="other.mp4")  # same name, another file
    assert analyze_video(p4, "deadlift", out, render=False, track=tr4, pdf=False).replaced == "other.mp4"


def test_two_runs_into_one_folder_cannot_interleave(tmp_path):
    p, _ = job(tmp_path)
    out = str(tmp_path / "out")
    with ResultWriter(out, "first.mp4"):
        with pytest.raises(FormcheckError, match="Another formcheck run"):
            analyze_video(p, "deadlift", out, backend=NoPose)


def test_folders_in_the_output_folder_are_never_deleted(tmp_path):
    """Batch results of clips named compare_*.mp4 (sub-folders) survive a run into the parent."""
    p, tr = job(tmp_path)
    out = tmp_path / "out"
    (out / "compare_a").mkdir(parents=True)
    with pytest.raises(FormcheckError, match="not a formcheck result"):
        analyze_video(p, "deadlift", str(out), track=tr, pdf=False)
    assert (out / "compare_a").is_dir()


def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    p, _ = job(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FormcheckError, match="not a formcheck result"):
        analyze_video(p, "deadlift", str(out), backend=NoPose)
    assert (out / "notes.txt").read_text() == "mine"


def test_an_unwritable_output_folder_fails_before_any_work(tmp_path):
    p, _ = job(tmp_path)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FormcheckError, match="Cannot write results"):
        analyze_video(p, "deadlift", str(tmp_path / "afile" / "out"), backend=NoPose)
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(FormcheckError, match="permission denied"):
            analyze_video(p, "deadlift", str(ro / "out"), backend=NoPose)


def test_the_temporary_folder_is_inside_the_output_folder(tmp_path):
    """So the final moves are renames on one filesystem even when the folder is a mount point."""
    out = str(tmp_path / "out")
    with ResultWriter(out, "x.mp4") as w:
        assert os.path.dirname(w.tmp) == os.path.abspath(out)


def test_leftovers_of_a_killed_run_are_cleared(tmp_path):
    p, tr = job(tmp_path)
    out = tmp_path / "out"
    (out / ".formcheck-tmp-dead").mkdir(parents=True)
    (out / ".formcheck-tmp-dead" / "annotated.mp4").write_bytes(b"\0" * 10)
    analyze_video(p, "deadlift", str(out), track=tr, pdf=False)
    assert not (out / ".formcheck-tmp-dead").exists()


@pytest.mark.parametrize("path,out", [(None, None), ("", None), ("x.mp4", "")])
def test_bad_arguments_are_clear_errors(tmp_path, path, out):
    with pytest.raises(FormcheckError):
        analyze_video(path, "deadlift", out)


def test_batch_output_names_are_never_shared():
    assert out_names(["a/set.mp4", "b/set.mp4"]) == ["a_set", "b_set"]
    assert out_names(["d/set.mp4", "d/set.mov"]) == ["set_mp4", "set_mov"]
    assert out_names(["x/a/set.mp4", "y/a/set.mp4", "run.mp4"]) == ["x_a_set", "y_a_set", "run"]
    assert out_names(["one.mp4", "two.mp4"]) == ["one", "two"]
    assert out_names(["a/Set.mp4", "b/set.mp4"]) == ["a_Set", "b_set"]  # one folder on macOS/Windows otherwise
    assert out_names(["set.MP4", "set.mp4"]) == ["set", "set_2"]
    assert out_names(["a/s.mp4", "b/s.mp4", "s_2.mp4"]) == ["a_s", "b_s", "s_2"]


class Upload(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


def test_concurrent_uploads_each_get_their_own_file(tmp_path):
    """Eight sessions uploading at once (one server process): each stored file is its own upload."""
    cache = str(tmp_path / "cache")
    datas = [bytes([i]) * (3 << 20) + os.urandom(64) for i in range(8)]
    got = [None] * 8
    barrier = threading.Barrier(8)

    def go(i):
        barrier.wait()
        got[i] = uploads.stash_upload(Upload(datas[i], f"clip{i}.mp4"), cache)
    th = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    [t.start() for t in th]
    [t.join() for t in th]
    for (path, key), data in zip(got, datas):
        assert open(path, "rb").read() == data and uploads.file_key(path) == key
    assert not [n for n in os.listdir(cache) if n.startswith(".upload-")]


def test_a_stored_upload_that_no_longer_matches_its_hash_is_replaced(tmp_path):
    cache = str(tmp_path / "cache")
    path, key = uploads.stash_upload(Upload(b"video" * 1000, "a.mp4"), cache)
    open(path, "wb").write(b"someone else's video")
    path2, key2 = uploads.stash_upload(Upload(b"video" * 1000, "a.mp4"), cache)
    assert (path2, key2) == (path, key) and open(path, "rb").read() == b"video" * 1000


def test_damaged_track_cache_is_recomputed_not_an_error_forever(tmp_path):
    cache = str(tmp_path / "cache")
    tr = deadlift_track(reps=1)
    uploads.save_track(cache, "k", tr)
    assert np.array_equal(uploads.load_track(cache, "k").xy, tr.xy)
    p = os.path.join(cache, "k", "track.npz")
    with open(p, "r+b") as fh:
        fh.truncate(32 * 1024 if os.path.getsize(p) > 32 * 1024 else 100)
    assert uploads.load_track(cache, "k") is None and not os.path.exists(p)


def test_errors_are_remembered_per_exercise(tmp_path):
    cache = str(tmp_path / "cache")
    uploads.cache_error(cache, "k", "running", "No steady running rhythm.")
    assert uploads.cached_error(cache, "k", "running") == "No steady running rhythm."
    assert uploads.cached_error(cache, "k", "deadlift") is None
    uploads.cache_error(cache, "k", "*", "could not be decoded")
    assert uploads.cached_error(cache, "k", "deadlift") == "could not be decoded"


def test_retention_sweep_deletes_only_what_is_old(tmp_path):
    cache = str(tmp_path / "cache")
    for key, age_days in (("old", 8), ("fresh", 1)):
        os.makedirs(os.path.join(cache, key))
        t = 1_000_000_000 - age_days * 86400
        os.utime(os.path.join(cache, key), (t, t))
    assert uploads.sweep(cache, 7, now=1_000_000_000) == 1
    assert os.listdir(cache) == ["fresh"]


def test_a_streamed_upload_lands_whole_or_not_at_all(tmp_path):
    """The upload route's receiver: chunks to disk as they arrive; too big or cut off, nothing stays."""
    cache = str(tmp_path / "cache")
    r = uploads.Receiver(cache, "My Lift.MOV", max_bytes=10 << 20)
    data = os.urandom(3 << 20)
    for i in range(0, len(data), 65536):
        r.write(data[i:i + 65536])
    path, key = r.finish()
    assert path.endswith("input.mov") and open(path, "rb").read() == data and uploads.file_key(path) == key
    big = uploads.Receiver(cache, "big.mp4", max_bytes=1 << 20)
    with pytest.raises(ValueError, match="larger than 1 MB"):
        for _ in range(3):
            big.write(b"\0" * (600 << 10))
    big.abort()
    assert sorted(os.listdir(cache)) == [key]


def test_upload_tickets_are_issued_not_guessed():
    t = uploads.new_ticket()
    assert uploads.valid_ticket(t) and not uploads.valid_ticket("forged") and not uploads.valid_ticket(None)
