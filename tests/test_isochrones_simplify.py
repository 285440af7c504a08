"""The grid outlines simplified once: valid, the same shape, checked once.

Douglas-Peucker on the rings alone can make an outline invalid (a hole pushed out of
its shell, a ring crossing itself where two streets' bands nearly touch): GEOS's
simplifier checks each polygon and rebuilds an invalid one, so
:func:`simplify_outlines` does not check validity again. These tests build real
circles where ring-wise simplification does break validity, and check that the
outlines still come out valid and close to the grid polygons.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from planner.isochrones import SIMPLIFY_M, circle_polygons, sample_edges, simplify_outlines
from planner.network import compile_network
from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def raw_circles() -> np.ndarray:
    """Grid polygons (not simplified) of 60 facilities at nodes of Wanzhou, 900 m."""
    net = compile_network(SHARED_DATA / "chongqing_wanzhou" / "wanzhou_links.gpkg",
                          crs="gcj02", use_cache=False)
    n = 60
    nodes = np.random.default_rng(3).choice(net.n_nodes, 400, replace=False)[:n]
    dist = dijkstra(net.adjacency(), directed=True, indices=nodes, limit=900.0)
    polys = circle_polygons(net, sample_edges(net), dist, 900.0, own_edge=np.full(n, -1),
                            own_along_m=np.zeros(n), own_budget_m=np.full(n, -1.0))
    return np.array(polys, dtype=object)


def ring_wise(polygons: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Douglas-Peucker on every ring alone, polygons rebuilt without any repair."""
    out = []
    for poly in polygons:
        shell = shapely.simplify(poly.exterior, tolerance_m, preserve_topology=False)
        holes = [shapely.simplify(h, tolerance_m, preserve_topology=False)
                 for h in poly.interiors]
        holes = [h for h in holes if h.geom_type == "LinearRing" and len(h.coords) >= 4]
        out.append(shapely.Polygon(shell, holes))
    return np.array(out, dtype=object)


def test_outlines_valid_where_ring_wise_simplification_is_not(raw_circles):
    singles = raw_circles[shapely.get_type_id(raw_circles) == shapely.GeometryType.POLYGON]
    broken = ~shapely.is_valid(ring_wise(singles, SIMPLIFY_M))
    # the case this guards against really happens on a real street network
    assert broken.any()
    out = simplify_outlines(singles)
    assert shapely.is_valid(out).all()
    assert not shapely.is_empty(out).any()
    # still the same shape: within 1.5 % of the grid polygon's area (5 % for a stub of
    # one short street under 10,000 m²), and every bit of area gained or lost lies
    # near the grid outline: each dropped corner is within the tolerance (one 5 m cell)
    # of the chord that replaces it, so the chord strays little further (5.4 m here)
    raw_area = shapely.area(singles)
    allowed = np.where(raw_area > 10_000, 0.015, 0.05)
    assert (np.abs(shapely.area(out) / raw_area - 1) < allowed).all()
    band = shapely.buffer(shapely.boundary(singles), 1.5 * SIMPLIFY_M)
    assert shapely.covered_by(shapely.symmetric_difference(out, singles), band).all()


def test_outlines_simplified_with_fewer_vertices_than_the_staircase(raw_circles):
    out = simplify_outlines(raw_circles)
    assert (shapely.get_num_coordinates(out) < shapely.get_num_coordinates(raw_circles)).all()
    # Douglas-Peucker keeps only vertices of the grid outline (no new corner is made)
    # where the result needed no repair
    ring_only = ring_wise(raw_circles, SIMPLIFY_M)
    same = shapely.is_valid(ring_only) & (shapely.get_num_interior_rings(ring_only)
                                          == shapely.get_num_interior_rings(out))
    assert same.sum() >= 50
    assert shapely.equals_exact(out[same], ring_only[same], tolerance=0.0).all()


def test_an_empty_outline_stays_empty():
    empty = np.array([shapely.Polygon()], dtype=object)
    assert shapely.is_empty(simplify_outlines(empty)).all()
