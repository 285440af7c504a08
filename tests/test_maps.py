"""The gap map's page: offline HTML, its layers, labels and numbers, the base map and size.

The last part opens the page in headless Chromium with the network cut, at 1280×720
and 1920×1080.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from shapely.geometry import LineString, Point, box

from planner._errors import CRSError, InputError, MissingColumnError
from planner.crs import wgs84_to_gcj02
from planner.maps import (
    BaseMap,
    GapMap,
    external_assets,
    gap_map,
    osm_outlines,
    save_map,
    street_lines,
)
from planner.maps.geojson import decoded_geometry
from planner.maps.style import SHORTFALL_COLOURS, STATUS_COLOURS
from planner.network import compile_network
from planner.schema import FACILITY_KINDS, SERVICE_STATUS_LABELS
from tests.browser import (  # `browser` comes from conftest
    canvas_ink,
    glyph_check,
    go_offline,
    js_errors,
    open_file,
    screenshot_stats,
    set_viewport,
)
from tests.conftest import write_road_lines

CRS = "EPSG:32649"  # UTM 49N: Yangjiang
X0, Y0 = 500_000.0, 2_410_000.0
NOTES = (
    "合成示例数据 synthetic sample — not a real place",
    "阳江: 新建小区按每百户20平方米解读 (reading per 100 households)",
)
TILE_HOST = "tile.openstreetmap.org"


def _square(dx: float, dy: float, size: float = 150.0):
    return box(X0 + dx, Y0 + dy, X0 + dx + size, Y0 + dy + size)


@pytest.fixture
def communities() -> gpd.GeoDataFrame:
    """Four communities, one per service status; the unreachable one is a point."""
    return gpd.GeoDataFrame(
        {
            "name": ["阳光小区", "幸福里", "老街社区", "偏远村"],
            "households": [800, 300, 1200, 150],
            "status": ["new", "new", "old", "old"],
            "area_type": ["urban", "urban", "urban", "rural"],
            "street": ["城南街道", "城南街道", "城北街道", "平冈镇"],
            "service_status": ["meets", "below_standard", "uncovered", "unreachable"],
            "nearest_facility_id": ["F1", "F2", None, None],
            "nearest_minutes": [4.25, 11.0, np.nan, np.nan],
            "facilities_within": [2, 1, 0, 0],
            "accessible_m2_per_100hh": [45.0, 7.5, 0.0, 0.0],
            "required_m2_per_100hh": [20.0, 20.0, 15.0, 15.0],
            "shortfall_m2": [0.0, 37.5, 180.0, 22.5],
        },
        geometry=[_square(0, 0), _square(400, 0), _square(0, 400), Point(X0 + 900, Y0 + 500)],
        index=pd.Index(["C1", "C2", "C3", "C4"], name="community_id"),
        crs=CRS,
    )


@pytest.fixture
def facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["城南日间照料中心", "幸福里养老服务站"],
            "kind": ["day_care", "station"],
            "floor_area_m2": [600.0, 150.0],
            "status": ["existing", "planned"],
            "households_served": [2100.0, 300.0],
            "m2_per_100hh_served": [28.571, 50.0],
        },
        geometry=[Point(X0 + 230, Y0 + 200), Point(X0 + 620, Y0 + 260)],
        index=pd.Index(["F1", "F2"], name="facility_id"),
        crs=CRS,
    )


@pytest.fixture
def isochrones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"facility_id": ["F1"], "kind": ["day_care"], "minutes": [15.0]},
        geometry=[Point(X0 + 230, Y0 + 200).buffer(450)],
        crs=CRS,
    )


@pytest.fixture
def targets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label_zh": ["养老设施步行15分钟覆盖率", "新建小区配建达标率"],
            "label_en": [
                "households within a 15-minute walk",
                "new-builds meeting the standard",
            ],
            "value": [0.615, 0.5],  # shares 0-1, shown as percentages
            "threshold": [0.9, 1.0],
            "passed": [False, False],
        }
    )


@pytest.fixture
def base() -> BaseMap:
    """Two streets crossing the district, a river band and the district boundary."""
    streets = gpd.GeoSeries([LineString([(X0 - 100, Y0 + 300), (X0 + 1100, Y0 + 300)]),
                             LineString([(X0 + 300, Y0 - 100), (X0 + 300, Y0 + 700)])], crs=CRS)
    water = gpd.GeoSeries([box(X0 - 100, Y0 + 330, X0 + 1100, Y0 + 380)], crs=CRS)
    boundary = gpd.GeoSeries([box(X0 - 120, Y0 - 120, X0 + 1120, Y0 + 720)], crs=CRS)
    return BaseMap(streets=streets, water=water, boundary=boundary)


@pytest.fixture
def the_map(communities, facilities, isochrones, targets, base) -> GapMap:
    return gap_map(
        communities,
        facilities,
        isochrones,
        title="城南片区养老设施缺口 Gap map",
        warnings=NOTES[:1],
        notes=NOTES[1:],
        targets=targets,
        base=base,
    )


@pytest.fixture
def saved(the_map, tmp_path) -> Path:
    return save_map(the_map, tmp_path / "maps" / "gap.html")


def _data(html_text: str) -> dict:
    """The page's data block (settings and layers)."""
    blob = re.search(r'<script type="application/json" id="planner-data">(.*?)</script>',
                     html_text, flags=re.S)
    assert blob, "no data block"
    return json.loads(blob.group(1))


def _layers(html_text: str) -> dict[str, dict]:
    return {layer["id"]: layer for layer in _data(html_text)["layers"]}


def _features(html_text: str, *, groups=("communities", "facilities", "circles")) -> list[dict]:
    """The features of the data layers, encoded polylines decoded into coordinates."""
    found = []
    for layer in _data(html_text)["layers"]:
        if layer["group"] in groups:
            for f in layer["data"]["features"]:
                found.append({**f, "geometry": decoded_geometry(f["geometry"])})
    return found


# --------------------------------------------------------------------------- HTML


def test_saved_html_is_self_contained(saved):
    text = saved.read_text(encoding="utf-8")
    assert external_assets(text) == []
    assert not re.search(r"<script[^>]*\bsrc\s*=", text), "every script must be inline"
    assert not re.search(r"<link[^>]*stylesheet", text), "every stylesheet must be inline"
    assert not re.search(r"src\s*=\s*[\"']https?://", text)
    assert "Leaflet 1.9.4" in text  # the vendored copy, inlined
    assert "url(images/" not in text  # Leaflet's control icons became data: URIs
    for cdn in ("jquery", "bootstrap", "cdn.jsdelivr", "cdnjs", "fontawesome", "folium"):
        assert cdn not in text.lower()


def test_html_has_bilingual_legend_title_notes_and_targets(saved):
    text = saved.read_text(encoding="utf-8")
    for zh, en in SERVICE_STATUS_LABELS.values():
        assert zh in text
        assert en in text
    for kind in ("day_care", "station"):
        zh, en = FACILITY_KINDS[kind]
        assert zh in text
        assert en in text
    assert FACILITY_KINDS["nursing_home"][0] not in text  # only kinds on the map
    assert "<title>城南片区养老设施缺口 Gap map</title>" in text
    for note in NOTES:
        assert note in text
    # the warning comes first, in its coloured list; the reading sits behind the toggle
    assert text.index('class="planner-warnings"') < text.index(NOTES[0]) < text.index(NOTES[1])
    assert text.index('class="planner-notes"') < text.index(NOTES[1])
    assert "households within a 15-minute walk" in text
    assert "61.5%" in text and "≥90%" in text
    assert "✗ 未达标 fail" in text


def test_headline_counts_households_and_shortfall(saved):
    text = saved.read_text(encoding="utf-8")
    headline = text[text.index('id="planner-headline"'):text.index('id="planner-legend"')]
    # households: meets 800, below 300, uncovered 1200, unreachable 150 of 2,450
    # (800 / 2450 = 32.7% → "33%"); one community each
    assert "<td>1</td><td>800 (33%)</td>" in headline
    assert "<td>1</td><td>1,200 (49%)</td>" in headline
    assert "<td>4</td><td>2,450</td>" in headline
    # total shortfall 0 + 37.5 + 180 + 22.5 = 240 m², of 3 communities (1,650 households)
    assert "<b>240 m²</b>" in headline
    assert "1,650 户 households short" in headline


def test_targets_not_yet_due_are_not_failed(communities, facilities, targets):
    due = targets.assign(due_year=[2020, 2099], due_status=["past due", "not yet due"])
    text = gap_map(communities, facilities, title="t", targets=due).render()
    assert text.count("✗ 未达标 fail") == 1  # the 2020 target
    assert "fail, not yet due" in text  # the 2099 one
    assert "(2099)" in text


def test_popups_carry_the_numbers(saved):
    by_id = {f["id"]: f["properties"] for f in _features(saved.read_text(encoding="utf-8"))}
    assert set(by_id) == {"C1", "C2", "C3", "C4", "F1", "F2", "0"}  # "0": the circle
    c2 = by_id["C2"]
    assert c2["name"] == "幸福里"
    assert c2["households"] == "300"
    assert c2["shortfall"] == "37.5"
    assert c2["accessible"] == "7.5"
    assert c2["required"] == "20"
    assert c2["minutes"] == "11"
    assert c2["nearest"] == "幸福里养老服务站 (F2)"
    assert c2["service"] == "面积不足 within a circle, floor area below standard"
    assert by_id["C1"]["minutes"] == "4.2"  # one decimal (4.25 rounds half to even)
    assert by_id["C3"]["nearest"] == "无 none"
    assert by_id["C3"]["minutes"] == "—"
    assert by_id["C3"]["shortfall"] == "180"
    assert by_id["C1"]["households"] == "800"
    assert "allocation" not in c2 and "range" not in c2  # columns absent: rows absent
    f1 = by_id["F1"]
    assert f1["kind"] == "日间照料中心 day-care centre"
    assert f1["floor_area"] == "600"
    assert f1["served"] == "2,100"
    assert f1["per_100hh"] == "28.6"
    assert f1["size"] == "无要求 no rule"
    assert by_id["F2"]["status"] == "规划 planned"


def test_popups_show_range_allocation_and_undersize_when_present(communities, facilities):
    comm = communities.assign(
        standard_range=["22.0 within 20–30 (wanzhou new-build range)", None, None, None],
        allocation_status=["compliant", "short", "missing", None])
    fac = facilities.assign(meets_min_size=[True, False])
    text = gap_map(comm, fac, title="t").render()
    by_id = {f["id"]: f["properties"] for f in _features(text)}
    assert by_id["C1"]["range"] == "22.0 within 20–30 (wanzhou new-build range)"
    assert by_id["C1"]["allocation"] == "配建达标 own facility area meets households × ratio"
    assert by_id["C2"]["allocation"].startswith("配建不足")
    assert by_id["C4"]["allocation"] == "—"
    assert by_id["F2"]["_us"] is True and by_id["F1"]["_us"] is False
    assert by_id["F2"]["size"] == "✗ 低于最小面积 below the minimum"
    labels = {layer["id"]: layer["label"] for layer in _data(text)["layers"]}
    assert "1 偏小 undersize" in labels["kind-station"]
    assert "undersize" not in labels["kind-day_care"]


def test_styles_encode_status_shortfall_and_floor_area(saved):
    text = saved.read_text(encoding="utf-8")
    data = _data(text)
    props = {f["id"]: f["properties"] for f in _features(text)}
    assert data["colours"]["status"] == STATUS_COLOURS
    assert data["colours"]["shortfall"] == list(SHORTFALL_COLOURS)
    assert [props[c]["_st"] for c in ("C1", "C2", "C3", "C4")] == [
        "meets", "below_standard", "uncovered", "unreachable"]
    # fill opacity follows the shortfall: 0 < 22.5 < 37.5 < 180 m², 0.3 to 0.85
    opacities = [props[c]["_op"] for c in ("C1", "C4", "C2", "C3")]
    assert opacities == sorted(opacities)
    assert opacities[0] == 0.3 and opacities[-1] == 0.85
    # 37.5 / 180 of the way: 0.3 + 0.55 * 0.2083 = 0.4146 → 0.41
    assert props["C2"]["_op"] == 0.41
    # shortfall classes: 0 → 0, 22.5 → (20, 50] = 2, 37.5 → 2, 180 → (100, 200] = 4
    assert [props[c]["_sq"] for c in ("C1", "C4", "C2", "C3")] == [0, 2, 2, 4]
    # radius by sqrt(floor area): 600 m² is the largest (18 px); 150 m² is half by sqrt:
    # 5 + 13 * 0.5 = 11.5 px
    assert props["F1"]["_r"] == 18.0
    assert props["F2"]["_r"] == 11.5
    assert props["F2"]["_pl"] is True and props["F1"]["_pl"] is False


def test_coordinates_are_wgs84_rounded(saved):
    coords = []
    for f in _features(saved.read_text(encoding="utf-8")):
        coords.extend(np.asarray(_flatten(f["geometry"]["coordinates"])).reshape(-1, 2).tolist())
    xy = np.asarray(coords)
    assert (110.9 < xy[:, 0]).all() and (xy[:, 0] < 111.1).all()  # UTM 49N central meridian 111°E
    assert (21.7 < xy[:, 1]).all() and (xy[:, 1] < 21.9).all()
    assert np.allclose(xy, np.round(xy, 6), rtol=0, atol=1e-12)


def test_points_and_geographic_input_work(communities, facilities, tmp_path):
    points = communities.copy()
    points.geometry = communities.geometry.centroid
    m = gap_map(points.to_crs(4490), facilities.to_crs(4326), title="points", basemap=False)
    text = save_map(m, tmp_path / "points.html").read_text(encoding="utf-8")
    features = _features(text)
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    assert len(features) == 6
    assert "openstreetmap" not in text.lower()
    assert _data(text)["tiles"] == []
    assert external_assets(text) == []


def test_layers_one_per_status_kind_and_circle_kind_circles_off(saved):
    layers = _layers(saved.read_text(encoding="utf-8"))
    assert {k for k, v in layers.items() if v["group"] == "communities"} == {
        "status-meets", "status-below_standard", "status-uncovered", "status-unreachable"}
    assert {k for k, v in layers.items() if v["group"] == "facilities"} == {
        "kind-day_care", "kind-station"}
    assert {k for k, v in layers.items() if v["group"] == "circles"} == {"circles-day_care"}
    assert layers["circles-day_care"]["show"] is False
    assert all(v["show"] for k, v in layers.items() if v["group"] != "circles")
    assert "步行圈" in layers["circles-day_care"]["label"]
    assert {k for k, v in layers.items() if v["group"] == "base"} == {
        "base-streets", "base-water", "base-boundary"}


def test_bad_inputs_fail_with_named_errors(communities, facilities):
    with pytest.raises(MissingColumnError, match="shortfall_m2"):
        gap_map(communities.drop(columns="shortfall_m2"), facilities, title="t")
    with pytest.raises(CRSError, match="facilities"):
        gap_map(communities, facilities.set_crs(None, allow_override=True), title="t")
    odd = communities.assign(service_status=["meets", "meets", "ok?", "meets"])
    with pytest.raises(InputError, match="ok\\?"):
        gap_map(odd, facilities, title="t")
    with pytest.raises(InputError, match="tianditu:YOUR_KEY"):
        gap_map(communities, facilities, title="t", tiles="tianditu")
    with pytest.raises(InputError, match="unknown tiles 'google'"):
        gap_map(communities, facilities, title="t", tiles="google")


def test_save_map_never_overwrites_a_users_file(the_map, tmp_path):
    theirs = tmp_path / "notes.html"
    theirs.write_text("<html>my notes</html>", encoding="utf-8")
    with pytest.raises(InputError, match="not written by planner"):
        save_map(the_map, theirs)
    assert theirs.read_text(encoding="utf-8") == "<html>my notes</html>"
    ours = save_map(the_map, tmp_path / "ours.html")
    assert save_map(the_map, ours) == ours  # a map of ours is replaced


def test_online_tiles_are_offered_never_shown(communities, facilities):
    osm = _data(gap_map(communities, facilities, title="t").render())["tiles"]
    assert [t["urls"] for t in osm] == [["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]]
    tdt = _data(gap_map(communities, facilities, title="t", tiles="tianditu:abc123").render())
    urls = tdt["tiles"][0]["urls"]
    assert len(urls) == 2 and all("tianditu.gov.cn" in u and "tk=abc123" in u for u in urls)


def test_amap_tiles_shift_the_data_to_gcj02_and_say_so(communities, facilities):
    plain = gap_map(communities, facilities, title="t", tiles="osm").render()
    amap = gap_map(communities, facilities, title="t", tiles="amap").render()
    assert "GCJ-02" in amap and "data shifted to GCJ-02" not in plain
    p = {f["id"]: f["geometry"]["coordinates"] for f in _features(plain)}
    a = {f["id"]: f["geometry"]["coordinates"] for f in _features(amap)}
    lon, lat = p["F1"]
    expected = wgs84_to_gcj02(lon, lat)
    assert a["F1"] == pytest.approx([float(expected[0]), float(expected[1])], abs=2e-6)
    # the shift in Yangjiang is a few hundred metres (GCJ-02's offset)
    shift_m = np.hypot((a["F1"][0] - lon) * 103_000, (a["F1"][1] - lat) * 111_000)
    assert 100 < shift_m < 1000


def test_base_map_draws_streets_water_and_boundary(saved, base):
    layers = _layers(saved.read_text(encoding="utf-8"))
    (feature,) = layers["base-streets"]["data"]["features"]  # all streets in one feature
    streets = decoded_geometry(feature["geometry"])
    assert streets["type"] == "MultiLineString" and len(streets["coordinates"]) == 2
    assert layers["base-streets"]["count"] == 2
    drawn = gpd.GeoSeries([LineString(c) for c in streets["coordinates"]],
                          crs=4326).to_crs(CRS)
    # encoded at 1e-5 degree (about 1 m): each street within 1.5 m of its input
    for shown, given in zip(drawn, base.streets, strict=True):
        assert shown.hausdorff_distance(given) < 1.5
    water = decoded_geometry(layers["base-water"]["data"]["features"][0]["geometry"])
    area = gpd.GeoSeries([shapely.geometry.shape(water)], crs=4326).to_crs(CRS).area.iloc[0]
    assert area == pytest.approx(1200 * 50, rel=0.01)  # the 1,200 m × 50 m river band
    assert layers["base-boundary"]["kind"] == "boundary"


def test_street_lines_are_the_network_edges_simplified(tmp_path):
    # a T of three 100 m edges, one of them with a vertex 0.5 m off its chord (dropped by
    # the 4 m display simplification) and one bent 20 m (kept)
    roads = write_road_lines(tmp_path / "roads.geojson", [
        [(0, 0), (50, 0.5), (100, 0)], [(100, 0), (200, 0)], [(100, 0), (120, 50), (100, 100)]])
    net = compile_network(roads, use_cache=False)
    lines = street_lines(net)
    assert net.n_edges == 3 and len(lines) == 3
    vertices = sorted(shapely.get_num_coordinates(lines.values).tolist())
    assert vertices == [2, 2, 3]
    # lengths: 100 m, 100 m and the bent one 2 × √(20² + 50²) = 107.7 m
    assert sorted(np.round(lines.length.to_numpy(), 1)) == [100.0, 100.0, 107.7]


_TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="37.690" lon="112.740"/><node id="2" lat="37.690" lon="112.760"/>
  <node id="3" lat="37.700" lon="112.740"/><node id="4" lat="37.700" lon="112.745"/>
  <node id="5" lat="37.705" lon="112.745"/><node id="6" lat="37.705" lon="112.740"/>
  <node id="7" lat="37.680" lon="112.740"/><node id="8" lat="37.680" lon="112.750"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="river"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="3"/>
    <tag k="natural" v="water"/></way>
  <way id="12"><nd ref="7"/><nd ref="8"/><tag k="highway" v="footway"/></way>
</osm>
"""


def test_water_read_from_an_osm_source(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(_TINY_OSM, encoding="utf-8")
    base = osm_outlines(path)
    # the river way and the lake (a closed way tagged natural=water); not the footway
    assert sorted(base.water.geom_type) == ["LineString", "MultiPolygon"]
    lake = base.water[base.water.geom_type == "MultiPolygon"].iloc[0]
    assert lake.bounds == pytest.approx((112.740, 37.700, 112.745, 37.705))
    assert base.boundary is None
    assert osm_outlines(tmp_path / "roads.gpkg").water is None  # not an OSM file


def test_html_stays_small(tmp_path):
    """300 communities of 12-vertex outlines and 40 circles stay well under a few MB."""
    rng = np.random.default_rng(0)
    n = 300
    xs, ys = X0 + rng.uniform(0, 5000, n), Y0 + rng.uniform(0, 5000, n)
    comm = gpd.GeoDataFrame(
        {
            "name": [f"小区{i}" for i in range(n)],
            "households": rng.integers(100, 2000, n),
            "service_status": rng.choice(
                ["meets", "below_standard", "uncovered", "unreachable"], n
            ),
            "nearest_facility_id": "F0",
            "nearest_minutes": rng.uniform(1, 15, n),
            "facilities_within": 1,
            "accessible_m2_per_100hh": rng.uniform(0, 40, n),
            "required_m2_per_100hh": 20.0,
            "shortfall_m2": rng.uniform(0, 300, n),
        },
        geometry=[Point(x, y).buffer(80, quad_segs=3) for x, y in zip(xs, ys, strict=True)],
        index=pd.Index([f"C{i}" for i in range(n)], name="community_id"),
        crs=CRS,
    )
    fac = gpd.GeoDataFrame(
        {"kind": "station", "floor_area_m2": 200.0},
        geometry=[Point(X0 + 100 * i, Y0 + 2500) for i in range(40)],
        index=pd.Index([f"F{i}" for i in range(40)], name="facility_id"),
        crs=CRS,
    )
    iso = gpd.GeoDataFrame(
        {"facility_id": fac.index, "kind": "station", "minutes": 15.0},
        geometry=fac.geometry.buffer(900, quad_segs=32).values,
        crs=CRS,
    )
    path = save_map(gap_map(comm, fac, iso, title="size"), tmp_path / "size.html")
    assert path.stat().st_size < 2_000_000


def test_walking_circles_drawn_as_given(tmp_path):
    # a circle with a hole, as the isochrones helper hands it over (already simplified)
    ring = Point(X0, Y0).buffer(300, quad_segs=16)
    circle = ring.difference(box(X0 - 40, Y0 - 40, X0 + 40, Y0 + 40))
    fac = gpd.GeoDataFrame(
        {"name": ["站"], "kind": ["station"], "floor_area_m2": [200.0]},
        geometry=[Point(X0, Y0)], index=pd.Index(["F1"], name="facility_id"), crs=CRS,
    )
    iso = gpd.GeoDataFrame({"facility_id": ["F1"], "kind": ["station"], "minutes": [15.0]},
                           geometry=[circle], crs=CRS)
    comm = gpd.GeoDataFrame(
        {"name": ["{{ 1 + 1 }} {% raw %} </script>"], "households": [100],
         "service_status": ["meets"], "nearest_facility_id": ["F1"], "nearest_minutes": [3.0],
         "facilities_within": [1], "accessible_m2_per_100hh": [30.0],
         "required_m2_per_100hh": [20.0], "shortfall_m2": [0.0]},
        geometry=[box(X0 + 100, Y0 + 100, X0 + 150, Y0 + 150)],
        index=pd.Index(["C1"], name="community_id"), crs=CRS,
    )
    path = save_map(gap_map(comm, fac, iso, title="t", basemap=False), tmp_path / "c.html")
    text = path.read_text(encoding="utf-8")
    by_id = {f["id"]: f for f in _features(text)}
    # template-like text in the data is written as is, escaped, never run as a template
    assert by_id["C1"]["properties"]["name"] == "{{ 1 + 1 }} {% raw %} &lt;/script&gt;"
    assert "</script> " not in text
    shown = gpd.GeoSeries([shapely.geometry.shape(by_id["0"]["geometry"])], crs=4326).to_crs(CRS)
    assert shown.is_valid.all()
    # same vertices (65 on the shell, 5 on the hole), each within about a metre
    assert shapely.get_num_coordinates(shown.iloc[0]) == shapely.get_num_coordinates(circle)
    assert shown.iloc[0].hausdorff_distance(circle) < 1.5
    # rounding to 1e-5 degree moves each vertex up to ~0.5 m: at most 0.5 m × the 2,100 m
    # of outline = 1,050 m², 0.4 % of the 275,900 m² area
    assert shown.area.iloc[0] == pytest.approx(circle.area, rel=4e-3)


# --------------------------------------------------------------------------- browser

_READY = "return window.plannerReady === true"
SCREENS = [(1280, 720), (1920, 1080)]  # projector and full-HD


def _popup_text(driver, expected: tuple[str, ...]) -> str:
    """Text of the open popup once it shows all of ``expected``.

    Selenium reads only visible text: the popup fades in and the map pans to make room for
    it, and rows still outside the map frame are not read until the pan ends.
    """
    seen = [""]

    def shown(d) -> bool:
        seen[0] = "\n".join(
            p.text for p in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")
        )
        return all(e in seen[0] for e in expected)

    try:
        WebDriverWait(driver, 5).until(shown)
    except TimeoutException:
        pytest.fail(f"popup never showed {expected}; it showed {seen[0]!r}")
    return seen[0]


def _count(driver, selector: str) -> int:
    return driver.execute_script(f"return document.querySelectorAll({selector!r}).length")


def _open(browser, path: Path, size: tuple[int, int]) -> None:
    go_offline(browser)
    set_viewport(browser, *size)
    open_file(browser, path, ready_js=_READY)
    assert browser.execute_script("return [window.innerWidth, window.innerHeight]") == list(size)


def _overlay_toggle(browser, text: str):
    labels = browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
    return next(lb for lb in labels if text in lb.get_attribute("textContent")).find_element(
        By.TAG_NAME, "input")


def _expand_layers(browser) -> None:
    """Open the layer list (folded on small screens) as a user would, by hovering it.

    Leaflet ignores clicks in the list in the same moment the pointer enters it (so a tap
    that unfolds it does not also tick a box): wait a moment before clicking.
    """
    control = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers")
    ActionChains(browser).move_to_element(control).pause(0.3).perform()
    WebDriverWait(browser, 5).until(
        lambda d: _count(d, ".leaflet-control-layers-expanded") == 1)


@pytest.mark.parametrize("size", SCREENS, ids=["1280x720", "1920x1080"])
def test_map_works_offline_at_projector_sizes(browser, saved, tmp_path, size):
    _open(browser, saved, size)
    assert browser.execute_script("return L.version") == "1.9.4"
    assert browser.execute_script("return typeof jQuery") == "undefined"  # not needed
    small = size[0] < 1500

    # every community and facility drawn as an interactive SVG path
    assert _count(browser, "path.planner-community.leaflet-interactive") == 4
    assert _count(browser, ".leaflet-overlay-pane path.planner-status-below_standard") == 1
    assert _count(browser, ".leaflet-plannerFacilities-pane path.planner-facility") == 2
    # the base streets, river and boundary are drawn on the base canvas
    assert canvas_ink(browser, ".leaflet-plannerBase-pane canvas") > 500

    # headline top left, open; legend bottom left, folded on the small screen only
    headline = browser.find_element(By.CSS_SELECTOR, ".leaflet-top.leaflet-left .planner-title")
    assert "800 (33%)" in headline.text and "240 m²" in headline.text
    assert NOTES[0] in headline.text  # the warning shows
    assert NOTES[1] not in headline.text  # the reading is behind the toggle
    legend_open = browser.execute_script(
        "return document.querySelector('#planner-legend > details').open")
    assert legend_open is (not small)
    layers_folded = _count(browser, ".leaflet-control-layers-expanded") == 0
    assert layers_folded is small
    # the panels leave most of the map free: together under a third of the screen
    covered = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control')).reduce("
        "(a, el) => a + el.offsetWidth * el.offsetHeight, 0)")
    assert covered < size[0] * size[1] / 3

    # the notes toggle opens the readings
    browser.find_element(By.CSS_SELECTOR, ".planner-notes summary").click()
    WebDriverWait(browser, 5).until(lambda d: NOTES[1] in headline.text)

    # layers switch off and on from the layer control
    _expand_layers(browser)
    meets = _overlay_toggle(browser, "达标 meets")
    meets.click()
    WebDriverWait(browser, 5).until(lambda d: _count(d, "path.planner-status-meets") == 0)
    meets.click()
    WebDriverWait(browser, 5).until(lambda d: _count(d, "path.planner-status-meets") == 1)
    # walking circles: off by default, on after ticking their box
    assert _count(browser, "path.planner-circle") == 0
    _overlay_toggle(browser, "步行圈").click()
    WebDriverWait(browser, 5).until(lambda d: _count(d, "path.planner-circle") == 1)

    # the pointer leaves the layer list: on the small screen it folds again
    ActionChains(browser).move_to_element(headline).pause(0.2).perform()
    WebDriverWait(browser, 5).until(
        lambda d: (_count(d, ".leaflet-control-layers-expanded") == 0) is small)

    # colour by shortfall: the fill follows the shortfall class, the legend follows
    fill_js = ("return document.querySelector('path.planner-status-uncovered')"
               ".getAttribute('fill')")
    assert browser.execute_script(fill_js) == STATUS_COLOURS["uncovered"]
    browser.find_element(By.CSS_SELECTOR, "input[name=planner-mode][value=shortfall]").click()
    WebDriverWait(browser, 5).until(lambda d: d.execute_script(fill_js) == SHORTFALL_COLOURS[4])
    assert browser.find_element(By.CSS_SELECTOR, ".planner-legend-shortfall").is_displayed() \
        is legend_open

    # clicking a community opens its popup with its numbers
    browser.find_element(By.CSS_SELECTOR, "path.planner-status-below_standard").click()
    text = _popup_text(
        browser, ("小区 community 幸福里", "户数 households 300", "面积缺口 shortfall m² 37.5")
    )
    for expected in ("7.5", "20", "幸福里养老服务站 (F2)", "11"):
        assert expected in text

    stats = screenshot_stats(browser, tmp_path / f"gap_map_{size[0]}.png")
    assert (stats["width"], stats["height"]) == size
    assert stats["variance"] > 100, stats  # not a blank page
    assert stats["colours"] > 50, stats
    assert js_errors(browser) == []


_POPUP_UNDER_HEADLINE_JS = """
const map = window.plannerMap, layer = window.plannerLayers['status-uncovered'];
const box = document.getElementById('planner-headline').getBoundingClientRect();
const mapBox = map.getContainer().getBoundingClientRect();
// a point in the middle of the headline panel: the popup's tip opens there
const point = L.point(box.left + box.width / 2 - mapBox.left,
                      box.bottom - 15 - mapBox.top);
layer.getPopup().options.autoPan = false;  // open exactly there, not panned clear
layer.openPopup(map.containerPointToLatLng(point));
return [box.left, box.top, box.width, box.height];
"""

_TOP_ELEMENT_JS = """
const content = document.querySelector('.leaflet-popup-content');
const r = content.getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + r.height / 2;
const top = document.elementFromPoint(x, y);
const panel = document.getElementById('planner-headline').getBoundingClientRect();
const overPanel = x > panel.left && x < panel.right && y > panel.top && y < panel.bottom;
return [Boolean(top && top.closest('.leaflet-popup')), overPanel];
"""


@pytest.mark.parametrize("size", SCREENS, ids=["1280x720", "1920x1080"])
def test_popups_open_above_the_panels(browser, saved, size):
    _open(browser, saved, size)
    browser.execute_script(_POPUP_UNDER_HEADLINE_JS)
    text = browser.execute_script(
        "return document.querySelector('.leaflet-popup-content').textContent")
    assert "小区 community老街社区" in text and "面积缺口 shortfall m²180" in text
    on_top, over_panel = browser.execute_script(_TOP_ELEMENT_JS)
    assert over_panel, "the popup was meant to open over the headline panel"
    assert on_top, "the headline panel covers the popup"
    # panning keeps the popup on its community (its pane follows the map pane)
    before = browser.execute_script(
        "return document.querySelector('.leaflet-popup').getBoundingClientRect().left")
    browser.execute_script("window.plannerMap.panBy([-120, 0], {animate: false})")
    after = browser.execute_script(
        "return document.querySelector('.leaflet-popup').getBoundingClientRect().left")
    assert after - before == pytest.approx(120, abs=1)
    assert js_errors(browser) == []


def test_chinese_glyphs_render(browser, saved):
    """Two different Chinese strings must draw different pixels in the page's font.

    With no CJK font both would render as the same missing-glyph boxes (no pixel differs);
    the control pair ("abcd"/"abce") shows the check can see a one-letter difference.
    """
    _open(browser, saved, SCREENS[0])
    font = browser.execute_script(
        "const s = getComputedStyle(document.querySelector('.planner-title'));"
        "return s.fontSize + ' ' + s.fontFamily")
    cjk = glyph_check(browser, "养老服务", "缺口覆盖", font)
    boxes = glyph_check(browser, "\U000e0100\U000e0101", "\U000e0102\U000e0103", font)
    assert cjk["inkA"] > 100 and cjk["inkB"] > 100, cjk
    assert cjk["differ"] > 100, cjk  # real glyphs, not identical boxes
    assert boxes["differ"] < cjk["differ"], (boxes, cjk)


def test_point_communities_render_and_open_popups(browser, communities, facilities, tmp_path):
    points = communities.copy()
    points.geometry = communities.geometry.centroid
    path = save_map(gap_map(points, facilities, title="points", basemap=False), tmp_path / "p.html")
    _open(browser, path, SCREENS[1])
    assert _count(browser, "path.planner-community") == 4
    browser.find_element(By.CSS_SELECTOR, "path.planner-status-uncovered").click()
    _popup_text(browser, ("小区 community 老街社区", "面积缺口 shortfall m² 180"))
    assert js_errors(browser) == []


def _flatten(coords):
    if isinstance(coords[0], (int, float)):
        return list(coords)
    return [c for part in coords for c in _flatten(part)]


# --------------------------------------------------------------------------- timeline, extra layers


def _headline(text: str) -> str:
    return text[text.index('id="planner-headline"'):text.index('id="planner-legend"')]


def _first_met_cells(text: str) -> list[str]:
    return re.findall(r"<td class='planner-firstmet' colspan='4' title='([^']*)'>↳ (.*?)</td>",
                      _headline(text))


def test_targets_panel_says_when_each_target_is_first_met(communities, facilities, targets):
    # Hand-made timeline, 2026–2029, as planned facilities open:
    #   T1 (≥90%): 61.5% → 80% → 92% (passes 2028) → 95%  ⇒ first met 2028
    #   T2 (≥100%): 50% → 50% → 75% → 90%, never 100%     ⇒ "not met by 2029"
    timeline = pd.DataFrame({
        "year": [2026, 2027, 2028, 2029] * 2,
        "id": ["T1"] * 4 + ["T2"] * 4,
        "value": [0.615, 0.8, 0.92, 0.95, 0.5, 0.5, 0.75, 0.9],
        "passed": [False, False, True, True, False, False, False, False],
    })
    ts = targets.assign(id=["T1", "T2"])
    text = gap_map(communities, facilities, title="t", targets=ts, timeline=timeline).render()
    cells = _first_met_cells(text)
    assert [c[1] for c in cells] == [
        "首次达标 first met <b>2028</b>",
        '<span class="planner-notmet">至2029年未达标 not met by 2029</span>']
    # hovering shows the values year by year, a tick where met
    assert cells[0][0] == "2026 61.5% · 2027 80.0% · 2028 92.0% ✓ · 2029 95.0% ✓"
    assert cells[1][0].startswith("2026 50.0% · 2027 50.0% · 2028 75.0%")


def test_first_year_met_column_of_the_targets_table_wins(communities, facilities, targets):
    # the targets table's own first_year_met (2031, NA); the timeline only gives the
    # last year (2032) for "not met by"
    ts = targets.assign(id=["T1", "T2"], first_year_met=pd.array([2031, pd.NA], dtype="Int64"))
    timeline = pd.DataFrame({"year": [2030, 2032], "id": ["T1", "T1"], "value": [0.5, 0.95],
                             "passed": [False, True]})
    cells = _first_met_cells(
        gap_map(communities, facilities, title="t", targets=ts, timeline=timeline).render())
    assert [c[1] for c in cells] == [
        "首次达标 first met <b>2031</b>",
        '<span class="planner-notmet">至2032年未达标 not met by 2032</span>']
    # without a timeline the last year is unknown: said so, no year made up
    cells = _first_met_cells(gap_map(communities, facilities, title="t", targets=ts).render())
    assert "not met in the timeline" in cells[1][1]
    # a targets table with neither gets no column at all
    text = gap_map(communities, facilities, title="t", targets=targets).render()
    assert "first met" not in text


def _styled_layer(layer_id: str = "extra-dots", *, show: bool = False):
    from planner.maps.geojson import features_json, geometry_json  # noqa: PLC0415
    from planner.maps.layers import Layer  # noqa: PLC0415

    pts = gpd.GeoSeries([Point(X0 + 75, Y0 + 75), Point(X0 + 475, Y0 + 75)],
                        crs=CRS).to_crs(4326)
    props = pd.DataFrame({"name": ["a", "b"], "_c": ["#ffffff"] * 2,
                          "_f": ["#d73027", "#1a9850"], "_r": [9, 9]}, index=[0, 1])
    return Layer(id=layer_id, group="communities", kind="styled", label="extra",
                 data=features_json(["a", "b"], props, geometry_json(pts.values)),
                 show=show, popup=(("name", "名称 name"),), count=2,
                 legend="<div>额外图层 extra legend line</div>")


def test_extra_layers_hook_adds_layer_and_legend(communities, facilities):
    text = gap_map(communities, facilities, title="t",
                   extra_layers=[_styled_layer()]).render()
    layers = _layers(text)
    assert layers["extra-dots"]["kind"] == "styled"
    assert [f["properties"]["_f"] for f in layers["extra-dots"]["data"]["features"]] == [
        "#d73027", "#1a9850"]
    assert "legend" not in layers["extra-dots"]  # legend HTML goes to the panel, not the data
    legend = text[text.index('id="planner-legend"'):]
    assert "更多图层 More layers" in legend and "额外图层 extra legend line" in legend
    # the same id twice is refused rather than silently drawn twice
    with pytest.raises(ValueError, match="extra-dots"):
        gap_map(communities, facilities, title="t",
                extra_layers=[_styled_layer(), _styled_layer()])


def test_care_layers_are_red_green_grey_with_their_legend(communities, facilities):
    from planner.maps.care import CARE_COLOURS, care_layers  # noqa: PLC0415

    # C1 lacks places (red), C2 has them (green), C3 has vulnerable elderly but no verdict
    # (grey), C4 no data (not drawn); every count ≥ 5 (the suppression threshold)
    comm = communities.assign(vulnerable_elderly=[12, 20, 8, None],
                              lacks_care_places=[True, False, None, None])
    fac = facilities.assign(care_places=[30, 0])  # only F1 has places
    layers = care_layers(comm, fac, threshold=5)
    text = gap_map(communities, facilities, title="t", extra_layers=layers).render()
    drawn = _layers(text)
    fills = {f["id"]: f["properties"]["_f"]
             for f in drawn["care-vulnerable"]["data"]["features"]}
    assert fills == {"C1": CARE_COLOURS["lacks"], "C2": CARE_COLOURS["has"],
                     "C3": CARE_COLOURS["no_data"]}
    assert (CARE_COLOURS["lacks"], CARE_COLOURS["has"], CARE_COLOURS["no_data"]) == (
        "#d73027", "#1a9850", "#8c8c8c")
    assert [f["id"] for f in drawn["care-places"]["data"]["features"]] == ["F1"]
    assert drawn["care-vulnerable"]["kind"] == drawn["care-places"]["kind"] == "styled"
    assert "(1 缺少服务 lack places)" in drawn["care-vulnerable"]["label"]
    legend = text[text.index('id="planner-legend"'):]
    assert "vulnerable elderly lack places" in legend and "care places" in legend


def test_styled_layer_draws_in_the_browser(browser, communities, facilities, tmp_path):
    path = save_map(gap_map(communities, facilities, title="t", basemap=False,
                            extra_layers=[_styled_layer(show=True)]), tmp_path / "x.html")
    _open(browser, path, SCREENS[0])
    fills = browser.execute_script(
        "return Array.from(document.querySelectorAll('path.planner-extra-dots'))"
        ".map(p => p.getAttribute('fill'))")
    assert sorted(fills) == ["#1a9850", "#d73027"]
    # switching to the shortfall colouring leaves the styled layer as it is
    browser.execute_script(
        "document.querySelector('input[name=planner-mode][value=shortfall]').click()")
    fills = browser.execute_script(
        "return Array.from(document.querySelectorAll('path.planner-extra-dots'))"
        ".map(p => p.getAttribute('fill'))")
    assert sorted(fills) == ["#1a9850", "#d73027"]
    assert js_errors(browser) == []


def test_hills_layers_show_what_the_terrain_takes_away(communities, facilities, tmp_path):
    from planner.maps.terrain import HILLS_COLOURS, hills_layers  # noqa: PLC0415

    # flat: C1 meets (4.25 min), C2 below standard (11 min); with terrain C1 needs
    # 17.5 min and is uncovered (lost: +13.25 min), C2 still 11 → keeps its circle;
    # C3, C4 were outside on the flat already
    hilly = communities.assign(
        nearest_minutes=[17.5, 11.0, np.nan, np.nan],
        service_status=["uncovered", "below_standard", "uncovered", "unreachable"])
    # F1's flat circle 400 × 300 m = 120,000 m²; with terrain 300 × 300 m = 90,000 m²:
    # 30,000 m² lost, 1 − 90,000 / 120,000 = 25 %. F2's circle is the same either way.
    flat_iso = gpd.GeoDataFrame({"facility_id": ["F1", "F2"], "kind": ["day_care", "station"],
                                 "minutes": [15.0, 15.0]},
                                geometry=[box(X0, Y0, X0 + 400, Y0 + 300),
                                          box(X0 + 500, Y0, X0 + 700, Y0 + 200)], crs=CRS)
    hilly_iso = flat_iso.set_geometry([box(X0, Y0, X0 + 300, Y0 + 300),
                                       box(X0 + 500, Y0, X0 + 700, Y0 + 200)])
    layers = hills_layers(communities, hilly, flat_iso, hilly_iso, {"F1": "城南中心"})
    m = gap_map(hilly, facilities, hilly_iso, title="t", extra_layers=layers, basemap=False)
    drawn = _layers(m.render())
    lost = drawn["hills-lost-communities"]["data"]["features"]
    assert [f["id"] for f in lost] == ["C1"]
    # one decimal, half to even: 4.25 → "4.2", 17.5 − 4.25 = 13.25 → "13.2"
    assert {k: lost[0]["properties"][k] for k in ("flat", "terrain", "added", "status")} == {
        "flat": "4.2", "terrain": "17.5", "added": "13.2", "status": "meets → uncovered"}
    area = drawn["hills-lost-area"]["data"]["features"]
    assert [f["id"] for f in area] == ["F1"]  # F2 loses nothing
    p = area[0]["properties"]
    assert (p["facility"], p["flat"], p["terrain"], p["lost"], p["share"]) == (
        "城南中心", "120,000", "90,000", "30,000", "25.0%")
    assert p["_f"] == HILLS_COLOURS["lost_area"]
    # the lost piece is the strip x 300–400 m: its area in the page is 100 m × 300 m
    ring = np.array(decoded_geometry(area[0]["geometry"])["coordinates"][0])
    back = gpd.GeoSeries(gpd.points_from_xy(ring[:, 0], ring[:, 1]), crs=4326).to_crs(CRS)
    poly = shapely.Polygon(np.column_stack([back.x, back.y]))
    # (encoded polylines keep ~1 m: a 100 m strip's area within 1 %)
    assert poly.area == pytest.approx(30_000, rel=1e-2)
    assert poly.bounds[0] == pytest.approx(X0 + 300, abs=1.5)
    assert poly.bounds[2] == pytest.approx(X0 + 400, abs=1.5)
    assert [f["id"] for f in drawn["hills-flat-circles"]["data"]["features"]] == ["F1", "F2"]
    legend = m.legend
    assert "communities inside a flat walking circle but outside with terrain" in legend
    assert "flat walking circle outline" in legend
    # nothing lost → no lost layers, only the flat outlines
    same = hills_layers(communities, communities, flat_iso, flat_iso)
    assert [x.id for x in same] == ["hills-flat-circles"]


def test_run_with_dem_maps_what_the_hills_take_away(tmp_path):
    # planner sample --hilly; planner run flat (no map) and with --dem (map): the map's
    # "communities losing coverage" are exactly those covered in the flat run's
    # communities.csv and not in the terrain run's, its notes give that count, and every
    # facility of the assessment has its flat circle outline.
    from click.testing import CliRunner  # noqa: PLC0415

    from planner.cli import main  # noqa: PLC0415

    runner = CliRunner()
    d = tmp_path / "hilly"
    res = runner.invoke(main, ["sample", "--hilly", "--size", "0.3", "--out", str(d)],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    common = ["run", "--network", str(d / "roads.gpkg"), "--communities",
              str(d / "communities.gpkg"), "--facilities", str(d / "facilities.csv"),
              "--gates", str(d / "gates.csv"), "--profile", "wanzhou", "--tiles", "none"]
    for out, extra in (("flat", ["--no-map"]), ("hill", ["--dem", str(d / "dem.tif")])):
        res = runner.invoke(main, [*common, *extra, "--out", str(tmp_path / out)],
                            catch_exceptions=False)
        assert res.exit_code == 0, res.output
    flat = pd.read_csv(tmp_path / "flat" / "communities.csv", index_col="community_id")
    hill = pd.read_csv(tmp_path / "hill" / "communities.csv", index_col="community_id")
    covered = ("meets", "below_standard")
    lost = sorted(flat.index[flat["service_status"].isin(covered)
                             & ~hill["service_status"].reindex(flat.index).isin(covered)])
    text = (tmp_path / "hill" / "gap_map.html").read_text(encoding="utf-8")
    layers = _layers(text)
    drawn = (sorted(f["id"] for f in layers["hills-lost-communities"]["data"]["features"])
             if "hills-lost-communities" in layers else [])
    assert drawn == lost
    assert f"{len(lost)} communities (" in text  # the comparison's note
    fac = gpd.read_file(tmp_path / "hill" / "facilities.gpkg", layer="facilities")
    n_assessed = int(fac["in_assessment"].astype(bool).sum())
    assert layers["hills-flat-circles"]["count"] == n_assessed
    # the terrain never makes a circle larger, and on this hilly sample some shrink
    assert layers["hills-lost-area"]["count"] >= 1
    assert all(layer["show"] is False for k, layer in layers.items() if k.startswith("hills-"))


def test_first_met_column_fits_the_headline_on_a_projector(browser, communities, facilities,
                                                           targets, tmp_path):
    timeline = pd.DataFrame({"year": [2026, 2027, 2028, 2029] * 2,
                             "id": ["T1"] * 4 + ["T2"] * 4,
                             "value": [0.615, 0.8, 0.92, 0.95, 0.5, 0.5, 0.75, 0.9],
                             "passed": [False, False, True, True] + [False] * 4})
    m = gap_map(communities, facilities, title="城南片区养老设施缺口 Gap map", basemap=False,
                targets=targets.assign(id=["T1", "T2"]), timeline=timeline)
    _open(browser, save_map(m, tmp_path / "t.html"), SCREENS[0])
    cells = browser.find_elements(By.CSS_SELECTOR, ".planner-title td.planner-firstmet")
    assert [c.text for c in cells] == ["↳ 首次达标 first met 2028",
                                       "↳ 至2029年未达标 not met by 2029"]
    assert all(c.is_displayed() for c in cells)
    # the panel holds its table (no sideways overflow) and leaves most of the width free
    fit = browser.execute_script(
        "var p = document.querySelector('.planner-title');"
        "var t = p.querySelector('table.planner-targets');"
        "return [p.getBoundingClientRect().right, t.getBoundingClientRect().right,"
        " p.offsetWidth];")
    assert fit[1] <= fit[0] + 1
    assert fit[2] < SCREENS[0][0] / 2
    assert js_errors(browser) == []


def test_extra_layers_move_to_gcj02_with_amap_tiles(communities, facilities):
    # the extra layer's first point, in WGS84, and where Amap's GCJ-02 puts it (the
    # shift is some hundreds of metres in China, so a missed shift cannot pass)
    p = gpd.GeoSeries([Point(X0 + 75, Y0 + 75)], crs=CRS).to_crs(4326).iloc[0]
    lon, lat = wgs84_to_gcj02(np.array([p.x]), np.array([p.y]))
    plain = _layers(gap_map(communities, facilities, title="t", tiles="osm",
                            extra_layers=[_styled_layer()]).render())
    amap = _layers(gap_map(communities, facilities, title="t", tiles="amap",
                           extra_layers=[_styled_layer()]).render())
    got_plain = plain["extra-dots"]["data"]["features"][0]["geometry"]["coordinates"]
    got_amap = amap["extra-dots"]["data"]["features"][0]["geometry"]["coordinates"]
    assert got_plain == pytest.approx([p.x, p.y], abs=1e-9)
    assert got_amap == pytest.approx([lon[0], lat[0]], abs=2e-6)
    assert abs(got_amap[0] - p.x) + abs(got_amap[1] - p.y) > 1e-3  # really moved
    # styles and properties travel with it
    assert amap["extra-dots"]["data"]["features"][0]["properties"]["_f"] == "#d73027"
