"""Searches between points on edges, in exact arithmetic, without splitting the network.

The study graph (:class:`planner.reach.StudyGraph`) must give the same distances whether a
facility was searched alone or with others, from the facility or from the community, on
the whole network or on the part of it a search can reach. Floating-point sums depend on
their order, so every length here is first rounded to a multiple of :data:`QUANTUM_M`
(2⁻²⁰ m, about one micrometre): sums of such numbers stay exact in float64 up to 2³³ m,
so a shortest distance is one exact number, whatever order Dijkstra adds it in. The
rounding moves a distance by at most half a micrometre per edge walked.

A search starts from *sources* and ends at *targets*, both sets of positions on edges
(:class:`Positions`, one or more per owner: a facility has one, a community one per gate
or boundary access point). For each group of sources (by grid cell), the network's
adjacency is cut to the nodes within the limit's straight-line reach (exact: no walk is
shorter than the straight line), and small one-way edges are added:

* a source node per source owner, with edges to both ends of each of its edges
  (off-road walk + the part of the edge to that end);
* a sink node per target owner reached, with edges *from* both ends of each of its
  edges (the part of the edge + its off-road walk);
* where a source and a target sit on the same edge, the direct walk along it.

Sources have no incoming edges and sinks no outgoing ones, so no walk passes through
them: the distance at a sink is the best over the owner's positions, and the distances
at the network's nodes are those of the plain network.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planner.network.store import CompiledNetwork, _csr, _stack_rows
from planner.reach.graph import GROUP_CELL_M
from planner.reach.search import BATCH_BYTES, _NodeGrid, _submatrix, spans
from planner.reach.snapping import AccessPoints

#: Every length is rounded to a multiple of this many metres (2⁻²⁰ m ≈ 0.95 µm).
QUANTUM_M = 2.0**-20
_QUANTUM_EXP = 20


def quantize(metres: np.ndarray | float) -> np.ndarray:
    """Round metres to the nearest multiple of :data:`QUANTUM_M` (exact power-of-two scaling)."""
    return np.ldexp(np.round(np.ldexp(np.asarray(metres, dtype=float), _QUANTUM_EXP)),
                    -_QUANTUM_EXP)


@dataclass
class Positions:
    """Snapped positions on edges with exact (quantized) lengths.

    Attributes
    ----------
    owner
        Integer id of the facility or community each position belongs to.
    edge
        Edge index of the position.
    to_u, to_v
        Metres along the edge to its ``u`` and to its ``v`` end (``to_u + to_v`` is the
        edge's quantized length).
    offroad
        Straight walk from the owner to the position (metres, quantized).
    x, y, half_w, half_h
        Centre and half extents of the bounding box of the position's edge (metres): the
        position lies in it, which is all that bounding a search needs.
    from_u, back_u
        Walking cost from ``u`` to the position and from the position back to ``u``
        (quantized; both ``to_u`` on a flat network, flat-equivalent metres on a terrain
        network, :mod:`planner.network.directed`).
    """

    owner: np.ndarray
    edge: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    offroad: np.ndarray
    x: np.ndarray
    y: np.ndarray
    half_w: np.ndarray
    half_h: np.ndarray
    from_u: np.ndarray
    back_u: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    def subset(self, mask: np.ndarray) -> Positions:
        """The positions where ``mask`` (boolean or index array) selects."""
        return Positions(*(getattr(self, f)[mask] for f in _FIELDS))

    @classmethod
    def concat(cls, parts: list[Positions]) -> Positions:
        """Stack several sets of positions."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    @classmethod
    def empty(cls) -> Positions:
        """No position."""
        i, f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return cls(i, i, f, f, f, f, f, f, f, f, f)

    def box(self, pad_m: float) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` holding every position, widened by ``pad_m`` metres."""
        return (float((self.x - self.half_w).min()) - pad_m,
                float((self.y - self.half_h).min()) - pad_m,
                float((self.x + self.half_w).max()) + pad_m,
                float((self.y + self.half_h).max()) + pad_m)


_FIELDS = ("owner", "edge", "to_u", "to_v", "offroad", "x", "y", "half_w", "half_h",
           "from_u", "back_u")


@dataclass
class SearchBase:
    """What every search of a study area shares: the network with exact lengths.

    Built once per network (:meth:`of`) and shared by copies of a study graph.

    On a terrain network (``net.directed``) walking costs differ by direction: ``csr``
    is then the transposed walking graph (row a, column b = the walk from b to a), for
    searches from facilities, which give every node its walk *to* the facility, and
    ``csr_walk`` the walking graph itself, for searches from communities. On a flat
    network both are the same matrix.
    """

    net: CompiledNetwork
    length: np.ndarray
    csr: sp.csr_matrix
    grid: _NodeGrid
    _lookup: np.ndarray = field(repr=False)
    csr_walk: sp.csr_matrix | None = None
    _edge_box: np.ndarray | None = field(default=None, repr=False)

    @property
    def edge_box(self) -> np.ndarray:
        """Per edge: centre x, centre y, half width, half height of its bounding box (m)."""
        if self._edge_box is None:
            net = self.net
            owner = np.repeat(np.arange(net.n_edges), np.diff(net.edge_offsets))
            lo_x, lo_y = np.full(net.n_edges, np.inf), np.full(net.n_edges, np.inf)
            hi_x, hi_y = np.full(net.n_edges, -np.inf), np.full(net.n_edges, -np.inf)
            np.minimum.at(lo_x, owner, net.edge_coords[:, 0])
            np.minimum.at(lo_y, owner, net.edge_coords[:, 1])
            np.maximum.at(hi_x, owner, net.edge_coords[:, 0])
            np.maximum.at(hi_y, owner, net.edge_coords[:, 1])
            self._edge_box = np.c_[(lo_x + hi_x) / 2, (lo_y + hi_y) / 2,
                                   (hi_x - lo_x) / 2, (hi_y - lo_y) / 2]
        return self._edge_box

    @classmethod
    def of(cls, net: CompiledNetwork, *, cell_m: float = GROUP_CELL_M) -> SearchBase:
        """Quantize the edge lengths and build the adjacency and node grid."""
        length = quantize(net.edge_length)
        grid = _NodeGrid(net.node_x, net.node_y, cell_m)
        lookup = np.full(net.n_nodes, -1, dtype=np.int64)
        if net.directed is None:
            csr = _csr(net.edge_u, net.edge_v, length, net.n_nodes)
            return cls(net, length, csr, grid, lookup, csr)
        fw, bw = _walk_totals(net)
        to_facility = _csr(net.edge_u, net.edge_v, fw, net.n_nodes, w_back=bw)
        walk = _csr(net.edge_u, net.edge_v, bw, net.n_nodes, w_back=fw)
        return cls(net, length, to_facility, grid, lookup, walk)

    def positions(self, access: AccessPoints, owner: np.ndarray | None = None) -> Positions:
        """Exact positions of the access points that snapped (``edge >= 0``).

        ``owner`` replaces ``access.owner`` as the owner of each access point.
        """
        ok = access.edge >= 0
        e = access.edge[ok].astype(np.int64)
        t = np.minimum(quantize(np.clip(access.along_m[ok], 0.0, None)), self.length[e])
        box = self.edge_box[e]
        own = (access.owner if owner is None else owner)[ok].astype(np.int64)
        from_u = back_u = t
        if self.net.directed is not None:
            fw, bw = _walk_totals(self.net)
            fwd, bwd = self.net.directed.between(e, np.zeros(len(e)), access.along_m[ok])
            from_u, back_u = np.minimum(quantize(fwd), fw[e]), np.minimum(quantize(bwd), bw[e])
        return Positions(own, e, t, self.length[e] - t, quantize(access.offroad_m[ok]),
                         box[:, 0], box[:, 1], box[:, 2], box[:, 3], from_u, back_u)


def _walk_totals(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Quantized walking cost of every edge from u to v and from v to u."""
    if net.directed is None:
        length = quantize(net.edge_length)
        return length, length
    return quantize(net.directed.forward_m), quantize(net.directed.backward_m)


def _end_costs(
    net: CompiledNetwork, pos: Positions, *, facility: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Walking cost between each position and its edge's u and v ends.

    A resident walks from a community *to* a facility: for a facility position, the walk
    from each end to it; for a community position, the walk from it to each end.
    """
    if net.directed is None:
        return pos.to_u, pos.to_v
    fw, bw = _walk_totals(net)
    if facility:
        return pos.from_u, bw[pos.edge] - pos.back_u
    return pos.back_u, fw[pos.edge] - pos.from_u


def _direct_walk(community: Positions, facility: Positions) -> np.ndarray:
    """Walking cost along a shared edge from a community position to a facility one."""
    ahead = community.to_u <= facility.to_u
    return np.where(ahead, facility.from_u - community.from_u,
                    community.back_u - facility.back_u)


@dataclass
class TargetIndex:
    """Target positions indexed by the network node at each end and by edge.

    ``node, node_owner, node_w``: one entry per (node, owner) — the cheapest way from
    that node into one of the owner's positions — sorted by node. ``mark`` is scratch
    space (one slot per owner id) for numbering a search's sinks.
    """

    node: np.ndarray
    node_owner: np.ndarray
    node_w: np.ndarray
    edge: np.ndarray
    edge_pos: np.ndarray
    positions: Positions
    mark: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    _whole: tuple | None = field(repr=False, default=None)

    @classmethod
    def of(cls, net: CompiledNetwork, pos: Positions, *, facility: bool = False) -> TargetIndex:
        """Index ``pos``: each position reached from its ``u`` end and from its ``v`` end.

        ``facility``: the positions are facilities (on a terrain network, the walk then
        runs from the ends to them; otherwise from them to the ends).
        """
        node = np.concatenate([net.edge_u[pos.edge], net.edge_v[pos.edge]])
        owner = np.concatenate([pos.owner, pos.owner])
        cu, cv = _end_costs(net, pos, facility=facility)
        w = np.concatenate([cu + pos.offroad, cv + pos.offroad])
        n_owners = int(pos.owner.max()) + 1 if len(pos) else 0
        # one integer key per (node, owner): one sort instead of a three-key lexsort;
        # the cheapest entry of each pair is its minimum
        order = np.argsort(node * max(n_owners, 1) + owner, kind="stable")
        node, owner, w = node[order], owner[order], w[order]
        first = np.ones(len(node), dtype=bool)
        first[1:] = (node[1:] != node[:-1]) | (owner[1:] != owner[:-1])
        starts = np.flatnonzero(first)
        best = np.minimum.reduceat(w, starts) if len(starts) else w[:0]
        by_edge = np.argsort(pos.edge, kind="stable")
        mark = np.full(n_owners, -1, dtype=np.int64)
        return cls(node[starts], owner[starts], best, pos.edge[by_edge], by_edge, pos, mark)


@dataclass
class SearchBatch:
    """Distances from a batch of source owners.

    Attributes
    ----------
    sources
        Source owner ids (one row each).
    nodes
        Sorted network nodes searched (columns of ``node_dist``).
    node_dist
        Metres to those nodes, ``inf`` beyond the limit; ``(len(sources), len(nodes))``.
    targets
        Target owner ids of the sinks (columns of ``target_dist``).
    target_dist
        Metres to each target owner (its best position), ``inf`` beyond the limit.
    """

    sources: np.ndarray
    nodes: np.ndarray
    node_dist: np.ndarray
    targets: np.ndarray
    target_dist: np.ndarray

    def pairs(self, limit_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(source owner, target owner, metres)`` of every pair within ``limit_m``."""
        r, c = np.nonzero(self.target_dist <= limit_m)
        return self.sources[r], self.targets[c], self.target_dist[r, c]


def _groups(src: Positions, owners: np.ndarray, cell_m: float) -> list[np.ndarray]:
    """Source owners grouped by the grid cell of their mean road position."""
    pos = src.subset(np.isin(src.owner, owners))
    uniq, inv = np.unique(pos.owner, return_inverse=True)
    cnt = np.bincount(inv)
    mx = np.bincount(inv, weights=pos.x) / cnt
    my = np.bincount(inv, weights=pos.y) / cnt
    keys = np.unique(np.c_[np.floor(mx / cell_m), np.floor(my / cell_m)], axis=0,
                     return_inverse=True)[1].ravel()
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.r_[True, keys[order][1:] != keys[order][:-1], True])
    return [uniq[order[a:b]] for a, b in itertools.pairwise(bounds)]


def searches(
    base: SearchBase,
    src: Positions,
    owners: np.ndarray,
    targets: TargetIndex,
    *,
    limit_m: float,
    bounded: bool = True,
    from_communities: bool = False,
) -> Iterator[SearchBatch]:
    """Search from each of ``owners`` (ids in ``src.owner``) up to ``limit_m`` metres.

    With ``bounded`` the owners are grouped by grid cell and each group searches only
    the nodes within ``limit_m`` (straight line) of its positions; otherwise every
    search covers the whole network (for long limits). ``from_communities``: the
    sources are communities and the targets facilities (matters on a terrain network,
    where the walk runs from the community to the facility).
    """
    matrix = base.csr_walk if from_communities and base.csr_walk is not None else base.csr
    owners = np.intersect1d(np.asarray(owners, dtype=np.int64), src.owner)
    if len(owners) == 0:
        return
    groups = _groups(src, owners, base.grid.cell) if bounded else [owners]
    by_owner = np.argsort(src.owner, kind="stable")
    sorted_owner = src.owner[by_owner]
    for group in groups:
        lo, hi = np.searchsorted(sorted_owner, group), np.searchsorted(sorted_owner, group, "right")
        gpos = src.subset(by_owner[spans(lo, hi)])
        if bounded:
            nodes = base.grid.within(*gpos.box(limit_m))
        else:
            nodes = np.arange(base.net.n_nodes, dtype=np.int64)
        sub = matrix if not bounded else _submatrix(matrix, nodes, base._lookup)
        rows = max(1, BATCH_BYTES // (8 * max(1, len(nodes) + len(group))))
        for i in range(0, len(group), rows):
            part = group[i:i + rows]
            yield _search(base, sub, nodes, gpos.subset(np.isin(gpos.owner, part)), part,
                          targets, limit_m, from_communities=from_communities)


def _local(nodes: np.ndarray, glob: np.ndarray) -> np.ndarray:
    """Position of each of ``glob`` in the sorted ``nodes``, ``-1`` where absent."""
    i = np.searchsorted(nodes, glob)
    i = np.minimum(i, len(nodes) - 1)
    return np.where(nodes[i] == glob, i, -1) if len(nodes) else np.full(len(glob), -1)


def _search(
    base: SearchBase, sub: sp.csr_matrix, nodes: np.ndarray, pos: Positions,
    part: np.ndarray, targets: TargetIndex, limit_m: float, *, from_communities: bool = False,
) -> SearchBatch:
    """One Dijkstra call from the source owners ``part`` (their positions ``pos``)."""
    n, k = len(nodes), len(part)
    csr, sink_owner = _graph(base, sub, nodes, pos, part, targets,
                             from_communities=from_communities)
    dist = np.atleast_2d(dijkstra(csr, directed=True, indices=n + np.arange(k), limit=limit_m))
    return SearchBatch(part, nodes, dist[:, :n], sink_owner, dist[:, n + k:])


def _graph(
    base: SearchBase, sub: sp.csr_matrix, nodes: np.ndarray, pos: Positions,
    part: np.ndarray, targets: TargetIndex, *, from_communities: bool = False,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """``sub`` plus a source node per owner of ``part`` and a sink per target owner.

    Nodes: ``nodes`` (``0..n-1``), then the sources in ``part`` order, then the sinks;
    returns the matrix and the target owner of each sink.
    """
    n, k = len(nodes), len(part)
    row = np.searchsorted(part, pos.owner)  # part is sorted (from np.unique)
    net = base.net
    # sources: to both ends of each position's edge
    su = np.concatenate([row, row]) + n
    sv = _local(nodes, np.concatenate([net.edge_u[pos.edge], net.edge_v[pos.edge]]))
    cu, cv = _end_costs(net, pos, facility=not from_communities)
    sw = np.concatenate([pos.offroad + cu, pos.offroad + cv])
    keep = sv >= 0
    su, sv, sw = su[keep], sv[keep], sw[keep]
    # sinks: target positions with an end among the nodes
    lo = np.searchsorted(targets.node, nodes)
    hi = np.searchsorted(targets.node, nodes, "right")
    idx = spans(lo, hi)
    t_local = np.repeat(np.arange(n), hi - lo)
    t_owner, t_w = targets.node_owner[idx], targets.node_w[idx]
    # the direct walk along an edge holding both a source and a target
    elo = np.searchsorted(targets.edge, pos.edge)
    ehi = np.searchsorted(targets.edge, pos.edge, "right")
    eidx = targets.edge_pos[spans(elo, ehi)]
    s_of = np.repeat(np.arange(len(pos)), ehi - elo)
    tp = targets.positions
    d_owner = tp.owner[eidx]
    if net.directed is None:
        along = np.abs(pos.to_u[s_of] - tp.to_u[eidx])
    elif from_communities:
        along = _direct_walk(pos.subset(s_of), tp.subset(eidx))
    else:
        along = _direct_walk(tp.subset(eidx), pos.subset(s_of))
    d_w = pos.offroad[s_of] + along + tp.offroad[eidx]
    # number the sinks in owner order, with the index's scratch array (no sort)
    mark = targets.mark
    mark[t_owner] = 0
    mark[d_owner] = 0
    sink_owner = np.flatnonzero(mark == 0)
    mark[sink_owner] = np.arange(len(sink_owner))
    t_sink, d_sink = n + k + mark[t_owner], n + k + mark[d_owner]
    mark[sink_owner] = -1
    total = n + k + len(sink_owner)
    # node rows (sorted, one entry per node and sink) then the few source rows
    empty = np.zeros(0, dtype=np.int64)
    src = _csr(empty, empty, np.zeros(0), total,
               (np.concatenate([su, row[s_of] + n]), np.concatenate([sv, d_sink]),
                np.concatenate([sw, d_w])))
    counts = np.bincount(t_local, minlength=total) + np.diff(src.indptr)
    indptr = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    extra = sp.csr_matrix((np.concatenate([t_w, src.data]),
                           np.concatenate([t_sink, src.indices]).astype(np.int32), indptr),
                          shape=(total, total))
    return _stack_rows(sub, extra), sink_owner


def nearest(
    base: SearchBase, src: Positions, owners: np.ndarray, targets: TargetIndex, *,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest source owner of each target owner: one multi-source ``min_only`` search.

    Returns ``(target owner, metres, source owner)`` for the target owners reached
    within ``limit_m``, over the whole network. The metres equal the minimum over the
    per-source searches of :func:`searches` exactly (exact arithmetic); among sources
    at the same distance, one is named.

    The graph is the network with a sink per target owner (built once per matrix and
    target index, shared by every call) followed by a source row per owner: the same
    edges, in the same order, as :func:`_graph` gives, numbered sinks first.
    """
    owners = np.intersect1d(np.asarray(owners, dtype=np.int64), src.owner)
    empty = np.zeros(0, dtype=np.int64)
    if len(owners) == 0:
        return empty, np.zeros(0), empty
    pos = src.subset(np.isin(src.owner, owners))
    shared, sink_owner = _whole_network(base, targets)
    n, s, k = base.net.n_nodes, len(sink_owner), len(owners)
    total = n + s + k
    row = np.searchsorted(owners, pos.owner)
    net = base.net
    # source rows: to both ends of each position's edge, and the direct walk to a target
    # on the same edge
    cu, cv = _end_costs(net, pos, facility=True)
    elo = np.searchsorted(targets.edge, pos.edge)
    ehi = np.searchsorted(targets.edge, pos.edge, "right")
    eidx = targets.edge_pos[spans(elo, ehi)]
    s_of = np.repeat(np.arange(len(pos)), ehi - elo)
    tp = targets.positions
    if net.directed is None:
        along = np.abs(pos.to_u[s_of] - tp.to_u[eidx])
    else:
        along = _direct_walk(tp.subset(eidx), pos.subset(s_of))
    d_w = pos.offroad[s_of] + along + tp.offroad[eidx]
    d_sink = n + np.searchsorted(sink_owner, tp.owner[eidx])
    empty_f = np.zeros(0)
    rows = _csr(empty, empty, empty_f, total,
                (np.concatenate([row, row, row[s_of]]),
                 np.concatenate([net.edge_u[pos.edge], net.edge_v[pos.edge], d_sink]),
                 np.concatenate([pos.offroad + cu, pos.offroad + cv, d_w])))
    m = rows.indptr[k]
    indptr = np.concatenate([shared.indptr, shared.indptr[-1] + rows.indptr[1:k + 1]])
    csr = sp.csr_matrix((np.concatenate([shared.data, rows.data[:m]]),
                         np.concatenate([shared.indices, rows.indices[:m]]), indptr),
                        shape=(total, total))
    dist, _, from_node = dijkstra(csr, directed=True, indices=n + s + np.arange(k),
                                  limit=limit_m, min_only=True, return_predecessors=True)
    d = dist[n:n + s]
    reached = np.isfinite(d)
    return sink_owner[reached], d[reached], owners[from_node[n:n + s][reached] - n - s]


def _whole_network(base: SearchBase, targets: TargetIndex) -> tuple[sp.csr_matrix, np.ndarray]:
    """The network's rows followed by one empty row per target owner (its sink).

    Each node row holds its streets, then an edge into the sink of every target owner
    with a position on one of its edges (sinks numbered from ``n`` in owner order).
    Returns the matrix (``n + sinks`` rows) and the target owner of each sink; cached on
    ``targets`` for ``base.csr``.
    """
    if targets._whole is not None and targets._whole[0] is base.csr:
        return targets._whole[1], targets._whole[2]
    n = base.net.n_nodes
    sink_owner = np.unique(targets.node_owner)
    size = n + len(sink_owner)
    sinks = sp.csr_matrix(
        (targets.node_w, (n + np.searchsorted(sink_owner, targets.node_owner)).astype(np.int32),
         np.r_[0, np.cumsum(np.bincount(targets.node, minlength=size))]),
        shape=(size, size))
    shared = _stack_rows(base.csr, sinks)
    targets._whole = (base.csr, shared, sink_owner)
    return shared, sink_owner
