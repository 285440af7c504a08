"""Read any supported table file (CSV, Excel, GeoJSON, GeoPackage, Shapefile) as is."""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._errors import InputError

logger = logging.getLogger("planner")

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
#: Encodings tried in turn for CSV files (GB18030 is a superset of GBK and GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


# ---------------------------------------------------------------------------
# format dispatch


def split_choice(path: str | Path) -> tuple[Path, str | None]:
    """Split ``file.gpkg:layer`` or ``file.xlsx:sheet`` into the file and the choice.

    A path that exists as given is never split (a Windows drive letter, a colon in a
    folder name).
    """
    text = str(path)
    if Path(text).exists() or ":" not in text:
        return Path(text), None
    head, _, tail = text.rpartition(":")
    if Path(head).suffix.lower() in (*EXCEL_SUFFIXES, ".gpkg") and tail and "/" not in tail \
            and "\\" not in tail:
        return Path(head), tail
    return Path(text), None


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
        formats as a GeoDataFrame with the file's CRS. Empty cells are NaN. Fully
        empty rows (blank lines, ``,,,,``) are dropped, and the index keeps each row's
        position in the file: the Excel row number is ``index + 2``.

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
    table = drop_empty_rows(table.reset_index(drop=True))
    if len(table) == 0:
        msg = f"{path}: the file has no data rows. Check that you exported the right sheet/layer."
        raise InputError(msg)
    return table


def drop_empty_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Drop rows with no value at all (and no geometry), keeping the index of the others."""
    geometry = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    values = table.drop(columns=[geometry]) if geometry else table
    blank = np.ones(len(table), dtype=bool)
    for i in range(len(values.columns)):  # column by column, until no row can be blank
        if not blank.any():
            break
        blank &= values.iloc[:, i].map(is_blank).to_numpy(dtype=bool)
    if geometry:
        geoms = np.asarray(table.geometry.to_numpy(), dtype=object)
        blank &= shapely.is_missing(geoms) | shapely.is_empty(geoms)
    return table[~blank]


def is_blank(value: object) -> bool:
    """True for an empty cell: ``None``, NaN, ``NaT``, ``pd.NA`` or text of spaces only.

    The one test of "no value" for every table planner reads (communities, projects,
    districts); ``0``, ``False`` and ``"0"`` are values, not blanks.
    """
    if isinstance(value, str):
        return value.strip() == ""
    if not pd.api.types.is_scalar(value):
        return False  # a list or an array in a cell is a value, even one holding NaN
    return bool(pd.isna(value))


def read_text(path: str | Path) -> str:
    """A text file (a profile, a CSV) as a string, whatever Windows saved it as.

    UTF-8 with or without BOM, UTF-16 with BOM ("Unicode" in Notepad) and GB18030/GBK
    ("ANSI" on a Chinese Windows) are recognised.

    Raises
    ------
    InputError
        None of these encodings reads the file.
    """
    return _decode(Path(path))


def _decode(path: Path) -> str:
    """Decode a text file as UTF-8 (with or without BOM), UTF-16 (with BOM) or GB18030/GBK."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in CSV_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    msg = (
        f"{path}: cannot read the text encoding (tried {', '.join(CSV_ENCODINGS)}, utf-16). "
        "Save the file as UTF-8 (Excel: 'CSV UTF-8'; Notepad: encoding UTF-8)."
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
            skip_blank_lines=False,  # a blank line is a row in Excel: keep the numbering
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        msg = f"{path}: not a readable CSV table ({exc}). Check quotes and separators."
        raise InputError(msg) from exc


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        return pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
    except MemoryError:
        raise
    except ValueError as exc:  # unknown sheet, or not an Excel file
        if sheet is None or "format cannot be determined" in str(exc):
            msg = (f"{path}: not a readable Excel workbook ({exc}). Open it in Excel or WPS "
                   "and save it again as .xlsx (or export a CSV).")
        else:
            msg = f"{path}: cannot read sheet {sheet!r} ({exc}). Give an existing sheet name."
        raise InputError(msg) from exc
    except Exception as exc:  # zipfile.BadZipFile, openpyxl errors: a corrupt file
        msg = f"{path}: not a readable Excel file ({exc}). Open and re-save it as .xlsx."
        raise InputError(msg) from exc


def gdal_reason(exc: Exception) -> str:
    """GDAL's reason for not reading a file, without its hint about driver prefixes.

    ``"... not recognized as being in a supported file format.; It might help to specify
    the correct driver explicitly by prefixing the file path with '<DRIVER>:' ..."``
    loses everything from ``"; It might help"``: a planner cannot act on it.
    """
    return str(exc).split("; It might help", 1)[0].rstrip(".;") + "."


def _read_spatial(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():  # NaN coordinates warn here; rejected per row later
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            table = gpd.read_file(path, layer=layer, engine="pyogrio")
    except MemoryError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError/DataLayerError and others
        msg = (f"{path}: cannot read this spatial file ({gdal_reason(exc)}) Check that it is "
               f"a valid {path.suffix} file and the layer name.")
        raise InputError(msg) from exc
    if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists() \
            and _looks_like_mojibake(table):
        table = gpd.read_file(path, layer=layer, engine="pyogrio", encoding="gb18030")
        table.attrs["planner_note"] = (
            f"{path.name}: no .cpg file says the text encoding, and the names read as "
            "mojibake: read again as GB18030 (GBK), the usual encoding of Chinese "
            "Shapefiles. Add a .cpg file containing GB18030 to make this explicit")
        logger.warning(table.attrs["planner_note"])
    return table


#: Characters a GBK text turns into when read as Latin-1 (accented letters, symbols).
_LATIN1_HIGH = re.compile("[\u0080-\u00ff]")
_CJK = re.compile("[\u4e00-\u9fff]")


def _looks_like_mojibake(table: pd.DataFrame) -> bool:
    """True when text cells hold Latin-1 letters that decode as Chinese in GB18030."""
    geometry = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    texts = [v for col in table.columns if col != geometry
             for v in table[col].head(200) if isinstance(v, str)]
    suspicious = [t for t in texts if _LATIN1_HIGH.search(t) and not _CJK.search(t)]
    if not suspicious:
        return False
    try:
        decoded = [t.encode("latin-1").decode("gb18030") for t in suspicious[:50]]
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return sum(bool(_CJK.search(d)) for d in decoded) >= len(decoded) / 2
