"""The Streamlit app driven by streamlit.testing's AppTest on a short real clip."""
import os
import shutil

import pytest

from tests.conftest import clip

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "formcheck", "app.py")


def use_file(app, path: str, name: str = "set.mp4") -> str:
    """What an upload leaves in the session: the stored file, its content key and the user's name."""
    from formcheck.results import sha256
    key = sha256(path, 20)
    app.session_state["upload"] = {"id": "test", "path": path, "key": key, "name": name}
    return key


@pytest.fixture
def app(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("FORMCHECK_CACHE", str(tmp_path / "cache"))
    return AppTest.from_file(APP, default_timeout=300)


@pytest.mark.slow
def test_app_analyses_a_clip_and_offers_exports(app, tmp_path):
    src = clip("deadlift", "dl_formfit_01_good.mp4")
    p = str(tmp_path / "set.mp4")
    shutil.copy(src, p)
    key = use_file(app, p)
    app.run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown) + " ".join(str(m.value) for m in app.caption)
    assert "Capture check" in " ".join(h.value for h in app.subheader)
    assert any(m.label.startswith("Reps found") and m.value == "2" for m in app.metric)
    assert "silhouette" in text  # the proxy is named for what it is
    table = app.dataframe[0].value
    assert list(table.columns[:3]) == ["Rep", "Faults", "Back rounding (outline bend) (deg (flat back ~0))"]
    assert all(v != "" and abs(float(v)) < 90 for v in table.iloc[:, 2])  # the back number, shown, one decimal
    labels = [b.label for b in app.get("download_button")]
    assert {"Report (PDF)", "Annotated video (mp4)", "Report (json)", "Per-rep metrics (csv)", "Download side-by-side clip"} <= set(labels)
    # changing the compared reps reruns without re-analysing (results are cached on disk by content hash)
    track = tmp_path / "cache"
    n_before = sum(len(f) for _, _, f in os.walk(track))
    a0 = app.selectbox(key=f"rep_a_{key}_deadlift").value
    app.selectbox(key=f"rep_a_{key}_deadlift").set_value(1 if a0 == 2 else 2).run()
    assert not app.exception
    assert sum(len(f) for _, _, f in os.walk(track)) == n_before + 1  # only the new comparison clip


def test_app_shows_bad_input_as_a_message(app, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    use_file(app, str(bad), "my lift.mp4")
    app.run()
    assert not app.exception
    assert any("could not be opened" in e.value or "could not be decoded" in e.value for e in app.error)
    msg = " ".join(e.value for e in app.error)
    assert "my lift.mp4" in msg and str(tmp_path) not in msg and "bad.mp4" not in msg  # the user's name, no server path
    # the failure is remembered: the next visit answers without decoding again
    app.run()
    assert any("my lift.mp4" in e.value for e in app.error)
    errors = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "cache") for f in fs if f == "errors.json"]
    assert len(errors) == 1


@pytest.mark.slow
def test_first_screen_is_the_sample_without_a_pose_pass(app, monkeypatch, tmp_path):
    """A fresh start opens on the bundled sample from its shipped pose track (no MediaPipe), with
    the verdict cards first; a card's button starts the video at its moment. Then saving it to
    the history from the same page."""
    import formcheck.extract
    data = str(tmp_path / "data")
    monkeypatch.setenv("FORMCHECK_DATA", data)

    def no_pose(*a, **k):
        raise AssertionError("pose estimation ran for the bundled sample")
    monkeypatch.setattr(formcheck.extract, "extract_pose", no_pose)
    app.run()
    assert not app.exception, app.exception
    assert not [e.value for e in app.error if "went wrong" in e.value]
    heads = [h.value for h in app.subheader]
    assert heads.index("What we found") < heads.index("Capture check")  # the answer first
    md = " ".join(m.value for m in app.markdown)
    assert "**Rep 1 - " in md and "+/- " in md and "line 14 deg" in md
    jumps = [b for b in app.button if b.label.startswith("Play from")]
    assert len(jumps) >= 3
    jumps[-1].click().run()
    assert not app.exception
    assert any(k.startswith("start_") for k in app.session_state.filtered_state)
    _saving_to_the_history(app, data)


def _saving_to_the_history(app, data):
    """A sample is not saved unless asked; switched on, it is saved once (reruns do not save it
    again), the load can be added, and the session can be deleted from the same place."""
    from formcheck.history import History
    labels = [b.label for b in app.get("download_button")]
    assert "Report (PDF)" in labels
    toggle = next(t for t in app.toggle if t.label == "Save this session to my history")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not app.exception, app.exception
    assert any("Saved as session #1 of me" in s.value for s in app.success)
    app.run()
    with History(data=data) as h:
        assert [s.id for s in h.sessions()] == [1] and h.session(1).clip
    app.number_input[0].set_value(140.0)
    next(b for b in app.button if b.label == "Update this session").click().run()
    with History(data=data) as h:
        assert h.session(1).load_kg == 140.0
    next(b for b in app.button if b.label == "Delete this session from my history").click().run()
    assert not app.exception, app.exception
    assert not [e.value for e in app.error if "went wrong" in e.value or "not available" in e.value]
    app.run()  # a later rerun (any click) must not save it again
    with History(data=data) as h:
        assert h.sessions() == []
    assert next(t for t in app.toggle if t.label == "Save this session to my history").value is False




@pytest.mark.slow
def test_a_run_shows_its_playback_and_where_cadence_is_read(app, tmp_path):
    """The bundled running sample (its pose track ships with it): the capture check says how the
    clip plays and over which stretch the cadence is read."""
    sample = os.path.join(os.path.dirname(APP), "..", "sample_videos", "run_overstride.mp4")
    p = str(tmp_path / "run.mp4")
    shutil.copy(sample, p)
    key = use_file(app, p, "run.mp4")
    from formcheck.uploads import seed_track
    assert seed_track(os.environ["FORMCHECK_CACHE"], key, sample)  # no pose pass: the sample's track ships
    app.run()
    assert not app.exception, app.exception
    assert any(m.label == "Playback" and m.value == "real-time" for m in app.metric), [(m.label, m.value) for m in app.metric]
    assert any("Cadence" in c.value and "real-time playback" in c.value for c in app.caption)
