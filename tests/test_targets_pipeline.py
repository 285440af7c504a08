"""End to end through `planner run --as-of`: targets, allocation, timeline on a street."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from planner.cli import main
from tests.conftest import write_points_csv, write_road_lines


def test_run_as_of_writes_targets_allocation_and_timeline(tmp_path):
    """A 1,500 m street; Jinzhong profile (15-minute circles = 900 m at 1.0 m/s).

    ::

        F1 - F2 ---- A --------- B --------- C ---- P1
        0    100    300         840        1200    1400 m

    A (200 hh, built 2024: new-build, 30 m² per 100 hh) and B (old) are in 社区 Q1 of street
    S1; C (rural) is village Q2 of township T1. F1 is A's own 60 m² station (配建); F2 is a
    street centre in S1; P1 is a township centre planned in T1 for 2026.
    """
    roads = write_road_lines(tmp_path / "roads.geojson", [[(0, 0), (1500, 0)]])
    comm = write_points_csv(tmp_path / "communities.csv", [
        {"community_id": "A", "households": 200, "completion_year": 2024, "area_type": "urban",
         "street": "S1", "street_type": "街道", "shequ": "Q1"},
        {"community_id": "B", "households": 200, "completion_year": 1990, "area_type": "urban",
         "street": "S1", "street_type": "街道", "shequ": "Q1"},
        {"community_id": "C", "households": 100, "completion_year": 1990, "area_type": "rural",
         "street": "T1", "street_type": "乡镇", "shequ": "Q2"},
    ], [(300, 0), (840, 0), (1200, 0)])
    fac = write_points_csv(tmp_path / "facilities.csv", [
        {"facility_id": "F1", "kind": "station", "floor_area_m2": 60, "status": "existing",
         "serves_community_id": "A", "street": None, "opening_year": None},
        {"facility_id": "F2", "kind": "street_centre", "floor_area_m2": 400,
         "status": "existing", "serves_community_id": None, "street": "S1",
         "opening_year": None},
        {"facility_id": "P1", "kind": "township_centre", "floor_area_m2": 300,
         "status": "planned", "serves_community_id": None, "street": "T1",
         "opening_year": 2026},
    ], [(0, 0), (100, 0), (1400, 0)])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "run", "--network", str(roads), "--communities", str(comm), "--facilities", str(fac),
        "--profile", "jinzhong", "--out", str(out), "--no-map", "--as-of", "2024"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output

    targets = pd.read_csv(out / "targets.csv").set_index("id")
    assert list(targets.reset_index().columns[:10]) == [
        "id", "metric", "label_zh", "label_en", "numerator", "denominator", "value",
        "threshold", "passed", "source"]
    # regional centres: S1 has F2, T1 none yet: 1 of 2 = 50 % < 60 %, due 2025: not yet due
    centres = targets.loc["township_centres"]
    assert (centres["numerator"], centres["denominator"]) == (1, 2)
    assert centres["due_status"] == "not yet due"
    assert centres["first_year_met"] == 2026  # from the timeline
    # community coverage: Q1 (A is 200 m from F2) yes; Q2: C is 1,100 m from F2 > 900 m
    assert targets.loc["full_coverage", "value"] == 0.5
    assert targets.loc["full_coverage", "unit_used"] == "shequ"
    # no county-level nursing home (no nursing home at all, so no level column is needed);
    # no county column: the study area is one county, and the note says it is an assumption
    county = targets.loc["county_institution"]
    assert (county["numerator"], county["denominator"]) == (0, 1)
    assert county["verdict"].startswith("not met, not yet due (2025)")
    assert "one county (assumption)" in county["note"]

    line = pd.read_csv(out / "timeline.csv")
    first = line.drop_duplicates("id").set_index("id")["first_year_met"]
    assert line["year"].drop_duplicates().tolist() == [2024, 2025, 2026]
    assert first["township_centres"] == 2026 and first["full_coverage"] == 2026
    assert line.loc[(line["id"] == "full_coverage") & (line["year"] == 2026), "opened"].item() \
        == "P1"

    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    # A: own 60 m² = 200 × 30 / 100: compliant; B, C: no own facility
    assert c["allocation_status"].to_dict() == {"A": "compliant", "B": "missing",
                                                "C": "missing"}
    assert {"service_status", "allocation_status", "area_type_basis"} <= set(c.columns)

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == 2024
    assert summary["timeline"]["first_year_met"]["township_centres"] == 2026
    assert summary["targets_not_computable"] == {}
    assert summary["allocation"]["by_status"]["compliant"] == 1
    assert "allocation_status" in summary["measures"] and "service_status" in summary["measures"]
    assert any("1 taken from the estate served" in n for n in summary["notes"])
    assert "overdue" not in result.output and "not yet due (2025)" in result.output
