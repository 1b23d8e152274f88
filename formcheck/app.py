"""Streamlit app: upload a phone video, watch progress, review the results, export.

    streamlit run formcheck/serve.py   # uploads streamed to disk (formcheck/serve.py)
    streamlit run formcheck/app.py     # the same app with Streamlit's own uploader (held in memory)
"""
from __future__ import annotations

import glob
import json
import os
import tempfile

import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v2  # noqa: F401  (st.components.v2: the upload box)

from formcheck.compare import curves, default_pair, side_by_side
from formcheck.extract import extract_pose
from formcheck.pipeline import analyze, write_results
from formcheck.report import PROXY_NOTE, reps_table
from formcheck.results import ResultWriter, load as load_result
from formcheck import uploads
from formcheck.exercise import get as get_exercise, names as exercise_names
from formcheck.types import FormcheckError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = uploads.cache_dir()
# Clips this project rendered from a synthetic body (see formcheck/synthetic); the most telling first.
_ORDER = ["deadlift_rounding.mp4", "deadlift_good.mp4", "run_overstride.mp4"]
SAMPLES = sorted(glob.glob(os.path.join(ROOT, "sample_videos", "*.mp4")),
                 key=lambda p: _ORDER.index(os.path.basename(p)) if os.path.basename(p) in _ORDER else 99)

GUIDE = """**Filming for a good reading**
- Side-on: the camera at right angles to you (within ~20 deg), at hip height, 3-5 m away.
- Whole body and the bar in frame for the whole set; one person in the picture.
- 60 fps or more if your phone allows; good light; fitted clothing shows the back's outline.
- Start filming before the first pull and stop after the last lockout. A plate in front of your hips is fine: the back is read from set-up to knee height."""


RETENTION_DAYS = float(os.environ.get("FORMCHECK_RETENTION_DAYS", "7"))

# The upload box used when the app runs with its upload route (formcheck/serve.py): the browser
# sends the file itself (XMLHttpRequest with the File as body: read from disk as it goes, with
# progress), the route writes it to disk as it arrives, and the script is told the content key.
_UPLOAD_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  const input = parentElement.querySelector("input");
  const status = parentElement.querySelector(".status");
  input.accept = data.accept;
  input.onchange = () => {
    const file = input.files[0];
    if (!file) return;
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", data.route + "?ticket=" + encodeURIComponent(data.ticket) + "&name=" + encodeURIComponent(file.name));
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) status.textContent = "Uploading " + file.name + ": " + Math.round(100 * e.loaded / e.total) + "%";
    };
    xhr.onload = () => {
      let r = {};
      try { r = JSON.parse(xhr.responseText); } catch (err) {}
      if (xhr.status === 200) { status.textContent = "Uploaded " + r.name + "."; setTriggerValue("uploaded", r); }
      else { status.textContent = ""; setTriggerValue("failed", r.error || ("Upload failed (" + xhr.status + ").")); }
      input.value = "";
    };
    xhr.onerror = () => { status.textContent = ""; setTriggerValue("failed", "The upload of " + file.name + " was interrupted."); };
    status.textContent = "Uploading " + file.name + "...";
    xhr.send(file);
  };
}
"""
_UPLOAD_HTML = """<label class="box">Upload a video (mp4 or mov, up to 1 GB)<br><input type="file"></label><div class="status"></div>"""
_UPLOAD_CSS = """.box { display: block; padding: 1rem; border: 1px dashed var(--st-border-color, #999); border-radius: 0.5rem;
  font-family: var(--st-font, sans-serif); } .status { font-family: var(--st-font, sans-serif); padding-top: 0.3rem; }"""


def upload_box() -> dict | None:
    """{id, path, key, name} of a new upload, or None. Streamed to disk by the upload route when
    the app runs under formcheck/serve.py; else Streamlit's uploader, whose in-memory copy is
    dropped once the file is on disk."""
    route = os.environ.get("FORMCHECK_UPLOAD_ROUTE")
    if route:
        if "ticket" not in st.session_state:
            st.session_state["ticket"] = uploads.new_ticket()
        box = st.components.v2.component("formcheck_upload", html=_UPLOAD_HTML, css=_UPLOAD_CSS, js=_UPLOAD_JS)
        res = box(data={"route": route, "ticket": st.session_state["ticket"], "accept": ",".join(uploads.VIDEO_EXTS)},
                  key="upload_box", on_uploaded_change=lambda: None, on_failed_change=lambda: None)
        if res.failed:
            st.error(res.failed)
        if res.uploaded:
            u = res.uploaded
            return {"id": u["key"] + u["name"], "path": uploads.stored_name(CACHE, u["key"], u["name"]),
                    "key": u["key"], "name": u["name"]}
        return None
    upload = st.file_uploader("Upload a video (mp4 or mov)", type=[e.lstrip(".") for e in uploads.VIDEO_EXTS])
    mine = st.session_state.get("upload")
    if upload is None or (mine is not None and mine["id"] == upload.file_id):
        return None
    try:
        path, key = uploads.stash_upload(upload, CACHE)
    except OSError as e:
        st.error(f"Could not store '{upload.name}' on the server ({e.strerror or e.__class__.__name__}). Try again later.")
        return None
    _release(upload)
    return {"id": upload.file_id, "path": path, "key": key, "name": upload.name}


def _release(upload) -> None:
    """Streamlit keeps every upload in server memory until its session ends; once the file is on
    disk, drop that copy (what the uploader's own delete button does)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        ctx.uploaded_file_mgr.remove_file(ctx.session_id, upload.file_id)
    except Exception:  # a Streamlit without this hook: the copy lives until the session ends
        pass


def run_analysis(path: str, key: str, exercise: str) -> dict:
    """One Result per (file content, exercise) and session. The pose track is cached on disk
    (checked on load), so another session or exercise choice needs no pose inference; a clip
    that cannot be analysed is remembered as such."""
    results = st.session_state.setdefault("results", {})
    res = results.get((key, exercise))
    uploads.touch(CACHE, key)
    if res is None:
        err = uploads.cached_error(CACHE, key, exercise)
        if err:
            raise FormcheckError(err)
        track = uploads.load_track(CACHE, key)
        if track is None:
            bar = st.progress(0.0, text="Starting...")

            def progress(stage: str, i: int, n: int) -> None:
                bar.progress(min(1.0, i / max(n, 1)), text=f"Finding the body: frame {i} of {n}")
            try:
                track = extract_pose(path, progress)
            except FormcheckError as e:
                uploads.cache_error(CACHE, key, "*", str(e))
                raise
            finally:
                bar.empty()
            uploads.save_track(CACHE, key, track)
        try:
            res = analyze(track, exercise)
        except FormcheckError as e:
            uploads.cache_error(CACHE, key, exercise, str(e))
            raise
        results[(key, exercise)] = res
    # The annotated clip belongs to the exercise analysed, not to the choice: "auto" and "deadlift"
    # on a deadlift share one.
    out = os.path.join(CACHE, key, res.analysis.exercise)
    return {"key": key, "out": out, "path": path, "exercise": exercise, "result": res}


def annotated_video(job: dict, slot) -> str | None:
    """The annotated clip, rendered after the results are on screen, with its own progress."""
    out, res = job["out"], job["result"]
    marker = load_result(out)
    if marker and "annotated.mp4" in marker["files"]:
        return os.path.join(out, "annotated.mp4")
    bar = slot.progress(0.0, text="Drawing the annotated video...")

    def progress(stage: str, i: int, n: int) -> None:
        bar.progress(min(1.0, i / max(n, 1)), text=f"Drawing the annotated video: frame {i} of {n}")
    try:
        with ResultWriter(out, source=os.path.basename(job["path"])) as w:
            write_results(job["path"], res, w, render=True, progress=progress)
    except FormcheckError as e:  # another session is drawing it, or the disk is full
        slot.info(f"The annotated video is not ready: {e}")
        return None
    finally:
        bar.empty()
    return os.path.join(out, "annotated.mp4")


def show_results(job: dict) -> None:
    res = job["result"]
    report, track, a = res.report, res.track, res.analysis
    v = report["video"]
    spec = get_exercise(a.exercise)
    unit = spec.unit

    st.subheader("Capture check")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("View", "oblique" if a.view.oblique else "side-on" if a.view.ok else "not side-on")
    c2.metric("Frame rate", f"{v['fps']:.0f} fps" + (" (variable)" if v.get("variable_frame_rate") else ""))
    c3.metric("Rotation applied", f"{v['rotation']} deg")
    c4.metric(f"{unit.title()}s found", len(a.reps))
    st.caption(a.view.reason + " " + (report.get("subject") or ""))
    if v["fps"] < 50:
        st.info(f"Filmed at {v['fps']:.0f} fps: fast moments (lift-off, foot strike) are sampled coarsely; 60 fps or more is better.")
    for w in a.warnings:
        st.warning(w)
    if a.withheld:
        with st.expander(f"{len(a.withheld)} metric(s) withheld, and why", expanded=not a.view.ok):
            for k, why in a.withheld.items():
                st.markdown(f"- **{a.metric_info.get(k, {}).get('label', k)}**: {why}")

    gated = [(r.index, k, why) for r in a.reps for k, why in r.not_measured.items()]
    if gated:
        with st.expander(f"{len(gated)} value(s) not measured on single {unit}s (impossible readings), and why"):
            for i, k, why in gated:
                st.markdown(f"- {unit} {i}, **{a.metric_info.get(k, {}).get('label', k)}**: {why}")

    st.subheader("What we found")
    back = spec.back_key
    unmeasured = back in a.withheld or any(r.metrics.get(back) is None for r in a.reps)
    jumped = any("jumped" in w for w in a.warnings)
    if not report["faults"] and (unmeasured or jumped):
        why = (f"the back shape was not measured on {'any' if back in a.withheld else 'every'} {unit}" if unmeasured
               else "the tracked body jumped during the clip (see the warning above)")
        st.warning(f"No fault crossed its threshold in {len(a.reps)} {unit}s, but {why}: this is not an all-clear.")
    elif not report["faults"]:
        st.success(f"No fault crossed its threshold in {len(a.reps)} {unit}s.")
    for f in report["faults"]:
        if f.get("scope") == "set":
            st.error(f"**{f['code'].replace('_', ' ')}** (whole set, {f['severity']}): {f['message']}\n\n*Cue:* {f['cue']}")
        else:
            st.error(f"**{f['code'].replace('_', ' ')}** in {unit}s {', '.join(map(str, f['reps']))}. Worst, at "
                     f"{f['start_s']:.1f} s ({f['severity']}; line {f['threshold']:g} {f['unit']}): {f['message']}"
                     f"\n\n*Cue:* {f['cue']}")
    st.caption(PROXY_NOTE)

    left, right = st.columns([3, 2])
    slot = left.empty()
    with right:
        st.dataframe(readable_table(a), hide_index=True, width="stretch")
    plot(a)
    vid = annotated_video(job, slot)  # the results above are on screen while it renders
    if vid:
        slot.video(vid)
    compare(job, track, a)
    downloads(job, res, vid)


def readable_table(a) -> pd.DataFrame:
    """The per-rep table for people: the metric labels and units the analysis carries, the
    faults and the back number first, one decimal, blanks for what was not measured."""
    rows = reps_table(a)
    spec = get_exercise(a.exercise)
    first = ["rep", "faults", spec.back_key] + [k for k in rows.columns if k not in ("rep", "faults", spec.back_key)]
    rows = rows[[c for c in first if c in rows.columns]]
    names = {k: f"{v['label']} ({v['unit']})" for k, v in a.metric_info.items()}
    names.update(rep=spec.unit.title(), faults="Faults", start_s="Start (s)", end_s="End (s)", not_measured="Not measured")
    # text cells: Arrow shows a float column that also holds blanks as empty
    text = rows.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else f"{v:.1f}" if isinstance(v, float) else str(v))
    return text.rename(columns=names)


def plot(a) -> None:
    import altair as alt
    spec = get_exercise(a.exercise)
    keys = [k for k in spec.plot_keys if k in a.series and k not in a.withheld]
    if not keys:
        return
    step = max(1, len(a.series["t"]) // 1500)
    df = pd.DataFrame({"t": a.series["t"][::step]} | {k: a.series[k][::step] for k in keys})
    long = df.melt("t", var_name="metric", value_name="deg").dropna()
    chart = alt.Chart(long).mark_line().encode(x=alt.X("t:Q", title="time (s)"), y=alt.Y("deg:Q", title="degrees"), color="metric:N")
    bounds = pd.DataFrame({"t": [r.start_s for r in a.reps], "label": [f"{r.index}" for r in a.reps]})
    layers = [chart, alt.Chart(bounds).mark_rule(color="gray", strokeDash=[3, 3]).encode(x="t:Q")]
    if spec.back_key in keys:
        thr = pd.DataFrame({"y": [spec.back_rule.threshold]})
        layers.append(alt.Chart(thr).mark_rule(color="black", strokeDash=[8, 4], strokeWidth=2).encode(y="y:Q"))
    st.subheader("Angles over time")
    st.altair_chart(alt.layer(*layers).properties(height=260), width="stretch")
    line = (f" Black dashed line: the {spec.back_rule.code.replace('_', ' ')} line ({spec.back_rule.threshold:g} "
            f"{spec.back_rule.unit}) for {a.metric_info.get(spec.back_key, {}).get('label', spec.back_key)}."
            if spec.back_key in keys else "")
    st.caption(f"Grey dashed lines: start of each {spec.unit}.{line}")


def compare(job, track, a) -> None:
    if len(a.reps) < 2:
        return
    spec = get_exercise(a.exercise)
    st.subheader(f"Compare two {spec.units}")
    da, db = default_pair(a)
    idx = [r.index for r in a.reps]
    c1, c2 = st.columns(2)
    # keyed by the clip and analysis, so a new upload starts from its own default pair
    ra = c1.selectbox("Left", idx, index=idx.index(da), key=f"rep_a_{job['key']}_{a.exercise}")
    rb = c2.selectbox("Right", idx, index=idx.index(db), key=f"rep_b_{job['key']}_{a.exercise}")
    key = spec.back_key if spec.back_key not in a.withheld else "trunk_deg"
    ph = np.linspace(0, 100, 101)
    df = pd.DataFrame({"phase %": ph, f"rep {ra}": curves(a, a.reps[ra - 1], key), f"rep {rb}": curves(a, a.reps[rb - 1], key)})
    st.line_chart(df, x="phase %", height=200)
    st.caption(f"{a.metric_info.get(key, {}).get('label', key)} over each rep, time-normalised by phase "
               + f"({spec.phase_words}).")
    folder = os.path.join(CACHE, job["key"], "compare", a.exercise)
    clip = os.path.join(folder, f"compare_{ra}_{rb}.mp4")
    if not os.path.exists(clip):
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".formcheck-tmp-", suffix=".mp4", dir=folder)
        os.close(fd)
        try:
            with st.spinner("Building the side-by-side clip..."):
                side_by_side(job["path"], track, a, ra, rb, tmp)
            os.replace(tmp, clip)  # whole or absent, whatever happens while it is built
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    st.video(clip)
    st.download_button("Download side-by-side clip", _reader(clip), file_name=f"compare_{ra}_{rb}.mp4", mime="video/mp4")


def _reader(path: str):
    """Read the file only when the button is clicked, not on every rerun."""
    def read() -> bytes:
        with open(path, "rb") as fh:
            return fh.read()
    return read


def downloads(job, res, vid) -> None:
    st.subheader("Export")
    c = st.columns(3)
    if vid:
        c[0].download_button("Annotated video (mp4)", _reader(vid), file_name="annotated.mp4", mime="video/mp4")
    c[1].download_button("Report (json)", json.dumps(res.report, indent=2), file_name="report.json", mime="application/json")
    c[2].download_button("Per-rep metrics (csv)", reps_table(res.analysis).to_csv(index=False), file_name="reps.csv", mime="text/csv")


def user_message(msg: str, path: str, name: str) -> str:
    """An error in the user's words: their file's name, never a path on the server."""
    for p in (os.path.abspath(path), path, os.path.basename(path)):
        msg = msg.replace(p, name)
    return msg.replace(CACHE, "").replace(ROOT, "")


def main() -> None:
    st.set_page_config(page_title="formcheck", layout="wide")
    if "swept" not in st.session_state:  # once per session: old uploads and results go
        st.session_state["swept"] = uploads.sweep(CACHE, RETENTION_DAYS)
    st.title("formcheck")
    st.write("Deadlift and running form from a side-on phone video: reps, angles, a back-rounding proxy, and what to cue.")
    with st.sidebar:
        st.markdown(GUIDE)
        exercise = st.radio("Exercise", ["auto"] + exercise_names(), horizontal=True)
        st.caption(f"Your uploads and their results stay on this server only, and are deleted {RETENTION_DAYS:g} days "
                   "after their last use (FORMCHECK_RETENTION_DAYS).")
    new = upload_box()
    if new is not None:
        st.session_state["upload"] = new
    mine = st.session_state.get("upload")
    if mine is not None and not os.path.exists(mine["path"]):
        mine = st.session_state["upload"] = None  # deleted (by the user, or the retention sweep)
    if mine is not None:
        path, key, name = mine["path"], mine["key"], mine["name"]
        if st.sidebar.button("Delete my data now", help="Removes this upload and all its results from the server."):
            uploads.delete(CACHE, key)
            st.session_state["upload"] = None
            st.session_state.get("results", {}).clear()
            st.sidebar.success(f"Deleted '{name}' and its results from the server.")
            return
    elif SAMPLES:
        names = [os.path.basename(p) for p in SAMPLES]
        pick = st.selectbox("Or look at a sample clip (a synthetic lifter/runner rendered by this project, with known angles)", names)
        path = SAMPLES[names.index(pick)]
        key, name = uploads.file_key(path), pick
        st.caption("Showing a sample. Upload your own clip above to analyse it.")
    else:
        st.info("Upload a clip to start.")
        return
    try:
        job = run_analysis(path, key, exercise)
        show_results(job)
    except FormcheckError as e:
        st.error(user_message(str(e), path, name))
    except Exception as e:  # never a traceback, never a server path in the page
        st.error(f"Something went wrong analysing '{name}' ({e.__class__.__name__}). Try another clip; if it keeps "
                 "happening, report it with the file.")


main()
