"""Which edges of a compiled network are stairs (OSM ``highway=steps``).

The compiled network keeps geometry, not tags, so stairs are found again by geometry:
an edge is stairs when its midpoint lies on (within :data:`MATCH_TOLERANCE_M` of) a
line tagged ``highway=steps`` in the network's source file. Compiled edges are the
source's lines (road-line files) or its simplified ways (OSM, GraphML), so their
midpoints lie exactly on the tagged lines.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from planner.crs import to_wgs84
from planner.reach import CompiledNetwork

#: An edge midpoint this close to a stairs line makes the edge stairs (metres).
MATCH_TOLERANCE_M = 0.5
#: The OSM tag value of stairs.
STEPS_VALUE = "steps"


def steps_mask(net: CompiledNetwork, stairs: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    """Boolean per edge of ``net``: its midpoint lies on one of the ``stairs`` lines.

    Parameters
    ----------
    net
        The compiled network.
    stairs
        Lines of stairs in the network's metric CRS.
    """
    geoms = np.asarray(getattr(stairs, "values", stairs), dtype=object)
    mask = np.zeros(net.n_edges, dtype=bool)
    if len(geoms) == 0 or net.n_edges == 0:
        return mask
    mid = shapely.line_interpolate_point(net.edge_geoms, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    edge_idx, _ = tree.query(mid, predicate="dwithin", distance=MATCH_TOLERANCE_M)
    mask[edge_idx] = True
    return mask


def _is_steps(values: object) -> bool:
    """``highway`` value (a string or an osmnx list) includes ``steps``."""
    if isinstance(values, list | tuple):
        return STEPS_VALUE in values
    return isinstance(values, str) and STEPS_VALUE in values.split(";")


def read_steps_mask(
    net: CompiledNetwork, network: str | Path, *, crs: str = "wgs84", layer: str | None = None,
) -> np.ndarray:
    """Stairs of the network file, as a boolean per edge of the compiled ``net``.

    Parameters
    ----------
    net
        The network compiled from ``network``.
    network
        The source file: road lines with a ``highway`` column, ``.osm``/``.osm.pbf`` or
        ``.graphml``. A road-line file without ``highway`` has no stairs.
    crs
        Declared CRS of a road-line file (as for the network).
    """
    path = Path(network)
    name = path.name.lower()
    if name.endswith((".gpkg", ".shp", ".geojson", ".json", ".fgb")):
        columns = pyogrio.read_info(path, layer=layer)["fields"]
        if "highway" not in list(columns):
            return np.zeros(net.n_edges, dtype=bool)
        lines = gpd.read_file(path, layer=layer, columns=["highway"], engine="pyogrio")
        lines = lines[lines["highway"].map(_is_steps)]
        if len(lines) == 0:
            return np.zeros(net.n_edges, dtype=bool)
        if lines.crs is not None and lines.crs.is_projected:
            metric = lines.to_crs(net.pyproj_crs)
        else:
            metric = to_wgs84(lines.set_crs(4326, allow_override=True), crs).to_crs(
                net.pyproj_crs)
        return steps_mask(net, metric.geometry)
    from planner.network import load_network  # noqa: PLC0415  (only for OSM/GraphML)

    G = load_network(path, metric_crs=net.pyproj_crs)
    geoms = [d["geometry"] for _, _, d in G.edges(data=True) if _is_steps(d.get("highway"))]
    return steps_mask(net, np.asarray(geoms, dtype=object))
