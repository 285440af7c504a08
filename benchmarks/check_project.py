"""How fast ``planner check-project`` checks projects once the district is prepared (issue 10).

    .venv/bin/python benchmarks/check_project.py                      # ~131k nodes, 1,000 projects
    .venv/bin/python benchmarks/check_project.py --nodes 10000 --projects 100   # quick look

Writes the synthetic sample district at the size whose network has about ``--nodes``
nodes, with 10,000 communities and 1,000 facilities (as ``reach_peers.py``), loads it
through ``planner.pipeline.load_study_area`` and prepares it once
(``planner.project.prepare_district``: the reach core's StudyGraph and the base floor
area). Then it times, single-threaded:

* the first project (cold: the first search builds the reach core's indexes);
* each of the next ``--singles`` projects on its own (median and slowest), target < 1 s;
* ``--projects`` projects as one batch (``planner.project.batch.check_projects``, what
  ``--projects FILE`` runs), target < 60 s for 1,000.

Projects are random points on the district's streets (seeded), 200–2,000 households,
three in four with a planned station of 0.8–1.2 × the Jinzhong requirement.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import force_single_thread, peak_mb, sample_case, size_for_nodes

force_single_thread()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

ONE_PROJECT_TARGET_S = 1.0
BATCH_TARGET_S = 60.0


def make_projects(district, n: int, seed: int) -> list:
    """``n`` random projects on the district's streets (metric CRS)."""
    from planner.project import make_project  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    net = district.area.net
    nodes = rng.integers(0, net.n_nodes, n)
    hh = rng.integers(200, 2001, n)
    per100 = district.profile.area_per_100hh["new"].min_m2
    out = []
    for i in range(n):
        x = net.node_x[nodes[i]] + rng.uniform(-30, 30)
        y = net.node_y[nodes[i]] + rng.uniform(-30, 30)
        m2 = hh[i] * per100 / 100 * rng.uniform(0.8, 1.2) if rng.random() < 0.75 else 0
        out.append(make_project(project_id=f"BP{i:05d}", households=int(hh[i]),
                                geometry=shapely.Point(x, y), facility_m2=round(m2),
                                dates={"planning_approval": "2024-03-01"}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=131_550)
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--facilities", type=int, default=1_000)
    parser.add_argument("--projects", type=int, default=1_000)
    parser.add_argument("--singles", type=int, default=20)
    parser.add_argument("--profile", default="jinzhong")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from planner.pipeline import load_study_area  # noqa: PLC0415
    from planner.project import check_project, prepare_district  # noqa: PLC0415
    from planner.project.batch import check_projects  # noqa: PLC0415
    from planner.project.inputs import ProjectRows  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        size = size_for_nodes(args.nodes)
        case = sample_case(Path(tmp), size=size, n_communities=args.communities,
                           n_facilities=args.facilities)
        f = case.files
        t0 = time.perf_counter()
        area = load_study_area(f["roads"], f["communities"], f["facilities"], gates=f["gates"])
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        district = prepare_district(area, load_profile(args.profile))
        t_prepare = time.perf_counter() - t0
        projects = make_projects(district, 1 + args.singles + args.projects, args.seed)
        t0 = time.perf_counter()
        check_project(district, projects[0])
        t_first = time.perf_counter() - t0
        singles = []
        for p in projects[1:1 + args.singles]:
            t0 = time.perf_counter()
            check_project(district, p)
            singles.append(time.perf_counter() - t0)
        batch = projects[1 + args.singles:]
        rows = ProjectRows([(i + 2, p) for i, p in enumerate(batch)],
                           pd.DataFrame(columns=["row"]), len(batch))
        t0 = time.perf_counter()
        result = check_projects(district, rows)
        t_batch = time.perf_counter() - t0

    n_nodes, n_comm, n_fac = area.net.n_nodes, len(area.communities), len(area.facilities)
    median, worst = statistics.median(singles), max(singles)
    ok_one = worst < ONE_PROJECT_TARGET_S
    ok_batch = t_batch * 1000 / max(1, len(batch)) < BATCH_TARGET_S
    verdicts = result.rows["verdict"].value_counts().to_dict()
    print(f"district: {n_nodes:,} nodes, {n_comm:,} communities, {n_fac:,} facilities "
          f"(sample size {size}), profile {args.profile}")
    print(f"  load {t_load:.1f} s; prepare once (StudyGraph + base floor area) {t_prepare:.1f} s")
    print(f"  first project (cold)          {1000 * t_first:8.0f} ms")
    print(f"  one project after the first   {1000 * median:8.0f} ms median, "
          f"{1000 * worst:.0f} ms slowest of {len(singles)}   target < "
          f"{ONE_PROJECT_TARGET_S:.0f} s: {'PASS' if ok_one else 'FAIL'}")
    print(f"  {len(batch):,} projects as a batch       {t_batch:8.1f} s "
          f"({1000 * t_batch / max(1, len(batch)):.0f} ms each); for 1,000: "
          f"{t_batch * 1000 / max(1, len(batch)):.1f} s   target < {BATCH_TARGET_S:.0f} s: "
          f"{'PASS' if ok_batch else 'FAIL'}")
    print(f"  verdicts {verdicts}; peak memory {peak_mb():,.0f} MB")
    return 0 if ok_one and ok_batch else 1


if __name__ == "__main__":
    sys.exit(main())
