"""Scenarios: what changes if a facility is added, moved, resized or closed, a project
arrives, or people walk slower; recomputing only what changed.

See :class:`Scenario` (edits), :func:`compare` (tables of differences),
:func:`read_changes` / :func:`apply_changes` (a table of changes, as ``planner run
--scenario`` reads it) and :func:`before_after_map`.
"""

from __future__ import annotations

from planner.scenarios.compare import Comparison, compare
from planner.scenarios.evaluate import ScenarioResult, evaluate
from planner.scenarios.scenario import Scenario

__all__ = ["Comparison", "Scenario", "ScenarioResult", "compare", "evaluate"]
