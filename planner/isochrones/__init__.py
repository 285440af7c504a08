"""Walking-circle polygons that follow the streets, for display.

A facility's circle is the set of street positions reachable within the budget: whole
edges, and parts of edges cut exactly where the budget runs out (from either end, and
both ways from the facility along its own edge). The polygon is that set of street
pieces widened by :data:`STREET_HALF_WIDTH_M` on each side, never a convex or concave
hull of reached nodes, which would claim blocks nobody can walk into. With terrain
(direction-aware costs, :mod:`planner.network.directed`) the cut is where the walk from
the street position *towards* the facility uses up the budget (:func:`cut_edges`).

Two implementations share the reach rule (:func:`reached_pieces`):

* :func:`exact_circle_polygon`, the reference: every reached piece as an exact
  LineString, buffered and unioned with GEOS. Exact, and about 60 ms per facility on a
  dense city network, so it is kept for tests and benchmarks only.
* :func:`circle_polygons`, the pipeline's method, which gives the same polygon sampled on
  a grid of :data:`CELL_M` cells: a cell is in the circle if its centre is within the
  half-width of a reached piece. Each straight segment's buffer (a capsule) is cut into
  one run of cells per grid row, analytically; the runs of every segment are computed
  once per network (:func:`sample_edges`, cached beside the network's own cache by
  :mod:`planner.isochrones.cache`) and shared by all facilities, so a facility
  only gathers the runs of its whole edges and computes those of its few cut pieces.
  The runs of a batch of facilities are painted into one stacked grid, and the grid's
  boundary is traced into rings with array operations: corners are the grid vertices
  with an odd number of covered cells around them, corners pair up along each grid row
  and column, and one depth-first pass of ``scipy.sparse.csgraph`` orders every ring.
  No per-facility GEOS union, no ``rasterio.features.shapes``.

The grid polygon's area matches the exact union to well under 1 % at 5 m cells (see
``benchmarks/isochrones.py``); its outline is a staircase of cell edges, simplified once
(:func:`simplify_outlines`).

:func:`start_facility_circles` draws on two cores: a forked worker starts at once while
the caller assesses. With the street grid runs cached beside the network's own cache
(:mod:`planner.isochrones.cache`) the two processes claim chunks of facilities from
either end, so they finish together; inside a daemonic process (a Dask worker), or when
no worker can be started, every circle is drawn in the calling process.
"""

from __future__ import annotations

from planner.isochrones.cache import load_runs, runs_cache_file, save_runs
from planner.isochrones.facilities import (
    PendingCircles,
    facility_circles,
    simplify_outlines,
    start_facility_circles,
)
from planner.isochrones.pieces import (
    cut_edges,
    exact_circle_polygon,
    own_edge_piece,
    piece_lines,
    reached_pieces,
    vertex_along,
)
from planner.isochrones.runs import StreetRuns, node_edges, sample_edges
from planner.isochrones.sizes import (
    CELL_M,
    CHUNK_CELLS,
    CLAIM_CHUNKS,
    HERE_SHARE_WHILE_ASSESSING,
    PARALLEL_MIN_FACILITIES,
    PROGRESS_MIN_FACILITIES,
    RUNS_CACHE_MIN_SHARE,
    SEGMENTS_PER_CHUNK,
    SIMPLIFY_M,
    STREET_HALF_WIDTH_M,
)
from planner.isochrones.trace import circle_polygons

__all__ = [
    "CELL_M",
    "CHUNK_CELLS",
    "CLAIM_CHUNKS",
    "HERE_SHARE_WHILE_ASSESSING",
    "PARALLEL_MIN_FACILITIES",
    "PROGRESS_MIN_FACILITIES",
    "RUNS_CACHE_MIN_SHARE",
    "SEGMENTS_PER_CHUNK",
    "SIMPLIFY_M",
    "STREET_HALF_WIDTH_M",
    "PendingCircles",
    "StreetRuns",
    "circle_polygons",
    "cut_edges",
    "exact_circle_polygon",
    "facility_circles",
    "load_runs",
    "node_edges",
    "own_edge_piece",
    "piece_lines",
    "reached_pieces",
    "runs_cache_file",
    "sample_edges",
    "save_runs",
    "simplify_outlines",
    "start_facility_circles",
    "vertex_along",
]
