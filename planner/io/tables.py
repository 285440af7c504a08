"""Read any supported table file (CSV, Excel, GeoJSON, GeoPackage, Shapefile) as is."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from planner._errors import InputError

if TYPE_CHECKING:
    pass

logger = logging.getLogger("planner")

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
#: Encodings tried in turn for CSV files (GB18030 is a superset of GBK and GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


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
