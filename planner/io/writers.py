"""Write tables and JSON that open safely in Excel/WPS and carry sensible precision.

Officials open the planner's CSV files in Excel or WPS, where a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula (a
community named ``=HYPERLINK("http://…"&A2)`` becomes a live link that leaks the next
cell). :func:`write_csv` prefixes such text cells with a single quote, as OWASP's
"CSV injection" advice says; numbers stay numbers. GeoPackages keep the raw values.

:func:`round_for_output` rounds numbers to the precision a planner can use (m² to 0.1,
minutes to 0.01, shares to 0.0001, metres to 0.01), and :func:`to_json` writes JSON
without ``NaN`` or ``Infinity`` (which strict JSON readers reject): they become ``null``.

Every CSV the planner writes goes through :func:`write_csv`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Decimal places by kind of number (see :func:`decimals_for`).
DECIMALS = {"m2": 1, "minutes": 2, "share": 4, "metres": 2, "lonlat": 7}
#: Text encoding of every CSV: UTF-8 with a BOM, so that Excel shows Chinese correctly.
CSV_ENCODING = "utf-8-sig"

#: Names pandas writes compressed (``to_csv`` infers it from the suffix).
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")

#: Text that is only numbers (a signed value, "lon, lat", a phone number): data, no formula.
_NUMBERS_ONLY = re.compile(r"^[+-][\d\s.,eE+-]*$")


def escape_formula(value: object) -> object:
    """Prefix a text value that a spreadsheet would run as a formula with ``'``.

    Parameters
    ----------
    value
        A cell value.

    Returns
    -------
    object
        ``"'=1+1"`` for ``"=1+1"``; numbers, ``None`` and harmless text unchanged. A text
        of signed numbers only (``"-5"``, ``"-74.0, 40.7"``) is left alone: it cannot
        call a function. ``=`` , ``@``, tab and CR always get the quote.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBERS_ONLY.match(value):
        return value
    return "'" + value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and headers) are safe to open in Excel.

    Text columns (pandas' string dtype) are checked at once and only the cells that
    start like a formula are rewritten; other object columns go cell by cell through
    :func:`escape_formula`, as ever. Numbers, ``None`` and ``NaN`` stay as they are.
    """
    out = frame.copy(deep=False)  # columns are replaced (isetitem), never written into
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if isinstance(column.dtype, pd.StringDtype):
            out.isetitem(i, _escape_text(column))
        elif column.dtype == object:
            out.isetitem(i, column.map(escape_formula))
    out.columns = [escape_formula(str(c)) for c in out.columns]
    return out


def _escape_text(column: pd.Series) -> pd.Series:
    """``column`` (string dtype) with the cells a spreadsheet would run quoted."""
    hit = column.str.startswith(FORMULA_STARTS).fillna(value=False).to_numpy(dtype=bool)
    if not hit.any():
        return column
    values = column.to_numpy(dtype=object, copy=True)
    values[hit] = [escape_formula(v) for v in values[hit]]
    return pd.Series(values, index=column.index, dtype=column.dtype, name=column.name)


def decimals_for(column: str) -> int | None:
    """Decimal places for a numeric output column, from its name (``None``: leave as is).

    ``*_m2``, ``*m2_per_100hh*`` → 1 (0.1 m²); ``*minutes*`` → 2; ``share*``,
    ``*_share``, ``value``, ``threshold`` → 4; ``*_m`` and ``distance_m`` → 2 (cm);
    ``lon``, ``lat`` → 7.
    """
    name = column.lower()
    if name in ("lon", "lat"):
        return DECIMALS["lonlat"]
    if "minutes" in name:
        return DECIMALS["minutes"]
    if name.endswith("_m2") or "m2_per_100hh" in name or name.endswith("_m2_s"):
        return DECIMALS["m2"]
    if name.startswith("share") or name.endswith("_share") or name in ("value", "threshold"):
        return DECIMALS["share"]
    if name.endswith("_m") or name.endswith("_km"):
        return DECIMALS["metres"]
    return None


def round_for_output(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every float column rounded as :func:`decimals_for` says."""
    out = frame.copy(deep=False)  # columns are replaced (isetitem), never written into
    for i, col in enumerate(out.columns):
        places = decimals_for(str(col))
        if places is not None and pd.api.types.is_float_dtype(out.iloc[:, i].dtype):
            out.isetitem(i, out.iloc[:, i].round(places))
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False,
              round_numbers: bool = True) -> Path:
    """Write ``frame`` as a CSV safe to open in Excel or WPS.

    Text cells are escaped (:func:`escape_formulas`), floats rounded
    (:func:`round_for_output`), ``inf`` written as an empty cell, and the file is
    UTF-8 with a BOM. Use this for every CSV the planner writes.

    Parameters
    ----------
    frame
        The table.
    path
        Where to write (the folder must exist).
    index
        Also write the index (as the first column).
    round_numbers
        Round floats (:func:`round_for_output`); every planner CSV is rounded. Full
        precision (columns that add up exactly) lives in the GeoPackages.

    Returns
    -------
    pathlib.Path
    """
    out = frame.reset_index() if index else frame
    out = escape_formulas(round_for_output(out) if round_numbers else out)
    for i in range(out.shape[1]):  # ±inf → an empty cell (a column without any: as is)
        column = out.iloc[:, i]
        if (pd.api.types.is_float_dtype(column.dtype)
                and np.isinf(column.to_numpy(dtype=float, na_value=np.nan)).any()):
            out.isetitem(i, column.where(np.isfinite(column)))
    if Path(path).suffix.lower() in _COMPRESSED:  # pandas compresses by the name
        out.to_csv(path, index=False, encoding=CSV_ENCODING)
        return Path(path)
    # The BOM by hand, then plain UTF-8: the same bytes as encoding="utf-8-sig", without
    # the Python-level utf-8-sig encoder pandas calls once per row.
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")
        out.to_csv(handle, index=False)
    return Path(path)


def json_ready(value: Any, key: str = "") -> Any:
    """``value`` with NaN/±inf as ``None``, numpy scalars as Python ones, floats rounded.

    Dict keys choose the rounding (:func:`decimals_for`); paths become text.
    """
    if isinstance(value, dict):
        return {str(k): json_ready(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_ready(v, key) for v in list(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        value = str(value)
    if value is pd.NA or value is pd.NaT:
        value = None
    if isinstance(value, float):
        places = decimals_for(key)
        if not math.isfinite(value):
            value = None
        elif places is not None:
            value = round(value, places)
    return value


def to_json(value: Any) -> str:
    """Strict JSON text of ``value`` (see :func:`json_ready`): never NaN or Infinity."""
    return json.dumps(json_ready(value), ensure_ascii=False, indent=2, allow_nan=False,
                      default=str)
