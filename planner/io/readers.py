"""The three readers: communities, facilities and gates, each returning a LoadResult."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import schema
from planner.io.geometry import (
    COMMUNITY_GEOMETRIES,
    FACILITY_GEOMETRIES,
    LAT_NAMES,
    LON_NAMES,
    WKT_NAMES,
    _geometries,
    _usable,
    facility_points,
    reject_geometry_types,
)
from planner.io.headers import (
    AREA_TYPE_SYNONYMS,
    COMMUNITY_ALIASES,
    FACILITY_ALIASES,
    FACILITY_STATUS_SYNONYMS,
    GATE_ALIASES,
    KIND_SYNONYMS,
    LEVEL_SYNONYMS,
    STATUS_SYNONYMS,
    STREET_TYPE_SYNONYMS,
    _rename_columns,
    _require,
)
from planner.io.layers import choose_layer, choose_sheet
from planner.io.tables import read_table, split_choice
from planner.io.values import (
    _FIRST_DATA_ROW,
    MAX_FLOOR_AREA_M2,
    MAX_HOUSEHOLDS,
    _check_choice,
    _check_ids,
    _check_numbers,
    _Rejects,
    _soft_years,
    _text,
)

logger = logging.getLogger("planner")

@dataclass
class LoadResult:
    """What a reader returns: the clean rows, the rejected rows, and warnings.

    Attributes
    ----------
    data
        Clean rows, EPSG:4326, indexed by ``community_id`` / ``facility_id`` (str) or
        ``gate_id`` (int); columns as documented by each reader.
    rejects
        One line per problem: ``file``, ``row`` (Excel row number, header = row 1),
        ``column``, ``value``, ``reason``. A row may have several lines.
    path
        The file read.
    rows_read
        Data rows in the file; always ``len(data)`` + distinct rejected rows.
    warnings
        Fixes applied without rejecting (for example repaired polygons).
    notes
        What a report must say about how the file was read (the layer or sheet chosen,
        a text encoding guessed).
    kept_rows
        Excel row number of each row of ``data``, in order.
    declared_crs
        The coordinate system the file was declared in (``wgs84``, ``gcj02`` …).
    layer
        The GeoPackage layer or Excel sheet read (``None``: the file's only table).
        Read the same file again with ``read_table(path, layer=layer, sheet=layer)``.
    """

    data: gpd.GeoDataFrame
    rejects: pd.DataFrame
    path: Path
    rows_read: int
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept_rows: list[int] = field(default_factory=list)
    declared_crs: str = "wgs84"
    layer: str | None = None


# ---------------------------------------------------------------------------
# the readers


def _prepare(path: str | Path, aliases: dict[str, str], layer: str | None,
             sheet: str | int | None, *, role: str,
             required: tuple[str, ...]) -> tuple[pd.DataFrame, Path, _Rejects, list[str]]:
    """Read the table (choosing layer or sheet), rename headers, number the rows as Excel."""
    path, inline = split_choice(path)
    notes: list[str] = []
    if path.suffix.lower() == ".gpkg":
        choice = choose_layer(path, role, layer or inline, required=required, aliases=aliases)
        layer = choice.name
    else:
        choice = choose_sheet(path, role, sheet if sheet is not None else (layer or inline),
                              required=required, aliases=aliases)
        sheet = choice.name
    if choice.note:
        notes.append(choice.note)
    chosen = choice.name
    table = read_table(path, layer=layer, sheet=sheet)
    if "planner_note" in table.attrs:
        notes.append(str(table.attrs["planner_note"]))
    table = _rename_columns(table, aliases, path)
    rows = table.index.to_numpy(dtype="int64") + _FIRST_DATA_ROW  # blank rows keep numbers
    table = table.reset_index(drop=True)
    table["_row"] = rows
    table.attrs["planner_layer"] = chosen
    return table, path, _Rejects(path), notes


def _finish(table: pd.DataFrame, *, columns: dict[str, pd.Series], geoms: gpd.GeoSeries,
            index_name: str, rejects: _Rejects, warnings: list[str], path: Path,
            what: str, notes: list[str], declared: str) -> LoadResult:
    """Drop rejected rows, assemble the documented columns, log the summary."""
    bad_rows = rejects.rows()
    keep = ~table["_row"].isin(bad_rows)
    data = gpd.GeoDataFrame(
        {name: values[keep] for name, values in columns.items()},
        geometry=gpd.GeoSeries(geoms[keep], crs="EPSG:4326"), crs="EPSG:4326",
    )
    if index_name in data.columns:
        data = data.set_index(index_name)
    else:
        data.index = pd.RangeIndex(len(data), name=index_name)
    result = LoadResult(data=data, rejects=rejects.frame(), path=path, rows_read=len(table),
                        warnings=warnings, notes=notes, declared_crs=declared,
                        kept_rows=[int(r) for r in table["_row"][keep]],
                        layer=table.attrs.get("planner_layer"))
    if bad_rows:
        logger.warning("%s: loaded %d %s, rejected %d of %d rows (see rejects)", path.name,
                       len(data), what, len(bad_rows), len(table))
    else:
        logger.info("%s: loaded %d %s", path.name, len(data), what)
    for line in warnings:
        logger.warning(line)
    _log_ignored(table, columns, path)
    return result


def _log_ignored(table: pd.DataFrame, columns: dict[str, pd.Series], path: Path) -> None:
    used = set(columns) | {"_row", "geometry"} | set(LON_NAMES) | set(LAT_NAMES) | set(WKT_NAMES)
    # columns a later stage reads from the file itself (the care network's counts and places)
    later = set(schema.COMMUNITY_OPTIONAL) | set(schema.FACILITY_OPTIONAL)
    ignored = [str(c) for c in table.columns if c not in used and c not in later]
    if ignored:
        logger.info("%s: ignored columns %s", path.name, ", ".join(ignored))


def read_communities(
    path: str | Path, *, crs: str = "wgs84", layer: str | None = None,
    sheet: str | int | None = None,
) -> LoadResult:
    """Read residential communities (小区).

    Parameters
    ----------
    path
        Any format :func:`read_table` reads.
    crs
        What the coordinates are: ``wgs84`` (default), ``cgcs2000``, ``gcj02``, ``bd09``
        or ``EPSG:nnnn`` (see :data:`planner.crs.INPUT_CRS_NAMES`). A spatial file's
        own CRS is used when ``crs`` is left at ``wgs84``.
    layer, sheet
        GeoPackage layer / Excel sheet.

    Returns
    -------
    LoadResult
        ``data`` is indexed by ``community_id`` (str) with columns ``name`` (str),
        ``households`` (int64, > 0), ``residents`` and ``elderly`` (float, people, NaN
        if not given), ``completion_year`` (Int64), ``status`` (``new``/``old`` or NaN),
        ``area_type`` (``urban``/``rural`` or NaN), ``street`` (str) and ``geometry``
        (polygon, multipolygon or point, EPSG:4326). Other columns are ignored.

    Raises
    ------
    InputError
        Whole-file problems (see the module docstring).
    MissingColumnError
        No ``community_id``/``households`` column (or aliases), or no coordinates.
    """
    table, path, rejects, notes = _prepare(path, COMMUNITY_ALIASES, layer, sheet,
                                           role="communities",
                                           required=schema.COMMUNITY_REQUIRED)
    _require(table, schema.COMMUNITY_REQUIRED, COMMUNITY_ALIASES, path)
    geoms, warnings = _geometries(table, path, crs, rejects)
    reject_geometry_types(geoms, table, rejects, allowed=COMMUNITY_GEOMETRIES,
                          what="a community")
    columns = {
        "community_id": _check_ids(table, "community_id", rejects, unique=True),
        "name": _optional_text(table, "name"),
        "households": _check_numbers(table, "households", rejects, units=("户",), required=True,
                                     integer=True, test=lambda v: (v > 0) & (v <= MAX_HOUSEHOLDS),
                                     rule=f"> 0 and at most {MAX_HOUSEHOLDS:,}"),
        "residents": _check_numbers(table, "residents", rejects, units=("人",), required=False,
                                    integer=False, test=lambda v: v >= 0, rule=">= 0"),
        "elderly": _check_numbers(table, "elderly", rejects, units=("人",), required=False,
                                  integer=False, test=lambda v: v >= 0, rule=">= 0"),
        "completion_year": _soft_years(table, warnings, path),
        "status": _check_choice(table, "status", STATUS_SYNONYMS, schema.COMMUNITY_STATUSES,
                                rejects, required=False),
        "area_type": _check_choice(table, "area_type", AREA_TYPE_SYNONYMS, schema.AREA_TYPES,
                                   rejects, required=False),
        "street": _optional_text(table, "street"),
    }
    # optional columns of the standards' targets, kept only when the file has them
    columns.update({c: _optional_text(table, c) for c in ("shequ", "county", "pooling_group")
                    if c in table.columns})
    if "street_type" in table.columns:
        columns["street_type"] = _check_choice(table, "street_type", STREET_TYPE_SYNONYMS,
                                               schema.STREET_TYPES, rejects, required=False)
    result = _finish(table, columns=columns, geoms=geoms, index_name="community_id",
                     rejects=rejects, warnings=warnings, path=path, what="communities",
                     notes=notes, declared=crs)
    data = result.data
    data["households"] = data["households"].astype("int64")
    data["completion_year"] = data["completion_year"].round().astype("Int64")
    return result


def read_facilities(
    path: str | Path, *, crs: str = "wgs84", layer: str | None = None,
    sheet: str | int | None = None,
) -> LoadResult:
    """Read elderly-care facilities (养老服务设施).

    Parameters
    ----------
    path
        Any format :func:`read_table` reads.
    crs
        Declared coordinate system, as for :func:`read_communities`.
    layer, sheet
        GeoPackage layer / Excel sheet.

    Returns
    -------
    LoadResult
        ``data`` is indexed by ``facility_id`` (str) with columns ``name`` (str),
        ``kind`` (a key of :data:`planner.schema.FACILITY_KINDS`; Chinese names such as
        社区养老服务站 are accepted), ``floor_area_m2`` (float, 0 < area < 100,000 m²),
        ``beds`` (Int64 or NA), ``status`` (``existing``/``planned`` or NaN; 现状/规划
        accepted), ``street`` (str) and ``geometry`` (point, EPSG:4326; a polygon such as
        a building outline becomes its representative point; other geometry types are
        rejected).

    Raises
    ------
    InputError, MissingColumnError
        As for :func:`read_communities`.
    """
    table, path, rejects, notes = _prepare(path, FACILITY_ALIASES, layer, sheet, role="facilities",
                                           required=schema.FACILITY_REQUIRED)
    _require(table, schema.FACILITY_REQUIRED, FACILITY_ALIASES, path)
    geoms, warnings = _geometries(table, path, crs, rejects)
    reject_geometry_types(geoms, table, rejects, allowed=FACILITY_GEOMETRIES,
                          what="a facility")
    geoms = facility_points(geoms)
    area_units = ("平方米", "㎡", "m2", "m²", "平米")
    columns = {
        "facility_id": _check_ids(table, "facility_id", rejects, unique=True),
        "name": _optional_text(table, "name"),
        "kind": _check_choice(table, "kind", KIND_SYNONYMS, tuple(schema.FACILITY_KINDS),
                              rejects, required=True),
        "floor_area_m2": _check_numbers(
            table, "floor_area_m2", rejects, units=area_units, required=True, integer=False,
            test=lambda v: (v > 0) & (v < MAX_FLOOR_AREA_M2), rule="> 0 and < 100,000 m²"),
        "beds": _check_numbers(table, "beds", rejects, units=("张", "床"), required=False,
                               integer=True, test=lambda v: v >= 0, rule=">= 0"),
        "status": _check_choice(table, "status", FACILITY_STATUS_SYNONYMS,
                                schema.FACILITY_STATUSES, rejects, required=False),
        "street": _optional_text(table, "street"),
    }
    # optional columns of the standards' targets, kept only when the file has them
    columns.update({c: _optional_text(table, c) for c in ("shequ", "county",
                                                           "serves_community_id")
                    if c in table.columns})
    if "level" in table.columns:
        columns["level"] = _check_choice(table, "level", LEVEL_SYNONYMS, schema.FACILITY_LEVELS,
                                         rejects, required=False)
    for c, units, test, rule in (
            ("nursing_beds", ("张", "床"), lambda v: v >= 0, ">= 0"),
            ("opening_year", ("年",), lambda v: (v >= 1800) & (v <= 2100), "a year 1800-2100")):
        if c in table.columns:
            columns[c] = _check_numbers(table, c, rejects, units=units, required=False,
                                        integer=True, test=test, rule=rule)
    result = _finish(table, columns=columns, geoms=geoms, index_name="facility_id",
                     rejects=rejects, warnings=warnings, path=path, what="facilities",
                     notes=notes, declared=crs)
    result.data["beds"] = result.data["beds"].round().astype("Int64")
    return result


def read_gates(path: str | Path, *, crs: str = "wgs84", layer: str | None = None) -> LoadResult:
    """Read community gates (小区出入口): where residents step onto the street.

    Parameters
    ----------
    path
        Any format :func:`read_table` reads; one row per gate, points only.
    crs
        Declared coordinate system, as for :func:`read_communities`.
    layer
        GeoPackage layer.

    Returns
    -------
    LoadResult
        ``data`` is indexed by ``gate_id``, a running number 0, 1, 2 … over the kept
        gates, with columns ``community_id`` (str; a community may have several
        gates) and ``geometry`` (point, EPSG:4326).
    """
    table, path, rejects, notes = _prepare(path, GATE_ALIASES, layer, None, role="gates",
                                           required=("community_id",))
    _require(table, ("community_id",), GATE_ALIASES, path)
    geoms, warnings = _geometries(table, path, crs, rejects)
    not_point = _usable(geoms) & (geoms.geom_type != "Point")
    rejects.add(table["_row"][not_point], "geometry", geoms.geom_type[not_point],
                "a gate must be a point")
    columns = {"community_id": _check_ids(table, "community_id", rejects, unique=False)}
    return _finish(table, columns=columns, geoms=geoms, index_name="gate_id", rejects=rejects,
                   warnings=warnings, path=path, what="gates", notes=notes, declared=crs)


def _optional_text(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        return pd.Series(np.nan, index=table.index, dtype="str")
    return _text(table[column])
