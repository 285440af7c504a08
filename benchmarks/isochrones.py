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

With ``--data`` (a folder written by ``planner sample``, e.g. /tmp/s22 for ~131k nodes or
/tmp/s172 for ~1M), it instead times :func:`planner.isochrones.facility_circles` as
``planner run`` calls it (all existing facilities, 15 minutes at 1 m/s, one process),
in CPU seconds, three ways on the same study graph, and checks that all three give the
same polygons (WKB):

Each way runs in a fresh process, as ``planner run`` does (``--way`` runs one here).

* **before** (issue 8 session of 2026-11-30): the street grid runs cut on every run, the
  grid painted with two int64 bincounts, its corners found on 2-D slices, the
  simplified outlines checked for validity a second time;
* **after, no cache** (``--no-cache``, or the first run on a network): runs cut;
* **after, cached runs** (every later run): runs memory-mapped from beside the network
  cache (:mod:`planner.isochrones.cache`).

The compiled network is cached under ``$XDG_CACHE_HOME``: point it at a scratch folder.
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


def _paint_before(runs: tuple[np.ndarray, ...], stack) -> np.ndarray:
    """The grid painter before: two int64 bincounts over the whole grid."""
    fac, row, lo, hi = runs
    r = (stack.block + 1 - stack.row_min)[fac] + row
    c0 = (1 - stack.col_min)[fac] + lo
    c1 = c0 + (hi - lo + 1)
    size = stack.n_rows * stack.width
    diff = np.bincount(r * stack.width + c0, minlength=size)
    diff -= np.bincount(r * stack.width + c1, minlength=size)
    return (np.cumsum(diff, out=diff) > 0).reshape(stack.n_rows, stack.width)


def _corners_before(grid: np.ndarray) -> tuple[np.ndarray, int]:
    """The corner finder before: 2-D slices of the grid."""
    while True:
        a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]
        ad, bc = a ^ d, b ^ c
        odd = ad ^ bc
        saddle = ~(ad | bc | odd)
        saddle &= a ^ b
        if not saddle.any():
            return odd.reshape(-1), odd.shape[1]
        a |= saddle & ~a
        b |= saddle & ~b


def _simplify_before(polygons: np.ndarray, tolerance_m: float = 5.0) -> np.ndarray:
    """The outline simplifier before: every result checked for validity again."""
    out = shapely.simplify(polygons, tolerance_m, preserve_topology=False)
    bad = ~shapely.is_valid(out) | (shapely.is_empty(out) & ~shapely.is_empty(polygons))
    if bad.any():
        out[bad] = shapely.simplify(polygons[bad], tolerance_m, preserve_topology=True)
    return out


WAYS = {"before": "before", "after": "after, no cache (runs cut)", "cached": "after, cached runs"}


def study_area_circles(data: Path, way: str) -> None:
    """CPU seconds of a study area's circles one ``way``, in this process (``--data``).

    Prints one JSON line: ``way``, ``cpu_s``, ``wall_s`` and a digest of the polygons' WKB.
    """
    import hashlib  # noqa: PLC0415
    import json  # noqa: PLC0415

    import planner.isochrones.facilities as facilities_module  # noqa: PLC0415
    import planner.isochrones.trace as trace_module  # noqa: PLC0415
    from planner.isochrones import facility_circles, sample_edges  # noqa: PLC0415
    from planner.isochrones.cache import load_runs, save_runs  # noqa: PLC0415
    from planner.pipeline import load_study_area  # noqa: PLC0415
    from planner.reach import ReachParams, compute_reach  # noqa: PLC0415

    area = load_study_area(data / "roads.gpkg", data / "communities.gpkg",
                           data / "facilities.csv", gates=data / "gates.csv")
    fac = area.facilities[area.facilities["status"].fillna("existing").eq("existing")]
    comm = area.communities
    reach = compute_reach(area.net, comm, fac, circle_minutes=np.full(len(comm), 15.0),
                          params=ReachParams(speed_m_s=1.0), gates=area.gates)
    net = reach.study.net
    if way == "cached":
        if net.cache_file is None:
            raise SystemExit("no network cache: set XDG_CACHE_HOME to a writable folder")
        if load_runs(net) is None:
            save_runs(net, sample_edges(net))
    else:
        net.cache_file = None  # runs cut in the call, as with --no-cache
    if way == "before":
        trace_module._paint, trace_module._corners = _paint_before, _corners_before
        facilities_module.simplify_outlines = _simplify_before
    wall, start = time.perf_counter(), time.process_time()
    got = facility_circles(reach.study, fac, minutes=15, speed_m_s=1.0, workers=1)
    cpu_s, wall_s = time.process_time() - start, time.perf_counter() - wall
    digest = hashlib.sha256(b"".join(shapely.to_wkb(got.geometry.to_numpy()))).hexdigest()
    print(json.dumps({"way": way, "cpu_s": cpu_s, "wall_s": wall_s, "digest": digest,
                      "nodes": net.n_nodes, "facilities": len(fac)}))


def study_area_table(data: Path) -> None:
    """Each way in a fresh process (as ``planner run`` starts), side by side."""
    import json  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    rows = []
    for way in WAYS:
        out = subprocess.run([sys.executable, __file__, "--data", str(data), "--way", way],
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    first = rows[0]
    print(f"{data}: {first['nodes']:,} nodes, {first['facilities']:,} facilities; "
          "walking circles in one process (fresh), 15 min at 1 m/s")
    print(f"  {'way':<32}{'CPU-s':>8}{'wall s':>8}")
    for r in rows:
        print(f"  {WAYS[r['way']]:<32}{r['cpu_s']:>8.2f}{r['wall_s']:>8.2f}")
    same = len({r["digest"] for r in rows}) == 1
    saved = rows[0]["cpu_s"] - rows[-1]["cpu_s"]
    print(f"  same polygons (WKB digest) all ways: {same}; cached vs before: "
          f"{saved:.2f} CPU-s less ({saved / rows[0]['cpu_s']:.0%})")


def _parser() -> argparse.ArgumentParser:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None,
                    help="a planner sample folder: time its circles before and after")
    ap.add_argument("--way", choices=sorted(WAYS), default=None,
                    help="with --data: time only this way, in this process")
    ap.add_argument("--size", type=float, default=22.5, help="sample district size")
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--exact", type=int, default=100, help="facilities for the slow methods")
    ap.add_argument("--budget-m", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many fast runs")
    return ap


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    args = _parser().parse_args(argv)
    if args.data is not None:
        if args.way:
            study_area_circles(args.data, args.way)
        else:
            study_area_table(args.data)
        return

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
