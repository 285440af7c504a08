"""``planner batch``: many districts on a Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from planner.cli._common import _friendly_errors


@click.command(name="batch")
@click.argument("districts", type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder: OUT/<district>/ as `planner run` writes it, and "
                   "OUT/province_summary.csv, province_targets.csv, province_map.html.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes of the local Dask cluster (one thread each).")
@click.option("--scheduler", default=None,
              help="Address of an existing Dask scheduler (tcp://host:8786) instead of a "
                   "local cluster; its workers must see the input paths.")
@click.option("--memory-limit", default="2GiB", show_default=True,
              help="Memory per worker of the local cluster; a worker past it is restarted "
                   "and its district retried.")
@_friendly_errors
def batch(**opts: Any) -> None:
    """Assess every district of DISTRICTS (CSV/XLSX, one row per district).

    \b
    Columns: district, network, communities, facilities (required); gates, profile,
    network_crs, communities_crs, facilities_crs, metric_crs, speed, reading,
    include_planned, no_map (optional, as the options of `planner run`).
    Relative paths are read from the table's folder. A rerun skips districts whose
    outputs are complete for the same inputs. Exit code 1 when a district failed.
    """
    from planner.batch import read_districts, run_batch  # noqa: PLC0415
    from planner.batch.province import check_province_files  # noqa: PLC0415

    specs = read_districts(opts["districts"])
    check_province_files(opts["out_dir"])  # a user's province_map.html: refused first
    failed: list[str] = []
    with click.progressbar(length=len(specs), label="districts", file=sys.stderr,
                           show_pos=True) as bar:
        def tick(rec: dict[str, Any]) -> None:
            if rec["status"] == "failed":
                failed.append(rec["district"])
            bar.label = f"districts ({len(failed)} failed)"
            bar.update(1)

        try:
            result = run_batch(specs, opts["out_dir"], workers=opts["workers"],
                               scheduler=opts["scheduler"], memory_limit=opts["memory_limit"],
                               on_result=tick)
        except KeyboardInterrupt:
            done = sum((Path(opts["out_dir"]) / s.district / "summary.json").exists()
                       for s in specs)
            click.echo(f"\ninterrupted: {done} of {len(specs)} district folders are complete "
                       f"(complete folders are kept in {opts['out_dir']}; a district being "
                       "written is either complete or absent, never half-written). Run the "
                       "same command again: complete districts are skipped.", err=True)
            sys.exit(130)
    _print(result)
    if result.failed:
        sys.exit(1)


def _print(result: Any) -> None:
    counts = {s: sum(r["status"] == s for r in result.records)
              for s in ("done", "skipped", "failed")}
    click.echo(f"{len(result.records)} districts in {result.elapsed_s:.1f} s: "
               f"{counts['done']} done, {counts['skipped']} skipped (complete), "
               f"{counts['failed']} failed")
    for rec in result.failed:
        click.echo(f"  FAILED {rec['district']} (row {rec['row']}): {rec['error']}")
    total = result.summary.iloc[-1]
    if total["households"] and total["households"] == total["households"]:
        click.echo(f"province: {int(total['households']):,} households, "
                   f"{100 * total['share_households_served']:.1f}% within a walking circle")
    for name, path in result.files.items():
        click.echo(f"  wrote {name}: {path}")


command = batch
