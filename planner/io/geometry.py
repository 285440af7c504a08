"""Geometries of input rows: spatial columns, lon/lat or WKT, checks and repairs."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import crs as _crs
from planner._errors import InputError, MissingColumnError
from planner.io.values import _isna, _numbers, _Rejects

logger = logging.getLogger("planner")

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "point_x")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "point_y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


# ---------------------------------------------------------------------------
# geometry


def _find(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in columns), None)


def _usable(geoms: gpd.GeoSeries) -> pd.Series:
    """Return True where a geometry is present and not empty."""
    arr = np.asarray(geoms.to_numpy(), dtype=object)
    return pd.Series(~(shapely.is_missing(arr) | shapely.is_empty(arr)), index=geoms.index)


def _has_geometry(table: pd.DataFrame) -> bool:
    return isinstance(table, gpd.GeoDataFrame) and table.geometry.notna().any()


def _geometry_from_columns(table: pd.DataFrame, path: Path,
                           rejects: _Rejects) -> gpd.GeoSeries:
    """Build geometries from lon/lat or WKT columns; reject rows without coordinates."""
    lon_col, lat_col = _find(table.columns, LON_NAMES), _find(table.columns, LAT_NAMES)
    row = table["_row"]
    if lon_col and lat_col:
        lon, lat = _numbers(table[lon_col]), _numbers(table[lat_col])
        for col, vals in ((lon_col, lon), (lat_col, lat)):
            bad = ~np.isfinite(vals)
            rejects.add(row[bad], col, table[col][bad],
                        "missing, non-numeric or infinite coordinate")
        ok = np.isfinite(lon) & np.isfinite(lat)
        points = gpd.GeoSeries(gpd.points_from_xy(lon.where(ok, 0.0), lat.where(ok, 0.0)),
                               index=table.index)
        return points.where(ok, None)
    wkt_col = _find(table.columns, WKT_NAMES)
    if wkt_col:
        raw = table[wkt_col]
        with warnings.catch_warnings():  # NaN coordinates warn here; rejected below
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            geoms = shapely.from_wkt(
                raw.map(lambda v: None if _isna(v) else str(v)).to_numpy(), on_invalid="ignore")
        bad = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=table.index)
        rejects.add(row[bad], wkt_col, raw[bad], "missing or unreadable WKT geometry")
        return gpd.GeoSeries(geoms, index=table.index)
    found = ", ".join(str(c) for c in table.columns if c != "_row")
    msg = (f"{path}: no coordinates. Add longitude/latitude columns named lon/lat (or lng, "
           f"经度/纬度) or a 'wkt' column. Columns found: {found}.")
    raise MissingColumnError(msg)


def _check_swapped(geoms: gpd.GeoSeries, rows: pd.Series, path: Path) -> None:
    """Raise InputError if longitude/latitude look swapped (only for degree inputs)."""
    ok = _usable(geoms)
    if not ok.any():
        return
    pts = shapely.get_coordinates(geoms[ok].representative_point().to_numpy())
    x, y = pts[:, 0], pts[:, 1]
    over = np.abs(y) > 90
    if over.any():
        first = int(rows[ok].to_numpy()[np.argmax(over)])
        msg = (f"{path}: row {first} has latitude {y[np.argmax(over)]:g} (beyond ±90°): the "
               "longitude and latitude columns look swapped, or the coordinates are projected "
               "metres (then declare crs='EPSG:nnnn'). Swap the column names and try again.")
        raise InputError(msg)
    if ((x >= 18) & (x <= 54) & (y >= 73) & (y <= 135)).all():
        msg = (f"{path}: every point looks like (latitude, longitude) for China: the longitude "
               "and latitude columns look swapped. Swap the column names and try again.")
        raise InputError(msg)


def _reject_outside_china(geoms: gpd.GeoSeries, table: pd.DataFrame, rejects: _Rejects) -> None:
    ok = _usable(geoms)
    pts = geoms[ok].representative_point()
    outside = pd.Series(_crs.out_of_china(pts.x.to_numpy(), pts.y.to_numpy()), index=pts.index)
    idx = outside[outside].index
    lon0, lat0, lon1, lat1 = _crs.CHINA_BBOX
    values = pd.Series([f"{p.x:.6f}, {p.y:.6f}" for p in pts[idx]], index=idx, dtype=object)
    rejects.add(table["_row"][idx], "geometry", values,
                f"outside China (WGS84 lon {lon0} to {lon1}, lat {lat0} to {lat1})")


def _repair(geoms: gpd.GeoSeries, rows: pd.Series, path: Path) -> tuple[gpd.GeoSeries, list[str]]:
    """Repair invalid polygons with ``shapely.make_valid``; one warning per repair."""
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    bad = _usable(geoms) & polygonal & ~geoms.is_valid
    warnings = []
    for idx in bad[bad].index:
        why = shapely.is_valid_reason(geoms[idx])
        warnings.append(f"{path} row {rows[idx]}: invalid polygon ({why}) repaired with make_valid")
    if bad.any():
        original = geoms[bad].to_numpy()
        fixed = shapely.make_valid(original, method="structure", keep_collapsed=False)
        collapsed = shapely.is_empty(fixed)  # no area left: kept as is, rejected by area
        fixed[collapsed] = original[collapsed]
        geoms = geoms.copy()
        geoms[bad] = fixed
    return geoms, warnings


def _reject_non_finite(geoms: gpd.GeoSeries, rows: pd.Series,
                       rejects: _Rejects) -> gpd.GeoSeries:
    """Reject geometries with a NaN or infinite coordinate (they break every measure)."""
    ok = _usable(geoms)
    arr = np.asarray(geoms[ok].to_numpy(), dtype=object)
    coords, idx = shapely.get_coordinates(arr, return_index=True)
    bad_pos = np.unique(idx[~np.isfinite(coords).all(axis=1)])
    if len(bad_pos) == 0:
        return geoms
    bad_index = geoms[ok].index[bad_pos]
    types = geoms.loc[bad_index].geom_type
    rejects.add(rows.loc[bad_index], "geometry", types,
                "geometry has a missing (NaN) or infinite coordinate")
    out = geoms.copy()
    out.loc[bad_index] = None
    return out


def _geometries(table: pd.DataFrame, path: Path, declared: str,
                rejects: _Rejects) -> tuple[gpd.GeoSeries, list[str]]:
    """WGS84 geometries for every row (None where rejected) and repair warnings."""
    if _has_geometry(table):
        geoms = table.geometry
        missing = ~_usable(geoms)
        rejects.add(table["_row"][missing], "geometry", geoms[missing], "missing geometry")
    else:
        geoms = _geometry_from_columns(table, path, rejects)
    geoms = _reject_non_finite(geoms, table["_row"], rejects)
    kind, target = _crs.parse_declared(declared)
    geographic = kind != "epsg" or (target is not None and target.is_geographic)
    file_crs = geoms.crs
    if geographic and (file_crs is None or file_crs.is_geographic):
        _check_swapped(geoms, table["_row"], path)
    geoms = geoms.where(_usable(geoms), None)
    wgs = _crs.to_wgs84(gpd.GeoSeries(geoms, crs=file_crs), declared).geometry
    wgs, warnings = _repair(wgs, table["_row"], path)
    _reject_outside_china(wgs, table, rejects)
    return wgs, warnings


#: Geometry types each layer accepts.
COMMUNITY_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")
FACILITY_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")


def reject_geometry_types(geoms: gpd.GeoSeries, table: pd.DataFrame, rejects: _Rejects, *,
                          allowed: tuple[str, ...], what: str) -> None:
    """Reject rows whose geometry is of another type, or a polygon without area."""
    ok = _usable(geoms)
    types = geoms.geom_type
    wrong = ok & ~types.isin(allowed)
    rejects.add(table["_row"][wrong], "geometry", types[wrong],
                f"{what} must be a {' or '.join(t.lower() for t in allowed)}; this row "
                "has another geometry type")
    polygonal = ok & types.isin(["Polygon", "MultiPolygon"])
    flat = polygonal & (_area_m2(geoms) < MIN_POLYGON_AREA_M2)
    rejects.add(table["_row"][flat], "geometry", types[flat],
                f"{what} polygon has zero area (all its corners on one line or point): "
                "fix its outline or give a point")


#: A community polygon smaller than this has no area: its corners lie on a line (m²).
MIN_POLYGON_AREA_M2 = 1.0
#: Metres per degree of latitude (and of longitude at the equator).
_M_PER_DEGREE = 111_320.0


def _area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Approximate area of WGS84 geometries in m² (enough to tell zero from a building)."""
    arr = np.asarray(geoms.to_numpy(), dtype=object)
    area = np.nan_to_num(shapely.area(arr))
    if geoms.crs is not None and geoms.crs.is_projected:
        return area
    lat = np.nan_to_num(shapely.get_y(shapely.centroid(arr)))
    return area * _M_PER_DEGREE**2 * np.cos(np.radians(lat))


def facility_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Facility locations: polygons (a building outline) become a representative point.

    The representative point lies inside the polygon, unlike the centroid of an L-shaped
    building.
    """
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]) & _usable(geoms)
    if not polygonal.any():
        return geoms
    out = geoms.copy()
    out[polygonal] = geoms[polygonal].representative_point()
    return out

