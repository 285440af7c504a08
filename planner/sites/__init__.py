"""Recommended sites: where new facilities bring the most households to standard.

Candidates come from a file (:func:`read_candidates`, e.g. idle public buildings) or are
generated on the network (:func:`grid_candidates`). :func:`recommend_sites` solves a
maximal-coverage, standard, capacity-aware or set-cover model with HiGHS
(``scipy.optimize.milp``), compares it with a greedy heuristic and a local search from
greedy's choice (:func:`local_search`, kept when HiGHS stops at its time limit with a worse
choice), and verifies the choice with the planner's own assessment.
"""

from __future__ import annotations

from planner.sites.candidates import grid_candidates, read_candidates
from planner.sites.local import local_search
from planner.sites.problem import MODELS, SiteProblem, Solution, greedy, solve
from planner.sites.search import SiteSearch, build_problem, candidate_pairs, recommend_sites

__all__ = ["MODELS", "SiteProblem", "SiteSearch", "Solution", "build_problem",
           "candidate_pairs", "greedy", "grid_candidates", "local_search", "read_candidates",
           "recommend_sites", "solve"]
