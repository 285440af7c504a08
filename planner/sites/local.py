"""Iterated local search: a better choice than greedy's for the fixed-size models.

The ``standard`` model (households newly meeting the floor-area standard) is a threshold
coverage problem: a community is won only when several sites share its circle, and the
relaxation HiGHS bounds it with is weak (see the README of ``benchmarks/``). Within its
time limit HiGHS then often finds a worse choice than a simple search does. This one
starts from greedy's choice, swaps one site at a time for the best replacement while
that wins more households (a full pass over all sites and all candidates per step), and
then, a fixed number of times, replaces a few sites at random (seeded, so the result is
reproducible) and searches again, keeping the best choice seen. It proves nothing: the
optimiser's bound still gives the gap.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from planner.sites.problem import TOLERANCE, SiteProblem, Solution, won_targets

#: Random restarts after the first descent; each replaces :data:`KICK` sites.
ROUNDS = 300
#: Sites replaced at random in each restart.
KICK = 3


def local_search(problem: SiteProblem, k: int | None, start: Solution, *,
                 rounds: int = ROUNDS, seed: int = 0) -> Solution:
    """Improve ``start`` (greedy's choice) by swaps and seeded random restarts.

    Parameters
    ----------
    problem
        A ``coverage`` or ``standard`` problem (other models return ``start`` unchanged).
    k
        Number of sites.
    start
        The choice to start from, usually :func:`planner.sites.problem.greedy`'s.
    rounds
        Random restarts after the first descent.
    seed
        Seed of the random restarts.

    Returns
    -------
    Solution
        Status ``local search``; objective in households (never below ``start``'s); no
        bound (NaN).
    """
    t0 = time.perf_counter()
    n = len(problem.candidate_ids)
    if problem.model not in ("coverage", "standard") or not k or n <= len(start.chosen) \
            or len(start.chosen) == 0:
        return start
    if problem.model == "coverage":
        gain, need = problem.cover.tocsc().astype(np.float64), np.full(len(problem.target_ids),
                                                                        0.5)
    else:  # a target is won with a positive gain reaching its deficit (won_targets)
        gain, need = problem.gain.tocsc(), np.maximum(problem.deficit - TOLERANCE, 1e-12)
    h = problem.households.astype(float)
    chosen, value = _descend(gain, need, h, list(start.chosen))
    best, best_value = list(chosen), value
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        trial = list(best)
        for pos in rng.choice(len(trial), size=min(KICK, len(trial)), replace=False):
            trial[pos] = int(rng.integers(n))
        trial = list(dict.fromkeys(trial))  # a repeated candidate counts once
        chosen, value = _descend(gain, need, h, trial)
        if value > best_value:
            best, best_value = chosen, value
    if best_value <= start.objective:
        return start
    picked = np.array(best, dtype=np.int64)
    sizes = problem.size_m2[picked]
    won = won_targets(problem, picked, sizes)
    return Solution(picked, sizes, won, float(h[won].sum()), float("nan"), float("nan"),
                    "local search", time.perf_counter() - t0 + start.seconds)


def _descend(gain: sp.csc_matrix, need: np.ndarray, h: np.ndarray,
             chosen: list[int]) -> tuple[list[int], float]:
    """Swap sites for the best replacement while that wins more households."""
    coo = gain.tocoo()
    got = np.asarray(gain[:, chosen].sum(axis=1)).ravel()
    value = float(h[got >= need].sum())
    improved = True
    while improved:
        improved = False
        for pos in range(len(chosen)):
            without = got - gain[:, chosen[pos]].toarray().ravel()
            kept = without >= need
            base = float(h[kept].sum())
            wins = ~kept[coo.row] & (without[coo.row] + coo.data >= need[coo.row])
            add = np.bincount(coo.col[wins], weights=h[coo.row[wins]], minlength=gain.shape[1])
            add[chosen] = -1.0
            j = int(np.argmax(add))
            if base + add[j] > value + 1e-9:
                chosen[pos] = j
                got = without + gain[:, j].toarray().ravel()
                value = base + float(add[j])
                improved = True
    return chosen, value
