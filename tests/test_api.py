"""The public API: every name in planner.__all__ resolves and is documented; the README's
example runs on the straight-street district of ``tests/conftest.py``."""

from __future__ import annotations

import inspect
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely

import planner
from tests.conftest import ORIGIN


def test_all_names_resolve_and_are_documented():
    missing_docs = []
    for name in planner.__all__:
        obj = getattr(planner, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        doc = inspect.getdoc(obj) or ""
        if not doc:
            missing_docs.append(name)
        # a function taking arguments says what they are (numpydoc "Parameters")
        if inspect.isfunction(obj) and len(inspect.signature(obj).parameters) > 1:
            assert "Parameters" in doc or "see :func:" in doc, name
    assert missing_docs == []
    assert sorted(planner.__all__) == planner.__all__  # one sorted list


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        planner.nope  # noqa: B018


def test_import_planner_is_light():
    # `planner --help` imports the package: it must not pull in geopandas or scipy
    code = ("import sys, planner; "
            "print(sorted(m for m in ('geopandas', 'scipy', 'folium') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_readme_example_on_the_straight_street(line_district):
    d = line_district
    area = planner.load_study_area(d["network"], d["communities"], d["facilities"])
    result = planner.assess(area, "jinzhong", isochrones=False)
    # A is 300 m from F1 along the street: 5 minutes at 1.0 m/s
    assert result.communities.loc["A", "nearest_minutes"] == pytest.approx(5.0, abs=1e-3)
    # the reach core from the same area, then a proposed station at 1,000 m
    sg = planner.StudyGraph.build(area.net, area.communities, area.facilities,
                                  max_distance_m=900.0)
    x, y = ORIGIN[0] + 1000, ORIGIN[1]
    proposed = gpd.GeoDataFrame(
        {"kind": ["station"]}, index=gpd.pd.Index(["F2"], name="facility_id"),
        geometry=[shapely.Point(x, y)], crs="EPSG:32649").to_crs(area.net.pyproj_crs)
    new = sg.copy().add_facilities(proposed)
    got = dict(zip(new["community_id"], new["distance_m"], strict=True))
    # F2 at 1,000 m: A at 300 m is 700 m away, B at 840 m 160 m, C at 1,200 m 200 m;
    # D is 500 m off the street (not snapped, beyond 150 m): no row
    assert got == pytest.approx({"A": 700.0, "B": 160.0, "C": 200.0}, abs=0.01)
    # the base graph is unchanged: F1 reaches A (300 m) and B (840 m) only
    assert set(sg.costs["community_id"]) == {"A", "B"}
    # minutes and speed re-filter the table: at 0.9 m/s, 15 min = 810 m drops B
    within = planner.circle_pairs(sg.costs, area.communities.assign(m=15.0)["m"],
                                  speed_m_s=0.9)
    assert within["community_id"].to_list() == ["A"]
    assert within["minutes"].iloc[0] == pytest.approx(300 / 0.9 / 60, abs=1e-4)
