"""``write_csv``: the bytes it writes, cell by cell (issue 8: the faster writer).

The escaping of text columns is done at once for pandas' string columns and cell by cell
for other object columns; both must write exactly the bytes the cell-by-cell rule
(:func:`planner.io.escape_formula`) gives. Each expected file below is written out by
hand.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.io import escape_formula, escape_formulas, write_csv

BOM = "\ufeff".encode()

#: Hand-made cells and what a spreadsheet must see. A quote is added when a text starts
#: with = + - @ tab or CR, unless the text is only signed numbers (it cannot call
#: anything); pandas' CSV writer then wraps cells holding a comma, a double quote or a
#: newline (its line end) in double quotes; a lone CR is written bare.
CELLS = [
    ("=1+1", "'=1+1"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd", "'-2+3+cmd"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-5", "-5"),  # a signed number is data
    ("+86 10 1234", "+86 10 1234"),  # a phone number: signed digits and spaces only
    ("-74.0, 40.7", "\"-74.0, 40.7\""),  # signed numbers; the comma makes it quoted
    ("a=b", "a=b"),  # = not first
    (" =1", " =1"),  # a space first: no formula in Excel
    ("幸福小区", "幸福小区"),
]


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_text_cells_written_escaped(tmp_path, dtype):
    frame = pd.DataFrame({"name": pd.Series([c for c, _ in CELLS], dtype=dtype)})
    path = write_csv(frame, tmp_path / "t.csv")
    expected = "name\n" + "".join(f"{e}\n" for _, e in CELLS)
    assert path.read_bytes() == BOM + expected.encode("utf-8")


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_missing_text_is_an_empty_cell(tmp_path, dtype):
    frame = pd.DataFrame({"id": [1, 2, 3],
                          "name": pd.Series(["=x", None, "ok"], dtype=dtype)})
    path = write_csv(frame, tmp_path / "t.csv")
    assert path.read_bytes() == BOM + b"id,name\n1,'=x\n2,\n3,ok\n"


def test_numbers_stay_numbers_and_headers_are_escaped(tmp_path):
    frame = pd.DataFrame({
        "=total": [-3, 7],  # a header that starts like a formula gets the quote
        "nearest_minutes": [-1.234, 2.0],  # negative numbers stay numbers; 0.01 min
        "shortfall_m2": [np.inf, -0.06],  # inf: empty; -0.06 → -0.1 (0.1 m²)
        "households": pd.array([None, 5], dtype="Int64"),
    })
    path = write_csv(frame, tmp_path / "t.csv")
    assert path.read_bytes() == BOM + (b"'=total,nearest_minutes,shortfall_m2,households\n"
                                       b"-3,-1.23,,\n7,2.0,-0.1,5\n")


def test_object_column_of_numbers_keeps_inference(tmp_path):
    # An object column is escaped cell by cell with pandas' map, which infers float64 from
    # it; so inf then becomes an empty cell (written "" as the row's only field). It was
    # still object when rounding looked at it, so 0.12345 is not rounded to 0.1235.
    frame = pd.DataFrame({"value": pd.Series([0.12345, np.inf], dtype=object)})
    path = write_csv(frame, tmp_path / "t.csv")
    assert path.read_bytes() == BOM + b'value\n0.12345\n""\n'


def test_escape_formulas_leaves_the_input_alone():
    frame = pd.DataFrame({"name": pd.Series(["=a", "b"], dtype="str"),
                          "other": pd.Series(["@c", 1], dtype=object)})
    out = escape_formulas(frame)
    assert out["name"].tolist() == ["'=a", "b"]
    assert out["other"].tolist() == ["'@c", 1]
    assert frame["name"].tolist() == ["=a", "b"]  # the caller's frame is unchanged
    assert frame["other"].tolist() == ["@c", 1]
    assert out["name"].dtype == frame["name"].dtype


def test_index_written_as_first_column(tmp_path):
    frame = pd.DataFrame({"n": [1, 2]}, index=pd.Index(["=a", "b"], name="id"))
    path = write_csv(frame, tmp_path / "t.csv", index=True)
    assert path.read_bytes() == BOM + b"id,n\n'=a,1\nb,2\n"


_TEXT = st.one_of(st.none(), st.text(alphabet="=+-@\t\r 0123456789.,eEa幸", max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=12))
def test_text_columns_escape_as_cell_by_cell(cells):
    # The at-once escape of a string column gives, cell for cell, escape_formula's answer.
    frame = pd.DataFrame({"c": pd.Series(cells, dtype="str")})
    got = escape_formulas(frame)["c"].to_numpy(dtype=object)
    want = [escape_formula(v) for v in frame["c"].to_numpy(dtype=object)]
    assert [None if pd.isna(v) else v for v in got] == [
        None if pd.isna(v) else v for v in want]


def test_compressed_name_is_still_compressed(tmp_path):
    # pandas compresses a .gz name; the hand-written BOM path must not lose that.
    path = write_csv(pd.DataFrame({"name": ["=a"]}), tmp_path / "t.csv.gz")
    assert gzip.decompress(path.read_bytes()) == BOM + b"name\n'=a\n"
