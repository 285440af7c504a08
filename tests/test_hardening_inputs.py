"""Issue 7, items 2-5 and 7-9: every accepted geometry works, every broken file or option
gets a clear error, the right table is read, rows are numbered as a person sees them.

District: the 1,500 m street of ``conftest.line_district`` (A at 300 m, B 840 m, C 1,200 m,
D 500 m off the road, E rejected; station F1 at 0 m), unless a test builds its own.
Every CLI case asserts the exit code and the message's key words; no case may print a
Python traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from planner.cli import main
from planner.crs import wgs84_to_gcj02
from planner.io import read_communities, read_facilities, read_table, read_text
from planner.notes import SYNTHETIC_MARKER
from tests.conftest import METRIC, ORIGIN, to_lonlat, write_points_csv, write_road_lines


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(d: dict[str, Path], out: Path, *extra: str, **files: Path):
    paths = {**{k: d[k] for k in ("network", "communities", "facilities")}, **files}
    args = ["run", "--network", str(paths["network"]), "--communities",
            str(paths["communities"]), "--facilities", str(paths["facilities"]),
            "--profile", "changji", "--out", str(out), "--no-map", *extra]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output
    return result


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def notes_text(out: Path) -> str:
    return " ".join(summary(out)["notes"])


def metric_geoms(geoms: list[shapely.Geometry]) -> gpd.GeoSeries:
    """Geometries given in local metres (relative to ORIGIN), as WGS84."""
    moved = [shapely.affinity.translate(g, ORIGIN[0], ORIGIN[1]) for g in geoms]
    return gpd.GeoSeries(moved, crs=METRIC).to_crs(4326)


# ---------------------------------------------------------------------------
# item 2: geometries


def test_facility_polygon_uses_a_representative_point(line_district, tmp_path):
    d = line_district
    # a 20 m square building whose south edge sits on the street at 0-20 m
    square = shapely.box(0, 0, 20, 20)
    fac = gpd.GeoDataFrame({"facility_id": ["F1"], "kind": ["station"], "floor_area_m2": [60]},
                           geometry=metric_geoms([square]))
    path = tmp_path / "facilities.geojson"
    fac.to_file(path, driver="GeoJSON")
    out = tmp_path / "o"
    result = run(d, out, facilities=path)
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    # the point is the square's centre (10, 10): 10 m off-road + 290 m to A = 300 m = 5 min
    assert c.loc["A", "nearest_minutes"] == pytest.approx(5.0, abs=0.01)
    f = gpd.read_file(out / "facilities.gpkg", layer="facilities")
    assert (f.geom_type == "Point").all()


@pytest.mark.parametrize(("geometry", "words"), [
    (shapely.LineString([(300, 0), (310, 5)]), "must be a point or polygon"),
    (shapely.MultiPoint([(300, 0), (305, 0)]), "must be a point or polygon"),
    (shapely.GeometryCollection([shapely.Point(300, 0)]), "must be a point or polygon"),
    (shapely.Polygon([(300, 0), (310, 0), (320, 0)]), "zero area"),
])
def test_community_geometry_of_another_type_is_rejected(line_district, tmp_path, geometry,
                                                        words):
    d = line_district
    geoms = [geometry, shapely.Point(840, 0), shapely.box(1190, 5, 1210, 25)]
    comm = gpd.GeoDataFrame({"community_id": ["A", "B", "C"], "households": [200, 200, 100]},
                            geometry=metric_geoms(geoms))
    path = tmp_path / "communities.gpkg"
    comm.to_file(path, layer="communities")
    out = tmp_path / "o"
    result = run(d, out, communities=path)
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == [2] and rejects["column"].tolist() == ["geometry"]
    assert words in rejects.loc[0, "reason"]
    counts = summary(out)["inputs"]["communities"]
    assert (counts["read"], counts["written"], counts["rejected"]) == (3, 2, 1)


def test_road_line_with_a_nan_vertex_is_dropped_with_a_note(line_district, tmp_path, caplog):
    d = line_district
    lines = gpd.read_file(d["network"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns making it: the point
        broken = shapely.LineString([(116.0, 39.0), (np.nan, 39.1), (116.2, 39.2)])
    lines = pd.concat([lines, gpd.GeoDataFrame({"road_id": [9]}, geometry=[broken],
                                                crs=4326)], ignore_index=True)
    path = tmp_path / "roads.gpkg"
    lines.to_file(path, layer="roads")
    out = tmp_path / "o"
    result = run(d, out, "--no-cache", network=path)
    assert result.exit_code == 0, result.output
    assert "1 road line(s) with a missing (NaN) or infinite vertex dropped" in result.output
    # the three good lines still make the 1,500 m street: A is 300 m = 5 min from F1
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    assert c.loc["A", "nearest_minutes"] == pytest.approx(5.0, abs=0.01)


def test_every_facility_planned_says_include_planned(line_district, tmp_path):
    d = line_district
    fac = pd.read_csv(d["facilities"])
    fac["status"] = "planned"
    path = tmp_path / "planned.csv"
    fac.to_csv(path, index=False)
    out = tmp_path / "o"
    result = run(d, out, facilities=path)
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv")
    assert set(c["service_status"]) == {"uncovered", "unreachable"}
    assert "--include-planned" in notes_text(out) and "--include-planned" in result.output


def test_no_facility_near_any_road_names_the_distance_and_files(line_district, tmp_path):
    d = line_district
    far = write_points_csv(tmp_path / "far_facilities.csv",
                           [{"facility_id": "F1", "kind": "station", "floor_area_m2": 60}],
                           [(300, 600)])  # 600 m north of the street: beyond 150 m
    out = tmp_path / "o"
    result = run(d, out, facilities=far)
    assert result.exit_code == 0, result.output
    text = notes_text(out)
    assert "none of the 1 assessed facilities lies within 150 m of a road" in text
    assert "far_facilities.csv" in text


def test_read_text_reads_what_windows_saves(tmp_path):
    text = "[profile]\nname = \"测试市\"\n"
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "gb18030"):
        path = tmp_path / f"p-{encoding}.toml"
        path.write_bytes(text.encode(encoding))
        assert read_text(path) == text, encoding


# ---------------------------------------------------------------------------
# item 3: broken files and options


@pytest.mark.parametrize(("name", "content", "words"), [
    ("roads.gpkg", b"", "empty"),
    ("roads.gpkg", b"this is not a GeoPackage", "cannot read the road lines"),
    ("roads.graphml", b"<?xml version='1.0'?><graphml><graph><node id='1'>",
     "GraphML"),
    ("roads.osm.pbf", b"\x00\x00\x00\x0dnot really a pbf at all", ".osm.pbf"),
    ("roads.osm", b"<osm><way id='1'><nd ref=", "OpenStreetMap XML"),
])
def test_broken_network_file_is_a_clear_error(line_district, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    before = sha(path)
    result = run(line_district, tmp_path / "o", "--no-cache", network=path)
    assert result.exit_code == 2, result.output
    assert words in result.output and name in result.output
    assert sha(path) == before


@pytest.mark.parametrize("name", ["roads.gpkg", "communities.geojson"])
def test_unreadable_spatial_file_drops_gdals_driver_hint(line_district, tmp_path, name):
    """GDAL suggests a '<DRIVER>:' path prefix, which a planner cannot act on; it is cut."""
    path = tmp_path / name
    path.write_bytes(b"community_id,households\nC1,10\n")  # a CSV under a spatial name
    role = "network" if name.startswith("roads") else "communities"
    result = run(line_district, tmp_path / "o", "--no-cache", **{role: path})
    assert result.exit_code == 2, result.output
    assert "not recognized as being in a supported file format" in result.output
    assert "It might help" not in result.output and "<DRIVER>" not in result.output
    assert f"valid {path.suffix} file" in result.output


@pytest.mark.parametrize("speed", ["-1", "0", "nan", "inf", "30"])
def test_speed_must_be_finite_positive_walking(line_district, tmp_path, speed):
    result = run(line_district, tmp_path / "o", "--speed", speed)
    assert result.exit_code == 2, result.output
    assert "--speed" in result.output and "m/s" in result.output
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize(("crs", "words"), [
    ("banana", "not a coordinate system"),
    ("EPSG:4326", "geographic"),
    ("EPSG:3857", "Web Mercator"),
    ("EPSG:32618", "distorted"),  # UTM 18N: New York, not Shanxi
    ("EPSG:2263", "not metres"),  # US survey feet
])
def test_metric_crs_must_be_projected_metric_and_local(line_district, tmp_path, crs, words):
    result = run(line_district, tmp_path / "o", "--metric-crs", crs, "--no-cache")
    assert result.exit_code == 2, result.output
    assert "--metric-crs" in result.output and words in result.output


def test_a_local_gauss_kruger_crs_gives_the_same_minutes(line_district, tmp_path):
    # CGCS2000 3-degree zone CM 111E (EPSG:4546) covers lon 109.5-112.5; the street is at
    # 112.75, within the 3-degree margin: scale error there is < 0.05 %
    out = tmp_path / "o"
    result = run(line_district, out, "--metric-crs", "EPSG:4546", "--no-cache")
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    assert c.loc["A", "nearest_minutes"] == pytest.approx(5.0, rel=1e-3)


def test_two_headers_with_the_same_meaning(line_district, tmp_path):
    frame = pd.read_csv(line_district["communities"])
    frame["Households"] = frame["households"]
    path = tmp_path / "dup.csv"
    frame.to_csv(path, index=False)
    result = run(line_district, tmp_path / "o", communities=path)
    assert result.exit_code == 2, result.output
    assert "'households' and 'Households' both mean 'households'" in result.output


def test_memory_error_is_not_turned_into_cannot_read(monkeypatch, tmp_path):
    path = tmp_path / "c.geojson"
    gpd.GeoDataFrame({"community_id": ["a"], "households": [1]},
                     geometry=[shapely.Point(116.4, 39.9)], crs=4326).to_file(path)

    def hungry(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(gpd, "read_file", hungry)
    with pytest.raises(MemoryError):
        read_communities(path)


# ---------------------------------------------------------------------------
# item 4: choose the table


def _two_layer_gpkg(tmp_path: Path, d: dict[str, Path]) -> Path:
    comm = pd.read_csv(d["communities"])
    gdf = gpd.GeoDataFrame(comm, geometry=gpd.points_from_xy(comm["lon"], comm["lat"]),
                           crs=4326).drop(columns=["lon", "lat"])
    path = tmp_path / "district.gpkg"
    gdf.iloc[:2].to_file(path, layer="old_survey")  # first layer: 2 rows, the wrong table
    gdf.to_file(path, layer="communities")
    return path


def test_multi_layer_geopackage_uses_the_layer_named_for_the_role(line_district, tmp_path):
    path = _two_layer_gpkg(tmp_path, line_district)
    out = tmp_path / "o"
    result = run(line_district, out, communities=path)
    assert result.exit_code == 0, result.output
    assert summary(out)["inputs"]["communities"]["read"] == 5
    text = notes_text(out)
    assert "read layer 'communities'" in text and "--communities-layer" in text
    assert "read layer 'communities'" in result.output


def test_layer_option_and_inline_layer_choose_another(line_district, tmp_path):
    path = _two_layer_gpkg(tmp_path, line_district)
    for extra, files in ((["--communities-layer", "old_survey"], {"communities": path}),
                         ([], {"communities": Path(f"{path}:old_survey")})):
        out = tmp_path / f"o{len(extra)}"
        result = run(line_district, out, *extra, **files)
        assert result.exit_code == 0, result.output
        assert summary(out)["inputs"]["communities"]["read"] == 2


def test_unknown_layer_lists_the_layers(line_district, tmp_path):
    path = _two_layer_gpkg(tmp_path, line_district)
    result = run(line_district, tmp_path / "o", "--communities-layer", "nope", communities=path)
    assert result.exit_code == 2, result.output
    assert "no layer 'nope'" in result.output and "old_survey, communities" in result.output


def test_hidden_first_sheet_is_never_read_silently(line_district, tmp_path):
    comm = pd.read_csv(line_district["communities"])
    path = tmp_path / "小区.xlsx"
    with pd.ExcelWriter(path) as writer:
        comm.iloc[:1].to_excel(writer, sheet_name="draft", index=False)
        comm.to_excel(writer, sheet_name="汇总", index=False)
    wb = openpyxl.load_workbook(path)
    wb["draft"].sheet_state = "hidden"
    wb.save(path)
    out = tmp_path / "o"
    result = run(line_district, out, communities=path)
    assert result.exit_code == 0, result.output
    assert summary(out)["inputs"]["communities"]["read"] == 5
    assert "hidden: draft" in notes_text(out) and "read sheet '汇总'" in notes_text(out)
    out2 = tmp_path / "o2"
    assert run(line_district, out2, "--sheet", "draft", communities=path).exit_code == 0
    assert summary(out2)["inputs"]["communities"]["read"] == 1  # named: read


# ---------------------------------------------------------------------------
# item 5: rows as a person sees them


def test_reject_rows_count_blank_rows_and_skip_empty_ones(tmp_path):
    # Excel rows: 1 header, 2 c1, 3 blank, 4 c2 (0 households: rejected), 5 ",,,,", 6 c3
    text = ("community_id,households,lon,lat\n"
            "c1,100,116.40,39.90\n"
            "\n"
            "c2,0,116.41,39.91\n"
            ",,,\n"
            "c3,50,116.42,39.92\n"
            ",,,\n,,,\n")
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    load = read_communities(path)
    assert load.rejects["row"].tolist() == [4]
    assert load.rows_read == 3  # blank and ",,,," rows are skipped, not read
    assert load.kept_rows == [2, 6]
    assert read_table(path).index.tolist() == [0, 2, 4]  # Excel row = index + 2


def test_excel_rows_after_a_blank_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["community_id", "households", "lon", "lat"])
    ws.append(["c1", 100, 116.40, 39.90])
    ws.append([None, None, None, None])
    ws.append(["c2", -5, 116.41, 39.91])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    load = read_communities(path)
    assert load.rejects["row"].tolist() == [4]
    assert load.rows_read == 2


# ---------------------------------------------------------------------------
# item 7: coordinates


def test_gate_far_from_its_community_is_rejected(line_district, tmp_path):
    d = line_district
    gates = write_points_csv(tmp_path / "gates.csv", [{"community_id": "A"}, {"community_id": "B"}],
                             [(300, 0), (840 + 2600, 0)])  # B's gate 2.6 km from B
    out = tmp_path / "o"
    result = run(d, out, "--gates", str(gates))
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")
    gate_rows = rejects[rejects["layer"] == "gates"]
    assert gate_rows["row"].tolist() == [3]
    assert "2,600 m from its community" in gate_rows["reason"].iloc[0]


def test_most_communities_at_one_point_get_a_note(line_district, tmp_path):
    d = line_district
    frame = pd.read_csv(d["communities"])
    frame["lon"], frame["lat"] = frame.loc[0, "lon"], frame.loc[0, "lat"]  # failed geocoding
    path = tmp_path / "geocoded.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "o"
    result = run(d, out, communities=path)
    assert result.exit_code == 0, result.output
    assert "4 of 4 communities share one location" in notes_text(out)


def test_most_communities_unreachable_get_a_note(line_district, tmp_path):
    d = line_district
    # A, B, C moved 400 m north of the street: with D, 4 of 4 are beyond snapping reach
    path = write_points_csv(
        tmp_path / "far.csv",
        [{"community_id": c, "households": 100} for c in "ABCD"],
        [(300, 400), (840, 400), (1200, 400), (700, 500)])
    out = tmp_path / "o"
    result = run(d, out, communities=path)
    assert result.exit_code == 0, result.output
    assert "4 of 4 communities are unreachable" in notes_text(out)


def test_gcj02_road_network_declared_wgs84_names_network_crs(tmp_path):
    """Bureau road lines in GCJ-02 left as wgs84, layers rightly declared gcj02."""
    ks = np.arange(0, 0.0801, 0.005)
    lon, lat = 116.39 + ks, 39.89 + ks
    glon, glat = wgs84_to_gcj02(lon, lat)
    roads = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"road_id": [0]}, geometry=[shapely.LineString(np.column_stack(
        [glon, glat]))], crs=4326).to_file(roads, driver="GeoJSON")
    pts = np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    clon, clat = wgs84_to_gcj02(116.39 + pts, 39.89 + pts)  # Amap points: GCJ-02, declared
    comm = tmp_path / "communities.csv"
    pd.DataFrame({"community_id": [f"c{i}" for i in range(5)], "households": 100,
                  "lon": clon, "lat": clat}).to_csv(comm, index=False, float_format="%.8f")
    flon, flat = wgs84_to_gcj02(116.39 + pts[[0, 2, 4]], 39.89 + pts[[0, 2, 4]])
    fac = tmp_path / "facilities.csv"
    pd.DataFrame({"facility_id": ["f1", "f2", "f3"], "kind": "station", "floor_area_m2": 300,
                  "lon": flon, "lat": flat}).to_csv(fac, index=False, float_format="%.8f")
    out = tmp_path / "o"
    d = {"network": roads, "communities": comm, "facilities": fac}
    result = run(d, out, "--communities-crs", "gcj02", "--facilities-crs", "gcj02",
                 "--no-cache")
    assert result.exit_code == 0, result.output
    assert "--network-crs gcj02" in notes_text(out)
    assert summary(out)["declared_crs"]["communities"] == "gcj02"


def test_wgs84_points_declared_gcj02_get_a_note(line_district, tmp_path):
    """WGS84 points on an OpenStreetMap-like network, wrongly declared gcj02."""
    ks = np.arange(0, 0.0801, 0.005)
    roads = tmp_path / "roads.osm"
    nodes = "".join(f'<node id="{i + 1}" lat="{39.89 + k:.6f}" lon="{116.39 + k:.6f}"/>'
                    for i, k in enumerate(ks))
    refs = "".join(f'<nd ref="{i + 1}"/>' for i in range(len(ks)))
    roads.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}<way id="1">{refs}'
                     '<tag k="highway" v="residential"/></way></osm>', encoding="utf-8")
    pts = np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    comm = tmp_path / "communities.csv"
    pd.DataFrame({"community_id": [f"c{i}" for i in range(5)], "households": 100,
                  "lon": 116.39 + pts, "lat": 39.89 + pts}).to_csv(comm, index=False)
    fac = tmp_path / "facilities.csv"
    pd.DataFrame({"facility_id": ["f1"], "kind": "station", "floor_area_m2": 300,
                  "lon": [116.40], "lat": [39.90]}).to_csv(fac, index=False)
    out = tmp_path / "o"
    d = {"network": roads, "communities": comm, "facilities": fac}
    result = run(d, out, "--communities-crs", "gcj02", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "--communities-crs wgs84" in notes_text(out)


# ---------------------------------------------------------------------------
# item 9: small things


def test_gbk_shapefile_without_cpg_is_read_as_gb18030(tmp_path):
    gdf = gpd.GeoDataFrame({"community_": ["c1", "c2"], "name": ["幸福小区", "和平里"],
                            "households": [100, 200]},
                           geometry=[shapely.Point(116.40, 39.90), shapely.Point(116.41, 39.91)],
                           crs=4326)
    path = tmp_path / "小区.shp"
    gdf.to_file(path, encoding="gb18030")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    load = read_communities(path)
    assert load.data["name"].tolist() == ["幸福小区", "和平里"]
    assert any("GB18030" in n for n in load.notes)


def test_excel_dates_in_completion_year_give_their_year(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["community_id", "households", "completion_year", "lon", "lat"])
    ws.append(["c1", 100, pd.Timestamp("2016-05-01").to_pydatetime(), 116.40, 39.90])
    ws.append(["c2", 100, "2003年6月", 116.41, 39.91])
    ws.append(["c3", 100, 1995, 116.42, 39.92])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    load = read_communities(path)
    assert load.data["completion_year"].tolist() == [2016, 2003, 1995]
    assert not load.warnings


def test_synthetic_label_comes_from_the_marker_not_a_readme(line_district, tmp_path):
    d = line_district
    (d["dir"] / "README.md").write_text("Not our synthetic sample: real 民政局 data.",
                                        encoding="utf-8")
    out = tmp_path / "o"
    assert run(d, out).exit_code == 0
    assert "synthetic" not in notes_text(out)
    comm = pd.read_csv(d["communities"])
    marked = tmp_path / "marked.gpkg"
    gpd.GeoDataFrame(comm, geometry=gpd.points_from_xy(comm["lon"], comm["lat"]),
                     crs=4326).to_file(marked, layer="communities",
                                       layer_metadata=SYNTHETIC_MARKER)
    out2 = tmp_path / "o2"
    assert run(d, out2, communities=marked).exit_code == 0
    assert "synthetic sample" in notes_text(out2)


def test_facility_reader_keeps_points_as_points(tmp_path):
    lon, lat = to_lonlat([(0, 0)])
    path = tmp_path / "f.csv"
    pd.DataFrame({"facility_id": ["F1"], "kind": ["station"], "floor_area_m2": [60],
                  "lon": lon, "lat": lat}).to_csv(path, index=False)
    load = read_facilities(path)
    assert load.data.geometry.iloc[0].x == pytest.approx(lon[0])
    assert math.isclose(load.data.geometry.iloc[0].y, lat[0])


def test_road_lines_geojson_helper_roundtrip(tmp_path):
    # the fixture writer keeps exact metres: a 500 m line reads back as 500 m
    path = write_road_lines(tmp_path / "r.geojson", [[(0, 0), (500, 0)]])
    lines = gpd.read_file(path).to_crs(METRIC)
    assert lines.length.iloc[0] == pytest.approx(500.0, abs=1e-3)


def test_infinite_and_nan_coordinates_are_rejected_per_row(tmp_path):
    # rows 2 INF lon, 3 text "nan" lat, 5 -inf and 1e400 (overflows to inf); row 4 is fine
    path = tmp_path / "c.csv"
    path.write_text("community_id,households,lon,lat\nc1,100,INF,39.9\nc2,100,116.4,nan\n"
                    "c3,100,116.4,39.9\nc4,100,-inf,1e400\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may escape the reader
        load = read_communities(path)
    assert load.data.index.tolist() == ["c3"]
    assert sorted(set(load.rejects["row"])) == [2, 3, 5]
    assert set(load.rejects["reason"]) == {"missing, non-numeric or infinite coordinate"}


def test_wkt_with_a_nan_vertex_is_rejected(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('community_id,households,wkt\n'
                    'c1,100,"POLYGON ((116.4 39.9, 116.401 39.9, NaN 39.901, 116.4 39.9))"\n'
                    'c2,100,"POINT (116.41 39.91)"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load = read_communities(path)
    assert load.data.index.tolist() == ["c2"]
    assert load.rejects["reason"].tolist() == [
        "geometry has a missing (NaN) or infinite coordinate"]


def test_infinite_numbers_are_not_numbers(tmp_path):
    # households inf (row 2) and 1e400 (row 3), residents inf (row 4); row 5 is fine
    path = tmp_path / "c.csv"
    path.write_text("community_id,households,residents,lon,lat\n"
                    "c1,inf,10,116.40,39.90\nc2,1e400,10,116.41,39.91\n"
                    "c3,10,inf,116.42,39.92\nc4,10,30,116.43,39.93\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load = read_communities(path)
    assert load.data.index.tolist() == ["c4"]
    got = {(int(r.row), r.column, r.reason) for r in load.rejects.itertuples()}
    assert got == {(2, "households", "households is not a number"),
                   (3, "households", "households is not a number"),
                   (4, "residents", "residents is not a number")}


def test_a_csv_renamed_xlsx_is_named_as_not_a_workbook(line_district, tmp_path):
    fake = tmp_path / "小区.xlsx"
    fake.write_bytes(line_district["communities"].read_bytes())  # a CSV with the wrong name
    result = run(line_district, tmp_path / "o", communities=fake)
    assert result.exit_code == 2, result.output
    assert "not a readable Excel workbook" in result.output and "小区.xlsx" in result.output


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_profile_saved_as_gbk_or_utf16_is_read(tmp_path, encoding):
    path = tmp_path / "城市.toml"
    path.write_bytes('[profile]\nname = "testcity"\nname_zh = "测试市"\n'
                     'inherits = "national"\n'.encode(encoding))
    result = CliRunner().invoke(main, ["profiles", str(path)])
    assert result.exit_code == 0, result.output
    assert "测试市" in result.output and "national" in result.output
