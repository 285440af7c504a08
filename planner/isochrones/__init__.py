"""Walking-circle polygons that follow the streets, for display.

A facility's circle is the set of street positions reachable within the budget: whole
edges, and parts of edges cut exactly where the budget runs out (from either end, and
both ways from the facility along its own edge). The polygon is that set of street
pieces widened by :data:`STREET_HALF_WIDTH_M` on each side, never a convex or concave
hull of reached nodes, which would claim blocks nobody can walk into.

Two implementations share the reach rule (:func:`reached_pieces`):

* :func:`exact_circle_polygon`, the reference: every reached piece as an exact
  LineString, buffered and unioned with GEOS. Exact, and about 60 ms per facility on a
  dense city network, so it is kept for tests and benchmarks only.
* :func:`circle_polygons`, the pipeline's method, which gives the same polygon sampled on
  a grid of :data:`CELL_M` cells: a cell is in the circle if its centre is within the
  half-width of a reached piece. Each straight segment's buffer (a capsule) is cut into
  one run of cells per grid row, analytically; the runs of every segment are computed
  once per network (:func:`sample_edges`) and shared by all facilities, so a facility
  only gathers the runs of its whole edges and computes those of its few cut pieces.
  The runs of a batch of facilities are painted into one stacked grid, and the grid's
  boundary is traced into rings with array operations: corners are the grid vertices
  with an odd number of covered cells around them, corners pair up along each grid row
  and column, and one depth-first pass of ``scipy.sparse.csgraph`` orders every ring.
  No per-facility GEOS union, no ``rasterio.features.shapes``.

The grid polygon's area matches the exact union to well under 1 % at 5 m cells (see
``benchmarks/isochrones.py``); its outline is a staircase of cell edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, depth_first_order

from planner.network.store import CompiledNetwork
from planner.reach import StudyGraph, spans
from planner.units import metres_for_minutes

#: Show a progress bar for the circles from this many facilities on.
PROGRESS_MIN_FACILITIES = 200
#: Half the width of the band drawn along reached streets (metres).
STREET_HALF_WIDTH_M = 20.0
#: Grid cell size of the fast circles (metres).
CELL_M = 5.0
#: The grid outline is simplified once, where it is made, to this tolerance (metres):
#: one cell, so the staircase of cell edges becomes straight runs; the GeoPackage and
#: the map draw this same outline.
SIMPLIFY_M = CELL_M
#: Most grid cells painted at once when building a batch of circles.
CHUNK_CELLS = 8_000_000
#: Street segments cut into grid runs at once by :func:`sample_edges` (bounds its memory).
SEGMENTS_PER_CHUNK = 200_000


# ------------------------------------------------------------------ the reach rule


def _ranges(offsets: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``offsets[i]:offsets[i + 1]`` for each of ``items``, and the owner.

    The owner is the position in ``items`` each index came from.
    """
    lo, hi = offsets[items], offsets[items + 1]
    owner = np.repeat(np.arange(len(items)), hi - lo)
    return spans(lo, hi).astype(np.int64), owner


def reached_pieces(
    net: CompiledNetwork,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: int = -1,
    own_along_m: float = 0.0,
    own_budget_m: float = -1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reached pieces of edges, as intervals of distance along each edge.

    A point ``a`` metres along edge ``u-v`` (length ``L``) is reached iff
    ``d[u] + a ≤ B`` or ``d[v] + L - a ≤ B``; on the facility's own edge also iff
    ``|a - t| ≤ own_budget_m`` (the facility sits ``t`` = ``own_along_m`` along it).

    Parameters
    ----------
    net
        The compiled network.
    node_dist
        Metres from the facility to every network node, ``inf`` when unreached.
    budget_m
        The circle (metres).
    own_edge, own_along_m, own_budget_m
        The facility's edge (``-1``: none), its position along it and the budget left
        after its off-road walk (metres; negative: none).

    Returns
    -------
    tuple of arrays
        ``(edge, start_m, end_m, whole)``: one row per piece, ``whole`` true for edges
        reached from end to end. Pieces of one edge may overlap.
    """
    du = node_dist[net.edge_u]
    dv = node_dist[net.edge_v]
    e = np.flatnonzero((du <= budget_m) | (dv <= budget_m))
    ru, rv, length = budget_m - du[e], budget_m - dv[e], net.edge_length[e]
    whole = (ru >= length) | (rv >= length) | ((ru >= 0) & (rv >= 0) & (ru + rv >= length))
    from_u = ~whole & (ru >= 0)
    from_v = ~whole & (rv >= 0)
    edge = [e[whole], e[from_u], e[from_v]]
    start = [np.zeros(whole.sum()), np.zeros(from_u.sum()), length[from_v] - rv[from_v]]
    end = [length[whole], ru[from_u], length[from_v]]
    if own_edge >= 0 and own_budget_m >= 0:
        edge.append(np.array([own_edge]))
        start.append(np.array([max(own_along_m - own_budget_m, 0.0)]))
        end.append(np.array([min(own_along_m + own_budget_m, net.edge_length[own_edge])]))
    kind = np.repeat([True, False], [whole.sum(), len(np.concatenate(edge)) - whole.sum()])
    return np.concatenate(edge), np.concatenate(start), np.concatenate(end), kind


def vertex_along(net: CompiledNetwork) -> np.ndarray:
    """Distance of every edge vertex from its edge's ``u`` end (metres)."""
    seg = np.hypot(*np.diff(net.edge_coords, axis=0).T)
    cum = np.r_[0.0, np.cumsum(seg)]
    return cum - np.repeat(cum[net.edge_offsets[:-1]], np.diff(net.edge_offsets))


def piece_lines(
    net: CompiledNetwork, edge: np.ndarray, start_m: np.ndarray, end_m: np.ndarray
) -> np.ndarray:
    """LineStrings of edge pieces ``[start_m, end_m]``, cut exactly (vectorised substring)."""
    along = vertex_along(net)
    geoms = net.edge_geoms[edge]
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start_m))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end_m))
    idx, owner = _ranges(net.edge_offsets, edge)
    inner = (along[idx] > start_m[owner]) & (along[idx] < end_m[owner])
    idx, owner = idx[inner], owner[inner]
    k = len(edge)
    piece = np.concatenate([np.arange(k), owner, np.arange(k)])
    key = np.concatenate([np.full(k, -1.0), along[idx], np.full(k, np.inf)])
    order = np.lexsort((key, piece))
    xy = np.concatenate([p0, net.edge_coords[idx], p1])[order]
    return shapely.linestrings(xy, indices=piece[order])


def exact_circle_polygon(
    net: CompiledNetwork,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: int = -1,
    own_along_m: float = 0.0,
    own_budget_m: float = -1.0,
    half_width_m: float = STREET_HALF_WIDTH_M,
) -> shapely.Geometry:
    """Build the reference circle: every reached piece buffered by ``half_width_m``, unioned.

    Slow (a GEOS union of hundreds of buffers per facility); used by the tests and the
    benchmark to check :func:`circle_polygons`. Arguments as in :func:`reached_pieces`.
    """
    edge, start, end, _ = reached_pieces(net, node_dist, budget_m, own_edge=own_edge,
                                         own_along_m=own_along_m, own_budget_m=own_budget_m)
    if len(edge) == 0:
        return shapely.Polygon()
    lines = piece_lines(net, edge, start, end)
    return shapely.union_all(shapely.buffer(lines, half_width_m))


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

    Returns
    -------
    StreetRuns
    """
    xy = net.edge_coords
    x0 = float(np.floor(xy[:, 0].min() / cell_m) * cell_m - 4 * half_width_m)
    y0 = float(np.floor(xy[:, 1].min() / cell_m) * cell_m - 4 * half_width_m)
    n_vert = np.diff(net.edge_offsets)
    seg_offsets = np.r_[0, np.cumsum(np.maximum(n_vert - 1, 0))]
    starts = np.ones(len(xy), dtype=bool)
    starts[net.edge_offsets[1:] - 1] = False  # a segment starts at every vertex but the last
    first = np.flatnonzero(starts)
    parts = []
    for a in range(0, len(first), SEGMENTS_PER_CHUNK):  # bounded temporaries at city scale
        f = first[a:a + SEGMENTS_PER_CHUNK]
        seg, row, lo, hi = _segment_runs(xy[f], xy[f + 1], radius_m=half_width_m,
                                         cell_m=cell_m, x0=x0, y0=y0)
        parts.append((seg + a, row.astype(np.int32), lo.astype(np.int32), hi.astype(np.int32)))
    seg, row, lo, hi = (np.concatenate(c) for c in zip(*parts, strict=True)) if parts else (
        np.zeros(0, dtype=np.int64), *(np.zeros(0, dtype=np.int32),) * 3)
    seg_edge = np.repeat(np.arange(net.n_edges), np.diff(seg_offsets))
    offsets = np.r_[0, np.cumsum(np.bincount(seg_edge[seg], minlength=net.n_edges))]
    return StreetRuns(cell_m, half_width_m, x0, y0, row, lo, hi, offsets, seg_offsets,
                      first, vertex_along(net)[first])


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
    whole = (ru >= length) | (rv >= length) | ((ru >= 0) & (rv >= 0) & (ru + rv >= length))
    from_u, from_v = ~whole & (ru >= 0), ~whole & (rv >= 0)
    own_edge, own_along, own_budget = own
    mine = np.flatnonzero((own_edge >= 0) & (own_budget >= 0))
    oe = own_edge[mine]
    parts = [
        (f[whole], e[whole], np.zeros(whole.sum()), length[whole]),
        (f[from_u], e[from_u], np.zeros(from_u.sum()), ru[from_u]),
        (f[from_v], e[from_v], length[from_v] - rv[from_v], length[from_v]),
        (mine, oe, np.maximum(own_along[mine] - own_budget[mine], 0.0),
         np.minimum(own_along[mine] + own_budget[mine], net.edge_length[oe])),
    ]
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    kind = np.repeat([True, False], [whole.sum(), len(cols[0]) - whole.sum()])
    order = np.lexsort((~kind, cols[0]))
    return (*(c[order] for c in cols), kind[order])


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


# ------------------------------------------------------------ paint and trace


@dataclass
class _Stack:
    """Facility windows stacked in one grid of ``n_rows x width`` cells.

    Facility ``i`` (of the chunk) owns grid rows ``block[i] + 1 .. block[i] + height[i]``
    (row ``block[i]`` stays empty) and columns ``1 .. `` its width; its first cell is grid
    cell ``(row_min[i], col_min[i])``. Column 0 and the last row and column stay empty.
    """

    block: np.ndarray
    row_min: np.ndarray
    col_min: np.ndarray
    n_rows: int
    width: int


def _windows(fac: np.ndarray, row: np.ndarray, lo: np.ndarray, hi: np.ndarray,
             n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bounding rows and columns of each facility's runs (facility-sorted input)."""
    starts = np.searchsorted(fac, np.arange(n))
    has = np.diff(np.r_[starts, len(fac)]) > 0
    out = [np.zeros(n, dtype=np.int64) for _ in range(4)]
    if has.any():
        at = starts[has]
        out[0][has] = np.minimum.reduceat(row, at)
        out[1][has] = np.maximum.reduceat(row, at)
        out[2][has] = np.minimum.reduceat(lo, at)
        out[3][has] = np.maximum.reduceat(hi, at)
    return out[0], out[1] - out[0] + 1, out[2], out[3] - out[2] + 1


def _paint(runs: tuple[np.ndarray, ...], stack: _Stack) -> np.ndarray:
    """Boolean grid of the stacked windows, every run painted (difference and cumsum)."""
    fac, row, lo, hi = runs
    r = (stack.block + 1 - stack.row_min)[fac] + row
    c0 = (1 - stack.col_min)[fac] + lo
    c1 = c0 + (hi - lo + 1)
    size = stack.n_rows * stack.width
    diff = np.bincount(r * stack.width + c0, minlength=size)
    diff -= np.bincount(r * stack.width + c1, minlength=size)
    return (np.cumsum(diff, out=diff) > 0).reshape(stack.n_rows, stack.width)


def _corners(grid: np.ndarray) -> np.ndarray:
    """Grid vertices with an odd number of covered cells around them, after saddles go.

    A saddle (a 2x2 block whose covered cells touch only diagonally) gets one more cell
    (a few m²), so every vertex has zero or two boundary edges and the boundary splits
    into simple rings that never touch. Vertex ``(j, x)`` is index ``(j - 1, x - 1)``.
    """
    while True:
        a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]
        ad, bc = a ^ d, b ^ c
        odd = ad ^ bc
        saddle = ~(ad | bc | odd)
        saddle &= a ^ b
        if not saddle.any():
            return odd
        a |= saddle & ~a  # fill the uncovered top-left or top-right cell
        b |= saddle & ~b


def _trace(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boundary rings of a boolean grid whose border rows and columns are empty.

    Returns ``(j, x, ring, first)``: the corners as grid vertices (vertex ``(j, x)`` is
    the corner shared by cells ``(j - 1, x - 1)`` and ``(j, x)``) in ring order, the ring
    of each corner, and the position of each ring's first corner, which is its smallest
    in row-major order (the top-left of the ring in grid terms).
    """
    odd = _corners(grid)
    flat = np.flatnonzero(odd)
    n = len(flat)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    jj, xx = np.divmod(flat, odd.shape[1])
    # along a grid line, corners pair up in order: 1st with 2nd, 3rd with 4th, ...
    h = np.arange(n) ^ 1
    by_col = np.lexsort((jj, xx))
    v = np.empty(n, dtype=np.int64)
    v[by_col[0::2]] = by_col[1::2]
    v[by_col[1::2]] = by_col[0::2]
    order, first = _walk_rings(h, v)
    ring = np.zeros(n, dtype=np.int64)
    ring[first[1:]] = 1
    return jj[order] + 1, xx[order] + 1, np.cumsum(ring), first


def _walk_rings(h: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order the nodes of a graph of disjoint cycles (neighbours ``h`` and ``v``).

    One depth-first walk goes through every cycle: each cycle's smallest node also links
    to the next cycle's, and is only left for it once its own cycle is walked. Returns
    the nodes in walk order and the position where each cycle starts.
    """
    n = len(h)
    pairs = np.c_[h, v].ravel()
    graph = csr_matrix((np.ones(2 * n, dtype=np.int8), pairs, np.arange(0, 2 * n + 1, 2)),
                       shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    roots = np.sort(np.unique(labels, return_index=True)[1])
    extra = np.zeros(n, dtype=np.int64)
    extra[roots[:-1]] = 1
    indptr = np.r_[0, np.cumsum(2 + extra)]
    indices = np.empty(indptr[-1], dtype=np.int64)
    indices[indptr[:-1]] = h
    indices[indptr[:-1] + 1] = v
    indices[indptr[roots[:-1]] + 2] = roots[1:]
    walk = csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(n, n))
    order = depth_first_order(walk, int(roots[0]), directed=True, return_predecessors=False)
    is_root = np.zeros(n, dtype=bool)
    is_root[roots] = True
    return order, np.flatnonzero(is_root[order])


def _hole_owners(shells: np.ndarray, shell_fac: np.ndarray, hole_fac: np.ndarray,
                 hole_xy: np.ndarray) -> np.ndarray:
    """Find the shell (index into ``shells``) around each hole: its facility's smallest.

    A facility with one shell (nearly all: reached streets are connected) needs no test.
    """
    count = np.bincount(shell_fac, minlength=hole_fac.max(initial=0) + 1)
    first = np.searchsorted(shell_fac, hole_fac)
    owner = first.copy()
    many = np.flatnonzero(count[hole_fac] > 1)
    if len(many):
        idx, which = _ranges(np.r_[0, np.cumsum(count)], hole_fac[many])
        inside = shapely.contains_xy(shells[idx], hole_xy[many[which], 0],
                                     hole_xy[many[which], 1])
        area = np.where(inside, shapely.area(shells[idx]), np.inf)
        order = np.lexsort((area, which))
        best = order[np.r_[True, which[order][1:] != which[order][:-1]]]
        owner[many[which[best]]] = idx[best]
    return owner


def _chunk_polygons(
    runs: tuple[np.ndarray, ...], stack: _Stack, spec: StreetRuns, n: int
) -> np.ndarray:
    """(Multi)Polygons of the ``n`` facilities of one chunk (empty where nothing)."""
    grid = _paint(runs, stack)
    j, x, ring, first = _trace(grid)
    out = np.array([shapely.Polygon()] * n, dtype=object)
    if len(j) == 0:
        return out
    j0, x0 = j[first], x[first]
    shell = grid[j0, x0]  # the cell below-right of a ring's first corner is inside it
    fac = np.searchsorted(stack.block, j0, side="right") - 1
    f_corner = fac[ring]
    xs = spec.x0 + (x - 1 + stack.col_min[f_corner]) * spec.cell_m
    ys = spec.y0 + (j - stack.block[f_corner] - 1 + stack.row_min[f_corner]) * spec.cell_m
    rings = shapely.linearrings(np.c_[xs, ys], indices=ring)
    shells = np.flatnonzero(shell)
    holes = np.flatnonzero(~shell)
    hole_xy = np.c_[xs[first[holes]], ys[first[holes]]] + 0.5 * spec.cell_m
    owner = np.empty(len(first), dtype=np.int64)
    owner[shells] = np.arange(len(shells))
    owner[holes] = _hole_owners(shapely.polygons(rings[shells]), fac[shells], fac[holes],
                                hole_xy)
    order = np.lexsort((~shell, owner))
    polys = shapely.polygons(rings[order], indices=owner[order])
    present, compact = np.unique(fac[shells], return_inverse=True)
    multi = shapely.multipolygons(polys, indices=compact)
    single = shapely.get_num_geometries(multi) == 1
    multi[single] = shapely.get_geometry(multi[single], 0)
    out[present] = multi
    return out


def _chunks(height: np.ndarray, width: np.ndarray, max_cells: int) -> list[slice]:
    """Consecutive facilities whose stacked windows hold at most ``max_cells`` cells."""
    cells = np.cumsum((height + 1) * (width + 2))
    out, start = [], 0
    while start < len(height):
        base = cells[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(cells, base + max_cells, side="right")))
        out.append(slice(start, stop))
        start = stop
    return out


def circle_polygons(
    net: CompiledNetwork,
    samples: StreetRuns,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: np.ndarray,
    own_along_m: np.ndarray,
    own_budget_m: np.ndarray,
    max_cells: int = CHUNK_CELLS,
    nodes: np.ndarray | None = None,
) -> list[shapely.Geometry]:
    """Street-following polygons for a batch of facilities.

    Parameters
    ----------
    net
        The compiled network.
    samples
        The network's runs from :func:`sample_edges` (built once, shared by all batches).
    node_dist
        Metres from each facility (rows) to every network node (columns), ``inf``
        beyond the search limit; or, with ``nodes``, to those nodes only.
    budget_m
        The circle, in metres.
    nodes
        Sorted node ids of the columns of ``node_dist`` when it covers only part of the
        graph (a bounded search, :class:`planner.reach.CircleBatch`); ids past the
        network's own nodes (split points, sinks) are ignored, and a node not listed is
        beyond the search limit.
    own_edge, own_along_m, own_budget_m
        Per facility: the edge it is snapped to, its position along it (metres), and the
        budget left once its off-road walk is paid (metres).
    max_cells
        Most grid cells painted at once (about 20 bytes a cell: 160 MB by default).

    Returns
    -------
    list of shapely geometries
        One Polygon or MultiPolygon per row, in the network's CRS; an empty Polygon for
        a facility that reaches nothing.
    """
    n = node_dist.shape[0]
    if len(samples.offsets) != net.n_edges + 1:
        msg = "samples were built for another network; call sample_edges(net) again"
        raise ValueError(msg)
    own = (np.asarray(own_edge, dtype=np.int64), np.asarray(own_along_m, dtype=float),
           np.asarray(own_budget_m, dtype=float))
    pieces = _batch_pieces(net, _incidence(net, samples), node_dist, budget_m, own, nodes)
    runs = _batch_runs(net, samples, pieces)
    row_min, height, col_min, width = _windows(*runs, n)
    run_offsets = np.r_[np.searchsorted(runs[0], np.arange(n)), len(runs[0])]
    by_width = np.argsort(width, kind="stable")  # similar widths stack with less padding
    out = np.empty(n, dtype=object)
    for part in _chunks(height[by_width], width[by_width], max_cells):
        ids = by_width[part]
        idx, local = _ranges(run_offsets, ids)
        chunk_runs = (local, *(r[idx] for r in runs[1:]))
        block = np.r_[0, np.cumsum(height[ids] + 1)]
        stack = _Stack(block[:-1], row_min[ids], col_min[ids], int(block[-1]) + 1,
                       int(width[ids].max()) + 2)
        out[ids] = _chunk_polygons(chunk_runs, stack, samples, len(ids))
    return list(out)


def _incidence(net: CompiledNetwork, samples: StreetRuns) -> tuple[np.ndarray, np.ndarray]:
    """Return the network's node-edge incidence, kept with the shared runs."""
    if samples.incidence is None:
        samples.incidence = node_edges(net)
    return samples.incidence


def facility_circles(
    study: StudyGraph,
    facilities: pd.DataFrame,
    *,
    minutes: float,
    speed_m_s: float,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Walking-circle polygons of facilities, for display (maps, the isochrones layer).

    Parameters
    ----------
    study
        The study graph the facilities were added to.
    facilities
        Indexed by ``facility_id`` with ``kind``: the facilities to draw (those that did
        not join the network get no row).
    minutes
        The circle in minutes, walked at ``speed_m_s`` metres per second.
    progress
        Show a progress bar from :data:`PROGRESS_MIN_FACILITIES` facilities on.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id, kind, minutes, geometry`` in the network's CRS, in the order of
        ``facilities``; one Polygon or MultiPolygon each, simplified to
        :data:`SIMPLIFY_M` metres (``shapely.simplify``, topology preserved).
    """
    net = study.net
    budget_m = float(metres_for_minutes(minutes, speed_m_s))
    pos = study.facility_positions()
    ids = [f for f in facilities.index if f in pos.index]
    samples = sample_edges(net) if ids else None
    got_ids, polys = [], []
    bar = None
    if progress and len(ids) >= PROGRESS_MIN_FACILITIES:
        from tqdm import tqdm  # noqa: PLC0415

        bar = tqdm(total=len(ids), desc="walking circles", unit="facility", mininterval=1.0)
    for batch_ids, nodes, dist in study.facility_searches(ids, limit_m=budget_m):
        p = pos.loc[batch_ids]
        polys.extend(circle_polygons(
            net, samples, dist, budget_m, nodes=nodes, own_edge=p["edge"].to_numpy(),
            own_along_m=p["along_m"].to_numpy(),
            own_budget_m=budget_m - p["offroad_m"].to_numpy()))
        got_ids.extend(batch_ids)
        if bar is not None:
            bar.update(len(batch_ids))
    if bar is not None:
        bar.close()
    by_id = dict(zip(got_ids, polys, strict=True))
    geoms = shapely.simplify(np.array([by_id[f] for f in ids], dtype=object), SIMPLIFY_M)
    return gpd.GeoDataFrame(
        {"facility_id": pd.Series(ids, dtype=object),
         "kind": facilities.loc[ids, "kind"].to_numpy(dtype=object),
         "minutes": float(minutes)},
        geometry=geoms, crs=net.pyproj_crs)
