"""The street grid runs cached beside the compiled network: same polygons, safe files.

The real central-Shanghai extract is compiled with its cache in a temporary folder; the
circles drawn with cached runs must be exactly (WKB) those drawn without any cache.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import time

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.isochrones import CLAIM_CHUNKS, facility_circles, sample_edges, start_facility_circles
from planner.isochrones.cache import load_runs, runs_cache_file, runs_key, save_runs
from planner.network import compile_network
from planner.reach import StudyGraph
from tests.conftest import SHARED_DATA

OSM = SHARED_DATA / "shanghai_central" / "shanghai_central.osm"


@pytest.fixture
def cached_net(tmp_path):
    """The network compiled with its cache in ``tmp_path``."""
    net = compile_network(OSM, cache_folder=tmp_path)
    assert net.cache_file is not None and net.cache_file.parent == tmp_path
    return net


def stations(net, n: int = 12) -> gpd.GeoDataFrame:
    """``n`` facilities at nodes spread over the whole network."""
    nodes = np.linspace(0, net.n_nodes - 1, n).astype(int)
    return gpd.GeoDataFrame({"kind": "station"}, index=[f"F{i}" for i in range(n)],
                            geometry=gpd.points_from_xy(net.node_x[nodes], net.node_y[nodes]),
                            crs=net.pyproj_crs)


def circles(net, n: int = 12, workers: int = 1) -> list[bytes]:
    """WKB of ``n`` circles (15 min at 1 m/s) at nodes spread over the whole network."""
    fac = stations(net, n)
    sg = StudyGraph.build(net, fac.iloc[:0], fac, max_distance_m=0.0)
    got = facility_circles(sg, fac, minutes=15, speed_m_s=1.0, workers=workers)
    assert got["facility_id"].to_list() == list(fac.index)
    return shapely.to_wkb(got.geometry.to_numpy()).tolist()


def test_cached_runs_give_the_same_polygons(cached_net, tmp_path):
    net = cached_net
    plain = dataclasses.replace(net, cache_file=None)  # as with --no-cache
    before = set(tmp_path.iterdir())
    reference = circles(plain)
    assert set(tmp_path.iterdir()) == before  # no network cache: nothing written
    first = circles(net)  # builds and writes the runs beside the network cache
    runs_file = runs_cache_file(net)
    assert runs_file == net.cache_file.with_name(
        net.cache_file.name.replace(".reach.npz", f".runs-{runs_key(net)}.npy"))
    assert runs_file.exists()
    assert set(tmp_path.iterdir()) == before | {runs_file}  # no temporary file left
    second = circles(net)  # reads them
    assert first == reference
    assert second == reference
    # the cached arrays are exactly those cut afresh
    cached, fresh = load_runs(net), sample_edges(net)
    assert cached is not None
    for name in ("row", "col_lo", "col_hi", "offsets", "seg_offsets", "seg_vertex",
                 "seg_along"):
        assert np.array_equal(getattr(cached, name), getattr(fresh, name)), name
    assert (cached.x0, cached.y0) == (fresh.x0, fresh.y0)


def test_runs_of_other_geometry_or_sizes_are_not_read(cached_net):
    net = cached_net
    save_runs(net, sample_edges(net))
    assert load_runs(net) is not None
    # another half-width or cell: another key
    assert load_runs(net, half_width_m=25.0) is None
    assert load_runs(net, cell_m=10.0) is None
    # the same cache file named, but one edge fewer (stairs removed): another key
    fewer = dataclasses.replace(net, edge_u=net.edge_u[:-1], edge_v=net.edge_v[:-1],
                                edge_length=net.edge_length[:-1],
                                edge_offsets=net.edge_offsets[:-1], _geoms=None, _tree=None)
    assert fewer.cache_file == net.cache_file
    assert runs_key(fewer) != runs_key(net)
    assert load_runs(fewer) is None
    # one vertex moved by a millimetre: another key
    moved = net.edge_coords.copy()
    moved[5, 0] += 0.001
    assert runs_key(dataclasses.replace(net, edge_coords=moved)) != runs_key(net)


def test_a_damaged_runs_file_is_rebuilt(cached_net, caplog):
    net = cached_net
    runs_file = save_runs(net, sample_edges(net))
    assert runs_file is not None
    runs_file.write_bytes(runs_file.read_bytes()[:1000])  # a copy cut short
    with caplog.at_level(logging.WARNING, logger="planner"):
        assert load_runs(net) is None
    assert "damaged" in caplog.text
    assert not runs_file.exists()
    reference = circles(dataclasses.replace(net, cache_file=None))
    assert circles(net) == reference  # rebuilt, and written again
    assert load_runs(net) is not None


def test_an_unwritable_folder_only_costs_time(cached_net, monkeypatch, caplog):
    net = cached_net

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(np, "save", refuse)
    with caplog.at_level(logging.WARNING, logger="planner"):
        assert save_runs(net, sample_edges(net)) is None
    assert "could not cache the street grid" in caplog.text
    assert not runs_cache_file(net).exists()
    assert not list(net.cache_file.parent.glob(".*.tmp"))


def test_processes_claiming_chunks_draw_the_same_circles(cached_net):
    # with cached runs, this process and the worker claim chunks of facilities from the
    # two ends until they meet: every chunk is drawn once, and the circles are exactly
    # those of one process
    net = cached_net
    save_runs(net, sample_edges(net))
    one = circles(net, n=40)
    assert circles(net, n=40, workers=2) == one
    assert circles(net, n=40, workers=3) == one
    fac = stations(net, 40)
    pending = start_facility_circles(net, fac, minutes=15, speed_m_s=1.0, workers=2)
    assert len(pending.chunks) == CLAIM_CHUNKS
    assert sorted(np.concatenate(pending.chunks)) == sorted(fac.index)
    got = pending.result()
    assert pending._claims[0] == pending._claims[1]  # the two ends met: all claimed
    assert shapely.to_wkb(got.geometry.to_numpy()).tolist() == one


def test_claimed_chunks_drawn_here_when_fork_fails(cached_net, monkeypatch):
    net = cached_net
    save_runs(net, sample_edges(net))
    one = circles(net, n=20)

    def no_pool(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork"), "Pool", no_pool)
    assert circles(net, n=20, workers=2) == one


def test_a_few_close_circles_neither_read_nor_write_the_cache(cached_net, tmp_path):
    # two facilities at the westmost crossing, 2 minutes (120 m): the box around their
    # edges widened by 121 m holds far fewer than half of the network's nodes, so they
    # cut the runs of their own few edges: no runs file is written, and the circles are
    # those of an uncached network
    net = cached_net
    node = int(np.argmin(net.node_x))  # the westmost crossing
    fac = gpd.GeoDataFrame({"kind": "station"}, index=["A", "B"],
                           geometry=gpd.points_from_xy(net.node_x[[node, node]] + [0.0, 5.0],
                                                       net.node_y[[node, node]]),
                           crs=net.pyproj_crs)
    before = set(tmp_path.iterdir())
    got = facility_circles(net, fac, minutes=2, speed_m_s=1.0, workers=1)
    plain = facility_circles(dataclasses.replace(net, cache_file=None), fac, minutes=2,
                             speed_m_s=1.0, workers=1)
    assert set(tmp_path.iterdir()) == before
    assert shapely.to_wkb(got.geometry.to_numpy()).tolist() == \
        shapely.to_wkb(plain.geometry.to_numpy()).tolist()
    assert (got.geometry.area > 0).all()


def test_temporaries_left_by_a_stopped_run_are_cleared(cached_net):
    # a run stopped while writing the runs leaves its temporary file; the next write
    # removes such files once they are over an hour old, and leaves younger ones (a run
    # writing at this moment) and every other file alone
    net = cached_net
    runs_file = runs_cache_file(net)
    old = runs_file.with_name(f".{runs_file.name}.123-deadbeef.tmp")
    young = runs_file.with_name(f".{runs_file.name}.456-cafef00d.tmp")
    other = runs_file.with_name("notes.tmp")
    for f in (old, young, other):
        f.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(other, (two_hours_ago, two_hours_ago))
    assert save_runs(net, sample_edges(net)) == runs_file
    assert not old.exists()
    assert young.exists()
    assert other.exists()
