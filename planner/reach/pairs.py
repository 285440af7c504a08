"""Points on edges and exact lengths, for searches that do not split the network.

The searches themselves are in :mod:`planner.reach.walks`.

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

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from planner.network.store import CompiledNetwork, _csr
from planner.reach.graph import GROUP_CELL_M
from planner.reach.search import _NodeGrid
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
    that node into one of the owner's positions — sorted by node. ``assembled`` caches
    the search graphs built for these targets (:mod:`planner.reach.walks`), by matrix.
    """

    node: np.ndarray
    node_owner: np.ndarray
    node_w: np.ndarray
    edge: np.ndarray
    edge_pos: np.ndarray
    positions: Positions
    assembled: dict = field(repr=False, default_factory=dict)

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
        return cls(node[starts], owner[starts], best, pos.edge[by_edge], by_edge, pos)
