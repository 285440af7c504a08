"""Time the gap map: ``gap_map`` and ``save_map`` (with the offline base: the network's
streets, the river and the boundary), the size of the HTML written, and the printed PNG.

    .venv/bin/python benchmarks/maps.py                 # sample at size 1, and the city
    .venv/bin/python benchmarks/maps.py --sizes 1 --repeat 5
    .venv/bin/python benchmarks/maps.py --from-out /tmp/o22   # a `planner run` output folder
    .venv/bin/python benchmarks/maps.py --sizes --data /tmp/s22   # a sample written before

Each size is generated into a temporary folder with ``planner.sample.write_sample``
(size 22 is the ~130k-node city with 10,000 communities and 1,000 facilities), loaded and
assessed with ``planner.pipeline`` as ``planner run`` does, so the layers reach the map in
the analysis CRS exactly as in a run. ``--from-out`` reads a run's written layers
instead (EPSG:4326, as a user reopening the outputs would); ``--data`` assesses a
sample folder written before (``planner sample``). Best of ``--repeat`` runs, in wall
seconds and in CPU seconds of this process (the figure to compare on a shared machine);
``--keep`` copies the last HTML of each case there (to open it in a browser).

Targets at the city size (the whole ``planner run`` must stay under 20 s): gap_map +
save_map under 5 s and HTML under 15 MB with the base streets drawn (191,000 street
edges; without the base the map took under 3 s). ``--print`` also
times an A4 PNG print (``planner.maps.printing``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.maps import BaseMap, gap_map, read_outline, save_map, street_lines
from planner.maps.printing import print_map

#: (size, communities, facilities); None keeps the sample's own counts.
CASES = {1.0: (None, None), 22.0: (10_000, 1_000)}
TARGET_S = 5.0
TARGET_MB = 15.0


def assessed(size: float, folder: Path) -> tuple:
    """Communities, facilities, circles and targets of the sample at ``size``."""
    from planner.sample import write_sample  # noqa: PLC0415

    n_comm, n_fac = CASES.get(size, (None, None))
    files = write_sample(folder, size=size, n_communities=n_comm, n_facilities=n_fac)
    return assessed_files(files, f"size {size:g}")


def assessed_files(files: dict[str, Path], label: str) -> tuple:
    """Communities, facilities, circles, targets and base map of a sample's files."""
    from planner.pipeline import assess, load_study_area  # noqa: PLC0415

    area = load_study_area(files["roads"], files["communities"], files["facilities"],
                           gates=files["gates"])
    result = assess(area, "jinzhong")
    t0, c0 = time.perf_counter(), time.process_time()
    base = BaseMap(streets=street_lines(area.net),
                   water=read_outline(files["river"], what="water"),
                   boundary=read_outline(files["boundary"], what="boundary"))
    print(f"{label}: {area.net.n_edges:,} edges → {len(base.streets):,} street lines in "
          f"{time.perf_counter() - t0:.2f} s ({time.process_time() - c0:.2f} s CPU)",
          file=sys.stderr)
    return result.communities, result.facilities, result.isochrones, result.targets, base


def sample_files(folder: Path) -> dict[str, Path]:
    """The files of a sample folder written by ``planner sample``."""
    names = {"roads": "roads.gpkg", "communities": "communities.gpkg",
             "facilities": "facilities.csv", "gates": "gates.csv",
             "river": "river.geojson", "boundary": "boundary.geojson"}
    return {key: folder / name for key, name in names.items()}


def from_out(out: Path) -> tuple:
    """The layers a ``planner run`` wrote to ``out`` (EPSG:4326)."""
    comm = gpd.read_file(out / "communities.gpkg").set_index("community_id")
    fac = gpd.read_file(out / "facilities.gpkg", layer="facilities").set_index("facility_id")
    iso = gpd.read_file(out / "facilities.gpkg", layer="isochrones")
    return comm, fac, iso, pd.read_csv(out / "targets.csv"), None


def measure(label: str, layers: tuple, folder: Path, repeat: int, keep: Path | None,
            *, printed: bool = False) -> dict:
    comm, fac, iso, targets, base = layers
    best_map = best_save = cpu_map = cpu_save = float("inf")
    path = folder / f"{label}.html"
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        m = gap_map(comm, fac, iso, title=f"benchmark {label}", warnings=["synthetic sample"],
                    targets=targets, base=base)
        t1, c1 = time.perf_counter(), time.process_time()
        save_map(m, path)
        t2, c2 = time.perf_counter(), time.process_time()
        best_map, best_save = min(best_map, t1 - t0), min(best_save, t2 - t1)
        cpu_map, cpu_save = min(cpu_map, c1 - c0), min(cpu_save, c2 - c1)
    streets_mb = sum(len(x.data) for x in m.layers if x.id == "base-streets") / 1e6
    print_s = float("nan")
    if printed:
        t0 = time.perf_counter()
        print_map(comm, fac, folder / f"{label}.png", title=label, base=base)
        print_s = time.perf_counter() - t0
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, keep / path.name)
    n_iso = 0 if iso is None else len(iso)
    vertices = 0 if iso is None else int(iso.geometry.count_coordinates().sum())
    return {"case": label, "communities": len(comm), "facilities": len(fac),
            "circles": n_iso, "circle vertices": vertices, "gap_map s": best_map,
            "save_map s": best_save, "total s": best_map + best_save,
            "gap_map CPU s": cpu_map, "save_map CPU s": cpu_save,
            "total CPU s": cpu_map + cpu_save,
            "HTML MB": path.stat().st_size / 1e6, "streets MB": streets_mb,
            "A4 PNG s": print_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="*", default=list(CASES))
    parser.add_argument("--from-out", type=Path, action="append", default=[],
                        help="a planner run output folder to time as well")
    parser.add_argument("--data", type=Path, action="append", default=[],
                        help="a sample folder (planner sample) to assess and time as well")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="copy the HTML files here")
    parser.add_argument("--print", action="store_true", help="also time an A4 PNG print")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="planner-maps-") as tmp:
        tmp_dir = Path(tmp)
        for size in args.sizes:
            t0 = time.perf_counter()
            layers = assessed(size, tmp_dir / f"size{size:g}")
            print(f"size {size:g}: sample written and assessed in "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
            rows.append(measure(f"size{size:g}", layers, tmp_dir, args.repeat, args.keep,
                                printed=args.print))
        for data in args.data:
            rows.append(measure(f"data-{data.name}",
                                assessed_files(sample_files(data), str(data)), tmp_dir,
                                args.repeat, args.keep))
        for out in args.from_out:
            rows.append(measure(f"out-{out.name}", from_out(out), tmp_dir, args.repeat,
                                args.keep))
    table = pd.DataFrame(rows).set_index("case")
    with pd.option_context("display.width", 200, "display.float_format", "{:.2f}".format):
        print(table.to_string())
    failed = False
    for case, row in table.iterrows():
        if row["communities"] >= 10_000:
            ok = row["total s"] < TARGET_S and row["HTML MB"] < TARGET_MB
            failed |= not ok
            print(f"{case}: total {row['total s']:.2f} s (< {TARGET_S} s), "
                  f"{row['HTML MB']:.1f} MB (< {TARGET_MB} MB): {'PASS' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
