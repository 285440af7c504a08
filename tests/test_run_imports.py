"""A plain ``planner run`` does not load what only prints and reports need (issue 8, item 6).

matplotlib (prints) and the report module take a noticeable part of a warm run's start;
they are imported only when ``--png``, ``--pdf`` or ``--report`` asks for them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.sample import write_sample

_PROGRAM = r"""
import json, sys
from planner.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit as e:
    assert not e.code, e.code
print(json.dumps({m: m in sys.modules for m in ("matplotlib", "planner.report",
                                                 "planner.maps.printing")}))
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imports")
    write_sample(root, size=0.05, seed=7)
    return root


def _loaded(sample: Path, out: Path, *extra: str) -> dict[str, bool]:
    args = ["run", "--network", str(sample / "roads.gpkg"), "--communities",
            str(sample / "communities.gpkg"), "--facilities", str(sample / "facilities.csv"),
            "--profile", "jinzhong", "--out", str(out), *extra]
    proc = subprocess.run([sys.executable, "-c", _PROGRAM, *args], capture_output=True,
                          text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_plain_run_skips_prints_and_report(sample: Path, tmp_path: Path) -> None:
    assert _loaded(sample, tmp_path / "plain") == {
        "matplotlib": False, "planner.report": False, "planner.maps.printing": False}
    assert (tmp_path / "plain" / "gap_map.html").exists()  # the map is still drawn


def test_report_run_loads_them(sample: Path, tmp_path: Path) -> None:
    loaded = _loaded(sample, tmp_path / "rep", "--report")
    assert loaded == {"matplotlib": True, "planner.report": True,
                      "planner.maps.printing": True}
    assert (tmp_path / "rep" / "report.html").exists()
