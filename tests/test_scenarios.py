"""Scenarios: hand-worked differences on a straight street, and incremental = full re-run.

The street runs from x = 0 to x = 2,000 m (nodes every 500 m); communities and facilities
sit on it, so every walk is the difference of their x. Profile yangjiang: 15-minute
circles at 1.0 m/s = 900 m; 15 m² per 100 households for old estates, 20 for new-build
(the per-household text read per 100 households, the default).
"""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from planner._errors import InputError
from planner.cli import main
from planner.pipeline import StudyArea, assess, load_study_area
from planner.reach import compile_arrays
from planner.sample import write_sample
from planner.scenarios import Scenario, compare
from planner.scenarios.maps import before_after_map, changed_communities
from tests.conftest import METRIC, ORIGIN, to_lonlat

X0, Y0 = ORIGIN


def _line_net():
    xs = np.arange(0.0, 2001.0, 500.0)
    geoms = np.array([shapely.LineString([(X0 + a, Y0), (X0 + b, Y0)])
                      for a, b in itertools.pairwise(xs)], dtype=object)
    n = len(xs)
    return compile_arrays(crs=gpd.GeoSeries([], crs=METRIC).crs.to_wkt(), node_x=X0 + xs,
                          node_y=np.full(n, Y0), edge_u=np.arange(n - 1),
                          edge_v=np.arange(1, n), edge_geoms=geoms)


def _points(rows: list[dict], xs: list[float], index: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=[shapely.Point(X0 + x, Y0) for x in xs],
                            crs=METRIC).set_index(index)


def make_line_area() -> StudyArea:
    """The street.

    A (x=100, 200 hh, old, S1), B (700, 100 hh, old, S1), C (1500, 300 hh, new, S2),
    D (1950, 100 hh, old, S2); station F1 at x = 0 with 60 m².
    """
    comm = _points([{"community_id": c, "name": c, "households": h, "status": s,
                     "area_type": "urban", "street": st}
                    for c, h, s, st in [("A", 200, "old", "S1"), ("B", 100, "old", "S1"),
                                        ("C", 300, "new", "S2"), ("D", 100, "old", "S2")]],
                   [100, 700, 1500, 1950], "community_id")
    fac = _points([{"facility_id": "F1", "kind": "station", "floor_area_m2": 60.0,
                    "status": "existing"}], [0], "facility_id")
    return StudyArea(_line_net(), comm, fac)


@pytest.fixture(scope="module")
def base() -> Scenario:
    return Scenario.from_area(make_line_area(), "yangjiang")


def _status(s: Scenario) -> dict[str, str]:
    return s.result().communities["service_status"].to_dict()


def _per100(s: Scenario) -> dict[str, float]:
    return s.result().communities["accessible_m2_per_100hh"].round(9).to_dict()


def test_baseline_by_hand(base):
    # F1 (60 m²) reaches A (100 m) and B (700 m): 60 / 300 hh = 20 m² per 100 households.
    assert _per100(base) == {"A": 20.0, "B": 20.0, "C": 0.0, "D": 0.0}
    assert _status(base) == {"A": "meets", "B": "meets", "C": "uncovered", "D": "uncovered"}
    assert base.result().summary["households_by_status"]["uncovered"] == 400


def test_add_facility_by_hand(base):
    # F2 (40 m²) at x = 1800 reaches C (300 m) and D (150 m), not B (1,100 m):
    # 40 / 400 hh = 10 m² per 100 households: C (new, 20) and D (old, 15) fall short.
    more = base.add_facility("F2", x=X0 + 1800, y=Y0, floor_area_m2=40, name="add F2")
    assert _per100(more) == {"A": 20.0, "B": 20.0, "C": 10.0, "D": 10.0}
    assert _status(more)["C"] == _status(more)["D"] == "below_standard"
    assert more.recomputed[-1] == "searched 1 new circle(s): 2 pairs"
    # resized to 80 m²: 80 / 400 = 20 per 100 households: both meet (C exactly at 20)
    bigger = more.resize_facility("F2", 80, name="F2 80 m2")
    assert _status(bigger)["C"] == _status(bigger)["D"] == "meets"
    assert bigger.recomputed[-1] == "no search"
    cmp = compare(base.result(), more.result(), bigger.result())
    streets = cmp.streets.set_index("street")
    assert streets.loc["S2", "households_meets_gain[add F2]"] == 0
    assert streets.loc["S2", "households_meets_gain[F2 80 m2]"] == 400
    assert streets.loc["S1", "households_meets_gain[F2 80 m2]"] == 0
    moves = cmp.status_moves("add F2")
    assert moves.loc["uncovered", "below_standard"] == 400
    assert list(cmp.communities.loc[cmp.communities["changed"], "community_id"]) == ["C", "D"]
    assert cmp.totals.loc["F2 80 m2", "households_meets_gain"] == 400


def test_move_and_close_by_hand(base):
    # F1 moved to x = 1100 reaches B (400), C (400), D (850), not A (1,000):
    # 60 / 500 hh = 12 per 100 households: B (15) C (20) D (15) all short; A uncovered.
    moved = base.move_facility("F1", x=X0 + 1100, y=Y0)
    assert _per100(moved) == {"A": 0.0, "B": 12.0, "C": 12.0, "D": 12.0}
    assert _status(moved) == {"A": "uncovered", "B": "below_standard",
                              "C": "below_standard", "D": "below_standard"}
    closed = base.close_facilities(["F1"])
    assert set(_status(closed).values()) == {"uncovered"}
    assert closed.result().summary["shortfall_m2"] == pytest.approx(
        (200 * 15 + 100 * 15 + 300 * 20 + 100 * 15) / 100)


def test_new_project_by_hand(base):
    # E: 500 new-build households at x = 400 join F1's circle: 60 / 800 = 7.5 per 100.
    grown = base.add_community("E", households=500, x=X0 + 400, y=Y0, status="new",
                               area_type="urban", street="S1")
    assert _per100(grown)["A"] == pytest.approx(7.5)
    assert _status(grown) == {"A": "below_standard", "B": "below_standard", "C": "uncovered",
                              "D": "uncovered", "E": "below_standard"}
    cmp = compare(base.result(), grown.named("project E").result())
    assert cmp.status_moves().loc["new", "below_standard"] == 500
    assert cmp.status_moves().loc["meets", "below_standard"] == 300


def test_slower_walking_refilters(base):
    # 0.5 m/s: 15 minutes = 450 m. F1 now reaches A only: 60 / 200 = 30 per 100; B uncovered.
    slow = base.with_speed(0.5)
    assert slow.recomputed[-1] == "re-filtered"
    assert slow.graph is base.graph  # no search, the same cost table
    assert _per100(slow) == {"A": 30.0, "B": 0.0, "C": 0.0, "D": 0.0}
    assert _status(slow)["B"] == "uncovered"
    # 10-minute circles at 1.0 m/s = 600 m: F1 reaches A (100 m) but not B (700 m).
    short = base.with_minutes(urban=10)
    assert _status(short)["B"] == "uncovered"
    # faster than the table reaches: 2.0 m/s x 15 min = 1,800 m; the district is searched
    # again and F1 reaches C (1,500 m): 60 / 600 hh = 10 per 100.
    fast = base.with_speed(2.0)
    assert fast.max_distance_m == pytest.approx(1800)
    assert "searched the district again" in fast.recomputed[-1]
    assert _per100(fast) == {"A": 10.0, "B": 10.0, "C": 10.0, "D": 0.0}


def test_targets_differ(base):
    # yangjiang's urban coverage target (estates, as there is no 社区 column): 2 of 4 covered,
    # with F2 at x = 1800 all 4.
    more = base.add_facility("F2", x=X0 + 1800, y=Y0, floor_area_m2=40, name="F2")
    t = compare(base.result(), more.result()).targets.set_index("id")
    assert t.loc["urban_coverage", "value[baseline]"] == pytest.approx(0.5)
    assert t.loc["urban_coverage", "value[F2]"] == pytest.approx(1.0)


def test_bad_edits_are_named(base):
    with pytest.raises(InputError, match="no facility with id 'F9'"):
        base.resize_facility("F9", 10)
    with pytest.raises(InputError, match="already exist"):
        base.add_facility("F1", x=X0, y=Y0, floor_area_m2=10)
    with pytest.raises(InputError, match="unknown kind"):
        base.add_facility("F3", x=X0, y=Y0, floor_area_m2=10, kind="school")
    with pytest.raises(InputError, match="positive"):
        base.with_speed(0)
    with pytest.raises(InputError, match="different names"):
        compare(base.result(), base.result())


def test_before_after_map(base):
    more = base.add_facility("F2", x=X0 + 1800, y=Y0, floor_area_m2=40, name="F2")
    assert list(changed_communities(base.result(), more.result())) == ["C", "D"]
    page = before_after_map(base.result(), more.result()).html
    assert "https://unpkg" not in page and "<script src" not in page  # Leaflet inlined
    assert page.count('"o": true') == 2  # C and D outlined


# ------------------------------------------------------------ the sample district


@pytest.fixture(scope="module")
def sample_area(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scn")
    files = write_sample(folder, seed=7, size=0.5)
    return load_study_area(files["roads"], files["communities"], files["facilities"],
                           gates=files["gates"])


RESULT_COLUMNS = ["service_status", "facilities_within", "accessible_m2",
                  "accessible_m2_per_100hh", "shortfall_m2", "nearest_facility_id",
                  "nearest_minutes"]


def _rebuilt(area: StudyArea, scenario: Scenario):
    """The same layers assessed from scratch (one search of the whole district)."""
    again = dataclasses.replace(area, communities=scenario.communities,
                                facilities=scenario.facilities, gates=scenario.gates)
    return Scenario.from_area(again, scenario.profile, speed_m_s=scenario.speed_m_s,
                              max_distance_m=scenario.max_distance_m).result()


def test_incremental_equals_full_rerun(sample_area):
    base = Scenario.from_area(sample_area, "jinzhong")
    r = base.result()
    uncovered = r.communities[r.communities["service_status"] == "uncovered"]
    spot = uncovered.geometry.iloc[0].representative_point()
    some = r.facilities.index[0]
    edited = (base.add_facility("NEW1", x=spot.x, y=spot.y, floor_area_m2=300)
              .move_facility(some, x=spot.x + 400, y=spot.y)
              .resize_facility("NEW1", 500)
              .add_community("P1", households=2000, x=spot.x + 200, y=spot.y, status="new",
                             area_type="urban", street="new town")
              .close_facilities([r.facilities.index[1]]))
    inc, full = edited.result(), _rebuilt(sample_area, edited)
    pd.testing.assert_frame_equal(inc.communities[RESULT_COLUMNS],
                                  full.communities[RESULT_COLUMNS])  # exactly, not approx
    pd.testing.assert_frame_equal(inc.costs, full.costs)
    pd.testing.assert_frame_equal(inc.targets, full.targets)
    pd.testing.assert_frame_equal(inc.streets, full.streets)
    assert inc.communities.loc["P1", "service_status"] != "unreachable"


def test_baseline_equals_pipeline(sample_area):
    # an independent path: planner.pipeline.assess searches with its own settings
    ours = Scenario.from_area(sample_area, "jinzhong").result().communities
    theirs = assess(sample_area, "jinzhong", isochrones=False).communities
    assert (ours["service_status"] == theirs["service_status"]).all()
    assert (ours["facilities_within"] == theirs["facilities_within"]).all()
    np.testing.assert_allclose(ours["accessible_m2"], theirs["accessible_m2"], rtol=1e-12)


def test_planned_facilities_scenario_equals_pipeline(sample_area):
    base = Scenario.from_area(sample_area, "jinzhong")
    ours = base.with_planned().result().communities["service_status"]
    theirs = assess(sample_area, "jinzhong", include_planned=True,
                    isochrones=False).communities["service_status"]
    assert (ours == theirs).all()


# ------------------------------------------------------------ planner run --scenario


def test_run_with_scenario_file(line_district, tmp_path):
    """The street of tests/conftest.py (national profile, 900 m circles).

    Baseline: F1 (60 m², x = 0) reaches A (300 m) and B (840 m): 60 / 400 hh = 15 per 100:
    A (old, 15) meets, B (new-build, 20) falls short; C (x = 1200) and D (500 m off the
    road) are uncovered. The change adds F2 (100 m²) at x = 1300: it reaches C (100 m) and
    B (460 m), not A (1,000 m) nor D (600 + 500 m): 100 / 300 hh = 33.3 per 100, so B
    (15 + 33.3) and C (33.3) meet: households meeting 200 -> 500.
    """
    lon, lat = to_lonlat([(1300, 0)])
    changes = tmp_path / "changes.csv"
    pd.DataFrame([{"action": "add_facility", "id": "F2", "kind": "station",
                   "floor_area_m2": 100, "lon": lon[0], "lat": lat[0]}]).to_csv(
        changes, index=False, float_format="%.10f")
    d = line_district
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [
        "run", "--network", str(d["network"]), "--communities", str(d["communities"]),
        "--facilities", str(d["facilities"]), "--no-map", "--scenario", str(changes),
        "--out", str(out)])
    assert res.exit_code == 0, res.output
    comm = pd.read_csv(out / "scenario" / "communities.csv", encoding="utf-8-sig")
    changed = comm[comm["changed"]].set_index("community_id")
    assert sorted(changed.index) == ["B", "C"]
    assert changed.loc["B", "service_status[changes]"] == "meets"
    assert changed.loc["C", "accessible_m2_per_100hh[changes]"] == pytest.approx(100 / 3, abs=0.05)
    totals = pd.read_csv(out / "scenario" / "totals.csv", encoding="utf-8-sig").set_index(
        "scenario")
    assert totals.loc["baseline", "households_meets"] == 200
    assert totals.loc["changes", "households_meets"] == 500
    assert "2 communities change status" in res.output
    assert (out / "scenario" / "before_after_map.html").exists()


def test_bad_changes_file(line_district, tmp_path):
    changes = tmp_path / "changes.csv"
    changes.write_text("action,id,floor_area_m2\nresize_facility,F1,big\n", encoding="utf-8")
    d = line_district
    res = CliRunner().invoke(main, [
        "run", "--network", str(d["network"]), "--communities", str(d["communities"]),
        "--facilities", str(d["facilities"]), "--no-map", "--scenario", str(changes),
        "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "changes.csv: row 2, column floor_area_m2: value 'big' is not a number" in res.output


def test_quick_equals_result(sample_area):
    base = Scenario.from_area(sample_area, "jinzhong")
    r = base.result()
    spot = r.communities[r.communities["service_status"] == "uncovered"].geometry.iloc[0]
    spot = spot.representative_point()
    fids = r.facilities.index
    edits = [
        base.add_facility("NEW1", x=spot.x, y=spot.y, floor_area_m2=300),
        base.move_facility(fids[0], x=spot.x + 300, y=spot.y).resize_facility(fids[1], 50),
        base.close_facilities(fids[:3]).add_facility("NEW2", x=spot.x, y=spot.y,
                                                     floor_area_m2=600, kind="day_care"),
        base.with_planned(),
    ]
    for s in edits:
        q, full = s.quick(), s.result()
        assert (q.communities["service_status"] == full.communities["service_status"]).all()
        assert (q.communities["facilities_within"] == full.communities["facilities_within"]).all()
        np.testing.assert_allclose(q.communities["accessible_m2"],
                                   full.communities["accessible_m2"], rtol=1e-12, atol=1e-9)
        cols = ["id", "numerator", "denominator", "value", "passed"]
        pd.testing.assert_frame_equal(q.targets[cols], full.targets[cols])
    # an edit of communities starts a new lineage (assessed in full once)
    grown = edits[0].add_community("P9", households=900, x=spot.x, y=spot.y)
    assert grown.quick().communities.loc["P9", "service_status"] == \
        grown.result().communities.loc["P9", "service_status"]
