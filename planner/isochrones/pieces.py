"""The reach rule: which pieces of which streets a facility reaches; the exact polygon."""

from __future__ import annotations

import numpy as np
import shapely

from planner.isochrones.sizes import STREET_HALF_WIDTH_M
from planner.network.store import CompiledNetwork
from planner.reach import spans


def _ranges(offsets: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``offsets[i]:offsets[i + 1]`` for each of ``items``, and the owner.

    The owner is the position in ``items`` each index came from.
    """
    lo, hi = offsets[items], offsets[items + 1]
    owner = np.repeat(np.arange(len(items)), hi - lo)
    return spans(lo, hi).astype(np.int64), owner


def reached_pieces(
    net: CompiledNetwork,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: int = -1,
    own_along_m: float = 0.0,
    own_budget_m: float = -1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reached pieces of edges, as intervals of distance along each edge.

    A point ``a`` metres along edge ``u-v`` (length ``L``) is reached iff
    ``d[u] + a ≤ B`` or ``d[v] + L - a ≤ B``; on the facility's own edge also iff
    ``|a - t| ≤ own_budget_m`` (the facility sits ``t`` = ``own_along_m`` along it).

    Parameters
    ----------
    net
        The compiled network.
    node_dist
        Metres from the facility to every network node, ``inf`` when unreached.
    budget_m
        The circle (metres).
    own_edge, own_along_m, own_budget_m
        The facility's edge (``-1``: none), its position along it and the budget left
        after its off-road walk (metres; negative: none).

    Returns
    -------
    tuple of arrays
        ``(edge, start_m, end_m, whole)``: one row per piece, ``whole`` true for edges
        reached from end to end. Pieces of one edge may overlap.
    """
    du = node_dist[net.edge_u]
    dv = node_dist[net.edge_v]
    e = np.flatnonzero((du <= budget_m) | (dv <= budget_m))
    ru, rv, length = budget_m - du[e], budget_m - dv[e], net.edge_length[e]
    whole = (ru >= length) | (rv >= length) | ((ru >= 0) & (rv >= 0) & (ru + rv >= length))
    from_u = ~whole & (ru >= 0)
    from_v = ~whole & (rv >= 0)
    edge = [e[whole], e[from_u], e[from_v]]
    start = [np.zeros(whole.sum()), np.zeros(from_u.sum()), length[from_v] - rv[from_v]]
    end = [length[whole], ru[from_u], length[from_v]]
    if own_edge >= 0 and own_budget_m >= 0:
        edge.append(np.array([own_edge]))
        start.append(np.array([max(own_along_m - own_budget_m, 0.0)]))
        end.append(np.array([min(own_along_m + own_budget_m, net.edge_length[own_edge])]))
    kind = np.repeat([True, False], [whole.sum(), len(np.concatenate(edge)) - whole.sum()])
    return np.concatenate(edge), np.concatenate(start), np.concatenate(end), kind


def vertex_along(net: CompiledNetwork) -> np.ndarray:
    """Distance of every edge vertex from its edge's ``u`` end (metres)."""
    seg = np.hypot(*np.diff(net.edge_coords, axis=0).T)
    cum = np.r_[0.0, np.cumsum(seg)]
    return cum - np.repeat(cum[net.edge_offsets[:-1]], np.diff(net.edge_offsets))


def piece_lines(
    net: CompiledNetwork, edge: np.ndarray, start_m: np.ndarray, end_m: np.ndarray
) -> np.ndarray:
    """LineStrings of edge pieces ``[start_m, end_m]``, cut exactly (vectorised substring)."""
    along = vertex_along(net)
    geoms = net.edge_geoms[edge]
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start_m))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end_m))
    idx, owner = _ranges(net.edge_offsets, edge)
    inner = (along[idx] > start_m[owner]) & (along[idx] < end_m[owner])
    idx, owner = idx[inner], owner[inner]
    k = len(edge)
    piece = np.concatenate([np.arange(k), owner, np.arange(k)])
    key = np.concatenate([np.full(k, -1.0), along[idx], np.full(k, np.inf)])
    order = np.lexsort((key, piece))
    xy = np.concatenate([p0, net.edge_coords[idx], p1])[order]
    return shapely.linestrings(xy, indices=piece[order])


def exact_circle_polygon(
    net: CompiledNetwork,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: int = -1,
    own_along_m: float = 0.0,
    own_budget_m: float = -1.0,
    half_width_m: float = STREET_HALF_WIDTH_M,
) -> shapely.Geometry:
    """Build the reference circle: every reached piece buffered by ``half_width_m``, unioned.

    Slow (a GEOS union of hundreds of buffers per facility); used by the tests and the
    benchmark to check :func:`circle_polygons`. Arguments as in :func:`reached_pieces`.
    """
    edge, start, end, _ = reached_pieces(net, node_dist, budget_m, own_edge=own_edge,
                                         own_along_m=own_along_m, own_budget_m=own_budget_m)
    if len(edge) == 0:
        return shapely.Polygon()
    lines = piece_lines(net, edge, start, end)
    return shapely.union_all(shapely.buffer(lines, half_width_m))
