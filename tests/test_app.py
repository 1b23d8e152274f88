"""The Streamlit app driven by streamlit.testing's AppTest on a short real clip."""
import os
import shutil

import pytest

from tests.conftest import clip

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "formcheck", "app.py")


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
    app.session_state["video_path"] = p
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
    assert {"Annotated video (mp4)", "Report (json)", "Per-rep metrics (csv)", "Download side-by-side clip"} <= set(labels)
    # changing the compared reps reruns without re-analysing (results are cached on disk by content hash)
    track = tmp_path / "cache"
    n_before = sum(len(f) for _, _, f in os.walk(track))
    a0 = app.selectbox(key="rep_a").value
    app.selectbox(key="rep_a").set_value(1 if a0 == 2 else 2).run()
    assert not app.exception
    assert sum(len(f) for _, _, f in os.walk(track)) == n_before + 1  # only the new comparison clip


def test_app_shows_bad_input_as_a_message(app, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    app.session_state["video_path"] = str(bad)
    app.run()
    assert not app.exception
    assert any("could not be opened" in e.value or "could not be decoded" in e.value for e in app.error)
