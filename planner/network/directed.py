"""Direction-dependent walking costs along the edges of a compiled network.

On flat ground a street costs its length both ways. On a slope it does not: the terrain
stage (:mod:`planner.terrain`) turns walking *time* into **flat-equivalent metres**
(time × the flat walking speed), per direction, so everything downstream (minutes =
metres / speed, budgets in metres) stays as it is.

Costs vary along an edge (a long street over a hill pays on the way up and on the way
down), so an edge carries a *profile*: the cumulative cost at evenly spaced stations
from its ``u`` end, in each walking direction. A snapped point that splits the edge
then gets the cost of each piece exactly (linear between stations, as the elevations
are), not a pro-rata share of the whole edge.

This module sits with the compiled network, below :mod:`planner.reach`, and depends on
numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DirectedCosts:
    """Cumulative walking cost of every edge, both ways, in flat-equivalent metres.

    Edge ``e`` (of horizontal length ``L``) has ``n = n_segments[e]`` equal segments of
    ``L / n`` metres and ``n + 1`` stations ``0, L/n, ..., L`` from its ``u`` end.

    Attributes
    ----------
    offsets
        Edge ``e``'s stations are ``offsets[e]:offsets[e + 1]`` of the station arrays,
        shape ``(m + 1,)``.
    segment_m
        Horizontal length of one segment of each edge (metres), shape ``(m,)``.
    from_u
        Cost of walking from ``u`` to each station (flat-equivalent metres); starts at 0
        on each edge and never decreases.
    to_u
        Cost of walking from each station back to ``u`` (flat-equivalent metres); starts
        at 0 on each edge and never decreases.
    """

    offsets: np.ndarray
    segment_m: np.ndarray
    from_u: np.ndarray
    to_u: np.ndarray

    @property
    def n_edges(self) -> int:
        """Number of edges described."""
        return len(self.segment_m)

    @property
    def forward_m(self) -> np.ndarray:
        """Cost of walking each whole edge from ``u`` to ``v`` (flat-equivalent metres)."""
        return self.from_u[self.offsets[1:] - 1]

    @property
    def backward_m(self) -> np.ndarray:
        """Cost of walking each whole edge from ``v`` to ``u`` (flat-equivalent metres)."""
        return self.to_u[self.offsets[1:] - 1]

    def _at(self, values: np.ndarray, edge: np.ndarray, along_m: np.ndarray) -> np.ndarray:
        """A cumulative profile read at ``along_m`` metres from ``u`` (linear between stations)."""
        n_seg = self.offsets[edge + 1] - self.offsets[edge] - 1
        pos = np.clip(along_m / self.segment_m[edge], 0.0, n_seg.astype(float))
        k = np.minimum(np.floor(pos).astype(np.int64), n_seg - 1)
        frac = pos - k
        lo = values[self.offsets[edge] + k]
        hi = values[self.offsets[edge] + k + 1]
        return lo + frac * (hi - lo)

    def between(
        self, edge: np.ndarray, start_m: np.ndarray, end_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost of the piece of each edge between two positions, each way.

        Parameters
        ----------
        edge
            Edge indices.
        start_m, end_m
            Positions from the edge's ``u`` end (metres), ``start_m <= end_m``.

        Returns
        -------
        tuple of numpy.ndarray
            ``(forward, backward)``: flat-equivalent metres to walk from ``start_m`` to
            ``end_m`` (towards ``v``) and back.
        """
        edge = np.asarray(edge, dtype=np.int64)
        start_m, end_m = np.asarray(start_m, float), np.asarray(end_m, float)
        forward = self._at(self.from_u, edge, end_m) - self._at(self.from_u, edge, start_m)
        backward = self._at(self.to_u, edge, end_m) - self._at(self.to_u, edge, start_m)
        return np.maximum(forward, 0.0), np.maximum(backward, 0.0)

    def subset(self, keep: np.ndarray) -> DirectedCosts:
        """The profiles of the edges where ``keep`` (boolean, per edge) is true."""
        idx = np.flatnonzero(keep)
        counts = np.diff(self.offsets)[idx]
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        starts = np.repeat(self.offsets[idx] - offsets[:-1], counts)
        take = starts + np.arange(offsets[-1])
        return DirectedCosts(offsets, self.segment_m[idx], self.from_u[take], self.to_u[take])
