"""The base map: the study area's own streets, water and boundary, and optional online tiles.

Offline (the meeting-room case) the map still shows the place: the walking network the
planner already holds is drawn lightly (merged into lines and simplified for display,
a few MB at most for a city), with rivers and water areas and the district boundary when
given (``--water``, ``--boundary``) or found in an OSM source file. Online tiles are an
option: OpenStreetMap, Tianditu (天地图, CGCS2000, which sits within a metre of WGS84, so
the data is drawn as is) or Amap (高德, GCJ-02: the data is then shifted to GCJ-02 to
match the tiles, and the map says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pyproj import Transformer

from planner._errors import InputError
from planner.crs import wgs84_to_gcj02
from planner.maps import style as st
from planner.maps.geojson import (
    encoded_lines_json,
    encoded_polygons_json,
    features_json,
    gc_paused,
    multiline_json,
)
from planner.maps.layers import Layer, swatch
from planner.network.store import CompiledNetwork

log = logging.getLogger(__name__)

#: Display simplification of the base streets (metres): invisible at street zoom.
STREET_SIMPLIFY_M = 4.0
#: Display simplification of water and boundary outlines (metres).
OUTLINE_SIMPLIFY_M = 5.0

#: Online tile providers: name → (label, URL template, attribution, options, coordinates).
TILE_PROVIDERS: dict[str, dict[str, Any]] = {
    "osm": {
        "label": "OpenStreetMap (需联网 online)",
        "layers": ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"],
        "attribution": "© OpenStreetMap contributors",
        "options": {"maxZoom": 19},
        "crs": "wgs84",
    },
    "tianditu": {
        "label": "天地图 Tianditu, CGCS2000 (需联网和密钥 online, key)",
        "layers": [
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
            "&TILECOL={x}&tk={key}",
            "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
            "&TILECOL={x}&tk={key}",
        ],
        "attribution": "© 天地图 Tianditu (国家地理信息公共服务平台)",
        "options": {"maxZoom": 18, "subdomains": "01234567"},
        "crs": "cgcs2000",
    },
    "amap": {
        "label": "高德 Amap, GCJ-02 (需联网 online)",
        "layers": ["https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                   "&style=8&x={x}&y={y}&z={z}"],
        "attribution": "© 高德 AutoNavi",
        "options": {"maxZoom": 18, "subdomains": "1234"},
        "crs": "gcj02",
    },
}
#: Said on the map when the data is shifted to match Amap's GCJ-02 tiles.
GCJ02_NOTE = ("数据已偏移至GCJ-02以匹配高德底图 / data shifted to GCJ-02 to match the Amap "
              "tiles (the files stay WGS84)")


@dataclass
class BaseMap:
    """What the base map draws under the data; every part optional, any CRS.

    Attributes
    ----------
    streets
        Street lines (e.g. :func:`street_lines` of the compiled network).
    water
        Rivers (lines) and water areas (polygons).
    boundary
        The district boundary (polygons or lines).
    """

    streets: gpd.GeoSeries | None = None
    water: gpd.GeoSeries | None = None
    boundary: gpd.GeoSeries | None = None


def parse_tiles(tiles: str | None) -> tuple[str | None, str | None]:
    """``"osm"``, ``"amap"``, ``"tianditu:KEY"`` or ``"none"`` → (provider, key).

    Raises
    ------
    InputError
        An unknown provider, or Tianditu without its key.
    """
    if tiles is None or tiles.lower() in ("", "none", "offline"):
        return None, None
    name, _, key = tiles.partition(":")
    name = name.lower()
    if name not in TILE_PROVIDERS:
        msg = (f"unknown tiles {tiles!r}: use one of none, {', '.join(TILE_PROVIDERS)} "
               "(tianditu needs its key: tianditu:YOUR_KEY)")
        raise InputError(msg)
    if name == "tianditu" and not key:
        msg = ("Tianditu tiles need a key (free at console.tianditu.gov.cn): "
               "give --tiles tianditu:YOUR_KEY")
        raise InputError(msg)
    return name, key or None


def tile_config(provider: str | None, key: str | None) -> list[dict[str, Any]]:
    """The page's description of the online base layers (empty when offline only)."""
    if provider is None:
        return []
    spec = TILE_PROVIDERS[provider]
    urls = [u.replace("{key}", key or "") for u in spec["layers"]]
    return [{"label": spec["label"], "urls": urls, "attribution": spec["attribution"],
             "options": spec["options"]}]


def street_lines(net: CompiledNetwork, *, simplify_m: float = STREET_SIMPLIFY_M) -> gpd.GeoSeries:
    """The network's streets, one line per edge, simplified for display.

    Edges are not merged into longer lines: between intersections they already are one
    line each, and the map writes all streets as one encoded MultiLineString, so a line
    costs a few bytes whatever its count.

    Returns
    -------
    geopandas.GeoSeries
        LineStrings in the network's metric CRS; display geometry only.
    """
    geoms = net.edge_geoms
    if len(geoms) == 0:
        return gpd.GeoSeries([], crs=net.pyproj_crs)
    lines = np.array(geoms, dtype=object)
    # a straight edge (two distinct points) is its own simplification: skip it
    bent = ~((shapely.get_type_id(lines) == 1) & (shapely.get_num_coordinates(lines) == 2)
             & (shapely.length(lines) > 0))
    with gc_paused():  # a new geometry per bent edge: no collections meanwhile
        lines[bent] = shapely.simplify(lines[bent], simplify_m, preserve_topology=False)
    empty = np.zeros(len(lines), dtype=bool)
    empty[bent] = shapely.is_empty(lines[bent])  # only those simplified can be empty
    lines = lines[~empty]
    log.info("base streets: %s lines", f"{len(lines):,}")
    return gpd.GeoSeries(lines, crs=net.pyproj_crs)


def read_outline(path: str | Path, *, what: str) -> gpd.GeoSeries:
    """Read a boundary or water file (GeoJSON, GeoPackage, Shapefile…) as geometries.

    Raises
    ------
    InputError
        The file is missing, unreadable, has no CRS or no geometry.
    """
    p = Path(path)
    if not p.exists():
        msg = f"{what} file {p} not found; check the path given to --{what}"
        raise InputError(msg)
    try:
        gdf = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own errors; name the file
        msg = f"could not read {what} file {p}: {exc}. Give a GeoJSON, GeoPackage or Shapefile."
        raise InputError(msg) from exc
    if gdf.crs is None:
        msg = f"{what} file {p} has no coordinate system; save it with one (e.g. EPSG:4326)"
        raise InputError(msg)
    geoms = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if len(geoms) == 0:
        msg = f"{what} file {p} has no geometry to draw"
        raise InputError(msg)
    return geoms.reset_index(drop=True)


def osm_outlines(path: str | Path) -> BaseMap:
    """Water and the administrative boundary found in an ``.osm``/``.osm.pbf`` file.

    Empty parts are ``None``; a file GDAL cannot read as OSM gives an empty :class:`BaseMap`.
    """
    import pyogrio  # noqa: PLC0415

    p = Path(path)
    if not p.name.endswith((".osm", ".pbf")):
        return BaseMap()
    try:
        areas = pyogrio.read_dataframe(
            p, layer="multipolygons",
            where="\"natural\" = 'water' OR landuse = 'reservoir' OR "
                  "(boundary = 'administrative' AND admin_level IN ('6', '7', '8'))")
        lines = pyogrio.read_dataframe(p, layer="lines",
                                       where="waterway IN ('river', 'canal', 'stream')")
    except Exception as exc:  # no base outlines is not an error
        log.info("no water or boundary read from %s: %s", p, exc)
        return BaseMap()
    is_boundary = areas.get("boundary", pd.Series(None, index=areas.index)) == "administrative"
    water = pd.concat([areas.geometry[~is_boundary], lines.geometry], ignore_index=True)
    boundary = areas.geometry[is_boundary]
    return BaseMap(
        water=gpd.GeoSeries(water, crs=4326) if len(water) else None,
        boundary=gpd.GeoSeries(boundary.reset_index(drop=True), crs=4326)
        if len(boundary) else None,
    )


def lonlat_function(crs: Any, *, gcj02: bool) -> Callable[[np.ndarray], np.ndarray]:
    """A function taking ``(n, 2)`` coordinates in ``crs`` to display lon/lat.

    Display lon/lat is EPSG:4326, or GCJ-02 (``gcj02``) to sit on Amap tiles.
    """
    to_wgs84 = (None if pyproj.CRS.from_user_input(crs).equals(pyproj.CRS.from_epsg(4326))
                else Transformer.from_crs(crs, 4326, always_xy=True))

    def convert(xy: np.ndarray) -> np.ndarray:
        if to_wgs84 is not None:
            lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        if gcj02:
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return xy

    def convert_each_once(xy: np.ndarray) -> np.ndarray:
        codes = _grid_vertices(xy)
        if codes is None:
            return convert(xy)
        one = np.empty(int(codes.max()) + 1, dtype=np.int64)
        one[codes] = np.arange(len(codes))  # a row of each distinct vertex (any: all equal)
        return convert(xy[one])[codes]

    return convert if to_wgs84 is None and not gcj02 else convert_each_once


def _grid_vertices(xy: np.ndarray) -> np.ndarray | None:
    """The distinct vertex of each row when all coordinates are whole non-zero numbers.

    Walking circles are traced on a raster grid (whole metres): neighbouring circles
    share most vertices, so each distinct one is converted once. ``None`` for other
    coordinates (and zeros, whose sign could matter), which are converted as they are.
    """
    if len(xy) < 2 or not (np.all(np.trunc(xy) == xy) and np.all(xy != 0)):
        return None
    x, y = xy[:, 0], xy[:, 1]
    if max(x.max() - x.min(), y.max() - y.min()) >= 2**31:
        return None
    key = (x - x.min()).astype(np.int64) * 2**31 + (y - y.min()).astype(np.int64)
    codes, _ = pd.factorize(key)
    return codes


def to_display(geoms: gpd.GeoSeries, *, simplify_m: float, gcj02: bool) -> gpd.GeoSeries:
    """Geometries simplified (metres), in EPSG:4326, rounded to 6 decimals (~0.1 m).

    ``gcj02`` shifts them to GCJ-02 to sit on Amap tiles.
    """
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if simplify_m > 0:
        if geoms.crs.is_projected:
            geoms = geoms.simplify(simplify_m, preserve_topology=True)
        else:
            geoms = geoms.simplify(simplify_m / 111_320.0, preserve_topology=True)
    geoms = geoms.to_crs(4326)

    def move(xy: np.ndarray) -> np.ndarray:
        if gcj02:
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return np.round(xy, 6)

    return gpd.GeoSeries(shapely.transform(geoms.values, move), index=geoms.index, crs=4326)


def base_layers(base: BaseMap, *, gcj02: bool = False) -> list[Layer]:
    """The base map as page layers: water, boundary and streets, on by default."""
    layers = []
    if base.water is not None and len(base.water):
        water = to_display(base.water, simplify_m=OUTLINE_SIMPLIFY_M, gcj02=gcj02)
        layers.append(_outline_layer("base-water", "water", water,
                                     f"{swatch(st.WATER_COLOUR)}水系 water"))
    if base.boundary is not None and len(base.boundary):
        boundary = to_display(base.boundary, simplify_m=OUTLINE_SIMPLIFY_M, gcj02=gcj02)
        layers.append(_outline_layer("base-boundary", "boundary", boundary,
                                     f"{swatch('transparent', 'planner-boundary')}边界 boundary"))
    if base.streets is not None and len(base.streets):
        geometry, count = _streets_json(base.streets, gcj02=gcj02)
        layers.append(Layer(
            id="base-streets", group="base", kind="street",
            label=f"{swatch(st.STREET_COLOUR, 'planner-line')}街道 streets ({count:,})",
            data=features_json(["streets"], pd.DataFrame(index=[0]), [geometry]),
            count=count))
    return layers


def _streets_json(streets: gpd.GeoSeries, *, gcj02: bool) -> tuple[str, int]:
    """All streets as one encoded MultiLineString, straight from the coordinate arrays.

    Going through the coordinates (not new geometries) keeps a city's 200,000 streets
    to a fraction of a second.
    """
    lines = streets.values[~(streets.isna() | streets.is_empty).to_numpy()]
    if not (shapely.get_type_id(lines) == 1).all():
        lines = shapely.get_parts(lines)
        lines = lines[shapely.get_type_id(lines) == 1]
    xy, line = shapely.get_coordinates(lines, return_index=True)
    if len(xy):
        xy = lonlat_function(streets.crs, gcj02=gcj02)(xy)
    return multiline_json(xy, line, len(lines)), len(lines)


def _outline_layer(layer_id: str, kind: str, geoms: gpd.GeoSeries, label: str) -> Layer:
    parts = shapely.get_parts(geoms.values)
    polys = parts[np.isin(shapely.get_type_id(parts), (3,))]
    lines = parts[np.isin(shapely.get_type_id(parts), (1,))]
    if len(lines):
        lines = shapely.get_parts(lines)
    text = encoded_polygons_json(polys) + encoded_lines_json(lines)
    ids = [str(i) for i in range(len(text))]
    return Layer(id=layer_id, group="base", kind=kind, label=label,
                 data=features_json(ids, pd.DataFrame(index=range(len(text))), text),
                 count=len(text))
