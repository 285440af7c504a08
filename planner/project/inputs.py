"""Projects from the command line or a projects file (CSV/XLSX, one project a row).

Coordinates are declared like every other input (``wgs84``, ``cgcs2000``, ``gcj02``,
``bd09``, ``EPSG:nnnn``), converted to WGS84 by :mod:`planner.crs`, then projected to the
district network's metric CRS. A bad row of a projects file is rejected with file, row
(as in Excel: header = row 1), column, value and reason; it is never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planner._errors import InputError, MissingColumnError
from planner.crs import out_of_china, to_wgs84
from planner.io import LAT_NAMES, LON_NAMES, normalise_header, read_table
from planner.io.tables import is_blank
from planner.project.model import DATE_FIELDS, Project, make_project

#: Header aliases of a projects file (normalised headers → field).
PROJECT_ALIASES: dict[str, str] = {
    "project_id": "project_id", "id": "project_id", "项目编号": "project_id",
    "编号": "project_id", "name": "name", "项目名称": "name", "名称": "name",
    "households": "households", "户数": "households", "总户数": "households",
    "status": "status", "类型": "status", "项目类型": "status", "area_type": "area_type",
    "城乡": "area_type", "facility_m2": "facility_m2", "配建面积": "facility_m2",
    "养老设施面积": "facility_m2", "facility_kind": "facility_kind", "设施类型": "facility_kind",
    "facility_location": "facility_location", "设施位置": "facility_location",
    "facility_lon": "facility_lon", "设施经度": "facility_lon",
    "facility_lat": "facility_lat", "设施纬度": "facility_lat",
    "few_elderly": "few_elderly", "老年人口较少": "few_elderly", "wkt": "wkt",
    "elderly": "elderly", "老年人口": "elderly", "60岁以上人口": "elderly",
    "planning_approval": "planning_approval", "规划审批日期": "planning_approval",
    "housing_completion": "housing_completion", "竣工验收日期": "housing_completion",
    "facility_acceptance": "facility_acceptance", "设施验收日期": "facility_acceptance",
    "handover": "handover", "移交日期": "handover",
    **{n: "lon" for n in LON_NAMES}, **{n: "lat" for n in LAT_NAMES},
}
#: Columns a projects file must have (besides lon/lat or wkt).
PROJECT_REQUIRED = ("project_id", "households")
#: Columns of the rejects table.
REJECT_COLUMNS = ("layer", "file", "row", "column", "value", "reason")


def to_metric(
    geoms: list[BaseGeometry] | gpd.GeoSeries, crs: str, metric_crs: Any, where: str
) -> list[BaseGeometry]:
    """Geometries in a declared coordinate system → the district's metric CRS.

    A GeoSeries with its own CRS (a spatial file) keeps it when ``crs`` is ``wgs84``.
    Raises InputError when a point lies outside China (swapped lon/lat, or wrong system).
    """
    series = geoms if isinstance(geoms, gpd.GeoSeries) else gpd.GeoSeries(list(geoms))
    wgs = to_wgs84(series, crs)
    pts = wgs.geometry.representative_point()
    outside = out_of_china(pts.x.to_numpy(), pts.y.to_numpy())
    if outside.any():
        p = pts[outside].iloc[0]
        msg = (f"{where}: coordinates ({p.x:.6f}, {p.y:.6f}) lie outside China. Check "
               "that longitude and latitude are not swapped and that the coordinate "
               f"system ({crs}) is right.")
        raise InputError(msg)
    return list(wgs.to_crs(metric_crs).geometry)


def lonlat_point(lon: Any, lat: Any, field: str, where: str) -> BaseGeometry:
    """A point from lon/lat values (numbers or text)."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        msg = f"{where}: {field} lon/lat = {lon!r}, {lat!r}: not numbers."
        raise InputError(msg) from None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        msg = (f"{where}: {field} lon/lat = {lon!r}, {lat!r}: not degrees (lon −180…180, "
               "lat −90…90); are they swapped or projected metres?")
        raise InputError(msg)
    return shapely.Point(x, y)


def parse_gate(text: str) -> BaseGeometry:
    """A gate given as ``"lon,lat"``."""
    parts = [p.strip() for p in str(text).replace("，", ",").split(",")]
    if len(parts) != 2:
        msg = f"--gate {text!r}: write a gate as LON,LAT (e.g. --gate 112.7512,37.6871)."
        raise InputError(msg)
    return lonlat_point(parts[0], parts[1], "gate", "--gate")


def read_boundary(path: str | Path) -> gpd.GeoSeries:
    """The project's boundary: every polygon of a spatial file (or a CSV ``wkt`` column).

    Returns the geometries with the file's CRS (None for a CSV); several polygons are
    merged into one site.
    """
    table = read_table(path)
    if isinstance(table, gpd.GeoDataFrame):
        geoms = table.geometry
    else:
        cols = {normalise_header(c): c for c in table.columns}
        if "wkt" not in cols:
            msg = (f"{path}: no boundary. Give a GeoJSON/GeoPackage/Shapefile polygon, or a "
                   f"CSV with a 'wkt' column. Columns found: {', '.join(map(str, table.columns))}.")
            raise MissingColumnError(msg)
        geoms = gpd.GeoSeries(shapely.from_wkt(table[cols["wkt"]].astype(str).to_numpy(),
                                               on_invalid="ignore"))
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.any():
        msg = f"{path}: the file holds no polygon; a project boundary must be a polygon."
        raise InputError(msg)
    union = shapely.make_valid(shapely.union_all(geoms[polygonal].to_numpy()))
    return gpd.GeoSeries([union], crs=geoms.crs)


@dataclass
class ProjectRows:
    """What :func:`read_projects` returns.

    Attributes
    ----------
    projects
        ``(row, project)`` for each usable row (Excel row numbers).
    rejects
        One line per problem: :data:`REJECT_COLUMNS`.
    rows_read
        Data rows in the file (``len(projects)`` + rejected rows).
    """

    projects: list[tuple[int, Project]]
    rejects: pd.DataFrame
    rows_read: int


def read_projects(path: str | Path, *, crs: str, metric_crs: Any) -> ProjectRows:
    """Read a projects file: one project a row.

    Columns (Chinese headers recognised, see :data:`PROJECT_ALIASES`): ``project_id``,
    ``households`` (required); ``lon``/``lat`` or ``wkt`` (the site, required);
    ``name``, ``status`` (new/old, default new), ``area_type``, ``facility_m2`` (0 or
    empty: none), ``facility_kind``, ``facility_location`` (inside/outside),
    ``facility_lon``/``facility_lat``, ``few_elderly``, ``elderly`` and the dates
    ``planning_approval``, ``housing_completion``, ``facility_acceptance``, ``handover``.

    Raises
    ------
    InputError
        A missing file or a missing required column (whole-file problems).
    """
    path = Path(path)
    table = read_table(path)
    if isinstance(table, gpd.GeoDataFrame):
        table = pd.DataFrame(table.assign(wkt=table.geometry.to_wkt()).drop(
            columns=table.geometry.name))
    renamed = {c: PROJECT_ALIASES.get(normalise_header(c), normalise_header(c))
               for c in table.columns}
    table = table.rename(columns=renamed)
    missing = [c for c in PROJECT_REQUIRED if c not in table.columns]
    if "wkt" not in table.columns and not {"lon", "lat"} <= set(table.columns):
        missing.append("lon/lat (or wkt)")
    if missing:
        msg = (f"{path}: missing column(s) {', '.join(missing)}. Columns found: "
               f"{', '.join(map(str, table.columns))}. See `planner check-project --help`.")
        raise MissingColumnError(msg)
    projects: list[tuple[int, Project]] = []
    rejects: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, rec in enumerate(table.to_dict("records")):
        row = i + 2
        where = f"{path.name} row {row}"
        try:
            project = _row_project(rec, where, crs, metric_crs)
            if project.project_id in seen:
                msg = (f"{where}: project_id {project.project_id!r} appears twice; "
                       "ids must be unique.")
                raise InputError(msg)
            seen.add(project.project_id)
            projects.append((row, project))
        except InputError as exc:
            column, value = _blame(str(exc), rec)
            rejects.append({"layer": "projects", "file": str(path), "row": row,
                            "column": column, "value": value, "reason": str(exc)})
    return ProjectRows(projects, pd.DataFrame(rejects, columns=list(REJECT_COLUMNS)), len(table))


def _row_project(rec: dict[str, Any], where: str, crs: str, metric_crs: Any) -> Project:
    if "wkt" in rec and isinstance(rec["wkt"], str) and rec["wkt"].strip():
        geom = shapely.from_wkt(rec["wkt"], on_invalid="ignore")
        if geom is None or geom.is_empty:
            msg = f"{where}: wkt = {rec['wkt'][:60]!r}: not a readable geometry."
            raise InputError(msg)
    else:
        if is_blank(rec.get("lon")) or is_blank(rec.get("lat")):
            msg = f"{where}: lon/lat = {rec.get('lon')!r}, {rec.get('lat')!r}: the site is missing."
            raise InputError(msg)
        geom = lonlat_point(rec.get("lon"), rec.get("lat"), "site", where)
    site = to_metric([geom], crs, metric_crs, where)[0]
    fpoint = None
    if not is_blank(rec.get("facility_lon")) or not is_blank(rec.get("facility_lat")):
        fpoint = to_metric([lonlat_point(rec.get("facility_lon"), rec.get("facility_lat"),
                                         "facility", where)], crs, metric_crs, where)[0]
    return make_project(
        project_id=_id(rec.get("project_id")), households=rec.get("households"), geometry=site,
        status=rec.get("status"), name=rec.get("name"), area_type=rec.get("area_type"),
        facility_m2=rec.get("facility_m2"), facility_kind=rec.get("facility_kind"),
        facility_location=rec.get("facility_location"), facility_point=fpoint,
        few_elderly=rec.get("few_elderly"), elderly=rec.get("elderly"),
        dates={k: rec.get(k) for k in DATE_FIELDS}, where=where)


def _id(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _blame(message: str, rec: dict[str, Any]) -> tuple[str, str]:
    """The column and value an error message names (``…: field = value: …``)."""
    for key in (*DATE_FIELDS, "facility_location", "facility_kind", "facility_m2",
                "households", "status", "area_type", "project_id", "few_elderly", "elderly",
                "wkt"):
        if f": {key} = " in message:
            return key, "" if is_blank(rec.get(key)) else str(rec.get(key))
    if "lon/lat" in message or "coordinates" in message:
        return "lon/lat", f"{rec.get('lon')}, {rec.get('lat')}"
    return "", ""
