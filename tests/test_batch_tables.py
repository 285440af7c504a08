"""Batch tables: Excel row numbers past empty rows, province CSVs safe for Excel and rounded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planner._errors import InputError
from planner.batch.districts import read_districts
from planner.batch.province import write_province


def test_row_number_counts_empty_rows_in_the_file(tmp_path: Path) -> None:
    # line 1 header, line 2 district ok, line 3 empty (dropped), line 4 the bad speed:
    # the message must say Excel row 4 (a plain enumerate would say row 3)
    (tmp_path / "d.csv").write_text(
        "district,network,communities,facilities,speed\n"
        "ok,n.gpkg,c.csv,f.csv,\n"
        ",,,,\n"
        "bad,n.gpkg,c.csv,f.csv,15\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_districts(tmp_path / "d.csv")
    assert "row 4" in str(err.value) and "'speed'" in str(err.value)


def test_row_number_of_a_spec_after_an_empty_row(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        "district,network,communities,facilities\n"
        "a,n.gpkg,c.csv,f.csv\n"
        ",,,\n"
        "b,n.gpkg,c.csv,f.csv\n", encoding="utf-8")
    specs = read_districts(tmp_path / "d.csv")
    assert [(s.district, s.row) for s in specs] == [("a", 2), ("b", 4)]


def _record(district: str, row: int, summary: dict | None, error: str | None = None) -> dict:
    return {"district": district, "row": row, "status": "failed" if summary is None else "done",
            "error": error, "elapsed_s": 1.234, "cpu_s": 1.0, "peak_rss_mb": 100.0,
            "worker": "host:1", "summary": summary}


def test_province_csvs_escape_formulas_and_round(tmp_path: Path) -> None:
    summary = {
        "profile": "jinzhong", "facilities": {"count": 2},
        "communities": {"count": 3, "households": 3, "required_m2": 60.123456,
                        "shortfall_m2": 20.04999,
                        "households_by_status": {"meets": 1, "below_standard": 0,
                                                 "uncovered": 2}},
        "targets": [{"id": "t1", "metric": "m", "label_zh": "=危险", "label_en": "x",
                     "numerator": 1, "denominator": 3, "value": 1 / 3, "threshold": 0.9,
                     "passed": False, "source": "s"}],
    }
    records = [_record("=HYPERLINK(1)", 2, summary),
               _record("b", 3, None, error="@SUM(A1) failed")]
    write_province(records, tmp_path)
    table = pd.read_csv(tmp_path / "province_summary.csv", encoding="utf-8-sig")
    assert table.loc[0, "district"] == "'=HYPERLINK(1)"
    assert table.loc[1, "error"] == "'@SUM(A1) failed"
    assert table.loc[0, "share_households_served"] == pytest.approx(0.3333, abs=1e-12)  # 1/3
    assert table.loc[0, "required_m2"] == pytest.approx(60.1, abs=1e-12)
    assert table.loc[0, "shortfall_m2"] == pytest.approx(20.0, abs=1e-12)
    targets = pd.read_csv(tmp_path / "province_targets.csv", encoding="utf-8-sig")
    assert targets.loc[0, "district"] == "'=HYPERLINK(1)"
    assert targets.loc[0, "label_zh"] == "'=危险"
    assert targets.loc[0, "value"] == pytest.approx(0.3333, abs=1e-12)
