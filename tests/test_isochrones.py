"""Hand-worked street-following circles, fast grid against the exact buffered union.

Networks are built in EPSG:32649 with :func:`planner.reach.compile_arrays`; node
distances are given by hand (as the Dijkstra would find them) unless a test snaps a
facility through the reach engine. The street half-width is 20 m, so a reached piece of
length ``l`` covers ``l x 40 + π x 20²`` m² on its own.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from planner.isochrones import (
    STREET_HALF_WIDTH_M,
    circle_polygons,
    exact_circle_polygon,
    facility_circles,
    reached_pieces,
    sample_edges,
    start_facility_circles,
)
from planner.network import compile_network
from planner.network.store import compile_arrays
from planner.reach import (
    AccessPoints,
    StudyGraph,
    build_reach_graph,
    circle_distances,
    snap_points,
)
from tests.conftest import SHARED_DATA

CRS = "EPSG:32649"
DISC_M2 = np.pi * STREET_HALF_WIDTH_M**2  # 1,256.6 m²: the two round caps of a piece
TOLERANCE = 0.03  # the fast polygon's area is within 3 % of the exact union


def network(nodes: list[tuple[float, float]], edges: list[tuple[int, int]]):
    """Straight edges between the given nodes (metres)."""
    xy = np.array(nodes, dtype=float)
    u, v = np.array(edges).T
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    return compile_arrays(crs=pyproj.CRS(CRS).to_wkt(), node_x=xy[:, 0], node_y=xy[:, 1],
                          edge_u=u, edge_v=v, edge_geoms=geoms)


def fast(net, node_dist, budget_m, own=(-1, 0.0, -1.0), **kwargs):
    """The fast polygon of one facility."""
    rows = np.atleast_2d(np.asarray(node_dist, dtype=float))
    return circle_polygons(net, sample_edges(net), rows, budget_m,
                           own_edge=np.array([own[0]]), own_along_m=np.array([own[1]]),
                           own_budget_m=np.array([own[2]]), **kwargs)[0]


def exact(net, node_dist, budget_m, own=(-1, 0.0, -1.0)):
    """The exact polygon of one facility."""
    return exact_circle_polygon(net, np.asarray(node_dist, dtype=float), budget_m,
                                own_edge=own[0], own_along_m=own[1], own_budget_m=own[2])


def inside(geom, x, y) -> bool:
    return bool(shapely.contains_xy(geom, x, y))


# ------------------------------------------------------------------------ one street


def test_straight_street_cut_at_the_budget():
    # 1,000 m street, facility at its west end, 300 m budget: the piece 0-300 m,
    # buffered by 20 m: 300 x 40 + π x 20² = 12,000 + 1,256.6 = 13,256.6 m²
    net = network([(0, 0), (1000, 0)], [(0, 1)])
    want = 300 * 40 + DISC_M2
    ex = exact(net, [0.0, np.inf], 300.0)
    assert ex.area == pytest.approx(want, rel=0.002)  # GEOS draws the caps with 32-gons
    fa = fast(net, [0.0, np.inf], 300.0)
    assert fa.area == pytest.approx(want, rel=TOLERANCE)
    for poly in (ex, fa):
        assert inside(poly, 310, 0) and inside(poly, 150, 15)
        assert not inside(poly, 330, 0)  # 30 m past the cut
        assert not inside(poly, 150, 30)  # 30 m beside the street


def test_cut_is_exact_not_sampled():
    # a budget ending between 5 m cells still ends the band 20 m past the exact cut
    net = network([(0, 0), (1000, 0)], [(0, 1)])
    fa = fast(net, [0.0, np.inf], 302.6)
    xmax = shapely.bounds(fa)[2]
    assert abs(xmax - (302.6 + 20)) <= 5.0


def test_both_ends_reached_cover_the_whole_edge():
    # d[u] = 100, d[v] = 300, L = 1,000, B = 900: from u to 800 m and from v back to
    # 400 m, so the whole street is reached
    net = network([(0, 0), (1000, 0)], [(0, 1)])
    _, _, end, whole = reached_pieces(net, np.array([100.0, 300.0]), 900.0)
    assert whole.tolist() == [True] and end[0] == pytest.approx(1000)
    assert exact(net, [100.0, 300.0], 900.0).area == pytest.approx(1000 * 40 + DISC_M2,
                                                                   rel=0.002)


def test_own_edge_reached_both_ways():
    # a facility on the road 500 m along a 1,000 m street with a 300 m budget reaches
    # 200-800 m: 600 x 40 + π x 20² = 25,256.6 m²; neither end node is reached
    net = network([(0, 0), (1000, 0)], [(0, 1)])
    access = snap_points(net, np.array([shapely.Point(500, 0)]), max_m=50)
    none = AccessPoints(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    rg = build_reach_graph(net, access, none, 0)
    node_dist = circle_distances(rg, np.array([0]), limit_m=300.0)[0][:, : net.n_nodes]
    assert np.isinf(node_dist).all()
    own = (int(access.edge[0]), float(access.along_m[0]), 300.0 - float(access.offroad_m[0]))
    want = 600 * 40 + DISC_M2
    ex = exact(net, node_dist[0], 300.0, own)
    assert ex.area == pytest.approx(want, rel=0.002)
    fa = fast(net, node_dist[0], 300.0, own)
    assert fa.area == pytest.approx(want, rel=TOLERANCE)
    assert inside(fa, 210, 0) and inside(fa, 790, 0)
    assert not inside(fa, 170, 0) and not inside(fa, 830, 0)


def test_nothing_reached_gives_an_empty_polygon():
    net = network([(0, 0), (1000, 0)], [(0, 1)])
    assert fast(net, [np.inf, np.inf], 300.0).is_empty
    assert exact(net, [np.inf, np.inf], 300.0).is_empty


# ------------------------------------------------------------------------ junctions

#   D (200,300)            E (400,300)
#   |                      |
#   A (0,0) ---- B (200,0) ---- C (400,0)
T_NODES = [(0, 0), (200, 0), (400, 0), (200, 300), (400, 300)]
T_EDGES = [(0, 1), (1, 2), (1, 3), (2, 4)]
T_DIST = [0.0, 200.0, 400.0, 500.0, 700.0]  # from a facility at A


def test_t_junction_cuts_two_branches():
    # budget 350 from A: A-B whole, then 150 m of each branch from B: to (350, 0) and
    # (200, 150). C, D and E are not reached.
    net = network(T_NODES, T_EDGES)
    want = shapely.union_all(shapely.buffer(
        [shapely.LineString([(0, 0), (350, 0)]), shapely.LineString([(200, 0), (200, 150)])],
        STREET_HALF_WIDTH_M))
    ex = exact(net, T_DIST, 350.0)
    assert shapely.symmetric_difference(ex, want).area < 1.0
    fa = fast(net, T_DIST, 350.0)
    assert fa.area == pytest.approx(ex.area, rel=TOLERANCE)
    assert inside(fa, 360, 0) and inside(fa, 200, 160)
    assert not inside(fa, 385, 0) and not inside(fa, 200, 185)


def test_unreached_street_is_not_covered():
    # the branch C-E starts beyond the budget: 100 m along it is outside both polygons
    net = network(T_NODES, T_EDGES)
    for poly in (exact(net, T_DIST, 350.0), fast(net, T_DIST, 350.0)):
        assert not inside(poly, 400, 100)


def test_block_interior_is_never_covered():
    # a 3 x 3 node grid of 200 m blocks, all reached: streets covered, block centres not
    coords = [(x, y) for y in (0, 200, 400) for x in (0, 200, 400)]
    edges = [(r * 3 + c, r * 3 + c + 1) for r in range(3) for c in range(2)]
    edges += [(r * 3 + c, (r + 1) * 3 + c) for r in range(2) for c in range(3)]
    net = network(coords, edges)
    dist = [abs(x) + abs(y) for x, y in coords]
    ex = exact(net, dist, 2000.0)
    fa = fast(net, dist, 2000.0)
    assert fa.area == pytest.approx(ex.area, rel=TOLERANCE)
    assert len(fa.interiors) == 4  # four blocks, four holes
    for poly in (ex, fa):
        assert not inside(poly, 100, 100) and not inside(poly, 300, 300)
        assert inside(poly, 100, 0) and inside(poly, 200, 300)


def test_batches_and_chunks_agree():
    # several facilities in one call, painted in one chunk or one per facility
    net = network(T_NODES, T_EDGES)
    rows = np.array([T_DIST, [200.0, 0.0, 200.0, 300.0, 500.0], [np.inf] * 5])
    own = dict(own_edge=np.array([-1, -1, -1]), own_along_m=np.zeros(3),
               own_budget_m=np.full(3, -1.0))
    samples = sample_edges(net)
    together = circle_polygons(net, samples, rows, 350.0, **own)
    apart = circle_polygons(net, samples, rows, 350.0, max_cells=1, **own)
    for a, b in zip(together, apart, strict=True):
        assert shapely.equals(a, b) or (a.is_empty and b.is_empty)
    assert together[2].is_empty
    assert together[1].area > together[0].area


# ------------------------------------------------------------------------ real streets


@pytest.fixture(scope="module")
def shanghai():
    return compile_network(SHARED_DATA / "shanghai_central" / "shanghai_central.osm",
                           use_cache=False)


def test_shanghai_fast_matches_exact(shanghai):
    net = shanghai
    rng = np.random.default_rng(7)
    nodes = rng.choice(net.n_nodes, 20, replace=False)
    budget = 900.0
    node_dist = dijkstra(net.adjacency(), directed=True, indices=nodes, limit=budget)
    none = np.full(20, -1)
    polys = circle_polygons(net, sample_edges(net), node_dist, budget, own_edge=none,
                            own_along_m=np.zeros(20), own_budget_m=np.full(20, -1.0))
    assert shapely.is_valid(np.array(polys, dtype=object)).all()
    for row, poly in enumerate(polys):
        ex = exact(net, node_dist[row], budget)
        assert poly.area == pytest.approx(ex.area, rel=TOLERANCE)
        # the fast polygon follows the exact one: little area on either side
        assert shapely.symmetric_difference(poly, ex).area < 0.15 * ex.area


# ------------------------------------------------------- circles of a study graph


def test_facility_circles_follow_the_study_graph(shanghai):
    # 30 facilities at random node positions, drawn through StudyGraph, simplified once
    # (5 m): a circle over 10,000 m² stays within 1 % of the exact buffered union of its
    # reached streets; a stub of one short dead-end street (2,000-4,000 m²) within 10 %;
    # every outline is valid; two processes give exactly the outlines of one
    net = shanghai
    rng = np.random.default_rng(11)
    nodes = rng.choice(net.n_nodes, 30, replace=False)
    fac = gpd.GeoDataFrame({"kind": "station"}, index=[f"F{i}" for i in range(30)],
                           geometry=gpd.points_from_xy(net.node_x[nodes], net.node_y[nodes]),
                           crs=net.pyproj_crs)
    sg = StudyGraph.build(net, fac.iloc[:0], fac, max_distance_m=0.0)
    one = facility_circles(sg, fac, minutes=15, speed_m_s=1.0, workers=1)
    two = facility_circles(sg, fac, minutes=15, speed_m_s=1.0, workers=2)
    assert one["facility_id"].to_list() == list(fac.index)
    assert shapely.to_wkb(one.geometry.to_numpy()).tolist() == \
        shapely.to_wkb(two.geometry.to_numpy()).tolist()
    # started from the network alone (facilities snapped there), most drawn by a worker
    started = start_facility_circles(net, fac, minutes=15, speed_m_s=1.0, workers=2,
                                     here_share=0.2).result()
    assert shapely.to_wkb(started.geometry.to_numpy()).tolist() == \
        shapely.to_wkb(one.geometry.to_numpy()).tolist()
    cancelled = start_facility_circles(net, fac, minutes=15, speed_m_s=1.0, workers=2)
    cancelled.cancel()  # a caller that failed: the worker is stopped, nothing is left
    assert cancelled._pool is None
    assert shapely.is_valid(one.geometry.to_numpy()).all()
    node_dist = dijkstra(net.adjacency(), directed=True, indices=nodes, limit=900.0)
    for row, poly in enumerate(one.geometry):
        ex = exact(net, node_dist[row], 900.0)
        assert poly.area == pytest.approx(ex.area, rel=0.01 if ex.area > 10_000 else 0.10)
    # simplified: fewer vertices than the raw grid outline (staircase steps merged)
    raw = circle_polygons(net, sample_edges(net), node_dist[:1], 900.0, own_edge=np.array([-1]),
                          own_along_m=np.zeros(1), own_budget_m=np.full(1, -1.0))[0]
    assert shapely.get_num_coordinates(one.geometry.iloc[0]) < shapely.get_num_coordinates(raw)


# ------------------------------------------------------------------------ sloped streets


def sloped(from_u: list[float], to_u: list[float], length: float = 1000.0):
    """A straight street u (0, 0) → v (length, 0) with direction-aware cumulative costs.

    ``from_u``/``to_u`` are the profiles at evenly spaced stations (flat-equivalent
    metres, :class:`planner.network.directed.DirectedCosts`).
    """
    from dataclasses import replace  # noqa: PLC0415

    from planner.network.directed import DirectedCosts  # noqa: PLC0415

    net = network([(0, 0), (length, 0)], [(0, 1)])
    n_seg = len(from_u) - 1
    costs = DirectedCosts(np.array([0, n_seg + 1]), np.array([length / n_seg]),
                          np.array(from_u, dtype=float), np.array(to_u, dtype=float))
    return replace(net, directed=costs)


# a uniform 1,000 m climb from u to v: uphill (u → v) 1.5 flat-equivalent metres per metre,
# downhill (v → u) 1.0 (no gain going down); ten 100 m segments
UPHILL = sloped([150.0 * i for i in range(11)], [100.0 * i for i in range(11)])


def test_cut_piece_priced_in_the_residents_direction():
    # facility at the top (v), 300 m budget: a resident a metres from u walks *up* to it,
    # 1.5 × (1,000 − a) ≤ 300 → a ≥ 800: the piece 800–1,000 m (200 m), not the flat
    # 700–1,000 m
    _, start, end, whole = reached_pieces(UPHILL, np.array([np.inf, 0.0]), 300.0)
    assert whole.tolist() == [False]
    assert (start[0], end[0]) == (pytest.approx(800.0), pytest.approx(1000.0))
    want = 200 * 40 + DISC_M2
    assert exact(UPHILL, [np.inf, 0.0], 300.0).area == pytest.approx(want, rel=0.002)
    assert fast(UPHILL, [np.inf, 0.0], 300.0).area == pytest.approx(want, rel=TOLERANCE)
    # facility at the foot (u): residents walk *down* to it at 1.0 per metre: 0–300 m
    _, start, end, _ = reached_pieces(UPHILL, np.array([0.0, np.inf]), 300.0)
    assert (start[0], end[0]) == (pytest.approx(0.0), pytest.approx(300.0))


def test_both_ends_cut_in_their_own_directions():
    # d[u] = 200, d[v] = 400, B = 700: through u 500 left, walking down a ≤ 500;
    # through v 300 left, walking up 1.5 × (1,000 − a) ≤ 300 → a ≥ 800.
    # Not whole (the flat rule, 500 + 300 < 1,000, agrees), pieces 0–500 and 800–1,000
    _, start, end, whole = reached_pieces(UPHILL, np.array([200.0, 400.0]), 700.0)
    assert whole.tolist() == [False, False]
    assert sorted(zip(start.round(6), end.round(6), strict=True)) == [(0, 500), (800, 1000)]
    # B = 900: through u a ≤ 700, through v 1.5 × (1,000 − a) ≤ 500 → a ≥ 666.7: they
    # overlap, so the whole street is reached
    _, _, end, whole = reached_pieces(UPHILL, np.array([200.0, 400.0]), 900.0)
    assert whole.tolist() == [True] and end[0] == pytest.approx(1000)


def test_own_edge_priced_each_way_on_a_slope():
    # facility 500 m up the climb with 300 m left: below it residents walk up,
    # 1.5 × (500 − a) ≤ 300 → a ≥ 300; above it they walk down, a − 500 ≤ 300 → a ≤ 800
    _, start, end, _ = reached_pieces(UPHILL, np.array([np.inf, np.inf]), 300.0,
                                      own_edge=0, own_along_m=500.0, own_budget_m=300.0)
    assert (start[0], end[0]) == (pytest.approx(300.0), pytest.approx(800.0))
    fa = fast(UPHILL, [np.inf, np.inf], 300.0, own=(0, 500.0, 300.0))
    assert fa.area == pytest.approx(500 * 40 + DISC_M2, rel=TOLERANCE)


def test_cut_follows_the_profile_not_a_pro_rata_share():
    # two 500 m segments: a steep first half (2.0 per metre up, from_u 0 → 1,000) and a
    # flat second half (1.0, → 1,500); down 1.0 all the way. Facility at v, B = 800:
    # 1,500 − from_u(a) ≤ 800 → from_u(a) ≥ 700 → a = 700 / 2.0 = 350 m (in the steep
    # half); a pro-rata share of the whole edge would say 1,000 − 800 / 1.5 = 466.7 m
    net = sloped([0.0, 1000.0, 1500.0], [0.0, 500.0, 1000.0])
    _, start, end, _ = reached_pieces(net, np.array([np.inf, 0.0]), 800.0)
    assert (start[0], end[0]) == (pytest.approx(350.0), pytest.approx(1000.0))
    rows = np.array([[np.inf, 0.0]])
    fa = circle_polygons(net, sample_edges(net), rows, 800.0, own_edge=np.array([-1]),
                         own_along_m=np.array([0.0]), own_budget_m=np.array([-1.0]))[0]
    assert shapely.bounds(fa)[0] == pytest.approx(350 - 20, abs=5.0)  # the band starts there
