"""Running analysis: gait events, per-step metrics, faults. Pure: PoseTrack in, Analysis out.

Foot strike and toe-off follow Zeni 2008 (foot position relative to the hip midpoint, which
also cancels a panning camera), with Fellin 2010's toe-off refinement (peak knee extension). MediaPipe swaps left and right feet in side views, so
events are found on the *leading* foot (whichever heel is furthest ahead) and the *trailing*
toe, which a swap cannot break.
"""
from __future__ import annotations

import numpy as np

from . import playback
from .contour import LOWER_SEGMENTS, bend_series
from .playback import MIN_STEP_S, step_period
from .signals import (Conditioned, condition, step_noise, true_runs, incline_from_vertical, joint_angle, presence_warnings,
                      value_at, value_with_sd)
from .thresholds import RUNNING as R, fault_above, frame_rate_limits, gate_plausible, make_fault
from .exercise import Exercise, Trend
from .joints import joint_centres, trunk_line
from .types import (L_ELBOW, L_HIP, L_WRIST, R_ELBOW, R_HIP, R_WRIST,
                    Analysis, Fault, PoseTrack, Rep, trunk_ends)

CUTOFF_HZ = 10.0            # running moves faster than lifting (Winter: ~8-12 Hz)
MIN_STEPS_PELVIS = R["pelvic_drop"].params["min_steps"]  # Dingenen 2018: average at least 7 steps
TIMING = ("step_time_s", "cadence_spm", "shank_at_contact_deg", "heel_ahead_ll", "knee_flex_contact_deg",
          "hip_ext_toeoff_deg", "bounce_ll")  # hang on the instant of foot strike or toe-off

METRIC_INFO = {
    "step_time_s": dict(label="Step time", unit="s", how="Foot strike to the next foot strike, from the video's timestamps."),
    "cadence_spm": dict(label="Cadence", unit="steps/min", how="60 / step time."),
    "trunk_lean_deg": dict(label="Trunk lean", unit="deg from vertical", how="Camera-side hip joint centre to shoulder joint centre vs vertical, mean over the step (+ forward)."),
    "shank_at_contact_deg": dict(label="Shank angle at foot strike", unit="deg", how="Knee joint centre to ankle joint centre vs vertical at foot strike; + means the ankle lands ahead of the knee." " Joint centres are estimated from MediaPipe's surface landmarks by the correction in formcheck/joints.py: on nine synthetic runners, each held out, the hip angle is within 1.5 deg (median) side-on, 2.3 deg with the camera 10-20 deg off (p95 5.6 and 6.4; README, Joint angles)."),
    "heel_ahead_ll": dict(label="Heel ahead of hips at strike", unit="leg lengths", how="Horizontal distance from the hip midpoint to the landing heel, over leg length (hip-knee + knee-ankle)."),
    "knee_flex_contact_deg": dict(label="Knee flexion at foot strike", unit="deg", how="180 minus the angle at the knee joint centre between the hip and ankle joint centres of the landing leg."),
    "hip_ext_toeoff_deg": dict(label="Hip extension at toe-off", unit="deg", how="Thigh (hip joint centre to knee joint centre) of the push-off leg behind vertical at toe-off."),
    "bounce_ll": dict(label="Vertical oscillation", unit="leg lengths", how="Up-down travel of the hip midpoint within the step, over leg length."),
    "arch_deg": dict(label="Lower-back arch proxy", unit="deg",
                     how="An estimate from the silhouette, not pelvis bones (MediaPipe has none): the angle between the back "
                         "outline's buttock-to-waist line and its waist-to-mid-back line (+ = more hollow), median over the step, "
                         "frames with an arm over the back left out. On nine synthetic runners it rose 0.63 deg per degree of "
                         "lumbar extension (0.2-1.3 by build) but neutral backs of different builds read 21-37 (SD 5.5), so one "
                         "clip can only flag an arch well outside that range (about 20 deg beyond neutral); a change within your "
                         "own run is read far more finely (python -m formcheck.bench arch). The +/- is arch_sd_deg."),
    "arch_sd_deg": dict(label="Lower-back arch uncertainty", unit="deg (1 SD)",
                        how="The spread of neutral backs across body builds (synthetic) combined with how much this step's frames disagree."),
}


def _leg_length(c: Conditioned) -> float:
    J = c.joints
    ll = np.hypot(*(J["hip"] - J["knee"]).T) + np.hypot(*(J["knee"] - J["ankle"]).T)
    return float(np.nanmedian(ll)) if np.isfinite(ll).any() else float("nan")


def arm_over_back(track: PoseTrack, facing: float) -> np.ndarray:
    """Frames where an elbow or wrist lies over the back outline, which then traces the arm.
    (Synthetic-humans spike: at foot strike the near arm swings behind the back.)"""
    n = len(track)
    dorsal_idx = 1 if facing > 0 else 0
    dsign = -1.0 if facing > 0 else 1.0
    hip, sh = trunk_ends(track.xy)
    v = sh - hip
    L = np.hypot(*v.T)
    u = v / L[:, None]
    nrm = np.stack([-u[:, 1], u[:, 0]], axis=1) * dsign  # points out of the back
    # The clip's typical back half-width: a per-frame value would already include the arm.
    prof = track.profile[:, dorsal_idx]
    width = float(np.nanmedian(prof)) if np.isfinite(prof).any() else 0.2
    out = np.zeros(n, dtype=bool)
    for j in (L_ELBOW, R_ELBOW, L_WRIST, R_WRIST):
        d = track.xy[:, j] - hip
        s_along = np.sum(d * u, axis=1) / L
        s_out = np.sum(d * nrm, axis=1) / L
        out |= (s_along > 0.1) & (s_along < 0.95) & (s_out > 0.5 * width)
    return out


def gait_events(c: Conditioned) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Foot-strike frames, which foot landed (True = near side), toe-off frames, and the step
    period at each frame (playback.local_periods: a slowed or real-time stretch keeps its own)."""
    J, f, t = c.joints, c.facing_sign, c.t
    hip_x = J["hip_mid"][:, 0]
    ahead_near = (J["heel"][:, 0] - hip_x) * f
    ahead_far = (J["far_heel"][:, 0] - hip_x) * f
    lead = np.fmax(ahead_near, ahead_far)
    behind = np.fmin((J["toe"][:, 0] - hip_x) * f, (J["far_toe"][:, 0] - hip_x) * f)
    period = step_period(lead, c.fs)
    if not np.isfinite(period):  # no steady rhythm: peaks would be noise
        return np.array([], int), np.array([], bool), np.array([], int), np.full(len(t), np.nan)
    periods = playback.local_periods(lead, c.fs, period, confirm=-behind)
    prom = 0.15 * c.torso_len
    fs_idx = playback.pick_peaks(lead, prom, periods, c.fs)
    to_idx = playback.pick_peaks(-behind, prom, periods, c.fs)
    near = np.array([ahead_near[i] >= np.nan_to_num(ahead_far[i], nan=-np.inf) for i in fs_idx], dtype=bool)
    # Strike stays at Zeni's event (heel furthest ahead of the hips). Fellin's "heel lowest point"
    # came 3-4 frames (100-130 ms) after the contact we marked by hand on run_zzzhushi, and on a
    # treadmill the belt has carried the foot back under the hips by then.
    fs_ref = fs_idx
    # toe-off: peak knee extension of the trailing leg near the Zeni event
    knee_near = joint_angle(J["hip"], J["knee"], J["ankle"])
    knee_far = joint_angle(J["far_hip"], J["far_knee"], J["far_ankle"])
    to_ref = []
    for i in to_idx:
        trailing_near = (J["toe"][i, 0] - hip_x[i]) * f <= (J["far_toe"][i, 0] - hip_x[i]) * f
        k = knee_near if trailing_near else knee_far
        lo, hi = max(0, i - int(0.08 * c.fs)), min(len(t), i + int(0.08 * c.fs) + 1)
        w = k[lo:hi]
        to_ref.append(lo + int(np.nanargmax(w)) if np.isfinite(w).any() else i)
    return fs_ref, near, np.array(to_ref, dtype=int), periods


def analyze(track: PoseTrack) -> Analysis:
    c = condition(track, CUTOFF_HZ)
    J, f, t = c.joints, c.facing_sign, c.t
    view = c.view
    warnings: list[str] = []
    warnings += presence_warnings(c)
    w, withheld = frame_rate_limits(track.video.fps, TIMING, "cadence and the foot-strike and toe-off measures")
    warnings += w
    ll = _leg_length(c)
    s: dict[str, np.ndarray] = {"t": t}
    # angles between estimated joint centres (formcheck/joints.py); positions stay landmarks
    C = joint_centres(J, f, c.torso_len, "running", c.yaw_deg)
    s["trunk_deg"] = incline_from_vertical(*trunk_line(C, "running"), f)
    s["knee_deg"] = joint_angle(C["hip"], C["knee"], C["ankle"])
    s["hip_y"] = J["hip_mid"][:, 1]
    # The arch is read from the lower part of the back outline only: on the synthetic runners the
    # whole back's bend did not move with lumbar extension (0.00 deg per degree; read back with each
    # build held out, corr 0.19) while the buttock-to-waist against the waist-to-mid-back line did
    # (0.63; corr 0.69; python -m formcheck.bench arch). No standing reference: standing straightens
    # the hips and hangs the arms, which changes that outline for other reasons (referenced to
    # standing, on per-clip medians held out: corr 0.58 against 0.67 without).
    arch = -bend_series(track.profile, f, c.fs, CUTOFF_HZ, LOWER_SEGMENTS)
    occluded = arm_over_back(track, f)
    arch[occluded] = np.nan
    s["arch_deg"] = arch
    info = dict(METRIC_INFO)
    summary: dict = {"side": c.side, "facing": view.facing, "pose_coverage": round(c.coverage, 3),
                     "leg_length_px": None if not np.isfinite(ll) else round(ll, 1),
                     "arm_over_back_frames": int(occluded.sum())}

    if not view.ok:
        for k in METRIC_INFO:
            if k not in ("step_time_s", "cadence_spm"):
                withheld[k] = view.reason
        reps, clip_faults = _rear_or_front(track, c, withheld, warnings, summary)
        return Analysis(exercise="running", view=view, reps=reps, faults=clip_faults, series=s, withheld=withheld,
                        warnings=warnings, summary=summary, metric_info=info)
    if view.oblique:
        withheld["arch_deg"] = view.reason

    fs_idx, near, to_idx, periods = gait_events(c)
    steps = list(zip(fs_idx[:-1], fs_idx[1:], near[:-1]))
    if len(fs_idx) >= 3:
        not_real = _playback(playback.stretches(t[fs_idx], periods[fs_idx]), t[fs_idx], summary, withheld, warnings)
    else:
        not_real = {}
        warnings.append("No steady running rhythm was found (fewer than three clear foot strikes): no steps to measure.")

    reps = [_step(k + 1, a, b, nf, to_idx, s, c, ll, withheld, C) for k, (a, b, nf) in enumerate(steps)]
    _not_real_time(reps, not_real)
    _few_arch_steps(reps, withheld)
    clip_faults = _clip_faults(reps, t, withheld)
    summary.update(_medians(reps))
    summary["step_count"] = len(reps)
    return Analysis(exercise="running", view=view, reps=reps, faults=clip_faults, series=s, withheld=withheld,
                    warnings=warnings, summary=summary, metric_info=info)


def _playback(parts: list, strike_t: np.ndarray, summary: dict, withheld: dict, warnings: list) -> dict[int, str]:
    """Cadence from the real-time stretch (playback.py), the stretches into the summary and a
    warning; returns step index -> why that step's timing is not measured (not real time)."""
    summary["playback"] = [p.to_dict() for p in parts]
    over = playback.cadence(parts)
    if over is None:
        msg = (f"Steps come every {np.median(np.diff(strike_t)):.2f} s, slower than any run: this looks like slow-motion "
               "playback with an unknown capture rate, so cadence and step times are withheld (distances and angles still hold)."
               if {p.playback for p in parts} == {"slowed"} else
               "No stretch of the clip plays at a running cadence (" + "; ".join(f"{p.start_s:.1f}-{p.end_s:.1f} s: {p.why}" for p in parts)
               + "), so cadence and step times are withheld (distances and angles still hold).")
        for k in ("cadence_spm", "step_time_s"):
            withheld[k] = msg
        warnings.append(msg)
        return {}  # withheld for the whole clip (the front/rear path applies that to its built steps)
    summary["cadence_spm"] = over.cadence_spm
    summary["cadence_over_s"] = [over.start_s, over.end_s]
    if len(parts) > 1:
        words = "; ".join(f"{p.start_s:.1f}-{p.end_s:.1f} s {p.playback} ({p.why})" for p in parts)
        warnings.append(f"Playback changes speed within the clip: {words}. Cadence ({over.cadence_spm:.0f} steps/min) "
                        f"is read over {over.start_s:.1f}-{over.end_s:.1f} s only; step times elsewhere are not real time.")
    not_real = {}
    for p in parts:
        if p.playback != "real-time":
            plays = "has no clear playback speed" if p.playback == "unknown" else f"plays {p.playback}"
            for i in range(p.first_step, p.first_step + p.steps):
                not_real[i] = f"not measured: {p.start_s:.1f}-{p.end_s:.1f} s {plays} ({p.why})"
    return not_real


def _not_real_time(reps: list[Rep], not_real: dict[int, str]) -> None:
    for k, why in not_real.items():
        if k < len(reps):
            for key in ("cadence_spm", "step_time_s"):
                reps[k].metrics[key] = None
                reps[k].not_measured[key] = why


def _step(index: int, a: int, b: int, near_foot: bool, to_idx: np.ndarray, s: dict, c: Conditioned, ll: float,
          withheld: dict, C: dict[str, np.ndarray]) -> Rep:
    """One step, foot strike a to the next strike b: metrics (impossible values withheld) and faults.
    Angles from the joint centres C; distances (heel ahead of the hips) from the landmarks."""
    J, f, t = c.joints, c.facing_sign, c.t
    side = "" if near_foot else "far_"
    to_after = to_idx[(to_idx > a) & (to_idx <= b)]
    to_i = int(to_after[0]) if len(to_after) else (a + b) // 2
    m: dict[str, float | None] = {}
    m["step_time_s"] = round(float(t[b] - t[a]), 4)  # whole ms: 6 frames at 30 fps is 300/min, not 300.0000001
    m["cadence_spm"] = 60.0 / m["step_time_s"]
    m["trunk_lean_deg"] = float(np.nanmean(s["trunk_deg"][a:to_i + 1])) if np.isfinite(s["trunk_deg"][a:to_i + 1]).any() else float("nan")
    m["shank_at_contact_deg"] = -value_at(incline_from_vertical(C[side + "ankle"], C[side + "knee"], f), a)
    m["heel_ahead_ll"] = value_at((J[side + "heel"][:, 0] - J["hip_mid"][:, 0]) * f, a) / ll
    m["knee_flex_contact_deg"] = 180.0 - value_at(joint_angle(C[side + "hip"], C[side + "knee"], C[side + "ankle"]), a)
    # The toe-off inside this step is the landing foot's own push-off (then flight, then the other foot lands).
    # (Left/right labels swap in side views, so take the trailing leg: the more extended one.)
    m["hip_ext_toeoff_deg"] = float(np.nanmax([value_at(incline_from_vertical(C[p + "knee"], C[p + "hip"], f), to_i)
                                               for p in ("", "far_")]))
    hy = s["hip_y"][a:b + 1]
    m["bounce_ll"] = float((np.nanmax(hy) - np.nanmin(hy)) / ll) if np.isfinite(hy).sum() > 2 else float("nan")
    m["arch_deg"], m["arch_sd_deg"] = value_with_sd(s["arch_deg"][a:b + 1], 50, R["overarching_lower_back"].params["noise_sd"])
    not_measured = gate_plausible(m, skip=withheld)
    for key in list(m):
        v = m[key]
        m[key] = None if key in withheld or v is None or not np.isfinite(v) else round(float(v), 3)
    if m["arch_deg"] is None:  # no number, no uncertainty
        m["arch_sd_deg"] = None
    at = dict(strike=t[a], after_strike=t[min(a + 3, len(t) - 1)], next_strike=t[b])
    faults = [x for x in (rule(m, at) for rule in STEP_RULES) if x is not None]
    return Rep(index=index, start_s=round(float(t[a]), 3), end_s=round(float(t[b]), 3), frames=(int(a), int(b)),
               key_frames=dict(foot_strike=int(a), toe_off=int(to_i), next_strike=int(b)), metrics=m, faults=faults,
               not_measured=not_measured)


def _medians(reps: list[Rep]) -> dict:
    out = {}
    for key in METRIC_INFO:
        v = np.array([r.metrics.get(key) for r in reps if r.metrics.get(key) is not None], dtype=float)
        out[f"median_{key}"] = round(float(np.median(v)), 3) if len(v) else None
    return out


def _few_arch_steps(reps: list[Rep], withheld: dict) -> None:
    """The arch is judged over the run, so it needs enough steps whose back outline was seen
    (Dingenen 2018: average at least 7 steps); fewer, and it is not measured, with the reason."""
    need = R["overarching_lower_back"].params["min_steps"]
    seen = sum(r.metrics.get("arch_deg") is not None for r in reps)
    if "arch_deg" in withheld or not reps or seen >= need:
        return
    withheld["arch_deg"] = (f"the clip holds only {len(reps)} steps; the arch is judged over {need} or more" if len(reps) < need else
                            f"the lower-back outline was clear on only {seen} of {len(reps)} steps (an arm over the back, "
                            f"the outline off the picture or not seen); the arch is judged over {need} or more")
    for r in reps:
        for k in ("arch_deg", "arch_sd_deg"):
            r.metrics[k] = None


def _clip_faults(reps: list[Rep], t: np.ndarray, withheld: dict) -> list[Fault]:
    if not reps:
        return []
    ctx = dict(med=_medians(reps), withheld=withheld)
    return [f for rule in CLIP_RULES for f in rule(reps, ctx)]


# --- the whole-run rules: each reads the steps (and what the analysis knows), numbers from RUNNING ---

def low_cadence(reps: list[Rep], ctx: dict) -> list[Fault]:
    cad = ctx["med"]["median_cadence_spm"]
    if cad is None or "cadence_spm" in ctx["withheld"] or cad >= R["low_cadence"].threshold:
        return []
    return [make_fault(R["low_cadence"], cad, f"Cadence {cad:.0f} steps/min over {len(reps)} steps.", reps[0].start_s, reps[-1].end_s,
                       below=True)]


def overarching_lower_back(reps: list[Rep], ctx: dict) -> list[Fault]:
    """The arch proxy high together with little hip extension at toe-off (the back arching to
    make up for the hip)."""
    arch, hipext = ctx["med"]["median_arch_deg"], ctx["med"]["median_hip_ext_toeoff_deg"]
    rule = R["overarching_lower_back"]
    if "arch_deg" in ctx["withheld"] or arch is None or arch <= rule.threshold \
            or hipext is None or hipext >= rule.params["hip_ext_max"]:
        return []
    return [make_fault(rule, arch, f"Lower-back outline arched {arch:.0f} deg (+/- {rule.params['noise_sd']:.0f}; neutral "
                       f"backs read {rule.params['neutral_mean']:.0f} on average) with only {hipext:.0f} deg of hip extension at "
                       "toe-off: the back arches to make up for the hip (a silhouette estimate, not pelvis bones).",
                       reps[0].start_s, reps[-1].end_s)]


def fatigue_drift(reps: list[Rep], ctx: dict) -> list[Fault]:
    """First vs last third of the run, beyond twice the step-to-step noise (9 steps at least)."""
    rule = R["fatigue_drift"]
    if len(reps) < rule.params["min_steps"]:
        return []
    n3 = len(reps) // 3
    first, last = reps[:n3], reps[-n3:]

    def med(rs, k):
        v = [r.metrics[k] for r in rs if r.metrics.get(k) is not None]
        return float(np.median(v)) if v else float("nan")
    out = []
    for key, label, line in (("trunk_lean_deg", "trunk lean", rule.threshold),
                             ("shank_at_contact_deg", "shin angle at foot strike", rule.params["shank_line"]),
                             ("arch_deg", "lower-back arch proxy", rule.params["arch_line"])):
        d = med(last, key) - med(first, key)
        noise = step_noise(np.array([r.metrics[key] for r in reps if r.metrics.get(key) is not None], dtype=float))
        thr = max(line, 2 * noise)
        if np.isfinite(d) and d > thr:
            out.append(make_fault(rule, d, f"The {label} grew by {d:.1f} deg from the first to the last third of the clip "
                                  f"(step-to-step noise {noise:.1f} deg).", last[0].start_s, last[-1].end_s, threshold=round(thr, 2)))
    return out


def excessive_lean(reps: list[Rep], ctx: dict) -> list[Fault]:
    return _lean_spans(reps)


CLIP_RULES = (excessive_lean, low_cadence, overarching_lower_back, fatigue_drift)


LEAN_BACK_MAX = R["excessive_lean"].params["lean_back_max"]


def _lean_spans(reps: list[Rep], k: int = R["excessive_lean"].params["min_steps"]) -> list[Fault]:
    """Lean is judged on runs of at least 7 consecutive steps (averaging, as 2D reliability needs),
    so a clip that leans only in one segment is flagged there and not diluted by the rest."""
    lean = np.array([r.metrics.get("trunk_lean_deg") if r.metrics.get("trunk_lean_deg") is not None else np.nan for r in reps])
    if len(lean) < k:
        return []
    win = np.array([np.nanmean(lean[i:i + k]) if np.isfinite(lean[i:i + k]).sum() >= k - 1 else np.nan
                    for i in range(len(lean) - k + 1)])
    thr = R["excessive_lean"].threshold
    out = []
    for bad, word in ((win > thr, "forward"), (win < LEAN_BACK_MAX, "behind vertical")):
        for i, j in true_runs(bad):
            span = reps[i: j + k]
            v = float(np.nanmean(lean[i: j + k]))
            out.append(make_fault(R["excessive_lean"], v, f"Trunk lean averaged {v:.0f} deg {word} over {len(span)} steps "
                                  f"({span[0].start_s:.1f}-{span[-1].end_s:.1f} s); typical is 4-11 deg forward.",
                                  span[0].start_s, span[-1].end_s, threshold=thr if v > 0 else LEAN_BACK_MAX))
    return out


def _rear_or_front(track: PoseTrack, c: Conditioned, withheld: dict, warnings: list, summary: dict) -> tuple[list[Rep], list[Fault]]:
    """Front/rear view: steps from the alternating low points of the ankles; pelvic drop only from behind."""
    t = c.t
    xy = track.xy
    la, ra = xy[:, 27, 1], xy[:, 28, 1]
    diff = np.nan_to_num(la - ra)
    # a step = the lower (nearer the ground) ankle swaps sides
    sign = np.sign(diff)
    swaps = np.flatnonzero(np.diff(sign) != 0)
    swaps = swaps[np.r_[True, np.diff(t[swaps]) > MIN_STEP_S]] if len(swaps) else swaps
    reps: list[Rep] = []
    drops = []
    rear = c.view.facing == "away"
    for k, (a, b) in enumerate(zip(swaps[:-1], swaps[1:])):
        mid = (a + b) // 2
        m: dict[str, float | None] = {k2: None for k2 in METRIC_INFO}
        m["step_time_s"] = round(float(t[b] - t[a]), 3)
        m["cadence_spm"] = round(60.0 / (t[b] - t[a]), 1)
        if rear:
            hl, hr = xy[mid, L_HIP], xy[mid, R_HIP]
            stance_left = xy[mid, 27, 1] > xy[mid, 28, 1]
            # drop = the swing-side hip lower than the stance-side hip (image y down)
            drop = np.degrees(np.arctan2((hr[1] - hl[1]) if stance_left else (hl[1] - hr[1]), abs(hr[0] - hl[0]) + 1e-6))
            m["pelvic_drop_deg"] = round(float(drop), 2)
            drops.append(drop)
        reps.append(Rep(index=k + 1, start_s=round(float(t[a]), 3), end_s=round(float(t[b]), 3), frames=(int(a), int(b)),
                        key_frames=dict(foot_strike=int(a), next_strike=int(b)), metrics=m, not_measured=gate_plausible(m, skip=withheld)))
    if len(swaps) >= 3:  # one rhythm: the clip's median step (no local speed changes from the front)
        st = np.diff(t[swaps])
        parts = playback.stretches(t[swaps], np.full(len(swaps), float(np.median(st))))
        not_real = _playback(parts, t[swaps], summary, withheld, warnings)
        if "cadence_spm" in withheld:  # no real-time stretch: these steps were built before that was known
            not_real = {i: "not measured: " + withheld["cadence_spm"] for i in range(len(reps))}
        _not_real_time(reps, not_real)
    faults: list[Fault] = []
    if rear and len(drops) >= MIN_STEPS_PELVIS:
        d = float(np.median(drops))
        summary["median_pelvic_drop_deg"] = round(d, 2)
        faults += pelvic_drop(d, len(drops), reps)
    elif rear:
        withheld["pelvic_drop_deg"] = f"Pelvic drop needs at least {MIN_STEPS_PELVIS} clear steps from behind; found {len(drops)}."
    else:
        withheld["pelvic_drop_deg"] = "Pelvic drop needs a rear view (runner moving away from the camera)."
    summary["step_count"] = len(reps)
    return reps, faults


def pelvic_drop(median_drop: float, n_steps: int, reps: list[Rep]) -> list[Fault]:
    """Rear view: the swing-side hip's drop at mid-stance, median over the steps."""
    if median_drop <= R["pelvic_drop"].threshold:
        return []
    return [make_fault(R["pelvic_drop"], median_drop, f"The swing-side hip dropped {median_drop:.1f} deg at mid-stance "
                       f"(median of {n_steps} steps).", reps[0].start_s, reps[-1].end_s)]


# --- the per-step rules: each reads a step's metrics (and event times), numbers from RUNNING ---

def overstride(m: dict, at: dict) -> Fault | None:
    return (fault_above(R["overstride"], m.get("shank_at_contact_deg"),
                        "The shin was {v:.0f} deg past vertical at foot strike (ankle ahead of knee).", at["strike"], at["after_strike"])
            or fault_above(R["overstride_reach"], m.get("heel_ahead_ll"),
                           "The heel landed {v:.2f} leg lengths ahead of the hips.", at["strike"], at["after_strike"]))


def excess_bounce(m: dict, at: dict) -> Fault | None:
    return fault_above(R["excess_bounce"], m.get("bounce_ll"), "The hips moved up and down {v:.2f} leg lengths in this step.",
                       at["strike"], at["next_strike"])


STEP_RULES = (overstride, excess_bounce)


SPEC = Exercise(
    name="running", unit="step", analyze=analyze,
    phases=("foot_strike", "toe_off", "next_strike"), phase_words="strike, toe-off, next strike",
    readouts=(("trunk_deg", "Trunk lean", "deg"), ("knee_deg", "Knee", "deg"), ("arch_deg", "Back arch*", "deg")),
    plot_keys=("trunk_deg", "knee_deg", "arch_deg"),
    back_key="arch_deg", back_rule=R["overarching_lower_back"], rules=R,
    back_span=(LOWER_SEGMENTS[0], LOWER_SEGMENTS[2]), back_sd=R["overarching_lower_back"].params["noise_sd"],
    trend=(Trend("cadence_spm", "Cadence", "steps/min", "summary", "cadence_spm"),
           Trend("overstride_share", "Steps with overstride", "share of steps", "share", "overstride"),
           Trend("lean_median", "Trunk lean, median", "deg", "median", "trunk_lean_deg"),
           Trend("back_median", "Lower-back arch proxy, median", "deg", "back_median")))
