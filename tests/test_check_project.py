"""planner check-project on a hand-worked street: reach, sharing, pooling, neighbours, verdicts.

The street (local metres, y = 0; 1.0 m/s, so 60 m = 1 minute and a 15-minute circle is 900 m)::

    F1 ---- A ---- P ------ B ---- F3 ---- C ------------------------ D ----- F2
    0      300    600      840    900    1200                       2500    3000 m

F1: station 60 m² (existing); F2: day_care 100 m² (existing); F3: nursing home 500 m²
(existing, not counted towards floor area by default). Communities (all old except D):
A 200, B 200, C 100 households (old: 15 m² per 100 households, inherited from national),
D 400 (new). P is the project's site.

Base (Jinzhong), by hand: F1's circle holds A (300 m) and B (840 m): 400 households,
60 / 400 = 15 m² per 100 → A and B meet 15. C (1,200 m from F1, 1,800 from F2) is uncovered.
F2's circle holds D (500 m): 100 / 400 = 25 per 100, below D's 30 (new-build).
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
import shapely

from planner._errors import InputError
from planner.pipeline import StudyArea, load_study_area
from planner.project import check_project, make_project, prepare_district
from planner.project.batch import check_projects
from planner.project.inputs import ProjectRows
from planner.standards import load_profile
from tests.conftest import ORIGIN, write_points_csv, write_road_lines


def at(x: float, y: float = 0.0) -> shapely.Point:
    """A point of the street, metric CRS."""
    return shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y)


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("street")
    xs = [0, 500, 1000, 1500, 2000, 2500, 3000]
    roads = write_road_lines(d / "roads.geojson",
                             [[(a, 0), (b, 0)] for a, b in itertools.pairwise(xs)])
    comm = write_points_csv(
        d / "communities.csv",
        [{"community_id": c, "name": f"{c}小区", "households": h, "status": s}
         for c, h, s in [("A", 200, "old"), ("B", 200, "old"), ("C", 100, "old"),
                         ("D", 400, "new")]],
        [(300, 0), (840, 0), (1200, 0), (2500, 0)])
    fac = write_points_csv(
        d / "facilities.csv",
        [{"facility_id": "F1", "name": "一号站", "kind": "station", "floor_area_m2": 60},
         {"facility_id": "F2", "name": "日照", "kind": "day_care", "floor_area_m2": 100},
         {"facility_id": "F3", "name": "敬老院", "kind": "nursing_home", "floor_area_m2": 500}],
        [(0, 0), (3000, 0), (900, 0)])
    area = load_study_area(roads, comm, fac)
    return {"dir": d, "area": area, "roads": roads, "communities": comm, "facilities": fac,
            "jinzhong": prepare_district(area, load_profile("jinzhong"))}


def project(**kw: object):
    args = {"project_id": "P", "households": 1000, "geometry": at(600), "status": "new"}
    args.update(kw)
    return make_project(**args)  # type: ignore[arg-type]


def test_base_district_by_hand(street):
    base = street["jinzhong"].base
    c = base.communities
    assert c.loc["A", "accessible_m2_per_100hh"] == pytest.approx(15.0)  # 60 / 400 × 100
    assert c.loc["D", "accessible_m2_per_100hh"] == pytest.approx(25.0)  # 100 / 400 × 100
    assert list(c["service_status"]) == ["meets", "meets", "uncovered", "below_standard"]
    assert not base.facilities.loc["F3", "counted"]


def test_reach_share_and_effect_by_hand(street):
    check = check_project(street["jinzhong"], project(facility_m2=300))
    r = check.reach
    assert r["own_facility_minutes"] == pytest.approx(0.0, abs=1e-6)  # facility at the site
    assert r["nearest"]["station"]["facility_id"] == "F1"
    assert r["nearest"]["station"]["minutes"] == pytest.approx(10.0)  # 600 m at 60 m/min
    assert r["nearest"]["nursing_home"]["minutes"] == pytest.approx(5.0)  # 300 m
    assert r["nearest"]["day_care"]["minutes"] is None  # 2,400 m: beyond the 1,800 m search
    assert r["inside_existing_circle"]  # F1 is 600 m ≤ 900 m
    # shared: only F1 (F3 is a nursing home, not counted); 400 → 1,400 households
    assert list(check.shared.index) == ["F1"]
    s = check.shared.loc["F1"]
    assert (s["households_before"], s["households_after"]) == (400, 1400)
    assert s["m2_per_100hh_after"] == pytest.approx(100 * 60 / 1400)
    # planned 300 m² at x = 600 serves A (300 m), B (240), C (600) and P: 1,500 households,
    # 20 m² per 100. A: 15 - 15 + 4.2857 + 20; C: 0 + 20 ≥ 15, brought to standard.
    ch = check.changes
    assert ch.loc["A", "m2_per_100hh_after"] == pytest.approx(100 * 60 / 1400 + 20)
    assert ch.loc["C", "m2_per_100hh_after"] == pytest.approx(20.0)
    assert "D" not in ch.index  # 1,900 m from the site, not in F1's circle
    assert check.change_summary["brought_to_standard"] == ["C"]
    assert check.change_summary["brought_households"] == 100
    assert check.served_m2_per_100hh == pytest.approx(100 * 60 / 1400 + 20)
    # neighbours within 900 m of the site, nearest first
    assert list(check.neighbours.index) == ["B", "A", "C"]
    assert check.neighbours.loc["B", "minutes"] == pytest.approx(4.0)


def test_json_is_strict_without_nan_or_infinity(street):
    """check-project --json: NaN/±inf become null, numpy values plain numbers (planner.io)."""
    import json  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from planner.project.render import to_json  # noqa: PLC0415

    check = check_project(street["jinzhong"], project(facility_m2=300))
    check.reach["odd"] = {"inf": float("inf"), "nan": np.float64("nan"),
                          "minutes": np.array([np.inf, 1.23456])}

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON")

    data = json.loads(to_json(check), parse_constant=refuse)
    assert data["reach"]["odd"] == {"inf": None, "nan": None, "minutes": [None, 1.23]}
    assert data["reach"]["nearest"]["station"]["minutes"] == pytest.approx(10.0)
    assert data["verdict"] == check.verdict


def test_project_without_facility_pushes_neighbours_below(street):
    check = check_project(street["jinzhong"], project(households=1000))
    # 1,000 households join F1's circle: A and B fall from 15 to 60 / 1,400 × 100 = 4.29
    assert check.change_summary["pushed_below"] == ["A", "B"]
    assert check.change_summary["pushed_households"] == 400
    assert check.verdict == "fail"
    reasons = [f.id for f in check.reasons]
    # 1,000 households need 300 m² ≥ 200: not small, so pooling cannot replace building
    assert reasons == ["floor_area", "pooling", "planning_review"]
    assert "不予规划审核" in check.finding("planning_review").source


def test_pooling_small_project_with_neighbours(street):
    # Jinzhong, 500 households: 150 m² < 200 m², a small project; no facility of its own.
    # Pool with A, B, C (within 900 m): required 150 + 30 + 30 + 15 = 225 m².
    check = check_project(street["jinzhong"], project(households=500))
    pool = check.pooling
    assert pool["neighbours"] == ["B", "A", "C"]
    assert pool["households"] == 1000
    assert pool["required_m2"] == pytest.approx(225.0)
    assert pool["floor_area_m2"] == pytest.approx(60.0)  # A 30 + B 30 + C 0 (+ 0 planned)
    assert check.finding("pooling").outcome == "fail"
    assert check.verdict == "fail"
    # a larger F1 (400 m²): A and B each have 200 m² accessible; 400 ≥ 225: pooling passes
    area = street["area"]
    big = StudyArea(area.net, area.communities,
                    area.facilities.assign(floor_area_m2=[400.0, 100.0, 500.0]), area.gates)
    district = prepare_district(big, load_profile("jinzhong"))
    check = check_project(district, project(households=500))
    assert check.pooling["floor_area_m2"] == pytest.approx(400.0)
    assert check.finding("pooling").outcome == "condition"
    assert check.finding("floor_area").outcome == "condition"
    assert "planning_review" not in [f.id for f in check.findings]
    assert check.verdict == "pass_with_conditions"


def test_pooling_needs_a_clause(street):
    # Wanzhou has no pooling clause: the same small project fails on floor area
    area = street["area"]
    big = StudyArea(area.net, area.communities,
                    area.facilities.assign(floor_area_m2=[400.0, 100.0, 500.0]), area.gates)
    district = prepare_district(big, load_profile("wanzhou"))
    check = check_project(district, project(households=500))
    assert check.finding("pooling").outcome == "info"
    assert check.verdict == "fail"
    assert [f.id for f in check.reasons] == ["floor_area"]


def test_verdict_pass_needs_every_date(street):
    full = {"planning_approval": "2024-01-10", "housing_completion": "2025-06-01",
            "facility_acceptance": "2025-06-01", "handover": "2025-07-31"}  # 60 days
    check = check_project(street["jinzhong"], project(facility_m2=300, dates=full))
    assert check.verdict == "pass"
    assert check.reasons == [] and check.conditions == []
    partial = {k: v for k, v in full.items() if k != "handover"}
    check = check_project(street["jinzhong"], project(facility_m2=300, dates=partial))
    assert check.verdict == "pass_with_conditions"
    assert {f.id for f in check.conditions} == {"sync_handover", "handover_deadline"}
    late = {**full, "handover": "2025-08-01"}  # 61 days
    check = check_project(street["jinzhong"], project(facility_m2=300, dates=late))
    assert check.verdict == "fail"
    assert [f.id for f in check.reasons] == ["handover_deadline"]


def test_facility_outside_the_circle_is_a_condition(street):
    # facility at x = 1,600 (outside the site), 1,000 m from the project: 16.7 min > 15
    check = check_project(street["jinzhong"], project(
        facility_m2=300, facility_location="outside", facility_point=at(1600)))
    assert check.reach["own_facility_minutes"] == pytest.approx(1000 / 60)
    assert check.finding("reach").outcome == "condition"


def test_project_id_clash_is_bad_input(street):
    with pytest.raises(InputError, match="already a community id"):
        check_project(street["jinzhong"], project(project_id="A"))


def test_checks_leave_the_district_unchanged(street):
    district = street["jinzhong"]
    before = district.reach.sg.costs.copy()
    for hh in (300, 1200):
        check_project(district, project(households=hh, facility_m2=90))
    after = district.reach.sg.costs
    assert after.sort_values(["facility_id", "community_id"]).reset_index(drop=True).equals(
        before.sort_values(["facility_id", "community_id"]).reset_index(drop=True))


def test_batch_searches_equal_single_checks(street):
    # two projects on the same spot searched together must not see each other: each
    # gets the answers of its single check (P1: facility at the site; P2: none, at x = 600)
    district = street["jinzhong"]
    p1 = project(project_id="P1", facility_m2=300)
    p2 = project(project_id="P2", households=500)
    rows = ProjectRows([(2, p1), (3, p2)], pd.DataFrame(columns=["row"]), 2)
    batch = check_projects(district, rows).rows.set_index("project_id")
    for p in (p1, p2):
        single = check_project(district, p)
        b = batch.loc[p.project_id]
        assert b["verdict"] == single.verdict
        assert b["served_m2_per_100hh"] == pytest.approx(single.served_m2_per_100hh)
        assert b["neighbours"] == "; ".join(single.neighbours.index)
        assert b["shared_facilities"] == "; ".join(single.shared.index)
    # by hand: P2 shares F1 alone (60 m² over 400 + 500 households) and has no facility
    assert batch.loc["P2", "served_m2_per_100hh"] == pytest.approx(100 * 60 / 900)
    assert batch.loc["P1", "brought_to_standard"] == "C"


def test_project_off_the_network_is_not_checked_for_reach(street):
    # 400 m north of the street: beyond the 150 m snapping distance
    check = check_project(street["jinzhong"], project(geometry=at(600, 400), facility_m2=300))
    assert check.finding("reach").outcome == "not_checked"
    assert check.reach["own_facility_minutes"] is None
    assert check.shared.empty and check.neighbours.empty
    assert check.verdict == "pass_with_conditions"  # never a plain pass
