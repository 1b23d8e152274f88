"""Streamlit app: upload a phone video, watch progress, review the results, export.

    streamlit run formcheck/serve.py   # uploads streamed to disk (formcheck/serve.py)
    streamlit run formcheck/app.py     # the same app with Streamlit's own uploader (held in memory)
"""
from __future__ import annotations

import glob
import json
import os
import re

import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v2  # noqa: F401  (st.components.v2: the upload box)

from formcheck.compare import curves, default_pair, side_by_side
from formcheck.extract import extract_pose
from formcheck.pipeline import analyze, write_results
from formcheck.report import PROXY_NOTE, readable_table, reps_table, series_label
from formcheck.results import ResultWriter, atomic_path, load as load_result
from formcheck import uploads
from formcheck.exercise import get as get_exercise, names as exercise_names
from formcheck.types import FormcheckError
from formcheck.verdict import cards, headline
from formcheck.app_history import pdf_reader, history_page, save_box

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
- Start filming before the first pull and stop after the last lockout. A plate in front of your hips is fine for the back (read from set-up to knee height), but the lockout angles (lean-back) are not measured while the plate hides your hips."""


RETENTION_DAYS = float(os.environ.get("FORMCHECK_RETENTION_DAYS", "7"))

# The upload box used when the app runs with its upload route (formcheck/serve.py): the browser
# sends the file itself (XMLHttpRequest with the File as body: read from disk as it goes, with
# progress), the route writes it to disk as it arrives, and the script is told the content key.
# The upload is told as a state value, not a trigger: Streamlit 1.60 merges a rerun requested
# while another is pending keeping only button and chat triggers (script_requests.
# _coalesce_widget_states), so a component's trigger sent then was dropped and the upload ignored.
_UPLOAD_JS = """
export default function(component) {
  const { data, setStateValue, setTriggerValue, parentElement } = component;
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
      if (xhr.status === 200) { status.textContent = "Uploaded " + r.name + "."; r.at = Date.now(); setStateValue("uploaded", r); }
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
        u = res.uploaded  # the latest upload, on every run: new only if it is not the one shown
        # what the page says is checked, not trusted: a content key and a video file name
        if isinstance(u, dict) and re.fullmatch(r"[0-9a-f]{20}", str(u.get("key", ""))) \
                and os.path.splitext(str(u.get("name", "")))[1].lower() in uploads.VIDEO_EXTS:
            name = os.path.basename(str(u["name"]))
            uid = f"{u['key']}{name}@{u.get('at')}"
            if st.session_state.get("upload_seen") == uid:  # taken already (maybe deleted since)
                return None
            st.session_state["upload_seen"] = uid
            return {"id": uid, "path": uploads.stored_name(CACHE, u["key"], name), "key": u["key"], "name": name}
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
                what = "Looking past a person who stands still" if stage == "subject" else "Finding the body"
                bar.progress(min(1.0, i / max(n, 1)), text=f"{what}: frame {i} of {n}")
            try:
                track = extract_pose(path, progress)
            except FormcheckError as e:
                if os.path.exists(path):  # a property of the file; a file deleted meanwhile is not
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
    bar = slot.progress(0.0, text="Drawing the annotated video...")

    def progress(stage: str, i: int, n: int) -> None:
        bar.progress(min(1.0, i / max(n, 1)), text=f"Drawing the annotated video: frame {i} of {n}")
    try:
        with ResultWriter(out, source=os.path.basename(job["path"])) as w:  # the PDF is made when asked for
            write_results(job["path"], res, w, render=True, progress=progress, pdf=False)
    except FormcheckError as e:  # another session is drawing it, or the disk is full
        busy = "Another formcheck run" in str(e)
        slot.info("The annotated video is being drawn for another visitor of this clip; reload in a moment." if busy else
                  "The annotated video could not be stored on the server (no room?); the results above stand.")
        return None
    finally:
        bar.empty()
    return os.path.join(out, "annotated.mp4")


_ICON = {"fault": ":material/error:", "ok": ":material/check_circle:", "unmeasured": ":material/help:"}


def show_verdict(job: dict) -> None:
    """The answer first: the clip's headline, then one card per rep (or stretch of steps) beside
    the video, each with a button that starts the video at that moment."""
    a = job["result"].analysis
    cs = cards(a)
    level, text = headline(a, cs)
    st.subheader("What we found")
    getattr(st, level)(f"**{job.get('name', '')}** - {text}" if job.get("name") else text)
    for i, c in enumerate(cs):
        with st.container(border=True):
            st.markdown(f"{_ICON[c.status]} **{c.title}**")
            st.markdown(c.back)
            for line in c.faults:
                st.markdown(f"- {line}")
            for cue in c.cues:
                st.markdown(f"*Cue:* {cue}")
            for u in c.unmeasured:
                st.caption(u)
            # a callback: it runs before the rerun, so the video above is drawn from there
            st.button(f"Play from {c.jump_s:.1f} s", key=f"jump_{job['key']}_{a.exercise}_{i}",
                      on_click=st.session_state.__setitem__, args=(f"start_{job['key']}_{a.exercise}", c.jump_s))
    for f in a.faults:  # the set-level verdict sits with the cards
        with st.container(border=True):
            st.markdown(f":material/error: **Whole set - {f.code.replace('_', ' ')}** ({f.severity}): {f.message}")
            st.markdown(f"*Cue:* {f.cue}")
    st.caption(PROXY_NOTE)


def show_video(job: dict, slot, vid: str) -> None:
    start = st.session_state.get(f"start_{job['key']}_{job['result'].analysis.exercise}")
    if start is None:
        slot.video(vid)
    else:  # a card's button: start there, playing (muted: browsers only autoplay silent video)
        slot.video(vid, start_time=float(start), autoplay=True, muted=True)


def show_results(job: dict) -> None:
    res = job["result"]
    report, track, a = res.report, res.track, res.analysis
    v = report["video"]
    spec = get_exercise(a.exercise)
    unit = spec.unit

    left, right = st.columns([2, 3])
    slot = right.empty()
    # Every file's hash is checked once per session; later reruns (a slider, a button) check sizes.
    checked = st.session_state.setdefault("checked_results", set())
    marker = load_result(job["out"], deep=job["out"] not in checked)
    if marker:
        checked.add(job["out"])
    ready = os.path.join(job["out"], "annotated.mp4") if marker and "annotated.mp4" in marker["files"] else None
    if ready:
        show_video(job, slot, ready)
    else:
        slot.info("The annotated video is drawn once the results below are on screen.")
    with left:
        show_verdict(job)

    st.subheader("Capture check")
    stretches = a.summary.get("playback") or []
    cols = st.columns(5 if stretches else 4)
    c1, c2, c3, c4 = cols[:4]
    c1.metric("View", "oblique" if a.view.oblique else "side-on" if a.view.ok else "not side-on")
    c2.metric("Frame rate", f"{v['fps']:.0f} fps" + (" (variable)" if v.get("variable_frame_rate") else ""))
    c3.metric("Rotation applied", f"{v['rotation']} deg")
    c4.metric(f"{unit.title()}s found", len(a.reps))
    if stretches:  # running: how fast the clip plays, judged from the runner (formcheck/playback.py)
        kinds = {p["playback"] for p in stretches}
        cad, over = a.summary.get("cadence_spm"), a.summary.get("cadence_over_s")
        cols[4].metric("Playback", kinds.pop() if len(kinds) == 1 else "mixed",
                       help="; ".join(f"{p['start_s']:.1f}-{p['end_s']:.1f} s {p['playback']}: {p['why']}" for p in stretches))
        if cad is not None and over:
            st.caption(f"Cadence {cad:.0f} steps/min, read over {over[0]:.1f}-{over[1]:.1f} s (real-time playback).")
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
        with st.expander(f"{len(gated)} value(s) not measured on single {unit}s, and why"):
            for i, k, why in gated:
                st.markdown(f"- {unit} {i}, **{a.metric_info.get(k, {}).get('label', k)}**: {why}")

    st.subheader(f"Per {unit}")
    st.dataframe(readable_table(a), hide_index=True, width="stretch")
    plot(a)
    vid = ready or annotated_video(job, slot)  # the results above are on screen while it renders
    if vid and not ready:
        show_video(job, slot, vid)
    compare(job, track, a)
    downloads(job, res, vid)
    save_box(job, job.get("sample", False))


def plot(a) -> None:
    """Angles over time in the analysis's own words (labels, units); the back line in its own
    colour with a legend entry; gaps in the tracking stay gaps."""
    import altair as alt
    spec = get_exercise(a.exercise)
    keys = [k for k in spec.plot_keys if k in a.series and k not in a.withheld]
    if not keys:
        return
    label = {k: series_label(a, k) for k in keys}
    step = max(1, len(a.series["t"]) // 1500)
    df = pd.DataFrame({"t": a.series["t"][::step]} | {label[k]: a.series[k][::step] for k in keys})
    long = df.melt("t", var_name="measure", value_name="deg")  # NaN kept: the line breaks there
    names = [label[k] for k in keys]
    colours = ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"][: len(names)]
    if spec.back_key in keys and spec.back_rule.threshold is not None:
        line_name = f"{spec.back_rule.code.replace('_', ' ')} line ({spec.back_rule.threshold:g} deg)"
        long = pd.concat([long, pd.DataFrame({"t": [df["t"].iloc[0], df["t"].iloc[-1]], "measure": line_name,
                                              "deg": spec.back_rule.threshold})])
        names, colours = names + [line_name], colours + ["#111111"]
    chart = alt.Chart(long).mark_line().encode(
        x=alt.X("t:Q", title="time (s)"), y=alt.Y("deg:Q", title="degrees"),
        color=alt.Color("measure:N", scale=alt.Scale(domain=names, range=colours), legend=alt.Legend(orient="bottom", title=None)),
        strokeDash=alt.condition(alt.datum.measure == names[-1], alt.value([8, 4]), alt.value([1, 0]))
        if len(names) > len(keys) else alt.value([1, 0]))
    bounds = pd.DataFrame({"t": [r.start_s for r in a.reps]})
    layers = [chart, alt.Chart(bounds).mark_rule(color="#bbbbbb", strokeDash=[3, 3]).encode(x="t:Q")]
    st.subheader("Angles over time")
    st.altair_chart(alt.layer(*layers).properties(height=260), width="stretch")
    st.caption(f"Grey dotted lines: the start of each {spec.unit}. Breaks in a line: frames where it was not measured.")


def _phone() -> bool:
    """A phone's browser (its user agent says Mobi): stack the side-by-side panels."""
    try:
        return "mobi" in (st.context.headers.get("User-Agent") or "").lower()
    except Exception:
        return False


def compare(job, track, a) -> None:
    if len(a.reps) < 2:
        return
    spec = get_exercise(a.exercise)
    unit = spec.unit
    st.subheader(f"Compare two {spec.units}")
    da, db = default_pair(a)
    idx = [r.index for r in a.reps]
    sel = f"{job['key']}_{a.exercise}"  # the selection belongs to this clip's analysis
    c1, c2, c3 = st.columns(3)
    ra = c1.selectbox(f"Left / top {unit}", idx, index=idx.index(da), key=f"rep_a_{sel}")
    rb = c2.selectbox(f"Right / bottom {unit}", idx, index=idx.index(db), key=f"rep_b_{sel}")
    speed = c3.radio("Speed", [0.25, 0.5, 1.0], index=1, horizontal=True, format_func=lambda x: f"{x:g}x", key=f"speed_{sel}")
    stacked = st.toggle("One above the other", value=_phone(), key=f"stack_{sel}")
    key = spec.back_key if spec.back_key not in a.withheld else "trunk_deg"
    ph = np.linspace(0, 100, 101)
    df = pd.DataFrame({"phase %": ph, f"{unit} {ra}": curves(a, a.reps[ra - 1], key), f"{unit} {rb}": curves(a, a.reps[rb - 1], key)})
    st.line_chart(df, x="phase %", height=200)
    st.caption(f"{a.metric_info.get(key, {}).get('label', key)} over each {unit}, time-normalised by phase "
               + f"({spec.phase_words}).")
    folder = os.path.join(CACHE, job["key"], "compare", a.exercise)
    name = f"compare_{ra}_{rb}_{speed:g}x{'_stacked' if stacked else ''}.mp4"
    clip = os.path.join(folder, name)
    stills_key = ("stills", clip)
    if not os.path.exists(clip) or stills_key not in st.session_state:
        stills: list = []
        # whole or absent, whatever happens while it is built
        with st.spinner("Building the side-by-side clip..."), atomic_path(clip) as tmp:
            side_by_side(job["path"], track, a, ra, rb, tmp, speed=speed, stacked=stacked, stills=stills)
        st.session_state[stills_key] = stills
    st.video(clip, loop=True, autoplay=True, muted=True)
    stills = st.session_state[stills_key]
    k = st.slider("Step through frame by frame", 0, len(stills) - 1, 0, key=f"frame_{sel}_{name}")
    st.image(stills[k], caption=f"Frame {k + 1} of {len(stills)}, phase {100 * k / max(len(stills) - 1, 1):.0f}%")
    st.download_button("Download side-by-side clip", _reader(clip), file_name=name, mime="video/mp4")


def _reader(path: str):
    """Read the file only when the button is clicked, not on every rerun."""
    def read() -> bytes:
        with open(path, "rb") as fh:
            return fh.read()
    return read


def downloads(job, res, vid) -> None:
    from formcheck.pdf import session_pdf
    st.subheader("Export")
    c = st.columns(4)
    c[0].download_button("Report (PDF)", pdf_reader(lambda p: session_pdf(p, res.track, res.analysis, res.report, job["path"],
                                                                          source=job.get("name", ""))),
                         file_name="report.pdf", mime="application/pdf")
    if vid:
        c[1].download_button("Annotated video (mp4)", _reader(vid), file_name="annotated.mp4", mime="video/mp4")
    c[2].download_button("Report (json)", json.dumps(res.report, indent=2), file_name="report.json", mime="application/json")
    c[3].download_button("Per-rep metrics (csv)", reps_table(res.analysis).to_csv(index=False), file_name="reps.csv", mime="text/csv")


def user_message(msg: str, path: str, name: str) -> str:
    """An error in the user's words: their file's name, never a path on the server."""
    for p in (os.path.abspath(path), path, os.path.basename(path)):
        msg = msg.replace(p, name)
    return msg.replace(CACHE, "").replace(ROOT, "")


def main() -> None:
    st.set_page_config(page_title="formcheck", layout="wide")
    # at the top, not in the sidebar: on a phone the sidebar is folded away
    st.navigation([st.Page(analyse_page, title="Analyse", icon=":material/videocam:", default=True),
                   st.Page(history_page, title="History", icon=":material/timeline:", url_path="history")],
                  position="top").run()


def analyse_page() -> None:
    if "swept" not in st.session_state:  # once per session: old uploads and results go
        st.session_state["swept"] = uploads.sweep(CACHE, RETENTION_DAYS)
    st.markdown("## formcheck\nDeadlift and running form from a side-on phone video: reps, angles, a back-shape "
                "estimate, and what to cue.")
    with st.sidebar:
        st.markdown(GUIDE)
        st.caption(f"Your uploads and their results stay on this server only, and are deleted {RETENTION_DAYS:g} days "
                   "after their last use (FORMCHECK_RETENTION_DAYS).")
    top = st.columns([3, 2])
    with top[1]:  # in the page, not the sidebar: on a phone the sidebar is folded away
        exercise = st.radio("Exercise", ["auto"] + exercise_names(), horizontal=True)
        sample_slot = st.empty()
    with top[0]:
        new = upload_box()
    if new is not None:
        st.session_state["upload"] = new
    mine = st.session_state.get("upload")
    if mine is not None and not os.path.exists(mine["path"]):
        mine = st.session_state["upload"] = None  # deleted (by the user, or the retention sweep)
    if mine is not None:
        path, key, name = mine["path"], mine["key"], mine["name"]
        sample_slot.caption(f"Your clip: {name}")
        if st.sidebar.button("Delete my data now", help="Removes this upload and all its results from the server."):
            uploads.delete(CACHE, key)
            st.session_state["upload"] = None
            st.session_state.get("results", {}).clear()
            st.sidebar.success(f"Deleted '{name}' and its results from the server.")
            return
    elif SAMPLES:
        names = [os.path.basename(p) for p in SAMPLES]
        pick = sample_slot.selectbox("Or a sample (a synthetic lifter or runner with known angles)", names,
                                     help="Rendered by this project (formcheck/synthetic); upload your own clip to analyse it.")
        path = SAMPLES[names.index(pick)]
        key, name = uploads.file_key(path), pick
        uploads.seed_track(CACHE, key, path)
    else:
        st.info("Upload a clip to start.")
        return
    try:
        job = run_analysis(path, key, exercise)
        job["name"], job["sample"] = name, mine is None
        show_results(job)
    except FormcheckError as e:
        st.error(user_message(str(e), path, name))
    except Exception as e:  # never a traceback, never a server path in the page
        st.error(f"Something went wrong analysing '{name}' ({e.__class__.__name__}). Try another clip; if it keeps "
                 "happening, report it with the file.")


main()
