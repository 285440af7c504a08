"""Scenarios: what changes if facilities, communities or walking speed change.

A facility added, moved, resized or closed, a project that arrives, people who walk
slower: only what changed is recomputed.

See :class:`Scenario` (edits), :func:`compare` (tables of differences),
:func:`read_changes` / :func:`apply_changes` (a table of changes, as ``planner run
--scenario`` reads it) and :func:`before_after_map`.
"""

from __future__ import annotations

from planner.scenarios.changes import apply_changes, read_changes
from planner.scenarios.compare import Comparison, compare
from planner.scenarios.evaluate import ScenarioResult, evaluate
from planner.scenarios.maps import before_after_map
from planner.scenarios.quick import QuickResult
from planner.scenarios.scenario import Scenario

__all__ = ["Comparison", "QuickResult", "Scenario", "ScenarioResult", "apply_changes",
           "before_after_map", "compare", "evaluate", "read_changes"]
