"""Issue 7, items 1, 2, 8 and 9 (network side) and issue 8 item 5: the compiled-network
cache, OpenStreetMap filtering, ``planner fetch`` offline, the metric CRS from the PROJ
database, memory from psutil, and property tests without saved state.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import geopandas as gpd
import hypothesis
import numpy as np
import osmnx as ox
import psutil
import pytest
import requests
import shapely
from click.testing import CliRunner

from planner import crs, diagnostics, settings
from planner.cli import main
from planner.network import compile_network
from planner.network.osm import graph_from_osm_xml
from planner.network.store import cache_folder_for, load_compiled, save_compiled
from tests.conftest import write_points_csv, write_road_lines


@pytest.fixture
def roads(tmp_path: Path) -> Path:
    # an L: 500 m east, then 400 m north (3 lines, 4 nodes)
    return write_road_lines(tmp_path / "roads.geojson",
                            [[(0, 0), (250, 0)], [(250, 0), (500, 0)], [(500, 0), (500, 400)]])


# ---------------------------------------------------------------------------
# the cache


def test_damaged_cache_is_rebuilt_with_a_note(roads, tmp_path, caplog):
    cache = tmp_path / "cache"
    first = compile_network(roads, cache_folder=cache)
    (cached,) = cache.glob("*.reach.npz")
    cached.write_bytes(b"PK\x03\x04 cut short")  # a copy cut short
    with caplog.at_level("WARNING", logger="planner"):
        again = compile_network(roads, cache_folder=cache)
    assert "damaged" in caplog.text and "compiled again" in caplog.text
    assert again.n_edges == first.n_edges == 3
    assert again.edge_length.sum() == pytest.approx(900.0, abs=1e-3)
    caplog.clear()
    with caplog.at_level("WARNING", logger="planner"):
        third = compile_network(roads, cache_folder=cache)  # the rewritten cache is read
    assert "damaged" not in caplog.text and third.n_edges == 3


def test_damaged_cache_through_the_cli_is_not_an_error(tmp_path, monkeypatch):
    roads = write_road_lines(tmp_path / "roads.geojson", [[(0, 0), (500, 0)]])
    comm = write_points_csv(tmp_path / "c.csv", [{"community_id": "A", "households": 10}],
                            [(100, 0)])
    fac = write_points_csv(tmp_path / "f.csv", [{"facility_id": "F", "kind": "station",
                                                  "floor_area_m2": 50}], [(0, 0)])
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    args = ["run", "--network", str(roads), "--communities", str(comm), "--facilities",
            str(fac), "--no-map"]
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o1")]).exit_code == 0
    for p in (tmp_path / "cache").glob("*.reach.npz"):
        p.write_bytes(os.urandom(200))
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o2")])
    assert result.exit_code == 0, result.output
    assert "damaged" in result.output


def test_save_uses_a_unique_temporary_name(roads, tmp_path, monkeypatch):
    net = compile_network(roads, use_cache=False)
    names = []
    real_savez = np.savez

    def spy(file, **arrays):
        names.append(Path(file.name).name)
        real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", spy)
    save_compiled(net, tmp_path / "n.reach.npz", source_key="k")
    save_compiled(net, tmp_path / "n.reach.npz", source_key="k")
    assert len(set(names)) == 2 and all(str(os.getpid()) in n for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.reach.npz", "roads.geojson"]
    assert load_compiled(tmp_path / "n.reach.npz", source_key="k").n_edges == 3


def test_default_cache_is_the_user_cache_never_the_working_directory(roads, tmp_path,
                                                                      monkeypatch):
    user = tmp_path / "user-cache"
    monkeypatch.setattr("platformdirs.user_cache_dir", lambda *a, **k: str(user))
    monkeypatch.setattr(settings, "cache_folder", None)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    compile_network(roads)
    assert list(cwd.iterdir()) == []
    assert len(list((user / "networks").glob("*.reach.npz"))) == 1


def test_cache_beside_the_network_when_the_user_cache_is_unwritable(roads, tmp_path,
                                                                     monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setattr("platformdirs.user_cache_dir", lambda *a, **k: str(blocker / "c"))
    monkeypatch.setattr(settings, "cache_folder", None)
    assert cache_folder_for(roads) == roads.parent.resolve()


# ---------------------------------------------------------------------------
# OpenStreetMap


OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="37.6900" lon="112.7500"/>
  <node id="2" lat="37.6900" lon="112.7520"/>
  <node id="3" lat="37.6900" lon="112.7540"/>
  <node id="4" lat="37.6900" lon="112.7560"/>
  <node id="5" lat="37.6910" lon="112.7520"/>
  <node id="6" lat="37.6910" lon="112.7540"/>
  <node id="7" lat="37.6920" lon="112.7500"/>
  <node id="8" lat="37.6920" lon="112.7560"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="12"><nd ref="2"/><nd ref="5"/><nd ref="6"/><nd ref="3"/><nd ref="2"/>
    <tag k="building" v="yes"/></way>
  <way id="13"><nd ref="7"/><nd ref="8"/><tag k="railway" v="rail"/></way>
  <way id="14"><nd ref="1"/><nd ref="7"/>
    <tag k="highway" v="footway"/><tag k="access" v="private"/><tag k="foot" v="yes"/></way>
  <way id="15"><nd ref="4"/><nd ref="8"/>
    <tag k="highway" v="primary"/><tag k="foot" v="no"/></way>
</osm>
"""


def test_osm_keeps_only_walkable_highway_ways(tmp_path):
    """Ways 10 (residential) and 14 (private but foot=yes) stay; the private service way
    11, the building 12, the railway 13 and the foot=no primary 15 go, each judged before
    simplification. What is left is one street 3-2-1-7 (1 and 2 are interstitial):
    0.004 degrees of longitude at 37.69 N = 111,320 m x cos(37.69) x 0.004 = 352.3 m, plus
    0.002 degrees of latitude = 222.4 m: 574.7 m, stored in both directions."""
    path = tmp_path / "t.osm"
    path.write_text(OSM, encoding="utf-8")
    G = graph_from_osm_xml(path)
    ways = {int(w) for _, _, d in G.edges(data=True)
            for w in (d["osmid"] if isinstance(d["osmid"], list) else [d["osmid"]])}
    assert ways == {10, 14}
    assert set(G.nodes) == {3, 7}  # 4 (private way), 5, 6 (building), 8 (rail) are gone
    east = 111_320 * np.cos(np.radians(37.69)) * 0.004
    north = 111_195 * 0.002  # metres per degree of latitude on osmnx's sphere
    lengths = [d["length"] for _, _, d in G.edges(data=True)]
    assert lengths == pytest.approx([east + north] * 2, abs=1.0)


def test_corrupt_pbf_is_a_clear_error(tmp_path):
    path = tmp_path / "city.osm.pbf"
    path.write_bytes(b"\x00\x00\x00\x0eOSMHeader-ish but cut")
    result = CliRunner().invoke(main, [
        "run", "--network", str(path), "--communities", str(path), "--facilities", str(path),
        "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert ".osm.pbf" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------------------
# planner fetch offline


def test_fetch_offline_is_a_clear_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Max retries exceeded (name resolution)")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    result = CliRunner().invoke(main, ["fetch", "--place", "榆次区, 晋中市, 山西省, 中国",
                                       "--cache-folder", str(tmp_path / "dl")])
    assert result.exit_code == 2, result.output
    assert "no connection to OpenStreetMap" in result.output and ".osm.pbf" in result.output
    assert "Traceback" not in result.output
    assert list((tmp_path / "dl").iterdir()) == []  # nothing half-written


def test_fetch_unknown_place_is_a_clear_message(tmp_path, monkeypatch):
    def nowhere(*args, **kwargs):
        raise ox._errors.InsufficientResponseError("Nominatim could not geocode query")

    monkeypatch.setattr(ox, "graph_from_place", nowhere)
    result = CliRunner().invoke(main, ["fetch", "--place", "Atlantis",
                                       "--cache-folder", str(tmp_path / "dl")])
    assert result.exit_code == 2, result.output
    assert "Atlantis" in result.output and "place name" in result.output


# ---------------------------------------------------------------------------
# issue 8 item 5: library calls instead of hand-written arithmetic


@pytest.mark.parametrize("bounds", [
    (112.70, 37.60, 112.80, 37.70),  # Yuci
    (121.46, 31.22, 121.49, 31.24),  # Shanghai
    (-74.05, 40.70, -73.95, 40.80),  # New York
    (151.10, -33.95, 151.30, -33.80),  # Sydney
    (5.0, 60.0, 5.5, 60.5),  # western Norway: zone 32V, not 31 by arithmetic
])
def test_metric_crs_matches_geopandas_estimate_utm_crs(bounds):
    box = gpd.GeoSeries([shapely.box(*bounds)], crs=4326)
    assert crs.metric_crs_for(*bounds) == box.estimate_utm_crs()


def test_metric_crs_refuses_non_finite_bounds():
    with pytest.raises(crs.CRSError, match="not longitude/latitude"):
        crs.metric_crs_for(float("nan"), 30.0, 112.0, 31.0)


def test_available_memory_comes_from_psutil():
    ours = diagnostics.available_memory_bytes()
    theirs = psutil.virtual_memory().available
    assert ours is not None and abs(ours - theirs) < 0.2 * psutil.virtual_memory().total


def test_property_tests_keep_no_example_database():
    assert hypothesis.settings.default.database is None
    assert hypothesis.settings.default.derandomize is True


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_a_network_never_changes_it(roads):
    before = _sha(roads)
    compile_network(roads, use_cache=False)
    assert _sha(roads) == before
