"""Walking circles drawn where no worker process can be started.

A Dask worker (``planner batch``) is a daemonic process, and a daemonic process may
not fork children: the circles must then be drawn in the process itself, and be the
same polygons as a single-process run. The same when forking fails (``OSError``).
"""

from __future__ import annotations

import multiprocessing

import geopandas as gpd
import numpy as np
import pyproj
import shapely

import planner.isochrones.facilities as facilities_module
from planner.isochrones import facility_circles
from planner.network.store import compile_arrays
from planner.reach import StudyGraph

CRS = "EPSG:32649"


def grid_study(n_facilities: int = 6) -> tuple[StudyGraph, gpd.GeoDataFrame]:
    """A 6 x 6 street grid of 100 m blocks with facilities on some of its crossings."""
    side = 6
    xy = np.array([(100.0 * i, 100.0 * j) for j in range(side) for i in range(side)])
    edges = [(j * side + i, j * side + i + 1) for j in range(side) for i in range(side - 1)]
    edges += [(j * side + i, (j + 1) * side + i) for j in range(side - 1) for i in range(side)]
    u, v = np.array(edges).T
    net = compile_arrays(crs=pyproj.CRS(CRS).to_wkt(), node_x=xy[:, 0], node_y=xy[:, 1],
                         edge_u=u, edge_v=v,
                         edge_geoms=shapely.linestrings(np.stack([xy[u], xy[v]], axis=1)))
    at = np.array([0, 7, 14, 21, 28, 35])[:n_facilities]  # the diagonal's crossings
    fac = gpd.GeoDataFrame({"kind": "station"}, index=[f"F{i}" for i in range(len(at))],
                           geometry=gpd.points_from_xy(xy[at, 0], xy[at, 1]), crs=net.pyproj_crs)
    return StudyGraph.build(net, fac.iloc[:0], fac, max_distance_m=0.0), fac


def _draw_in_child(conn) -> None:
    """In a daemonic child: draw the circles with the default number of workers."""
    try:
        study, fac = grid_study()
        got = facility_circles(study, fac, minutes=3, speed_m_s=1.0)  # workers=None
        conn.send(("ok", shapely.to_wkb(got.geometry.to_numpy()).tolist()))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def test_a_daemonic_process_draws_its_circles_itself(monkeypatch):
    # With the threshold at 2 facilities, 6 facilities would be split over two processes;
    # inside a daemonic process (a Dask worker) forking is refused, so all are drawn
    # there: the polygons must be exactly those of a single-process run.
    monkeypatch.setattr(facilities_module, "PARALLEL_MIN_FACILITIES", 2)
    study, fac = grid_study()
    one = facility_circles(study, fac, minutes=3, speed_m_s=1.0, workers=1)
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_draw_in_child, args=(there,), daemon=True)
    child.start()
    there.close()
    status, payload = here.recv()
    child.join(timeout=60)
    assert status == "ok", payload
    assert child.exitcode == 0
    assert payload == shapely.to_wkb(one.geometry.to_numpy()).tolist()
    # a 180 m circle from a crossing covers street, so each circle has an area
    assert (one.geometry.area > 0).all()


def test_daemonic_process_asks_for_one_worker(monkeypatch):
    monkeypatch.setattr(facilities_module, "PARALLEL_MIN_FACILITIES", 2)
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert facilities_module._workers(None, 100) == 1
    assert facilities_module._workers(2, 100) == 1


def test_circles_drawn_here_when_fork_fails(monkeypatch):
    # A pool that cannot start (no process slots: OSError) leaves every part to this
    # process; the polygons are those of a single-process run, in the same order.
    study, fac = grid_study()
    one = facility_circles(study, fac, minutes=3, speed_m_s=1.0, workers=1)

    def no_pool(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork"), "Pool", no_pool)
    two = facility_circles(study, fac, minutes=3, speed_m_s=1.0, workers=2)
    assert two["facility_id"].to_list() == list(fac.index)
    assert shapely.to_wkb(two.geometry.to_numpy()).tolist() == \
        shapely.to_wkb(one.geometry.to_numpy()).tolist()
