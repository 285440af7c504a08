"""The gap map drawn in a forked child while the data files are written (issue 8, item 6).

:mod:`planner.run.overlap`: the files are the same byte for byte as drawn in series; an
error in the child is raised with its type and message (the CLI's exit 2 for bad input,
3 for a bug); no child outlives the run, on failure or Ctrl-C; and the map is drawn in
series where forking is unwise (a daemonic worker, a thread, a small district).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal

import planner.outputs
import planner.run
from planner._errors import InputError
from planner.cli import main
from planner.run import overlap, run_planner
from planner.sample import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("overlap")
    write_sample(root, size=0.05, seed=7)
    return root


def _options(d: Path, out: Path) -> dict[str, object]:
    return {"network": str(d / "roads.gpkg"), "communities": str(d / "communities.gpkg"),
            "facilities": str(d / "facilities.csv"), "gates": str(d / "gates.csv"),
            "profile": "jinzhong", "out_dir": out}


def _cli(d: Path, out: Path) -> list[str]:
    return ["run", "--network", str(d / "roads.gpkg"), "--communities",
            str(d / "communities.gpkg"), "--facilities", str(d / "facilities.csv"),
            "--gates", str(d / "gates.csv"), "--profile", "jinzhong", "--out", str(out)]


def _recorder(steps: list[str]):
    @contextmanager
    def record(text: str):
        steps.append(text)
        yield

    return record


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()
            and not p.name.startswith(".")}


@pytest.fixture
def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Draw the map in a child even for the small sample (threshold 0 communities)."""
    monkeypatch.setattr(overlap, "OVERLAP_MIN_COMMUNITIES", 0)


def test_forked_map_gives_the_same_files(sample: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    serial_steps: list[str] = []
    monkeypatch.setattr(overlap, "OVERLAP_MIN_COMMUNITIES", 10**9)  # in series
    run_planner(_options(sample, tmp_path / "serial"), step=_recorder(serial_steps))
    monkeypatch.setattr(overlap, "OVERLAP_MIN_COMMUNITIES", 0)  # in a forked child
    forked_steps: list[str] = []
    outcome = run_planner(_options(sample, tmp_path / "forked"), step=_recorder(forked_steps))
    assert "drawing the gap map" in serial_steps
    assert f"drawing the gap map while writing outputs to {tmp_path / 'forked'}" in forked_steps
    assert "drawing the gap map" not in forked_steps  # one step: both at once
    serial, forked = _files(tmp_path / "serial"), _files(tmp_path / "forked")
    assert "gap_map.html" in forked and len(forked["gap_map.html"]) > 10_000
    assert set(serial) == set(forked) == {p.name for p in outcome.files.values()}
    differ = sorted(name for name in serial if serial[name] != forked[name])
    assert differ in ([], ["communities.gpkg", "facilities.gpkg"],
                      ["communities.gpkg"], ["facilities.gpkg"])  # GeoPackages: by content
    for name, layers in (("communities.gpkg", ["communities"]),
                         ("facilities.gpkg", ["facilities", "isochrones"])):
        for layer in layers:  # a GeoPackage stamps its writing time: compare the layers
            assert_geodataframe_equal(
                gpd.read_file(tmp_path / "serial" / name, layer=layer),
                gpd.read_file(tmp_path / "forked" / name, layer=layer))
    assert multiprocessing.active_children() == []  # the child was joined


def test_map_path_copy_of_a_forked_map(sample: Path, tmp_path: Path, always_fork: None) -> None:
    target = tmp_path / "maps" / "m.html"
    run_planner({**_options(sample, tmp_path / "o"), "map_path": str(target)})
    assert target.read_bytes() == (tmp_path / "o" / "gap_map.html").read_bytes()


def test_input_error_in_the_child_is_a_clear_message(sample: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     always_fork: None) -> None:
    parent = os.getpid()

    def bad_map(*args, **kwargs):
        assert os.getpid() != parent  # drawn in the child
        msg = "boundary.geojson row 3: the outline is not closed; close it and rerun"
        raise InputError(msg)

    monkeypatch.setattr(planner.run, "_draw_gap_map", bad_map)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, _cli(sample, out))
    assert result.exit_code == 2, result.output
    assert ("error: boundary.geojson row 3: the outline is not closed; close it and rerun"
            in result.output)
    assert "Traceback" not in result.output
    assert not (out / "summary.json").exists()  # no complete output
    assert not out.exists() or [p for p in out.iterdir() if p.name.startswith(".partial")] == []
    assert multiprocessing.active_children() == []


def test_error_keeps_its_type_and_the_child_traceback(sample: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      always_fork: None) -> None:
    def broken(*args, **kwargs):
        return {}["no such layer"]

    monkeypatch.setattr(planner.run, "_draw_gap_map", broken)
    with pytest.raises(KeyError, match="no such layer") as caught:
        run_planner(_options(sample, tmp_path / "o"))
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "forked process" in notes and "in broken" in notes  # where it happened
    result = CliRunner().invoke(main, _cli(sample, tmp_path / "o2"))
    assert result.exit_code == 3  # a bug, as when drawn in series
    assert "internal error: KeyError" in result.output


def test_external_script_refused_as_in_series(sample: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              always_fork: None) -> None:
    class Page:
        def render(self) -> str:
            return '<html><script src="https://cdn.example/leaflet.js"></script></html>'

    monkeypatch.setattr(planner.run, "_draw_gap_map", lambda *a, **k: Page())
    with pytest.raises(InputError, match=r"1 external script.*cdn\.example/leaflet\.js"):
        run_planner(_options(sample, tmp_path / "o"))
    assert not (tmp_path / "o" / "gap_map.html").exists()


def test_child_killed_is_an_error_not_a_hang(sample: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             always_fork: None) -> None:
    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # the child only: as the OOM killer would

    monkeypatch.setattr(planner.run, "_draw_gap_map", killed)
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        run_planner(_options(sample, tmp_path / "o"))
    assert not (tmp_path / "o" / "summary.json").exists()
    assert multiprocessing.active_children() == []


def _slow_map(marker: Path):
    """A map that takes 20 s and then leaves ``marker``: it exists only if awaited."""
    def draw(*args, **kwargs):
        time.sleep(20)
        marker.write_text("drawn", encoding="utf-8")

    return draw


def test_ctrl_c_while_writing_leaves_no_child(sample: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              always_fork: None) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    marker = tmp_path / "drawn"
    monkeypatch.setattr(planner.run, "_draw_gap_map", _slow_map(marker))
    monkeypatch.setattr(planner.outputs, "write_outputs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_planner(_options(sample, tmp_path / "o"))
    assert multiprocessing.active_children() == []
    assert not marker.exists()  # the child was stopped, not awaited


def test_cancel_stops_a_running_child() -> None:
    page = overlap.start_page(lambda: time.sleep(60))
    process = page._process
    assert process.is_alive()
    page.cancel()
    assert page._process is None and multiprocessing.active_children() == []
    with pytest.raises(RuntimeError, match="stopped before its page was read"):
        page.render()


def test_series_where_forking_is_unwise(monkeypatch: pytest.MonkeyPatch) -> None:
    big = overlap.OVERLAP_MIN_COMMUNITIES
    assert overlap.overlap_possible(big)
    assert not overlap.overlap_possible(big - 1)  # a small district: forking costs more
    in_thread: list[bool] = []
    worker = threading.Thread(target=lambda: in_thread.append(overlap.overlap_possible(big)))
    worker.start()
    worker.join()
    assert in_thread == [False]  # a server thread (Dask's threaded workers)
    with multiprocessing.get_context("fork").Pool(1) as pool:  # pool workers are daemonic
        assert pool.apply(overlap.overlap_possible, (big,)) is False
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not overlap.overlap_possible(big)  # one core: nothing to overlap on
    monkeypatch.undo()
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert not overlap.overlap_possible(big)  # no fork (Windows)


def test_ctrl_c_while_waiting_for_the_page_stops_the_child(tmp_path: Path) -> None:
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    marker = tmp_path / "drawn"
    page = overlap.start_page(_slow_map(marker))
    before = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)  # Ctrl-C half a second into the wait
    try:
        with pytest.raises(KeyboardInterrupt):
            page.render()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    assert multiprocessing.active_children() == []
    assert not marker.exists()  # the child was stopped, not awaited
