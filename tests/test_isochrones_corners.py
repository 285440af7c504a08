"""Corners of a painted grid: the flat, in-place tracer against cell counts by hand.

A grid vertex is a corner of the outline when 1 or 3 of the 4 cells around it are
covered. Two covered cells touching only at a vertex (a saddle) would make the outline
touch itself there, so the tracer first covers the uncovered upper cell(s) of each
saddle, repeating until none is left; the reference below does the same with integer
counts of covered cells, one vertex at a time.
"""

from __future__ import annotations

import numpy as np
import pytest

from planner.isochrones.trace import _corners


def corners_by_counting(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference: ``(filled grid, odd vertices)`` from the four cells' counts."""
    g = grid.copy()
    rows, cols = g.shape
    while True:
        saddles = []
        for j in range(rows - 1):
            for x in range(cols - 1):
                a, b, c, d = (int(g[j, x]), int(g[j, x + 1]), int(g[j + 1, x]),
                              int(g[j + 1, x + 1]))
                if a + b + c + d == 2 and a == d and b == c:
                    saddles.append((j, x))
        if not saddles:
            break
        for j, x in saddles:  # both upper cells covered afterwards
            g[j, x] = g[j, x + 1] = True
    counts = (g[:-1, :-1].astype(int) + g[:-1, 1:] + g[1:, :-1] + g[1:, 1:])
    return g, counts % 2 == 1


def flat_odd(odd: np.ndarray, width: int, shape: tuple[int, int]) -> np.ndarray:
    """The tracer's flat corner mask as a (rows - 1, cols - 1) array."""
    padded = np.zeros((shape[0] - 1) * width, dtype=bool)
    padded[: len(odd)] = odd
    full = padded.reshape(shape[0] - 1, width)
    assert not full[:, -1].any()  # the wrap-around column never has a corner
    return full[:, :-1]


def test_one_saddle_is_filled_and_its_corners_counted():
    # cells (1,1) and (2,2) touch at vertex (2,2) only: the saddle there gets cell (1,2)
    # above-right, making an L of three cells: 6 corners (an L-shaped hexagon ring)
    grid = np.zeros((4, 4), dtype=bool)
    grid[1, 1] = grid[2, 2] = True
    odd, width = _corners(grid)
    assert grid[1, 2]  # filled in place
    assert grid.sum() == 3
    assert flat_odd(odd, width, grid.shape).sum() == 6


@pytest.mark.parametrize("seed", range(6))
def test_random_grids_match_the_count_by_hand(seed):
    rng = np.random.default_rng(seed)
    grid = np.zeros((14, 17), dtype=bool)
    grid[1:-1, 1:-1] = rng.random((12, 15)) < (0.3 + 0.08 * seed)
    expected_grid, expected_odd = corners_by_counting(grid)
    odd, width = _corners(grid)
    assert np.array_equal(grid, expected_grid)
    assert np.array_equal(flat_odd(odd, width, grid.shape), expected_odd)
    # every vertex is now on zero or two boundary edges: corners come in pairs per row
    assert (expected_odd.sum(axis=1) % 2 == 0).all()


def test_a_grid_that_is_not_contiguous_is_refused():
    grid = np.zeros((6, 8), dtype=bool)[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        _corners(grid)
