"""Hand-worked tests of the reach engine on a 3×3 grid of 100 m edges.

Grid nodes (metres, EPSG:32649)::

    (0,200)--(100,200)--(200,200)
       |         |          |
    (0,100)--(100,100)--(200,100)
       |         |          |
    (0,0) ---(100,0) ---(200,0)

Walking speed 1.0 m/s, so 60 m is one minute.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from planner.circles import ReachParams, compute_reach
from planner.reach import (
    build_reach_graph,
    compile_arrays,
    nearest_facility,
    snap_points,
)

CRS = "EPSG:32649"


def grid_network(extra_edges=()):
    xs, ys = np.meshgrid([0.0, 100.0, 200.0], [0.0, 100.0, 200.0])
    node_x, node_y = xs.ravel(), ys.ravel()  # node id = row * 3 + col
    u, v = [], []
    for r in range(3):
        for c in range(3):
            i = r * 3 + c
            if c < 2:
                u.append(i), v.append(i + 1)
            if r < 2:
                u.append(i), v.append(i + 3)
    for a, b in extra_edges:
        u.append(a), v.append(b)
    u, v = np.array(u), np.array(v)
    geoms = shapely.linestrings(
        np.stack([np.c_[node_x[u], node_y[u]], np.c_[node_x[v], node_y[v]]], axis=1)
    )
    return compile_arrays(crs=pyproj.CRS(CRS).to_wkt(), node_x=node_x, node_y=node_y,
                          edge_u=u, edge_v=v, edge_geoms=geoms)


def points(*xy):
    return np.array([shapely.Point(x, y) for x, y in xy], dtype=object)


def test_snap_to_edge_not_node():
    net = grid_network()
    ap = snap_points(net, points((40, 210)), max_m=50)
    # nearest edge is (0,200)-(100,200): 40 m along it, 10 m off the road
    assert net.edge_u[ap.edge[0]] == 6 and net.edge_v[ap.edge[0]] == 7
    assert ap.along_m[0] == pytest.approx(40.0)
    assert ap.offroad_m[0] == pytest.approx(10.0)


def test_far_point_is_not_snapped():
    net = grid_network()
    ap = snap_points(net, points((100, 400)), max_m=150)
    assert ap.edge[0] == -1  # 200 m from the nearest road: reported, not snapped


def test_split_edge_distances_exact():
    net = grid_network()
    fac = snap_points(net, points((50, 0)), max_m=50)
    com = snap_points(net, points((200, 150), (40, 210), (80, -5)), max_m=50)
    rg = build_reach_graph(net, fac, com, 3)
    metres, which = nearest_facility(rg, np.array([0]), limit_m=1000)
    # (200,150): 50 to (100,0), 100 to (200,0), 150 up the right side = 300 m
    # (40,210): 50 to (0,0), 200 up the left side, 40 along the top, 10 off-road = 300 m
    #   (the other way: 50 + 200 + 60 + 10 = 320 m)
    # (80,-5): same edge as the facility, 30 m along it, 5 m off-road = 35 m
    assert metres == pytest.approx([300.0, 300.0, 35.0])
    assert list(which) == [0, 0, 0]


def test_parallel_edges_reduce_to_shortest():
    # a second, longer path between nodes 0 and 1 must not change anything,
    # and a diagonal shortcut 0 -> 4 (141.42 m) must be used
    net = grid_network(extra_edges=[(0, 4)])
    fac = snap_points(net, points((0, 0)), max_m=10)
    com = snap_points(net, points((100, 100)), max_m=10)
    rg = build_reach_graph(net, fac, com, 1)
    metres, _ = nearest_facility(rg, np.array([0]), limit_m=1000)
    assert metres[0] == pytest.approx(np.hypot(100, 100))


def test_matches_networkx_dijkstra():
    net = grid_network(extra_edges=[(0, 4), (2, 4)])
    G = nx.Graph()
    for u, v, w in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        G.add_edge(int(u), int(v), length=float(w))
    fac = snap_points(net, points((0, 0)), max_m=1)
    node_targets = [(net.node_x[i], net.node_y[i]) for i in range(9)]
    com = snap_points(net, points(*node_targets), max_m=1)
    rg = build_reach_graph(net, fac, com, 9)
    metres, _ = nearest_facility(rg, np.array([0]), limit_m=10_000)
    expected = nx.single_source_dijkstra_path_length(G, 0, weight="length")
    assert metres == pytest.approx([expected[i] for i in range(9)], abs=1e-6)


def gdf(geoms, ids, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), index=ids, crs=CRS)


def test_compute_reach_circles_and_budget():
    net = grid_network()
    facilities = gdf(points((50, 0), (200, 200)), ["F1", "F2"], kind=["station", "day_care"])
    # C1 at (200,150): 300 m from F1, 50 m from F2; C2 is a block polygon between the
    # streets x=0..100, y=100..200, set back 5 m: reached from its nearest street, 5 m off.
    block = shapely.box(5, 105, 95, 195)
    communities = gdf([shapely.Point(200, 150), block], ["C1", "C2"])
    res = compute_reach(net, communities, facilities, circle_minutes=np.array([4.0, 4.0]),
                        params=ReachParams(speed_m_s=1.0))
    c = res.communities
    # C1: nearest is F2, 50 m = 0.8333 min
    assert c.loc["C1", "nearest_facility_id"] == "F2"
    assert c.loc["C1", "nearest_minutes"] == pytest.approx(50 / 60)
    # C2 (box x 5..95, y 105..195) is entered from every street within 30 m: the four
    # streets around it (5 m away) and the four streets ending at its corners
    # (diagonal 5*sqrt(2) = 7.07 m from the corner intersection).
    assert c.loc["C2", "access_points"] == 8
    # nearest to C2 is F2 at (200,200): 100 m west to the corner (100,200), then the
    # 7.07 m diagonal to the block's corner (95,195) = 107.07 m
    diag = np.hypot(5, 5)
    assert c.loc["C2", "nearest_facility_id"] == "F2"
    assert c.loc["C2", "nearest_minutes"] == pytest.approx((100 + diag) / 60)
    # circles of 4 minutes = 240 m:
    #   F1 -> C1 = 300 m (outside); F2 -> C1 = 50 m
    #   F1 -> C2: 50 m to (100,0), 100 m up to (100,100), 7.07 m to the corner = 157.07 m
    pairs = {(r.facility_id, r.community_id): r.distance_m for r in res.costs.itertuples()}
    assert pairs == pytest.approx(
        {("F2", "C1"): 50.0, ("F1", "C2"): 150 + diag, ("F2", "C2"): 100 + diag}
    )
    # nearest station (F1 is the only one) to C1: 300 m = 5 min
    assert c.loc["C1", "nearest_minutes_station"] == pytest.approx(300 / 60)
