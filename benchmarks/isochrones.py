"""Time and check street-following circles against the buffered-edge union and hulls.

Builds the synthetic sample district at ``--size`` (22.5 gives about 134,000 road nodes),
places ``--facilities`` facilities at random positions beside random streets, runs the
Dijkstra once, then, on the same distances:

* the fast grid method (:func:`planner.isochrones.circle_polygons`) for all facilities,
  with the once-per-network preparation (:func:`planner.isochrones.sample_edges`) timed
  apart;
* the exact buffered-edge union (:func:`planner.isochrones.exact_circle_polygon`) for the
  first ``--exact`` facilities, extrapolated to all;
* the concave hull (ratio 0.3) and convex hull of reached nodes for the same subset.

Areas are compared with the exact union: the fast method's signed error, and each
hull's over-claim (its area outside the exact union, as a share of the exact area).
Run single-threaded::

    .venv/bin/python benchmarks/isochrones.py [--size 22.5] [--facilities 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"  # single-threaded, before numpy is imported

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyproj  # noqa: E402
import shapely  # noqa: E402

from planner.isochrones import (  # noqa: E402
    circle_polygons,
    exact_circle_polygon,
    sample_edges,
    simplify_outlines,
)
from planner.network.store import CompiledNetwork, compile_arrays  # noqa: E402
from planner.reach import (  # noqa: E402
    AccessPoints,
    build_reach_graph,
    circle_distances,
    facility_batches,
    snap_points,
)
from planner.sample import generate_sample  # noqa: E402

METRIC_CRS = "EPSG:32649"


def sample_network(size: float, *, seed: int) -> CompiledNetwork:
    """The sample district's roads as a compiled network (end points matched to 1 cm)."""
    roads = generate_sample(seed=seed, size=size, n_facilities=1).roads.to_crs(METRIC_CRS)
    geoms = roads.geometry.to_numpy()
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(geoms, 0)),
                      shapely.get_coordinates(shapely.get_point(geoms, -1))])
    _, first, inverse = np.unique(np.round(ends, 2), axis=0, return_index=True,
                                  return_inverse=True)
    inverse = inverse.ravel()
    xy = ends[first]
    return compile_arrays(crs=pyproj.CRS(METRIC_CRS).to_wkt(), node_x=xy[:, 0],
                          node_y=xy[:, 1], edge_u=inverse[: len(geoms)],
                          edge_v=inverse[len(geoms):], edge_geoms=geoms)


def facility_distances(
    net: CompiledNetwork, n: int, budget_m: float, *, seed: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], float]:
    """Node distances of ``n`` random facilities (up to 10 m off their street).

    Returns ``(node_dist, (own_edge, own_along_m, own_budget_m), seconds)``.
    """
    rng = np.random.default_rng(seed)
    edge = rng.integers(0, net.n_edges, n)
    on_road = shapely.line_interpolate_point(net.edge_geoms[edge],
                                             rng.random(n) * net.edge_length[edge])
    xy = shapely.get_coordinates(on_road) + rng.uniform(-7, 7, (n, 2))
    access = snap_points(net, shapely.points(xy), max_m=100.0)
    none = AccessPoints(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    rg = build_reach_graph(net, access, none, 0)
    snapped = np.flatnonzero(rg.facility_node >= 0)
    start = time.perf_counter()
    rows = [circle_distances(rg, b, limit_m=budget_m)[0][:, : net.n_nodes]
            for b in facility_batches(rg, snapped)]
    seconds = time.perf_counter() - start
    own = (access.edge[snapped], access.along_m[snapped], budget_m - access.offroad_m[snapped])
    return np.vstack(rows), own, seconds


def timed(fn, *args, **kwargs):
    """``(seconds, result)`` of one call."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def hulls(net: CompiledNetwork, node_dist: np.ndarray, budget_m: float,
          rows: range) -> tuple[float, float, list, list]:
    """Concave (ratio 0.3) and convex hulls of the reached nodes of ``rows``."""
    pts = [shapely.multipoints(np.c_[net.node_x, net.node_y][node_dist[r] <= budget_m])
           for r in rows]
    t_concave, concave = timed(lambda: [shapely.concave_hull(p, ratio=0.3) for p in pts])
    t_convex, convex = timed(lambda: [shapely.convex_hull(p) for p in pts])
    return t_concave, t_convex, concave, convex


def over_claim(hull: list, exact: list) -> np.ndarray:
    """Area of each hull outside the exact union, as a share of the exact area."""
    h, e = np.array(hull, dtype=object), np.array(exact, dtype=object)
    return shapely.area(shapely.difference(h, e)) / shapely.area(e)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=float, default=22.5, help="sample district size")
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--exact", type=int, default=100, help="facilities for the slow methods")
    ap.add_argument("--budget-m", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many fast runs")
    args = ap.parse_args(argv)

    t_net, net = timed(sample_network, args.size, seed=args.seed)
    node_dist, (oe, oa, ob), t_dij = facility_distances(net, args.facilities, args.budget_m,
                                                        seed=args.seed)
    n = len(node_dist)
    k = min(args.exact, n)
    print(f"network: size {args.size}, {net.n_nodes:,} nodes, {net.n_edges:,} edges "
          f"(built in {t_net:.1f} s); {n:,} facilities, budget {args.budget_m:.0f} m")
    print(f"dijkstra (all facilities): {t_dij:.2f} s")

    t_prep, samples = timed(sample_edges, net)
    fast_times = []
    for _ in range(max(1, args.repeat)):
        t, fast = timed(circle_polygons, net, samples, node_dist, args.budget_m,
                        own_edge=oe, own_along_m=oa, own_budget_m=ob)
        fast_times.append(t)
    t_fast = min(fast_times)
    t_simple, simple = timed(simplify_outlines, np.array(fast, dtype=object))
    t_exact, exact = timed(lambda: [
        exact_circle_polygon(net, node_dist[r], args.budget_m, own_edge=int(oe[r]),
                             own_along_m=float(oa[r]), own_budget_m=float(ob[r]))
        for r in range(k)])
    t_concave, t_convex, concave, convex = hulls(net, node_dist, args.budget_m, range(k))

    e_area = shapely.area(np.array(exact, dtype=object))
    f_arr = np.array(fast[:k], dtype=object)
    err = shapely.area(f_arr) / e_area - 1
    sym = shapely.area(shapely.symmetric_difference(f_arr, np.array(exact, dtype=object)))
    valid = bool(shapely.is_valid(np.array(fast, dtype=object)).all())
    s_err = shapely.area(simple[:k]) / e_area - 1
    s_valid = bool(shapely.is_valid(simple).all())
    vertices = (shapely.get_num_coordinates(np.array(fast, dtype=object)).sum(),
                shapely.get_num_coordinates(simple).sum())
    c_over, x_over = over_claim(concave, exact), over_claim(convex, exact)

    def row(name: str, seconds: float, count: int, note: str) -> None:
        per = seconds / count * 1000
        print(f"{name:<34}{count:>7,}{seconds:>10.2f}{per:>10.2f}{per * n / 1000:>12.2f}  {note}")

    def once(name: str, seconds: float) -> None:
        print(f"{name:<34}{'':>7}{seconds:>10.2f}{'':>10}{seconds:>12.2f}")

    print()
    print(f"{'method':<34}{'count':>7}{'time s':>10}{'ms each':>10}{'all N s':>12}  area vs exact")
    print("-" * 100)
    once("prepare runs (once per network)", t_prep)
    row(f"fast grid, best of {len(fast_times)}", t_fast, n,
        f"error mean {err.mean():+.2%}, max |{np.abs(err).max():.2%}|; all valid: {valid}")
    row("simplified once (5 m)", t_simple, n,
        f"error mean {s_err.mean():+.2%}, max |{np.abs(s_err).max():.2%}|; all valid: "
        f"{s_valid}; vertices {vertices[0]:,} -> {vertices[1]:,}")
    once("fast grid + preparation + simplify", t_fast + t_prep + t_simple)
    row("exact buffered-edge union", t_exact, k, "reference")
    row("concave hull of nodes (0.3)", t_concave, k,
        f"over-claims mean {c_over.mean():.1%}, max {c_over.max():.1%}")
    row("convex hull of nodes", t_convex, k,
        f"over-claims mean {x_over.mean():.1%}, max {x_over.max():.1%}")
    print()
    print(f"fast vs exact on {k} facilities: mean exact area {e_area.mean() / 1e6:.3f} km², "
          f"symmetric difference {np.mean(sym / e_area):.1%} of it (cell staircase)")


if __name__ == "__main__":
    main()
