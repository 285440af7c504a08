"""Coordinate maths: Chinese map offsets (GCJ-02, BD-09), declared input CRSs, metric CRS.

The metric CRS (:func:`metric_crs_for`, :func:`check_metric_crs`) lives in
:mod:`planner.crs.metric` and is re-exported here.

Chinese web maps do not publish WGS84 coordinates. Amap (高德), Tencent and most
navigation data use **GCJ-02** ("Mars coordinates"), an obfuscated WGS84 that is
offset by a few hundred metres; Baidu uses **BD-09**, a further rotation and shift
of GCJ-02. OpenStreetMap is WGS84. Before joining a bureau's spreadsheet with the
street network, every point must go back to WGS84, or a community lands on the
wrong side of a main road.

The GCJ-02 forward formula is the public one (Krasovsky ellipsoid, a = 6378245 m,
e² = 0.00669342162296594323). Its inverse has no closed form; we solve it by
fixed-point iteration to better than :data:`GCJ_INVERSE_TOLERANCE_DEG` (about
1 cm), not by the common one-step approximation, which is off by 1-2 m.

Outside China the offset does not apply: the standard ``out_of_china`` rule
(a point is in China when 73.66 < lon < 135.05 and 3.86 < lat < 53.55, the
bounding box every public implementation uses) leaves such points unchanged. The
rule is a rectangle, so parts of neighbouring countries inside it are shifted too;
this is how the web maps themselves behave.

Every function here is pure and vectorised over numpy arrays (scalars work too).
"""

from __future__ import annotations

import logging
import math
import re
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from planner._errors import CRSError
from planner.crs.metric import check_metric_crs as check_metric_crs
from planner.crs.metric import metric_crs_for as metric_crs_for

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

logger = logging.getLogger("planner")

#: Semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02, metres.
KRASOVSKY_A_M = 6378245.0
#: First eccentricity squared of the Krasovsky 1940 ellipsoid.
KRASOVSKY_EE = 0.00669342162296594323
#: BD-09 rotation constant (x_pi = pi * 3000 / 180).
BD_X_PI = math.pi * 3000.0 / 180.0
#: The ``out_of_china`` rectangle: (lon_min, lat_min, lon_max, lat_max), degrees.
CHINA_BBOX = (73.66, 3.86, 135.05, 53.55)
#: Stop iterating the GCJ-02 inverse when the residual is below this, degrees (~1 cm).
GCJ_INVERSE_TOLERANCE_DEG = 1e-9
#: Safety limit of the inverse iteration; it converges in 3-5 steps.
GCJ_INVERSE_MAX_ITER = 50

#: Accepted ``crs`` declarations for input files, with what they mean.
#: Any ``EPSG:nnnn`` string (geographic or projected) is accepted as well.
INPUT_CRS_NAMES: dict[str, str] = {
    "wgs84": "WGS84 longitude/latitude (EPSG:4326), as GPS, OpenStreetMap and Google Earth",
    "cgcs2000": (
        "CGCS2000 longitude/latitude (EPSG:4490); treated as WGS84, the two agree "
        "to within a few centimetres"
    ),
    "gcj02": "GCJ-02 'Mars' longitude/latitude: Amap (高德), Tencent (腾讯), most nav data",
    "bd09": "BD-09 longitude/latitude: Baidu maps (百度), Lianjia (链家)",
}
#: A (longitude, latitude) pair of float arrays, degrees.
_Pair = tuple["NDArray[np.float64]", "NDArray[np.float64]"]
_EPSG_RE = re.compile(r"^\s*epsg\s*:\s*(\d{4,6})\s*$", re.IGNORECASE)
_OFFSET_KINDS = ("gcj02", "bd09")


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Tell which points lie outside the ``out_of_china`` rectangle.

    Parameters
    ----------
    lon, lat
        Longitude and latitude, degrees.

    Returns
    -------
    numpy.ndarray
        Boolean array, ``True`` where the GCJ-02/BD-09 offsets do not apply.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX
    inside = (x > lon_min) & (x < lon_max) & (y > lat_min) & (y < lat_max)
    return ~inside


def _gcj_delta(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> _Pair:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 points (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    common = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + common * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + common * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    meridian_radius = (KRASOVSKY_A_M * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic)
    dlat = (dlat * 180.0) / (meridian_radius * np.pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A_M / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x.astype(float, copy=True), y.astype(float, copy=True)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 to GCJ-02 (the public forward formula).

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude, degrees (scalars or arrays).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, degrees. Points outside China are unchanged.
    """
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(x, y)
    keep = out_of_china(x, y)
    return np.where(keep, x, x + dlon), np.where(keep, y, y + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 to WGS84 exactly, by fixed-point iteration.

    Starting from the GCJ-02 point, each step moves the estimate by the residual
    ``wgs84_to_gcj02(estimate) - target``; it stops when every residual is below
    :data:`GCJ_INVERSE_TOLERANCE_DEG` (about 1 cm), usually after 3-5 steps.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude, degrees. Points outside China are unchanged.
    """
    gx, gy = _as_arrays(lon, lat)
    wx, wy = gx.copy(), gy.copy()
    for _ in range(GCJ_INVERSE_MAX_ITER):
        fx, fy = wgs84_to_gcj02(wx, wy)
        rx, ry = fx - gx, fy - gy
        wx, wy = wx - rx, wy - ry
        residual = np.nanmax(np.abs(np.concatenate([rx.ravel(), ry.ravel(), [0.0]])))
        if residual < GCJ_INVERSE_TOLERANCE_DEG:
            break
    keep = out_of_china(gx, gy)
    return np.where(keep, gx, wx), np.where(keep, gy, wy)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 (Baidu) to GCJ-02.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, degrees. Points outside China are unchanged.
    """
    bx, by = _as_arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    keep = out_of_china(bx, by)
    return np.where(keep, bx, z * np.cos(theta)), np.where(keep, by, z * np.sin(theta))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude, degrees. Points outside China are unchanged.
    """
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * BD_X_PI)
    keep = out_of_china(x, y)
    return (
        np.where(keep, x, z * np.cos(theta) + 0.0065),
        np.where(keep, y, z * np.sin(theta) + 0.006),
    )


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 to WGS84 through GCJ-02 (exact GCJ-02 inverse).

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude, degrees. Points outside China are unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 to BD-09 through GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude, degrees. Points outside China are unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def parse_declared(declared: str) -> tuple[str, pyproj.CRS | None]:
    """Check a ``crs`` declaration and say what it means.

    Parameters
    ----------
    declared
        One of :data:`INPUT_CRS_NAMES` (case-insensitive, ``-``/``_`` ignored, so
        ``GCJ-02`` works) or ``EPSG:nnnn``.

    Returns
    -------
    tuple
        ``(kind, crs)``: kind is ``"gcj02"`` or ``"bd09"`` (crs is ``None``, the
        coordinates are offset degrees), or ``"epsg"`` with the pyproj CRS
        (``wgs84`` gives EPSG:4326, ``cgcs2000`` EPSG:4490).

    Raises
    ------
    CRSError
        If the declaration is not one of these.
    """
    key = re.sub(r"[\s_\-]", "", str(declared)).lower()
    if key in _OFFSET_KINDS:
        return key, None
    if key == "wgs84":
        return "epsg", pyproj.CRS.from_epsg(4326)
    if key == "cgcs2000":
        return "epsg", pyproj.CRS.from_epsg(4490)
    match = _EPSG_RE.match(str(declared))
    if match:
        try:
            return "epsg", pyproj.CRS.from_epsg(int(match.group(1)))
        except pyproj.exceptions.CRSError as exc:
            msg = (f"Unknown coordinate system {declared!r}: EPSG:{match.group(1)} is not in "
                   "the EPSG register. Check the number (e.g. EPSG:4547 for CGCS2000 "
                   "3-degree Gauss-Kruger zone 38), or use wgs84, cgcs2000, gcj02 or bd09.")
            raise CRSError(msg) from exc
    accepted = ", ".join(INPUT_CRS_NAMES)
    msg = (
        f"Unknown coordinate system {declared!r}. Use one of {accepted}, or 'EPSG:nnnn' "
        "(for example EPSG:4547 for CGCS2000 3-degree Gauss-Kruger zone 38)."
    )
    raise CRSError(msg)


def _transform_offset(
    geoms: gpd.GeoSeries, kind: str
) -> gpd.GeoSeries:
    """Apply the GCJ-02/BD-09 → WGS84 function to every vertex."""
    func = _TO_WGS84[kind]

    def _xy(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    values = shapely.transform(np.asarray(geoms.values), _xy)
    return gpd.GeoSeries(values, index=geoms.index, crs="EPSG:4326")


def _is_wgs84_like(crs: pyproj.CRS) -> bool:
    """EPSG:4326, or CGCS2000 geographic (EPSG:4490), which we treat as WGS84."""
    return crs.equals(pyproj.CRS.from_epsg(4326)) or crs.to_epsg() in (4326, 4490)


def _from_epsg(geoms: gpd.GeoSeries, target: pyproj.CRS, declared: str) -> gpd.GeoSeries:
    """Bring geometries in a real CRS to EPSG:4326 (file CRS wins over the default)."""
    if geoms.crs is None:
        geoms = geoms.set_crs(target)
    elif not geoms.crs.equals(target) and not (
        _is_wgs84_like(geoms.crs) and _is_wgs84_like(target)
    ):
        if declared.strip().lower() != "wgs84":
            msg = (
                f"The data say their coordinate system is {geoms.crs.to_string()} but "
                f"{declared!r} was declared. Remove the declaration or fix the file's CRS."
            )
            raise CRSError(msg)
        logger.info("using the file's own CRS %s", geoms.crs.to_string())
    if _is_wgs84_like(geoms.crs):
        return geoms.set_crs("EPSG:4326", allow_override=True)
    return geoms.to_crs("EPSG:4326")


def to_wgs84(
    data: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[shapely.Geometry], declared: str
) -> gpd.GeoDataFrame:
    """Transform points, lines and polygons from a declared CRS to WGS84.

    Parameters
    ----------
    data
        Geometries: a GeoDataFrame, a GeoSeries or a sequence of shapely geometries.
    declared
        What the coordinates are: a name in :data:`INPUT_CRS_NAMES` or ``EPSG:nnnn``.
        ``gcj02``/``bd09`` transform every vertex with :func:`gcj02_to_wgs84` /
        :func:`bd09_to_wgs84`; the data must then be longitude/latitude degrees (a
        geographic CRS or none). ``cgcs2000`` is relabelled as EPSG:4326 (they agree
        to within centimetres). ``EPSG:nnnn`` is reprojected with pyproj. If the data
        carry their own CRS, it must match the declaration, except that the default
        ``wgs84`` defers to the file's own CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns (a ``geometry`` column for sequence input), EPSG:4326.

    Raises
    ------
    CRSError
        Unknown declaration, or a projected file declared as GCJ-02/BD-09, or a file
        CRS that contradicts the declaration.
    """
    if isinstance(data, gpd.GeoDataFrame):
        frame = data.copy()
    elif isinstance(data, gpd.GeoSeries):
        frame = gpd.GeoDataFrame(geometry=data.copy())
    else:
        frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(list(data)))
    kind, target = parse_declared(declared)
    geoms = frame.geometry
    if kind in _OFFSET_KINDS:
        if geoms.crs is not None and not geoms.crs.is_geographic:
            msg = (
                f"{declared!r} coordinates are longitude/latitude degrees, but the data are "
                f"in the projected {geoms.crs.to_string()}. Declare crs='EPSG:"
                f"{geoms.crs.to_epsg()}' instead."
            )
            raise CRSError(msg)
        new = _transform_offset(geoms, kind)
    else:
        assert target is not None
        new = _from_epsg(geoms, target, declared)
    name = frame.geometry.name
    replaced = gpd.GeoSeries(new.values, index=frame.index, crs="EPSG:4326", name=name)
    return frame.set_geometry(replaced)
