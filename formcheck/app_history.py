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
from formcheck.exercise import get as get_exercise, names as exercise_names
from formcheck.history import History, scaled_track
from formcheck.results import atomic_path
from formcheck.types import FormcheckError
from formcheck.verdict import cards, headline


@st.cache_resource
def store(url: str | None, data: str | None) -> History:
    """One open database per server (the schema is brought up to date once)."""
    return History(url, data)


def history() -> History:
    return store(os.environ.get("FORMCHECK_DB_URL"), os.environ.get("FORMCHECK_DATA"))


@st.cache_resource(max_entries=16, show_spinner=False)
def _analysed(_h: History, data: str, sid: int):
    """A session's track and analysis, made once per server (reruns of the page, the compare box
    and the session view share them). Session ids are never reused, so the id is the key."""
    return _h.load(sid)[1:]


def _loaded(h: History, sid: int):
    """(info, track, analysis): the info read fresh (its date, load and notes can be edited)."""
    return (h.session(sid), *_analysed(h, h.data, sid))


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

def declined() -> set:
    """(clip key, exercise) pairs the user deleted or switched off in this browser session: never
    saved again automatically (Streamlit forgets a page's widgets when another page is shown, so
    the switch alone would come back on)."""
    return st.session_state.setdefault("declined_saves", set())


def _delete(h: History, sid: int, sk) -> None:
    """A button's callback: runs before the rerun, where the switch may still be set."""
    h.delete_session(sid)
    st.session_state.setdefault("saved_sessions", {}).pop(sk, None)
    declined().add(sk)
    st.session_state[f"save_{sk}"] = False


def save_box(job: dict, is_sample: bool) -> None:
    """The switch, who it is for and what was lifted; a saved session can be edited or deleted here."""
    from sqlalchemy.exc import SQLAlchemyError
    st.subheader("Your history")
    try:
        _save_box(job, is_sample)
    except (SQLAlchemyError, OSError) as e:  # the database, not the analysis: say which
        st.warning(f"Your history is not available right now ({e.__class__.__name__}); the results above stand. "
                   "Check the data folder (FORMCHECK_DATA) or FORMCHECK_DB_URL.")


def _save_box(job: dict, is_sample: bool) -> None:
    res = job["result"]
    saved = st.session_state.setdefault("saved_sessions", {})
    sk = (job["key"], res.analysis.exercise)
    on = st.toggle("Save this session to my history", value=not is_sample and sk not in declined(), key=f"save_{sk}",
                   help="Kept on this machine only (FORMCHECK_DATA); delete it here or on the History page.")
    athlete = st.session_state.get("athlete", "me")
    if on:
        declined().discard(sk)
        athlete = st.text_input("Athlete", value=athlete, key="athlete_input", max_chars=100) or "me"
        st.session_state["athlete"] = athlete
    h = history()
    sid = saved.get(sk)
    if sid is not None:
        try:
            if h.session(sid).source_key != job["key"]:
                sid = None  # not this clip's session (never expected: ids are not reused)
        except FormcheckError:  # deleted meanwhile (the History page, another tab)
            sid = None
    sid = sid or h.find(athlete, job["key"], res.analysis.exercise)  # a clip seen again is not a new session
    if not on:
        if sid is None:
            st.caption("Not saved." + (" Samples are not saved unless you switch this on." if is_sample else ""))
            return
        st.caption(f"This clip is still in your history as session #{sid}.")
        st.button("Delete it from my history", key=f"del_off_{sid}", on_click=_delete, args=(h, sid, sk))
        return
    if sid is None:
        try:
            with st.spinner("Saving to your history..."):
                # recorded before the spinner closes; two overlapping script runs saving the same
                # clip get one session (the database's unique clip key)
                sid = saved[sk] = h.save(res.track, res.analysis, res.report, video_path=job["path"], athlete=athlete,
                                         source_name=job.get("name"), source_key=job["key"])
        except (FormcheckError, OSError) as e:
            st.warning(f"Not saved to the history: {e}")
            return
    saved[sk] = sid
    info = h.session(sid)
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
            st.rerun()
    if athlete != info.athlete:
        st.caption(f"Saved under {info.athlete}: to file it under {athlete}, delete it and switch saving on again.")
    st.button("Delete this session from my history", key=f"del_{sid}", on_click=_delete, args=(h, sid, sk))


# ------------------------------------------------------------------ the History page

def _trend_chart(df: pd.DataFrame, exercise: str, x: str, key: str):
    """The key numbers over time (or load), one small chart each, a band for the +/-; clicking a
    point opens that session."""
    import altair as alt
    rows = [t for t in get_exercise(exercise).trend if t.key in df and df[t.key].notna().any()]
    if not rows:
        return None
    xenc = (alt.X("date:T", title="date", axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30)) if x == "date"
            else alt.X("load_kg:Q", title="load (kg)"))
    charts, names = [], []
    for j, t in enumerate(rows):
        k, sd, label, unit = t.key, t.sd_key, t.label, t.unit
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
    info, track, a = _loaded(h, sid)
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
            with right, st.spinner("Drawing the annotated video..."), atomic_path(ann) as tmp:
                render_video(clip, scaled_track(track, clip), a, tmp)
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
        declined().add((info.source_key, info.exercise))  # the Analyse page must not save it again
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
    try:
        _cross_pick(h, ids, labels, exercise)
    except FormcheckError as e:  # a session whose files are damaged, or with no rep left
        st.warning(str(e))


def _cross_pick(h: History, ids: list[int], labels: dict, exercise: str) -> None:
    c1, c2 = st.columns(2)
    a_id = c1.selectbox("Session (left / top)", ids, index=0, format_func=labels.get, key=f"xa_{exercise}")
    b_id = c2.selectbox("Session (right / bottom)", ids, index=min(len(ids) - 1, 1 if ids[0] == a_id else 0),
                        format_func=labels.get, key=f"xb_{exercise}")
    (ia, ta, aa), (ib, tb, ab) = _loaded(h, a_id), _loaded(h, b_id)
    unit = get_exercise(exercise).unit
    ra_opts, rb_opts = [r.index for r in aa.reps], [r.index for r in ab.reps]
    if not ra_opts or not rb_opts:
        raise FormcheckError(f"Session #{a_id if not ra_opts else b_id} has no {unit} left to compare with this version.")

    def most_affected(a, opts):
        i = default_pair(a)[1]
        return opts.index(i) if i in opts else 0
    ra = c1.selectbox(f"{unit.title()} of #{a_id}", ra_opts, index=most_affected(aa, ra_opts), key=f"xra_{exercise}_{a_id}")
    rb = c2.selectbox(f"{unit.title()} of #{b_id}", rb_opts, index=most_affected(ab, rb_opts), key=f"xrb_{exercise}_{b_id}")
    speed = st.radio("Speed", [0.25, 0.5, 1.0], index=1, horizontal=True, format_func=lambda x: f"{x:g}x", key=f"xs_{exercise}")
    if st.button("Build the side-by-side", key=f"xgo_{exercise}"):
        out = os.path.join(h.data, "compare", f"{a_id}_{ra}_vs_{b_id}_{rb}_{speed:g}x.mp4")
        try:
            with st.spinner("Building the side-by-side clip..."), atomic_path(out) as tmp:
                side_by_side_panels([Panel(ia.clip, scaled_track(ta, ia.clip), aa, ra, f"#{a_id} {ia.recorded_at:%Y-%m-%d} {unit} {ra}"),
                                     Panel(ib.clip, scaled_track(tb, ib.clip), ab, rb, f"#{b_id} {ib.recorded_at:%Y-%m-%d} {unit} {rb}")],
                                    tmp, speed=speed)
        except FormcheckError as e:
            st.error(str(e))
            return
        st.session_state[f"xclip_{exercise}"] = out
    out = st.session_state.get(f"xclip_{exercise}")
    if out and os.path.exists(out):
        st.video(out, loop=True, autoplay=True, muted=True)
        st.caption(f"Phase-aligned ({get_exercise(exercise).phase_words}): both {unit}s reach each phase at the same moment.")


_TREND_ICON = {"better": ":material/trending_down:", "worse": ":material/trending_up:"}


def history_page() -> None:
    from sqlalchemy.exc import SQLAlchemyError
    st.markdown("## Your history\nIs my back getting better, in my lifts and my runs? Sessions saved on this machine.")
    try:
        _history_page(history())
    except (SQLAlchemyError, OSError) as e:  # a database we cannot open or reach: say so, no traceback
        st.error(f"The history database is not available ({e.__class__.__name__}). Check FORMCHECK_DATA / FORMCHECK_DB_URL.")
    except Exception as e:  # never a traceback in the page
        st.error(f"Something went wrong showing your history ({e.__class__.__name__}).")


def _history_page(h: History) -> None:
    from formcheck.pdf import history_pdf
    athletes = h.athletes()
    if not athletes:
        st.info("No saved sessions yet. Analyse a clip with 'Save this session to my history' switched on.")
        return
    me = st.session_state.get("athlete", "me")
    athlete = st.selectbox("Athlete", athletes, index=athletes.index(me) if me in athletes else 0, key="hist_athlete")
    all_ss = h.sessions(athlete)
    if not all_ss:  # deleted meanwhile (another tab)
        st.info(f"{athlete} has no saved session.")
        return
    st.caption(f"{len(all_ss)} session(s): " + ", ".join(f"{sum(s.exercise == e for s in all_ss)} {e}" for e in exercise_names()) + ".")

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

    for exercise in exercise_names():
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
    try:
        _session_view(h, sid)
    except FormcheckError as e:  # deleted in another tab, or its files damaged
        st.warning(str(e))

    st.subheader("Report and privacy")
    first, last = min(s.recorded_at for s in all_ss).date(), max(s.recorded_at for s in all_ss).date()
    rng = st.date_input("Date range for the history report", value=(first, last), key="hist_range")
    since, until = (rng if isinstance(rng, (tuple, list)) and len(rng) == 2 else (first, last))
    st.download_button("History report (PDF)", pdf_reader(lambda p: history_pdf(
        p, h, athlete, dt.datetime.combine(since, dt.time.min), dt.datetime.combine(until, dt.time.max))),
        file_name=f"formcheck_history_{athlete}.pdf", mime="application/pdf")
    sure = st.checkbox(f"Yes, delete all of {athlete}'s sessions", key="sure_delete")
    if st.button(f"Delete {athlete} and every session", disabled=not sure):
        declined().update((s.source_key, s.exercise) for s in all_ss)
        n = h.delete_athlete(athlete)
        st.session_state.pop("open_session", None)
        st.session_state["saved_sessions"] = {}
        st.success(f"Deleted {athlete}: {n} session(s) and their files.")
        st.rerun()
