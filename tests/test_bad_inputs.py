"""Bad input through the real CLI: a clear error, or every row accounted for.

Each case substitutes one file of ``tests/data/bad/`` (named for what it breaks) into a
tiny valid district near Beijing and runs ``planner run``. The district is a diagonal
street through (116.39, 39.89) … (116.47, 39.97) with a vertex every 0.005°, so every
point of the bad files (116.40 + 0.01 k, 39.90 + 0.01 k) lies on it.

- a whole-file problem exits with code 2 and a message naming the file and the
  column or value;
- a row-level problem exits with 0, and ``rejects.csv`` has the row, column, value and
  reason, and ``summary.json`` says read = written + rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import crs, diagnostics
from planner._errors import InputError
from planner.cli import main
from planner.network import compile_network
from planner.pipeline import assess, load_study_area
from tests.conftest import SHARED_DATA

BAD = Path(__file__).parent / "data" / "bad"
SHARED = SHARED_DATA
SHANGHAI = SHARED / "shanghai_central" / "shanghai_central.osm"


def _diagonal(k0: float = 0.0, k1: float = 0.08, step: float = 0.005) -> shapely.LineString:
    ks = np.arange(k0, k1 + step / 2, step)
    return shapely.LineString(np.column_stack([116.39 + ks, 39.89 + ks]))


@pytest.fixture
def district(tmp_path: Path) -> dict[str, Path]:
    """The valid district every case starts from (files in ``tmp_path/district``)."""
    d = tmp_path / "district"
    d.mkdir()
    gpd.GeoDataFrame({"road_id": [0]}, geometry=[_diagonal()], crs=4326).to_file(
        d / "roads.geojson", driver="GeoJSON")
    pd.DataFrame({"community_id": ["c1", "c2", "c3", "c4", "c5"],
                  "name": ["甲", "乙", "丙", "丁", "戊"],
                  "households": [120, 300, 80, 200, 150],
                  "lon": [116.40, 116.41, 116.42, 116.43, 116.44],
                  "lat": [39.90, 39.91, 39.92, 39.93, 39.94]}).to_csv(
        d / "communities.csv", index=False)
    pd.DataFrame({"facility_id": ["f1", "f2"], "kind": ["station", "day_care"],
                  "floor_area_m2": [300, 800], "lon": [116.40, 116.43],
                  "lat": [39.90, 39.93]}).to_csv(d / "facilities.csv", index=False)
    return {"network": d / "roads.geojson", "communities": d / "communities.csv",
            "facilities": d / "facilities.csv", "dir": tmp_path}


def run_cli(district: dict[str, Path], *, network: Path | None = None,
            communities: Path | None = None, facilities: Path | None = None,
            gates: Path | None = None, extra: tuple[str, ...] = ()):
    out = district["dir"] / "out"
    args = ["run", "--network", str(network or district["network"]),
            "--communities", str(communities or district["communities"]),
            "--facilities", str(facilities or district["facilities"]),
            "--out", str(out), "--no-map", "--no-cache", *extra]
    if gates is not None:
        args += ["--gates", str(gates)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result, out


# ---------------------------------------------------------------------------
# the cases


@dataclass
class Case:
    """One bad file: which input it replaces and what must come out."""

    file: str
    role: str  # network, communities, facilities, gates, profile
    #: whole-file error: fragments the message must contain (besides the file name)
    error: tuple[str, ...] = ()
    #: row-level rejects: {(row, column, value)} of the replaced layer
    rejects: set[tuple[int, str, str]] = field(default_factory=set)
    #: a fragment of every reject reason
    reason: str = ""
    #: fragments one line of summary.json "notes" must contain
    note: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()


CASES = [
    # -- rows rejected, the run goes on ------------------------------------------------
    Case("communities_zero_households.csv", "communities",
         rejects={(3, "households", "0"), (4, "households", "-5"), (5, "households", "很多"),
                  (6, "households", "12.5"), (8, "households", "")}, reason="households"),
    Case("communities_negative_households.csv", "communities",
         rejects={(3, "households", "-40")}, reason="households must be > 0"),
    Case("communities_households_text.csv", "communities",
         rejects={(3, "households", "约300户")}, reason="households is not a number"),
    Case("communities_households_empty.csv", "communities",
         rejects={(3, "households", ""), (5, "households", "")}, reason="missing households"),
    Case("communities_duplicate_ids.csv", "communities",
         rejects={(4, "community_id", "c1"), (5, "community_id", "c1")},
         reason="first at row 2"),
    Case("communities_missing_ids.csv", "communities",
         rejects={(3, "community_id", ""), (4, "community_id", "")},
         reason="missing community_id"),
    Case("communities_missing_coordinates.csv", "communities",
         rejects={(3, "lon", ""), (4, "lat", ""), (5, "lon", "东经116")}, reason="coordinate"),
    Case("communities_outside_china.csv", "communities",
         rejects={(3, "geometry", "2.350000, 48.850000"),
                  (4, "geometry", "-74.000000, 40.700000")}, reason="outside China"),
    Case("communities_bad_status.csv", "communities",
         rejects={(4, "status", "brand-new"), (5, "area_type", "suburb")}, reason="unknown"),
    Case("communities_status_xinjiu.csv", "communities",
         rejects={(3, "status", "新旧")}, reason="unknown status; valid values are new, old"),
    Case("communities_area_type_suburb.csv", "communities",
         rejects={(3, "area_type", "suburb")}, reason="valid values are urban, rural"),
    # a bad year only decides new/old: the community is kept, the year read as unknown
    Case("communities_completion_year_decade.csv", "communities",
         note=("communities_completion_year_decade.csv", "completion_year", "rows 3",
               "unknown")),
    Case("communities_invalid_polygon.csv", "communities",
         rejects={(4, "wkt", "POLYGON ((116.40 39.90, 116.41")}, reason="WKT",
         note=("communities_invalid_polygon.csv", "repaired", "rows 3")),
    Case("communities_self_intersecting_polygon.geojson", "communities",
         note=("communities_self_intersecting_polygon.geojson", "repaired", "rows 2")),
    Case("communities_duplicate_names.csv", "communities"),  # names repeat: NOT rejected
    Case("communities_gcj02_undeclared.csv", "communities",
         note=("communities_gcj02_undeclared.csv", "GCJ-02", "declared as wgs84",
               "--communities-crs gcj02")),
    Case("communities_bd09_undeclared.csv", "communities",
         note=("communities_bd09_undeclared.csv", "BD-09", "--communities-crs bd09")),
    Case("communities_some_outside_network.csv", "communities",
         note=("communities_some_outside_network.csv", "1 of 5 communities", "c3",
               "unreachable")),
    Case("facilities_bad_kind.csv", "facilities",
         rejects={(4, "kind", "canteen"), (5, "kind", "")}, reason="kind"),
    Case("facilities_unknown_kind_laonian_daxue.csv", "facilities",
         rejects={(3, "kind", "老年大学")}, reason="unknown kind; valid kinds are station"),
    Case("facilities_bad_floor_area.csv", "facilities",
         rejects={(3, "floor_area_m2", "0"), (4, "floor_area_m2", "-20"),
                  (5, "floor_area_m2", "100000"), (6, "floor_area_m2", "250000"),
                  (7, "floor_area_m2", "大")}, reason="floor_area_m2"),
    Case("facilities_floor_area_10_million.csv", "facilities",
         rejects={(3, "floor_area_m2", "10000000"), (4, "floor_area_m2", "0")},
         reason="floor_area_m2 must be > 0 and < 100,000 m²"),
    Case("facilities_duplicate_ids.csv", "facilities",
         rejects={(3, "facility_id", "f1")}, reason="duplicate facility_id"),
    Case("gates_missing_community.csv", "gates",
         rejects={(4, "community_id", "")}, reason="missing community_id"),
    Case("gates_unknown_community.csv", "gates",
         rejects={(3, "community_id", "c9")}, reason="no valid community with this community_id"),
    # -- the whole file is unusable: exit 2 and say why --------------------------------
    Case("communities_swapped_lonlat.csv", "communities", error=("swapped",)),
    Case("communities_lat_over_90.csv", "communities", error=("row 3", "116.41", "swapped")),
    Case("communities_no_rows.csv", "communities", error=("no data rows",)),
    Case("communities_empty.csv", "communities", error=("empty",)),
    Case("communities_missing_households.csv", "communities",
         error=("'households'", "household_count", "rename")),
    Case("communities_no_hushu_column.csv", "communities", error=("'households'", "户数")),
    Case("communities_gbk_wrong_header.csv", "communities", error=("'households'", "住户数")),
    Case("communities_merged_header.xlsx", "communities",
         error=("'community_id'", "某区小区养老设施统计表")),
    Case("communities_unknown_format.ods", "communities", error=("unknown file format", ".ods")),
    Case("communities_bad_encoding.csv", "communities", error=("encoding",)),
    Case("communities_all_rejected.csv", "communities",
         error=("no usable communities", "all 3 rows were rejected", "row 2 households '0'")),
    Case("communities_all_outside_network.csv", "communities",
         error=("2 of 3 communities", "outside the area of the road network", "roads.geojson",
                "--communities-crs")),
    Case("facilities_no_valid_rows.csv", "facilities",
         error=("no usable facilities", "老年大学", "floor_area_m2")),
    Case("network_no_roads.geojson", "network", error=("no road lines",)),
    Case("network_only_motorway.osm", "network", error=("no walkable roads",)),
    Case("network_unknown_format.txt", "network", error=("unknown network format", ".txt")),
    Case("network_missing.osm", "network", error=("network file not found",)),
    Case("profile_typo_key.toml", "profile", error=("unknown key 'profile.inherit'",)),
    Case("atlantis", "profile", error=("Unknown profile 'atlantis'", "jinzhong")),
    Case("communities.csv", "communities", extra=("--communities-crs", "mars"),
         error=("--communities-crs 'mars'", "gcj02", "EPSG:nnnn")),
    Case("communities.csv", "communities", extra=("--facilities-crs", "gcj-2"),
         error=("--facilities-crs 'gcj-2'",)),
]


def _case_id(case: Case) -> str:
    if case.extra:
        return f"{case.extra[0].lstrip('-')}_{case.extra[1]}"
    return case.file.rsplit(".", 1)[0] if case.role != "profile" else f"profile_{case.file}"


def test_there_are_at_least_thirty_distinct_cases():
    assert len({_case_id(c) for c in CASES}) == len(CASES) >= 30


def _path(case: Case, district: dict[str, Path]) -> Path:
    if case.file == "communities.csv":
        return district["communities"]
    return BAD / case.file


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bad_input(case: Case, district):
    kwargs: dict[str, object] = {"extra": case.extra}
    if case.role == "profile":
        kwargs["extra"] = ("--profile", str(BAD / case.file) if case.file.endswith(".toml")
                           else case.file)
    else:
        kwargs[case.role] = _path(case, district)
    result, out = run_cli(district, **kwargs)
    if case.error:
        assert result.exit_code == 2, result.output
        assert "error: " in result.output
        message = result.output.split("error: ", 1)[1]
        if case.role != "profile" or case.file.endswith(".toml"):
            assert Path(case.file).name in message or case.extra  # names the file
        for fragment in case.error:
            assert fragment in message, message
        assert "Traceback" not in result.output
        assert not (out / "summary.json").exists()
        return
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for counts in summary["inputs"].values():
        assert counts["read"] == counts["written"] + counts["rejected"]
        assert counts["read_equals_written_plus_rejected"]
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    mine = rejects[rejects["layer"] == case.role]
    got = {(int(r.row), r.column, r.value) for r in mine.itertuples()}
    assert got == case.rejects
    assert (mine["file"] == str(BAD / case.file)).all()
    assert all(case.reason in r for r in mine["reason"])
    counts = summary["inputs"][case.role]
    assert counts["rejected"] == len({r for r, _, _ in case.rejects})
    if case.role in ("communities", "facilities"):
        table = pd.read_csv(out / f"{case.role}.csv") if case.role == "communities" else \
            gpd.read_file(out / "facilities.gpkg", layer="facilities")
        assert len(table) == counts["written"]
    if case.note:
        assert any(all(f in n for f in case.note) for n in summary["notes"]), summary["notes"]
        assert any(all(f in n for f in case.note) for n in summary["notes"])
    else:
        assert not [n for n in summary["notes"] if "looks like" in n or "outside" in n]


def test_duplicate_names_are_kept(district):
    result, out = run_cli(district, communities=BAD / "communities_duplicate_names.csv")
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv")
    assert list(c["community_id"]) == ["c1", "c2", "c3", "c4"]
    assert (c["name"] == "幸福小区").sum() == 3


def test_outside_the_network_is_unreachable(district):
    result, out = run_cli(district, communities=BAD / "communities_some_outside_network.csv")
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    assert c.loc["c3", "service_status"] == "unreachable"
    assert (c.drop(index="c3")["service_status"] != "unreachable").all()
    assert "outside the road network" in result.output  # the warning and the note


def test_gates_of_rejected_communities_are_rejected(district):
    """c2 has 约300户 (rejected), so its gate has no community to open."""
    result, out = run_cli(district, communities=BAD / "communities_households_text.csv",
                          gates=BAD / "gates_unknown_community.csv")
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(out / "rejects.csv", dtype=str)
    gates = rejects[rejects["layer"] == "gates"]
    assert set(zip(gates["row"].astype(int), gates["value"], strict=True)) == {(3, "c9"),
                                                                                (4, "c2")}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["gates"]["read"] == 3
    assert summary["inputs"]["gates"]["written"] == 1


def test_too_big_for_memory_fails_before_reading(district, monkeypatch):
    monkeypatch.setattr(diagnostics, "available_memory_bytes", lambda: 20 * 10**9)
    monkeypatch.setitem(diagnostics.MEMORY_FACTORS, ".geojson", 1e9)  # ~0.5 kB → 500 GB
    result, _ = run_cli(district)
    assert result.exit_code == 2
    message = result.output.split("error: ", 1)[1]
    assert "roads.geojson is" in message
    assert "this machine has 20.0 GB available" in message
    assert "osmium extract" in message


def test_memory_message_names_sizes(tmp_path, monkeypatch):
    big = tmp_path / "network.osm"
    with big.open("wb") as f:  # a sparse 9.1 GB file: no disk used
        f.truncate(9_100_000_000)
    monkeypatch.setattr(diagnostics, "available_memory_bytes", lambda: 20 * 10**9)
    with pytest.raises(InputError) as info:
        diagnostics.check_memory(big, role="network")
    assert str(info.value).startswith(
        f"{big} is 9.1 GB; reading it needs about 136.5 GB of memory (15× the file size for "
        ".osm files), this machine has 20.0 GB available: clip it to the district first")
    monkeypatch.setattr(diagnostics, "available_memory_bytes", lambda: 200 * 10**9)
    diagnostics.check_memory(big, role="network")  # fits: no error
    assert diagnostics.available_memory_bytes() == 200 * 10**9


def test_real_available_memory_is_plausible():
    free = diagnostics.available_memory_bytes()
    assert free is None or 10**7 < free < 10**14


def test_island_component_is_reported(tmp_path):
    """Two streets that never meet: communities on the short one are on an island."""
    roads = gpd.GeoDataFrame(
        {"road_id": [0, 1]},
        geometry=[_diagonal(0.0, 0.04), shapely.LineString([(116.43, 39.90), (116.44, 39.90)])],
        crs=4326)
    roads.to_file(tmp_path / "roads.geojson", driver="GeoJSON")
    pd.DataFrame({"community_id": ["main1", "main2", "island"], "households": [100, 100, 50],
                  "lon": [116.40, 116.41, 116.435], "lat": [39.90, 39.91, 39.90]}).to_csv(
        tmp_path / "communities.csv", index=False)
    pd.DataFrame({"facility_id": ["f1"], "kind": ["station"], "floor_area_m2": [100],
                  "lon": [116.405], "lat": [39.905]}).to_csv(tmp_path / "facilities.csv",
                                                             index=False)
    district = {"network": tmp_path / "roads.geojson", "communities": tmp_path / "communities.csv",
                "facilities": tmp_path / "facilities.csv", "dir": tmp_path}
    result, out = run_cli(district)
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    assert c.loc["island", "network_component"] > 0
    assert (c.loc[["main1", "main2"], "network_component"] == 0).all()
    assert c.loc["island", "service_status"] == "uncovered"
    assert c.loc["main1", "service_status"] != "uncovered"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["communities"]["on_minor_network_component"] == 1


# ---------------------------------------------------------------------------
# undeclared GCJ-02 / BD-09 on the real Shanghai network


@pytest.fixture(scope="module")
def shanghai():
    net = compile_network(SHANGHAI, use_cache=False)
    rng = np.random.default_rng(7)
    edges = rng.choice(net.n_edges, 60, replace=False)
    on_road = shapely.line_interpolate_point(net.edge_geoms[edges], rng.random(60),
                                             normalized=True)
    wgs = gpd.GeoSeries(on_road, crs=net.pyproj_crs).to_crs(4326)
    return net, wgs.x.to_numpy(), wgs.y.to_numpy()


def _points_file(path: Path, lon: np.ndarray, lat: np.ndarray) -> Path:
    pd.DataFrame({"community_id": [f"c{i}" for i in range(len(lon))], "households": 100,
                  "lon": [repr(float(v)) for v in lon],
                  "lat": [repr(float(v)) for v in lat]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("truth", ["wgs84", "gcj02", "bd09"])
@pytest.mark.parametrize("declared", ["wgs84", "gcj02", "bd09"])
def test_offset_detection_on_shanghai(tmp_path, shanghai, truth, declared):
    net, lon, lat = shanghai
    forward = {"wgs84": lambda x, y: (x, y), "gcj02": crs.wgs84_to_gcj02,
               "bd09": crs.wgs84_to_bd09}[truth]
    path = _points_file(tmp_path / "communities.csv", *forward(lon, lat))
    from planner.io import read_communities  # noqa: PLC0415

    load = read_communities(path, crs=declared)
    notes = diagnostics.check_offsets(net, load.data, role="communities", path=path,
                                      declared=declared)
    if truth == declared:
        assert notes == []
    else:
        assert len(notes) == 1
        assert f"declared as {declared}" in notes[0]
        assert notes[0].endswith(f"rerun with --communities-crs {truth}")
        assert "communities.csv looks like" in notes[0]


def test_block_centres_are_not_mistaken_for_offsets(shanghai):
    """Points in the middle of blocks (correct WGS84) must not trigger the warning."""
    net, lon, lat = shanghai
    rng = np.random.default_rng(3)
    x = rng.uniform(lon.min(), lon.max(), 200)
    y = rng.uniform(lat.min(), lat.max(), 200)
    layer = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    assert diagnostics.check_offsets(net, layer, role="facilities", path=Path("f.csv"),
                                     declared="wgs84") == []


def test_real_iacc_gcj02_points_near_the_shanghai_network(shanghai):
    """The real GCJ-02 points inside the extract are closer to the roads once converted."""
    net, _, _ = shanghai
    table = pd.read_csv(SHARED / "shanghai_central" / "iacc_org_points.csv")
    inside = table[table["in_osm_bbox"]]
    assert len(inside) == 2
    gcj = gpd.GeoDataFrame(geometry=gpd.points_from_xy(inside["lng_gcj02"], inside["lat_gcj02"]),
                           crs=4326)
    to_metric = gcj.to_crs(net.pyproj_crs).geometry.to_numpy()
    wgs = gpd.GeoSeries(gpd.points_from_xy(*crs.gcj02_to_wgs84(
        inside["lng_gcj02"].to_numpy(), inside["lat_gcj02"].to_numpy())), crs=4326)
    assert diagnostics.median_road_distance(net, wgs.to_crs(net.pyproj_crs).to_numpy()) < \
        diagnostics.median_road_distance(net, to_metric)
    # two points are too few for a verdict: no note either way
    assert diagnostics.offset_distances(net, gcj, "wgs84") is None


# ---------------------------------------------------------------------------
# property test: random community tables through load_study_area + assess


_household = st.one_of(st.integers(-3, 900), st.just("约300户"), st.just("120户"), st.none(),
                       st.text(max_size=4), st.floats(allow_nan=True))
_k = st.integers(0, 8).map(lambda k: 0.01 * k)  # on the diagonal, some beyond its ends
_row = st.tuples(st.sampled_from(["a", "b", "c", "", "d"]), _household, _k,
                 st.one_of(st.none(), st.just("新旧"), st.just("老旧"), st.just("new")))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=8))
def test_random_tables_through_the_pipeline(district, rows):
    table = pd.DataFrame({
        "community_id": [r[0] for r in rows], "households": [r[1] for r in rows],
        "lon": [116.39 + r[2] for r in rows], "lat": [39.89 + r[2] for r in rows],
        "status": [r[3] for r in rows]})
    path = district["dir"] / "random.csv"
    table.to_csv(path, index=False)
    try:
        area = load_study_area(district["network"], path, district["facilities"],
                               use_cache=False)
    except InputError:
        return
    result = assess(area, "national", isochrones=False)
    load = area.loads["communities"]
    rejected = set(load.rejects["row"])
    assert load.rows_read == len(rows) == len(result.communities) + len(rejected)
    assert result.summary["inputs"]["communities"]["read_equals_written_plus_rejected"]
    assert set(result.communities.index) == set(load.data.index)
    assert result.communities["service_status"].notna().all()
