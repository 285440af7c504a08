"""GeoPackages are written without SQLite's fsync, and the GDAL setting is put back.

:func:`planner.io.outputs.write_outputs` writes into a temporary folder and moves the
files into place at the end, so the fsync at every SQLite commit buys nothing; on the
benchmark machine it took most of the GeoPackages' writing time (issue 8, item 6).
"""

from __future__ import annotations

import types

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from planner.io.outputs import write_outputs

KEY = "OGR_SQLITE_SYNCHRONOUS"


def _result() -> types.SimpleNamespace:
    crs = "EPSG:32650"
    communities = gpd.GeoDataFrame(
        {"households": [120, 80], "service_status": ["meets", "none"]},
        geometry=[Point(500_000, 4_000_000), Point(500_300, 4_000_000)], crs=crs,
        index=pd.Index(["A", "B"], name="community_id"))
    facilities = gpd.GeoDataFrame(
        {"kind": ["station"], "floor_area_m2": [60.0]}, geometry=[Point(500_100, 4_000_000)],
        crs=crs, index=pd.Index(["F1"], name="facility_id"))
    circles = gpd.GeoDataFrame({"facility_id": ["F1"], "kind": ["station"], "minutes": [15.0]},
                               geometry=[box(499_900, 3_999_900, 500_300, 4_000_100)], crs=crs)
    costs = pd.DataFrame({"facility_id": ["F1", "F1"], "community_id": ["A", "B"],
                          "distance_m": [100.0, 200.0], "minutes": [1.67, 3.33]})
    return types.SimpleNamespace(
        communities=communities, facilities=facilities, isochrones=circles, costs=costs,
        targets=pd.DataFrame({"target": ["t"], "value": [0.5]}), streets=None, timeline=None,
        summary={"communities": 2})


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The fsync setting at each GeoPackage layer written."""
    got: list[str | None] = []
    write = gpd.GeoDataFrame.to_file

    def spy(self, *args, **kwargs):
        got.append(pyogrio.get_gdal_config_option(KEY))
        return write(self, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", spy)
    return got


def test_layers_written_without_fsync_then_setting_restored(tmp_path, seen, monkeypatch):
    monkeypatch.delenv(KEY, raising=False)
    files = write_outputs(_result(), types.SimpleNamespace(loads={}), tmp_path / "o")
    assert seen == [False] * 3  # "OFF" (pyogrio reads it as False), at each of 3 layers
    assert pyogrio.get_gdal_config_option(KEY) is None  # put back
    back = gpd.read_file(files["facilities.gpkg"], layer="isochrones")
    assert back["facility_id"].tolist() == ["F1"]  # a complete GeoPackage all the same
    assert back.geometry.iloc[0].bounds[0] == pytest.approx(117.0, abs=0.01)  # WGS84 lon


def test_a_users_setting_stands(tmp_path, seen, monkeypatch):
    monkeypatch.setenv(KEY, "FULL")  # GDAL reads config options from the environment too
    write_outputs(_result(), types.SimpleNamespace(loads={}), tmp_path / "o")
    assert seen == ["FULL", "FULL", "FULL"]
    assert pyogrio.get_gdal_config_option(KEY) == "FULL"
