"""The study graph (planner.reach.StudyGraph): hand-worked, incremental, against networkx.

Hand-worked tests use the 3×3 grid of 100 m edges of ``tests/test_reach.py``::

    6 (0,200) --- 7 (100,200) --- 8 (200,200)
       |              |               |
    3 (0,100) --- 4 (100,100) --- 5 (200,100)
       |              |               |
    0 (0,0)   --- 1 (100,0)   --- 2 (200,0)
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from planner._errors import CRSError, InputError, MissingColumnError
from planner.network import load_network
from planner.network.store import compile_graph
from planner.reach import StudyGraph, validate_costs
from planner.reach.pairs import QUANTUM_M, quantize
from tests.conftest import SHARED_DATA
from tests.test_reach import gdf, grid_network, points

SHANGHAI = SHARED_DATA / "shanghai_central" / "shanghai_central.osm"


def sorted_costs(costs: pd.DataFrame) -> pd.DataFrame:
    return costs.sort_values(["facility_id", "community_id"]).reset_index(drop=True)


@pytest.fixture
def grid_world():
    net = grid_network()
    # F1 on the bottom street 50 m from node 0; F2 at node 8; F3 5 m below (150,0)
    facilities = gdf(points((50, 0), (200, 200), (150, -5)), ["F1", "F2", "F3"],
                     kind=["station", "day_care", "station"])
    # C1 at (200,150) on the right street; C2 at (40,210): 10 m above the top street
    communities = gdf(points((200, 150), (40, 210)), ["C1", "C2"])
    return net, communities, facilities


def test_hand_worked_costs_and_nearest(grid_world):
    net, communities, facilities = grid_world
    sg = StudyGraph.build(net, communities, facilities, max_distance_m=320.0)
    got = {(r.facility_id, r.community_id): r.distance_m for r in sg.costs.itertuples()}
    # F1 -> C1: 50 to node 1, 100 to node 2, 150 up the right street = 300
    # F1 -> C2: 50 to node 0, 200 up the left street, 40 along the top, 10 off = 300
    # F2 -> C1: 50 down the right street = 50
    # F2 -> C2: 160 west along the top street to (40,200) + 10 off = 170
    # F3 -> C1: 5 off-road, 50 to node 2, 150 up = 205
    # F3 -> C2: 5 + 150 to node 0 + 200 + 40 + 10 = 405 (> 320, dropped); via node 1,
    #   node 4, node 7: 5 + 50 + 100 + 100 + 60 + 10 = 325 (> 320, dropped)
    assert got == {("F1", "C1"): 300.0, ("F1", "C2"): 300.0, ("F2", "C1"): 50.0,
                   ("F2", "C2"): 170.0, ("F3", "C1"): 205.0}
    near = sg.nearest(kinds=["station"])
    assert near.loc["C1", "facility_id"] == "F3" and near.loc["C1", "distance_m"] == 205.0
    assert near.loc["C2", "facility_id"] == "F1" and near.loc["C2", "distance_m"] == 300.0
    # a limit below 205 m leaves C1 without a station
    near = sg.nearest(kinds=["station"], limit_m=200.0)
    assert near.loc["C1", "facility_id"] is None and np.isnan(near.loc["C1", "distance_m"])


def test_same_edge_walk_is_direct():
    net = grid_network()
    # facility at 20 m and community at 70 m along edge 0-1, both 3 m off the road:
    # 3 + 50 + 3 = 56 m, not via a node
    sg = StudyGraph.build(net, gdf(points((70, -3)), ["C"]), gdf(points((20, 3)), ["F"]),
                          max_distance_m=100.0)
    assert sg.costs["distance_m"].to_list() == [56.0]


def test_polygon_community_takes_best_access_point():
    net = grid_network()
    # block x 5..95, y 105..195 entered from 8 streets (see test_reach); F at node 8:
    # best is 100 m west to node 7 then the 7.07 m diagonal to the corner (95,195)
    sg = StudyGraph.build(net, gdf([shapely.box(5, 105, 95, 195)], ["B"]),
                          gdf(points((200, 200)), ["F"]), max_distance_m=500.0)
    assert sg.communities.loc["B", "access_points"] == 8
    assert sg.costs["distance_m"].iloc[0] == pytest.approx(100 + np.hypot(5, 5), abs=1e-6)


def test_incremental_equals_rebuild_on_grid(grid_world):
    net, communities, facilities = grid_world
    full = StudyGraph.build(net, communities, facilities, max_distance_m=320.0)
    inc = StudyGraph.build(net, communities.iloc[:1], facilities.iloc[:1], max_distance_m=320.0)
    new_f = inc.add_facilities(facilities.iloc[1:])
    new_c = inc.add_communities(communities.iloc[1:])
    # the new facilities' rows are only those of F2 and F3 with the communities then known
    assert set(new_f["facility_id"]) == {"F2", "F3"}
    assert set(new_f["community_id"]) == {"C1"}
    assert set(new_c["community_id"]) == {"C2"}
    pd.testing.assert_frame_equal(sorted_costs(inc.costs), sorted_costs(full.costs))


def test_remove_and_copy(grid_world):
    net, communities, facilities = grid_world
    sg = StudyGraph.build(net, communities, facilities, max_distance_m=320.0)
    scenario = sg.copy()
    scenario.remove_facilities(["F3"])
    scenario.remove_communities(["C2"])
    assert scenario.costs.values.tolist() == [["F1", "C1", 300.0], ["F2", "C1", 50.0]]
    assert len(sg.costs) == 5  # the base graph is untouched
    # C1's nearest without F3 is F2 (50 m)
    assert scenario.nearest().loc["C1", "facility_id"] == "F2"
    with pytest.raises(InputError, match="unknown facility"):
        scenario.remove_facilities(["F3"])
    with pytest.raises(InputError, match="already in the study graph"):
        sg.add_facilities(facilities.iloc[:1])


def test_wrong_crs_is_an_error(grid_world):
    net, communities, facilities = grid_world
    with pytest.raises(CRSError, match="differs from the network"):
        StudyGraph.build(net, communities.to_crs(4326), facilities, max_distance_m=100.0)


def test_quantized_lengths_are_exact():
    # 0.1 is not a binary fraction; on the 2^-20 m grid sums no longer depend on order
    a, b, c = quantize(0.1), quantize(0.2), quantize(0.3)
    assert abs(a - 0.1) <= QUANTUM_M / 2
    assert (a + b) + c == a + (b + c)


def test_validate_costs():
    good = pd.DataFrame({"facility_id": ["F1", "F2"], "community_id": ["A", "A"],
                         "distance_m": [10.0, 20.0]})
    assert validate_costs(good) is good
    with pytest.raises(MissingColumnError, match="distance_m"):
        validate_costs(good.drop(columns="distance_m"))
    with pytest.raises(InputError, match="row 2: distance_m is negative"):
        validate_costs(good.assign(distance_m=[1.0, -1.0]))
    with pytest.raises(InputError, match="row 1: distance_m is missing"):
        validate_costs(good.assign(distance_m=[np.nan, 1.0]))
    with pytest.raises(InputError, match=r"row 2: the .* pair appears twice"):
        validate_costs(good.assign(facility_id=["F1", "F1"]))
    with pytest.raises(InputError, match="dtype"):
        validate_costs(good.assign(distance_m=["10", "20"]))


# ----------------------------------------------------------------- a real network


@pytest.fixture(scope="module")
def shanghai():
    G = load_network(SHANGHAI)
    net = compile_graph(G)
    rng = np.random.default_rng(7)

    def beside(n):
        # points 0-40 m beside random edges at random positions along them
        edges = rng.choice(net.n_edges, n, replace=False)
        on = shapely.line_interpolate_point(net.edge_geoms[edges], rng.uniform(0, 1, n),
                                            normalized=True)
        ring = shapely.get_exterior_ring(shapely.buffer(on, rng.uniform(0.5, 40, n)))
        return np.asarray(shapely.get_point(ring, 0), dtype=object)

    fac = gpd.GeoDataFrame({"kind": rng.choice(["station", "day_care"], 30)},
                           geometry=beside(30), index=[f"F{i}" for i in range(30)],
                           crs=net.pyproj_crs)
    com_pts = beside(60)
    # a third of the communities are blocks entered from several streets
    geoms = [shapely.box(p.x - 40, p.y - 40, p.x + 40, p.y + 40) if i % 3 == 0 else p
             for i, p in enumerate(com_pts)]
    com = gpd.GeoDataFrame(geometry=geoms, index=[f"C{i}" for i in range(60)],
                           crs=net.pyproj_crs)
    return G, net, com, fac


def test_real_network_incremental_equals_rebuild(shanghai):
    _, net, com, fac = shanghai
    full = StudyGraph.build(net, com, fac, max_distance_m=900.0)
    assert len(full.costs) > 200  # enough pairs to mean something
    inc = StudyGraph.build(net, com.iloc[:25], fac.iloc[:10], max_distance_m=900.0)
    inc.add_communities(com.iloc[25:50])
    inc.add_facilities(fac.iloc[10:])
    inc.add_communities(com.iloc[50:])
    # bit-for-bit equal, not approximately
    pd.testing.assert_frame_equal(sorted_costs(inc.costs), sorted_costs(full.costs),
                                  check_exact=True)
    # removing what was added gives the smaller graph's table
    small = StudyGraph.build(net, com.iloc[:50], fac.iloc[:10], max_distance_m=900.0)
    inc.remove_facilities(fac.index[10:])
    inc.remove_communities(com.index[50:])
    pd.testing.assert_frame_equal(sorted_costs(inc.costs), sorted_costs(small.costs),
                                  check_exact=True)
    # nearest equals the minimum of the cost table where it is within the table's reach
    near = full.nearest(limit_m=900.0)
    best = full.costs.groupby("community_id")["distance_m"].min()
    assert near["distance_m"].dropna().sort_index().equals(best.sort_index())


def test_real_network_matches_networkx(shanghai):
    G, net, com, fac = shanghai
    H = nx.Graph()
    for u, v, d in G.edges(data=True):
        if u != v and (not H.has_edge(u, v) or d["length"] < H[u][v]["length"]):
            H.add_edge(u, v, length=d["length"])
    nodes = list(G.nodes)
    points_only = com[com.geom_type == "Point"]
    sg = StudyGraph.build(net, points_only, fac, max_distance_m=900.0)
    got = {(r.facility_id, r.community_id): r.distance_m for r in sg.costs.itertuples()}

    def ends(pt):
        # the nearest edge by hand (GEOS distance over all edges), its ends and offsets
        e = int(np.argmin(shapely.distance(net.edge_geoms, pt)))
        t = shapely.line_locate_point(net.edge_geoms[e], pt)
        off = shapely.distance(pt, shapely.line_interpolate_point(net.edge_geoms[e], t))
        return e, t, off, {nodes[net.edge_u[e]]: t, nodes[net.edge_v[e]]: net.edge_length[e] - t}

    com_ends = {c: ends(p) for c, p in points_only.geometry.items()}
    checked = 0
    for f, p in fac.geometry.items():
        fe, ft, foff, fends = ends(p)
        from_f = {}
        for node, a in fends.items():
            for tgt, d in nx.single_source_dijkstra_path_length(H, node, cutoff=900,
                                                                weight="length").items():
                from_f[tgt] = min(from_f.get(tgt, np.inf), foff + a + d)
        for c, (ce, ct, coff, cends) in com_ends.items():
            best = min(from_f.get(node, np.inf) + b for node, b in cends.items()) + coff
            if ce == fe:  # on the same edge: the direct walk along it
                best = min(best, foff + abs(ft - ct) + coff)
            if best <= 900 - 1e-3:
                assert got[(f, c)] == pytest.approx(best, abs=1e-4)  # rounding: < 1 µm/edge
                checked += 1
            elif best > 900 + 1e-3:
                assert (f, c) not in got
    assert checked > 100
