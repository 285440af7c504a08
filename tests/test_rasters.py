"""Population zonal sums against hand sums on a tiny raster; the minutes GeoTIFF's values
at known cells.

Tiny population raster (EPSG:32649, 10 m cells, x 0-40 m, y 0-40 m), people per cell
v[row, col] = 1 + 4 row + col, row 0 the northern strip (y 30-40)::

    y 30-40 |  1  2  3  4
    y 20-30 |  5  6  7  8
    y 10-20 |  9 10 11 12
    y  0-10 | 13 14 15 16
              x 0 10 20 30 40
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from planner._errors import InputError
from planner.rasters import (
    NODATA,
    estimate_households,
    minutes_surface,
    write_minutes_raster,
    zonal_sums,
)
from planner.rasters.prefill import grid_communities, prefill_households
from planner.reach import compile_arrays

CRS = "EPSG:32649"


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.tif"
    v = (1 + np.arange(16)).reshape(4, 4).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       crs=CRS, transform=Affine(10, 0, 0, 0, -10, 40), nodata=-1) as dst:
        dst.write(v, 1)
    return path


def test_zonal_sums_against_hand_sums(people):
    polys = gpd.GeoSeries([
        shapely.box(0, 0, 20, 20),     # four whole cells 9 + 10 + 13 + 14 = 46
        shapely.box(0, 0, 5, 10),      # half of cell 13 = 6.5
        shapely.box(15, 15, 25, 25),   # a quarter of 6, 7, 10, 11 = 34 / 4 = 8.5
        shapely.box(30, 30, 60, 60),   # a quarter inside: all of cell 4 = 4
        shapely.Point(5, 5),           # a point has no area: NaN
    ], crs=CRS)
    got = zonal_sums(people, polys)
    assert got[:4] == pytest.approx([46.0, 6.5, 8.5, 4.0], rel=1e-9)
    assert np.isnan(got[4])


def test_zonal_sums_reproject_polygons(people):
    # the 2x2 block given in WGS84: transformed to the raster's CRS, still ~46
    block = gpd.GeoSeries([shapely.box(0, 0, 20, 20)], crs=CRS).to_crs(4326)
    assert zonal_sums(people, block) == pytest.approx([46.0], rel=1e-4)


def test_estimate_households_marks_estimates(people):
    comm = gpd.GeoDataFrame(
        {"households": [np.nan, 30.0], "residents": [np.nan, 80.0]},
        geometry=[shapely.box(0, 0, 20, 20), shapely.box(20, 20, 40, 40)], crs=CRS,
        index=pd_index(["A", "B"]))
    out = estimate_households(comm, people, household_size=2.5, elderly_share=0.2)
    # A: 46 residents / 2.5 = 18.4 -> 18 households; elderly 46 x 0.2 = 9.2
    assert out.loc["A", "residents"] == pytest.approx(46.0)
    assert out.loc["A", "households"] == 18
    assert out.loc["A", "elderly"] == pytest.approx(9.2)
    assert out.loc["A", ["households_estimated", "residents_estimated",
                         "elderly_estimated"]].tolist() == [True, True, True]
    # B keeps its counts and is not marked
    assert out.loc["B", "households"] == 30
    assert out.loc["B", "residents"] == 80
    assert not out.loc["B", "households_estimated"]
    assert not out.loc["B", "residents_estimated"]


def pd_index(ids):
    return pd.Index(ids, name="community_id")


def test_estimate_needs_polygons(people):
    comm = gpd.GeoDataFrame({"households": [np.nan]}, geometry=[shapely.Point(5, 5)], crs=CRS,
                            index=pd_index(["P"]))
    with pytest.raises(InputError, match="communities P: no households and no polygon"):
        estimate_households(comm, people)


def test_missing_population_raster(tmp_path):
    with pytest.raises(InputError, match="population raster not found"):
        zonal_sums(tmp_path / "none.tif", gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=CRS))


def _street_network():
    """A 1,500 m street along y = 0 (nodes every 500 m) and an island street at y = 1,000."""
    node_x = np.array([0.0, 500, 1000, 1500, 0, 100])
    node_y = np.array([0.0, 0, 0, 0, 1000, 1000])
    u, v = np.array([0, 1, 2, 4]), np.array([1, 2, 3, 5])
    geoms = shapely.linestrings(
        np.stack([np.c_[node_x[u], node_y[u]], np.c_[node_x[v], node_y[v]]], axis=1))
    return compile_arrays(crs=pyproj.CRS(CRS).to_wkt(), node_x=node_x, node_y=node_y,
                          edge_u=u, edge_v=v, edge_geoms=geoms)


def test_minutes_geotiff_values_at_known_cells(tmp_path):
    # Grid of 100 m cells aligned on the network bounds (0, 0, 1500, 1000): columns are
    # x 0-100, 100-200 ..., rows from y 1000 (north) down to 0. Cell centres of the
    # bottom row sit at y = 50, 50 m off the street, x = 50 + 100 col.
    # Station at x = 0, day-care centre at x = 1500, speed 1 m/s (60 m a minute):
    #   col 2  (x 250):  station 250 + 50 = 300 m -> 5.0 min; day care 1250 + 50 -> 21.667
    #   col 14 (x 1450): station 1450 + 50 = 1500 -> 25.0; day care 50 + 50 -> 1.667
    #   overall = the smaller.
    # Cells 450 m from every road are nodata; the island street is not connected: nodata.
    net = _street_network()
    fac = np.array([shapely.Point(0, 0), shapely.Point(1500, 0)], dtype=object)
    bands, names, transform = minutes_surface(net, fac, np.array(["station", "day_care"]),
                                              cell_m=100, speed_m_s=1.0)
    path = write_minutes_raster(tmp_path / "minutes.tif", bands, names, transform, CRS)
    with rasterio.open(path) as src:
        assert src.descriptions == ("minutes_to_nearest_all", "minutes_to_nearest_day_care",
                                    "minutes_to_nearest_station")
        assert src.res == (100.0, 100.0)
        data = src.read()
        row_south, col = src.index(250, 50)
        assert (row_south, col) == (9, 2)
        assert data[0, 9, 2] == pytest.approx(5.0, abs=1e-4)
        assert data[2, 9, 2] == pytest.approx(5.0, abs=1e-4)
        assert data[1, 9, 2] == pytest.approx(1300 / 60, abs=1e-4)
        assert data[0, 9, 14] == pytest.approx(100 / 60, abs=1e-4)
        assert data[2, 9, 14] == pytest.approx(25.0, abs=1e-4)
        r, c = src.index(750, 450)  # 450 m from the nearest road
        assert data[0, r, c] == NODATA
        r, c = src.index(50, 950)  # beside the island street: reached by no facility
        assert data[0, r, c] == NODATA
        assert src.nodata == NODATA


def test_minutes_raster_never_overwrites_a_foreign_file(tmp_path):
    theirs = tmp_path / "theirs.tif"
    theirs.write_text("not a raster")
    with pytest.raises(InputError, match="not written by planner"):
        write_minutes_raster(theirs, np.zeros((1, 1, 1), "float32"), ["all"],
                             Affine(1, 0, 0, 0, -1, 1), CRS)
    assert theirs.read_text() == "not a raster"


def test_prefill_households_in_a_copy(people, tmp_path):
    # a GeoPackage with Chinese headers; A has no 户数: 46 residents / 2.5 = 18.4 -> 18
    src = tmp_path / "comm.gpkg"
    gpd.GeoDataFrame({"小区编号": ["A", "B"], "户数": [None, 30.0]},
                     geometry=[shapely.box(0, 0, 20, 20), shapely.box(20, 20, 40, 40)],
                     crs=CRS).to_file(src, layer="communities")
    out = prefill_households(src, people, tmp_path, household_size=2.5)
    assert out.estimated_ids == frozenset({"A"})
    assert out.path != src
    copy = gpd.read_file(out.path)
    assert copy["户数"].tolist() == [18.0, 30.0]
    assert gpd.read_file(src)["户数"].isna().tolist() == [True, False]  # user's file as was
    # nothing missing: the original file is read as is
    full = tmp_path / "full.gpkg"
    gpd.read_file(src).fillna({"户数": 5}).to_file(full)
    assert prefill_households(full, people, tmp_path).path == full


def test_cli_population_estimates_missing_households(tmp_path):
    # hilly sample at size 0.3; a third of the communities lose their households and
    # residents; planner run --population keeps them, estimated and marked, within 20 %
    # of the true households (the raster spreads each community's residents evenly).
    from click.testing import CliRunner  # noqa: PLC0415

    from planner.cli import main  # noqa: PLC0415
    from planner.sample.hilly import write_hilly_sample  # noqa: PLC0415

    d = tmp_path / "hilly"
    paths = write_hilly_sample(d, size=0.3)
    comm = gpd.read_file(paths["communities"])
    truth = comm.set_index("community_id")["households"]
    blank = comm.copy()
    blank.loc[::3, ["households", "residents", "elderly"]] = np.nan
    blanked = tmp_path / "communities_blank.gpkg"
    blank.to_file(blanked, layer="communities")
    size = comm["residents"].sum() / comm["households"].sum()
    args = ["run", "--network", str(paths["roads"]), "--communities", str(blanked),
            "--facilities", str(paths["facilities"]), "--gates", str(paths["gates"]),
            "--no-map", "--population", str(paths["population"]), "--household-size",
            f"{size:.4f}", "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "out" / "communities.csv", index_col="community_id")
    assert len(out) == len(comm)  # no row rejected
    est = out["households_estimated"].astype(bool)
    assert set(out.index[est]) == set(comm["community_id"][::3])
    ratio = out.loc[est, "households"] / truth[out.index[est]]
    assert ratio.between(0.8, 1.2).all()
    assert (out.loc[~est, "households"] == truth[out.index[~est]]).all()
    assert out.loc[est, "residents_estimated"].astype(bool).all()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any("households of" in n and "estimated" in n for n in summary["notes"])
    assert summary["inputs"]["communities"]["file"] == str(blanked)


def test_grid_communities_from_the_raster(people):
    # every cell of the tiny raster holds 1-16 people: 16 square communities of 10 m;
    # cell (row 2, col 1) holds 10 people: 10 / 2.5 = 4 households, 10 x 0.2 = 2 elderly;
    # cell (0, 0) holds 1 person: at least one household
    grid = grid_communities(people, household_size=2.5, elderly_share=0.2)
    assert len(grid) == 16
    one = grid.set_index("community_id").loc["cell_2_1"]
    assert (one["residents"], one["households"], one["elderly"]) == (10.0, 4, 2.0)
    assert one.geometry.equals(shapely.box(10, 10, 20, 20))
    assert grid.set_index("community_id").loc["cell_0_0", "households"] == 1
    assert grid["residents"].sum() == pytest.approx(136.0)  # 1 + 2 + ... + 16
    assert len(grid_communities(people, min_residents=10.0)) == 7  # cells 10..16


def test_cli_population_without_a_community_table(tmp_path):
    # no --communities: the cells of a 200 m population raster (summed from the hilly
    # sample's 10 m one) are the communities, every one marked estimated
    from click.testing import CliRunner  # noqa: PLC0415

    from planner.cli import main  # noqa: PLC0415
    from planner.sample.hilly import write_hilly_sample  # noqa: PLC0415

    paths = write_hilly_sample(tmp_path / "hilly", size=0.3)
    with rasterio.open(paths["population"]) as src:
        fine = src.read(1)
        t = src.transform
        k = 20
        h, w = fine.shape[0] // k, fine.shape[1] // k
        coarse = fine[:h * k, :w * k].reshape(h, k, w, k).sum(axis=(1, 3))
        profile = {**src.profile, "width": w, "height": h,
                   "transform": Affine(t.a * k, 0, t.c, 0, t.e * k, t.f)}
    grid_path = tmp_path / "people200.tif"
    with rasterio.open(grid_path, "w", **profile) as dst:
        dst.write(coarse.astype("float32"), 1)
    expected = int((coarse >= 1).sum())
    args = ["run", "--network", str(paths["roads"]), "--facilities", str(paths["facilities"]),
            "--no-map", "--population", str(grid_path), "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "out" / "communities.csv")
    assert len(out) == expected
    assert out["community_id"].str.startswith("cell_").all()
    assert out["households_estimated"].astype(bool).all()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any("cells of the population raster are the communities" in n
               for n in summary["notes"])
    # neither communities nor population: a clear error, exit 2
    bad = CliRunner().invoke(main, ["run", "--network", str(paths["roads"]), "--facilities",
                                    str(paths["facilities"]), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2
    assert "give --communities" in bad.output
