"""Bounded Dijkstra searches on the split reach graph (``scipy.sparse.csgraph``).

One multi-source ``min_only`` search per facility kind gives the nearest facility; the
circles are searched per group of facilities (by grid cell) on just the part of the
network within the budget's straight-line reach, which is exact because no walk is
shorter than the straight line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planner.reach.graph import GROUP_CELL_M, ReachGraph

#: Largest dense block of distances one Dijkstra batch may hold (bytes).
BATCH_BYTES = 256 * 2**20

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
