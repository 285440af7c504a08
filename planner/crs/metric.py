"""The metric CRS of a study area: chosen (the UTM zone) or checked (``--metric-crs``)."""

from __future__ import annotations

import numpy as np
import pyproj
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from planner._errors import CRSError


def metric_crs_for(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> pyproj.CRS:
    """Choose the metric CRS of a study area: the WGS84 UTM zone of its centre.

    UTM keeps scale error under 0.04 % across a 6-degree zone, far below what a
    15-minute walk cares about. Users who work in CGCS2000 3-degree Gauss-Krüger
    (EPSG:4534-4554, central meridians 75°E-135°E) can pass ``--metric-crs EPSG:45xx``
    instead; the loaders and the assessment accept any projected CRS in metres.
    The zone comes from the PROJ database (as :meth:`geopandas.GeoSeries.estimate_utm_crs`
    does), so the Norway and Svalbard exceptions are handled too.

    Parameters
    ----------
    lon_min, lat_min, lon_max, lat_max
        WGS84 bounds of the area, degrees.

    Returns
    -------
    pyproj.CRS
        EPSG:326zz (northern hemisphere) or EPSG:327zz (southern), zz the UTM zone.
    """
    values = np.array([lon_min, lat_min, lon_max, lat_max], dtype=float)
    lon_c = (lon_min + lon_max) / 2.0
    lat_c = (lat_min + lat_max) / 2.0
    if not (np.isfinite(values).all() and -180.0 <= lon_c <= 180.0 and -90.0 <= lat_c <= 90.0):
        msg = f"Bounds ({lon_min}, {lat_min}, {lon_max}, {lat_max}) are not longitude/latitude."
        raise CRSError(msg)
    aoi = AreaOfInterest(west_lon_degree=lon_c, south_lat_degree=lat_c,
                         east_lon_degree=lon_c, north_lat_degree=lat_c)
    found = query_utm_crs_info(datum_name="WGS 84", area_of_interest=aoi)
    if not found:  # pragma: no cover - every point on Earth has a UTM zone
        msg = f"No UTM zone found for longitude {lon_c}, latitude {lat_c}."
        raise CRSError(msg)
    return pyproj.CRS.from_epsg(int(found[0].code))


def check_metric_crs(
    value: str | pyproj.CRS,
    bounds: tuple[float, float, float, float] | None = None,
    *,
    option: str = "metric_crs",
) -> pyproj.CRS:
    """Check a CRS to work in: projected, in metres, and made for the district.

    A geographic CRS (EPSG:4326) would measure in degrees (a 0 km network), Web
    Mercator (EPSG:3857) stretches distances by 1/cos(latitude) (26 % at 37°N), and a
    UTM zone on the other side of the world distorts beyond use: all three are
    refused, never used silently.

    Parameters
    ----------
    value
        What the user gave (``EPSG:4546``, a WKT, a pyproj CRS).
    bounds
        WGS84 ``(lon_min, lat_min, lon_max, lat_max)`` of the district, to check the
        CRS's area of use; ``None`` skips that check.
    option
        How to name the setting in messages (``--metric-crs`` from the CLI).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        Naming the setting, the value and a CRS that would work.
    """
    try:
        crs = pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        msg = (f"{option} {value!r} is not a coordinate system. Give a projected CRS in "
               "metres, e.g. EPSG:4546 (CGCS2000 Gauss-Krüger) or leave it out to use the "
               "network's UTM zone.")
        raise CRSError(msg) from exc
    hint = _suggestion(bounds)
    if not crs.is_projected:
        msg = (f"{option} {value!r} ({crs.name}) is geographic: distances would be in "
               f"degrees. Give a projected CRS in metres{hint}.")
        raise CRSError(msg)
    units = {(a.unit_name or "").lower() for a in crs.axis_info}
    if not units <= {"metre", "meter", "metres", "meters"}:
        msg = (f"{option} {value!r} ({crs.name}) measures in {', '.join(sorted(units))}, "
               f"not metres. Give a projected CRS in metres{hint}.")
        raise CRSError(msg)
    method = (crs.coordinate_operation.method_name.lower()
              if crs.coordinate_operation is not None else "")
    if "pseudo mercator" in method or "popular visualisation" in method:
        msg = (f"{option} {value!r} ({crs.name}) is Web Mercator, which stretches distances "
               f"by 1/cos(latitude) (26 % at 37°N). Give a conformal local CRS{hint}.")
        raise CRSError(msg)
    if bounds is not None and crs.area_of_use is not None:
        _check_area_of_use(crs, bounds, value, option, hint)
    return crs


def _suggestion(bounds: tuple[float, float, float, float] | None) -> str:
    if bounds is None:
        return ", e.g. EPSG:4546, or leave it out (the network's UTM zone is used)"
    try:
        utm = metric_crs_for(*bounds)
    except CRSError:
        return ""
    return f", e.g. EPSG:{utm.to_epsg()} ({utm.name}), or leave it out"


def _check_area_of_use(crs: pyproj.CRS, bounds: tuple[float, float, float, float],
                       value: object, option: str, hint: str) -> None:
    """Refuse a CRS whose area of use is far from the district (more than 3° away)."""
    area = crs.area_of_use
    assert area is not None
    lon_c = (bounds[0] + bounds[2]) / 2.0
    lat_c = (bounds[1] + bounds[3]) / 2.0
    margin = 3.0  # degrees: a neighbouring Gauss-Krüger zone is still fine
    inside = (area.west - margin <= lon_c <= area.east + margin
              and area.south - margin <= lat_c <= area.north + margin)
    if not inside:
        msg = (f"{option} {value!r} ({crs.name}) is made for longitude {area.west:g} to "
               f"{area.east:g}, latitude {area.south:g} to {area.north:g}, but the district "
               f"is at longitude {lon_c:.2f}, latitude {lat_c:.2f}: distances would be "
               f"distorted. Give a CRS for the district{hint}.")
        raise CRSError(msg)
