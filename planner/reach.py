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

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

log = logging.getLogger("planner")

#: Largest dense block of distances one Dijkstra batch may hold (bytes).
BATCH_BYTES = 256 * 2**20
#: Version of the compiled-network cache format; bump when the arrays change.
CACHE_VERSION = 1


@dataclass
class CompiledNetwork:
    """A walking network as arrays, in a metric CRS.

    Attributes
    ----------
    crs
        The metric CRS (WKT).
    node_x, node_y
        Node coordinates in metres, shape ``(n,)``.
    edge_u, edge_v
        End nodes of each undirected edge (indices into the node arrays), shape ``(m,)``.
    edge_length
        Length of each edge in metres, measured along its geometry.
    edge_coords, edge_offsets
        Vertices of all edge geometries stacked, oriented from ``edge_u`` to ``edge_v``;
        edge ``i`` owns ``edge_coords[edge_offsets[i]:edge_offsets[i + 1]]``.
    """

    crs: str
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_coords: np.ndarray
    edge_offsets: np.ndarray
    _geoms: np.ndarray | None = field(default=None, repr=False)
    _tree: shapely.STRtree | None = field(default=None, repr=False)
    _components: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return len(self.edge_u)

    @property
    def pyproj_crs(self) -> pyproj.CRS:
        """The metric CRS as a :class:`pyproj.CRS`."""
        return pyproj.CRS.from_wkt(self.crs)

    @property
    def edge_geoms(self) -> np.ndarray:
        """Edge LineStrings (built once, on first use)."""
        if self._geoms is None:
            counts = np.diff(self.edge_offsets)
            self._geoms = shapely.linestrings(
                self.edge_coords, indices=np.repeat(np.arange(self.n_edges), counts)
            )
        return self._geoms

    @property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the edges."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.edge_geoms)
        return self._tree

    @property
    def components(self) -> np.ndarray:
        """Connected-component label of every node; 0 is the largest component."""
        if self._components is None:
            _, labels = connected_components(self.adjacency(), directed=False)
            sizes = np.bincount(labels)
            rank = np.empty_like(sizes)
            rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
            self._components = rank[labels]
        return self._components

    def adjacency(
        self,
        extra_u: np.ndarray | None = None,
        extra_v: np.ndarray | None = None,
        extra_w: np.ndarray | None = None,
        n_extra_nodes: int = 0,
    ) -> sp.csr_matrix:
        """Symmetric CSR matrix of edge lengths, parallel edges reduced to the shortest.

        ``extra_*`` add edges (for split points) between nodes that may include
        ``n_extra_nodes`` nodes numbered after the network's own.
        """
        u, v, w = self.edge_u, self.edge_v, self.edge_length
        if extra_u is not None:
            u = np.concatenate([u, extra_u])
            v = np.concatenate([v, extra_v])
            w = np.concatenate([w, extra_w])
        n = self.n_nodes + n_extra_nodes
        return _symmetric_csr(u, v, w, n)


def _symmetric_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR of both directions of every edge, keeping the shortest of parallel edges."""
    keep = u != v  # self-loops never shorten a walk
    rows = np.concatenate([u[keep], v[keep]])
    cols = np.concatenate([v[keep], u[keep]])
    vals = np.concatenate([w[keep], w[keep]])
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, rows[first] + 1, 1)
    return sp.csr_matrix(
        (vals[first], cols[first].astype(np.int32), np.cumsum(indptr)), shape=(n, n)
    )


def compile_graph(G: nx.MultiDiGraph) -> CompiledNetwork:
    """Compile a projected networkx graph into arrays.

    Directions are dropped (walking is two-way); an edge and its reverse twin, as osmnx
    stores two-way streets, become one row. Edges without ``geometry`` get a straight line.
    """
    nodes = list(G.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    node_x = np.fromiter((G.nodes[n]["x"] for n in nodes), float, len(nodes))
    node_y = np.fromiter((G.nodes[n]["y"] for n in nodes), float, len(nodes))
    us, vs, geoms, seen = [], [], [], set()
    for u, v, data in G.edges(data=True):
        iu, iv = index[u], index[v]
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([(node_x[iu], node_y[iu]), (node_x[iv], node_y[iv])])
        key = (min(iu, iv), max(iu, iv), round(geom.length, 3))
        if key in seen:
            continue
        seen.add(key)
        us.append(iu)
        vs.append(iv)
        geoms.append(geom)
    return compile_arrays(
        crs=pyproj.CRS.from_user_input(G.graph["crs"]).to_wkt(),
        node_x=node_x, node_y=node_y,
        edge_u=np.asarray(us, dtype=np.int64), edge_v=np.asarray(vs, dtype=np.int64),
        edge_geoms=np.asarray(geoms, dtype=object),
    )


def compile_arrays(
    *,
    crs: str,
    node_x: np.ndarray,
    node_y: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_geoms: np.ndarray,
) -> CompiledNetwork:
    """Build a :class:`CompiledNetwork` from node and edge arrays.

    Edge geometries are oriented so that they start at ``edge_u``.
    """
    starts = shapely.get_coordinates(shapely.get_point(edge_geoms, 0))
    d_u = np.hypot(starts[:, 0] - node_x[edge_u], starts[:, 1] - node_y[edge_u])
    d_v = np.hypot(starts[:, 0] - node_x[edge_v], starts[:, 1] - node_y[edge_v])
    flip = d_v < d_u
    if flip.any():
        edge_geoms = edge_geoms.copy()
        edge_geoms[flip] = shapely.reverse(edge_geoms[flip])
    coords, idx = shapely.get_coordinates(edge_geoms, return_index=True)
    offsets = np.zeros(len(edge_geoms) + 1, dtype=np.int64)
    np.add.at(offsets, idx + 1, 1)
    return CompiledNetwork(
        crs=crs, node_x=np.asarray(node_x, float), node_y=np.asarray(node_y, float),
        edge_u=np.asarray(edge_u, np.int64), edge_v=np.asarray(edge_v, np.int64),
        edge_length=shapely.length(edge_geoms), edge_coords=coords,
        edge_offsets=np.cumsum(offsets), _geoms=edge_geoms,
    )


def save_compiled(net: CompiledNetwork, path: Path, *, source_key: str = "") -> Path:
    """Write the compiled arrays to ``path`` (``.npz``), tagged with the source's key."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp, version=CACHE_VERSION, source_key=source_key, crs=net.crs,
        node_x=net.node_x, node_y=net.node_y, edge_u=net.edge_u, edge_v=net.edge_v,
        edge_length=net.edge_length, edge_coords=net.edge_coords, edge_offsets=net.edge_offsets,
    )
    tmp.replace(path)
    return path


def load_compiled(path: Path, *, source_key: str = "") -> CompiledNetwork | None:
    """Read a compiled network, or ``None`` if it is missing, stale or of an old version."""
    path = Path(path)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        if int(z["version"]) != CACHE_VERSION or str(z["source_key"]) != source_key:
            return None
        return CompiledNetwork(
            crs=str(z["crs"]), node_x=z["node_x"], node_y=z["node_y"], edge_u=z["edge_u"],
            edge_v=z["edge_v"], edge_length=z["edge_length"], edge_coords=z["edge_coords"],
            edge_offsets=z["edge_offsets"],
        )


def file_key(path: Path, *extra: str) -> str:
    """A key that changes when a source file (or an option in ``extra``) changes."""
    stat = Path(path).stat()
    text = "|".join([str(Path(path).resolve()), str(stat.st_size), str(stat.st_mtime_ns), *extra])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


def snap_points(net: CompiledNetwork, points: np.ndarray, *, max_m: float) -> AccessPoints:
    """Snap each point to the nearest position on the nearest edge.

    Points farther than ``max_m`` metres from every edge get ``edge == -1``; the caller
    reports them, nothing is snapped silently.
    """
    points = np.asarray(points, dtype=object)
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    if n:
        (pi, ei), dist = net.tree.query_nearest(points, max_distance=max_m,
                                                return_distance=True, all_matches=False)
        edge[pi] = ei
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


def _split_edges(
    net: CompiledNetwork, access: AccessPoints
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Insert snapped access points as nodes that split their edges.

    Points on the same edge are chained in order of ``along_m``: the edge ``u–v`` of
    length ``L`` with points at ``t1 < t2`` becomes ``u–p1`` (t1), ``p1–p2`` (t2 − t1) and
    ``p2–v`` (L − t2). The original edge stays; it is never shorter than the chain.

    Returns the node of each access point (``-1`` if it did not snap; new nodes are
    numbered from ``net.n_nodes``) and the chain edges ``(u, v, length_m)``.
    """
    ok = np.flatnonzero(access.edge >= 0)
    node = np.full(len(access), -1, dtype=np.int64)
    e = access.edge[ok]
    t = np.clip(access.along_m[ok], 0.0, net.edge_length[e])
    order = np.lexsort((t, e))
    e, t, ids = e[order], t[order], ok[order]
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
    return node, chain_u, chain_v, chain_w


@dataclass
class ReachGraph:
    """The network with facilities and community access points inserted.

    Attributes
    ----------
    csr
        Symmetric adjacency (metres) of the split network plus one source node per
        facility, linked to its road position by its off-road walk.
    facility_node
        Source node of each facility (``-1`` when it did not snap).
    facility_access, community_access
        The snapped positions; ``community_access.owner`` indexes communities.
    community_node
        Graph node of each community access point (``-1`` when it did not snap).
    n_communities
        Number of communities (owners), including those without any access point.
    """

    net: CompiledNetwork
    csr: sp.csr_matrix
    facility_access: AccessPoints
    facility_node: np.ndarray
    community_access: AccessPoints
    community_node: np.ndarray
    n_communities: int

    def community_distances(self, node_dist: np.ndarray) -> np.ndarray:
        """Metres to each community: min over its access points of node + off-road metres.

        ``node_dist`` has the graph's nodes on its last axis (one row per query); the
        result has communities there, ``inf`` where unreached.
        """
        ok = self.community_node >= 0
        per_access = node_dist[..., self.community_node[ok]] + self.community_access.offroad_m[ok]
        return _min_by_owner(per_access, self.community_access.owner[ok], self.n_communities)


def _min_by_owner(values: np.ndarray, owner: np.ndarray, n_owners: int) -> np.ndarray:
    """Minimum of ``values`` (last axis) per owner; ``inf`` for owners with no values."""
    out = np.full((*values.shape[:-1], n_owners), np.inf)
    if len(owner) == 0:
        return out
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    mins = np.minimum.reduceat(values[..., order], starts, axis=-1)
    out[..., sorted_owner[starts]] = mins
    return out


def build_reach_graph(
    net: CompiledNetwork, facility_access: AccessPoints, community_access: AccessPoints,
    n_communities: int,
) -> ReachGraph:
    """Split the network at every facility and community access point.

    Each facility also gets a source node joined to its road position by an edge as long
    as its off-road walk, so a Dijkstra search from that node starts at the facility's
    door, not at the road.
    """
    both = AccessPoints.concat([facility_access, community_access])
    node, cu, cv, cw = _split_edges(net, both)
    n_split = net.n_nodes + int((node >= 0).sum())
    f_road = node[: len(facility_access)]
    f_ok = np.flatnonzero(f_road >= 0)
    f_node = np.full(len(facility_access), -1, dtype=np.int64)
    f_node[f_ok] = n_split + np.arange(len(f_ok))
    su = np.concatenate([cu, f_node[f_ok]])
    sv = np.concatenate([cv, f_road[f_ok]])
    sw = np.concatenate([cw, facility_access.offroad_m[f_ok]])
    csr = net.adjacency(su, sv, sw, n_extra_nodes=n_split - net.n_nodes + len(f_ok))
    return ReachGraph(net, csr, facility_access, f_node, community_access,
                      node[len(facility_access):], n_communities)


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
    ok = rg.community_node >= 0
    per_access = dist[rg.community_node[ok]] + rg.community_access.offroad_m[ok]
    owner = rg.community_access.owner[ok]
    best = np.full(n, np.inf)
    which = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((per_access, owner))
    first = np.r_[True, owner[order][1:] != owner[order][:-1]] if len(order) else order
    pick = order[first]
    best[owner[pick]] = per_access[pick]
    node_to_facility = dict(zip(rg.facility_node[facilities].tolist(), facilities.tolist()))
    src_nodes = src[rg.community_node[ok][pick]]
    which[owner[pick]] = [node_to_facility.get(int(s), -1) for s in src_nodes]
    which[~np.isfinite(best)] = -1
    best[best > limit_m] = np.inf
    return best, which


def facility_batches(rg: ReachGraph, facilities: np.ndarray) -> list[np.ndarray]:
    """Split facility indices into batches whose distance rows fit :data:`BATCH_BYTES`."""
    size = max(1, BATCH_BYTES // (8 * rg.csr.shape[0]))
    return [facilities[i:i + size] for i in range(0, len(facilities), size)]


def circle_distances(
    rg: ReachGraph, facilities: np.ndarray, *, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Node distances from a batch of facilities, searched only up to ``limit_m``.

    Returns ``(node_dist, community_dist)``: shapes ``(batch, nodes)`` and
    ``(batch, communities)``, ``inf`` beyond the limit.
    """
    node_dist = dijkstra(rg.csr, directed=True, indices=rg.facility_node[facilities],
                         limit=limit_m)
    return node_dist, rg.community_distances(node_dist)
