"""Parse and check cell values; collect rejected rows with file, row, column and reason."""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner import schema

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("planner")

#: Largest plausible floor area of one facility, m².
MAX_FLOOR_AREA_M2 = 100_000.0
#: More households than this in one community (小区) is a typo (Beijing's 天通苑, among
#: the largest, has some 60,000).
MAX_HOUSEHOLDS = 200_000
REJECT_COLUMNS = ("file", "row", "column", "value", "reason")
#: Offset from a 0-based data position to the Excel row number (header is row 1).
_FIRST_DATA_ROW = 2


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


def _all_text(series: pd.Series) -> bool:
    """True when every non-missing cell is a ``str`` (text columns: read at once)."""
    if isinstance(series.dtype, pd.StringDtype):
        return True
    return series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
        "string", "empty")


def _text(series: pd.Series) -> pd.Series:
    """Strings with surrounding space removed; empty strings become NaN."""
    if _all_text(series):  # the same as the cell-by-cell rule below, at once
        out = series.str.strip()
    else:
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
        return re.sub(_WHOLE_DECIMAL, r"\1", text) or np.nan
    if _all_text(series):  # the same rule on text cells, at once
        out = series.str.strip().str.replace(_WHOLE_DECIMAL, r"\1", regex=True)
        return out.mask(out == "").astype("str")
    return series.map(one).astype("str")


#: An ID typed as a whole decimal (``12.00``) is the ID ``12``.
_WHOLE_DECIMAL = r"^(\d+)\.0+$"


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
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        # a numeric column: every cell is a number or missing, as ``one`` reads it
        return pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=series.index,
                         name=series.name)
    return series.map(one).astype(float)


#: Completion years outside this range are typos, read as unknown.
YEAR_RANGE = (1800, 2100)


_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*\d{1,2}\s*月?\s*(?:[-/.]?\s*\d{1,2}\s*日?)?\s*$")


def _year_of(value: object) -> object:
    """The year of a date: an Excel date cell (datetime) or text like 2015-06-01, 2015年6月."""
    if isinstance(value, (datetime.date, pd.Timestamp)) and not pd.isna(value):
        return value.year
    if isinstance(value, str):
        match = _DATE_TEXT.match(value)
        if match:
            return match.group(1)
    return value


def _soft_years(table: pd.DataFrame, warnings: list[str], path: Path) -> pd.Series:
    """Completion years; an unreadable one ("1990年代", 19990) becomes unknown, with a warning.

    A year only decides new-build or old, and a community with no year still has a
    status (its ``status`` column, else old), so a bad year must not remove the community
    from the coverage figures: it is kept, and the warning says which rows to fix.
    """
    if "completion_year" not in table.columns:
        return pd.Series(np.nan, index=table.index)
    raw = table["completion_year"]
    values = _numbers(raw.map(_year_of), ("年",))
    given = ~raw.isna()
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
    missing = raw.isna()  # cell by cell as _isna
    bad_text = ~np.isfinite(values) & ~missing  # text, "nan", "inf" or 1e400
    values = values.where(np.isfinite(values))
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
    # a value's lower case first, then the value as written (synonyms hold no missing values)
    mapped = text.str.lower().map(synonyms).astype(object)
    mapped = mapped.where(mapped.notna(), text.map(synonyms).astype(object))
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
