"""Benchmarks that print figures (no timed tests).

    python -m formcheck.bench speed CLIP [CLIP ...] [--heights 1080,720] [--seconds 30]
    python -m formcheck.bench accuracy [--dir DIR] [--quick] [--grid gym]
    python -m formcheck.bench memory CLIP [CLIP ...]
    python -m formcheck.bench real [--json PATH]      (every labelled clip in ../shared, scored)
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
    from formcheck.extract import extract_pose
    from formcheck.pipeline import analyze_track, render_video
    from formcheck.pose import POSE_MAX_SIDE, PoseEstimator
    from formcheck.video import frames, probe
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
    from formcheck.video import H264Writer, frames, probe
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
    code = "import json, sys; from formcheck_bench.bench import _speed_child; print(json.dumps(_speed_child(sys.argv[1], int(sys.argv[2]))))"
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


def _render(kind: str, out: str, args: list[str], threads: int | None = None) -> None:
    """threads: Mesa llvmpipe's and torch's threads for this render (None: all cores)."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    py = os.path.join(root, ".venv-render", "bin", "python")
    if not os.path.exists(py):
        raise SystemExit(f"{out} is not cached and the render environment is missing: "
                         "python3 -m venv .venv-render && .venv-render/bin/pip install -r requirements-synth.txt")
    env = dict(os.environ)
    if threads:
        env.update(LP_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    subprocess.run([py, "-m", "formcheck.synthetic.clips", kind, out] + args, check=True, cwd=root, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def render_all(jobs: list[tuple[str, str, list[str]]]) -> None:
    """Render the (kind, out, args) jobs whose ground truth (out's .gt.json, written last) is not
    there yet, one single-threaded render per core: llvmpipe's threads leave a core half idle while
    the frame is posed and encoded, and on 2 cores two one-thread renders finish a pair of clips in
    38 s against 50 s one after the other (the frames are byte-identical either way)."""
    from concurrent.futures import ThreadPoolExecutor
    jobs = [j for j in jobs if not os.path.exists(j[1][:-4] + ".gt.json")]
    if not jobs:
        return
    for d in {os.path.dirname(o) for _, o, _ in jobs}:
        os.makedirs(d, exist_ok=True)
    print(f"rendering {len(jobs)} clips under {', '.join(sorted({os.path.dirname(o) for _, o, _ in jobs}))}", flush=True)
    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as ex:
        for f in [ex.submit(_render, k, o, a, 1) for k, o, a in jobs]:
            f.result()


def plain_clips(folder: str, quick: bool = False) -> tuple[list[tuple[str, str, list[str]]], list[tuple[str, str, list[str]]]]:
    """The plain grid's (kind, path, render args): its deadlift sets and its runs."""
    grid, runs = (QUICK_GRID, QUICK_RUNS) if quick else (GRID, RUNS)
    return ([("deadlift", os.path.join(folder, f"dl_{body}_yaw{yaw}.mp4"),
              ["--body", body, "--yaw", str(yaw), "--flexion", ",".join(map(str, FLEXION))]) for body, yaw in grid],
            [("running", os.path.join(folder, f"run_{int(cad)}_os{over:g}.mp4"),
              ["--cadence", str(cad), "--overstride", str(over), "--seconds", "5"]) for cad, over in runs])


def evaluate_deadlift(clip: str, gt: dict, rounding_threshold: float | None = None) -> dict:
    """Pipeline vs ground truth for one synthetic deadlift set."""
    import numpy as np
    from formcheck.extract import extract_pose
    from formcheck.pipeline import analyze_track
    track = extract_pose(clip)
    a = analyze_track(track, "deadlift")
    g = gt["frames"]
    n = min(len(g), len(track))
    hip_true = np.array([f["hip_deg"] for f in g[:n]])
    trunk_true = np.array([f["trunk_deg"] for f in g[:n]])
    knee_err = a.series["knee_deg"][:n] - np.array([f["knee_deg"] for f in g[:n]])
    hip_err = a.series["hip_deg"][:n] - hip_true
    trunk_err = a.series["trunk_deg"][:n] - trunk_true
    flex = gt["params"]["flexion"]
    rounding = [r.metrics.get("back_rounding_deg") for r in a.reps]
    return {"clip": os.path.basename(clip), "body": gt["body"], "yaw": gt["yaw_deg"],
            "reps_true": len(flex), "reps_found": len(a.reps),
            "hip_err": hip_err[np.isfinite(hip_err)], "trunk_err": trunk_err[np.isfinite(trunk_err)],
            "knee_err": knee_err[np.isfinite(knee_err)],
            "flexion": flex, "rounding": rounding, "withheld": "back_rounding_deg" in a.withheld}


def evaluate_run(clip: str, gt: dict) -> dict:
    from formcheck.extract import extract_pose
    from formcheck.pipeline import analyze_track
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
    from formcheck.thresholds import DEADLIFT
    sets, runs = plain_clips(folder, quick)
    render_all(sets + runs)
    dl = [evaluate_deadlift(clip, json.load(open(clip[:-4] + ".gt.json"))) for _, clip, _ in sets]
    rn = [evaluate_run(clip, json.load(open(clip[:-4] + ".gt.json"))) for _, clip, _ in runs]

    hip = np.abs(np.concatenate([d["hip_err"] for d in dl]))
    trunk = np.abs(np.concatenate([d["trunk_err"] for d in dl]))
    knee = np.abs(np.concatenate([d["knee_err"] for d in dl]))
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
        "knee_angle_abs_err_deg": {"median": round(float(np.median(knee)), 2), "p95": round(float(np.percentile(knee, 95)), 2)},
        "rep_count_exact": f"{sum(d['reps_found'] == d['reps_true'] for d in dl)}/{len(dl)}",
        "rounding_rank_corr": rhos,
        "rounding_threshold": thr,
        "detection_rate_ge20": round(float(np.mean(det)), 2) if det else None,
        "false_alarm_rate_le10": round(float(np.mean(fa)), 2) if fa else None,
        "best_separating_threshold": {"value": best[0], "detection": round(best[2], 2), "false_alarms": round(best[3], 2)} if best else None,
        "rounding_by_flexion": {f"{f}": [round(r, 1) for ff, r in pairs if ff == f] for f in FLEXION},
        "running": rn,
        "clips": [{k: v for k, v in d.items() if k not in ("hip_err", "trunk_err", "knee_err")} for d in dl],
    }
    print(f"{'measure':44s} value")
    print("(angles through the shipped joint-centre model, whose training included these bodies: the held-out-body figures are the table at the end)")
    print(f"{'hip angle |error| median / p95 (deg)':44s} {summary['hip_angle_abs_err_deg']['median']} / {summary['hip_angle_abs_err_deg']['p95']}")
    print(f"{'knee angle |error| median / p95 (deg)':44s} {summary['knee_angle_abs_err_deg']['median']} / {summary['knee_angle_abs_err_deg']['p95']}")
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
    print()
    from .joints import run as joints_table
    summary["joint_centres_held_out"] = joints_table(folder, os.path.join(folder, "tracks"))["table"]
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(summary, fh, indent=2, default=float)
    return summary


# The gym grid: what real clips have and the plain grid lacks. A barbell with 45 cm plates in the
# hands (it covers the hips at lockout, as in every side view), a rack, bench and dumbbells behind,
# loose or tight shirts, dimmer light, camera yaw up to 15 deg, heavier compression. Lumbar-only
# flexion per rep (true lower-back flexion), a thoracic-only set, an arched-lockout set, and runs
# with and without lumbar extension. (body, yaw, loose shirt m, light, gym layout seed)
GYM_SETS = [("base", 0, 0.0, 1.0, 1), ("base", 15, 0.03, 0.6, 2), ("heavy", 0, 0.03, 1.0, 3),
            ("heavy", 15, 0.0, 0.6, 4), ("slim", 0, 0.03, 0.8, 5), ("slim", 10, 0.0, 1.0, 6)]
GYM_WALLS = ["0.88,0.87,0.84", "0.35,0.36,0.40", "0.55,0.45,0.35", "0.20,0.22,0.25", "0.75,0.78,0.80", "0.45,0.50,0.42", "0.6,0.6,0.6"]
GYM_SHIRTS = ["0.15,0.35,0.75", "0.08,0.08,0.09", "0.55,0.55,0.57", "0.70,0.15,0.12", "0.10,0.10,0.12", "0.85,0.85,0.82", "0.2,0.5,0.3"]
GYM_LUMBAR = (0, 10, 20, 30, 40)
GYM_CRF = 28
GYM_RUNS = [(0.0, 0.0), (15.0, 0.03)]  # (lumbar extension deg, loose shirt m)


def gym_clips() -> dict[str, tuple[str, list[str]]]:
    """The gym grid's clips: file name -> (kind, render args)."""
    out = {}
    for body, yaw, loose, light, seed in GYM_SETS:
        out[f"gym_dl_{body}_yaw{yaw}_loose{loose:g}.mp4"] = ("deadlift", [
            "--body", body, "--yaw", str(yaw), "--loose", str(loose), "--light", str(light), "--seed", str(seed),
            "--flexion", ",".join("0" for _ in GYM_LUMBAR), "--lumbar", ",".join(map(str, GYM_LUMBAR))])
    for body, seed in (("base", 7), ("heavy", 6), ("slim", 5)):  # thoracic-only flexion
        out[f"gym_dl_{body}_thoracic.mp4"] = ("deadlift", ["--body", body, "--seed", str(seed), "--flexion", "0,0,0,0,0",
                                                           "--thoracic", ",".join(map(str, GYM_LUMBAR))])
    # a flat back with an arched lockout, and with a plain one
    out["gym_dl_base_archtop.mp4"] = ("deadlift", ["--body", "base", "--seed", "1", "--flexion", "0,0,0", "--arch-top", "15"])
    out["gym_dl_base_flat3.mp4"] = ("deadlift", ["--body", "base", "--seed", "1", "--flexion", "0,0,0"])
    for ext, loose in GYM_RUNS:
        out[f"gym_run_ext{ext:g}_loose{loose:g}.mp4"] = ("running", [
            "--seconds", "5", "--cadence", "170", "--lumbar-ext", str(ext), "--loose", str(loose), "--seed", "3"])
    common = ["--gym", "--crf", str(GYM_CRF)]
    for name, (kind, args) in out.items():
        seed = int(args[args.index("--seed") + 1])
        args += common + ["--background", GYM_WALLS[seed % len(GYM_WALLS)], "--shirt", GYM_SHIRTS[seed % len(GYM_SHIRTS)]]
    return out


def render_gym(folder: str) -> None:
    """Render the gym grid's clips not yet under folder."""
    render_all([(kind, os.path.join(folder, name), args) for name, (kind, args) in gym_clips().items()])


def accuracy_gym(folder: str, json_out: str | None = None) -> dict:
    """Back-shape accuracy on the gym grid, printed: the rounding rule's outline bend per rep,
    detection and false alarms at the shipped line, rank correlation within each lifter, response
    to lumbar vs thoracic flexion of the outline bends and of the back-shape model's flexion
    estimates (these clips are among its training renders, so its held-out figures, `bench
    backshape`, follow at the end), an arched lockout, and the running arch proxy against imposed
    lumbar extension."""
    import json

    import numpy as np
    from scipy.stats import spearmanr
    from formcheck.extract import extract_pose
    from formcheck.pipeline import analyze_track
    from formcheck.thresholds import DEADLIFT, RUNNING
    thr = DEADLIFT["lumbar_rounding"].threshold
    render_gym(folder)

    def clip(name):
        path = os.path.join(folder, name)
        return path, json.load(open(path[:-4] + ".gt.json"))

    SEG = ("lumbar_flexion_deg", "thoracic_flexion_deg", "back_rounding_deg", "back_arc_deg", "upper_back_bend_deg",
           "lower_back_bend_deg")
    thr_upper = DEADLIFT["upper_back_rounding"].threshold
    per_rep = {}  # (body, "lumbar"/"thoracic") -> [(imposed deg, {measure: value})]

    def rounding(path, body=None, kind=None, imposed=None):
        a = analyze_track(extract_pose(path), "deadlift")
        if body and len(a.reps) == len(imposed):
            per_rep.setdefault((body, kind), []).extend(
                (f, {k: r.metrics.get(k) for k in SEG}) for f, r in zip(imposed, a.reps))
        return [r.metrics.get("back_rounding_deg") for r in a.reps], a
    rows, pairs = [], []
    for body, yaw, loose, light, seed in GYM_SETS:
        path, gt = clip(f"gym_dl_{body}_yaw{yaw}_loose{loose:g}.mp4")
        vals, a = rounding(path, body, "lumbar", GYM_LUMBAR) if yaw == 0 else rounding(path)
        ok = len(vals) == len(GYM_LUMBAR)
        rho = float(spearmanr(GYM_LUMBAR, vals)[0]) if ok and all(v is not None for v in vals) else None
        rows.append(dict(set=f"{body} yaw {yaw} {'loose' if loose else 'tight'} light {light}", reps=len(vals),
                         rounding=[None if v is None else round(v, 1) for v in vals], spearman=None if rho is None else round(rho, 2)))
        if ok:
            pairs += [(f, v) for f, v in zip(GYM_LUMBAR, vals)]
    det = [v is not None and v > thr for f, v in pairs if f >= 20]
    fa = [v is not None and v > thr for f, v in pairs if f <= 10]
    measured = [v for _, v in pairs if v is not None]
    slope = float(np.polyfit([f for f, v in pairs if v is not None], measured, 1)[0]) if len(measured) > 2 else None
    # thoracic-only flexion, and a flat back with an arched lockout
    for body in ("base", "heavy", "slim"):
        tpath, _ = clip(f"gym_dl_{body}_thoracic.mp4")
        vals_t, _ = rounding(tpath, body, "thoracic", GYM_LUMBAR)
        if body == "base":
            tvals = vals_t

    def fitted(body, kind, key):
        pts = [(f, m[key]) for f, m in per_rep.get((body, kind), []) if m[key] is not None]
        return round(float(np.polyfit(*zip(*pts), 1)[0]), 2) if len(pts) >= 3 else None
    response = {key: {kind: {body: fitted(body, kind, key) for body in ("base", "heavy", "slim")} for kind in ("lumbar", "thoracic")}
                for key in SEG}
    # the upper-back rule's number on the three thoracic-only sets (flagged where >= 20 deg of
    # thoracic flexion) and on the side-on lumbar-only sets (a rounded lower back alone is not its fault)
    def upper(kind, keep):
        v = [m["back_arc_deg"] for body in ("base", "heavy", "slim") for f, m in per_rep.get((body, kind), []) if keep(f)]
        return sum(x is not None and x > thr_upper for x in v), sum(x is not None for x in v), len(v)
    upper_rule = {"thoracic >= 20": upper("thoracic", lambda f: f >= 20), "thoracic 0-10": upper("thoracic", lambda f: f <= 10),
                  "lumbar only, any": upper("lumbar", lambda f: True)}
    apath, _ = clip("gym_dl_base_archtop.mp4")
    avals, _ = rounding(apath)
    fpath, _ = clip("gym_dl_base_flat3.mp4")
    fvals, _ = rounding(fpath)
    runs = []
    for ext, loose in GYM_RUNS:
        path, gt = clip(f"gym_run_ext{ext:g}_loose{loose:g}.mp4")
        a = analyze_track(extract_pose(path), "running")
        runs.append(dict(lumbar_ext=ext, loose=loose, arch=a.summary.get("median_arch_deg"),
                         flagged=any(f.code == "overarching_lower_back" for f in a.faults)))
    res = dict(threshold=thr, sets=rows,
               detected_ge20=None if not det else round(float(np.mean(det)), 2),
               false_alarms_le10=None if not fa else round(float(np.mean(fa)), 2),
               proxy_per_deg_lumbar=None if slope is None else round(slope, 3),
               thoracic_only=[None if v is None else round(v, 1) for v in tvals],
               response_per_degree=response, upper_back_rule=upper_rule,
               flat_arched_lockout=[None if v is None else round(v, 1) for v in avals],
               flat_plain_lockout=[None if v is None else round(v, 1) for v in fvals],
               runs=runs, running_threshold=RUNNING["overarching_lower_back"].threshold)
    print(f"gym grid: barbell + 45 cm plates, rack, loose/tight shirts, light 0.6-1.0, yaw 0-15, crf {GYM_CRF}")
    print(f"{'set':40s} {'reps':>4s}  outline bend at lumbar flexion {GYM_LUMBAR} deg   Spearman")
    for r in rows:
        print(f"{r['set']:40s} {r['reps']:4d}  {str(r['rounding']):44s} {r['spearman']}")
    print(f"lumbar flexion >= 20 deg flagged at {thr:g}: {res['detected_ge20']}; false alarms at 0-10 deg: {res['false_alarms_le10']}")
    print(f"outline bend per degree of lumbar flexion (all sets): {res['proxy_per_deg_lumbar']}")
    print(f"thoracic-only flexion {GYM_LUMBAR} (base body): {res['thoracic_only']}")
    print("read per degree of imposed flexion, side-on sets (base / heavy / slim body; the flexion estimates are the shipped "
          "model's, on its own training renders: held-out figures below):")
    for key in SEG:
        r = response[key]
        print(f"  {key:22s} lumbar {r['lumbar']['base']} / {r['lumbar']['heavy']} / {r['lumbar']['slim']}   "
              f"thoracic {r['thoracic']['base']} / {r['thoracic']['heavy']} / {r['thoracic']['slim']}")
    print(f"upper_back_rounding (back_arc_deg > {thr_upper:g}), reps flagged / measured / found: " +
          "; ".join(f"{k} deg {a} / {b} / {c}" for k, (a, b, c) in upper_rule.items()))
    print(f"flat back, 15 deg arched lockout: {res['flat_arched_lockout']} vs plain lockout {res['flat_plain_lockout']}")
    for r in runs:
        print(f"run, lumbar extension {r['lumbar_ext']:g} deg ({'loose' if r['loose'] else 'tight'} shirt): arch proxy {r['arch']}, "
              f"flagged {r['flagged']} (all nine bodies: python -m formcheck.bench arch)")
    from .backshape import ISSUE_LINE, run as backshape
    print()
    res["held_out"] = {k: v for k, v in backshape(os.path.dirname(folder), os.path.join(os.path.dirname(folder), "tracks"),
                                                  threshold=ISSUE_LINE).items() if k != "rep_rows"}
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(res, fh, indent=2, default=float)
    return res


# What a cached pose track depends on besides the file's bytes: bump when pose.py or extract.py
# change what a track holds, so a stale cache is never scored.
POSE_CACHE_VERSION = "mp0.10.21-c1-640-nosmooth-v2"


def file_hash(path: str) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_fixture(path: str, cache: str, out_dir: str, name: str, truth: dict) -> None:
    """A render shipped as a test fixture: out_dir/<name>.track.npz (its pose track, with no path of
    this machine in it) and out_dir/<name>.truth.json."""
    import json
    os.makedirs(out_dir, exist_ok=True)
    tr = cached_track(path, cache)
    tr.video.path = os.path.basename(path)
    tr.save(os.path.join(out_dir, name + ".track.npz"))
    with open(os.path.join(out_dir, name + ".truth.json"), "w") as fh:
        json.dump(truth, fh, indent=1)
    print(f"wrote {out_dir}/{name}.track.npz ({len(tr)} frames)")


def cached_track(path: str, folder: str):
    """The clip's PoseTrack, extracted once and kept under its content hash (and the pose
    version), so re-scoring after a threshold change takes seconds. The first pose pass, the
    plate candidates and the subject's second pass (only for a clip whose first pass followed
    someone standing still) are cached apart, each under its own version, so changing one does
    not re-run the others."""
    import numpy as np
    from formcheck import subject
    from formcheck.extract import add_plates, choose_subject, extract_pose
    from formcheck.plates import VERSION as PLATES_VERSION
    from formcheck.types import PoseTrack

    def load(f):
        if os.path.exists(f):
            try:
                return PoseTrack.load(f)
            except Exception:  # a torn write from an interrupted run: extract again
                os.remove(f)
        return None

    def keep(f, save):
        save(f + ".part")
        os.replace(f + ".part" + (".npy" if f.endswith(".npy") else ".npz"), f)

    os.makedirs(folder, exist_ok=True)
    h = file_hash(path)[:24]
    f = os.path.join(folder, f"{h}-{POSE_CACHE_VERSION}.npz")
    fp = os.path.join(folder, f"{h}-plates-{PLATES_VERSION}.npy")
    fs = os.path.join(folder, f"{h}-{POSE_CACHE_VERSION}-subject-{subject.VERSION}-{PLATES_VERSION}.npz")
    track = load(f)
    if track is None:
        track = extract_pose(path, pick_subject=False)
        keep(f, track.save)
    elif os.path.exists(fp):
        track.plates = np.load(fp)
    else:
        track = add_plates(track, path)
    if track.plates is not None and not os.path.exists(fp):
        keep(fp, lambda g: np.save(g, track.plates))
    if not subject.motion(track).still:
        track.subject_note = subject.choose(track, None)[1]
        return track
    chosen = load(fs)
    if chosen is None:
        chosen = choose_subject(track, path)
        keep(fs, chosen.save)
    return chosen


# --- real clips: the labelled reference (python -m formcheck.bench real) ------------------------

def _scored():
    from formcheck.scoring import Scored
    dl = [
        Scored("lumbar_rounding", "lumbar_rounding", "back_rounding_deg", ">", "lumbar_rounding",
               "threshold = normal range of flat backs (mean + 1.96 SD of the 'no' clips)", method="reference"),
        Scored("hips_shoot_up", "hips_shoot_up", "early_trunk_change_deg", ">", "hips_shoot_up"),
        Scored("hips_shoot_up", "legs_first", "back_rise_at_knee_lock", "<", "legs_first",
               "legs-first, scored against the hips_shoot_up labels (it does not fire where hips_shoot_up already has)"),
        Scored("hips_too_high_start", "hips_too_high", "liftoff_trunk_deg", ">", "hips_too_high",
               "line = 90 - 1.96 x the within-lifter spread of the lift-off trunk angle (printed below), not fitted"),
        Scored("squat_start", "squatting_deadlift", "liftoff_thigh_deg", "<", "squatting_deadlift",
               "the rule also needs an upright trunk; LOSO on the thigh angle alone"),
        Scored("lockout_lean_back", "lockout_lean_back", "lockout_hyperext_deg", ">", "lockout_lean_back"),
        Scored("bar_away_from_body", "bar_drift", "bar_drift_fl", ">", "bar_drift"),
        Scored("upper_back_rounding", "upper_back_rounding", "back_arc_deg", ">", "upper_back_rounding",
               "threshold = normal range of flat upper backs (mean + 1.96 SD of the 'no' clips)", method="reference"),
        # the back-shape model's estimates (formcheck/backshape.py), informational: how they would do
        Scored("lumbar_rounding", None, "lumbar_flexion_deg", note="back-shape model, informational"),
        Scored("upper_back_rounding", None, "thoracic_flexion_deg", note="back-shape model, informational"),
    ]
    run = [
        Scored("overstride", "overstride", "median_shank_at_contact_deg", ">", "overstride",
               "clip flagged when half or more of its steps are; LOSO on the median shank angle"),
        Scored("visible_lower_back_arch", "overarching_lower_back", "median_arch_deg", ">", "overarching_lower_back"),
        Scored("trunk_lean", "excessive_lean", "median_trunk_lean_deg", ">", "excessive_lean",
               "the rule judges 7-step stretches; LOSO on the clip's median lean, which a lean in one segment does not move"),
    ]
    return dl, run


def _tsv(path: str) -> list[dict]:
    import csv
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _sources(folder: str) -> dict[str, str]:
    m = os.path.join(folder, "MANIFEST.tsv")
    return {r["file"]: r["source_repo"] for r in _tsv(m)} if os.path.exists(m) else {}


def collect_real(shared: str, cache: str, log=print) -> dict:
    """Run the real pipeline on every labelled clip; return scoring items, per-clip facts and
    metric rows. Pose tracks come from the content-hash cache."""
    import numpy as np
    from formcheck.pipeline import analyze_track
    from formcheck.scoring import Item, deadlift_labels, hand_cadence, lean_label, match_reps, yes_no
    from formcheck.types import FormcheckError
    dl_scored, run_scored = _scored()
    vids, labs = os.path.join(shared, "data", "videos"), os.path.join(shared, "data", "labels")
    items, clips, rows, liftoffs = [], [], [], []
    cols = sorted({s.label for s in dl_scored})
    dl_src = _sources(os.path.join(vids, "deadlift"))
    for clip, labels in deadlift_labels(_tsv(os.path.join(labs, "deadlift_reps.tsv")), cols).items():
        path = os.path.join(vids, "deadlift", clip)
        src = dl_src.get(clip, "?")
        if not os.path.exists(path):
            log(f"  missing {path}")
            continue
        log(f"  {clip}")
        try:
            a = analyze_track(cached_track(path, cache), "deadlift")
            reps, err = a.reps, None
        except FormcheckError as e:
            a, reps, err = None, [], str(e)
        t = a.series["t"] if a else np.zeros(1)
        detected = [(float(t[r.key_frames["setup"]]), float(t[r.key_frames["lockout"]])) for r in reps]
        match_reps(labels, detected)
        clips.append(dict(clip=clip, source=src, exercise="deadlift", reps_labelled=len(labels),
                          reps_found=len(reps), error=err,
                          view=None if a is None else dict(ok=a.view.ok, ratio=a.view.width_ratio, facing=a.view.facing),
                          view_label=labels[0].view,
                          withheld=sorted(a.withheld) if a else [],
                          unmatched=[lab.rep for lab in labels if not lab.matched]))
        for r in reps:
            rows.append(dict(clip=clip, unit=f"rep {r.index}", t=r.start_s, metrics=r.metrics, not_measured=r.not_measured,
                             faults=[f.code for f in r.faults]))
        for lab in labels:
            if len(lab.matched) == 1 and lab.t_setup is not None:  # when the pull started, labelled by eye
                liftoffs.append(dict(clip=clip, rep=lab.rep, label_s=lab.t_setup, found_s=reps[lab.matched[0] - 1].start_s))
            for sc in dl_scored:
                label = lab.faults.get(sc.label, "unclear")
                if sc.code is None and sc.metric is None:
                    items.append(Item(sc.label, src, clip, f"rep {lab.rep}", label, None, False, metric=None))
                    continue
                if not lab.matched:  # the pipeline found no rep here: nothing fired, nothing measured
                    items.append(Item(sc.label, src, clip, f"rep {lab.rep}", label, None, False,
                                      why_missing="no rep found" if err is None else err, metric=sc.metric))
                    continue
                for k in lab.matched:
                    r = reps[k - 1]
                    v = r.metrics.get(sc.metric)
                    why = ((a.withheld.get(sc.metric) or r.not_measured.get(sc.metric, "")).removeprefix("not measured: ")
                           if v is None else "")
                    items.append(Item(sc.label, src, clip, f"rep {lab.rep}" if len(lab.matched) == 1 else f"rep {k}",
                                      label, v, any(f.code == sc.code for f in r.faults), r.start_s, why, sc.metric))
    run_src = _sources(os.path.join(vids, "running"))
    for lab in _tsv(os.path.join(labs, "running_clips.tsv")):
        clip = lab["clip"]
        path = os.path.join(vids, "running", clip)
        if not os.path.exists(path):
            log(f"  missing {path}")
            continue
        log(f"  {clip}")
        src = run_src.get(clip, "?")
        try:
            a = analyze_track(cached_track(path, cache), "running")
            err = None
        except FormcheckError as e:
            a, err = None, str(e)
        summ = a.summary if a else {}
        steps = a.reps if a else []
        codes = {f.code: f for f in (a.faults if a else [])}
        over_share = (sum(any(f.code == "overstride" for f in r.faults) for r in steps) / len(steps)) if steps else 0.0
        fired = {"overstride": over_share >= 0.5 and bool(steps),
                 "overarching_lower_back": "overarching_lower_back" in codes,
                 "excessive_lean": any(f.code == "excessive_lean" and f.value > 0 for f in (a.faults if a else []))}
        labels = {"overstride": yes_no(lab["overstride"]), "visible_lower_back_arch": yes_no(lab["visible_lower_back_arch"]),
                  "trunk_lean": lean_label(lab["trunk_lean"])}
        for sc in run_scored:
            items.append(Item(sc.label, src, clip, "clip", labels[sc.label], summ.get(sc.metric), fired[sc.code],
                              metric=sc.metric))
        for r in steps:
            rows.append(dict(clip=clip, unit=f"step {r.index}", t=r.start_s, metrics=r.metrics, not_measured=r.not_measured))
        clips.append(dict(clip=clip, source=src, exercise="running", error=err, steps=len(steps),
                          overstride_share=round(over_share, 2),
                          view=None if a is None else dict(ok=a.view.ok, ratio=a.view.width_ratio, facing=a.view.facing),
                          view_label=lab["view"], playback=lab["playback"],
                          cadence_hand=hand_cadence(lab["steps_per_min_by_hand"]), cadence_found=summ.get("cadence_spm")))
    return dict(items=items, clips=clips, rows=rows, liftoffs=liftoffs)


UNLABELLED_RULES = ("hitch",)


def score_real(data: dict) -> dict:
    """Counts, margins and leave-one-source-out per fault from collect_real's output."""
    from formcheck.scoring import (auc, confusion, either_rule, implausible, loso, margins, per_clip, reference_threshold,
                                   timing_errors, within_lifter_sd)
    from formcheck.thresholds import DEADLIFT, PLAUSIBLE, RUNNING
    table = {**DEADLIFT, **RUNNING}
    dl_scored, run_scored = _scored()
    items = data["items"]
    faults: dict = {}
    candidates: list[dict] = []
    for sc in dl_scored + run_scored:
        its = [i for i in items if i.fault == sc.label and i.metric == sc.metric]
        key = sc.code or sc.label
        unclear = [f"{i.clip} {i.unit}" for i in its if i.label not in ("yes", "no")]
        if sc.code is None and sc.metric is not None:  # a number no rule reads yet: how it would do
            candidates.append(dict(label=sc.label, metric=sc.metric, note=sc.note, auc=auc(its, sc.direction),
                                   loso=loso(its, sc.direction), loso_reference=loso(its, sc.direction, chooser=reference_threshold),
                                   unmeasured=sum(i.value is None for i in its if i.label in ("yes", "no")),
                                   scored=sum(i.label in ("yes", "no") for i in its)))
            continue
        if sc.code is None:
            n_yes = sum(i.label == "yes" for i in its)
            faults[key] = dict(label=sc.label, rule=None, note=sc.note, labelled_yes=n_yes,
                               labelled_no=sum(i.label == "no" for i in its), unclear=unclear)
            continue
        thr = table[sc.rule].threshold
        rep_level = all(i.unit != "clip" for i in its)
        scalar = dict(metric=sc.metric, direction=sc.direction, threshold=thr, auc=auc(its, sc.direction),
                      margins=margins(its, thr, sc.direction), loso=loso(its, sc.direction), note=sc.note,
                      # the normal-range rule: uses only the 'no' clips of the training sources
                      loso_reference=loso(its, sc.direction,
                                          chooser=reference_threshold))
        if rep_level:
            clip_items = per_clip(its, sc.direction)
            scalar["loso_clip"] = loso(clip_items, sc.direction)
        if key in faults:  # a second scalar of the same rule (hips_shoot_up)
            faults[key]["scalars"].append(scalar)
            continue
        c = confusion(its)
        lkey = "loso_reference" if sc.method == "reference" else "loso"
        entry = dict(label=sc.label, rule=sc.rule, threshold=thr, **{k: c[k] for k in ("tp", "fp", "tn", "fn")},
                     sensitivity=c["sensitivity"], specificity=c["specificity"],
                     not_measured_yes=c["not_measured_yes"], not_measured_no=c["not_measured_no"],
                     loso_method=sc.method,
                     loso_sensitivity=scalar[lkey]["sensitivity"], loso_specificity=scalar[lkey]["specificity"],
                     unclear=unclear, scalars=[scalar],
                     missed=[f"{i.clip} {i.unit}" + (f" (not measured: {i.why_missing})" if i.value is None else f" ({i.value:.2f})")
                             for i in its if i.label == "yes" and not i.fired],
                     false_alarms=[f"{i.clip} {i.unit} ({i.value:.2f})" if i.value is not None else f"{i.clip} {i.unit}"
                                   for i in its if i.label == "no" and i.fired])
        if rep_level:
            cc = confusion(per_clip(its, sc.direction))
            entry["clip_counts"] = {k: cc[k] for k in ("tp", "fp", "tn", "fn", "sensitivity", "specificity")}
        faults[key] = entry
    # The hips_shoot_up label is answered by two rules (one movement, one fault): either firing counts.
    faults_either = either_rule(items, "hips_shoot_up", ("early_trunk_change_deg", "back_rise_at_knee_lock"))
    faults_either["codes"] = ("hips_shoot_up", "legs_first")
    gated = [dict(clip=r["clip"], unit=r["unit"], t=r["t"], metric=k, why=v)
             for r in data["rows"] for k, v in (r.get("not_measured") or {}).items()]
    fired = {code: [f"{r['clip']} {r['unit']}" for r in data["rows"] if code in r.get("faults", ())] for code in UNLABELLED_RULES}
    return dict(faults=faults, candidates=candidates, implausible=implausible(data["rows"], PLAUSIBLE), gated=gated, clips=data["clips"],
                unlabelled_fired=fired, hips_either=faults_either, trunk_spread=within_lifter_sd(data["rows"], "liftoff_trunk_deg"),
                liftoff_timing=timing_errors(data.get("liftoffs", [])))


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def print_real(res: dict) -> None:
    from formcheck.thresholds import DEADLIFT
    F = res["faults"]
    print("\nPer fault at the shipped thresholds (per rep for deadlift, per clip for running); "
          "'unclear'/'n/a' labels excluded.\nLOSO: leave-one-source-out, the threshold chosen on the other sources "
          "and scored on the one left out (pooled over sources).")
    normal = [c for c, f in F.items() if f.get("loso_method") == "reference"]
    print("The LOSO columns use the method the shipped threshold follows: the normal range of flat backs for "
          f"{' and '.join(normal)}, the best split (Youden) for the rest.")
    print(f"{'fault':22s} {'thr':>6s} {'TP':>3s} {'FP':>3s} {'TN':>3s} {'FN':>3s} {'sens':>5s} {'spec':>5s} "
          f"{'clip TP/FP/TN/FN':>16s} {'LOSO sens':>9s} {'LOSO spec':>9s} {'unmeasured y/n':>14s}")
    for code, f in F.items():
        if f.get("rule") is None:
            print(f"{code:22s} {'none':>6s}  no rule: {f['labelled_yes']} yes / {f['labelled_no']} no labelled ({f['note']})")
            continue
        cc = f.get("clip_counts")
        cstr = f"{cc['tp']}/{cc['fp']}/{cc['tn']}/{cc['fn']}" if cc else "-"
        print(f"{code:22s} {f['threshold']:6.2f} {f['tp']:3d} {f['fp']:3d} {f['tn']:3d} {f['fn']:3d} "
              f"{_fmt(f['sensitivity']):>5s} {_fmt(f['specificity']):>5s} {cstr:>16s} "
              f"{_fmt(f['loso_sensitivity']):>9s} {_fmt(f['loso_specificity']):>9s} "
              f"{f['not_measured_yes']:>7d}/{f['not_measured_no']:<6d}")

    def side(d):
        return "-" if d is None else f"{d['distance']:.2f} ({d['label']}: {d['clip'][:30]} {d['unit']} = {d['value']:.2f})"

    def short(xs, n=10):
        return "; ".join(xs[:n]) + (f" ... ({len(xs)} in all)" if len(xs) > n else "")
    print("\nPer threshold: margin to the nearest labelled value on each side, and LOSO in detail.")
    for code, f in F.items():
        print(f"\n{code}")
        if f.get("rule") is None:
            print(f"  no rule: {f['labelled_yes']} yes / {f['labelled_no']} no labelled")
        for sc in f.get("scalars", []):
            m, lo = sc["margins"], sc["loso"]
            print(f"  [{sc['metric']} {sc['direction']} {sc['threshold']:g}] {sc['note']} (AUC {_fmt(sc['auc'])})")
            print(f"    margin below {side(m['below'])}; above {side(m['above'])}")
            folds = ", ".join(f"{fd['source'].split('/')[0]} {_fmt(fd['threshold'])}" for fd in lo["folds"])
            print(f"    LOSO per {'rep' if 'loso_clip' in sc else 'clip'}: sens {_fmt(lo['sensitivity'])} spec {_fmt(lo['specificity'])} "
                  f"(TP {lo['tp']} FP {lo['fp']} TN {lo['tn']} FN {lo['fn']}; {lo['unscored']} unscored); "
                  f"best threshold on all sources {_fmt(lo['all_sources_threshold'])}")
            print(f"    thresholds chosen with each source left out: {folds}")
            if "loso_clip" in sc:
                lc = sc["loso_clip"]
                print(f"    LOSO per clip: sens {_fmt(lc['sensitivity'])} spec {_fmt(lc['specificity'])} "
                      f"(TP {lc['tp']} FP {lc['fp']} TN {lc['tn']} FN {lc['fn']}; {lc['unscored']} unscored)")
            lr = sc["loso_reference"]
            print(f"    normal-range rule (mean + 1.96 SD of the training sources' 'no' clips), LOSO: "
                  f"sens {_fmt(lr['sensitivity'])} spec {_fmt(lr['specificity'])} (TP {lr['tp']} FP {lr['fp']} TN {lr['tn']} FN {lr['fn']}); "
                  f"on all sources {_fmt(lr['all_sources_threshold'])}, per fold {_fmt(lr['threshold_range'] and lr['threshold_range'][0])}"
                  f"..{_fmt(lr['threshold_range'] and lr['threshold_range'][1])}")
        if f.get("missed"):
            print(f"  missed: {short(f['missed'])}")
        if f.get("false_alarms"):
            print(f"  false alarms: {short(f['false_alarms'])}")
        if f.get("unclear"):
            print(f"  unclear (excluded): {short(f['unclear'], 6)}")
    if res.get("candidates"):
        print("\nNumbers no rule reads yet, against a label: AUC (the chance a 'yes' rep reads past a 'no' one), "
              "and LOSO with the best split and with the normal range of the 'no' clips.")
    for c in res.get("candidates", []):
        lo, lr = c["loso"], c["loso_reference"]
        print(f"  {c['metric']} vs {c['label']} ({c['note']}; {c['scored'] - c['unmeasured']} of {c['scored']} reps measured): "
              f"AUC {_fmt(c['auc'])}; LOSO best split sens {_fmt(lo['sensitivity'])} spec {_fmt(lo['specificity'])} "
              f"(on all sources {_fmt(lo['all_sources_threshold'])}); normal range sens {_fmt(lr['sensitivity'])} "
              f"spec {_fmt(lr['specificity'])} (on all sources {_fmt(lr['all_sources_threshold'])})")
    e = res.get("hips_either")
    if e:
        print(f"\nhips_shoot_up label, either rule ({' or '.join(e['codes'])}) firing: TP {e['tp']} FP {e['fp']} TN {e['tn']} FN {e['fn']}, "
              f"sens {_fmt(e['sensitivity'])} spec {_fmt(e['specificity'])}")
        if e["missed"]:
            print(f"  missed: {short(e['missed'])}")
        if e["false_alarms"]:
            print(f"  false alarms: {short(e['false_alarms'])}")
    ts = res.get("trunk_spread")
    if ts and ts["sd"] is not None:
        print(f"\nLift-off trunk angle, rep-to-rep SD within a lifter (pooled, {ts['clips']} clips, {ts['reps']} reps, no labels used): "
              f"{ts['sd']:.2f} deg -> hips_too_high line 90 - 1.96 x SD = {90 - 1.96 * ts['sd']:.1f} deg (shipped: "
              f"{DEADLIFT['hips_too_high'].threshold:g})")
    lt = res.get("liftoff_timing")
    if lt and lt["n"]:
        print(f"\nLift-off against the labels' set-up times (by eye, ~0.3 s): {lt['n']} reps, median error {lt['median_abs_s']:.2f} s, "
              f"{lt['within']} within {lt['tolerance_s']:g} s; furthest: "
              + "; ".join(f"{w['clip'][:30]} rep {w['rep']} {w['error_s']:+.2f} s" for w in lt["worst"]))
    # Rules no label column scores: where they fired, so a false alarm is seen (the labels' notes
    # describe a hitch on both pulls of bichraix_10 and on no other clip).
    print("\nRules without a label column, where they fired:")
    for code, hits in res["unlabelled_fired"].items():
        print(f"  {code}: {len(hits)} rep(s){': ' + '; '.join(hits) if hits else ''}")
    print("\nImplausible values reported (outside the anatomical range in thresholds.PLAUSIBLE):")
    for x in res["implausible"] or []:
        print(f"  {x['clip']} {x['unit']} t={_fmt(x['t'])} s: {x['metric']} = {x['value']} (range {x['range'][0]}..{x['range'][1]})")
    if not res["implausible"]:
        print("  none")
    print(f"\nWithheld by the plausibility gate (reported as 'not measured' with the reason): {len(res['gated'])}")
    for g in res["gated"]:
        print(f"  {g['clip']} {g['unit']} t={_fmt(g['t'])} s: {g['metric']}: {g['why'].split(' (')[0]}")
    print("\nClips: reps or steps found, view decision, cadence vs hand count")
    for c in res["clips"]:
        v = c["view"]
        vs = "error" if v is None else f"{'ok' if v['ok'] else 'refused'} {_fmt(v['ratio'])}"
        if c["exercise"] == "deadlift":
            extra = f"reps {c['reps_found']} (labelled rows {c['reps_labelled']}{', unmatched ' + ','.join(c['unmatched']) if c['unmatched'] else ''})"
        else:
            cad = c["cadence_found"]
            hand = c["cadence_hand"]
            err = f" ({100 * (cad - hand) / hand:+.1f}%)" if cad is not None and hand else ""
            extra = f"steps {c['steps']}, cadence {_fmt(cad, 1)} vs hand {_fmt(hand, 1)}{err}, playback {c['playback'][:24]}"
        print(f"  {c['clip'][:40]:40s} {vs:14s} [{c['view_label'][:22]}] {extra}{' ERROR ' + c['error'] if c['error'] else ''}")


def real(shared: str, cache: str, json_out: str | None = None) -> dict:
    import json
    import warnings
    warnings.simplefilter("ignore")
    print("Scoring the labelled clips (pose tracks cached by content hash in " + cache + ")")
    res = score_real(collect_real(shared, cache, log=lambda s: None))
    print_real(res)
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(res, fh, indent=2, default=float)
        print(f"\nwrote {json_out}")
    return res


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
    from formcheck.video import probe
    for p in paths:
        info = probe(p)
        out = subprocess.run([sys.executable, "-c", code, p], capture_output=True, text=True)
        if out.returncode:
            print(f"{os.path.basename(p)[:40]:40s} failed: {out.stderr.strip().splitlines()[-1] if out.stderr else '?'}")
            continue
        n, secs, mb, helper = out.stdout.split()[-4:]
        print(f"{os.path.basename(p)[:40]:40s} {info.width:>4d}x{info.height:<4d} {info.duration_s:7.0f}s {n:>6s} {secs:>8s} {mb:>8s} {helper:>9s}")


def sample_tracks() -> None:
    """The bundled samples' pose tracks, shipped so the app's first screen needs no pose pass."""
    import glob
    from formcheck.extract import extract_pose
    from formcheck.uploads import shipped_track
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_videos")
    for p in sorted(glob.glob(os.path.join(root, "*.mp4"))):
        tr = extract_pose(p)
        tr.video.path = os.path.basename(p)  # no path of this machine in a shipped file
        tr.save(shipped_track(p))
        print(f"{os.path.basename(shipped_track(p))}: {len(tr)} frames, {os.path.getsize(shipped_track(p)) / 1e3:.0f} KB")


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
    ac.add_argument("--grid", choices=["plain", "gym"], default="plain",
                    help="plain: the original grid; gym: plates, clutter, loose shirts, compression, lumbar vs thoracic")
    sub.add_parser("sample-tracks", help="rewrite the bundled samples' pose tracks (sample_videos/*.track.npz)")
    at = sub.add_parser("apptime", help="upload to verdict and to playable video in Chromium, laptop and phone")
    at.add_argument("clips", nargs="+")
    at.add_argument("--shots", default="bench_out/screens")
    am = sub.add_parser("appmem", help="app server memory with two large uploads at once (Chromium)")
    am.add_argument("--mb", type=int, default=300)
    am.add_argument("--app", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "formcheck", "serve.py"),
                    help="formcheck/serve.py (uploads streamed to disk) or formcheck/app.py (Streamlit's uploader)")
    jp = sub.add_parser("joints", help="joint-centre correction: held-out-body accuracy; --fit rewrites the shipped model")
    jp.add_argument("--dir", default=".bench_cache", help="where the synthetic clips are rendered/cached")
    jp.add_argument("--cache", default=".bench_cache/tracks", help="pose tracks by content hash")
    jp.add_argument("--fit", action="store_true", help="refit on every body and rewrite formcheck/models/joint_centres.onnx")
    jp.add_argument("--json", default=None)
    bp = sub.add_parser("backshape", help="lumbar/thoracic flexion model: held-out-body accuracy; --fit rewrites the shipped model")
    bp.add_argument("--dir", default=".bench_cache", help="where the synthetic clips are rendered/cached")
    bp.add_argument("--cache", default=".bench_cache/tracks", help="pose tracks by content hash")
    bp.add_argument("--fit", action="store_true", help="refit on every body and rewrite formcheck/models/back_shape.onnx")
    bp.add_argument("--json", default=None)
    bp.add_argument("--fixtures", action="store_true", help="also rewrite the test fixtures (tests/data/back_*)")
    arp = sub.add_parser("arch", help="running arch proxy against imposed lumbar extension (renders missing runs)")
    arp.add_argument("--dir", default=".bench_cache", help="where the synthetic clips are rendered/cached")
    arp.add_argument("--cache", default=".bench_cache/tracks", help="pose tracks by content hash")
    arp.add_argument("--json", default=None)
    arp.add_argument("--fixtures", action="store_true", help="also rewrite the test fixtures (tests/data/arch_*)")
    rl = sub.add_parser("real", help="score every labelled real clip (../shared/data/labels)")
    rl.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared"))
    rl.add_argument("--cache", default=".bench_cache/tracks", help="pose tracks by content hash")
    rl.add_argument("--json", default=None, help="also write the results as JSON here")
    args = ap.parse_args()
    if args.cmd == "speed":
        speed(args.clips, [int(h) for h in args.heights.split(",")], args.seconds or None, args.bare_frames, args.dir)
    elif args.cmd == "memory":
        memory(args.clips)
    elif args.cmd == "loop":
        loop_clip(args.clip, args.seconds, args.out)
    elif args.cmd == "sample-tracks":
        sample_tracks()
    elif args.cmd == "apptime":
        from .appmem import timing
        timing([os.path.abspath(c) for c in args.clips], args.shots)
    elif args.cmd == "appmem":
        from .appmem import run as appmem
        appmem(args.mb, os.path.abspath(args.app))
    elif args.cmd == "joints":
        from .joints import run as joints
        joints(args.dir, args.cache, args.fit, args.json)
    elif args.cmd == "backshape":
        from .backshape import ISSUE_LINE, run as backshape
        res = backshape(args.dir, args.cache, args.fit, args.json, ISSUE_LINE)
        if args.fixtures:
            from .backshape import write_fixtures
            write_fixtures(args.dir, args.cache, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data"))
    elif args.cmd == "arch":
        from .arch import run as arch, write_fixtures
        arch(args.dir, args.cache, args.json)
        if args.fixtures:
            write_fixtures(args.dir, args.cache, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data"))
    elif args.cmd == "real":
        real(os.path.normpath(args.shared), args.cache, args.json)
    elif args.cmd == "accuracy":
        import warnings
        warnings.simplefilter("ignore", RuntimeWarning)
        if args.grid == "gym":  # its clips live in their own folder under --dir
            accuracy_gym(os.path.join(args.dir, "gym"), args.json)
        else:
            accuracy(args.dir, args.quick, args.json)


if __name__ == "__main__":
    main()
