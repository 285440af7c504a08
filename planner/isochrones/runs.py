"""Street capsules cut into grid runs: once per network, and per batch for cut pieces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.isochrones.pieces import _ranges, cut_edges, own_edge_piece, vertex_along
from planner.isochrones.sizes import CELL_M, SEGMENTS_PER_CHUNK, STREET_HALF_WIDTH_M
from planner.network.store import CompiledNetwork

# ------------------------------------------------------- capsules cut into grid runs


@dataclass
class StreetRuns:
    """Every edge's buffer as runs of grid cells, shared by all circles.

    The grid has cells of ``cell_m`` metres; cell ``(row, col)`` has its centre at
    ``(x0 + (col + 0.5) * cell_m, y0 + (row + 0.5) * cell_m)``. Edge ``i`` owns runs
    ``offsets[i]:offsets[i + 1]``: cells ``col_lo..col_hi`` of row ``row`` have their
    centre within ``half_width_m`` of the edge.
    """

    cell_m: float
    half_width_m: float
    x0: float
    y0: float
    row: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    offsets: np.ndarray
    seg_offsets: np.ndarray
    seg_vertex: np.ndarray
    seg_along: np.ndarray
    incidence: tuple[np.ndarray, np.ndarray] | None = None


def _capsule_at(p: np.ndarray, q: np.ndarray, seg: np.ndarray, yc: np.ndarray,
                radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the line ``y = yc[i]`` crosses the capsule of segment ``p-q[seg[i]]``.

    The capsule is convex, so the crossing is the hull of its crossings with the two end
    discs and with the band between them. Empty crossings give ``left > right``.
    """
    big = 1e18
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    ux = np.where(length > 0, d[:, 0] / np.where(length > 0, length, 1.0), 1.0)
    uy = np.where(length > 0, d[:, 1] / np.where(length > 0, length, 1.0), 0.0)
    # a flat direction becomes a tiny one: its interval is then all or nothing
    ux = np.where(np.abs(ux) < 1e-12, 1e-12, ux)[seg]
    uy = np.where(np.abs(uy) < 1e-12, 1e-12, uy)[seg]
    length = length[seg]
    p, q = p[seg], q[seg]
    dy = yc - p[:, 1]
    # across: |-uy (x - px) + ux dy| <= r ; along: 0 <= ux (x - px) + uy dy <= L
    a1, a2 = (ux * dy - radius_m) / uy, (ux * dy + radius_m) / uy
    b1, b2 = -uy * dy / ux, (length - uy * dy) / ux
    left = np.maximum(np.minimum(a1, a2), np.minimum(b1, b2))
    right = np.minimum(np.maximum(a1, a2), np.maximum(b1, b2))
    empty = left > right
    left = np.where(empty, big, left + p[:, 0])
    right = np.where(empty, -big, right + p[:, 0])
    for end in (p, q):
        h2 = radius_m**2 - (yc - end[:, 1]) ** 2
        h = np.where(h2 >= 0, np.sqrt(np.abs(h2)), -big)
        np.minimum(left, end[:, 0] - h, out=left)
        np.maximum(right, end[:, 0] + h, out=right)
    return left, right


def _segment_runs(
    p: np.ndarray, q: np.ndarray, *, radius_m: float, cell_m: float, x0: float, y0: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid runs of the capsules of segments ``p-q``: ``(segment, row, col_lo, col_hi)``."""
    ymin, ymax = np.minimum(p[:, 1], q[:, 1]), np.maximum(p[:, 1], q[:, 1])
    r_lo = np.ceil((ymin - radius_m - y0) / cell_m - 0.5).astype(np.int64)
    r_hi = np.floor((ymax + radius_m - y0) / cell_m - 0.5).astype(np.int64)
    counts = np.maximum(r_hi - r_lo + 1, 0)
    seg = np.repeat(np.arange(len(p)), counts)
    row = r_lo[seg] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    left, right = _capsule_at(p, q, seg, y0 + (row + 0.5) * cell_m, radius_m)
    c_lo = np.ceil((left - x0) / cell_m - 0.5)
    c_hi = np.floor((right - x0) / cell_m - 0.5)
    keep = c_lo <= c_hi
    return seg[keep], row[keep], c_lo[keep].astype(np.int64), c_hi[keep].astype(np.int64)


def sample_edges(
    net: CompiledNetwork,
    *,
    cell_m: float = CELL_M,
    half_width_m: float = STREET_HALF_WIDTH_M,
    edges: np.ndarray | None = None,
) -> StreetRuns:
    """Cut every edge's buffer into grid runs, once per network.

    Parameters
    ----------
    net
        The compiled network.
    cell_m
        Grid cell size (metres).
    half_width_m
        Half the width of the band along streets (metres).
    edges
        Boolean mask: cut only these edges (the others get no runs), for circles that
        can reach only part of the network.

    Returns
    -------
    StreetRuns
    """
    xy = net.edge_coords
    x0, y0 = grid_origin(net, cell_m=cell_m, half_width_m=half_width_m)
    seg_offsets, first, seg_along = segment_table(net)
    seg_edge = np.repeat(np.arange(net.n_edges), np.diff(seg_offsets))
    wanted = np.arange(len(first)) if edges is None else np.flatnonzero(edges[seg_edge])
    parts = []
    for a in range(0, len(wanted), SEGMENTS_PER_CHUNK):  # bounded temporaries at city scale
        w = wanted[a:a + SEGMENTS_PER_CHUNK]
        f = first[w]
        seg, row, lo, hi = _segment_runs(xy[f], xy[f + 1], radius_m=half_width_m,
                                         cell_m=cell_m, x0=x0, y0=y0)
        parts.append((w[seg], row.astype(np.int32), lo.astype(np.int32), hi.astype(np.int32)))
    seg, row, lo, hi = (np.concatenate(c) for c in zip(*parts, strict=True)) if parts else (
        np.zeros(0, dtype=np.int64), *(np.zeros(0, dtype=np.int32),) * 3)
    offsets = np.r_[0, np.cumsum(np.bincount(seg_edge[seg], minlength=net.n_edges))]
    return StreetRuns(cell_m, half_width_m, x0, y0, row, lo, hi, offsets, seg_offsets,
                      first, seg_along)


def grid_origin(net: CompiledNetwork, *, cell_m: float, half_width_m: float) -> tuple[float, float]:
    """The grid's corner ``(x0, y0)``: below and left of every street band (metres)."""
    xy = net.edge_coords
    x0 = float(np.floor(xy[:, 0].min() / cell_m) * cell_m - 4 * half_width_m)
    y0 = float(np.floor(xy[:, 1].min() / cell_m) * cell_m - 4 * half_width_m)
    return x0, y0


def segment_table(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The straight segments of every edge: ``(seg_offsets, seg_vertex, seg_along)``.

    Edge ``i`` owns segments ``seg_offsets[i]:seg_offsets[i + 1]``; segment ``s`` runs
    from vertex ``seg_vertex[s]`` of ``net.edge_coords`` to the next one and starts
    ``seg_along[s]`` metres from its edge's ``u`` end.
    """
    n_vert = np.diff(net.edge_offsets)
    seg_offsets = np.r_[0, np.cumsum(np.maximum(n_vert - 1, 0))]
    starts = np.ones(len(net.edge_coords), dtype=bool)
    starts[net.edge_offsets[1:] - 1] = False  # a segment starts at every vertex but the last
    first = np.flatnonzero(starts)
    return seg_offsets, first, vertex_along(net)[first]


def _piece_runs(
    net: CompiledNetwork, runs: StreetRuns, edge: np.ndarray, start_m: np.ndarray,
    end_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid runs of cut pieces, segment by segment: ``(piece, row, col_lo, col_hi)``."""
    seg, piece = _ranges(runs.seg_offsets, edge)
    p = net.edge_coords[runs.seg_vertex[seg]]
    d = net.edge_coords[runs.seg_vertex[seg] + 1] - p
    seg_len = np.hypot(d[:, 0], d[:, 1])
    s0 = runs.seg_along[seg]
    a = np.maximum(start_m[piece], s0)
    b = np.minimum(end_m[piece], s0 + seg_len)
    keep = a <= b
    piece, a, b, s0, p = piece[keep], a[keep], b[keep], s0[keep], p[keep]
    d = d[keep] / np.where(seg_len[keep] > 0, seg_len[keep], 1.0)[:, None]
    sub_p = p + d * (a - s0)[:, None]
    sub_q = p + d * (b - s0)[:, None]
    k, row, lo, hi = _segment_runs(sub_p, sub_q, radius_m=runs.half_width_m,
                                   cell_m=runs.cell_m, x0=runs.x0, y0=runs.y0)
    return piece[k], row, lo, hi


# ------------------------------------------------------------- a batch's runs


def node_edges(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Incidence of nodes and edges as CSR arrays ``(offsets, edge)``."""
    ends = np.concatenate([net.edge_u, net.edge_v])
    order = np.argsort(ends, kind="stable")
    offsets = np.r_[0, np.cumsum(np.bincount(ends, minlength=net.n_nodes))]
    return offsets, order % net.n_edges


def _batch_pieces(
    net: CompiledNetwork, incidence: tuple[np.ndarray, np.ndarray], node_dist: np.ndarray,
    budget_m: float, own: tuple[np.ndarray, np.ndarray, np.ndarray],
    nodes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reached pieces of every row of ``node_dist``, facility-sorted.

    Returns ``(facility, edge, start_m, end_m, whole)``; the rule is
    :func:`reached_pieces`'s, applied to all rows at once. ``nodes`` names the columns
    of a partial ``node_dist`` (see :func:`circle_polygons`).
    """
    fac, col = np.nonzero(node_dist <= budget_m)
    node = col if nodes is None else nodes[col]
    own_node = node < net.n_nodes
    fac, node = fac[own_node], node[own_node]
    idx, owner = _ranges(incidence[0], node)
    f, e = fac[owner], incidence[1][idx]
    du = _dist_at(node_dist, nodes, f, net.edge_u[e])
    dv = _dist_at(node_dist, nodes, f, net.edge_v[e])
    once = (node[owner] == net.edge_u[e]) | (du > budget_m)  # each edge from one end only
    f, e, du, dv = f[once], e[once], du[once], dv[once]
    ru, rv, length = budget_m - du, budget_m - dv, net.edge_length[e]
    whole, end_u, start_v = cut_edges(net, e, ru, rv)  # direction-aware with terrain
    from_u, from_v = ~whole & (ru >= 0), ~whole & (rv >= 0)
    own_edge, own_along, own_budget = own
    mine = np.flatnonzero((own_edge >= 0) & (own_budget >= 0))
    oe = own_edge[mine]
    parts = [
        (f[whole], e[whole], np.zeros(whole.sum()), length[whole]),
        (f[from_u], e[from_u], np.zeros(from_u.sum()), end_u[from_u]),
        (f[from_v], e[from_v], start_v[from_v], length[from_v]),
        (mine, oe, *own_edge_piece(net, oe, own_along[mine], own_budget[mine])),
    ]
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    kind = np.repeat([True, False], [whole.sum(), len(cols[0]) - whole.sum()])
    order = np.lexsort((~kind, cols[0]))
    fac_o, edge_o, start_o, end_o = (c[order] for c in cols)
    return fac_o, edge_o, start_o, end_o, kind[order]


def _dist_at(
    node_dist: np.ndarray, nodes: np.ndarray | None, rows: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """``node_dist[rows, ids]`` for global node ids; ``inf`` for ids not in ``nodes``."""
    if nodes is None:
        return node_dist[rows, ids]
    pos = np.minimum(np.searchsorted(nodes, ids), len(nodes) - 1)
    return np.where(nodes[pos] == ids, node_dist[rows, pos], np.inf)


def _batch_runs(
    net: CompiledNetwork, runs: StreetRuns, pieces: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid runs ``(facility, row, col_lo, col_hi)`` of the pieces, facility-sorted."""
    fac, edge, start, end, whole = pieces
    idx, owner = _ranges(runs.offsets, edge[whole])
    cut = np.flatnonzero(~whole)
    piece, row, lo, hi = _piece_runs(net, runs, edge[cut], start[cut], end[cut])
    row, lo, hi = row.astype(np.int32), lo.astype(np.int32), hi.astype(np.int32)
    # whole pieces come first within each facility, so the merge stays sorted
    f_all = np.concatenate([fac[whole][owner], fac[cut][piece]]).astype(np.int32)
    order = np.argsort(f_all, kind="stable")
    return (f_all[order], np.concatenate([runs.row[idx], row])[order],
            np.concatenate([runs.col_lo[idx], lo])[order],
            np.concatenate([runs.col_hi[idx], hi])[order])
