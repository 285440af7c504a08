"""Roads of the synthetic sample district.

Old-town grid, gated superblocks, country roads, villages and bridges, noded into one
network in local metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from planner.sample.layout import (
    _BRIDGE,
    _ESTATE,
    _LANE,
    _MAIN,
    _STREET,
    BRIDGES_PER_SCALE,
    ESTATE_MARGIN_M,
    ESTATE_SPACING_M,
    GATE_COUNT_P,
    GATED_INSET_M,
    OLD_INSET_M,
    OLD_JITTER_M,
    OLD_LANE_DROP_P,
    OLD_STUB_P,
    OLD_TOWN_WIDTH_M,
    RURAL_COLUMN_KEEP_P,
    RURAL_WIDTH_M,
    VILLAGE_INSET_M,
    VILLAGE_MARGIN_M,
    VILLAGE_P,
    VILLAGE_SPACING_M,
    _Layout,
    _line_classes,
)

# --------------------------------------------------------------------------- network parts


class _Parts:
    """Collects explicit road segments and points on straight (split) lines."""

    def __init__(self) -> None:
        self.segments: list[tuple[np.ndarray, ...]] = []
        self.points: list[tuple[np.ndarray, ...]] = []
        self.line_class: dict[int, int] = {}
        self.line_horizontal: dict[int, bool] = {}

    def add_segments(self, a_xy: np.ndarray, b_xy: np.ndarray, cls: np.ndarray | int) -> None:
        """Add segments from ``a_xy`` (n, 2) to ``b_xy`` (n, 2) with class codes ``cls``."""
        cls_arr = np.broadcast_to(np.asarray(cls), (len(a_xy),)).astype(np.int8)
        self.segments.append((np.asarray(a_xy, float), np.asarray(b_xy, float), cls_arr))

    def new_line(self, cls: int, *, horizontal: bool) -> int:
        """Register a straight line to be split at its points; return its id."""
        line_id = len(self.line_class)
        self.line_class[line_id] = cls
        self.line_horizontal[line_id] = horizontal
        return line_id

    def add_points(self, line_ids: np.ndarray | int, xy: np.ndarray) -> None:
        """Add points ``xy`` (n, 2) lying on lines ``line_ids``."""
        xy = np.asarray(xy, float).reshape(-1, 2)
        ids = np.broadcast_to(np.asarray(line_ids), (len(xy),)).astype(np.int64)
        self.points.append((ids, xy))


def _old_town_nodes(lay: _Layout, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return jittered old-town node coordinates ``X, Y`` of shape (rows, cols).

    Main roads stay straight: nodes on a main column keep their x and nodes on a main
    row keep their y, so they meet the country roads and each other exactly.
    """
    ny, nx = len(lay.old_y), len(lay.old_x)
    jitter = rng.uniform(-OLD_JITTER_M, OLD_JITTER_M, (2, ny, nx))
    col_main = (_line_classes(nx) == _MAIN)[None, :]
    row_main = (_line_classes(ny) == _MAIN)[:, None]
    x = lay.old_x[None, :] + np.where(col_main, 0.0, jitter[0])
    y = lay.old_y[:, None] + np.where(row_main, 0.0, jitter[1])
    return x, y


def _grid_edges(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return (a_xy, b_xy, row_or_col index, is_horizontal) of a node grid's edges."""
    ny, nx = x.shape
    hj, hi = np.meshgrid(np.arange(ny), np.arange(nx - 1), indexing="ij")
    vj, vi = np.meshgrid(np.arange(ny - 1), np.arange(nx), indexing="ij")
    a = np.concatenate(
        [np.c_[x[hj, hi].ravel(), y[hj, hi].ravel()], np.c_[x[vj, vi].ravel(), y[vj, vi].ravel()]]
    )
    b = np.concatenate(
        [
            np.c_[x[hj, hi + 1].ravel(), y[hj, hi + 1].ravel()],
            np.c_[x[vj + 1, vi].ravel(), y[vj + 1, vi].ravel()],
        ]
    )
    line = np.concatenate([hj.ravel(), vi.ravel()])
    horizontal = np.r_[np.ones(hj.size, bool), np.zeros(vj.size, bool)]
    return a, b, line, horizontal


def _add_old_town(
    parts: _Parts, lay: _Layout, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> None:
    """Add old-town streets and lanes, split at their middles, and dead-end hutongs."""
    a, b, line, horizontal = _grid_edges(x, y)
    cls = np.where(
        horizontal,
        _line_classes(len(lay.old_y))[np.minimum(line, len(lay.old_y) - 1)],
        _line_classes(len(lay.old_x))[np.minimum(line, len(lay.old_x) - 1)],
    )
    draws = rng.random((4, len(a)))
    keep = (cls != _LANE) | (draws[0] >= OLD_LANE_DROP_P)
    a, b, cls, line, horizontal, draws = (
        a[keep],
        b[keep],
        cls[keep],
        line[keep],
        horizontal[keep],
        draws[:, keep],
    )
    mid = (a + b) / 2
    parts.add_segments(np.r_[a, mid], np.r_[mid, b], np.r_[cls, cls])
    stub = horizontal & (cls == _LANE) & (draws[1] < OLD_STUB_P)
    up = draws[2][stub] < 0.5
    j = line[stub]
    depth_m = np.where(
        up,
        lay.old_y[np.minimum(j + 1, len(lay.old_y) - 1)] - lay.old_y[j],
        lay.old_y[j] - lay.old_y[np.maximum(j - 1, 0)],
    )
    length_m = (0.2 + 0.1 * draws[3][stub]) * depth_m
    tip = mid[stub] + np.c_[np.zeros(stub.sum()), np.where(up, length_m, -length_m)]
    parts.add_segments(mid[stub], tip, _LANE)


def _runs(n: int, max_len: int, rng: np.random.Generator) -> np.ndarray:
    """Partition ``range(n)`` into runs of 1..max_len; return (k, 2) inclusive bounds."""
    lens = rng.integers(1, max_len + 1, n)
    ends = np.cumsum(lens)
    k = int(np.searchsorted(ends, n))
    ends = np.minimum(ends[: k + 1], n)
    starts = np.r_[0, ends[:-1]]
    return np.c_[starts, ends - 1]


def _old_town_groups(lay: _Layout, rng: np.random.Generator) -> np.ndarray:
    """Group old-town blocks into communities; return (g, 4) rows ``j0, j1, i0, i1``."""
    groups = []
    for j0, j1 in _runs(len(lay.old_y) - 1, 2, rng):
        cols = _runs(len(lay.old_x) - 1, 4, rng)
        groups.append(np.c_[np.full(len(cols), j0), np.full(len(cols), j1), cols])
    return np.concatenate(groups)


def _group_polygons(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Return the polygon around each group of blocks, inset from the street centre lines."""
    jj, ii, ring = [], [], []
    for k, (j0, j1, i0, i1) in enumerate(groups):
        a, b = i1 - i0 + 1, j1 - j0 + 1
        jj += [
            [j0] * (a + 1),
            range(j0 + 1, j0 + b + 1),
            [j0 + b] * a,
            range(j0 + b - 1, j0 - 1, -1),
        ]
        ii += [range(i0, i0 + a + 1), [i0 + a] * b, range(i0 + a - 1, i0 - 1, -1), [i0] * b]
        ring.append(np.full(2 * a + 2 * b + 1, k))
    j_idx = np.concatenate([np.asarray(list(r), dtype=np.int64) for r in jj])
    i_idx = np.concatenate([np.asarray(list(r), dtype=np.int64) for r in ii])
    rings = shapely.linearrings(
        np.c_[x[j_idx, i_idx], y[j_idx, i_idx]], indices=np.concatenate(ring)
    )
    return shapely.buffer(shapely.polygons(rings), -OLD_INSET_M, join_style="mitre")


def _lattices(
    x0: np.ndarray,
    x1: np.ndarray,
    y0: np.ndarray,
    y1: np.ndarray,
    *,
    nx: np.ndarray,
    ny: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Build one small node lattice per rectangle, vectorised over rectangles.

    Returns node ``xy`` (n, 2), the ``offset`` of each rectangle's first node, and the
    lattice edges as node index pairs ``(u, v)``.
    """
    counts = nx * ny
    offset = np.cumsum(counts) - counts
    owner = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(counts.sum()) - offset[owner]
    ix, iy = k % nx[owner], k // nx[owner]
    xs = x0[owner] + ix * ((x1 - x0) / (nx - 1))[owner]
    ys = y0[owner] + iy * ((y1 - y0) / (ny - 1))[owner]
    node = np.arange(len(k))
    h = ix < nx[owner] - 1
    v = iy < ny[owner] - 1
    u = np.r_[node[h], node[v]]
    w = np.r_[node[h] + 1, node[v] + nx[owner][v]]
    return np.c_[xs, ys], offset, u, w


def _add_new_area_lines(parts: _Parts, lay: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """Add the main-road grid of the new-build area; return the row and column line ids."""
    rows = np.array([parts.new_line(_MAIN, horizontal=True) for _ in lay.new_y])
    cols = np.array([parts.new_line(_MAIN, horizontal=False) for _ in lay.new_x])
    gx, gy = np.meshgrid(lay.new_x, lay.new_y)
    parts.add_points(
        np.broadcast_to(rows[:, None], gx.shape).ravel(), np.c_[gx.ravel(), gy.ravel()]
    )
    parts.add_points(
        np.broadcast_to(cols[None, :], gx.shape).ravel(), np.c_[gx.ravel(), gy.ravel()]
    )
    return rows, cols


def _gate_sides(
    n_cells: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose 1-3 distinct sides (0 S, 1 N, 2 W, 3 E) per cell; return cell, side, draw."""
    n_gates = rng.choice([1, 2, 3], size=n_cells, p=GATE_COUNT_P)
    sides = np.argsort(rng.random((n_cells, 4)), axis=1)[:, :3]
    where = rng.random((n_cells, 3))
    cell, slot = np.nonzero(np.arange(3)[None, :] < n_gates[:, None])
    return cell, sides[cell, slot], where[cell, slot]


def _add_gated(
    parts: _Parts,
    lay: _Layout,
    cells: np.ndarray,
    *,
    rows: np.ndarray,
    cols: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Add estate roads and gates of gated communities in superblocks ``cells`` (n, 2: j, i).

    Returns the community polygons and the gates as (community index, x, y).
    """
    j, i = cells[:, 0], cells[:, 1]
    x0, x1, y0, y1 = lay.new_x[i], lay.new_x[i + 1], lay.new_y[j], lay.new_y[j + 1]
    ex0, ex1, ey0, ey1 = (
        x0 + ESTATE_MARGIN_M,
        x1 - ESTATE_MARGIN_M,
        y0 + ESTATE_MARGIN_M,
        y1 - ESTATE_MARGIN_M,
    )
    nx = np.maximum(2, np.round((ex1 - ex0) / ESTATE_SPACING_M).astype(int) + 1)
    ny = np.maximum(2, np.round((ey1 - ey0) / ESTATE_SPACING_M).astype(int) + 1)
    xy, offset, u, v = _lattices(ex0, ex1, ey0, ey1, nx=nx, ny=ny)
    parts.add_segments(xy[u], xy[v], _ESTATE)
    cell, side, draw = _gate_sides(len(cells), rng)
    along = np.where(side < 2, nx[cell], ny[cell])
    k = np.where(along >= 3, 1 + np.floor(draw * (along - 2)), np.floor(draw * along)).astype(int)
    ix = np.select([side < 2, side == 2], [k, 0], nx[cell] - 1)
    iy = np.select([side == 0, side == 1, side >= 2], [0, ny[cell] - 1, k])
    inner = xy[offset[cell] + iy * nx[cell] + ix]
    d = GATED_INSET_M
    gate = inner.copy()
    outer = inner.copy()
    for s, axis, fence, road in (
        (0, 1, y0 + d, y0),
        (1, 1, y1 - d, y1),
        (2, 0, x0 + d, x0),
        (3, 0, x1 - d, x1),
    ):
        m = side == s
        gate[m, axis] = fence[cell[m]]
        outer[m, axis] = road[cell[m]]
    line = np.select(
        [side == 0, side == 1, side == 2],
        [rows[j[cell]], rows[j[cell] + 1], cols[i[cell]]],
        cols[i[cell] + 1],
    )
    parts.add_segments(inner, gate, _ESTATE)
    parts.add_segments(gate, outer, _LANE)
    parts.add_points(line, outer)
    polygons = shapely.box(x0 + d, y0 + d, x1 - d, y1 - d)
    return polygons, np.c_[cell, gate]


def _add_rural_roads(
    parts: _Parts, lay: _Layout, north_rows: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add country roads; return the line ids of the south and north rural rows."""
    south_y = lay.old_y[lay.rural_south_rows]
    south_ids = np.array([parts.new_line(_STREET, horizontal=True) for _ in south_y])
    rx = lay.rural_x
    gx, gy = np.meshgrid(rx, south_y)
    parts.add_points(
        np.broadcast_to(south_ids[:, None], gx.shape).ravel(), np.c_[gx.ravel(), gy.ravel()]
    )
    north_ids = north_rows[lay.rural_north_rows]
    gx, gy = np.meshgrid(rx[1:], lay.new_y[lay.rural_north_rows])
    parts.add_points(
        np.broadcast_to(north_ids[:, None], gx.shape).ravel(), np.c_[gx.ravel(), gy.ravel()]
    )
    for row_y in (south_y, lay.new_y[lay.rural_north_rows]):
        cx, cy = np.meshgrid(rx[1:-1], row_y)
        a = np.c_[cx[:-1].ravel(), cy[:-1].ravel()]
        b = np.c_[cx[1:].ravel(), cy[1:].ravel()]
        keep = rng.random(len(a)) < RURAL_COLUMN_KEEP_P
        parts.add_segments(a[keep], b[keep], _STREET)
    return south_ids, north_ids


def _rural_cells(
    lay: _Layout, south_ids: np.ndarray, north_ids: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Return the rural cells as x0, x1, y0, y1, bottom line id, bank (0 south, 1 north)."""
    out = []
    for bank, row_y, ids in (
        (0, lay.old_y[lay.rural_south_rows], south_ids),
        (1, lay.new_y[lay.rural_north_rows], north_ids),
    ):
        ci_grid, rj_grid = np.meshgrid(np.arange(len(lay.rural_x) - 1),
                                       np.arange(len(row_y) - 1))
        ci, rj = ci_grid.ravel(), rj_grid.ravel()
        out.append(
            np.c_[
                lay.rural_x[ci],
                lay.rural_x[ci + 1],
                row_y[rj],
                row_y[rj + 1],
                ids[rj],
                np.full(len(ci), bank),
            ]
        )
    return tuple(np.concatenate(out).T)


def _village_shapes(
    cells: tuple[np.ndarray, ...], rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Draw a village lattice per rural cell; return x0, y0, nx, ny, spacing, fits."""
    cx0, cx1, cy0, cy1 = cells[:4]
    n = len(cx0)
    nx, ny = rng.integers(3, 6, n), rng.integers(2, 5, n)
    spacing = rng.uniform(*VILLAGE_SPACING_M, n)
    slack_x = cx1 - cx0 - 2 * VILLAGE_MARGIN_M - (nx - 1) * spacing
    slack_y = cy1 - cy0 - 2 * VILLAGE_MARGIN_M - (ny - 1) * spacing
    draws = rng.random((3, n))
    fits = (slack_x > 0) & (slack_y > 0) & (draws[2] < VILLAGE_P)
    x0 = cx0 + VILLAGE_MARGIN_M + draws[0] * np.maximum(slack_x, 0)
    y0 = cy0 + VILLAGE_MARGIN_M + draws[1] * np.maximum(slack_y, 0)
    return x0, y0, nx, ny, spacing, fits


def _add_villages(
    parts: _Parts, cells: tuple[np.ndarray, ...], shapes: tuple[np.ndarray, ...], chosen: np.ndarray
) -> np.ndarray:
    """Add the lanes of the ``chosen`` villages and their access roads; return polygons."""
    x0, y0, nx, ny, spacing, _ = (s[chosen] for s in shapes)
    x1, y1 = x0 + (nx - 1) * spacing, y0 + (ny - 1) * spacing
    xy, offset, u, v = _lattices(x0, x1, y0, y1, nx=nx, ny=ny)
    parts.add_segments(xy[u], xy[v], _LANE)
    entry = xy[offset + nx // 2]
    road = np.c_[entry[:, 0], cells[2][chosen]]
    parts.add_segments(entry, road, _STREET)
    parts.add_points(cells[4][chosen].astype(np.int64), road)
    pad = VILLAGE_INSET_M
    return shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _add_bridges(
    parts: _Parts,
    lay: _Layout,
    old_x_top: np.ndarray,
    *,
    south_top_id: int,
    north_bottom_id: int,
    rng: np.random.Generator,
) -> None:
    """Add 2+ bridges between the two riverside roads."""
    scale = lay.width_m / (OLD_TOWN_WIDTH_M + RURAL_WIDTH_M)
    n = max(2, round(BRIDGES_PER_SCALE * scale))
    slot_m = 0.84 * lay.width_m / n
    target = 0.08 * lay.width_m + slot_m * (np.arange(n) + 0.2 + 0.6 * rng.random(n))
    urban = target < lay.east_m
    nearest = old_x_top[np.abs(old_x_top[None, :] - target[urban, None]).argmin(axis=1)]
    x = target.copy()
    x[urban] = nearest
    south = np.c_[x, np.full(n, lay.south_road_m)]
    north = np.c_[x, np.full(n, lay.north_road_m)]
    parts.add_points(south_top_id, south[~urban])
    parts.add_points(north_bottom_id, north)
    parts.add_segments(south, north, _BRIDGE)


# --------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class _Network:
    """Noded road network in local metres."""

    nodes_xy: np.ndarray  # (n, 2)
    u: np.ndarray
    v: np.ndarray
    cls: np.ndarray


def _line_segments(parts: _Parts, east_m: float) -> tuple[np.ndarray, ...]:
    """Split every registered line at its points; return a_xy, b_xy, class codes."""
    ids = np.concatenate([p[0] for p in parts.points])
    xy = np.concatenate([p[1] for p in parts.points])
    horizontal = np.array([parts.line_horizontal[k] for k in range(len(parts.line_class))])
    line_cls = np.array([parts.line_class[k] for k in range(len(parts.line_class))], dtype=np.int8)
    pos = np.where(horizontal[ids], xy[:, 0], xy[:, 1])
    order = np.lexsort((pos, ids))
    ids, xy, pos = ids[order], xy[order], pos[order]
    same = (ids[1:] == ids[:-1]) & (pos[1:] != pos[:-1])
    a, b, seg_ids = xy[:-1][same], xy[1:][same], ids[:-1][same]
    cls = line_cls[seg_ids]
    rural = horizontal[seg_ids] & (np.minimum(a[:, 0], b[:, 0]) >= east_m) & (cls == _MAIN)
    cls[rural] = _STREET
    return a, b, cls


def _unique_points(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct points of ``xy`` (exact equality) and the inverse index."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    s = xy[order]
    new = np.r_[True, (s[1:] != s[:-1]).any(axis=1)]
    group = np.cumsum(new) - 1
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = group
    return s[new], inverse


def _assemble(parts: _Parts, east_m: float) -> _Network:
    """Turn the collected segments and split lines into one noded network."""
    la, lb, lcls = _line_segments(parts, east_m)
    a = np.concatenate([s[0] for s in parts.segments] + [la])
    b = np.concatenate([s[1] for s in parts.segments] + [lb])
    cls = np.concatenate([s[2] for s in parts.segments] + [lcls])
    nodes, inverse = _unique_points(np.r_[a, b])
    u, v = inverse[: len(a)], inverse[len(a) :]
    key = np.minimum(u, v) * len(nodes) + np.maximum(u, v)
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    first = first[u[first] != v[first]]
    return _Network(nodes, u[first], v[first], cls[first])
