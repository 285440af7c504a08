"""The on-site rules of a project review, just under and just over each threshold.

Thresholds are written here from the seed texts (not read back from the profiles):
new-build m² per 100 households — Jinzhong 30 (004 item 5), Wanzhou 20–30 (002 item 12),
Yangjiang 20 "per household" read per 100 households by default (001 二), Changji,
Chishui and national 20 (national, inherited); old districts 15 everywhere (Yangjiang
states it, the others inherit it). Wanzhou station ≥ 300 m², 200 where the elderly are few
(002 item 13). Jinzhong hand-over within 60 days (004 item 5(3)).
"""

from __future__ import annotations

import pytest
import shapely

from planner._errors import InputError
from planner.project.model import make_project
from planner.project.rules import facility_size, floor_area, synchronisations
from planner.standards import load_profile

SITE = shapely.Point(750_000, 4_175_000)
NEW_BUILD = {"national": 20, "yangjiang": 20, "wanzhou": 20, "jinzhong": 30, "changji": 20,
             "chishui": 20}


def project(**kw: object):
    args = {"project_id": "P", "households": 1000, "geometry": SITE, "status": "new"}
    args.update(kw)
    return make_project(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "per100"), NEW_BUILD.items())
@pytest.mark.parametrize("status", ["new", "old"])
def test_floor_area_just_under_and_over(name, per100, status):
    per100 = per100 if status == "new" else 15
    required = 1000 * per100 / 100  # 1,000 households
    profile = load_profile(name)
    under = floor_area(project(status=status, facility_m2=required - 0.5), profile)
    assert under.outcome == "fail"
    assert under.figures["required_m2"] == pytest.approx(required)
    assert under.figures["shortfall_m2"] == pytest.approx(0.5)
    assert f"1,000 × {per100} / 100 = {required:,.0f} m²" in under.zh
    at = floor_area(project(status=status, facility_m2=required), profile)
    assert at.outcome == "pass"
    assert at.figures["shortfall_m2"] == 0
    assert at.source  # every floor-area finding cites its clause


def test_floor_area_cites_the_city_clause():
    f = floor_area(project(facility_m2=300), load_profile("jinzhong"))
    assert f.source.startswith("004 item 5")
    f = floor_area(project(status="old", facility_m2=300), load_profile("jinzhong"))
    assert "[inherited" in f.source  # Jinzhong states no old-district number


def test_yangjiang_reading_is_reported():
    default = floor_area(project(facility_m2=200), load_profile("yangjiang"))
    assert default.outcome == "pass"
    assert default.figures["reading"] == "per_100_households"
    assert default.figures["other_reading_required_m2"] == pytest.approx(20_000)
    assert "按每百户解读" in default.zh and "read per 100 households" in default.en
    literal = floor_area(project(facility_m2=200),
                         load_profile("yangjiang").with_reading("literal"))
    assert literal.outcome == "fail"
    assert literal.figures["required_m2"] == pytest.approx(20_000)  # 1,000 × 20 m²
    assert literal.figures["reading"] == "literal"
    assert "按字面解读" in literal.zh and "literally" in literal.en


@pytest.mark.parametrize(("planned", "position", "word"), [
    (199, None, "below the range"), (200, 0.0, "0% of the way up"),
    (250, 0.5, "50% of the way up"), (300, 1.0, "100% of the way up"),
    (301, None, "above the range")])
def test_wanzhou_range_position(planned, position, word):
    f = floor_area(project(facility_m2=planned), load_profile("wanzhou"))
    assert f.figures["range_m2_per_100hh"] == [20, 30]
    assert f.figures["range_max_m2"] == pytest.approx(300)
    if position is not None:
        assert f.figures["range_position"] == pytest.approx(position)
    assert word in f.en
    assert f.outcome == ("fail" if planned < 200 else "pass")


@pytest.mark.parametrize(("m2", "few", "outcome"), [
    (299, False, "fail"), (300, False, "pass"), (199, True, "fail"), (200, True, "pass")])
def test_wanzhou_station_size(m2, few, outcome):
    f = facility_size(project(facility_m2=m2, few_elderly=few), load_profile("wanzhou"))
    assert f.outcome == outcome
    assert f.figures["minimum_m2"] == (200 if few else 300)
    assert f.figures["basis"] == "stated"
    assert "002 item 13" in f.source


@pytest.mark.parametrize(("elderly", "minimum"), [(999, 200), (1000, 300), (None, 300)])
def test_few_elderly_from_the_count(elderly, minimum):
    # Wanzhou: fewer than 1,000 elderly counts as few (an assumption of the profile)
    f = facility_size(project(facility_m2=250, elderly=elderly), load_profile("wanzhou"))
    assert f.figures["minimum_m2"] == minimum
    assert f.outcome == ("pass" if minimum == 200 else "fail")


def test_facility_size_assumed_and_missing():
    centre = facility_size(project(facility_m2=1499, facility_kind="street_centre"),
                           load_profile("wanzhou"))
    # 1,500 m² is Wanzhou's subsidy threshold for centres built by social investors, not a
    # minimum size: reported, never a fail
    assert (centre.outcome, centre.figures["basis"]) == ("info", "subsidy")
    assert centre.figures["subsidy_threshold_m2"] == 1500
    none = facility_size(project(facility_m2=100), load_profile("jinzhong"))
    assert none.outcome == "info" and none.figures["minimum_m2"] is None


DATES = {"planning_approval": "2024-01-10", "housing_completion": "2025-06-01",
         "facility_acceptance": "2025-06-01", "handover": "2025-07-31"}


def outcomes(profile: str, **dates: str | None) -> dict[str, str]:
    p = project(facility_m2=300, dates={**DATES, **dates})
    return {f.id: f.outcome for f in synchronisations(p, load_profile(profile))}


def test_jinzhong_handover_on_and_past_the_deadline():
    assert outcomes("jinzhong")["handover_deadline"] == "pass"  # day 60
    assert outcomes("jinzhong", handover="2025-08-01")["handover_deadline"] == "fail"  # day 61
    # the 60 days run from the later of acceptance and completion
    later = outcomes("jinzhong", facility_acceptance="2025-06-10", handover="2025-08-09")
    assert later["handover_deadline"] == "pass"  # 60 days after 2025-06-10
    assert outcomes("jinzhong", handover=None)["handover_deadline"] == "not_checked"


def test_construction_and_acceptance_dates():
    same = outcomes("chishui")
    assert same["sync_construction"] == same["sync_acceptance"] == "pass"
    lag = outcomes("chishui", facility_acceptance="2025-06-02", handover="2025-06-30")
    assert lag["sync_construction"] == "fail"  # facility finished a day after the housing
    assert lag["sync_acceptance"] == "pass"  # 1 day apart, within 30
    on = outcomes("chishui", facility_acceptance="2025-07-01", handover="2025-07-31")
    assert on["sync_acceptance"] == "pass"  # 30 days apart
    past = outcomes("chishui", facility_acceptance="2025-07-02", handover="2025-07-31")
    assert past["sync_acceptance"] == "fail"  # 31 days apart


def test_missing_dates_are_never_a_pass():
    p = project(facility_m2=300)  # no dates at all
    found = {f.id: f.outcome for f in synchronisations(p, load_profile("jinzhong"))}
    assert set(found.values()) == {"not_checked"}
    assert len(found) == 5  # four synchronisations and the 60-day hand-over


def test_which_synchronisations_a_city_requires():
    changji = outcomes("changji")
    assert changji["sync_handover"] == "info"  # 000 二(六): 同步规划、建设、验收 only
    assert changji["sync_planning"] == "pass"
    assert changji["handover_deadline"] == "info"  # no number of days
    assert set(outcomes("wanzhou").values()) == {"info"}  # 002 states none
    no_facility = project(dates=DATES)
    planning = synchronisations(no_facility, load_profile("yangjiang"))[0]
    assert (planning.id, planning.outcome) == ("sync_planning", "fail")


@pytest.mark.parametrize(("field", "value", "match"), [
    ("households", 0, "households"), ("households", "abc", "households"),
    ("status", "renovated", "status"), ("facility_m2", "-5", "facility_m2"),
    ("facility_kind", "spa", "facility_kind"),
])
def test_bad_values_name_the_field(field, value, match):
    kwargs = {field: value}
    if field == "facility_kind":
        kwargs["facility_m2"] = 100
    with pytest.raises(InputError, match=match):
        project(**kwargs)


def test_bad_dates():
    with pytest.raises(InputError, match="handover"):
        project(dates={"facility_acceptance": "2025-06-01", "handover": "2025-05-01"})
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        project(dates={"handover": "next spring"})
    assert project(dates={"handover": "2025年7月31日"}).dates.handover.isoformat() == "2025-07-31"


def test_a_nursing_home_does_not_count_towards_floor_area():
    # profile area_counted_kinds: every kind but nursing_home (national, an assumption)
    f = floor_area(project(facility_m2=5000, facility_kind="nursing_home"),
                   load_profile("jinzhong"))
    assert (f.outcome, f.figures["planned_m2"]) == ("fail", 0.0)
    assert "does not count" in f.en
