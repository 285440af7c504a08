"""GeoJSON text for the web map, built with array operations and written once.

Small layers are plain GeoJSON written by GEOS. Big ones (walking circles, base
streets) carry their coordinates as Google encoded polylines, about 2–3 bytes a vertex
instead of ~20, decoded in the page by ``plannerDecode`` (``planner/static/gap_map.js``):

- a Polygon is ``{"type":"Polygon","polylines":[ring,...]}`` (shell first, the closing
  vertex implied) and a MultiPolygon ``{"type":"MultiPolygon","polylines":[[ring,...],...]}``;
- a LineString is ``{"type":"LineString","polyline":line}`` and many lines one
  ``{"type":"MultiLineString","polylines":[line,...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

#: Decimals of encoded coordinates (1e-5 degree is about 1 m).
ENCODED_DECIMALS = 5


def to_json(value: Any) -> str:
    """Compact JSON with UTF-8 kept as is, safe inside an inline ``<script>``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def features_json(ids: Sequence[str], props: pd.DataFrame, geometries: Sequence[str]) -> str:
    """A FeatureCollection as JSON text around pre-serialised geometries.

    The features are encoded in one ``json.dumps`` call with a marker standing in for
    each geometry, then split there.
    """
    marker = "\x00geometry\x00"
    columns = list(props.columns)
    records = (zip(*(props[c].tolist() for c in columns), strict=True) if columns
               else [()] * len(ids))
    features = [
        {"type": "Feature", "id": i, "properties": dict(zip(columns, r, strict=True)),
         "geometry": marker}
        for i, r in zip(ids, records, strict=True)
    ]
    pieces = to_json({"type": "FeatureCollection", "features": features}).split(
        to_json(marker))
    if len(pieces) != len(geometries) + 1:  # never: the marker cannot occur in data text
        msg = "could not place the geometries in the GeoJSON text"
        raise RuntimeError(msg)
    out = [pieces[0]]
    for geometry, rest in zip(geometries, pieces[1:], strict=True):
        out += [geometry, rest]
    return "".join(out)


def geometry_json(geoms: Any) -> list[str]:
    """GeoJSON text of each geometry, written by GEOS (coordinates already rounded)."""
    return list(shapely.to_geojson(np.asarray(geoms, dtype=object)))


def compact_geometry_json(geoms: Any) -> list[str]:
    """Polygons as encoded polylines (:func:`encoded_polygons_json`), other shapes as GeoJSON."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.asarray(geometry_json(geoms) if len(geoms) else [], dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    if polygonal.any():
        out[polygonal] = encoded_polygons_json(geoms[polygonal])
    return out.tolist()


def encode_paths(xy: np.ndarray, path: np.ndarray, n_paths: int, *,
                 decimals: int = ENCODED_DECIMALS) -> list[str]:
    """Each path of lon/lat vertices as an encoded polyline (lat, lng order).

    ``path`` gives the path of each vertex, sorted; paths without vertices give "".
    Vectorised: no per-vertex Python.
    """
    if len(xy) == 0:
        return [""] * n_paths
    q = np.round(xy[:, ::-1] * 10**decimals).astype(np.int64)  # lat, lng
    delta = q.copy()
    same = np.r_[False, path[1:] == path[:-1]]
    delta[same] -= q[:-1][same[1:]]
    value = delta.ravel()
    z = np.where(value < 0, ~(value << 1), value << 1)  # sign in the lowest bit
    n_chunks = np.ones(len(z), dtype=np.int64)
    rest = z >> 5
    while (rest > 0).any():
        n_chunks += rest > 0
        rest >>= 5
    ends = np.cumsum(n_chunks)
    starts = ends - n_chunks
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    for k in range(int(n_chunks.max())):
        sel = np.flatnonzero(n_chunks > k)
        chunk = (z[sel] >> (5 * k)) & 31
        out[starts[sel] + k] = chunk + np.where(n_chunks[sel] > k + 1, 32, 0) + 63
    text = out.tobytes().decode("ascii")
    path_chars = np.bincount(np.repeat(path, 2), weights=n_chunks, minlength=n_paths)
    bounds = np.r_[0, np.cumsum(path_chars.astype(np.int64))].tolist()
    return [text[bounds[i]:bounds[i + 1]] for i in range(n_paths)]


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
    opened = np.r_[ring[1:] == ring[:-1], False]  # drop each ring's closing vertex
    xy, ring = xy[opened], ring[opened]
    if to_lonlat is not None and len(xy):
        xy = to_lonlat(xy)
    encoded = encode_paths(xy, ring, len(rings))
    part_rings: list[list[str]] = [[] for _ in range(len(parts))]
    for i, part in enumerate(ring_part.tolist()):
        part_rings[part].append(_quoted(encoded[i]))
    geom_parts: list[list[str]] = [[] for _ in range(len(geoms))]
    for part, geom in enumerate(part_geom.tolist()):
        geom_parts[geom].append("[" + ",".join(part_rings[part]) + "]")
    return [
        '{"type":"Polygon","polylines":' + p[0] + "}" if len(p) == 1
        else '{"type":"MultiPolygon","polylines":[' + ",".join(p) + "]}"
        for p in geom_parts
    ]


def encoded_lines_json(geoms: Any) -> list[str]:
    """LineStrings (lon/lat) as encoded-polyline geometries, one text each."""
    geoms = np.asarray(geoms, dtype=object)
    xy, line = shapely.get_coordinates(geoms, return_index=True)
    encoded = encode_paths(xy, line, len(geoms))
    return ['{"type":"LineString","polyline":' + _quoted(e) + "}" for e in encoded]


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
