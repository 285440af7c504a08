"""Sizes shared by the circle builders (metres and counts)."""

from __future__ import annotations

#: Show a progress bar for the circles from this many facilities on.
PROGRESS_MIN_FACILITIES = 200
#: Draw circles on two cores (a forked worker) from this many facilities on.
PARALLEL_MIN_FACILITIES = 200
#: Half the width of the band drawn along reached streets (metres).
STREET_HALF_WIDTH_M = 20.0
#: Grid cell size of the fast circles (metres).
CELL_M = 5.0
#: The grid outline is simplified once, where it is made, to this tolerance (metres):
#: one cell, so the staircase of cell edges becomes straight runs; the GeoPackage and
#: the map draw this same outline.
SIMPLIFY_M = CELL_M
#: Most grid cells painted at once when building a batch of circles.
CHUNK_CELLS = 8_000_000
#: Street segments cut into grid runs at once by :func:`sample_edges` (bounds its memory).
SEGMENTS_PER_CHUNK = 200_000
#: The street grid runs of the whole network are read from (or written to) their cache
#: beside the network's (:mod:`planner.isochrones.cache`) when at least this share of
#: its nodes lies within the circles' reach (the facilities' box widened by the circle);
#: fewer circles cut only the edges they can reach.
RUNS_CACHE_MIN_SHARE = 0.5
#: Share of the circles ``planner run`` should leave to its own process (the
#: ``here_share`` of :func:`~planner.isochrones.start_facility_circles`) when the split is
#: fixed in advance: without cached street grid runs (the first run on a network, or
#: ``--no-cache``); with cached runs the processes claim chunks and balance themselves.
#: Balanced on CPU seconds at 131k nodes and 880 facilities: the assessment takes
#: 1.7 s, the circles about 2.3 s in all, so 15 % here (0.35 s) ends with the worker's
#: 85 % (1.95 s); 25 % here ended 0.5 s after the worker.
HERE_SHARE_WHILE_ASSESSING = 0.15
#: With cached street grid runs, the facilities are cut into this many chunks (west to
#: east) that the processes drawing circles claim one at a time from either end.
CLAIM_CHUNKS = 16
