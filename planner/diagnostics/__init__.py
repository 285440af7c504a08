"""Whole-input checks that need more than one file: sizes, coverage, coordinate offsets.

The readers in :mod:`planner.io` judge each file on its own (columns, values, rows).
These checks compare files with each other and with the machine, so that a planner is
never shown a coverage figure that silently lost part of the district:

- :func:`check_memory` — before reading, compare each file's size with the memory
  available, using :data:`MEMORY_FACTORS` (how many bytes of memory one byte of file
  takes once read), and stop at once instead of after an hour of swapping.
- :func:`check_not_empty` — a layer whose every row was rejected stops the run, with
  the first reasons (the rejects table is never written in that case).
- :func:`reject_unknown_gates` — gates whose ``community_id`` is not a valid community
  are moved to the rejects table with a reason, instead of being ignored.
- :func:`check_within_network` — points outside the network's area (its bounding box
  grown by :data:`OUTSIDE_MARGIN_M`) are reported; if most of a layer is outside, the
  run stops: the files do not describe the same place.
- :func:`~planner.diagnostics.offsets.check_offsets` — GCJ-02 (Amap, Tencent) or BD-09 (Baidu)
  coordinates declared as WGS84 sit a few hundred metres off the roads, consistently.
  The median distance of a layer's points to the nearest edge is compared with the
  same after the other possible conversions; a conversion that brings the points
  clearly closer to the streets is reported (a warning and a note in ``summary.json``
  and on the map).

Every function returns notes (one line each) for :attr:`planner.pipeline.StudyArea.notes`
or raises :class:`~planner._errors.InputError` with the file, the values and the fix.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import pyproj
import shapely

from planner import crs as _crs
from planner._errors import CRSError, InputError
from planner.diagnostics.offsets import (  # noqa: F401 - re-exported: diagnostics is their public home
    CRS_OPTIONS,
    OFFSET_CLEAR_GAIN_M,
    OFFSET_MIN_GAIN_M,
    OFFSET_MIN_POINTS,
    OFFSET_MIN_RATIO,
    OFFSET_ON_STREET_M,
    OFFSET_SAMPLE_POINTS,
    _declared_kind,
    check_offsets,
    median_road_distance,
    offset_distances,
)

if TYPE_CHECKING:
    from planner.io import LoadResult
    from planner.reach import CompiledNetwork

log = logging.getLogger("planner")

#: Memory needed to read a file, as a multiple of its size on disk (measured roughly on
#: the sample and the real extracts, rounded up): text tables become Python strings and
#: pandas objects (×10); GeoPackage and Shapefile are compact binary (×20); OSM XML
#: becomes a networkx graph through osmnx (×15); ``.osm.pbf`` is compressed about ten
#: times and is converted to XML first (×150); XLSX is zipped XML read by openpyxl (×50).
MEMORY_FACTORS: dict[str, float] = {
    ".csv": 10, ".txt": 10, ".tsv": 10, ".geojson": 10, ".json": 10,
    ".gpkg": 20, ".shp": 20, ".fgb": 20, ".xlsx": 50, ".xlsm": 50,
    ".osm": 15, ".xml": 15, ".graphml": 15, ".pbf": 150,
}
#: Factor for a suffix not listed in :data:`MEMORY_FACTORS`.
DEFAULT_MEMORY_FACTOR = 20.0
#: A point farther than this beyond the network's bounding box is "outside" (metres).
OUTSIDE_MARGIN_M = 1_000.0
#: Above this share of a layer outside the network's area, the run stops.
OUTSIDE_MAX_SHARE = 0.5
#: Ids listed in a message.
SHOW_IDS = 5
_WHAT = {"communities": "communities", "facilities": "facilities", "gates": "gates"}
_CONSEQUENCE = {
    "communities": "they will be 'unreachable' in the results",
    "facilities": "they will serve no community",
    "gates": "those gates will not be used",
}


# ---------------------------------------------------------------------------
# declarations and memory


def check_declarations(declared: dict[str, str]) -> None:
    """Fail before any reading when a declared coordinate system is unknown.

    Parameters
    ----------
    declared
        Role (``network``, ``communities``, ``facilities``, ``gates``) → declaration.

    Raises
    ------
    CRSError
        Naming the option (``--communities-crs``…), the value and the accepted ones.
    """
    for role, value in declared.items():
        try:
            _crs.parse_declared(value)
        except CRSError as exc:
            msg = f"{CRS_OPTIONS[role]} {value!r} (the {role} file's coordinates): {exc}"
            raise CRSError(msg) from exc


def available_memory_bytes() -> int | None:
    """Memory available to a new process, in bytes (``None`` if unknown).

    :func:`psutil.virtual_memory` ``available`` (free memory plus reclaimable cache, on
    Linux, Windows and macOS alike). Tests monkeypatch this function.
    """
    try:
        return int(psutil.virtual_memory().available)
    except (OSError, RuntimeError, AttributeError):
        return None


def _size_text(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes:.0f} bytes"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".pbf" if name.endswith(".pbf") else path.suffix.lower()


def _file_bytes(path: Path) -> int:
    """Size on disk; a Shapefile counts its ``.dbf`` attribute table too."""
    size = path.stat().st_size
    if path.suffix.lower() == ".shp" and path.with_suffix(".dbf").is_file():
        size += path.with_suffix(".dbf").stat().st_size
    return size


def memory_needed(path: str | Path) -> int:
    """Estimated memory (bytes) to read ``path``: its size × :data:`MEMORY_FACTORS`."""
    path = Path(path)
    factor = MEMORY_FACTORS.get(_suffix(path), DEFAULT_MEMORY_FACTOR)
    return int(_file_bytes(path) * factor)


def check_memory(path: str | Path | None, *, role: str) -> None:
    """Raise InputError before reading a file too big for the memory available.

    Parameters
    ----------
    path
        The input file (missing files are left to the readers, which name them).
    role
        ``network``, ``communities``, ``facilities`` or ``gates`` (chooses the advice).

    Raises
    ------
    InputError
        The estimated memory (:func:`memory_needed`) exceeds
        :func:`available_memory_bytes`.
    """
    if path is None or not Path(path).is_file():
        return
    path = Path(path)
    available = available_memory_bytes()
    needed = memory_needed(path)
    if available is None or needed <= available:
        return
    factor = MEMORY_FACTORS.get(_suffix(path), DEFAULT_MEMORY_FACTOR)
    if role == "network":
        advice = ("clip it to the district first (osmium extract -b "
                  "lon_min,lat_min,lon_max,lat_max city.osm.pbf -o district.osm.pbf), "
                  "or fetch only the district with `planner fetch --place`")
    else:
        advice = ("keep only the district's rows and the columns the planner needs "
                  "(ids, households or kind and floor area, coordinates), or assess the "
                  "district street by street")
    msg = (f"{path} is {_size_text(_file_bytes(path))}; reading it needs about "
           f"{_size_text(needed)} of memory ({factor:g}× the file size for "
           f"{_suffix(path) or 'such'} files), this machine has {_size_text(available)} "
           f"available: {advice}.")
    raise InputError(msg)


# ---------------------------------------------------------------------------
# empty layers and orphan gates


def check_not_empty(load: LoadResult, *, what: str, role: str) -> None:
    """Raise InputError when every row of a required layer was rejected.

    The message gives the first reasons, because no rejects table is written.
    """
    if len(load.data):
        return
    first = load.rejects.drop_duplicates("row").head(SHOW_IDS)
    reasons = "; ".join(f"row {r.row} {r.column} {r.value!r}: {r.reason}"
                        for r in first.itertuples())
    option = f"--{role}"
    msg = (f"{load.path}: no usable {what}: all {load.rows_read} rows were rejected "
           f"(first problems: {reasons or 'none recorded'}). Fix these values or the column "
           f"headers (see README 'Inputs'), or pass the right file with {option}.")
    raise InputError(msg)


def _kept_rows(load: LoadResult) -> np.ndarray:
    """Excel row numbers of the kept rows, in order (the readers keep file order)."""
    if len(getattr(load, "kept_rows", [])) == len(load.data):
        return np.asarray(load.kept_rows, dtype="int64")
    rejected = set(load.rejects["row"].astype(int)) if len(load.rejects) else set()
    rows = np.arange(2, load.rows_read + 2)
    return rows[~np.isin(rows, list(rejected))]


def reject_unknown_gates(gates: LoadResult, communities: pd.Index | gpd.GeoDataFrame, *,
                         communities_path: Path) -> LoadResult:
    """Move gates of no valid community, or too far from it, to the rejects table.

    Parameters
    ----------
    gates
        The gates as read.
    communities
        The valid communities (WGS84), or only their ids (then distances are not checked).
    communities_path
        The communities file (for the reasons).

    Returns
    -------
    LoadResult
        A copy with those gates removed from ``data`` and added to ``rejects`` (file,
        row, column, value, reason), so read = written + rejected still holds. A gate
        farther than :data:`GATE_MAX_DISTANCE_M` from its community's outline (or point)
        is rejected: it would make the community reachable from the wrong street.
    """
    ids = communities if isinstance(communities, pd.Index) else communities.index
    data = gates.data
    unique = ids if ids.is_unique else ids.unique()  # a hash lookup: Series.isin on
    unknown = pd.Series(unique.get_indexer(data["community_id"]) < 0,  # Arrow strings is slow
                        index=data.index)
    far, distance = _far_gates(data, communities, unknown)
    bad = unknown | far
    if not bad.any():
        return gates
    rows = _kept_rows(gates)
    reasons = np.where(
        unknown.to_numpy(),
        f"no valid community with this community_id in {communities_path.name} "
        "(missing there, or rejected: see its rows in rejects.csv)",
        [f"gate {d:,.0f} m from its community (more than {GATE_MAX_DISTANCE_M:,.0f} m): "
         "wrong community_id or coordinates" for d in distance])
    pick = np.flatnonzero(bad.to_numpy())
    lines = pd.DataFrame({
        "file": str(gates.path), "row": rows[pick].astype("int64"),
        "column": np.where(unknown.to_numpy()[pick], "community_id", "geometry"),
        "value": data["community_id"].astype(str).to_numpy()[pick],
        "reason": reasons[pick],
    })
    rejects = pd.concat([gates.rejects, lines], ignore_index=True) if len(gates.rejects) else lines
    rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
    kept = data[~bad].reset_index(drop=True).rename_axis(data.index.name)
    log.warning("%s: %d gates refer to unknown communities, %d lie too far from theirs "
                "(rejected)", gates.path.name, int(unknown.sum()), int(far.sum()))
    return replace(gates, data=kept, rejects=rejects,
                   kept_rows=[int(r) for r in rows[~bad.to_numpy()]])


#: A gate farther than this from its community's outline or point is rejected (metres).
GATE_MAX_DISTANCE_M = 500.0


def _far_gates(data: gpd.GeoDataFrame, communities: pd.Index | gpd.GeoDataFrame,
               unknown: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Which gates lie beyond :data:`GATE_MAX_DISTANCE_M` of their community, and how far."""
    distance = np.zeros(len(data))
    if isinstance(communities, pd.Index) or not (~unknown).any():
        return pd.Series(False, index=data.index), distance
    known = data[~unknown]
    x0, y0, x1, y1 = known.total_bounds
    metric = _crs.metric_crs_for(x0, y0, x1, y1)
    gates_m = known.to_crs(metric).geometry.to_numpy()
    ids = pd.unique(known["community_id"])  # only the communities with gates are projected
    owners = (communities.geometry.reindex(ids).to_crs(metric)
              .reindex(known["community_id"]).to_numpy())
    distance[~unknown.to_numpy()] = shapely.distance(gates_m, owners)
    far = pd.Series(distance > GATE_MAX_DISTANCE_M, index=data.index) & ~unknown
    return far, distance


# ---------------------------------------------------------------------------
# points against the network


def _points(layer: gpd.GeoDataFrame) -> np.ndarray:
    """Return a representative point of every geometry (object array, layer's CRS)."""
    return layer.geometry.representative_point().to_numpy()


def _network_bounds(net: CompiledNetwork) -> tuple[float, float, float, float]:
    return (float(net.node_x.min()), float(net.node_y.min()), float(net.node_x.max()),
            float(net.node_y.max()))


def _lonlat_bounds(net: CompiledNetwork) -> str:
    x0, y0, x1, y1 = _network_bounds(net)
    to_wgs = pyproj.Transformer.from_crs(net.pyproj_crs, 4326, always_xy=True)
    lon0, lat0, lon1, lat1 = to_wgs.transform_bounds(x0, y0, x1, y1)  # all edges, not 2 corners
    return f"lon {lon0:.4f}–{lon1:.4f}, lat {lat0:.4f}–{lat1:.4f}"


def _ids_text(index: pd.Index) -> str:
    shown = ", ".join(str(i) for i in index[:SHOW_IDS])
    return shown + (f" … (+{len(index) - SHOW_IDS} more)" if len(index) > SHOW_IDS else "")


def check_within_network(net: CompiledNetwork, layer: gpd.GeoDataFrame, *, role: str,
                         path: Path, network_path: Path | str) -> list[str]:
    """Report points beyond the network's bounding box grown by :data:`OUTSIDE_MARGIN_M`.

    Parameters
    ----------
    net
        The compiled network.
    layer
        The layer in the network's metric CRS.
    role
        ``communities``, ``facilities`` or ``gates``.
    path, network_path
        The layer's and the network's files (for the messages).

    Returns
    -------
    list of str
        One note when some points are outside (also logged as a warning).

    Raises
    ------
    InputError
        More than :data:`OUTSIDE_MAX_SHARE` of the layer is outside.
    """
    if len(layer) == 0 or net.n_nodes == 0:
        return []
    x0, y0, x1, y1 = _network_bounds(net)
    pts = shapely.get_coordinates(_points(layer))
    m = OUTSIDE_MARGIN_M
    outside = ((pts[:, 0] < x0 - m) | (pts[:, 0] > x1 + m)
               | (pts[:, 1] < y0 - m) | (pts[:, 1] > y1 + m))
    n_out, n = int(outside.sum()), len(layer)
    if n_out == 0:
        return []
    ids = layer.index[outside]
    what = _WHAT[role]
    option = CRS_OPTIONS[role]
    if n_out > OUTSIDE_MAX_SHARE * n:
        first = layer.to_crs(4326).geometry.representative_point()[outside].iloc[0]
        msg = (f"{path}: {n_out} of {n} {what} ({100 * n_out / n:.0f}%) lie outside the area of "
               f"the road network {network_path} ({_lonlat_bounds(net)}, plus "
               f"{m / 1000:g} km), e.g. {ids[0]} at lon {first.x:.5f}, lat {first.y:.5f}. "
               f"The two files do not cover the same place: check that this is the right "
               f"file for this network (or fetch/clip a network covering it), and that "
               f"{option} declares the coordinates correctly (wgs84, gcj02, bd09, or "
               "EPSG:nnnn for projected metres).")
        raise InputError(msg)
    note = (f"{path.name}: {n_out} of {n} {what} lie outside the road network's area "
            f"(more than {m / 1000:g} km beyond it): {_ids_text(ids)}; {_CONSEQUENCE[role]}. "
            f"Check that the network covers the whole district (wrong or clipped network "
            f"file?) and that {option} is right.")
    log.warning(note)
    return [note]


def _rows_of(warnings: list[str]) -> str:
    rows = [w.split(" row ", 1)[1].split(":", 1)[0] for w in warnings if " row " in w]
    return ", ".join(rows[:SHOW_IDS]) + (" …" if len(rows) > SHOW_IDS else "")


def repair_notes(load: LoadResult) -> list[str]:
    """One note per file for the polygons repaired and one for the years read as unknown."""
    repaired = [w for w in load.warnings if "make_valid" in w]
    years = [w for w in load.warnings if "completion_year" in w]
    notes = []
    if repaired:
        notes.append(f"{load.path.name}: {len(repaired)} invalid (self-intersecting) "
                     f"polygon(s) repaired with make_valid (rows {_rows_of(repaired)}); "
                     "check their shapes")
    if years:
        notes.append(f"{load.path.name}: completion_year unreadable in {len(years)} row(s) "
                     f"(rows {_rows_of(years)}): treated as unknown, so those communities "
                     "take their status column, else old; correct the years to be sure")
    return notes


def diagnose_layers(net: CompiledNetwork, loads: dict[str, LoadResult],
                    layers: dict[str, gpd.GeoDataFrame], *, declared: dict[str, str],
                    network_path: Path | str) -> list[str]:
    """Run :func:`check_within_network` and :func:`check_offsets` on every layer.

    ``layers`` are in the network's metric CRS, ``loads[role].data`` in WGS84. The
    notes also carry what each reader noted (layer or sheet chosen, encoding guessed)
    and, for communities, points piled on one spot.
    """
    from planner.notes import clustered_notes  # noqa: PLC0415 - a sibling, kept lazy

    road_lines = str(network_path).lower().endswith((".gpkg", ".shp", ".geojson", ".json",
                                                      ".fgb"))
    offset_possible = road_lines and _declared_kind(declared.get("network", "wgs84")) == "wgs84"
    notes: list[str] = []
    for role, layer in layers.items():
        load = loads[role]
        notes += list(getattr(load, "notes", []))
        notes += repair_notes(load)
        if role == "communities":
            notes += clustered_notes(load.data, what="communities", path=load.path)
        notes += check_within_network(net, layer, role=role, path=load.path,
                                      network_path=network_path)
        notes += check_offsets(net, load.data, role=role, path=load.path,
                               declared=declared[role], network_may_be_offset=offset_possible)
    return notes
