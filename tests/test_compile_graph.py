"""Compiling a networkx graph (GraphML, OSM) on arrays gives what the edge-by-edge rule gives.

The rule (:func:`planner.network.store.compile_graph`): edges in ``G.edges()`` order; an
edge without geometry is a straight line; of the edges joining the same two nodes with
the same length to the millimetre (an osmnx street and its reverse twin) the first is
kept; each geometry is stored from its ``u`` end. The reference below applies it one
edge at a time.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from planner.network import _fill_edge_geometry
from planner.network.store import compile_arrays, compile_graph, first_of_each_street


def reference(G: nx.MultiDiGraph):
    """The same network, compiled one edge at a time."""
    nodes = list(G.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    node_x = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
    node_y = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
    us, vs, geoms, seen = [], [], [], set()
    for u, v, data in G.edges(data=True):
        iu, iv = index[u], index[v]
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([(node_x[iu], node_y[iu]), (node_x[iv], node_y[iv])])
        key = (min(iu, iv), max(iu, iv), round(geom.length, 3))
        if key in seen:
            continue
        seen.add(key)
        us.append(iu)
        vs.append(iv)
        geoms.append(geom)
    return compile_arrays(crs=G.graph["crs"], node_x=node_x, node_y=node_y,
                          edge_u=np.array(us, dtype=np.int64), edge_v=np.array(vs, dtype=np.int64),
                          edge_geoms=np.array(geoms, dtype=object))


@pytest.fixture
def graph():
    # node names as GraphML gives them (strings), coordinates in metres (EPSG:32650)
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for name, x, y in [("a", 0, 0), ("b", 100, 0), ("c", 100, 50), ("d", 0, 50)]:
        G.add_node(name, x=float(x), y=float(y))
    ab = LineString([(0, 0), (100, 0)])
    G.add_edge("a", "b", geometry=ab)                  # 100 m
    G.add_edge("b", "a", geometry=ab.reverse())        # its reverse twin: dropped
    G.add_edge("a", "b", geometry=LineString([(0, 0), (50, 10), (100, 0)]))  # 101.98 m: kept
    G.add_edge("b", "c")                               # no geometry: straight, 50 m
    G.add_edge("c", "b", geometry=LineString([(100, 50), (100.0004, 25), (100, 0)]))
    # ^ 2 x sqrt(25^2 + 0.0004^2) = 50.000000006 m: the same to the millimetre as b-c, dropped
    G.add_edge("c", "d", geometry=LineString([(0, 50), (100, 50)]))  # drawn d->c: flipped
    G.add_edge("d", "d", geometry=LineString([(0, 50), (5, 55), (0, 50)]))  # a loop, kept
    G.add_edge("d", "a", geometry=LineString([(0, 50), (0, 0)]))     # 50 m
    G.add_edge("a", "d", geometry=LineString([(0, 0), (1, 25), (0, 50)]))  # 50.04 m: kept
    return G


def test_compile_graph_equals_edge_by_edge(graph):
    net, want = compile_graph(graph), reference(graph)
    for name in ("node_x", "node_y", "edge_u", "edge_v", "edge_length", "edge_coords",
                 "edge_offsets"):
        got, expected = getattr(net, name), getattr(want, name)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), name
    # by hand: 9 edges less the twin b-a and the millimetre-equal c-b: 7 streets
    assert net.n_edges == 7
    # a=0 b=1 c=2 d=3; in G.edges() order: a-b, a-b (bent), a-d, b-c, c-d, d-d, d-a
    assert net.edge_u.tolist() == [0, 0, 0, 1, 2, 3, 3]
    assert net.edge_v.tolist() == [1, 1, 3, 2, 3, 3, 0]
    assert net.edge_length[1] == pytest.approx(2 * np.hypot(50, 10))  # 101.98 m
    # c-d was drawn from d: stored from c (100, 50) to d (0, 50)
    c_d = net.edge_coords[net.edge_offsets[4]:net.edge_offsets[5]]
    assert c_d.tolist() == [[100.0, 50.0], [0.0, 50.0]]


def test_first_of_each_street_keeps_nan_lengths():
    # two edges 0-1 of NaN length are never "the same street" (as a set of keys keeps both)
    u, v = np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0])
    length = np.array([np.nan, np.nan, 10.0004, 9.9996])  # both round to 10.0: one street
    assert first_of_each_street(u, v, length).tolist() == [True, True, True, False]


def test_compile_graph_of_an_empty_graph_of_edges():
    G = nx.MultiDiGraph(crs="EPSG:32650")
    G.add_node(7, x=1.0, y=2.0)
    net = compile_graph(G)
    assert (net.n_nodes, net.n_edges) == (1, 0)
    assert net.edge_offsets.tolist() == [0] and shapely.get_num_geometries(net.edge_geoms).size == 0


def test_fill_edge_geometry_equals_edge_by_edge(graph):
    want = graph.copy()
    for u, v, data in want.edges(data=True):  # the rule, one edge at a time
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([(want.nodes[u]["x"], want.nodes[u]["y"]),
                               (want.nodes[v]["x"], want.nodes[v]["y"])])
            data["geometry"] = geom
        data["length"] = float(geom.length)
    _fill_edge_geometry(graph)
    got_edges, want_edges = list(graph.edges(data=True)), list(want.edges(data=True))
    assert len(got_edges) == len(want_edges) == 9
    for (u, v, got), (wu, wv, expected) in zip(got_edges, want_edges, strict=True):
        assert (u, v) == (wu, wv)
        assert shapely.get_coordinates(got["geometry"]).tolist() == \
            shapely.get_coordinates(expected["geometry"]).tolist()
        assert type(got["length"]) is float and got["length"] == expected["length"]
    # the edge b-c had no geometry: now the straight 50 m line from b (100, 0) to c
    bc = graph.edges["b", "c", 0]
    assert shapely.get_coordinates(bc["geometry"]).tolist() == [[100.0, 0.0], [100.0, 50.0]]
    assert bc["length"] == 50.0
