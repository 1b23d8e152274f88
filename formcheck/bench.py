"""Benchmarks that print figures (no timed tests).

    python -m formcheck.bench speed CLIP [CLIP ...]

Per clip: frames/s of bare MediaPipe inference (on frames decoded beforehand, the same
downscaled size the pipeline uses), of the whole analysis (decode + pose + conditioning +
analysis), and of analysis + annotated H.264 export; their ratios; peak resident memory.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def speed(paths: list[str], max_frames: int = 300) -> None:
    from .extract import extract_pose
    from .pipeline import analyze_track, render_video
    from .pose import POSE_MAX_SIDE, PoseEstimator
    from .video import frames, probe

    print(f"{'clip':38s} {'size':>9s} {'frames':>6s} {'bare fps':>8s} {'analysis':>8s} {'+export':>8s} {'ana/bare':>8s} {'exp/bare':>8s} {'peak MB':>8s}")
    for p in paths:
        info = probe(p)
        smalls, sizes = [], []
        for i, (_, img, small) in enumerate(frames(p, max_side=POSE_MAX_SIDE)):
            if i >= max_frames:
                break
            smalls.append(small)
            sizes.append((img.shape[1], img.shape[0]))
        with PoseEstimator() as est:
            t0 = time.perf_counter()
            for s, wh in zip(smalls, sizes):
                est.process(s, wh)
            bare = len(smalls) / (time.perf_counter() - t0)
        n = len(smalls)
        del smalls
        t0 = time.perf_counter()
        track = extract_pose(p, max_frames=n)
        a = analyze_track(track, "auto")
        t_ana = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as d:
            t1 = time.perf_counter()
            render_video(p, track, a, os.path.join(d, "a.mp4"))
            t_exp = t_ana + time.perf_counter() - t1
        ana, exp = n / t_ana, n / t_exp
        print(f"{os.path.basename(p)[:38]:38s} {info.width:>4d}x{info.height:<4d} {n:6d} {bare:8.1f} {ana:8.1f} {exp:8.1f} "
              f"{ana / bare:8.2f} {exp / bare:8.2f} {_peak_mb():8.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(prog="formcheck.bench")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("clips", nargs="+")
    sp.add_argument("--max-frames", type=int, default=300)
    args = ap.parse_args()
    if args.cmd == "speed":
        speed(args.clips, args.max_frames)


if __name__ == "__main__":
    main()
