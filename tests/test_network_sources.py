"""Every network source gives the same walking graph: .osm, .osm.pbf, GraphML, road lines."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import osmium
import osmnx as ox
import pytest

from planner import network
from planner.network import compile_network, fetch_network, load_network
from tests.conftest import SHARED_DATA

SHANGHAI = SHARED_DATA / "shanghai_central" / "shanghai_central.osm"


def _summary(net):
    return net.n_nodes, net.n_edges, round(float(net.edge_length.sum()), 3)


def test_pbf_and_graphml_match_osm_xml(tmp_path):
    from_xml = compile_network(SHANGHAI, use_cache=False)
    pbf = tmp_path / "shanghai.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(SHANGHAI)):
            writer.add(obj)
    from_pbf = compile_network(pbf, use_cache=False)
    graphml = tmp_path / "shanghai.graphml"
    ox.save_graphml(load_network(SHANGHAI), graphml)
    from_graphml = compile_network(graphml, use_cache=False)
    assert _summary(from_pbf) == _summary(from_xml)
    assert _summary(from_graphml) == _summary(from_xml)
    assert from_xml.pyproj_crs.to_epsg() == 32651


def test_road_lines_in_any_vector_format(tmp_path, line_district):
    lines = gpd.read_file(line_district["network"])
    nets = []
    for name in ("roads.gpkg", "roads.shp", "roads.geojson"):
        lines.to_file(tmp_path / name)
        nets.append(_summary(compile_network(tmp_path / name, use_cache=False,
                                             cache_folder=tmp_path)))
    # three 500 m lines joined end to end: 4 nodes, 3 edges, 1,500 m
    assert nets[0][:2] == (4, 3)
    assert nets[0][2] == pytest.approx(1500.0, abs=0.01)
    assert nets[1] == pytest.approx(nets[0]) and nets[2] == pytest.approx(nets[0])


def test_compiled_network_is_cached_and_refreshed(tmp_path, line_district):
    src = tmp_path / "roads.geojson"
    src.write_bytes(line_district["network"].read_bytes())
    first = compile_network(src, cache_folder=tmp_path / "cache")
    cached = list((tmp_path / "cache").glob("*.reach.npz"))
    assert len(cached) == 1
    again = compile_network(src, cache_folder=tmp_path / "cache")
    assert np.array_equal(again.edge_length, first.edge_length)
    # a changed file is recompiled, not served stale from the cache
    lines = gpd.read_file(src).iloc[:2]
    lines.to_file(src, driver="GeoJSON")
    changed = compile_network(src, cache_folder=tmp_path / "cache")
    assert changed.n_edges == 2


def test_fetch_caches_graphml_and_reuses_it(tmp_path, monkeypatch):
    calls = []

    def fake_graph_from_place(place, network_type, retain_all):
        calls.append((place, network_type))
        return ox.graph_from_xml(SHANGHAI, bidirectional=True, retain_all=True)

    monkeypatch.setattr(network.ox, "graph_from_place", fake_graph_from_place)
    with pytest.warns(UserWarning, match="OSMnx"):
        path = fetch_network("榆次区, 晋中市, 山西省, 中国", cache_folder=tmp_path)
    assert path.suffix == ".graphml" and path.parent == tmp_path and "榆次区" in path.name
    assert calls == [("榆次区, 晋中市, 山西省, 中国", "walk")]
    assert fetch_network("榆次区, 晋中市, 山西省, 中国", cache_folder=tmp_path) == path
    assert len(calls) == 1  # the second call is served from the cache
    assert compile_network(path, use_cache=False).n_nodes > 500
