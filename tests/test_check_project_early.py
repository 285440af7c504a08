"""``planner check-project`` refuses bad values and unsafe outputs before loading the district.

Loading and preparing a real district takes minutes; a typo in ``--households`` or an
``--out`` that would replace the user's file must be found first. Each case replaces
:func:`planner.pipeline.load_study_area` by a function that fails the test when called,
so a refusal that comes only after loading shows as exit 3 (an internal error), not 2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import planner.pipeline
from planner.cli import main
from tests.conftest import to_lonlat

LON, LAT = (f"{v[0]:.10f}" for v in to_lonlat([(600, 0)]))
SITE = ["--lon", LON, "--lat", LAT]


@pytest.fixture
def never_load(monkeypatch):
    def load(*_: object, **__: object) -> None:
        raise AssertionError("the district was loaded before the refusal")

    monkeypatch.setattr(planner.pipeline, "load_study_area", load)


def run(tmp_path: Path, *args: object):
    inputs = {}
    for name in ("roads.geojson", "communities.csv", "facilities.csv"):
        inputs[name] = tmp_path / name
        inputs[name].write_text("placeholder: never read\n", encoding="utf-8")
    base = ["check-project", "--network", inputs["roads.geojson"],
            "--communities", inputs["communities.csv"], "--facilities", inputs["facilities.csv"]]
    return CliRunner().invoke(main, [*map(str, base), *map(str, args)])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "loading network" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)


@pytest.mark.parametrize(("args", "words"), [
    (["--households", "0", *SITE], ["households = '0'", "whole number"]),
    (["--households", "lots", *SITE], ["households = 'lots'", "must be a number"]),
    (["--households", "100", *SITE, "--facility-m2", "-5"], ["facility_m2 = '-5'"]),
    (["--households", "100", *SITE, "--handover", "someday"], ["handover", "YYYY-MM-DD"]),
    (["--households", "100", *SITE, "--planning-approval", "2025-01-01",
      "--housing-completion", "2024-01-01"], ["housing_completion", "is before"]),
    (["--households", "100", *SITE, "--facility-m2", "50", "--facility-location", "outside"],
     ["facility_location"]),
    (["--households", "100", *SITE, "--elderly", "many"], ["elderly = 'many'"]),
    (["--households", "100", "--lon", "37.68", "--lat", "112.75"], ["lat = ", "swapped"]),
    (["--households", "100", "--lon", "2.35", "--lat", "48.85"], ["outside China"]),
    (["--households", "100", *SITE, "--gate", "112.75"], ["--gate", "LON,LAT"]),
    (["--households", "100", "--boundary", "no-such-site.geojson"], ["no-such-site.geojson"]),
])
def test_bad_project_values_are_refused_before_loading(tmp_path, never_load, args, words):
    refused(run(tmp_path, *args), *words)


@pytest.mark.parametrize("speed", ["0", "-1", "3.5", "nan"])
def test_speed_is_checked_as_in_planner_run(tmp_path, never_load, speed):
    refused(run(tmp_path, "--households", "100", *SITE, "--speed", speed),
            f"--speed {float(speed):g} is not a walking speed")


def test_slow_speed_accepted_by_planner_run_is_accepted(tmp_path, never_load):
    # 0.05 m/s: slow, but > 0 as `planner run` accepts; it gets as far as loading
    r = run(tmp_path, "--households", "100", *SITE, "--speed", "0.05")
    assert r.exit_code == 3 and "the district was loaded" in r.output


def test_foreign_map_is_refused_before_loading(tmp_path, never_load):
    mine = tmp_path / "view.html"
    mine.write_text("<html>my own page</html>", encoding="utf-8")
    before = sha(mine)
    refused(run(tmp_path, "--households", "100", *SITE, "--map", mine),
            "view.html", "not written by planner")
    assert sha(mine) == before


@pytest.mark.parametrize(("name", "words"), [
    ("communities.csv", ["--map", "input files"]),
    ("map.png", ["--map", ".html"]),
])
def test_map_that_is_an_input_or_not_html_is_refused(tmp_path, never_load, name, words):
    refused(run(tmp_path, "--households", "100", *SITE, "--map", tmp_path / name), *words)


def test_unwritable_map_folder_is_refused_before_loading(tmp_path, never_load):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    refused(run(tmp_path, "--households", "100", *SITE, "--map", blocker / "m.html"),
            "--map", "cannot write there")


def test_map_with_projects_is_refused(tmp_path, never_load):
    projects = tmp_path / "projects.csv"
    projects.write_text(f"project_id,households,lon,lat\nP1,100,{LON},{LAT}\n", encoding="utf-8")
    refused(run(tmp_path, "--projects", projects, "--out", tmp_path / "r.csv",
                "--map", tmp_path / "m.html"), "--map", "--projects")


def test_batch_foreign_out_is_refused_before_loading(tmp_path, never_load):
    projects = tmp_path / "projects.csv"
    projects.write_text(f"project_id,households,lon,lat\nP1,100,{LON},{LAT}\n", encoding="utf-8")
    for name in ("results.csv", "results_rejects.csv"):
        mine = tmp_path / name
        mine.write_text("my,own\n1,2\n", encoding="utf-8")
        other = tmp_path / ("results_rejects.csv" if name == "results.csv" else "results.csv")
        other.unlink(missing_ok=True)
        refused(run(tmp_path, "--projects", projects, "--out", tmp_path / "results.csv"),
                name, "never overwrites")
        assert mine.read_text(encoding="utf-8") == "my,own\n1,2\n"
        mine.unlink()


@pytest.mark.parametrize(("out", "words"), [
    ("projects.csv", ["--out", "input files"]),
    ("a-file/r.csv", ["--out", "cannot write there"]),
    ("", ["--out is empty"]),
])
def test_batch_out_that_cannot_be_used_is_refused_before_loading(tmp_path, never_load, out,
                                                                 words):
    projects = tmp_path / "projects.csv"
    projects.write_text(f"project_id,households,lon,lat\nP1,100,{LON},{LAT}\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    before = sha(projects)
    target = tmp_path / out if out else ""
    refused(run(tmp_path, "--projects", projects, "--out", target), *words)
    assert sha(projects) == before


def test_batch_projects_file_without_its_columns_is_refused_before_loading(tmp_path,
                                                                           never_load):
    projects = tmp_path / "projects.csv"
    projects.write_text("name,lon,lat\nP1,112.75,37.68\n", encoding="utf-8")
    refused(run(tmp_path, "--projects", projects, "--out", tmp_path / "r.csv"),
            "projects.csv", "missing column", "project_id", "households")


@pytest.mark.parametrize("mode", ["single", "projects"])
def test_unknown_project_crs_is_refused_before_loading(tmp_path, never_load, mode):
    # a batch used to turn it into one reject per row, after loading the district
    projects = tmp_path / "projects.csv"
    projects.write_text(f"project_id,households,lon,lat\nP1,100,{LON},{LAT}\n", encoding="utf-8")
    args = (["--households", "100", *SITE] if mode == "single"
            else ["--projects", projects, "--out", tmp_path / "r.csv"])
    refused(run(tmp_path, *args, "--crs", "wgs48"), "--crs", "Unknown coordinate system 'wgs48'")
    assert not (tmp_path / "r.csv").exists()


def test_out_without_projects_is_refused_not_ignored(tmp_path, never_load):
    refused(run(tmp_path, "--households", "100", *SITE, "--out", tmp_path / "r.csv"),
            "--out", "--projects")
