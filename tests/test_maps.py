"""The gap map: offline HTML, its labels and numbers, and the map in a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from shapely import affinity
from shapely.geometry import Point, box

from planner._errors import CRSError, InputError, MissingColumnError
from planner.maps import _staircase_outline, external_assets, gap_map, save_map
from planner.schema import FACILITY_KINDS, SERVICE_STATUS_LABELS
from tests.browser import js_errors, open_file, screenshot_stats  # `browser` comes from conftest

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
def the_map(communities, facilities, isochrones, targets) -> folium.Map:
    return gap_map(
        communities,
        facilities,
        isochrones,
        title="城南片区养老设施缺口 Gap map",
        notes=NOTES,
        targets=targets,
    )


@pytest.fixture
def saved(the_map, tmp_path) -> Path:
    return save_map(the_map, tmp_path / "maps" / "gap.html")


def _features(html_text: str) -> list[dict]:
    """The GeoJSON features embedded in the page (the layers' ``_add({...})`` calls).

    Walking circles carry their rings as encoded polylines; they are decoded here into
    GeoJSON coordinates, as the page does.
    """
    found = []
    for blob in re.findall(r"_add\((\{\"features\".*?\})\);\n", html_text):
        found.extend(json.loads(blob)["features"])
    for f in found:
        g = f["geometry"]
        if "polylines" in g:
            polygons = g["polylines"] if g["type"] == "MultiPolygon" else [g["polylines"]]
            coords = [[_decode_ring(r) for r in rings] for rings in polygons]
            g["coordinates"] = coords if g["type"] == "MultiPolygon" else coords[0]
    return found


def _decode_ring(text: str, decimals: int = 5) -> list[list[float]]:
    """An encoded polyline (Google's format, lat/lng) as a closed GeoJSON ring."""
    values, value, shift = [], 0, 0
    for ch in text:
        b = ord(ch) - 63
        value |= (b & 31) << shift
        shift += 5
        if b < 32:
            values.append(~(value >> 1) if value & 1 else value >> 1)
            value, shift = 0, 0
    lat = np.cumsum(values[0::2]) / 10**decimals
    lng = np.cumsum(values[1::2]) / 10**decimals
    ring = np.column_stack([lng, lat]).tolist()
    return ring + ring[:1]


# --------------------------------------------------------------------------- HTML


def test_saved_html_is_self_contained(saved):
    text = saved.read_text(encoding="utf-8")
    assert external_assets(text) == []
    assert not re.search(r"<script[^>]*\bsrc\s*=", text), "every script must be inline"
    assert not re.search(r"<link[^>]*stylesheet", text), "every stylesheet must be inline"
    assert not re.search(r"src\s*=\s*[\"']https?://", text)
    assert "Leaflet 1.9.4" in text  # the vendored copy, inlined
    assert "url(images/" not in text  # Leaflet's control icons became data: URIs
    for cdn in ("jquery", "bootstrap", "cdn.jsdelivr", "cdnjs", "fontawesome"):
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
    assert "城南片区养老设施缺口 Gap map" in text
    assert "<title>城南片区养老设施缺口 Gap map</title>" in text
    for note in NOTES:
        assert note in text
    assert "households within a 15-minute walk" in text
    assert "61.5%" in text and "≥ 90.0%" in text
    assert "✗ 未达标 fail" in text


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
    f1 = by_id["F1"]
    assert f1["kind"] == "日间照料中心 day-care centre"
    assert f1["floor_area"] == "600"
    assert f1["served"] == "2,100"
    assert f1["per_100hh"] == "28.6"
    assert by_id["F2"]["status"] == "规划 planned"


def test_styles_encode_status_shortfall_and_floor_area(the_map):
    layers = [e for e in _walk(the_map) if isinstance(e, folium.GeoJson)]
    styles = {}
    for layer in layers:
        for feature in layer.data["features"]:
            styles[feature["id"]] = layer.style_function(feature)
    assert styles["C1"]["fillColor"] == "#1a9850"  # meets: green
    assert styles["C2"]["fillColor"] == "#f28e2b"  # below standard: orange
    assert styles["C3"]["fillColor"] == "#d7301f"  # uncovered: red
    assert styles["C4"]["fillColor"] == "#8c8c8c"  # unreachable: grey
    # fill intensity follows the shortfall: 0 < 22.5 < 37.5 < 180 m²
    opacities = [styles[c]["fillOpacity"] for c in ("C1", "C4", "C2", "C3")]
    assert opacities == sorted(opacities)
    assert opacities[0] < opacities[-1]
    # radius by sqrt(floor area): 600 m² is the largest; 150 m² is half the way by sqrt
    assert styles["F1"]["radius"] > styles["F2"]["radius"]
    assert styles["F2"]["fillColor"] == "#ffffff"  # planned: hollow
    assert styles["F2"]["dashArray"]


def test_coordinates_are_wgs84_rounded_to_six_decimals(saved):
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
    assert "OpenStreetMap" not in text
    assert external_assets(text) == []


def test_layers_one_group_per_status_and_kind_circles_off(the_map):
    groups = [e for e in the_map._children.values() if isinstance(e, folium.FeatureGroup)]
    names = [g.layer_name for g in groups]
    assert sum("达标" in n and "meets" in n for n in names) == 1
    assert sum(FACILITY_KINDS["station"][0] in n for n in names) == 1
    circles = [g for g in groups if "步行圈" in g.layer_name]
    assert len(circles) == 1
    assert circles[0].show is False
    assert all(g.show for g in groups if g is not circles[0])
    assert len(groups) == 4 + 2 + 1


def test_bad_inputs_fail_with_named_errors(communities, facilities):
    with pytest.raises(MissingColumnError, match="shortfall_m2"):
        gap_map(communities.drop(columns="shortfall_m2"), facilities, title="t")
    with pytest.raises(CRSError, match="facilities"):
        gap_map(communities, facilities.set_crs(None, allow_override=True), title="t")
    odd = communities.assign(service_status=["meets", "meets", "ok?", "meets"])
    with pytest.raises(InputError, match="ok\\?"):
        gap_map(odd, facilities, title="t")


def test_save_map_inlines_plain_maps_and_refuses_cdn_plugins(tmp_path):
    plain = folium.Map(location=[21.8, 111.9], tiles=None)
    text = save_map(plain, tmp_path / "plain.html").read_text(encoding="utf-8")
    assert external_assets(text) == []
    assert "Leaflet 1.9.4" in text
    with_plugin = folium.Map(location=[21.8, 111.9], tiles=None)
    folium.plugins.Fullscreen().add_to(with_plugin)
    with pytest.raises(InputError, match="offline"):
        save_map(with_plugin, tmp_path / "plugin.html")
    with_popup = folium.Map(location=[21.8, 111.9], tiles=None)
    folium.CircleMarker([21.8, 111.9], popup="needs jQuery").add_to(with_popup)
    with pytest.raises(InputError, match="jQuery"):
        save_map(with_popup, tmp_path / "popup.html")


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


def _raster_disc(radius: float, *, cell: float = 5.0, holes: bool = False):
    """A disc drawn as the union of ``cell``-metre raster cells (a staircase outline)."""
    n = int(radius // cell) + 2
    centres = (np.arange(-n, n) + 0.5) * cell
    cx, cy = np.meshgrid(centres, centres)
    inside = np.hypot(cx, cy) <= radius
    if holes:  # blocks inside the circle nobody reaches, as walking circles have
        inside &= ~((np.abs(cx % 100 - 50) < 20) & (np.abs(cy % 100 - 50) < 20))
    cells = shapely.box(cx[inside] - cell / 2, cy[inside] - cell / 2,
                        cx[inside] + cell / 2, cy[inside] + cell / 2)
    return affinity.translate(shapely.union_all(cells), X0, Y0)


@pytest.mark.parametrize("holes", [False, True])
def test_circle_display_outline_cuts_the_raster_steps(holes):
    disc = _raster_disc(450.0, holes=holes)
    before = disc.wkb
    (outline,) = _staircase_outline([disc])
    assert disc.wkb == before  # the analysis polygon is untouched
    assert outline.is_valid
    assert shapely.get_num_coordinates(outline) <= 0.5 * shapely.get_num_coordinates(disc)
    assert outline.area == pytest.approx(disc.area, rel=0.01)
    assert shapely.get_num_interior_rings(outline) == shapely.get_num_interior_rings(disc)
    # the outline stays within a cell of the staircase: no step is lost or invented
    assert outline.hausdorff_distance(disc) <= 5.0


def test_walking_circles_decode_to_their_polygons(tmp_path):
    disc = _raster_disc(300.0, holes=True)
    fac = gpd.GeoDataFrame(
        {"name": ["站"], "kind": ["station"], "floor_area_m2": [200.0]},
        geometry=[Point(X0, Y0)], index=pd.Index(["F1"], name="facility_id"), crs=CRS,
    )
    iso = gpd.GeoDataFrame({"facility_id": ["F1"], "kind": ["station"], "minutes": [15.0]},
                           geometry=[disc], crs=CRS)
    comm = gpd.GeoDataFrame(
        {"name": ["{{ 1 + 1 }} {% raw %}"], "households": [100], "service_status": ["meets"],
         "nearest_facility_id": ["F1"], "nearest_minutes": [3.0], "facilities_within": [1],
         "accessible_m2_per_100hh": [30.0], "required_m2_per_100hh": [20.0],
         "shortfall_m2": [0.0]},
        geometry=[box(X0 + 10, Y0 + 10, X0 + 60, Y0 + 60)],
        index=pd.Index(["C1"], name="community_id"), crs=CRS,
    )
    path = save_map(gap_map(comm, fac, iso, title="t", basemap=False), tmp_path / "c.html")
    by_id = {f["id"]: f for f in _features(path.read_text(encoding="utf-8"))}
    # template-like text in the data is written as is, never run as a template
    assert by_id["C1"]["properties"]["name"] == "{{ 1 + 1 }} {% raw %}"
    shown = gpd.GeoSeries([shapely.geometry.shape(by_id["0"]["geometry"])], crs=4326).to_crs(CRS)
    assert shown.is_valid.all()
    assert shown.area.iloc[0] == pytest.approx(disc.area, rel=0.01)
    assert shown.iloc[0].hausdorff_distance(disc) <= 5.0


# --------------------------------------------------------------------------- browser

_READY = (
    "return typeof L !== 'undefined' && "
    "document.querySelectorAll('path.planner-community').length > 0"
)


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


def test_map_works_offline_in_headless_chromium(browser, saved, tmp_path):
    open_file(browser, saved, ready_js=_READY)
    assert browser.execute_script("return typeof L") != "undefined"
    assert browser.execute_script("return L.version") == "1.9.4"
    assert browser.execute_script("return typeof jQuery") == "undefined"  # not needed

    # every community and facility drawn as an interactive SVG path
    assert _count(browser, "path.planner-community") == 4
    assert _count(browser, "path.planner-community.leaflet-interactive") == 4
    assert _count(browser, ".leaflet-overlay-pane path.planner-status-below_standard") == 1
    assert _count(browser, ".leaflet-planner_facilities-pane path.planner-facility") == 2

    # the panels sit in map corners, readable text in both languages
    legend = browser.find_element(
        By.CSS_SELECTOR, ".leaflet-bottom.leaflet-left .planner-legend"
    ).text
    assert "面积不足" in legend
    assert "within a circle, floor area below standard" in legend
    title = browser.find_element(By.CSS_SELECTOR, ".leaflet-top.leaflet-left .planner-title").text
    assert NOTES[1] in title
    assert "61.5%" in browser.find_element(By.CSS_SELECTOR, ".planner-targets").text

    # walking circles: off by default, on after ticking their box in the layer control
    assert _count(browser, "path.planner-circle") == 0
    labels = browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
    circle_box = next(lb for lb in labels if "步行圈" in lb.text).find_element(By.TAG_NAME, "input")
    assert not circle_box.is_selected()
    circle_box.click()
    WebDriverWait(browser, 5).until(lambda d: _count(d, "path.planner-circle") == 1)

    # clicking a community opens its popup with its numbers
    browser.find_element(By.CSS_SELECTOR, "path.planner-status-below_standard").click()
    text = _popup_text(
        browser, ("小区 community 幸福里", "户数 households 300", "面积缺口 shortfall m² 37.5")
    )
    for expected in ("7.5", "20", "幸福里养老服务站 (F2)", "11"):
        assert expected in text

    stats = screenshot_stats(browser, tmp_path / "gap_map.png")
    assert stats["width"] >= 1000
    assert stats["variance"] > 100, stats  # not a blank page
    assert stats["colours"] > 50, stats
    assert js_errors(browser, ignore=(TILE_HOST,)) == []


def test_point_communities_render_and_open_popups(browser, communities, facilities, tmp_path):
    points = communities.copy()
    points.geometry = communities.geometry.centroid
    path = save_map(gap_map(points, facilities, title="points", basemap=False), tmp_path / "p.html")
    open_file(browser, path, ready_js=_READY)
    assert _count(browser, "path.planner-community") == 4
    browser.find_element(By.CSS_SELECTOR, "path.planner-status-uncovered").click()
    _popup_text(browser, ("小区 community 老街社区", "面积缺口 shortfall m² 180"))
    assert js_errors(browser) == []


# --------------------------------------------------------------------------- helpers


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _flatten(coords):
    if isinstance(coords[0], (int, float)):
        return list(coords)
    return [c for part in coords for c in _flatten(part)]
