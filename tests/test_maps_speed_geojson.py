"""The vectorised GeoJSON writers of the gap map against the plain per-feature way.

Each test writes the same small hand-made input twice: with the fast helper in
:mod:`planner.maps.geojson`, and the straightforward way (a dict per feature through
``json.dumps``, a textbook polyline encoder vertex by vertex), and asks for the same
text, byte for byte: the page must not change when the map is built faster.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from planner.maps.geojson import (
    _encoded_chars,
    collection_json,
    compact_geometry_json,
    encoded_lines_json,
    encoded_polygons_json,
    feature_texts,
    features_json,
    json_values,
    multiline_json,
    to_json,
)


def encode_paths(xy, path, n_paths, *, decimals=None):
    """Each path's encoded polyline, cut from the paths the map writes back to back."""
    kw = {} if decimals is None else {"decimals": decimals}
    chars, n_chars = _encoded_chars(xy, path, n_paths, **kw)
    text = chars.tobytes().decode("ascii")
    bounds = np.r_[0, np.cumsum(n_chars)].tolist()
    return [text[bounds[i]:bounds[i + 1]] for i in range(n_paths)]

# ------------------------------------------------------------------ plain references


def _plain_collection(ids, props: pd.DataFrame, geometries) -> str:
    """A dict per feature, one json.dumps; geometries parsed back so they go in as JSON."""
    columns = {c: props[c].tolist() for c in props.columns}  # Python values, as pandas holds
    features = [
        {"type": "Feature", "id": i,
         "properties": {c: values[n] for c, values in columns.items()},
         "geometry": json.loads(g)}
        for n, (i, g) in enumerate(zip(ids, geometries, strict=True))
    ]
    return to_json({"type": "FeatureCollection", "features": features})


def _plain_encode(coords, decimals: int = 5) -> str:
    """Google's polyline algorithm, vertex by vertex: (lat, lng) deltas, 5-bit chunks."""
    out, prev = [], (0, 0)
    for lon, lat in coords:
        q = (round(lat * 10**decimals), round(lon * 10**decimals))
        for v in (q[0] - prev[0], q[1] - prev[1]):
            z = ~(v << 1) if v < 0 else v << 1
            while z >= 32:
                out.append(chr((z & 31 | 32) + 63))
                z >>= 5
            out.append(chr(z + 63))
        prev = q
    return "".join(out)


def _plain_polygon(geom) -> str:
    """The documented encoded form: rings without their closing vertex; one part is a Polygon."""
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]

    def rings(p):
        return [_plain_encode(r.coords[:-1]) for r in (p.exterior, *p.interiors)]

    if len(polys) == 1:
        return json.dumps({"type": "Polygon", "polylines": rings(polys[0])},
                          separators=(",", ":"))
    return json.dumps({"type": "MultiPolygon", "polylines": [rings(p) for p in polys]},
                      separators=(",", ":"))


def _square(x: float, y: float, size: float) -> list[tuple[float, float]]:
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]


# Coordinates chosen so the encoded text holds backslashes (chunk value 29 is "\"),
# negative deltas, and first vertices far from 0 (five and six chunks).
HOLED = Polygon(_square(112.1, 21.8, 0.01),
                [_square(112.101, 21.801, 0.002), _square(112.105, 21.805, 0.00029)])
FAR_WEST = Polygon(_square(-179.99999, -89.9, 0.00029))
TWO_PARTS = MultiPolygon([
    Polygon(_square(112.2, 21.9, 0.003)),
    Polygon(_square(112.3, 21.95, 0.0005), [_square(112.3001, 21.9501, 0.00015)]),
])
ONE_PART_MULTI = MultiPolygon([Polygon(_square(0.00029, 0.00029, 0.00029))])


# ------------------------------------------------------------------ polygons and lines


def test_encoded_polygons_match_the_plain_encoder_ring_by_ring():
    geoms = [HOLED, FAR_WEST, TWO_PARTS, ONE_PART_MULTI, HOLED]
    fast = encoded_polygons_json(np.array(geoms, dtype=object))
    assert fast == [_plain_polygon(g) for g in geoms]
    assert any("\\\\" in t for t in fast)  # a backslash was there to escape
    # a one-part MultiPolygon is written as a Polygon, as the page expects
    assert json.loads(fast[3])["type"] == "Polygon"
    assert json.loads(fast[2])["type"] == "MultiPolygon"


def test_encoded_polygons_with_an_empty_part_take_the_ring_by_ring_way():
    with_empty = shapely.from_wkt("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY)")
    fast = encoded_polygons_json(np.array([HOLED, with_empty], dtype=object))
    # get_parts gives the empty part with no rings: it is written as an empty ring list
    ring = _plain_encode([(0, 0), (1, 0), (1, 1)])
    assert fast == [_plain_polygon(HOLED),
                    '{"type":"MultiPolygon","polylines":[["' + ring + '"],[]]}']
    assert encoded_polygons_json(np.array([], dtype=object)) == []


def test_encoded_polygons_take_a_coordinate_transform():
    # the transform moves every vertex 1 degree east: same text as moving them first
    def east(xy):
        return xy + np.array([1.0, 0.0])

    moved = shapely.transform(np.array([HOLED, TWO_PARTS], dtype=object), east)
    assert (encoded_polygons_json(np.array([HOLED, TWO_PARTS], dtype=object), to_lonlat=east)
            == [_plain_polygon(g) for g in moved])


def test_encoded_lines_and_multiline_match_the_plain_encoder():
    lines = [LineString([(112.1, 21.8), (112.10029, 21.80029), (112.1, 21.8)]),
             LineString([(-179.99999, -89.9), (179.9, 89.9)]),
             LineString([(0.00029, 0.0), (0.0, 0.00029)])]
    plain = [_plain_encode(line.coords) for line in lines]
    assert encoded_lines_json(np.array(lines, dtype=object)) == [
        json.dumps({"type": "LineString", "polyline": p}, separators=(",", ":"))
        for p in plain]
    xy, line = shapely.get_coordinates(np.array(lines, dtype=object), return_index=True)
    assert multiline_json(xy, line, 3) == json.dumps(
        {"type": "MultiLineString", "polylines": plain}, separators=(",", ":"))
    assert multiline_json(np.empty((0, 2)), np.empty(0, dtype=np.int64), 0) == (
        '{"type":"MultiLineString","polylines":[]}')
    # encode_paths keeps a path without vertices as ""
    assert encode_paths(xy, line + 1, 5) == ["", *plain, ""]


def test_compact_geometry_json_writes_polygons_encoded_and_the_rest_as_geojson():
    geoms = np.array([Point(112.1, 21.8), HOLED, None, LineString([(0, 0), (1, 1)])],
                     dtype=object)
    assert compact_geometry_json(geoms) == [
        shapely.to_geojson(geoms[0]), _plain_polygon(HOLED), None,
        shapely.to_geojson(geoms[3])]


# ------------------------------------------------------------------ features


def _props() -> pd.DataFrame:
    """Every kind of value a popup row can hold, and the characters JSON must escape."""
    return pd.DataFrame({
        "name": ['A "quoted" <b>&amp;</b>', "反斜杠 \\ back\\slash", "", 'a","b', "tab\tline\n"],
        "count": [1, -2, 0, 10**15, 7],
        "share": [0.3, 1e-7, -0.0, 2.5e16, 0.85],
        "flag": [True, False, True, False, True],
        "mixed": ["text", 1.5, None, 3, "—"],
        "maybe": pd.Series([None, None, 1.0, None, 2.0], dtype=object),
        "我的键 <key>": ["中", "文", "字", "符", "串"],
    })


def _points(n: int) -> list[str]:
    return [shapely.to_geojson(Point(112 + i / 7, 21.5)) for i in range(n)]


def test_features_json_matches_json_dumps_of_the_feature_dicts():
    props = _props()
    ids = ["C1", "C<2>", "C&3", 'C"4', "社区5"]
    assert features_json(ids, props, _points(5)) == _plain_collection(ids, props, _points(5))


@pytest.mark.parametrize("ids", [[10, 11, 12], np.array(["x", "y", "z"]),
                                 pd.Index([1.5, 2.5, 3.5])])
def test_features_json_keeps_ids_of_any_type(ids):
    props = pd.DataFrame({"v": [1.0, 2.0, 3.0]})
    expected = _plain_collection([x.item() if hasattr(x, "item") else x for x in ids],
                                 props, _points(3))
    assert features_json(ids, props, _points(3)) == expected


def test_features_json_without_properties_or_features():
    assert features_json(["a", "b"], pd.DataFrame(index=[0, 1]), _points(2)) == (
        _plain_collection(["a", "b"], pd.DataFrame(index=[0, 1]), _points(2)))
    assert features_json([], pd.DataFrame({"v": []}), []) == (
        '{"type":"FeatureCollection","features":[]}')


def test_feature_texts_can_be_picked_and_joined_by_layer():
    props, ids = _props(), list("abcde")
    texts = np.asarray(feature_texts(ids, props, _points(5)), dtype=object)
    rows = np.array([True, False, True, True, False])
    assert collection_json(texts[rows].tolist()) == _plain_collection(
        list(np.array(ids)[rows]), props[rows], list(np.array(_points(5))[rows]))


def test_features_json_refuses_what_json_refuses():
    with pytest.raises(ValueError, match="JSON compliant"):  # NaN is not JSON
        features_json(["a"], pd.DataFrame({"v": [float("nan")]}), _points(1))
    with pytest.raises(RuntimeError, match="place the geometries"):
        features_json(["a", "b"], pd.DataFrame({"v": [1, 2]}), _points(1))


def test_json_values_split_each_column_exactly():
    values = ['","', "\\", '\\"', "<&>", "", "é"]
    texts, pattern = json_values(values)
    assert pattern == '"%s"'
    assert [pattern % t for t in texts] == [to_json(v) for v in values]
    texts, pattern = json_values([1, 2.5, True, None, -1e300])
    assert [pattern % t for t in texts] == ["1", "2.5", "true", "null", "-1e+300"]


def test_gc_paused_restores_the_collector_as_it_was():
    import gc  # noqa: PLC0415

    from planner.maps.geojson import gc_paused  # noqa: PLC0415

    was = gc.isenabled()
    try:
        gc.enable()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(KeyError), gc_paused():
            raise KeyError("x")
        assert gc.isenabled()  # restored after an error too
        gc.disable()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left off when it was off
    finally:
        (gc.enable if was else gc.disable)()


def test_encode_paths_of_big_values_match_the_plain_encoder():
    # 10 decimals: 112.1° is 1.121e12, zigzagged beyond 2**31 (eight or nine chunks)
    lines = [LineString([(112.1, 21.8), (112.10029, 21.80029), (-179.9, -89.9)]),
             LineString([(0.5, 0.25), (0.5, 0.25)])]
    xy, line = shapely.get_coordinates(np.array(lines, dtype=object), return_index=True)
    assert encode_paths(xy, line, 2, decimals=10) == [
        _plain_encode(g.coords, decimals=10) for g in lines]
