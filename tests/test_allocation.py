"""On-site allocation (配建) apart from the catchment measure, worked by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.coverage import assess as assess_coverage
from planner.gaps import evaluate_targets
from planner.judge import facility_sizes, fill_facility_units
from planner.standards import allocation_status, load_profile, required_m2_per_100hh

JINZHONG = load_profile("jinzhong")
YANGJIANG = load_profile("yangjiang")


def test_own_facility_against_households_times_ratio():
    # Yangjiang new-build 20 m² per 100 households (read per 100 households), old 15.
    comm = pd.DataFrame({"households": [200, 100, 300], "status": ["new", "new", "old"]},
                        index=pd.Index(["A", "B", "C"], name="community_id"))
    fac = pd.DataFrame({"kind": ["station", "station", "nursing_home"],
                        "floor_area_m2": [40.0, 10.0, 500.0],
                        "serves_community_id": ["A", "B", "C"]},
                       index=pd.Index(["F1", "F2", "F3"], name="facility_id"))
    out, notes = allocation_status(comm, fac, YANGJIANG)
    # A needs 20 × 200 / 100 = 40 m², has 40: compliant. B needs 20, has 10: short.
    # C's own facility is a nursing home, which does not count: missing (needs 45 m²).
    assert out["allocation_status"].tolist() == ["compliant", "short", "missing"]
    np.testing.assert_allclose(out["allocation_required_m2"], [40.0, 20.0, 45.0])
    np.testing.assert_allclose(out["allocation_m2"], [40.0, 10.0, 0.0])
    assert not notes


def test_without_serves_community_id_nothing_is_judged():
    comm = pd.DataFrame({"households": [100], "status": ["new"]},
                        index=pd.Index(["A"], name="community_id"))
    fac = pd.DataFrame({"kind": ["station"], "floor_area_m2": [99.0]},
                       index=pd.Index(["F1"], name="facility_id"))
    out, notes = allocation_status(comm, fac, YANGJIANG)
    assert out["allocation_status"].tolist() == ["not_assessed"]
    assert "serves_community_id" in notes[0]
    target = YANGJIANG.targets["new_estates_allocation"]
    row = evaluate_targets([target], comm.join(out), fac, pd.DataFrame(
        columns=["facility_id", "community_id"]), as_of=2022).to_dict("records")[0]
    assert row["verdict"].startswith("not computable: missing column serves_community_id")


def test_a_pooling_group_meets_together_where_the_profile_allows_it():
    # Jinzhong new-build: 30 m² per 100 households; small estates pool (004 item 5).
    comm = pd.DataFrame({"households": [100, 50, 80], "status": ["new", "new", "new"],
                         "pooling_group": ["G", "G", None]},
                        index=pd.Index(["A", "B", "C"], name="community_id"))
    fac = pd.DataFrame({"kind": ["station"], "floor_area_m2": [50.0],
                        "serves_community_id": ["A"]},
                       index=pd.Index(["F1"], name="facility_id"))
    out, notes = allocation_status(comm, fac, JINZHONG)
    # group G: needs 30 + 15 = 45 m², has 50 m² (A's): both compliant; C alone needs 24, has 0
    assert out["allocation_status"].tolist() == ["compliant", "compliant", "missing"]
    assert out.loc["B", "allocation_basis"] == "pooled:G"
    np.testing.assert_allclose(out["allocation_required_m2"], [45.0, 45.0, 24.0])
    assert any("pooling group" in n for n in notes)
    # Yangjiang states no pooling: B is judged alone (needs 10, has nothing)
    alone, notes = allocation_status(comm, fac, YANGJIANG)
    assert alone["allocation_status"].tolist() == ["compliant", "missing", "missing"]
    assert any("pooling_group ignored" in n for n in notes)
    # the Yangjiang target: 1 of 3 new estates compliant; by households 100 / 230
    row = evaluate_targets([YANGJIANG.targets["new_estates_allocation"]], comm.join(alone), fac,
                           pd.DataFrame(columns=["facility_id", "community_id"]),
                           as_of=2023).to_dict("records")[0]
    assert (row["numerator"], row["denominator"]) == (1, 3)
    assert row["value_households"] == pytest.approx(100 / 230)
    assert row["verdict"].startswith("not met, overdue since 2022")


def test_compliant_estate_can_be_below_standard_in_service_and_the_reverse():
    """Two measures, two names: the estate's own facility vs what is shared within reach."""
    comm = pd.DataFrame({"households": [100, 900], "status": ["new", "old"]},
                        index=pd.Index(["A", "B"], name="community_id"))
    fac = pd.DataFrame({"kind": ["station"], "floor_area_m2": [30.0],
                        "serves_community_id": ["A"]},
                       index=pd.Index(["F1"], name="facility_id"))
    own, _ = allocation_status(comm, fac, JINZHONG)
    assert own.loc["A", "allocation_status"] == "compliant"  # 30 m² for 100 hh at 30
    served = assess_coverage(
        comm, fac, pd.DataFrame({"facility_id": ["F1", "F1"], "community_id": ["A", "B"]}),
        required_m2_per_100hh=required_m2_per_100hh(comm["status"].to_numpy(), JINZHONG))
    # F1's 30 m² is shared by 1,000 households: 3 m² per 100 households < 30: below standard
    assert served.loc["A", "service_status"] == "below_standard"
    assert served.loc["A", "accessible_m2_per_100hh"] == pytest.approx(3.0)


# --------------------------------------------------------------------------- sizes


def test_station_minimum_depends_on_the_elderly_of_its_shequ():
    wanzhou = load_profile("wanzhou")
    comm = pd.DataFrame({"households": [500, 500, 500], "elderly": [300, 400, 1500],
                         "shequ": ["Q1", "Q1", "Q2"]},
                        index=pd.Index(["a", "b", "c"], name="community_id"))
    fac = pd.DataFrame({"kind": ["station", "station", "street_centre", "station"],
                        "floor_area_m2": [250.0, 250.0, 1000.0, 250.0],
                        "shequ": ["Q1", "Q2", "Q2", None]},
                       index=pd.Index(["S1", "S2", "C1", "S3"], name="facility_id"))
    out, notes = facility_sizes(fac, comm, wanzhou)
    # Q1 has 700 elderly (< 1,000, an assumption): few, so 200 m² suffices; Q2 has 1,500: 300
    assert out["few_elderly"].tolist() == [True, False, False, None]
    assert out["meets_min_size"].tolist() == [True, False, None, False]
    # 1,500 m² is a subsidy threshold for a street centre, not a minimum size
    assert out.loc["C1", "subsidy_size_reached"] is False
    assert "1 facilities" in notes[0]


# --------------------------------------------------------------------------- facility units


def test_facility_street_filled_row_by_row_and_reported():
    comm = gpd.GeoDataFrame(
        {"households": [10, 10], "street": ["S1", "S2"]},
        geometry=[shapely.Point(0, 0), shapely.Point(1000, 0)], crs="EPSG:32649",
        index=pd.Index(["a", "b"], name="community_id"))
    fac = gpd.GeoDataFrame(
        {"kind": ["station"] * 3, "street": ["S9", None, None],
         "serves_community_id": [None, "a", None]},
        geometry=[shapely.Point(0, 0), shapely.Point(990, 0), shapely.Point(990, 0)],
        crs="EPSG:32649", index=pd.Index(["F1", "F2", "F3"], name="facility_id"))
    out, notes = fill_facility_units(fac, comm)
    # F1 keeps its own; F2 takes a's (the estate it serves, though b is nearer); F3 nearest: b
    assert out["street"].tolist() == ["S9", "S1", "S2"]
    assert "1 taken from the estate served, 1 from the nearest estate" in notes[0]


def test_a_small_estate_pools_with_the_estates_its_polygon_touches():
    """Jinzhong: fewer than 300 households is small (an assumption) and pools with neighbours.

    A (400 hh, 0-100 m) touches B (100 hh, 100-200 m); C (200 hh) stands apart at 500 m.
    All new-build, 30 m² per 100 households. A's own station: 160 m².
    Group A+B needs 120 + 30 = 150 m² and has 160: both compliant. C needs 60, has none.
    """
    box = shapely.box
    comm = gpd.GeoDataFrame(
        {"households": [400, 100, 200], "status": "new"},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(500, 0, 600, 100)],
        crs="EPSG:32649", index=pd.Index(["A", "B", "C"], name="community_id"))
    fac = pd.DataFrame({"kind": ["station"], "floor_area_m2": [160.0],
                        "serves_community_id": ["A"]},
                       index=pd.Index(["F1"], name="facility_id"))
    out, notes = allocation_status(comm, fac, JINZHONG)
    assert out["allocation_status"].tolist() == ["compliant", "compliant", "missing"]
    assert out.loc["B", "allocation_basis"] == "pooled:adjacent:A"
    np.testing.assert_allclose(out["allocation_required_m2"], [150.0, 150.0, 60.0])
    assert any("polygons touch" in n for n in notes)
    # the same estates as points: no adjacency, each on its own (B has nothing)
    points = comm.set_geometry(comm.geometry.centroid)
    alone, _ = allocation_status(points, fac, JINZHONG)
    assert alone["allocation_status"].tolist() == ["compliant", "missing", "missing"]
