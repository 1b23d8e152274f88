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
    """One output sub-folder name per input, never two alike: the file name without its
    extension; the extension added where only it differs (set.mp4, set.mov -> set_mp4, set_mov);
    parent folders added where the names still clash (a/set.mp4, b/set.mp4 -> a_set, b_set)."""
    split = [os.path.abspath(p) for p in paths]
    stems = [os.path.splitext(os.path.basename(p)) for p in split]
    dirs = [[x for x in os.path.dirname(p).split(os.sep) if x] for p in split]
    with_ext = [sum(1 for s2, e2 in stems if s2 == s and e2 != e) > 0 for s, e in stems]
    level = [0] * len(paths)

    def name(i: int) -> str:
        stem, ext = stems[i]
        parts = dirs[i][len(dirs[i]) - level[i]:] if level[i] else []
        return "_".join(parts + [stem + (f"_{ext.lstrip('.')}" if with_ext[i] and ext else "")])
    for _ in range(max((len(d) for d in dirs), default=0) + 1):
        names = [name(i) for i in range(len(paths))]
        clash = [i for i, n in enumerate(names) if names.count(n) > 1]
        if not clash:
            return names
        for i in clash:
            level[i] = min(level[i] + 1, len(dirs[i]))
    names, seen = [name(i) for i in range(len(paths))], {}
    for i, n in enumerate(names):  # only the same file twice gets here; numbered, still never shared
        seen[n] = seen.get(n, 0) + 1
        names[i] = n if seen[n] == 1 else f"{n}_{seen[n]}"
    return names


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent alone reports it; a worker stopped by the
    # parent (SIGTERM) unwinds through its clean-up and exits without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


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
    paths = list(dict.fromkeys(args.videos))  # the same path twice is one clip
    multi = len(paths) > 1
    outs = [os.path.join(args.out, n) for n in out_names(paths)] if multi else [args.out]
    batch = multi and args.jobs > 1
    # A batch already runs clips side by side; a second pose process per clip would only oversubscribe.
    jobs = [(p, args.exercise, o, not args.no_video, args.quiet or batch, 1 if batch else None) for p, o in zip(paths, outs)]
    if batch:
        import multiprocessing
        with multiprocessing.get_context("spawn").Pool(args.jobs, initializer=_worker_init) as pool:
            results = pool.starmap(_one, jobs)  # leaving the block early (Ctrl-C) terminates the workers
    else:
        results = [_one(*j) for j in jobs]
    failed = [(p, err) for p, err in results if err]
    for p, err in failed:
        print(f"formcheck: {os.path.basename(p)}: {err}", file=sys.stderr)
    if multi:
        print(f"{len(paths) - len(failed)} of {len(paths)} clips analysed.")
    return 1 if failed else 0
