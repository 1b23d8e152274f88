"""Deadlift analysis: reps, per-rep metrics and faults. Pure: PoseTrack in, Analysis out."""
from __future__ import annotations

import numpy as np
import pandas as pd
from . import backshape, plates
from .contour import BACK_SPAN, LOWER_SEGMENTS, UPPER_SEGMENTS, arc_angle, bend_series
from .signals import (Conditioned, condition, step_noise, true_runs, incline_from_vertical, joint_angle, presence_warnings,
                      value_at as _at, value_with_sd)
from .thresholds import BACK_ARC_SD, BACK_SHAPE_SD, DEADLIFT, fault_above, frame_rate_limits, gate_plausible, make_fault as _fault
from .exercise import Exercise, Trend
from .joints import joint_centres, trunk_line
from .types import Analysis, Fault, PoseTrack, Rep

CUTOFF_HZ = 6.0          # lifting is slow; 6 Hz keeps the pull and removes landmark jitter
MIN_HINGE_RANGE = 25.0   # degrees of trunk travel needed to call anything a rep
EARLY_TRAVEL = 0.30      # "early pull" ends when the bar has covered this share of its rise
TIMING = ("hip_lead_tl", "early_trunk_change_deg", "back_rise_at_knee_lock", "concentric_s", "rep_duration_s")  # hang on an instant

METRIC_INFO = {
    "liftoff_trunk_deg": dict(label="Trunk angle at lift-off", unit="deg from vertical",
                              how="Line from the hip joint centres' midpoint to the shoulder joint centres' midpoint vs vertical, at the frame the hands leave their lowest point."),
    "liftoff_hip_deg": dict(label="Hip angle at lift-off", unit="deg", how="Angle at the hip joint centre between the shoulder and knee joint centres, camera side (180 = straight)." " Joint centres are estimated from MediaPipe's surface landmarks (formcheck/joints.py): on nine synthetic bodies, each held out, the hip angle is within 2.1 deg (median) side-on and 1.7 deg with the camera 10-20 deg off (p95 7.1 and 6.0; on a stocky, very muscular build it reads ~6 deg too closed; README, Joint angles)."),
    "liftoff_knee_deg": dict(label="Knee angle at lift-off", unit="deg", how="Angle at the knee joint centre between the hip and ankle joint centres, camera side (180 = straight)."),
    "liftoff_thigh_deg": dict(label="Thigh below horizontal at lift-off", unit="deg", how="Hip-to-knee landmark line vs horizontal (0 = thigh horizontal, a squat start). Landmarks, not joint centres: the correction was not fitted on squat starts."),
    "hip_lead_tl": dict(label="Hips ahead of shoulders, early pull", unit="torso lengths",
                        how="How much further the hips rose than the shoulders from set-up until the hands have covered 30% of their rise, "
                            "over torso length: 0 = rising together, + = hips first. (Replaces the hip/shoulder rise ratio, which divided "
                            "by a near-zero shoulder rise: one clip re-muxed read 0.2 to 10.)"),
    "early_trunk_change_deg": dict(label="Trunk change, early pull", unit="deg", how="Trunk angle at 30% of the rise minus at set-up; + means the back went more horizontal."),
    "lockout_trunk_deg": dict(label="Trunk at lockout", unit="deg from vertical", how="Most backward trunk angle (joint-centre line) around lockout; negative = leaning back."),
    "lockout_hyperext_deg": dict(label="Lean-back at lockout", unit="deg behind thigh line",
                                 how="How far the hip->shoulder joint-centre line tips back past the knee->hip line around lockout (0 = stacked; independent of camera tilt)."),
    "bar_start_fl": dict(label="Bar ahead of mid-foot at lift-off", unit="foot lengths", how="Hands (bar proxy) ahead of the heel-toe midpoint at lift-off, in foot lengths. Hands sit slightly ahead of the bar, so ~0.2-0.3 is normal."),
    "lockout_hip_deg": dict(label="Hip angle at lockout", unit="deg", how="Largest angle at the hip joint centre (shoulder-hip-knee) around lockout."),
    "back_rounding_deg": dict(label="Back rounding (outline bend)", unit="deg (flat back ~0)",
                              how="Bend of the back outline in the person silhouette (segmentation mask) between the hip and shoulder landmarks, "
                                  "from set-up to knee height (75th percentile of the frames): the angle between the lower and the upper half of the outline, "
                                  "+ = rounded. An estimate: MediaPipe has no spine landmarks, and flat backs read 1 +/- 7 deg on real clips, so one rep's "
                                  "number carries about +/- 7 deg (back_rounding_sd_deg)."),
    "lumbar_flexion_deg": dict(label="Lower-back rounding (lumbar flexion)", unit="deg from standing",
                               how="Estimated flexion of the lower back (lumbar spine) from how it is held standing, set-up to knee height "
                                   "(75th percentile of the frames). MediaPipe has no spine landmarks: a small model trained on synthetic "
                                   "renders reads it from the back's outline in the person silhouette, beside the lifter's own outline when "
                                   "upright in the same clip (formcheck/backshape.py). On nine rendered bodies, each held out, it is within 3.7 deg "
                                   "(median; 6.8 with plates, p95 14) of the truth per rep with that reference, and orders a lifter's reps "
                                   "(rank correlation 1.0, median). On the labelled real clips flat backs read 30 +/- 6 deg (normal set-ups "
                                   "lose 13-20 deg of lordosis per lumbar region, Bengtsson 2022) and rounded ones 37: it separates them less "
                                   "well than the outline bend (AUC 0.81 vs 0.91), so no rule reads it yet. The +/- is lumbar_flexion_sd_deg."),
    "lumbar_flexion_sd_deg": dict(label="Lower-back rounding uncertainty", unit="deg (1 SD)",
                                  how="The back-shape model's error on bodies it never saw (larger when the clip has no upright frame "
                                      "to compare with) combined with this rep's frame-to-frame spread."),
    "thoracic_flexion_deg": dict(label="Upper-back rounding (thoracic flexion)", unit="deg from standing",
                                 how="Estimated flexion of the upper back (thoracic spine) from standing, set-up to knee height, by the same "
                                     "model. Within 2.2 deg (median; 4.2 with plates) per rep on bodies it never saw. Informational: on the real "
                                     "labelled clips it does not separate the reps labelled upper-back rounded, so no rule reads it."),
    "thoracic_flexion_sd_deg": dict(label="Upper-back rounding uncertainty", unit="deg (1 SD)",
                                    how="As for the lower back, for the upper-back estimate."),
    "upper_back_bend_deg": dict(label="Upper-back outline bend", unit="deg",
                                how="Bend of the outline over the upper half of the hip-shoulder line (0.45-0.9), set-up to knee height. "
                                    "On synthetic bodies it follows upper-back flexion (0.41-0.48 deg per degree on two bodies, 0.13 on a heavy one) "
                                    "and not lower-back flexion. "
                                    "Informational: not yet validated on real clips, no rule reads it."),
    "lower_back_bend_deg": dict(label="Lower-back outline bend", unit="deg",
                                how="Bend of the outline over the lower half of the hip-shoulder line (0.05-0.55), set-up to knee height. "
                                    "On synthetic bodies it moves 0.14-0.28 deg per degree of lower-back flexion but 0.26-0.42 per degree of "
                                    "upper-back flexion, so it does not isolate the lumbar spine. Informational: no rule reads it."),
    "back_arc_deg": dict(label="Upper-back rounding (outline arc)", unit="deg (flat back ~0)",
                         how="How far the back outline in the person silhouette bulges beyond the straight line through its ends "
                             "(15-85% of the way from the hip to the shoulder landmarks), as the angle of a circular arc with that "
                             "bulge; set-up to knee height (75th percentile of the frames), + = rounded. An estimate: MediaPipe has no "
                             "spine landmarks. On synthetic bodies it follows upper-back (thoracic) flexion, not lower-back flexion "
                             "(README, Back shape), like the outline bend, but on the labelled real clips it separates the reps "
                             "labelled upper-back rounded better (AUC 0.97 against 0.95, python -m formcheck.bench real). The +/- is back_arc_sd_deg."),
    "back_arc_sd_deg": dict(label="Upper-back outline arc uncertainty", unit="deg (1 SD)",
                            how="Spread of flat backs' outline arc across the labelled clips combined with this rep's frame-to-frame spread."),
    "back_rounding_sd_deg": dict(label="Back rounding uncertainty", unit="deg (1 SD)",
                                 how="Between-body spread of flat backs' outline bend combined with this rep's frame-to-frame spread."),
    "bar_drift_fl": dict(label="Bar path forward drift", unit="foot lengths", how="How far the hands (bar proxy: the mean of both wrists where they agree) move forward of their lift-off position between lift-off and lockout (90th percentile of the pull, so a landmark jumping for a frame does not count), in foot lengths (0 = vertical bar path)."),
    "hitch_dip_tl": dict(label="Hips dip during the pull (hitch)", unit="torso lengths",
                         how="Largest sinking of the hip midpoint between lift-off and lockout that the hips then rise back "
                             "out of (the knees re-bending under a stalled bar), over torso length. Hip landmarks behind the "
                             "plate are not used; a settle at lockout is not a dip."),
    "back_rise_at_knee_lock": dict(label="Back's rise done when the knees locked", unit="share (1 = together)",
                                   how="Share of the trunk angle's rise from lift-off to lockout done at the first frame the knee "
                                       "joint angle is within 20 deg of its lockout value (3-frame medians): about 1 when knees and "
                                       "hips finish together, near 0 when the legs straighten first and the back lifts the rest "
                                       "(legs-first). Needs the knees seen straightening and a trunk rise of 15 deg or more."),
    "concentric_s": dict(label="Pull duration", unit="s", how="Lift-off to lockout, from the video's own timestamps."),
    "rep_duration_s": dict(label="Rep duration", unit="s", how="Lift-off to the bar back at the floor (or the end of the lockout)."),
}


def segment_reps(hinge: np.ndarray, t: np.ndarray, min_range: float = MIN_HINGE_RANGE,
                 min_phase_s: float = 0.12) -> list[dict[str, int]]:
    """Find pulls (bottom -> top transitions) in a hinge signal (trunk angle from vertical).

    Hysteresis: "down" above lo + 60% of the range, "up" below lo + 30%. A rep is each
    down -> up transition, which covers dead-stop and touch-and-go sets, clips that start at
    lockout and clips that start at the floor. Returns frame indices per pull:
    down_start, down_end (last 'down' frame), up_start, up_end.
    """
    ok = np.isfinite(hinge)
    if ok.sum() < 5:
        return []
    lo_v, hi_v = np.nanpercentile(hinge, 3), np.nanpercentile(hinge, 97)
    rng = hi_v - lo_v
    if rng < min_range:
        return []
    hi, lo = lo_v + 0.6 * rng, lo_v + 0.3 * rng
    state = np.zeros(len(hinge), dtype=int)  # +1 down, -1 up, 0 between
    cur = 0
    for i, v in enumerate(hinge):
        if np.isfinite(v):
            if v >= hi:
                cur = 1
            elif v <= lo:
                cur = -1
        state[i] = cur
    # A clip may start in a set-up or end at lockout, so a phase touching either end counts
    # however short; but an end phase must hold a few real samples (a state carries on through
    # untracked frames, and one last sample crossing the line is noise, not a lockout).
    def seen(r):
        return int(np.sum(ok[r[0]:r[1] + 1]))
    downs = [r for r in true_runs(state == 1) if t[r[1]] - t[r[0]] >= min_phase_s or (r[0] == 0 and seen(r) >= 3)]
    ups = [r for r in true_runs(state == -1) if (t[r[1]] - t[r[0]] >= min_phase_s and seen(r) >= 3)
           or (r[1] == len(t) - 1 and seen(r) >= 3)]
    pulls = []
    for d in downs:
        nxt = [u for u in ups if u[0] > d[1]]
        if not nxt:
            continue
        u = nxt[0]
        # a down phase must lead straight to this up phase (no other down phase between)
        if any(d2[0] > d[1] and d2[0] < u[0] for d2 in downs):
            continue
        pulls.append(dict(down_start=d[0], down_end=d[1], up_start=u[0], up_end=u[1]))
    return pulls


def series(track: PoseTrack, c: Conditioned) -> tuple[dict[str, np.ndarray], bool]:
    """The per-frame readings of the pose, and whether the back-shape model had the lifter's own
    upright outline as its reference (one answer for the clip)."""
    J = c.joints
    f = c.facing_sign
    # angles between estimated joint centres (formcheck/joints.py); positions stay landmarks
    C = joint_centres(J, f, c.torso_len, "deadlift", c.yaw_deg)
    # The squat-start rule's thigh line stays on the landmarks: a squat start (thigh near
    # horizontal) lies outside the renders the correction was fitted on (thigh up to 54 deg from
    # vertical), and there it moved one kettlebell lifter's thigh by 14 deg (README).
    thigh = np.degrees(np.arctan2(J["knee"][:, 1] - J["hip"][:, 1], np.abs(J["knee"][:, 0] - J["hip"][:, 0])))
    foot_len = np.hypot(*(J["toe"] - J["heel"]).T)
    fl = float(np.nanmedian(foot_len)) if np.isfinite(foot_len).any() else float("nan")
    midfoot_x = 0.5 * (J["heel"][:, 0] + J["toe"][:, 0])
    # Bar proxy: both hands hold the bar, so in a side view both wrists sit over it. Their mean
    # where they agree (within half a foot length); where they do not, the one nearer the camera
    # wrist's running median over half a second, so a wrist that jumps for a few frames is not the bar.
    near_w, far_w = J["wrist"][:, 0], J["far_wrist"][:, 0]
    agree = np.abs(near_w - far_w) < 0.5 * fl if fl > 0 else np.zeros(len(c.t), bool)
    win = max(3, int(0.5 * c.fs) | 1)
    ref = pd.Series(near_w).rolling(win, center=True, min_periods=1).median().to_numpy()
    far_nearer = np.abs(far_w - ref) < np.nan_to_num(np.abs(near_w - ref), nan=np.inf)
    bar_x = np.where(agree, 0.5 * (near_w + far_w), np.where(far_nearer, far_w, near_w))
    trunk = incline_from_vertical(*trunk_line(C, "deadlift"), f)
    prof, on_plate = _outline(track, c)
    X, has_ref = back_features(track, c, prof, trunk)
    flex = backshape.estimate(X, has_ref)
    return {
        "t": c.t,
        "trunk_deg": trunk,
        # When things happen (rep finding, lockout) reads the landmark chord as MediaPipe placed it,
        # also behind a plate: a guessed hip still rises and falls with the lifter. Never measured.
        "chord_deg": incline_from_vertical(J.get("hip_mid_lm", J["hip_mid"]), J.get("shoulder_mid_lm", J["shoulder_mid"]), f),
        # + when the shoulders are behind the knee->hip line: hip hyperextension / leaning back.
        # Relative to the thigh, so a tilted phone does not read as a lean.
        "hip_hyperext_deg": (incline_from_vertical(C["knee"], C["hip"], f) - trunk + 180.0) % 360.0 - 180.0,
        "hip_deg": joint_angle(C["shoulder"], C["hip"], C["knee"]),
        "knee_deg": joint_angle(C["hip"], C["knee"], C["ankle"]),
        "thigh_deg": thigh,
        "wrist_y": J["wrist"][:, 1],
        "hip_y": J["hip_mid"][:, 1],
        "hip_y_lm": J.get("hip_mid_lm", J["hip_mid"])[:, 1],  # timing only (set-up): also behind a plate
        "shoulder_y": J["shoulder_mid"][:, 1],
        "knee_y": J.get("knee_lm", J["knee"])[:, 1],  # timing only (the bar passing the knee)
        "ankle_x": J["ankle"][:, 0],
        "bar_ahead_fl": (bar_x - midfoot_x) * f / fl if fl > 0 else np.full(len(c.t), np.nan),
        "bar_x_fl": bar_x * f / fl if fl > 0 else np.full(len(c.t), np.nan),
        "back_bend_deg": bend_series(prof, f, c.fs, CUTOFF_HZ),
        "back_arc_deg": bend_series(prof, f, c.fs, CUTOFF_HZ, measure=arc_angle),
        "back_on_plate": on_plate.astype(float),  # 1 where part of the back outline lay on the plate (not measured)
        # the bar's plate (formcheck/plates.py), NaN where none: the overlay marks what it hid
        **{f"plate_{k}": (c.plate[:, i] if c.plate is not None else np.full(len(c.t), np.nan)) for i, k in enumerate("xyr")},
        # lower- and upper-back flexion from the whole outline (formcheck/backshape.py)
        **{k: flex[:, i] for i, k in enumerate(backshape.OUTPUTS)},
        "upper_back_bend_deg": bend_series(prof, f, c.fs, CUTOFF_HZ, UPPER_SEGMENTS),
        "lower_back_bend_deg": bend_series(prof, f, c.fs, CUTOFF_HZ, LOWER_SEGMENTS),
    }, has_ref


def _outline(track: PoseTrack, c: Conditioned) -> tuple[np.ndarray, np.ndarray]:
    """The silhouette profile with the back-outline samples that lie on the plate taken off (NaN):
    there the silhouette took in the plate and its rim, not the back (plates.outline_on_plate;
    the overlay leaves them undrawn too). Also, per frame, whether any was."""
    prof = track.profile
    on_plate = np.zeros(len(c.t), bool)
    if c.plate is not None:
        dorsal = 1 if c.facing_sign > 0 else 0
        on = plates.outline_on_plate(prof[:, dorsal], track.xy, c.plate, -c.facing_sign)
        on_plate = on.any(axis=1)
        if on.any():
            prof = prof.copy()
            prof[:, dorsal][on] = np.nan
    return prof, on_plate


def back_features(track: PoseTrack, c: Conditioned, prof: np.ndarray | None = None,
                  trunk: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """The back-shape model's inputs per frame (backshape.features): the dorsal outline (plate
    rim off), the landmark chord per thigh length, the joint-centre trunk inclination and their
    difference from the lifter's own upright outline in this clip; and whether there was one."""
    if prof is None:
        prof, _ = _outline(track, c)
    if trunk is None:
        C = joint_centres(c.joints, c.facing_sign, c.torso_len, "deadlift", c.yaw_deg)
        trunk = incline_from_vertical(*trunk_line(C, "deadlift"), c.facing_sign)
    dorsal = prof[:, 1 if c.facing_sign > 0 else 0]
    ct = backshape.chord_per_thigh(c.joints)
    ref, _ = backshape.reference(dorsal, ct, trunk)
    return backshape.features(dorsal, ct, trunk, ref), ref is not None


def analyze(track: PoseTrack) -> Analysis:
    c = condition(track, CUTOFF_HZ, plates=True)
    s, back_ref = series(track, c)
    t = c.t
    warnings: list[str] = []
    warnings += presence_warnings(c)
    w, withheld = frame_rate_limits(track.video.fps, TIMING, "the early-pull measures and rep timings")
    warnings += w
    if c.coverage < 0.5:
        warnings.append(f"A person was found in only {c.coverage:.0%} of frames; results cover those frames only.")
    if c.outlier_frames > 0.02 * len(t) * 2 * 12:
        warnings.append("Landmarks jumped between frames more than usual (another person, occlusion or blur); "
                        "those samples were discarded.")
    view = c.view
    side_ok = view.ok
    oblique = view.ok and view.oblique
    if not side_ok:
        for k in METRIC_INFO:
            if k not in ("concentric_s", "rep_duration_s"):
                withheld.setdefault(k, view.reason)
    elif oblique:
        for k in BACK_KEYS:
            withheld[k] = view.reason

    # Reps: trunk angle is the hinge; in a front/rear view fall back to how far the shoulders drop.
    # Rep finding reads the landmark chord, not the joint-centre trunk: when to count a rep should
    # not move with the correction model (it is what the rep counts were validated on), and it
    # reads the landmarks as placed, also behind a plate (series "chord_deg").
    if side_ok:
        chord = s["chord_deg"]
        # A lifter's trunk never tips past ~110 deg from vertical either way; beyond that the pose
        # is flipped (upside down on a low-resolution clip), and so are its hands, hips and knees:
        # nothing is timed or measured from those frames (a flipped "wrist" at the top of the
        # picture read as the bar at the floor and put a lift-off there). Reps are not found from
        # a trunk leaning back past 45 deg either, but that frame's values reach the gate below.
        flipped = np.abs(chord) >= 110
        for key, v in s.items():  # every per-frame reading of the pose (not the time, not the plate)
            if key != "t" and not key.startswith("plate_"):
                s[key] = np.where(flipped, np.nan, v)
        hinge = np.where(s["chord_deg"] > -45, s["chord_deg"], np.nan)  # leaning back past 45: a lost landmark
    else:
        drop = (s["shoulder_y"] - np.nanmedian(s["hip_y"])) / c.torso_len
        hinge = np.degrees(np.arcsin(np.clip(1 + drop, -1, 1)))  # 0 standing .. 90 shoulders at hip height
    pulls = segment_reps(hinge, t)

    # The back outline's bend as it is: a flat back reads ~0 whatever the body. The lifter's own
    # lockout is not used as a zero any more: a lean-back or an arch at the top, or a plate over
    # the hips there, made flat set-ups read rounded (see the README's accuracy section).
    s["back_rounding_deg"] = s["back_bend_deg"]

    reps: list[Rep] = []
    dropped = 0
    for k, p in enumerate(pulls):
        rep = _rep(len(reps) + 1, p, pulls[k + 1] if k + 1 < len(pulls) else None, s, t, c, withheld, back_ref)
        if rep is None:
            dropped += 1
            continue
        reps.append(rep)
    if dropped:
        warnings.append(f"{dropped} hinge movement(s) were not counted as reps because the feet moved "
                        "(walking, dropping the bar or re-setting).")
    clip_faults = _set_breakdown(reps, t)
    if not pulls:
        warnings.append("No complete pull (floor to lockout) was found in this clip.")
    summary = {
        "rep_count": len(reps),
        "side": c.side, "facing": view.facing,
        "pose_coverage": round(c.coverage, 3),
        "back_reference": back_ref,  # the lifter's upright outline was the back-shape model's reference
    }
    return Analysis(exercise="deadlift", view=view, reps=reps, faults=clip_faults, series=s, withheld=withheld,
                    warnings=warnings, summary=summary, metric_info=METRIC_INFO)


BACK_KEYS = ("back_rounding_deg", "back_rounding_sd_deg", "back_arc_deg", "back_arc_sd_deg", "upper_back_bend_deg", "lower_back_bend_deg",
             "lumbar_flexion_deg", "lumbar_flexion_sd_deg", "thoracic_flexion_deg", "thoracic_flexion_sd_deg")


def _rep(index: int, p: dict[str, int], nxt: dict[str, int] | None, s: dict[str, np.ndarray], t: np.ndarray,
         c: Conditioned, withheld: dict[str, str], back_ref: bool) -> Rep | None:
    """One pull: its events, its metrics (impossible values withheld), its faults."""
    ev = _events(p, nxt, s, t, c)
    if ev is None:
        return None
    m = _metrics(ev, s, t, c, back_ref)
    m["back_rise_at_knee_lock"], why_not = knee_lock_share(s["knee_deg"], s["trunk_deg"], ev["liftoff"], ev["lockout"], ev["hold_end"])
    not_measured = _finish(m, withheld)
    not_measured.update(_behind_plate(m, ev, c, not_measured, withheld))
    if why_not and m["back_rise_at_knee_lock"] is None and "back_rise_at_knee_lock" not in withheld:
        not_measured.setdefault("back_rise_at_knee_lock", why_not)  # a plate's reason, found above, comes first
    if s["back_on_plate"][ev["setup"]:ev["knee_pass"] + 1].any():
        for k in BACK_KEYS:
            if m.get(k) is None and k not in not_measured and k not in withheld:
                not_measured[k] = ("not measured: the plate lay over the back outline from set-up to knee height "
                                   "(the silhouette there is the plate's rim, not the back)")
    for k in ("back_rounding_deg", "back_arc_deg") + backshape.OUTPUTS:  # a missing back number always says why
        if m.get(k) is None and k not in not_measured and k not in withheld:
            not_measured[k] = ("not measured: the back outline was not seen whole on enough frames from set-up to "
                               "knee height (the person lost, the outline off the picture, or too upright to read)")
    at = {k: t[ev[k]] for k in ("setup", "liftoff", "early", "knee_pass", "lockout", "hold_end")}
    faults = [x for x in (rule(m, at) for rule in REP_RULES) if x is not None]
    return Rep(index=index, start_s=round(float(t[ev["liftoff"]]), 3), end_s=round(float(t[ev["end"]]), 3),
               frames=(ev["liftoff"], ev["end"]),
               key_frames={k: ev[k] for k in ("setup", "liftoff", "knee_pass", "lockout", "end")},
               metrics=m, faults=faults, not_measured=not_measured)


def _events(p: dict[str, int], nxt: dict[str, int] | None, s: dict[str, np.ndarray], t: np.ndarray,
            c: Conditioned) -> dict[str, int] | None:
    """Frame of each event of a pull: set-up, lift-off, early pull (30% of the rise), knee pass,
    lockout, end of the hold, end of the rep. None when it is not a pull (no rise; feet moved)."""
    wy = s["wrist_y"]
    ds, de, us, ue = p["down_start"], p["down_end"], p["up_start"], p["up_end"]
    # Lockout: the first frame at the top of the up phase (trunk within 3 deg of its most upright),
    # timed on the landmark chord: a plate over the hips at the top hides the measured trunk.
    # A lifter who leans back past vertical has locked out when the trunk first reaches vertical:
    # the lean that follows is what lockout_lean_back measures, not a later lockout (bichraix_10
    # reached vertical at 8.4 s and leaned back to 13.8 s; the most-upright rule put lockout at 13 s).
    trunk_up = s["chord_deg"][us:ue + 1]
    ok = np.isfinite(trunk_up)
    line = max(np.nanmin(np.where(ok, trunk_up, np.nan)) + 3.0, 0.0) if ok.any() else 0.0
    upright = ok & (trunk_up <= line)
    lock = us + int(np.flatnonzero(upright)[0]) if upright.any() else us
    # Lift-off: the last moment the hands are at their lowest before the pull.
    win = np.arange(ds, lock + 1)
    w = wy[win]
    if np.isfinite(w).sum() >= 3:
        bottom_y = np.nanmax(w)
        top_y = np.nanmin(wy[us:ue + 1]) if np.isfinite(wy[us:ue + 1]).any() else np.nanmin(w)
        travel = max(bottom_y - top_y, 1e-6)
        near_floor = np.flatnonzero(w >= bottom_y - 0.05 * travel)
        liftoff = int(win[near_floor[-1]])
        early_idx = np.flatnonzero((wy[liftoff:lock + 1] <= bottom_y - EARLY_TRAVEL * travel))
        early = liftoff + int(early_idx[0]) if len(early_idx) else lock
        knee_idx = np.flatnonzero(wy[liftoff:lock + 1] <= s["knee_y"][liftoff:lock + 1])
        knee_pass = liftoff + int(knee_idx[0]) if len(knee_idx) else early
    else:  # hands never seen: use the hinge itself
        liftoff = de
        early = de + max(1, (lock - de) // 3)
        knee_pass = early
    # Set-up: where the hips sit lowest in the second before lift-off.
    pre = np.arange(max(ds, int(np.searchsorted(t, t[liftoff] - 1.0))), liftoff + 1)
    hy = s["hip_y_lm"][pre]
    setup = int(pre[np.nanargmax(hy)]) if np.isfinite(hy).any() else liftoff
    # End: hands back at the floor in the next down phase, else the end of this lockout.
    end = ue
    if nxt is not None:
        nd = np.arange(nxt["down_start"], nxt["down_end"] + 1)
        wn = wy[nd]
        if np.isfinite(wn).any():
            end = int(nd[np.nanargmax(wn)])
        else:
            end = nxt["down_start"]
    # Feet stay planted through a pull; if the ankle travels, this was walking or dropping the bar.
    # Ends compared by their medians: ankle landmarks jitter, walking moves them for good.
    after = min(ue, int(np.searchsorted(t, t[lock] + 1.5)))
    def shift(x: np.ndarray) -> float:
        x = x[np.isfinite(x)]
        return float(np.median(x[-5:]) - np.median(x[:5])) if len(x) >= 10 else 0.0
    span = slice(liftoff, min(after, len(t) - 1) + 1)
    sa, sh = shift(s["ankle_x"][span]), shift(c.joints.get("hip_mid_lm", c.joints["hip_mid"])[span, 0])
    if sa * sh > 0 and min(abs(sa), abs(sh)) > 0.5 * c.torso_len:  # feet and hips moved together
        return None
    if lock <= liftoff:
        return None  # no rise between the floor and the top: not a pull
    return dict(setup=setup, liftoff=liftoff, early=early, knee_pass=knee_pass, lockout=lock, hold_end=ue, end=end)



def _metrics(ev: dict[str, int], s: dict[str, np.ndarray], t: np.ndarray, c: Conditioned,
             back_ref: bool) -> dict[str, float | None]:
    setup, liftoff, early, knee_pass, lock, ue, end = (ev[k] for k in ("setup", "liftoff", "early", "knee_pass", "lockout", "hold_end", "end"))
    lock_win = np.arange(lock, ue + 1)

    def val(name: str, i: int) -> float:
        return _at(s[name], i)

    m: dict[str, float | None] = {}
    m["liftoff_trunk_deg"] = val("trunk_deg", liftoff)
    m["liftoff_hip_deg"] = val("hip_deg", liftoff)
    m["liftoff_knee_deg"] = val("knee_deg", liftoff)
    m["liftoff_thigh_deg"] = val("thigh_deg", liftoff)
    hip_rise = s["hip_y"][setup] - s["hip_y"][early]
    sh_rise = s["shoulder_y"][setup] - s["shoulder_y"][early]
    m["hip_lead_tl"] = float((hip_rise - sh_rise) / c.torso_len)  # torso length: never near zero
    m["early_trunk_change_deg"] = val("trunk_deg", early) - val("trunk_deg", setup)
    m["lockout_trunk_deg"] = float(np.nanmin(s["trunk_deg"][lock_win])) if np.isfinite(s["trunk_deg"][lock_win]).any() else float("nan")
    hx = s["hip_hyperext_deg"][lock_win]
    hx = hx[np.abs(hx) < 60]  # beyond this the knee or shoulder landmark is lost, not the lifter
    # 80th percentile: the lean-back is often a moment of the hold, not all of it.
    m["lockout_hyperext_deg"] = float(np.percentile(hx, 80)) if len(hx) >= 3 else float("nan")
    m["lockout_hip_deg"] = float(np.nanmax(s["hip_deg"][lock_win])) if np.isfinite(s["hip_deg"][lock_win]).any() else float("nan")
    if not np.isfinite(val("trunk_deg", lock)):
        # unseen at the lockout itself (a plate over the hips): a frame of the lowering that
        # comes into view later in the window is not the lockout
        for k in ("lockout_trunk_deg", "lockout_hyperext_deg", "lockout_hip_deg"):
            m[k] = float("nan")
    # each back number: the 75th percentile of its frames from set-up to knee height, with its +/-
    m["back_rounding_deg"], m["back_rounding_sd_deg"] = value_with_sd(s["back_rounding_deg"][setup:knee_pass + 1], 75, BACK_SHAPE_SD)
    m["back_arc_deg"], m["back_arc_sd_deg"] = value_with_sd(s["back_arc_deg"][setup:knee_pass + 1], 75, BACK_ARC_SD)
    # lower- and upper-back flexion (formcheck/backshape.py), each with its uncertainty: the
    # held-out bodies' error, larger when the clip had no upright outline to compare with
    mode = "ref" if back_ref else "noref"
    info = backshape.model_info()
    for key in backshape.OUTPUTS:
        m[key], m[key.replace("_deg", "_sd_deg")] = backshape.rep_value(s[key][setup:knee_pass + 1], info[f"rep_sd_{key}_{mode}"])
    for key in ("upper_back_bend_deg", "lower_back_bend_deg"):  # informational: no rule reads them yet
        seg = s[key][setup:knee_pass + 1]
        seg = seg[np.isfinite(seg)]
        m[key] = float(np.percentile(seg, 75)) if len(seg) >= 2 else float("nan")
    m["bar_start_fl"] = val("bar_ahead_fl", liftoff)
    # Forward of where the hands left the floor (median of the frames around lift-off), the 90th
    # percentile of the pull: a wrist landmark jumping for a frame or two is not a bar path.
    ref = s["bar_x_fl"][max(0, liftoff - 2):liftoff + 3]
    drift = s["bar_x_fl"][liftoff:lock + 1] - (np.nanmedian(ref) if np.isfinite(ref).any() else np.nan)
    m["bar_drift_fl"] = float(np.nanpercentile(drift, 90)) if np.isfinite(drift).sum() >= 3 else float("nan")
    m["hitch_dip_tl"] = dip(-s["hip_y"][liftoff:lock + 1]) / c.torso_len
    m["concentric_s"] = float(t[lock] - t[liftoff])
    m["rep_duration_s"] = float(t[end] - t[liftoff])
    return m


def knee_lock_share(knee: np.ndarray, trunk: np.ndarray, liftoff: int, lock: int, hold_end: int) -> tuple[float, str | None]:
    """How much of the trunk's rise (lift-off -> lockout) was done when the knees were first nearly
    straight: ~1 when knees and hips finish together, ~0 when the legs straighten first and the back
    lifts the rest (legs-first). NaN with the reason where it cannot be read."""
    p = DEADLIFT["legs_first"].params
    # a 3-frame median: one knee landmark jumping for a frame is not the knees locking
    kn = pd.Series(knee[liftoff:hold_end + 1]).rolling(3, center=True, min_periods=2).median().to_numpy()
    tr = pd.Series(trunk[liftoff:lock + 1]).rolling(3, center=True, min_periods=2).median().to_numpy()
    top = np.nanmax(kn) if np.isfinite(kn).any() else float("nan")
    if not top >= p["knee_straight_min"]:
        return float("nan"), (f"not measured: the knees were not seen straightening (past {p['knee_straight_min']:.0f} deg) "
                              "between lift-off and lockout - hidden or out of frame")
    seen = np.flatnonzero(np.isfinite(kn[:len(tr)]))
    near = seen[kn[seen] >= top - p["knee_near"]]
    if len(near) and near[0] == seen[0]:
        # never seen bent: a stiff-leg start (hips_too_high's business), or knees hidden while they bent
        return float("nan"), (f"not measured: the knees were first seen already within {p['knee_near']:.0f} deg of straight "
                              "(a stiff-leg start, or hidden while they bent), so there is no knee extension to time")
    rise = tr[0] - tr[-1]
    if not np.isfinite(rise):
        return float("nan"), "not measured: the trunk was not seen at lift-off or at lockout"
    if rise < p["trunk_rise_min"]:
        return float("nan"), (f"not measured: the trunk rose {rise:.1f} deg from lift-off to lockout, under "
                              f"{p['trunk_rise_min']:.0f} (an upright start has no back rise to time the knees against)")
    j = int(near[0]) if len(near) else len(tr) - 1
    if not np.isfinite(tr[j]):
        return float("nan"), "not measured: the trunk was not seen when the knees straightened"
    return float((tr[0] - tr[j]) / rise), None


def dip(height: np.ndarray) -> float:
    """The deepest fall of `height` (NaN = unseen) below what it had reached that it later climbs
    back out of: min(drop from the running maximum, rise to the maximum after) at its best frame.
    A fall with no rise after it (a settle at the end) scores what it climbs back, i.e. nothing."""
    ok = np.isfinite(height)
    if ok.sum() < 3:
        return float("nan")
    h = height[ok]
    before = np.maximum.accumulate(h)
    after = np.maximum.accumulate(h[::-1])[::-1]
    return float(np.max(np.minimum(before - h, after - h)))


# Which event each metric is read at (or between): a metric left unmeasured because the plate hid
# a joint there, on either side, says so (instead of a bare "not measured").
_PLATE_READS = (("liftoff_", ("liftoff", "liftoff")), ("lockout_", ("lockout", "lockout")),
                ("bar_start", ("liftoff", "liftoff")), ("early_", ("setup", "early")), ("hip_lead", ("setup", "early")),
                ("hitch_", ("liftoff", "lockout")), ("back_rise_at_knee", ("liftoff", "lockout")))
_PLATE_JOINTS = ("shoulder", "hip", "knee", "ankle")


def _behind_plate(m: dict, ev: dict[str, int], c: Conditioned, known: dict[str, str],
                  withheld: dict[str, str]) -> dict[str, str]:
    if c.behind_plate is None:
        return {}
    out = {}
    for k, v in m.items():
        if v is not None or k in known or k in withheld:
            continue
        for prefix, (a, b) in _PLATE_READS:
            if k.startswith(prefix):
                i0, i1 = max(0, ev[a] - 1), ev[b] + 2
                hid = [("far " if far else "") + j for far in (False, True) for j in _PLATE_JOINTS
                       if c.behind_plate[("far_" if far else "") + j][i0:i1].any()]
                if hid:
                    at = prefix.rstrip("_").replace("liftoff", "lift-off").replace("bar_start", "lift-off")
                    at = "set-up to early pull" if a == "setup" else "lift-off to lockout" if b == "lockout" and a != b else at
                    out[k] = (f"not measured: the {' and '.join(hid)} {'was' if len(hid) == 1 else 'were'} behind the "
                              f"plate at {at} (a landmark there is MediaPipe's guess)")
    return out


def _finish(m: dict[str, float | None], withheld: dict[str, str]) -> dict[str, str]:
    """Withhold impossible values (returned: why, per metric) and what the view cannot support;
    NaN becomes None; the rest rounded."""
    not_measured = gate_plausible(m, skip=withheld)
    for key in ("back_rounding_deg", "back_arc_deg", "lumbar_flexion_deg", "thoracic_flexion_deg"):  # no number, no uncertainty
        if m.get(key) is None or not np.isfinite(m[key]) or key in withheld:
            m[key.replace("_deg", "_sd_deg")] = None
    for k in list(m):
        if k in withheld:
            m[k] = None
        elif m[k] is not None and not np.isfinite(m[k]):
            m[k] = None
        elif m[k] is not None:
            m[k] = round(float(m[k]), 3)
    return not_measured



def _set_breakdown(reps: list[Rep], t: np.ndarray) -> list[Fault]:
    """A metric getting worse from the first reps to the last third, beyond rep-to-rep noise."""
    if len(reps) < 3:
        return []
    rule = DEADLIFT["set_breakdown"]
    out = []
    for key, label in (("back_rounding_deg", "back-rounding estimate (outline bend)"), ("liftoff_trunk_deg", "trunk angle at lift-off")):
        vals = np.array([r.metrics.get(key) if r.metrics.get(key) is not None else np.nan for r in reps], dtype=float)
        if np.isfinite(vals).sum() < 3:
            continue
        v = vals[np.isfinite(vals)]
        noise = step_noise(v)
        first = float(np.min(v[:2]))
        last = float(np.mean(v[-max(1, len(v) // 3):]))
        delta = last - first
        thr = max(rule.threshold, 2 * noise)
        if delta > thr:
            out.append(_fault(rule, delta, f"The {label} grew by {delta:.0f} deg from the first reps to the last third of the set (rep-to-rep noise {noise:.1f} deg).",
                              reps[0].start_s, reps[-1].end_s, threshold=round(thr, 2)))
    return out


# --- the per-rep rules: each reads a rep's metrics (and event times), numbers from DEADLIFT ---
Times = dict  # event name -> seconds: setup, liftoff, early, knee_pass, lockout, hold_end


def lumbar_rounding(m: dict, at: Times) -> Fault | None:
    return fault_above(DEADLIFT["lumbar_rounding"], m.get("back_rounding_deg"),
                       "Back outline bent {v:.0f} +/- {sd:.0f} deg between set-up and knee height, where flat backs read "
                       "about 0 (estimate from the silhouette).", at["setup"], at["knee_pass"],
                       sd=m.get("back_rounding_sd_deg") or BACK_SHAPE_SD)


def upper_back_rounding(m: dict, at: Times) -> Fault | None:
    return fault_above(DEADLIFT["upper_back_rounding"], m.get("back_arc_deg"),
                       "Upper back rounded: the back outline arched {v:.0f} +/- {sd:.0f} deg beyond straight between set-up "
                       "and knee height (estimate from the silhouette).", at["setup"], at["knee_pass"],
                       sd=m.get("back_arc_sd_deg") or BACK_ARC_SD)


def hips_shoot_up(m: dict, at: Times) -> Fault | None:
    """The trunk tipping more horizontal as the legs straighten in the first part of the pull.
    (The hips' lead in torso lengths, hip_lead_tl, is reported and does not flag - see the rule's basis.)"""
    return fault_above(DEADLIFT["hips_shoot_up"], m.get("early_trunk_change_deg"),
                       "Your back went {v:.0f} deg more horizontal as the pull started: the legs straightened before "
                       "the back moved.", at["setup"], at["early"])


def squat_start(m: dict, at: Times) -> Fault | None:
    thigh, trunk0, rule = m.get("liftoff_thigh_deg"), m.get("liftoff_trunk_deg"), DEADLIFT["squatting_deadlift"]
    if thigh is None or trunk0 is None:
        return None
    p = rule.params
    if (thigh < rule.threshold and trunk0 < p["trunk_max"]) or (thigh < p["upright_thigh"] and trunk0 < p["upright_trunk"]):
        return _fault(rule, thigh, f"Thigh {thigh:.0f} deg from horizontal with the trunk {trunk0:.0f} deg from vertical at "
                      "lift-off: a squat-style start.", at["setup"], at["liftoff"], below=True)
    return None


def lockout_lean_back(m: dict, at: Times) -> Fault | None:
    return fault_above(DEADLIFT["lockout_lean_back"], m.get("lockout_hyperext_deg"),
                       "At lockout the trunk leaned {v:.0f} deg behind the line of the thigh (hips pushed through, "
                       "shoulders back).", at["lockout"], at["hold_end"])


def hitch(m: dict, at: Times) -> Fault | None:
    return fault_above(DEADLIFT["hitch"], m.get("hitch_dip_tl"),
                       "The hips sank {v:.2f} torso lengths during the pull and then drove up again: the knees re-bent "
                       "under the bar (a hitch).", at["liftoff"], at["lockout"])


def bar_drift(m: dict, at: Times) -> Fault | None:
    return fault_above(DEADLIFT["bar_drift"], m.get("bar_drift_fl"),
                       "The hands (bar proxy) drifted {v:.2f} foot lengths forward of where they left the floor during "
                       "the pull.", at["liftoff"], at["lockout"])


def hips_too_high(m: dict, at: Times) -> Fault | None:
    return fault_above(DEADLIFT["hips_too_high"], m.get("liftoff_trunk_deg"),
                       "At lift-off your trunk was {v:.0f} deg from vertical: the hips were about level with the "
                       "shoulders (a stiff-legged start), not between the knees and the shoulders.", at["setup"], at["liftoff"])


def legs_first(m: dict, at: Times) -> Fault | None:
    """The knees locking with most of the back's rise still to do. Not said again where the back
    tipped over as well (hips_shoot_up says it): one movement, one fault."""
    rule, v = DEADLIFT["legs_first"], m.get("back_rise_at_knee_lock")
    if v is None or v >= rule.threshold or hips_shoot_up(m, at) is not None:
        return None
    return _fault(rule, v, f"Your knees were nearly straight with only {max(v, 0.0) * 100:.0f}% of the back's rise done: "
                  "the legs finished first and the back lifted the rest (a stiff-leg pull).", at["liftoff"], at["lockout"],
                  below=True)


REP_RULES = (lumbar_rounding, upper_back_rounding, hips_shoot_up, legs_first, hips_too_high, squat_start, hitch, lockout_lean_back, bar_drift)


SPEC = Exercise(
    name="deadlift", unit="rep", analyze=analyze,
    phases=("liftoff", "knee_pass", "lockout", "end"), phase_words="lift-off, knee pass, lockout, floor",
    readouts=(("trunk_deg", "Trunk", "deg"), ("hip_deg", "Hip", "deg"), ("knee_deg", "Knee", "deg"),
              ("back_rounding_deg", "Back rounding*", "deg")),
    plot_keys=("trunk_deg", "hip_deg", "back_rounding_deg"),
    back_key="back_rounding_deg", back_rule=DEADLIFT["lumbar_rounding"], back_window=("setup", "knee_pass"), back_span=BACK_SPAN,
    pair_by_back=True, back_sd=BACK_SHAPE_SD, rules=DEADLIFT,
    trend=(Trend("back_worst", "Back rounding, worst rep", "deg", "back_worst"),
           Trend("back_median", "Back rounding, set median", "deg", "back_median"),
           Trend("upper_back_median", "Upper-back rounding (outline arc), median", "deg", "median", "back_arc_deg"),
           Trend("liftoff_trunk_median", "Trunk angle at lift-off, median", "deg from vertical", "median", "liftoff_trunk_deg")))
