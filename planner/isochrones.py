"""Walking-circle polygons that follow the streets, for display.

A facility's circle is the set of street positions reachable within the budget: whole
edges whose both ends are reached, and parts of edges cut where the budget runs out
(from either end, and both ways from the facility along its own edge). The polygon is
that set of street pieces widened by :data:`STREET_HALF_WIDTH_M` on each side, never a
convex or concave hull of reached nodes, which would claim blocks nobody can walk into.

Method: every edge is sampled once at :data:`SAMPLE_SPACING_M`; for each facility the
reached samples are burnt into a raster of :data:`CELL_M` cells, dilated by a disc of the
street half-width, and polygonised with ``rasterio.features.shapes``. The samples are
shared by all facilities, so the cost per facility is a few array operations on the
cells near its circle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage

from planner.reach import CompiledNetwork

#: Half the width of the band drawn along reached streets (metres).
STREET_HALF_WIDTH_M = 20.0
#: Raster cell size for polygonising circles (metres).
CELL_M = 5.0
#: Spacing of the sample points laid along every edge (metres).
SAMPLE_SPACING_M = 5.0


@dataclass
class EdgeSamples:
    """Points laid along every edge, shared by all circles.

    ``x``, ``y`` are coordinates (metres), ``along`` the distance from the edge's ``u``
    end, and edge ``i`` owns samples ``offsets[i]:offsets[i + 1]``.
    """

    x: np.ndarray
    y: np.ndarray
    along: np.ndarray
    offsets: np.ndarray


def sample_edges(net: CompiledNetwork, *, spacing_m: float = SAMPLE_SPACING_M) -> EdgeSamples:
    """Lay points every ``spacing_m`` metres along every edge, both ends included."""
    length = net.edge_length
    counts = np.ceil(length / spacing_m).astype(np.int64) + 1
    offsets = np.zeros(len(length) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    edge = np.repeat(np.arange(len(length)), counts)
    k = np.arange(offsets[-1]) - offsets[edge]
    along = np.minimum(k * spacing_m, length[edge])
    pts = shapely.line_interpolate_point(net.edge_geoms[edge], along)
    xy = shapely.get_coordinates(pts)
    return EdgeSamples(xy[:, 0], xy[:, 1], along, offsets)


def _ranges(offsets: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the samples of ``edges`` and the edge each belongs to."""
    counts = offsets[edges + 1] - offsets[edges]
    owner = np.repeat(edges, counts)
    starts = np.repeat(offsets[edges] - np.cumsum(np.r_[0, counts[:-1]]), counts)
    return starts + np.arange(counts.sum()), owner


def reached_samples(
    net: CompiledNetwork,
    samples: EdgeSamples,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: int = -1,
    own_along_m: float = 0.0,
    own_budget_m: float = 0.0,
) -> np.ndarray:
    """Indices of the samples reachable within ``budget_m``.

    A sample at ``a`` metres along edge ``u–v`` of length ``L`` is reached if
    ``d[u] + a ≤ budget`` or ``d[v] + L − a ≤ budget``. On the facility's own edge it is
    also reached if ``|a − t| ≤ own_budget_m`` (the facility sits at ``t``).
    """
    du = node_dist[net.edge_u]
    dv = node_dist[net.edge_v]
    edges = np.flatnonzero((du <= budget_m) | (dv <= budget_m))
    if own_edge >= 0 and own_budget_m >= 0:
        edges = np.union1d(edges, [own_edge])
    idx, edge = _ranges(samples.offsets, edges)
    a = samples.along[idx]
    hit = (du[edge] + a <= budget_m) | (dv[edge] + net.edge_length[edge] - a <= budget_m)
    if own_edge >= 0:
        hit |= (edge == own_edge) & (np.abs(a - own_along_m) <= own_budget_m)
    return idx[hit]


def _disc(radius_cells: int) -> np.ndarray:
    """A boolean disc structuring element."""
    r = np.arange(-radius_cells, radius_cells + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius_cells**2


def samples_to_polygon(
    x: np.ndarray,
    y: np.ndarray,
    *,
    half_width_m: float = STREET_HALF_WIDTH_M,
    cell_m: float = CELL_M,
) -> shapely.Geometry:
    """Polygon covering every cell within ``half_width_m`` of a sample point."""
    if len(x) == 0:
        return shapely.Polygon()
    pad = half_width_m + 2 * cell_m
    x0, y1 = x.min() - pad, y.max() + pad
    cols = int(np.ceil((x.max() + pad - x0) / cell_m))
    rows = int(np.ceil((y1 - (y.min() - pad)) / cell_m))
    grid = np.zeros((rows, cols), dtype=bool)
    grid[((y1 - y) / cell_m).astype(np.int64), ((x - x0) / cell_m).astype(np.int64)] = True
    radius = max(1, int(round(half_width_m / cell_m)))
    grid = ndimage.binary_dilation(grid, structure=_disc(radius))
    transform = Affine(cell_m, 0, x0, 0, -cell_m, y1)
    parts = [
        shapely.geometry.shape(geom)
        for geom, value in rasterio.features.shapes(grid.astype(np.uint8), mask=grid,
                                                    transform=transform, connectivity=4)
        if value == 1
    ]
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def circle_polygons(
    net: CompiledNetwork,
    samples: EdgeSamples,
    node_dist: np.ndarray,
    budget_m: float,
    *,
    own_edge: np.ndarray,
    own_along_m: np.ndarray,
    own_budget_m: np.ndarray,
) -> list[shapely.Geometry]:
    """Street-following polygons for a batch of facilities.

    Parameters
    ----------
    node_dist
        Metres from each facility (rows) to every network node (columns), ``inf``
        beyond the search limit.
    budget_m
        The circle, in metres.
    own_edge, own_along_m, own_budget_m
        Per facility: the edge it is snapped to, its position along it (metres), and the
        budget left once its off-road walk is paid (metres).

    Returns
    -------
    list of shapely geometries
        One (Multi)Polygon per row, in the network's CRS.
    """
    polys = []
    for row in range(node_dist.shape[0]):
        hit = reached_samples(net, samples, node_dist[row], budget_m,
                              own_edge=int(own_edge[row]), own_along_m=float(own_along_m[row]),
                              own_budget_m=float(own_budget_m[row]))
        polys.append(samples_to_polygon(samples.x[hit], samples.y[hit]))
    return polys
