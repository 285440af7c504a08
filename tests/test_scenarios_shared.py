"""Scenarios share the main run's code paths: the circle filter, the 2SFCA, the output guard.

Hand-worked tables (the arithmetic in comments) and a street where the scenario result is
checked against :func:`planner.coverage.assess_profile` and the output guard of
:mod:`planner.io.outputs` on the same inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner._errors import InputError
from planner.coverage import assess_profile
from planner.io.guard import MANIFEST_NAME, PARTIAL_PREFIX
from planner.scenarios import Scenario
from planner.scenarios.evaluate import circle_pairs
from planner.scenarios.output import write_files
from tests.conftest import ORIGIN
from tests.test_scenarios import make_line_area


def _comm() -> pd.DataFrame:
    # A: 15-minute circle, B: 10-minute circle; at 1.0 m/s 900 m and 600 m
    return pd.DataFrame({"circle_minutes": [15.0, 10.0]},
                        index=pd.Index(["A", "B"], name="community_id"))


def _fac() -> pd.DataFrame:
    # F3 is planned and not counted as built
    return pd.DataFrame({"in_assessment": [True, True, False]},
                        index=pd.Index(["F1", "F2", "F3"], name="facility_id"))


def test_circle_pairs_by_hand():
    table = pd.DataFrame({
        "facility_id": ["F2", "F1", "F1", "F3", "F2", "F9"],
        "community_id": ["A", "B", "A", "A", "B", "A"],
        "distance_m": [800.0, 700.0, 500.0, 100.0, 550.0, 10.0],
    })
    pairs = circle_pairs(table, _comm(), _fac(), speed_m_s=1.0)
    # F1-B 700 m > B's 600 m: out; F3 not in the assessment, F9 not in the scenario: out.
    # Kept, in facility then community order: F1-A 500, F2-A 800 (<= 900), F2-B 550 (<= 600)
    assert pairs[["facility_id", "community_id"]].to_numpy().tolist() == [
        ["F1", "A"], ["F2", "A"], ["F2", "B"]]
    np.testing.assert_array_equal(pairs["distance_m"], [500.0, 800.0, 550.0])
    # minutes at 1.0 m/s: metres / 60
    np.testing.assert_allclose(pairs["minutes"], [500 / 60, 800 / 60, 550 / 60], rtol=1e-15)


def test_circle_pairs_order_does_not_depend_on_the_table_order():
    table = pd.DataFrame({"facility_id": ["F2", "F1", "F2"], "community_id": ["B", "A", "A"],
                          "distance_m": [100.0, 200.0, 300.0]})
    a = circle_pairs(table, _comm(), _fac(), speed_m_s=1.0)
    b = circle_pairs(table.iloc[::-1], _comm(), _fac(), speed_m_s=1.0)
    pd.testing.assert_frame_equal(a, b)
    assert a["community_id"].tolist() == ["A", "A", "B"]  # F1-A, F2-A, F2-B


def test_scenario_floor_area_is_the_main_runs():
    # the street of test_scenarios plus F2 (100 m², x = 1300): the scenario's columns are
    # those assess_profile gives on the same pairs, exactly (one code path)
    base = Scenario.from_area(make_line_area(), "yangjiang")
    more = base.add_facility("F2", x=ORIGIN[0] + 1300, y=ORIGIN[1], floor_area_m2=100)
    res = more.result()
    comm = res.communities.drop(columns=[
        "facilities_within", "accessible_m2", "accessible_m2_per_100hh", "required_m2_per_100hh",
        "required_m2", "shortfall_m2", "service_status", "standard_range"])
    fac = res.facilities[["kind", "floor_area_m2", "in_assessment"]]
    again, again_fac = assess_profile(comm, fac, res.costs, more.profile,
                                      speed_m_s=more.speed_m_s)
    cols = ["facilities_within", "accessible_m2_per_100hh", "shortfall_m2", "service_status",
            "standard_range"]
    pd.testing.assert_frame_equal(res.communities[cols], again[cols], check_exact=True)
    pd.testing.assert_frame_equal(res.facilities[["households_served", "m2_per_100hh_served"]],
                                  again_fac[["households_served", "m2_per_100hh_served"]])
    # by hand (900 m circles): F2 at x = 1300 reaches B (600 m), C (200 m) and D (650 m):
    # 100 m² / 500 hh = 20 per 100; B also has F1's 60 m² / 300 hh (A, B) = 20 -> 40
    assert res.communities["accessible_m2_per_100hh"].round(9).to_dict() == {
        "A": 20.0, "B": 40.0, "C": 20.0, "D": 20.0}
    assert res.facilities.loc["F2", "households_served"] == 500


def _writer(text: str):
    def write(path):
        path.write_text(text, encoding="utf-8")
    return write


def test_write_files_replaces_its_own_files(tmp_path):
    out = tmp_path / "scenario"
    first = write_files(out, {"totals.csv": _writer("a,b\n1,2\n")})
    assert first == {"totals.csv": out / "totals.csv"}
    assert (out / MANIFEST_NAME).is_file()
    write_files(out, {"totals.csv": _writer("a,b\n3,4\n")})  # the planner's own: replaced
    assert (out / "totals.csv").read_text(encoding="utf-8") == "a,b\n3,4\n"
    assert not list(out.glob(f"{PARTIAL_PREFIX}*"))


def test_write_files_refuses_a_users_file(tmp_path):
    out = tmp_path / "scenario"
    out.mkdir()
    (out / "totals.csv").write_text("my numbers\n", encoding="utf-8")
    (out / "notes.txt").write_text("keep\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"totals\.csv, which planner did not write"):
        write_files(out, {"totals.csv": _writer("x\n"), "changes.csv": _writer("y\n")})
    # nothing replaced, nothing half-written
    assert (out / "totals.csv").read_text(encoding="utf-8") == "my numbers\n"
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep\n"
    assert not (out / "changes.csv").exists()
    assert not list(out.glob(f"{PARTIAL_PREFIX}*"))


def test_write_files_refuses_a_file_changed_since(tmp_path):
    out = tmp_path / "scenario"
    write_files(out, {"totals.csv": _writer("a\n1\n")})
    (out / "totals.csv").write_text("a\n1\nedited by hand\n", encoding="utf-8")
    with pytest.raises(InputError, match="did not write"):
        write_files(out, {"totals.csv": _writer("a\n2\n")})
    assert (out / "totals.csv").read_text(encoding="utf-8") == "a\n1\nedited by hand\n"

