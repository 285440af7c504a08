"""``planner check-project`` through the command line: exit codes, JSON, map, batch, boundary.

Same hand-worked street as tests/test_check_project.py (F1 station 60 m² at 0 m, A 200 hh
at 300, B 200 at 840, C 100 at 1,200, D 400 at 2,500, F3 nursing home at 900, F2 day care at
3,000); the project P stands at 600 m.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import planner.project
from planner.cli import main
from tests.browser import js_errors, open_file
from tests.conftest import METRIC, ORIGIN, to_lonlat
from tests.test_check_project import street  # noqa: F401  (the shared fixture)

FULL_DATES = ["--planning-approval", "2024-01-10", "--housing-completion", "2025-06-01",
              "--facility-acceptance", "2025-06-01", "--handover", "2025-07-31"]


def run(street, *args, profile="jinzhong"):  # noqa: F811
    base = ["check-project", "--network", str(street["roads"]), "--communities",
            str(street["communities"]), "--facilities", str(street["facilities"]),
            "--profile", profile]
    return CliRunner().invoke(main, [*base, *map(str, args)], catch_exceptions=False)


def site(x: float) -> list[str]:
    lon, lat = to_lonlat([(x, 0)])
    return ["--lon", f"{lon[0]:.10f}", "--lat", f"{lat[0]:.10f}"]


def test_exit_0_pass_and_json_fields(street):  # noqa: F811
    r = run(street, "--project-id", "P", "--households", 1000, *site(600), "--facility-m2", 300,
            *FULL_DATES, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"project", "profile", "verdict", "verdict_zh", "verdict_en", "exit_code", "reasons",
            "conditions", "findings", "floor_area", "reach", "shared_facilities", "neighbours",
            "pooling", "effect", "served_m2_per_100hh", "choices", "notes"} <= set(out)
    assert (out["verdict"], out["exit_code"], out["reasons"]) == ("pass", 0, [])
    assert out["floor_area"]["required_m2"] == pytest.approx(300.0)  # 1,000 × 30 / 100
    assert out["floor_area"]["formula"] == "1,000 × 30 / 100 = 300 m²"
    assert out["reach"]["nearest"]["station"]["minutes"] == pytest.approx(10.0, abs=1e-6)
    assert out["shared_facilities"][0]["facility_id"] == "F1"
    assert out["shared_facilities"][0]["households_after"] == 1400
    assert out["effect"]["brought_to_standard"] == ["C"]
    assert [n["community_id"] for n in out["neighbours"]] == ["B", "A", "C"]
    for f in out["findings"]:
        assert set(f) == {"id", "outcome", "zh", "en", "source", "figures"}
    assert out["project"]["dates"]["handover"] == "2025-07-31"


def test_exit_1_fail_cites_the_clauses(street):  # noqa: F811
    r = run(street, "--project-id", "P", "--households", 1000, *site(600))
    assert r.exit_code == 1
    assert "结论 / Verdict: 不通过 / fail" in r.stdout
    assert "不通过理由 / Reasons for the fail:" in r.stdout
    assert "004 item 5(1)" in r.stdout  # 不予规划审核
    assert "1,000 × 30 / 100 = 300 m²" in r.stdout


def test_exit_0_with_conditions_when_dates_are_missing(street):  # noqa: F811
    r = run(street, "--households", 1000, *site(600), "--facility-m2", 300)
    assert r.exit_code == 0
    assert "有条件通过 / pass with conditions" in r.stdout
    assert "未核对 not checked" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--households", 0], "households"),
    (["--households", 100, "--handover", "someday"], "YYYY-MM-DD"),
    (["--households", 100, "--project-id", "A"], "already a community id"),
    (["--households", 100, "--facility-m2", 50, "--facility-location", "outside"],
     "facility_location"),
])
def test_exit_2_bad_input_names_it(street, args, message):  # noqa: F811
    r = run(street, *site(600), *args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.output


def test_exit_2_missing_site_and_unknown_option_value(street):  # noqa: F811
    r = run(street, "--households", 100)
    assert r.exit_code == 2 and "--lon and --lat" in r.stderr
    r = run(street, "--households", 100, *site(600), "--status", "renovated")
    assert r.exit_code == 2  # click's own usage error


def test_exit_3_internal_error(street, monkeypatch):  # noqa: F811
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(planner.project, "check_project", broken)
    r = run(street, "--households", 100, *site(600))
    assert r.exit_code == 3
    assert "internal error" in r.stderr and "RuntimeError" in r.stderr


def test_yangjiang_literal_reading_is_printed(street):  # noqa: F811
    r = run(street, "--households", 1000, *site(600), "--facility-m2", 200, profile="yangjiang")
    assert r.exit_code == 0 and "按每百户解读" in r.stdout
    r = run(street, "--households", 1000, *site(600), "--facility-m2", 200, "--reading",
            "literal", profile="yangjiang")
    assert r.exit_code == 1
    assert "1,000 × 2,000 / 100 = 20,000 m²" in r.stdout and "按字面解读" in r.stdout


def test_map_is_written_offline(street, tmp_path):  # noqa: F811
    path = tmp_path / "p.html"
    r = run(street, "--project-id", "P9", "--households", 1000, *site(600), "--facility-m2", 300,
            "--map", path)
    assert r.exit_code == 0
    page = path.read_text(encoding="utf-8")
    assert "P9" in page and "walking circle" in page
    assert "MultiLineString" in page  # the streets reached within 15 minutes
    assert "cdn.jsdelivr.net/npm/leaflet" not in page and "L.map(" in page


def test_map_inlines_leaflet_images_and_never_overwrites_a_users_file(street, tmp_path):  # noqa: F811
    path = tmp_path / "p.html"
    args = ("--households", 1000, *site(600), "--facility-m2", 300, "--map", path)
    assert run(street, *args).exit_code == 0
    page = path.read_text(encoding="utf-8")
    assert "url(images/" not in page and "url(data:image/png;base64," in page  # layer icons
    assert run(street, *args).exit_code == 0  # the planner's own map is replaced
    path.write_text("my notes", encoding="utf-8")
    r = run(street, *args)
    assert r.exit_code == 2 and "was not written by planner" in r.stderr
    assert path.read_text(encoding="utf-8") == "my notes"


def test_boundary_polygon_entered_from_its_nearest_street(street, tmp_path):  # noqa: F811
    # a triangle whose lowest corner is 20 m north of the street at x = 600: entered there,
    # so F1 is 20 + 600 = 620 m away (10.33 min)
    tri = shapely.Polygon([(ORIGIN[0] + 600, ORIGIN[1] + 20), (ORIGIN[0] + 650, ORIGIN[1] + 120),
                           (ORIGIN[0] + 550, ORIGIN[1] + 120)])
    path = tmp_path / "site.geojson"
    gpd.GeoDataFrame(geometry=[tri], crs=METRIC).to_crs(4326).to_file(path, driver="GeoJSON")
    r = run(street, "--households", 1000, "--boundary", path, "--facility-m2", 300, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["reach"]["nearest"]["station"]["minutes"] == pytest.approx(620 / 60, abs=0.01)


def test_batch_rows_rejects_and_escaping(street, tmp_path):  # noqa: F811
    lon, lat = to_lonlat([(600, 0), (600, 0), (600, 0), (600, 0)])
    rows = pd.DataFrame({
        "project_id": ["P1", "P2", "P3", "P4"],
        "name": ["=HYPERLINK(\"x\")", "二期", "三期", "四期"],
        "households": ["1,000户", "1000", "0", "500"],
        "facility_m2": ["300", "", "100", "100"],
        "handover": ["", "", "", "later"],
        "lon": lon, "lat": lat,
    })
    src = tmp_path / "projects.csv"
    rows.to_csv(src, index=False, float_format="%.10f")
    out = tmp_path / "checks.csv"
    r = run(street, "--projects", src, "--out", out)
    assert r.exit_code == 1  # P2 fails, P3 and P4 are rejected
    assert "read 4 = checked 2 + rejected 2" in r.stdout
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert list(table["project_id"]) == ["P1", "P2"]
    assert list(table["verdict"]) == ["pass_with_conditions", "fail"]
    assert table.loc[0, "name"].startswith("'=")  # not run as a formula in Excel
    assert float(table.loc[0, "required_m2"]) == 300
    rejects = pd.read_csv(tmp_path / "checks_rejects.csv", dtype=str, encoding="utf-8-sig")
    assert list(rejects["row"]) == ["4", "5"]  # Excel rows: header is row 1
    assert list(rejects["column"]) == ["households", "handover"]
    # the planner never overwrites a file it did not write
    foreign = tmp_path / "mine.csv"
    foreign.write_text("my,own\n1,2\n", encoding="utf-8")
    r = run(street, "--projects", src, "--out", foreign)
    assert r.exit_code == 2 and "never overwrites" in r.stderr
    assert foreign.read_text(encoding="utf-8") == "my,own\n1,2\n"


def test_gate_decides_where_the_walk_starts(street, tmp_path):  # noqa: F811
    # the same triangle, entered only through a gate on the street at x = 700: F1 is 700 m
    # (11.67 min) away instead of 620 m through the boundary
    tri = shapely.Polygon([(ORIGIN[0] + 600, ORIGIN[1] + 20), (ORIGIN[0] + 650, ORIGIN[1] + 120),
                           (ORIGIN[0] + 550, ORIGIN[1] + 120)])
    path = tmp_path / "site.geojson"
    gpd.GeoDataFrame(geometry=[tri], crs=METRIC).to_crs(4326).to_file(path, driver="GeoJSON")
    lon, lat = to_lonlat([(700, 0)])
    r = run(street, "--households", 1000, "--boundary", path, "--gate",
            f"{lon[0]:.10f},{lat[0]:.10f}", "--json")
    out = json.loads(r.stdout)
    assert out["reach"]["nearest"]["station"]["minutes"] == pytest.approx(700 / 60, abs=0.01)


def test_old_district_renovation_and_rural_circle(street):  # noqa: F811
    # an old-district renovation needs 15 m² per 100 households (inherited) and is not
    # checked for the synchronisations; Wanzhou's rural circle is 25 minutes; its station
    # must have 300 m² (002 item 13)
    r = run(street, "--households", 1000, *site(600), "--status", "old", "--facility-m2", 300,
            "--area-type", "rural", "--json", profile="wanzhou")
    out = json.loads(r.stdout)
    assert out["floor_area"]["required_m2"] == pytest.approx(150.0)
    assert out["verdict"] == "pass" and r.exit_code == 0
    assert [f["id"] for f in out["findings"]][-1] == "sync"
    assert out["reach"]["circle_minutes"] == pytest.approx(25.0)
    # within 25 minutes (1,500 m) of the site: A, B, C and D (1,900 m) is not
    assert [n["community_id"] for n in out["neighbours"]] == ["B", "A", "C"]


def test_help_documents_the_exit_codes():
    r = CliRunner().invoke(main, ["check-project", "--help"])
    assert r.exit_code == 0
    for line in ("0  pass", "1  fail", "2  bad input", "3  internal error"):
        assert line in r.output


def test_map_draws_in_a_browser(street, tmp_path, browser):  # noqa: F811
    path = tmp_path / "p.html"
    r = run(street, "--households", 1000, *site(600), "--facility-m2", 300, "--map", path)
    assert r.exit_code == 0
    open_file(browser, path, ready_js="return document.querySelectorAll("
              "'.leaflet-overlay-pane path').length > 0")
    paths = browser.execute_script(
        "return document.querySelectorAll('.leaflet-overlay-pane path').length")
    # project marker 1 + neighbours A, B, C + facilities F1 (shared, nearest station) and
    # F3 (nearest nursing home; F2 is beyond the search) + the walking-circle streets 1
    assert paths == 7
    assert js_errors(browser, ignore=("tile.openstreetmap.org",)) == []
