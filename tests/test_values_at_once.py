"""Cell values read a column at once give what the cell-by-cell rules give.

The readers parse text, IDs, numbers and choices for every row of a layer. They now
take whole text or numeric columns at once; the references below are the cell-by-cell
rules they had (and still use for mixed columns). Hypothesis feeds both the same
columns: text with spaces, full-width digits, units and thousands separators, Excel-style
``12.0`` IDs, missing cells of every kind, and numeric columns with NaN.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.io.values import _check_choice, _ids, _numbers, _Rejects, _text


def ref_isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def ref_text(series: pd.Series) -> pd.Series:
    out = series.map(lambda v: np.nan if ref_isna(v) else str(v).strip())
    return out.replace("", np.nan).astype("str")


def ref_ids(series: pd.Series) -> pd.Series:
    def one(v: object) -> object:
        if ref_isna(v):
            return np.nan
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return re.sub(r"^(\d+)\.0+$", r"\1", str(v).strip()) or np.nan
    return series.map(one).astype("str")


def ref_numbers(series: pd.Series, units: tuple[str, ...] = ()) -> pd.Series:
    def one(v: object) -> float:
        if ref_isna(v):
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


TEXT = st.one_of(
    st.sampled_from(["", " ", "  a ", "12", "12.0", "12.00", " 007.0 ", "1.5", "１２", "新建",
                     "Old", "OLD", "old", " new ", "建成", "3,000户", "12 户", "abc.0"]),
    st.text(alphabet=" 0123456789.,户aB新", max_size=6),
)
MISSING = st.sampled_from([None, np.nan, pd.NA])


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.one_of(TEXT, MISSING), min_size=1, max_size=12),
       st.sampled_from([object, "str"]))
def test_text_columns_read_at_once_as_cell_by_cell(cells, dtype):
    if dtype == "str" and any(c is not None and not isinstance(c, str) and not pd.isna(c)
                              for c in cells):
        return
    s = pd.Series(cells, dtype=dtype)
    pd.testing.assert_series_equal(_text(s), ref_text(s))
    pd.testing.assert_series_equal(_ids(s), ref_ids(s))
    pd.testing.assert_series_equal(_numbers(s, ("户",)), ref_numbers(s, ("户",)))


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**6, 10**6)), min_size=1, max_size=12))
def test_numeric_columns_read_at_once_as_cell_by_cell(values):
    for s in (pd.Series(values, dtype=float),
              pd.Series([v for v in values if isinstance(v, int)] or [1], dtype="int64"),
              pd.Series([*values[:1], None], dtype=object)):
        pd.testing.assert_series_equal(_numbers(s), ref_numbers(s))
        pd.testing.assert_series_equal(_ids(s), ref_ids(s))
    nullable = pd.Series([1, pd.NA, 3], dtype="Int64")
    pd.testing.assert_series_equal(_numbers(nullable), pd.Series([1.0, np.nan, 3.0]))


def test_choices_match_lower_case_first_then_as_written():
    """'Old' and 'OLD' match the synonym 'old'; '新建' matches as written; 'x' is rejected.

    Six rows: old, OLD, 新建, missing, x, '  new '. Known: rows 0, 1, 2, 5; unknown: row 4.
    """
    table = pd.DataFrame({"status": ["Old", "OLD", "新建", None, "x", "  new "],
                          "_row": [2, 3, 4, 5, 6, 7]})
    rejects = _Rejects(Path("c.csv"))
    got = _check_choice(table, "status", {"old": "old", "new": "new", "新建": "new"},
                        ("new", "old"), rejects, required=False)
    assert got.tolist()[:3] == ["old", "old", "new"] and got.tolist()[5] == "new"
    assert pd.isna(got.iloc[3]) and pd.isna(got.iloc[4])
    assert [(r["row"], r["value"]) for r in rejects.lines] == [(6, "x")]
