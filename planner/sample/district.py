"""Generating the synthetic sample district: all parts, assembled and placed in WGS84."""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import shapely

from planner._errors import InputError
from planner.sample.communities import (
    _apply_target,
    _communities_frame,
)
from planner.sample.facilities import (
    _facilities_frame,
)
from planner.sample.layout import (
    BOUNDARY_MARGIN_M,
    FACILITIES_PER_SIZE,
    NEW_NONRESIDENTIAL_P,
    OLD_NONRESIDENTIAL_P,
    OUTPUT_CRS,
    ROAD_CLASSES,
    SampleDistrict,
    _Layout,
    _make_layout,
    _polygons_to_wgs84,
    _projector,
    _river_polygon,
    _to_lonlat,
)
from planner.sample.roads import (
    _add_bridges,
    _add_gated,
    _add_new_area_lines,
    _add_old_town,
    _add_rural_roads,
    _add_villages,
    _assemble,
    _group_polygons,
    _Network,
    _old_town_groups,
    _old_town_nodes,
    _Parts,
    _rural_cells,
    _village_shapes,
)

log = logging.getLogger("planner.sample")

# --------------------------------------------------------------------------- public API


def _check_args(size: float, n_communities: int | None, n_facilities: int | None) -> None:
    """Reject sizes and counts that cannot make a district."""
    if not size >= 0.05:  # below this the parts no longer fit
        msg = f"size must be at least 0.05, not {size}"
        raise InputError(msg)
    if n_facilities is not None and n_facilities < 1:
        msg = f"n_facilities must be at least 1, not {n_facilities}"
        raise InputError(msg)
    if n_communities is not None and n_communities < 1:
        msg = f"n_communities must be at least 1, not {n_communities}"
        raise InputError(msg)


def generate_sample(
    *,
    seed: int = 42,
    size: float = 1.0,
    n_communities: int | None = None,
    n_facilities: int | None = None,
) -> SampleDistrict:
    """Generate the synthetic sample district.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed and arguments give identical data.
    size
        Area relative to the default district (about 5 x 4.5 km, some 7,000 road nodes,
        300 communities and 30 facilities); node and community counts scale linearly.
    n_communities
        Exact number of communities instead of the natural count for ``size``. More are
        made by splitting old-town groups into single blocks, fewer by leaving blocks,
        superblocks and villages unbuilt.
    n_facilities
        Exact number of facilities instead of ``30 * size``.

    Returns
    -------
    SampleDistrict
        Every layer in EPSG:4326; see :class:`SampleDistrict` for the columns.

    Raises
    ------
    InputError
        If ``size`` is below 0.05, a count is below 1, or ``n_communities`` is more
        than the blocks of this size can hold.
    """
    _check_args(size, n_communities, n_facilities)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    scale = float(np.sqrt(size))
    lay = _make_layout(scale, rng)
    parts = _Parts()
    old_xs, old_ys = _old_town_nodes(lay, rng)
    _add_old_town(parts, lay, old_xs, old_ys, rng)
    groups = _old_town_groups(lay, rng)
    old_mask = rng.random(len(groups)) >= OLD_NONRESIDENTIAL_P
    rows, cols = _add_new_area_lines(parts, lay)
    cj, ci = np.meshgrid(
        np.arange(len(lay.new_y) - 1), np.arange(len(lay.new_x) - 1), indexing="ij"
    )
    superblocks = np.c_[cj.ravel(), ci.ravel()]
    new_mask = rng.random(len(superblocks)) >= NEW_NONRESIDENTIAL_P
    south_ids, north_ids = _add_rural_roads(parts, lay, rows, rng)
    cells = _rural_cells(lay, south_ids, north_ids)
    shapes = _village_shapes(cells, rng)
    groups, (old_mask, new_mask, village_mask) = _apply_target(
        n_communities, groups, [old_mask, new_mask, shapes[5]], rng
    )
    old_polys = _group_polygons(old_xs, old_ys, groups[old_mask])
    new_polys, gates = _add_gated(parts, lay, superblocks[new_mask], rows=rows, cols=cols, rng=rng)
    village_polys = _add_villages(parts, cells, shapes, village_mask)
    _add_bridges(
        parts,
        lay,
        old_xs[-1],
        south_top_id=int(south_ids[-1]),
        north_bottom_id=int(rows[0]),
        rng=rng,
    )
    net = _assemble(parts, lay.east_m)
    district = _finish(
        lay,
        net,
        [old_polys, new_polys, village_polys],
        gates,
        n_facilities=n_facilities or max(1, round(FACILITIES_PER_SIZE * size)),
        rng=rng,
    )
    msg = (
        f"generated sample district seed={seed} size={size}: {len(net.nodes_xy):,} nodes, "
        f"{len(net.u):,} roads, {len(district.communities):,} communities, "
        f"{len(district.facilities):,} facilities in {time.perf_counter() - started:.1f} s"
    )
    log.info(msg)
    return district



def _finish(
    lay: _Layout,
    net: _Network,
    polys: list[np.ndarray],
    gates: np.ndarray,
    *,
    n_facilities: int,
    rng: np.random.Generator,
) -> SampleDistrict:
    """Transform everything to EPSG:4326 and build the GeoDataFrames."""
    offset, transformer = _projector(lay)
    lonlat = _to_lonlat(net.nodes_xy, offset, transformer)
    lines = shapely.linestrings(np.stack([lonlat[net.u], lonlat[net.v]], axis=1))
    roads = gpd.GeoDataFrame(
        {
            "road_id": np.arange(len(lines), dtype=np.int64),
            "road_class": np.array(ROAD_CLASSES)[net.cls],
        },
        geometry=lines,
        crs=OUTPUT_CRS,
    )
    comm = _communities_frame(lay, polys, offset, rng)
    _, gate_node = _locate(net.nodes_xy, gates[:, 1:])
    n_old = len(polys[0])
    gate_lonlat = lonlat[gate_node]
    gates_gdf = gpd.GeoDataFrame(
        {"community_id": comm["community_id"].to_numpy()[n_old + gates[:, 0].astype(int)]},
        geometry=gpd.points_from_xy(gate_lonlat[:, 0], gate_lonlat[:, 1]),
        crs=OUTPUT_CRS,
    )
    facilities = _facilities_frame(
        comm, lay, n_facilities, offset=offset, transformer=transformer, rng=rng
    )
    m = BOUNDARY_MARGIN_M
    outline = shapely.segmentize(shapely.box(-m, -m, lay.width_m + m, lay.height_m + m), 100.0)
    boundary = gpd.GeoDataFrame(
        {"name": ["synthetic sample district"]},
        geometry=_polygons_to_wgs84(np.array([outline]), offset).to_numpy(),
        crs=OUTPUT_CRS,
    )
    river = gpd.GeoDataFrame(
        {"name": ["river"]},
        geometry=_polygons_to_wgs84(np.array([_river_polygon(lay, rng)]), offset).to_numpy(),
        crs=OUTPUT_CRS,
    )
    comm = comm.drop(columns=["zone", "x_m", "y_m"])
    return SampleDistrict(roads, comm, gates_gdf, facilities, boundary, river)


def _locate(nodes_xy: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (found, index) of points ``xy`` among the lexsorted unique ``nodes_xy``."""
    keys = nodes_xy[:, 0] + 0j + 1j * nodes_xy[:, 1]
    wanted = xy[:, 0] + 1j * xy[:, 1]
    idx = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    found = keys[idx] == wanted
    if not found.all():
        msg = "internal error: a gate is not a road node"
        raise RuntimeError(msg)
    return found, idx

