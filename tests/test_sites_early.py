"""``planner sites`` refuses what it can before loading the district and optimising.

A user's ``sites.csv`` (or any file under one of the command's output names) in ``--out``,
an unreadable candidates file and an unknown profile used to be found only after the
district was loaded and assessed (and, for the output names, after optimising). Each case
replaces :func:`planner.pipeline.load_study_area` by a function that fails the test when
called, so a late refusal shows as exit 3 (an internal error), not 2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import planner.pipeline
from planner.cli import main
from planner.sites import report


@pytest.fixture
def never_load(monkeypatch):
    def load(*_: object, **__: object) -> None:
        raise AssertionError("the district was loaded before the refusal")

    monkeypatch.setattr(planner.pipeline, "load_study_area", load)


def run(tmp_path: Path, out: Path, *args: object):
    names = ("roads.geojson", "communities.csv", "facilities.csv")  # never read
    net, comm, fac = (str(tmp_path / n) for n in names)
    return CliRunner().invoke(main, [
        "sites", "--network", net, "--communities", comm, "--facilities", fac,
        "--out", str(out), *map(str, args)])


def refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "loading network" not in result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_site_files_are_the_writers_names():
    assert list(report.SITE_FILES) == ["sites.csv", "tradeoff.csv", "streets_before_after.csv",
                                "targets_before_after.csv", "sites_map.html",
                                "sites_summary.json"]


@pytest.mark.parametrize("name", ["sites.csv", "sites_map.html", "sites_summary.json"])
def test_users_file_under_an_output_name_is_refused_before_loading(tmp_path, never_load, name):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / name
    mine.write_text("my own notes\n", encoding="utf-8")
    before = sha(mine)
    refused(run(tmp_path, out), name, "planner did not write", "Move them away")
    assert sha(mine) == before
    assert sorted(p.name for p in out.iterdir()) == [name]  # no lock, no staging left


def test_missing_candidates_file_is_refused_before_loading(tmp_path, never_load):
    refused(run(tmp_path, tmp_path / "out", "--candidates", tmp_path / "none.csv"), "none.csv")
    assert not (tmp_path / "out").exists()


def test_candidates_without_an_id_are_refused_before_loading(tmp_path, never_load):
    path = tmp_path / "cands.csv"
    path.write_text("name,lon,lat\nx,112.75,37.69\n", encoding="utf-8")
    refused(run(tmp_path, tmp_path / "out", "--candidates", path),
            "cands.csv: no candidate id column")


def test_unknown_profile_is_refused_before_loading(tmp_path, never_load):
    refused(run(tmp_path, tmp_path / "out", "--profile", "atlantis"), "atlantis")
