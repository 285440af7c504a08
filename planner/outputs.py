"""Write an assessment to an output folder, atomically.

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
    the profile's coverage targets with value, threshold and pass/fail.
``streets.csv``
    per street (街道/乡镇): communities, households by service status, share meeting the
    standard, required, accessible and shortfall m² (see :func:`planner.gaps.street_table`).
``circle_pairs.csv``
    ``facility_id, community_id, distance_m, minutes``: every community inside every
    assessed facility's walking circle (the community's own circle minutes).
``rejects.csv``
    every input row that was not assessed, with file, row, column, value and reason.
``summary.json``
    see :func:`planner.pipeline.summarise`. Written last: its presence marks a
    complete output folder.
``gap_map.html``
    the self-contained gap map.

Every file is first written into a temporary folder beside ``out_dir`` and then moved
into place with :func:`os.replace`, ``summary.json`` last, so an interrupted run never
leaves a half-written GeoPackage that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from planner.maps import save_map
from planner.pipeline import Assessment, StudyArea

#: Every file a run may write; a rerun removes those it does not write again.
OUTPUT_FILES = ("communities.gpkg", "communities.csv", "facilities.gpkg", "targets.csv",
                "circle_pairs.csv", "streets.csv",
                "rejects.csv", "gap_map.html", "summary.json")
#: Output geographic CRS: files are written in WGS84 so they overlay any web map.
OUTPUT_CRS = "EPSG:4326"


def _rejects(area: StudyArea) -> pd.DataFrame:
    frames = [load.rejects.assign(layer=name) for name, load in area.loads.items()
              if len(load.rejects)]
    columns = ["layer", "file", "row", "column", "value", "reason"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    return out[[c for c in columns if c in out] + [c for c in out if c not in columns]]


def _for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy fit for GeoPackage: WGS84, the id as a column, objects as text."""
    out = gdf.to_crs(OUTPUT_CRS).reset_index()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if pd.isna(v) else str(v))
    return out


def _csv_frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    wgs = gdf.to_crs(OUTPUT_CRS)
    centre = gdf.geometry.representative_point().to_crs(OUTPUT_CRS)
    frame = pd.DataFrame(wgs.drop(columns=wgs.geometry.name)).reset_index()
    frame["lon"] = centre.x.round(7).to_numpy()
    frame["lat"] = centre.y.round(7).to_numpy()
    return frame


def write_outputs(
    result: Assessment,
    area: StudyArea,
    out_dir: str | Path,
    *,
    gap_map: folium.Map | None = None,
) -> dict[str, Path]:
    """Write every output file into ``out_dir`` (created if needed), atomically.

    Parameters
    ----------
    result
        From :func:`planner.pipeline.assess`.
    area
        The study area (for the rejects report).
    gap_map
        The gap map (from :func:`planner.maps.gap_map`), or ``None`` to skip it.

    Returns
    -------
    dict
        File name → path of every file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clear_partial(out)
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(dir=out, prefix=".partial-") as tmp_name:
        tmp = Path(tmp_name)
        _for_file(result.communities).to_file(tmp / "communities.gpkg", layer="communities",
                                              engine="pyogrio")
        _csv_frame(result.communities).to_csv(tmp / "communities.csv", index=False,
                                              encoding="utf-8-sig")
        _for_file(result.facilities).to_file(tmp / "facilities.gpkg", layer="facilities",
                                             engine="pyogrio")
        if result.isochrones is not None and len(result.isochrones):
            result.isochrones.to_crs(OUTPUT_CRS).to_file(
                tmp / "facilities.gpkg", layer="isochrones", engine="pyogrio")
        result.targets.to_csv(tmp / "targets.csv", index=False, encoding="utf-8-sig")
        if result.streets is not None:
            result.streets.to_csv(tmp / "streets.csv", index=False, encoding="utf-8-sig")
        result.costs.sort_values(["facility_id", "distance_m"]).to_csv(
            tmp / "circle_pairs.csv", index=False, encoding="utf-8-sig", float_format="%.2f")
        _rejects(area).to_csv(tmp / "rejects.csv", index=False, encoding="utf-8-sig")
        if gap_map is not None:
            save_map(gap_map, tmp / "gap_map.html")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, ensure_ascii=False, indent=2, default=_json_default),
            encoding="utf-8")
        stale = out / "summary.json"
        if stale.exists():
            stale.unlink()  # the old summary must not vouch for a mix of old and new files
        names = sorted(p.name for p in tmp.iterdir() if p.name != "summary.json")
        for name in set(OUTPUT_FILES) - set(names) - {"summary.json"}:
            (out / name).unlink(missing_ok=True)  # an earlier run's file not written now
        for name in [*names, "summary.json"]:
            os.replace(tmp / name, out / name)
            written[name] = out / name
    return written


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    msg = f"cannot write {type(value).__name__} to summary.json"
    raise TypeError(msg)


def clear_partial(out_dir: str | Path) -> None:
    """Remove temporary folders left by a run that was killed."""
    for p in Path(out_dir).glob(".partial-*"):
        shutil.rmtree(p, ignore_errors=True)
