"""CPU rendering of the posed body with pyrender over EGL (Mesa llvmpipe; no GPU needed)."""
from __future__ import annotations

import math
import os

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

SKIN = (0.86, 0.68, 0.55)
HAIR = (0.25, 0.17, 0.10)
SHOES = (0.92, 0.92, 0.92)


def shirt_region(rest_vertices: np.ndarray, loose: bool = False) -> np.ndarray:
    """Torso and upper-arm vertices a shirt covers (by rest-pose height and width); a loose shirt
    hangs further down, over the waistband."""
    z = rest_vertices[:, 2]
    x = np.abs(rest_vertices[:, 0])
    hgt = (z - z.min()) / (z.max() - z.min())
    return (hgt > (0.45 if loose else 0.50)) & (hgt < 0.83) & (x < 0.30)


def neighbour_mean(faces: np.ndarray, n: int):
    """Sparse (n, n) operator: each vertex -> the mean of its mesh neighbours (built once a clip)."""
    from scipy.sparse import coo_matrix
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    e = np.unique(np.sort(np.concatenate([e, e[:, ::-1]]), axis=1), axis=0)
    e = np.concatenate([e, e[:, ::-1]])
    A = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    deg = np.asarray(A.sum(axis=1)).ravel()
    deg[deg == 0] = 1
    return A.multiply(1.0 / deg[:, None]).tocsr()


def loose_shirt(vertices: np.ndarray, faces: np.ndarray, region: np.ndarray, ease: float, avg=None) -> np.ndarray:
    """A loose shirt approximated without cloth simulation: the shirt's vertices pushed `ease`
    metres out along their normals, then the shell smoothed so it bridges the hollow of the lower
    back and the waist instead of following them (cloth hangs across concavities; it does not
    drape with gravity here). avg: neighbour_mean(faces, len(vertices)), to build it once."""
    import trimesh
    m = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    v = vertices.copy()
    v[region] += ease * m.vertex_normals[region]
    avg = avg if avg is not None else neighbour_mean(faces, len(v))
    # Laplacian smoothing restricted to the shirt: each pass pulls a vertex to its neighbours' mean,
    # which fills concave stretches (lordosis) far more than it shrinks convex ones.
    for _ in range(6):
        v[region] = 0.5 * v[region] + 0.5 * (avg @ v)[region]
    return v


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


# A standard barbell: 2.2 m bar, 45 cm bumper plates (IWF), whose inner faces sit 0.66 m
# either side of the bar's centre. The near plate stands between the camera and the lifter's
# legs and hips, as in every side-view deadlift.
BAR_LEN, BAR_R, PLATE_R, PLATE_W, PLATE_X = 2.2, 0.014, 0.225, 0.06, 0.66


def barbell_mesh(trimesh, plate_colour=(0.08, 0.08, 0.09)):
    """Bar along X (through the lifter's left-right axis) with a plate each side, centred at 0."""
    parts = []
    bar = trimesh.creation.cylinder(radius=BAR_R, height=BAR_LEN, sections=24)
    bar.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    bar.visual.vertex_colors = [170, 170, 175, 255]
    parts.append(bar)
    for side in (1, -1):
        plate = trimesh.creation.cylinder(radius=PLATE_R, height=PLATE_W, sections=48)
        plate.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
        plate.apply_translation([side * (PLATE_X + PLATE_W / 2), 0, 0])
        plate.visual.vertex_colors = [int(255 * c) for c in plate_colour] + [255]
        parts.append(plate)
    return trimesh.util.concatenate(parts)


def gym_clutter(trimesh, rng: np.random.Generator) -> list:
    """A power rack, a bench and a dumbbell rack behind the lifter in random greys and colours:
    edges and shapes for the segmentation to confuse with the body."""
    out = []
    def box(ext, pos, col):
        b = trimesh.creation.box(extents=ext)
        b.apply_translation(pos)
        b.visual.vertex_colors = [int(255 * c) for c in col] + [255]
        out.append(b)
    grey = rng.uniform(0.1, 0.5)
    y0 = rng.uniform(-1.2, 0.4)
    for dy in (0.0, 1.2):
        for dx in (0.0, 1.0):
            box([0.07, 0.07, 2.3], [-1.0 - dx, y0 + dy, 1.15], (grey, grey, grey + 0.03))
    box([1.1, 1.3, 0.07], [-1.5, y0 + 0.6, 2.25], (grey, grey, grey))
    box([0.5, 1.2, 0.45], [-1.6, y0 + 2.2, 0.22], tuple(rng.uniform(0.05, 0.6, 3)))
    for k in range(6):
        box([0.25, 0.25, 0.25], [-2.2, -2.0 + 0.35 * k, 0.9], tuple(rng.uniform(0.05, 0.7, 3)))
    return out


class Renderer:
    def __init__(self, cam: Camera, faces: np.ndarray, colours: np.ndarray, background=(0.88, 0.87, 0.84),
                 barbell: bool = False, clutter_seed: int | None = None, light: float = 1.0):
        import pyrender
        import trimesh
        self.pr, self.tm = pyrender, trimesh
        self.cam, self.faces, self.colours = cam, faces, colours
        self.r = pyrender.OffscreenRenderer(cam.w, cam.h)
        self.scene = pyrender.Scene(bg_color=list(background) + [1.0], ambient_light=[0.35, 0.35, 0.35])
        self.scene.add(pyrender.PerspectiveCamera(yfov=cam.yfov, aspectRatio=cam.w / cam.h), pose=cam.pose)
        key = pyrender.DirectionalLight(color=[1.0, 0.95, 0.88], intensity=3.0 * light)
        kp = np.eye(4)
        kp[:3, :3] = _look(np.array([1.0, -0.6, 1.2]))
        self.scene.add(key, pose=kp)
        fill = pyrender.DirectionalLight(color=[0.8, 0.85, 1.0], intensity=1.2 * light)
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
        if clutter_seed is not None:
            for m in gym_clutter(trimesh, np.random.default_rng(clutter_seed)):
                self.scene.add(pyrender.Mesh.from_trimesh(m, smooth=False))
        self.bar = self.scene.add(pyrender.Mesh.from_trimesh(barbell_mesh(trimesh), smooth=False)) if barbell else None
        self.body = None

    def render(self, vertices: np.ndarray, bar_at: np.ndarray | None = None,
               mask: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """RGB frame and, with mask, the pixel-exact body silhouette (a depth pass of the body
        alone: it doubles the frame's cost under llvmpipe, where reading the framebuffer back is
        most of the time, so only the silhouette control asks for it).
        bar_at: (3,) centre of the barbell (between the hands), when the scene has one."""
        pr, tm = self.pr, self.tm
        if self.bar is not None and bar_at is not None:
            pose = np.eye(4)
            pose[:3, 3] = [0.0, bar_at[1], max(float(bar_at[2]), PLATE_R)]  # plates cannot sink into the floor
            self.scene.set_pose(self.bar, pose)
        mesh = tm.Trimesh(vertices=vertices, faces=self.faces, vertex_colors=(self.colours * 255).astype(np.uint8), process=False)
        if self.body is not None:
            self.scene.remove_node(self.body)
        self.body = self.scene.add(pr.Mesh.from_trimesh(mesh, smooth=True))
        color, _ = self.r.render(self.scene)
        if not mask:
            return np.ascontiguousarray(color[..., :3]), None
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
