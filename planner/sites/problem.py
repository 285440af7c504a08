"""Site selection as a mixed-integer programme, solved by HiGHS (``scipy.optimize.milp``).

Notation: candidates *j* (new sites), target communities *i* with households *h_i*;
*N_i* the candidates whose walking circle holds *i*; *H_j* the households inside *j*'s
circle (every community, also those already meeting the standard: the 2SFCA shares a
site's floor area among all of them). Existing facilities stay as they are. A new site
of floor area *s_j* adds *100 s_j / H_j* m² per 100 households to every community in its
circle and changes no existing facility's share, so the gains of new sites add up
exactly as :mod:`planner.coverage` computes them.

Models (``y_j`` = 1 if site *j* is chosen, ``z_i`` = 1 if target *i* is won):

``coverage`` (maximal coverage, MCLP)
    max Σ h_i z_i  s.t.  z_i ≤ Σ_{j∈N_i} y_j,  Σ y_j ≤ k; targets: uncovered communities.
``standard`` (newly meeting the standard, sites of fixed size s_j)
    max Σ h_i z_i  s.t.  d_i z_i ≤ Σ_{j∈N_i} (100 s_j / H_j) y_j,  Σ y_j ≤ k;
    targets: communities short of the standard by d_i m² per 100 households. Each gain
    is capped at d_i, and ``m_i z_i ≤ Σ_{j∈N_i} y_j`` with *m_i* the fewest sites that can
    reach d_i (:func:`sites_needed`) tightens the relaxation (on the 131k-node benchmark
    the LP bound falls from 84,026 to 78,201 households).
``capacity`` (as ``standard``, each site sized between its kind's minimum and a maximum)
    s_j continuous with min_j y_j ≤ s_j ≤ max_j y_j, d_i z_i ≤ Σ (100 / H_j) s_j; the
    objective also subtracts a tiny cost per m² (under one household in total), so among
    equally good plans the one with the least floor area is chosen.
``cover`` (set cover, LSCP)
    min Σ y_j  s.t.  Σ_{j∈N_i} y_j ≥ 1 for every uncovered community some candidate reaches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from planner.coverage import TOLERANCE_M2_PER_100HH

#: The models :func:`solve` knows.
MODELS = ("coverage", "standard", "capacity", "cover")
#: A community meets the standard within this margin (m² per 100 households), as in
#: :mod:`planner.coverage`; HiGHS keeps its constraints to 1e-7, well inside it.
TOLERANCE = TOLERANCE_M2_PER_100HH


@dataclass
class SiteProblem:
    """The numbers a site model needs.

    Attributes
    ----------
    model
        One of :data:`MODELS`.
    candidate_ids, target_ids
        Ids of the candidates (columns) and target communities (rows).
    households
        Households of each target.
    deficit
        m² per 100 households each target lacks (``standard``/``capacity``; 0 otherwise).
    cover
        Sparse ``(targets, candidates)``: 1 where the target lies in the candidate's circle.
    circle_households
        ``H_j``: households in each candidate's circle (all communities).
    size_m2, min_m2, max_m2
        Fixed size (``coverage``/``standard``/``cover``) and bounds (``capacity``) of each
        candidate, m².
    """

    model: str
    candidate_ids: np.ndarray
    target_ids: np.ndarray
    households: np.ndarray
    deficit: np.ndarray
    cover: sp.csr_matrix
    circle_households: np.ndarray
    size_m2: np.ndarray
    min_m2: np.ndarray
    max_m2: np.ndarray

    @property
    def gain_per_m2(self) -> sp.csr_matrix:
        """m² per 100 households gained by each target per m² of each candidate."""
        return (self.cover @ sp.diags(100.0 / self.circle_households)).tocsr()

    @property
    def gain(self) -> sp.csr_matrix:
        """m² per 100 households gained by each target from each candidate at ``size_m2``."""
        return (self.cover @ sp.diags(100.0 * self.size_m2 / self.circle_households)).tocsr()


@dataclass
class Solution:
    """Chosen sites and how good the choice is.

    Attributes
    ----------
    chosen
        Positions of the chosen candidates.
    sizes_m2
        Floor area of each chosen site (m²).
    won
        Boolean per target: covered (``coverage``/``cover``) or brought to standard.
    objective
        Households won (``coverage``/``standard``/``capacity``) or sites (``cover``).
    bound
        Best bound the solver proved (households at most / sites at least); equal to
        ``objective`` when optimal. Greedy solutions have no bound (NaN).
    gap
        ``|bound - objective| / |bound|`` (0 when optimal).
    status
        ``optimal``, ``time limit`` (best found, with its gap), ``greedy`` or the solver's
        message.
    seconds
        Wall-clock time of the solve.
    """

    chosen: np.ndarray
    sizes_m2: np.ndarray
    won: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float

    @property
    def optimal(self) -> bool:
        """True when the solver proved the choice optimal (within its tolerance)."""
        return self.status == "optimal"


def won_targets(problem: SiteProblem, chosen: np.ndarray, sizes_m2: np.ndarray) -> np.ndarray:
    """Which targets the chosen sites (at these sizes) cover or bring to standard."""
    n = len(problem.candidate_ids)
    if problem.model in ("coverage", "cover"):
        pick = np.zeros(n)
        pick[chosen] = 1.0
        return problem.cover @ pick > 0.5
    s = np.zeros(n)
    s[chosen] = sizes_m2
    got = problem.gain_per_m2 @ s
    return (got > 0) & (got + TOLERANCE >= problem.deficit)


def sites_needed(problem: SiteProblem) -> np.ndarray:
    """Fewest sites that can bring each target to standard (``standard``/``capacity``).

    The smallest *m_i* whose *m_i* largest gains (each site at its fixed size, or at its
    maximum for ``capacity``) reach the deficit; ``len(N_i) + 1`` where even all of them
    fall short, and 1 for ``coverage``/``cover``. Gives the valid cut
    ``m_i z_i <= Σ_{j∈N_i} y_j``, tighter than ``z_i <= Σ y_j``: with sites of about equal
    gain it is the convex hull of one community's choices.
    """
    m = len(problem.target_ids)
    if problem.model in ("coverage", "cover"):
        return np.ones(m)
    size = problem.max_m2 if problem.model == "capacity" else problem.size_m2
    gain = (problem.gain_per_m2 @ sp.diags(size)).tocsr()
    out = np.ones(m)
    for i in range(m):
        row = np.sort(gain.data[gain.indptr[i]:gain.indptr[i + 1]])[::-1]
        out[i] = np.searchsorted(np.cumsum(row) + TOLERANCE, problem.deficit[i]) + 1
    return out


def winnable(problem: SiteProblem, k: int) -> np.ndarray:
    """Targets that ``k`` sites could win at all (the ``k`` largest gains reach the deficit).

    The others get no weight in the model, which lets HiGHS drop them in presolve.
    """
    if problem.model in ("coverage", "cover"):
        return np.ones(len(problem.target_ids), dtype=bool)
    size = problem.max_m2 if problem.model == "capacity" else problem.size_m2
    gain = (problem.gain_per_m2 @ sp.diags(size)).tocsr()
    best = np.zeros(gain.shape[0])
    for i in range(gain.shape[0]):
        row = gain.data[gain.indptr[i]:gain.indptr[i + 1]]
        best[i] = np.sort(row)[::-1][:k].sum()
    return best + TOLERANCE >= problem.deficit


def dominated(problem: SiteProblem, k: int | None) -> np.ndarray:
    """Candidates that an optimal choice never needs (exact reduction).

    Candidate *j* is dominated by *j'* when every target *j* can win is in *j'*'s circle
    and *j'* gives each at least as much (``coverage``/``cover``: any; ``standard``: a
    gain 100 s/H at least as large), ties broken by position so that the relation has no
    cycles. For ``coverage`` and ``cover`` one dominator suffices: *j* adds nothing that
    *j'* does not. For ``standard``, whose gains add up, *j* is dropped only when at
    least ``k`` candidates dominate it: a choice of k sites holding *j* then misses one
    of them, and swapping *j* for it loses nothing. Candidates reaching no (winnable)
    target are dropped too. ``capacity`` is not reduced.
    """
    n = len(problem.candidate_ids)
    if problem.model == "capacity":
        return np.zeros(n, dtype=bool)
    rows = winnable(problem, k or n)
    a = problem.cover.tocsc()[rows].astype(np.float64)
    cnt = np.asarray(a.sum(axis=0)).ravel()
    if problem.model == "standard":
        g = problem.size_m2 / problem.circle_households
    else:
        g = np.zeros(n)
    both = (a.T @ a).tocoo()
    j, j2 = both.row, both.col
    same = both.data == cnt[j2]
    better = (j != j2) & (both.data == cnt[j]) & (g[j2] >= g[j]) & (
        ~same | (g[j2] > g[j]) | (j2 < j))
    need = 1 if problem.model in ("coverage", "cover") else max(1, int(k or n))
    return (np.bincount(j[better], minlength=n) >= need) | (cnt == 0)


def solve(problem: SiteProblem, k: int | None, *, time_limit_s: float = 60.0,
          mip_rel_gap: float = 1e-4) -> Solution:
    """Solve the model exactly (or to ``mip_rel_gap``) with HiGHS.

    The candidates an optimal choice never needs (:func:`dominated`) and the targets no
    k sites can win (:func:`winnable`) are dropped first.
    """
    keep = np.flatnonzero(~dominated(problem, k))
    rows = np.flatnonzero(winnable(problem, k or len(problem.candidate_ids)))
    if len(keep) == 0 or len(rows) == 0:  # nothing any candidate can win
        none = np.zeros(0, dtype=np.int64)
        return Solution(none, np.zeros(0), np.zeros(len(problem.target_ids), dtype=bool), 0.0,
                        0.0, 0.0, "optimal", 0.0)
    small = _subset(problem, keep, rows)
    sol = _solve(small, k, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    chosen = keep[sol.chosen]
    won = won_targets(problem, chosen, sol.sizes_m2)
    objective = sol.objective if problem.model == "cover" else float(
        problem.households[won].sum())
    return Solution(chosen, sol.sizes_m2, won, objective, sol.bound, sol.gap, sol.status,
                    sol.seconds)


def _subset(problem: SiteProblem, cols: np.ndarray, rows: np.ndarray) -> SiteProblem:
    return SiteProblem(problem.model, problem.candidate_ids[cols], problem.target_ids[rows],
                       problem.households[rows], problem.deficit[rows],
                       problem.cover.tocsr()[rows][:, cols].tocsr(),
                       problem.circle_households[cols], problem.size_m2[cols],
                       problem.min_m2[cols], problem.max_m2[cols])


def _solve(problem: SiteProblem, k: int | None, *, time_limit_s: float = 60.0,
           mip_rel_gap: float = 1e-4) -> Solution:
    """The model as HiGHS solves it.

    Parameters
    ----------
    problem
        From :func:`planner.sites.search.build_problem`.
    k
        Number of new sites (ignored by ``cover``).
    time_limit_s
        Stop after this many seconds with the best solution found and its gap.
    mip_rel_gap
        Relative gap at which HiGHS stops (1e-4 = 0.01 %).
    """
    start = time.perf_counter()
    n, m = len(problem.candidate_ids), len(problem.target_ids)
    a = problem.cover
    if problem.model == "cover":
        res = milp(np.ones(n), constraints=[LinearConstraint(a, lb=1.0, ub=np.inf)],
                   integrality=np.ones(n), bounds=Bounds(0, 1),
                   options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap})
        return _solution(problem, res, n, start, minimise=True)
    assert k is not None
    h = np.where(winnable(problem, k), problem.households.astype(float), 0.0)
    pick_k = sp.hstack([sp.csr_matrix(np.ones((1, n))), sp.csr_matrix((1, m))])
    if problem.model == "coverage":
        c = np.r_[np.zeros(n), -h]
        rows = sp.hstack([-a, sp.identity(m)])
        cons = [LinearConstraint(rows, -np.inf, 0.0), LinearConstraint(pick_k, 0, k)]
        integrality = np.r_[np.ones(n), np.zeros(m)]  # z_i = min(1, Σ y) at the optimum
        bounds = Bounds(0, 1)
    elif problem.model == "standard":
        c = np.r_[np.zeros(n), -h]
        need = problem.deficit
        # coefficient tightening: one site never needs to give more than the whole deficit
        gain = problem.gain.tocoo()
        capped = sp.csr_matrix((np.minimum(gain.data, need[gain.row]), (gain.row, gain.col)),
                               shape=gain.shape)
        rows = sp.hstack([-capped, sp.diags(need)])
        reach = sp.hstack([-a, sp.diags(sites_needed(problem))])  # m_i z_i <= Σ y_j
        cons = [LinearConstraint(rows, -np.inf, 0.0), LinearConstraint(reach, -np.inf, 0.0),
                LinearConstraint(pick_k, 0, k)]
        integrality = np.ones(n + m)
        bounds = Bounds(0, 1)
    else:  # capacity: x = [y, z, s]
        eps = 0.5 / max(1.0, k * float(problem.max_m2.max(initial=1.0)))
        c = np.r_[np.zeros(n), -h, np.full(n, eps)]
        d = sp.diags(problem.deficit)
        rows = sp.hstack([sp.csr_matrix((m, n)), d, -problem.gain_per_m2])
        eye = sp.identity(n)
        upper = sp.hstack([-sp.diags(problem.max_m2), sp.csr_matrix((n, m)), eye])
        lower = sp.hstack([sp.diags(problem.min_m2), sp.csr_matrix((n, m)), -eye])
        reach = sp.hstack([-a, sp.diags(sites_needed(problem)),  # m_i z_i <= Σ y_j
                           sp.csr_matrix((m, n))])
        cons = [LinearConstraint(rows, -np.inf, 0.0), LinearConstraint(upper, -np.inf, 0.0),
                LinearConstraint(lower, -np.inf, 0.0), LinearConstraint(reach, -np.inf, 0.0),
                LinearConstraint(sp.hstack([pick_k, sp.csr_matrix((1, n))]), 0, k)]
        integrality = np.r_[np.ones(n + m), np.zeros(n)]
        bounds = Bounds(np.zeros(2 * n + m), np.r_[np.ones(n + m), problem.max_m2])
    res = milp(c, constraints=cons, integrality=integrality, bounds=bounds,
               options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap})
    return _solution(problem, res, n, start, minimise=False)


def _solution(problem: SiteProblem, res: object, n: int, start: float, *,
              minimise: bool) -> Solution:
    seconds = time.perf_counter() - start
    x = getattr(res, "x", None)
    if x is None and getattr(res, "status", -1) == 1:  # time limit before a first solution
        none = np.zeros(0, dtype=np.int64)
        trivial = 1.0 if minimise else float(problem.households.sum())  # sites / households
        return Solution(none, np.zeros(0), np.zeros(len(problem.target_ids), dtype=bool), 0.0,
                        trivial, 1.0, "time limit", seconds)
    if x is None:
        msg = f"the site optimiser found no solution: {getattr(res, 'message', '')}"
        raise RuntimeError(msg)
    chosen = np.flatnonzero(x[:n] > 0.5)
    if problem.model == "capacity":
        m = len(problem.target_ids)
        sizes = np.ceil(np.maximum(x[n + m:][chosen], problem.min_m2[chosen]) - 1e-6)
    else:
        sizes = problem.size_m2[chosen]
    won = won_targets(problem, chosen, sizes)
    status = {0: "optimal", 1: "time limit"}.get(getattr(res, "status", -1),
                                                 str(getattr(res, "message", "")))
    if minimise:
        objective = float(len(chosen))
        bound = float(np.ceil(getattr(res, "mip_dual_bound", objective) - 1e-6))
    else:
        objective = float(problem.households[won].sum())
        dual = getattr(res, "mip_dual_bound", None)
        bound = float(-dual) if dual is not None else objective
        bound = max(bound, objective)
    gap = abs(bound - objective) / abs(bound) if bound else 0.0
    if status == "optimal" and gap > 1e-3:
        status = "within gap"
    return Solution(chosen, sizes, won, objective, bound, gap, status, seconds)


def best_of(solution: Solution, heuristic: Solution, model: str) -> Solution:
    """The optimiser's choice, or the heuristic's (greedy, local search) when it is better.

    That happens only when the optimiser stopped at its time limit; its bound holds for
    both, so the gap is still proven.
    """
    if solution.optimal:
        return solution
    worse = (heuristic.objective < solution.objective if model == "cover"
             else heuristic.objective > solution.objective)
    worse |= len(solution.chosen) == 0 and len(heuristic.chosen) > 0  # stopped before any
    if not worse:
        return solution
    gap = abs(solution.bound - heuristic.objective) / abs(solution.bound) if solution.bound \
        else 0.0
    return Solution(heuristic.chosen, heuristic.sizes_m2, heuristic.won, heuristic.objective,
                    solution.bound, gap, f"{solution.status} ({heuristic.status}'s choice kept)",
                    solution.seconds + heuristic.seconds)


def greedy(problem: SiteProblem, k: int | None) -> Solution:
    """The greedy heuristic: add the site that wins most at each step.

    ``coverage``/``standard``: households newly covered / brought to standard by the site
    at its fixed size; ``capacity``: each site at its maximum size, then shrunk to the
    least floor area that still wins the same communities; ``cover``: the site covering
    most still-uncovered communities, until none is left.
    """
    start = time.perf_counter()
    n = len(problem.candidate_ids)
    h = problem.households.astype(float)
    cover = problem.cover.tocsc()
    if problem.model in ("coverage", "cover"):
        won = np.zeros(len(h), dtype=bool)
        chosen: list[int] = []
        weight = h if problem.model == "coverage" else np.ones(len(h))
        limit = k if problem.model == "coverage" else n
        while len(chosen) < (limit or 0) and not won.all():
            gains = cover.T @ (weight * ~won)
            gains[chosen] = -1
            j = int(np.argmax(gains))
            if gains[j] <= 0:
                break
            chosen.append(j)
            won |= np.asarray(cover[:, j].todense()).ravel() > 0
        sizes = problem.size_m2[chosen]
    else:
        size = problem.max_m2 if problem.model == "capacity" else problem.size_m2
        per_m2 = problem.gain_per_m2.tocsc()
        got = np.zeros(len(h))
        chosen, sizes_l = [], []
        need = problem.deficit - TOLERANCE
        coo = per_m2.tocoo()
        for _ in range(k or 0):
            won_now = got >= need
            add = coo.data * size[coo.col]
            wins = (~won_now[coo.row]) & (got[coo.row] + add >= need[coo.row])
            gains = np.bincount(coo.col[wins], weights=h[coo.row[wins]], minlength=n)
            gains[chosen] = -1
            j = int(np.argmax(gains))
            if gains[j] <= 0:
                break
            col = per_m2[:, j].tocoo()
            rows = col.row
            new = (~won_now[rows]) & (got[rows] + col.data * size[j] >= need[rows])
            s = size[j]
            if problem.model == "capacity" and new.any():
                s = max(problem.min_m2[j],
                        float(np.ceil(((need[rows][new] - got[rows][new]) / col.data[new]).max()
                                      - 1e-9)))
            got[rows] += col.data * s
            chosen.append(j)
            sizes_l.append(s)
        sizes = np.array(sizes_l, dtype=float)
    chosen_a = np.array(chosen, dtype=np.int64)
    won = won_targets(problem, chosen_a, sizes)
    objective = float(len(chosen_a)) if problem.model == "cover" else float(h[won].sum())
    return Solution(chosen_a, sizes, won, objective, float("nan"), float("nan"), "greedy",
                    time.perf_counter() - start)
