"""Road lines straight to the compiled network's arrays, one array operation per step.

A file of road lines (GeoPackage, Shapefile, GeoJSON) becomes a walking network by the
lines' shared end points. This module does it on whole coordinate arrays, without
networkx and without a Python loop over lines:

1. the file's geometries are read as WKB through Arrow, and plain LineStrings decoded
   straight into one coordinate array (:func:`read_vertices`, :func:`decode_wkb_lines`);
   anything else goes through shapely, split into single LineStrings (:func:`line_parts`);
2. lines with a NaN or infinite vertex are dropped, with a note (:func:`drop_non_finite`);
3. every vertex is converted to WGS84 and then to the metric CRS in two pyproj calls
   (:func:`project_vertices`), the same transformations, on the same numbers, as
   :meth:`geopandas.GeoDataFrame.to_crs` applies to the lines;
4. end points are matched into nodes (:func:`match_end_points`) and each line becomes
   one edge oriented from its ``u`` node (:func:`compile_road_coords`).

The result is the same :class:`~planner.network.store.CompiledNetwork`, array for array
and bit for bit, as building the lines one by one would give (``tests/test_compile_*``
pin each step against a straightforward version).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyproj
import shapely

from planner._errors import CRSError, NetworkError
from planner.crs import check_metric_crs, metric_crs_for, parse_declared, to_wgs84
from planner.network.store import CompiledNetwork, lines_of, nearer_v, reverse_spans

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

log = logging.getLogger("planner")

#: End points of road lines closer than this are the same node (metres).
NODE_TOLERANCE_M = 0.01

#: Vertices from which coordinates are transformed in two threads.
_SPLIT_TRANSFORM = 200_000
#: shapely's type id of a LineString.
_LINESTRING = 1
#: WKB: little-endian byte order mark, 2-D LineString type, header bytes, bytes per vertex.
_WKB_LITTLE, _WKB_LINESTRING, _WKB_HEADER, _WKB_VERTEX = 1, 2, 9, 16


@dataclass
class RoadVertices:
    """Road lines as stacked vertices, in the order of the file.

    Attributes
    ----------
    coords
        Vertices of all lines, shape ``(k, 2)``, in ``crs`` units.
    offsets
        Line ``i`` owns ``coords[offsets[i]:offsets[i + 1]]``, shape ``(m + 1,)``.
    crs
        The file's CRS, or ``None``.
    n_rows
        Rows (features) in the file, before missing and empty geometries were skipped.
    geoms
        The LineStrings themselves when they were built (shapely), else ``None``.
    """

    coords: np.ndarray
    offsets: np.ndarray
    crs: pyproj.CRS | None
    n_rows: int
    geoms: np.ndarray | None = None

    @property
    def n_lines(self) -> int:
        """Number of lines."""
        return len(self.offsets) - 1

    @property
    def line_geoms(self) -> np.ndarray:
        """The lines as shapely LineStrings (built from the vertices if need be)."""
        if self.geoms is None:
            counts = np.diff(self.offsets)
            self.geoms = shapely.linestrings(
                self.coords, indices=np.repeat(np.arange(self.n_lines), counts))
        return self.geoms

    @classmethod
    def from_geometries(cls, geoms: np.ndarray, crs: pyproj.CRS | None) -> RoadVertices:
        """The single LineStrings of any road geometries (:func:`line_parts`)."""
        lines = line_parts(geoms)
        coords, idx = shapely.get_coordinates(lines, return_index=True)
        offsets = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(np.bincount(idx, minlength=len(lines)), out=offsets[1:])
        return cls(coords, offsets, crs, len(geoms), lines)

    def subset(self, keep: np.ndarray) -> RoadVertices:
        """The lines where ``keep`` (boolean, per line) is true."""
        counts = np.diff(self.offsets)[keep]
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        coords = self.coords[np.repeat(keep, np.diff(self.offsets))]
        geoms = None if self.geoms is None else self.geoms[keep]
        return RoadVertices(coords, offsets, self.crs, self.n_rows, geoms)


def read_vertices(path: Path, layer: str | None = None) -> RoadVertices | None:
    """Read the road lines of a vector file as vertices, without the attribute columns.

    Returns ``None`` when the layer has no geometry column. Errors of the file (missing
    layer, damaged file, invalid WKB) are pyogrio's or shapely's.
    """
    from pyogrio.raw import read_arrow  # noqa: PLC0415

    meta, table = read_arrow(path, layer=layer, columns=[], datetime_as_string=True)
    name = meta["geometry_name"] or "wkb_geometry"
    if name not in table.column_names:
        return None
    crs = None if meta["crs"] is None else pyproj.CRS.from_user_input(meta["crs"])
    column = table.column(name)
    decoded = decode_wkb_lines(column.chunks)
    if decoded is not None:
        coords, counts = decoded
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return RoadVertices(coords, offsets, crs, len(column))
    geoms = shapely.from_wkb(np.asarray(column.to_numpy(zero_copy_only=False), dtype=object))
    return RoadVertices.from_geometries(geoms, crs)


def decode_wkb_lines(chunks: list[pa.Array]) -> tuple[np.ndarray, np.ndarray] | None:
    """Vertices of WKB geometries that are all 2-D LineStrings, or ``None``.

    Missing and empty geometries are skipped (as :func:`line_parts` skips them). Anything
    else (big-endian, other geometry types, z or m coordinates, a one-point line, bad
    lengths) gives ``None``: read those with shapely.

    Parameters
    ----------
    chunks
        Arrow binary arrays of WKB.

    Returns
    -------
    tuple of numpy.ndarray or None
        ``(coords, counts)``: vertices, shape ``(k, 2)``, and the vertex count of each
        line kept (two or more).
    """
    parts, counts = [], []
    for chunk in chunks:
        decoded = _decode_chunk(chunk)
        if decoded is None:
            return None
        parts.append(decoded[0])
        counts.append(decoded[1])
    if not parts:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return np.concatenate(parts), np.concatenate(counts)


def _decode_chunk(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`decode_wkb_lines` for one Arrow array."""
    import pyarrow as pa  # noqa: PLC0415

    if isinstance(chunk, pa.ExtensionArray):
        chunk = chunk.storage
    if chunk.type == pa.binary():
        width: type[np.signedinteger] = np.int32
    elif chunk.type == pa.large_binary():
        width = np.int64
    else:
        return None
    n = len(chunk)
    _, offset_buf, data_buf = chunk.buffers()
    if n == 0 or data_buf is None:
        return (np.zeros((0, 2)), np.zeros(0, dtype=np.int64)) if chunk.null_count == n else None
    bounds = np.frombuffer(offset_buf, dtype=width)[chunk.offset:chunk.offset + n + 1]
    bounds = bounds.astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8)[bounds[0]:bounds[-1]]
    start, size = bounds[:-1] - bounds[0], np.diff(bounds)
    valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if (size[valid] < _WKB_HEADER).any() or size[~valid].any():
        return None
    head = data[start[valid, None] + np.arange(_WKB_HEADER)]
    kind = np.ascontiguousarray(head[:, 1:5]).view("<u4").ravel()
    n_vertices = np.ascontiguousarray(head[:, 5:9]).view("<u4").ravel().astype(np.int64)
    if not ((head[:, 0] == _WKB_LITTLE).all() and (kind == _WKB_LINESTRING).all()
            and (size[valid] == _WKB_HEADER + _WKB_VERTEX * n_vertices).all()
            and (n_vertices != 1).all()):
        return None
    body = np.ones(len(data), dtype=bool)  # every byte but the headers is a coordinate
    body[(start[valid, None] + np.arange(_WKB_HEADER)).ravel()] = False
    coords = data[body].view("<f8").reshape(-1, 2)
    return coords, n_vertices[n_vertices > 0]


def line_parts(geoms: np.ndarray) -> np.ndarray:
    """The single, non-empty LineStrings of road geometries, in order.

    Missing and empty geometries are skipped, multi-part geometries split into their
    parts (each part in its order, as :meth:`geopandas.GeoDataFrame.explode` does),
    and parts that are not LineStrings (points or polygons in a collection) left out.

    Parameters
    ----------
    geoms
        Array of shapely geometries (or ``None``).

    Returns
    -------
    numpy.ndarray
        Object array of LineStrings.
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    if not (shapely.get_type_id(geoms) == _LINESTRING).all():
        geoms = shapely.get_parts(geoms)
    keep = (shapely.get_type_id(geoms) == _LINESTRING) & ~shapely.is_empty(geoms)
    return geoms if keep.all() else geoms[keep]


def drop_non_finite(lines: RoadVertices, where: object) -> RoadVertices:
    """Drop lines with a NaN or infinite vertex (x or y), with a note naming how many.

    Parameters
    ----------
    lines
        Road lines.
    where
        The file or data set, for the note.

    Returns
    -------
    RoadVertices
        The lines whose vertices are all finite, in order.
    """
    bad_vertex = ~np.isfinite(lines.coords).all(axis=1)
    if not bad_vertex.any():
        return lines
    line_of = np.repeat(np.arange(lines.n_lines), np.diff(lines.offsets))
    bad = np.zeros(lines.n_lines, dtype=bool)
    bad[line_of[bad_vertex]] = True
    log.warning("note: %s: %d road line(s) with a missing (NaN) or infinite vertex "
                "dropped; fix their geometry to include them", where, int(bad.sum()))
    return lines.subset(~bad)


def target_crs(metric_crs: str | pyproj.CRS | None,
               bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """The metric CRS: the one given (checked against the district) or the UTM zone.

    ``bounds`` are the WGS84 ``(lon_min, lat_min, lon_max, lat_max)`` of the district.
    """
    if metric_crs is None or str(metric_crs) == "":
        return metric_crs_for(*bounds)
    return check_metric_crs(metric_crs, tuple(float(b) for b in bounds))  # type: ignore[arg-type]


def _transform(lines: RoadVertices, coords: np.ndarray, source: pyproj.CRS,
               target: pyproj.CRS) -> np.ndarray:
    """The vertices ``coords`` of ``lines`` from ``source`` to ``target``.

    The transformation and its inputs are those of :meth:`geopandas.GeoSeries.to_crs`
    (``always_xy``; lines with a z coordinate transformed with it), so the numbers are
    the same bit for bit.
    """
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
    has_z = None if lines.geoms is None else shapely.has_z(lines.geoms)
    if has_z is None or not has_z.any():
        if len(coords) < _SPLIT_TRANSFORM:
            return np.array(transformer.transform(coords[:, 0], coords[:, 1])).T
        # each vertex is transformed on its own: two halves on two cores give the same
        # numbers (PROJ lets go of Python's lock; a transformer per thread)
        half = len(coords) // 2
        other = pyproj.Transformer.from_crs(source, target, always_xy=True)
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(other.transform, coords[half:, 0], coords[half:, 1])
            first = transformer.transform(coords[:half, 0], coords[:half, 1])
            return np.vstack([np.array(first).T, np.array(second.result()).T])
    z = shapely.get_coordinates(lines.geoms, include_z=True)[:, 2]
    flat = ~np.repeat(has_z, np.diff(lines.offsets))
    out = np.empty_like(coords)
    out[flat] = np.array(transformer.transform(coords[flat, 0], coords[flat, 1])).T
    moved = transformer.transform(coords[~flat, 0], coords[~flat, 1], z[~flat])
    out[~flat] = np.array(moved[:2]).T
    return out


def project_vertices(
    lines: RoadVertices, *, crs: str, metric_crs: str | pyproj.CRS | None, where: object
) -> tuple[RoadVertices, pyproj.CRS]:
    """Road lines in the metric CRS, converted from the declared ``crs`` first.

    Parameters
    ----------
    lines
        Road lines with the file's CRS (or none), as read.
    crs
        Declared coordinate system when the file carries a geographic CRS or none (see
        :func:`planner.crs.to_wgs84`). A projected CRS on the file is used as is.
    metric_crs
        The metric CRS to use, or ``None`` for the UTM zone of the lines.
    where
        The file, for messages.

    Returns
    -------
    tuple
        ``(lines, metric)``: the lines with finite vertices, in metres, and the metric CRS.

    Raises
    ------
    NetworkError
        No lines, or no LineString among them.
    CRSError
        A file CRS that contradicts the declared one.
    """
    if lines.n_rows == 0:
        msg = f"{where}: the file has no road lines. A walking network needs roads."
        raise NetworkError(msg)
    lines = drop_non_finite(lines, where)
    if lines.n_lines == 0:
        msg = f"{where}: no LineString geometries. A road-line file needs lines."
        raise NetworkError(msg)
    coords, wgs84 = lines.coords, pyproj.CRS.from_user_input(4326)
    if lines.crs is not None and lines.crs.is_projected:
        coords = _transform(lines, coords, lines.crs, wgs84)
    else:
        if lines.crs is not None and lines.crs.to_epsg() not in (4326, 4490) and crs == "wgs84":
            msg = f"{where}: lines are in {lines.crs.name}; declare their CRS with --network-crs."
            raise CRSError(msg)
        import geopandas as gpd  # noqa: PLC0415

        if parse_declared(crs)[0] == "epsg":  # read as WGS84: the coordinates stay (checked)
            to_wgs84(gpd.GeoSeries([], crs=4326), crs)
        else:  # offset coordinates (GCJ-02, BD-09) move
            moved = to_wgs84(gpd.GeoSeries(lines.line_geoms, crs=4326), crs)
            coords = shapely.get_coordinates(moved.geometry.to_numpy())
    lon_min, lat_min = coords.min(axis=0)
    lon_max, lat_max = coords.max(axis=0)
    metric = target_crs(metric_crs, (lon_min, lat_min, lon_max, lat_max))
    coords = _transform(lines, coords, wgs84, metric)
    return RoadVertices(coords, lines.offsets, metric, lines.n_rows), metric


def compile_road_vertices(
    lines: RoadVertices, *, crs: str, metric_crs: str | pyproj.CRS | None, where: object
) -> CompiledNetwork:
    """Compile road lines, as read, into a network in the metric CRS.

    See :func:`project_vertices` for the parameters and :func:`compile_road_coords` for
    how lines become edges.
    """
    projected, metric = project_vertices(lines, crs=crs, metric_crs=metric_crs, where=where)
    return compile_road_coords(projected.coords, projected.offsets, metric.to_wkt())


def match_end_points(
    starts: np.ndarray, ends: np.ndarray, tolerance_m: float = NODE_TOLERANCE_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes of lines joined by shared end points, rounded to ``tolerance_m``.

    Gives what ``numpy.unique(keys, axis=0, return_index=True, return_inverse=True)``
    gives on the rounded end points (starts, then ends): nodes in the order of their
    rounded (x, y), each at the first end point that rounds to it. Two end points
    share a node when they round to the same multiple of ``tolerance_m``.

    Parameters
    ----------
    starts, ends
        First and last vertex of each line (metres), shape ``(m, 2)``.
    tolerance_m
        Rounding step (metres).

    Returns
    -------
    tuple of numpy.ndarray
        ``(node_xy, u, v)``: node coordinates (metres, shape ``(n, 2)``) and the start and
        end node of each line (int64, shape ``(m,)``).
    """
    points = np.vstack([starts, ends])
    keys = np.round(points / tolerance_m).astype(np.int64)
    m = len(starts)
    if len(keys) == 0:
        return points, np.zeros(0, np.int64), np.zeros(0, np.int64)
    low = keys.min(axis=0)
    span = keys.max(axis=0) - low + 1  # keys as non-negative offsets, per axis
    if span[0] > (2**62) // span[1]:  # (x, y) do not fit one int64: sort the pairs
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel().astype(np.int64)
        return points[first], inverse[:m], inverse[m:]
    # one int64 per point, ordered as the (x, y) pairs: hash them (pandas), sort the nodes
    single = (keys[:, 0] - low[0]) * span[1] + (keys[:, 1] - low[1])
    codes, uniques = pd.factorize(single)  # codes in order of first appearance
    seen_before = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.r_[True, codes[1:] > seen_before[:-1]])
    order = np.argsort(uniques)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques))
    inverse = rank[codes]
    return points[first[order]], inverse[:m], inverse[m:]


def compile_road_coords(coords: np.ndarray, offsets: np.ndarray, crs: str) -> CompiledNetwork:
    """Compile projected road lines, given as stacked vertices, into a network.

    Each line becomes one edge between the nodes of its end points
    (:func:`match_end_points`), its vertices oriented from its ``u`` node as
    :func:`planner.network.store.compile_arrays` orients them.

    Parameters
    ----------
    coords
        Vertices of all lines (metres), shape ``(k, 2)``.
    offsets
        Line ``i`` owns ``coords[offsets[i]:offsets[i + 1]]`` (at least two vertices).
    crs
        The metric CRS (WKT).
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    first, last = offsets[:-1], offsets[1:] - 1
    # the LineStrings are built on the other core (shapely lets go of Python's lock)
    # while the end points are matched on this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        building = pool.submit(lines_of, coords, offsets)
        node_xy, u, v = match_end_points(coords[first], coords[last])
        geoms = building.result()
    node_x, node_y = node_xy[:, 0], node_xy[:, 1]
    flip = nearer_v(coords[first], node_x, node_y, u, v)
    if len(flip):  # a line starts nearer its v node: walk its vertices backwards
        coords = reverse_spans(coords, offsets, flip)
        geoms[flip] = shapely.reverse(geoms[flip])
    return CompiledNetwork(
        crs=crs, node_x=np.ascontiguousarray(node_x), node_y=np.ascontiguousarray(node_y),
        edge_u=u, edge_v=v, edge_length=shapely.length(geoms),
        edge_coords=np.ascontiguousarray(coords), edge_offsets=offsets, _geoms=geoms,
    )
