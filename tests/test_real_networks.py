"""Real networks from ../shared/data, loaded through the same loaders as any user's file.

Distances from the reach engine are checked against networkx's Dijkstra on the graph
the loader built (an independent shortest-path implementation), to 1e-6 m.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from planner.isochrones import circle_polygons, sample_edges
from planner.network import compile_network, graph_from_road_lines, load_network
from planner.reach import (
    AccessPoints,
    boundary_access,
    build_reach_graph,
    circle_distances,
    circle_searches,
    compile_graph,
    nearest_facility,
    snap_points,
)
from tests.conftest import SHARED_DATA

SHANGHAI = SHARED_DATA / "shanghai_central" / "shanghai_central.osm"
WANZHOU = SHARED_DATA / "chongqing_wanzhou" / "wanzhou_links.gpkg"
BUDGET_M = 900.0  # 15 minutes at 1.0 m/s


def undirected_min(G):
    """networkx Graph keeping the shortest of parallel edges."""
    H = nx.Graph()
    for u, v, d in G.edges(data=True):
        if u == v:
            continue
        if not H.has_edge(u, v) or d["length"] < H[u][v]["length"]:
            H.add_edge(u, v, length=d["length"])
    return H


def check_against_networkx(G, n_sources=12, seed=0):
    net = compile_graph(G)
    H = undirected_min(G)
    nodes = list(G.nodes)
    rng = np.random.default_rng(seed)
    src = rng.choice(len(nodes), n_sources, replace=False)
    fac = AccessPoints(np.arange(n_sources), np.full(n_sources, -1), np.zeros(n_sources),
                       np.zeros(n_sources))
    # sources sit exactly on nodes: snap them (distance 0) to an edge end
    pts = np.array([shapely.Point(net.node_x[i], net.node_y[i]) for i in src], dtype=object)
    fac = snap_points(net, pts, max_m=1.0)
    none = AccessPoints(*(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), np.zeros(0))
    rg = build_reach_graph(net, fac, none, 0)
    node_dist, _ = circle_distances(rg, np.arange(n_sources), limit_m=BUDGET_M)
    compared = 0
    for row, i in enumerate(src):
        expected = nx.single_source_dijkstra_path_length(H, nodes[i], cutoff=BUDGET_M,
                                                         weight="length")
        got = node_dist[row, : net.n_nodes]
        reached = {nodes[j]: got[j] for j in np.flatnonzero(np.isfinite(got))}
        assert reached.keys() == expected.keys()
        assert [reached[k] for k in expected] == pytest.approx(list(expected.values()), abs=1e-6)
        compared += len(expected)
    return net, H, compared


def test_shanghai_osm_matches_networkx():
    G = load_network(SHANGHAI)
    assert G.graph["crs"].to_epsg() == 32651  # UTM 51N for Shanghai
    net, _, compared = check_against_networkx(G)
    # osmnx simplified, walkable ways only; several hundred nodes in 2.4 km x 2.4 km
    assert 500 < net.n_nodes < 1300
    assert compared > 500


def test_wanzhou_links_gcj02_matches_networkx():
    G = graph_from_road_lines(__import__("geopandas").read_file(WANZHOU), crs="gcj02")
    # PROVENANCE.md: 5,245 nodes, 6,426 links, 15 components, the largest 5,192 nodes
    assert len(G) == 5245 and G.number_of_edges() == 6426
    net, _, compared = check_against_networkx(G)
    sizes = np.bincount(net.components)
    assert len(sizes) == 15 and sizes[0] == 5192
    assert compared > 500


def test_wanzhou_gcj02_is_converted():
    raw = compile_network(WANZHOU, crs="wgs84", use_cache=False)
    converted = compile_network(WANZHOU, crs="gcj02", use_cache=False)
    # edges keep the file's order; compare each link's midpoint before and after
    a = shapely.line_interpolate_point(raw.edge_geoms, 0.5, normalized=True)
    b = shapely.line_interpolate_point(converted.edge_geoms, 0.5, normalized=True)
    shift = shapely.distance(a, b)
    # GCJ-02 offsets in Chongqing are a few hundred metres; every node moves
    assert shift.min() > 200 and shift.max() < 800


def test_snapped_points_on_real_edges_match_split_by_hand():
    G = load_network(SHANGHAI)
    net = compile_graph(G)
    H = undirected_min(G)
    nodes = list(G.nodes)
    rng = np.random.default_rng(3)
    source = int(rng.integers(net.n_nodes))
    fac = snap_points(net, np.array([shapely.Point(net.node_x[source], net.node_y[source])]),
                      max_m=1.0)
    # 40 community points 8 m beside random edges, at random positions along them
    edges = rng.choice(net.n_edges, 40, replace=False)
    frac = rng.uniform(0.05, 0.95, 40)
    on = shapely.line_interpolate_point(net.edge_geoms[edges], frac, normalized=True)
    # the first vertex of an 8 m buffer ring is 8 m east of the point on the edge
    pts = shapely.get_point(shapely.get_exterior_ring(shapely.buffer(on, 8.0)), 0)
    com = snap_points(net, np.asarray(pts, dtype=object), max_m=50)
    rg = build_reach_graph(net, fac, com, 40)
    metres, _ = nearest_facility(rg, np.array([0]), limit_m=50_000)
    d = nx.single_source_dijkstra_path_length(H, nodes[source], weight="length")
    for i in range(40):
        e, t, off = com.edge[i], com.along_m[i], com.offroad_m[i]
        u, v, length = nodes[net.edge_u[e]], nodes[net.edge_v[e]], net.edge_length[e]
        expected = min(d.get(u, np.inf) + t, d.get(v, np.inf) + length - t) + off
        if np.isfinite(expected):
            assert metres[i] == pytest.approx(expected, abs=1e-6)
        else:
            assert not np.isfinite(metres[i])


def test_bounded_searches_equal_whole_graph_searches():
    """circle_searches (one subgraph per grid cell of facilities) = Dijkstra on the whole graph."""
    net = compile_network(WANZHOU, crs="gcj02", use_cache=False)
    rng = np.random.default_rng(7)
    # 80 facilities and 400 communities at random positions along random edges, 0-30 m off

    def random_points(k):
        e = rng.choice(net.n_edges, k)
        on = shapely.line_interpolate_point(net.edge_geoms[e], rng.uniform(0, 1, k),
                                            normalized=True)
        ring = shapely.get_exterior_ring(shapely.buffer(on, rng.uniform(0.5, 30, k)))
        return np.asarray(shapely.get_point(ring, 0), dtype=object)
    fac = snap_points(net, random_points(80), max_m=150)
    blocks = shapely.buffer(random_points(400), 40.0)  # small polygon communities
    com = boundary_access(net, np.asarray(blocks, dtype=object), near_m=30, max_m=150)
    rg = build_reach_graph(net, fac, com, 400)
    snapped = np.flatnonzero(rg.facility_node >= 0)
    budget = rng.uniform(600, 1500, 400)  # a different circle per community
    _, whole = circle_distances(rg, snapped, limit_m=1500)
    f, c = np.nonzero(whole <= budget[None, :])
    expected = {(snapped[i], j): whole[i, j] for i, j in zip(f, c, strict=True)}
    got = {}
    for batch in circle_searches(rg, snapped, limit_m=1500, cell_m=1000):
        for i, j, d in zip(*batch.community_pairs(budget), strict=True):
            got[(int(i), int(j))] = d
    assert len(expected) > 200
    assert got.keys() == expected.keys()
    assert [got[k] for k in expected] == pytest.approx(list(expected.values()), abs=1e-9)


def test_circle_polygons_from_bounded_searches_equal_full_rows():
    """Polygons built from a bounded search's partial rows = from full distance rows."""
    net = compile_network(SHANGHAI, use_cache=False)
    rng = np.random.default_rng(11)
    nodes = rng.choice(net.n_nodes, 25, replace=False)
    fac = snap_points(net, shapely.points(net.node_x[nodes] + 3, net.node_y[nodes] + 4),
                      max_m=150)
    none = AccessPoints(*(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), np.zeros(0))
    rg = build_reach_graph(net, fac, none, 0)
    runs = sample_edges(net)
    partial, full = {}, {}
    for batch in circle_searches(rg, np.arange(25), limit_m=BUDGET_M, cell_m=800):
        part = batch.facilities
        own = {"own_edge": fac.edge[part], "own_along_m": fac.along_m[part],
               "own_budget_m": BUDGET_M - fac.offroad_m[part]}
        a = circle_polygons(net, runs, batch.dist, BUDGET_M, nodes=batch.nodes, **own)
        b = circle_polygons(net, runs, batch.network_node_dist(), BUDGET_M, **own)
        partial.update(zip(part.tolist(), a, strict=True))
        full.update(zip(part.tolist(), b, strict=True))
    assert len(partial) == 25
    for k, poly in partial.items():
        assert poly.area > 0
        assert poly.equals(full[k])
