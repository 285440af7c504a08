"""Compiling road lines on whole arrays gives what the line-by-line rules give.

:mod:`planner.network.roads` compiles a road-line file without a Python loop over lines.
Each test checks it against a straightforward version written here: geopandas to read,
explode and project the lines, then one line at a time, a dictionary of rounded end
points for the nodes (sorted by their rounded (x, y), each at the first end point that
rounds to it, starts before ends), and the start nearer the ``v`` node flipped. Arrays
must be equal bit for bit, not approximately.
"""

from __future__ import annotations

import logging
import struct
import warnings

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString

from planner.crs import metric_crs_for, to_wgs84
from planner.network import compile_network, roads
from planner.network.roads import (
    NODE_TOLERANCE_M,
    compile_road_coords,
    decode_wkb_lines,
    line_parts,
    match_end_points,
)
from tests.conftest import SHARED_DATA

# points near Beijing (longitude, latitude); 0.001 degree is about 85 m east, 111 m north
A, B, C, D, E = (116.400, 39.900), (116.401, 39.900), (116.401, 39.901), (116.403, 39.901), \
    (116.403, 39.903)


def _nan_line() -> LineString:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns making it
        return LineString([A, (np.nan, 39.9005), B])


def _lines(multi: bool) -> list:
    """Road geometries sharing end points, with the awkward cases the compiler meets."""
    rows = [
        LineString([A, B]),              # A-B
        LineString([B, (116.4012, 39.9004), C]),  # B-C with a bend
        LineString([A, B]),              # the same street twice: two edges
        LineString([C, C, D]),           # a zero-length first segment
        LineString([D, D]),              # a zero-length line: a loop on D
        LineString([E, D]),              # drawn from E towards D
        _nan_line(),                     # a NaN vertex: dropped with a note
        None,                            # no geometry: skipped
        LineString(),                    # empty: skipped
    ]
    if multi:  # split into its two streets, in order
        rows.append(MultiLineString([[D, (116.404, 39.903)], [(116.404, 39.903), E]]))
    return rows


def _write(tmp_path, geoms, crs=4326, name="roads.gpkg"):
    path = tmp_path / name
    gpd.GeoDataFrame({"road_id": range(len(geoms))}, geometry=geoms, crs=crs).to_file(path)
    return path


def reference(path, declared: str = "wgs84") -> dict[str, np.ndarray]:
    """The compiled arrays of a road-line file, built one line at a time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the NaN vertex
        frame = gpd.read_file(path)
    frame = frame[~frame.geometry.isna() & ~frame.geometry.is_empty]
    frame = frame.explode(index_parts=False)
    frame = frame[frame.geom_type == "LineString"]
    kept = [g for g in frame.geometry if np.isfinite(shapely.get_coordinates(g)).all()]
    lines = gpd.GeoSeries(kept, crs=frame.crs)
    if lines.crs.is_projected:
        wgs = lines.to_crs(4326)
    else:
        wgs = to_wgs84(lines.set_crs(4326, allow_override=True), declared).geometry
    metric = list(wgs.to_crs(metric_crs_for(*wgs.total_bounds)))
    ends = [g.coords[0][:2] for g in metric] + [g.coords[-1][:2] for g in metric]
    keys = [(round(x / NODE_TOLERANCE_M), round(y / NODE_TOLERANCE_M)) for x, y in ends]
    first: dict[tuple[int, int], tuple[float, float]] = {}
    for point, key in zip(ends, keys, strict=True):
        first.setdefault(key, point)
    number = {key: i for i, key in enumerate(sorted(first))}
    node_xy = np.array([first[key] for key in sorted(first)])
    m = len(metric)
    u = np.array([number[k] for k in keys[:m]], dtype=np.int64)
    v = np.array([number[k] for k in keys[m:]], dtype=np.int64)
    oriented = []
    for line, a, b in zip(metric, u, v, strict=True):
        x0, y0 = line.coords[0][:2]
        nearer_v = (np.hypot(x0 - node_xy[b, 0], y0 - node_xy[b, 1])
                    < np.hypot(x0 - node_xy[a, 0], y0 - node_xy[a, 1]))
        oriented.append(line.reverse() if nearer_v else line)
    counts = [len(line.coords) for line in oriented]
    return {
        "node_x": node_xy[:, 0], "node_y": node_xy[:, 1], "edge_u": u, "edge_v": v,
        "edge_length": np.array([line.length for line in oriented]),
        "edge_coords": np.vstack([shapely.get_coordinates(line) for line in oriented]),
        "edge_offsets": np.r_[0, np.cumsum(counts)].astype(np.int64),
    }


def _assert_same(net, expected):
    for name, want in expected.items():
        got = getattr(net, name)
        assert got.dtype == want.dtype, name
        assert np.array_equal(got, want), name  # bit for bit: no tolerance


@pytest.mark.parametrize("multi", [False, True])
def test_compiled_road_file_equals_line_by_line(tmp_path, caplog, multi):
    path = _write(tmp_path, _lines(multi))
    with caplog.at_level(logging.WARNING, logger="planner"):
        net = compile_network(path, use_cache=False)
    assert "1 road line(s) with a missing (NaN) or infinite vertex dropped" in caplog.text
    expected = reference(path)
    _assert_same(net, expected)
    # by hand: 6 good lines (+2 parts); nodes A, B, C, D, E (+ the Multi's bend point)
    assert net.n_edges == (8 if multi else 6)
    assert net.n_nodes == (6 if multi else 5)
    # the duplicate A-B is kept (its own edge) and D-D is a loop of length 0
    assert net.edge_u[0] == net.edge_u[2] and net.edge_v[0] == net.edge_v[2]
    assert net.edge_u[4] == net.edge_v[4] and net.edge_length[4] == 0.0
    # one connected street network: every node in component 0
    assert set(net.components.tolist()) == {0}


def test_projected_file_with_z_equals_line_by_line(tmp_path):
    utm = pyproj.CRS.from_epsg(32650)
    wgs = gpd.GeoSeries([LineString([A, B]), LineString([B, C]), LineString([C, D])], crs=4326)
    flat = list(wgs.to_crs(utm))
    raised = shapely.force_3d(flat[1], 50.0)  # a bridge 50 m up: read through shapely
    path = _write(tmp_path, [flat[0], raised, flat[2]], crs=utm)
    _assert_same(compile_network(path, use_cache=False), reference(path))


def test_gcj02_declared_file_equals_line_by_line(tmp_path):
    path = _write(tmp_path, _lines(multi=False)[:6], name="roads.geojson")
    net = compile_network(path, crs="gcj02", use_cache=False)
    expected = reference(path, declared="gcj02")
    _assert_same(net, expected)
    # GCJ-02 is offset some hundreds of metres from WGS84 in Beijing: the nodes moved
    plain = compile_network(path, use_cache=False)
    assert 100 < np.hypot(net.node_x - plain.node_x, net.node_y - plain.node_y).min() < 1000


def test_start_nearer_the_other_node_is_flipped():
    # metres; tolerance 0.01: x = -0.0049 and 0.0049 both round to key 0, 0.0051 to key 1.
    # node 0 sits at -0.0049 (its first end point); the second line starts at 0.0049,
    # 0.0098 from node 0 but only 0.0002 from node 1 (0.0051): it is stored reversed.
    coords = np.array([[-0.0049, 0.0], [-1.0, 0.0], [0.0049, 0.0], [0.0051, 0.0]])
    net = compile_road_coords(coords, np.array([0, 2, 4]), crs="EPSG:32650")
    assert net.node_x.tolist() == [-1.0, -0.0049, 0.0051]  # sorted by rounded x
    assert net.edge_u.tolist() == [1, 1] and net.edge_v.tolist() == [0, 2]
    assert net.edge_coords[2:].tolist() == [[0.0051, 0.0], [0.0049, 0.0]]
    assert net.edge_length.tolist() == pytest.approx([0.9951, 0.0002])


def _unique_reference(starts, ends):
    points = np.vstack([starts, ends])
    keys = np.round(points / NODE_TOLERANCE_M).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    return points[first], inverse[: len(starts)], inverse[len(starts):]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(-40, 40)] * 4), min_size=1, max_size=30))
def test_match_end_points_equals_numpy_unique(ends):
    # steps of 0.004 m: many end points round to the same 0.01 m key, some to neighbours
    xy = np.array(ends, dtype=float) * 0.004
    starts, stops = xy[:, :2] - 3.0, xy[:, 2:] + 1e4
    got = match_end_points(starts, stops)
    want = _unique_reference(starts, stops)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_match_end_points_too_wide_for_one_integer():
    # keys of 1e17: (x, y) do not fit one int64 key; the pairs are sorted instead
    starts = np.array([[1e15, 5.0], [-1e15, 5.0], [1e15, -1e15]])
    ends = np.array([[-1e15, 5.0], [3.0, 4.0], [1e15, 5.0]])
    got = match_end_points(starts, ends)
    want = _unique_reference(starts, ends)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)
    # nodes by rounded (x, y): (-1e15, 5), (3, 4), (1e15, -1e15), (1e15, 5)
    assert got[1].tolist() == [3, 0, 2] and got[2].tolist() == [0, 1, 3]


def _wkb_reference(wkbs):
    parts = line_parts(shapely.from_wkb(np.array(wkbs, dtype=object)))
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    return coords, np.bincount(idx, minlength=len(parts))


def test_decode_wkb_lines_equals_shapely():
    geoms = [LineString([(0, 0), (1, 2.5)]), None, LineString(),
             LineString([(3, 4), (5, 6), (7.25, -8)]), LineString([(1, 1), (1, 1)])]
    wkbs = [None if g is None else shapely.to_wkb(g, byte_order=1) for g in geoms]
    want_coords, want_counts = _wkb_reference(wkbs)
    assert want_counts.tolist() == [2, 3, 2]  # the None and the empty line skipped
    for array in (pa.array(wkbs, type=pa.binary()), pa.array(wkbs, type=pa.large_binary())):
        coords, counts = decode_wkb_lines([array])
        assert np.array_equal(coords, want_coords) and np.array_equal(counts, want_counts)
    # a slice of an array (Arrow offsets not starting at 0), in two chunks
    whole = pa.array(wkbs, type=pa.binary())
    coords, counts = decode_wkb_lines([whole.slice(0, 2), whole.slice(3, 2)])
    sliced = _wkb_reference([wkbs[0], wkbs[1], wkbs[3], wkbs[4]])
    assert np.array_equal(coords, sliced[0]) and np.array_equal(counts, sliced[1])


@pytest.mark.parametrize("wkb", [
    shapely.to_wkb(MultiLineString([[(0, 0), (1, 1)]]), byte_order=1),  # not a LineString
    shapely.to_wkb(LineString([(0, 0, 1), (1, 1, 1)]), byte_order=1),  # has z
    shapely.to_wkb(LineString([(0, 0), (1, 1)]), byte_order=0),        # big-endian
    b"\x01" + struct.pack("<II", 2, 1) + struct.pack("<dd", 0.0, 0.0),  # one vertex
    b"\x01" + struct.pack("<II", 2, 3) + struct.pack("<dd", 0.0, 0.0),  # cut short
])
def test_decode_wkb_lines_leaves_other_geometries_to_shapely(wkb):
    line = shapely.to_wkb(LineString([(0, 0), (1, 1)]), byte_order=1)
    assert decode_wkb_lines([pa.array([line, wkb], type=pa.binary())]) is None


@pytest.mark.parametrize(("declared", "split"), [("wgs84", False), ("gcj02", False),
                                               ("wgs84", True)])
def test_real_road_links_equal_line_by_line(declared, split, monkeypatch):
    # 6,426 road links of Wanzhou (probably GCJ-02, see its PROVENANCE.md), read both ways;
    # split: the vertices transformed in two halves on two threads, as in a large city
    if split:
        monkeypatch.setattr(roads, "_SPLIT_TRANSFORM", 1)
    path = SHARED_DATA / "chongqing_wanzhou" / "wanzhou_links.gpkg"
    net = compile_network(path, crs=declared, use_cache=False)
    _assert_same(net, reference(path, declared=declared))
    assert net.n_edges == 6426
