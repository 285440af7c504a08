"""Shared fixtures: paths to the real data beside the repository, tiny districts."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import settings as hypothesis_settings

from tests.browser import browser  # noqa: F401  (the headless Chromium fixture)

# Property tests never depend on saved state: no example database (a failure saved in
# .hypothesis/ would make every later run of the clone replay it), the same examples on
# every run (derandomize), so `make test` gives the same verdict twice in a row.
hypothesis_settings.register_profile("planner", database=None, derandomize=True)
hypothesis_settings.load_profile("planner")

#: Real public extracts, read in place (never copied into the repository).
#: ``shared/`` beside the checkout (a clone elsewhere falls back to the workplace's copy).
SHARED = Path(__file__).resolve().parents[2] / "shared"
if not SHARED.exists():
    SHARED = Path("/work/shared")
SHARED_DATA = SHARED / "data"
SEEDS = SHARED / "seeds"  # the five city policy documents

#: Metric CRS of the hand-made districts: UTM 49N, near Yuci (Jinzhong).
METRIC = "EPSG:32649"
ORIGIN = (750_000.0, 4_175_000.0)  # x, y in metres, about lon 112.75, lat 37.69


def to_lonlat(xy: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Local metres (relative to ORIGIN) to WGS84 lon/lat."""
    pts = gpd.GeoSeries([shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in xy],
                        crs=METRIC).to_crs(4326)
    return pts.x.to_list(), pts.y.to_list()


def write_road_lines(path: Path, lines: list[list[tuple[float, float]]]) -> Path:
    """Write road lines given in local metres as a WGS84 GeoJSON file."""
    geoms = [shapely.LineString([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in line])
             for line in lines]
    gpd.GeoDataFrame({"road_id": range(len(geoms))}, geometry=geoms, crs=METRIC).to_crs(
        4326).to_file(path, driver="GeoJSON")
    return path


def write_points_csv(path: Path, rows: list[dict], xy: list[tuple[float, float]]) -> Path:
    """Write a table with lon/lat columns from local metres."""
    lon, lat = to_lonlat(xy)
    frame = pd.DataFrame(rows)
    frame["lon"], frame["lat"] = lon, lat
    frame.to_csv(path, index=False, float_format="%.10f")
    return path


@pytest.fixture
def line_district(tmp_path: Path) -> dict[str, Path]:
    """A 1,500 m straight street with one station at its west end.

    ::

        F1 ---- A ------- B ------ C ----|
        0      300       840     1200   1500 m         D: 500 m north of 700 m, off-road

    Households: A 200 (built 1990: old), B 200 (built 2020: new-build), C 100 (old),
    D 100 (old); a fifth row E has 0 households and must be rejected.
    F1 is a 60 m² station.
    """
    roads = write_road_lines(tmp_path / "roads.geojson",
                             [[(0, 0), (500, 0)], [(500, 0), (1000, 0)], [(1000, 0), (1500, 0)]])
    communities = write_points_csv(
        tmp_path / "communities.csv",
        [{"community_id": c, "name": f"{c}小区", "households": h, "completion_year": y,
          "area_type": "urban", "street": "S1"}
         for c, h, y in [("A", 200, 1990), ("B", 200, 2020), ("C", 100, 1995),
                         ("D", 100, 1980), ("E", 0, 2000)]],
        [(300, 0), (840, 0), (1200, 0), (700, 500), (100, 0)],
    )
    facilities = write_points_csv(
        tmp_path / "facilities.csv",
        [{"facility_id": "F1", "name": "一号站", "kind": "station", "floor_area_m2": 60,
          "status": "existing"}],
        [(0, 0)],
    )
    return {"network": roads, "communities": communities, "facilities": facilities,
            "dir": tmp_path}
