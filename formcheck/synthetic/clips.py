"""Synthetic clips with known kinematics: a deadlift set and a run, rendered side-on, with
per-frame ground truth written beside each clip.

    .venv-render/bin/python -m formcheck.synthetic.clips deadlift out.mp4 --flexion 0,15,30,45
    .venv-render/bin/python -m formcheck.synthetic.clips running out.mp4 --overstride 1
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from ..contour import bend_angle, chord_profile
from .rig import Pose, Rig
from .scene import Camera, Renderer, loose_shirt, neighbour_mean, shirt_region, vertex_colours

BODIES = {  # anny phenotype presets
    "base": {},
    "slim": {"gender": 0.1, "weight": 0.3},
    "heavy": {"gender": 1.0, "weight": 0.9},
    # two more shapes so a correction learned on bodies can be tested on bodies it never saw
    "tall": {"gender": 0.8, "height": 0.95, "muscle": 0.8, "weight": 0.5},
    "short": {"gender": 0.3, "height": 0.1, "weight": 0.65, "age": 0.7},
    # four more for the joint-centre fit, spanning what the five leave out: a lanky low-weight
    # build, a short muscular one, an older one and a light athletic one, two with uncommon proportions
    "lanky": {"gender": 0.6, "height": 0.85, "weight": 0.25, "muscle": 0.3, "proportions": 0.2},
    "stocky": {"gender": 0.9, "height": 0.3, "weight": 0.75, "muscle": 0.95, "proportions": 0.8},
    "older": {"gender": 0.55, "age": 0.95, "weight": 0.6, "height": 0.5},
    "athletic": {"gender": 0.0, "height": 0.65, "weight": 0.4, "muscle": 0.75},
}


def _ease(u: float) -> float:
    return 0.5 * (1 - math.cos(math.pi * min(max(u, 0.0), 1.0)))


def deadlift_poses(flexion: list[float], fps: float, hips_up: float = 0.0, lean_back: float = 0.0,
                   stand_s: float = 0.8, down_s: float = 0.9, pull_s: float = 0.9, hold_s: float = 0.7,
                   thoracic: list[float] | None = None, arch_top: float = 0.0, lumbar: list[float] | None = None,
                   setup: tuple[float, float, float] = (62.0, 55.0, -14.0)):
    """Per-frame Pose and event labels for a dead-stop set, one rep per entry of `flexion`
    (whole-spine flexion at the floor); thoracic: extra upper-back-only flexion per rep; arch_top:
    lower-back extension (deg) held at each lockout, the arched finish some lifters show; setup:
    trunk, thigh and shank angles at the floor (a squat-style start has a low thigh, a stiff-legged
    one a high trunk)."""
    thoracic = thoracic or [0.0] * len(flexion)
    lumbar = lumbar or [0.0] * len(flexion)
    setup = dict(trunk=setup[0], thigh=setup[1], shank=setup[2])
    frames, events = [], []

    def add(p, tag=None):
        if tag:
            events.append({"frame": len(frames), "event": tag})
        frames.append(p)

    for _ in range(int(stand_s * fps)):
        add(Pose())
    for r, F in enumerate(flexion):
        Th, Lu = thoracic[r], lumbar[r]
        n_down, n_pull, n_hold = int(down_s * fps), int(pull_s * fps), int(hold_s * fps)
        for i in range(n_down):
            p = 1 - _ease(i / n_down)  # 1 standing -> 0 at the floor
            add(Pose(trunk=setup["trunk"] * (1 - p), flexion=F * (1 - p), thoracic=Th * (1 - p), lumbar=Lu * (1 - p), thigh_l=setup["thigh"] * (1 - p),
                     thigh_r=setup["thigh"] * (1 - p), shank_l=setup["shank"] * (1 - p), shank_r=setup["shank"] * (1 - p),
                     neck=20 * (1 - p)))
        for i in range(n_pull):
            q = i / n_pull
            pt = _ease(q)
            pl = min(1.0, pt + hips_up * math.sin(math.pi * min(q * 1.5, 1.0)))
            trunk = setup["trunk"] * (1 - pt) + hips_up * 12 * math.sin(math.pi * min(q * 2, 1.0))
            add(Pose(trunk=trunk, flexion=F * (1 - pt), thoracic=Th * (1 - pt), lumbar=Lu * (1 - pt), thigh_l=setup["thigh"] * (1 - pl), thigh_r=setup["thigh"] * (1 - pl),
                     shank_l=setup["shank"] * (1 - pl), shank_r=setup["shank"] * (1 - pl), neck=20 * (1 - pt)),
                "liftoff" if i == 0 else None)
        for i in range(n_hold):
            lb = lean_back * math.sin(math.pi / 2 * min(i / max(n_hold // 3, 1), 1.0))
            arch = arch_top * math.sin(math.pi / 2 * min(i / max(n_hold // 3, 1), 1.0))
            add(Pose(trunk=-lb, lumbar=-arch), "lockout" if i == 0 else None)
    for _ in range(int(stand_s * fps)):
        add(Pose())
    return frames, events


def running_poses(seconds: float, fps: float, cadence: float = 170.0, overstride: float = 0.0, lean: float = 6.0,
                  lumbar_ext: float = 0.0, stand_s: float = 0.0):
    """A treadmill-style run: legs half a cycle apart, arms opposite. overstride (0-1) reaches the
    foot further ahead at strike with a straighter knee; lumbar_ext arches the lower back (deg)
    beyond the runner's neutral, which the stand_s seconds of quiet standing before the run show
    (feet together, arms down, spine neutral: what a runner filmed before setting off looks like)."""
    stride_f = cadence / 120.0
    frames, events = [], []
    stand = int(stand_s * fps)
    frames += [Pose() for _ in range(stand)]
    if stand:
        events.append({"frame": stand, "event": "run_start"})
    n = int(seconds * fps)
    for j in range(n):
        i = stand + j
        t = j / fps
        pose = Pose(trunk=lean, lumbar=-lumbar_ext, elbow=85.0, neck=-lean)
        for leg, off in (("l", 0.0), ("r", 0.5)):
            ph = (stride_f * t + off) % 1.0  # 0 = foot strike
            thigh = (25 + 8 * overstride) * math.cos(2 * math.pi * ph) + 3
            if ph < 0.38:  # stance: load then extend
                knee = (18 - 10 * overstride) + 22 * math.sin(math.pi * ph / 0.38)
            else:          # swing
                knee = 10 + 95 * math.sin(math.pi * (ph - 0.38) / 0.62)
            setattr(pose, f"thigh_{leg}", thigh)
            setattr(pose, f"shank_{leg}", thigh - knee)
            prev = (stride_f * (t - 1 / fps) + off) % 1.0
            if j > 0 and ph < prev:
                events.append({"frame": i, "event": f"strike_{leg}"})
        swing = 25 * math.cos(2 * math.pi * (stride_f * t))
        pose.arm_l, pose.arm_r = -swing, swing
        frames.append(pose)
    return frames, events


def render_clip(kind: str, out: str, body: str = "base", yaw: float = 0.0, fps: float = 30.0, size=(960, 540),
                shirt=(0.15, 0.35, 0.75), background=(0.88, 0.87, 0.84), gym: bool = False, loose: float = 0.0,
                light: float = 1.0, crf: int = 20, seed: int = 0, mask_control: bool = False, **kw) -> dict:
    """gym: a barbell with 45 cm plates in the lifter's hands (deadlift) and a rack, bench and
    dumbbells behind; loose: shirt ease in metres (0 = painted-on); light: key/fill scale;
    crf: H.264 quality of the written clip (phone uploads are often 26-30); mask_control: also
    render the body alone each frame and record the back-outline bend of its exact silhouette
    (true_mask_back_bend_deg), which doubles the render time."""
    from ..video import H264Writer
    t0 = time.time()
    rig = Rig(BODIES[body])
    poses, events = deadlift_poses(fps=fps, **kw) if kind == "deadlift" else running_poses(fps=fps, **kw)
    W, H = size
    v0, heads0, _ = rig.pose(Pose())
    stature = float(v0[:, 2].max())
    yfov = 2 * math.degrees(math.atan((stature / 0.75) / 2 / 3.5))  # standing body fills 75% of the height
    cam = Camera(W, H, distance=3.5, height=stature * 0.5, yfov_deg=yfov, yaw_deg=yaw)
    ren = Renderer(cam, rig.faces, vertex_colours(rig.rest_vertices, shirt=shirt), background=background,
                   barbell=gym and kind == "deadlift", clutter_seed=seed if gym else None, light=light)
    if loose:  # colour the longer shirt too
        region = shirt_region(rig.rest_vertices, loose=True)
        ren.colours = ren.colours.copy()
        ren.colours[region] = shirt
        avg = neighbour_mean(rig.faces, len(rig.rest_vertices))
    # The bar rests on the floor until the first pull: the lifter stands over it and bends down to
    # it, so the near plate covers the shins there, not the hips, as in a real clip's first seconds
    # (the quiet standing the back-shape reference is read from). From the first lift-off on, it is
    # in the hands.
    first_pull = next((e["frame"] for e in events if e["event"] == "liftoff"), None) if kind == "deadlift" else None
    floor_bar = None
    if gym and first_pull is not None:
        _, h1, _ = rig.pose(poses[first_pull])
        floor_bar = 0.5 * (h1["wrist.L"] + h1["wrist.R"])
    gt_frames = []
    with H264Writer(out, W, H, fps, crf=crf) as w:
        for i, p in enumerate(poses):
            v, heads, _ = rig.pose(p)
            if loose:
                v = loose_shirt(v, rig.faces, region, loose, avg)
            on_floor = floor_bar is not None and i < first_pull
            rgb, mask = ren.render(v, bar_at=floor_bar if on_floor else 0.5 * (heads["wrist.L"] + heads["wrist.R"]),
                                   mask=mask_control)
            w.write(rgb, i / fps)
            g = rig.truth(heads, p)
            pts = {name: cam.project(heads[b])[0].round(2).tolist() for name, b in (
                ("shoulder", "upperarm01.L"), ("hip", "upperleg01.L"), ("knee", "lowerleg01.L"), ("ankle", "foot.L"),
                ("wrist", "wrist.L"), ("head", "head"))}
            if mask is not None:  # control: the back-outline bend on the true silhouette with the true joints
                hip2 = cam.project(rig.hip_mid(heads))[0]
                sh2 = cam.project(rig.shoulder_mid(heads))[0]
                prof = chord_profile(mask.astype(np.float32), hip2, sh2)
                g["true_mask_back_bend_deg"] = bend_angle(prof[0])  # +n is the back: the body faces image-left
            g.update(t=round(i / fps, 4), points=pts)
            gt_frames.append({k: (round(x, 3) if isinstance(x, float) else x) for k, x in g.items()})
    ren.close()
    gt = {"kind": kind, "body": body, "phenotype": BODIES[body], "yaw_deg": yaw, "fps": fps, "size": [W, H],
          "shirt": list(shirt), "background": list(background), "gym": gym, "loose_m": loose, "light": light,
          "crf": crf, "seed": seed, "bar_on_floor_until_frame": first_pull if floor_bar is not None else None,
          "params": {k: v for k, v in kw.items()}, "events": events, "frames": gt_frames,
          "render_seconds": round(time.time() - t0, 1),
          "note": "Ground truth from the rig's bone heads (3D sagittal angles) and their projections; "
                  "spine_flexion_deg is the flexion imposed over spine05..01 relative to the rest posture."}
    with open(out[:-4] + ".gt.json", "w") as fh:
        json.dump(gt, fh)
    return gt


def main() -> None:
    ap = argparse.ArgumentParser(prog="formcheck.synthetic.clips")
    ap.add_argument("kind", choices=["deadlift", "running"])
    ap.add_argument("out")
    ap.add_argument("--body", default="base", choices=list(BODIES))
    ap.add_argument("--yaw", type=float, default=0.0, help="camera degrees off side-on")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--size", default=None, help="WxH")
    ap.add_argument("--flexion", default="0,0,0", help="deadlift: spine flexion per rep, degrees")
    ap.add_argument("--hips-up", type=float, default=0.0)
    ap.add_argument("--lean-back", type=float, default=0.0)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--cadence", type=float, default=170.0)
    ap.add_argument("--overstride", type=float, default=0.0)
    ap.add_argument("--lumbar-ext", type=float, default=0.0)
    ap.add_argument("--shirt", default="0.15,0.35,0.75", help="shirt colour, R,G,B in 0-1")
    ap.add_argument("--background", default="0.88,0.87,0.84", help="wall colour behind the person, R,G,B in 0-1")
    ap.add_argument("--thoracic", default=None, help="deadlift: extra upper-back flexion per rep, degrees")
    ap.add_argument("--lumbar", default=None, help="deadlift: extra lower-back-only flexion per rep, degrees")
    ap.add_argument("--arch-top", type=float, default=0.0, help="deadlift: lower-back extension held at lockout, degrees")
    ap.add_argument("--gym", action="store_true", help="barbell with 45 cm plates, rack and bench behind")
    ap.add_argument("--loose", type=float, default=0.0, help="loose shirt ease, metres (e.g. 0.03)")
    ap.add_argument("--light", type=float, default=1.0, help="lighting level (1 = studio)")
    ap.add_argument("--crf", type=int, default=20, help="H.264 quality of the clip (higher = more compression)")
    ap.add_argument("--seed", type=int, default=0, help="gym layout and colours")
    ap.add_argument("--setup", default="62,55,-14", help="deadlift: trunk,thigh,shank degrees at the floor")
    ap.add_argument("--lean", type=float, default=6.0, help="running: trunk lean, degrees")
    ap.add_argument("--mask-control", action="store_true",
                    help="also record the exact silhouette's back bend per frame (twice the render time)")
    ap.add_argument("--stand", type=float, default=0.0, help="running: seconds of quiet standing before the run")
    a = ap.parse_args()
    shirt = tuple(float(x) for x in a.shirt.split(","))
    bg = tuple(float(x) for x in a.background.split(","))
    if a.kind == "deadlift":
        size = tuple(int(x) for x in (a.size or "960x540").split("x"))
        flex = [float(x) for x in a.flexion.split(",")]
        gt = render_clip("deadlift", a.out, a.body, a.yaw, a.fps, size, shirt, bg, a.gym, a.loose, a.light, a.crf, a.seed,
                         mask_control=a.mask_control, flexion=flex, hips_up=a.hips_up, lean_back=a.lean_back, arch_top=a.arch_top,
                         thoracic=[float(x) for x in a.thoracic.split(",")] if a.thoracic else None,
                         lumbar=[float(x) for x in a.lumbar.split(",")] if a.lumbar else None,
                         setup=tuple(float(x) for x in a.setup.split(",")))
    else:
        size = tuple(int(x) for x in (a.size or "540x960").split("x"))
        gt = render_clip("running", a.out, a.body, a.yaw, a.fps, size, shirt, bg, a.gym, a.loose, a.light, a.crf, a.seed,
                         mask_control=a.mask_control, seconds=a.seconds, cadence=a.cadence,
                         overstride=a.overstride, lumbar_ext=a.lumbar_ext, lean=a.lean, stand_s=a.stand)
    print(f"{a.out}: {len(gt['frames'])} frames in {gt['render_seconds']} s")


if __name__ == "__main__":
    main()
