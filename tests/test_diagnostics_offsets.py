"""The offset check on a large layer: medians over a fixed sample, same decision.

:func:`planner.diagnostics.check_offsets` takes its medians over at most
:data:`~planner.diagnostics.OFFSET_SAMPLE_POINTS` points (speed, issue 8). Here a layer
three times that size, on a 300 m street grid near Shanghai, is checked with the sample
and with every point: the medians agree within a metre and the note names the same
coordinate system and option.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from planner import crs, diagnostics
from planner.diagnostics import offsets
from planner.network.store import compile_arrays

UTM51 = "EPSG:32651"


@pytest.fixture(scope="module")
def street_grid():
    """Streets every 300 m over 6 km, around (121.47 E, 31.23 N) in UTM zone 51N."""
    x0, y0 = pyproj.Transformer.from_crs(4326, UTM51, always_xy=True).transform(121.47, 31.23)
    ticks = np.arange(0.0, 6000.1, 300.0)
    xs, ys = np.meshgrid(x0 + ticks, y0 + ticks)
    node_x, node_y = xs.ravel(), ys.ravel()
    k = len(ticks)
    ids = np.arange(k * k).reshape(k, k)
    u = np.r_[ids[:, :-1].ravel(), ids[:-1, :].ravel()]
    v = np.r_[ids[:, 1:].ravel(), ids[1:, :].ravel()]
    geoms = shapely.linestrings(np.stack([np.c_[node_x[u], node_y[u]],
                                          np.c_[node_x[v], node_y[v]]], axis=1))
    return compile_arrays(crs=pyproj.CRS(UTM51).to_wkt(), node_x=node_x, node_y=node_y,
                          edge_u=u, edge_v=v, edge_geoms=geoms)


def _gcj_layer(net, n: int) -> gpd.GeoDataFrame:
    """``n`` doors 0-20 m off random streets, written in GCJ-02 but loaded as WGS84."""
    rng = np.random.default_rng(21)
    edges = rng.integers(0, net.n_edges, n)
    on_road = shapely.get_coordinates(shapely.line_interpolate_point(
        net.edge_geoms[edges], rng.random(n), normalized=True))
    xy = on_road + rng.uniform(-20, 20, on_road.shape)
    lon, lat = pyproj.Transformer.from_crs(UTM51, 4326, always_xy=True).transform(*xy.T)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)  # the file's numbers
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(glon, glat), crs=4326)


def test_sampled_medians_match_every_point(street_grid, monkeypatch):
    n = 3 * diagnostics.OFFSET_SAMPLE_POINTS
    layer = _gcj_layer(street_grid, n)
    sampled = diagnostics.offset_distances(street_grid, layer, "wgs84")
    monkeypatch.setattr(offsets, "OFFSET_SAMPLE_POINTS", n + 1)
    full = diagnostics.offset_distances(street_grid, layer, "wgs84")
    assert sampled.keys() == full.keys() == {"wgs84", "gcj02", "bd09"}
    for reading in full:
        assert abs(sampled[reading] - full[reading]) < 1.0, reading
    # as declared the doors are a GCJ-02 shift (~500 m) away: on a 300 m grid that lands
    # up to 150 m from any street; converted, they are back at 0-20 m (median ~7 m)
    assert full["gcj02"] < 10.0 and full["wgs84"] > 30.0


def test_sampled_note_names_the_same_system(street_grid, monkeypatch):
    layer = _gcj_layer(street_grid, 3 * diagnostics.OFFSET_SAMPLE_POINTS)
    path = Path("facilities.csv")
    sampled = diagnostics.check_offsets(street_grid, layer, role="facilities", path=path,
                                        declared="wgs84")
    monkeypatch.setattr(offsets, "OFFSET_SAMPLE_POINTS", 10**9)
    full = diagnostics.check_offsets(street_grid, layer, role="facilities", path=path,
                                     declared="wgs84")
    assert len(sampled) == len(full) == 1
    for note in (sampled[0], full[0]):
        assert note.startswith("facilities.csv looks like GCJ-02")
        assert note.endswith("rerun with --facilities-crs gcj02")


def test_small_layers_use_every_point(street_grid, monkeypatch):
    layer = _gcj_layer(street_grid, 200)
    before = diagnostics.offset_distances(street_grid, layer, "wgs84")
    monkeypatch.setattr(offsets, "OFFSET_SAMPLE_POINTS", 10**9)
    assert diagnostics.offset_distances(street_grid, layer, "wgs84") == before
