"""The app's history: saving an analysis as a session, and the History page (trends, the
lower-back summary over both exercises, one session, two sessions side by side, PDFs).

A thin Streamlit shell over formcheck.history and formcheck.pdf."""
from __future__ import annotations

import datetime as dt
import os
import tempfile

import pandas as pd
import streamlit as st

from formcheck.compare import Panel, default_pair, side_by_side_panels
from formcheck.exercise import get as get_exercise
from formcheck.history import TREND, History, scaled_track
from formcheck.types import FormcheckError
from formcheck.verdict import cards, headline


@st.cache_resource
def store(url: str | None, data: str | None) -> History:
    """One open database per server (the schema is brought up to date once)."""
    return History(url, data)


def history() -> History:
    return store(os.environ.get("FORMCHECK_DB_URL"), os.environ.get("FORMCHECK_DATA"))


def pdf_reader(build):
    """Bytes made only when the download button is clicked (st.download_button takes a callable)."""
    def read() -> bytes:
        fd, tmp = tempfile.mkstemp(suffix=".pdf")
        os.close(fd)
        try:
            build(tmp)
            with open(tmp, "rb") as fh:
                return fh.read()
        finally:
            os.remove(tmp)
    return read


# ------------------------------------------------------------------ saving, on the Analyse page

def save_box(job: dict, is_sample: bool) -> None:
    """The switch, who it is for and what was lifted; a saved session can be edited or deleted here."""
    res = job["result"]
    st.subheader("Your history")
    saved = st.session_state.setdefault("saved_sessions", {})
    sk = (job["key"], res.analysis.exercise)
    on = st.toggle("Save this session to my history", value=not is_sample, key=f"save_{sk}",
                   help="Kept on this machine only (FORMCHECK_DATA); delete it here or on the History page.")
    if not on:
        st.caption("Not saved." + (" Samples are not saved unless you switch this on." if is_sample else ""))
        return
    athlete = st.text_input("Athlete", value=st.session_state.get("athlete", "me"), key="athlete_input", max_chars=100)
    st.session_state["athlete"] = athlete or "me"
    h = history()
    who = athlete or "me"
    sid = saved.get(sk) or h.find(who, job["key"], res.analysis.exercise)  # a clip seen again is not a new session
    if sid is None:
        try:
            with st.spinner("Saving to your history..."):
                # recorded before the spinner closes: a rerun asked for meanwhile (a click) stops
                # the script at that st call, and must not save the clip a second time
                sid = saved[sk] = h.save(res.track, res.analysis, res.report, video_path=job["path"], athlete=who,
                                         source_name=job.get("name"), source_key=job["key"])
        except (FormcheckError, OSError) as e:
            st.warning(f"Not saved to the history: {e}")
            return
    saved[sk] = sid
    try:
        info = h.session(sid)
    except FormcheckError:  # deleted meanwhile (the History page, another tab)
        saved.pop(sk, None)
        st.caption("This session was deleted from your history.")
        return
    src = {"video": "the video's own recording time", "saved": "the time it was saved (the video has no recording time)",
           "given": "the date you gave"}[info.date_source]
    st.success(f"Saved as session #{sid} of {info.athlete}, dated {info.recorded_at:%Y-%m-%d %H:%M} UTC ({src}).")
    with st.form(f"edit_{sid}", border=False):
        c1, c2 = st.columns(2)
        day = c1.date_input("Date", value=info.recorded_at.date())
        load = c2.number_input("Load (kg, optional)", min_value=0.0, max_value=1999.0, value=info.load_kg, step=2.5)
        notes = st.text_input("Notes", value=info.notes)
        if st.form_submit_button("Update this session"):
            when = None if day == info.recorded_at.date() else dt.datetime.combine(day, info.recorded_at.time())
            h.update(sid, recorded_at=when, load_kg=load, notes=notes)
            if athlete and athlete != info.athlete:
                st.info("To file it under another athlete, switch saving off and on again with the new name.")
            st.rerun()
    if st.button("Delete this session from my history", key=f"del_{sid}"):
        h.delete_session(sid)
        saved.pop(sk, None)
        st.session_state[f"save_{sk}"] = False
        st.rerun()


# ------------------------------------------------------------------ the History page

def _trend_chart(df: pd.DataFrame, exercise: str, x: str, key: str):
    """The key numbers over time (or load), one small chart each, a band for the +/-; clicking a
    point opens that session."""
    import altair as alt
    rows = [t for t in TREND[exercise] if t[0] in df and df[t[0]].notna().any()]
    if not rows:
        return None
    xenc = (alt.X("date:T", title="date", axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30)) if x == "date"
            else alt.X("load_kg:Q", title="load (kg)"))
    charts, names = [], []
    for j, (k, sd, label, unit, _) in enumerate(rows):
        pick = alt.selection_point(fields=["session"], name=f"pick{j}", on="click")
        names.append(f"pick{j}")
        d = df[["session", "date", "load_kg", "label", k] + ([k + "_sd"] if sd and k + "_sd" in df else [])].copy()
        d = d.rename(columns={k: "value"})
        layers = []
        if sd and k + "_sd" in df:  # the +/- as a band between sessions and a bar on each
            d["lo"], d["hi"] = d["value"] - d[k + "_sd"], d["value"] + d[k + "_sd"]
            layers.append(alt.Chart(d).mark_area(opacity=0.12).encode(x=xenc, y="lo:Q", y2="hi:Q"))
            layers.append(alt.Chart(d).mark_rule(opacity=0.5).encode(x=xenc, y="lo:Q", y2="hi:Q"))
        base = alt.Chart(d)
        layers.append(base.mark_line(point=alt.OverlayMarkDef(size=80, filled=True)).encode(
            x=xenc, y=alt.Y("value:Q", title=None), tooltip=["label", alt.Tooltip("value:Q", format=".1f")]).add_params(pick))
        charts.append(alt.layer(*layers).properties(height=130, title=f"{label} ({unit})"))
    ev = st.altair_chart(alt.concat(*charts, columns=2), on_select="rerun", selection_mode=names, key=key, width="stretch")
    try:
        for n in names:
            pts = ev.selection.get(n) or []
            if pts:
                return int(pts[0]["session"])
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        pass
    return None


def _session_view(h: History, sid: int) -> None:
    from formcheck.pdf import session_pdf
    from formcheck.pipeline import render_video
    try:
        info, track, a = h.load(sid)
    except FormcheckError as e:
        st.error(str(e))
        return
    st.markdown(f"#### Session #{info.id}: {info.recorded_at:%Y-%m-%d} - {info.exercise}"
                + (f", {info.load_kg:g} kg" if info.load_kg is not None else "") + f" ({info.source_name})")
    level, text = headline(a, cards(a))
    getattr(st, level)(text)
    if info.notes:
        st.caption(f"Notes: {info.notes}")
    left, right = st.columns([2, 3])
    with left:
        for c in cards(a):
            with st.container(border=True):
                st.markdown(f"**{c.title}**  \n{c.back}")
                for f in c.faults:
                    st.markdown(f"- {f}")
                for q in c.cues:
                    st.markdown(f"*Cue:* {q}")
    clip = info.clip
    if clip:
        ann = os.path.join(info.folder, "annotated.mp4")
        if not os.path.exists(ann):
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".mp4", dir=info.folder)
            os.close(fd)
            try:
                with right, st.spinner("Drawing the annotated video..."):
                    render_video(clip, scaled_track(track, clip), a, tmp)
                os.replace(tmp, ann)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        right.video(ann)
    else:
        right.info("This session was saved without its video.")
    c1, c2 = st.columns(2)
    c1.download_button("Report of this session (PDF)", pdf_reader(
        lambda p: session_pdf(p, scaled_track(track, clip) if clip else track, a,
                              _report(info), clip, source=info.source_name,
                              meta=[f"Athlete: {info.athlete}. Session #{info.id}, {info.recorded_at:%Y-%m-%d}."])),
        file_name=f"formcheck_session_{info.id}.pdf", mime="application/pdf", key=f"pdf_{sid}")
    if c2.button("Delete this session", key=f"hdel_{sid}"):
        h.delete_session(sid)
        st.session_state.pop("open_session", None)
        st.rerun()


def _report(info) -> dict:
    import json
    with open(os.path.join(info.folder, "report.json")) as fh:
        return json.load(fh)


def _cross_compare(h: History, athlete: str, exercise: str) -> None:
    """A rep of one session next to a rep of another, phase-aligned (e.g. today's worst rep vs last month's)."""
    ss = [s for s in h.sessions(athlete, exercise) if s.clip]
    if len(ss) < 2:
        st.caption(f"Two saved {exercise} sessions with their video are needed to compare across sessions.")
        return
    labels = {s.id: s.label for s in ss}
    ids = [s.id for s in ss][::-1]  # newest first
    c1, c2 = st.columns(2)
    a_id = c1.selectbox("Session (left / top)", ids, index=0, format_func=labels.get, key=f"xa_{exercise}")
    b_id = c2.selectbox("Session (right / bottom)", ids, index=min(len(ids) - 1, 1 if ids[0] == a_id else 0),
                        format_func=labels.get, key=f"xb_{exercise}")
    (ia, ta, aa), (ib, tb, ab) = h.load(a_id), h.load(b_id)
    unit = get_exercise(exercise).unit
    ra_opts, rb_opts = [r.index for r in aa.reps], [r.index for r in ab.reps]
    ra = c1.selectbox(f"{unit.title()} of #{a_id}", ra_opts, index=ra_opts.index(default_pair(aa)[1]), key=f"xra_{exercise}_{a_id}")
    rb = c2.selectbox(f"{unit.title()} of #{b_id}", rb_opts, index=rb_opts.index(default_pair(ab)[1]), key=f"xrb_{exercise}_{b_id}")
    speed = st.radio("Speed", [0.25, 0.5, 1.0], index=1, horizontal=True, format_func=lambda x: f"{x:g}x", key=f"xs_{exercise}")
    if st.button("Build the side-by-side", key=f"xgo_{exercise}"):
        out = os.path.join(h.data, "compare", f"{a_id}_{ra}_vs_{b_id}_{rb}_{speed:g}x.mp4")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".mp4", dir=os.path.dirname(out))
        os.close(fd)
        try:
            with st.spinner("Building the side-by-side clip..."):
                side_by_side_panels([Panel(ia.clip, scaled_track(ta, ia.clip), aa, ra, f"#{a_id} {ia.recorded_at:%Y-%m-%d} {unit} {ra}"),
                                     Panel(ib.clip, scaled_track(tb, ib.clip), ab, rb, f"#{b_id} {ib.recorded_at:%Y-%m-%d} {unit} {rb}")],
                                    tmp, speed=speed)
            os.replace(tmp, out)
        except FormcheckError as e:
            st.error(str(e))
            return
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        st.session_state[f"xclip_{exercise}"] = out
    out = st.session_state.get(f"xclip_{exercise}")
    if out and os.path.exists(out):
        st.video(out, loop=True, autoplay=True, muted=True)
        st.caption(f"Phase-aligned ({get_exercise(exercise).phase_words}): both {unit}s reach each phase at the same moment.")


_TREND_ICON = {"better": ":material/trending_down:", "worse": ":material/trending_up:"}


def history_page() -> None:
    from formcheck.pdf import history_pdf
    st.markdown("## Your history\nIs my back getting better, in my lifts and my runs? Sessions saved on this machine.")
    try:
        h = history()
    except Exception as e:  # a database we cannot open: say so, no traceback
        st.error(f"The history database cannot be opened ({e.__class__.__name__}). Check FORMCHECK_DATA / FORMCHECK_DB_URL.")
        return
    athletes = h.athletes()
    if not athletes:
        st.info("No saved sessions yet. Analyse a clip with 'Save this session to my history' switched on.")
        return
    me = st.session_state.get("athlete", "me")
    athlete = st.selectbox("Athlete", athletes, index=athletes.index(me) if me in athletes else 0, key="hist_athlete")
    all_ss = h.sessions(athlete)
    st.caption(f"{len(all_ss)} session(s): {sum(s.exercise == 'deadlift' for s in all_ss)} deadlift, "
               f"{sum(s.exercise == 'running' for s in all_ss)} running.")

    st.subheader("Your lower back, across lifting and running")
    lb = h.lower_back(athlete)
    if not lb:
        st.success("No fault was flagged in any saved session.")
    for x in lb:
        with st.container(border=True):
            icon = _TREND_ICON.get(x["trend"], ":material/trending_flat:")
            st.markdown(f"{icon} **{x['exercise'].title()} - {x['code'].replace('_', ' ')}**: in {x['sessions']} of "
                        f"{x['of']} sessions, last on {x['last_seen']:%Y-%m-%d}; {x['trend']}." if x["last_seen"] else
                        f"{icon} **{x['exercise'].title()} - {x['code'].replace('_', ' ')}**: not seen.")
            st.markdown(f"*Cue:* {x['cue']}")
    st.caption("'Better' / 'worse': the share of reps or steps with the fault in the later half of your sessions "
               "against the earlier half, counted only when it moves by a quarter or more. Back numbers are estimates "
               "from the silhouette (see each session's report): compare sessions filmed the same way.")

    for exercise in ("deadlift", "running"):
        df = h.trend(athlete, exercise)
        if df.empty:
            continue
        st.subheader(f"{exercise.title()}: {len(df)} session(s)")
        x = "date"
        if df["load_kg"].notna().sum() >= 2:
            x = st.radio("Plot against", ["date", "load"], horizontal=True, key=f"x_{exercise}")
        picked = _trend_chart(df, exercise, x, key=f"trend_{exercise}_{x}")
        if picked is not None:
            st.session_state["open_session"] = picked
        st.caption("Click a point to open that session. Shaded: the number's uncertainty (+/- 1 SD).")
        with st.expander(f"Compare a {get_exercise(exercise).unit} across two {exercise} sessions"):
            _cross_compare(h, athlete, exercise)

    st.subheader("Sessions")
    labels = {s.id: s.label for s in all_ss}
    ids = [s.id for s in all_ss][::-1]
    cur = st.session_state.get("open_session")
    sid = st.selectbox("Open a session", ids, index=ids.index(cur) if cur in ids else 0, format_func=labels.get,
                       key=f"open_{cur}")
    st.session_state["open_session"] = sid
    _session_view(h, sid)

    st.subheader("Report and privacy")
    first, last = min(s.recorded_at for s in all_ss).date(), max(s.recorded_at for s in all_ss).date()
    rng = st.date_input("Date range for the history report", value=(first, last), key="hist_range")
    since, until = (rng if isinstance(rng, (tuple, list)) and len(rng) == 2 else (first, last))
    st.download_button("History report (PDF)", pdf_reader(lambda p: history_pdf(
        p, h, athlete, dt.datetime.combine(since, dt.time.min), dt.datetime.combine(until, dt.time.max))),
        file_name=f"formcheck_history_{athlete}.pdf", mime="application/pdf")
    sure = st.checkbox(f"Yes, delete all of {athlete}'s sessions", key="sure_delete")
    if st.button(f"Delete {athlete} and every session", disabled=not sure):
        n = h.delete_athlete(athlete)
        st.session_state.pop("open_session", None)
        st.session_state["saved_sessions"] = {}
        st.success(f"Deleted {athlete}: {n} session(s) and their files.")
        st.rerun()
