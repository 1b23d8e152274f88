"""The running arch (overarching, anterior pelvic tilt) against synthetic ground truth.

    python -m formcheck.bench arch        renders the missing runs, then prints the table

Issue 14 asked for lumbar extension of 10 deg or more beyond the runner's neutral to be detected
on 90% of runs with at most 10% false alarms. The arch proxy had never been scored against ground
truth. This renders runs of all nine bodies with the lower back extended 0-20 deg beyond neutral
(the rig tilts the pelvis forward with it, so the upper trunk keeps its lean, as an anterior pelvic
tilt does) and scores the shipped proxy (running.py: the lower back outline's bend) and, beside it,
the whole back outline's bend it replaced: how far each moves per degree of extension within a
body, how far neutral backs of different builds spread, and what the rule's line catches, with the
line also chosen with each body left out. Each clip starts with 1.5 s of quiet standing in a
neutral spine (a standing reference was measured and dropped: it made the read-back worse).
Clothing, shirt and wall colours, a gym background, lean, yaw and compression vary per clip
(seeded), so no single look is learned.
"""
from __future__ import annotations

import glob
import json
import os

import numpy as np

from .bench import render_all
from .joints import BODY_ORDER

STAND_S = 1.5
EXTS = (0.0, 10.0, 20.0)      # every body
EXTS_MORE = (5.0, 15.0)       # three bodies: the response between
_SHIRTS = ("0.15,0.35,0.75", "0.7,0.15,0.15", "0.1,0.1,0.1", "0.85,0.85,0.8", "0.2,0.5,0.25")
_WALLS = ("0.88,0.87,0.84", "0.45,0.45,0.5", "0.75,0.8,0.85")


def _clips() -> dict[str, str]:
    """name -> clips.py arguments, domain-randomised from a fixed seed (the same list every run)."""
    rng = np.random.default_rng(14)
    out = {}
    for body in BODY_ORDER:
        exts = EXTS + (EXTS_MORE if body in ("base", "heavy", "slim") else ())
        for ext in exts:
            loose = float(rng.choice([0.0, 0.03]))
            args = (f"--body {body} --lumbar-ext {ext:g} --cadence 180 --seconds 4 --stand {STAND_S:g} "
                    f"--lean {rng.uniform(3, 10):.1f} --yaw {rng.choice([-8, 0, 0, 8]):d} --loose {loose:g} "
                    f"--shirt {rng.choice(_SHIRTS)} --background {rng.choice(_WALLS)} --light {rng.uniform(0.7, 1.0):.2f} "
                    f"--crf {int(rng.choice([20, 26, 28]))} --seed {int(rng.integers(1000))}"
                    + (" --gym" if rng.random() < 0.5 else ""))
            out[f"arch_{body}_ext{ext:g}"] = args
    return out


ARCH_RUNS = _clips()


def render_missing(folder: str) -> None:
    """Render the ARCH_RUNS not yet under folder/arch (needs .venv-render; ~30 s each a core)."""
    render_all([("running", os.path.join(folder, "arch", name + ".mp4"), args.split()) for name, args in ARCH_RUNS.items()])


def clips(folder: str) -> list[tuple[str, dict]]:
    out = []
    for c in sorted(glob.glob(os.path.join(folder, "arch", "*.mp4"))):
        g = c[:-4] + ".gt.json"
        if os.path.exists(g) and os.path.basename(c)[:-4] in ARCH_RUNS:
            out.append((c, json.load(open(g))))
    return out


def score_clip(path: str, gt: dict, cache: str) -> dict:
    """The shipped running analysis against the imposed lumbar extension, and beside it the
    whole back outline's bend (the proxy this one replaced), per-step medians as the analysis takes them."""
    from formcheck import running
    from formcheck.contour import bend_series
    from formcheck.signals import condition
    from .bench import cached_track
    track = cached_track(path, cache)
    a = running.analyze(track)
    c = condition(track, running.CUTOFF_HZ)
    whole = -bend_series(track.profile, c.facing_sign, c.fs, running.CUTOFF_HZ)
    whole[running.arm_over_back(track, c.facing_sign)] = np.nan
    per_step = [np.nanmedian(whole[r.frames[0]:r.frames[1] + 1]) for r in a.reps
                if np.isfinite(whole[r.frames[0]:r.frames[1] + 1]).sum() >= 2]
    return dict(clip=os.path.basename(path), body=gt["body"], ext=float(gt["params"]["lumbar_ext"]),
                loose=gt["loose_m"] > 0, yaw=gt["yaw_deg"], gym=gt["gym"], steps=len(a.reps),
                arch=a.summary.get("median_arch_deg"), whole_bend=float(np.median(per_step)) if per_step else None,
                hip_ext=a.summary.get("median_hip_ext_toeoff_deg"), withheld=a.withheld.get("arch_deg"),
                fired=any(f.code == "overarching_lower_back" for f in a.faults))


def normal_line(values: list[float], z: float = 1.96) -> float:
    """The edge of the neutral backs' range: mean + z SD (the rule flags above it)."""
    return float(np.mean(values) + z * np.std(values, ddof=1))


def response(rows: list[dict], key: str) -> dict:
    """How a proxy follows the imposed extension: its slope within each body, the scatter about
    those lines (clothing, camera, compression), the neutral runs' spread across bodies, and the
    held-out correlation of a straight-line read-back (fitted with each body left out)."""
    ok = [r for r in rows if r[key] is not None]
    bodies = sorted({r["body"] for r in ok})
    slopes, resid = [], []
    for b in bodies:
        e = np.array([r["ext"] for r in ok if r["body"] == b])
        v = np.array([r[key] for r in ok if r["body"] == b])
        if len(e) >= 3:
            p = np.polyfit(e, v, 1)
            slopes.append(float(p[0]))
            resid += list(v - np.polyval(p, e))
    pred, true = [], []
    for b in bodies:
        tr = [r for r in ok if r["body"] != b]
        p = np.polyfit([r["ext"] for r in tr], [r[key] for r in tr], 1)
        for r in ok:
            if r["body"] == b:
                pred.append((r[key] - p[1]) / p[0])
                true.append(r["ext"])
    neutral = [r[key] for r in ok if r["ext"] == 0]
    return dict(slope_median=float(np.median(slopes)), slope_range=[min(slopes), max(slopes)],
                scatter_sd=float(np.std(resid, ddof=len(slopes))) if len(resid) > len(slopes) else float("nan"),
                neutral_mean=float(np.mean(neutral)), neutral_sd=float(np.std(neutral, ddof=1)),
                held_out_corr=float(np.corrcoef(pred, true)[0, 1]), held_out_err_med=float(np.median(np.abs(np.subtract(pred, true)))))


def detection(rows: list[dict], line_for) -> dict:
    """Runs past the line (line_for(body): the line chosen without that body, or one line for all):
    share of >= 10 and >= 20 deg of extension flagged, and of neutral (0 deg) runs."""
    def share(sel):
        hit = [r["arch"] > line_for(r["body"]) for r in rows if sel(r["ext"]) and r["arch"] is not None]
        return (sum(hit), len(hit))
    return dict(ge10=share(lambda e: e >= 10), ge20=share(lambda e: e >= 20), neutral=share(lambda e: e == 0))


def run(folder: str, cache: str, json_out: str | None = None) -> dict:
    from formcheck.thresholds import RUNNING
    rule = RUNNING["overarching_lower_back"]
    render_missing(folder)
    rows = [score_clip(p, gt, cache) for p, gt in clips(folder)]
    exts = sorted(set(EXTS + EXTS_MORE))
    print(f"running arch proxy against imposed lumbar extension ({len(rows)} runs, {len({r['body'] for r in rows})} bodies, "
          f"4 s at 180 steps/min each; clothing, colours, gym or plain wall, lean 3-10 deg, yaw -8..8, crf 20-28 vary per run)")
    print("arch proxy, deg (median of the steps' medians), by imposed lumbar extension beyond neutral:")
    print(f"{'body':9s} " + " ".join(f"{'ext ' + format(e, 'g'):>8s}" for e in exts))
    for body in BODY_ORDER:
        br = {r["ext"]: r for r in rows if r["body"] == body}
        if br:
            print(f"{body:9s} " + " ".join(f"{_fmt(br[e]['arch']) if e in br else '-':>8s}" for e in exts))
    res = dict(rows=rows)
    for key, name in (("arch", "arch proxy (lower outline)"), ("whole_bend", "whole-back bend (before)")):
        r = response(rows, key)
        res[key] = r
        print(f"{name:27s}: {r['slope_median']:.2f} deg per degree of extension within a body ({r['slope_range'][0]:.2f}-"
              f"{r['slope_range'][1]:.2f}), scatter about that {r['scatter_sd']:.1f}; neutral runs {r['neutral_mean']:.1f} "
              f"+/- {r['neutral_sd']:.1f} across bodies; read back as extension with each body held out: corr "
              f"{r['held_out_corr']:.2f}, |err| median {r['held_out_err_med']:.1f} deg")
    neutral = {b: [r["arch"] for r in rows if r["ext"] == 0 and r["body"] != b and r["arch"] is not None] for b in BODY_ORDER}
    lobo = {b: normal_line(v) for b, v in neutral.items() if len(v) >= 3}
    allb = normal_line([r["arch"] for r in rows if r["ext"] == 0 and r["arch"] is not None])
    res["line_all_bodies"], res["line_lobo"] = allb, lobo
    for name, f in ((f"the shipped line {rule.threshold:g}", lambda b: rule.threshold),
                    (f"the normal range with each body left out ({min(lobo.values()):.1f}-{max(lobo.values()):.1f})", lambda b: lobo[b])):
        d = detection(rows, f)
        res.setdefault("detection", {})[name] = d
        print(f"past {name}: extension >= 10 deg {d['ge10'][0]} of {d['ge10'][1]}, >= 20 deg {d['ge20'][0]} of {d['ge20'][1]}; "
              f"neutral (false alarms) {d['neutral'][0]} of {d['neutral'][1]}")
    print(f"normal range of the neutral runs on all bodies: mean + 1.96 SD = {allb:.1f} (shipped: {rule.threshold:g})")
    fired = [r for r in rows if r["fired"]]
    print(f"the overarching rule fired on {len(fired)} runs: it also needs < {rule.params['hip_ext_max']:g} deg of hip extension "
          f"at toe-off, and these runners extend the hip {min(r['hip_ext'] for r in rows if r['hip_ext'] is not None):.0f}-"
          f"{max(r['hip_ext'] for r in rows if r['hip_ext'] is not None):.0f} deg whatever the arch (the renders aim the thigh, "
          "not the pelvis)")
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(res, fh, indent=2, default=float)
    return res


# Three runs of one body (0, 10 and 20 deg of extension) ship as test fixtures (tests/test_arch.py):
# the base body, as for the back-shape fixtures; chosen before looking at its numbers.
FIXTURES = ("arch_base_ext0", "arch_base_ext10", "arch_base_ext20")


def write_fixtures(folder: str, cache: str, out_dir: str) -> None:
    """tests/data/<clip>.track.npz and <clip>.truth.json (imposed extension, when the run starts)."""
    from .bench import write_fixture
    for name in FIXTURES:
        path = os.path.join(folder, "arch", name + ".mp4")
        gt = json.load(open(path[:-4] + ".gt.json"))
        write_fixture(path, cache, out_dir, name, dict(
            clip=name, body=gt["body"], lumbar_ext=gt["params"]["lumbar_ext"],
            run_start_frame=next(e["frame"] for e in gt["events"] if e["event"] == "run_start")))


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.1f}"


if __name__ == "__main__":
    import sys
    render_missing(sys.argv[1] if len(sys.argv) > 1 else ".bench_cache")
