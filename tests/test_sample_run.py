"""The synthetic sample district end to end, as `make demo` runs it, checked independently."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from tests.browser import open_file


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    runner = CliRunner()
    r = runner.invoke(main, ["sample", "--out", str(root / "data")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = root / "out"
    d = root / "data"
    r = runner.invoke(main, [
        "run", "--network", str(d / "roads.gpkg"), "--communities", str(d / "communities.gpkg"),
        "--facilities", str(d / "facilities.csv"), "--gates", str(d / "gates.csv"),
        "--profile", "jinzhong", "--out", str(out), "--map", str(root / "maps" / "gap.html"),
    ], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return d, out, r.output


def test_every_community_accounted_for(sample_run):
    data, out, _ = sample_run
    raw = gpd.read_file(data / "communities.gpkg")
    res = pd.read_csv(out / "communities.csv")
    rejects = pd.read_csv(out / "rejects.csv")
    assert len(raw) == len(res) + rejects.query("layer == 'communities'")["row"].nunique()
    assert set(res["community_id"]) <= set(raw["community_id"])
    summary = json.loads((out / "summary.json").read_text())
    for counts in summary["inputs"].values():
        assert counts["read"] == counts["written"] + counts["rejected"]
    assert "synthetic sample" in " ".join(summary["notes"])
    assert summary["profile"] == "jinzhong" and summary["walking_speed_m_s"] == 1.0


def test_statuses_follow_from_the_numbers(sample_run):
    # exact arithmetic: the GeoPackage keeps full precision (the CSV is rounded for people)
    _, out, _ = sample_run
    c = gpd.read_file(out / "communities.gpkg", layer="communities")
    reachable = c["access_points"] > 0
    assert (c.loc[~reachable, "service_status"] == "unreachable").all()
    r = c[reachable]
    assert ((r["facilities_within"] == 0) == (r["service_status"] == "uncovered")).all()
    covered = r[r["facilities_within"] > 0]
    meets = covered["accessible_m2_per_100hh"] >= covered["required_m2_per_100hh"] - 1e-6
    assert (meets == (covered["service_status"] == "meets")).all()
    # shortfall recomputed from the published columns
    expected = np.maximum(0, (c["required_m2_per_100hh"] - c["accessible_m2_per_100hh"])
                          * c["households"] / 100)
    assert c["shortfall_m2"].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-6)
    # the sample leaves parts under-served, and serves others
    assert set(c["service_status"]) >= {"meets", "below_standard", "uncovered"}
    # every community within a circle is at most its circle's minutes from its nearest
    assert (covered["nearest_minutes"] <= covered["circle_minutes"] + 1e-9).all()


def test_floor_area_is_conserved(sample_run):
    """Accessible m² over all communities = floor area of the counted facilities serving anyone."""
    _, out, _ = sample_run
    c = gpd.read_file(out / "communities.gpkg", layer="communities")  # full precision
    f = gpd.read_file(out / "facilities.gpkg", layer="facilities")
    counted = f[f["in_assessment"].astype(bool) & (f["kind"] != "nursing_home")
                & (f["households_served"] > 0)]
    assert c["accessible_m2"].sum() == pytest.approx(counted["floor_area_m2"].sum(), rel=1e-9)
    # and households served per facility = sum of households of communities in its circle
    assert (f["m2_per_100hh_served"].dropna() > 0).all()


def test_csv_is_rounded_and_the_geopackage_is_not(sample_run):
    """communities.csv (for people) rounds m² to 0.1, minutes to 0.01, shares to 0.0001;
    communities.gpkg (for GIS) keeps every digit. Both hold the same communities."""
    _, out, _ = sample_run
    csv = pd.read_csv(out / "communities.csv").set_index("community_id")
    gpkg = gpd.read_file(out / "communities.gpkg", layer="communities").set_index("community_id")
    assert list(csv.index) == list(gpkg.index)
    for col, places in [("accessible_m2_per_100hh", 1), ("shortfall_m2", 1),
                        ("required_m2", 1), ("nearest_minutes", 2), ("snap_distance_m", 2)]:
        raw = gpkg[col].astype(float)
        shown = csv[col].astype(float)
        both = raw.notna()
        assert (shown[~both].isna()).all(), col
        # the CSV holds the GeoPackage value rounded to `places` decimals ...
        assert np.allclose(shown[both], raw[both].round(places), rtol=0, atol=1e-9), col
        # ... which differs from the raw value somewhere (a real district has odd digits)
        assert (np.abs(shown[both] - raw[both]) > 1e-9).any(), col
        assert (np.abs(shown[both] - raw[both]) <= 0.5 * 10.0**-places + 1e-9).all(), col


def test_isochrones_follow_streets(sample_run):
    _, out, _ = sample_run
    iso = gpd.read_file(out / "facilities.gpkg", layer="isochrones").to_crs(32649)
    f = gpd.read_file(out / "facilities.gpkg", layer="facilities").to_crs(32649)
    assessed = f["in_assessment"].astype(bool)
    assert len(iso) == int((assessed & (f["network_component"] >= 0)).sum())
    # a 900 m walk covers less than the 900 m straight-line disc, and more than nothing
    disc = np.pi * 900**2
    assert (iso.area < disc).all() and (iso.area > 0.02 * disc).all()


def test_gap_map_opens_offline_in_chromium(sample_run, browser):
    data, out, _ = sample_run
    html = out / "gap_map.html"
    assert (data.parent / "maps" / "gap.html").read_bytes() == html.read_bytes()
    count_js = "return document.querySelectorAll('path.planner-community').length"
    open_file(browser, html, ready_js=count_js + " > 0")
    n_comm = len(pd.read_csv(out / "communities.csv"))
    count = browser.execute_script(count_js)
    assert count == n_comm
    text = browser.find_element("css selector", ".planner-title").text
    assert "synthetic sample" in text and "jinzhong" in text
