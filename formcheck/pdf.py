"""A shareable PDF: one clip (session_pdf) or an athlete's history over a date range (history_pdf).

reportlab lays out the pages (text stays text: searchable, copyable); matplotlib (Agg) draws the
plots into it. Offline: no font or image is fetched. The words are the app's (verdict.py,
report.py): what was measured, against which line, how sure we are, where, and the cue.
"""
from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

import numpy as np

from .exercise import get as get_exercise
from .report import PROXY_NOTE, readable_table, series_label
from .types import Analysis, FormcheckError, PoseTrack

_LEVEL_COLOUR = {"error": "#b00020", "warning": "#a15c00", "success": "#1b7a1b"}


def _styles():
    from reportlab.lib.styles import getSampleStyleSheet, ParagraphStyle
    ss = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=ss["BodyText"], fontSize=8, leading=10)
    return ss, small


def _p(text: str, style):
    from reportlab.platypus import Paragraph
    return Paragraph(escape(str(text)), style)


def _png(fig) -> io.BytesIO:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    buf.seek(0)
    return buf


def _image(buf: io.BytesIO, width_cm: float):
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image
    w, h = ImageReader(buf).getSize()
    buf.seek(0)
    return Image(buf, width=width_cm * cm, height=width_cm * cm * h / w)


def _table(df, col_cm: list[float] | None = None, font: float = 7):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle
    from reportlab.lib.styles import ParagraphStyle
    cell = ParagraphStyle("cell", fontSize=font, leading=font + 1.5)
    data = [[Paragraph(escape(str(c)), cell) for c in df.columns]]
    data += [[Paragraph(escape(str(v)), cell) for v in row] for row in df.itertuples(index=False)]
    t = Table(data, repeatRows=1, colWidths=col_cm)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def worst_moment(track: PoseTrack, a: Analysis) -> tuple[int, int] | None:
    """(rep index, frame) to show: the rep whose fault is furthest past its line, else the one
    with the largest back number; the frame where the back number peaks inside the window it is
    measured in (else the fault's start)."""
    if not a.reps:
        return None
    spec = get_exercise(a.exercise)
    scored = [(abs(f.value) / (abs(f.threshold) or 1.0), r) for r in a.reps for f in r.faults]
    if scored:
        rep = max(scored, key=lambda sr: sr[0])[1]
    else:
        backs = [(r.metrics.get(spec.back_key), r) for r in a.reps if r.metrics.get(spec.back_key) is not None]
        rep = max(backs, key=lambda vr: vr[0])[1] if backs else a.reps[0]
    i0, i1 = rep.frames
    if spec.back_window and all(k in rep.key_frames for k in spec.back_window):
        i0, i1 = rep.key_frames[spec.back_window[0]], rep.key_frames[spec.back_window[1]]
    s = a.series.get(spec.back_key)
    if s is not None and np.isfinite(s[i0:i1 + 1]).any():
        return rep.index, int(i0 + np.nanargmax(s[i0:i1 + 1]))
    f = next(iter(rep.faults), None)
    # start_s is rounded to the millisecond: it can fall just past the last frame's time
    return rep.index, min(int(np.searchsorted(track.t, f.start_s - 1e-3)), len(track.t) - 1) if f else int(rep.frames[0])


def key_frame(video_path: str, track: PoseTrack, a: Analysis) -> tuple[np.ndarray, str] | None:
    """The frame of the worst moment with the skeleton and the measured back outline drawn."""
    from .render import Overlay
    from .video import frames
    m = worst_moment(track, a)
    if m is None:
        return None
    rep, i = m
    t = float(track.t[i])
    for t_f, img, _ in frames(video_path, start_s=max(0.0, t - 0.05)):
        if t_f >= t - 1e-6:
            drawn = Overlay(track, a, track.video.width, track.video.height, only_rep=rep).draw(img, i)
            return drawn, f"{get_exercise(a.exercise).unit.title()} {rep} at {t:.2f} s"
    return None


def angle_plot(a: Analysis):
    """The angles over time, as the app draws them: the back line dashed, gaps left as gaps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    spec = get_exercise(a.exercise)
    keys = [k for k in spec.plot_keys if k in a.series and k not in a.withheld]
    fig, ax = plt.subplots(figsize=(8, 3))
    for k, c in zip(keys, ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"]):
        ax.plot(a.series["t"], a.series[k], color=c, lw=1.2, label=series_label(a, k))
    if spec.back_key in keys and spec.back_rule.threshold is not None:
        ax.axhline(spec.back_rule.threshold, color="#111111", ls="--", lw=1,
                   label=f"{spec.back_rule.code.replace('_', ' ')} line ({spec.back_rule.threshold:g} deg)")
    for r in a.reps:
        ax.axvline(r.start_s, color="#bbbbbb", ls=":", lw=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("degrees")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False)
    return fig


def session_story(track: PoseTrack, a: Analysis, report: dict, video_path: str | None, title: str,
                  meta: list[str]) -> list:
    """The flowables of one clip's report: verdict, filming check; key frame and plot; table and sources."""
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Spacer
    from .verdict import cards, headline
    ss, small = _styles()
    spec = get_exercise(a.exercise)
    cs = cards(a)
    level, text = headline(a, cs)
    story = [_p(title, ss["Title"])] + [_p(m, small) for m in meta]
    story += [Spacer(1, 0.3 * cm), _p("Verdict", ss["Heading2"])]
    from reportlab.platypus import Paragraph
    story.append(Paragraph(f'<font color="{_LEVEL_COLOUR[level]}"><b>{escape(text)}</b></font>', ss["BodyText"]))
    for c in cs:
        story.append(_p(f"{c.title} - {'fault' if c.status == 'fault' else 'no fault' if c.status == 'ok' else 'back not measured'}",
                        ss["Heading4"]))
        story.append(_p(c.back, small))
        story += [_p("- " + f, small) for f in c.faults]
        story += [_p("Cue: " + q, small) for q in c.cues]
        story += [_p(u, small) for u in c.unmeasured]
    for f in a.faults:
        story.append(_p(f"Whole set - {f.code.replace('_', ' ')} ({f.severity}): {f.message}", ss["Heading4"]))
        story.append(_p("Cue: " + f.cue, small))
    v = report["video"]
    story += [_p("Filming check", ss["Heading2"]),
              _p(f"View: {'oblique' if a.view.oblique else 'side-on' if a.view.ok else 'not side-on'} - {a.view.reason}", small),
              _p(f"Frame rate {v['fps']:.0f} fps{' (variable)' if v.get('variable_frame_rate') else ''}, "
                 f"{v['width']}x{v['height']} px, {v['duration_s']:.1f} s, rotation {v['rotation']} deg; "
                 f"{len(a.reps)} {spec.units} found.", small)]
    story += [_p("Warning: " + w, small) for w in a.warnings]
    story += [_p(f"Withheld - {a.metric_info.get(k, {}).get('label', k)}: {why}", small) for k, why in a.withheld.items()]
    story.append(PageBreak())
    story.append(_p(f"The most affected {spec.unit}", ss["Heading2"]))
    why = "the video is not available with this report"
    try:
        kf = key_frame(video_path, track, a) if video_path else None
    except (FormcheckError, OSError) as e:  # a clip that cannot be seeked: the report stands without it
        kf, why = None, f"the frame could not be read ({e})"
    if kf is not None:
        from PIL import Image as PILImage
        buf = io.BytesIO()
        img = PILImage.fromarray(kf[0])
        img.thumbnail((1000, 1000))
        img.save(buf, format="JPEG", quality=85)
        buf.seek(0)
        w_cm = 16.0 if img.width >= img.height else 9.0
        story += [_image(buf, w_cm), _p(f"{kf[1]}: skeleton in cyan; the back outline measured, coloured by "
                                         "its reading (green well under the line, amber near it, red over it).", small)]
    else:
        story.append(_p(f"No key frame: {why}.", small))
    story += [_p("Angles over time", ss["Heading2"]), _image(_png(angle_plot(a)), 16.0),
              _p(f"Grey dotted lines: the start of each {spec.unit}. Breaks in a line: frames where it was not measured.", small),
              PageBreak(), _p(f"Per {spec.unit}", ss["Heading2"])]
    tab = readable_table(a)
    keep = [c for c in tab.columns if c != "Not measured"][:9]  # the page's width; the CSV has them all
    story.append(_table(tab[keep]))
    nm = [f"{spec.unit} {r.index}, {a.metric_info.get(k, {}).get('label', k)}: {why}" for r in a.reps for k, why in r.not_measured.items()]
    if nm:
        story += [_p("Not measured on single " + spec.units, ss["Heading4"])] + [_p(x, small) for x in nm[:40]]
    story.append(_p("What each number is measured from", ss["Heading2"]))
    story += [_p(f"{info.get('label', k)} ({info.get('unit', '')}): {info.get('how', '')}", small) for k, info in a.metric_info.items()]
    story += [Spacer(1, 0.3 * cm), _p(PROXY_NOTE, small), _p(report.get("subject") or "", small)]
    return story


def _build(out_path: str, story: list, title: str) -> str:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(1.5 * cm, 1 * cm, f"formcheck - {title} - page {doc.page}")
        canvas.restoreState()
    doc = SimpleDocTemplate(out_path, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.5 * cm,
                            bottomMargin=1.5 * cm, title=title, author="formcheck")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out_path


def session_pdf(out_path: str, track: PoseTrack, a: Analysis, report: dict, video_path: str | None = None,
                source: str = "", meta: list[str] | None = None) -> str:
    """One clip's report."""
    title = f"formcheck report: {source or get_exercise(a.exercise).name}"
    meta = (meta or []) + [f"{a.exercise.title()}, analysed {dt.datetime.now():%Y-%m-%d %H:%M}."]
    return _build(out_path, session_story(track, a, report, video_path, title, meta), title)


def trend_plot(df, exercise: str):
    """The history's key numbers over the sessions, each with its +/- band where it has one."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [t for t in get_exercise(exercise).trend if t.key in df and df[t.key].notna().any()]
    fig, axes = plt.subplots(max(len(rows), 1), 1, figsize=(8, 1.8 * max(len(rows), 1)), sharex=True, squeeze=False)
    for ax, t in zip(axes[:, 0], rows):
        key, sd, label, unit = t.key, t.sd_key, t.label, t.unit
        y = df[key].astype(float)
        ax.plot(df["date"], y, "o-", color="#1f77b4", ms=4)
        if sd and key + "_sd" in df:
            e = df[key + "_sd"].astype(float).fillna(0)
            ax.fill_between(df["date"], y - e, y + e, color="#1f77b4", alpha=0.15, lw=0)
        ax.set_title(f"{label} ({unit})", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    fig.autofmt_xdate()
    return fig


def history_pdf(out_path: str, history, athlete: str, since: dt.datetime | None = None,
                until: dt.datetime | None = None) -> str:
    """An athlete's sessions in a date range: the lower-back summary over both exercises, the
    trend of each exercise's key numbers, and the list of sessions with their verdicts."""
    import pandas as pd
    from reportlab.lib.units import cm
    from reportlab.platypus import Spacer
    from .history import _utc
    since, until = (_utc(since) if since else None), (_utc(until) if until else None)  # stored: naive UTC
    ss, small = _styles()
    span = f"{since:%Y-%m-%d}" if since else "first session"
    span += f" to {until:%Y-%m-%d}" if until else " to last session"
    title = f"formcheck history: {athlete}"
    story = [_p(title, ss["Title"]), _p(f"Sessions from {span}. Made {dt.datetime.now():%Y-%m-%d %H:%M}.", small)]
    ss_all = history.sessions(athlete, since=since, until=until)
    if not ss_all:
        story.append(_p("No saved session in this range.", ss["BodyText"]))
        return _build(out_path, story, title)
    story.append(_p("Your lower back, across lifting and running", ss["Heading2"]))
    lb = history.lower_back(athlete, since, until)
    if not lb:
        story.append(_p("No fault was flagged in any session.", small))
    for x in lb:
        story.append(_p(f"{x['exercise'].title()} - {x['code'].replace('_', ' ')}: in {x['sessions']} of {x['of']} sessions; "
                        f"{x['trend']}. Cue: {x['cue']}", small))
    from .exercise import names
    for exercise in names():
        df = history.trend(athlete, exercise)
        if df.empty:
            continue
        if since is not None:
            df = df[df["date"] >= since]
        if until is not None:
            df = df[df["date"] <= until]
        if df.empty:
            continue
        from reportlab.platypus import KeepTogether
        story.append(KeepTogether([_p(f"{exercise.title()}: {len(df)} sessions", ss["Heading2"]),
                                   _image(_png(trend_plot(df, exercise)), 16.0)]))
    rows = pd.DataFrame([{"#": s.id, "date": f"{s.recorded_at:%Y-%m-%d}", "exercise": s.exercise,
                          "load (kg)": "" if s.load_kg is None else f"{s.load_kg:g}", "clip": s.source_name,
                          "verdict": s.headline} for s in ss_all])
    story += [Spacer(1, 0.3 * cm), _p("Sessions", ss["Heading2"]), _table(rows, [1 * cm, 2 * cm, 1.8 * cm, 1.5 * cm, 3.5 * cm, 8.2 * cm])]
    story.append(_p(PROXY_NOTE, small))
    return _build(out_path, story, title)
