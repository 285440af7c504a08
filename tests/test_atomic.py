"""An interrupted run never leaves output that looks complete.

``write_outputs`` writes every file into a ``.partial-*`` folder inside ``--out``, then
deletes the old ``summary.json``, moves the other files into place and moves the new
``summary.json`` last. So, whenever the process dies:

- while writing into ``.partial-*``: a fresh folder has no output file at all, and a
  folder holding an earlier run keeps it untouched (files and summary consistent);
- while moving files into place: there is no ``summary.json`` (the old one is gone, the
  new one not there yet): the folder does not claim to be a finished run.

The run is killed with SIGKILL (no clean-up handler runs) at a deterministic moment: a
wrapper script, used only by this test, makes ``save_map`` (writing phase) or the second
``os.replace`` of :mod:`planner.io.outputs` (moving phase) signal and sleep. The next run
removes the ``.partial-*`` leftovers.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main

WRAPPER = '''
import os, sys, time, types
from pathlib import Path

import planner.outputs as outputs
from planner.cli import main

marker, phase, *argv = sys.argv[1:]

def stop_here(what):
    tmp = Path(marker + ".tmp")
    tmp.write_text(what)
    os.replace(tmp, marker)  # the test never sees the marker half-written
    time.sleep(600)  # the test kills us here

if phase == "writing":
    real_save_map = outputs.save_map
    def save_map(m, path):
        real_save_map(m, path)
        stop_here("writing")
    outputs.save_map = save_map
elif phase == "moving":
    moved = []
    def replace(src, dst):
        os.replace(src, dst)
        moved.append(dst)
        if len(moved) == 2:
            stop_here("moving")
    import planner.io.outputs as io_outputs
    io_outputs.os = types.SimpleNamespace(**{**vars(os), "replace": replace})
sys.argv = ["planner", *argv]
main()
'''
#: Seconds to wait for the run to reach the kill point.
REACH_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("atomic")
    r = CliRunner().invoke(main, ["sample", "--out", str(root / "data"), "--size", "0.3"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    (root / "wrapper.py").write_text(WRAPPER, encoding="utf-8")
    return root


def run_args(data: Path, out: Path) -> list[str]:
    return ["run", "--network", str(data / "roads.gpkg"),
            "--communities", str(data / "communities.gpkg"),
            "--facilities", str(data / "facilities.csv"), "--gates", str(data / "gates.csv"),
            "--profile", "jinzhong", "--out", str(out), "--no-cache"]


def complete_run(root: Path, out: Path, *extra: str) -> None:
    r = CliRunner().invoke(main, [*run_args(root / "data", out), *extra],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output


def killed_run(root: Path, out: Path, phase: str, *extra: str) -> None:
    """Run planner in a subprocess and SIGKILL it when it reaches ``phase``."""
    marker = root / f"marker-{phase}-{out.name}"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, str(root / "wrapper.py"), str(marker), phase,
         *run_args(root / "data", out), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=root,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        deadline = time.monotonic() + REACH_TIMEOUT_S
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"the run ended before {phase}: {proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the run did not reach {phase} in {REACH_TIMEOUT_S} s")
            time.sleep(0.05)
        assert marker.read_text() == phase
    finally:
        proc.kill()  # SIGKILL: no finally blocks, no TemporaryDirectory clean-up
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -9


def snapshot(out: Path) -> dict[str, str]:
    """File name → SHA-256 of every visible file of an output folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}


def partials(out: Path) -> list[Path]:
    return sorted(out.glob(".partial-*"))


def test_killed_while_writing_a_fresh_folder_leaves_no_output(sample):
    out = sample / "fresh"
    killed_run(sample, out, "writing")
    assert snapshot(out) == {}  # no summary.json, no communities.gpkg, nothing
    leftovers = partials(out)
    assert len(leftovers) == 1
    # the temporary folder did hold the half-done run
    assert (leftovers[0] / "communities.gpkg").exists()
    assert not (leftovers[0] / "summary.json").exists()
    # the next run cleans up and finishes
    complete_run(sample, out)
    assert partials(out) == []
    assert {"summary.json", "communities.gpkg", "communities.csv", "facilities.gpkg",
            "targets.csv", "rejects.csv", "gap_map.html"} <= set(snapshot(out))


def test_killed_while_writing_over_an_old_run_keeps_it_intact(sample):
    out = sample / "rerun-writing"
    complete_run(sample, out, "--speed", "0.8")
    before = snapshot(out)
    killed_run(sample, out, "writing")  # the new run would be at 1.0 m/s
    assert snapshot(out) == before  # byte for byte: the old run, complete and consistent
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["walking_speed_m_s"] == 0.8
    assert len(pd.read_csv(out / "communities.csv")) == summary["communities"]["count"]
    assert len(partials(out)) == 1


def test_killed_while_moving_leaves_no_summary(sample):
    out = sample / "rerun-moving"
    complete_run(sample, out, "--speed", "0.8")
    before = snapshot(out)
    killed_run(sample, out, "moving")
    after = snapshot(out)
    assert "summary.json" not in after  # the folder no longer claims to be a finished run
    changed = {name for name in after if after[name] != before.get(name)}
    assert 1 <= len(changed) <= 2  # a mix of new and old files, and nothing vouching for it
    assert set(after) == set(before) - {"summary.json"}
    complete_run(sample, out)
    assert partials(out) == []
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["walking_speed_m_s"] == 1.0


def test_no_stale_file_survives_next_to_a_new_summary(sample):
    out = sample / "stale"
    complete_run(sample, out, "--speed", "0.8")
    assert (out / "gap_map.html").exists()
    complete_run(sample, out, "--no-map")
    # summary.json now describes a run at 1.0 m/s without a map: an old 0.8 m/s map
    # beside it would be vouched for by the new summary
    assert not (out / "gap_map.html").exists()
