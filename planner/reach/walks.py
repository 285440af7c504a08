"""The searches of the study graph: bounded walks from each source, and the nearest source.

A search runs on the network (:class:`planner.reach.pairs.SearchBase`) with one *sink*
node per target owner (edges from both ends of each of its positions' edges: the part
of the edge + its off-road walk) and one *source* node per source owner (edges to both
ends of each of its positions' edges, and the direct walk to a target on the same edge).
Sources have no incoming edges and sinks no outgoing ones, so no walk passes through
them (see :mod:`planner.reach.pairs`).

The network's rows with their sink edges are assembled once per matrix and target index
(:func:`_shared`) and reused: a bounded search cuts the nodes within its straight-line
reach out of it (exact: no walk is shorter than the straight line) and appends its few
source rows; the nearest search appends its source rows to the whole of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planner.network.store import _csr, _stack_rows
from planner.reach.pairs import Positions, SearchBase, TargetIndex, _direct_walk, _end_costs
from planner.reach.search import BATCH_BYTES, spans


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


@dataclass
class _Sinks:
    """The network's rows followed by one empty row per target owner (its sink).

    ``graph`` has ``n + len(owner)`` rows: each node row holds its streets, then an edge
    into the sink of every target owner with a position on one of its edges (sinks
    numbered from ``n`` in owner order). ``matrix`` is the network matrix it was built
    from; ``scratch`` holds ``-1`` per sink (restored after each use).
    """

    matrix: sp.csr_matrix
    graph: sp.csr_matrix
    owner: np.ndarray
    scratch: np.ndarray


def _shared(matrix: sp.csr_matrix, n: int, targets: TargetIndex) -> _Sinks:
    """The network ``matrix`` with the sinks of ``targets`` (cached on ``targets``)."""
    cached = targets.assembled.get(id(matrix))
    if cached is not None and cached.matrix is matrix:
        return cached
    owner = np.unique(targets.node_owner)
    size = n + len(owner)
    if len(owner) == 0:
        graph = matrix
    else:
        sinks = sp.csr_matrix(
            (targets.node_w, (n + np.searchsorted(owner, targets.node_owner)).astype(np.int32),
             np.r_[0, np.cumsum(np.bincount(targets.node, minlength=size))]),
            shape=(size, size))
        graph = _stack_rows(matrix, sinks)
    out = _Sinks(matrix, graph, owner, np.full(len(owner), -1, dtype=np.int64))
    targets.assembled[id(matrix)] = out
    return out


@dataclass
class _Direct:
    """Direct walks along an edge holding a source position and a target position."""

    source: np.ndarray  # index of the source position
    sink: np.ndarray    # sink index (into _Sinks.owner) of the target
    metres: np.ndarray


def _direct(
    base: SearchBase, pos: Positions, targets: TargetIndex, sinks: _Sinks, *,
    from_communities: bool,
) -> _Direct:
    net = base.net
    elo = np.searchsorted(targets.edge, pos.edge)
    ehi = np.searchsorted(targets.edge, pos.edge, "right")
    eidx = targets.edge_pos[spans(elo, ehi)]
    s_of = np.repeat(np.arange(len(pos)), ehi - elo)
    tp = targets.positions
    if net.directed is None:
        along = np.abs(pos.to_u[s_of] - tp.to_u[eidx])
    elif from_communities:
        along = _direct_walk(pos.subset(s_of), tp.subset(eidx))
    else:
        along = _direct_walk(tp.subset(eidx), pos.subset(s_of))
    metres = pos.offroad[s_of] + along + tp.offroad[eidx]
    return _Direct(s_of, np.searchsorted(sinks.owner, tp.owner[eidx]), metres)


def _source_rows(
    base: SearchBase, pos: Positions, part: np.ndarray, node_col: np.ndarray,
    direct: _Direct, sink_col: np.ndarray, total: int, *, from_communities: bool,
) -> sp.csr_matrix:
    """One row per owner of ``part`` (sorted): edges to its edges' ends and direct walks.

    ``node_col`` is the column of each position's ``u`` and ``v`` end (``-1`` when the
    node is not searched), ``sink_col`` the column of each direct walk's sink. Parallel
    entries keep the shortest (:func:`planner.network.store._csr`).
    """
    row = np.searchsorted(part, pos.owner)
    cu, cv = _end_costs(base.net, pos, facility=not from_communities)
    su = np.concatenate([row, row])
    sw = np.concatenate([pos.offroad + cu, pos.offroad + cv])
    keep = node_col >= 0
    empty = np.zeros(0, dtype=np.int64)
    return _csr(empty, empty, np.zeros(0), total,
                (np.concatenate([su[keep], row[direct.source]]),
                 np.concatenate([node_col[keep], sink_col]),
                 np.concatenate([sw[keep], direct.metres])))


def _append_rows(graph: sp.csr_matrix, rows: sp.csr_matrix, k: int, total: int) -> sp.csr_matrix:
    """``graph``'s rows followed by the first ``k`` rows of ``rows``, ``total`` square."""
    m = rows.indptr[k]
    indptr = np.concatenate([graph.indptr, graph.indptr[-1] + rows.indptr[1:k + 1]])
    return sp.csr_matrix((np.concatenate([graph.data, rows.data[:m]]),
                          np.concatenate([graph.indices, rows.indices[:m]]), indptr),
                         shape=(total, total))


def nearest(
    base: SearchBase, src: Positions, owners: np.ndarray, targets: TargetIndex, *,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest source owner of each target owner: one multi-source ``min_only`` search.

    Returns ``(target owner, metres, source owner)`` for the target owners reached
    within ``limit_m``, over the whole network. The metres equal the minimum over the
    per-source searches of :func:`searches` exactly (exact arithmetic); among sources
    at the same distance, one is named.
    """
    owners = np.intersect1d(np.asarray(owners, dtype=np.int64), src.owner)
    empty = np.zeros(0, dtype=np.int64)
    if len(owners) == 0:
        return empty, np.zeros(0), empty
    pos = src.subset(np.isin(src.owner, owners))
    sinks = _shared(base.csr, base.net.n_nodes, targets)
    n, s, k = base.net.n_nodes, len(sinks.owner), len(owners)
    total = n + s + k
    direct = _direct(base, pos, targets, sinks, from_communities=False)
    ends = np.concatenate([base.net.edge_u[pos.edge], base.net.edge_v[pos.edge]])
    rows = _source_rows(base, pos, owners, ends, direct, n + direct.sink, total,
                        from_communities=False)
    csr = _append_rows(sinks.graph, rows, k, total)
    dist, _, from_node = dijkstra(csr, directed=True, indices=n + s + np.arange(k),
                                  limit=limit_m, min_only=True, return_predecessors=True)
    d = dist[n:n + s]
    reached = np.isfinite(d)
    return sinks.owner[reached], d[reached], owners[from_node[n:n + s][reached] - n - s]


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
    sinks = _shared(matrix, base.net.n_nodes, targets)
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
        direct = _direct(base, gpos, targets, sinks, from_communities=from_communities)
        cut, sink_ids = _cut(sinks, base.net.n_nodes, nodes, base._lookup, direct.sink)
        width = len(nodes) + len(sink_ids)
        ends = _local(nodes, np.concatenate([base.net.edge_u[gpos.edge],
                                             base.net.edge_v[gpos.edge]]))
        rows = max(1, BATCH_BYTES // (8 * max(1, len(nodes) + len(group))))
        for i in range(0, len(group), rows):
            part = group[i:i + rows]
            yield _search(base, cut, nodes, sinks.owner[sink_ids], gpos, ends, direct,
                          len(nodes) + np.searchsorted(sink_ids, direct.sink), part,
                          width, limit_m, from_communities=from_communities)


def _cut(
    sinks: _Sinks, n: int, nodes: np.ndarray, lookup: np.ndarray, extra: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The rows of ``nodes`` (sorted) and of their sinks and ``extra`` sinks, renumbered.

    Columns: ``nodes`` (``0..len(nodes)-1``), then the sinks in owner order; edges to
    nodes outside ``nodes`` are dropped and each row keeps its order. Returns the square
    matrix and the sink index (into ``sinks.owner``) of each sink column.
    """
    g = sinks.graph
    start, stop = g.indptr[nodes], g.indptr[nodes + 1]
    idx = spans(start, stop)
    col = g.indices[idx].astype(np.int64)
    k = len(nodes)
    is_sink = col >= n
    sid = col[is_sink] - n
    scratch = sinks.scratch
    scratch[sid] = 0
    scratch[extra] = 0
    sink_ids = np.flatnonzero(scratch == 0)
    scratch[sink_ids] = k + np.arange(len(sink_ids))
    lookup[nodes] = np.arange(k)
    new = np.empty(len(col), dtype=np.int64)
    new[~is_sink] = lookup[col[~is_sink]]
    new[is_sink] = scratch[sid]
    lookup[nodes] = -1
    scratch[sink_ids] = -1
    keep = new >= 0
    size = k + len(sink_ids)
    row = np.repeat(np.arange(k), stop - start)[keep]
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=size), out=indptr[1:])
    cut = sp.csr_matrix((g.data[idx][keep], new[keep].astype(np.int32), indptr),
                        shape=(size, size))
    return cut, sink_ids


def _local(nodes: np.ndarray, glob: np.ndarray) -> np.ndarray:
    """Position of each of ``glob`` in the sorted ``nodes``, ``-1`` where absent."""
    i = np.searchsorted(nodes, glob)
    i = np.minimum(i, len(nodes) - 1)
    return np.where(nodes[i] == glob, i, -1) if len(nodes) else np.full(len(glob), -1)


def _search(
    base: SearchBase, cut: sp.csr_matrix, nodes: np.ndarray, sink_owner: np.ndarray,
    gpos: Positions, ends: np.ndarray, direct: _Direct, direct_col: np.ndarray,
    part: np.ndarray, width: int, limit_m: float, *, from_communities: bool,
) -> SearchBatch:
    """One Dijkstra call from the source owners ``part`` (a slice of the group ``gpos``)."""
    k = len(part)
    total = width + k
    mine = np.isin(gpos.owner, part)
    keep_direct = mine[direct.source]
    where = np.flatnonzero(mine)
    renumber = np.full(len(gpos), -1, dtype=np.int64)
    renumber[where] = np.arange(len(where))
    part_direct = _Direct(renumber[direct.source[keep_direct]], direct.sink[keep_direct],
                          direct.metres[keep_direct])
    m = len(gpos)
    rows = _source_rows(base, gpos.subset(where), part,
                        np.concatenate([ends[:m][where], ends[m:][where]]), part_direct,
                        direct_col[keep_direct], total, from_communities=from_communities)
    csr = _append_rows(cut, rows, k, total)
    n = len(nodes)
    dist = np.atleast_2d(dijkstra(csr, directed=True, indices=width + np.arange(k),
                                  limit=limit_m))
    return SearchBatch(part, nodes, dist[:, :n], sink_owner, dist[:, n:width])
