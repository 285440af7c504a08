"""Hand-worked walking times on sloped edges, stairs and --no-steps, and the reach engine
on a directed terrain graph checked against networkx's directed Dijkstra.

Slope factor (planner.terrain.speed): time per horizontal metre relative to the flat,
max(1, exp(3.5 (|grade + 0.05| - 0.05))):

    grade +0.10 (10 % up)   -> exp(0.35)  = 1.419068
    grade -0.10 (10 % down) -> exp(0)     = 1          (no gain downhill for older walkers)
    grade -0.20             -> exp(0.35)  = 1.419068
    grade +0.08             -> exp(0.28)  = 1.323130
    grade +0.03             -> exp(0.105) = 1.110711
    grade -0.03, -0.08      -> 1 (capped)

DEMs are written in the network's CRS (EPSG:32649) on 10 m pixels whose centres lie on
multiples of 10 m, so bilinear heights are exact for planes and for tents that bend on
a pixel centre.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from planner._errors import InputError
from planner.reach import (
    StudyGraph,
    build_reach_graph,
    circle_distances,
    compile_arrays,
    nearest_facility,
    snap_points,
)
from planner.terrain import (
    sample_edges,
    slope_factor,
    steps_mask,
    terrain_network,
)
from planner.terrain.compare import compare_circles, compare_communities, summary_lines
from planner.terrain.dem import read_dem_at

CRS = "EPSG:32649"
UP10 = math.exp(0.35)


def write_dem(path: Path, fn, x0=-200.0, y0=-200.0, size=600.0, pixel=10.0, crs=CRS) -> Path:
    """GeoTIFF of heights fn(x, y) at pixel centres (centres on multiples of ``pixel``)."""
    n = int(size / pixel)
    cx = x0 + pixel * np.arange(n)
    cy = y0 + size - pixel * (np.arange(n) + 1)  # rows from north to south
    xx, yy = np.meshgrid(cx, cy)
    z = fn(xx, yy).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1,
                       dtype="float32", crs=crs, nodata=-9999.0,
                       transform=Affine(pixel, 0, x0 - pixel / 2, 0, -pixel,
                                             y0 + size - pixel / 2)) as dst:
        dst.write(z, 1)
    return path


def network(nodes, edges):
    node_x = np.array([p[0] for p in nodes], float)
    node_y = np.array([p[1] for p in nodes], float)
    u = np.array([a for a, _ in edges])
    v = np.array([b for _, b in edges])
    geoms = shapely.linestrings(
        np.stack([np.c_[node_x[u], node_y[u]], np.c_[node_x[v], node_y[v]]], axis=1))
    return compile_arrays(crs=pyproj.CRS(CRS).to_wkt(), node_x=node_x, node_y=node_y,
                          edge_u=u, edge_v=v, edge_geoms=geoms)


def test_slope_factor_values():
    got = slope_factor(np.array([0.0, 0.10, -0.10, -0.20, 0.08, 0.03, -0.03, -0.05]))
    assert got == pytest.approx([1.0, UP10, 1.0, UP10, math.exp(0.28), math.exp(0.105),
                                 1.0, 1.0], rel=1e-12)


def test_dem_bilinear_at_known_points(tmp_path):
    # plane z = 100 + 0.1 x - 0.05 y: bilinear interpolation is exact on a plane
    dem = write_dem(tmp_path / "plane.tif", lambda x, y: 100 + 0.1 * x - 0.05 * y)
    xy = np.array([[0.0, 0.0], [33.3, 71.7], [-150.0, 250.0], [5000.0, 0.0]])
    z = read_dem_at(dem, xy, pyproj.CRS(CRS))
    assert z[:3] == pytest.approx([100.0, 100 + 3.33 - 3.585, 100 - 15 - 12.5], abs=1e-4)
    assert np.isnan(z[3])  # outside the DEM


def test_dem_in_another_crs(tmp_path):
    # the same plane, written in WGS84: heights at the network's points agree within
    # what a 10 m pixel of a 0.1 plane can differ by projection (< 0.1 m)
    pts = gpd.GeoSeries([shapely.Point(750_000 + x, 4_175_000 + y)
                         for x, y in [(0, 0), (100, 0), (0, 100)]], crs=CRS).to_crs(4326)
    lon0, lat0 = pts.x[0], pts.y[0]
    # z = 1000 (lon - lon0) * 100: about 8.8 m per 100 m east at lat 37.7
    dem = write_dem(tmp_path / "wgs.tif", lambda x, y: 100_000 * (x - lon0), x0=lon0 - 0.01,
                    y0=lat0 - 0.01, size=0.03, pixel=0.0001, crs="EPSG:4326")
    z = read_dem_at(dem, np.c_[750_000 + np.array([0, 100, 0.0]),
                               4_175_000 + np.array([0, 0, 100.0])], pyproj.CRS(CRS))
    expected = 100_000 * (pts.x.to_numpy() - lon0)
    assert z == pytest.approx(expected, abs=0.1)


def test_uphill_and_downhill_edge(tmp_path):
    # one 100 m street from A (0,0) to B (100,0) on a 10 % slope rising to the east.
    # A -> B uphill: 100 m x 1.419068 = 141.9068 flat-equivalent metres (141.9 s at 1 m/s);
    # B -> A downhill: 100 m x 1 = 100 m.
    dem = write_dem(tmp_path / "slope.tif", lambda x, y: 50 + 0.1 * x)
    net = network([(0, 0), (100, 0)], [(0, 1)])
    hilly = terrain_network(net, elevations=sample_edges(net, dem), speed_m_s=1.0)
    assert hilly.directed.forward_m == pytest.approx([100 * UP10], rel=1e-9)
    assert hilly.directed.backward_m == pytest.approx([100.0], rel=1e-9)
    # the horizontal length is unchanged
    assert hilly.edge_length == pytest.approx([100.0])


def test_long_edge_over_a_hill_pays_for_it(tmp_path):
    # tent: up 10 % from x=0 to the ridge at x=50, down 10 % to x=100: both ends at 50 m.
    # Either way: 50 m up (x 1.419068) + 50 m down (x 1) = 120.9534, not the 100 m the
    # two end heights alone would give.
    dem = write_dem(tmp_path / "tent.tif", lambda x, y: 55 - 0.1 * np.abs(x - 50))
    net = network([(0, 0), (100, 0)], [(0, 1)])
    hilly = terrain_network(net, elevations=sample_edges(net, dem), speed_m_s=1.0)
    expected = 50 * UP10 + 50.0
    assert hilly.directed.forward_m == pytest.approx([expected], rel=1e-9)
    assert hilly.directed.backward_m == pytest.approx([expected], rel=1e-9)


def test_stairs_up_and_down_and_no_steps(tmp_path):
    # A (0,0) -- 20 m of stairs, 10 m of rise -- B (0,20); also a 100 m ramp A-C-B around.
    # DEM: z = 0.5 y on the stairs' line x = 0 (a plane: z = 0.5 y everywhere).
    # Stairs A -> B (up):   20 + 10 m x 7.8 s/m x 1.0 m/s = 98 flat-equivalent m
    # Stairs B -> A (down): 20 + 10 m x 6.25 s/m x 1.0    = 82.5
    # At 1.2 m/s the seconds weigh more in metres: 20 + 78 x 1.2 = 113.6 up.
    dem = write_dem(tmp_path / "stairs.tif", lambda x, y: 0.5 * y)
    net = network([(0, 0), (0, 20), (80, 0), (80, 20)], [(0, 1), (0, 2), (2, 3), (3, 1)])
    stairs = steps_mask(net, gpd.GeoSeries([shapely.LineString([(0, 0), (0, 20)])]))
    assert stairs.tolist() == [True, False, False, False]
    elev = sample_edges(net, dem)
    hilly = terrain_network(net, elevations=elev, steps=stairs, speed_m_s=1.0)
    assert hilly.directed.forward_m[0] == pytest.approx(98.0)
    assert hilly.directed.backward_m[0] == pytest.approx(82.5)
    fast = terrain_network(net, elevations=elev, steps=stairs, speed_m_s=1.2)
    assert fast.directed.forward_m[0] == pytest.approx(113.6)
    # the ramp C (80,0) -> D (80,20) is no stairs: it climbs 10 m over 20 m, grade 0.5,
    # factor exp(3.5 (0.55 - 0.05)) = exp(1.75) = 5.754603: 115.0921 flat-equivalent m
    assert hilly.directed.forward_m[2] == pytest.approx(20 * math.exp(1.75), rel=1e-9)
    # --no-steps: the stairs are gone, three edges remain, costs follow their edges
    wheel = terrain_network(net, elevations=elev, steps=stairs, speed_m_s=1.0, no_steps=True)
    assert wheel.n_edges == 3
    assert wheel.directed.forward_m == pytest.approx(hilly.directed.forward_m[1:])


def test_stairs_without_dem_assume_a_rise(tmp_path):
    # no DEM: 20 m of stairs assumed to rise 0.5 m per metre (10 m), paid both ways at
    # the mean of 7.8 and 6.25 s/m: 20 + 10 x 7.025 = 90.25
    net = network([(0, 0), (0, 20)], [(0, 1)])
    flat = terrain_network(net, steps=np.array([True]), speed_m_s=1.0)
    assert flat.directed.forward_m == pytest.approx([90.25])
    assert flat.directed.backward_m == pytest.approx([90.25])


def test_residents_walk_to_the_facility(tmp_path):
    # facility F at the top (100,0) of a 10 % slope, community C at the bottom (0,0).
    # The resident walks C -> F uphill: 141.9068 m, not the 100 m of the way down.
    # The engine searches from F, so it must run on the transposed graph.
    dem = write_dem(tmp_path / "slope.tif", lambda x, y: 50 + 0.1 * x)
    net = network([(0, 0), (100, 0)], [(0, 1)])
    hilly = terrain_network(net, elevations=sample_edges(net, dem), speed_m_s=1.0)
    fac = snap_points(hilly, np.array([shapely.Point(100, 0)]), max_m=50)
    com = snap_points(hilly, np.array([shapely.Point(0, 0), shapely.Point(40, 0)]), max_m=50)
    rg = build_reach_graph(hilly, fac, com, 2)
    dist, which = nearest_facility(rg, np.array([0]), limit_m=1e6)
    # C at (40,0) splits the edge: 60 m uphill to F = 60 x 1.419068
    assert dist == pytest.approx([100 * UP10, 60 * UP10], rel=1e-9)
    assert which.tolist() == [0, 0]
    # the other way round (facility at the bottom): walking down costs the flat metres
    fac_low = snap_points(hilly, np.array([shapely.Point(0, 0)]), max_m=50)
    com_top = snap_points(hilly, np.array([shapely.Point(100, 0)]), max_m=50)
    low, _ = nearest_facility(build_reach_graph(hilly, fac_low, com_top, 1), np.array([0]),
                              limit_m=1e6)
    assert low == pytest.approx([100.0])


def test_missing_dem_is_a_clear_error(tmp_path):
    net = network([(0, 0), (100, 0)], [(0, 1)])
    with pytest.raises(InputError, match="DEM file not found"):
        sample_edges(net, tmp_path / "nope.tif")
    far = write_dem(tmp_path / "far.tif", lambda x, y: x, x0=10_000, y0=10_000)
    with pytest.raises(InputError, match="outside the DEM"):
        sample_edges(net, far)


# --------------------------------------------------------------------------- exactness


def _surface(x, y):
    """A smooth hill plus a tilt: heights in metres."""
    return 30 + 0.06 * x - 0.02 * y + 12 * np.exp(-((x - 150) ** 2 + (y - 100) ** 2) / 8000)


def _walk_cost(p, q, n=400):
    """Flat-equivalent metres to walk the straight line p -> q, integrated finely."""
    t = np.linspace(0, 1, n + 1)
    x = p[0] + (q[0] - p[0]) * t
    y = p[1] + (q[1] - p[1]) * t
    z = _surface(x, y)
    run = math.hypot(q[0] - p[0], q[1] - p[1]) / n
    return float(np.sum(run * slope_factor(np.diff(z) / run)))


def _grid() -> tuple[list[tuple[float, float]], list[tuple[int, int]]]:
    """A 4x3 grid of 100 m streets: node (x, y) in metres and edges as node pairs."""
    xs, ys = np.meshgrid([0.0, 100, 200, 300], [0.0, 100, 200])
    nodes = list(zip(xs.ravel(), ys.ravel(), strict=True))
    edges = [(r * 4 + c, r * 4 + c + 1) for r in range(3) for c in range(3)]
    edges += [(r * 4 + c, (r + 1) * 4 + c) for r in range(2) for c in range(4)]
    return nodes, edges


def _hilly_grid(tmp_path):
    """The grid over the smooth hill (5 m DEM cells): nodes, edges, terrain network."""
    dem = write_dem(tmp_path / "hill.tif", _surface, pixel=5.0, x0=-100, y0=-100, size=500)
    nodes, edges = _grid()
    net = network(nodes, edges)
    return nodes, edges, terrain_network(net, elevations=sample_edges(net, dem), speed_m_s=1.0)


def test_engine_matches_networkx_directed_dijkstra(tmp_path):
    # a 4x3 grid of 100 m streets plus a diagonal, over a smooth hill. Facilities and
    # communities sit mid-street, so the engine splits edges; networkx gets the same
    # split graph built independently, with costs integrated from the height formula.
    dem = write_dem(tmp_path / "hill.tif", _surface, pixel=2.0, x0=-100, y0=-100, size=500)
    nodes, edges = _grid()
    edges += [(0, 5)]
    net = network(nodes, edges)
    elev = sample_edges(net, dem, spacing_m=2.0)
    hilly = terrain_network(net, elevations=elev, speed_m_s=1.0)
    fac_xy = [(50.0, 0.0), (300.0, 150.0)]
    com_xy = [(0.0, 50.0), (250.0, 200.0), (150.0, 100.0), (200.0, 30.0)]
    fac = snap_points(hilly, np.array([shapely.Point(p) for p in fac_xy]), max_m=10)
    com = snap_points(hilly, np.array([shapely.Point(p) for p in com_xy]), max_m=10)
    rg = build_reach_graph(hilly, fac, com, len(com_xy))
    _, per_fac = circle_distances(rg, np.array([0, 1]), limit_m=1e6)
    nearest, _ = nearest_facility(rg, np.array([0, 1]), limit_m=1e6)

    # independent walking graph: streets split at the points, both directions
    walk = nx.DiGraph()
    cuts = {}
    for p in fac_xy + com_xy:
        for a, b in edges:
            pa, pb = nodes[a], nodes[b]
            seg = shapely.LineString([pa, pb])
            if seg.distance(shapely.Point(p)) < 1e-9 and p not in (pa, pb):
                cuts.setdefault((a, b), []).append(p)
    for a, b in edges:
        chain = [nodes[a], *sorted(cuts.get((a, b), []),
                                   key=lambda p: math.dist(p, nodes[a])), nodes[b]]
        for p, q in itertools.pairwise(chain):
            for s, t in ((p, q), (q, p)):
                w = _walk_cost(s, t)
                if walk.has_edge(s, t):
                    w = min(w, walk[s][t]["w"])
                walk.add_edge(s, t, w=w)
    for j, f in enumerate(fac_xy):
        # residents walk TO the facility: distances from every node to f
        to_f = nx.single_source_dijkstra_path_length(walk.reverse(copy=False), f, weight="w")
        expected = [to_f[c] for c in com_xy]
        # 2 m stations on a smooth surface vs 400-step integration: agree within 0.05 %
        assert per_fac[j] == pytest.approx(expected, rel=5e-4)
    to_any = nx.multi_source_dijkstra_path_length(walk.reverse(copy=False), set(fac_xy),
                                                  weight="w")
    assert nearest == pytest.approx([to_any[c] for c in com_xy], rel=5e-4)
    # and the terrain matters here: uphill and downhill differ on this graph
    assert not np.allclose(hilly.directed.forward_m, hilly.directed.backward_m, rtol=1e-3)


def test_engine_exact_on_its_own_costs(tmp_path):
    # exactness of the engine itself: networkx on the very same per-edge directed costs
    # (whole edges, points at nodes) agrees to 1e-9 m.
    nodes, edges, hilly = _hilly_grid(tmp_path)
    walk = nx.DiGraph()
    for i, (a, b) in enumerate(edges):
        walk.add_edge(a, b, w=hilly.directed.forward_m[i])
        walk.add_edge(b, a, w=hilly.directed.backward_m[i])
    fac = snap_points(hilly, np.array([shapely.Point(nodes[5])]), max_m=1)
    com = snap_points(hilly, np.array([shapely.Point(p) for p in nodes]), max_m=1)
    rg = build_reach_graph(hilly, fac, com, len(nodes))
    got, _ = nearest_facility(rg, np.array([0]), limit_m=1e6)
    to_f = nx.single_source_dijkstra_path_length(walk.reverse(copy=False), 5, weight="w")
    assert got == pytest.approx([to_f[i] for i in range(len(nodes))], abs=1e-9)


def test_study_graph_on_terrain_both_search_directions(tmp_path):
    # The study graph (no edge splitting, exact arithmetic) on the hilly grid: costs from
    # facility searches (build) and from community searches (facilities added first,
    # then communities) agree exactly, and match networkx's directed Dijkstra of the
    # residents' walks to the facilities.
    nodes, edges, hilly = _hilly_grid(tmp_path)
    # facilities and communities mid-street; community c2 shares F1's street
    fac = gpd.GeoDataFrame({"kind": ["station", "station"]},
                           geometry=[shapely.Point(50, 0), shapely.Point(300, 150)],
                           index=pd_index(["F1", "F2"], "facility_id"), crs=CRS)
    com = gpd.GeoDataFrame(geometry=[shapely.Point(0, 50), shapely.Point(250, 200),
                                     shapely.Point(80, 0), shapely.Point(200, 30)],
                           index=pd_index(["c1", "c2", "c3", "c4"], "community_id"), crs=CRS)
    built = StudyGraph.build(hilly, com, fac, max_distance_m=5000)
    other = StudyGraph.build(hilly, com.iloc[:0], fac, max_distance_m=5000)
    other.add_communities(com)
    a = built.costs.sort_values(["facility_id", "community_id"]).reset_index(drop=True)
    b = other.costs.sort_values(["facility_id", "community_id"]).reset_index(drop=True)
    assert len(a) == 8
    assert (a["distance_m"].to_numpy() == b["distance_m"].to_numpy()).all()
    # networkx on the split walking graph, with the same per-piece costs
    walk = nx.DiGraph()
    pts = {"F1": (50.0, 0.0), "F2": (300.0, 150.0), "c1": (0.0, 50.0), "c2": (250.0, 200.0),
           "c3": (80.0, 0.0), "c4": (200.0, 30.0)}
    for i, (ea, eb) in enumerate(edges):
        pa, pb = nodes[ea], nodes[eb]
        on = sorted([p for p in pts.values() if shapely.LineString([pa, pb]).distance(
            shapely.Point(p)) < 1e-9 and p not in (pa, pb)], key=lambda p: math.dist(p, pa))
        chain = [pa, *on, pb]
        along = np.array([math.dist(pa, p) for p in chain])
        fw, bw = hilly.directed.between(np.full(len(chain) - 1, i), along[:-1], along[1:])
        for j in range(len(chain) - 1):
            walk.add_edge(chain[j], chain[j + 1], w=fw[j])
            walk.add_edge(chain[j + 1], chain[j], w=bw[j])
    for row in a.itertuples():
        expected = nx.dijkstra_path_length(walk, pts[row.community_id], pts[row.facility_id],
                                           weight="w")
        assert row.distance_m == pytest.approx(expected, abs=1e-5)
    near = built.nearest()
    for cid in com.index:
        best = min(nx.dijkstra_path_length(walk, pts[cid], pts[f], weight="w") for f in fac.index)
        assert near.loc[cid, "distance_m"] == pytest.approx(best, abs=1e-5)


def pd_index(ids, name):
    return pd.Index(ids, name=name)


def test_compare_communities_and_circles():
    # three communities: 5 -> 6 min (still inside), 10 -> 16 min (falls out of a 15-min
    # circle: lost), 20 min -> beyond the search limit (NaN: minutes added unknown)
    idx = pd.Index(["a", "b", "c"], name="community_id")
    flat = pd.DataFrame({"households": [100, 200, 300], "nearest_minutes": [5.0, 10.0, 20.0],
                         "service_status": ["meets", "below_standard", "uncovered"]}, index=idx)
    hill = pd.DataFrame({"households": [100, 200, 300], "nearest_minutes": [6.0, 16.0, np.nan],
                         "service_status": ["meets", "uncovered", "uncovered"]}, index=idx)
    out = compare_communities(flat, hill)
    assert out["minutes_added"].tolist()[:2] == [1.0, 6.0]
    assert np.isnan(out.loc["c", "minutes_added"])
    assert out["lost_circle"].tolist() == [False, True, False]
    # circles: a 100 m square (10,000 m²) shrinks to 80 x 100 (8,000 m²): 20 % lost
    flat_iso = gpd.GeoDataFrame({"facility_id": ["F1"]}, geometry=[shapely.box(0, 0, 100, 100)],
                                crs=CRS)
    hill_iso = gpd.GeoDataFrame({"facility_id": ["F1"]}, geometry=[shapely.box(0, 0, 80, 100)],
                                crs=CRS)
    circ = compare_circles(flat_iso, hill_iso)
    assert circ.loc["F1"].tolist() == pytest.approx([10_000.0, 8_000.0, 0.2])
    lines = summary_lines(out, circ)
    assert "1 communities (200 households) fall out" in lines[1]
    assert "lose 20 %" in lines[2]


# --------------------------------------------------------------------------- CLI


def test_cli_hilly_sample_run_with_dem_and_minutes_raster(tmp_path):
    # planner sample --hilly, then planner run flat and with --dem: every community's
    # nearest minutes with terrain are at least the flat ones (no edge costs less than
    # its length), some strictly more, the notes say terrain was used, and the minutes
    # raster has the overall band and one per kind.
    from click.testing import CliRunner  # noqa: PLC0415

    from planner.cli import main  # noqa: PLC0415

    runner = CliRunner()
    d = tmp_path / "hilly"
    res = runner.invoke(main, ["sample", "--hilly", "--size", "0.3", "--out", str(d)],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert (d / "dem.tif").exists() and (d / "population.tif").exists()
    common = ["run", "--network", str(d / "roads.gpkg"), "--communities",
              str(d / "communities.gpkg"), "--facilities", str(d / "facilities.csv"),
              "--gates", str(d / "gates.csv"), "--no-map", "--profile", "wanzhou"]
    res = runner.invoke(main, [*common, "--out", str(tmp_path / "flat")],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, [*common, "--out", str(tmp_path / "hill"), "--dem",
                               str(d / "dem.tif"), "--minutes-raster",
                               str(tmp_path / "minutes.tif"), "--cell-size", "100"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    flat = pd.read_csv(tmp_path / "flat" / "communities.csv", index_col="community_id")
    hill = pd.read_csv(tmp_path / "hill" / "communities.csv", index_col="community_id")
    both = flat["nearest_minutes"].notna() & hill["nearest_minutes"].notna()
    assert both.sum() > 10
    diff = hill.loc[both, "nearest_minutes"] - flat.loc[both, "nearest_minutes"]
    assert (diff >= -1e-9).all()
    assert (diff > 0.01).any()
    notes = json.loads((tmp_path / "hill" / "summary.json").read_text(encoding="utf-8"))["notes"]
    assert any("terrain: walking time by slope" in n for n in notes)
    with rasterio.open(tmp_path / "minutes.tif") as src:
        assert src.descriptions[0] == "minutes_to_nearest_all"
        assert len(src.descriptions) == 1 + len(
            set(pd.read_csv(d / "facilities.csv").query("status == 'existing'")["kind"]))
        assert src.res == (100.0, 100.0)
