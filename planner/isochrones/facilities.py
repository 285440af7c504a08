"""Walking circles of a study graph's facilities: on demand, on two cores, simplified once."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.isochrones.cache import load_runs, save_runs
from planner.isochrones.runs import StreetRuns, sample_edges
from planner.isochrones.sizes import (
    CLAIM_CHUNKS,
    PARALLEL_MIN_FACILITIES,
    PROGRESS_MIN_FACILITIES,
    RUNS_CACHE_MIN_SHARE,
    SIMPLIFY_M,
)
from planner.isochrones.trace import circle_polygons
from planner.network.store import CompiledNetwork
from planner.reach import StudyGraph
from planner.units import metres_for_minutes

log = logging.getLogger("planner")


def facility_circles(
    study: StudyGraph | CompiledNetwork,
    facilities: pd.DataFrame,
    *,
    minutes: float,
    speed_m_s: float,
    progress: bool = False,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Walking-circle polygons of facilities, for display (maps, the isochrones layer).

    Parameters
    ----------
    study
        The study graph the facilities were added to, or the compiled network (the
        facilities are then snapped here, as :class:`~planner.reach.StudyGraph` does).
    facilities
        Indexed by ``facility_id`` with ``kind``: the facilities to draw (those that did
        not join the network get no row); points in the network's CRS.
    minutes
        The circle in minutes, walked at ``speed_m_s`` metres per second.
    progress
        Show a progress bar from :data:`PROGRESS_MIN_FACILITIES` facilities on.
    workers
        Processes drawing circles (default: two, where the machine has two cores and
        ``fork``, from :data:`PARALLEL_MIN_FACILITIES` facilities on; always one inside
        a daemonic process such as a Dask worker, which may not fork). The facilities
        are split west / east; the result does not depend on it.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id, kind, minutes, geometry`` in the network's CRS, in the order of
        ``facilities``; one Polygon or MultiPolygon each, simplified once to
        :data:`SIMPLIFY_M` metres (:func:`simplify_outlines`).
    """
    return start_facility_circles(study, facilities, minutes=minutes, speed_m_s=speed_m_s,
                                  progress=progress, workers=workers).result()


def start_facility_circles(
    study: StudyGraph | CompiledNetwork,
    facilities: pd.DataFrame,
    *,
    minutes: float,
    speed_m_s: float,
    progress: bool = False,
    workers: int | None = None,
    here_share: float = 0.5,
) -> PendingCircles:
    """Start drawing circles in a forked worker now; :meth:`PendingCircles.result` ends it.

    The caller can go on with other work (the floor-area assessment) while the worker
    draws; ``result()`` then draws the rest in this process and joins. The parameters
    are those of :func:`facility_circles`.

    With the network's street grid runs cached (:mod:`planner.isochrones.cache`), the
    facilities are cut west to east into :data:`CLAIM_CHUNKS` chunks that the processes
    claim one at a time: the workers from the east end as soon as they start, this
    process from the west end once it asks for the result, until they meet. Whatever
    the caller does meanwhile, neither process waits long for the other, and
    ``here_share`` is not used. Without cached runs, each process cuts the runs of the
    edges its own facilities can reach, so the split is fixed in advance:
    ``here_share`` of the facilities (0-1) are left for this process.
    """
    if not isinstance(study, StudyGraph):
        none = gpd.GeoDataFrame(geometry=[], crs=study.pyproj_crs,
                                index=pd.Index([], name="community_id"))
        study = StudyGraph.build(study, none, facilities, max_distance_m=0.0)
    budget_m = float(metres_for_minutes(minutes, speed_m_s))
    pos = study.facility_positions()
    ids = np.array([f for f in facilities.index if f in pos.index], dtype=object)
    k = _workers(workers, len(ids))
    samples = _cached_samples(study, ids, budget_m)
    claimed = k > 1 and samples is not None and len(ids) > 1
    chunks = (_west_to_east(study, pos, ids, min(CLAIM_CHUNKS, len(ids))) if claimed
              else _split(study, pos, ids, k, here_share))
    pending = PendingCircles(study, facilities, ids, chunks, budget_m, float(minutes),
                             _bar(progress, len(ids)), samples)
    if k > 1 and len(chunks) > 1:
        pending.fork(k - 1, claimed=claimed)
    return pending


class PendingCircles:
    """Circles being drawn; see :func:`start_facility_circles`."""

    def __init__(
        self, study: StudyGraph, facilities: pd.DataFrame, ids: np.ndarray,
        chunks: list[np.ndarray], budget_m: float, minutes: float, bar: Any,
        samples: StreetRuns | None = None,
    ) -> None:
        self.study, self.facilities, self.ids, self.chunks = study, facilities, ids, chunks
        self.budget_m, self.minutes, self.bar = budget_m, minutes, bar
        self.samples = samples
        self._pool: Any = None
        self._jobs: list[Any] = []
        # the chunks this process still draws, [west, east): all of them until workers
        # start; shared with the workers when they claim chunks too
        self._claims: Any = [0, len(chunks)]

    def fork(self, n_workers: int, *, claimed: bool = False) -> None:
        """Start ``n_workers`` forked workers.

        Claimed: every worker claims chunks from the east end. Otherwise chunk ``i``
        (``i`` >= 1) is drawn by worker ``i`` and this process draws chunk 0. When the
        workers cannot be started (no memory or process slots left: ``OSError``), every
        chunk is drawn in this process by :meth:`result`.
        """
        global _FORKED  # noqa: PLW0603 - read by the forked workers, cleared after
        ctx = multiprocessing.get_context("fork")
        try:
            claims = ctx.Array("l", [0, len(self.chunks)]) if claimed else None
            _FORKED = (self.study, self.budget_m, self.samples, self.chunks, claims)
            self._pool = ctx.Pool(n_workers if claimed else len(self.chunks) - 1)
        except OSError as exc:
            log.info("walking circles: no worker process (%s); drawn in this one",
                     exc.strerror or type(exc).__name__)
            return
        finally:
            _FORKED = None
        if claimed:
            self._claims = claims
            self._jobs = [self._pool.apply_async(_draw_claimed_wkb) for _ in range(n_workers)]
        else:
            self._claims = [0, 1]
            self._jobs = [self._pool.apply_async(_draw_chunk_wkb, (i,))
                          for i in range(1, len(self.chunks))]

    def __del__(self) -> None:
        """Never leave a worker behind (a caller that failed before asking)."""
        if getattr(self, "_pool", None) is not None:
            self._pool.terminate()

    def cancel(self) -> None:
        """Stop the workers (the caller failed before asking for the result)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        if self.bar is not None:
            self.bar.close()

    def result(self) -> gpd.GeoDataFrame:
        """Draw this process's chunks, join the workers, and return every circle."""
        got: dict[int, np.ndarray] = {}
        try:
            while (i := _claim(self._claims, east=False)) is not None:
                got[i] = self._draw(i)
            for job in self._jobs:
                for i, wkb in job.get():
                    got[i] = shapely.from_wkb(wkb)
                    if self.bar is not None:
                        self.bar.update(len(self.chunks[i]))
        finally:
            if self._pool is not None:
                self._pool.close()
                self._pool.join()
                self._pool = None
            if self.bar is not None:
                self.bar.close()
        geoms = np.empty(len(self.ids), dtype=object)
        where = pd.Series(np.arange(len(self.ids)), index=pd.Index(self.ids))
        for i, g in got.items():
            geoms[where.loc[self.chunks[i]].to_numpy()] = g
        return gpd.GeoDataFrame(
            {"facility_id": pd.Series(self.ids, dtype=object),
             "kind": self.facilities.loc[self.ids, "kind"].to_numpy(dtype=object),
             "minutes": self.minutes},
            geometry=geoms, crs=self.study.net.pyproj_crs)

    def _draw(self, i: int) -> np.ndarray:
        if not len(self.chunks[i]):
            return np.empty(0, dtype=object)
        return _draw(self.study, self.budget_m, self.chunks[i], self.bar, self.samples)


def _claim(claims: Any, *, east: bool) -> int | None:
    """Take the next unclaimed chunk from the west or east end, or ``None`` when none."""
    lock = claims.get_lock() if hasattr(claims, "get_lock") else contextlib.nullcontext()
    with lock:
        west, end = claims[0], claims[1]
        if west >= end:
            return None
        if east:
            claims[1] = end - 1
            return int(end - 1)
        claims[0] = west + 1
        return int(west)


def _workers(workers: int | None, n: int) -> int:
    """Processes to draw with: one inside a daemonic process, which may not fork.

    A Dask worker or a ``multiprocessing`` pool worker is daemonic, and a daemonic
    process may not have children (``multiprocessing`` refuses); its circles are drawn
    in the process itself, whatever ``workers`` asks.
    """
    if multiprocessing.current_process().daemon:
        return 1
    if workers is not None:
        return max(1, int(workers))
    if n < PARALLEL_MIN_FACILITIES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(2, os.cpu_count() or 1)


def _west_to_east(study: StudyGraph, pos: pd.DataFrame, ids: np.ndarray,
                  n: int) -> list[np.ndarray]:
    """Split ``ids`` west to east in ``n`` chunks of equal counts (compact search groups)."""
    x = study.net.node_x[study.net.edge_u[pos.loc[ids, "edge"].to_numpy()]]
    ordered = ids[np.argsort(x, kind="stable")]
    return [c for c in np.array_split(ordered, n) if len(c)]


def _split(
    study: StudyGraph, pos: pd.DataFrame, ids: np.ndarray, k: int, here_share: float = 0.5,
) -> list[np.ndarray]:
    """Split ``ids`` west to east in ``k`` parts (compact search groups).

    The first part holds ``here_share`` of them, the others share the rest equally.
    """
    if k == 1 or len(ids) < 2:
        return [ids]
    x = study.net.node_x[study.net.edge_u[pos.loc[ids, "edge"].to_numpy()]]
    ordered = ids[np.argsort(x, kind="stable")]
    cut = min(len(ids) - 1, max(1, round(here_share * len(ids))))
    return [ordered[:cut], *(p for p in np.array_split(ordered[cut:], k - 1) if len(p))]


def _bar(progress: bool, n: int) -> Any:
    if not progress or n < PROGRESS_MIN_FACILITIES:
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=n, desc="walking circles", unit="facility", mininterval=1.0)


def _reachable_edges(study: StudyGraph, ids: np.ndarray, budget_m: float) -> np.ndarray:
    """Mask of the edges the circles of ``ids`` can reach.

    A reached piece of street lies within ``budget_m`` (straight line) of its facility's
    road position, which lies in the bounding box of the facility's edge; so an edge
    whose bounding box misses that box widened by ``budget_m`` is never drawn.
    """
    net = study.net
    starts = net.edge_offsets[:-1]
    lo_x = np.minimum.reduceat(net.edge_coords[:, 0], starts)
    hi_x = np.maximum.reduceat(net.edge_coords[:, 0], starts)
    lo_y = np.minimum.reduceat(net.edge_coords[:, 1], starts)
    hi_y = np.maximum.reduceat(net.edge_coords[:, 1], starts)
    e = study.facility_positions().loc[ids, "edge"].to_numpy()
    pad = budget_m + 1.0  # one metre of slack for rounding
    return ((hi_x >= lo_x[e].min() - pad) & (lo_x <= hi_x[e].max() + pad)
            & (hi_y >= lo_y[e].min() - pad) & (lo_y <= hi_y[e].max() + pad))


def _whole_network(study: StudyGraph, ids: np.ndarray, budget_m: float) -> bool:
    """True when the circles of ``ids`` span much of the network: use every edge's runs.

    Measured cheaply on nodes: at least :data:`RUNS_CACHE_MIN_SHARE` of them lie in the
    box around the ends of the facilities' edges, widened by ``budget_m``. Only for a
    network with a cache file (the runs are cached beside it).
    """
    net = study.net
    if not len(ids) or net.cache_file is None:
        return False
    e = study.facility_positions().loc[ids, "edge"].to_numpy()
    ends = np.concatenate([net.edge_u[e], net.edge_v[e]])
    x, y = net.node_x[ends], net.node_y[ends]
    pad = budget_m + 1.0
    inside = ((net.node_x >= x.min() - pad) & (net.node_x <= x.max() + pad)
              & (net.node_y >= y.min() - pad) & (net.node_y <= y.max() + pad))
    return bool(inside.mean() >= RUNS_CACHE_MIN_SHARE)


def _cached_samples(study: StudyGraph, ids: np.ndarray, budget_m: float) -> StreetRuns | None:
    """The network's cached runs, opened once before forking (the worker shares them).

    Only when the circles span much of the network (:func:`_whole_network`); a few
    circles cut the runs of their own few edges instead.
    """
    if not _whole_network(study, ids, budget_m):
        return None
    return load_runs(study.net)


def _part_samples(study: StudyGraph, ids: np.ndarray, budget_m: float) -> StreetRuns:
    """Grid runs of the edges the circles of ``ids`` can reach (no cached runs).

    When they span much of a cached network (:func:`_whole_network`), the runs of every
    edge are cut and cached beside it for the next run.
    """
    net = study.net
    if _whole_network(study, ids, budget_m):
        every = sample_edges(net)
        save_runs(net, every)
        return every
    return sample_edges(net, edges=_reachable_edges(study, ids, budget_m))


#: What a forked worker needs (set just before forking, read by the workers):
#: the study graph, the budget, the cached runs, the chunks and the shared claims.
_FORKED: tuple[StudyGraph, float, StreetRuns | None, list[np.ndarray], Any] | None = None


def _draw_chunk_wkb(i: int) -> list[tuple[int, np.ndarray]]:
    """In a forked worker: the polygons of chunk ``i``, as WKB."""
    assert _FORKED is not None
    study, budget_m, samples, chunks, _ = _FORKED
    return [(i, shapely.to_wkb(_draw(study, budget_m, chunks[i], None, samples)))]


def _draw_claimed_wkb() -> list[tuple[int, np.ndarray]]:
    """In a forked worker: claim chunks from the east end and draw them, as WKB."""
    assert _FORKED is not None
    study, budget_m, samples, chunks, claims = _FORKED
    done = []
    while (i := _claim(claims, east=True)) is not None:
        done.append((i, shapely.to_wkb(_draw(study, budget_m, chunks[i], None, samples))))
    return done


def _draw(study: StudyGraph, budget_m: float, ids: np.ndarray, bar: Any,
          samples: StreetRuns | None = None) -> np.ndarray:
    """Simplified polygons of ``ids``, in that order (``samples``: the cached runs)."""
    if samples is None:
        samples = _part_samples(study, ids, budget_m)
    pos = study.facility_positions()
    got_ids: list[object] = []
    polys: list[shapely.Geometry] = []
    for batch_ids, nodes, dist in study.facility_searches(list(ids), limit_m=budget_m):
        p = pos.loc[batch_ids]
        polys.extend(circle_polygons(
            study.net, samples, dist, budget_m, nodes=nodes, own_edge=p["edge"].to_numpy(),
            own_along_m=p["along_m"].to_numpy(),
            own_budget_m=budget_m - p["offroad_m"].to_numpy()))
        got_ids.extend(batch_ids)
        if bar is not None:
            bar.update(len(batch_ids))
    by_id = dict(zip(got_ids, polys, strict=True))
    return simplify_outlines(np.array([by_id[f] for f in ids], dtype=object))


def simplify_outlines(polygons: np.ndarray, tolerance_m: float = SIMPLIFY_M) -> np.ndarray:
    """Simplify grid outlines once (Douglas-Peucker, ``shapely.simplify``).

    The fast form (``preserve_topology=False``) is used: on these staircase outlines it
    is about five times faster than the topology-preserving one. GEOS's Douglas-Peucker
    simplifier ensures that polygonal results are valid (it checks every simplified
    polygon and rebuilds an invalid one with a zero-width buffer; about one outline in
    twenty on a dense city), so the outlines are not checked a second time here: that
    check cost as much as the simplification. A result that comes out empty where the
    input was not is simplified again with ``preserve_topology=True``.
    """
    out = shapely.simplify(polygons, tolerance_m, preserve_topology=False)
    lost = shapely.is_empty(out) & ~shapely.is_empty(polygons)
    if lost.any():
        out[lost] = shapely.simplify(polygons[lost], tolerance_m, preserve_topology=True)
    return out
