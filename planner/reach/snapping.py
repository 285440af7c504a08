"""Where points join the walking network: snapping to the nearest edge.

Facilities, community gates and points are snapped to the nearest position on the
nearest *edge* (not node); community polygons are entered from every street along their
boundary. The result is a set of :class:`AccessPoints`: positions along edges with the
straight off-road walk to each.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.network.store import CompiledNetwork
from planner.reach.params import ReachParams


@dataclass
class AccessPoints:
    """Where points join the network: each is a position on an edge.

    Attributes
    ----------
    owner
        Index of the point (facility or community) each access point belongs to.
    edge
        Edge index, or -1 when no edge lies within the snapping distance.
    along_m
        Distance from the edge's ``u`` end along its geometry (metres).
    offroad_m
        Straight distance from the point to its position on the edge (metres).
    """

    owner: np.ndarray
    edge: np.ndarray
    along_m: np.ndarray
    offroad_m: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    @classmethod
    def concat(cls, parts: list[AccessPoints]) -> AccessPoints:
        """Stack several sets of access points."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("owner", "edge", "along_m", "offroad_m")))

    def subset(self, mask: np.ndarray) -> AccessPoints:
        """The access points where ``mask`` is true."""
        return AccessPoints(self.owner[mask], self.edge[mask], self.along_m[mask],
                            self.offroad_m[mask])


#: Snapping first looks for edges this close (metres): cheaper than a nearest search.
SNAP_FIRST_RADIUS_M = 25.0


def _nearest_edges(net: CompiledNetwork, points: np.ndarray, max_m: float) -> np.ndarray:
    """Index of the nearest edge within ``max_m`` of each point, ``-1`` where none.

    Most points lie near a street, so candidates within :data:`SNAP_FIRST_RADIUS_M` are
    found with one ``dwithin`` query and ranked by distance; only the rest go through
    the slower ``query_nearest``. Both give the nearest edge.
    """
    edge = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0:
        return edge
    radius = min(max_m, SNAP_FIRST_RADIUS_M)
    pi, ei = net.tree.query(points, predicate="dwithin", distance=radius)
    d = shapely.distance(points[pi], net.edge_geoms[ei])
    order = np.lexsort((ei, d, pi))
    first = np.r_[True, pi[order][1:] != pi[order][:-1]] if len(order) else order
    edge[pi[order][first]] = ei[order][first]
    rest = np.flatnonzero(edge < 0)
    if len(rest) and max_m > radius:
        ri, rei = net.tree.query_nearest(points[rest], max_distance=max_m, all_matches=False)
        edge[rest[ri]] = rei
    return edge


def snap_points(net: CompiledNetwork, points: np.ndarray, *, max_m: float) -> AccessPoints:
    """Snap each point to the nearest position on the nearest edge.

    Points farther than ``max_m`` metres from every edge get ``edge == -1``; the caller
    reports them, nothing is snapped silently.
    """
    points = np.asarray(points, dtype=object)
    n = len(points)
    edge = _nearest_edges(net, points, max_m)
    along = np.zeros(n)
    off = np.full(n, np.nan)
    ok = edge >= 0
    geoms = net.edge_geoms[edge[ok]]
    along[ok] = shapely.line_locate_point(geoms, points[ok])
    on_road = shapely.line_interpolate_point(geoms, along[ok])
    off[ok] = shapely.distance(points[ok], on_road)
    return AccessPoints(np.arange(n), edge, along, off)


def boundary_access(
    net: CompiledNetwork, polygons: np.ndarray, *, near_m: float, max_m: float
) -> AccessPoints:
    """Access points of polygons: every edge within ``near_m`` of a polygon gives one.

    The access point is the position on the edge nearest to the polygon (where a road
    enters it, or the point of the street closest to its boundary): a residential block
    bordered by four streets can be entered from each of them. A polygon with no edge
    within ``near_m`` gets one access point on its nearest edge within ``max_m``, or a
    row with ``edge == -1`` when there is none.
    """
    polygons = np.asarray(polygons, dtype=object)
    pi, ei = _within(net, polygons, near_m)
    along, off = _on_edge(net, ei, polygons[pi])
    near = AccessPoints(pi, ei, along, off)
    missing = np.setdiff1d(np.arange(len(polygons)), pi)
    if len(missing) == 0:
        return near
    (mi, mei), _ = net.tree.query_nearest(polygons[missing], max_distance=max_m,
                                          return_distance=True, all_matches=False)
    far_edge = np.full(len(missing), -1, dtype=np.int64)
    far_edge[mi] = mei
    ok = far_edge >= 0
    far_along = np.zeros(len(missing))
    far_off = np.full(len(missing), np.nan)
    far_along[ok], far_off[ok] = _on_edge(net, far_edge[ok], polygons[missing[ok]])
    far = AccessPoints(missing, far_edge, far_along, far_off)
    return AccessPoints.concat([near, far])


def _within(
    net: CompiledNetwork, polygons: np.ndarray, near_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(polygon, edge)`` of every edge within ``near_m`` metres of a polygon.

    The pairs and their order of ``STRtree.query(predicate="dwithin")``, found as that
    query does (bounding boxes grown by ``near_m``, then the distance test) but with the
    vectorised ``shapely.dwithin``, which skips preparing each polygon: half the CPU
    on small polygons.
    """
    b = shapely.bounds(polygons)
    boxes = shapely.box(b[:, 0] - near_m, b[:, 1] - near_m, b[:, 2] + near_m, b[:, 3] + near_m)
    pi, ei = net.tree.query(boxes)
    keep = shapely.dwithin(polygons[pi], net.edge_geoms[ei], near_m)
    return pi[keep], ei[keep]


def _on_edge(
    net: CompiledNetwork, edges: np.ndarray, polygons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Position along each edge nearest to its polygon, and the distance between them (m).

    ``edges`` are edge indices. The shortest line from an edge to a polygon starts on the
    edge; its length is read from the coordinates of both ends and its start located
    along the edge (:func:`locate_on_edges`).
    """
    if len(edges) == 0:
        return np.zeros(0), np.zeros(0)
    lines = shapely.shortest_line(net.edge_geoms[edges], polygons)
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    along = locate_on_edges(net, edges, ends[:, 0])  # its edge end
    return along, np.hypot(*(ends[:, 1] - ends[:, 0]).T)


def locate_on_edges(net: CompiledNetwork, edges: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Metres along each edge (from its ``u`` end) to the point of it nearest to ``xy``.

    Equal, bit for bit, to :func:`shapely.line_locate_point`: on an edge of one straight
    segment (most edges) it is computed here with GEOS's own arithmetic (the projection
    factor ``((p - a) · d) / (d · d)`` clamped to [0, 1], times ``sqrt(d · d)``), without
    building a point geometry per pair; longer edges go to GEOS.
    """
    edges = np.asarray(edges, dtype=np.int64)
    start = net.edge_offsets[edges]
    single = net.edge_offsets[edges + 1] - start == 2
    along = np.empty(len(edges))
    a = net.edge_coords[start[single]]
    d = net.edge_coords[start[single] + 1] - a
    p = xy[single] - a
    len2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = (p[:, 0] * d[:, 0] + p[:, 1] * d[:, 1]) / len2
    factor = np.where(len2 > 0, np.clip(factor, 0.0, 1.0), 0.0)
    along[single] = factor * np.sqrt(len2)
    multi = ~single
    if multi.any():
        along[multi] = shapely.line_locate_point(net.edge_geoms[edges[multi]],
                                                 shapely.points(xy[multi]))
    return along


def community_access(
    net: CompiledNetwork,
    communities: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame | None,
    *,
    params: ReachParams,
) -> AccessPoints:
    """Where each community joins the network.

    A community with gates (rows of ``gates`` with its ``community_id``) is entered only
    through them. A polygon without gates is entered from every street along its
    boundary (within ``params.boundary_access_m`` metres); a point community from its
    nearest street (within ``params.snap_max_m`` metres). ``owner`` is the community's
    position in ``communities``.
    """
    position = pd.Series(np.arange(len(communities)), index=communities.index)
    parts = []
    gated = np.zeros(len(communities), dtype=bool)
    if gates is not None and len(gates):
        where = position.index.get_indexer(gates["community_id"])  # ids are unique
        g = gates[where >= 0]
        owners = position.to_numpy()[where[where >= 0]]
        snapped = snap_points(net, g.geometry.to_numpy(), max_m=params.snap_max_m)
        snapped.owner = owners
        gated[owners] = True
        parts.append(snapped)
    geoms = communities.geometry.to_numpy()
    is_area = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    areas = np.flatnonzero(~gated & is_area)
    if len(areas):
        ap = boundary_access(net, geoms[areas], near_m=params.boundary_access_m,
                             max_m=params.snap_max_m)
        ap.owner = areas[ap.owner]
        parts.append(ap)
    spots = np.flatnonzero(~gated & ~is_area)
    if len(spots):
        ap = snap_points(net, geoms[spots], max_m=params.snap_max_m)
        ap.owner = spots[ap.owner]
        parts.append(ap)
    if not parts:
        return AccessPoints(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                            np.zeros(0), np.zeros(0))
    return AccessPoints.concat(parts)
