"""Province batch on a local Dask cluster against the same districts one after another.

Writes ``--districts`` generated districts (the sample generator at the sizes of
``--sizes``, cycled, each with its own seed), then:

1. a warm-up pass that compiles every network into the cache (not timed), so both runs
   read networks the same way;
2. **sequential**: :func:`planner.batch.run_district` for each district in this process,
   one after another (the same code path a worker runs);
3. **batch**: :func:`planner.batch.run_batch` on a local cluster of ``--workers`` worker
   processes (one thread each), timed with and without starting the cluster;
4. **growth**: the batch on the first 5, 10, … districts, to show how time grows with the
   number of districts.

Run::

    .venv/bin/python benchmarks/batch.py                 # 20 districts, sizes 0.3 0.6 1.0
    .venv/bin/python benchmarks/batch.py --districts 6 --sizes 0.2

The machine has two cores; other work running at the same time lowers the speed-up.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import force_single_thread

force_single_thread()

from planner.batch import DistrictSpec, read_districts, run_batch, run_district  # noqa: E402
from planner.batch.runner import local_cluster  # noqa: E402
from planner.sample import write_sample  # noqa: E402


def make_districts(root: Path, n: int, sizes: list[float]) -> Path:
    rows = []
    for i in range(n):
        name = f"d{i:02d}"
        write_sample(root / name, size=sizes[i % len(sizes)], seed=100 + i)
        rows.append({"district": name, "network": f"{name}/roads.gpkg",
                     "communities": f"{name}/communities.gpkg",
                     "facilities": f"{name}/facilities.csv", "gates": f"{name}/gates.csv",
                     "profile": "jinzhong"})
    pd.DataFrame(rows).to_csv(root / "districts.csv", index=False)
    return root / "districts.csv"


CPU: dict[str, float] = {}


def sequential(specs: list[DistrictSpec], out: Path) -> float:
    start = time.perf_counter()
    cpu = 0.0
    for spec in specs:
        rec = run_district(spec, str(out))
        assert rec["status"] == "done", rec["error"]
        cpu += rec["cpu_s"]
    CPU["sequential"] = cpu
    return time.perf_counter() - start


def batch(specs: list[DistrictSpec], out: Path, client: object) -> float:
    start = time.perf_counter()
    result = run_batch(specs, out, client=client)
    assert not result.failed, result.failed
    per_worker: dict[str, float] = {}
    for rec in result.records:
        per_worker[rec["worker"]] = per_worker.get(rec["worker"], 0.0) + rec["cpu_s"]
    CPU["batch"] = sum(per_worker.values())
    CPU["busiest_worker"] = max(per_worker.values())
    return time.perf_counter() - start


def _warm_imports() -> None:
    import planner.batch.task  # noqa: PLC0415
    import planner.maps  # noqa: PLC0415
    import planner.outputs  # noqa: PLC0415
    import planner.pipeline  # noqa: F401, PLC0415


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--districts", type=int, default=20)
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.3, 0.6, 1.0])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from distributed import Client  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = read_districts(make_districts(root, args.districts, args.sizes))
        sequential(specs, root / "warm")  # compiles and caches every network
        t_seq = sequential(specs, root / "seq")
        start = time.perf_counter()
        cluster = local_cluster(args.workers)
        client = Client(cluster)
        t_start = time.perf_counter() - start
        try:
            client.run(_warm_imports)  # every worker imports the pipeline once
            batch(specs[: args.workers], root / "warm-workers", client)
            t_batch = batch(specs, root / "batch", client)
            cpu = dict(CPU)
            growth = [(n, batch(specs[:n], root / f"grow{n}", client))
                      for n in range(5, args.districts + 1, 5)]
        finally:
            client.close()
            cluster.close()
    load = os.getloadavg()[0]
    print(f"{args.districts} districts (sizes {args.sizes}), {args.workers} workers, "
          f"{os.cpu_count()} cores, load average {load:.1f} at the end")
    print(f"{'run':<28}{'s':>8}{'speed-up':>10}")
    print(f"{'sequential (one process)':<28}{t_seq:8.1f}{1.0:10.2f}")
    print(f"{'batch, cluster running':<28}{t_batch:8.1f}{t_seq / t_batch:10.2f}")
    print(f"{'batch + cluster start':<28}{t_batch + t_start:8.1f}"
          f"{t_seq / (t_batch + t_start):10.2f}   (start {t_start:.1f} s)")
    print(f"\nCPU time of the district tasks: sequential {cpu['sequential']:.1f} s, batch "
          f"{cpu['batch']:.1f} s; busiest worker {cpu['busiest_worker']:.1f} s, so with a free "
          f"core per worker the batch would take about {cpu['busiest_worker']:.1f} s "
          f"({cpu['sequential'] / cpu['busiest_worker']:.2f}x); wall times above include "
          "waiting for cores that other jobs hold")
    print("\ngrowth with the number of districts (batch, cluster running)")
    print(f"{'districts':>10}{'s':>8}{'s/district':>12}")
    for n, t in growth:
        print(f"{n:>10}{t:8.1f}{t / n:12.2f}")


if __name__ == "__main__":
    main()
