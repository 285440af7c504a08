"""The timeline: year by year, as planned facilities open, when is each target met?"""

from __future__ import annotations

import pandas as pd

from planner.judge import timeline, undated_planned_notes
from planner.pipeline import assess, load_study_area
from planner.sample import write_sample
from planner.standards import load_profile


def test_a_timeline_crosses_the_threshold_in_the_opening_year():
    """Jinzhong 004 item 6: 60 % of 乡镇(街道) with a regional centre by 2025.

    Five streets/townships; S1 and T1 have a centre now (2 / 5 = 40 %). A township centre is
    planned in T2 for 2026 (3 / 5 = 60 %: met) and one in T3 with no opening year (never
    counted). So the target is first met in 2026, a year after it is due.
    """
    profile = load_profile("jinzhong")
    comm = pd.DataFrame({
        "households": [100] * 5, "area_type": ["urban", "urban", "rural", "rural", "rural"],
        "area_type_basis": "given", "status": "old",
        "street": ["S1", "S2", "T1", "T2", "T3"]},
        index=pd.Index(list("abcde"), name="community_id"))
    fac = pd.DataFrame({
        "kind": ["street_centre", "township_centre", "township_centre", "township_centre"],
        "floor_area_m2": 500.0, "street": ["S1", "T1", "T2", "T3"],
        "status": ["existing", "existing", "planned", "planned"],
        "opening_year": [None, None, 2026, None], "level": "township"},
        index=pd.Index(["C1", "C2", "P1", "P2"], name="facility_id"))
    costs = pd.DataFrame(columns=["facility_id", "community_id"])
    line = timeline(profile, comm, fac, costs, as_of=2024)
    centres = line[line["id"] == "township_centres"].set_index("year")
    assert centres.index.tolist() == [2024, 2025, 2026]  # to the last due / opening year
    assert centres["value"].tolist() == [0.4, 0.4, 0.6]
    assert centres["passed"].tolist() == [False, False, True]
    assert centres["due_status"].tolist() == ["not yet due", "due", "past due"]
    assert centres.loc[2026, "opened"] == "P1"
    assert (centres["first_year_met"] == 2026).all()
    # the county target is never met (no county-level institution): no first year
    county = line[line["id"] == "county_institution"]
    assert county["first_year_met"].isna().all()


def test_planned_facilities_without_an_opening_year_are_named_in_a_note():
    """Two of three planned facilities have no opening year (one blank, one unreadable):
    the timeline never opens them, and the note says so with the count 2. An existing
    facility without a year is not counted (it is open already)."""
    fac = pd.DataFrame({
        "status": ["existing", "planned", "planned", "planned"],
        "opening_year": [None, 2027, None, "soon"]},
        index=pd.Index(["E", "P1", "P2", "P3"], name="facility_id"))
    (note,) = undated_planned_notes(fac)
    assert "2 个规划设施" in note and "2 planned facilities have no opening_year" in note
    dated = fac.assign(opening_year=[None, 2027, 2028, 2029])
    assert undated_planned_notes(dated) == []
    assert undated_planned_notes(fac.drop(columns="opening_year")) != []  # all 3 undated
    assert "3 planned" in undated_planned_notes(fac.drop(columns="opening_year"))[0]


def test_the_sample_run_notes_its_undated_planned_facilities(tmp_path):
    """The bundled sample plans facilities without an opening year: the run says so."""
    d = tmp_path / "s"
    write_sample(d, size=0.3, n_communities=40, n_facilities=20)
    fac = pd.read_csv(d / "facilities.csv")
    n = int((fac["status"] == "planned").sum())
    assert n > 0 and "opening_year" not in fac
    area = load_study_area(d / "roads.gpkg", d / "communities.gpkg", d / "facilities.csv")
    notes = assess(area, "national", isochrones=False).summary["notes"]
    assert any(f"{n} planned facilities have no opening_year" in x for x in notes)
