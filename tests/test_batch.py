"""``planner batch``: several small generated districts on a local Dask cluster.

The districts come from the sample generator at small sizes. One district fails on purpose
(its communities file has no ``households`` column) and one is already complete before
the batch starts. Expected province figures are recomputed independently from each
district's own ``communities.csv``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

import cloudpickle
import pandas as pd
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from planner._errors import InputError
from planner.batch import (
    district_fingerprint,
    read_districts,
    run_batch,
    run_district,
)
from planner.batch.province import PROVINCE_TOTAL
from planner.cli import main
from planner.io.guard import make_partial
from planner.outputs import OUTPUT_FILES
from planner.sample import write_sample

SIZES = {"榆次": (0.05, 1), "太谷": (0.08, 2), "祁县": (0.05, 3)}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three generated districts and a broken one, with a districts table."""
    root = tmp_path_factory.mktemp("province")
    rows = []
    for name, (size, seed) in SIZES.items():
        write_sample(root / name, size=size, seed=seed)
        rows.append({"district": name, "network": f"{name}/roads.gpkg",
                     "communities": f"{name}/communities.gpkg",
                     "facilities": f"{name}/facilities.csv", "gates": f"{name}/gates.csv",
                     "profile": "jinzhong", "facilities_crs": "wgs84"})
    broken = root / "broken_communities.csv"
    broken.write_text("community_id,name,lon,lat\nc1,甲,112.75,37.69\n", encoding="utf-8")
    rows.append({"district": "坏区", "network": "榆次/roads.gpkg",
                 "communities": broken.name, "facilities": "榆次/facilities.csv"})
    pd.DataFrame(rows).to_csv(root / "districts.csv", index=False)
    return root


@pytest.fixture(scope="module")
def client() -> Client:
    """A small in-process cluster: two single-threaded workers."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def first_batch(province: Path, client: Client) -> tuple[Path, object, float]:
    """Complete 太谷 before the batch, then run the batch once."""
    out = province / "out"
    specs = read_districts(province / "districts.csv")
    pre = run_district(next(s for s in specs if s.district == "太谷"), str(out))
    assert pre["status"] == "done", pre["error"]
    before = (out / "太谷" / "summary.json").stat().st_mtime_ns
    seen: list[str] = []
    result = run_batch(province / "districts.csv", out, client=client,
                       on_result=lambda r: seen.append(r["status"]))
    assert sorted(seen) == ["done", "done", "failed", "skipped"]  # the progress callback
    return out, result, before


def _expected_from_csv(folder: Path) -> dict[str, int]:
    comm = pd.read_csv(folder / "communities.csv", encoding="utf-8-sig")
    hh = comm.groupby("service_status")["households"].sum()
    return {"households": int(comm["households"].sum()),
            "served": int(hh.get("meets", 0) + hh.get("below_standard", 0))}


def test_batch_statuses_failure_and_skip(first_batch: tuple) -> None:
    out, result, before = first_batch
    status = {r["district"]: r["status"] for r in result.records}
    assert status == {"榆次": "done", "太谷": "skipped", "祁县": "done", "坏区": "failed"}
    (bad,) = result.failed
    assert "households" in bad["error"] and "broken_communities.csv" in bad["error"]
    # the complete district was not rewritten
    assert (out / "太谷" / "summary.json").stat().st_mtime_ns == before
    # the failed district left no folder, and no staging folder is left
    assert not (out / "坏区").exists()
    assert not list(out.glob(".partial-*"))


def test_district_folders_hold_every_output(first_batch: tuple) -> None:
    out, _, _ = first_batch
    for name in SIZES:
        files = {p.name for p in (out / name).iterdir() if not p.name.startswith(".")}
        assert files == set(OUTPUT_FILES)


def test_province_summary_matches_district_files(first_batch: tuple) -> None:
    out, _, _ = first_batch
    table = pd.read_csv(out / "province_summary.csv", encoding="utf-8-sig").set_index("district")
    assert list(table.index) == [*SIZES, "坏区", PROVINCE_TOTAL]  # table order, totals last
    total_hh = total_served = 0
    for name in SIZES:
        exp = _expected_from_csv(out / name)
        total_hh += exp["households"]
        total_served += exp["served"]
        assert table.loc[name, "households"] == exp["households"]
        assert table.loc[name, "share_households_served"] == pytest.approx(
            exp["served"] / exp["households"], abs=1e-4)
    assert table.loc["坏区", "status"] == "failed"
    assert pd.isna(table.loc["坏区", "households"])
    assert table.loc[PROVINCE_TOTAL, "households"] == total_hh
    assert table.loc[PROVINCE_TOTAL, "share_households_served"] == pytest.approx(
        total_served / total_hh, abs=1e-4)
    targets = pd.read_csv(out / "province_targets.csv", encoding="utf-8-sig")
    n_targets = len(pd.read_csv(out / "榆次" / "targets.csv", encoding="utf-8-sig"))
    assert sorted(targets["district"].unique()) == sorted(SIZES)
    assert len(targets) == 3 * n_targets


def test_province_map_links_each_district(first_batch: tuple) -> None:
    out, _, _ = first_batch
    html = (out / "province_map.html").read_text(encoding="utf-8")
    for name in SIZES:
        assert f'href=\\"{quote(name)}/gap_map.html' in html  # relative link (JSON-escaped)
    assert "坏区" in html  # listed as failed
    assert "unpkg.com" not in html and "cdn.jsdelivr" not in html  # opens offline


def test_batch_output_equals_planner_run(first_batch: tuple, province: Path) -> None:
    out, _, _ = first_batch
    run_dir = province / "run_榆次"
    r = CliRunner().invoke(main, [
        "run", "--network", str(province / "榆次/roads.gpkg"),
        "--communities", str(province / "榆次/communities.gpkg"),
        "--facilities", str(province / "榆次/facilities.csv"),
        "--gates", str(province / "榆次/gates.csv"), "--profile", "jinzhong",
        "--out", str(run_dir)])
    assert r.exit_code == 0, r.output
    names = {p.name for p in run_dir.iterdir() if not p.name.startswith(".")}
    assert {p.name for p in (out / "榆次").iterdir() if not p.name.startswith(".")} == names
    for name in ("communities.csv", "targets.csv", "streets.csv", "circle_pairs.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / "榆次" / name, encoding="utf-8-sig"),
            pd.read_csv(run_dir / name, encoding="utf-8-sig"))
    by_batch = json.loads((out / "榆次" / "summary.json").read_text(encoding="utf-8"))
    by_run = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert by_batch.pop("batch")["district"] == "榆次"
    by_batch["inputs"] = by_run["inputs"] = None  # absolute vs relative paths
    assert by_batch == by_run


def test_rerun_skips_complete_and_redoes_changed(first_batch: tuple, province: Path,
                                                client: Client) -> None:
    out, _, _ = first_batch
    table = pd.read_csv(province / "districts.csv")
    table.loc[table["district"] == "祁县", "profile"] = "wanzhou"  # changes the fingerprint
    table.to_csv(province / "districts_changed.csv", index=False)
    left = make_partial(out)  # a staging folder of an interrupted earlier batch
    (left / "communities.csv").write_text("half", encoding="utf-8")
    mine = out / ".partial-not-planners"  # a folder without the planner's mark is kept
    mine.mkdir()
    result = run_batch(province / "districts_changed.csv", out, client=client)
    status = {r["district"]: r["status"] for r in result.records}
    assert status == {"榆次": "skipped", "太谷": "skipped", "祁县": "done", "坏区": "failed"}
    assert json.loads((out / "祁县" / "summary.json").read_text("utf-8"))["profile"] == "wanzhou"
    assert list(out.glob(".partial-*")) == [mine]


def test_fingerprint_follows_file_content(province: Path, tmp_path: Path) -> None:
    spec = read_districts(province / "districts.csv")[0]
    fac = tmp_path / "facilities.csv"
    fac.write_bytes(Path(spec.facilities).read_bytes())
    moved = spec.__class__(**{**spec.__dict__, "facilities": str(fac)})
    assert district_fingerprint(moved) == district_fingerprint(spec)  # same bytes
    fac.write_bytes(fac.read_bytes().replace(b"existing", b"planned", 1))
    assert district_fingerprint(moved) != district_fingerprint(spec)


def test_interrupted_write_leaves_no_district(province: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A district killed while writing leaves only a staging folder, never DIR/<district>."""
    import planner.outputs  # noqa: PLC0415

    real = planner.outputs.write_outputs

    def dies_half_way(result, area, out_dir, **kw):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        Path(out_dir, "communities.csv").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(planner.outputs, "write_outputs", dies_half_way)
    spec = read_districts(province / "districts.csv")[0]
    with pytest.raises(KeyboardInterrupt):
        run_district(spec, str(tmp_path))
    assert not (tmp_path / spec.district).exists()
    monkeypatch.setattr(planner.outputs, "write_outputs", real)
    assert run_district(spec, str(tmp_path))["status"] == "done"
    assert (tmp_path / spec.district / "summary.json").exists()


def test_users_own_files_are_kept(province: Path, tmp_path: Path) -> None:
    spec = read_districts(province / "districts.csv")[0]
    (tmp_path / spec.district).mkdir()
    mine = tmp_path / spec.district / "my_notes.txt"
    mine.write_text("keep me", encoding="utf-8")
    assert run_district(spec, str(tmp_path))["status"] == "done"
    assert mine.read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / spec.district / "summary.json").exists()


@pytest.mark.parametrize(("cell", "column", "value"), [
    ({"district": "a/b"}, "district", "a/b"),
    ({"include_planned": "maybe"}, "include_planned", "maybe"),
    ({"speed": "15"}, "speed", "15"),
    ({"reading": "loose"}, "reading", "loose"),
])
def test_bad_districts_table_names_row_and_column(tmp_path: Path, cell: dict, column: str,
                                                  value: str) -> None:
    row = {"district": "a", "network": "n.gpkg", "communities": "c.csv",
           "facilities": "f.csv", **cell}
    pd.DataFrame([{"district": "ok", "network": "n.gpkg", "communities": "c.csv",
                   "facilities": "f.csv"}, row]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputError) as err:
        read_districts(tmp_path / "d.csv")
    assert "row 3" in str(err.value) and repr(column) in str(err.value)
    assert repr(value) in str(err.value)


def test_duplicate_district_rejected(tmp_path: Path) -> None:
    row = {"district": "a", "network": "n", "communities": "c", "facilities": "f"}
    pd.DataFrame([row, row]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputError, match="already used in row 2"):
        read_districts(tmp_path / "d.csv")


# --------------------------------------------------------------------------- lost worker

def _dies_once(spec, out_root):
    """Kill the worker process the first time (as a machine lost mid-task would)."""
    marker = Path(out_root) / f"died-{spec.district}"
    if not marker.exists():
        marker.write_text("x", encoding="utf-8")
        os._exit(1)
    return run_district(spec, out_root)


def test_lost_worker_is_retried(province: Path, tmp_path: Path) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    spec = read_districts(province / "districts.csv")[0]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        result = run_batch([spec], tmp_path, client=c, task=_dies_once)
    assert (tmp_path / f"died-{spec.district}").exists()  # the first attempt did die
    assert [r["status"] for r in result.records] == ["done"]
    assert (tmp_path / spec.district / "summary.json").exists()


def test_cli_batch_reports_failure(province: Path, tmp_path: Path) -> None:
    table = pd.read_csv(province / "districts.csv")
    table = table[table["district"].isin(["榆次", "坏区"])]
    for col in ("network", "communities", "facilities", "gates"):
        table[col] = [str(province / v) if isinstance(v, str) else v for v in table[col]]
    table.to_csv(tmp_path / "d.csv", index=False)
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "d.csv"), "--out",
                                  str(tmp_path / "out"), "--workers", "1"])
    assert r.exit_code == 1, r.output
    assert "1 done, 0 skipped (complete), 1 failed" in r.output
    assert "FAILED 坏区 (row 3)" in r.output
    assert (tmp_path / "out" / "province_summary.csv").exists()



def test_only_small_messages_cross_the_scheduler(first_batch: tuple, province: Path) -> None:
    """What goes to a worker is the row (paths and options), never the network; what comes
    back is counts and an outline, not the layers."""
    _, result, _ = first_batch
    spec = read_districts(province / "districts.csv")[1]
    network_bytes = Path(spec.network).stat().st_size
    assert len(cloudpickle.dumps(spec)) < 2_000 < network_bytes
    for rec in result.records:
        assert len(cloudpickle.dumps(rec)) < 50_000


def test_unreachable_scheduler_and_bad_memory_limit_are_input_errors(province: Path,
                                                                     tmp_path: Path) -> None:
    from planner.batch.runner import _connect  # noqa: PLC0415

    with pytest.raises(InputError, match=r"--scheduler tcp://127\.0\.0\.1:1: cannot reach"):
        _connect("tcp://127.0.0.1:1", timeout_s=1)
    with pytest.raises(InputError, match="--memory-limit '2 bananas' is not a size"):
        run_batch(province / "districts.csv", tmp_path, memory_limit="2 bananas")
    assert list(tmp_path.glob("*/summary.json")) == []  # stopped before any district
