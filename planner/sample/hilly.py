"""The hilly variant of the sample district: a river town on steep banks, like Wanzhou.

The same district as :func:`planner.sample.write_sample` (same seed, same layers), plus:

* ``dem.tif``: heights in metres on a 10 m grid (EPSG:32649) with a **known slope
  field**. Both banks rise from the river's centre line (height
  :data:`RIVER_LEVEL_M`): by :data:`STEEP_GRADE` (12 %) over the first
  :data:`STEEP_BAND_M` metres (the riverside roads and the blocks behind them) and by
  :data:`GENTLE_GRADE` (4 %) beyond, with a riverside scarp just inland of each
  riverside road, :data:`SCARP_WIDTH_M` wide from :data:`SCARP_FROM_M`, where the grade
  is 60 %. Heights depend on the distance from the river line only, so a street's grade
  is the field's grade times the cosine of its angle to the fall line: north–south
  streets climb the full grade, east–west streets are level.
* ``roads.gpkg`` gains a ``highway`` column (OSM values by road class), and up to
  :data:`N_STAIRS` north–south streets crossing a scarp are cut at its foot and top, the
  piece on the scarp becoming ``highway=steps`` (梯道): on a 60 % scarp stairs are
  quicker than the street, so ``--no-steps`` (wheelchair, walker) lengthens the walks
  that used them.
* ``population.tif``: residents per 10 m cell (EPSG:32649), each community's
  ``residents`` spread evenly over its polygon, so the raster sums to the communities'
  residents and its zonal sums over the polygons give them back (up to the cells
  shared by neighbouring communities).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from exactextract import exact_extract
from pyproj import Transformer

from planner.notes import SYNTHETIC_MARKER
from planner.sample.layout import METRIC_CRS
from planner.sample.writer import write_sample

log = logging.getLogger("planner.sample")

#: Height of the river's centre line (metres above sea level, Wanzhou's Yangtze ~ 175 m).
RIVER_LEVEL_M = 175.0
#: Grade of the banks within STEEP_BAND_M of the river line, and beyond.
STEEP_GRADE = 0.12
GENTLE_GRADE = 0.04
STEEP_BAND_M = 500.0
#: The riverside scarp: from this distance from the river line, this wide, 60 % in all.
SCARP_FROM_M = 160.0
SCARP_WIDTH_M = 25.0
SCARP_EXTRA_GRADE = 0.48
#: DEM and population cell sizes (metres).
DEM_CELL_M = 10.0
POPULATION_CELL_M = 10.0
#: Most lanes turned into stairs.
N_STAIRS = 8
#: OSM ``highway`` of each sample road class.
HIGHWAY_OF_CLASS = {"lane": "footway", "street": "residential", "main": "primary",
                    "bridge": "primary", "estate_road": "service"}


def bank_height(distance_m: np.ndarray) -> np.ndarray:
    """Height (metres) at a distance from the river's centre line (metres, >= 0)."""
    d = np.asarray(distance_m, dtype=float)
    return (RIVER_LEVEL_M + STEEP_GRADE * np.minimum(d, STEEP_BAND_M)
            + GENTLE_GRADE * np.maximum(d - STEEP_BAND_M, 0.0)
            + SCARP_EXTRA_GRADE * np.clip(d - SCARP_FROM_M, 0.0, SCARP_WIDTH_M))


def river_line_y(river: gpd.GeoDataFrame) -> float:
    """Northing (EPSG:32649) of the river's centre line: its polygon's mean y."""
    return float(river.to_crs(METRIC_CRS).geometry.centroid.y.iloc[0])


def write_dem(path: Path, bounds: tuple[float, ...], river_y: float) -> Path:
    """Write the DEM of the known slope field over ``bounds`` (EPSG:32649, padded 100 m)."""
    x0 = np.floor((bounds[0] - 100) / DEM_CELL_M) * DEM_CELL_M
    y0 = np.floor((bounds[1] - 100) / DEM_CELL_M) * DEM_CELL_M
    x1 = np.ceil((bounds[2] + 100) / DEM_CELL_M) * DEM_CELL_M
    y1 = np.ceil((bounds[3] + 100) / DEM_CELL_M) * DEM_CELL_M
    w, h = round((x1 - x0) / DEM_CELL_M), round((y1 - y0) / DEM_CELL_M)
    ys = y1 - (np.arange(h) + 0.5) * DEM_CELL_M
    z = np.repeat(bank_height(np.abs(ys - river_y))[:, None], w, axis=1)
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=METRIC_CRS, transform=Affine(DEM_CELL_M, 0, x0, 0, -DEM_CELL_M, y1),
                       nodata=-9999.0, compress="deflate") as dst:
        dst.write(z.astype("float32"), 1)
        dst.update_tags(units="metres", slope_field=(
            f"{STEEP_GRADE} within {STEEP_BAND_M} m of the river line, {GENTLE_GRADE} beyond"))
    return path


def scarp_crossings(roads_m: gpd.GeoDataFrame, river_y: float) -> np.ndarray:
    """Up to :data:`N_STAIRS` north–south streets or lanes crossing a scarp, spread out."""
    ends = shapely.get_coordinates(shapely.boundary(roads_m.geometry.to_numpy())).reshape(-1, 2, 2)
    dx = np.abs(ends[:, 1, 0] - ends[:, 0, 0])
    dy = np.abs(ends[:, 1, 1] - ends[:, 0, 1])
    dist = np.abs(ends[:, :, 1] - river_y)
    same_bank = np.sign(ends[:, 0, 1] - river_y) == np.sign(ends[:, 1, 1] - river_y)
    walkable = np.isin(roads_m["road_class"].to_numpy(), ["lane", "street", "main"])
    ok = (walkable & same_bank & (dy > 3 * dx) & (dist.min(axis=1) <= SCARP_FROM_M)
          & (dist.max(axis=1) >= SCARP_FROM_M + SCARP_WIDTH_M))
    cand = np.flatnonzero(ok)
    cand = cand[np.argsort(ends[cand, 0, 0], kind="stable")]  # west to east
    if len(cand) <= N_STAIRS:
        return cand
    return cand[np.linspace(0, len(cand) - 1, N_STAIRS).round().astype(int)]


def cut_stairs(roads: gpd.GeoDataFrame, river_y: float) -> tuple[gpd.GeoDataFrame, int]:
    """Turn the scarp part of a few crossing streets into stairs (``highway=steps``).

    Each chosen two-point road is cut where it meets the scarp's foot and top: the
    middle piece (exactly the scarp) becomes stairs, the two others keep the road's
    class. End points are kept bit for bit, so the network stays noded.
    """
    metric = roads.to_crs(METRIC_CRS)
    chosen = scarp_crossings(metric, river_y)
    if len(chosen) == 0:
        return roads, 0
    to_wgs = Transformer.from_crs(METRIC_CRS, roads.crs, always_xy=True)
    pieces = []
    next_id = int(roads["road_id"].max()) + 1
    for i in chosen:
        (x0, y0), (x1, y1) = shapely.get_coordinates(metric.geometry.iloc[i])
        side = np.sign(y0 - river_y)
        cut_y = river_y + side * np.array([SCARP_FROM_M, SCARP_FROM_M + SCARP_WIDTH_M])
        cut_y = np.sort(cut_y) if y1 > y0 else np.sort(cut_y)[::-1]
        cut_x = x0 + (x1 - x0) * (cut_y - y0) / (y1 - y0)
        lon, lat = to_wgs.transform(cut_x, cut_y)
        (a_lon, a_lat), (b_lon, b_lat) = shapely.get_coordinates(roads.geometry.iloc[i])
        pts = [(a_lon, a_lat), (lon[0], lat[0]), (lon[1], lat[1]), (b_lon, b_lat)]
        for k in range(3):
            row = roads.iloc[i].copy()
            row["geometry"] = shapely.LineString(pts[k:k + 2])
            row["road_id"] = int(row["road_id"]) if k == 0 else next_id
            next_id += int(k > 0)
            row["highway"] = "steps" if k == 1 else row["highway"]
            pieces.append(row)
    rest = roads.drop(index=roads.index[chosen])
    out = pd.concat([rest, gpd.GeoDataFrame(pieces, crs=roads.crs)], ignore_index=True)
    return gpd.GeoDataFrame(out.sort_values("road_id", kind="stable").reset_index(drop=True),
                            geometry="geometry", crs=roads.crs), len(chosen)


def write_population(path: Path, communities_m: gpd.GeoDataFrame,
                     bounds: tuple[float, ...]) -> Path:
    """Residents spread evenly over each community polygon, on a 10 m grid."""
    c = POPULATION_CELL_M
    x0, y0 = np.floor(bounds[0] / c) * c, np.floor(bounds[1] / c) * c
    x1, y1 = np.ceil(bounds[2] / c) * c, np.ceil(bounds[3] / c) * c
    w, h = round((x1 - x0) / c), round((y1 - y0) / c)
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 1, "dtype": "float32",
               "crs": METRIC_CRS, "transform": Affine(c, 0, x0, 0, -c, y1), "nodata": -1.0}
    grid = np.zeros(h * w)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.zeros((h, w), "float32"), 1)
    with rasterio.open(path) as src:
        parts = exact_extract(src, communities_m[["residents", "geometry"]],
                              ["cell_id", "coverage"], include_cols=["residents"],
                              output="pandas")
    for cell_ids, coverage, people in zip(parts["cell_id"], parts["coverage"],
                                          parts["residents"], strict=True):
        cells, cover = np.asarray(cell_ids, np.int64), np.asarray(coverage, float)
        if cover.sum() > 0:
            np.add.at(grid, cells, people * cover / cover.sum())
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid.reshape(h, w).astype("float32"), 1)
        dst.update_tags(units="residents per cell", source="synthetic sample communities")
    return path


def write_hilly_sample(
    out_dir: str | Path,
    *,
    seed: int = 42,
    size: float = 1.0,
    n_communities: int | None = None,
    n_facilities: int | None = None,
) -> dict[str, Path]:
    """Write the sample district with a DEM, stairs and a population raster.

    Parameters
    ----------
    out_dir, seed, size, n_communities, n_facilities
        As for :func:`planner.sample.write_sample`.

    Returns
    -------
    dict of str to Path
        The files of :func:`write_sample` plus ``dem`` and ``population``.
    """
    paths = write_sample(out_dir, seed=seed, size=size, n_communities=n_communities,
                         n_facilities=n_facilities)
    out = Path(out_dir)
    river_y = river_line_y(gpd.read_file(paths["river"]))
    boundary = gpd.read_file(paths["boundary"]).to_crs(METRIC_CRS)
    bounds = tuple(boundary.total_bounds)
    paths["dem"] = write_dem(out / "dem.tif", bounds, river_y)
    roads = gpd.read_file(paths["roads"], layer="roads")
    roads["highway"] = roads["road_class"].map(HIGHWAY_OF_CLASS)
    roads, n_stairs = cut_stairs(roads, river_y)
    paths["roads"].unlink()
    roads.to_file(paths["roads"], layer="roads", driver="GPKG", engine="pyogrio",
                  layer_metadata=SYNTHETIC_MARKER)  # keeps the "synthetic sample" label
    communities = gpd.read_file(paths["communities"], layer="communities").to_crs(METRIC_CRS)
    paths["population"] = write_population(out / "population.tif", communities, bounds)
    readme = paths["readme"].read_text(encoding="utf-8")
    paths["readme"].write_text(readme + _HILLY_README.format(
        steep=STEEP_GRADE * 100, band=STEEP_BAND_M, gentle=GENTLE_GRADE * 100,
        stairs=n_stairs, level=RIVER_LEVEL_M, scarp=SCARP_FROM_M, scarp_w=SCARP_WIDTH_M),
        encoding="utf-8")
    log.info("hilly sample: DEM, %s stairs, population raster in %s", n_stairs, out)
    return paths


_HILLY_README = """
## Hilly variant / 山地版

- `dem.tif`: heights (m, EPSG:32649, 10 m cells). Both banks rise from the river's centre
  line ({level:.0f} m) by {steep:.0f} % over the first {band:.0f} m and {gentle:.0f} % beyond,
  with a 60 % scarp {scarp_w:.0f} m wide from {scarp:.0f} m (just inland of the riverside roads).
- `roads.gpkg` has a `highway` column; on {stairs} streets the piece climbing the scarp is
  `highway=steps` (stairs).
- `population.tif`: residents per 10 m cell (EPSG:32649), each community's residents spread
  evenly over its polygon.

Try, in this folder (add `--no-steps` for wheelchair users):

    planner run --network roads.gpkg --communities communities.gpkg \\
        --facilities facilities.csv --gates gates.csv --profile wanzhou \\
        --dem dem.tif --out out_hilly
"""
