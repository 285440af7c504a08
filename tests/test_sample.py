"""Tests of the synthetic sample district (planner.sample)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import scipy.sparse as sp
import shapely
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from planner._errors import InputError
from planner.cli import main
from planner.network import compile_network
from planner.rasters import estimate_households, zonal_sums
from planner.sample import ROAD_CLASSES, SampleDistrict, generate_sample, write_sample
from planner.sample.hilly import (
    N_STAIRS,
    SCARP_FROM_M,
    SCARP_WIDTH_M,
    STEEP_BAND_M,
    river_line_y,
    write_hilly_sample,
)
from planner.terrain import (
    StepsRule,
    read_steps_mask,
    sample_edges,
    slope_factor,
    terrain_network,
)

METRIC = "EPSG:32649"
KINDS = {"station", "day_care", "street_centre", "township_centre", "nursing_home", "mutual_aid"}
FLOOR_AREA_M2 = {
    "station": (150, 600),
    "day_care": (300, 1200),
    "street_centre": (1000, 3000),
    "township_centre": (600, 1500),
    "nursing_home": (2000, 8000),
    "mutual_aid": (50, 200),
}
LAYERS = ("roads", "communities", "gates", "facilities", "boundary", "river")


@pytest.fixture(scope="module")
def district() -> SampleDistrict:
    return generate_sample(seed=42, size=1.0)


@pytest.fixture(scope="module")
def metric(district: SampleDistrict) -> dict[str, gpd.GeoDataFrame]:
    """Every layer projected to UTM 49N, where distances are in metres."""
    return {name: getattr(district, name).to_crs(METRIC) for name in LAYERS}


def _graph(roads: gpd.GeoDataFrame, *, decimals: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Return node lon/lat (rounded) and (u, v) node indices of every road's end points."""
    ends = shapely.get_coordinates(shapely.boundary(roads.geometry.to_numpy())).round(decimals)
    nodes, inverse = np.unique(ends, axis=0, return_inverse=True)
    return nodes, inverse.reshape(-1, 2)


def _node_count(district: SampleDistrict) -> int:
    return len(_graph(district.roads)[0])


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_data() -> None:
    first = generate_sample(seed=7, size=0.5)
    second = generate_sample(seed=7, size=0.5)
    for name in LAYERS:
        assert_geodataframe_equal(
            getattr(first, name), getattr(second, name), check_less_precise=False
        )


def test_different_seed_gives_different_data(district: SampleDistrict) -> None:
    other = generate_sample(seed=43, size=1.0)
    assert (
        len(other.roads) != len(district.roads) or not other.roads.geom_equals(district.roads).all()
    )
    assert not district.communities["name"].equals(other.communities["name"])


def test_written_files_are_identical_for_the_same_seed(tmp_path) -> None:
    a = write_sample(tmp_path / "a", seed=3, size=0.3)
    b = write_sample(tmp_path / "b", seed=3, size=0.3)
    for name in ("roads", "communities", "boundary"):
        assert_geodataframe_equal(gpd.read_file(a[name]), gpd.read_file(b[name]))
    for name in ("gates", "facilities"):
        pd.testing.assert_frame_equal(pd.read_csv(a[name]), pd.read_csv(b[name]))
    assert a["readme"].read_text(encoding="utf-8") == b["readme"].read_text(encoding="utf-8")


# ---------------------------------------------------------------- counts and columns


def test_counts_at_size_one(district: SampleDistrict) -> None:
    assert 200 <= len(district.communities) <= 400
    assert 20 <= len(district.facilities) <= 40
    assert 5_000 <= _node_count(district) <= 20_000
    assert 2 <= (district.roads["road_class"] == "bridge").sum() <= 4
    assert set(district.roads["road_class"]) == set(ROAD_CLASSES)
    assert set(district.facilities["kind"]) == KINDS
    assert (district.communities["area_type"] == "rural").sum() >= 3
    urban = district.communities[district.communities["area_type"] == "urban"]
    assert 3 <= urban["street"].nunique() <= 5
    assert urban["street"].str.endswith("街道").all()
    rural = district.communities[district.communities["area_type"] == "rural"]
    assert rural["street"].str.endswith(("镇", "乡")).all()


def test_district_size_and_place(
    metric: dict[str, gpd.GeoDataFrame], district: SampleDistrict
) -> None:
    x0, y0, x1, y1 = metric["boundary"].total_bounds
    assert 4_000 <= x1 - x0 <= 6_000
    assert 4_000 <= y1 - y0 <= 6_000
    centre = district.boundary.geometry.iloc[0].centroid
    assert centre.x == pytest.approx(112.75, abs=1e-3)
    assert centre.y == pytest.approx(37.69, abs=1e-3)
    assert all(getattr(district, name).crs.to_epsg() == 4326 for name in LAYERS)
    assert metric["boundary"].geometry.iloc[0].contains(metric["roads"].union_all())


def test_communities_are_plausible(district: SampleDistrict) -> None:
    comm = district.communities
    assert comm["community_id"].is_unique
    assert comm["community_id"].str.fullmatch(r"C\d{4,}").all()
    assert comm.geometry.geom_type.eq("Polygon").all()
    assert comm.geometry.is_valid.all()
    assert (shapely.area(comm.geometry.to_numpy()) > 0).all()
    assert (comm["households"] > 0).all()
    ratio = comm["residents"] / comm["households"]
    assert ratio.between(2.59, 2.91).all()
    share = comm["elderly"] / comm["residents"]
    assert share.between(0.175, 0.305).all()
    old, new = comm[comm["status"] == "old"], comm[comm["status"] == "new"]
    urban_old = old[old["area_type"] == "urban"]
    assert urban_old["households"].between(80, 600).all()
    assert new["households"].between(400, 2500).all()
    assert urban_old["completion_year"].between(1960, 2005).all()
    assert new["completion_year"].between(2008, 2024).all()
    assert share[urban_old.index].mean() > share[new.index].mean()
    assert comm["name"].str.contains(r"[\u4e00-\u9fff]").all()
    assert comm["name"].nunique() > 0.9 * len(comm)


def test_facilities_are_plausible(district: SampleDistrict) -> None:
    fac = district.facilities
    assert fac["facility_id"].is_unique
    assert fac["facility_id"].str.fullmatch(r"F\d{3,}").all()
    for kind, (lo, hi) in FLOOR_AREA_M2.items():
        area = fac.loc[fac["kind"] == kind, "floor_area_m2"]
        assert area.between(lo, hi).all(), kind
    assert (fac.loc[fac["kind"] == "station", "beds"] == 0).all()
    assert (fac.loc[fac["kind"] == "nursing_home", "beds"] > 0).all()
    assert set(fac["status"]) == {"existing", "planned"}
    assert (fac["status"] == "planned").sum() < 0.3 * len(fac)
    assert fac["name"].str.contains(r"[\u4e00-\u9fff]").all()
    assert fac.geometry.geom_type.eq("Point").all()


def test_overrides_give_exact_counts() -> None:
    more = generate_sample(seed=1, size=1.0, n_communities=600, n_facilities=55)
    assert len(more.communities) == 600
    assert len(more.facilities) == 55
    fewer = generate_sample(seed=1, size=1.0, n_communities=120)
    assert len(fewer.communities) == 120
    assert set(fewer.gates["community_id"]) <= set(fewer.communities["community_id"])
    gated = fewer.communities.loc[fewer.communities["status"] == "new", "community_id"]
    assert set(gated) == set(fewer.gates["community_id"])


def test_smallest_size_still_has_every_part() -> None:
    tiny = generate_sample(seed=2, size=0.05, n_facilities=1)
    assert len(tiny.facilities) == 1
    assert tiny.facilities["kind"].iloc[0] == "street_centre"
    assert set(tiny.communities["status"]) == {"old", "new"}
    assert len(tiny.gates) > 0
    assert (tiny.roads["road_class"] == "bridge").sum() >= 2


def test_bad_arguments_raise() -> None:
    with pytest.raises(InputError, match="size"):
        generate_sample(size=0.0)
    with pytest.raises(InputError, match="n_communities"):
        generate_sample(size=0.2, n_communities=100_000)
    with pytest.raises(InputError, match="n_facilities"):
        generate_sample(size=0.2, n_facilities=0)


# ---------------------------------------------------------------- network


def test_roads_are_noded(district: SampleDistrict) -> None:
    """Roads meet only at shared end points; none crosses or touches another mid-way."""
    lines = district.roads.geometry.to_numpy()
    assert (shapely.get_num_coordinates(lines) == 2).all()
    left, right = shapely.STRtree(lines).query(lines, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    meet = shapely.intersection(lines[left], lines[right])
    assert (shapely.get_type_id(meet) == 0).all(), "two roads overlap or meet at several points"
    ends_l = shapely.get_coordinates(shapely.boundary(lines[left])).reshape(-1, 2, 2)
    ends_r = shapely.get_coordinates(shapely.boundary(lines[right])).reshape(-1, 2, 2)
    at = shapely.get_coordinates(meet)[:, None, :]
    assert (ends_l == at).all(axis=2).any(axis=1).all(), "a road ends in the middle of another"
    assert (ends_r == at).all(axis=2).any(axis=1).all(), "a road ends in the middle of another"


def test_network_has_one_main_component(district: SampleDistrict) -> None:
    nodes, uv = _graph(district.roads)
    adj = sp.coo_matrix((np.ones(len(uv)), (uv[:, 0], uv[:, 1])), shape=(len(nodes),) * 2)
    _, label = connected_components(adj, directed=False)
    assert np.bincount(label).max() > 0.95 * len(nodes)


def test_only_bridges_cross_the_river(metric: dict[str, gpd.GeoDataFrame]) -> None:
    roads, river = metric["roads"], metric["river"].geometry.iloc[0]
    crossing = roads.geometry.intersects(river)
    assert not crossing[roads["road_class"] != "bridge"].any()
    assert crossing[roads["road_class"] == "bridge"].all()


def test_size_scales_nodes_linearly(district: SampleDistrict) -> None:
    ratio = _node_count(generate_sample(seed=42, size=4.0)) / _node_count(district)
    assert 3.0 <= ratio <= 5.0


# ---------------------------------------------------------------- gates


def test_gates_lie_on_roads_and_community_boundaries(metric: dict[str, gpd.GeoDataFrame]) -> None:
    gates, roads, comm = metric["gates"], metric["roads"], metric["communities"]
    ends = shapely.points(shapely.get_coordinates(shapely.boundary(roads.geometry.to_numpy())))
    _, dist = shapely.STRtree(ends).query_nearest(gates.geometry.to_numpy(), return_distance=True)
    assert dist.max() < 0.01
    fence = comm.set_index("community_id").geometry.boundary
    assert (gates.geometry.distance(fence.loc[gates["community_id"]], align=False) < 0.5).all()


def test_every_gated_community_has_one_to_three_gates(district: SampleDistrict) -> None:
    counts = district.gates["community_id"].value_counts()
    new_ids = district.communities.loc[district.communities["status"] == "new", "community_id"]
    assert set(counts.index) == set(new_ids)
    assert counts.between(1, 3).all()


def test_estate_roads_leave_only_through_gates(metric: dict[str, gpd.GeoDataFrame]) -> None:
    roads, comm, gates = metric["roads"], metric["communities"], metric["gates"]
    estate = roads[roads["road_class"] == "estate_road"].geometry.to_numpy()
    outside = roads[roads["road_class"] != "estate_road"].geometry.to_numpy()
    # every estate road lies inside exactly one gated community
    owner_idx, estate_idx = shapely.STRtree(estate).query(
        comm.geometry.buffer(0.5).to_numpy(), predicate="contains"
    )
    assert np.array_equal(np.sort(estate_idx), np.arange(len(estate)))
    assert (comm["status"].to_numpy()[owner_idx] == "new").all()
    # and touches outside roads only at a gate of that community
    e_idx, o_idx = shapely.STRtree(outside).query(estate, predicate="intersects")
    meet = shapely.intersection(estate[e_idx], outside[o_idx])
    owner = pd.Series(comm["community_id"].to_numpy()[owner_idx], index=estate_idx)
    gate_of = gates.set_index("community_id").geometry
    for point, community in zip(meet, owner.loc[e_idx], strict=True):
        assert gate_of.loc[[community]].distance(point).min() < 0.01
    # and each gate is used by an estate road and an outside road
    gate_pts = gates.geometry.to_numpy()
    assert shapely.STRtree(estate).query(gate_pts, predicate="dwithin", distance=0.01)[0].size > 0
    touched = np.unique(
        shapely.STRtree(outside).query(gate_pts, predicate="dwithin", distance=0.01)[0]
    )
    assert np.array_equal(touched, np.arange(len(gate_pts)))


# ---------------------------------------------------------------- service gaps


def test_some_communities_have_no_facility_within_900_m(
    metric: dict[str, gpd.GeoDataFrame],
) -> None:
    """Walking distances: the district leaves gaps on purpose but covers most of the old town."""
    roads, comm, fac = metric["roads"], metric["communities"], metric["facilities"]
    nodes, uv = _graph(roads, decimals=2)
    length = np.hypot(*(nodes[uv[:, 0]] - nodes[uv[:, 1]]).T)
    adj = sp.coo_matrix((length, (uv[:, 0], uv[:, 1])), shape=(len(nodes),) * 2).tocsr()
    tree = cKDTree(nodes)
    _, sources = tree.query(shapely.get_coordinates(fac.geometry.to_numpy()))
    dist = dijkstra(adj, directed=False, indices=np.unique(sources), limit=900, min_only=True)
    _, homes = tree.query(shapely.get_coordinates(comm.geometry.representative_point().to_numpy()))
    covered = pd.Series(np.isfinite(dist[homes]), index=comm.index)
    assert 0.1 < 1 - covered.mean() < 0.7
    old = (comm["status"] == "old") & (comm["area_type"] == "urban")
    assert covered[old].mean() > 0.8
    assert covered[comm["status"] == "new"].mean() < 0.5


# ---------------------------------------------------------------- files


def test_write_sample_round_trips(tmp_path) -> None:
    paths = write_sample(tmp_path, seed=5, size=0.5)
    expected = generate_sample(seed=5, size=0.5)
    assert set(paths) == {*LAYERS, "readme"}
    assert all(p.exists() and p.parent == tmp_path for p in paths.values())
    roads = gpd.read_file(paths["roads"], layer="roads")
    assert list(roads.columns) == ["road_id", "road_class", "geometry"]
    assert_geodataframe_equal(roads, expected.roads, check_dtype=False)
    comm = gpd.read_file(paths["communities"], layer="communities")
    assert list(comm.columns) == [
        "community_id",
        "name",
        "households",
        "residents",
        "elderly",
        "completion_year",
        "status",
        "area_type",
        "street",
        # care counts added by write_sample (planner.care.add_sample_care_columns)
        "elderly_80plus",
        "living_alone",
        "empty_nest",
        "disabled",
        "geometry",
    ]
    care = ["elderly_80plus", "living_alone", "empty_nest", "disabled"]
    assert_geodataframe_equal(comm.drop(columns=care), expected.communities, check_dtype=False)
    # plausible: whole people, never more than the community's 60+ residents
    assert (comm[care] >= 0).all().all()
    assert (comm[care].max(axis=1) <= comm["elderly"]).all()
    assert (comm["living_alone"] < comm["elderly"]).any()
    gates = pd.read_csv(paths["gates"])
    assert list(gates.columns) == ["community_id", "lon", "lat"]
    # gates read from CSV are still exactly on road end points
    ends = shapely.get_coordinates(shapely.boundary(roads.geometry.to_numpy()))
    end_set = set(map(tuple, ends))
    assert all((lon, lat) in end_set for lon, lat in gates[["lon", "lat"]].itertuples(index=False))
    fac = pd.read_csv(paths["facilities"])
    assert list(fac.columns) == [
        "facility_id",
        "name",
        "kind",
        "floor_area_m2",
        "beds",
        "status",
        "day_care_places",
        "home_visit_capacity",
        "lon",
        "lat",
    ]
    np.testing.assert_array_equal(fac["lon"], expected.facilities.geometry.x)
    np.testing.assert_array_equal(fac["beds"], expected.facilities["beds"])  # kept as generated
    # day-care places only at stations, day-care and street/township centres (10-30)
    day = fac["kind"].isin(["station", "day_care", "street_centre", "township_centre"])
    assert fac.loc[day, "day_care_places"].between(10, 30).all()
    assert (fac.loc[~day, "day_care_places"] == 0).all()
    boundary = gpd.read_file(paths["boundary"])
    assert len(boundary) == 1
    assert boundary.crs.to_epsg() == 4326
    readme = paths["readme"].read_text(encoding="utf-8")
    for text in (
        "合成样例",
        "并非真实地点",
        "not a real place",
        "seed / 随机种子: 5",
        "size / 规模: 0.5",
        "EPSG:4326",
        "WGS84",
        f"{len(expected.communities):,}",
    ):
        assert text in readme


# ---------------------------------------------------------------- hilly variant


@pytest.fixture(scope="module")
def hilly(tmp_path_factory) -> dict:
    return write_hilly_sample(tmp_path_factory.mktemp("hilly"), seed=42, size=0.5)


def test_hilly_dem_has_the_known_slope_field(hilly) -> None:
    river_y = river_line_y(gpd.read_file(hilly["river"]))
    x = gpd.read_file(hilly["boundary"]).to_crs(METRIC).centroid.x.iloc[0]
    # heights at distances d from the river line:
    #   175 + 0.12 min(d, 500) + 0.04 (d - 500)+ + 0.48 clip(d - 160, 0, 25)  (the scarp)
    #   d = 100 -> 187; d = 400 -> 175 + 48 + 12 = 235; d = 800 -> 175 + 60 + 12 + 12 = 259,
    #   the same on both banks
    pts = [(x, river_y + 100), (x, river_y - 400), (x, river_y + 800), (x, river_y - 800)]
    with rasterio.open(hilly["dem"]) as src:
        assert src.crs.to_epsg() == 32649
        z = np.array([v[0] for v in src.sample(pts)])
        # across the scarp (d 160 -> 185) the ground rises 0.6 x 25 = 15 m: DEM cell
        # centres 10 m below its foot (d = 150) and 15 m above its top (d = 200) differ by
        # 0.12 x 10 + 15 + 0.12 x 15 = 18 m
        foot, top = (v[0] for v in src.sample([(x, river_y - 150), (x, river_y - 200)]))
    # the DEM holds cell-centre heights: within 0.12 x 5 m of the exact value
    assert z == pytest.approx([187.0, 235.0, 259.0, 259.0], abs=0.6)
    assert top - foot == pytest.approx(18.0, abs=1.2)


def test_hilly_stairs_climb_the_scarp(hilly) -> None:
    roads = gpd.read_file(hilly["roads"], layer="roads")
    steps = roads[roads["highway"] == "steps"].to_crs(METRIC)
    assert 1 <= len(steps) <= N_STAIRS
    assert set(roads["highway"]) == {"footway", "residential", "primary", "service", "steps"}
    assert roads["road_id"].is_unique
    river_y = river_line_y(gpd.read_file(hilly["river"]))
    # each flight runs exactly from the scarp's foot (160 m from the river line) to its
    # top (185 m), on either bank
    d = np.abs(shapely.get_coordinates(steps.geometry.to_numpy())[:, 1] - river_y).reshape(-1, 2)
    assert np.sort(d, axis=1) == pytest.approx(
        np.tile([SCARP_FROM_M, SCARP_FROM_M + SCARP_WIDTH_M], (len(steps), 1)), abs=1e-3)
    net = compile_network(hilly["roads"], use_cache=False)
    assert read_steps_mask(net, hilly["roads"]).sum() == len(steps)
    assert net.components.max() == 0  # cutting the streets kept the network in one piece
    # stairs beat the street on the scarp, both ways: 25 m with 15 m of rise costs
    #   up   25 + 15 x 7.8  = 142 flat-equivalent m, a 60 % street 25 exp(3.5 x 0.6) = 204
    #   down 25 + 15 x 6.25 = 118.75,              a 60 % street 25 exp(3.5 x 0.5) = 144
    rule = StepsRule()
    up = 25 + 15 * rule.up_s_per_m
    assert (up, 25 + 15 * rule.down_s_per_m) == pytest.approx((142.0, 118.75))
    assert 25 * slope_factor(0.6) == pytest.approx(204.2, abs=0.1)
    assert 25 * slope_factor(-0.6) == pytest.approx(143.9, abs=0.1)


def test_hilly_terrain_costs_on_a_steep_street(hilly) -> None:
    # A north-south edge wholly inside the steep band (above the scarp) climbs 12 % one
    # way: cost factor
    # exp(3.5 (0.17 - 0.05)) = exp(0.42) = 1.5220 uphill, and descends 12 % the other:
    # exp(3.5 (|-0.12 + 0.05| - 0.05)) = exp(0.07) = 1.0725 (steep descents are slow too).
    net = compile_network(hilly["roads"], use_cache=False)
    hilly_net = terrain_network(net, elevations=sample_edges(net, hilly["dem"]), speed_m_s=1.0)
    river_y = river_line_y(gpd.read_file(hilly["river"]))
    du = river_y - net.node_y[net.edge_u]
    dv = river_y - net.node_y[net.edge_v]
    dx = np.abs(net.node_x[net.edge_u] - net.node_x[net.edge_v])
    top = SCARP_FROM_M + SCARP_WIDTH_M
    steep = ((np.minimum(du, dv) > top + 10) & (np.maximum(du, dv) < STEEP_BAND_M - 20)
             & (dx < 1e-6) & (np.abs(du - dv) > 30))
    assert steep.sum() > 10
    # on the south bank height grows with d = river_y - y (the distance from the river
    # line), so walking from u to v climbs when v is the farther end
    uphill_is_forward = dv > du
    up = np.where(uphill_is_forward, hilly_net.directed.forward_m, hilly_net.directed.backward_m)
    down = np.where(uphill_is_forward, hilly_net.directed.backward_m,
                    hilly_net.directed.forward_m)
    length = net.edge_length
    assert up[steep] == pytest.approx(length[steep] * np.exp(0.42), rel=1e-4)
    assert down[steep] == pytest.approx(length[steep] * np.exp(0.07), rel=1e-4)


def test_hilly_population_raster_matches_the_communities(hilly) -> None:
    comm = gpd.read_file(hilly["communities"], layer="communities")
    with rasterio.open(hilly["population"]) as src:
        total = float(src.read(1, masked=True).sum())
    # every resident is spread onto the grid: the raster sums to the table's residents
    assert total == pytest.approx(comm["residents"].sum(), rel=1e-5)
    sums = zonal_sums(hilly["population"], comm)
    # cells on a polygon's edge are shared with the street: each sum within 12 %
    assert np.abs(sums / comm["residents"] - 1).max() < 0.12
    # households left blank for a third of the communities are estimated from the raster
    blank = comm.copy()
    blank.loc[::3, "households"] = np.nan
    blank.loc[::3, "residents"] = np.nan
    size = comm["residents"].sum() / comm["households"].sum()
    est = estimate_households(blank, hilly["population"], household_size=size)
    rows = est["households_estimated"]
    assert rows.sum() == len(comm[::3])
    ratio = est.loc[rows, "households"] / comm.loc[rows, "households"]
    assert ratio.between(0.80, 1.10).all()
    assert not est.loc[~rows, "households_estimated"].any()
    assert (est.loc[~rows, "households"] == comm.loc[~rows, "households"]).all()


@pytest.mark.parametrize(("option", "value"), [
    ("--size", "-1"), ("--communities", "0"), ("--facilities", "-5"),
])
def test_sample_refuses_impossible_sizes_naming_the_option(tmp_path, option, value):
    """These were refused deep in the generator as `size`/`n_communities`, not the option."""
    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["sample", "--out", str(out), option, value])
    assert result.exit_code == 2, result.output
    assert option in result.output and value in result.output
    assert not out.exists()
