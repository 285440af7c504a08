"""Layout of the synthetic sample district.

Constants, the district record, street lines and the projection from local metres to
WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

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
