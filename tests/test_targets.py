"""Targets as the texts mean them, worked by hand on small districts (no network needed).

Each district is a few estates (小区) in a few 社区 and streets, a few facilities, and the
``costs`` pairs (which estate lies inside which facility's walking circle) written out.
"""

# Labels and verdicts are bilingual on purpose.

from __future__ import annotations

import math

import pandas as pd
import pytest

from planner._errors import InputError
from planner.gaps import TARGET_COLUMNS, evaluate_targets
from planner.standards import load_profile


def estates(rows: list[dict]) -> pd.DataFrame:
    """Assessed estates: every area_type given unless the row says otherwise."""
    frame = pd.DataFrame(rows).set_index("community_id")
    frame["area_type_basis"] = frame.get(
        "area_type_basis", pd.Series(None, index=frame.index, dtype=object)).fillna("given")
    frame["status"] = frame.get("status", "old")
    return frame


def facilities(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).set_index("facility_id")


def pairs(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["facility_id", "community_id"])


NO_PAIRS = pairs()


def one(profile: str, target: str, comm, fac, costs=NO_PAIRS, *, as_of=2024) -> dict:
    p = load_profile(profile)
    table = evaluate_targets([p.targets[target]], comm, fac, costs, as_of=as_of)
    return table.to_dict("records")[0]


# --------------------------------------------------------------------------- streets


def streets_district() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two streets (街道) and a town (镇) whose estates are urban.

    S1: estates a (200 hh), b (100 hh), a street centre.  S2: estate c (100 hh), nothing.
    T1 (a 镇, street_type township): estate d (urban, 400 hh) with a township centre.
    """
    comm = estates([
        {"community_id": "a", "households": 200, "area_type": "urban", "street": "S1",
         "street_type": "street", "shequ": "Q1"},
        {"community_id": "b", "households": 100, "area_type": "urban", "street": "S1",
         "street_type": "street", "shequ": "Q2"},
        {"community_id": "c", "households": 100, "area_type": "urban", "street": "S2",
         "street_type": "street", "shequ": "Q3"},
        {"community_id": "d", "households": 400, "area_type": "urban", "street": "T1",
         "street_type": "township", "shequ": "Q4"},
    ])
    fac = facilities([
        {"facility_id": "SC", "kind": "street_centre", "street": "S1", "shequ": "Q1"},
        {"facility_id": "TC", "kind": "township_centre", "street": "T1", "shequ": "Q4"},
    ])
    return comm, fac


def test_a_street_with_and_without_a_centre():
    comm, fac = streets_district()
    row = one("changji", "street_centres", comm, fac, as_of=2024)
    # streets S1 (centre) and S2 (none); the town T1 is not a street even with urban estates
    assert (row["numerator"], row["denominator"]) == (1, 2)
    assert row["value"] == pytest.approx(0.5)
    assert row["passed"] is False
    # households in streets with a centre: S1 300 of S1 + S2 400 = 0.75
    assert row["value_households"] == pytest.approx(300 / 400)
    assert row["due_year"] == 2021
    assert row["due_status"] == "past due"
    assert row["verdict"].startswith("not met, overdue since 2021")


def test_a_town_holding_urban_estates_is_a_township():
    comm, fac = streets_district()
    # Wanzhou: townships (镇乡) with a township centre; T1's estates are urban but T1 is a 镇
    row = one("wanzhou", "township_centres", comm, fac)
    assert (row["numerator"], row["denominator"], row["passed"]) == (1, 1, True)
    # without street_type the type is read from area_type (labelled): T1 looks like a street
    row = one("wanzhou", "township_centres", comm.drop(columns="street_type"), fac)
    assert row["denominator"] == 0 and row["passed"] is None
    assert "street_type taken from area_type" in row["note"]
    assert row["verdict"].startswith("n/a")


def test_converted_nursing_home_counts_as_a_regional_centre():
    """Jinzhong 004 item 6: 乡镇(街道) with a regional centre, converted 敬老院 included."""
    comm = estates([
        {"community_id": "a", "households": 100, "area_type": "urban", "street": "S1"},
        {"community_id": "b", "households": 100, "area_type": "urban", "street": "S2"},
        {"community_id": "c", "households": 100, "area_type": "rural", "street": "T1"},
        {"community_id": "d", "households": 100, "area_type": "rural", "street": "T2"},
        {"community_id": "e", "households": 100, "area_type": "rural", "street": "T3"},
    ])
    fac = facilities([
        {"facility_id": "SC", "kind": "street_centre", "street": "S1", "level": "township"},
        # T1's 敬老院 turned into a regional centre (township level): counts
        {"facility_id": "N1", "kind": "nursing_home", "street": "T1", "level": "township"},
        # T2's home is a small community-level home: does not count
        {"facility_id": "N2", "kind": "nursing_home", "street": "T2", "level": "community"},
    ])
    row = one("jinzhong", "township_centres", comm, fac, as_of=2024)
    # S1 and T1 of S1, S2, T1, T2, T3: 2 / 5 = 40 % < 60 %, due 2025: not yet due
    assert (row["numerator"], row["denominator"]) == (2, 5)
    assert row["passed"] is False
    assert row["due_status"] == "not yet due"
    assert row["verdict"].startswith("not met, not yet due (2025)")
    # the old metric counted rural townships with a township_centre only: 0 of 3
    no_level = one("jinzhong", "township_centres", comm, fac.drop(columns="level"))
    assert no_level["computable"] is False
    assert no_level["verdict"].startswith("not computable: missing column level")
    assert no_level["passed"] is None and math.isnan(no_level["value"])


# --------------------------------------------------------------------------- 社区 and villages


def village_district() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two villages (村): V1 has a mutual-aid point, V2 has none but V1's point is within
    the rural circle of V2's estate v2b (not of v2a)."""
    comm = estates([
        {"community_id": "v1", "households": 50, "area_type": "rural", "street": "T1",
         "shequ": "V1"},
        {"community_id": "v2a", "households": 30, "area_type": "rural", "street": "T1",
         "shequ": "V2"},
        {"community_id": "v2b", "households": 20, "area_type": "rural", "street": "T1",
         "shequ": "V2"},
    ])
    fac = facilities([{"facility_id": "M1", "kind": "mutual_aid", "street": "T1",
                       "shequ": "V1"}])
    return comm, fac, pairs(("M1", "v1"), ("M1", "v2b"))


def test_a_rural_village_present_and_within_reach():
    comm, fac, costs = village_district()
    row = one("changji", "rural_coverage", comm, fac, costs, as_of=2021)
    # present in the village (建立): V1 only, 1 of 2 villages = 50 % < 60 %
    assert (row["numerator"], row["denominator"], row["unit_used"]) == (1, 2, "shequ")
    assert row["passed"] is False
    assert row["households_numerator"] == 50 and row["households_denominator"] == 100
    # the other reading (within the circle of a village's estates): V1 and V2 (via v2b)
    assert row["alternative_reading"] == "within_circle"
    assert row["value_alternative"] == pytest.approx(1.0)
    assert row["due_status"] == "due"  # 2021-03, judged in 2021


def test_without_shequ_the_estates_stand_in_and_say_so():
    comm, fac, costs = village_district()
    row = one("changji", "rural_coverage", comm.drop(columns="shequ"), fac.drop(columns="shequ"),
              costs)
    # present_in_unit on estates needs serves_community_id: not computable, never a pass
    assert row["verdict"].startswith("not computable: missing column serves_community_id")
    fac2 = fac.drop(columns="shequ").assign(serves_community_id="v1")
    row = one("changji", "rural_coverage", comm.drop(columns="shequ"), fac2, costs)
    # proxy: 1 of 3 estates has the point as its own
    assert (row["numerator"], row["denominator"], row["unit_used"]) == (1, 3, "estate")
    assert "proxy" in row["note"] and "(proxy)" in row["verdict"]


def test_day_care_counts_communities_of_streets_only():
    """000 (六) and its annex (各街道): rural villages are not in the denominator."""
    comm = estates([
        {"community_id": "a", "households": 100, "area_type": "urban", "street": "S1",
         "street_type": "street", "shequ": "Q1"},
        {"community_id": "b", "households": 300, "area_type": "urban", "street": "S1",
         "street_type": "street", "shequ": "Q2"},
        {"community_id": "v", "households": 50, "area_type": "rural", "street": "T1",
         "street_type": "township", "shequ": "V1"},
    ])
    fac = facilities([
        {"facility_id": "SC", "kind": "street_centre", "street": "S1", "shequ": "Q1"},
        {"facility_id": "DC", "kind": "day_care", "street": "T1", "shequ": "V1"},
    ])
    # the street centre (which offers 日托) reaches a only; the day-care centre reaches v
    row = one("changji", "day_care", comm, fac, pairs(("SC", "a"), ("DC", "v")), as_of=2020)
    assert (row["numerator"], row["denominator"]) == (1, 2)  # Q1 of Q1, Q2
    assert row["value_households"] == pytest.approx(100 / 400)
    assert row["due_status"] == "not yet due"


# --------------------------------------------------------------------------- beds, counties


def test_centres_with_twenty_beds():
    fac = facilities([
        {"facility_id": "C1", "kind": "street_centre", "beds": 25},
        {"facility_id": "C2", "kind": "township_centre", "beds": 12},
        {"facility_id": "C3", "kind": "township_centre", "beds": None},
        {"facility_id": "S1", "kind": "station", "beds": 0},  # not a centre: not counted
    ])
    comm = estates([{"community_id": "a", "households": 10, "area_type": "urban"}])
    row = one("wanzhou", "centre_beds", comm, fac)
    # C1 of C1, C2 (C3 has no bed count: left out, noted) = 50 %
    assert (row["numerator"], row["denominator"]) == (1, 2)
    assert "1 facilities without beds left out" in row["note"]
    assert "due 2021 is an assumption" in row["assumptions"]


def test_nursing_bed_share_and_a_missing_column():
    comm = estates([{"community_id": "a", "households": 10, "area_type": "urban"}])
    fac = facilities([
        {"facility_id": "N1", "kind": "nursing_home", "beds": 100, "nursing_beds": 40},
        {"facility_id": "N2", "kind": "township_centre", "beds": 20, "nursing_beds": 20},
        {"facility_id": "S1", "kind": "station", "beds": 10, "nursing_beds": 0},
    ])
    row = one("yangjiang", "nursing_beds", comm, fac, as_of=2022)
    # (40 + 20) / (100 + 20) = 50 % >= 50 %: met in its due year
    assert (row["numerator"], row["denominator"]) == (60, 120)
    assert row["passed"] is True and row["verdict"].startswith("met")
    row = one("yangjiang", "nursing_beds", comm, fac.drop(columns="nursing_beds"))
    assert row["verdict"].startswith("not computable: missing column nursing_beds")
    assert row["passed"] is None


def test_county_institution_in_a_one_county_study_area():
    comm = estates([{"community_id": "a", "households": 10, "area_type": "urban"}])
    fac = facilities([{"facility_id": "N1", "kind": "nursing_home", "level": "county"}])
    row = one("jinzhong", "county_institution", comm, fac)
    assert (row["numerator"], row["denominator"], row["passed"]) == (1, 1, True)
    assert "one county (assumption)" in row["note"]


# --------------------------------------------------------------------------- deadlines


def test_due_and_not_yet_due():
    comm = estates([
        {"community_id": "a", "households": 100, "area_type": "urban", "shequ": "Q1"},
        {"community_id": "b", "households": 100, "area_type": "urban", "shequ": "Q2"},
    ])
    fac = facilities([{"facility_id": "S", "kind": "station", "shequ": "Q1"}])
    costs = pairs(("S", "a"))
    early = one("jinzhong", "full_coverage", comm, fac, costs, as_of=2024)
    late = one("jinzhong", "full_coverage", comm, fac, costs, as_of=2026)
    assert early["value"] == pytest.approx(0.5) and late["value"] == pytest.approx(0.5)
    assert (early["due_status"], late["due_status"]) == ("not yet due", "past due")
    assert early["verdict"].startswith("not met, not yet due (2025)")
    assert late["verdict"].startswith("not met, overdue since 2025")


def test_every_row_has_the_original_columns_first():
    comm, fac = streets_district()
    p = load_profile("changji")
    table = evaluate_targets(p.targets.values(), comm, fac, NO_PAIRS, as_of=2024)
    original = ["id", "metric", "label_zh", "label_en", "numerator", "denominator", "value",
                "threshold", "passed", "source"]
    assert list(table.columns[:10]) == original
    assert list(table.columns) == list(TARGET_COLUMNS)


# --------------------------------------------------------------------------- a sixth city

SIXTH = """
[profile]
name = "sixth"
inherits = "national"

[documents.d6]
title = "第六市养老服务实施方案"

[[targets]]
id = "village_points"
measure = "coverage"
unit = "shequ"
filter = { area_type = "rural" }
kinds = ["mutual_aid", "township_centre"]
reading = "present_in_unit"
threshold = 0.5
due = "2030-06"
label_zh = "村级互助点建有率"
label_en = "villages with a mutual-aid point"
source = { doc = "d6", clause = "art. 2", quote = "到2030年6月，50%的村建有互助点" }
"""


def test_a_sixth_city_states_its_targets_without_code(tmp_path):
    path = tmp_path / "sixth.toml"
    path.write_text(SIXTH, encoding="utf-8")
    p = load_profile(path)
    t = p.targets["village_points"]
    assert (t.unit, t.filters, t.due_year, t.reading) == (
        "shequ", {"area_type": "rural"}, 2030, "present_in_unit")
    comm, fac, costs = village_district()
    row = evaluate_targets([t], comm, fac, costs, as_of=2031).to_dict("records")[0]
    # V1 has its point, V2 none: 1 of 2 = 50 % >= 50 %: met (even though past due)
    assert (row["numerator"], row["denominator"], row["passed"]) == (1, 2, True)
    assert row["due_status"] == "past due" and row["verdict"].startswith("met")


@pytest.mark.parametrize(("line", "key"), [
    ('unit = "province"', "targets[0].unit"),
    ('filter = { colour = "red" }', "targets[0].filter.colour"),
    ('due = "next year"', "targets[0].due"),
    ('kinds = ["nursing_home@province"]', "targets[0].kinds"),
])
def test_a_malformed_target_names_the_key(tmp_path, line, key):
    key_name = line.split(" = ")[0]
    body = "\n".join(x if not x.startswith(f"{key_name} =") else line
                     for x in SIXTH.splitlines())
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_profile(path)
    assert key in str(e.value) and str(path) in str(e.value)


def test_estates_without_area_type_are_left_out_and_counted():
    comm = estates([
        {"community_id": "a", "households": 100, "area_type": "urban", "shequ": "Q1"},
        {"community_id": "b", "households": 100, "area_type": "urban", "shequ": "Q2",
         "area_type_basis": "assumed_urban"},  # no area_type in the input: not guessed
    ])
    fac = facilities([{"facility_id": "S", "kind": "station", "shequ": "Q1"}])
    row = one("changji", "urban_coverage", comm, fac, pairs(("S", "a")))
    # only Q1 (a) is known to be urban: 1 of 1; b is reported, not counted as urban
    assert (row["numerator"], row["denominator"]) == (1, 1)
    assert "1 estates without area_type left out" in row["note"]


def test_without_level_a_pass_is_certain_only_without_the_converted_homes():
    comm = estates([
        {"community_id": "a", "households": 100, "area_type": "urban", "street": "S1"},
        {"community_id": "b", "households": 100, "area_type": "rural", "street": "T1"},
    ])
    fac = facilities([
        {"facility_id": "SC", "kind": "street_centre", "street": "S1"},
        {"facility_id": "TC", "kind": "township_centre", "street": "T1"},
        {"facility_id": "N1", "kind": "nursing_home", "street": "T1"},
    ])
    # 2 of 2 with purpose-built centres alone: met whatever N1's level (a lower bound)
    row = one("jinzhong", "township_centres", comm, fac)
    assert (row["numerator"], row["denominator"], row["passed"]) == (2, 2, True)
    assert "lower bound" in row["note"]
    # without T1's centre, 1 of 2 = 50 % < 60 %: N1 might be a converted centre: unknown
    row = one("jinzhong", "township_centres", comm, fac.drop(index="TC"))
    assert row["verdict"].startswith("not computable: missing column level")
