"""``planner batch`` never overwrites a user's file under a province output name.

``province_summary.csv``, ``province_targets.csv`` and ``province_map.html`` go into the
output folder itself; a file of one of those names that the planner did not write is
refused before any district runs (the tasks here fail the test when called), naming the
file and what to do. The planner's own files, from this version (the folder's manifest)
or an older one (recognised by their content), are replaced as before.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from planner._errors import InputError
from planner.batch import province, run_batch
from planner.batch.districts import DistrictSpec
from planner.batch.province import province_summary, write_province
from planner.cli import main
from planner.io.guard import MANIFEST_NAME

PROVINCE_FILES = ("province_summary.csv", "province_targets.csv", "province_map.html")

SUMMARY = {"profile": "jinzhong", "facilities": {"count": 2},
           "communities": {"count": 3, "households": 700, "required_m2": 210.0,
                           "shortfall_m2": 90.0,
                           "households_by_status": {"meets": 400, "below_standard": 100,
                                                    "uncovered": 200}},
           "targets": [{"id": "t1", "metric": "m", "label_zh": "甲", "label_en": "a",
                        "numerator": 1, "denominator": 3, "value": 1 / 3, "threshold": 0.9,
                        "passed": False, "source": "s"}]}


def spec(name: str, row: int) -> DistrictSpec:
    return DistrictSpec(district=name, network="n.gpkg", communities="c.csv",
                        facilities="f.csv", row=row)


def fake_district(s: DistrictSpec, out_root: str) -> dict:
    """A district's record without running it (counts as in SUMMARY; '坏' fails)."""
    ok = s.district != "坏"
    return {"district": s.district, "row": s.row, "status": "done" if ok else "failed",
            "error": None if ok else "@SUM(A1) failed", "elapsed_s": 1.23456, "cpu_s": 1.0,
            "peak_rss_mb": 100.04, "worker": "host:1", "summary": SUMMARY if ok else None}


def never_run(s: DistrictSpec, out_root: str) -> dict:
    raise AssertionError(f"district {s.district} ran before the refusal")


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", PROVINCE_FILES)
def test_users_file_under_a_province_name_is_refused_before_any_district(tmp_path, client,
                                                                        name):
    mine = tmp_path / name
    mine.write_text("my own notes, not the planner's\n", encoding="utf-8")
    before = sha(mine)
    with pytest.raises(InputError) as err:
        run_batch([spec("甲", 2)], tmp_path, client=client, task=never_run)
    text = str(err.value)
    assert str(mine) in text and "not written by planner" in text
    assert "move it away" in text and "--out" in text
    assert sha(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_cli_refuses_a_users_province_map_before_any_district(tmp_path):
    table = tmp_path / "d.csv"
    table.write_text("district,network,communities,facilities\n"
                     "甲,missing.gpkg,missing.csv,missing.csv\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "province_map.html").write_text("<html>mine</html>", encoding="utf-8")
    r = CliRunner().invoke(main, ["batch", str(table), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 2, r.output
    assert "province_map.html" in r.output and "not written by planner" in r.output
    assert "districts" not in r.output.split("error:")[0]  # no progress bar: nothing ran
    assert (out / "province_map.html").read_text(encoding="utf-8") == "<html>mine</html>"
    assert sorted(p.name for p in out.iterdir()) == ["province_map.html"]


def test_province_files_are_the_files_written(tmp_path):
    assert province.PROVINCE_FILES == PROVINCE_FILES
    assert sorted(write_province([fake_district(spec("甲", 2), "")], tmp_path)) == sorted(
        PROVINCE_FILES)


def test_own_files_are_replaced_and_an_edited_one_is_refused(tmp_path, client):
    first = run_batch([spec("甲", 2), spec("坏", 3)], tmp_path, client=client,
                      task=fake_district)
    files = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    assert sorted(files) == sorted(PROVINCE_FILES)
    assert all(files[n] == [(tmp_path / n).stat().st_size] for n in PROVINCE_FILES)
    second = run_batch([spec("甲", 2)], tmp_path, client=client, task=fake_district)
    assert [r["district"] for r in first.records] == ["甲", "坏"]
    assert list(pd.read_csv(tmp_path / "province_summary.csv", encoding="utf-8-sig")
                ["district"]) == ["甲", "(province)"]  # replaced by the second batch
    assert second.failed == []
    with (tmp_path / "province_targets.csv").open("a", encoding="utf-8") as f:
        f.write("my,extra,row\n")  # edited since: no longer the planner's file
    with pytest.raises(InputError, match=r"province_targets\.csv"):
        run_batch([spec("甲", 2)], tmp_path, client=client, task=never_run)


def test_files_of_an_older_batch_without_a_manifest_are_replaced(tmp_path):
    records = [fake_district(spec("甲", 2), "")]
    write_province(records, tmp_path)
    (tmp_path / MANIFEST_NAME).unlink()  # as an older planner left the folder
    write_province(records, tmp_path)
    assert sorted(json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
                  ["files"]) == sorted(PROVINCE_FILES)


def test_manifest_keeps_the_entries_of_other_files(tmp_path):
    (tmp_path / "gap_map.html").write_text("x", encoding="utf-8")
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"files": {"gap_map.html": [1]}}),
                                          encoding="utf-8")
    write_province([fake_district(spec("甲", 2), "")], tmp_path)
    files = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    assert files["gap_map.html"] == [1] and set(PROVINCE_FILES) <= set(files)


def test_batch_result_summary_is_the_table_not_the_reread_csv(tmp_path, client):
    result = run_batch([spec("甲", 2), spec("坏", 3)], tmp_path, client=client,
                       task=fake_district)
    expected = province_summary(result.records)
    pd.testing.assert_frame_equal(result.summary, expected)
    # the message itself, not the CSV's copy escaped for Excel ("'@SUM…")
    assert result.summary.loc[1, "error"] == "@SUM(A1) failed"
    total = result.summary.iloc[-1]
    # households by hand: 甲 700 (坏 failed: left out); served = meets 400 + below 100
    assert total["households"] == 700
    assert total["share_households_served"] == pytest.approx(500 / 700, abs=5e-5)
