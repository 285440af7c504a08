"""Elevations along every edge, from a DEM (GeoTIFF or any raster GDAL reads).

Each edge is cut into equal segments no longer than the station spacing (10 m by
default) and the DEM is read, bilinearly, at every station: a long street over a hill
pays for the hill even when both its ends lie at the same height. The DEM may be in any
CRS; stations are transformed into it. Only the window of the DEM that covers the
network is read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyproj

from planner._errors import InputError
from planner.reach import CompiledNetwork

if TYPE_CHECKING:
    import rasterio.io

log = logging.getLogger("planner")

#: Default spacing of elevation stations along an edge (metres).
STATION_SPACING_M = 10.0
#: Stop with an error when more of the stations than this fall outside the DEM.
MAX_MISSING_SHARE = 0.5


@dataclass(frozen=True)
class EdgeElevations:
    """Heights at evenly spaced stations along every edge.

    Attributes
    ----------
    offsets
        Edge ``e``'s stations are ``offsets[e]:offsets[e + 1]``; ``n_segments + 1`` each.
    segment_m
        Horizontal length of one segment of each edge (metres).
    z_m
        Elevation at each station (metres); stations outside the DEM or on its nodata
        take the nearest known height on their edge (flat when the edge has none).
    missing
        Number of stations that had no DEM value.
    """

    offsets: np.ndarray
    segment_m: np.ndarray
    z_m: np.ndarray
    missing: int = 0

    @property
    def n_stations(self) -> int:
        """Number of stations over all edges."""
        return len(self.z_m)


def edge_stations(
    net: CompiledNetwork, *, spacing_m: float = STATION_SPACING_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stations every ``spacing_m`` metres (or less) along each edge, ends included.

    Returns
    -------
    tuple of numpy.ndarray
        ``(offsets, segment_m, xy)``: per-edge station offsets (``m + 1``), segment length
        per edge (metres) and station coordinates ``(k, 2)`` in the network's CRS.
    """
    length = net.edge_length
    n_seg = np.maximum(1, np.ceil(length / spacing_m - 1e-9)).astype(np.int64)
    segment = np.where(length > 0, length / n_seg, 1.0)
    offsets = np.zeros(len(length) + 1, dtype=np.int64)
    np.cumsum(n_seg + 1, out=offsets[1:])
    edge = np.repeat(np.arange(len(length)), n_seg + 1)
    k = np.arange(offsets[-1]) - offsets[edge]
    along = np.minimum(k * segment[edge], length[edge])
    return offsets, segment, _interpolate(net, edge, along)


def _interpolate(net: CompiledNetwork, edge: np.ndarray, along: np.ndarray) -> np.ndarray:
    """Points ``along`` metres from ``u`` on each edge, from the stacked vertices (vectorised).

    Edges are laid end to end on one line, 1 m apart, so a single ``np.interp`` over the
    vertices' positions on that line finds every point.
    """
    coords = net.edge_coords
    counts = np.diff(net.edge_offsets)
    owner = np.repeat(np.arange(net.n_edges), counts)
    step = np.zeros(len(coords))
    step[1:] = np.hypot(*(coords[1:] - coords[:-1]).T)
    starts = net.edge_offsets[:-1][counts > 0]
    step[starts] = 0.0  # each edge starts afresh
    cum = np.cumsum(step)
    local = cum - cum[net.edge_offsets[:-1][owner]]
    base = np.zeros(net.n_edges)
    np.cumsum(net.edge_length[:-1] + 1.0, out=base[1:])
    key = base[owner] + local
    query = base[edge] + along
    return np.c_[np.interp(query, key, coords[:, 0]), np.interp(query, key, coords[:, 1])]


def read_dem_at(path: str | Path, xy: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Bilinear DEM heights at points (NaN outside the DEM or on nodata).

    Parameters
    ----------
    path
        A single-band raster of heights in metres (GeoTIFF...), any CRS.
    xy
        Points ``(k, 2)`` in ``crs``.
    crs
        CRS of the points (the network's metric CRS).

    Raises
    ------
    InputError
        The file is missing, unreadable, or has no CRS.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: DEM file not found. Give a GeoTIFF of heights in metres (--dem)."
        raise InputError(msg)
    import rasterio  # noqa: PLC0415  (only with --dem: keeps planner run's start-up short)
    from rasterio.errors import RasterioIOError  # noqa: PLC0415

    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        msg = f"{path}: cannot read as a raster ({exc}). Give a GeoTIFF of heights in metres."
        raise InputError(msg) from exc
    with src:
        if src.crs is None:
            msg = (f"{path}: the DEM has no coordinate system. Save it as a GeoTIFF with its "
                   "CRS (e.g. gdal_translate -a_srs EPSG:4326).")
            raise InputError(msg)
        to_dem = pyproj.Transformer.from_crs(crs, pyproj.CRS.from_user_input(src.crs),
                                             always_xy=True)
        px, py = to_dem.transform(xy[:, 0], xy[:, 1]) if len(xy) else (xy[:, 0], xy[:, 1])
        return _bilinear(src, np.asarray(px), np.asarray(py))


def _bilinear(src: rasterio.io.DatasetReader, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear interpolation between pixel centres; NaN outside or next to nodata."""
    out = np.full(len(x), np.nan)
    inv = ~src.transform
    col = inv.a * x + inv.b * y + inv.c - 0.5  # on the grid of pixel centres
    row = inv.d * x + inv.e * y + inv.f - 0.5
    inside = (col >= -0.5) & (row >= -0.5) & (col <= src.width - 0.5) & (row <= src.height - 0.5)
    if not inside.any():
        return out
    c0 = int(max(0, np.floor(col[inside].min()) - 1))
    r0 = int(max(0, np.floor(row[inside].min()) - 1))
    c1 = int(min(src.width, np.ceil(col[inside].max()) + 2))
    r1 = int(min(src.height, np.ceil(row[inside].max()) + 2))
    import rasterio.windows  # noqa: PLC0415

    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    band = src.read(1, window=window, masked=True)
    z = np.ma.filled(band.astype(float), np.nan)
    cc = np.clip(col[inside] - c0, 0, z.shape[1] - 1)
    rr = np.clip(row[inside] - r0, 0, z.shape[0] - 1)
    i0 = np.minimum(np.floor(cc).astype(np.int64), max(z.shape[1] - 2, 0))
    j0 = np.minimum(np.floor(rr).astype(np.int64), max(z.shape[0] - 2, 0))
    i1 = np.minimum(i0 + 1, z.shape[1] - 1)
    j1 = np.minimum(j0 + 1, z.shape[0] - 1)
    fx, fy = cc - i0, rr - j0
    top = z[j0, i0] * (1 - fx) + z[j0, i1] * fx
    bottom = z[j1, i0] * (1 - fx) + z[j1, i1] * fx
    out[inside] = top * (1 - fy) + bottom * fy
    return out


def sample_edges(
    net: CompiledNetwork, dem: str | Path, *, spacing_m: float = STATION_SPACING_M
) -> EdgeElevations:
    """Elevations at stations along every edge of the network.

    Parameters
    ----------
    net
        The compiled network (metric CRS).
    dem
        Raster of heights in metres, any CRS.
    spacing_m
        Largest distance between stations (metres).

    Raises
    ------
    InputError
        More than half of the stations fall outside the DEM or on its nodata (the DEM
        does not cover the network).
    """
    offsets, segment, xy = edge_stations(net, spacing_m=spacing_m)
    z = read_dem_at(dem, xy, net.pyproj_crs)
    missing = int(np.isnan(z).sum())
    if len(z) and missing > MAX_MISSING_SHARE * len(z):
        msg = (f"{dem}: {missing:,} of {len(z):,} points along the roads fall outside the DEM "
               "or on its nodata. Give a DEM that covers the network.")
        raise InputError(msg)
    if missing:
        log.info("DEM: %s of %s stations had no height; filled from their edge",
                 f"{missing:,}", f"{len(z):,}")
        z = _fill_along_edges(z, offsets)
    return EdgeElevations(offsets, segment, z, missing)


def _fill_along_edges(z: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Fill NaN stations with the nearest earlier known height on the edge, else later, else 0."""
    z = z.copy()
    n = len(z)
    edge = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    known = ~np.isnan(z)
    idx = np.where(known, np.arange(n), -1)
    last = np.maximum.accumulate(idx)  # last known station so far (any edge)
    ok = (last >= 0) & (edge[np.maximum(last, 0)] == edge)
    z[~known & ok] = z[last[~known & ok]]
    rev = np.where(known, np.arange(n), n)
    nxt = np.minimum.accumulate(rev[::-1])[::-1]
    ok2 = np.isnan(z) & (nxt < n) & (edge[np.minimum(nxt, n - 1)] == edge)
    z[ok2] = z[nxt[ok2]]
    z[np.isnan(z)] = 0.0
    return z
