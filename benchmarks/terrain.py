"""Terrain and population rasters at city scale: build times side by side.

    .venv/bin/python benchmarks/terrain.py                 # ~131k nodes (the issue's case)
    .venv/bin/python benchmarks/terrain.py --nodes 10000   # quick

On the sample district at the given node count (10,000 communities, 1,000 facilities):

* ``terrain graph``: DEM sampled every 10 m along every edge (a 30 m synthetic DEM of
  hills, like SRTM), directed costs, and the transposed CSR the engine searches
  (``sample_edges`` + ``terrain_network`` + ``adjacency()``); target < 5 s.
* ``zonal sums``: exact sums of a 100 m population raster (like WorldPop) over the
  10,000 community polygons (``zonal_sums``, exactextract); target < 5 s.
* ``reach flat`` / ``reach terrain``: the engine's nearest facility + bounded circle
  searches on the flat and the terrain graph (the engine's speed holds with directed
  costs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import force_single_thread, sample_case, size_for_nodes, timed

force_single_thread()

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from affine import Affine  # noqa: E402

TARGET_S = 5.0


def write_hills(path: Path, bounds: tuple[float, ...], crs: str, cell_m: float) -> Path:
    """A synthetic DEM: a tilt plus a few Gaussian hills 40-120 m high."""
    x0, y0, x1, y1 = bounds[0] - 200, bounds[1] - 200, bounds[2] + 200, bounds[3] + 200
    w, h = int((x1 - x0) / cell_m) + 1, int((y1 - y0) / cell_m) + 1
    xs = x0 + (np.arange(w) + 0.5) * cell_m
    ys = y1 - (np.arange(h) + 0.5) * cell_m
    xx, yy = np.meshgrid(xs, ys)
    rng = np.random.default_rng(7)
    z = 200 + 0.01 * (xx - x0)
    for _ in range(12):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        z += rng.uniform(40, 120) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2)
                                           / (2 * rng.uniform(400, 1200) ** 2))
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1,
                       dtype="float32", crs=crs, transform=Affine(cell_m, 0, x0, 0, -cell_m, y1),
                       compress="deflate") as dst:
        dst.write(z.astype("float32"), 1)
    return path


def write_people(path: Path, bounds: tuple[float, ...], crs: str, cell_m: float) -> Path:
    """A population raster of 0-400 people per cell."""
    x0, y0, x1, y1 = bounds
    w, h = int((x1 - x0) / cell_m) + 1, int((y1 - y0) / cell_m) + 1
    rng = np.random.default_rng(3)
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1,
                       dtype="float32", crs=crs, transform=Affine(cell_m, 0, x0, 0, -cell_m, y1),
                       nodata=-1) as dst:
        dst.write(rng.uniform(0, 400, (h, w)).astype("float32"), 1)
    return path


def reach_time(net, comm, fac) -> float:
    """Seconds for snapping, graph, nearest facility and bounded 900 m circle searches."""
    import shapely  # noqa: PLC0415

    from planner.reach import (  # noqa: PLC0415
        build_reach_graph,
        circle_searches,
        nearest_facility,
        snap_points,
    )

    def run():
        f = snap_points(net, fac, max_m=150)
        c = snap_points(net, shapely.centroid(comm), max_m=150)
        rg = build_reach_graph(net, f, c, len(comm))
        idx = np.arange(len(fac))
        nearest_facility(rg, idx, limit_m=3600)
        return sum(len(b.facilities) for b in circle_searches(rg, idx, limit_m=900))

    return timed(run)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=131_550)
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--facilities", type=int, default=1_000)
    args = parser.parse_args()

    import geopandas as gpd  # noqa: PLC0415

    from planner.rasters import zonal_sums  # noqa: PLC0415
    from planner.terrain import sample_edges, terrain_network  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        size = size_for_nodes(args.nodes)
        case = sample_case(tmp / "sample", size=size, n_communities=args.communities,
                           n_facilities=args.facilities)
        net = case.net
        crs = net.pyproj_crs.to_string()
        bounds = (net.node_x.min(), net.node_y.min(), net.node_x.max(), net.node_y.max())
        dem = write_hills(tmp / "dem.tif", bounds, crs, 30.0)
        people = write_people(tmp / "people.tif", bounds, crs, 100.0)
        comm = gpd.read_file(case.files["communities"]).to_crs(crs)
        fac = gpd.read_file(case.files["facilities"]) if str(
            case.files["facilities"]).endswith(".gpkg") else None
        if fac is None:
            import pandas as pd  # noqa: PLC0415

            table = pd.read_csv(case.files["facilities"])
            fac = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                                   crs=4326)
        fac = fac.to_crs(crs)

        def build():
            elev = sample_edges(net, dem)
            hilly = terrain_network(net, elevations=elev, speed_m_s=1.0)
            hilly.adjacency()
            return elev, hilly

        _ = net.tree  # the edge index is built at load in planner run
        t_build, (elev, hilly) = timed(build)
        polys = comm.geometry[comm.geom_type.isin(["Polygon", "MultiPolygon"])]
        t_zonal, sums = timed(lambda: zonal_sums(people, polys))
        t_flat = reach_time(net, comm.geometry.to_numpy(), fac.geometry.to_numpy())
        t_hill = reach_time(hilly, comm.geometry.to_numpy(), fac.geometry.to_numpy())

        ratio = hilly.directed.forward_m.sum() / net.edge_length.sum()
        print(f"sample size {size}: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
              f"{net.edge_length.sum() / 1000:,.0f} km of streets")
        print(f"  DEM 30 m: {elev.n_stations:,} stations; terrain costs / flat metres "
              f"= {ratio:.3f}")
        print(f"{'step':28s} {'seconds':>8s}  target")
        print(f"{'terrain graph (DEM+CSR)':28s} {t_build:8.2f}  < {TARGET_S:.0f} s "
              f"{'PASS' if t_build < TARGET_S else 'FAIL'}")
        print(f"{'zonal sums ' + format(len(polys), ',') + ' polygons':28s} {t_zonal:8.2f}  "
              f"< {TARGET_S:.0f} s {'PASS' if t_zonal < TARGET_S else 'FAIL'}"
              f"  (sum {np.nansum(sums):,.0f} people)")
        print(f"{'reach flat':28s} {t_flat:8.2f}")
        print(f"{'reach terrain':28s} {t_hill:8.2f}")
    return 0 if max(t_build, t_zonal) < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
