"""Command line: python -m formcheck analyze VIDEO [VIDEO ...] --exercise deadlift --out DIR"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from .exercise import get as get_exercise, names as exercise_names
from .types import FormcheckError


_LINE_OPEN = [False]  # a progress line without its newline is on the terminal


def _progress_printer(name: str):
    state = {"stage": None, "t0": 0.0, "ended": set()}

    def show(stage: str, done: int, total: int) -> None:
        if stage != state["stage"]:
            state["stage"], state["t0"] = stage, time.monotonic()
        if stage in state["ended"]:
            return
        pct = 100.0 * done / max(total, 1)
        rate = done / max(time.monotonic() - state["t0"], 1e-6)
        end = "\n" if done >= total else ""
        if end:
            state["ended"].add(stage)
        sys.stderr.write(f"\r{name}: {stage:6s} {done:5d}/{total:<5d} {pct:5.1f}%  {rate:5.1f} frames/s{end}")
        sys.stderr.flush()
        _LINE_OPEN[0] = not end
    return show


def _summary(res) -> str:
    a = res.analysis
    spec = get_exercise(a.exercise)
    lines = [f"{a.exercise}: {len(a.reps)} {spec.units}; view: {a.view.reason}"]
    for r in a.reps:
        codes = ", ".join(f"{f.code} ({f.severity})" for f in r.faults) or "no faults"
        lines.append(f"  {spec.unit} {r.index} [{r.start_s:.2f}-{r.end_s:.2f} s]: {codes}")
        for k, why in r.not_measured.items():
            lines.append(f"    {k} {why}")
    for f in a.faults:
        lines.append(f"  set: {f.code} ({f.severity}): {f.message}")
    for k, why in a.withheld.items():
        lines.append(f"  withheld {k}: {why}")
    for w in a.warnings:
        lines.append(f"  note: {w}")
    return "\n".join(lines)


def _one(path: str, exercise: str, out: str, render: bool, quiet: bool, pose_workers: int | None = None,
         save: dict | None = None) -> tuple[str, str | None]:
    """save: None, or the athlete, load_kg and notes to save the session under."""
    from .pipeline import analyze_video
    name = os.path.basename(path)
    try:
        res = analyze_video(path, exercise, out, render=render, progress=None if quiet else _progress_printer(name),
                            pose_workers=pose_workers)
    except FormcheckError as e:
        return path, str(e)
    except Exception as e:  # a clip we did not foresee must not stop a batch or print a traceback
        return path, f"Unexpected error while analysing this clip ({e.__class__.__name__}: {e})."
    replaced = f" (replaced the earlier result of {res.replaced})" if res.replaced else ""
    saved = ""
    if save is not None:
        from .history import History
        from .results import sha256
        try:  # the result folder is written whatever happens here
            key = sha256(path, 20)  # the same clip analysed again is the same session
            with History() as h:
                before = h.find(save["athlete"], key, res.analysis.exercise)
                sid = before or h.save(res.track, res.analysis, res.report, video_path=path, result_dir=res.out_dir,
                                       source_key=key, **save)
            saved = (f"\n  already in the history as session #{sid} of {save['athlete']}" if before else
                     f"\n  saved to the history as session #{sid} of {save['athlete']}")
        except Exception as e:
            saved = f"\n  not saved to the history ({e.__class__.__name__}: {e}); the results above are written"
    print(f"{path} -> {out}{replaced}\n{_summary(res)}{saved}")
    return path, None


def out_names(paths: list[str]) -> list[str]:
    """One output sub-folder name per input, never two alike (compared without letter case, as
    macOS and Windows folders are): the file name without its extension; the extension added
    where only it differs (set.mp4, set.mov -> set_mp4, set_mov); parent folders added where the
    names still clash (a/set.mp4, b/set.mp4 -> a_set, b_set); a number as the last resort."""
    split = [os.path.abspath(p) for p in paths]
    stems = [os.path.splitext(os.path.basename(p)) for p in split]
    dirs = [[x for x in os.path.dirname(p).split(os.sep) if x] for p in split]
    with_ext = [any(s2.casefold() == s.casefold() and e2.casefold() != e.casefold() for s2, e2 in stems) for s, e in stems]
    level = [0] * len(paths)

    def name(i: int) -> str:
        stem, ext = stems[i]
        parts = dirs[i][len(dirs[i]) - level[i]:] if level[i] else []
        return "_".join(parts + [stem + (f"_{ext.lstrip('.')}" if with_ext[i] and ext else "")])

    def clashes(names: list[str]) -> list[int]:
        folded = [n.casefold() for n in names]
        return [i for i, n in enumerate(folded) if folded.count(n) > 1]
    while True:
        names = [name(i) for i in range(len(paths))]
        raised = False
        for i in clashes(names):  # a parent folder helps only against a namesake from another folder
            others = [j for j in range(len(paths)) if j != i and names[j].casefold() == names[i].casefold()]
            if level[i] < len(dirs[i]) and any(dirs[j] != dirs[i] for j in others):
                level[i] += 1
                raised = True
        if not raised:
            break
    taken = {n.casefold() for n in names}
    for i in clashes(names)[1:]:  # only names in one folder that differ by letter case get here
        k = 2
        while f"{names[i]}_{k}".casefold() in taken:
            k += 1
        names[i] = f"{names[i]}_{k}"
        taken.add(names[i].casefold())
    return names


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent alone reports it; a worker stopped by the
    # parent (SIGTERM) unwinds through its clean-up and exits without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _run_batch(jobs: list[tuple], workers: int) -> list[tuple[str, str | None]]:
    """Clips in worker processes. A worker that dies (out of memory, a crash in native code) fails
    its clip with a message instead of hanging the batch; Ctrl-C stops every worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    ex = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
    try:
        futures = [ex.submit(_one, *j) for j in jobs]
        out = []
        for j, f in zip(jobs, futures):
            try:
                out.append(f.result())
            except BrokenProcessPool:
                out.append((j[0], "The worker analysing this clip stopped unexpectedly (out of memory?); run it again alone."))
        ex.shutdown(wait=True)
        return out
    except BaseException:
        for proc in list(getattr(ex, "_processes", {}).values()):  # SIGTERM: workers unwind and clean up
            proc.terminate()
        ex.shutdown(wait=True, cancel_futures=True)
        raise


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: clean-up runs, nothing is left behind


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="formcheck", description="Deadlift and running form from a side-view video.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    an = sub.add_parser("analyze", help="analyse one or more clips")
    an.add_argument("videos", nargs="+")
    an.add_argument("--exercise", default="auto", choices=["auto"] + exercise_names())
    an.add_argument("--out", required=True, help="output folder (one sub-folder per clip when several are given)")
    an.add_argument("--no-video", action="store_true", help="skip the annotated clip")
    an.add_argument("--jobs", type=int, default=1, help="clips analysed in parallel")
    an.add_argument("--quiet", action="store_true")
    an.add_argument("--athlete", default="me", help="whose session this is in the history (default: me)")
    an.add_argument("--load-kg", type=float, default=None, help="the load lifted, for the history")
    an.add_argument("--notes", default="", help="a note saved with the session")
    an.add_argument("--no-save", action="store_true", help="do not save the session to the history database")
    hi = sub.add_parser("history", help="list saved sessions; export them; delete them")
    hi.add_argument("--athlete")
    hi.add_argument("--exercise", choices=exercise_names())
    hi.add_argument("--since", help="YYYY-MM-DD")
    hi.add_argument("--until", help="YYYY-MM-DD")
    hi.add_argument("--csv", metavar="PATH", help="write the sessions listed to a CSV file")
    hi.add_argument("--pdf", metavar="PATH", help="write the athlete's history report (PDF) for the range")
    hi.add_argument("--delete", type=int, metavar="ID", help="delete one session and its files")
    hi.add_argument("--delete-athlete", metavar="NAME", help="delete an athlete, their sessions and files")
    args = ap.parse_args(argv)
    if args.cmd == "history":
        try:
            return _history(args)
        except FormcheckError as e:
            print(f"formcheck: {e}", file=sys.stderr)
            return 1
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _analyze(args)
    except KeyboardInterrupt:
        print(("\n" if _LINE_OPEN[0] else "") + "formcheck: interrupted; results not finished were not written.", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _analyze(args) -> int:
    seen: dict[str, str] = {}
    for p in args.videos:  # the same file named twice (set.mp4, ./set.mp4) is one clip
        seen.setdefault(os.path.realpath(p), p)
    paths = list(seen.values())
    multi = len(paths) > 1
    outs = [os.path.join(args.out, n) for n in out_names(paths)] if multi else [args.out]
    batch = multi and args.jobs > 1
    save = None
    if not args.no_save:
        from .history import History
        try:  # opened (and its schema brought up to date) once, before any worker writes to it
            History().close()
            save = {"athlete": args.athlete, "load_kg": args.load_kg, "notes": args.notes}
        except Exception as e:
            print(f"formcheck: the history database cannot be opened ({e.__class__.__name__}: {e}); "
                  "results are written but not saved to the history.", file=sys.stderr)
    # A batch already runs clips side by side; a second pose process per clip would only oversubscribe.
    jobs = [(p, args.exercise, o, not args.no_video, args.quiet or batch, 1 if batch else None, save)
            for p, o in zip(paths, outs)]
    results = _run_batch(jobs, args.jobs) if batch else [_one(*j) for j in jobs]
    failed = [(p, err) for p, err in results if err]
    for p, err in failed:
        print(f"formcheck: {os.path.basename(p)}: {err}", file=sys.stderr)
    if multi:
        print(f"{len(paths) - len(failed)} of {len(paths)} clips analysed.")
    return 1 if failed else 0


def _date(s: str | None):
    import datetime as dt
    if not s:
        return None
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        raise FormcheckError(f"'{s}' is not a date (YYYY-MM-DD).") from None


def _history(args) -> int:
    import datetime as dt
    from .history import History
    since, until = _date(args.since), _date(args.until)
    if until is not None and until.time() == dt.time(0):
        until += dt.timedelta(days=1, microseconds=-1)  # --until 2026-11-24 includes that day
    with History() as h:
        if args.delete is not None:
            info = h.session(args.delete)
            h.delete_session(args.delete)
            print(f"Deleted session #{info.id} ({info.label}) and its files.")
            return 0
        if args.delete_athlete:
            if args.delete_athlete not in h.athletes():
                print(f"There is no athlete named {args.delete_athlete!r} with saved sessions.")
            n = h.delete_athlete(args.delete_athlete)
            if n:
                print(f"Deleted {args.delete_athlete}: {n} session(s) and their files.")
            return 0
        ss = h.sessions(args.athlete, args.exercise, since, until)
        print(f"{len(ss)} session(s) in {h.data}" + (f" for {args.athlete}" if args.athlete else ""))
        for s in ss:
            load = "" if s.load_kg is None else f" {s.load_kg:g} kg"
            print(f"  #{s.id:<4d} {s.recorded_at:%Y-%m-%d %H:%M} {s.athlete:12s} {s.exercise:8s}{load}  {s.source_name}: {s.headline}")
        if args.csv:
            print(f"{h.to_csv(args.csv, args.athlete, args.exercise, since, until)} session(s) written to {args.csv}")
        if args.pdf:
            from .pdf import history_pdf
            who = args.athlete or (h.athletes() or ["me"])[0]
            history_pdf(args.pdf, h, who, since, until)
            print(f"History report of {who} written to {args.pdf}")
    return 0
