"""The base map's faster paths against the plain way: same streets, same lon/lat.

- :func:`planner.maps.base.street_lines` skips straight two-point edges (their own
  simplification): the lines must equal simplifying every edge;
- :func:`planner.maps.base.lonlat_function` converts each distinct whole-metre vertex
  once: the result must equal pyproj on every row.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString

from planner.crs import wgs84_to_gcj02
from planner.maps.base import STREET_SIMPLIFY_M, _grid_vertices, lonlat_function, street_lines

CRS = "EPSG:32649"


class _Net:
    """The two attributes street_lines reads from a compiled network."""

    def __init__(self, geoms: list[LineString]) -> None:
        self.edge_geoms = np.array(geoms, dtype=object)
        self.pyproj_crs = pyproj.CRS(CRS)


def test_street_lines_equal_simplifying_every_edge():
    x0, y0 = 500_000.0, 2_410_000.0
    edges = [
        LineString([(x0, y0), (x0 + 100, y0)]),                       # straight: kept as is
        LineString([(x0, y0), (x0 + 50, y0 + 1), (x0 + 100, y0)]),    # 1 m bend < 4 m: dropped
        LineString([(x0, y0), (x0 + 50, y0 + 30), (x0 + 100, y0)]),   # 30 m bend: kept
        LineString([(x0, y0), (x0, y0)]),                             # zero length: simplified
        LineString([(x0, y0), (x0 + 3, y0 + 1), (x0, y0)]),           # collapses
        LineString(),                                                 # empty: dropped
    ]
    plain = shapely.simplify(np.array(edges, dtype=object), STREET_SIMPLIFY_M,
                             preserve_topology=False)
    plain = plain[~shapely.is_empty(plain)]
    got = street_lines(_Net(edges))
    assert got.crs == pyproj.CRS(CRS)
    assert len(got) == len(plain) == len(edges) - 1
    assert all(shapely.equals_exact(got.values, plain, tolerance=0))
    assert shapely.get_num_coordinates(got.values[1]) == 2  # the small bend went
    assert shapely.get_num_coordinates(got.values[2]) == 3


def _plain_lonlat(xy: np.ndarray, *, gcj02: bool) -> np.ndarray:
    lon, lat = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True).transform(
        xy[:, 0], xy[:, 1])
    if gcj02:
        lon, lat = wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    return np.column_stack([lon, lat])


def test_lonlat_of_grid_vertices_equals_pyproj_row_by_row():
    rng = np.random.default_rng(7)
    # whole metres on a 5 m grid, each vertex repeated as neighbouring circles share them
    grid = 5.0 * rng.integers(0, 400, size=(300, 2)) + np.array([600_000.0, 4_100_000.0])
    xy = grid[rng.integers(0, 300, size=2_000)]
    assert _grid_vertices(xy) is not None
    for gcj02 in (False, True):
        got = lonlat_function(CRS, gcj02=gcj02)(xy)
        assert np.array_equal(got, _plain_lonlat(xy, gcj02=gcj02))


def test_grid_vertices_only_for_whole_non_zero_coordinates():
    xy = np.array([[10.0, 20.0], [30.0, 40.0], [10.0, 20.0]])
    codes = _grid_vertices(xy)
    assert codes is not None
    assert codes.tolist() == [0, 1, 0]  # rows 0 and 2 are the same vertex
    assert _grid_vertices(xy + 0.5) is None             # not whole metres
    assert _grid_vertices(np.array([[0.0, 1.0], [2.0, 3.0]])) is None  # a zero
    assert _grid_vertices(np.array([[1.0, np.nan], [2.0, 3.0]])) is None
    assert _grid_vertices(np.array([[1.0, 1.0], [2.0**32, 3.0]])) is None  # too wide
    # fractional coordinates are converted as given, still equal to pyproj
    frac = np.array([[600_000.25, 4_100_000.5], [600_001.75, 4_100_003.125]])
    assert np.array_equal(lonlat_function(CRS, gcj02=False)(frac),
                          _plain_lonlat(frac, gcj02=False))
