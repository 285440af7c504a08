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


def _position(values: np.ndarray, offsets: np.ndarray, segment_m: np.ndarray,
              edge: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Where a cumulative cost profile reaches ``cost``: metres from each edge's ``u`` end.

    ``values[offsets[e]:offsets[e + 1]]`` is edge ``e``'s profile at stations
    ``segment_m[e]`` apart (non-decreasing, from 0); linear between stations, as the
    profile is. Costs beyond the profile give the edge's ends.
    """
    if len(edge) == 0:
        return np.zeros(0)
    idx, owner = _ranges(offsets, edge)
    n_seg = offsets[edge + 1] - offsets[edge] - 1
    below = np.bincount(owner, weights=values[idx] <= cost[owner], minlength=len(edge))
    k = np.clip(below.astype(np.int64) - 1, 0, n_seg - 1)
    lo, hi = values[offsets[edge] + k], values[offsets[edge] + k + 1]
    step = hi - lo
    frac = np.clip((cost - lo) / np.where(step > 0, step, 1.0), 0.0, 1.0)
    frac = np.where(step > 0, frac, 1.0)
    return np.clip((k + frac) * segment_m[edge], 0.0, n_seg * segment_m[edge])


def cut_edges(
    net: CompiledNetwork, edge: np.ndarray, left_u: np.ndarray, left_v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How far along each edge the budget left at its ends reaches, in the resident's direction.

    A resident ``a`` metres along edge ``u-v`` is reached through ``u`` if walking from
    ``a`` to ``u`` costs at most ``left_u`` (the budget left at ``u``), through ``v``
    likewise. On flat ground that cost is ``a`` (and ``L - a``); with direction-aware
    costs (:attr:`CompiledNetwork.directed`, flat-equivalent metres, :mod:`planner.terrain`)
    it is the cost of walking *towards* the facility: ``to_u`` from ``a`` back to ``u``,
    ``from_u`` from ``a`` on to ``v``, read on the edge's profile (linear between its
    stations), so the last, partly walked piece of a sloped street is priced like the
    rest of the walk.

    Parameters
    ----------
    net
        The compiled network.
    edge
        Edge indices.
    left_u, left_v
        Budget left at each edge's ``u`` and ``v`` end (flat-equivalent metres; negative:
        that end is not reached).

    Returns
    -------
    tuple of numpy.ndarray
        ``(whole, end_u, start_v)``: the edge is reached end to end; residents in
        ``[0, end_u]`` are reached through ``u`` and in ``[start_v, L]`` through ``v``
        (metres along the edge).
    """
    length = net.edge_length[edge]
    d = net.directed
    if d is None:
        back = fwd = length
        end_u, start_v = left_u, length - left_v
    else:
        back, fwd = d.backward_m[edge], d.forward_m[edge]
        end_u = _position(d.to_u, d.offsets, d.segment_m, edge, left_u)
        start_v = _position(d.from_u, d.offsets, d.segment_m, edge, fwd - left_v)
    whole = (left_u >= back) | (left_v >= fwd) | (
        (left_u >= 0) & (left_v >= 0) & (end_u >= start_v))
    return whole, end_u, start_v


def own_edge_piece(
    net: CompiledNetwork, edge: np.ndarray, along_m: np.ndarray, budget_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The piece of a facility's own edge its residents reach directly, ``(start, end)``.

    The facility sits ``along_m`` metres along ``edge`` with ``budget_m`` left after its
    off-road walk. A resident before it walks towards ``v`` to reach it, one after it
    towards ``u``: with direction-aware costs each side is priced in that direction.
    """
    length = net.edge_length[edge]
    d = net.directed
    if d is None:
        return np.maximum(along_m - budget_m, 0.0), np.minimum(along_m + budget_m, length)
    at_fwd, at_back = d.between(edge, np.zeros(len(edge)), along_m)  # from_u, to_u at t
    start = _position(d.from_u, d.offsets, d.segment_m, edge, at_fwd - budget_m)
    end = _position(d.to_u, d.offsets, d.segment_m, edge, at_back + budget_m)
    return np.minimum(start, along_m), np.maximum(end, along_m)


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
    With direction-aware costs (``net.directed``) ``a`` and ``L - a`` are the costs of
    walking from the point to ``u`` and to ``v`` (:func:`cut_edges`), and on the own
    edge the cost of walking from the point to the facility (:func:`own_edge_piece`).

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
    whole, end_u, start_v = cut_edges(net, e, ru, rv)
    from_u = ~whole & (ru >= 0)
    from_v = ~whole & (rv >= 0)
    edge = [e[whole], e[from_u], e[from_v]]
    start = [np.zeros(whole.sum()), np.zeros(from_u.sum()), start_v[from_v]]
    end = [length[whole], end_u[from_u], length[from_v]]
    if own_edge >= 0 and own_budget_m >= 0:
        own_start, own_end = own_edge_piece(net, np.array([own_edge]),
                                            np.array([float(own_along_m)]),
                                            np.array([float(own_budget_m)]))
        edge.append(np.array([own_edge]))
        start.append(own_start)
        end.append(own_end)
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
