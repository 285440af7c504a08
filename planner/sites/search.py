"""Recommended sites: from an assessed scenario and candidates to chosen sites.

:func:`recommend_sites` searches the candidates' circles once, builds the model
(:mod:`planner.sites.problem`), solves it with HiGHS and with the greedy heuristic, and
checks the choice by adding the sites to the scenario and assessing it again with the
planner's own 2SFCA: the households it reports are the planner's, not the model's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._errors import InputError
from planner.scenarios import Scenario, ScenarioResult
from planner.sites.local import local_search
from planner.sites.problem import MODELS, SiteProblem, Solution, best_of, greedy, solve

log = logging.getLogger("planner")

#: Floor area of a new site when neither the candidate, the caller nor the profile gives
#: one (m²): Wanzhou's minimum for a community station (002 item 13), an assumption
#: elsewhere.
DEFAULT_SITE_M2 = 300.0
#: Prefix of candidate ids while they are searched (keeps them apart from facility ids).
_PROBE = "candidate:"
#: Largest floor area the capacity model may give one site (m²), unless told.
DEFAULT_MAX_SITE_M2 = 1000.0


@dataclass
class SiteSearch:
    """The result of a site search.

    Attributes
    ----------
    model, k
        The model and the number of sites asked for.
    sites
        The chosen sites (metric CRS), indexed by ``candidate_id``: ``kind``,
        ``floor_area_m2``, ``households_within`` (in its circle), ``communities_won`` and
        ``households_won`` (communities newly covered or brought to standard, each
        credited to the chosen site that gives it most), ``rank`` (1 = most households).
    solution, greedy
        The optimiser's and the greedy heuristic's :class:`~planner.sites.problem.Solution`.
        ``solution`` is the better of HiGHS's choice and the local search's
        (:mod:`planner.sites.local`, from greedy's) when HiGHS stops at its time limit.
    local
        The local search's :class:`~planner.sites.problem.Solution` (greedy's for the
        models it does not search: ``capacity``, ``cover``).
    curve
        Trade-off: one row per k: ``k``, ``households_optimal``, ``bound``, ``gap``,
        ``status``, ``households_greedy``, ``households_local_search``, ``seconds``.
    before, after
        The scenario assessed without and with the chosen sites (the planner's 2SFCA).
    verified_households
        Households newly covered (``coverage``/``cover``) or newly meeting the standard
        (``standard``/``capacity``) in ``after`` against ``before``.
    unreachable
        Target communities that no candidate's circle reaches (``cover`` leaves them out).
    stats
        Sizes of the model: candidates, targets, pairs.
    """

    model: str
    k: int | None
    sites: gpd.GeoDataFrame
    solution: Solution
    greedy: Solution
    curve: pd.DataFrame
    before: ScenarioResult
    after: ScenarioResult
    verified_households: int
    unreachable: pd.Index
    stats: dict[str, Any] = field(default_factory=dict)
    local: Solution | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures: objective, bound, gap, status, greedy, verification."""
        s, g = self.solution, self.greedy
        return {
            "model": self.model, "k": self.k, "sites": len(self.sites),
            "objective": s.objective, "bound": s.bound, "gap": s.gap, "status": s.status,
            "optimal": s.optimal, "seconds": round(s.seconds, 3),
            "greedy_objective": g.objective, "greedy_seconds": round(g.seconds, 3),
            "local_search_objective": (self.local or g).objective,
            "local_search_seconds": round((self.local or g).seconds, 3),
            "verified_households": self.verified_households,
            "floor_area_m2": float(self.sites["floor_area_m2"].sum()),
            "targets_unreachable": len(self.unreachable), **self.stats,
        }


def candidate_pairs(scenario: Scenario, candidates: gpd.GeoDataFrame) -> pd.DataFrame:
    """``candidate_id, community_id, distance_m`` within each community's circle.

    The candidates are added to a copy of the scenario's reach core
    (:class:`planner.reach.StudyGraph`), which searches from them only.
    """
    comm = scenario.result().communities
    graph = scenario.graph.copy()
    probes = gpd.GeoDataFrame(geometry=candidates.geometry.to_numpy(), crs=candidates.crs,
                              index=pd.Index([f"{_PROBE}{i}" for i in candidates.index]))
    pairs = graph.add_facilities(probes)
    pairs["facility_id"] = pairs["facility_id"].str.slice(len(_PROBE))
    budget = (comm["circle_minutes"] * 60.0 * scenario.speed_m_s).reindex(pairs["community_id"])
    pairs = pairs[pairs["distance_m"].to_numpy() <= budget.to_numpy()]
    return pairs.rename(columns={"facility_id": "candidate_id"}).reset_index(drop=True)


def build_problem(
    result: ScenarioResult,
    candidates: gpd.GeoDataFrame,
    pairs: pd.DataFrame,
    *,
    model: str,
    size_m2: float | None = None,
    max_m2: float | None = None,
    min_by_kind: dict[str, float] | None = None,
) -> tuple[SiteProblem, pd.Index]:
    """The model's numbers from the assessed scenario and the candidates' circles.

    Returns the problem and the target communities no candidate reaches.
    """
    if model not in MODELS:
        msg = f"unknown site model {model!r}; use one of {', '.join(MODELS)}."
        raise InputError(msg)
    comm = result.communities
    status = comm["service_status"]
    wanted = status.eq("uncovered") if model in ("coverage", "cover") else status.isin(
        ["uncovered", "below_standard"])
    targets = comm[wanted]
    hh = comm["households"].astype(float)
    circle_hh = pairs.groupby("candidate_id")["community_id"].agg(
        lambda ids: hh.reindex(ids).sum())
    tp = pairs[pairs["community_id"].isin(targets.index)]
    cand_ids = pd.Index(sorted(set(tp["candidate_id"]), key=list(candidates.index).index))
    reached = targets.index.isin(tp["community_id"])
    unreachable = targets.index[~reached]
    targets = targets[reached]
    rows = targets.index.get_indexer(tp["community_id"])
    cols = cand_ids.get_indexer(tp["candidate_id"])
    import scipy.sparse as sp  # noqa: PLC0415

    cover = sp.csr_matrix((np.ones(len(tp)), (rows, cols)), shape=(len(targets), len(cand_ids)))
    cover.sum_duplicates()
    cover.data[:] = 1.0
    cand = candidates.loc[cand_ids]
    mins = min_by_kind or {}
    kind_min = cand["kind"].map(lambda k: mins.get(k, DEFAULT_SITE_M2)).to_numpy(dtype=float)
    fixed = np.full(len(cand), float(size_m2)) if size_m2 else kind_min.copy()
    if "floor_area_m2" in cand:
        given = cand["floor_area_m2"].to_numpy(dtype=float)
        fixed = np.where(np.isfinite(given), given, fixed)
    top = np.full(len(cand), float(max_m2 or DEFAULT_MAX_SITE_M2))
    if "max_floor_area_m2" in cand:
        given = cand["max_floor_area_m2"].to_numpy(dtype=float)
        top = np.where(np.isfinite(given), given, top)
    top = np.maximum(top, kind_min)
    deficit = np.zeros(len(targets))
    if model in ("standard", "capacity"):
        deficit = (targets["required_m2_per_100hh"] - targets["accessible_m2_per_100hh"]).to_numpy(
            dtype=float)
    problem = SiteProblem(model, cand_ids.to_numpy(), targets.index.to_numpy(),
                          targets["households"].to_numpy(dtype=float), deficit, cover,
                          circle_hh.reindex(cand_ids).to_numpy(dtype=float), fixed, kind_min, top)
    return problem, unreachable


def recommend_sites(
    scenario: Scenario,
    candidates: gpd.GeoDataFrame,
    *,
    k: int | None = 10,
    model: str = "standard",
    size_m2: float | None = None,
    max_m2: float | None = None,
    curve: bool = True,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> SiteSearch:
    """Choose up to ``k`` new sites among ``candidates``; existing facilities stay.

    Parameters
    ----------
    scenario
        The assessed district (its baseline or any scenario).
    candidates
        Indexed by ``candidate_id`` with ``kind`` and points (any CRS); optional
        ``floor_area_m2`` (fixed size) and ``max_floor_area_m2``.
    k
        Number of new sites (``cover`` finds the fewest instead).
    model
        ``coverage`` (households newly within a circle), ``standard`` (households newly
        meeting the floor-area standard, sites of fixed size), ``capacity`` (the same with
        each site sized between its kind's minimum and ``max_m2``) or ``cover``.
    size_m2
        Size of every site (m²) for the fixed-size models; default the profile's minimum
        for the kind, or :data:`DEFAULT_SITE_M2`.
    max_m2
        Largest size of one site for ``capacity`` (m²), default :data:`DEFAULT_MAX_SITE_M2`.
    curve
        Also solve k = 1 … k for the trade-off curve.
    time_limit_s, mip_rel_gap
        Passed to HiGHS for each solve.
    """
    if model != "cover" and (k is None or k < 1):
        msg = f"give the number of sites k as a positive integer (got {k})."
        raise InputError(msg)
    candidates = candidates.to_crs(scenario.net.pyproj_crs)
    before = scenario.result()
    pairs = candidate_pairs(scenario, candidates)
    # true minimum sizes only: a subsidy threshold (Wanzhou's 1,500 / 800 m²) is no minimum
    mins = {kind: rule.min_m2 for kind, rule in scenario.profile.facility_min_m2.items()
            if rule.is_minimum}
    problem, unreachable = build_problem(before, candidates, pairs, model=model, size_m2=size_m2,
                                         max_m2=max_m2, min_by_kind=mins)
    stats = {"candidates": len(candidates), "candidates_useful": len(problem.candidate_ids),
             "targets": len(problem.target_ids), "pairs": len(pairs)}
    log.info("sites: %s candidates (%s reach a target community), %s target communities, "
             "%s candidate-community pairs", *(f"{v:,}" for v in stats.values()))
    heuristic = greedy(problem, k)
    improved = local_search(problem, k, heuristic)
    best = best_of(solve(problem, k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap),
                   improved, model)
    table = _curve(problem, k, best, heuristic, improved, curve=curve,
                   time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    chosen = candidates.loc[problem.candidate_ids[best.chosen]].copy()
    chosen["floor_area_m2"] = best.sizes_m2
    after = _with_sites(scenario, chosen).result()
    verified = _verified(before, after, model)
    sites = _site_table(problem, best, chosen, pairs, before)
    return SiteSearch(model, k, sites, best, heuristic, table, before, after, verified,
                      unreachable, stats, improved)


def _curve(problem: SiteProblem, k: int | None, best: Solution, heuristic: Solution,
           improved: Solution, *, curve: bool, time_limit_s: float,
           mip_rel_gap: float) -> pd.DataFrame:
    rows = []
    if problem.model == "cover" or k is None:
        ks: list[int] = []
    else:
        ks = list(range(1, k)) if curve else []
    for kk in ks:
        g = greedy(problem, kk)
        ls = local_search(problem, kk, g)
        s = best_of(solve(problem, kk, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap), ls,
                    problem.model)
        rows.append(_curve_row(kk, s, g, ls))
    rows.append(_curve_row(len(best.chosen) if k is None else k, best, heuristic, improved))
    return pd.DataFrame(rows)


def _curve_row(k: int, s: Solution, g: Solution, ls: Solution) -> dict[str, Any]:
    return {"k": int(k), "households_optimal": int(s.objective),
            "bound": float(np.floor(s.bound + 1e-6)) if np.isfinite(s.bound) else s.bound,
            "gap": round(s.gap, 6), "status": s.status, "households_greedy": int(g.objective),
            "households_local_search": int(ls.objective),
            "seconds": round(s.seconds, 3)}


def _with_sites(scenario: Scenario, chosen: gpd.GeoDataFrame) -> Scenario:
    new = chosen[["kind", "floor_area_m2", chosen.geometry.name]].copy()
    new["status"] = "existing"
    new.index = pd.Index([f"site_{i}" for i in chosen.index], name="facility_id")
    clash = new.index.intersection(scenario.facilities.index)
    if len(clash):
        new.index = pd.Index([f"{i}_new" for i in new.index], name="facility_id")
    return scenario.add_facilities(new, name=f"{scenario.name} + {len(new)} sites")


def _verified(before: ScenarioResult, after: ScenarioResult, model: str) -> int:
    b = before.communities["service_status"]
    a = after.communities["service_status"].reindex(b.index)
    hh = before.communities["households"]
    if model in ("coverage", "cover"):
        return int(hh[b.eq("uncovered") & a.ne("uncovered")].sum())
    return int(hh[b.ne("meets") & a.eq("meets")].sum())


def _site_table(problem: SiteProblem, best: Solution, chosen: gpd.GeoDataFrame,
                pairs: pd.DataFrame, before: ScenarioResult) -> gpd.GeoDataFrame:
    hh = before.communities["households"]
    sizes = pd.Series(best.sizes_m2, index=chosen.index)
    within = pairs[pairs["candidate_id"].isin(chosen.index)]
    circle_hh = within.groupby("candidate_id")["community_id"].agg(
        lambda ids: hh.reindex(ids).sum())
    won_ids = problem.target_ids[best.won]
    credit = within[within["community_id"].isin(won_ids)].copy()
    # each community won is credited to the chosen site giving it most m² per 100 households
    credit["gain"] = 100 * sizes.reindex(credit["candidate_id"]).to_numpy() / circle_hh.reindex(
        credit["candidate_id"]).to_numpy()
    credit = credit.sort_values(["community_id", "gain", "distance_m"],
                                ascending=[True, False, True]).drop_duplicates("community_id")
    credit["households"] = hh.reindex(credit["community_id"]).to_numpy()
    by_site = credit.groupby("candidate_id")
    out = chosen.copy()
    out["households_within"] = circle_hh.reindex(out.index).fillna(0).astype(int)
    out["communities_won"] = by_site.size().reindex(out.index).fillna(0).astype(int)
    out["households_won"] = by_site["households"].sum().reindex(out.index).fillna(0).astype(int)
    out = out.sort_values("households_won", ascending=False)
    out["rank"] = np.arange(1, len(out) + 1)
    return out

