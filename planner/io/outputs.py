"""Write an assessment to an output folder, atomically, never over a user's file.

The output schema is a contract (documented in the README):

``communities.gpkg`` (layer ``communities``) and ``communities.csv``
    one row per input community that passed validation, with the input columns and
    ``community_id, households, status, area_type, street, circle_minutes,
    access_points, snap_distance_m, network_component, nearest_facility_id,
    nearest_minutes, nearest_minutes_<kind>, facilities_within, accessible_m2,
    accessible_m2_per_100hh, required_m2_per_100hh, required_m2, shortfall_m2,
    standard_range, service_status``; the CSV adds ``lon, lat`` (WGS84 centroid).
``facilities.gpkg``
    layer ``facilities`` (``facility_id, name, kind, floor_area_m2, status,
    in_assessment, snap_distance_m, network_component, communities_served,
    households_served, m2_per_100hh_served, meets_min_size, street``) and layer
    ``isochrones`` (``facility_id, kind, minutes``, walking-circle polygons).
``targets.csv``
    the profile's targets with value, threshold and pass/fail, and (added) unit, reading,
    households weighting, the other reading, due year and status, verdict.
``timeline.csv``
    each target year by year as planned facilities open (see :func:`planner.judge.timeline`).
``streets.csv``
    per street (街道/乡镇): communities, households by service status, share meeting the
    standard, required, accessible and shortfall m².
``circle_pairs.csv``
    ``facility_id, community_id, distance_m, minutes``: every community inside every
    assessed facility's walking circle (the community's own circle minutes).
``rejects.csv``
    every input row that was not assessed, with layer, file, row, column, value, reason.
``summary.json``
    the run summary. Written last: its presence marks a complete output folder.
``gap_map.html``
    the self-contained gap map.

Every file is first written into a temporary folder inside ``out_dir`` (carrying the
planner's mark, see :mod:`planner.io.guard`) and then moved into place with
:func:`os.replace`, ``summary.json`` last, so an interrupted run never leaves a
half-written GeoPackage that looks complete. CSV files are safe to open in Excel
(:func:`planner.io.writers.write_csv`); numbers are rounded to a sensible precision and
JSON never holds NaN or Infinity. Every CSV (tables for people, opened in Excel) is
rounded (m² 0.1, minutes 0.01, shares 0.0001, metres 0.01); the GeoPackages keep full
precision for GIS, so that their columns add up exactly.

This module sits below the pipeline and the maps: it takes the assessment and the
study area duck-typed (the attributes listed in :func:`write_outputs`) and the map as
a function that writes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner._errors import InputError
from planner.io.guard import (
    Manifest,
    check_output_paths,
    clear_partial,
    make_partial,
    output_lock,
)
from planner.io.writers import to_json, write_csv

#: Every file a run may write; a rerun removes those it does not write again (if the
#: planner wrote them).
OUTPUT_FILES = ("communities.gpkg", "communities.csv", "facilities.gpkg", "targets.csv",
                "circle_pairs.csv", "streets.csv", "timeline.csv",
                "rejects.csv", "gap_map.html", "summary.json")
#: Output geographic CRS: files are written in WGS84 so they overlay any web map.
OUTPUT_CRS = "EPSG:4326"
REJECT_COLUMNS = ["layer", "file", "row", "column", "value", "reason"]
#: GDAL's switch for SQLite's fsync at each commit (see :func:`_without_fsync`).
_SYNC_OPTION = "OGR_SQLITE_SYNCHRONOUS"

__all__ = ["OUTPUT_CRS", "OUTPUT_FILES", "clear_partial", "refuse_foreign_outputs",
           "rejects_table", "write_outputs"]


def rejects_table(loads: dict[str, Any]) -> pd.DataFrame:
    """Every reject line of every input, with the input's role in ``layer``."""
    frames = [load.rejects.assign(layer=name) for name, load in loads.items()
              if len(load.rejects)]
    if not frames:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    extra = [c for c in out if c not in REJECT_COLUMNS]
    return out[[c for c in REJECT_COLUMNS if c in out] + extra]


def _for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy fit for GeoPackage: WGS84, the id as a column, objects as text."""
    out = gdf.to_crs(OUTPUT_CRS).reset_index()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if pd.isna(v) else str(v))
    return out


def _csv_frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    centre = gdf.geometry.representative_point().to_crs(OUTPUT_CRS)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index()  # no reprojection
    frame["lon"] = centre.x.round(7).to_numpy()
    frame["lat"] = centre.y.round(7).to_numpy()
    return frame


@contextmanager
def _without_fsync() -> Iterator[None]:
    """Write GeoPackages without SQLite's fsync at each commit (``OGR_SQLITE_SYNCHRONOUS``).

    The files go into a temporary folder and are moved into place only when all are
    written (``summary.json`` last), so an interrupted run never leaves a GeoPackage that
    looks complete, with or without fsync; the CSV files and the moves are not synced
    either. On a virtual disk, the fsyncs took most of the GeoPackages' writing time.
    A value the user set (environment or GDAL config) is left as it is.
    """
    import pyogrio  # noqa: PLC0415

    if pyogrio.get_gdal_config_option(_SYNC_OPTION) is not None:
        yield
        return
    pyogrio.set_gdal_config_options({_SYNC_OPTION: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_SYNC_OPTION: None})


def _write_all(tmp: Path, result: Any, loads: dict[str, Any],
               gap_map: Callable[[Path], object] | None) -> None:
    with _without_fsync():
        _for_file(result.communities).to_file(tmp / "communities.gpkg", layer="communities",
                                              engine="pyogrio")
    write_csv(_csv_frame(result.communities), tmp / "communities.csv")
    with _without_fsync():
        _for_file(result.facilities).to_file(tmp / "facilities.gpkg", layer="facilities",
                                             engine="pyogrio")
        if result.isochrones is not None and len(result.isochrones):
            result.isochrones.to_crs(OUTPUT_CRS).to_file(
                tmp / "facilities.gpkg", layer="isochrones", engine="pyogrio")
    write_csv(result.targets, tmp / "targets.csv")
    if getattr(result, "streets", None) is not None:
        write_csv(result.streets, tmp / "streets.csv")
    if getattr(result, "timeline", None) is not None:
        write_csv(result.timeline, tmp / "timeline.csv")
    write_csv(result.costs.sort_values(["facility_id", "distance_m"]),
              tmp / "circle_pairs.csv")
    write_csv(rejects_table(loads), tmp / "rejects.csv")
    if gap_map is not None:
        gap_map(tmp / "gap_map.html")
    (tmp / "summary.json").write_text(to_json(result.summary), encoding="utf-8")


def write_outputs(
    result: Any,
    area: Any,
    out_dir: str | Path,
    *,
    gap_map: Callable[[Path], object] | None = None,
) -> dict[str, Path]:
    """Write every output file into ``out_dir`` (created if needed), atomically.

    Parameters
    ----------
    result
        An assessment (:class:`planner.pipeline.Assessment`): ``communities``,
        ``facilities`` (GeoDataFrames), ``isochrones`` (GeoDataFrame or ``None``),
        ``targets``, ``costs``, ``streets`` (DataFrames) and ``summary`` (dict).
    area
        The study area: its ``loads`` (input role → reader result with ``rejects``).
    out_dir
        The output folder.
    gap_map
        A function writing the gap map to the path it is given, or ``None`` to skip it.

    Returns
    -------
    dict
        File name → path of every file written.

    Raises
    ------
    InputError
        ``out_dir`` is empty, cannot be written or holds an input file, another run is
        writing into it, or it holds a file with an output's name that the planner did
        not write.
    """
    loads = getattr(area, "loads", {})
    out = check_output_paths(out_dir, inputs=[getattr(v, "path", None) for v in loads.values()],
                             option="out_dir")
    with output_lock(out):
        clear_partial(out)
        manifest = Manifest.read(out, legacy=OUTPUT_FILES)
        tmp = make_partial(out)
        try:
            _write_all(tmp, result, loads, gap_map)
            return _move_into_place(tmp, out, manifest)
        finally:
            if tmp.exists():
                for p in tmp.iterdir():
                    p.unlink()
                tmp.rmdir()


def refuse_foreign_outputs(out_dir: str | Path, *, gap_map: bool = True,
                           manifest: Manifest | None = None,
                           names: Iterable[str] | None = None) -> None:
    """Refuse an output folder holding a user's file under an output's name.

    Called before computing (by :func:`planner.run.run_planner`) and again before the
    files are moved into place.

    Parameters
    ----------
    out_dir
        The output folder.
    gap_map
        Whether ``gap_map.html`` will be written.
    manifest
        The folder's manifest (read from the folder when ``None``).
    names
        The output names about to be written (default: every one in
        :data:`OUTPUT_FILES`).

    Raises
    ------
    InputError
        Listing those files and what to do.
    """
    out = Path(out_dir)
    if manifest is None:
        manifest = Manifest.read(out, legacy=OUTPUT_FILES)
    if names is None:
        names = [n for n in OUTPUT_FILES if gap_map or n != "gap_map.html"]
    foreign = manifest.foreign(names)
    if foreign:
        listed = ", ".join(foreign)
        msg = (f"--out {out} already holds {listed}, which planner did not write (or which was "
               "changed since): planner will not replace them. Move them away, or give a new "
               "--out folder.")
        raise InputError(msg)


def _move_into_place(tmp: Path, out: Path, manifest: Manifest) -> dict[str, Path]:
    names = sorted(p.name for p in tmp.iterdir() if p.name in OUTPUT_FILES)
    refuse_foreign_outputs(out, manifest=manifest, names=names)
    if manifest.owns("summary.json") or "summary.json" in manifest.legacy:
        (out / "summary.json").unlink()  # the old summary must not vouch for a mix of files
    sizes = {n: [(tmp / n).stat().st_size] for n in names}
    union = {n: sorted({*manifest.files.get(n, []), *sizes.get(n, [])})
             for n in {*manifest.files, *sizes}}
    manifest.write(union)  # during the moves, either version of a file is the planner's
    written: dict[str, Path] = {}
    for name in [n for n in names if n != "summary.json"]:
        os.replace(tmp / name, out / name)
        written[name] = out / name
    for name in set(OUTPUT_FILES) - set(names):
        if manifest.owns(name):
            (out / name).unlink()  # an earlier run's file not written now
    manifest.write(sizes)
    os.replace(tmp / "summary.json", out / "summary.json")
    written["summary.json"] = out / "summary.json"
    return written
