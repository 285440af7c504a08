"""The reach engine: walking distances on a compiled network.

The walking graph is compiled once into arrays (:class:`CompiledNetwork`): node
coordinates, one row per undirected edge, and a symmetric CSR adjacency matrix whose
parallel edges are reduced to the shortest. Points (facilities, community gates and
boundary access points) are snapped to the nearest *edge*, and the edge is split there,
so a point reaches both ends of its edge through the partial lengths, exactly as if the
edge had been cut at that point. Distances then come from
``scipy.sparse.csgraph.dijkstra`` with a ``limit``: single-threaded C, no Python per node.

Distances are metres along the network plus the straight off-road walk from the point
to its snapped position (``offroad_m``). Minutes are metres / (speed in m/s × 60).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from planner.network.store import (  # noqa: F401 - re-exported for callers of planner.reach
    CACHE_VERSION,
    CompiledNetwork,
    _csr,
    _stack_rows,
    compile_arrays,
    compile_graph,
    file_key,
    load_compiled,
    save_compiled,
)

log = logging.getLogger("planner")

#: Largest dense block of distances one Dijkstra batch may hold (bytes).
BATCH_BYTES = 256 * 2**20

# --------------------------------------------------------------------------- snapping


@dataclass
class AccessPoints:
    """Where points join the network: each is a position on an edge.

    Attributes
    ----------
    owner
        Index of the point (facility or community) each access point belongs to.
    edge
        Edge index, or -1 when no edge lies within the snapping distance.
    along_m
        Distance from the edge's ``u`` end along its geometry (metres).
    offroad_m
        Straight distance from the point to its position on the edge (metres).
    """

    owner: np.ndarray
    edge: np.ndarray
    along_m: np.ndarray
    offroad_m: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    @classmethod
    def concat(cls, parts: list[AccessPoints]) -> AccessPoints:
        """Stack several sets of access points."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("owner", "edge", "along_m", "offroad_m")))

    def subset(self, mask: np.ndarray) -> AccessPoints:
        """The access points where ``mask`` is true."""
        return AccessPoints(self.owner[mask], self.edge[mask], self.along_m[mask],
                            self.offroad_m[mask])


#: Snapping first looks for edges this close (metres): cheaper than a nearest search.
SNAP_FIRST_RADIUS_M = 25.0


def _nearest_edges(net: CompiledNetwork, points: np.ndarray, max_m: float) -> np.ndarray:
    """Index of the nearest edge within ``max_m`` of each point, ``-1`` where none.

    Most points lie near a street, so candidates within :data:`SNAP_FIRST_RADIUS_M` are
    found with one ``dwithin`` query and ranked by distance; only the rest go through
    the slower ``query_nearest``. Both give the nearest edge.
    """
    edge = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0:
        return edge
    radius = min(max_m, SNAP_FIRST_RADIUS_M)
    pi, ei = net.tree.query(points, predicate="dwithin", distance=radius)
    d = shapely.distance(points[pi], net.edge_geoms[ei])
    order = np.lexsort((ei, d, pi))
    first = np.r_[True, pi[order][1:] != pi[order][:-1]] if len(order) else order
    edge[pi[order][first]] = ei[order][first]
    rest = np.flatnonzero(edge < 0)
    if len(rest) and max_m > radius:
        ri, rei = net.tree.query_nearest(points[rest], max_distance=max_m, all_matches=False)
        edge[rest[ri]] = rei
    return edge


def snap_points(net: CompiledNetwork, points: np.ndarray, *, max_m: float) -> AccessPoints:
    """Snap each point to the nearest position on the nearest edge.

    Points farther than ``max_m`` metres from every edge get ``edge == -1``; the caller
    reports them, nothing is snapped silently.
    """
    points = np.asarray(points, dtype=object)
    n = len(points)
    edge = _nearest_edges(net, points, max_m)
    along = np.zeros(n)
    off = np.full(n, np.nan)
    ok = edge >= 0
    geoms = net.edge_geoms[edge[ok]]
    along[ok] = shapely.line_locate_point(geoms, points[ok])
    on_road = shapely.line_interpolate_point(geoms, along[ok])
    off[ok] = shapely.distance(points[ok], on_road)
    return AccessPoints(np.arange(n), edge, along, off)


def boundary_access(
    net: CompiledNetwork, polygons: np.ndarray, *, near_m: float, max_m: float
) -> AccessPoints:
    """Access points of polygons: every edge within ``near_m`` of a polygon gives one.

    The access point is the position on the edge nearest to the polygon (where a road
    enters it, or the point of the street closest to its boundary): a residential block
    bordered by four streets can be entered from each of them. A polygon with no edge
    within ``near_m`` gets one access point on its nearest edge within ``max_m``, or a
    row with ``edge == -1`` when there is none.
    """
    polygons = np.asarray(polygons, dtype=object)
    pi, ei = net.tree.query(polygons, predicate="dwithin", distance=near_m)
    lines = shapely.shortest_line(net.edge_geoms[ei], polygons[pi])
    along = shapely.line_locate_point(net.edge_geoms[ei], shapely.get_point(lines, 0))
    near = AccessPoints(pi, ei, along, shapely.length(lines))
    missing = np.setdiff1d(np.arange(len(polygons)), pi)
    if len(missing) == 0:
        return near
    (mi, mei), _ = net.tree.query_nearest(polygons[missing], max_distance=max_m,
                                          return_distance=True, all_matches=False)
    far_edge = np.full(len(missing), -1, dtype=np.int64)
    far_edge[mi] = mei
    ok = far_edge >= 0
    lines = shapely.shortest_line(net.edge_geoms[far_edge[ok]], polygons[missing[ok]])
    far_along = np.zeros(len(missing))
    far_off = np.full(len(missing), np.nan)
    far_along[ok] = shapely.line_locate_point(net.edge_geoms[far_edge[ok]],
                                              shapely.get_point(lines, 0))
    far_off[ok] = shapely.length(lines)
    far = AccessPoints(missing, far_edge, far_along, far_off)
    return AccessPoints.concat([near, far])


# --------------------------------------------------------------------- the reach graph

#: Access points this close to an edge's end (metres) join the network at that end node.
END_TOLERANCE_M = 1e-9
#: Facilities are searched in groups by grid cells of this size (metres): each group's
#: Dijkstra runs on the part of the network its walks can possibly reach.
GROUP_CELL_M = 2500.0


def _split_edges(
    net: CompiledNetwork, access: AccessPoints
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Insert snapped access points as nodes that split their edges.

    Points on the same edge are chained in order of ``along_m``: the edge ``u–v`` of
    length ``L`` with points at ``t1 < t2`` becomes ``u–p1`` (t1), ``p1–p2`` (t2 − t1) and
    ``p2–v`` (L − t2). The original edge stays; it is never shorter than the chain. A
    point at an edge's end is that end's node: no new node.

    Returns the node of each access point (``-1`` if it did not snap; new nodes are
    numbered from ``net.n_nodes``), the chain edges ``(u, v, length_m)`` and the
    coordinates ``(k, 2)`` of the new nodes.
    """
    node = np.full(len(access), -1, dtype=np.int64)
    ok = np.flatnonzero(access.edge >= 0)
    e = access.edge[ok]
    t = np.clip(access.along_m[ok], 0.0, net.edge_length[e])
    at_u = t <= END_TOLERANCE_M
    at_v = ~at_u & (t >= net.edge_length[e] - END_TOLERANCE_M)
    node[ok[at_u]] = net.edge_u[e[at_u]]
    node[ok[at_v]] = net.edge_v[e[at_v]]
    inner = ~(at_u | at_v)
    e, t, ids = e[inner], t[inner], ok[inner]
    order = np.lexsort((t, e))
    e, t, ids = e[order], t[order], ids[order]
    new_nodes = net.n_nodes + np.arange(len(ids), dtype=np.int64)
    node[ids] = new_nodes
    first = np.ones(len(e), dtype=bool)
    first[1:] = e[1:] != e[:-1]
    last = np.ones(len(e), dtype=bool)
    last[:-1] = e[1:] != e[:-1]
    prev_node = np.where(first, net.edge_u[e], np.roll(new_nodes, 1))
    prev_t = np.where(first, 0.0, np.roll(t, 1))
    chain_u = np.concatenate([prev_node, new_nodes[last]])
    chain_v = np.concatenate([new_nodes, net.edge_v[e[last]]])
    chain_w = np.concatenate([t - prev_t, net.edge_length[e[last]] - t[last]])
    xy = shapely.get_coordinates(shapely.line_interpolate_point(net.edge_geoms[e], t))
    return node, chain_u, chain_v, chain_w, xy.reshape(-1, 2)


@dataclass
class ReachGraph:
    """The network with facilities and community access points inserted.

    Attributes
    ----------
    csr
        Adjacency (metres) of the split network, plus one source node per facility
        linked both ways to its road position by its off-road walk, plus one sink node
        per community reached one way from each of its access points by that access
        point's off-road walk. A search from a facility's source node therefore gives,
        at a community's sink, the minimum over its gates or boundary points of road
        metres + off-road metres; no walk can pass through a community's sink.
    node_x, node_y
        Coordinates of every node but the sinks (metres), used to bound searches: a
        walk is never shorter than the straight line.
    facility_node
        Source node of each facility (``-1`` when it did not snap).
    facility_access, community_access
        The snapped positions; ``community_access.owner`` indexes communities.
    community_node
        Graph node of each community access point (``-1`` when it did not snap).
    community_sink
        Sink node of each community (``-1`` when none of its access points snapped).
        Sinks are the last nodes, numbered from ``first_sink`` in community order.
    """

    net: CompiledNetwork
    csr: sp.csr_matrix
    node_x: np.ndarray
    node_y: np.ndarray
    facility_access: AccessPoints
    facility_node: np.ndarray
    community_access: AccessPoints
    community_node: np.ndarray
    community_sink: np.ndarray
    first_sink: int

    @property
    def n_communities(self) -> int:
        """Number of communities, including those without any access point."""
        return len(self.community_sink)

    def community_distances(self, node_dist: np.ndarray) -> np.ndarray:
        """Metres to each community, read at its sink node; ``inf`` where unreached.

        ``node_dist`` has the graph's nodes on its last axis (one row per query).
        """
        out = node_dist[..., np.maximum(self.community_sink, 0)]
        out[..., self.community_sink < 0] = np.inf
        return out


def build_reach_graph(
    net: CompiledNetwork, facility_access: AccessPoints, community_access: AccessPoints,
    n_communities: int,
) -> ReachGraph:
    """Split the network at every facility and community access point.

    Each facility also gets a source node joined to its road position by an edge as long
    as its off-road walk, so a Dijkstra search from that node starts at the facility's
    door, not at the road; each community gets a sink node (see :class:`ReachGraph`).
    """
    both = AccessPoints.concat([facility_access, community_access])
    node, cu, cv, cw, split_xy = _split_edges(net, both)
    n_split = net.n_nodes + len(split_xy)
    f_road = node[: len(facility_access)]
    f_ok = np.flatnonzero(f_road >= 0)
    f_node = np.full(len(facility_access), -1, dtype=np.int64)
    f_node[f_ok] = n_split + np.arange(len(f_ok))
    su = np.concatenate([cu, f_node[f_ok]])
    sv = np.concatenate([cv, f_road[f_ok]])
    sw = np.concatenate([cw, facility_access.offroad_m[f_ok]])
    c_node = node[len(facility_access):]
    c_ok = c_node >= 0
    owners = community_access.owner[c_ok].astype(np.int64)
    has_access = np.zeros(n_communities, dtype=bool)
    has_access[owners] = True
    first_sink = n_split + len(f_ok)
    sink = np.full(n_communities, -1, dtype=np.int64)
    sink[has_access] = first_sink + np.arange(int(has_access.sum()))
    one_way = (c_node[c_ok], sink[owners], community_access.offroad_m[c_ok])
    csr = net.adjacency(su, sv, sw, one_way=one_way,
                        n_extra_nodes=first_sink - net.n_nodes + int(has_access.sum()))
    # a source node sits, for bounding, at its road position (its walk starts there)
    x = np.concatenate([net.node_x, split_xy[:, 0], np.zeros(len(f_ok))])
    y = np.concatenate([net.node_y, split_xy[:, 1], np.zeros(len(f_ok))])
    x[f_node[f_ok]] = x[f_road[f_ok]]
    y[f_node[f_ok]] = y[f_road[f_ok]]
    return ReachGraph(net, csr, x, y, facility_access, f_node, community_access, c_node,
                      sink, first_sink)


def nearest_facility(
    rg: ReachGraph, facilities: np.ndarray, *, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Metres from each community to the nearest of ``facilities`` (indices) and which one.

    One multi-source Dijkstra (``min_only``) over the whole graph. Returns ``(metres,
    facility index)``, with ``inf`` and ``-1`` where none is within ``limit_m``.
    """
    facilities = np.asarray(facilities, dtype=np.int64)
    facilities = facilities[rg.facility_node[facilities] >= 0]
    n = rg.n_communities
    if len(facilities) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    dist, _, src = dijkstra(rg.csr, directed=True, indices=rg.facility_node[facilities],
                            limit=limit_m, min_only=True, return_predecessors=True)
    best = rg.community_distances(dist)
    node_to_facility = np.full(rg.csr.shape[0], -1, dtype=np.int64)
    node_to_facility[rg.facility_node[facilities]] = facilities
    src_at_sink = src[np.maximum(rg.community_sink, 0)]
    which = np.where(np.isfinite(best) & (src_at_sink >= 0),
                     node_to_facility[np.maximum(src_at_sink, 0)], -1)
    return best, which


def facility_batches(rg: ReachGraph, facilities: np.ndarray) -> list[np.ndarray]:
    """Split facility indices into batches whose distance rows fit :data:`BATCH_BYTES`."""
    size = max(1, BATCH_BYTES // (8 * rg.csr.shape[0]))
    return [facilities[i:i + size] for i in range(0, len(facilities), size)]


def circle_distances(
    rg: ReachGraph, facilities: np.ndarray, *, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Node distances from a batch of facilities over the whole graph, up to ``limit_m``.

    The plain form of :func:`circle_searches`. Returns ``(node_dist, community_dist)``:
    shapes ``(batch, nodes)`` and ``(batch, communities)``, ``inf`` beyond the limit.
    """
    node_dist = dijkstra(rg.csr, directed=True, indices=rg.facility_node[facilities],
                         limit=limit_m)
    return node_dist, rg.community_distances(node_dist)


@dataclass
class CircleBatch:
    """Distances from a group of facilities to the nodes of the part of the graph searched.

    Attributes
    ----------
    facilities
        Facility indices (one row each).
    nodes
        Sorted global ids of the nodes searched (columns of ``dist``).
    dist
        Metres, ``inf`` beyond the limit; shape ``(len(facilities), len(nodes))``.
    """

    rg: ReachGraph
    facilities: np.ndarray
    nodes: np.ndarray
    dist: np.ndarray

    def community_pairs(self, budget_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(facility index, community index, metres)`` of each community within its budget.

        ``budget_m`` holds each community's circle in metres.
        """
        is_sink = self.nodes >= self.rg.first_sink
        sink_cols = np.flatnonzero(is_sink)
        has_access = np.flatnonzero(self.rg.community_sink >= 0)
        communities = has_access[self.nodes[sink_cols] - self.rg.first_sink]
        d = self.dist[:, sink_cols]
        f, c = np.nonzero(d <= budget_m[communities][None, :])
        return self.facilities[f], communities[c], d[f, c]

    def network_node_dist(self) -> np.ndarray:
        """Distances to the network's own nodes, ``(len(facilities), net.n_nodes)``."""
        n = self.rg.net.n_nodes
        out = np.full((len(self.facilities), n), np.inf)
        own = self.nodes < n
        out[:, self.nodes[own]] = self.dist[:, own]
        return out


def _facility_groups(rg: ReachGraph, facilities: np.ndarray, cell_m: float) -> list[np.ndarray]:
    """Facilities grouped by grid cell of their road position."""
    src = rg.facility_node[facilities]
    cx = np.floor(rg.node_x[src] / cell_m).astype(np.int64)
    cy = np.floor(rg.node_y[src] / cell_m).astype(np.int64)
    keys = np.unique(np.c_[cx, cy], axis=0, return_inverse=True)[1].ravel()
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.r_[True, keys[order][1:] != keys[order][:-1], True])
    return [facilities[order[a:b]] for a, b in itertools.pairwise(bounds)]


def circle_searches(
    rg: ReachGraph, facilities: np.ndarray, *, limit_m: float, cell_m: float = GROUP_CELL_M
) -> Iterator[CircleBatch]:
    """Search every facility's circle on just the part of the graph it can reach.

    Facilities are grouped by grid cell; a group's Dijkstra runs on the subgraph of
    nodes within ``limit_m`` (straight line) of the group's bounding box, plus the sinks
    of communities with an access point there. This is exact: every edge is at least
    as long as the straight line between its ends, so no walk within the limit leaves
    that box. It makes the cost per facility depend on the circle, not on the city.
    """
    facilities = np.asarray(facilities, dtype=np.int64)
    facilities = facilities[rg.facility_node[facilities] >= 0]
    grid = _NodeGrid(rg.node_x[: rg.first_sink], rg.node_y[: rg.first_sink], cell_m)
    ow_u, ow_v = _one_way_edges(rg)
    by_u = np.argsort(ow_u, kind="stable")
    ow_u, ow_v = ow_u[by_u], ow_v[by_u]
    lookup = np.full(rg.csr.shape[0], -1, dtype=np.int64)
    for group in _facility_groups(rg, facilities, cell_m):
        src = rg.facility_node[group]
        cand = grid.within(rg.node_x[src].min() - limit_m, rg.node_y[src].min() - limit_m,
                           rg.node_x[src].max() + limit_m, rg.node_y[src].max() + limit_m)
        # sinks of the communities with an access point among the candidates
        lo, hi = np.searchsorted(ow_u, cand, side="left"), np.searchsorted(ow_u, cand, "right")
        sinks = ow_v[spans(lo, hi)]
        nodes = np.unique(np.concatenate([cand, sinks]))
        sub = _submatrix(rg.csr, nodes, lookup)
        rows = max(1, BATCH_BYTES // (8 * max(1, len(nodes))))
        for i in range(0, len(group), rows):
            part = group[i:i + rows]
            local = np.searchsorted(nodes, rg.facility_node[part])
            dist = dijkstra(sub, directed=True, indices=local, limit=limit_m)
            yield CircleBatch(rg, part, nodes, np.atleast_2d(dist))


def spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` for all i, vectorised."""
    counts = hi - lo
    starts = np.repeat(lo - np.cumsum(np.r_[0, counts[:-1]]), counts)
    return starts + np.arange(counts.sum())


def _submatrix(csr: sp.csr_matrix, nodes: np.ndarray, lookup: np.ndarray) -> sp.csr_matrix:
    """The square submatrix on ``nodes`` (sorted), in O(edges of those nodes).

    ``lookup`` is a scratch array of ``-1`` as long as the matrix; it is restored.
    """
    lookup[nodes] = np.arange(len(nodes))
    start, stop = csr.indptr[nodes], csr.indptr[nodes + 1]
    idx = spans(start, stop)
    cols = lookup[csr.indices[idx]]
    keep = cols >= 0
    row = np.repeat(np.arange(len(nodes)), stop - start)[keep]
    indptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=len(nodes)), out=indptr[1:])
    lookup[nodes] = -1
    return sp.csr_matrix((csr.data[idx][keep], cols[keep].astype(np.int32), indptr),
                         shape=(len(nodes), len(nodes)))


class _NodeGrid:
    """Nodes bucketed by square cells, to list those in a box without scanning all."""

    def __init__(self, x: np.ndarray, y: np.ndarray, cell_m: float) -> None:
        self.x, self.y, self.cell = x, y, cell_m
        self.x0, self.y0 = float(x.min()), float(y.min())
        cx = ((x - self.x0) // cell_m).astype(np.int64)
        cy = ((y - self.y0) // cell_m).astype(np.int64)
        self.nx, self.ny = int(cx.max()) + 1, int(cy.max()) + 1
        key = cx * self.ny + cy
        self.order = np.argsort(key, kind="stable")
        self.starts = np.searchsorted(key[self.order], np.arange(self.nx * self.ny + 1))

    def within(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Nodes with ``x0 <= x <= x1`` and ``y0 <= y <= y1``, sorted."""
        i0 = max(0, int((x0 - self.x0) // self.cell))
        i1 = min(self.nx - 1, int((x1 - self.x0) // self.cell))
        j0 = max(0, int((y0 - self.y0) // self.cell))
        j1 = min(self.ny - 1, int((y1 - self.y0) // self.cell))
        if i1 < i0 or j1 < j0:
            return np.zeros(0, dtype=np.int64)
        parts = [self.order[self.starts[i * self.ny + j0]:self.starts[i * self.ny + j1 + 1]]
                 for i in range(i0, i1 + 1)]
        cand = np.concatenate(parts)
        inside = ((self.x[cand] >= x0) & (self.x[cand] <= x1)
                  & (self.y[cand] >= y0) & (self.y[cand] <= y1))
        return np.sort(cand[inside])


def _one_way_edges(rg: ReachGraph) -> tuple[np.ndarray, np.ndarray]:
    """(access node, sink) of every community access point that snapped."""
    ok = rg.community_node >= 0
    return rg.community_node[ok], rg.community_sink[rg.community_access.owner[ok]]
