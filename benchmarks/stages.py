"""How long each stage of `planner run` takes on the synthetic sample at several sizes.

Usage::

    python benchmarks/stages.py [--sizes 1 10] [--profile jinzhong]

Each size is generated, written to a temporary folder and run through the same calls as
`planner run` (load, reach + floor area, map, write), timing every stage. Figures vary
with the machine's load; run it twice when comparing.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from planner.maps import gap_map
from planner.outputs import write_outputs
from planner.pipeline import assess, load_study_area
from planner.sample import write_sample
from planner.standards import load_profile


@contextmanager
def timed(row: dict[str, float], name: str):
    start = time.perf_counter()
    yield
    row[name] = time.perf_counter() - start


def run_size(size: float, profile_name: str, tmp: Path) -> dict[str, float]:
    row: dict[str, float] = {}
    folder = tmp / f"size{size:g}"
    with timed(row, "generate+write sample"):
        files = write_sample(folder, seed=42, size=size)
    with timed(row, "compile network (no cache)"):
        area = load_study_area(files["roads"], files["communities"], files["facilities"],
                               gates=files["gates"], use_cache=False)
    with timed(row, "load (cached network)"):
        area = load_study_area(files["roads"], files["communities"], files["facilities"],
                               gates=files["gates"], use_cache=True)
    profile = load_profile(profile_name)
    with timed(row, "reach + floor area + targets"):
        result = assess(area, profile, isochrones=False)
    with timed(row, "reach incl. circle polygons"):
        result = assess(area, profile, isochrones=True)
    with timed(row, "gap map"):
        m = gap_map(result.communities, result.facilities, result.isochrones, title="bench",
                    targets=result.targets)
    with timed(row, "write outputs"):
        write_outputs(result, area, folder / "out", gap_map=m)
    row["nodes"] = area.net.n_nodes
    row["communities"] = len(area.communities)
    row["facilities"] = len(area.facilities)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--profile", default="jinzhong")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = {s: run_size(s, args.profile, Path(tmp)) for s in args.sizes}
    counts = ("nodes", "communities", "facilities")
    stages = [k for k in next(iter(rows.values())) if k not in counts]
    print(f"{'':32s}" + "".join(f"{'size ' + format(s, 'g'):>14s}" for s in rows))
    for k in counts:
        print(f"{k:32s}" + "".join(f"{int(r[k]):>14,d}" for r in rows.values()))
    for k in stages:
        print(f"{k + ' (s)':32s}" + "".join(f"{r[k]:>14.2f}" for r in rows.values()))
    total = {s: sum(r[k] for k in stages if k not in ("compile network (no cache)",
                                                       "reach + floor area + targets"))
             for s, r in rows.items()}
    print(f"{'planner run, cached network (s)':32s}" +
          "".join(f"{total[s] - rows[s]['generate+write sample']:>14.2f}" for s in rows))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
