"""``planner batch`` refuses bad values of the districts table and an unusable --out first.

"A bad value stops the batch before any district starts" (planner.batch.districts): an
unknown profile, coordinate system or metric CRS used to fail only on a worker, when its
district ran; a --out that cannot be written ended in an internal error; and a batch
refused on a bad option left an empty --out behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from planner._errors import InputError
from planner.batch import read_districts, run_batch
from planner.cli import main


def table(tmp_path: Path, **cells: str) -> Path:
    """A districts table: row 2 fine, row 3 with ``cells``."""
    cols = ["district", "network", "communities", "facilities", *cells]
    rows = [["ok", "n.gpkg", "c.csv", "f.csv", *([""] * len(cells))],
            ["bad", "n.gpkg", "c.csv", "f.csv", *cells.values()]]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(",".join(r) for r in [cols, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("column", "value", "words"), [
    ("profile", "atlantis", ["Unknown profile 'atlantis'", "changji"]),
    ("profile", "mine.toml", ["mine.toml"]),
    ("network_crs", "wgs48", ["Unknown coordinate system 'wgs48'"]),
    ("communities_crs", "EPSG:99999999", ["EPSG:99999999"]),
    ("facilities_crs", "baidu-ish", ["'baidu-ish'"]),
    ("metric_crs", "EPSG:4326", ["geographic"]),
    ("speed", "0", ["walking speed"]),
    ("speed", "3.5", ["walking speed"]),
])
def test_bad_value_names_row_and_column_before_any_district(tmp_path, column, value, words):
    with pytest.raises(InputError) as err:
        read_districts(table(tmp_path, **{column: value}))
    text = str(err.value)
    assert "d.csv" in text and "row 3" in text and repr(column) in text, text
    for word in words:
        assert word in text, (word, text)


def test_slow_speed_accepted_as_planner_run_does(tmp_path):
    specs = read_districts(table(tmp_path, speed="0.05"))
    assert [s.speed for s in specs] == [None, 0.05]


def test_profile_file_is_read_from_the_tables_folder(tmp_path):
    (tmp_path / "mine.toml").write_text('[profile]\nname = "mine"\ninherits = "jinzhong"\n',
                                        encoding="utf-8")
    specs = read_districts(table(tmp_path, profile="mine.toml"))
    assert specs[1].profile == str((tmp_path / "mine.toml").resolve())
    assert specs[0].profile == "national"


def test_cli_out_that_cannot_be_written_is_bad_input(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    r = CliRunner().invoke(main, ["batch", str(table(tmp_path)), "--out",
                                  str(blocker / "out"), "--workers", "1"])
    assert r.exit_code == 2, r.output
    assert "--out" in r.output and "cannot write there" in r.output


def test_batch_refused_on_an_option_leaves_no_new_folder(tmp_path):
    out = tmp_path / "new" / "out"
    with pytest.raises(InputError, match="--memory-limit"):
        run_batch(table(tmp_path), out, memory_limit="2 bananas")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("name", ["province_map.html", "Province_Summary.CSV",
                                  "province_targets.csv"])
def test_district_named_like_a_province_file_is_refused(tmp_path, name):
    # its folder OUT/<district>/ would stand where the province file is written at the end,
    # after every district had run
    path = tmp_path / "d.csv"
    path.write_text("district,network,communities,facilities\n"
                    f"ok,n.gpkg,c.csv,f.csv\n{name},n.gpkg,c.csv,f.csv\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_districts(path)
    text = str(err.value)
    assert "row 3" in text and "'district'" in text and repr(name) in text
    assert "province" in text
