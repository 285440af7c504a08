"""``planner check-project --dem / --no-steps``: the project's reach on a hillside street.

The street (local metres, y = 0; Jinzhong: 1.0 m/s, so 60 m = 1 minute and the urban
15-minute circle is 900 m)::

    F1 ---- A -------------- P ------- F3 -------------------------------- F2
    0      300              840      1200                                 3000 m
    ^ own facility of P "outside" at 20 m

F1: station 60 m²; F3: nursing home 500 m²; F2: day care 100 m² (all existing).
A: 200 households (old). P: the project, 1,000 households, 300 m² facility.

Heights: a plane falling east, z = 400 - 0.1 x (m): walking west is a 10 % climb.
Slope factor (planner.terrain.speed): max(1, exp(3.5 (|grade + 0.05| - 0.05)))

    grade +0.10 (west, uphill)    -> exp(3.5 × 0.10) = exp(0.35) = 1.419068
    grade -0.10 (east, downhill)  -> max(1, exp(3.5 × 0)) = 1   (older walkers gain nothing)

Residents walk *to* the facility, so:

* P → F1 (nearest station): 840 m west, uphill: flat 840 / 60 = 14.0 min (inside the
  15-min circle); hill 840 × 1.419068 = 1,192.02 m → 19.867 min (outside it).
* P → its own facility at 20 m: 820 m west, uphill: flat 13.667 min (inside: reach is
  met); hill 820 × 1.419068 = 1,163.64 m → 19.394 min (beyond the circle: a condition).
* P → F3 (nearest nursing home): 360 m east, downhill: 6.0 min both ways of computing
  (the walk back up would be 8.514 min: the direction is the resident's walk).
* Shared facilities (counted kinds within the circle): flat F1 at 14.0 min (200 → 1,200
  households); on the hill none (F1 is 19.87 min away).
* Neighbour A (300 m) walks to P's facility (20 m): 280 m west, uphill: flat 4.67 min,
  hill 280 × 1.419068 / 60 = 6.62 min (still within the circle: A stays a neighbour).
"""

from __future__ import annotations

import itertools
import json
import math

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import planner.pipeline
from planner.cli import main
from tests.conftest import METRIC, ORIGIN, to_lonlat, write_points_csv, write_road_lines
from tests.test_terrain import write_dem

UP10 = math.exp(0.35)  # 1.419068: a 10 % climb
DATES = ["--planning-approval", "2024-01-10", "--housing-completion", "2025-06-01",
         "--facility-acceptance", "2025-06-01", "--handover", "2025-07-31"]


@pytest.fixture(scope="module")
def hillside(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("hillside")
    xs = [0, 500, 1000, 1500, 2000, 2500, 3000]
    roads = write_road_lines(d / "roads.geojson",
                             [[(a, 0), (b, 0)] for a, b in itertools.pairwise(xs)])
    comm = write_points_csv(
        d / "communities.csv",
        [{"community_id": "A", "name": "A小区", "households": 200, "status": "old"}],
        [(300, 0)])
    fac = write_points_csv(
        d / "facilities.csv",
        [{"facility_id": "F1", "name": "一号站", "kind": "station", "floor_area_m2": 60},
         {"facility_id": "F2", "name": "日照", "kind": "day_care", "floor_area_m2": 100},
         {"facility_id": "F3", "name": "敬老院", "kind": "nursing_home", "floor_area_m2": 500}],
        [(0, 0), (3000, 0), (1200, 0)])
    # 10 m pixels in the network's UTM zone, covering the street with 200 m to spare
    dem = write_dem(d / "hill.tif", lambda x, y: 400 - 0.1 * (x - ORIGIN[0]),
                    x0=ORIGIN[0] - 200, y0=ORIGIN[1] - 1700, size=3400.0)
    return {"roads": roads, "communities": comm, "facilities": fac, "dem": dem, "dir": d}


def lonlat(x: float) -> list[str]:
    lon, lat = to_lonlat([(x, 0)])
    return [f"{lon[0]:.10f}", f"{lat[0]:.10f}"]


def check(hillside: dict, *extra: str):
    site, own = lonlat(840), lonlat(20)
    args = ["check-project", "--network", str(hillside["roads"]),
            "--communities", str(hillside["communities"]),
            "--facilities", str(hillside["facilities"]), "--profile", "jinzhong",
            "--project-id", "P", "--households", "1000", "--lon", site[0], "--lat", site[1],
            "--facility-m2", "300", "--facility-location", "outside",
            "--facility-lon", own[0], "--facility-lat", own[1], *DATES, *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def walk_minutes_by_networkx(start: float, end: float) -> float:
    """Minutes of the walk start → end on the street, by directed Dijkstra in networkx.

    Independent of the planner: nodes at the street's crossings and the two points, each
    piece costing its length × max(1, exp(3.5 (|grade + 0.05| - 0.05))), grade -0.1 when
    walking east (x growing) and +0.1 when walking west.
    """
    xs = sorted({0, 500, 1000, 1500, 2000, 2500, 3000, start, end})
    g = nx.DiGraph()
    for a, b in itertools.pairwise(xs):
        for u, v in ((a, b), (b, a)):
            grade = -0.1 * (v - u) / abs(v - u)
            factor = max(1.0, math.exp(3.5 * (abs(grade + 0.05) - 0.05)))
            g.add_edge(u, v, w=abs(v - u) * factor)
    return nx.shortest_path_length(g, start, end, weight="w") / 60.0  # 1.0 m/s


def test_flat_check_has_the_station_within_reach(hillside):
    r = check(hillside, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    reach = out["reach"]
    assert reach["nearest"]["station"]["minutes"] == 14.0  # 840 / 60
    assert reach["own_facility_minutes"] == round(820 / 60, 2)  # 13.67 (reports round to 0.01)
    assert reach["inside_existing_circle"]  # F1 14.0 ≤ 15 min
    finding = next(f for f in out["findings"] if f["id"] == "reach")
    assert finding["outcome"] == "info"
    assert out["verdict"] == "pass"
    assert [f["facility_id"] for f in out["shared_facilities"]] == ["F1"]
    assert out["shared_facilities"][0]["households_after"] == 1200  # 200 + 1,000
    assert out["neighbours"][0]["minutes"] == round(280 / 60, 2)  # 4.67
    assert out["terrain"] is None
    assert not any("DEM" in n for n in out["notes"])


def test_dem_check_puts_the_station_beyond_the_circle(hillside):
    r = check(hillside, "--dem", str(hillside["dem"]), "--json")
    assert r.exit_code == 0, r.output  # pass with conditions is still exit 0
    out = json.loads(r.stdout)
    reach = out["reach"]
    station = reach["nearest"]["station"]
    assert station["facility_id"] == "F1"
    # 840 m uphill at 10 %: 840 × exp(0.35) / 60 = 19.867 min
    assert station["minutes"] == round(840 * UP10 / 60, 2)  # reports round to 0.01
    assert station["minutes"] == round(walk_minutes_by_networkx(840, 0), 2)
    # own facility at 20 m: 820 × exp(0.35) / 60 = 19.394 min > 15: a condition
    assert reach["own_facility_minutes"] == round(820 * UP10 / 60, 2)
    assert reach["own_facility_minutes"] == round(walk_minutes_by_networkx(840, 20), 2)
    assert not reach["inside_existing_circle"]  # F1 is 19.9 min away on foot
    finding = next(f for f in out["findings"] if f["id"] == "reach")
    assert finding["outcome"] == "condition"
    assert "hill.tif" in finding["en"]
    assert out["verdict"] == "pass_with_conditions"
    # the nursing home lies downhill: 360 m at no gain = 6.0 min, not the 8.5 min uphill
    home = reach["nearest"]["nursing_home"]
    assert home["minutes"] == 6.0
    assert walk_minutes_by_networkx(1200, 840) == pytest.approx(360 * UP10 / 60)  # 8.514
    assert out["shared_facilities"] == []  # F1 no longer within the circle
    assert out["neighbours"][0]["minutes"] == round(280 * UP10 / 60, 2)  # 6.62
    assert out["neighbours"][0]["minutes"] == round(walk_minutes_by_networkx(300, 20), 2)
    assert out["terrain"] == {"dem": "hill.tif", "no_steps": False, "stair_edges": 0}
    assert any("DEM hill.tif" in n and "Tobler" in n and "no downhill gain" in n
               for n in out["notes"])


def test_dem_check_text_report_names_the_dem(hillside):
    r = check(hillside, "--dem", str(hillside["dem"]))
    assert r.exit_code == 0, r.output
    assert "有条件通过 / pass with conditions" in r.stdout
    assert "nearest existing community elderly-care station 19.9 min (F1)" in r.stdout
    assert "walking minutes with slope from DEM hill.tif" in r.stdout
    assert "terrain: walking time by slope from DEM hill.tif" in r.stdout  # the run's note


def test_missing_dem_is_refused_before_loading(hillside, monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("the district was loaded before --dem was checked")

    monkeypatch.setattr(planner.pipeline, "load_study_area", no_loading)
    missing = hillside["dir"] / "no_such_dem.tif"
    r = check(hillside, "--dem", str(missing))
    assert r.exit_code == 2
    assert f"--dem {missing}: file not found." in r.output  # the message of `planner run`
    assert "loading network" not in r.output


def test_batch_with_dem_gives_the_same_minutes(hillside, tmp_path):
    # two projects at 840 m (as above) and at 600 m: P2 → F1 is 600 m uphill,
    # 600 × 1.419068 / 60 = 14.19 min, shown 14.2 (inside the circle even on the hill; flat 10.0)
    lon, lat = to_lonlat([(840, 0), (600, 0)])
    src = tmp_path / "projects.csv"
    pd.DataFrame({"project_id": ["P1", "P2"], "households": ["1000", "500"],
                  "facility_m2": ["300", "150"], "lon": lon, "lat": lat}).to_csv(
        src, index=False, float_format="%.10f")
    out = tmp_path / "checks.csv"
    base = ["check-project", "--network", str(hillside["roads"]),
            "--communities", str(hillside["communities"]),
            "--facilities", str(hillside["facilities"]), "--profile", "jinzhong",
            "--projects", str(src), "--out", str(out), "--dem", str(hillside["dem"])]
    r = CliRunner().invoke(main, base, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "walk: DEM hill.tif" in r.stdout
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig").set_index("project_id")
    assert table.loc["P1", "nearest_minutes_by_kind"].startswith("station 19.9;")  # fmt: 1 decimal
    assert table.loc["P2", "nearest_minutes_by_kind"].startswith("station 14.2;")
    assert table.loc["P1", "inside_existing_circle"] == "False"
    assert table.loc["P2", "inside_existing_circle"] == "True"
    assert list(table["walk"]) == ["DEM hill.tif", "DEM hill.tif"]


@pytest.fixture(scope="module")
def stairs_street(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Flat ground; a flight of stairs is the short way from P to the station::

        (0,300) ------------------- (500,300)
           |                            |
        F1 (0,0) ==== stairs ==== (500,0) ---- P (600,0) ---- (1000,0)

    P → F1: by the stairs 100 + 500 = 600 m = 10.0 min; without them (--no-steps) round
    by the street: 100 + 300 + 500 + 300 = 1,200 m = 20.0 min (> 15: beyond the circle).
    """
    d = tmp_path_factory.mktemp("stairs")
    lines = [([(0, 0), (500, 0)], "steps"), ([(500, 0), (1000, 0)], "residential"),
             ([(500, 0), (500, 300)], "residential"), ([(500, 300), (0, 300)], "residential"),
             ([(0, 300), (0, 0)], "residential")]
    geoms = [shapely.LineString([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in line])
             for line, _ in lines]
    roads = d / "roads.geojson"
    gpd.GeoDataFrame({"highway": [h for _, h in lines]}, geometry=geoms, crs=METRIC).to_crs(
        4326).to_file(roads, driver="GeoJSON")
    comm = write_points_csv(
        d / "communities.csv",
        [{"community_id": "A", "households": 200, "status": "old"}], [(250, 300)])
    fac = write_points_csv(
        d / "facilities.csv",
        [{"facility_id": "F1", "kind": "station", "floor_area_m2": 60}], [(0, 0)])
    return {"roads": roads, "communities": comm, "facilities": fac}


def test_no_steps_takes_the_long_way_round(stairs_street):
    site = lonlat(600)
    args = ["check-project", "--network", str(stairs_street["roads"]),
            "--communities", str(stairs_street["communities"]),
            "--facilities", str(stairs_street["facilities"]), "--profile", "jinzhong",
            "--project-id", "P", "--households", "1000", "--lon", site[0], "--lat", site[1],
            "--facility-m2", "300", *DATES, "--json"]
    flat = json.loads(CliRunner().invoke(main, args, catch_exceptions=False).stdout)
    assert flat["reach"]["nearest"]["station"]["minutes"] == 10.0  # 600 m by the stairs
    assert flat["reach"]["inside_existing_circle"]
    r = CliRunner().invoke(main, [*args, "--no-steps"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    wheel = json.loads(r.stdout)
    assert wheel["reach"]["nearest"]["station"]["minutes"] == 20.0  # 1,200 m round
    assert not wheel["reach"]["inside_existing_circle"]
    assert wheel["terrain"] == {"dem": None, "no_steps": True, "stair_edges": 1}
    assert any("no steps: 1 stair edges removed" in n for n in wheel["notes"])


def test_district_on_the_hilly_sample_is_the_run_on_the_hills(tmp_path):
    # planner sample --hilly (DEM and 8 stair edges): the district a project is checked
    # against, prepared with --dem, is the assessment `planner run --dem` makes (the same
    # pairs within circles, floor area per 100 households and status per community), and
    # differs from the flat one (the hills change something, so the comparison can fail).
    from planner.pipeline import assess, load_study_area  # noqa: PLC0415
    from planner.project import prepare_district  # noqa: PLC0415
    from planner.run.terrain import apply_terrain  # noqa: PLC0415
    from planner.sample.hilly import write_hilly_sample  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    paths = write_hilly_sample(tmp_path / "hilly", size=0.3)
    profile = load_profile("wanzhou")

    def area(dem: bool):
        a = load_study_area(paths["roads"], paths["communities"], paths["facilities"],
                            gates=paths["gates"])
        if dem:
            apply_terrain(a, {"dem": str(paths["dem"]), "no_steps": False,
                              "network": str(paths["roads"]), "network_crs": "wgs84"})
            assert a.terrain is not None and int(a.terrain.steps.sum()) > 0
        return a

    hill_area = area(dem=True)
    run = assess(hill_area, profile, isochrones=False)
    district = prepare_district(hill_area, profile)
    flat = prepare_district(area(dem=False), profile)
    assert district.terrain == {"dem": "dem.tif", "no_steps": False,
                                "stair_edges": int(hill_area.terrain.steps.sum())}
    assert any("DEM dem.tif" in n for n in district.notes)
    cols = ["accessible_m2_per_100hh", "service_status"]
    got = district.base.communities[cols]
    want = run.communities.set_index(run.communities.index.astype(str))[cols].reindex(
        got.index)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_names=False)
    counted = set(district.base.facilities.index[district.base.facilities["counted"]])
    key = ["facility_id", "community_id"]
    pairs = district.base.pairs.sort_values(key).reset_index(drop=True)
    run_pairs = (run.costs[run.costs["facility_id"].isin(counted)][[*key, "distance_m"]]
                 .sort_values(key).reset_index(drop=True))
    pd.testing.assert_frame_equal(pairs, run_pairs, check_dtype=False)
    # hills never shorten a walk (no downhill gain): every pair of the hill district is a
    # pair of the flat one, at least as long; some are longer and some fall out of circles
    both = pairs.merge(flat.base.pairs, on=key, how="left", suffixes=("", "_flat"))
    assert both["distance_m_flat"].notna().all()
    assert (both["distance_m"] >= both["distance_m_flat"] - 1e-6).all()
    assert (both["distance_m"] > both["distance_m_flat"] + 1).any()
    assert len(pairs) < len(flat.base.pairs)
