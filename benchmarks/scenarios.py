"""Scenarios and site search at city size, beside the full re-run.

    .venv/bin/python benchmarks/scenarios.py                 # ~131k nodes, 10k communities
    .venv/bin/python benchmarks/scenarios.py --size 2 --candidates 300 --k 5   # quick

Times (best of ``--repeat``): the full assessment (``planner.pipeline.assess`` without
circle polygons, and a scenario built from scratch), then what-ifs on the baseline
scenario: add one station, move one, resize one, close one, walk slower, a new project of
2,000 households: each including the re-evaluated 2SFCA, statuses and targets, with
``Scenario.quick`` (facility edits) and with the full ``Scenario.result``. Checks
that the incremental result equals the scenario rebuilt from scratch. Then the site
search: ``--candidates`` generated candidates near under-served communities, ``--k``
sites, models ``coverage`` and ``standard`` solved by HiGHS to ``--gap`` (1 %), beside
the greedy heuristic and the local search from greedy's choice (kept when HiGHS stops
with a worse one).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from _common import force_single_thread, sample_case, size_for_nodes

force_single_thread()

import numpy as np  # noqa: E402

TARGET_WHAT_IF_S = 0.2
TARGET_SITES_S = 60.0
#: What-ifs that change facilities only: timed with Scenario.quick too.
QUICK = ("add one station (300 m²)", "move one facility 500 m", "resize one facility",
         "close one facility")


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> int:  # noqa: PLR0915  (one script, read top to bottom)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nodes", type=int, default=131_550)
    ap.add_argument("--size", type=float, default=None, help="sample size (overrides --nodes)")
    ap.add_argument("--communities", type=int, default=10_000)
    ap.add_argument("--facilities", type=int, default=1_000)
    ap.add_argument("--candidates", type=int, default=2_000)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--gap", type=float, default=0.01)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default="coverage,standard")
    args = ap.parse_args()

    from planner.pipeline import assess, load_study_area  # noqa: PLC0415  (after threads)
    from planner.scenarios import Scenario  # noqa: PLC0415
    from planner.sites import grid_candidates, recommend_sites  # noqa: PLC0415

    size = args.size or size_for_nodes(args.nodes)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scenarios-"))
    t = time.perf_counter()
    case = sample_case(tmp, size=size, n_communities=args.communities,
                       n_facilities=args.facilities)
    f = case.files
    area = load_study_area(f["roads"], f["communities"], f["facilities"], gates=f["gates"],
                           use_cache=True)
    print(f"sample size {size}: {area.net.n_nodes:,} nodes, {len(area.communities):,} "
          f"communities, {len(area.facilities):,} facilities "
          f"(generated and loaded in {time.perf_counter() - t:.0f} s)")

    rows = []
    s_full, _ = best(lambda: assess(area, "jinzhong", isochrones=False), args.repeat)
    rows.append(("full re-run: pipeline.assess (no polygons)", s_full))
    s_scn, base = best(lambda: _fresh(Scenario.from_area(area, "jinzhong")), args.repeat)
    rows.append(("full re-run: Scenario.from_area + result", s_scn))
    r = base.result()
    comm = r.communities
    spot = comm[comm["service_status"] == "uncovered"].geometry.iloc[0].representative_point()
    fid = r.facilities.index[r.facilities["in_assessment"]][0]
    what_ifs = {
        "add one station (300 m²)": lambda: base.add_facility(
            "NEW1", x=spot.x, y=spot.y, floor_area_m2=300),
        "move one facility 500 m": lambda: base.move_facility(fid, x=spot.x + 500, y=spot.y),
        "resize one facility": lambda: base.resize_facility(fid, 900),
        "close one facility": lambda: base.close_facilities([fid]),
        "walk at 0.8 m/s": lambda: base.with_speed(0.8),
        "new project, 2,000 households": lambda: base.add_community(
            "P1", households=2000, x=spot.x + 200, y=spot.y, status="new", area_type="urban"),
    }
    base.quick()  # the lineage's reusable part, once
    results = {}
    for label, make in what_ifs.items():
        if label in QUICK:
            sec, out = best(lambda make=make: _quick(make()), args.repeat)
            rows.append((f"what-if (quick): {label}", sec))
        sec_full, out = best(lambda make=make: _fresh(make()), args.repeat)
        results[label] = out
        rows.append((f"what-if (full result): {label}", sec_full))
    width = max(len(k) for k, _ in rows)
    print(f"\n{'step':{width}s}  seconds  vs full re-run")
    for label, sec in rows:
        ratio = s_full / sec if sec else float("inf")
        flag = ""
        if label.startswith("what-if (quick)") and ("add" in label or "move" in label):
            flag = "PASS" if sec < TARGET_WHAT_IF_S else "FAIL"
            flag = f"  target < {TARGET_WHAT_IF_S} s: {flag}"
        print(f"{label:{width}s}  {sec:7.3f}  {ratio:6.1f}x faster{flag}")

    added = results["add one station (300 m²)"]
    rebuilt = Scenario.from_area(
        dataclasses.replace(area, facilities=added.facilities), "jinzhong").result()
    cols = ["service_status", "accessible_m2", "shortfall_m2", "facilities_within"]
    same = added.result().communities[cols].equals(rebuilt.communities[cols]) and \
        added.result().targets.equals(rebuilt.targets)
    q = added.quick()
    same_quick = (q.communities["service_status"] == rebuilt.communities["service_status"]).all()
    tcols = ["id", "numerator", "denominator", "value", "passed"]
    same_quick &= q.targets[tcols].equals(rebuilt.targets[tcols])
    print(f"\nincremental (add one station) equals the rebuilt scenario exactly: {same}; "
          f"quick statuses and targets equal too: {same_quick}")
    same &= bool(same_quick)

    short = comm[comm["service_status"] != "meets"]
    grid = grid_candidates(area.net, spacing_m=150, near=short.geometry, near_m=300)
    pick = np.linspace(0, len(grid) - 1, min(args.candidates, len(grid))).round().astype(int)
    cands = grid.iloc[np.unique(pick)]
    print(f"\nsite search: {len(cands):,} candidates (of {len(grid):,} grid nodes near "
          f"{len(short):,} communities short of the standard), k = {args.k}, gap {args.gap:.0%}")
    print(f"{'model':10s} {'total s':>8s} {'solve s':>8s} {'households':>11s} {'bound':>11s} "
          f"{'gap':>7s} {'status':>10s} {'greedy':>9s} {'local':>9s} {'verified':>9s}")
    ok = True
    for model in args.models.split(","):
        t = time.perf_counter()
        s = recommend_sites(base, cands, k=args.k, model=model, curve=False,
                            mip_rel_gap=args.gap, time_limit_s=args.time_limit)
        total = time.perf_counter() - t
        sol = s.solution
        within = sol.gap <= args.gap + 1e-9
        flag = "PASS" if total < TARGET_SITES_S and within else "FAIL"
        ok &= flag == "PASS" or model != "coverage"
        print(f"{model:10s} {total:8.1f} {sol.seconds:8.1f} {sol.objective:11,.0f} "
              f"{sol.bound:11,.0f} {sol.gap:7.2%} {sol.status:>10s} {s.greedy.objective:9,.0f} "
              f"{(s.local or s.greedy).objective:9,.0f} "
              f"{s.verified_households:9,}  target < {TARGET_SITES_S:.0f} s within "
              f"{args.gap:.0%}: {flag}")
        print(f"{'':10s} model size: {s.stats}")
    return 0 if same else 1


def _quick(scenario):
    """Statuses, floor area and targets only (:meth:`Scenario.quick`)."""
    scenario.quick()
    return scenario


def _fresh(scenario):
    """Assess (the result is cached per scenario object: assess each new one)."""
    scenario.result()
    return scenario


if __name__ == "__main__":
    sys.exit(main())
