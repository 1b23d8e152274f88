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


def _one(path: str, exercise: str, out: str, render: bool, quiet: bool, pose_workers: int | None = None
         ) -> tuple[str, str | None]:
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
    print(f"{path} -> {out}{replaced}\n{_summary(res)}")
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
    args = ap.parse_args(argv)
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
    # A batch already runs clips side by side; a second pose process per clip would only oversubscribe.
    jobs = [(p, args.exercise, o, not args.no_video, args.quiet or batch, 1 if batch else None) for p, o in zip(paths, outs)]
    results = _run_batch(jobs, args.jobs) if batch else [_one(*j) for j in jobs]
    failed = [(p, err) for p, err in results if err]
    for p, err in failed:
        print(f"formcheck: {os.path.basename(p)}: {err}", file=sys.stderr)
    if multi:
        print(f"{len(paths) - len(failed)} of {len(paths)} clips analysed.")
    return 1 if failed else 0
