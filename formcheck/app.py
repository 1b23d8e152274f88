"""Streamlit app: upload a phone video, watch progress, review the results, export.

    streamlit run formcheck/app.py
"""
from __future__ import annotations

import glob
import hashlib
import os

import numpy as np
import pandas as pd
import streamlit as st

from formcheck.compare import curves, default_pair, side_by_side
from formcheck.pipeline import Result, analyze_track, analyze_video
from formcheck.report import build_report
from formcheck.report import PROXY_NOTE, reps_table
from formcheck.exercise import get as get_exercise, names as exercise_names
from formcheck.types import FormcheckError, PoseTrack

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("FORMCHECK_CACHE", os.path.join(ROOT, ".formcheck_cache"))
# Clips this project rendered from a synthetic body (see formcheck/synthetic); the most telling first.
_ORDER = ["deadlift_rounding.mp4", "deadlift_good.mp4", "run_overstride.mp4"]
SAMPLES = sorted(glob.glob(os.path.join(ROOT, "sample_videos", "*.mp4")),
                 key=lambda p: _ORDER.index(os.path.basename(p)) if os.path.basename(p) in _ORDER else 99)

GUIDE = """**Filming for a good reading**
- Side-on: the camera at right angles to you (within ~20 deg), at hip height, 3-5 m away.
- Whole body and the bar in frame for the whole set; one person in the picture.
- 60 fps or more if your phone allows; good light; fitted clothing shows the back's outline.
- Start filming before the first pull and stop after the last lockout. A plate in front of your hips is fine: the back is read from set-up to knee height."""


def file_hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:20]


def stash_upload(upload) -> str:
    """Write the upload to the cache under its content hash (streamed in chunks)."""
    os.makedirs(CACHE, exist_ok=True)
    tmp = os.path.join(CACHE, f".upload-{os.getpid()}")
    h = hashlib.sha256()
    with open(tmp, "wb") as fh:
        upload.seek(0)
        for chunk in iter(lambda: upload.read(1 << 20), b""):
            h.update(chunk)
            fh.write(chunk)
    key = h.hexdigest()[:20]
    ext = os.path.splitext(upload.name)[1].lower() or ".mp4"
    folder = os.path.join(CACHE, key)
    os.makedirs(folder, exist_ok=True)
    dst = os.path.join(folder, "input" + ext)
    os.replace(tmp, dst)
    return dst


def run_analysis(path: str, exercise: str) -> dict:
    """Analyse once per (file content, exercise) and keep that one Result for the session; a
    result folder already on disk (an earlier session) is rebuilt from its cached pose track,
    which needs no pose inference."""
    key = file_hash(path)
    out = os.path.join(CACHE, key, exercise)
    done = os.path.join(out, "report.json")
    track_path = os.path.join(CACHE, key, "track.npz")
    results = st.session_state.setdefault("results", {})
    res = results.get((key, exercise))
    if res is None and os.path.exists(done) and os.path.exists(track_path):
        track = PoseTrack.load(track_path)
        a = analyze_track(track, exercise)
        res = Result(track, a, build_report(track, a), out)
    if res is None:
        bar = st.progress(0.0, text="Starting...")

        def progress(stage: str, i: int, n: int) -> None:
            label = {"pose": "Finding the body", "render": "Drawing the annotated video"}.get(stage, stage)
            base, span = (0.0, 0.8) if stage == "pose" else (0.8, 0.2)
            bar.progress(min(1.0, base + span * i / max(n, 1)), text=f"{label}: frame {i} of {n}")
        track = PoseTrack.load(track_path) if os.path.exists(track_path) else None
        res = analyze_video(path, exercise, out_dir=out, progress=progress, track=track)
        if track is None:
            res.track.save(track_path)
        bar.empty()
    results[(key, exercise)] = res
    return {"key": key, "out": out, "path": path, "exercise": exercise, "result": res}


def show_results(job: dict) -> None:
    out = job["out"]
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
    with left:
        vid = os.path.join(out, "annotated.mp4")
        if os.path.exists(vid):
            st.video(vid)
    with right:
        st.dataframe(readable_table(a), hide_index=True, width="stretch")
    plot(a)
    compare(job, track, a)
    downloads(job, out)


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
    ra = c1.selectbox("Left", idx, index=idx.index(da), key="rep_a")
    rb = c2.selectbox("Right", idx, index=idx.index(db), key="rep_b")
    key = spec.back_key if spec.back_key not in a.withheld else "trunk_deg"
    ph = np.linspace(0, 100, 101)
    df = pd.DataFrame({"phase %": ph, f"rep {ra}": curves(a, a.reps[ra - 1], key), f"rep {rb}": curves(a, a.reps[rb - 1], key)})
    st.line_chart(df, x="phase %", height=200)
    st.caption(f"{a.metric_info.get(key, {}).get('label', key)} over each rep, time-normalised by phase "
               + f"({spec.phase_words}).")
    clip = os.path.join(job["out"], f"compare_{ra}_{rb}.mp4")
    if not os.path.exists(clip):
        with st.spinner("Building the side-by-side clip..."):
            side_by_side(job["path"], track, a, ra, rb, clip)
    st.video(clip)
    st.download_button("Download side-by-side clip", open(clip, "rb").read(), file_name=f"compare_{ra}_{rb}.mp4", mime="video/mp4")


def downloads(job, out) -> None:
    st.subheader("Export")
    c = st.columns(3)
    vid = os.path.join(out, "annotated.mp4")
    if os.path.exists(vid):
        c[0].download_button("Annotated video (mp4)", open(vid, "rb").read(), file_name="annotated.mp4", mime="video/mp4")
    c[1].download_button("Report (json)", open(os.path.join(out, "report.json"), "rb").read(), file_name="report.json", mime="application/json")
    c[2].download_button("Per-rep metrics (csv)", open(os.path.join(out, "reps.csv"), "rb").read(), file_name="reps.csv", mime="text/csv")


def main() -> None:
    st.set_page_config(page_title="formcheck", layout="wide")
    st.title("formcheck")
    st.write("Deadlift and running form from a side-on phone video: reps, angles, a back-rounding proxy, and what to cue.")
    with st.sidebar:
        st.markdown(GUIDE)
        exercise = st.radio("Exercise", ["auto"] + exercise_names(), horizontal=True)
    upload = st.file_uploader("Upload a video (mp4 or mov)", type=["mp4", "mov", "m4v"])
    path = None
    if upload is not None:
        path = stash_upload(upload)
    elif st.session_state.get("video_path"):
        path = st.session_state["video_path"]
    elif SAMPLES:
        names = [os.path.basename(p) for p in SAMPLES]
        pick = st.selectbox("Or look at a sample clip (a synthetic lifter/runner rendered by this project, with known angles)", names)
        path = SAMPLES[names.index(pick)]
        st.caption("Showing a sample. Upload your own clip above to analyse it.")
    if path is None:
        st.info("Upload a clip to start.")
        return
    try:
        job = run_analysis(path, exercise)
        show_results(job)
    except FormcheckError as e:
        st.error(str(e))
    except Exception as e:  # never a traceback in the page
        st.error(f"Something went wrong analysing this clip ({e.__class__.__name__}). Try another clip; if it keeps happening, report it with the file.")


main()
