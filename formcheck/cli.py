"""Command line: python -m formcheck analyze VIDEO [VIDEO ...] --exercise deadlift --out DIR"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .exercise import get as get_exercise, names as exercise_names
from .types import FormcheckError


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
    print(f"{name} -> {out}\n{_summary(res)}")
    return path, None


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

    paths = args.videos
    multi = len(paths) > 1
    outs = [os.path.join(args.out, os.path.splitext(os.path.basename(p))[0]) if multi else args.out for p in paths]
    batch = multi and args.jobs > 1
    # A batch already runs clips side by side; a second pose process per clip would only oversubscribe.
    jobs = [(p, args.exercise, o, not args.no_video, args.quiet or batch, 1 if batch else None) for p, o in zip(paths, outs)]
    if batch:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=args.jobs) as ex:
            results = list(ex.map(_one, *zip(*jobs)))
    else:
        results = [_one(*j) for j in jobs]
    failed = [(p, err) for p, err in results if err]
    for p, err in failed:
        print(f"formcheck: {os.path.basename(p)}: {err}", file=sys.stderr)
    if multi:
        print(f"{len(paths) - len(failed)} of {len(paths)} clips analysed.")
    return 1 if failed else 0
