"""A deterministic synthetic sample district, generated from a seed.

No real Chinese district can be bundled, so planner generates one and writes it as
ordinary files that the demo then reads through the same loaders as real data.

The district is laid out in local metres and placed by an exact projection (UTM zone
49N, EPSG:32649) around lon 112.75, lat 37.69 (Yuci, Jinzhong), then written in WGS84
(EPSG:4326). It is **not a real place**. Its parts, from south to north::

    +--------------------------------------+-------------+  y = height_m
    |  new-build area: 200-400 m           |             |
    |  superblocks on main roads, each a   |   rural     |
    |  gated community reached only        |   fringe:   |
    |  through 1-3 gates                   |   villages  |
    +======== north riverside road ========+=============+  y = north_road_m
    ~~~~~~~~~~~ river, 85-145 m wide, crossed only by a few bridges ~~~~~~~~~~~
    +======== south riverside road ========+=============+  y = south_road_m
    |  old town: 60-120 m jittered blocks, |   sparse    |
    |  lanes, dead-end hutongs, no gates   |   roads     |
    +--------------------------------------+-------------+  y = 0
    x = 0                                  x = east_m    x = width_m

Facilities sit in the old town and the western new-build area only, so the eastern
new-build area, the far bank of the river and most villages are left under-served.

Roads are straight two-point lines. Every line ends where it meets another line and the
end points are taken from one array of node coordinates that is transformed to WGS84
once, so shared end points are bit-identical. Only bridges cross the river.

``size`` scales the area, and so the node, community and facility counts, linearly:
the layout's width and height scale with ``sqrt(size)``. Everything is vectorised numpy;
the only Python loops run over rows of blocks and over communities, never over nodes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from planner._errors import InputError

__all__ = ["SampleDistrict", "generate_sample", "write_sample"]

log = logging.getLogger(__name__)

METRIC_CRS = "EPSG:32649"  # UTM zone 49N, where the district is built
OUTPUT_CRS = "EPSG:4326"
CENTRE_LON = 112.75  # Yuci district, Jinzhong
CENTRE_LAT = 37.69

#: Road classes, in the order of their integer codes.
ROAD_CLASSES = ("lane", "street", "main", "bridge", "estate_road")
_LANE, _STREET, _MAIN, _BRIDGE, _ESTATE = range(5)

# Layout at size 1, in metres. Widths and heights scale with sqrt(size).
OLD_TOWN_WIDTH_M = 3600.0
OLD_TOWN_HEIGHT_M = 1850.0
NEW_AREA_HEIGHT_M = 2400.0
RURAL_WIDTH_M = 1400.0
STREET_ZONE_M = 1900.0  # one 街道 per ~1.9 km square of urban area
TOWNSHIP_ZONE_M = 2500.0  # one 乡镇 per ~2.5 km of rural fringe on each bank
# Fixed sizes, in metres (they do not scale).
RIVER_GAP_M = 300.0  # south riverside road to north riverside road
RIVER_WIDTH_M = 115.0  # mean; varies by +-RIVER_WIDTH_SWING_M along the river
RIVER_WIDTH_SWING_M = 30.0
RIVER_MEANDER_M = 40.0  # amplitude of the river centre line
RIVER_STEP_M = 25.0  # sampling of the river banks
OLD_BLOCK_M = (60.0, 120.0)  # spacing of old-town streets and lanes
OLD_JITTER_M = 8.0  # lanes wander by up to this much
OLD_LANE_DROP_P = 0.12  # lanes removed, merging blocks
OLD_STUB_P = 0.30  # lanes with a dead-end hutong off their middle
OLD_INSET_M = 5.0  # community polygon inside the street centre line
OLD_NONRESIDENTIAL_P = 0.10  # markets, schools, parks
SUPERBLOCK_M = (220.0, 380.0)
NEW_NONRESIDENTIAL_P = 0.08
GATED_INSET_M = 20.0  # fence of a gated community inside the main road centre line
ESTATE_MARGIN_M = 45.0  # estate roads keep this far from the main road
ESTATE_SPACING_M = 45.0
GATE_COUNT_P = (0.30, 0.45, 0.25)  # P(1 gate), P(2 gates), P(3 gates)
RURAL_CELL_M = (600.0, 900.0)  # spacing of country roads
RURAL_COLUMN_KEEP_P = 0.7
VILLAGE_P = 0.75
VILLAGE_SPACING_M = (50.0, 70.0)
VILLAGE_MARGIN_M = 100.0  # a village keeps this far from the country roads
VILLAGE_INSET_M = 25.0  # village polygon around its lanes
BRIDGES_PER_SCALE = 3  # bridges = max(2, round(3 * sqrt(size)))
BOUNDARY_MARGIN_M = 30.0
FACILITIES_PER_SIZE = 30
SERVED_NEW_AREA_FRACTION = 0.45  # facilities only in the west of the new-build area
PLANNED_P = 0.12

FACILITY_FLOOR_AREA_M2: dict[str, tuple[float, float]] = {
    "station": (150, 600),
    "day_care": (300, 1200),
    "street_centre": (1000, 3000),
    "township_centre": (600, 1500),
    "nursing_home": (2000, 8000),
    "mutual_aid": (50, 200),
}
FACILITY_BEDS: dict[str, tuple[int, int]] = {
    "station": (0, 0),
    "day_care": (10, 40),
    "street_centre": (20, 80),
    "township_centre": (20, 60),
    "nursing_home": (100, 400),
    "mutual_aid": (0, 10),
}

_CHAR_A = "锦安新兴和福康泰华明丰瑞永长宁平文德顺盛昌祥源清惠广嘉润荣怡"
_CHAR_B = "纶建阳光泉河园城苑湖山林桥庄关景秀翠丽春晖馨雅峰"  # none in _CHAR_A
_QUARTERS = "东西南北中"  # told apart when two-character stems run out
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙郭马胡高何罗梁宋韩冯董曹"
_OLD_SUFFIXES = ("里", "巷小区", "街坊", "小区", "新村", "胡同", "院")
_WORK_UNITS = (
    "纺织厂",
    "机械厂",
    "化肥厂",
    "粮食局",
    "供销社",
    "电业局",
    "煤建公司",
    "铁路",
    "液压件厂",
    "棉麻公司",
    "师范学校",
    "食品公司",
)
_NEW_SUFFIXES = ("花园", "家园", "嘉园", "华府", "名苑", "雅居", "公馆", "御府", "新城", "佳苑")
_VILLAGE_SUFFIXES = ("家庄村", "家堡村", "庄村", "家沟村", "家寨村", "村")
_NURSING_SUFFIXES = ("颐养院", "养老院", "康养中心", "老年公寓")


@dataclass(frozen=True)
class SampleDistrict:
    """A synthetic district, every layer in EPSG:4326.

    Attributes
    ----------
    roads
        Two-point LineStrings noded at every junction; ``road_id`` (int) and
        ``road_class`` (one of :data:`ROAD_CLASSES`).
    communities
        Polygons; ``community_id``, ``name``, ``households``, ``residents``,
        ``elderly``, ``completion_year``, ``status`` ("old"/"new"), ``area_type``
        ("urban"/"rural"), ``street`` (街道 or 乡镇).
    gates
        Points, one per gate of a gated (new-build) community, each exactly on a road
        end point and on its community's boundary; ``community_id``.
    facilities
        Points; ``facility_id``, ``name``, ``kind``, ``floor_area_m2``, ``beds``,
        ``status`` ("existing"/"planned").
    boundary
        One polygon, the district outline.
    river
        One polygon, the river; only roads of class "bridge" cross it.
    """

    roads: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    river: gpd.GeoDataFrame


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    """Where the parts of the district lie, in local metres."""

    old_x: np.ndarray  # old-town street/lane columns, 0 .. east_m
    old_y: np.ndarray  # old-town rows, 0 .. south_road_m
    new_x: np.ndarray  # new-build main-road columns, 0 .. east_m
    new_y: np.ndarray  # new-build main-road rows, north_road_m .. height_m
    rural_x: np.ndarray  # country-road columns, east_m .. width_m
    rural_south_rows: np.ndarray  # indices into old_y extended into the fringe
    rural_north_rows: np.ndarray  # indices into new_y extended into the fringe

    @property
    def east_m(self) -> float:
        return float(self.old_x[-1])

    @property
    def width_m(self) -> float:
        return float(self.rural_x[-1])

    @property
    def south_road_m(self) -> float:
        return float(self.old_y[-1])

    @property
    def north_road_m(self) -> float:
        return float(self.new_y[0])

    @property
    def height_m(self) -> float:
        return float(self.new_y[-1])


def _positions(total_m: float, gap_m: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Return sorted positions from 0 to exactly ``total_m`` with random gaps."""
    n_gaps = max(1, round(total_m / (sum(gap_m) / 2)))
    gaps = rng.uniform(*gap_m, n_gaps)
    pos = np.concatenate([[0.0], np.cumsum(gaps * (total_m / gaps.sum()))])
    pos[-1] = total_m
    return pos


def _every(n: int, step: int) -> np.ndarray:
    """Return indices ``0, step, 2 step, ...`` and ``n - 1``."""
    return np.unique(np.append(np.arange(0, n, max(1, step)), n - 1))


def _line_classes(n: int) -> np.ndarray:
    """Return the class of each of ``n`` old-town lines: every 4th main, every 2nd street."""
    idx = np.arange(n)
    cls = np.full(n, _LANE)
    cls[idx % 2 == 0] = _STREET
    cls[(idx % 4 == 0) | (idx == n - 1)] = _MAIN
    return cls


def _make_layout(scale: float, rng: np.random.Generator) -> _Layout:
    """Draw the street lines of every part of the district."""
    east_m = OLD_TOWN_WIDTH_M * scale
    old_x = _positions(east_m, OLD_BLOCK_M, rng)
    old_y = _positions(OLD_TOWN_HEIGHT_M * scale, OLD_BLOCK_M, rng)
    north_road_m = old_y[-1] + RIVER_GAP_M
    new_x = _positions(east_m, SUPERBLOCK_M, rng)
    new_y = north_road_m + _positions(NEW_AREA_HEIGHT_M * scale, SUPERBLOCK_M, rng)
    rural_x = east_m + _positions(RURAL_WIDTH_M * scale, RURAL_CELL_M, rng)
    rural_m = sum(RURAL_CELL_M) / 2
    main_rows = np.flatnonzero(_line_classes(len(old_y)) == _MAIN)
    south_step = (
        round(rural_m / max(np.diff(old_y[main_rows]).mean(), 1.0)) if len(main_rows) > 1 else 1
    )
    south = np.unique(np.append(main_rows[:: max(1, south_step)], len(old_y) - 1))
    north = _every(len(new_y), round(rural_m / (sum(SUPERBLOCK_M) / 2)))
    return _Layout(old_x, old_y, new_x, new_y, rural_x, south, north)


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
        ci, rj = np.meshgrid(np.arange(len(lay.rural_x) - 1), np.arange(len(row_y) - 1))
        ci, rj = ci.ravel(), rj.ravel()
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


# --------------------------------------------------------------------------- attributes


def _two_char_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` two-character auspicious name stems (repeats possible)."""
    a = rng.integers(0, len(_CHAR_A), n)
    b = rng.integers(0, len(_CHAR_B), n)
    return np.array([_CHAR_A[p] + _CHAR_B[q] for p, q in zip(a, b, strict=True)], dtype=object)


def _distinct_stems(n: int, rng: np.random.Generator) -> list[str]:
    """Draw ``n`` distinct two-character stems (for 街道 and 乡镇 names)."""
    total = len(_CHAR_A) * len(_CHAR_B)
    picks = rng.permutation(total)[: min(n, total)]
    stems = [_CHAR_A[k // len(_CHAR_B)] + _CHAR_B[k % len(_CHAR_B)] for k in picks]
    return stems + [f"{_QUARTERS[k // total % 5]}{stems[k % total]}" for k in range(total, n)]


def _community_names(zone: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw Chinese-looking community names by zone (0 old town, 1 new build, 2 village)."""
    n = len(zone)
    stems = _two_char_names(n, rng)
    pick = rng.integers(0, 1000, (3, n))
    work_unit = [
        _WORK_UNITS[k % len(_WORK_UNITS)]
        + "东西南北一二三"[k // len(_WORK_UNITS) % 7]
        + ("家属院" if k % 2 else "宿舍")
        for k in pick[1]
    ]
    old = np.where(
        pick[0] % 10 == 0,
        work_unit,
        stems + np.array([_OLD_SUFFIXES[k % len(_OLD_SUFFIXES)] for k in pick[2]], dtype=object),
    )
    new = stems + np.array([_NEW_SUFFIXES[k % len(_NEW_SUFFIXES)] for k in pick[2]], dtype=object)
    village = np.array(
        [
            _SURNAMES[p % len(_SURNAMES)] + _VILLAGE_SUFFIXES[q % len(_VILLAGE_SUFFIXES)]
            for p, q in zip(pick[1], pick[2], strict=True)
        ],
        dtype=object,
    )
    return np.select([zone == 0, zone == 1], [old, new], village)


def _zone_labels(
    x: np.ndarray, y: np.ndarray, extent: tuple[float, float, float, float], zone_m: float
) -> np.ndarray:
    """Return the index of the ~``zone_m`` square that each point falls in."""
    x0, y0, x1, y1 = extent
    kx = max(1, round((x1 - x0) / zone_m))
    ky = max(1, round((y1 - y0) / zone_m))
    ix = np.clip(((x - x0) / (x1 - x0) * kx).astype(int), 0, kx - 1)
    iy = np.clip(((y - y0) / (y1 - y0) * ky).astype(int), 0, ky - 1)
    return iy * kx + ix


def _admin_units(
    zone: np.ndarray, centre: np.ndarray, lay: _Layout, rng: np.random.Generator
) -> np.ndarray:
    """Name the 街道 (urban) or 乡镇 (rural) of every community."""
    extents = {
        0: (0, 0, lay.east_m, lay.south_road_m),
        1: (0, lay.north_road_m, lay.east_m, lay.height_m),
    }
    key = np.zeros(len(zone), dtype=np.int64)
    for z, extent in extents.items():
        m = zone == z
        key[m] = z * 1_000_000 + _zone_labels(centre[m, 0], centre[m, 1], extent, STREET_ZONE_M)
    m = zone == 2
    north = centre[m, 1] > lay.south_road_m
    along_m = np.where(north, centre[m, 1] - lay.north_road_m, centre[m, 1])
    key[m] = 2_000_000 + north * 1_000 + (along_m // TOWNSHIP_ZONE_M).astype(int)
    uniq, inverse = np.unique(key, return_inverse=True)
    stems = _distinct_stems(len(uniq), rng)
    rural = uniq >= 2_000_000
    suffix = np.where(rural, np.where(rng.random(len(uniq)) < 0.8, "镇", "乡"), "街道")
    return np.array([s + x for s, x in zip(stems, suffix, strict=True)], dtype=object)[inverse]


def _community_numbers(
    zone: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw households, residents, elderly and completion years by zone."""
    n = len(zone)
    u = rng.random((5, n))
    area_ha = area_m2 / 10_000
    old_hh = np.clip(area_ha * (60 + 70 * u[0]), 80, 600)
    new_hh = np.clip(area_ha * (150 + 150 * u[0]), 400, 2500)
    village_hh = 80 + 370 * u[0]
    households = (
        np.select([zone == 0, zone == 1], [old_hh, new_hh], village_hh).round().astype(np.int64)
    )
    residents = (households * (2.6 + 0.3 * u[1])).round().astype(np.int64)
    share = np.select(
        [zone == 0, zone == 1], [0.22 + 0.08 * u[2], 0.18 + 0.06 * u[2]], 0.24 + 0.06 * u[2]
    )
    year = np.select([zone == 0, zone == 1], [1960 + 46 * u[3], 2008 + 17 * u[3]], 1975 + 36 * u[3])
    return {
        "households": households,
        "residents": residents,
        "elderly": (residents * share).round().astype(np.int64),
        "completion_year": np.floor(year).astype(np.int64),
    }


# --------------------------------------------------------------------------- counts


def _proportional(counts: list[int], target: int) -> list[int]:
    """Split ``target`` over zones in proportion to ``counts`` (largest remainders)."""
    total = sum(counts)
    exact = [c * target / total for c in counts]
    out = [int(e) for e in exact]
    for k in sorted(range(len(counts)), key=lambda k: out[k] - exact[k])[: target - sum(out)]:
        out[k] += 1
    return out


def _split_groups(
    groups: np.ndarray, resident: np.ndarray, need: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split old-town groups into single blocks until ``need`` are residential."""
    cells = (groups[:, 1] - groups[:, 0] + 1) * (groups[:, 3] - groups[:, 2] + 1)
    order = np.r_[
        rng.permutation(np.flatnonzero(resident)), rng.permutation(np.flatnonzero(~resident))
    ]
    gain = np.where(resident[order], cells[order] - 1, cells[order])
    reached = np.searchsorted(np.cumsum(gain), need - resident.sum())
    if reached >= len(order):
        msg = (
            f"n_communities asks for {need:,} old-town communities but this size has only "
            f"{cells.sum():,} blocks; raise size or lower n_communities"
        )
        raise InputError(msg)
    split = np.zeros(len(groups), bool)
    split[order[: reached + 1]] = True
    singles = []
    for j0, j1, i0, i1 in groups[split]:
        j, i = (g.ravel() for g in np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1)))
        singles.append(np.c_[j, j, i, i])
    singles = np.concatenate(singles)
    groups = np.r_[groups[~split], singles]
    resident = np.r_[resident[~split], np.ones(len(singles), bool)]
    surplus = rng.choice(
        np.flatnonzero(resident[-len(singles) :]) + len(groups) - len(singles),
        resident.sum() - need,
        replace=False,
    )
    resident[surplus] = False
    return groups, resident


def _keep_random(mask: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``mask`` with only ``k`` of its True entries, chosen at random, kept."""
    out = np.zeros_like(mask)
    out[rng.choice(np.flatnonzero(mask), k, replace=False)] = True
    return out


def _apply_target(
    target: int | None, groups: np.ndarray, masks: list[np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Adjust which old-town groups, superblocks and villages are residential."""
    counts = [int(m.sum()) for m in masks]
    if target is None or target == sum(counts):
        return groups, masks
    if target < 1:
        msg = f"n_communities must be at least 1, not {target}"
        raise InputError(msg)
    if target < sum(counts):
        keep = _proportional(counts, target)
        return groups, [_keep_random(m, k, rng) for m, k in zip(masks, keep, strict=True)]
    groups, old = _split_groups(groups, masks[0], target - counts[1] - counts[2], rng)
    return groups, [old, masks[1], masks[2]]


# --------------------------------------------------------------------------- facilities


def _facility_kinds(n: int, n_streets: int, n_townships: int, n_villages: int) -> list[str]:
    """Return the kinds of ``n`` facilities: a centre per 街道/乡镇, then a mix."""
    townships = min(n_townships, max(1, round(0.06 * n))) if n_villages else 0
    mutual = min(n_villages - townships, round(0.10 * n)) if n_villages else 0
    street = min(n_streets, max(1, round(0.12 * n)))
    nursing = round(0.10 * n)
    day_care = round(0.20 * n)
    counts = {  # on a tie, the first kind listed gives way first
        "township_centre": townships,
        "street_centre": street,
        "nursing_home": nursing,
        "day_care": day_care,
        "mutual_aid": mutual,
    }
    while sum(counts.values()) > n:
        big = max(counts, key=lambda k: counts[k])
        counts[big] -= 1
    counts["station"] = n - sum(counts.values())
    return [k for k in FACILITY_FLOOR_AREA_M2 for _ in range(counts.get(k, 0))]


def _facility_hosts(
    kinds: list[str], comm: pd.DataFrame, served: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Pick the community hosting each facility (urban kinds only where ``served``)."""
    hosts = np.full(len(kinds), -1)
    kinds_arr = np.array(kinds)
    rural = np.flatnonzero(comm["zone"].to_numpy() == 2)
    pool = rng.permutation(np.flatnonzero(served if served.any() else comm["zone"].to_numpy() < 2))
    if len(pool) == 0:
        pool = rng.permutation(len(comm))
    centres = np.flatnonzero(kinds_arr == "street_centre")
    by_street = pd.Series(pool).groupby(comm["street"].to_numpy()[pool], sort=True).first()
    hosts[centres] = by_street.to_numpy()[rng.permutation(len(by_street))][: len(centres)]
    towns = np.flatnonzero(kinds_arr == "township_centre")
    by_town = pd.Series(rural).groupby(comm["street"].to_numpy()[rural], sort=True).first()
    hosts[towns] = by_town.to_numpy()[rng.permutation(len(by_town))][: len(towns)]
    rural_left = rng.permutation(np.setdiff1d(rural, hosts))
    mutual = np.flatnonzero(kinds_arr == "mutual_aid")
    hosts[mutual] = rural_left[: len(mutual)]
    rest = np.flatnonzero(hosts < 0)
    free = np.setdiff1d(pool, hosts, assume_unique=False)
    free = free[rng.permutation(len(free))]
    if len(free) < len(rest):
        free = np.r_[free, rng.choice(pool, len(rest) - len(free))]
    hosts[rest] = free[: len(rest)]
    return hosts


def _facility_table(
    kinds: list[str], hosts: np.ndarray, comm: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Name and size the facilities."""
    n = len(kinds)
    u = rng.random((4, n))
    host_name = comm["name"].to_numpy()[hosts]
    street = comm["street"].to_numpy()[hosts]
    stems = _two_char_names(n, rng)
    names = []
    for k, kind in enumerate(kinds):
        names.append(
            {
                "station": f"{host_name[k]}养老服务站",
                "day_care": f"{host_name[k]}日间照料中心",
                "street_centre": f"{street[k]}养老服务中心",
                "township_centre": f"{street[k]}养老服务中心",
                "nursing_home": f"{stems[k]}{_NURSING_SUFFIXES[int(u[3, k] * 4)]}",
                "mutual_aid": f"{host_name[k]}农村互助幸福院",
            }[kind]
        )
    lo = np.array([FACILITY_FLOOR_AREA_M2[k][0] for k in kinds], float)
    hi = np.array([FACILITY_FLOOR_AREA_M2[k][1] for k in kinds], float)
    beds_lo = np.array([FACILITY_BEDS[k][0] for k in kinds])
    beds_hi = np.array([FACILITY_BEDS[k][1] for k in kinds])
    planned = np.zeros(n, bool)
    planned[rng.permutation(n)[: round(PLANNED_P * n)]] = True
    return pd.DataFrame(
        {
            "facility_id": [f"F{k + 1:03d}" for k in range(n)],
            "name": names,
            "kind": kinds,
            "floor_area_m2": np.round(lo + (hi - lo) * u[0], -1),
            "beds": (beds_lo + np.floor((beds_hi - beds_lo + 1) * u[1])).astype(np.int64),
            "status": np.where(planned, "planned", "existing"),
        }
    )


# --------------------------------------------------------------------------- projection


def _projector(lay: _Layout) -> tuple[np.ndarray, Transformer]:
    """Return the offset placing local metres in EPSG:32649, and the transformer to 4326."""
    to_utm = Transformer.from_crs(OUTPUT_CRS, METRIC_CRS, always_xy=True)
    east, north = to_utm.transform(CENTRE_LON, CENTRE_LAT)
    offset = np.array([east - lay.width_m / 2, north - lay.height_m / 2])
    return offset, Transformer.from_crs(METRIC_CRS, OUTPUT_CRS, always_xy=True)


def _to_lonlat(xy: np.ndarray, offset: np.ndarray, transformer: Transformer) -> np.ndarray:
    """Transform local metres to lon/lat (n, 2)."""
    lon, lat = transformer.transform(xy[:, 0] + offset[0], xy[:, 1] + offset[1])
    return np.c_[lon, lat]


def _polygons_to_wgs84(geoms: np.ndarray, offset: np.ndarray) -> gpd.GeoSeries:
    """Move local-metre polygons into EPSG:32649 and transform them to EPSG:4326."""
    moved = shapely.transform(geoms, lambda c: c + offset)
    return gpd.GeoSeries(moved, crs=METRIC_CRS).to_crs(OUTPUT_CRS)


def _river_polygon(lay: _Layout, rng: np.random.Generator) -> shapely.Polygon:
    """Return the river band between the riverside roads, in local metres."""
    phase = rng.uniform(0, 2 * np.pi, 2)
    wave_m = rng.uniform(2500, 4000, 2)
    x = np.linspace(0, lay.width_m, max(2, int(lay.width_m / RIVER_STEP_M) + 1))
    centre = (lay.south_road_m + lay.north_road_m) / 2 + RIVER_MEANDER_M * np.sin(
        2 * np.pi * x / wave_m[0] + phase[0]
    )
    half = (RIVER_WIDTH_M + RIVER_WIDTH_SWING_M * np.sin(2 * np.pi * x / wave_m[1] + phase[1])) / 2
    ring = np.r_[np.c_[x, centre - half], np.c_[x, centre + half][::-1]]
    return shapely.Polygon(ring)


# --------------------------------------------------------------------------- public API


def _check_args(size: float, n_communities: int | None, n_facilities: int | None) -> None:
    """Reject sizes and counts that cannot make a district."""
    if not size >= 0.05:  # below this the parts no longer fit
        msg = f"size must be at least 0.05, not {size}"
        raise InputError(msg)
    if n_facilities is not None and n_facilities < 1:
        msg = f"n_facilities must be at least 1, not {n_facilities}"
        raise InputError(msg)
    if n_communities is not None and n_communities < 1:
        msg = f"n_communities must be at least 1, not {n_communities}"
        raise InputError(msg)


def generate_sample(
    *,
    seed: int = 42,
    size: float = 1.0,
    n_communities: int | None = None,
    n_facilities: int | None = None,
) -> SampleDistrict:
    """Generate the synthetic sample district.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed and arguments give identical data.
    size
        Area relative to the default district (about 5 x 4.5 km, some 7,000 road nodes,
        300 communities and 30 facilities); node and community counts scale linearly.
    n_communities
        Exact number of communities instead of the natural count for ``size``. More are
        made by splitting old-town groups into single blocks, fewer by leaving blocks,
        superblocks and villages unbuilt.
    n_facilities
        Exact number of facilities instead of ``30 * size``.

    Returns
    -------
    SampleDistrict
        Every layer in EPSG:4326; see :class:`SampleDistrict` for the columns.

    Raises
    ------
    InputError
        If ``size`` is below 0.05, a count is below 1, or ``n_communities`` is more
        than the blocks of this size can hold.
    """
    _check_args(size, n_communities, n_facilities)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    scale = float(np.sqrt(size))
    lay = _make_layout(scale, rng)
    parts = _Parts()
    old_xs, old_ys = _old_town_nodes(lay, rng)
    _add_old_town(parts, lay, old_xs, old_ys, rng)
    groups = _old_town_groups(lay, rng)
    old_mask = rng.random(len(groups)) >= OLD_NONRESIDENTIAL_P
    rows, cols = _add_new_area_lines(parts, lay)
    cj, ci = np.meshgrid(
        np.arange(len(lay.new_y) - 1), np.arange(len(lay.new_x) - 1), indexing="ij"
    )
    superblocks = np.c_[cj.ravel(), ci.ravel()]
    new_mask = rng.random(len(superblocks)) >= NEW_NONRESIDENTIAL_P
    south_ids, north_ids = _add_rural_roads(parts, lay, rows, rng)
    cells = _rural_cells(lay, south_ids, north_ids)
    shapes = _village_shapes(cells, rng)
    groups, (old_mask, new_mask, village_mask) = _apply_target(
        n_communities, groups, [old_mask, new_mask, shapes[5]], rng
    )
    old_polys = _group_polygons(old_xs, old_ys, groups[old_mask])
    new_polys, gates = _add_gated(parts, lay, superblocks[new_mask], rows=rows, cols=cols, rng=rng)
    village_polys = _add_villages(parts, cells, shapes, village_mask)
    _add_bridges(
        parts,
        lay,
        old_xs[-1],
        south_top_id=int(south_ids[-1]),
        north_bottom_id=int(rows[0]),
        rng=rng,
    )
    net = _assemble(parts, lay.east_m)
    district = _finish(
        lay,
        net,
        [old_polys, new_polys, village_polys],
        gates,
        n_facilities=n_facilities or max(1, round(FACILITIES_PER_SIZE * size)),
        rng=rng,
    )
    msg = (
        f"generated sample district seed={seed} size={size}: {len(net.nodes_xy):,} nodes, "
        f"{len(net.u):,} roads, {len(district.communities):,} communities, "
        f"{len(district.facilities):,} facilities in {time.perf_counter() - started:.1f} s"
    )
    log.info(msg)
    return district


def _communities_frame(
    lay: _Layout, polys: list[np.ndarray], offset: np.ndarray, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Build the communities table with a private ``zone`` column (0 old, 1 new, 2 village)."""
    geoms = np.concatenate(polys)
    zone = np.concatenate([np.full(len(p), z) for z, p in enumerate(polys)])
    centre = shapely.get_coordinates(shapely.point_on_surface(geoms))
    numbers = _community_numbers(zone, shapely.area(geoms), rng)
    frame = pd.DataFrame(
        {
            "community_id": [f"C{k + 1:04d}" for k in range(len(geoms))],
            "name": _community_names(zone, rng),
            **numbers,
            "status": np.where(zone == 1, "new", "old"),
            "area_type": np.where(zone == 2, "rural", "urban"),
            "street": _admin_units(zone, centre, lay, rng),
            "zone": zone,
            "x_m": centre[:, 0],
            "y_m": centre[:, 1],
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=_polygons_to_wgs84(geoms, offset).to_numpy(), crs=OUTPUT_CRS
    )


def _facilities_frame(
    comm: gpd.GeoDataFrame,
    lay: _Layout,
    n: int,
    *,
    offset: np.ndarray,
    transformer: Transformer,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Place ``n`` facilities, leaving the east of the new-build area without any."""
    zone = comm["zone"].to_numpy()
    served = (zone == 0) | (
        (zone == 1) & (comm["x_m"].to_numpy() < SERVED_NEW_AREA_FRACTION * lay.east_m)
    )
    n_villages = int((zone == 2).sum())
    n_towns = comm.loc[zone == 2, "street"].nunique()
    kinds = _facility_kinds(n, comm.loc[served, "street"].nunique(), n_towns, n_villages)
    hosts = _facility_hosts(kinds, comm, served, rng)
    table = _facility_table(kinds, hosts, comm, rng)
    xy = comm[["x_m", "y_m"]].to_numpy()[hosts]
    lonlat = _to_lonlat(xy, offset, transformer)
    return gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=OUTPUT_CRS
    )


def _finish(
    lay: _Layout,
    net: _Network,
    polys: list[np.ndarray],
    gates: np.ndarray,
    *,
    n_facilities: int,
    rng: np.random.Generator,
) -> SampleDistrict:
    """Transform everything to EPSG:4326 and build the GeoDataFrames."""
    offset, transformer = _projector(lay)
    lonlat = _to_lonlat(net.nodes_xy, offset, transformer)
    lines = shapely.linestrings(np.stack([lonlat[net.u], lonlat[net.v]], axis=1))
    roads = gpd.GeoDataFrame(
        {
            "road_id": np.arange(len(lines), dtype=np.int64),
            "road_class": np.array(ROAD_CLASSES)[net.cls],
        },
        geometry=lines,
        crs=OUTPUT_CRS,
    )
    comm = _communities_frame(lay, polys, offset, rng)
    _, gate_node = _locate(net.nodes_xy, gates[:, 1:])
    n_old = len(polys[0])
    gate_lonlat = lonlat[gate_node]
    gates_gdf = gpd.GeoDataFrame(
        {"community_id": comm["community_id"].to_numpy()[n_old + gates[:, 0].astype(int)]},
        geometry=gpd.points_from_xy(gate_lonlat[:, 0], gate_lonlat[:, 1]),
        crs=OUTPUT_CRS,
    )
    facilities = _facilities_frame(
        comm, lay, n_facilities, offset=offset, transformer=transformer, rng=rng
    )
    m = BOUNDARY_MARGIN_M
    outline = shapely.segmentize(shapely.box(-m, -m, lay.width_m + m, lay.height_m + m), 100.0)
    boundary = gpd.GeoDataFrame(
        {"name": ["synthetic sample district"]},
        geometry=_polygons_to_wgs84(np.array([outline]), offset).to_numpy(),
        crs=OUTPUT_CRS,
    )
    river = gpd.GeoDataFrame(
        {"name": ["river"]},
        geometry=_polygons_to_wgs84(np.array([_river_polygon(lay, rng)]), offset).to_numpy(),
        crs=OUTPUT_CRS,
    )
    comm = comm.drop(columns=["zone", "x_m", "y_m"])
    return SampleDistrict(roads, comm, gates_gdf, facilities, boundary, river)


def _locate(nodes_xy: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (found, index) of points ``xy`` among the lexsorted unique ``nodes_xy``."""
    keys = nodes_xy[:, 0] + 0j + 1j * nodes_xy[:, 1]
    wanted = xy[:, 0] + 1j * xy[:, 1]
    idx = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    found = keys[idx] == wanted
    if not found.all():
        msg = "internal error: a gate is not a road node"
        raise RuntimeError(msg)
    return found, idx


# --------------------------------------------------------------------------- writing


_README = """\
# 合成样例区 · Synthetic sample district

**合成样例数据——并非真实地点。 Synthetic sample — not a real place.**

本目录由 `planner.sample.write_sample` 按随机种子生成，用于演示和测试；街道、小区、
设施的名称和数字均为虚构。 Generated by `planner.sample.write_sample` from a random
seed for demos and tests; every street, community and facility name and number is
made up. The layout imitates a Chinese county town near Yuci (Jinzhong), but it is
not a map of it.

- seed / 随机种子: {seed}
- size / 规模: {size}
- road segments / 道路段: {roads:,} (bridges / 桥: {bridges})
- road nodes / 路网节点: {nodes:,}
- communities / 小区: {communities:,} (old town {old:,}, new-build {new:,}, villages {rural:,})
- gates / 小区出入口: {gates:,}
- facilities / 养老服务设施: {facilities:,} ({planned} planned / 规划)
- coordinates / 坐标: WGS84 (EPSG:4326), lon/lat. Built in UTM zone 49N (EPSG:32649).

## Files / 文件

- `roads.gpkg`, layer `roads`: two-point LineStrings noded at every junction;
  `road_id`, `road_class` (lane, street, main, bridge, estate_road).
- `communities.gpkg`, layer `communities`: polygons; `community_id`, `name`,
  `households`, `residents`, `elderly` (60+), `completion_year`, `status` (old/new),
  `area_type` (urban/rural), `street` (街道 or 乡镇).
- `gates.csv`: `community_id`, `lon`, `lat`; the gates of the gated new-build
  communities, each exactly on a road end point.
- `facilities.csv`: `facility_id`, `name`, `kind`, `floor_area_m2`, `beds`,
  `status` (existing/planned), `lon`, `lat`.
- `boundary.geojson`: the district outline.
- `river.geojson`: the river; only roads of class `bridge` cross it.

## What is in it / 内容

- 老城区 old town: small irregular blocks (60-120 m), jittered lanes and dead-end
  hutongs; communities are blocks or groups of blocks without gates.
- 新建区 new-build area: 200-400 m superblocks on main roads; each gated community
  is reached only through its 1-3 gates (estate roads meet outside roads only there).
- 河流 river: 85-145 m wide, crossed only by {bridges} bridges, so walking distance
  across it is much longer than the straight line.
- 城郊农村 rural fringe: villages on sparse country roads (`area_type` rural,
  `street` is the 乡镇).
- Facilities stand only in the old town, the west of the new-build area and a few
  villages, so the east of the new-build area (across the river from the old town)
  and most villages are deliberately under-served.

Regenerate with the same seed and size to get identical files.
"""


def _point_table(gdf: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    """Return ``columns`` of a point layer plus ``lon`` and ``lat``."""
    return gdf[columns].assign(lon=gdf.geometry.x, lat=gdf.geometry.y)


def _readme_text(district: SampleDistrict, seed: int, size: float) -> str:
    """Fill the README template with the district's counts."""
    roads, comm = district.roads, district.communities
    nodes, _ = _unique_points(shapely.get_coordinates(roads.geometry.to_numpy()))
    zones = comm["status"].where(comm["area_type"] == "urban", "rural").value_counts()
    return _README.format(
        seed=seed,
        size=size,
        roads=len(roads),
        bridges=int((roads["road_class"] == "bridge").sum()),
        nodes=len(nodes),
        communities=len(comm),
        old=zones.get("old", 0),
        new=zones.get("new", 0),
        rural=zones.get("rural", 0),
        gates=len(district.gates),
        facilities=len(district.facilities),
        planned=int((district.facilities["status"] == "planned").sum()),
    )


def write_sample(
    out_dir: str | Path,
    *,
    seed: int = 42,
    size: float = 1.0,
    n_communities: int | None = None,
    n_facilities: int | None = None,
) -> dict[str, Path]:
    """Generate the sample district and write it as ordinary files.

    Parameters
    ----------
    out_dir
        Folder to write into; created if missing. Existing files are replaced.
    seed, size, n_communities, n_facilities
        As for :func:`generate_sample`.

    Returns
    -------
    dict of str to Path
        ``roads``, ``communities``, ``gates``, ``facilities``, ``boundary``, ``river``
        and ``readme``, each the path of the file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    district = generate_sample(
        seed=seed, size=size, n_communities=n_communities, n_facilities=n_facilities
    )
    started = time.perf_counter()
    paths = {
        name: out / file
        for name, file in (
            ("roads", "roads.gpkg"),
            ("communities", "communities.gpkg"),
            ("gates", "gates.csv"),
            ("facilities", "facilities.csv"),
            ("boundary", "boundary.geojson"),
            ("river", "river.geojson"),
            ("readme", "README.md"),
        )
    }
    for name in ("roads", "communities"):
        paths[name].unlink(missing_ok=True)
        getattr(district, name).to_file(
            paths[name], layer=name, driver="GPKG", engine="pyogrio", use_arrow=True
        )
    for name in ("boundary", "river"):
        paths[name].unlink(missing_ok=True)
        getattr(district, name).to_file(paths[name], driver="GeoJSON", engine="pyogrio")
    _point_table(district.gates, ["community_id"]).to_csv(paths["gates"], index=False)
    facility_columns = ["facility_id", "name", "kind", "floor_area_m2", "beds", "status"]
    _point_table(district.facilities, facility_columns).to_csv(paths["facilities"], index=False)
    paths["readme"].write_text(_readme_text(district, seed, size), encoding="utf-8")
    log.info(f"wrote sample district to {out} in {time.perf_counter() - started:.1f} s")
    return paths
