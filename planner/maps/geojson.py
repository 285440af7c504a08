"""GeoJSON text for the web map, built with array operations and written once.

Small layers are plain GeoJSON written by GEOS. Big ones (walking circles, base
streets) carry their coordinates as Google encoded polylines, about 2–3 bytes a vertex
instead of ~20, decoded in the page by ``plannerDecode`` (``planner/static/gap_map.js``):

- a Polygon is ``{"type":"Polygon","polylines":[ring,...]}`` (shell first, the closing
  vertex implied) and a MultiPolygon ``{"type":"MultiPolygon","polylines":[[ring,...],...]}``;
- a LineString is ``{"type":"LineString","polyline":line}`` and many lines one
  ``{"type":"MultiLineString","polylines":[line,...]}``.

Speed: the encoded characters of every path are written into one byte array with the
JSON punctuation between them (:func:`_joined`), and feature text is formatted column by
column (:func:`feature_texts`), so no per-vertex, per-ring or per-feature dict is built.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import shapely

#: Decimals of encoded coordinates (1e-5 degree is about 1 m).
ENCODED_DECIMALS = 5
#: 32**k for k = 1…12: a zigzag value below 32**k takes k five-bit chunks.
_CHUNK_LIMITS = 32 ** np.arange(1, 13, dtype=np.int64)
_BACKSLASH = ord("\\")
_POLYGON_HEAD = '{"type":"Polygon","polylines":['
_MULTIPOLYGON_HEAD = '{"type":"MultiPolygon","polylines":['


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while a map is built, then restore it.

    Building a map makes hundreds of thousands of short-lived objects (ring geometries,
    texts) and no reference cycles; each few hundred allocations would otherwise start
    a collection that walks every object of the process (a city's networks and frames),
    about a tenth of the map's time. Reference counting still frees everything at once.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def to_json(value: Any) -> str:
    """Compact JSON with UTF-8 kept as is, safe inside an inline ``<script>``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_values(values: Sequence[Any]) -> tuple[list[str], str]:
    """:func:`to_json` of each value, as ``(texts, pattern)``: ``pattern % text`` is the JSON.

    Plain strings come without their quotes (``pattern`` is ``'"%s"'``) and plain numbers
    as they are (``'%s'``), each column in one ``json.dumps`` call: inside a JSON string
    every ``"`` is escaped, so the text splits exactly at ``","`` between items.
    """
    values = list(values)
    if not values:
        return [], "%s"
    kinds = set(map(type, values))
    if kinds == {str}:
        return to_json(values)[2:-2].split('","'), '"%s"'
    if kinds <= {int, float, bool, type(None)}:
        return to_json(values)[1:-1].split(","), "%s"
    return [to_json(v) for v in values], "%s"


def feature_texts(ids: Sequence[Any], props: pd.DataFrame | Mapping[Any, Sequence[Any]],
                  geometries: Sequence[str]) -> list[str]:
    """The JSON text of each feature around its pre-serialised geometry.

    The same text as ``to_json({"type": "Feature", "id": i, "properties": {...}})``
    with the geometry text in place of ``"geometry"``'s value, formatted column by
    column (see :func:`json_values`). ``props`` is a frame or a mapping of columns.
    """
    ids = ids.tolist() if isinstance(ids, pd.Index) else list(ids)
    if isinstance(props, pd.DataFrame):
        n_rows, columns = len(props), {c: props[c].tolist() for c in props.columns}
    else:
        columns = {c: list(v) for c, v in props.items()}
        n_rows = len(next(iter(columns.values()))) if columns else len(ids)
    if n_rows != len(ids) or any(len(v) != n_rows for v in columns.values()):
        msg = f"{len(ids)} feature ids but {n_rows} rows of properties"
        raise ValueError(msg)
    if len(geometries) != len(ids):
        msg = "could not place the geometries in the GeoJSON text"
        raise RuntimeError(msg)
    id_texts, id_pattern = json_values(ids)
    pattern = ['{"type":"Feature","id":', id_pattern, ',"properties":{']
    texts_by_column: list[list[str]] = []
    for n, (name, values) in enumerate(columns.items()):
        texts, value_pattern = json_values(values)
        key = to_json({name: 0})[1:-3]  # the key as json.dumps writes it (str of 1 is "1")
        pattern += [("," if n else "") + key.replace("%", "%%") + ":", value_pattern]
        texts_by_column.append(texts)
    pattern.append('},"geometry":%s}')
    return list(map("".join(pattern).__mod__,
                    zip(id_texts, *texts_by_column, geometries, strict=True)))


def collection_json(features: Sequence[str]) -> str:
    """A FeatureCollection's JSON text from its features' texts (:func:`feature_texts`)."""
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def features_json(ids: Sequence[str], props: pd.DataFrame, geometries: Sequence[str]) -> str:
    """A FeatureCollection as JSON text around pre-serialised geometries.

    Byte for byte ``to_json`` of the collection with each geometry's text in place;
    see :func:`feature_texts`.
    """
    return collection_json(feature_texts(ids, props, geometries))


def geometry_json(geoms: Any) -> list[str]:
    """GeoJSON text of each geometry, written by GEOS (coordinates already rounded)."""
    return list(shapely.to_geojson(np.asarray(geoms, dtype=object)))


def compact_geometry_json(geoms: Any) -> list[str]:
    """Polygons as encoded polylines (:func:`encoded_polygons_json`), other shapes as GeoJSON."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    if polygonal.any():
        out[polygonal] = encoded_polygons_json(geoms[polygonal])
    if not polygonal.all():
        out[~polygonal] = geometry_json(geoms[~polygonal])
    return out.tolist()


def _encoded_chars(xy: np.ndarray, path: np.ndarray, n_paths: int, *,
                   decimals: int = ENCODED_DECIMALS) -> tuple[np.ndarray, np.ndarray]:
    """The encoded polylines of all paths back to back (ASCII bytes), and each path's length.

    ``xy`` are lon/lat vertices, ``path`` the path of each vertex (sorted). Each value
    (a path's first vertex, then the change from the vertex before) is zigzagged and
    cut into 5-bit chunks, lowest first, each but the last marked by +32, then +63.
    """
    n_chars = np.zeros(n_paths, dtype=np.int64)
    if len(xy) == 0:
        return np.empty(0, dtype=np.uint8), n_chars
    q = np.round(xy[:, ::-1] * 10**decimals).astype(np.int64)  # lat, lng
    n_vertices = np.bincount(path, minlength=n_paths)
    vertex_end = np.cumsum(n_vertices)
    first = (vertex_end - n_vertices)[n_vertices > 0]  # a path's first vertex: itself
    delta = np.empty_like(q)
    delta[0] = q[0]
    np.subtract(q[1:], q[:-1], out=delta[1:])
    delta[first] = q[first]
    value = delta.ravel()
    z = (value << 1) ^ (value >> 63)  # zigzag: the sign in the lowest bit
    limits = _CHUNK_LIMITS
    if z.max() < 2**31:  # the usual case: half the memory to move
        z, limits = z.astype(np.int32), limits[limits < 2**31].astype(np.int32)
    n_chunks = np.searchsorted(limits, z, side="right").astype(np.int8) + 1
    # chunk k of every value in row k; a value's chunks are read down its column
    rows = np.empty((int(n_chunks.max()), len(z)), dtype=np.uint8)
    for k in range(len(rows)):
        rows[k] = ((z >> (5 * k)) & 31) + np.where(n_chunks > k + 1, 95, 63).astype(np.int8)
    used = np.arange(len(rows), dtype=np.int8)[:, None] < n_chunks[None, :]
    out = rows.T[used.T]
    char_end = np.r_[0, np.cumsum(n_chunks, dtype=np.int64)][2 * vertex_end]
    n_chars[:] = np.diff(np.r_[0, char_end])
    return out, n_chars


def _joined(chars: np.ndarray, n_chars: np.ndarray, separators: Sequence[str],
            code: np.ndarray) -> tuple[str, np.ndarray]:
    """``separators[code[0]] + path0 + separators[code[1]] + … + separators[code[n]]``.

    ``chars``/``n_chars`` are the paths back to back (:func:`_encoded_chars`); their
    backslashes are doubled (JSON strings). ``code`` has one more entry than there are
    paths. Returns the text and where each separator starts in it.
    """
    backslash = chars == _BACKSLASH
    if backslash.any():
        in_path = np.r_[0, np.cumsum(backslash)][np.r_[0, np.cumsum(n_chars)]]
        n_chars = n_chars + np.diff(in_path)
        chars = np.repeat(chars, 1 + backslash)
    table = [s.encode("ascii") for s in separators]
    lengths = np.array([len(t) for t in table], dtype=np.int64)
    blob = np.frombuffer(b"".join(table), dtype=np.uint8)
    sep_len = lengths[code]
    sep_before = np.r_[0, np.cumsum(sep_len)]
    sep_start = np.r_[0, np.cumsum(n_chars)] + sep_before[:-1]  # in the text
    # where each separator byte goes, and which byte of the table it is
    within = np.arange(sep_before[-1]) - np.repeat(sep_before[:-1], sep_len)
    sep_at = np.repeat(sep_start, sep_len) + within
    table_at = np.repeat((np.r_[0, np.cumsum(lengths)][:-1])[code], sep_len) + within
    out = np.empty(len(chars) + len(sep_at), dtype=np.uint8)
    is_path = np.ones(len(out), dtype=bool)
    is_path[sep_at] = False
    out[is_path] = chars  # the paths fill the rest, in order
    out[sep_at] = blob[table_at]
    return out.tobytes().decode("ascii"), sep_start


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\") + '"'


def encoded_polygons_json(
    geoms: Any, *, to_lonlat: Callable[[np.ndarray], np.ndarray] | None = None
) -> list[str]:
    """Polygons/MultiPolygons as encoded-polyline geometries, one text each.

    ``geoms`` are in lon/lat, or in any CRS with ``to_lonlat`` turning their ``(n, 2)``
    coordinates into lon/lat (no intermediate geometries are built).
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    opened = np.zeros(len(ring), dtype=bool)  # drop each ring's closing vertex
    opened[:-1] = ring[1:] == ring[:-1]
    xy, ring = xy[opened], ring[opened]
    if to_lonlat is not None and len(xy):
        xy = to_lonlat(xy)
    chars, n_chars = _encoded_chars(xy, ring, len(rings))
    n_parts = np.bincount(part_geom, minlength=len(geoms))
    if len(rings) == 0 or n_parts.min() == 0 or np.bincount(
            ring_part, minlength=len(parts)).min() == 0:
        return _polygons_by_ring(chars, n_chars, ring_part, part_geom, len(parts), len(geoms))
    ring_geom = part_geom[ring_part]
    multi = n_parts[ring_geom] > 1
    new_part = np.r_[True, ring_part[1:] != ring_part[:-1]]
    new_geom = np.r_[True, ring_geom[1:] != ring_geom[:-1]]
    # before a ring: 0 ',"'  1 ',["'  2 Polygon head + '"'  3 MultiPolygon head + '["'  4 ''
    before = np.where(new_geom, 2 + multi, np.where(new_part, 1, 0))
    # after a ring: '"' then ']' closing a MultiPolygon's part, then ']}' closing the geometry
    after = (multi & np.r_[new_part[1:], True]) + 2 * np.r_[new_geom[1:], True]
    prefixes = (',"', ',["', _POLYGON_HEAD + '"', _MULTIPOLYGON_HEAD + '["', "")
    suffixes = ('"', '"]', '"]}', '"]]}', "")
    code = 5 * np.r_[4, after] + np.r_[before, 4]
    text, sep_start = _joined(chars, n_chars, [s + p for s in suffixes for p in prefixes], code)
    bound = (sep_start + np.array([len(s) for s in suffixes])[code // 5]).tolist()
    first_ring = np.r_[0, np.cumsum(np.bincount(ring_geom, minlength=len(geoms)))].tolist()
    return [text[bound[first_ring[g]]:bound[first_ring[g + 1]]] for g in range(len(geoms))]


def _polygons_by_ring(chars: np.ndarray, n_chars: np.ndarray, ring_part: np.ndarray,
                      part_geom: np.ndarray, n_parts: int, n_geoms: int) -> list[str]:
    """:func:`encoded_polygons_json` ring by ring, for empty parts or geometries."""
    text = chars.tobytes().decode("ascii")
    bounds = np.r_[0, np.cumsum(n_chars)].tolist()
    part_rings: list[list[str]] = [[] for _ in range(n_parts)]
    for i, part in enumerate(ring_part.tolist()):
        part_rings[part].append(_quoted(text[bounds[i]:bounds[i + 1]]))
    geom_parts: list[list[str]] = [[] for _ in range(n_geoms)]
    for part, geom in enumerate(part_geom.tolist()):
        geom_parts[geom].append("[" + ",".join(part_rings[part]) + "]")
    return [
        _POLYGON_HEAD[:-1] + p[0] + "}" if len(p) == 1
        else _MULTIPOLYGON_HEAD + ",".join(p) + "]}"
        for p in geom_parts
    ]


def encoded_lines_json(geoms: Any) -> list[str]:
    """LineStrings (lon/lat) as encoded-polyline geometries, one text each."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return []
    xy, line = shapely.get_coordinates(geoms, return_index=True)
    chars, n_chars = _encoded_chars(xy, line, len(geoms))
    head, tail = '{"type":"LineString","polyline":"', '"}'
    code = np.r_[0, np.ones(len(geoms) - 1, dtype=np.int64), 2]
    text, sep_start = _joined(chars, n_chars, [head, tail + head, tail], code)
    bound = (sep_start + np.array([0, len(tail), len(tail)])[code]).tolist()
    return [text[bound[i]:bound[i + 1]] for i in range(len(geoms))]


def multiline_json(xy: np.ndarray, line: np.ndarray, n_lines: int) -> str:
    """Many lines (lon/lat vertices, ``line`` of each, sorted) as one encoded MultiLineString."""
    if n_lines == 0:
        return '{"type":"MultiLineString","polylines":[]}'
    chars, n_chars = _encoded_chars(xy, line, n_lines)
    code = np.r_[0, np.ones(n_lines - 1, dtype=np.int64), 2]
    text, _ = _joined(chars, n_chars,
                      ['{"type":"MultiLineString","polylines":["', '","', '"]}'], code)
    return text


def decode_polyline(text: str, decimals: int = ENCODED_DECIMALS) -> list[list[float]]:
    """An encoded polyline as ``[[lon, lat], ...]`` (for checks and tests)."""
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
    return np.column_stack([lng, lat]).tolist()


def decoded_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry with encoded polylines turned back into coordinates."""
    g = dict(geometry)
    if "polyline" in g:
        g["coordinates"] = decode_polyline(g.pop("polyline"))
    elif "polylines" in g and g["type"] == "MultiLineString":
        g["coordinates"] = [decode_polyline(t) for t in g.pop("polylines")]
    elif "polylines" in g:
        def ring(text: str) -> list[list[float]]:
            r = decode_polyline(text)
            return r + r[:1]

        polys = g.pop("polylines")
        g["coordinates"] = ([[ring(r) for r in p] for p in polys]
                            if g["type"] == "MultiPolygon" else [ring(r) for r in polys])
    return g
