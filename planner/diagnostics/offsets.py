"""Coordinates that look offset: GCJ-02 or BD-09 declared as WGS84, or the other way round.

Chinese web maps publish GCJ-02 (Amap, Tencent) or BD-09 (Baidu) coordinates, a few
hundred metres off WGS84 and OpenStreetMap, consistently. The median distance of a
layer's points to the nearest edge is compared with the same after the other possible
readings of the file's numbers (and, for bureau road lines declared as WGS84, with the
road network itself offset); a reading that brings the points clearly closer to the
streets is reported with the option to rerun with. See :func:`check_offsets`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from planner import crs as _crs

if TYPE_CHECKING:
    from planner.network.store import CompiledNetwork

log = logging.getLogger("planner")

#: The CLI option that declares each layer's coordinates.
CRS_OPTIONS = {"communities": "--communities-crs", "facilities": "--facilities-crs",
               "gates": "--communities-crs", "network": "--network-crs"}
#: Fewest points for the offset check (a median of two points says nothing).
OFFSET_MIN_POINTS = 3
#: A conversion is suggested when it divides the median distance to the road by at
#: least this factor …
OFFSET_MIN_RATIO = 2.0
#: … and shortens it by at least this much (metres) …
OFFSET_MIN_GAIN_M = 20.0
#: … and either leaves the points on the streets (converted median at most this, metres:
#: in a dense grid a 500 m shift lands near other streets, so an unconverted median is
#: only 30–60 m, e.g. 36 m → 0 m on central Shanghai) or gains at least
#: :data:`OFFSET_CLEAR_GAIN_M` (a sparse network: 300–700 m off).
OFFSET_ON_STREET_M = 30.0
OFFSET_CLEAR_GAIN_M = 100.0
#: The medians are taken over at most this many points of a layer (a fixed random
#: sample, the same for every reading): the median of 1,000 points is within about a
#: metre of the whole layer's (typical spread of distances to the road), far inside the
#: margins above, and a city's 30,000 gates are checked in a thirtieth of the time.
#: Smaller layers use every point.
OFFSET_SAMPLE_POINTS = 1_000

#: How each interpretation of the coordinates is converted to WGS84 (and back).
_TO_WGS84 = {"wgs84": None, "gcj02": _crs.gcj02_to_wgs84, "bd09": _crs.bd09_to_wgs84}
_FROM_WGS84 = {"wgs84": None, "gcj02": _crs.wgs84_to_gcj02, "bd09": _crs.wgs84_to_bd09}
_LABELS = {"wgs84": "WGS84 (GPS, OpenStreetMap)", "gcj02": "GCJ-02 (Amap/Tencent)",
           "bd09": "BD-09 (Baidu)"}

def _metric(lon: np.ndarray, lat: np.ndarray, to_metric: pyproj.Transformer) -> np.ndarray:
    x, y = to_metric.transform(lon, lat)
    return shapely.points(np.column_stack([x, y]))


def median_road_distance(net: CompiledNetwork, points: np.ndarray) -> float:
    """Median distance (metres) from points (metric CRS) to the nearest network edge."""
    _, dist = net.tree.query_nearest(points, return_distance=True, all_matches=False)
    return float(np.median(dist))


def _sample_lonlat(points: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of the points, or of :data:`OFFSET_SAMPLE_POINTS` of them.

    The sample is drawn with a fixed seed, so a rerun gives the same notes.
    """
    lon, lat = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    if len(lon) > OFFSET_SAMPLE_POINTS:
        pick = np.sort(np.random.default_rng(0).choice(len(lon), OFFSET_SAMPLE_POINTS,
                                                       replace=False))
        lon, lat = lon[pick], lat[pick]
    return lon, lat


def _declared_kind(declared: str) -> str | None:
    """``wgs84``, ``gcj02`` or ``bd09`` for declarations the offset check understands."""
    kind, target = _crs.parse_declared(declared)
    if kind in ("gcj02", "bd09"):
        return kind
    if target is not None and target.to_epsg() in (4326, 4490):
        return "wgs84"  # CGCS2000 and WGS84 differ by centimetres
    return None


def offset_distances(net: CompiledNetwork, layer_wgs84: gpd.GeoDataFrame,
                     declared: str, *, readings: tuple[str, ...] | None = None,
                     ) -> dict[str, float] | None:
    """Median distance to the road of a layer's points under each reading of its coordinates.

    Parameters
    ----------
    net
        The compiled network.
    layer_wgs84
        The layer as loaded (EPSG:4326, already converted from ``declared``).
    declared
        What the file's coordinates were declared as.
    readings
        Only these readings (default all three).

    Returns
    -------
    dict or None
        ``{"wgs84": m, "gcj02": m, "bd09": m}``: the median distance if the file's
        numbers were each of these; ``None`` for polygons, too few points, or a
        projected declaration.
    """
    kind = _declared_kind(declared)
    points = layer_wgs84[layer_wgs84.geom_type == "Point"]
    if kind is None or len(points) < OFFSET_MIN_POINTS or len(points) < 0.5 * len(layer_wgs84):
        return None
    lon, lat = _sample_lonlat(points)
    forward = _FROM_WGS84[kind]
    raw_lon, raw_lat = forward(lon, lat) if forward else (lon, lat)  # the file's numbers
    to_metric = pyproj.Transformer.from_crs(4326, net.pyproj_crs, always_xy=True)
    out = {}
    for reading, convert in _TO_WGS84.items():
        if readings is not None and reading not in readings:
            continue
        x, y = convert(raw_lon, raw_lat) if convert else (raw_lon, raw_lat)
        out[reading] = median_road_distance(net, _metric(np.asarray(x), np.asarray(y),
                                                         to_metric))
    return out


def _network_offsets(net: CompiledNetwork, layer_wgs84: gpd.GeoDataFrame) -> dict[str, float]:
    """Median distance to the road if the *network* were GCJ-02 or BD-09 (layer as loaded)."""
    lon, lat = _sample_lonlat(layer_wgs84[layer_wgs84.geom_type == "Point"])
    to_metric = pyproj.Transformer.from_crs(4326, net.pyproj_crs, always_xy=True)
    out = {}
    forward = {"gcj02": _crs.wgs84_to_gcj02, "bd09": _crs.wgs84_to_bd09}
    for kind, convert in forward.items():
        x, y = convert(lon, lat)
        out[f"network_{kind}"] = median_road_distance(net, _metric(np.asarray(x), np.asarray(y),
                                                                   to_metric))
    return out


def check_offsets(net: CompiledNetwork, layer_wgs84: gpd.GeoDataFrame, *, role: str,
                  path: Path, declared: str, network_may_be_offset: bool = False) -> list[str]:
    """Warn when another reading of the coordinates puts the points on the streets.

    Parameters
    ----------
    network_may_be_offset
        The network is a road-line file declared as WGS84, so it may itself be GCJ-02 or
        BD-09 (bureau road data often is; OpenStreetMap never): the note then names
        ``--network-crs`` too.

    Returns
    -------
    list of str
        One note (also logged as a warning) naming the likely coordinate system and the
        option to rerun with, or nothing.
    """
    if net.n_edges == 0:
        return []
    kind = _declared_kind(declared)
    # no other reading can gain OFFSET_MIN_GAIN_M on points already that close to the
    # streets (a median is never below 0): the usual, correctly declared case stops here
    first = offset_distances(net, layer_wgs84, declared, readings=(kind,)) if kind else None
    if first is None or first[kind] < OFFSET_MIN_GAIN_M:  # type: ignore[index]
        return []
    medians = offset_distances(net, layer_wgs84, declared)
    if medians is None:
        return []
    if network_may_be_offset:
        medians.update(_network_offsets(net, layer_wgs84))
    now = medians[kind]  # type: ignore[index]
    best = min((k for k in medians if k != kind), key=lambda k: medians[k])
    then = medians[best]
    gain = now - then
    clear = (then * OFFSET_MIN_RATIO <= now and gain >= OFFSET_MIN_GAIN_M
             and (then <= OFFSET_ON_STREET_M or gain >= OFFSET_CLEAR_GAIN_M))
    log.debug("%s: median distance to road %.0f m as %s; %s", path.name, now, kind,
              ", ".join(f"{k} {v:.0f} m" for k, v in medians.items()))
    if not clear:
        return []
    network_kind = best.removeprefix("network_") if best.startswith("network_") else (
        kind if network_may_be_offset and best == "wgs84" and kind in ("gcj02", "bd09")
        else None)
    if network_kind is not None:
        note = (f"{path.name}: its points are {now:.0f} m (median) from the roads as declared "
                f"({declared}), {then:.0f} m if the road network were {_LABELS[network_kind]}: "
                f"the road network looks like {network_kind} declared as wgs84; rerun with "
                f"--network-crs {network_kind} (or, if these points are really WGS84, with "
                f"{CRS_OPTIONS[role]} wgs84)")
    else:
        note = (f"{path.name} looks like {_LABELS[best]} coordinates declared as {declared}: "
                f"median distance to the nearest road {now:.0f} m, {then:.0f} m if converted; "
                f"rerun with {CRS_OPTIONS[role]} {best}")
    log.warning(note)
    return [note]
