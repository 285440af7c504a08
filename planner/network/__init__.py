"""The walking network: load it from any source, in one metric CRS.

Sources (all through osmnx's graph model, a ``networkx.MultiDiGraph``):

* a place name, fetched online from OpenStreetMap (``network_type="walk"``) and cached
  as GraphML (:func:`fetch_network`);
* an OpenStreetMap ``.osm`` XML file or a ``.osm.pbf`` file (converted to XML with
  pyosmium, then read by osmnx);
* a GraphML file written by osmnx or by planner;
* a file of road lines (GeoPackage, Shapefile, GeoJSON) turned into a graph by shared
  end points (:func:`graph_from_road_lines`).

Every graph leaves this module projected to a metric CRS chosen once for the study area
(``G.graph["crs"]``), with edge ``length`` in metres and a ``geometry`` for every edge.
Walking ignores one-way restrictions: the reach engine treats every edge as two-way.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import geopandas as gpd
import numpy as np
import platformdirs
import pyproj
import shapely

from planner import settings
from planner._errors import CRSError, InputError, NetworkError
from planner.crs import check_metric_crs, to_wgs84
from planner.io.layers import choose_layer
from planner.io.tables import gdal_reason, split_choice
from planner.network.osm import NOT_WALKABLE_HIGHWAYS as NOT_WALKABLE_HIGHWAYS
from planner.network.osm import _graph_from_pbf, graph_from_osm_xml
from planner.network.roads import NODE_TOLERANCE_M as NODE_TOLERANCE_M
from planner.network.roads import (
    RoadVertices,
    compile_road_vertices,
    match_end_points,
    read_vertices,
    target_crs,
)
from planner.network.store import (
    CompiledNetwork,
    cache_folder_for,
    compile_graph,
    file_key,
    load_compiled,
    save_compiled,
)

if TYPE_CHECKING:  # networkx is imported where a graph is built (not for a cached network)
    from collections.abc import Callable

    import networkx as nx

T = TypeVar("T")

log = logging.getLogger("planner")

ROAD_LINE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")
OSM_XML_SUFFIXES = (".osm", ".xml")


def load_network(
    source: str | Path,
    *,
    crs: str = "wgs84",
    metric_crs: str | pyproj.CRS | None = None,
    layer: str | None = None,
) -> nx.MultiDiGraph:
    """Load a walking network from a file and project it to a metric CRS.

    Parameters
    ----------
    source
        Path to a ``.osm``/``.xml``, ``.osm.pbf``, ``.graphml`` or road-line file
        (``.gpkg``, ``.shp``, ``.geojson``).
    crs
        Coordinate system the file is in, for road-line files: ``wgs84``, ``cgcs2000``,
        ``gcj02``, ``bd09`` or ``EPSG:nnnn``. OSM files are always WGS84; GraphML files
        carry their own CRS.
    metric_crs
        Projected CRS for the study area. By default the UTM zone of the network's centre.
    layer
        Layer of a multi-layer road-line file.

    Returns
    -------
    networkx.MultiDiGraph
        Projected graph: ``G.graph["crs"]`` is metric, every edge has ``length`` (metres)
        and a LineString ``geometry``.
    """
    path = Path(source)
    if not path.exists():
        msg = f"{path}: network file not found. Give a .osm, .osm.pbf, .graphml or road-line file."
        raise InputError(msg)
    name = path.name.lower()
    if name.endswith(".graphml"):
        G = _load_graphml(path)
    elif name.endswith(".pbf"):
        G = _graph_from_pbf(path)
    elif name.endswith(OSM_XML_SUFFIXES):
        G = graph_from_osm_xml(path)
    elif name.endswith(ROAD_LINE_SUFFIXES):
        lines = read_road_lines(path, layer=layer)
        return graph_from_road_lines(lines, crs=crs, metric_crs=metric_crs, source=path)
    else:
        msg = (f"{path}: unknown network format '{path.suffix}'. Use .osm, .osm.pbf, .graphml, "
               ".gpkg, .shp or .geojson.")
        raise InputError(msg)
    return project_network(G, metric_crs=metric_crs, source=path)


def _load_graphml(path: Path) -> nx.MultiDiGraph:
    """Read an osmnx GraphML file; a damaged or foreign one is a clear error."""
    import osmnx as ox  # noqa: PLC0415  (osmnx pulls in scikit-learn: import on use)

    try:
        return ox.load_graphml(path)
    except MemoryError:
        raise
    except Exception as exc:  # ParseError, KeyError, ValueError: cut short or not osmnx's
        msg = (f"{path}: cannot read as an osmnx GraphML network ({type(exc).__name__}: "
               f"{str(exc)[:200]}). The file may be cut short or not written by osmnx / "
               "`planner fetch`: fetch or export it again.")
        raise InputError(msg) from exc


def read_road_lines(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a road-line file, choosing the layer of a multi-layer GeoPackage.

    Raises
    ------
    InputError
        The file is empty, damaged or not of its format, or the layer does not exist.
    """
    name = _road_layer(path, layer)
    lines = _read_explained(path, lambda: gpd.read_file(path, layer=name, engine="pyogrio"))
    if not isinstance(lines, gpd.GeoDataFrame) or lines.geometry.name not in lines:
        msg = f"{path}: the file has no geometry column; a network needs road lines."
        raise InputError(msg)
    return lines


def read_road_vertices(path: Path, *, layer: str | None = None) -> RoadVertices:
    """Read only the vertices of a road-line file: all that compiling a network needs.

    The attribute columns are not read, and plain LineStrings are decoded straight into
    coordinate arrays (:func:`planner.network.roads.read_vertices`), several times faster
    than :func:`read_road_lines`; the lines and their order are the same.

    Raises
    ------
    InputError
        As :func:`read_road_lines`.
    """
    name = _road_layer(path, layer)
    lines = _read_explained(path, lambda: read_vertices(path, name))
    if lines is None:
        msg = f"{path}: the file has no geometry column; a network needs road lines."
        raise InputError(msg)
    return lines


def _road_layer(path: Path, layer: str | None) -> str | None:
    """The layer of a road-line file to read (an empty file is an error)."""
    if path.stat().st_size == 0:
        msg = f"{path}: the network file is empty (0 bytes). Export the road lines again."
        raise InputError(msg)
    choice = choose_layer(path, "network", layer, lines=True)
    if choice.note:
        log.warning("note: %s", choice.note)
    return choice.name


def _read_explained(path: Path, read: Callable[[], T]) -> T:
    """Call ``read``; a file it cannot read is an InputError saying why and what to do."""
    try:
        with warnings.catch_warnings():  # NaN vertices warn here; they are dropped later
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            return read()
    except MemoryError:
        raise
    except Exception as exc:  # pyogrio DataSourceError / DataLayerError and others
        msg = (f"{path}: cannot read the road lines ({type(exc).__name__}: "
               f"{gdal_reason(exc)[:200]}) "
               f"Check that it is a valid {path.suffix} file; for a GeoPackage with several "
               "layers, choose one with --network-layer.")
        raise InputError(msg) from exc


def project_network(
    G: nx.MultiDiGraph, *, metric_crs: str | pyproj.CRS | None = None, source: Path | None = None
) -> nx.MultiDiGraph:
    """Project a graph to a metric CRS and make sure every edge has a geometry and length."""
    if len(G) == 0:
        msg = (f"{source or 'network'}: the network has no walkable roads. "
               "Check the file or the area.")
        raise NetworkError(msg)
    import osmnx as ox  # noqa: PLC0415  (osmnx pulls in scikit-learn: import on use)

    crs = pyproj.CRS.from_user_input(G.graph.get("crs", "epsg:4326"))
    if not crs.is_projected:
        xs = np.fromiter((d["x"] for _, d in G.nodes(data=True)), float, len(G))
        ys = np.fromiter((d["y"] for _, d in G.nodes(data=True)), float, len(G))
        target = target_crs(metric_crs, (xs.min(), ys.min(), xs.max(), ys.max()))
        G = ox.project_graph(G, to_crs=target)
    elif metric_crs and check_metric_crs(metric_crs) != crs:
        G = ox.project_graph(G, to_crs=check_metric_crs(metric_crs))
    _fill_edge_geometry(G)
    log.info("network: %s nodes, %s edges in %s", f"{len(G):,}", f"{G.number_of_edges():,}",
             pyproj.CRS.from_user_input(G.graph["crs"]).name)
    return G


def _fill_edge_geometry(G: nx.MultiDiGraph) -> None:
    """Give straight edges a LineString and recompute every ``length`` in metres.

    The lines are built and measured on arrays (one shapely call each); only the
    attributes are written edge by edge.
    """
    # every edge's attribute dict, in G.edges() order, from the raw adjacency dicts
    datas = [data for _, nbrs in G.adjacency() for keyed in nbrs.values()
             for data in keyed.values()]
    geoms = np.empty(len(datas), dtype=object)
    geoms[:] = [data.get("geometry") for data in datas]
    straight = np.flatnonzero(shapely.is_missing(geoms))
    if len(straight):
        ends = [(u, v) for u, nbrs in G.adjacency() for v, keyed in nbrs.items()
                for _ in keyed]
        xy = np.array([[(G.nodes[n]["x"], G.nodes[n]["y"]) for n in ends[i]]
                       for i in straight.tolist()], dtype=float)
        geoms[straight] = shapely.linestrings(xy)
        for i in straight.tolist():
            datas[i]["geometry"] = geoms[i]
    for data, length in zip(datas, shapely.length(geoms).tolist(), strict=True):
        data["length"] = length


def graph_from_road_lines(
    lines: gpd.GeoDataFrame,
    *,
    crs: str = "wgs84",
    metric_crs: str | pyproj.CRS | None = None,
    source: Path | str | None = None,
) -> nx.MultiDiGraph:
    """Turn road lines into a walking graph by their shared end points.

    Lines are converted to WGS84 from the declared ``crs`` (so GCJ-02 or BD-09 road data
    meets OpenStreetMap-based data correctly), projected to the metric CRS, and their end
    points rounded to :data:`NODE_TOLERANCE_M`: two lines meet only where they share an
    end point. Lines that cross without a shared end point (bridges, underpasses) do not
    connect, as it should be.

    Parameters
    ----------
    lines
        LineString or MultiLineString geometries; other columns are kept as edge attributes.
    crs
        Declared coordinate system of ``lines`` when the file carries a geographic CRS or
        none (see :func:`planner.crs.to_wgs84`). A projected CRS on the file is used as is.

    Returns
    -------
    networkx.MultiDiGraph
        Graph in the metric CRS, one edge per line (two-way for walking).
    """
    projected = _project_road_lines(lines, crs=crs, metric_crs=metric_crs,
                                    where=source or "road lines")
    return _graph_from_projected_lines(projected)


def _road_line_arrays(
    lines: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and edges of projected road lines, matched by end points (vectorised).

    Returns ``(node_xy, u, v, geoms)``.
    """
    geoms = lines.geometry.to_numpy()
    starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
    ends = shapely.get_coordinates(shapely.get_point(geoms, -1))
    node_xy, u, v = match_end_points(starts, ends)
    return node_xy, u, v, geoms


def _graph_from_projected_lines(lines: gpd.GeoDataFrame) -> nx.MultiDiGraph:
    """Build the graph from projected LineStrings."""
    import networkx as nx  # noqa: PLC0415  (only when compiling: a cached network skips it)

    node_xy, u_idx, v_idx, geoms = _road_line_arrays(lines)
    G = nx.MultiDiGraph(crs=lines.crs)
    G.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(node_xy))
    lengths = shapely.length(geoms)
    attrs = lines.drop(columns=lines.geometry.name).to_dict("records")
    for i in range(len(geoms)):
        data = {**attrs[i], "geometry": geoms[i], "length": float(lengths[i])}
        G.add_edge(int(u_idx[i]), int(v_idx[i]), **data)
    log.info("road lines: %s lines -> %s nodes", f"{len(geoms):,}", f"{len(G):,}")
    return G


def _project_road_lines(
    lines: gpd.GeoDataFrame, *, crs: str, metric_crs: str | pyproj.CRS | None, where: object
) -> gpd.GeoDataFrame:
    """Road lines as single LineStrings in the metric CRS (converted from ``crs`` first)."""
    if len(lines) == 0:
        msg = f"{where}: the file has no road lines. A walking network needs roads."
        raise NetworkError(msg)
    lines = lines[~lines.geometry.isna() & ~lines.geometry.is_empty].explode(index_parts=False)
    lines = lines[lines.geom_type == "LineString"]
    lines = _drop_non_finite(lines, where)
    if len(lines) == 0:
        msg = f"{where}: no LineString geometries. A road-line file needs lines."
        raise NetworkError(msg)
    if lines.crs is not None and lines.crs.is_projected:
        wgs = lines.to_crs(4326)
    else:
        if lines.crs is not None and lines.crs.to_epsg() not in (4326, 4490) and crs == "wgs84":
            msg = f"{where}: lines are in {lines.crs.name}; declare their CRS with --network-crs."
            raise CRSError(msg)
        wgs = to_wgs84(lines.set_crs(4326, allow_override=True), crs)
    lon_min, lat_min, lon_max, lat_max = wgs.total_bounds
    return wgs.to_crs(target_crs(metric_crs, (lon_min, lat_min, lon_max, lat_max)))


def _drop_non_finite(lines: gpd.GeoDataFrame, where: object) -> gpd.GeoDataFrame:
    """Drop road lines with a NaN or infinite vertex, with a warning naming how many."""
    coords, idx = shapely.get_coordinates(lines.geometry.to_numpy(), return_index=True)
    bad = np.zeros(len(lines), dtype=bool)
    bad[np.unique(idx[~np.isfinite(coords).all(axis=1)])] = True
    if bad.any():
        log.warning("note: %s: %d road line(s) with a missing (NaN) or infinite vertex "
                    "dropped; fix their geometry to include them", where, int(bad.sum()))
    return lines[~bad]


def compile_network(
    source: str | Path,
    *,
    crs: str = "wgs84",
    metric_crs: str | pyproj.CRS | None = None,
    layer: str | None = None,
    cache_folder: Path | None = None,
    use_cache: bool = True,
) -> CompiledNetwork:
    """Load a network file straight into the reach engine's arrays, with a cache.

    The compiled arrays are cached as ``<cache_folder>/<file stem>-<key>.reach.npz``
    (see :func:`planner.network.store.cache_folder_for`), keyed by the file's path, size,
    modification time and the options; a changed file or option recompiles. Road-line files skip
    networkx entirely, so a city of a million nodes compiles in seconds.

    Returns
    -------
    planner.reach.CompiledNetwork
    """
    path, inline = split_choice(source)
    layer = layer or inline
    if not path.exists():
        msg = f"{path}: network file not found. Give a .osm, .osm.pbf, .graphml or road-line file."
        raise InputError(msg)
    key = file_key(path, crs, str(metric_crs), str(layer))
    folder = cache_folder_for(path, cache_folder) if use_cache else None
    cached = None if folder is None else folder / f"{_slug(path.stem)}-{key}.reach.npz"
    if cached is not None:
        net = load_compiled(cached, source_key=key)
        if net is not None:
            log.info("network: compiled cache %s (%s nodes)", cached, f"{net.n_nodes:,}")
            return net
    if path.name.lower().endswith(ROAD_LINE_SUFFIXES):
        net = compile_road_vertices(read_road_vertices(path, layer=layer), crs=crs,
                                    metric_crs=metric_crs, where=path)
    else:
        net = compile_graph(load_network(path, crs=crs, metric_crs=metric_crs, layer=layer))
    log.info("network: %s nodes, %s edges compiled", f"{net.n_nodes:,}", f"{net.n_edges:,}")
    if cached is not None:
        _save_quietly(net, cached, key)
    return net


def _save_quietly(net: CompiledNetwork, cached: Path, key: str) -> None:
    """Cache the compiled arrays; a cache that cannot be written only costs time."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        save_compiled(net, cached, source_key=key)
    except OSError as exc:
        log.warning("note: could not cache the compiled network in %s (%s)", cached.parent,
                    exc.strerror or type(exc).__name__)


def fetch_network(place: str, *, cache_folder: Path | None = None) -> Path:
    """Download the walking network of a place from OpenStreetMap and cache it as GraphML.

    Needs internet (osmnx queries Nominatim and Overpass). Offline, download a ``.osm``
    or ``.osm.pbf`` extract elsewhere and pass it to :func:`load_network`.

    Parameters
    ----------
    place
        A place name osmnx can geocode, e.g. ``"榆次区, 晋中市, 山西省, 中国"``.

    Returns
    -------
    pathlib.Path
        The cached GraphML file (unprojected WGS84, as osmnx saves it).
    """
    folder = Path(cache_folder or settings.cache_folder or _user_cache() / "downloads")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = (f"cannot create the download folder {folder} ({exc.strerror}). Give a writable "
               "folder with --cache-folder.")
        raise InputError(msg) from exc
    path = folder / f"{_slug(place)}.graphml"
    if path.exists():
        log.info("using cached network %s", path)
        return path
    G = _download(place)
    import osmnx as ox  # noqa: PLC0415  (osmnx pulls in scikit-learn: import on use)

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        ox.save_graphml(G, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("fetched %s nodes for %s into %s", f"{len(G):,}", place, path)
    return path


def _user_cache() -> Path:
    return Path(platformdirs.user_cache_dir("planner", appauthor=False))


def _download(place: str) -> nx.MultiDiGraph:
    """Ask OpenStreetMap for the walking network of ``place``; clear errors when offline."""
    import osmnx as ox  # noqa: PLC0415  (osmnx pulls in scikit-learn: import on use)
    import requests  # noqa: PLC0415

    ox.settings.cache_folder = str(_user_cache() / "osmnx-http")  # not ./cache in the cwd
    try:
        return ox.graph_from_place(place, network_type="walk", retain_all=True)
    except requests.exceptions.RequestException as exc:
        msg = (f"cannot download the network of {place!r}: no connection to OpenStreetMap "
               f"({type(exc).__name__}). Check the internet connection, or download a .osm.pbf "
               "extract elsewhere (e.g. download.geofabrik.de) and pass it to "
               "`planner run --network`.")
        raise NetworkError(msg) from exc
    except (ox._errors.InsufficientResponseError, ox._errors.ResponseStatusCodeError,
            TypeError, ValueError) as exc:
        msg = (f"OpenStreetMap found no usable walking network for {place!r} ({exc}). Check the "
               "place name (e.g. \"榆次区, 晋中市, 山西省, 中国\") or pass a .osm.pbf file to "
               "`planner run --network`.")
        raise NetworkError(msg) from exc


def _slug(text: str) -> str:
    """File-name-safe version of a place name (keeps Chinese characters)."""
    return re.sub(r"[^\w]+", "_", text, flags=re.UNICODE).strip("_") or "place"


def __getattr__(name: str) -> object:
    """``planner.network.ox`` is osmnx, imported on first use (it pulls in scikit-learn)."""
    if name == "ox":
        import osmnx  # noqa: PLC0415

        return osmnx
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
