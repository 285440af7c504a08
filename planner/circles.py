"""Former home of the reach adapter; kept so that existing imports keep working.

Use :mod:`planner.reach` (``ReachParams``, ``compute_reach``, ``community_access``,
``StudyGraph``) in new code.
"""

from __future__ import annotations

from planner.reach.adapter import ReachResult, compute_reach
from planner.reach.params import DEFAULT_SPEED_M_S, ReachParams
from planner.reach.snapping import community_access

__all__ = ["DEFAULT_SPEED_M_S", "ReachParams", "ReachResult", "community_access", "compute_reach"]
