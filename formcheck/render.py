"""Drawing the analysis onto frames: skeleton, back outline, live readouts, rep counter, faults."""
from __future__ import annotations

import math

import cv2
import numpy as np

from . import plates
from .contour import back_points
from .exercise import get as get_exercise
from .types import L_HIP, PROFILE_T, SIDE_JOINTS, Analysis, PoseTrack, trunk_ends

GREEN, AMBER, RED, WHITE, GREY = (60, 200, 90), (255, 180, 0), (235, 50, 50), (255, 255, 255), (150, 150, 150)
CYAN = (0, 200, 230)

_BONES = [("shoulder", "elbow"), ("elbow", "wrist"), ("shoulder", "hip"), ("hip", "knee"), ("knee", "ankle"),
          ("ankle", "heel"), ("heel", "toe"), ("ankle", "toe")]

MAX_BANNERS = 3  # the most recent faults; a run can have one every step
FOOTNOTE = "* estimate from the silhouette outline, not spine bones"


def _pt(p: np.ndarray) -> tuple[int, int] | None:
    x, y = float(p[0]), float(p[1])  # plain floats: this runs ~100 times a frame
    return (int(round(x)), int(round(y))) if math.isfinite(x) and math.isfinite(y) else None


def _text_sprite(text: str, color, scale: float, th: int):
    """Outlined anti-aliased text as (dx, dy, keep, add), uint8: drawing it is roi*keep/255 + add.

    putText with anti-aliasing at 1080p cost ~0.5 ms a call, twelve calls a frame; the labels
    repeat from frame to frame, so each is rasterised once and blended after that."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, h), base = cv2.getTextSize(text, font, scale, th + 2)
    pad = th + 2
    org = (pad, pad + h)
    outline = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
    fill = np.zeros_like(outline)
    cv2.putText(outline, text, org, font, scale, 255, th + 2, cv2.LINE_AA)
    cv2.putText(fill, text, org, font, scale, 255, th, cv2.LINE_AA)
    # black outline first, then the coloured fill over it: roi*(1-a1)*(1-a2) + colour*a2
    keep = cv2.multiply(255 - outline, 255 - fill, scale=1 / 255)
    add = cv2.multiply(cv2.merge([fill] * 3), tuple(c / 255 for c in color) + (0,))
    return -org[0], -org[1], cv2.merge([keep] * 3), add


def _blend(img: np.ndarray, sprite, org) -> None:
    dx, dy, keep, add = sprite
    x0, y0 = org[0] + dx, org[1] + dy
    h, w = keep.shape[:2]
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + w, img.shape[1]), min(y0 + h, img.shape[0])
    if ix1 <= ix0 or iy1 <= iy0:
        return
    sl = np.s_[iy0 - y0: iy1 - y0, ix0 - x0: ix1 - x0]
    roi = img[iy0:iy1, ix0:ix1]
    roi[:] = cv2.add(cv2.multiply(roi, keep[sl], scale=1 / 255), add[sl])


class Overlay:
    """Stateless per-frame drawer built once from the analysis."""

    def __init__(self, track: PoseTrack, analysis: Analysis, width: int, height: int,
                 rounding_threshold: float | None = None, only_rep: int | None = None):
        """only_rep: draw as that rep's own panel (a side-by-side): its number throughout and only
        its faults, never another rep's or the set's."""
        self.track, self.a = track, analysis
        self.scale = max(height, width) / 900.0
        self.side = analysis.view.side if analysis.view.side in SIDE_JOINTS else "left"
        self.dorsal = -1.0 if analysis.view.facing == "right" else 1.0
        self.dorsal_idx = 1 if self.dorsal < 0 else 0
        self.spec = get_exercise(analysis.exercise)
        self.round_thr = rounding_threshold if rounding_threshold is not None else self.spec.back_rule.threshold
        # Amber from halfway to the line (a flat back reads ~0); a line at the edge of neutral
        # backs' range (the running arch: neutral builds read 27.6 +/- 5.5) turns amber one SD above neutral.
        bp = self.spec.back_rule.params
        self.amber_from = (bp["neutral_mean"] + bp["noise_sd"] if "neutral_mean" in bp
                           else 0.5 * self.round_thr if self.round_thr is not None else None)
        self._sprites: dict = {}
        # the bar's plate per frame (the deadlift's series; NaN where none or another exercise) and
        # the joints it hid, worked out once
        nan = np.full(len(track), np.nan)
        self.plate = np.stack([np.asarray(analysis.series.get(f"plate_{k}", nan), float) for k in "xyr"], axis=1)
        self.hidden = plates.hidden(track.xy, self.plate)
        self.outline_on_plate = plates.outline_on_plate(track.profile[:, self.dorsal_idx], track.xy, self.plate, self.dorsal)
        spans = []
        for rep in analysis.reps:
            if only_rep is not None and rep.index != only_rep:
                continue
            for f in rep.faults:
                spans.append((f.start_s, max(f.end_s, f.start_s + 1.5), f"{self.spec.unit.title()} {rep.index}: {f.code.replace('_', ' ')}", f.severity))
        for f in analysis.faults if only_rep is None else []:
            spans.append((f.end_s - 2.0, f.end_s + 2.0, f"Set: {f.code.replace('_', ' ')}", f.severity))
        # What the panel shows at each frame, worked out once: per-frame loops over every rep
        # and fault made a 10-minute run (1,650 steps) draw at 3 ms a frame.
        t = track.t
        self.rep_shown = np.searchsorted(np.sort([r.end_s for r in analysis.reps]), t, side="left")
        for rep in reversed(analysis.reps):  # the first rep containing t wins, as listed
            a, b = np.searchsorted(t, rep.start_s, "left"), np.searchsorted(t, rep.end_s, "right")
            self.rep_shown[a:b] = rep.index
        if only_rep is not None:
            self.rep_shown[:] = only_rep
        # Where the exercise measures the back only in part of a rep (the deadlift: set-up to knee
        # height), the outline is drawn only there: what is drawn is what was measured (at lockout
        # a plate often hides the hips).
        self.back_frames = None
        if self.spec.back_window:
            k0, k1 = self.spec.back_window
            self.back_frames = np.zeros(len(t), dtype=bool)
            for rep in analysis.reps:
                k = rep.key_frames
                if k0 in k and k1 in k:
                    self.back_frames[k[k0]:k[k1] + 1] = True
        self.banners: dict[int, list] = {}
        for span in spans:
            a, b = np.searchsorted(t, span[0], "left"), np.searchsorted(t, span[1], "right")
            for i in range(a, b):
                self.banners.setdefault(i, []).append(span)

    def _text(self, img, text, org, color=WHITE, size=0.6, thick=1):
        s = size * self.scale
        th = max(1, int(round(thick * self.scale * 1.5)))
        key = (text, color, s, th)
        sprite = self._sprites.get(key)
        if sprite is None:
            if len(self._sprites) > 400:  # up to ~80 KB each at 1080p
                self._sprites.clear()
            sprite = self._sprites[key] = _text_sprite(text, color, s, th)
        _blend(img, sprite, org)

    def draw(self, img: np.ndarray, i: int) -> np.ndarray:
        tr = self.track
        if i >= len(tr):
            return img
        lw = max(1, int(round(2 * self.scale)))
        xy = tr.xy[i]
        if np.isfinite(xy[L_HIP, 0]):
            # A joint behind the bar's plate is MediaPipe's guess and is not measured: drawn as a
            # hollow ring with grey bones, inside the plate's outline.
            hid = self.hidden[i]
            if hid.any():
                cv2.circle(img, _pt(self.plate[i, :2]), int(self.plate[i, 2]), GREY, lw, cv2.LINE_AA)
            for side in SIDE_JOINTS:
                j = SIDE_JOINTS[side]
                near = side == self.side
                col = CYAN if near else GREY
                for b0, b1 in _BONES:
                    p0, p1 = _pt(xy[j[b0]]), _pt(xy[j[b1]])
                    if p0 and p1:
                        guessed = hid[j[b0]] or hid[j[b1]]
                        cv2.line(img, p0, p1, GREY if guessed else col, lw * (2 if near and not guessed else 1), cv2.LINE_AA)
                for name in ("shoulder", "hip", "knee", "ankle", "wrist"):
                    p = _pt(xy[j[name]])
                    if p and near:
                        cv2.circle(img, p, lw * 3, WHITE, lw if hid[j[name]] else -1, cv2.LINE_AA)
            self._back(img, i, lw)
        self._panel(img, i)
        return img

    def _back(self, img, i, lw):
        """The measured back outline, coloured by the rounding/arch proxy at this frame."""
        key = self.spec.back_key
        if not self.a.view.ok or key in self.a.withheld:
            return
        if self.back_frames is not None and not self.back_frames[i]:
            return
        xy = self.track.xy[i]
        hip, sh = trunk_ends(xy)
        half = np.where(self.outline_on_plate[i], np.nan, self.track.profile[i, self.dorsal_idx])  # never the plate's rim
        lo, hi = self.spec.back_span  # only the part of the outline the number is read from
        half = np.where((PROFILE_T >= lo) & (PROFILE_T <= hi), half, np.nan)
        pts = back_points(hip, sh, half, self.dorsal)
        val = self.a.series.get(key, np.full(len(self.track), np.nan))[i]
        thr = self.round_thr
        col = GREY if not np.isfinite(val) or thr is None else GREEN if val < self.amber_from else AMBER if val < thr else RED
        drawn = [_pt(p) for p in pts]
        for p0, p1 in zip(drawn[:-1], drawn[1:]):  # a gap (unmeasured samples) stays a gap
            if p0 and p1:
                cv2.line(img, p0, p1, col, lw * 3, cv2.LINE_AA)

    def _panel(self, img, i):
        a = self.a
        x0, y = int(12 * self.scale), int(28 * self.scale)
        dy = int(26 * self.scale)
        k = self.rep_shown[i]
        title = f"{self.spec.unit.title()} {k} of {len(a.reps)}" if k > 0 else f"Before {self.spec.unit} 1 of {len(a.reps)}"
        self._text(img, title, (x0, y), WHITE, 0.8, 2)
        y += dy
        for key, name, unit in self.spec.readouts:
            if key in a.withheld or key not in a.series:
                continue
            v = a.series[key][i] if i < len(a.series[key]) else np.nan
            if key == self.spec.back_key and self.back_frames is not None and not self.back_frames[i]:
                v = np.nan  # the back is read from set-up to knee height only; elsewhere it is not a measurement
            pm = f" +/-{self.spec.back_sd:.0f}" if key == self.spec.back_key and self.spec.back_sd else ""
            txt = f"{name}: {v:5.0f}{pm} {unit}" if np.isfinite(v) else f"{name}:   -"
            self._text(img, txt, (x0, y))
            y += dy
        self._text(img, FOOTNOTE, (x0, img.shape[0] - int(10 * self.scale)), GREY, 0.45)
        # Fault banners while they happen.
        yb = int(img.shape[0] * 0.12)
        for t0, t1, text, sev in self.banners.get(i, [])[-MAX_BANNERS:]:
            col = RED if sev != "mild" else AMBER
            s = 0.7 * self.scale
            (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, s, 2)
            xb = img.shape[1] - w - int(20 * self.scale)
            cv2.rectangle(img, (xb - 8, yb - h - 8), (xb + w + 8, yb + 8), col, -1)
            cv2.putText(img, text, (xb, yb), cv2.FONT_HERSHEY_SIMPLEX, s, WHITE, 2, cv2.LINE_AA)
            yb += h + int(22 * self.scale)
