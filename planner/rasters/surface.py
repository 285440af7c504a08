"""Minutes to the nearest facility as a GeoTIFF surface, from network distances.

GIS users want a raster they can overlay: every cell holds the walking minutes from the
cell's centre to the nearest facility (band 1) and to the nearest of each kind (one band
per kind, named in the band description). The minutes are network minutes, computed by
the reach engine exactly as for communities: the centre walks straight to its nearest
street (within the snapping distance), then along the network (on a terrain network,
uphill and downhill differ). Cells farther than the snapping distance from every road,
or beyond the search limit, are nodata.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine

from planner._errors import InputError
from planner.reach import CompiledNetwork, build_reach_graph, nearest_facility, snap_points

log = logging.getLogger("planner")

#: Value of cells with no minutes (off the network or beyond the limit).
NODATA = -1.0
#: Refuse grids larger than this many cells (a typo in the cell size).
MAX_CELLS = 25_000_000


def cell_grid(bounds: tuple[float, float, float, float], cell_m: float) -> tuple[Affine, int, int]:
    """Grid aligned on multiples of ``cell_m`` covering ``bounds`` (minx, miny, maxx, maxy).

    Returns ``(transform, width, height)``; the transform is north-up.
    """
    if not cell_m > 0:
        msg = f"cell size {cell_m} m: give a positive number of metres (--cell-size)."
        raise InputError(msg)
    x0 = np.floor(bounds[0] / cell_m) * cell_m
    y0 = np.floor(bounds[1] / cell_m) * cell_m
    x1 = np.ceil(bounds[2] / cell_m) * cell_m
    y1 = np.ceil(bounds[3] / cell_m) * cell_m
    width = max(1, round((x1 - x0) / cell_m))
    height = max(1, round((y1 - y0) / cell_m))
    if width * height > MAX_CELLS:
        msg = (f"a {cell_m} m grid over the network has {width * height:,} cells "
               f"(more than {MAX_CELLS:,}); choose a larger cell size.")
        raise InputError(msg)
    return Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1), width, height


def minutes_surface(
    net: CompiledNetwork,
    facility_points: np.ndarray,
    kinds: np.ndarray,
    *,
    cell_m: float,
    speed_m_s: float,
    snap_max_m: float = 150.0,
    limit_minutes: float = 60.0,
) -> tuple[np.ndarray, list[str], Affine]:
    """Minutes from every cell centre to the nearest facility, overall and per kind.

    Parameters
    ----------
    net
        The compiled network (with terrain costs, if any), metric CRS.
    facility_points
        Facility points (shapely) in the network's CRS.
    kinds
        Kind of each facility.
    cell_m
        Cell size (metres).
    speed_m_s
        Flat walking speed (m/s): minutes = metres / (60 × speed).
    snap_max_m
        Cells farther than this from every street are nodata.
    limit_minutes
        Search limit; farther is nodata.

    Returns
    -------
    tuple
        ``(bands, names, transform)``: ``bands`` has shape ``(1 + kinds, height, width)``
        (``NODATA`` where unknown), ``names`` are ``"all"`` and the kinds.
    """
    xs, ys = net.node_x, net.node_y
    transform, width, height = cell_grid((xs.min(), ys.min(), xs.max(), ys.max()), cell_m)
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    cx = transform.c + (cols.ravel() + 0.5) * cell_m
    cy = transform.f - (rows.ravel() + 0.5) * cell_m
    centres = shapely.points(cx, cy)
    fac = snap_points(net, np.asarray(facility_points, dtype=object), max_m=snap_max_m)
    cells = snap_points(net, centres, max_m=snap_max_m)
    rg = build_reach_graph(net, fac, cells, len(centres))
    limit_m = limit_minutes * 60.0 * speed_m_s
    kinds = np.asarray(kinds).astype(str)
    names = ["all", *sorted(set(kinds))]
    bands = np.full((len(names), height, width), NODATA, dtype="float32")
    for b, name in enumerate(names):
        which = np.arange(len(kinds)) if name == "all" else np.flatnonzero(kinds == name)
        metres, _ = nearest_facility(rg, which, limit_m=limit_m)
        minutes = metres / (60.0 * speed_m_s)
        band = np.where(np.isfinite(minutes), minutes, NODATA).astype("float32")
        bands[b] = band.reshape(height, width)
    return bands, names, transform


def write_minutes_raster(
    path: str | Path, bands: np.ndarray, names: list[str], transform: Affine, crs: str,
) -> Path:
    """Write the bands as a compressed float32 GeoTIFF (band descriptions = names).

    The file is written next to ``path`` first and moved into place, so a half-written
    raster never has the final name. An existing file the planner did not write (not a
    GeoTIFF whose first band is called ``all``) is not overwritten.
    """
    path = Path(path)
    if path.exists() and not _is_ours(path):
        msg = (f"{path}: exists and was not written by planner; choose another file name "
               "for --minutes-raster.")
        raise InputError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.tif")
    profile = {"driver": "GTiff", "width": bands.shape[2], "height": bands.shape[1],
               "count": bands.shape[0], "dtype": "float32", "crs": crs,
               "transform": transform, "nodata": NODATA, "compress": "deflate"}
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(bands)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, f"minutes_to_nearest_{name}")
        dst.update_tags(units="minutes", source="planner network distances")
    tmp.replace(path)
    log.info("minutes raster: %s (%s x %s cells, %s bands)", path, bands.shape[2],
             bands.shape[1], bands.shape[0])
    return path


def _is_ours(path: Path) -> bool:
    """The file is a minutes raster planner wrote (its first band is named so)."""
    try:
        with rasterio.open(path) as src:
            return (src.descriptions or (None,))[0] == "minutes_to_nearest_all"
    except rasterio.errors.RasterioIOError:
        return False
