"""Benchmarks that print figures (no timed tests).

    python -m formcheck.bench speed CLIP [CLIP ...] [--heights 1080,720] [--seconds 30]
    python -m formcheck.bench accuracy [--dir DIR] [--quick]
    python -m formcheck.bench memory CLIP [CLIP ...]
    python -m formcheck.bench loop CLIP SECONDS OUT      (a long test clip: the source re-muxed end to end)

speed: each clip at 1080p and 720p (re-encoded once, looped to 30 s), each in a fresh process:
frames/s of bare MediaPipe inference (one graph, on frames decoded beforehand at the size the
pipeline gives it), of the whole analysis as the pipeline runs it (decode + pose, two pose
processes on a long clip + conditioning + analysis), and of analysis + annotated H.264 export at
the source size; their ratios; the analysis speed as a multiple of real time; peak resident
memory (main process + pose helper).
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _speed_child(path: str, bare_frames: int) -> dict:
    """One clip in this (fresh) process: the whole analysis as the pipeline runs it, then the
    annotated export, then bare inference; peak memory is read before the bare run holds frames."""
    from .extract import extract_pose
    from .pipeline import analyze_track, render_video
    from .pose import POSE_MAX_SIDE, PoseEstimator
    from .video import frames, probe
    info = probe(path)
    t0 = time.perf_counter()
    track = extract_pose(path)
    a = analyze_track(track, "auto")
    t_ana = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t1 = time.perf_counter()
        render_video(path, track, a, os.path.join(d, "a.mp4"))
        t_exp = t_ana + time.perf_counter() - t1
    peak_self = _peak_mb()
    peak_helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    smalls = []
    for i, (_, img, small) in enumerate(frames(path, max_side=POSE_MAX_SIDE)):
        if i >= bare_frames:
            break
        smalls.append((small, (img.shape[1], img.shape[0])))
    with PoseEstimator() as est:
        est.process(*smalls[0])  # graph set-up is not throughput
        t0 = time.perf_counter()
        for s, wh in smalls:
            est.process(s, wh)
        bare = len(smalls) / (time.perf_counter() - t0)
    n = len(track)
    return {"size": f"{info.width}x{info.height}", "fps": info.fps, "duration": info.duration_s, "frames": n,
            "bare": bare, "analysis": n / t_ana, "export": n / t_exp, "peak_mb": peak_self, "helper_mb": peak_helper}


def _variant(src: str, height: int, seconds: float | None, folder: str) -> str:
    """The same clip at another size (long side scaled to `height` lines on the short side) and,
    with seconds, looped to that length: decoded and re-encoded once, cached in folder."""
    import cv2
    from .video import H264Writer, frames, probe
    info = probe(src)
    base = os.path.splitext(os.path.basename(src))[0]
    looped = src
    if seconds and info.duration_s < seconds:
        looped = os.path.join(folder, f"{base}_{seconds:g}s.mp4")
        if not os.path.exists(looped):
            loop_clip(src, seconds, looped)
    short = min(info.width, info.height)
    if short == height:
        return looped
    out = os.path.join(folder, f"{base}_{seconds or 0:g}s_{height}p.mp4")
    if not os.path.exists(out):
        s = height / short
        w, h = int(round(info.width * s / 2)) * 2, int(round(info.height * s / 2)) * 2
        tmp = out + ".part.mp4"
        with H264Writer(tmp, w, h, info.fps, crf=18) as wr:
            for t, img, _ in frames(looped):
                wr.write(cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC), t)
        os.replace(tmp, out)
    return out


def speed(paths: list[str], heights: list[int], seconds: float | None = 30.0, bare_frames: int = 300,
          folder: str = ".bench_cache") -> None:
    """Every clip at every size, each measured in a fresh process so memory figures do not mix."""
    import json
    import subprocess
    import sys
    os.makedirs(folder, exist_ok=True)
    print(f"{'clip':30s} {'size':>9s} {'length':>6s} {'bare fps':>8s} {'analysis':>8s} {'+export':>8s} "
          f"{'ana/bare':>8s} {'exp/bare':>8s} {'x real':>6s} {'peak MB':>8s}")
    code = "import json, sys; from formcheck.bench import _speed_child; print(json.dumps(_speed_child(sys.argv[1], int(sys.argv[2]))))"
    for src in paths:
        for height in heights:
            clip = _variant(src, height, seconds, folder)
            r = subprocess.run([sys.executable, "-c", code, clip, str(bare_frames)], capture_output=True, text=True)
            name = os.path.basename(src)[:30]
            if r.returncode:
                print(f"{name:30s} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
            m = json.loads(r.stdout.strip().splitlines()[-1])
            peak = f"{m['peak_mb']:.0f}" + (f"+{m['helper_mb']:.0f}" if m["helper_mb"] > 50 else "")
            print(f"{name:30s} {m['size']:>9s} {m['duration']:5.0f}s {m['bare']:8.1f} {m['analysis']:8.1f} {m['export']:8.1f} "
                  f"{m['analysis'] / m['bare']:8.2f} {m['export'] / m['bare']:8.2f} {m['analysis'] / m['fps']:6.2f} {peak:>8s}")


# The accuracy grid: bodies x camera angles, each a 5-rep deadlift set whose spine flexion rises
# 0 -> 40 deg, plus runs at known cadences. Clips are rendered once (synthetic env) and cached.
FLEXION = (0, 10, 20, 30, 40)
GRID = [(body, yaw) for body in ("base", "slim", "heavy") for yaw in (0, 20)]
RUNS = [(160.0, 0.0), (180.0, 1.0)]
QUICK_GRID, QUICK_RUNS = [("base", 0), ("heavy", 0)], [(170.0, 0.0)]


def _render(kind: str, out: str, args: list[str]) -> None:
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    py = os.path.join(root, ".venv-render", "bin", "python")
    if not os.path.exists(py):
        raise SystemExit(f"{out} is not cached and the render environment is missing: "
                         "python3 -m venv .venv-render && .venv-render/bin/pip install -r requirements-synth.txt")
    subprocess.run([py, "-m", "formcheck.synthetic.clips", kind, out] + args, check=True, cwd=root,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def evaluate_deadlift(clip: str, gt: dict, rounding_threshold: float | None = None) -> dict:
    """Pipeline vs ground truth for one synthetic deadlift set."""
    import numpy as np
    from .extract import extract_pose
    from .pipeline import analyze_track
    track = extract_pose(clip)
    a = analyze_track(track, "deadlift")
    g = gt["frames"]
    n = min(len(g), len(track))
    hip_true = np.array([f["hip_deg"] for f in g[:n]])
    trunk_true = np.array([f["trunk_deg"] for f in g[:n]])
    hip_err = a.series["hip_deg"][:n] - hip_true
    trunk_err = a.series["trunk_deg"][:n] - trunk_true
    flex = gt["params"]["flexion"]
    rounding = [r.metrics.get("back_rounding_deg") for r in a.reps]
    return {"clip": os.path.basename(clip), "body": gt["body"], "yaw": gt["yaw_deg"],
            "reps_true": len(flex), "reps_found": len(a.reps),
            "hip_err": hip_err[np.isfinite(hip_err)], "trunk_err": trunk_err[np.isfinite(trunk_err)],
            "flexion": flex, "rounding": rounding, "withheld": "back_rounding_deg" in a.withheld}


def evaluate_run(clip: str, gt: dict) -> dict:
    from .extract import extract_pose
    from .pipeline import analyze_track
    a = analyze_track(extract_pose(clip), "running")
    true = gt["params"]["cadence"]
    found = a.summary.get("cadence_spm")
    over = sum(any(f.code == "overstride" for f in r.faults) for r in a.reps)
    return {"clip": os.path.basename(clip), "cadence_true": true, "cadence_found": found,
            "cadence_err_pct": None if found is None else round(100 * (found - true) / true, 2),
            "overstride_param": gt["params"]["overstride"], "steps": len(a.reps), "overstride_steps": over}


def accuracy(folder: str, quick: bool = False, json_out: str | None = None) -> dict:
    import json

    import numpy as np
    from scipy.stats import spearmanr
    from .thresholds import DEADLIFT
    os.makedirs(folder, exist_ok=True)
    grid, runs = (QUICK_GRID, QUICK_RUNS) if quick else (GRID, RUNS)
    dl = []
    for body, yaw in grid:
        clip = os.path.join(folder, f"dl_{body}_yaw{yaw}.mp4")
        if not os.path.exists(clip[:-4] + ".gt.json"):
            _render("deadlift", clip, ["--body", body, "--yaw", str(yaw), "--flexion", ",".join(map(str, FLEXION))])
        dl.append(evaluate_deadlift(clip, json.load(open(clip[:-4] + ".gt.json"))))
    rn = []
    for cad, over in runs:
        clip = os.path.join(folder, f"run_{int(cad)}_os{over:g}.mp4")
        if not os.path.exists(clip[:-4] + ".gt.json"):
            _render("running", clip, ["--cadence", str(cad), "--overstride", str(over), "--seconds", "5"])
        rn.append(evaluate_run(clip, json.load(open(clip[:-4] + ".gt.json"))))

    hip = np.abs(np.concatenate([d["hip_err"] for d in dl]))
    trunk = np.abs(np.concatenate([d["trunk_err"] for d in dl]))
    thr = DEADLIFT["lumbar_rounding"].threshold
    pairs = [(f, r) for d in dl if not d["withheld"] and len(d["rounding"]) == len(d["flexion"])
             for f, r in zip(d["flexion"], d["rounding"]) if r is not None]
    det = [r > thr for f, r in pairs if f >= 20]
    fa = [r > thr for f, r in pairs if f <= 10]
    rhos = {}
    for d in dl:
        if not d["withheld"] and len(d["rounding"]) == len(d["flexion"]) and all(r is not None for r in d["rounding"]):
            rhos[f"{d['body']}/yaw{d['yaw']:g}"] = round(float(spearmanr(d["flexion"], d["rounding"])[0]), 2)
    # the threshold that would separate >=20 from <=10 best on this grid (Youden's J)
    best = None
    for cand in np.arange(0, 30.5, 0.5):
        tp = np.mean([r > cand for f, r in pairs if f >= 20]) if pairs else 0
        fp = np.mean([r > cand for f, r in pairs if f <= 10]) if pairs else 0
        if best is None or tp - fp > best[1]:
            best = (float(cand), float(tp - fp), float(tp), float(fp))
    summary = {
        "hip_angle_abs_err_deg": {"median": round(float(np.median(hip)), 2), "p95": round(float(np.percentile(hip, 95)), 2)},
        "trunk_angle_abs_err_deg": {"median": round(float(np.median(trunk)), 2), "p95": round(float(np.percentile(trunk, 95)), 2)},
        "rep_count_exact": f"{sum(d['reps_found'] == d['reps_true'] for d in dl)}/{len(dl)}",
        "rounding_rank_corr": rhos,
        "rounding_threshold": thr,
        "detection_rate_ge20": round(float(np.mean(det)), 2) if det else None,
        "false_alarm_rate_le10": round(float(np.mean(fa)), 2) if fa else None,
        "best_separating_threshold": {"value": best[0], "detection": round(best[2], 2), "false_alarms": round(best[3], 2)} if best else None,
        "rounding_by_flexion": {f"{f}": [round(r, 1) for ff, r in pairs if ff == f] for f in FLEXION},
        "running": rn,
        "clips": [{k: v for k, v in d.items() if k not in ("hip_err", "trunk_err")} for d in dl],
    }
    print(f"{'measure':44s} value")
    print(f"{'hip angle |error| median / p95 (deg)':44s} {summary['hip_angle_abs_err_deg']['median']} / {summary['hip_angle_abs_err_deg']['p95']}")
    print(f"{'trunk angle |error| median / p95 (deg)':44s} {summary['trunk_angle_abs_err_deg']['median']} / {summary['trunk_angle_abs_err_deg']['p95']}")
    print(f"{'rep count exact (clips)':44s} {summary['rep_count_exact']}")
    for k, v in rhos.items():
        print(f"{'rounding proxy vs flexion, Spearman ' + k:44s} {v}")
    print(f"{'rounding >=20 deg detected at ' + str(thr) + ' deg':44s} {summary['detection_rate_ge20']}")
    print(f"{'false alarms on 0-10 deg at ' + str(thr) + ' deg':44s} {summary['false_alarm_rate_le10']}")
    if best:
        print(f"{'best separating threshold (det / false)':44s} {best[0]} deg ({best[2]:.2f} / {best[3]:.2f})")
    for f in FLEXION:
        print(f"{'proxy at ' + str(f) + ' deg true flexion':44s} {summary['rounding_by_flexion'][str(f)]}")
    for r in rn:
        print(f"{'cadence ' + r['clip']:44s} {r['cadence_found']} vs {r['cadence_true']} ({r['cadence_err_pct']}%), overstride steps {r['overstride_steps']}/{r['steps']}")
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(summary, fh, indent=2, default=float)
    return summary


def loop_clip(src: str, seconds: float, out: str) -> None:
    """Repeat a clip's packets (no re-encode) until it lasts `seconds`: a long clip for memory tests."""
    import av
    with av.open(src) as inp, av.open(out, "w", options={"movflags": "+faststart"}) as outp:
        ist = inp.streams.video[0]
        ost = outp.add_stream_from_template(ist)
        packets = [p for p in inp.demux(ist) if p.size and p.pts is not None]
        span = max(p.pts for p in packets) - min(p.pts for p in packets) + (packets[1].pts - packets[0].pts if len(packets) > 1 else 1)
        orig = [(p.pts, p.dts) for p in packets]
        k = 0
        while k * span * float(ist.time_base) < seconds:
            for p, (pts, dts) in zip(packets, orig):
                # one offset for pts and dts, so decode order stays valid
                p.pts = pts + k * span
                p.dts = None if dts is None else dts + k * span
                p.time_base = ist.time_base
                p.stream = ost
                outp.mux(p)
            k += 1


def memory(paths: list[str]) -> None:
    """Peak resident memory of the whole job (analysis + annotated export) per clip, each in a
    fresh process, so the figures do not mix; the pose helper process (long clips) is its own column."""
    import subprocess
    import sys
    code = ("import resource, sys, tempfile, time; from formcheck.pipeline import analyze_video; "
            "t=time.time(); d=tempfile.mkdtemp(); r=analyze_video(sys.argv[1], 'auto', out_dir=d); "
            "print(len(r.track), round(time.time()-t,1), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
    print(f"{'clip':40s} {'size':>9s} {'duration':>8s} {'frames':>6s} {'seconds':>8s} {'peak MB':>8s} {'helper MB':>9s}")
    from .video import probe
    for p in paths:
        info = probe(p)
        out = subprocess.run([sys.executable, "-c", code, p], capture_output=True, text=True)
        if out.returncode:
            print(f"{os.path.basename(p)[:40]:40s} failed: {out.stderr.strip().splitlines()[-1] if out.stderr else '?'}")
            continue
        n, secs, mb, helper = out.stdout.split()[-4:]
        print(f"{os.path.basename(p)[:40]:40s} {info.width:>4d}x{info.height:<4d} {info.duration_s:7.0f}s {n:>6s} {secs:>8s} {mb:>8s} {helper:>9s}")


def main() -> None:
    ap = argparse.ArgumentParser(prog="formcheck.bench")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("clips", nargs="+")
    sp.add_argument("--heights", default="1080,720", help="short-side sizes to measure each clip at")
    sp.add_argument("--seconds", type=float, default=30.0, help="loop shorter clips to this length (0: as they are)")
    sp.add_argument("--bare-frames", type=int, default=300)
    sp.add_argument("--dir", default=".bench_cache", help="where resized/looped variants are cached")
    mp_ = sub.add_parser("memory")
    mp_.add_argument("clips", nargs="+")
    lp = sub.add_parser("loop")
    lp.add_argument("clip")
    lp.add_argument("seconds", type=float)
    lp.add_argument("out")
    ac = sub.add_parser("accuracy")
    ac.add_argument("--dir", default=".bench_cache", help="where the synthetic clips are rendered/cached")
    ac.add_argument("--quick", action="store_true", help="2 deadlift sets and 1 run")
    ac.add_argument("--json", default="accuracy.json")
    args = ap.parse_args()
    if args.cmd == "speed":
        speed(args.clips, [int(h) for h in args.heights.split(",")], args.seconds or None, args.bare_frames, args.dir)
    elif args.cmd == "memory":
        memory(args.clips)
    elif args.cmd == "loop":
        loop_clip(args.clip, args.seconds, args.out)
    elif args.cmd == "accuracy":
        import warnings
        warnings.simplefilter("ignore", RuntimeWarning)
        accuracy(args.dir, args.quick, args.json)


if __name__ == "__main__":
    main()
