"""Rasters in and out: population grids for missing households, minutes surfaces.

* :mod:`planner.rasters.population`: exact zonal sums of a population raster over
  community polygons (``exactextract``) to estimate residents and households where the
  community table has none, every estimate flagged.
* :mod:`planner.rasters.surface`: minutes to the nearest facility (overall and per kind)
  from network distances, as a GeoTIFF for GIS users; the cell size is a parameter.
"""

from __future__ import annotations

from planner.rasters.population import (
    DEFAULT_ELDERLY_SHARE,
    DEFAULT_HOUSEHOLD_SIZE,
    estimate_households,
    zonal_sums,
)
from planner.rasters.surface import NODATA, cell_grid, minutes_surface, write_minutes_raster

__all__ = [
    "DEFAULT_ELDERLY_SHARE",
    "DEFAULT_HOUSEHOLD_SIZE",
    "NODATA",
    "cell_grid",
    "estimate_households",
    "minutes_surface",
    "write_minutes_raster",
    "zonal_sums",
]
