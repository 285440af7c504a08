"""Hills and stairs: walking costs that depend on the direction of the walk.

Two of the seed cities are mountain towns (Wanzhou on the Yangtze banks, Chishui in the
Guizhou hills). There a flat-distance circle over-claims: an 80-year-old walks a 10 %
climb about 1.4 times slower than the flat, and many paths are stairs.

This stage turns a compiled network into one whose edges cost **flat-equivalent metres**
per direction (walking time × the flat speed; :mod:`planner.terrain.speed`), with the
elevations sampled every few metres along each edge from a DEM
(:mod:`planner.terrain.dem`). Minutes downstream stay ``metres / (60 × speed)``.

Walking direction matters: a resident walks *to* a facility. The reach engine searches
outwards from the facilities, so it runs on the **transposed** graph, where the entry
from ``a`` to ``b`` is the cost of walking ``b → a``; the distance it finds at a
community is then the cost of the resident's walk to the facility
(:mod:`planner.network.directed`, and :meth:`CompiledNetwork.adjacency`).

Usage::

    elev = sample_edges(net, "dem.tif")
    steps = steps_mask(net, "roads.gpkg")            # highway=steps edges
    hilly = terrain_network(net, elevations=elev, steps=steps, speed_m_s=1.0)
    flat_free = terrain_network(net, elevations=elev, steps=steps, speed_m_s=1.0,
                                no_steps=True)       # wheelchair / walker: no stairs
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from planner.network.directed import DirectedCosts
from planner.reach import CompiledNetwork
from planner.terrain.dem import EdgeElevations, edge_stations, sample_edges
from planner.terrain.speed import StepsRule, slope_factor, steps_extra_m
from planner.terrain.steps import read_steps_mask, steps_mask

__all__ = [
    "EdgeElevations",
    "StepsRule",
    "Terrain",
    "directed_costs",
    "flat_elevations",
    "load_terrain",
    "read_steps_mask",
    "sample_edges",
    "slope_factor",
    "steps_mask",
    "terrain_network",
]

log = logging.getLogger("planner")


def flat_elevations(net: CompiledNetwork) -> EdgeElevations:
    """Elevations of a flat network (one segment per edge, all at 0 m): stairs only."""
    offsets, segment, _ = edge_stations(net, spacing_m=np.inf)
    return EdgeElevations(offsets, segment, np.zeros(offsets[-1]))


def directed_costs(
    elevations: EdgeElevations,
    *,
    steps: np.ndarray | None = None,
    speed_m_s: float,
    rule: StepsRule | None = None,
    assume_steps_rise: bool = False,
) -> DirectedCosts:
    """Cumulative flat-equivalent metres along every edge, both ways.

    Parameters
    ----------
    elevations
        Station heights along every edge (:func:`sample_edges`).
    steps
        Boolean per edge: ``highway=steps``. Stairs cost their horizontal length plus
        :func:`planner.terrain.speed.steps_extra_m` per segment, instead of the slope
        factor.
    speed_m_s
        The flat walking speed (m/s): stairs' seconds become metres at this speed.
    rule
        Stair penalties (:class:`StepsRule` defaults).
    assume_steps_rise
        No DEM: give stairs the rule's assumed grade, paid both ways at the mean of the
        up and down rates.

    Returns
    -------
    DirectedCosts
    """
    rule = rule or StepsRule()
    offsets, seg = elevations.offsets, elevations.segment_m
    n_edges = len(seg)
    n_seg = np.diff(offsets) - 1
    seg_edge = np.repeat(np.arange(n_edges), n_seg)
    is_last = np.zeros(offsets[-1], dtype=bool)
    is_last[offsets[1:] - 1] = True
    lo = np.flatnonzero(~is_last)  # the u-side station of every segment, edge by edge
    rise = elevations.z_m[lo + 1] - elevations.z_m[lo]
    run = seg[seg_edge]
    grade = np.divide(rise, run, out=np.zeros_like(rise), where=run > 0)
    fw = run * slope_factor(grade)
    bw = run * slope_factor(-grade)
    if steps is not None and steps.any():
        on = steps[seg_edge]
        if assume_steps_rise:
            mean_rate = 0.5 * (rule.up_s_per_m + rule.down_s_per_m)
            extra = run[on] * rule.assumed_grade * mean_rate * speed_m_s
            fw[on] = run[on] + extra
            bw[on] = run[on] + extra
        else:
            fw[on] = run[on] + steps_extra_m(rise[on], speed_m_s=speed_m_s, rule=rule)
            bw[on] = run[on] + steps_extra_m(-rise[on], speed_m_s=speed_m_s, rule=rule)
    return DirectedCosts(offsets, seg, _cumulate(fw, offsets), _cumulate(bw, offsets))


def _cumulate(seg_cost: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-station cumulative cost from each edge's ``u`` end (0 at every edge's start)."""
    steps = np.zeros(offsets[-1])
    is_start = np.zeros(offsets[-1], dtype=bool)
    is_start[offsets[:-1]] = True
    steps[~is_start] = seg_cost
    total = np.cumsum(steps)
    edge = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return total - total[offsets[:-1]][edge]


def terrain_network(
    net: CompiledNetwork,
    *,
    elevations: EdgeElevations | None = None,
    steps: np.ndarray | None = None,
    speed_m_s: float,
    no_steps: bool = False,
    rule: StepsRule | None = None,
) -> CompiledNetwork:
    """The network with direction-dependent costs (flat-equivalent metres).

    Parameters
    ----------
    net
        The compiled (flat) network; it is not changed.
    elevations
        Heights along the edges (:func:`sample_edges`); ``None``: flat, stairs only.
    steps
        Boolean per edge of ``net``: ``highway=steps`` (:func:`steps_mask`).
    speed_m_s
        The flat walking speed of the profile (m/s).
    no_steps
        Remove stairs from the network (wheelchair, walker).
    rule
        Stair penalties.

    Returns
    -------
    CompiledNetwork
        A copy whose ``directed`` holds the costs; ``edge_length`` stays the horizontal
        length. With ``no_steps`` its edges are those of ``net`` without the stairs.
    """
    has_dem = elevations is not None
    if elevations is None:
        elevations = flat_elevations(net)
    if steps is not None and len(steps) != net.n_edges:
        msg = f"steps mask has {len(steps)} values for {net.n_edges} edges"
        raise ValueError(msg)
    costs = directed_costs(elevations, steps=steps, speed_m_s=speed_m_s, rule=rule,
                           assume_steps_rise=not has_dem)
    out = dataclasses.replace(net, _base_csr=None)  # same edges: index and components hold
    if no_steps and steps is not None and steps.any():
        keep = ~steps
        log.info("terrain: %s stair edges removed (--no-steps)", f"{int(steps.sum()):,}")
        out = _keep_edges(out, keep)
        costs = costs.subset(keep)
    out.directed = costs
    return out


def _keep_edges(net: CompiledNetwork, keep: np.ndarray) -> CompiledNetwork:
    """The network with only the edges where ``keep`` is true (nodes unchanged)."""
    idx = np.flatnonzero(keep)
    counts = np.diff(net.edge_offsets)[idx]
    offsets = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    starts = np.repeat(net.edge_offsets[idx] - offsets[:-1], counts)
    coords = net.edge_coords[starts + np.arange(offsets[-1])]
    return dataclasses.replace(
        net, edge_u=net.edge_u[idx], edge_v=net.edge_v[idx], edge_length=net.edge_length[idx],
        edge_coords=coords, edge_offsets=offsets, _geoms=None, _tree=None, _components=None,
        _base_csr=None,
    )


from planner.terrain.setting import Terrain, load_terrain  # noqa: E402  (uses terrain_network)
