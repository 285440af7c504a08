"""The care network, worked by hand: capacity catchment, centres and stations, tiers,
co-location, beds, and the privacy of vulnerable-elderly counts in every exported file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from planner._errors import InputError
from planner.care import (
    add_sample_care_columns,
    bed_share,
    capacity_catchment,
    care_rules,
    centre_beds,
    centre_loads,
    colocation,
    is_safe,
    lead_stations,
    safe_total,
    suppress_counts,
    tiers_by_unit,
    vulnerable_demand,
)
from planner.care.columns import _read
from planner.cli import main
from planner.pipeline import assess, load_study_area
from planner.sample import write_sample
from tests.conftest import METRIC, ORIGIN, write_points_csv, write_road_lines

COUNT_COLUMNS = ("elderly_80plus", "living_alone", "empty_nest", "disabled",
                 "vulnerable_elderly", "vulnerable_in_circle")


# --------------------------------------------------------------------------- catchment

def test_capacity_catchment_by_hand() -> None:
    """Two facilities, four communities.

    f1 (20 places) reaches c1 (10 vulnerable) and c2 (30); f2 (10 places) reaches c2.
    R1 = 20 / (10 + 30) = 0.5 places per person; R2 = 10 / 30 = 1/3.
    c1: 100 × 0.5 = 50 per 100; c2: 100 × (0.5 + 1/3) = 83.33 per 100.
    Places accessible: c1 50 × 10 / 100 = 5; c2 83.33 × 30 / 100 = 25; 5 + 25 = 30 places,
    all of f1 and f2. c3 has no vulnerable elderly (no rate), c4 no data.
    With 60 places per 100 needed, c1 lacks places and c2 does not.
    """
    demand = pd.Series([10.0, 30.0, 0.0, np.nan], index=["c1", "c2", "c3", "c4"])
    places = pd.Series([20.0, 10.0], index=["f1", "f2"])
    pairs = pd.DataFrame({"facility_id": ["f1", "f1", "f2", "f2"],
                          "community_id": ["c1", "c2", "c2", "c3"]})
    comm, fac = capacity_catchment(demand, places, pairs, min_per_100=60)
    assert comm.loc["c1", "care_places_per_100_vulnerable"] == pytest.approx(50.0)
    assert comm.loc["c2", "care_places_per_100_vulnerable"] == pytest.approx(250 / 3)
    assert comm.loc["c1", "care_places_accessible"] == pytest.approx(5.0)
    assert comm.loc["c2", "care_places_accessible"] == pytest.approx(25.0)
    assert comm["care_places_accessible"].sum() == pytest.approx(30.0)
    assert comm.loc["c1", "care_places_required"] == pytest.approx(6.0)
    assert np.isnan(comm.loc["c3", "care_places_per_100_vulnerable"])
    assert list(comm["lacks_care_places"]) == [True, False, None, None]
    assert fac.loc["f1", "vulnerable_in_circle"] == 40
    assert fac.loc["f2", "vulnerable_in_circle"] == 30
    assert fac["care_places_free"].to_dict() == {"f1": 0.0, "f2": 0.0}  # 20 < 40, 10 < 30


def test_vulnerable_demand_is_the_largest_group_unless_given() -> None:
    comm = pd.DataFrame({"elderly_80plus": [12, 3], "living_alone": [5, np.nan],
                         "empty_nest": [20, 1], "disabled": [2, 4]}, index=["a", "b"])
    demand, basis = vulnerable_demand(comm)
    assert basis == "max_of_groups"
    assert list(demand) == [20, 4]  # a person can be in several groups: no sum
    demand, basis = vulnerable_demand(comm.assign(vulnerable_elderly=[25, 6]))
    assert (basis, list(demand)) == ("vulnerable_elderly", [25, 6])


# --------------------------------------------------------------------------- centres

def test_centre_over_and_under_ten_stations_and_unreached_station() -> None:
    """Centre A is nearest to 11 stations (over 10), B to 3 (under), C to none.

    s12 is 500 m from A and 400 m from B: it goes to B. s15 is 5,000 m from A, beyond
    the 3,000 m reach: no centre runs it.
    """
    rows = [("A", f"s{i}", 100.0 * i) for i in range(1, 12)]
    rows += [("A", "s12", 500.0), ("B", "s12", 400.0), ("B", "s13", 300.0),
             ("B", "s14", 2999.0), ("A", "s15", 5000.0)]
    d = pd.DataFrame(rows, columns=["centre_id", "station_id", "distance_m"])
    stations = pd.Index([f"s{i}" for i in range(1, 16)])
    lead = lead_stations(stations, d, reach_m=3000)
    assert lead.loc["s12", "lead_centre_id"] == "B"
    assert lead.loc["s12", "lead_distance_m"] == 400.0
    assert lead.loc["s15", "lead_centre_id"] is None
    assert not lead.loc["s15", "centre_reaches"]
    loads = centre_loads(pd.Index(["A", "B", "C"]), lead, per_centre=10)
    assert loads["stations_led"].to_dict() == {"A": 11, "B": 3, "C": 0}
    assert loads["station_load_status"].to_dict() == {"A": "over", "B": "under", "C": "none"}


def test_managed_by_checked_against_reach() -> None:
    d = pd.DataFrame({"centre_id": ["A", "B"], "station_id": ["s3", "s1"],
                      "distance_m": [800.0, 4000.0]})
    managed = pd.Series({"s1": "B", "s2": "X", "s3": "A", "s4": None})
    lead = lead_stations(pd.Index(["s1", "s2", "s3", "s4"]), d, reach_m=3000,
                         managed_by=managed, centres=pd.Index(["A", "B"]))
    assert lead["managed_by_check"].to_dict() == {
        "s1": "beyond_reach", "s2": "not_a_centre", "s3": "ok", "s4": "missing"}
    assert lead.loc["s3", "lead_distance_m"] == 800.0
    loads = centre_loads(pd.Index(["A", "B"]), lead, per_centre=10)
    assert loads["stations_led"].to_dict() == {"A": 1, "B": 1}  # as managed, not as reached


# --------------------------------------------------------------------------- tiers, beds

def _points(rows: list[dict], xy: list[tuple[float, float]], index: str) -> gpd.GeoDataFrame:
    geoms = [shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in xy]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC).set_index(index)


def test_missing_tier_per_unit() -> None:
    comm = _points([{"community_id": "a", "street": "东街"},
                    {"community_id": "b", "street": "西街"}], [(0, 0), (5000, 0)], "community_id")
    fac = _points([{"facility_id": "c1", "kind": "street_centre", "street": "东街"},
                   {"facility_id": "s1", "kind": "station", "street": "西街"},
                   {"facility_id": "g", "kind": "nursing_home", "level": "county",
                    "street": "西街"}],
                  [(10, 0), (5010, 0), (5020, 0)], "facility_id")
    tiers, notes = tiers_by_unit(comm, fac, ["county", "township", "community"])
    got = {(r.tier, r.unit): r.present for r in tiers.itertuples()}
    assert got == {("county", "(study area)"): True,  # the county-level nursing home
                   ("township", "东街"): True, ("township", "西街"): False}
    assert notes == ["tier community: no 'shequ' column in the communities; not checked"]
    # the same district without the county-level facility misses the county tier
    tiers, _ = tiers_by_unit(comm, fac.drop(index="g"), ["county"])
    assert list(tiers["present"]) == [False]


def test_colocation_within_and_beyond_the_distance() -> None:
    """s1: health centre 60 m east, nursing station 80 m north: both within 100 m.
    s2: health centre 150 m east (beyond 100 m), nursing station 90 m: not co-located."""
    fac = _points([{"facility_id": i, "kind": k} for i, k in [
        ("s1", "station"), ("h1", "health_centre"), ("n1", "nursing_station"),
        ("s2", "station"), ("h2", "health_centre"), ("n2", "nursing_station")]],
        [(0, 0), (60, 0), (0, 80), (3000, 0), (3150, 0), (3000, 90)], "facility_id")
    out = colocation(fac, station_kinds=["station"],
                     with_kinds=["health_centre", "nursing_station"], distance_m=100)
    assert out.loc["s1", "nearest_health_centre_m"] == pytest.approx(60)
    assert out.loc["s2", "nearest_health_centre_m"] == pytest.approx(150)
    assert out.loc["s2", "nearest_nursing_station_m"] == pytest.approx(90)
    assert out["colocated"].to_dict() == {"s1": True, "s2": False}


def test_bed_rules() -> None:
    """Centres need 20 beds (Wanzhou): 25 passes, 15 fails, no data is unknown; a station
    is not a centre. Nursing beds: (40 + 40) / (100 + 50) = 53.3 % ≥ 50 %; a home without
    nursing_beds is left out."""
    fac = pd.DataFrame({"kind": ["street_centre", "township_centre", "street_centre",
                                 "station", "nursing_home", "nursing_home"],
                        "beds": [25, 15, None, 30, 100, 80],
                        "nursing_beds": [40, None, None, None, 40, None]},
                       index=["c1", "c2", "c3", "s", "h1", "h2"])
    fac.loc["c1", "beds"] = 50
    ok = centre_beds(fac, kinds=["street_centre", "township_centre"], min_beds=20)
    assert ok.to_dict() == {"c1": True, "c2": False, "c3": None, "s": None, "h1": None,
                            "h2": None}
    share = bed_share(fac, threshold=0.5)
    assert (share["beds"], share["nursing_beds"], share["facilities"]) == (150, 80, 2)
    assert share["share"] == pytest.approx(80 / 150)
    assert share["passed"] is True
    fac.loc["h1", "nursing_beds"] = 20  # (40 + 20) / 150 = 40 % < 50 %
    assert bed_share(fac, threshold=0.5)["passed"] is False


def test_rules_stated_or_assumed() -> None:
    wz = care_rules(("wanzhou", "national"))
    assert wz["stations_per_centre"] == 10 and not wz.rule("stations_per_centre").assumption
    assert "10个左右" in wz.rule("stations_per_centre").source
    assert wz["centre_min_beds"] == 20 and "20张以上" in wz.rule("centre_min_beds").source
    assert wz.rule("places_per_100_vulnerable").assumption  # no city states it
    assert care_rules(("jinzhong", "national"))["tiers"] == ["county", "township", "community"]
    assert care_rules(("national",))["tiers"] == []
    assert not care_rules("yangjiang").rule("nursing_bed_share").assumption


# --------------------------------------------------------------------------- privacy

def test_suppression_and_safe_totals() -> None:
    frame = pd.DataFrame({"living_alone": [3, 0, 7, np.nan], "rate": [1.0, 2.0, 3.0, 4.0]})
    out = suppress_counts(frame, ["living_alone"], threshold=5, withhold=["rate"])
    assert list(out["living_alone"]) == ["<5", "<5", 7, None]
    assert list(out["rate"]) == [None, None, 3.0, 4.0]
    assert safe_total([3, 0, 7]) == 10
    assert safe_total([1, 2]) == "<5"
    assert safe_total([12, 1]) == 15  # 13 rounded to the nearest multiple of 5
    assert safe_total([np.nan]) is None
    assert [is_safe(v) for v in (4, "<5", 5, "3", None)] == [False, True, True, False, True]


@pytest.fixture
def care_district(tmp_path: Path) -> dict[str, Path]:
    """A 5 km street; a street centre at 0 m, stations at 1,000 and 4,000 m, a health
    centre and a nursing station beside the first station; four communities whose
    vulnerable-elderly counts include 0-4 (to be suppressed)::

        F0 --A------S1 H1 B-------------C---------------S2----D---|
        0   300    1000 1050 1100       2500           4000  4600  5000 m
    """
    roads = write_road_lines(tmp_path / "roads.geojson",
                             [[(x, 0), (x + 500, 0)] for x in range(0, 5000, 500)])
    comm_rows = [
        {"community_id": "A", "households": 200, "elderly_80plus": 30, "living_alone": 3,
         "empty_nest": 12, "disabled": 0, "area_type": "urban"},
        {"community_id": "B", "households": 150, "elderly_80plus": 4, "living_alone": 2,
         "empty_nest": 1, "disabled": 1, "area_type": "urban"},
        {"community_id": "C", "households": 100, "elderly_80plus": 8, "living_alone": 6,
         "empty_nest": 9, "disabled": 2, "area_type": "urban"},
        {"community_id": "D", "households": 80, "elderly_80plus": 12, "living_alone": 5,
         "empty_nest": 7, "disabled": 3, "area_type": "rural"},
    ]
    for row in comm_rows:
        row["street"] = "S1"
    communities = write_points_csv(tmp_path / "communities.csv", comm_rows,
                                   [(300, 0), (1100, 0), (2500, 0), (4600, 0)])
    fac_rows = [
        {"facility_id": "F0", "kind": "street_centre", "floor_area_m2": 1600, "beds": 25,
         "nursing_beds": 10, "day_care_places": 10, "home_visit_capacity": 20},
        {"facility_id": "S1", "kind": "station", "floor_area_m2": 300, "day_care_places": 15,
         "home_visit_capacity": 10},
        {"facility_id": "S2", "kind": "station", "floor_area_m2": 300,
         "home_visit_capacity": 20},
        {"facility_id": "H1", "kind": "health_centre", "floor_area_m2": 500},
        {"facility_id": "N1", "kind": "nursing_station", "floor_area_m2": 200},
    ]
    facilities = write_points_csv(tmp_path / "facilities.csv", fac_rows,
                                  [(0, 0), (1000, 0), (4000, 0), (1050, 0), (1000, 80)])
    return {"network": roads, "communities": communities, "facilities": facilities,
            "dir": tmp_path}


def _run(district: dict[str, Path], out: Path) -> dict:
    r = CliRunner().invoke(main, [
        "run", "--network", str(district["network"]), "--communities",
        str(district["communities"]), "--facilities", str(district["facilities"]),
        "--profile", "wanzhou", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "care: vulnerable elderly 55" in r.output  # the CLI prints the care summary
    assert "stations no centre reaches within 3,000 m: S2" in r.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_care_district_end_to_end(care_district: dict[str, Path], tmp_path: Path) -> None:
    """Worked by hand (Wanzhou: 15 min urban, 25 min rural, 1.0 m/s → 900 / 1,500 m).

    Places: F0 25 + 10 + 20 = 55, S1 25, S2 20. Circles: F0 reaches A (300 m); S1 reaches
    A (700 m) and B (100 m); S2 reaches D (600 m); nothing reaches C (1,500 m to S1 > 900).
    Vulnerable (largest group): A 30, B 4, C 9, D 12. C lacks places.
    Centres: S1 is 1,000 m from F0 (led), S2 4,000 m (beyond 3,000 m): F0 leads 1 (under 10).
    Health circle: H1 at 1,050 m; A 750 m (12.5 min ≤ 15) and B 50 m within, C 1,450 m
    (24.2 min > 15, urban) and D 3,550 m not. Co-location: S1 has H1 50 m and N1 80 m away;
    S2 has neither within 100 m. F0 has 25 beds ≥ 20.
    """
    summary = _run(care_district, tmp_path / "out")
    care = summary["care"]
    assert any("suppressed" in c for c in summary["choices"])  # shown with every report
    assert any("places_per_100_vulnerable" in c and "assumptions" in c
               for c in summary["choices"])
    assert care["vulnerable"]["communities_lacking_places_ids"] == ["C"]
    assert care["vulnerable"]["total"] == 55  # 30 + 4 + 9 + 12 = 55
    assert care["vulnerable"]["by_group"] == {"elderly_80plus": 55, "living_alone": 15,
                                              "empty_nest": 30, "disabled": 5}
    assert care["places"]["total"] == 100  # 55 + 25 + 20
    assert care["centres"]["under"] == ["F0"]
    assert care["stations"]["not_reached_by_a_centre"] == ["S2"]
    assert care["colocation"]["not_colocated"] == ["S2"] and care["colocation"]["colocated"] == 1
    assert care["beds"]["centres_below"] == [] and care["beds"]["centres_checked"] == 1
    assert care["health_circle"]["communities_health_within"] == 2
    assert care["health_circle"]["communities_health_plus_care"] == 2
    comm = pd.read_csv(tmp_path / "out" / "communities.csv", encoding="utf-8-sig",
                       dtype=str).set_index("community_id")
    # A: F0 55 / 30 + S1 25 / 34 per person → 100 × (1.8333 + 0.7353) = 256.9 per 100
    assert float(comm.loc["A", "care_places_per_100_vulnerable"]) == pytest.approx(256.9, abs=0.1)
    assert comm.loc["B", "vulnerable_elderly"] == "<5"
    assert pd.isna(comm.loc["B", "care_places_per_100_vulnerable"])  # would reveal B's 4
    fac = gpd.read_file(tmp_path / "out" / "facilities.gpkg", layer="facilities").set_index(
        "facility_id")
    assert fac.loc["S1", "lead_centre_id"] == "F0"
    assert fac.loc["S1", "lead_distance_m"] == pytest.approx(1000, abs=1)
    assert fac.loc["F0", "stations_led"] == 1
    # F0: 55 places, 30 vulnerable in its circle (A) → 25 free; S2: 20 places, 12 (D) → 8
    assert float(fac.loc["F0", "care_places_free"]) == 25
    assert float(fac.loc["S2", "care_places_free"]) == 8


def _numbers_after(text: str, key: str) -> list[float]:
    return [float(x) for x in re.findall(rf'"{key}"\s*:\s*"?(-?\d+(?:\.\d+)?)', text)]


def test_no_exported_file_has_a_count_below_five(care_district: dict[str, Path],
                                                 tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(care_district, out)
    raw = pd.read_csv(care_district["communities"])
    assert ((raw[list(COUNT_COLUMNS[:4])] < 5).sum().sum()) == 8  # the input has small counts
    exported = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    assert {"communities.csv", "communities.gpkg", "facilities.gpkg", "gap_map.html",
            "summary.json"} <= set(exported)
    seen_label = 0
    for path in out.iterdir():
        if path.suffix == ".csv":
            frames = [pd.read_csv(path, encoding="utf-8-sig", dtype=str)]
        elif path.suffix == ".gpkg":
            import pyogrio  # noqa: PLC0415
            frames = [gpd.read_file(path, layer=name)
                      for name, _ in pyogrio.list_layers(path)]
        else:
            continue
        for frame in frames:
            for col in set(COUNT_COLUMNS) & set(frame.columns):
                bad = [v for v in frame[col] if not is_safe(v)]
                assert bad == [], f"{path.name}:{col} has {bad}"
                seen_label += int((frame[col] == "<5").sum())
    assert seen_label >= 8  # the small counts are there, suppressed (CSV and GeoPackage)
    for name in ("summary.json", "gap_map.html"):
        text = (out / name).read_text(encoding="utf-8")
        for col in COUNT_COLUMNS:
            assert all(v >= 5 for v in _numbers_after(text, col)), (name, col)
    care = json.loads((out / "summary.json").read_text(encoding="utf-8"))["care"]
    assert all(is_safe(v) for v in care["vulnerable"]["by_group"].values())
    page = (out / "gap_map.html").read_text(encoding="utf-8")
    assert '"care-vulnerable"' in page  # the care layer is on the map, with suppressed counts
    assert '"living_alone":"\\u0026lt;5"' in page  # "<5", HTML-escaped in the popup text
    assert '"elderly_80plus":"30"' in page


def test_bad_care_count_names_file_row_column(care_district: dict[str, Path],
                                              tmp_path: Path) -> None:
    path = care_district["communities"]
    frame = pd.read_csv(path)
    frame["disabled"] = frame["disabled"].astype(object)
    frame.loc[2, "disabled"] = "几个"
    frame.to_csv(path, index=False)
    area = load_study_area(care_district["network"], path, care_district["facilities"])
    with pytest.raises(InputError) as err:
        assess(area, "wanzhou", isochrones=False)
    msg = str(err.value)
    assert "communities.csv" in msg and "row 4" in msg and "'disabled'" in msg and "几个" in msg


def test_sample_district_with_care_values(tmp_path: Path) -> None:
    """Plausible values on the generated sample; places are conserved by the catchment."""
    paths = write_sample(tmp_path / "in", size=0.1, seed=5)
    area = load_study_area(paths["roads"], paths["communities"], paths["facilities"],
                           gates=paths["gates"])
    area.communities, area.facilities = add_sample_care_columns(area.communities,
                                                                area.facilities, seed=5)
    given = pd.to_numeric(area.communities.get("elderly"), errors="coerce")
    elderly = given.fillna(area.communities["households"] * 0.45)  # as the function assumes
    share = area.communities["elderly_80plus"].sum() / elderly.sum()
    assert 0.08 < share < 0.16  # about 12 % of people aged 60+
    result = assess(area, "jinzhong", isochrones=False)
    c, f = result.care.communities, result.care.facilities
    # Σ accessible places = Σ places of the facilities with vulnerable elderly in their circle
    supplying = f[(f["vulnerable_in_circle"] > 0)]["care_places"].sum()
    assert c["care_places_accessible"].sum() == pytest.approx(supplying)
    # exported columns: every count safe
    for col in ("elderly_80plus", "living_alone", "empty_nest", "disabled",
                "vulnerable_elderly"):
        assert all(is_safe(v) for v in result.communities[col])
    assert result.summary["care"]["tiers"]["required"] == ["county", "township", "community"]


def test_care_without_centres_stations_or_health(care_district: dict[str, Path]) -> None:
    """Only nursing homes with beds: the checks run and report empty lists, not errors."""
    path = care_district["facilities"]
    frame = pd.read_csv(path)
    frame = frame[frame["facility_id"] == "F0"].assign(kind="nursing_home", nursing_beds=20,
                                                       beds=30)
    frame.to_csv(path, index=False)
    area = load_study_area(care_district["network"], care_district["communities"], path)
    result = assess(area, "yangjiang", isochrones=False)
    care = result.summary["care"]
    assert care["centres"]["count"] == 0 and care["stations"]["count"] == 0
    assert care["health_circle"] is None
    assert care["beds"]["nursing_share"]["share"] == pytest.approx(20 / 30)
    assert care["beds"]["nursing_share"]["passed"] is True  # Yangjiang: ≥ 50 %
    # the nursing home's 30 beds + 10 day-care + 20 home-visit places serve A (300 m away)
    assert result.care.communities.loc["A", "care_places_accessible"] == pytest.approx(60)


def test_bad_care_count_names_the_row_as_excel_shows_it(tmp_path):
    path = tmp_path / "communities.csv"
    # row 1 header, row 2 data, row 3 blank, row 4 the bad count: Excel says row 4
    path.write_text("community_id,households,living_alone\nc1,100,3\n,,\nc2,80,many\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"row 4, column 'living_alone', value 'many'"):
        _read(path, "community_id", {}, ("living_alone",))
