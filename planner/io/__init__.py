"""Read planners' input files: communities, facilities and community gates.

Bureaus export spreadsheets, not GIS layers. The readers accept:

- CSV in UTF-8, UTF-8 with BOM, or GBK/GB18030 (detected; Excel on a Chinese
  Windows saves GBK), separated by ``,``, ``;``, tab or ``|``;
- XLSX (first sheet unless ``sheet`` is given);
- GeoJSON, GeoPackage (``layer``) and Shapefile.

Geometry comes from the spatial format's geometry column, or from longitude/latitude
columns under common names (``lon``/``lng``/``longitude``/``x``/``经度`` and
``lat``/``latitude``/``y``/``纬度``), or from a ``wkt`` column. Coordinates are
converted to WGS84 from the declared ``crs`` (see :mod:`planner.crs`).

Column headers are normalised (case, spaces, full-width brackets) and common Chinese
headers are mapped to the schema (``户数`` → ``households`` …); see :data:`ALIASES`.

Bad rows are **rejected, never silently dropped**: each reader returns a
:class:`LoadResult` whose ``rejects`` table says file, row, column, value and reason,
and logs a count on the ``planner`` logger. Row numbers are as a planner sees them
in Excel: the header is row 1, the first data row is row 2 (for spatial formats the
same convention is applied to the attribute table). Whole-file problems (missing
file, unknown format, undecodable text, no rows, swapped coordinate columns, a
missing required column) raise :class:`~planner._errors.InputError`.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import crs as _crs
from planner import schema
from planner._errors import InputError, MissingColumnError

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("planner")

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
#: Encodings tried in turn for CSV files (GB18030 is a superset of GBK and GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
#: Largest plausible floor area of one facility, m².
MAX_FLOOR_AREA_M2 = 100_000.0
#: More households than this in one community (小区) is a typo (Beijing's 天通苑, among
#: the largest, has some 60,000).
MAX_HOUSEHOLDS = 200_000
REJECT_COLUMNS = ("file", "row", "column", "value", "reason")
#: Offset from a 0-based data position to the Excel row number (header is row 1).
_FIRST_DATA_ROW = 2

#: Header aliases shared by every table, after :func:`normalise_header`.
_COMMON_ALIASES: dict[str, str] = {
    "名称": "name",
    "街道": "street",
    "乡镇": "street",
    "街道/乡镇": "street",
    "所属街道": "street",
    "状态": "status",
}
#: Header aliases of community tables.
COMMUNITY_ALIASES: dict[str, str] = {
    **_COMMON_ALIASES,
    "id": "community_id",
    "小区编号": "community_id",
    "编号": "community_id",
    "community_": "community_id",  # Shapefile truncates names to 10 characters
    "小区名称": "name",
    "小区名": "name",
    "小区": "name",
    "户数": "households",
    "总户数": "households",
    "房屋总数": "households",
    "household": "households",
    "人口": "residents",
    "常住人口": "residents",
    "老年人口": "elderly",
    "60岁以上": "elderly",
    "60岁以上人口": "elderly",
    "建成年代": "completion_year",
    "竣工年份": "completion_year",
    "buildtime": "completion_year",
    "completion": "completion_year",
    "小区类型": "status",
    "新建/老旧": "status",
    "城乡": "area_type",
    "区域类型": "area_type",
    "area_type": "area_type",
}
#: Header aliases of facility tables.
FACILITY_ALIASES: dict[str, str] = {
    **_COMMON_ALIASES,
    "id": "facility_id",
    "设施编号": "facility_id",
    "编号": "facility_id",
    "facility_i": "facility_id",
    "设施名称": "name",
    "类型": "kind",
    "设施类型": "kind",
    "面积": "floor_area_m2",
    "建筑面积": "floor_area_m2",
    "建筑面积(平方米)": "floor_area_m2",
    "建筑面积(m2)": "floor_area_m2",
    "建筑面积(㎡)": "floor_area_m2",
    "floor_area": "floor_area_m2",
    "床位": "beds",
    "床位数": "beds",
}
#: Header aliases of gate tables.
GATE_ALIASES: dict[str, str] = {
    "id": "community_id",
    "小区编号": "community_id",
    "编号": "community_id",
    "community_": "community_id",
}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "point_x")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "point_y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")

STATUS_SYNONYMS = {"new": "new", "old": "old", "新建": "new", "新": "new", "老旧": "old",
                   "旧": "old", "老": "old", "老城区": "old", "已建成": "old"}
AREA_TYPE_SYNONYMS = {"urban": "urban", "rural": "rural", "城市": "urban", "城镇": "urban",
                      "城区": "urban", "农村": "rural", "乡村": "rural"}
FACILITY_STATUS_SYNONYMS = {"existing": "existing", "planned": "planned", "现状": "existing",
                            "现有": "existing", "已建": "existing", "规划": "planned",
                            "拟建": "planned", "在建": "planned"}


def _kind_synonyms() -> dict[str, str]:
    """Kind labels (key, Chinese names split on '/', English label) → kind key."""
    out: dict[str, str] = {}
    for key, (zh, en) in schema.FACILITY_KINDS.items():
        out[key] = key
        out[en.lower()] = key
        out[zh] = key
        for part in zh.split("/"):
            out[part] = key
    out.update({"社区日间照料中心": "day_care", "日间照料站": "day_care",
                "社区养老服务中心": "station",
                "养老服务站": "station", "互助幸福院": "mutual_aid", "农村幸福院": "mutual_aid"})
    return out


KIND_SYNONYMS = _kind_synonyms()


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
    """

    data: gpd.GeoDataFrame
    rejects: pd.DataFrame
    path: Path
    rows_read: int
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# format dispatch


def read_table(
    path: str | Path, *, layer: str | None = None, sheet: str | int | None = None
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read any supported file into a table, without interpreting its columns.

    Parameters
    ----------
    path
        CSV (.csv/.txt/.tsv), Excel (.xlsx/.xlsm), GeoJSON, GeoPackage or Shapefile.
    layer
        Layer of a GeoPackage (default: the first).
    sheet
        Sheet name or 0-based number of an Excel file (default: the first).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        Text files are read as strings (IDs keep their leading zeros); spatial
        formats as a GeoDataFrame with the file's CRS. Empty cells are NaN.

    Raises
    ------
    InputError
        Missing file, unknown format, undecodable text, or a file without data rows.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: file not found. Check the path (working directory: {Path.cwd()})."
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table: pd.DataFrame = _read_csv(path)
    elif suffix in EXCEL_SUFFIXES:
        table = _read_excel(path, sheet)
    elif suffix in SPATIAL_SUFFIXES:
        table = _read_spatial(path, layer)
    else:
        known = ", ".join(CSV_SUFFIXES + EXCEL_SUFFIXES + SPATIAL_SUFFIXES)
        msg = (
            f"{path}: unknown file format {suffix or '(no extension)'!r}. Save it as one of "
            f"{known} (old .xls files: open in Excel and save as .xlsx)."
        )
        raise InputError(msg)
    if len(table) == 0:
        msg = f"{path}: the file has no data rows. Check that you exported the right sheet/layer."
        raise InputError(msg)
    return table


def _decode(path: Path) -> str:
    """Decode a text file as UTF-8 (with or without BOM) or GB18030/GBK."""
    raw = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    msg = (
        f"{path}: cannot read the text encoding (tried {', '.join(CSV_ENCODINGS)}). "
        "Save the file as 'CSV UTF-8' from Excel."
    )
    raise InputError(msg)


def _sniff_separator(text: str) -> str:
    """Return the separator occurring most often in the header line (default comma)."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    if not text.strip():
        msg = f"{path}: the file is empty. Export the table again with a header row."
        raise InputError(msg)
    try:
        return pd.read_csv(
            io.StringIO(text), sep=_sniff_separator(text), dtype=str,
            keep_default_na=False, na_values=[""], skipinitialspace=True,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        msg = f"{path}: not a readable CSV table ({exc}). Check quotes and separators."
        raise InputError(msg) from exc


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        table = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
    except ValueError as exc:  # unknown sheet, or not an Excel file
        msg = f"{path}: cannot read sheet {sheet!r} ({exc}). Give an existing sheet name."
        raise InputError(msg) from exc
    except Exception as exc:  # zipfile.BadZipFile, openpyxl errors: a corrupt file
        msg = f"{path}: not a readable Excel file ({exc}). Open and re-save it as .xlsx."
        raise InputError(msg) from exc
    return table.dropna(how="all")


def _read_spatial(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError/DataLayerError and others
        msg = f"{path}: cannot read this spatial file ({exc}). Check the file and layer name."
        raise InputError(msg) from exc


# ---------------------------------------------------------------------------
# headers


def normalise_header(name: object) -> str:
    """Normalise a column header: NFKC (full-width → ASCII), strip, lower, ``_`` for spaces.

    Parameters
    ----------
    name
        The header as read.

    Returns
    -------
    str
        For example ``" Floor  Area(平方米)"`` → ``"floor_area(平方米)"``; full-width
        brackets and digits become ASCII first.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"\s+", "_", text)


def _rename_columns(table: pd.DataFrame, aliases: dict[str, str]) -> pd.DataFrame:
    """Normalise headers and map aliases; a canonical name already present wins."""
    geometry_name = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    normalised = {col: normalise_header(col) for col in table.columns if col != geometry_name}
    canonical = set(aliases.values())
    used = {norm for norm in normalised.values() if norm in canonical}
    mapping: dict[str, str] = {}
    for col, norm in normalised.items():
        target = aliases.get(norm, norm)
        if target != norm and target in used:
            target = norm  # e.g. both 编号 and community_id: keep community_id
        used.add(target)
        mapping[col] = target
    return table.rename(columns=mapping)


def _require(table: pd.DataFrame, required: tuple[str, ...], aliases: dict[str, str],
             path: Path) -> None:
    """Raise MissingColumnError naming the columns found and the closest match."""
    for name in required:
        if name in table.columns:
            continue
        found = [str(c) for c in table.columns if c not in ("geometry", "_row")]
        hints = [k for k, v in aliases.items() if v == name and not k.isascii()]
        close = difflib.get_close_matches(name, found, n=1, cutoff=0.5)
        close += difflib.get_close_matches(name, [normalise_header(c) for c in found], n=1)
        advice = (f" The closest is {close[0]!r}: rename it to {name!r}." if close
                  else f" Add a column {name!r} (or {' / '.join(hints[:3])}).")
        unnamed = [c for c in found if normalise_header(c).startswith("unnamed")]
        if unnamed and len(unnamed) >= len(found) / 2:
            advice += (" The first row looks like a title (merged cells), not the header: "
                       "delete the rows above the header in Excel and save again.")
        msg = (f"{path}: required column {name!r} is missing"
               f"{' (Chinese headers ' + ', '.join(hints) + ' also work)' if hints else ''}."
               f" Columns found: {', '.join(found)}.{advice}")
        raise MissingColumnError(msg)


# ---------------------------------------------------------------------------
# rejects bookkeeping


class _Rejects:
    """Collects reject lines for one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[dict[str, object]] = []

    def add(self, rows: pd.Series, column: str, values: pd.Series, reason: str | pd.Series) -> None:
        """Record one line per row number in ``rows`` (aligned with ``values``)."""
        for idx in rows.index:
            why = reason if isinstance(reason, str) else str(reason.loc[idx])
            value = values.loc[idx]
            self.lines.append({"file": str(self.path), "row": int(rows.loc[idx]), "column": column,
                               "value": "" if _isna(value) else str(value), "reason": why})

    def rows(self) -> set[int]:
        return {int(line["row"]) for line in self.lines}  # type: ignore[call-overload]

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.lines, columns=list(REJECT_COLUMNS))
        out["row"] = out["row"].astype("int64")
        return out.sort_values("row", kind="stable").reset_index(drop=True)


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------
# value parsing


def _text(series: pd.Series) -> pd.Series:
    """Strings with surrounding space removed; empty strings become NaN."""
    out = series.map(lambda v: np.nan if _isna(v) else str(v).strip())
    return out.replace("", np.nan).astype("str")


def _ids(series: pd.Series) -> pd.Series:
    """IDs as strings: ``12.0`` from Excel becomes ``12``."""
    def one(v: object) -> object:
        if _isna(v):
            return np.nan
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = str(v).strip()
        return re.sub(r"^(\d+)\.0+$", r"\1", text) or np.nan
    return series.map(one).astype("str")


def _numbers(series: pd.Series, units: tuple[str, ...] = ()) -> pd.Series:
    """Parse numbers, removing thousands separators and unit suffixes (户, ㎡ …)."""
    def one(v: object) -> float:
        if _isna(v):
            return np.nan
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return float(v)
        text = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "")
        for unit in units:
            text = text.removesuffix(unit).strip()
        try:
            return float(text)
        except ValueError:
            return np.nan
    return series.map(one).astype(float)


#: Completion years outside this range are typos, read as unknown.
YEAR_RANGE = (1800, 2100)


def _soft_years(table: pd.DataFrame, warnings: list[str], path: Path) -> pd.Series:
    """Completion years; an unreadable one ("1990年代", 19990) becomes unknown, with a warning.

    A year only decides new-build or old, and a community with no year still has a
    status (its ``status`` column, else old), so a bad year must not remove the community
    from the coverage figures: it is kept, and the warning says which rows to fix.
    """
    if "completion_year" not in table.columns:
        return pd.Series(np.nan, index=table.index)
    raw = table["completion_year"]
    values = _numbers(raw, ("年",))
    given = ~raw.map(_isna).astype(bool)
    lo, hi = YEAR_RANGE
    bad = given & (values.isna() | (values % 1 != 0) | (values < lo) | (values > hi))
    for idx in bad[bad].index:
        warnings.append(f"{path} row {table['_row'].loc[idx]}: completion_year "
                        f"{raw.loc[idx]!r} is not a year between {lo} and {hi}: treated as "
                        "unknown")
    return values.mask(bad)


def _check_numbers(
    table: pd.DataFrame, column: str, rejects: _Rejects, *, units: tuple[str, ...] = (),
    required: bool, integer: bool, test: Callable[[pd.Series], pd.Series], rule: str,
) -> pd.Series:
    """Parse a numeric column and reject rows that break ``test`` (a rule like '> 0')."""
    raw = table[column] if column in table.columns else pd.Series(np.nan, index=table.index)
    values = _numbers(raw, units)
    missing = raw.map(_isna).astype(bool)
    bad_text = values.isna() & ~missing
    not_whole = values.notna() & (values % 1 != 0)
    if not integer:
        not_whole[:] = False
    out_of_range = values.notna() & ~not_whole & ~test(values.fillna(0)).astype(bool)
    row = table["_row"]
    if required:
        rejects.add(row[missing], column, raw[missing], f"missing {column}")
    rejects.add(row[bad_text], column, raw[bad_text], f"{column} is not a number")
    rejects.add(row[not_whole], column, raw[not_whole], f"{column} must be a whole number")
    rejects.add(row[out_of_range], column, raw[out_of_range], f"{column} must be {rule}")
    return values


def _check_choice(table: pd.DataFrame, column: str, synonyms: dict[str, str],
                  valid: tuple[str, ...], rejects: _Rejects, *, required: bool) -> pd.Series:
    """Map a categorical column through ``synonyms``; reject unknown values."""
    if column not in table.columns:
        return pd.Series(np.nan, index=table.index, dtype="str")
    raw = table[column]
    text = _text(raw)
    mapped = text.map(lambda v: np.nan if _isna(v) else synonyms.get(str(v).lower(),
                                                                       synonyms.get(str(v))))
    missing = text.isna()
    unknown = ~missing & mapped.isna()
    if required:
        rejects.add(table["_row"][missing], column, raw[missing], f"missing {column}")
    accepted = ", ".join(valid)
    reason = f"unknown {column}; valid values are {accepted}"
    if column == "kind":
        labels = "; ".join(f"{k} ({zh})" for k, (zh, _) in schema.FACILITY_KINDS.items())
        reason = f"unknown kind; valid kinds are {labels}"
    rejects.add(table["_row"][unknown], column, raw[unknown], reason)
    return mapped.astype("str")


def _check_ids(table: pd.DataFrame, column: str, rejects: _Rejects, *, unique: bool) -> pd.Series:
    """Normalise IDs; reject missing ones and (if ``unique``) every copy after the first."""
    ids = _ids(table[column])
    row = table["_row"]
    missing = ids.isna()
    rejects.add(row[missing], column, table[column][missing], f"missing {column}")
    if unique:
        dup = ids.notna() & ids.duplicated(keep="first")
        first_row = row[ids.notna()].groupby(ids[ids.notna()]).transform("first")
        reasons = pd.Series(
            [f"duplicate {column} {ids[i]!r}: first at row {first_row[i]}" for i in dup[dup].index],
            index=dup[dup].index, dtype=object,
        )
        rejects.add(row[dup], column, ids[dup], reasons)
    return ids


# ---------------------------------------------------------------------------
# geometry


def _find(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in columns), None)


def _usable(geoms: gpd.GeoSeries) -> pd.Series:
    """Return True where a geometry is present and not empty."""
    arr = np.asarray(geoms.to_numpy(), dtype=object)
    return pd.Series(~(shapely.is_missing(arr) | shapely.is_empty(arr)), index=geoms.index)


def _has_geometry(table: pd.DataFrame) -> bool:
    return isinstance(table, gpd.GeoDataFrame) and table.geometry.notna().any()


def _geometry_from_columns(table: pd.DataFrame, path: Path,
                           rejects: _Rejects) -> gpd.GeoSeries:
    """Build geometries from lon/lat or WKT columns; reject rows without coordinates."""
    lon_col, lat_col = _find(table.columns, LON_NAMES), _find(table.columns, LAT_NAMES)
    row = table["_row"]
    if lon_col and lat_col:
        lon, lat = _numbers(table[lon_col]), _numbers(table[lat_col])
        for col, vals in ((lon_col, lon), (lat_col, lat)):
            bad = vals.isna()
            rejects.add(row[bad], col, table[col][bad], "missing or non-numeric coordinate")
        points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=table.index)
        return points.where(lon.notna() & lat.notna(), None)
    wkt_col = _find(table.columns, WKT_NAMES)
    if wkt_col:
        raw = table[wkt_col]
        geoms = shapely.from_wkt(raw.map(lambda v: None if _isna(v) else str(v)).to_numpy(),
                                 on_invalid="ignore")
        bad = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=table.index)
        rejects.add(row[bad], wkt_col, raw[bad], "missing or unreadable WKT geometry")
        return gpd.GeoSeries(geoms, index=table.index)
    found = ", ".join(str(c) for c in table.columns if c != "_row")
    msg = (f"{path}: no coordinates. Add longitude/latitude columns named lon/lat (or lng, "
           f"经度/纬度) or a 'wkt' column. Columns found: {found}.")
    raise MissingColumnError(msg)


def _check_swapped(geoms: gpd.GeoSeries, rows: pd.Series, path: Path) -> None:
    """Raise InputError if longitude/latitude look swapped (only for degree inputs)."""
    ok = _usable(geoms)
    if not ok.any():
        return
    pts = shapely.get_coordinates(geoms[ok].representative_point().to_numpy())
    x, y = pts[:, 0], pts[:, 1]
    over = np.abs(y) > 90
    if over.any():
        first = int(rows[ok].to_numpy()[np.argmax(over)])
        msg = (f"{path}: row {first} has latitude {y[np.argmax(over)]:g} (beyond ±90°): the "
               "longitude and latitude columns look swapped, or the coordinates are projected "
               "metres (then declare crs='EPSG:nnnn'). Swap the column names and try again.")
        raise InputError(msg)
    if ((x >= 18) & (x <= 54) & (y >= 73) & (y <= 135)).all():
        msg = (f"{path}: every point looks like (latitude, longitude) for China: the longitude "
               "and latitude columns look swapped. Swap the column names and try again.")
        raise InputError(msg)


def _reject_outside_china(geoms: gpd.GeoSeries, table: pd.DataFrame, rejects: _Rejects) -> None:
    ok = _usable(geoms)
    pts = geoms[ok].representative_point()
    outside = pd.Series(_crs.out_of_china(pts.x.to_numpy(), pts.y.to_numpy()), index=pts.index)
    idx = outside[outside].index
    lon0, lat0, lon1, lat1 = _crs.CHINA_BBOX
    values = pd.Series([f"{p.x:.6f}, {p.y:.6f}" for p in pts[idx]], index=idx, dtype=object)
    rejects.add(table["_row"][idx], "geometry", values,
                f"outside China (WGS84 lon {lon0} to {lon1}, lat {lat0} to {lat1})")


def _repair(geoms: gpd.GeoSeries, rows: pd.Series, path: Path) -> tuple[gpd.GeoSeries, list[str]]:
    """Repair invalid polygons with ``shapely.make_valid``; one warning per repair."""
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    bad = _usable(geoms) & polygonal & ~geoms.is_valid
    warnings = []
    for idx in bad[bad].index:
        why = shapely.is_valid_reason(geoms[idx])
        warnings.append(f"{path} row {rows[idx]}: invalid polygon ({why}) repaired with make_valid")
    if bad.any():
        fixed = shapely.make_valid(geoms[bad].to_numpy(), method="structure", keep_collapsed=False)
        geoms = geoms.copy()
        geoms[bad] = fixed
    return geoms, warnings


def _geometries(table: pd.DataFrame, path: Path, declared: str,
                rejects: _Rejects) -> tuple[gpd.GeoSeries, list[str]]:
    """WGS84 geometries for every row (None where rejected) and repair warnings."""
    if _has_geometry(table):
        geoms = table.geometry
        missing = ~_usable(geoms)
        rejects.add(table["_row"][missing], "geometry", geoms[missing], "missing geometry")
    else:
        geoms = _geometry_from_columns(table, path, rejects)
    kind, target = _crs.parse_declared(declared)
    geographic = kind != "epsg" or (target is not None and target.is_geographic)
    file_crs = geoms.crs
    if geographic and (file_crs is None or file_crs.is_geographic):
        _check_swapped(geoms, table["_row"], path)
    geoms = geoms.where(_usable(geoms), None)
    wgs = _crs.to_wgs84(gpd.GeoSeries(geoms, crs=file_crs), declared).geometry
    wgs, warnings = _repair(wgs, table["_row"], path)
    _reject_outside_china(wgs, table, rejects)
    return wgs, warnings


# ---------------------------------------------------------------------------
# the readers


def _prepare(path: str | Path, aliases: dict[str, str], layer: str | None,
             sheet: str | int | None) -> tuple[pd.DataFrame, Path, _Rejects]:
    path = Path(path)
    table = read_table(path, layer=layer, sheet=sheet)
    table = _rename_columns(table, aliases)
    table = table.reset_index(drop=True)
    table["_row"] = np.arange(len(table), dtype="int64") + _FIRST_DATA_ROW
    return table, path, _Rejects(path)


def _finish(table: pd.DataFrame, *, columns: dict[str, pd.Series], geoms: gpd.GeoSeries,
            index_name: str, rejects: _Rejects, warnings: list[str], path: Path,
            what: str) -> LoadResult:
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
                        warnings=warnings)
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
    ignored = [str(c) for c in table.columns if c not in used]
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
    table, path, rejects = _prepare(path, COMMUNITY_ALIASES, layer, sheet)
    _require(table, schema.COMMUNITY_REQUIRED, COMMUNITY_ALIASES, path)
    geoms, warnings = _geometries(table, path, crs, rejects)
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
    result = _finish(table, columns=columns, geoms=geoms, index_name="community_id",
                     rejects=rejects, warnings=warnings, path=path, what="communities")
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
        accepted), ``street`` (str) and ``geometry`` (EPSG:4326; polygons are kept as
        given, the network stage uses a representative point).

    Raises
    ------
    InputError, MissingColumnError
        As for :func:`read_communities`.
    """
    table, path, rejects = _prepare(path, FACILITY_ALIASES, layer, sheet)
    _require(table, schema.FACILITY_REQUIRED, FACILITY_ALIASES, path)
    geoms, warnings = _geometries(table, path, crs, rejects)
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
    result = _finish(table, columns=columns, geoms=geoms, index_name="facility_id",
                     rejects=rejects, warnings=warnings, path=path, what="facilities")
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
    table, path, rejects = _prepare(path, GATE_ALIASES, layer, None)
    _require(table, ("community_id",), GATE_ALIASES, path)
    geoms, warnings = _geometries(table, path, crs, rejects)
    not_point = _usable(geoms) & (geoms.geom_type != "Point")
    rejects.add(table["_row"][not_point], "geometry", geoms.geom_type[not_point],
                "a gate must be a point")
    columns = {"community_id": _check_ids(table, "community_id", rejects, unique=False)}
    return _finish(table, columns=columns, geoms=geoms, index_name="gate_id", rejects=rejects,
                   warnings=warnings, path=path, what="gates")


def _optional_text(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        return pd.Series(np.nan, index=table.index, dtype="str")
    return _text(table[column])
