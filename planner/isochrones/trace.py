"""Paint a batch's runs into one stacked grid and trace its boundary into rings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, depth_first_order

from planner.isochrones.pieces import _ranges
from planner.isochrones.runs import StreetRuns, _batch_pieces, _batch_runs, node_edges
from planner.isochrones.sizes import CHUNK_CELLS
from planner.network.store import CompiledNetwork

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
    # +1 where a run starts, -1 after it ends; one unbuffered add of both (int32: a
    # quarter of the memory traffic of two int64 bincounts over the whole grid)
    at = np.concatenate([r * stack.width + c0, r * stack.width + c1])
    step = np.repeat(np.array([1, -1], dtype=np.int32), len(r))
    diff = np.zeros(size, dtype=np.int32)
    np.add.at(diff, at, step)
    return (np.cumsum(diff, out=diff) > 0).reshape(stack.n_rows, stack.width)


def _corners(grid: np.ndarray) -> tuple[np.ndarray, int]:
    """Grid vertices with an odd number of covered cells around them, after saddles go.

    A saddle (a 2x2 block whose covered cells touch only diagonally) gets one more cell
    (a few m²), so every vertex has zero or two boundary edges and the boundary splits
    into simple rings that never touch. Returns ``(odd, width)``: vertex ``(j, x)`` is
    ``odd[(j - 1) * width + x - 1]``. The 2x2 blocks are read as four shifted runs of
    the flat grid (contiguous, so faster than 2-D slices); the block that wraps from
    a row's last column to the next row's first is all empty cells (the border) and
    never a corner.
    """
    if not grid.flags.c_contiguous:
        msg = "the grid must be C-contiguous (its saddles are filled in place)"
        raise ValueError(msg)
    width = grid.shape[1]
    flat = grid.reshape(-1)  # a view: the saddle fills below change the grid
    n = flat.size - width - 1
    a, b, c, d = flat[:n], flat[1:n + 1], flat[width:width + n], flat[width + 1:]
    while True:
        ad, bc = a ^ d, b ^ c
        odd = ad ^ bc
        saddle = a ^ b
        ad |= bc
        saddle &= ~ad  # a == d, b == c, a != b
        if not saddle.any():
            return odd, width
        a |= saddle  # fill the uncovered top-left or top-right cell
        b |= saddle


def _trace(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boundary rings of a boolean grid whose border rows and columns are empty.

    Returns ``(j, x, ring, first)``: the corners as grid vertices (vertex ``(j, x)`` is
    the corner shared by cells ``(j - 1, x - 1)`` and ``(j, x)``) in ring order, the ring
    of each corner, and the position of each ring's first corner, which is its smallest
    in row-major order (the top-left of the ring in grid terms).
    """
    odd, width = _corners(grid)
    flat = np.flatnonzero(odd)
    n = len(flat)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    jj, xx = np.divmod(flat, width)
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
