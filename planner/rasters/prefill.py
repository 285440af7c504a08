"""Households for the communities whose row has none, before the table is read.

The community reader rejects a row without households (it cannot be assessed). With a
population raster, such a row of a *polygon* layer can be kept: :func:`prefill_households`
writes a copy of the layer in which the missing households are estimated (exact zonal sum
of residents over the polygon / household size, :func:`estimate_households`), and says
which communities were estimated so the run can mark them. The copy goes to a folder
the caller owns (a temporary one); the user's file is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from planner._errors import InputError
from planner.crs import to_wgs84
from planner.io import COMMUNITY_ALIASES, normalise_header
from planner.rasters.population import (
    DEFAULT_ELDERLY_SHARE,
    DEFAULT_HOUSEHOLD_SIZE,
    _raster_crs,
    households_from_residents,
    zonal_sums,
)

#: File types that can hold community polygons.
POLYGON_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")


@dataclass(frozen=True)
class Prefilled:
    """A copy of the communities layer with estimated households.

    Attributes
    ----------
    path
        The copy (GeoPackage, layer ``communities``), or the original file when no row
        lacked households.
    estimated_ids
        ``community_id`` of every row whose households were estimated (as text).
    """

    path: Path
    estimated_ids: frozenset[str]


def _column(frame: pd.DataFrame, canonical: str) -> str | None:
    """The column of ``frame`` that the reader maps to ``canonical`` (aliases applied)."""
    for col in frame.columns:
        norm = normalise_header(col)
        if COMMUNITY_ALIASES.get(norm, norm) == canonical:
            return col
    return None


def _missing(values: pd.Series) -> np.ndarray:
    """Rows with no number (NaN, empty text)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return (numbers.isna() & values.map(lambda v: v is None or str(v).strip() in
                                         ("", "nan", "None", "-", "—"))).to_numpy()


def prefill_households(
    communities: str | Path,
    population: str | Path,
    folder: str | Path,
    *,
    crs: str = "wgs84",
    layer: str | None = None,
    household_size: float = DEFAULT_HOUSEHOLD_SIZE,
) -> Prefilled:
    """Estimate missing households of a polygon layer into a copy written in ``folder``.

    Parameters
    ----------
    communities
        The communities file (a polygon layer: GeoPackage, Shapefile, GeoJSON...).
    population
        Raster of residents per cell.
    folder
        Where the copy is written (the caller's temporary folder).
    crs
        Declared CRS of the layer (GCJ-02 and BD-09 are converted before the sums).
    layer
        Layer of a multi-layer file.
    household_size
        Residents per household.

    Raises
    ------
    InputError
        A row lacks households but the file holds no polygons to sum over.
    """
    path = Path(communities)
    if not path.name.lower().endswith(POLYGON_SUFFIXES):
        return Prefilled(path, frozenset())
    frame = gpd.read_file(path, layer=layer)
    hh_col, id_col = _column(frame, "households"), _column(frame, "community_id")
    if hh_col is None or id_col is None:
        return Prefilled(path, frozenset())  # the reader names the missing column
    todo = _missing(frame[hh_col])
    if not todo.any():
        return Prefilled(path, frozenset())
    geoms = frame.geometry[todo]
    areal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not areal.all():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(todo)[~areal][:5])
        msg = (f"{path}: feature(s) {rows} have no households and no polygon; --population "
               "can only estimate households over a community's area. Give households.")
        raise InputError(msg)
    sub = frame[todo]
    if sub.crs is None or not sub.crs.is_projected:
        sub = to_wgs84(sub.set_crs(4326, allow_override=True), crs)
    residents = zonal_sums(population, sub.geometry)
    households = households_from_residents(residents, household_size)
    out = frame.copy()
    out[hh_col] = pd.to_numeric(out[hh_col], errors="coerce")
    out.loc[todo, hh_col] = households
    target = Path(folder) / "communities_prefilled.gpkg"
    out.to_file(target, layer="communities", driver="GPKG", engine="pyogrio")
    ids = frozenset(str(v).strip() for v in frame.loc[todo, id_col])
    return Prefilled(target, ids)


#: Refuse to turn more raster cells than this into communities (use a coarser raster).
MAX_GRID_COMMUNITIES = 200_000


def grid_communities(
    population: str | Path,
    *,
    household_size: float = DEFAULT_HOUSEHOLD_SIZE,
    elderly_share: float = DEFAULT_ELDERLY_SHARE,
    min_residents: float = 1.0,
) -> gpd.GeoDataFrame:
    """Cells of a population raster as communities, where no community table exists.

    Every cell with at least ``min_residents`` people becomes a square "community"
    (``community_id`` ``cell_<row>_<col>``) whose residents are the cell's value,
    households residents / ``household_size`` (at least 1) and elderly residents ×
    ``elderly_share``; all three are estimates.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id, households, residents, elderly, geometry`` (cell polygons, in the
        raster's CRS).

    Raises
    ------
    InputError
        More than :data:`MAX_GRID_COMMUNITIES` cells hold people.
    """
    path = Path(population)
    crs = _raster_crs(path)
    with rasterio.open(path) as src:
        band = src.read(1, masked=True)
        transform = src.transform
    people = np.ma.filled(band.astype(float), 0.0)
    rows, cols = np.nonzero(people >= min_residents)
    if len(rows) > MAX_GRID_COMMUNITIES:
        msg = (f"{path}: {len(rows):,} cells hold people, more than {MAX_GRID_COMMUNITIES:,} "
               "demand points; resample the raster to larger cells (e.g. gdalwarp -tr 500 "
               "500 -r sum) or give a community table.")
        raise InputError(msg)
    x0 = transform.c + cols * transform.a + rows * transform.b
    y0 = transform.f + cols * transform.d + rows * transform.e
    x1, y1 = x0 + transform.a + transform.b, y0 + transform.d + transform.e
    boxes = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1),
                        np.maximum(y0, y1))
    residents = people[rows, cols]
    return gpd.GeoDataFrame(
        {"community_id": [f"cell_{r}_{c}" for r, c in zip(rows, cols, strict=True)],
         "households": np.maximum(1, np.round(residents / household_size)).astype(np.int64),
         "residents": residents, "elderly": residents * elderly_share},
        geometry=boxes, crs=crs)


def prefill_grid(population: str | Path, folder: str | Path, *,
                 household_size: float = DEFAULT_HOUSEHOLD_SIZE) -> Prefilled:
    """Write :func:`grid_communities` as a GeoPackage in ``folder`` (all rows estimated)."""
    grid = grid_communities(population, household_size=household_size)
    target = Path(folder) / "communities_from_population.gpkg"
    grid.to_file(target, layer="communities", driver="GPKG", engine="pyogrio")
    return Prefilled(target, frozenset(grid["community_id"]))
