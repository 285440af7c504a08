"""planner.io.guard: the output checks leave no trace of a run that fails on bad input.

``check_output_paths`` runs before any computing; it must prove that ``--out`` (and the
``--map`` folder) can be written without creating them, so a run refused on bad input
leaves the disk as it found it. The folders are made only when writing starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from planner._errors import InputError
from planner.cli import main
from planner.io.guard import check_output_paths


def tree(folder: Path) -> list[str]:
    """Every path under ``folder`` (files and folders), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_check_creates_neither_out_nor_its_parents(tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    assert check_output_paths(out, tmp_path / "maps" / "m.html") == out.resolve()
    assert tree(tmp_path) == []  # nothing made, no probe left behind


def test_existing_out_is_still_probed_and_kept(tmp_path):
    (tmp_path / "out").mkdir()
    assert check_output_paths(tmp_path / "out") == (tmp_path / "out").resolve()
    assert tree(tmp_path) == ["out"]


def test_missing_out_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"--out .*a-file.*cannot write there"):
        check_output_paths(blocker / "sub" / "out")
    assert tree(tmp_path) == ["a-file"]


def test_run_failing_on_bad_input_leaves_no_new_folder(line_district, tmp_path):
    d = line_district
    bad = d["dir"] / "bad_communities.csv"
    bad.write_text("community_id,lon,lat\nA,87.6,43.8\n", encoding="utf-8")  # no households
    out = tmp_path / "results" / "district"
    before = tree(tmp_path)
    result = CliRunner().invoke(main, [
        "run", "--network", str(d["network"]), "--communities", str(bad),
        "--facilities", str(d["facilities"]), "--profile", "changji", "--out", str(out),
        "--map", str(tmp_path / "maps" / "m.html")])
    assert result.exit_code == 2, result.output
    assert "households" in result.output  # refused for the missing column, not the folder
    assert not (tmp_path / "results").exists()
    assert not (tmp_path / "maps").exists()
    assert tree(tmp_path) == before


def test_sites_failing_on_bad_input_leaves_no_new_folder(line_district, tmp_path):
    d = line_district
    out = tmp_path / "sites-out"
    result = CliRunner().invoke(main, [
        "sites", "--network", str(d["network"]), "--communities", str(d["communities"]),
        "--facilities", str(d["facilities"]), "--candidates", str(tmp_path / "none.csv"),
        "--profile", "changji", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "none.csv" in result.output
    assert not out.exists()
