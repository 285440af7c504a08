"""The reach engine against its peers: scipy, networkx, osmnx's ego_graph and pandana.

Usage::

    python benchmarks/reach_peers.py                 # ~10k and ~130k nodes, all peers
    python benchmarks/reach_peers.py --big           # also ~1M nodes (planner + scipy)
    python benchmarks/reach_peers.py --sizes 131550 --ego-facilities 50

For each network size the synthetic sample district (``planner.sample``) is written to a
temporary folder with 1,000 facilities and 10,000 communities, and its roads are loaded
through ``planner.network.compile_network``, the real loader. Facilities and community
centroids are moved to their nearest network node, so every tool answers exactly the
same question on exactly the same graph: which communities lie within 900 m (15 minutes
at 1.0 m/s) of each facility, and how far is each community's nearest facility.

Every tool runs in its own single-threaded subprocess (``OMP_NUM_THREADS=1`` …), so its
peak memory is its own. The script prints each timing, the ratios against the targets,
the growth with facilities and network size, and checks that all tools agree; it exits
non-zero if the planner and scipy or networkx disagree by more than 1e-6 m (1e-4 m for
the StudyGraph row ``planner``, whose lengths are rounded to 2⁻²⁰ m).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    available_mb,
    best_of,
    edge_arrays,
    force_single_thread,
    load_compiled_network,
    peak_mb,
    plain_csr,
    reset_peak,
    rss_mb,
    run_python,
    sample_case,
    size_for_nodes,
    timed,
)

force_single_thread()

import numpy as np  # noqa: E402

BUDGET_M = 900.0  # 15 minutes at 1.0 m/s
SPEED_M_S = 1.0
EXACT_TOL_M = 1e-6  # planner-core and networkx vs scipy: same float64 sums
#: planner (StudyGraph) rounds lengths to 2**-20 m so its sums are exact and order-free:
#: at most 0.48 µm per edge walked; a 900 m walk crosses far fewer than 200 edges
STUDY_TOL_M = 1e-4
PANDANA_TOL_M = 0.05  # pandana stores distances in single precision
TARGET_VS_SCIPY = 1.2  # planner no slower than 1.2x plain scipy
TARGET_VS_EGO = 100.0  # at least 100x faster than the ego_graph example
TARGET_VS_PANDANA = 5.0  # at least 5x faster than pandana, precompute included
TOOLS = ("planner", "planner-core", "scipy", "networkx", "ego_graph", "pandana")
BIG_TOOLS = ("planner", "planner-core", "scipy")


# =============================================================================== workers
# Each worker loads the case, resets its peak memory, times its tool and writes an .npz
# of results: ``nearest`` (metres per community, inf beyond the budget) and membership
# pairs ``pair_f, pair_c, pair_d`` (facility and community positions, metres) for the
# facilities it covered (``covered``).


def _load_case(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as z:
        case = {k: z[k] for k in z.files}
    case["net"] = load_compiled_network(Path(str(case["roads"])), Path(str(case["cache"])))
    return case


def _node_groups(nodes: np.ndarray) -> dict[int, list[int]]:
    """Community positions at each node (several communities may share one node)."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(nodes.tolist()):
        groups.setdefault(n, []).append(i)
    return groups


def _pairs_from_dicts(dists: list[dict], comm_nodes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Membership pairs from per-facility ``{node: metres}`` dicts."""
    groups = _node_groups(comm_nodes)
    f, c, d = [], [], []
    for fi, dist in enumerate(dists):
        for node in dist.keys() & groups.keys():
            for ci in groups[node]:
                f.append(fi)
                c.append(ci)
                d.append(dist[node])
    return np.asarray(f, np.int64), np.asarray(c, np.int64), np.asarray(d, float)


def _points(net: Any, nodes: np.ndarray, index: list[str], **columns: Any) -> Any:
    import geopandas as gpd  # noqa: PLC0415

    return gpd.GeoDataFrame(
        columns, index=index,
        geometry=gpd.points_from_xy(net.node_x[nodes], net.node_y[nodes]), crs=net.pyproj_crs,
    )


def work_planner(case: dict, args: argparse.Namespace) -> tuple[dict, dict]:
    """``planner.reach.compute_reach`` (a StudyGraph): what users run (snap, nearest, costs)."""
    from planner.reach import ReachParams, compute_reach  # noqa: PLC0415

    net, fn, cn = case["net"], case["fac_nodes"], case["comm_nodes"]
    fac = _points(net, fn, [f"f{i}" for i in range(len(fn))], kind=case["fac_kind"])
    comm = _points(net, cn, [f"c{i}" for i in range(len(cn))])
    params = ReachParams(speed_m_s=SPEED_M_S, report_limit_minutes=BUDGET_M / 60 / SPEED_M_S)
    minutes = np.full(len(cn), BUDGET_M / 60 / SPEED_M_S)
    reset_peak()
    first, best, res = best_of(lambda: compute_reach(net, comm, fac, circle_minutes=minutes,
                                                     params=params), args.repeat)
    costs = res.costs
    out = {
        "nearest": np.nan_to_num(res.communities["nearest_minutes"].to_numpy(float) * 60.0
                                 * SPEED_M_S, nan=np.inf),
        "pair_f": costs["facility_id"].str[1:].astype(int).to_numpy(),
        "pair_c": costs["community_id"].str[1:].astype(int).to_numpy(),
        "pair_d": costs["distance_m"].to_numpy(float),
        "covered": np.arange(len(fn)),
    }
    return {"first_s": first, "total_s": best}, out


def _planner_core(net: Any, fn: np.ndarray, cn: np.ndarray) -> tuple[dict, tuple]:
    """Snap, split, nearest (one multi-source search) and circles, timed by phase."""
    import shapely  # noqa: PLC0415

    from planner.reach import (  # noqa: PLC0415
        build_reach_graph,
        circle_searches,
        nearest_facility,
        snap_points,
    )

    t: dict[str, float] = {}
    fp = shapely.points(net.node_x[fn], net.node_y[fn])
    cp = shapely.points(net.node_x[cn], net.node_y[cn])
    t["snap_s"], (fa, ca) = timed(lambda: (snap_points(net, fp, max_m=150.0),
                                           snap_points(net, cp, max_m=150.0)))
    t["graph_s"], rg = timed(lambda: build_reach_graph(net, fa, ca, len(cn)))
    t["nearest_s"], (best, _) = timed(lambda: nearest_facility(rg, np.arange(len(fn)),
                                                               limit_m=BUDGET_M))

    def circles() -> tuple[np.ndarray, ...]:
        f, c, d = [], [], []
        budget = np.full(rg.n_communities, BUDGET_M)
        for batch in circle_searches(rg, np.flatnonzero(rg.facility_node >= 0),
                                     limit_m=BUDGET_M):
            fi, ci, di = batch.community_pairs(budget)
            f.append(fi)
            c.append(ci)
            d.append(di)
        return np.concatenate(f), np.concatenate(c), np.concatenate(d)

    t["circles_s"], pairs = timed(circles)
    t["total_s"] = sum(t.values())
    return t, (best, *pairs)


def work_planner_core(case: dict, args: argparse.Namespace) -> tuple[dict, dict]:
    """The engine core at node level: ``snap_points`` … ``circle_searches``."""
    net, fn, cn = case["net"], case["fac_nodes"], case["comm_nodes"]
    _planner_core(net, fn[:10], cn[:10])  # build the edge geometries and STRtree once
    reset_peak()
    runs = [_planner_core(net, fn, cn) for _ in range(max(1, args.repeat))]
    timing = min((r[0] for r in runs), key=lambda r: r["total_s"])
    timing["first_s"] = runs[0][0]["total_s"]
    peak = peak_mb()
    timing["growth"] = {str(k): min(_planner_core(net, fn[:k], cn)[0]["total_s"]
                                    for _ in range(max(1, args.repeat)))
                        for k in _growth_counts(len(fn))}
    best, f, c, d = runs[-1][1]
    return timing | {"_peak": peak}, {"nearest": best, "pair_f": f, "pair_c": c, "pair_d": d,
                                      "covered": np.arange(len(fn))}


def _growth_counts(n: int) -> list[int]:
    return sorted({max(1, n // 4), max(1, n // 2), n})


def _scipy_run(csr: Any, fn: np.ndarray, cn: np.ndarray, batch: int) -> tuple[dict, tuple]:
    from scipy.sparse.csgraph import dijkstra  # noqa: PLC0415

    t: dict[str, float] = {}

    def circles() -> tuple[np.ndarray, ...]:
        f, c, d = [], [], []
        for s in range(0, len(fn), batch):
            dist = dijkstra(csr, directed=True, indices=fn[s:s + batch], limit=BUDGET_M)
            sub = dist[:, cn]
            fi, ci = np.nonzero(sub <= BUDGET_M)
            f.append(fi + s)
            c.append(ci)
            d.append(sub[fi, ci])
        return np.concatenate(f), np.concatenate(c), np.concatenate(d)

    t["nearest_s"], near = timed(lambda: dijkstra(csr, directed=True, indices=fn,
                                                  limit=BUDGET_M, min_only=True)[cn])
    t["circles_s"], pairs = timed(circles)
    t["total_s"] = t["nearest_s"] + t["circles_s"]
    return t, (near, *pairs)


def work_scipy(case: dict, args: argparse.Namespace) -> tuple[dict, dict]:
    """Plain ``scipy.sparse.csgraph.dijkstra(limit=)`` on a CSR of the same edges."""
    from scipy.sparse.csgraph import dijkstra  # noqa: PLC0415

    from planner.reach import BATCH_BYTES  # noqa: PLC0415 - batch exactly like the planner

    net, fn, cn = case["net"], case["fac_nodes"], case["comm_nodes"]
    build_s, csr = timed(lambda: plain_csr(*edge_arrays(net), net.n_nodes))
    batch = max(1, BATCH_BYTES // (8 * net.n_nodes))
    reset_peak()
    runs = [_scipy_run(csr, fn, cn, batch) for _ in range(max(1, args.repeat))]
    timing = min((r[0] for r in runs), key=lambda r: r["total_s"])
    timing |= {"first_s": runs[0][0]["total_s"], "build_s": build_s, "batch": batch}
    peak = peak_mb()
    timing["growth"] = {str(k): min(_scipy_run(csr, fn[:k], cn, batch)[0]["total_s"]
                                    for _ in range(max(1, args.repeat)))
                        for k in _growth_counts(len(fn))}
    one_shot_mb = 8 * len(fn) * net.n_nodes / 2**20
    if one_shot_mb < min(args.one_shot_mb, available_mb() / 2):
        timing["one_shot_s"], _ = timed(lambda: dijkstra(csr, directed=True, indices=fn,
                                                         limit=BUDGET_M)[:, cn] <= BUDGET_M)
    near, f, c, d = runs[-1][1]
    return timing | {"_peak": peak}, {"nearest": near, "pair_f": f, "pair_c": c, "pair_d": d,
                                      "covered": np.arange(len(fn))}


def _reduced_edges(net: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges with parallel edges reduced to the shortest (networkx keeps one per pair)."""
    csr = plain_csr(*edge_arrays(net), net.n_nodes)
    coo = csr.tocoo()
    upper = coo.row < coo.col
    return coo.row[upper], coo.col[upper], coo.data[upper]


def work_networkx(case: dict, args: argparse.Namespace) -> tuple[dict, dict]:
    """``nx.single_source_dijkstra_path_length(cutoff=)`` per facility; multi-source nearest."""
    import networkx as nx  # noqa: PLC0415

    net, fn, cn = case["net"], case["fac_nodes"], case["comm_nodes"]
    u, v, w = _reduced_edges(net)

    def build() -> nx.Graph:
        G = nx.Graph()
        G.add_nodes_from(range(net.n_nodes))
        edges = zip(u.tolist(), v.tolist(), w.tolist(), strict=True)
        G.add_weighted_edges_from(edges, weight="length")
        return G

    build_s, G = timed(build)
    k = min(len(fn), args.nx_facilities)
    comm_set = set(cn.tolist())
    reset_peak()
    near_s, near = timed(lambda: nx.multi_source_dijkstra_path_length(
        G, set(fn.tolist()), cutoff=BUDGET_M, weight="length"))

    def circles() -> list[dict]:
        out = []
        for s in fn[:k].tolist():
            d = nx.single_source_dijkstra_path_length(G, s, cutoff=BUDGET_M, weight="length")
            out.append({n: d[n] for n in d.keys() & comm_set})
        return out

    circles_s, dists = timed(circles)
    f, c, d = _pairs_from_dicts(dists, cn)
    scale = len(fn) / k
    timing = {"build_s": build_s, "nearest_s": near_s, "circles_s": circles_s * scale,
              "total_s": near_s + circles_s * scale, "measured": k, "extrapolated": k < len(fn)}
    nearest = np.array([near.get(n, np.inf) for n in cn.tolist()])
    return timing, {"nearest": nearest, "pair_f": f, "pair_c": c, "pair_d": d,
                    "covered": np.arange(k)}


def work_ego_graph(case: dict, args: argparse.Namespace) -> tuple[dict, dict]:
    """Osmnx's isochrone example: ``nx.ego_graph(distance="time")`` + convex hull of nodes."""
    import geopandas as gpd  # noqa: PLC0415
    import networkx as nx  # noqa: PLC0415
    from shapely.geometry import Point  # noqa: PLC0415

    net, fn, cn = case["net"], case["fac_nodes"], case["comm_nodes"]
    u, v, w = edge_arrays(net)
    metres_per_minute = SPEED_M_S * 60.0
    trip_time = BUDGET_M / metres_per_minute

    def build() -> nx.MultiDiGraph:  # as osmnx's walking graph: both directions stored
        G = nx.MultiDiGraph(crs=net.crs)
        xy = zip(net.node_x.tolist(), net.node_y.tolist(), strict=True)
        G.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(xy))
        for a, b, length in zip(u.tolist(), v.tolist(), w.tolist(), strict=True):
            G.add_edge(a, b, length=length, time=length / metres_per_minute)
            G.add_edge(b, a, length=length, time=length / metres_per_minute)
        return G

    build_s, G = timed(build)
    k = min(len(fn), args.ego_facilities)
    comm_set = set(cn.tolist())
    reset_peak()

    def isochrones() -> list[dict]:
        out = []
        for center_node in fn[:k].tolist():
            subgraph = nx.ego_graph(G, center_node, radius=trip_time, distance="time")
            node_points = [Point((data["x"], data["y"]))
                           for node, data in subgraph.nodes(data=True)]
            gpd.GeoSeries(node_points).union_all().convex_hull  # noqa: B018 - the example's polygon
            out.append(dict.fromkeys(subgraph.nodes & comm_set, np.nan))
        return out

    circles_s, members = timed(isochrones)
    f, c, d = _pairs_from_dicts(members, cn)
    scale = len(fn) / k
    timing = {"build_s": build_s, "circles_s": circles_s * scale, "total_s": circles_s * scale,
              "measured": k, "extrapolated": k < len(fn)}
    return timing, {"pair_f": f, "pair_c": c, "pair_d": d, "covered": np.arange(k)}


def work_pandana(case: dict, args: argparse.Namespace) -> tuple[dict, dict]:
    """pandana: contraction hierarchy, ``precompute``, ``nearest_pois``, ``nodes_in_range``."""
    import pandana  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    net, fn, cn = case["net"], case["fac_nodes"], case["comm_nodes"]
    u, v, w = edge_arrays(net)
    reset_peak()
    build_s, pnet = timed(lambda: pandana.Network(
        net.node_x, net.node_y, u, v, pd.DataFrame({"length": w}), twoway=True))
    precompute_s, _ = timed(lambda: pnet.precompute(BUDGET_M))

    def nearest() -> np.ndarray:
        pnet.set_pois("facilities", maxdist=BUDGET_M, maxitems=1,
                      x_col=pd.Series(net.node_x[fn]), y_col=pd.Series(net.node_y[fn]))
        d = pnet.nearest_pois(BUDGET_M, "facilities", num_pois=1, max_distance=np.inf)
        return d[1].to_numpy()[cn]

    near_s, near = timed(nearest)
    circles_s, table = timed(lambda: pnet.nodes_in_range(fn, BUDGET_M))
    snapped = pnet.get_node_ids(pd.Series(net.node_x[fn]), pd.Series(net.node_y[fn])).to_numpy()
    by_node: dict[int, dict] = {}
    for s, t, d in zip(table["source"].tolist(), table["destination"].tolist(),
                       table["length"].tolist(), strict=True):
        by_node.setdefault(s, {})[t] = d
    dists = [by_node.get(n, {}) for n in fn.tolist()]  # facilities may share a node
    f, c, d = _pairs_from_dicts(dists, cn)
    timing = {"build_s": build_s, "precompute_s": precompute_s, "nearest_s": near_s,
              "circles_s": circles_s, "query_s": near_s + circles_s,
              "total_s": build_s + precompute_s + near_s + circles_s,
              "poi_nodes_off": int((snapped != fn).sum())}
    return timing, {"nearest": near, "pair_f": f, "pair_c": c, "pair_d": d,
                    "covered": np.arange(len(fn))}


WORKERS = {"planner": work_planner, "planner-core": work_planner_core, "scipy": work_scipy,
           "networkx": work_networkx, "ego_graph": work_ego_graph, "pandana": work_pandana}


def worker_main(args: argparse.Namespace) -> None:
    """Run one tool on one case; print its timings as JSON, write results to .npz."""
    case = _load_case(Path(args.case))
    base = rss_mb()
    timing, result = WORKERS[args.worker](case, args)
    peak = timing.pop("_peak", None) or peak_mb()
    timing |= {"peak_mb": peak, "peak_delta_mb": peak - base, "base_mb": base}
    np.savez(args.result, **result)
    print(json.dumps(timing))


# ========================================================================= orchestration


def _nearest_nodes(net: Any, xy: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree  # noqa: PLC0415

    return cKDTree(np.c_[net.node_x, net.node_y]).query(xy)[1].astype(np.int64)


def prepare_case(folder: Path, nodes: int, args: argparse.Namespace) -> dict[str, Any]:
    """Write the sample at the size giving ~``nodes`` nodes; put its points on nodes."""
    import geopandas as gpd  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    size = size_for_nodes(nodes, seed=args.seed)
    # The sample drops gated communities (and their estate roads) when asked for fewer
    # communities than its size holds, which would shrink the network: write the natural
    # district and take an even subset of its communities instead.
    build_s, sc = timed(lambda: sample_case(folder, size=size, seed=args.seed,
                                            n_facilities=args.facilities))
    comm = gpd.read_file(sc.files["communities"])
    if len(comm) < args.communities:
        more_s, sc = timed(lambda: sample_case(folder, size=size, seed=args.seed,
                                               n_communities=args.communities,
                                               n_facilities=args.facilities))
        build_s += more_s
        comm = gpd.read_file(sc.files["communities"])
    elif len(comm) > args.communities:
        comm = comm.iloc[np.linspace(0, len(comm) - 1, args.communities).round().astype(int)]
    net = sc.net
    fac = pd.read_csv(sc.files["facilities"])
    fac_pts = gpd.GeoSeries(gpd.points_from_xy(fac["lon"], fac["lat"]), crs="EPSG:4326")
    fac_pts = fac_pts.to_crs(net.pyproj_crs)
    comm = comm.to_crs(net.pyproj_crs)
    fac_nodes = _nearest_nodes(net, np.c_[fac_pts.x, fac_pts.y])
    cent = comm.geometry.centroid
    comm_nodes = _nearest_nodes(net, np.c_[cent.x, cent.y])
    case_path = folder / "case.npz"
    np.savez(case_path, roads=str(sc.files["roads"]), cache=str(sc.cache_folder),
             fac_nodes=fac_nodes, comm_nodes=comm_nodes, fac_kind=fac["kind"].to_numpy(str))
    return {"path": case_path, "size": size, "nodes": net.n_nodes, "edges": net.n_edges,
            "facilities": len(fac_nodes), "communities": len(comm_nodes),
            "build_s": build_s}


def run_tool(tool: str, case: dict, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one worker in its own process; timings plus its results, or the error."""
    result = folder / f"{tool}.npz"
    cmd = [__file__, "--worker", tool, "--case", str(case["path"]), "--result", str(result),
           "--repeat", str(args.repeat), "--ego-facilities", str(args.ego_facilities),
           "--nx-facilities", str(args.nx_facilities), "--one-shot-mb", str(args.one_shot_mb)]
    print(f"  running {tool} ...", flush=True)
    proc = run_python(cmd, timeout_s=args.timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        killed = " (killed: out of memory?)" if proc.returncode < 0 else ""
        return {"error": f"exit {proc.returncode}{killed}: {tail}"}
    timing = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(result) as z:
        timing["result"] = {k: z[k] for k in z.files}
    return timing


# ------------------------------------------------------------------------------ agreement


def _pair_table(r: dict, n_c: int) -> dict[int, float]:
    keys = r["pair_f"].astype(np.int64) * n_c + r["pair_c"]
    return dict(zip(keys.tolist(), r["pair_d"].tolist(), strict=True))


def compare(ref: dict, other: dict, n_c: int, tol: float) -> dict[str, Any]:
    """Max abs difference of nearest metres and membership between two tools' results.

    Pairs missing from one side count as disagreements unless the reference distance is
    within ``tol`` of the budget (a tie at the circle's edge).
    """
    out: dict[str, Any] = {}
    if "nearest" in other and "nearest" in ref:
        a, b = ref["nearest"], other["nearest"]
        both = np.isfinite(a) & np.isfinite(b)
        edge = np.abs(np.where(np.isfinite(a), a, b) - BUDGET_M) <= tol
        out["nearest_max_diff_m"] = float(np.abs(a[both] - b[both]).max(initial=0.0))
        out["nearest_reach_mismatch"] = int(((np.isfinite(a) != np.isfinite(b)) & ~edge).sum())
    covered = set(other["covered"].tolist())
    keep = np.isin(ref["pair_f"], list(covered))
    ref_pairs = _pair_table({k: ref[k][keep] for k in ("pair_f", "pair_c", "pair_d")}, n_c)
    oth_pairs = _pair_table(other, n_c)
    common = ref_pairs.keys() & oth_pairs.keys()
    only_ref = [k for k in ref_pairs.keys() - oth_pairs.keys()
                if abs(ref_pairs[k] - BUDGET_M) > tol]
    only_oth = [k for k in oth_pairs.keys() - ref_pairs.keys()
                if np.isnan(oth_pairs[k]) or abs(oth_pairs[k] - BUDGET_M) > tol]
    diffs = [abs(ref_pairs[k] - oth_pairs[k]) for k in common if not np.isnan(oth_pairs[k])]
    out["pairs"] = len(oth_pairs)
    out["pairs_ref"] = len(ref_pairs)
    out["pairs_missing"] = len(only_ref)
    out["pairs_extra"] = len(only_oth)
    out["pair_max_diff_m"] = float(max(diffs, default=0.0))
    return out


def agreement_ok(cmp: dict[str, Any], tol: float) -> bool:
    """True when the comparison shows no difference beyond ``tol``."""
    return (cmp.get("nearest_max_diff_m", 0.0) <= tol and cmp.get("nearest_reach_mismatch", 0) == 0
            and cmp["pairs_missing"] == 0 and cmp["pairs_extra"] == 0
            and cmp["pair_max_diff_m"] <= tol)


# -------------------------------------------------------------------------------- report


def _fmt_s(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


def print_size_table(case: dict, runs: dict[str, dict]) -> None:
    """One row per tool: phases, total for all facilities, ratio to the planner, memory."""
    print(f"\n== {case['nodes']:,} nodes, {case['edges']:,} edges (sample size {case['size']}), "
          f"{case['facilities']:,} facilities, {case['communities']:,} communities, "
          f"budget {BUDGET_M:.0f} m, single-threaded ==")
    head = (f"{'tool':<13}{'build':>10}{'precompute':>11}{'nearest':>10}{'circles':>11}"
            f"{'total':>11}{'x planner':>10}{'peak MB':>9}{'+MB':>8}  note")
    print(head)
    print("-" * len(head))
    planner_s = runs.get("planner", {}).get("total_s")
    for tool in TOOLS:
        r = runs.get(tool)
        if r is None:
            continue
        if "error" in r:
            print(f"{tool:<13}{'failed: ' + r['error']}")
            continue
        note = []
        if r.get("extrapolated"):
            note.append(f"circles extrapolated from {r['measured']} facilities")
        if "first_s" in r:
            note.append(f"best of {r.get('repeats', '')}runs; first {_fmt_s(r['first_s'])}")
        if "one_shot_s" in r:
            note.append(f"one-shot call {_fmt_s(r['one_shot_s'])}")
        if r.get("poi_nodes_off"):
            note.append(f"{r['poi_nodes_off']} POIs mapped off their node")
        ratio = f"{r['total_s'] / planner_s:.1f}" if planner_s else "-"
        star = "*" if r.get("extrapolated") else ""
        print(f"{tool:<13}{_fmt_s(r.get('build_s')):>10}{_fmt_s(r.get('precompute_s')):>11}"
              f"{_fmt_s(r.get('nearest_s')):>10}{_fmt_s(r.get('circles_s')) + star:>11}"
              f"{_fmt_s(r['total_s']) + star:>11}{ratio:>10}{r['peak_mb']:>9.0f}"
              f"{r['peak_delta_mb']:>8.0f}  {'; '.join(note)}")
    print("build = graph construction, not counted in total (pandana's contraction hierarchy "
          "is counted); * = extrapolated linearly; peak MB = process peak RSS, +MB = over "
          "the process after loading the inputs.")


def print_agreement(runs: dict[str, dict], n_c: int) -> bool:
    """Compare every tool with scipy; False if planner/networkx differ beyond 1e-6 m."""
    ref = runs.get("scipy", {}).get("result")
    if ref is None:
        print("agreement: scipy did not run, nothing to compare against")
        return False
    ok = True
    print("agreement with plain scipy (max abs difference, metres; pairs = membership):")
    for tool in TOOLS:
        r = runs.get(tool, {})
        if tool == "scipy" or "result" not in r:
            continue
        exact = tool in ("planner", "planner-core", "networkx")
        tol = (STUDY_TOL_M if tool == "planner" else EXACT_TOL_M) if exact else PANDANA_TOL_M
        cmp = compare(ref, r["result"], n_c, tol)
        good = agreement_ok(cmp, tol)
        ok &= good or not exact
        near = (f"nearest {cmp['nearest_max_diff_m']:.2e} m "
                f"({cmp['nearest_reach_mismatch']} reach mismatches), "
                if "nearest_max_diff_m" in cmp else "nearest n/a, ")
        print(f"  {tool:<13}{near}pairs {cmp['pairs']:,} of {cmp['pairs_ref']:,} "
              f"(missing {cmp['pairs_missing']}, extra {cmp['pairs_extra']}), "
              f"pair distance {cmp['pair_max_diff_m']:.2e} m, tol {tol:g} m: "
              f"{'OK' if good else 'DISAGREE'}")
    return ok


def print_targets(runs: dict[str, dict]) -> None:
    """Ratios against the issue's targets, PASS/FAIL."""
    p = runs.get("planner", {})
    core = runs.get("planner-core", {})
    s = runs.get("scipy", {})
    if "total_s" not in p or "total_s" not in s:
        return
    rows = [(f"planner compute_reach / scipy <= {TARGET_VS_SCIPY}", p["total_s"] / s["total_s"],
             lambda x: x <= TARGET_VS_SCIPY),
            ("  (first call, also builds the edge index; no target)",
             p["first_s"] / s["total_s"], None)]
    if "total_s" in core:
        rows.append((f"planner core / scipy <= {TARGET_VS_SCIPY}", core["total_s"] / s["total_s"],
                     lambda x: x <= TARGET_VS_SCIPY))
        rows.append(("  (core without snapping; no target)",
                     (core["total_s"] - core["snap_s"]) / s["total_s"], None))
    if "total_s" in runs.get("ego_graph", {}):
        rows.append((f"ego_graph / planner >= {TARGET_VS_EGO:g}",
                     runs["ego_graph"]["total_s"] / p["total_s"], lambda x: x >= TARGET_VS_EGO))
    if "total_s" in runs.get("pandana", {}):
        rows.append((f"pandana incl. precompute / planner >= {TARGET_VS_PANDANA:g}",
                     runs["pandana"]["total_s"] / p["total_s"], lambda x: x >= TARGET_VS_PANDANA))
    if "total_s" in runs.get("networkx", {}):
        rows.append(("networkx / planner (no target)", runs["networkx"]["total_s"] / p["total_s"],
                     None))
    print("targets:")
    for label, value, test in rows:
        verdict = "" if test is None else ("PASS" if test(value) else "FAIL")
        print(f"  {label:<46}{value:>9.2f}x  {verdict}")


def print_growth(cases: list[dict], all_runs: list[dict[str, dict]]) -> None:
    """Time per facility against the number of facilities and against network size."""
    print("\n== growth (planner core and plain scipy, best of runs) ==")
    print(f"{'nodes':>10}{'facilities':>11}{'scipy':>10}{'ms/fac':>8}"
          f"{'planner':>10}{'ms/fac':>8}{'ms/fac/100k nodes':>19}")
    for case, runs in zip(cases, all_runs, strict=True):
        s = runs.get("scipy", {}).get("growth", {})
        p = runs.get("planner-core", {}).get("growth", {})
        for k in sorted(set(s) | set(p), key=int):
            ps, ss = p.get(k), s.get(k)
            per = ps / int(k) * 1000 if ps else None
            print(f"{case['nodes']:>10,}{int(k):>11,}{_fmt_s(ss):>10}"
                  f"{(ss / int(k) * 1000 if ss else 0):>8.2f}{_fmt_s(ps):>10}"
                  f"{(per or 0):>8.2f}{(per or 0) / case['nodes'] * 1e5:>19.3f}")
    print("Linear growth shows as a flat ms/fac down each size and a flat "
          "ms/fac/100k nodes across sizes.")


# ----------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 131_550],
                    help="network sizes as target node counts (default: 10000 131550)")
    ap.add_argument("--big", action="store_true",
                    help="also run ~1,000,000 nodes (planner and scipy only)")
    ap.add_argument("--big-peers", action="store_true",
                    help="with --big, run the peers at ~1M nodes too (slow, pandana needs GBs)")
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--communities", type=int, default=10_000)
    ap.add_argument("--ego-facilities", type=int, default=20,
                    help="facilities timed for ego_graph; the rest is extrapolated")
    ap.add_argument("--nx-facilities", type=int, default=1000,
                    help="facilities timed for networkx; the rest is extrapolated")
    ap.add_argument("--repeat", type=int, default=3, help="runs of planner and scipy (best)")
    ap.add_argument("--one-shot-mb", type=float, default=4096,
                    help="also time scipy's one-shot call when its matrix fits this (MiB)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per tool")
    ap.add_argument("--workdir", type=Path, help="keep the sample files here")
    ap.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def run_size(nodes: int, tools: tuple[str, ...], work: Path,
             args: argparse.Namespace) -> tuple[dict, dict[str, dict], bool]:
    folder = work / f"n{nodes}"
    print(f"\npreparing ~{nodes:,} nodes ...", flush=True)
    case = prepare_case(folder, nodes, args)
    runs = {tool: run_tool(tool, case, folder, args) for tool in tools}
    for r in runs.values():
        r.setdefault("repeats", f"{args.repeat} ")
    print_size_table(case, runs)
    ok = print_agreement(runs, case["communities"])
    print_targets(runs)
    return case, runs, ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    plan = [(n, TOOLS) for n in args.sizes]
    if args.big:
        plan.append((1_000_000, TOOLS if args.big_peers else BIG_TOOLS))
    ok = True
    cases, all_runs = [], []
    with tempfile.TemporaryDirectory(prefix="reach_peers_") as tmp:
        work = args.workdir or Path(tmp)
        for nodes, tools in plan:
            case, runs, good = run_size(nodes, tools, work, args)
            cases.append(case)
            all_runs.append(runs)
            ok &= good
    print_growth(cases, all_runs)
    if not ok:
        print("\nFAILED: the planner and scipy/networkx disagree by more than 1e-6 m")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
