"""Posing the Anny body (anny 0.6.2, default rig, local-ref deltas) in the sagittal plane.

World frame: +Z up, -Y the body's front, +X its left. Deltas about X compose by adding along a
chain (checked: root +30 deg then thigh -30 deg restores the thigh), and R_x(+a) tips an upward
segment forward and swings a downward one back. So every sagittal segment can be aimed at a
world angle analytically. Ground truth is read from bone heads, never from bone rotations (the
procrustes-refined rotations differ from the applied deltas; synthetic-humans-spike.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SPINE = ("spine05", "spine04", "spine03", "spine02", "spine01")
SPINE_W = (0.15, 0.25, 0.25, 0.20, 0.15)  # flexion shared out over the lumbar/thoracic bones (spike)
# Separate lower- and upper-back flexion: spine05..03 carry the lumbar part, spine02..01 the
# thoracic part (MakeHuman's default rig runs spine05 at the sacrum to spine01 below the neck).
LUMBAR_W = (0.30, 0.35, 0.35, 0.0, 0.0)
THORACIC_W = (0.0, 0.0, 0.0, 0.5, 0.5)
ARM_DOWN = 40.0  # R_y at upperarm01 that takes the A-pose arm to hanging


def rot(axis: str, deg: float):
    import torch
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    T = torch.eye(4)
    if axis == "x":
        T[1, 1], T[1, 2], T[2, 1], T[2, 2] = c, -s, s, c
    elif axis == "y":
        T[0, 0], T[0, 2], T[2, 0], T[2, 2] = c, s, -s, c
    return T


@dataclass
class Pose:
    """Sagittal targets, degrees. Limb angles are of the proximal->distal vector from straight down,
    + forward; trunk is the hip-joint -> shoulder-joint chord from vertical, + forward."""
    trunk: float = 0.0
    flexion: float = 0.0            # spine flexion spread over spine05..01 (+ rounds the back)
    lumbar: float = 0.0             # extra flexion of the lower back only (spine05..03; - arches)
    thoracic: float = 0.0           # extra flexion of the upper back only (spine02..01)
    thigh_l: float = 0.0
    shank_l: float = 0.0
    thigh_r: float = 0.0
    shank_r: float = 0.0
    arm_l: float = 0.0              # upper arm from straight down, + forward
    arm_r: float = 0.0
    elbow: float = 0.0              # forearm flexion relative to the upper arm (+ bends forward)
    neck: float = 0.0               # head pitch relative to the trunk (+ looks down)
    extras: dict = field(default_factory=dict)


class Rig:
    def __init__(self, phenotype: dict | None = None):
        import anny
        self.model = anny.Anny()
        self.labels = list(self.model.bone_labels)
        self.idx = {b: i for i, b in enumerate(self.labels)}
        self.phenotype = phenotype or {}
        self.faces = self.model.get_triangular_faces().cpu().numpy() if hasattr(self.model, "get_triangular_faces") else None
        rest = self._forward({})
        self.rest_vertices = rest["vertices"]
        h = rest["heads"]
        # rest-pose sagittal angles of each segment (from straight down / up, + forward = -Y)
        self.rest = {}
        for s in ("L", "R"):
            self.rest[f"thigh_{s}"] = self._down_angle(h[f"upperleg01.{s}"], h[f"lowerleg01.{s}"])
            self.rest[f"shank_{s}"] = self._down_angle(h[f"lowerleg01.{s}"], h[f"foot.{s}"])
        self.rest_trunk = self._up_angle(self.hip_mid(h), self.shoulder_mid(h))
        # The rest A-pose bends the elbows; measure it with the arms lowered so "elbow 0" is straight.
        self.elbow0 = {s: 0.0 for s in ("L", "R")}
        low = self._forward({f"upperarm01.{s}": rot("y", sg * ARM_DOWN) for s, sg in (("L", 1.0), ("R", -1.0))})["heads"]
        for s in ("L", "R"):
            ua = self._down_angle(low[f"upperarm01.{s}"], low[f"lowerarm01.{s}"])
            fa = self._down_angle(low[f"lowerarm01.{s}"], low[f"wrist.{s}"])
            self.elbow0[s] = fa - ua

    # -- geometry helpers ---------------------------------------------------------------------
    @staticmethod
    def _down_angle(a, b) -> float:
        d = b - a
        return math.degrees(math.atan2(-d[1], -d[2]))

    @staticmethod
    def _up_angle(a, b) -> float:
        d = b - a
        return math.degrees(math.atan2(-d[1], d[2]))

    @staticmethod
    def hip_mid(h):
        return 0.5 * (h["upperleg01.L"] + h["upperleg01.R"])

    @staticmethod
    def shoulder_mid(h):
        return 0.5 * (h["upperarm01.L"] + h["upperarm01.R"])

    def _forward(self, deltas: dict):
        import torch
        pose = {k: v[None] for k, v in deltas.items()}
        with torch.no_grad():
            out = self.model(pose_parameters=pose or None, phenotype_kwargs=self.phenotype,
                             pose_parameterization="local-ref")
        bp = out["bone_poses"]
        bp = bp[0] if bp.dim() == 4 else bp
        heads = bp[:, :3, 3].cpu().numpy()
        return {"vertices": out["vertices"][0].cpu().numpy(),
                "heads": {b: heads[i] for b, i in self.idx.items()}}

    # -- posing -------------------------------------------------------------------------------
    def deltas(self, p: Pose, root: float) -> dict:
        d = {"root": rot("x", root)}
        spine_total = 0.0
        for b, w, wl, wt in zip(SPINE, SPINE_W, LUMBAR_W, THORACIC_W):
            a = w * p.flexion + wl * p.lumbar + wt * p.thoracic
            d[b] = rot("x", a)
            spine_total += a
        for s, thigh, shank in (("L", p.thigh_l, p.shank_l), ("R", p.thigh_r, p.shank_r)):
            g = root
            dt = self.rest[f"thigh_{s}"] - thigh - g
            d[f"upperleg01.{s}"] = rot("x", dt)
            g += dt
            ds = self.rest[f"shank_{s}"] - shank - g
            d[f"lowerleg01.{s}"] = rot("x", ds)
            g += ds
            d[f"foot.{s}"] = rot("x", -g)  # feet flat: world orientation as at rest
        g_trunk = root + spine_total
        for s, arm, sign in (("L", p.arm_l, 1.0), ("R", p.arm_r, -1.0)):
            d[f"upperarm01.{s}"] = rot("x", -arm - g_trunk) @ rot("y", sign * ARM_DOWN)
            d[f"lowerarm01.{s}"] = rot("x", self.elbow0[s] - p.elbow)
        d["neck01"] = rot("x", p.neck)
        return d

    def pose(self, p: Pose, iters: int = 4):
        """Solve the root so the hip->shoulder chord sits at p.trunk, then pose. Returns
        (vertices (V,3) with feet on z=0, heads dict, root angle)."""
        root = p.trunk - self.rest_trunk
        for _ in range(iters):
            out = self._forward(self.deltas(p, root))
            err = p.trunk - self._up_angle(self.hip_mid(out["heads"]), self.shoulder_mid(out["heads"]))
            root += err
            if abs(err) < 0.05:
                break
        out = self._forward(self.deltas(p, root))
        v = out["vertices"]
        # Feet on the floor and pinned in place (a deadlifter's feet do not slide): the midpoint
        # of the ankles stays at y = 0, the lowest vertex at z = 0.
        dy = -0.5 * float(out["heads"]["foot.L"][1] + out["heads"]["foot.R"][1])
        shift = np.array([0.0, dy, -float(v[:, 2].min())])
        v = v + shift
        heads = {k: x + shift for k, x in out["heads"].items()}
        return v, heads, root

    # -- ground truth -------------------------------------------------------------------------
    def truth(self, heads: dict, p: Pose) -> dict:
        h = heads
        hip, sh = self.hip_mid(h), self.shoulder_mid(h)

        def ang(a, b, c):
            v1, v2 = a - b, c - b
            cos = np.dot(v1[1:], v2[1:]) / (np.linalg.norm(v1[1:]) * np.linalg.norm(v2[1:]))
            return math.degrees(math.acos(max(-1.0, min(1.0, cos))))
        near = "L"  # the camera looks at the body's left side
        return {
            "trunk_deg": self._up_angle(hip, sh),
            "hip_deg": ang(h[f"upperarm01.{near}"], h[f"upperleg01.{near}"], h[f"lowerleg01.{near}"]),
            "knee_deg": ang(h[f"upperleg01.{near}"], h[f"lowerleg01.{near}"], h[f"foot.{near}"]),
            "spine_flexion_deg": p.flexion,
            # lower-back flexion: the lumbar bones' share of the whole-spine flexion plus the lumbar-only part
            "lumbar_flexion_deg": sum(SPINE_W[:3]) * p.flexion + p.lumbar,
            "thoracic_flexion_deg": sum(SPINE_W[3:]) * p.flexion + p.thoracic,
            "thigh_l_deg": self._down_angle(h["upperleg01.L"], h["lowerleg01.L"]),
            "shank_l_deg": self._down_angle(h["lowerleg01.L"], h["foot.L"]),
            "thigh_r_deg": self._down_angle(h["upperleg01.R"], h["lowerleg01.R"]),
            "shank_r_deg": self._down_angle(h["lowerleg01.R"], h["foot.R"]),
        }
