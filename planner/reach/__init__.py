"""The reach engine: walking distances on a compiled network, as a long cost table.

Modules, low to high:

* :mod:`planner.reach.snapping`: where points join the network (:class:`AccessPoints`).
* :mod:`planner.reach.graph` and :mod:`planner.reach.search`: the network split at every
  access point and bounded ``scipy.sparse.csgraph.dijkstra`` searches on it.
* :mod:`planner.reach.pairs`: points on edges and exact lengths (a 2⁻²⁰ m grid), so
  searches need not split the network; :mod:`planner.reach.walks`: those searches
  (bounded per-source walks and the multi-source nearest), used by the study graph.
* :mod:`planner.reach.costs`: the cost-table contract and :func:`validate_costs`.
* :mod:`planner.reach.study`: :class:`StudyGraph`, the reusable study-area graph with
  incremental ``add_facilities`` / ``add_communities``.
* :mod:`planner.reach.adapter`: the GeoDataFrame side (:func:`compute_reach`).

Distances are metres along the network plus the straight off-road walk from each point
to its snapped position. Minutes are metres / (speed in m/s × 60), computed in one place
(:class:`ReachParams`).
"""

from __future__ import annotations

from planner.network.store import CompiledNetwork, compile_arrays, compile_graph
from planner.reach.adapter import ReachResult, compute_reach
from planner.reach.costs import COST_COLUMNS, circle_pairs, empty_costs, validate_costs
from planner.reach.graph import END_TOLERANCE_M, GROUP_CELL_M, ReachGraph, build_reach_graph
from planner.reach.params import DEFAULT_SPEED_M_S, ReachParams
from planner.reach.search import (
    BATCH_BYTES,
    CircleBatch,
    circle_distances,
    circle_searches,
    facility_batches,
    nearest_facility,
    spans,
)
from planner.reach.snapping import (
    SNAP_FIRST_RADIUS_M,
    AccessPoints,
    boundary_access,
    community_access,
    snap_points,
)
from planner.reach.study import StudyGraph

__all__ = [
    "BATCH_BYTES",
    "COST_COLUMNS",
    "DEFAULT_SPEED_M_S",
    "END_TOLERANCE_M",
    "GROUP_CELL_M",
    "SNAP_FIRST_RADIUS_M",
    "AccessPoints",
    "CircleBatch",
    "CompiledNetwork",
    "ReachGraph",
    "ReachParams",
    "ReachResult",
    "StudyGraph",
    "boundary_access",
    "build_reach_graph",
    "circle_distances",
    "circle_pairs",
    "circle_searches",
    "community_access",
    "compile_arrays",
    "compile_graph",
    "compute_reach",
    "empty_costs",
    "facility_batches",
    "nearest_facility",
    "snap_points",
    "spans",
    "validate_costs",
]
