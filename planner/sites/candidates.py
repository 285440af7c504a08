"""Candidate sites: read from a file, or generated on the network.

Yangjiang (001 §2) and Jinzhong (004 item 7) name idle public buildings as the first place
to look for new elderly-care space; a file of them is the usual input. Without one,
candidates are generated on network nodes, one per grid cell, optionally only near the
communities that fall short of the standard.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import crs as _crs
from planner._errors import InputError, MissingColumnError
from planner.io import read_table
from planner.io.geometry import LAT_NAMES, LON_NAMES
from planner.reach import CompiledNetwork
from planner.schema import FACILITY_KINDS

#: Id columns recognised in a candidates file, in order of preference.
ID_NAMES = ("candidate_id", "site_id", "id", "facility_id", "编号")
#: Default spacing of generated candidates (metres): a few minutes' walk apart.
DEFAULT_SPACING_M = 250.0


def read_candidates(path: str | Path, *, crs: str = "wgs84",
                    metric_crs: object | None = None) -> gpd.GeoDataFrame:
    """Read candidate sites (points) from a table or spatial file.

    Parameters
    ----------
    path
        CSV/XLSX with lon/lat columns, or GeoJSON/GeoPackage/Shapefile of points.
        Columns: ``candidate_id`` (or ``site_id``/``id``) required; ``name``, ``kind``
        (default ``station``), ``floor_area_m2`` (a fixed size) and ``max_floor_area_m2``
        optional.
    crs
        Declared coordinate system (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``, ``EPSG:n``).
    metric_crs
        Project to this CRS (the network's); WGS84 if ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``candidate_id``, with ``kind`` and point geometry.

    Raises
    ------
    InputError
        No id column, duplicate ids, missing coordinates or an unknown kind, naming the
        file, row and value.
    """
    path = Path(path)
    table = read_table(path)
    id_col = next((c for c in table.columns if str(c).strip().lower() in ID_NAMES), None)
    if id_col is None:
        msg = (f"{path}: no candidate id column; add a column 'candidate_id' "
               f"(found: {', '.join(map(str, table.columns))}).")
        raise MissingColumnError(msg)
    ids = table[id_col].astype(str).str.strip()
    dup = ids[ids.duplicated()]
    if len(dup):
        msg = (f"{path}: row {dup.index[0] + 2}, column {id_col}: candidate id {dup.iloc[0]!r} "
               "appears twice; give each candidate its own id.")
        raise InputError(msg)
    geoms = _points(table, path)
    out = gpd.GeoDataFrame(pd.DataFrame(table.drop(columns=[c for c in (
        id_col, getattr(table, "_geometry_column_name", None)) if c in table])).reset_index(
        drop=True), geometry=list(_crs.to_wgs84(geoms, crs).geometry), crs=4326)
    out.index = pd.Index(ids.to_numpy(), name="candidate_id")
    out["kind"] = out["kind"].fillna("station") if "kind" in out else "station"
    bad = out[~out["kind"].isin(list(FACILITY_KINDS))]
    if len(bad):
        row = int(np.flatnonzero(out.index == bad.index[0])[0]) + 2
        msg = (f"{path}: row {row}, column kind: unknown kind {bad['kind'].iloc[0]!r}; "
               f"use one of {', '.join(FACILITY_KINDS)}.")
        raise InputError(msg)
    for col in ("floor_area_m2", "max_floor_area_m2"):
        if col in out:
            raw = out[col]
            out[col] = pd.to_numeric(raw, errors="coerce")
            text = raw.astype(str).str.strip()
            junk = out[col].isna().to_numpy() & raw.notna().to_numpy() & (text != "").to_numpy()
            if junk.any():
                i = int(np.flatnonzero(junk)[0])
                msg = (f"{path}: row {i + 2}, column {col}: value {raw.iloc[i]!r} is not a "
                       "number of m²; give a number or leave it empty for the default size.")
                raise InputError(msg)
    return out.to_crs(metric_crs) if metric_crs is not None else out


def _points(table: pd.DataFrame, path: Path) -> gpd.GeoSeries:
    if isinstance(table, gpd.GeoDataFrame):
        geoms = table.geometry.reset_index(drop=True)
    else:
        cols = {str(c).strip().lower(): c for c in table.columns}
        lon = next((cols[n] for n in LON_NAMES if n in cols), None)
        lat = next((cols[n] for n in LAT_NAMES if n in cols), None)
        if lon is None or lat is None:
            msg = f"{path}: no lon/lat columns; add 'lon' and 'lat' (WGS84 degrees)."
            raise MissingColumnError(msg)
        x = pd.to_numeric(table[lon], errors="coerce")
        y = pd.to_numeric(table[lat], errors="coerce")
        geoms = gpd.GeoSeries(shapely.points(x.to_numpy(), y.to_numpy()), crs=None)
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0]) + 2
        msg = f"{path}: row {row}: no coordinates; fill lon/lat or drop the row."
        raise InputError(msg)
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    return geoms


def grid_candidates(
    net: CompiledNetwork,
    *,
    spacing_m: float = DEFAULT_SPACING_M,
    near: gpd.GeoSeries | None = None,
    near_m: float = 0.0,
    kind: str = "station",
) -> gpd.GeoDataFrame:
    """Candidate sites on network nodes: in each grid cell, the node nearest its centre.

    Parameters
    ----------
    net
        The compiled network (metric CRS).
    spacing_m
        Grid spacing (metres).
    near, near_m
        Keep only nodes within ``near_m`` metres (straight line) of these geometries,
        e.g. the communities short of the standard ("inside under-served areas").
    kind
        Facility kind of every candidate.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``candidate_id`` (``G<col>_<row>``), with ``kind``, ``node`` and point
        geometry on the node.
    """
    x, y = net.node_x, net.node_y
    keep = np.ones(len(x), dtype=bool)
    if near is not None:
        tree = shapely.STRtree(near.to_numpy())
        hit, _ = tree.query(shapely.points(x, y), predicate="dwithin", distance=near_m)
        keep[:] = False
        keep[hit] = True
    keep &= net.components == 0  # the main network: an island serves almost nobody
    nodes = np.flatnonzero(keep)
    col = np.floor(x[nodes] / spacing_m).astype(np.int64)
    row = np.floor(y[nodes] / spacing_m).astype(np.int64)
    off = np.hypot(x[nodes] - (col + 0.5) * spacing_m, y[nodes] - (row + 0.5) * spacing_m)
    order = np.lexsort((nodes, off, row, col))
    first = np.r_[True, (col[order][1:] != col[order][:-1]) | (row[order][1:] != row[order][:-1])]
    pick = order[first]
    ids = [f"G{c}_{r}" for c, r in zip(col[pick], row[pick], strict=True)]
    return gpd.GeoDataFrame(
        {"kind": kind, "node": nodes[pick]},
        index=pd.Index(ids, name="candidate_id"),
        geometry=shapely.points(x[nodes[pick]], y[nodes[pick]]), crs=net.pyproj_crs)
