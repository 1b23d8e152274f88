"""The joint-centre correction (formcheck/joints.py): how it is learned, how it is scored, and the
script that rebuilds the shipped ONNX model.

    python -m formcheck.bench joints            held-out-body accuracy, printed (no file written)
    python -m formcheck.bench joints --fit      also refit on every body and rewrite the model

Data: every rendered synthetic clip with ground truth under --dir (the plain grid and the gym
grid, rendered by `accuracy` and `accuracy --grid gym`, and the extra renders in joints/, listed in
JOINT_CLIPS and rendered here when missing), its MediaPipe track (cached by content hash) conditioned as the
analysers condition it, and the rig's joint centres per frame, placed in the body's sagittal
plane (sagittal_targets). Targets are the offsets (joint centre - landmark) in torso lengths
along the person's forward and downward directions.
Clips with the barbell (gym deadlifts) are scored but never trained on: behind the plates the
landmarks are not near any joint (see README), and a correction must not learn that.

Scoring is leave-one-body-out: for each body, the correction is fitted on the other bodies'
clips and the angles are scored on this body's clips, so no figure comes from a training render.
"""
from __future__ import annotations

import glob
import json
import os

import numpy as np

from formcheck.joints import PER_KIND, RATE_COLS, SIN_COLS

from .bench import GYM_CRF, GYM_LUMBAR, render_all

BODY_ORDER = ("base", "slim", "heavy", "tall", "short", "lanky", "stocky", "older", "athletic")
RIDGE = 1e-3          # tiny: 13 features, thousands of frames; only keeps the solve well-posed
TRAIN_STEP = 2        # every 2nd frame: neighbours are nearly the same pose


# The extra renders in joints/ (the plain grid and the gym grid are `accuracy`'s and
# `accuracy --grid gym`'s): bodies, set-ups, lean-backs and cameras the two grids lack. Rendered
# here when missing, so the shipped model can be rebuilt from nothing but this repository.
_GYM = (f" --gym --crf {GYM_CRF} --flexion {','.join('0' for _ in GYM_LUMBAR)}"
        f" --lumbar {','.join(map(str, GYM_LUMBAR))}")
JOINT_CLIPS = {
    "dl_base_highhip_yawm10": ("deadlift", "--body base --yaw -10 --flexion 0,20 --setup 75,45,-8"),
    "dl_base_leanback": ("deadlift", "--body base --flexion 0,0 --lean-back 15 --setup 70,48,-10"),
    "dl_base_yawm20": ("deadlift", "--body base --yaw -20 --flexion 0,10,20,30,40"),
    "dl_heavy_leanback": ("deadlift", "--body heavy --flexion 0,0,0 --lean-back 20"),
    "dl_heavy_yawm15": ("deadlift", "--body heavy --yaw -15 --flexion 0,15,30 --setup 55,62,-18"),
    "dl_short_leanback": ("deadlift", "--body short --flexion 0,10,0 --lean-back 12 --arch-top 10"),
    "dl_short_squat_yaw10": ("deadlift", "--body short --yaw 10 --flexion 0,10,20 --setup 50,70,-22"),
    "dl_short_yaw10": ("deadlift", "--body short --yaw 10 --flexion 0,10,20,30,40"),
    "dl_short_yawm10": ("deadlift", "--body short --yaw -10 --flexion 0,20 --setup 66,50,-12"),
    "dl_slim_leanback_yaw10": ("deadlift", "--body slim --yaw 10 --flexion 0,0 --lean-back 25"),
    "dl_slim_squat": ("deadlift", "--body slim --flexion 0,10,20 --setup 45,75,-25"),
    "dl_slim_yawm20": ("deadlift", "--body slim --yaw -20 --flexion 0,20,40"),
    "dl_tall_highhip": ("deadlift", "--body tall --flexion 0,10,20 --setup 78,42,-6"),
    "dl_tall_leanback": ("deadlift", "--body tall --flexion 0,0 --lean-back 20 --setup 50,68,-20"),
    "dl_tall_yaw0": ("deadlift", "--body tall --flexion 0,10,20,30,40"),
    "dl_tall_yawm15": ("deadlift", "--body tall --yaw -15 --flexion 0,15,30 --setup 55,60,-16"),
    "dl_short_yaw0_gym": ("deadlift", "--body short --loose 0.03 --seed 4" + _GYM),
    "dl_tall_yaw15_gym": ("deadlift", "--body tall --yaw 15 --seed 3" + _GYM),
    "run_base_yaw10": ("running", "--body base --yaw 10 --cadence 175 --overstride 0.4 --lean 6"),
    "run_base_yawm15": ("running", "--body base --yaw -15 --cadence 178 --lean 6"),
    "run_heavy_170": ("running", "--body heavy --cadence 170 --overstride 0.5 --seconds 5"),
    "run_heavy_lean12": ("running", "--body heavy --cadence 175 --lean 12"),
    "run_heavy_yaw15": ("running", "--body heavy --yaw 15 --cadence 172 --lean 7"),
    "run_heavy_yawm15": ("running", "--body heavy --yaw -15 --cadence 165 --lean 9"),
    "run_short_170": ("running", "--body short --cadence 170 --overstride 0.5 --seconds 5"),
    "run_short_yaw20": ("running", "--body short --yaw 20 --cadence 175 --lean 7"),
    "run_short_yawm15": ("running", "--body short --yaw -15 --cadence 180 --overstride 0.8 --lean 6"),
    "run_slim_170": ("running", "--body slim --cadence 170 --overstride 0.5 --seconds 5"),
    "run_slim_yaw15": ("running", "--body slim --yaw 15 --cadence 165 --lean 9"),
    "run_slim_yawm10": ("running", "--body slim --yaw -10 --cadence 170 --lean 8"),
    "run_tall_170": ("running", "--body tall --cadence 170 --overstride 0.5 --seconds 5"),
    "run_tall_yaw15": ("running", "--body tall --yaw 15 --cadence 168 --lean 10"),
    "run_tall_yawm20": ("running", "--body tall --yaw -20 --cadence 170 --lean 8"),
    # the four later bodies: a side-on and an oblique run and deadlift each
    "run_lanky_170": ("running", "--body lanky --cadence 168 --lean 7 --overstride 0.4"),
    "run_stocky_170": ("running", "--body stocky --cadence 176 --lean 9"),
    "run_older_170": ("running", "--body older --cadence 164 --lean 10"),
    "run_athletic_170": ("running", "--body athletic --cadence 180 --lean 6 --overstride 0.3"),
    "run_lanky_yawm15": ("running", "--body lanky --yaw -15 --cadence 172 --lean 8"),
    "run_stocky_yaw15": ("running", "--body stocky --yaw 15 --cadence 170 --lean 7"),
    "run_older_yaw10": ("running", "--body older --yaw 10 --cadence 166 --lean 9"),
    "run_athletic_yawm20": ("running", "--body athletic --yaw -20 --cadence 178 --lean 6"),
    "dl_lanky_yaw0": ("deadlift", "--body lanky --flexion 0,15,30 --setup 68,50,-10"),
    "dl_stocky_yaw0": ("deadlift", "--body stocky --flexion 0,15,30 --setup 55,62,-18"),
    "dl_older_yaw0": ("deadlift", "--body older --flexion 0,15,30 --lean-back 10"),
    "dl_athletic_yaw0": ("deadlift", "--body athletic --flexion 0,15,30 --setup 50,68,-20"),
    "dl_lanky_yaw15": ("deadlift", "--body lanky --yaw 15 --flexion 0,20"),
    "dl_stocky_yawm10": ("deadlift", "--body stocky --yaw -10 --flexion 0,20 --setup 72,46,-8"),
    "dl_older_yawm20": ("deadlift", "--body older --yaw -20 --flexion 0,20"),
    "dl_athletic_yaw20": ("deadlift", "--body athletic --yaw 20 --flexion 0,20 --setup 62,55,-14"),
    # other frame rates: MediaPipe's lag follows the motion per frame, so 24 and 60 fps clips test
    # (held out, they read as well as the 30 fps ones) and widen the speeds the fit covers
    "run_base_24fps": ("running", "--body base --fps 24 --cadence 185 --lean 7"),
    "run_heavy_24fps_yaw10": ("running", "--body heavy --fps 24 --yaw 10 --cadence 180 --lean 8"),
    "run_lanky_24fps": ("running", "--body lanky --fps 24 --cadence 190 --overstride 0.3 --lean 6"),
    "run_athletic_60fps": ("running", "--body athletic --fps 60 --cadence 180 --lean 7"),
    "dl_base_24fps": ("deadlift", "--body base --fps 24 --flexion 0,20"),
    "dl_stocky_60fps": ("deadlift", "--body stocky --fps 60 --flexion 0,20 --setup 60,58,-15"),
}


def render_missing(folder: str) -> None:
    """Render what the bench reads and lacks: the JOINT_CLIPS under folder/joints, the plain grid
    under folder/plain and the gym grid under folder/gym, as `accuracy` and `accuracy --grid gym`
    render them (needs .venv-render; ~0.24 s a frame a core, about an hour for all on 2 cores). The
    gym grid's barbell clips are scored, never fitted; its two runs are fitted like any run (without
    them the running rows move by ~0.1 deg)."""
    from .bench import plain_clips, render_gym
    sets, runs = plain_clips(os.path.join(folder, "plain"))  # as `accuracy --dir <folder>/plain` renders them
    render_all([(kind, os.path.join(folder, "joints", name + ".mp4"), args.split())
                for name, (kind, args) in JOINT_CLIPS.items()] + sets + runs)
    render_gym(os.path.join(folder, "gym"))


def clips(folder: str) -> list[tuple[str, dict]]:
    out = []
    for sub in ("plain", "gym", "joints"):
        for c in sorted(glob.glob(os.path.join(folder, sub, "*.mp4"))):
            g = c[:-4] + ".gt.json"
            if os.path.exists(g):
                out.append((c, json.load(open(g))))
    return out


def load(path: str, gt: dict, cache: str) -> dict:
    from formcheck import deadlift, running
    from formcheck.joints import JOINTS, features, unproject
    from formcheck.signals import condition
    from .bench import cached_track
    track = cached_track(path, cache)
    dl = gt["kind"] == "deadlift"  # as the analysers condition it: the deadlift's plate gate on
    c = condition(track, deadlift.CUTOFF_HZ if dl else running.CUTOFF_HZ, plates=dl)
    n = min(len(track), len(gt["frames"]))
    J = {k: v[:n] for k, v in c.joints.items()}
    f = c.facing_sign
    yaw = c.yaw_deg
    P = {k: np.array([fr["points"][k] for fr in gt["frames"][:n]], float) for k in JOINTS}
    P.update(hip_mid=J["hip_mid"])  # the stretch's origin, shared by landmarks and truth
    P = unproject(P, yaw)
    Ju = unproject(J, yaw)
    P = sagittal_targets(P, gt["frames"][:n], f)
    # the rig films its left side and its truth names those joints: the analysis must agree
    if c.side != "left":
        raise SystemExit(f"{path}: the analysis took the {c.side} side as the camera side; the rig films its left")
    Y = np.concatenate([np.stack([(P[k][:, 0] - Ju[k][:, 0]) * f, P[k][:, 1] - Ju[k][:, 1]], axis=1) / c.torso_len
                        for k in JOINTS], axis=1)
    truth = {k: np.array([fr[k] for fr in gt["frames"][:n]], float) for k in ("hip_deg", "knee_deg", "trunk_deg")}
    return dict(clip=os.path.basename(path), kind=gt["kind"], body=gt["body"], yaw=gt["yaw_deg"],
                barbell=bool(gt.get("gym")) and gt["kind"] == "deadlift", side=c.side, J=J, facing=f,
                yaw_est=yaw, torso=c.torso_len, X=features(Ju, f, gt["kind"], yaw_deg=yaw), Y=Y, truth=truth)


def sagittal_targets(P: dict[str, np.ndarray], frames: list[dict], facing: float) -> dict[str, np.ndarray]:
    """Where the joints sit in the body's sagittal plane, drawn from the projected hip centre with
    the rig's own sagittal trunk, thigh and shank inclinations and the projected segment lengths.
    The projected centres themselves are not the target: off side-on, a joint beside the mid-plane
    (a hip, a knee pushed out over the toes) shows shifted across the picture, and angles read
    between them were 2-5 deg off at 10-20 deg of yaw even with the true joints. The angle is the
    sagittal one, so the correction learns to put the joints there (their lateral shift is what
    the sin(yaw) feature carries)."""
    a, th, sh = (np.radians([fr[k] for fr in frames]) for k in ("trunk_deg", "thigh_l_deg", "shank_l_deg"))

    def length(u: str, v: str) -> np.ndarray:
        return np.linalg.norm(P[u] - P[v], axis=1)[:, None]

    def along(angle: np.ndarray, down: float) -> np.ndarray:  # unit vector at angle from vertical
        return np.stack([facing * np.sin(angle), down * np.cos(angle)], axis=1)
    S = dict(P)
    S["shoulder"] = P["hip"] + length("shoulder", "hip") * along(a, -1.0)
    S["knee"] = P["hip"] + length("knee", "hip") * along(th, 1.0)
    S["ankle"] = S["knee"] + length("ankle", "knee") * along(sh, 1.0)
    return S


def fit(data: list[dict]) -> np.ndarray:
    """Ridge least squares, (28, 8). Rows with any NaN are dropped."""
    X = np.concatenate([d["X"][::TRAIN_STEP] for d in data])
    Y = np.concatenate([d["Y"][::TRAIN_STEP] for d in data])
    ok = np.all(np.isfinite(X), axis=1) & np.all(np.isfinite(Y), axis=1)
    X, Y = X[ok], Y[ok]
    pen = np.ones(X.shape[1])
    pen[::PER_KIND] = 0.0  # intercepts unpenalised
    A = X.T @ X + RIDGE * len(X) * np.diag(pen)
    return np.linalg.solve(A, X.T @ Y)


def angles(J: dict, facing: float, kind: str) -> dict[str, np.ndarray]:
    from formcheck.joints import trunk_line
    from formcheck.signals import incline_from_vertical, joint_angle
    return {"hip_deg": joint_angle(J["shoulder"], J["hip"], J["knee"]),
            "knee_deg": joint_angle(J["hip"], J["knee"], J["ankle"]),
            "trunk_deg": incline_from_vertical(*trunk_line(J, kind), facing)}


def errors(d: dict, weights: np.ndarray | None, trained=None) -> dict[str, np.ndarray]:
    """Angle minus truth per frame: from raw landmarks (weights None, the old way: no stretch,
    the landmark midpoints' trunk) or from joint centres with these weights."""
    from formcheck.joints import joint_centres
    from formcheck.signals import incline_from_vertical
    if weights is None:
        a = angles(d["J"], d["facing"], d["kind"])
        a["trunk_deg"] = incline_from_vertical(d["J"]["hip_mid"], d["J"]["shoulder_mid"], d["facing"])
    else:
        a = angles(joint_centres(d["J"], d["facing"], d["torso"], d["kind"], d["yaw_est"], weights, trained),
                   d["facing"], d["kind"])
    return {k: (a[k] - d["truth"][k]) for k in a}


def trained_range(data: list[dict], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """0.2nd-99.8th percentile of trunk, thigh and shank inclination and of their change per frame
    (degrees) over the training frames."""
    k = PER_KIND * ("deadlift", "running").index(kind)
    X = np.concatenate([d["X"] for d in data if d["kind"] == kind])
    a = np.stack([np.degrees(np.arctan2(X[:, k + i], X[:, k + i + 1])) for i in SIN_COLS]
                 + [X[:, k + i] for i in RATE_COLS], axis=1)
    a = a[np.all(np.isfinite(a), axis=1)]
    return np.percentile(a, 0.2, axis=0), np.percentile(a, 99.8, axis=0)


def write_onnx(W: np.ndarray, path: str, ranges: dict) -> None:
    """X (N, 28) float32 -> offsets (N, 8): one MatMul. Built with the onnx package (dev only)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(W.astype(np.float32), name="W")
    node = helper.make_node("MatMul", ["features", "W"], ["offsets"])
    graph = helper.make_graph([node], "joint_centres",
                              [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, W.shape[0]])],
                              [helper.make_tensor_value_info("offsets", TensorProto.FLOAT, [None, W.shape[1]])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="formcheck_bench.joints")
    model.ir_version = 8  # readable by any onnxruntime from 1.10 on
    model.doc_string = ("Landmark -> joint-centre offsets (torso lengths, forward/down, shoulder hip knee ankle) "
                        "from [1, sin/cos trunk, thigh, shank inclination, sin yaw, their change per frame, sin yaw x sin of each]; "
                        "fitted on synthetic renders to the joints' sagittal-plane positions.")
    for kind, (lo, hi) in ranges.items():
        p = model.metadata_props.add()
        p.key, p.value = f"range_{kind}", ",".join(f"{x:.2f}" for x in list(lo) + list(hi))
    onnx.checker.check_model(model)
    tmp = path + ".part"
    onnx.save(model, tmp)
    os.replace(tmp, path)


def run(folder: str, cache: str, refit: bool = False, json_out: str | None = None) -> dict:
    import warnings
    warnings.simplefilter("ignore", RuntimeWarning)
    from formcheck.joints import MODEL_PATH
    render_missing(folder)
    data = [load(p, g, cache) for p, g in clips(folder)]
    train_ok = [d for d in data if not d["barbell"]]
    bodies = [b for b in BODY_ORDER if any(d["body"] == b for d in data)]
    res: dict = {"clips": len(data), "bodies": bodies}
    pooled: dict = {}
    frames: dict = {}  # frames per group: the share measured is what the plate gate and tracking leave
    frames["deadlift all"] = 0
    per_body: dict = {}  # (kind, body, label) -> hip errors: a pooled tail can be one body's
    for b in bodies:
        train = [d for d in train_ok if d["body"] != b]
        W = fit(train)
        ranges = {k: trained_range(train, k) for k in ("deadlift", "running")}
        for d in data:
            if d["body"] != b:
                continue
            group = ("deadlift + barbell" if d["barbell"] else d["kind"] + (" oblique" if d["yaw"] != 0 else " side-on"))
            frames[group] = frames.get(group, 0) + len(d["truth"]["hip_deg"])
            for label, w in (("landmarks", None), ("joint centres", W)):
                for k, e in errors(d, w, ranges[d["kind"]]).items():
                    pooled.setdefault((group, k, label), []).append(e[np.isfinite(e)])
                    if k == "hip_deg" and not d["barbell"]:
                        per_body.setdefault((d["kind"], b, label), []).append(e[np.isfinite(e)])
    print(f"joint-centre correction, leave-one-body-out ({', '.join(bodies)}; {len(data)} clips; "
          f"fitted without the held-out body, no barbell clips in any fit)")
    frames["deadlift all"] = frames.get("deadlift side-on", 0) + frames.get("deadlift oblique", 0)
    print(f"{'clips':22s} {'angle':10s} {'landmarks |err| med / p95':>27s} {'joint centres |err| med / p95':>31s}"
          "  measured (of frames)")
    table = []
    frames["running all"] = frames.get("running side-on", 0) + frames.get("running oblique", 0)
    for group in ("deadlift side-on", "deadlift oblique", "deadlift all", "running side-on", "running oblique", "running all",
                  "deadlift + barbell"):
        for k in ("hip_deg", "knee_deg", "trunk_deg"):
            row = {"clips": group, "angle": k}
            for label in ("landmarks", "joint centres"):
                kind = group.split()[0]
                e = (pooled.get((kind + " side-on", k, label), []) + pooled.get((kind + " oblique", k, label), [])
                     if group.endswith(" all") else pooled.get((group, k, label)))
                if not e:
                    continue
                e = np.abs(np.concatenate(e))
                row[label] = (round(float(np.median(e)), 2), round(float(np.percentile(e, 95)), 2), int(len(e)))
            if "landmarks" in row:
                table.append(row)
                lm, jc = row["landmarks"], row.get("joint centres", (None, None, 0))
                row["measured"] = round(jc[2] / max(1, frames[group]), 3)
                print(f"{group:22s} {k:10s} {lm[0]:>13} / {lm[1]:<11} {jc[0]:>15} / {jc[1]:<13} "
                      f"{row['measured']:.0%} of {frames[group]}")
    res["table"] = table
    print("hip |err| median / p95 per held-out body, joint centres (landmarks), no barbell:")
    res["hip_per_body"] = {}
    for kind in ("deadlift", "running"):
        cells = []
        for b in bodies:
            jc, lm = (per_body.get((kind, b, lab)) for lab in ("joint centres", "landmarks"))
            if jc:
                jc, lm = np.abs(np.concatenate(jc)), np.abs(np.concatenate(lm))
                v = [round(float(np.median(jc)), 1), round(float(np.percentile(jc, 95)), 1),
                     round(float(np.median(lm)), 1), round(float(np.percentile(lm, 95)), 1)]
                res["hip_per_body"][f"{kind} {b}"] = v
                cells.append(f"{b} {v[0]}/{v[1]} ({v[2]}/{v[3]})")
        print(f"  {kind}: " + ", ".join(cells))
    W = fit(train_ok)
    res["weights_all_bodies"] = W.round(4).tolist()
    if refit:
        os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
        ranges = {k: trained_range(train_ok, k) for k in ("deadlift", "running")}
        write_onnx(W, MODEL_PATH, ranges)
        for k, (lo, hi) in ranges.items():
            print(f"{k}: fitted on trunk {lo[0]:.0f}..{hi[0]:.0f}, thigh {lo[1]:.0f}..{hi[1]:.0f}, shank {lo[2]:.0f}..{hi[2]:.0f} deg, "
                  f"changing {lo[3]:.1f}..{hi[3]:.1f}, {lo[4]:.1f}..{hi[4]:.1f}, {lo[5]:.1f}..{hi[5]:.1f} deg a frame "
                  "(outside: clipped, never extrapolated)")
        print(f"wrote {MODEL_PATH} (fitted on {len(train_ok)} clips, {len(bodies)} bodies)")
    from formcheck.joints import JOINTS, KINDS, features
    for kind in KINDS:  # the offsets standing upright (all inclinations 0), to read them as anatomy
        x = np.zeros((1, PER_KIND * len(KINDS)))
        x[0, PER_KIND * KINDS.index(kind) + np.array([0] + [i + 1 for i in SIN_COLS])] = 1.0  # 1 and each cos
        o = (x @ W).reshape(-1, 2)
        print(f"{kind} offsets standing (joint centre - landmark, torso lengths, forward / down): " +
              ", ".join(f"{j} {a:+.3f} / {b:+.3f}" for j, (a, b) in zip(JOINTS, o)))
    res["yaw_estimates"] = {d["clip"]: (d["yaw"], round(d["yaw_est"], 1)) for d in data}
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(res, fh, indent=2)
    return res
