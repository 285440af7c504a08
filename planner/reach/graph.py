"""The split reach graph: the network cut at every access point.

Used by the per-batch engine in :mod:`planner.reach.search` (the reference for the
benchmarks and the real-network tests). :class:`planner.reach.StudyGraph` does not split
edges; it reads distances at access points from the searched nodes instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely

from planner.network.store import CompiledNetwork
from planner.reach.snapping import AccessPoints

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
    coordinates ``(k, 2)`` of the new nodes. With ``net.directed`` costs, ``length_m``
    is ``(2, k)``: the cost of each piece from u to v and from v to u.
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
    if net.directed is not None:  # terrain: (u -> v cost, v -> u cost) of each piece
        chain_e = np.concatenate([e, e[last]])
        t0 = np.concatenate([prev_t, t[last]])
        chain_w = np.stack(net.directed.between(chain_e, t0, t0 + chain_w))
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
    directed = cw.ndim == 2  # terrain: pieces go in one way each, transposed
    su = f_node[f_ok] if directed else np.concatenate([cu, f_node[f_ok]])
    sv = f_road[f_ok] if directed else np.concatenate([cv, f_road[f_ok]])
    sw = facility_access.offroad_m[f_ok] if directed else np.concatenate(
        [cw, facility_access.offroad_m[f_ok]])
    c_node = node[len(facility_access):]
    c_ok = c_node >= 0
    owners = community_access.owner[c_ok].astype(np.int64)
    has_access = np.zeros(n_communities, dtype=bool)
    has_access[owners] = True
    first_sink = n_split + len(f_ok)
    sink = np.full(n_communities, -1, dtype=np.int64)
    sink[has_access] = first_sink + np.arange(int(has_access.sum()))
    one_way = (c_node[c_ok], sink[owners], community_access.offroad_m[c_ok])
    if directed:  # row cu, column cv: walking cv -> cu (see CompiledNetwork.adjacency)
        one_way = (np.concatenate([cu, cv, one_way[0]]), np.concatenate([cv, cu, one_way[1]]),
                   np.concatenate([cw[1], cw[0], one_way[2]]))
    csr = net.adjacency(su, sv, sw, one_way=one_way,
                        n_extra_nodes=first_sink - net.n_nodes + int(has_access.sum()))
    # a source node sits, for bounding, at its road position (its walk starts there)
    x = np.concatenate([net.node_x, split_xy[:, 0], np.zeros(len(f_ok))])
    y = np.concatenate([net.node_y, split_xy[:, 1], np.zeros(len(f_ok))])
    x[f_node[f_ok]] = x[f_road[f_ok]]
    y[f_node[f_ok]] = y[f_road[f_ok]]
    return ReachGraph(net, csr, x, y, facility_access, f_node, community_access, c_node,
                      sink, first_sink)
