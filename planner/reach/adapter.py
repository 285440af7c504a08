"""The GeoDataFrame side of the reach core: tables keyed by the planners' ids.

:func:`compute_reach` builds a :class:`~planner.reach.StudyGraph` for a district and
returns, per community, its access points, snapping distance, network component and
nearest facility (overall and per kind), per facility its snapping, and the cost table
up to the largest circle. Walking-circle polygons are not built here: they are display
geometry, made only when an output needs them (:func:`planner.isochrones.facility_circles`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.network.store import CompiledNetwork
from planner.reach.costs import circle_pairs
from planner.reach.params import DEFAULT_SPEED_M_S, ReachParams
from planner.reach.study import StudyGraph

log = logging.getLogger("planner")


@dataclass
class ReachResult:
    """What the reach stage hands to the metrics and the outputs.

    Attributes
    ----------
    communities
        Indexed by ``community_id``: ``access_points`` (int), ``snap_distance_m``,
        ``network_component`` (0 = the main network, -1 = not connected),
        ``circle_minutes``, ``nearest_facility_id``, ``nearest_minutes`` and
        ``nearest_minutes_<kind>`` for each facility kind present.
    facilities
        Indexed by ``facility_id``: ``snap_distance_m``, ``network_component``.
    costs
        ``facility_id, community_id, distance_m, minutes`` of every pair within the
        community's own circle (:func:`planner.reach.costs.circle_pairs`).
    study
        The study graph: ``study.costs`` is the cost table up to the largest circle,
        for what-ifs on minutes or speed, scenarios and drawing circles.
    speed_m_s
        The walking speed the minutes were computed with (metres per second).
    """

    communities: pd.DataFrame
    facilities: pd.DataFrame
    costs: pd.DataFrame
    study: StudyGraph
    speed_m_s: float = DEFAULT_SPEED_M_S


def compute_reach(
    net: CompiledNetwork,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    circle_minutes: np.ndarray,
    params: ReachParams,
    gates: gpd.GeoDataFrame | None = None,
    nearest_kinds: set[str] | None = None,
) -> ReachResult:
    """Minutes from every community to the facilities, and the pairs within circles.

    Parameters
    ----------
    net
        Compiled network in the same metric CRS as the layers.
    communities
        Indexed by ``community_id``; polygon or point geometry.
    facilities
        Indexed by ``facility_id``; ``kind`` and point geometry.
    circle_minutes
        Each community's circle in minutes (15 urban, 25 rural in some profiles); the
        cost table reaches the largest of them at ``params.speed_m_s``.
    params
        Walking speed (m/s), snapping distances (m) and the nearest-facility limit
        (minutes).
    gates
        Gates of gated communities (points with ``community_id``).
    nearest_kinds
        Kinds that count for ``nearest_facility_id``/``nearest_minutes`` (default: all);
        ``nearest_minutes_<kind>`` is given for every kind.

    Returns
    -------
    ReachResult
    """
    minutes = np.asarray(circle_minutes, dtype=float)
    max_m = float(params.metres(minutes.max())) if len(minutes) else 0.0
    sg = StudyGraph.build(
        net, communities, facilities, gates=gates, max_distance_m=max_m,
        snap_max_m=params.snap_max_m, boundary_access_m=params.boundary_access_m,
        nearest_limit_m=float(params.metres(params.report_limit_minutes)),
    )
    out = sg.communities.copy()
    out["circle_minutes"] = minutes
    kinds = facilities["kind"].to_numpy()
    counted = set(nearest_kinds) if nearest_kinds else set(kinds)
    best_d = np.full(len(out), np.inf)
    best_f = np.full(len(out), None, dtype=object)
    for kind in pd.unique(kinds):
        near = sg.nearest(kinds=[kind])
        d = near["distance_m"].to_numpy(dtype=float)
        out[f"nearest_minutes_{kind}"] = params.minutes(d)
        if kind in counted:  # the nearest of all counted kinds is the best of the kinds
            better = d < best_d  # NaN (none within the limit) is never better
            best_d[better], best_f[better] = d[better], near["facility_id"].to_numpy()[better]
    out["nearest_facility_id"] = best_f
    out["nearest_minutes"] = np.where(np.isfinite(best_d), params.minutes(best_d), np.nan)
    per_kind = [c for c in out.columns if c.startswith("nearest_minutes_")]
    out = out[[c for c in out.columns if c not in per_kind] + per_kind]
    fac = sg.facilities[["snap_distance_m", "network_component"]].copy()
    log.info("reach: %s communities, %s facilities, %s pairs within %.0f m",
             f"{len(out):,}", f"{len(fac):,}", f"{len(sg.costs):,}", max_m)
    costs = circle_pairs(sg.costs, out["circle_minutes"], speed_m_s=params.speed_m_s)
    return ReachResult(out, fac, costs, sg, params.speed_m_s)
