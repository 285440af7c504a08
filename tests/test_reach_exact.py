"""The fast paths of the reach core give exactly what the slower, plainer code gives.

Each shortcut taken for speed (issue 8, item 6) is checked here against an independent
computation, bit for bit: positions along edges against ``shapely.line_locate_point``,
boundary pairs against ``STRtree.query(predicate="dwithin")``, the CSR adjacency and the
target index against plain dictionaries, components against networkx, and the nearest
facility against the minimum over every facility's own search.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from planner.network.store import _csr, compile_arrays
from planner.reach import StudyGraph
from planner.reach.pairs import SearchBase, TargetIndex, quantize
from planner.reach.snapping import AccessPoints, _within, locate_on_edges
from planner.reach.walks import searches
from tests.test_reach import gdf, grid_network, points


def _random_network(rng: np.random.Generator, n_nodes: int, n_edges: int,
                    *, bends: bool) -> object:
    """Nodes on a 1 km square; straight edges, and with ``bends`` some with a middle vertex."""
    x, y = rng.uniform(0, 1000, n_nodes), rng.uniform(0, 1000, n_nodes)
    u = rng.integers(0, n_nodes, n_edges)
    v = (u + 1 + rng.integers(0, n_nodes - 1, n_edges)) % n_nodes
    geoms = []
    for a, b in zip(u, v, strict=True):
        if bends and rng.random() < 0.3:
            mid = ((x[a] + x[b]) / 2 + rng.normal(0, 20), (y[a] + y[b]) / 2 + rng.normal(0, 20))
            geoms.append(shapely.LineString([(x[a], y[a]), mid, (x[b], y[b])]))
        else:
            geoms.append(shapely.LineString([(x[a], y[a]), (x[b], y[b])]))
    return compile_arrays(crs="EPSG:32650", node_x=x, node_y=y, edge_u=u, edge_v=v,
                          edge_geoms=np.asarray(geoms, dtype=object))


def test_locate_on_edges_equals_shapely_bit_for_bit():
    rng = np.random.default_rng(11)
    net = _random_network(rng, 60, 200, bends=True)
    edges = rng.integers(0, net.n_edges, 5000)
    geoms = net.edge_geoms[edges]
    # points near the edges, beyond their ends, and exactly on their vertices
    near = shapely.get_coordinates(shapely.line_interpolate_point(
        geoms, rng.uniform(-0.2, 1.2, len(edges)), normalized=True))
    xy = near + rng.normal(0, 15, near.shape)
    xy[::7] = net.edge_coords[net.edge_offsets[edges[::7]]]          # the u end
    xy[3::7] = net.edge_coords[net.edge_offsets[edges[3::7] + 1] - 1]  # the v end
    got = locate_on_edges(net, edges, xy)
    want = shapely.line_locate_point(geoms, shapely.points(xy))
    assert np.array_equal(got, want)  # not allclose: the same bits


def test_locate_on_a_zero_length_edge_is_zero():
    # an edge whose two vertices coincide (a duplicated OSM node): GEOS gives 0
    net = compile_arrays(crs="EPSG:32650", node_x=np.array([5.0, 5.0]),
                         node_y=np.array([5.0, 5.0]), edge_u=np.array([0]),
                         edge_v=np.array([1]),
                         edge_geoms=np.array([shapely.LineString([(5, 5), (5, 5)])]))
    got = locate_on_edges(net, np.array([0]), np.array([[9.0, 8.0]]))
    assert got[0] == shapely.line_locate_point(net.edge_geoms[0], shapely.Point(9, 8)) == 0.0


def test_boundary_pairs_equal_the_dwithin_query():
    rng = np.random.default_rng(5)
    net = _random_network(rng, 80, 300, bends=True)
    centres = rng.uniform(0, 1000, (400, 2))
    polygons = shapely.buffer(shapely.points(centres), rng.uniform(5, 40, 400), quad_segs=2)
    for near_m in (0.0, 12.5, 30.0):
        pi, ei = _within(net, polygons, near_m)
        want_p, want_e = net.tree.query(polygons, predicate="dwithin", distance=near_m)
        assert np.array_equal(pi, want_p) and np.array_equal(ei, want_e)
        assert len(pi) > 0


def test_csr_keeps_the_shortest_parallel_edge_and_zero_lengths():
    rng = np.random.default_rng(2)
    n = 30
    u = rng.integers(0, n, 400)
    v = rng.integers(0, n, 400)
    w = rng.integers(0, 5, 400).astype(float)  # many ties and zero lengths
    m = _csr(u, v, w, n)
    best: dict[tuple[int, int], float] = {}
    for a, b, x in zip(u, v, w, strict=True):
        if a == b:  # self-loops never shorten a walk
            continue
        for key in ((a, b), (b, a)):
            best[key] = min(best.get(key, np.inf), x)
    got = {}
    for r in range(n):
        cols = m.indices[m.indptr[r]:m.indptr[r + 1]]
        assert np.all(np.diff(cols) > 0)  # sorted, one entry per column
        got.update({(r, int(c)): float(d) for c, d in
                    zip(cols, m.data[m.indptr[r]:m.indptr[r + 1]], strict=True)})
    assert got == best
    assert any(d == 0.0 for d in got.values())  # explicit zeros are edges, not gaps


def test_components_equal_networkx_ranked_by_size():
    rng = np.random.default_rng(4)
    n = 120
    u = rng.integers(0, n, 90)
    v = rng.integers(0, n, 90)
    net = compile_arrays(crs="EPSG:32650", node_x=rng.random(n), node_y=rng.random(n),
                         edge_u=u, edge_v=v, edge_geoms=np.asarray(
                             [shapely.LineString([(0, 0), (1, 1)])] * len(u), dtype=object))
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    groups = [frozenset(c) for c in nx.connected_components(g)]
    labels = net.components
    assert len(np.unique(labels)) == len(groups) > 10
    for c in groups:  # each networkx component is one label
        assert len({labels[i] for i in c}) == 1
    sizes = np.bincount(labels)
    assert np.all(np.diff(sizes) <= 0)  # label 0 is the largest, then by size


def test_target_index_is_the_cheapest_way_in_per_node_and_owner():
    rng = np.random.default_rng(8)
    net = _random_network(rng, 40, 120, bends=False)
    k = 500
    edge = rng.integers(0, net.n_edges, k)
    access = AccessPoints(rng.integers(0, 60, k), edge,
                          rng.uniform(0, 1, k) * net.edge_length[edge], rng.uniform(0, 30, k))
    pos = SearchBase.of(net).positions(access)
    idx = TargetIndex.of(net, pos)
    best: dict[tuple[int, int], float] = {}
    for p in range(len(pos)):
        e, o = int(pos.edge[p]), int(pos.owner[p])
        for node, part in ((net.edge_u[e], pos.to_u[p]), (net.edge_v[e], pos.to_v[p])):
            key = (int(node), o)
            best[key] = min(best.get(key, np.inf), part + pos.offroad[p])
    got = dict(zip(zip(idx.node.tolist(), idx.node_owner.tolist(), strict=True),
                   idx.node_w.tolist(), strict=True))
    assert got == best
    assert list(zip(idx.node, idx.node_owner, strict=True)) == sorted(best)  # node, then owner


@pytest.mark.parametrize("seed", [0, 1])
def test_nearest_is_the_minimum_over_each_facility_search(seed):
    rng = np.random.default_rng(seed)
    net = grid_network()
    fxy = rng.uniform(-10, 210, (12, 2))
    cxy = rng.uniform(-10, 210, (30, 2))
    facilities = gdf(points(*map(tuple, fxy)), [f"F{i}" for i in range(12)],
                     kind=rng.choice(["station", "canteen"], 12).tolist())
    communities = gdf(points(*map(tuple, cxy)), [f"C{i}" for i in range(30)])
    sg = StudyGraph.build(net, communities, facilities, max_distance_m=1000.0)
    for kind in ("station", "canteen"):
        near = sg.nearest(kinds=[kind])
        # every facility of the kind searched alone, over the whole grid (1,000 m > any walk)
        slots = np.flatnonzero(sg._fac_kind == kind)
        best = np.full(len(sg._com_ids), np.inf)
        for batch in searches(sg._base, sg._fpos, slots, sg._community_index(),
                              limit_m=1000.0):
            _, c, d = batch.pairs(1000.0)
            np.minimum.at(best, c, d)
        assert np.array_equal(near["distance_m"].to_numpy(), best)
        # the named facility is one at that distance (its own pair in the cost table)
        costs = sg.costs.set_index(["facility_id", "community_id"])["distance_m"]
        for cid, row in near.iterrows():
            assert costs[(row["facility_id"], cid)] == row["distance_m"]
    # every distance is a sum of lengths on the 2**-20 m grid, so it lies on that grid
    d = sg.costs["distance_m"].to_numpy()
    assert np.array_equal(d, quantize(d))


def test_positions_are_unchanged_by_the_fast_locate():
    # the positions a study graph builds from polygons equal those from shapely's locate
    net = grid_network()
    block = shapely.Polygon([(5, 105), (95, 105), (95, 195), (5, 195)])
    _, ei = _within(net, np.array([block]), 30.0)
    lines = shapely.shortest_line(net.edge_geoms[ei], block)
    want = shapely.line_locate_point(net.edge_geoms[ei], shapely.get_point(lines, 0))
    got = locate_on_edges(net, ei, shapely.get_coordinates(lines).reshape(-1, 2, 2)[:, 0])
    assert np.array_equal(got, want)
    # the block sits in the square of nodes 3, 4, 6, 7 (100 m grid), 5 m in from each
    # side: its 4 sides are 5 m away, and the 4 streets leaving that square at a corner
    # towards the block's side (0-3, 1-4, 4-5, 7-8) are 7.07 m from a corner of it (e.g.
    # node 4 (100,100) to (95,105)); the rest are 105 m or more away: 8 edges
    net_pairs = {(int(net.edge_u[e]), int(net.edge_v[e])) for e in ei}
    assert net_pairs == {(3, 4), (6, 7), (3, 6), (4, 7), (0, 3), (1, 4), (4, 5), (7, 8)}
