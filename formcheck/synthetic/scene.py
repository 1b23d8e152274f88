"""CPU rendering of the posed body with pyrender over EGL (Mesa llvmpipe; no GPU needed)."""
from __future__ import annotations

import math
import os

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

SKIN = (0.86, 0.68, 0.55)
HAIR = (0.25, 0.17, 0.10)
SHOES = (0.92, 0.92, 0.92)


def vertex_colours(rest_vertices: np.ndarray, shirt=(0.15, 0.35, 0.75), shorts=(0.12, 0.12, 0.14)) -> np.ndarray:
    """Clothing painted by rest-pose height and width (A-pose): shirt on the torso and upper arms,
    shorts over the hips and thighs, shoes on the feet, hair on the top of the head."""
    z = rest_vertices[:, 2]
    x = np.abs(rest_vertices[:, 0])
    zmin, zmax = z.min(), z.max()
    hgt = (z - zmin) / (zmax - zmin)
    c = np.tile(np.array(SKIN), (len(z), 1))
    torso = (hgt > 0.50) & (hgt < 0.83) & (x < 0.30)
    c[torso] = shirt
    c[(hgt > 0.36) & (hgt <= 0.53) & (x < 0.25)] = shorts
    c[hgt < 0.05] = SHOES
    c[(hgt > 0.94)] = HAIR
    return np.clip(c, 0, 1)


class Camera:
    """Perspective camera on the body's left (+X), optical axis horizontal at `height`,
    rotated `yaw` degrees about the vertical off the pure side view."""

    def __init__(self, width: int, height_px: int, distance: float, height: float, yfov_deg: float, yaw_deg: float = 0.0,
                 target=(0.0, 0.0)):
        self.w, self.h = width, height_px
        self.yfov = math.radians(yfov_deg)
        a = math.radians(yaw_deg)
        # camera position: from +X, swung about Z by yaw (toward the front, -Y, for + yaw)
        self.C = np.array([target[0] + distance * math.cos(a), target[1] - distance * math.sin(a), height])
        z_cam = (self.C - np.array([target[0], target[1], height]))
        z_cam /= np.linalg.norm(z_cam)
        y_cam = np.array([0.0, 0.0, 1.0])
        x_cam = np.cross(y_cam, z_cam)
        self.R = np.stack([x_cam, y_cam, z_cam], axis=1)
        self.pose = np.eye(4)
        self.pose[:3, :3], self.pose[:3, 3] = self.R, self.C
        self.f = (self.h / 2) / math.tan(self.yfov / 2)

    def project(self, P: np.ndarray) -> np.ndarray:
        pc = (np.atleast_2d(P) - self.C) @ self.R
        x = self.f * pc[:, 0] / -pc[:, 2] + self.w / 2
        y = -self.f * pc[:, 1] / -pc[:, 2] + self.h / 2
        return np.stack([x, y], axis=1)


class Renderer:
    def __init__(self, cam: Camera, faces: np.ndarray, colours: np.ndarray, background=(0.88, 0.87, 0.84)):
        import pyrender
        import trimesh
        self.pr, self.tm = pyrender, trimesh
        self.cam, self.faces, self.colours = cam, faces, colours
        self.r = pyrender.OffscreenRenderer(cam.w, cam.h)
        self.scene = pyrender.Scene(bg_color=list(background) + [1.0], ambient_light=[0.35, 0.35, 0.35])
        self.scene.add(pyrender.PerspectiveCamera(yfov=cam.yfov, aspectRatio=cam.w / cam.h), pose=cam.pose)
        key = pyrender.DirectionalLight(color=[1.0, 0.95, 0.88], intensity=3.0)
        kp = np.eye(4)
        kp[:3, :3] = _look(np.array([1.0, -0.6, 1.2]))
        self.scene.add(key, pose=kp)
        fill = pyrender.DirectionalLight(color=[0.8, 0.85, 1.0], intensity=1.2)
        fp = np.eye(4)
        fp[:3, :3] = _look(np.array([0.8, 1.0, 0.4]))
        self.scene.add(fill, pose=fp)
        floor = trimesh.creation.box(extents=[8, 8, 0.02])
        floor.apply_translation([0, 0, -0.01])
        floor.visual.vertex_colors = [150, 150, 150, 255]
        self.scene.add(pyrender.Mesh.from_trimesh(floor, smooth=False))
        wall = trimesh.creation.box(extents=[0.02, 10, 5])
        wall.apply_translation([-2.5, 0, 2.5])
        wall.visual.vertex_colors = [int(255 * c) for c in background] + [255]
        self.scene.add(pyrender.Mesh.from_trimesh(wall, smooth=False))
        self.body = None

    def render(self, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RGB frame and the pixel-exact body silhouette (a depth pass of the body alone)."""
        pr, tm = self.pr, self.tm
        mesh = tm.Trimesh(vertices=vertices, faces=self.faces, vertex_colors=(self.colours * 255).astype(np.uint8), process=False)
        if self.body is not None:
            self.scene.remove_node(self.body)
        self.body = self.scene.add(pr.Mesh.from_trimesh(mesh, smooth=True))
        color, _ = self.r.render(self.scene)
        alone = pr.Scene(ambient_light=[1, 1, 1])
        alone.add(pr.PerspectiveCamera(yfov=self.cam.yfov, aspectRatio=self.cam.w / self.cam.h), pose=self.cam.pose)
        alone.add(pr.Mesh.from_trimesh(mesh, smooth=False))
        depth = self.r.render(alone, flags=pr.RenderFlags.DEPTH_ONLY)
        return np.ascontiguousarray(color[..., :3]), depth > 0

    def close(self):
        self.r.delete()


def _look(direction_to_light: np.ndarray) -> np.ndarray:
    """Rotation whose -Z axis points from the light toward the origin."""
    z = direction_to_light / np.linalg.norm(direction_to_light)
    up = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.95 else np.array([0.0, 1.0, 0.0])
    x = np.cross(up, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)
