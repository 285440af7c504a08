"""`planner run` as a library function (planner.run.run_planner), reused by `planner batch`."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner._errors import InputError
from planner.batch.districts import DistrictSpec
from planner.batch.task import run_district
from planner.cli import main
from planner.run import run_planner
from planner.sample import write_sample


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small")
    write_sample(root / "data", size=0.05, seed=7)  # carries care columns
    return root


def _inputs(d: Path) -> dict[str, str]:
    return {"network": str(d / "roads.gpkg"), "communities": str(d / "communities.gpkg"),
            "facilities": str(d / "facilities.csv"), "gates": str(d / "gates.csv")}


def _layers(html: Path) -> dict[str, int]:
    text = html.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="planner-data">(.*?)</script>', text, flags=re.S).group(1))
    return {layer["id"]: layer["count"] for layer in data["layers"]}


def test_batch_district_is_planner_run(small: Path) -> None:
    """Same files, same tables and the same map layers (care layer included) both ways."""
    d = small / "data"
    args = [word for k, v in _inputs(d).items() for word in (f"--{k}", v)]
    r = CliRunner().invoke(main, ["run", *args, "--profile", "jinzhong",
                                  "--out", str(small / "run")])
    assert r.exit_code == 0, r.output
    spec = DistrictSpec(district="d", profile="jinzhong", **_inputs(d))
    rec = run_district(spec, str(small / "batch"))
    assert rec["status"] == "done", rec["error"]
    by_run, by_batch = small / "run", small / "batch" / "d"
    assert ({p.name for p in by_run.iterdir() if not p.name.startswith(".")}
            == {p.name for p in by_batch.iterdir() if not p.name.startswith(".")})
    for name in ("communities.csv", "streets.csv", "targets.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(by_run / name), pd.read_csv(by_batch / name))
    layers = _layers(by_run / "gap_map.html")
    assert "care-vulnerable" in layers  # the sample's care columns reach the map ...
    assert _layers(by_batch / "gap_map.html") == layers  # ... in batch too


def test_run_planner_python_api(small: Path) -> None:
    steps: list[str] = []

    @contextmanager
    def record(text: str):
        steps.append(text)
        yield

    out = small / "api"
    outcome = run_planner({**_inputs(small / "data"), "profile": "jinzhong", "out_dir": out,
                           "no_map": True}, step=record,
                          summary_extra=lambda result: {"n": len(result.communities)})
    assert "gap_map.html" not in outcome.files and (out / "communities.csv").exists()
    assert steps[0] == "loading network and layers" and "drawing the gap map" not in steps
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n"] == len(pd.read_csv(out / "communities.csv")) > 0
    # options are checked by ReachParams for Python callers too
    with pytest.raises(InputError, match="speed_m_s=7"):
        run_planner({**_inputs(small / "data"), "out_dir": small / "api2", "speed": 7})
