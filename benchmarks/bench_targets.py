"""How long targets, allocation and the timeline take at city scale (no network search).

Run: ``.venv/bin/python benchmarks/bench_targets.py [n_estates]``. Prints seconds for
``evaluate_targets`` (every Yangjiang and Jinzhong target), ``allocation_status`` and a
5-year ``timeline``, beside the catchment measure (``coverage.assess``) on the same tables.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from planner.coverage import assess as assess_coverage
from planner.gaps import evaluate_targets
from planner.judge import timeline
from planner.standards import allocation_status, load_profile, required_m2_per_100hh


def district(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"c{i}" for i in range(n)], name="community_id")
    streets = rng.integers(0, max(n // 200, 2), n)
    comm = pd.DataFrame({
        "households": rng.integers(50, 2000, n), "area_type": np.where(streets % 5, "urban",
                                                                       "rural"),
        "area_type_basis": "given", "status": np.where(rng.random(n) < 0.3, "new", "old"),
        "street": [f"S{s}" for s in streets], "street_type": np.where(streets % 5, "street",
                                                                      "township"),
        "shequ": [f"Q{i // 4}" for i in range(n)],
        "pooling_group": [f"G{i // 3}" if i % 7 == 0 else None for i in range(n)]}, index=ids)
    m = n // 10
    kinds = rng.choice(["station", "day_care", "street_centre", "township_centre",
                        "nursing_home", "mutual_aid"], m)
    fac = pd.DataFrame({
        "kind": kinds, "floor_area_m2": rng.uniform(100, 2000, m),
        "street": [f"S{s}" for s in rng.integers(0, max(n // 200, 2), m)],
        "shequ": [f"Q{q}" for q in rng.integers(0, n // 4, m)],
        "beds": rng.integers(0, 100, m), "nursing_beds": rng.integers(0, 50, m),
        "level": rng.choice(["county", "township", "community"], m),
        "serves_community_id": [f"c{c}" for c in rng.integers(0, n, m)],
        "status": np.where(rng.random(m) < 0.2, "planned", "existing"),
        "opening_year": rng.integers(2025, 2030, m)},
        index=pd.Index([f"f{i}" for i in range(m)], name="facility_id"))
    pairs = pd.DataFrame({"facility_id": rng.choice(fac.index, n * 10),
                          "community_id": rng.choice(ids, n * 10)}).drop_duplicates()
    return comm, fac, pairs


def main(n: int) -> None:
    comm, fac, pairs = district(n)
    existing = fac[fac["status"] == "existing"]
    for name in ("yangjiang", "jinzhong"):
        p = load_profile(name)
        t0 = time.perf_counter()
        alloc, _ = allocation_status(comm, existing, p)
        t1 = time.perf_counter()
        judged = comm.join(alloc)
        evaluate_targets(p.targets.values(), judged, existing, pairs, as_of=2024)
        t2 = time.perf_counter()
        timeline(p, judged, fac, pairs, as_of=2025)
        t3 = time.perf_counter()
        assess_coverage(comm, existing, pairs, required_m2_per_100hh=required_m2_per_100hh(
            comm["status"].to_numpy(), p))
        t4 = time.perf_counter()
        print(f"{name:9s} {n:>7,d} estates {len(fac):>6,d} facilities {len(pairs):>8,d} pairs: "
              f"allocation {t1 - t0:6.3f} s  targets ({len(p.targets)}) {t2 - t1:6.3f} s  "
              f"timeline (5 years) {t3 - t2:6.3f} s  | catchment 2SFCA {t4 - t3:6.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
