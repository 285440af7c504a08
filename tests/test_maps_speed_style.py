"""The gap map's vectorised popup text against the plain value-by-value formatting.

:func:`planner.maps.style.nums`, :func:`~planner.maps.style.escs` and the de-duplicating
:func:`~planner.maps.style.each` must give exactly what :func:`~planner.maps.style.num`,
:func:`~planner.maps.style.esc` and a plain loop give, value by value, on small
hand-made columns of every dtype a popup column arrives in; so must the popup
properties of communities and facilities built from them.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from planner.maps import style as st
from planner.maps.layers import (
    FILL_OPACITY_RANGE,
    circle_layers,
    community_props,
    facility_props,
)
from planner.schema import FACILITY_KINDS, SERVICE_STATUS_LABELS
from planner.standards import ALLOCATION_STATUSES

FLOATS = [0.0, -0.0, 0.04, -0.04, 0.05, 0.15, 0.25, 2.5, 3.5, 1234.55, -1234567.891,
          1e16, 1e-9, math.inf, -math.inf, math.nan, 15.0, 37.5, 999.95]

COLUMNS = {
    "float": pd.Series(FLOATS),
    "int": pd.Series([0, -1, 7, 1_234_567, 2**53 + 1, -(2**62)]),
    "nullable int": pd.Series([1, None, 2_500, -3], dtype="Int64"),
    "nullable float": pd.Series([1.25, None, 2_500.0], dtype="Float64"),
    "bool": pd.Series([True, False]),
    "nullable bool": pd.Series([True, None, False], dtype="boolean"),
    "object": pd.Series([1.5, "12.5", "text", None, math.nan, 3, True, "<b>"], dtype=object),
    "str with missing": pd.Series(["1,2", None, "2.25", "2.25"], dtype="str"),
    "index": pd.Index([3.25, 4.0, -0.0]),
}


@pytest.mark.parametrize("name", list(COLUMNS))
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_nums_match_num_value_by_value(name, decimals):
    values = COLUMNS[name]
    assert st.nums(values, decimals=decimals) == [
        st.num(v, decimals=decimals) for v in values.tolist()]


def test_nums_examples_worked_by_hand():
    # 1,234.55 is stored just below .55, so it rounds down; -0.0 keeps its sign as num does
    assert st.nums(pd.Series([1234.55, 1200.0, -0.0, math.nan, 0.25])) == [
        "1,234.5", "1,200", "-0", st.MISSING, "0.2"]
    assert st.wholes(pd.Series([2.5, 3.5, 1_234_567])) == ["2", "4", "1,234,567"]


@pytest.mark.parametrize("name", list(COLUMNS))
def test_escs_match_esc_value_by_value(name):
    values = COLUMNS[name]
    assert st.escs(values) == [st.esc(v) for v in values.tolist()]


def test_escs_of_strings_escape_each_one_alone():
    values = pd.Series(['A "quoted" <b>&</b>', "it's", "", "中文 & more", "\x00 null"])
    assert st.escs(values) == [st.esc(v) for v in values]
    assert st.escs(values)[0] == "A &quot;quoted&quot; &lt;b&gt;&amp;&lt;/b&gt;"


def test_each_formats_each_distinct_string_once():
    calls: list[object] = []

    def shout(value: object) -> str:
        calls.append(value)
        return st.MISSING if st.is_missing(value) else str(value).upper()

    values = pd.Series(["a", "b", None, "a", math.nan, "b", "a"], dtype=object)
    assert st.each(values, shout) == ["A", "B", st.MISSING, "A", st.MISSING, "B", "A"]
    assert sorted(map(str, calls)) == ["None", "a", "b", "nan"]  # a and b once each
    # numbers are not merged: 0.0 and -0.0 are equal but print differently
    assert st.each(pd.Series([0.0, -0.0]), str) == ["0.0", "-0.0"]


def test_shortfall_class_counts_the_bounds_below():
    values = pd.Series([math.nan, -5.0, 0.0, 0.001, 20.0, 20.5, 50.0, 100.0, 150.0, 200.0,
                        200.01, math.inf], index=list("abcdefghijkl"))
    # bounds 0, 20, 50, 100, 200 (m²): the class is the number of bounds strictly below
    expected = [0, 0, 0, 1, 1, 2, 2, 3, 4, 4, 5, 5]
    got = st.shortfall_class(values)
    assert got.tolist() == expected
    assert got.index.tolist() == list("abcdefghijkl")
    assert got.dtype == "int64"


# ------------------------------------------------------------------ popup properties


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["东<园>", None, "", "西园 & co", "南园"],
            "households": [120, 3_400, 0, 75, 980],
            "status": ["new", "old", None, "planned", "odd"],
            "area_type": ["urban", None, "rural", "urban", "urban"],
            "street": ["城关街道", None, "城关街道", "<b>", "城关街道"],
            "service_status": ["meets", "below_standard", "uncovered", "unreachable", "meets"],
            "nearest_facility_id": ["F1", "F2", None, "F9", "F1"],
            "nearest_minutes": [3.25, 14.96, math.nan, math.nan, 0.0],
            "facilities_within": [2, 1, 0, 0, 3],
            "accessible_m2_per_100hh": [40.0, 12.34, 0.0, 0.0, 25.05],
            "required_m2_per_100hh": [20.0, 20.0, 15.0, 15.0, 20.0],
            "shortfall_m2": [0.0, 259.6, 0.0, 11.25, -0.0],
            "standard_range": [0.4, -0.2, 1.7, None, "说明 <text>"],
            "allocation_status": ["meets", "below", None, "not_assessed", "odd"],
        },
        geometry=[Point(i, i) for i in range(5)], crs=4326,
        index=pd.Index(["C1", "C2", "C<3>", "C4", "C5"], name="community_id"),
    )


def _plain_community_props(comm: pd.DataFrame, names: dict[str, str]) -> dict[str, list]:
    """The popup text of each community, one row at a time."""
    def nearest(fid):
        if st.is_missing(fid):
            return "无 none"
        name = names.get(str(fid), "")
        return st.esc(f"{name} ({fid})" if name and name != str(fid) else fid)

    def kind(s, a):
        parts = [p for p in (st.label(st.COMMUNITY_STATUS_LABELS, s),
                             st.label(st.AREA_TYPE_LABELS, a)) if p != st.MISSING]
        return " · ".join(parts) or st.MISSING

    def position(v):
        if st.is_missing(v):
            return st.MISSING
        if isinstance(v, str):
            return st.esc(v)
        return ("低于下限 below the range" if v < 0 else "高于上限 above the range" if v > 1
                else f"{100 * v:.0f}% 区间内 into the range")

    largest = max(max(x, 0) for x in comm["shortfall_m2"])
    low, high = FILL_OPACITY_RANGE
    rows = []
    for cid, r in comm.iterrows():
        name = r["name"] if isinstance(r["name"], str) and r["name"] else cid
        share = max(r["shortfall_m2"], 0) / largest
        rows.append({
            "name": st.esc(name), "id": st.esc(cid), "households": st.whole(r["households"]),
            "status": kind(r["status"], r["area_type"]), "street": st.esc(r["street"]),
            "service": st.label(SERVICE_STATUS_LABELS, r["service_status"]),
            "nearest": nearest(r["nearest_facility_id"]),
            "minutes": st.num(r["nearest_minutes"]),
            "within": st.whole(r["facilities_within"]),
            "accessible": st.num(r["accessible_m2_per_100hh"]),
            "required": st.num(r["required_m2_per_100hh"]),
            "shortfall": st.num(r["shortfall_m2"]),
            "_st": r["service_status"],
            "_op": round(low + (high - low) * share, 2),
            "_sq": sum(r["shortfall_m2"] > b for b in st.SHORTFALL_BOUNDS_M2),
            "range": position(r["standard_range"]),
            "allocation": st.label(ALLOCATION_STATUSES, r["allocation_status"]),
        })
    return {key: [row[key] for row in rows] for key in rows[0]}


def test_community_props_match_the_row_by_row_text():
    comm = _communities()
    names = {"F1": "颐养<站>", "F2": "F2"}
    props = community_props(comm, names)
    plain = _plain_community_props(comm, names)
    assert list(props.columns) == list(plain)
    for key, values in plain.items():
        assert props[key].tolist() == values, key
    # worked by hand: C2's 259.6 m² is the largest shortfall: opacity 0.85, class 5
    assert props.loc["C2", "_op"] == 0.85
    assert props.loc["C2", "_sq"] == 5
    assert props.loc["C1", "nearest"] == "颐养&lt;站&gt; (F1)"


def test_facility_props_match_the_row_by_row_text():
    fac = gpd.GeoDataFrame(
        {"name": ["站 <一>", None, "三"], "kind": ["station", "day_care", "odd_kind"],
         "status": ["existing", "planned", None], "floor_area_m2": [300.0, math.nan, 1200.5],
         "meets_min_size": [True, False, None],
         "households_served": [1_500.0, math.nan, 20.0],
         "m2_per_100hh_served": [20.0, math.nan, 6002.5]},
        geometry=[Point(i, i) for i in range(3)], crs=4326,
        index=pd.Index(["F1", "F2", "F3"], name="facility_id"))
    props = facility_props(fac)
    assert props["name"].tolist() == ["站 &lt;一&gt;", "F2", "三"]
    assert props["kind"].tolist() == [st.label(FACILITY_KINDS, k) for k in fac["kind"]]
    assert props["status"].tolist() == [st.label(st.FACILITY_STATUS_LABELS, s)
                                        for s in fac["status"]]
    assert props["floor_area"].tolist() == ["300", st.MISSING, "1,200.5"]
    assert props["served"].tolist() == ["1,500", st.MISSING, "20"]
    assert props["per_100hh"].tolist() == ["20", st.MISSING, "6,002.5"]
    assert props["_us"].tolist() == [False, True, False]


def test_circle_props_name_the_facility_once_per_circle():
    iso = gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2", "F1", "F<4>"], "kind": ["station"] * 4,
         "minutes": [15.0, 15.0, 10.0, 15.0]},
        geometry=[Point(0, 0).buffer(0.01, 4) for _ in range(4)], crs=4326)
    (layer,) = circle_layers(iso, {"F1": "颐养站", "F2": "F2"})
    import json  # noqa: PLC0415

    props = [f["properties"] for f in json.loads(layer.data)["features"]]
    assert [p["facility"] for p in props] == ["颐养站", "F2", "颐养站", "F&lt;4&gt;"]
    assert [p["minutes"] for p in props] == ["15", "15", "10", "15"]
    assert layer.label.endswith("(10/15 分钟 min)")
