"""``planner run``: checks the options, then runs :func:`planner.run.run_planner` and prints.

The work itself lives in :mod:`planner.run`, the same code path ``planner batch`` runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from planner._errors import InputError, PlannerError
from planner.cli._common import (
    CRS_HELP,
    MAX_SPEED_M_S,  # noqa: F401  (fastest --speed, m/s; tests read it here)
    _friendly_errors,
    _step,
    check_speed,
)
from planner.cli.map import check_map_options, map_options
from planner.cli.terrain_options import check_terrain_options, terrain_options


@click.command(name="run")
@click.option("--network", required=True, type=click.Path(dir_okay=False),
              help="Walking network: .osm, .osm.pbf, .graphml, or road lines "
                   "(.gpkg/.shp/.geojson).")
@click.option("--communities", type=click.Path(dir_okay=False), default=None,
              help="Communities (小区): CSV, XLSX, GeoJSON, GeoPackage or Shapefile "
                   "(or leave out and give --population: its cells become the communities).")
@click.option("--facilities", required=True, type=click.Path(dir_okay=False),
              help="Facilities (养老服务设施): CSV, XLSX, GeoJSON, GeoPackage or Shapefile.")
@click.option("--gates", type=click.Path(dir_okay=False), default=None,
              help="Optional gates of gated communities (community_id + point), in the "
                   "same coordinate system as --communities.")
@click.option("--profile", default="national", show_default=True,
              help="Standards profile: a name (see `planner profiles`) or a .toml file.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder (created if missing).")
@click.option("--network-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--communities-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--facilities-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--metric-crs", default=None,
              help="Projected CRS to work in (default: the UTM zone of the network), "
                   "e.g. EPSG:4546 for CGCS2000 3-degree Gauss-Krüger.")
@click.option("--speed", type=float, default=None,
              help="Walking speed in m/s (default: the profile's).")
@click.option("--reading", type=click.Choice(["per_100_households", "literal"]), default=None,
              help="How to read a rule the document writes per household (Yangjiang): "
                   "as a slip for per 100 households (default) or literally.")
@click.option("--include-planned", is_flag=True, help="Count planned facilities as built.")
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False), default=None,
              help="A table of changes (action, id, kind, floor_area_m2, lon, lat, "
                   "households, value…): add/move/resize/close facilities, new communities, "
                   "speed, minutes. Writes what it changes into OUT/scenario/.")
@click.option("--as-of", "as_of", type=click.IntRange(1949, 2100), default=None,
              help="Year the targets are judged in: due, overdue or not yet due "
                   "(default: the current year).")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
              help="Also save the gap map here (it is always written as OUT/gap_map.html).")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--no-cache", is_flag=True, help="Recompile the network even if cached.")
@click.option("--network-layer", default=None,
              help="Layer of a multi-layer network GeoPackage (or give FILE.gpkg:LAYER).")
@click.option("--communities-layer", default=None,
              help="Layer (GeoPackage) or sheet (Excel) of the communities file "
                   "(or FILE.xlsx:SHEET). Default: the one named for communities, else the "
                   "first (visible) one with the required columns; the run says which.")
@click.option("--facilities-layer", default=None,
              help="Layer or sheet of the facilities file (as --communities-layer).")
@click.option("--gates-layer", default=None, help="Layer or sheet of the gates file.")
@click.option("--sheet", default=None,
              help="Sheet of every Excel input that has no --*-layer of its own.")
@map_options
@terrain_options
@_friendly_errors
def run(**opts: Any) -> None:
    """Assess a district: circles, floor area per household, coverage targets, gap map.

    \b
    Writes into OUT (created; never over a file planner did not write):
      communities.gpkg, communities.csv  one row per community, with its status
      facilities.gpkg                    facilities, and walking circles (layer isochrones)
      targets.csv                        the profile's coverage targets, pass/fail
      streets.csv                        households and floor area per street
      timeline.csv                       each target year by year as planned facilities open
      circle_pairs.csv                   every community inside every facility's circle
      rejects.csv                        input rows not assessed, with the reason
      summary.json                       counts, notes and choices (written last)
      gap_map.html                       the gap map (unless --no-map)
    Exit codes: 0 done, 2 bad input or option (the message says what to fix),
    3 internal error (rerun with -v for details).
    """
    from planner.io.guard import output_lock  # noqa: PLC0415  (keeps --help fast)

    _check_options(opts)
    with output_lock(opts["out_dir"]):  # a second run into OUT stops here, before computing
        _run(opts)


@contextmanager
def _cli_names() -> Iterator[None]:
    """Name settings as CLI options in messages (``metric_crs`` → ``--metric-crs``)."""
    try:
        yield
    except PlannerError as exc:
        text = str(exc)
        if text.startswith("metric_crs "):
            raise type(exc)("--metric-crs " + text.removeprefix("metric_crs ")) from exc
        raise


def _check_options(opts: dict[str, Any]) -> None:
    """Refuse bad option values and unsafe or unwritable outputs before any computing."""
    from planner.crs import check_metric_crs  # noqa: PLC0415
    from planner.io.guard import check_output_paths  # noqa: PLC0415

    check_speed(opts["speed"])
    if opts["map_path"] is not None and opts["no_map"]:
        msg = "--map and --no-map contradict each other: give one of them."
        raise InputError(msg)
    if opts["metric_crs"] is not None:
        check_metric_crs(opts["metric_crs"], option="--metric-crs")
    inputs = [opts["network"], opts["communities"], opts["facilities"], opts["gates"]]
    if Path(str(opts["profile"])).suffix.lower() == ".toml":
        inputs.append(opts["profile"])
    check_output_paths(opts["out_dir"], opts["map_path"], inputs=inputs)
    check_map_options(opts)  # print/report file names, tiles, a CJK font for prints
    check_terrain_options(opts)  # --dem, --population, --minutes-raster


def _run(opts: dict[str, Any]) -> None:
    """Run :func:`planner.run.run_planner` (the library's ``planner run``) and print."""
    from planner.run import run_planner, run_scenario_file  # noqa: PLC0415  (fast --help)

    with _cli_names():
        outcome = run_planner(opts, step=_step, progress=True)
    _print_summary(outcome.result.summary)
    if opts["scenario_file"]:
        from planner.scenarios.report import describe  # noqa: PLC0415

        diff = run_scenario_file(outcome, opts, step=_step)
        click.echo("\n".join(describe(diff)))


def _print_summary(summary: dict[str, Any]) -> None:
    c = summary["communities"]
    click.echo(f"\nprofile {summary['profile']} ({summary['profile_name_zh']}), walking "
               f"{summary['walking_speed_m_s']} m/s, circles {summary['circle_minutes']} min")
    for line in [*summary["notes"], *summary["choices"]]:
        click.echo(f"  note: {line}")
    click.echo(f"communities: {c['count']:,} ({c['households']:,} households)")
    for status, n in c["by_status"].items():
        hh = c["households_by_status"][status]
        click.echo(f"  {status:15s} {n:6,d} communities  {hh:9,d} households")
    click.echo(f"  shortfall {c['shortfall_m2']:,.0f} m² of {c['required_m2']:,.0f} m² required")
    for t in summary["targets"]:
        value = "n/a" if t["value"] is None else f"{100 * t['value']:.1f}%"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["passed"]]
        click.echo(f"  target {t['label_en']}: {value} vs {100 * t['threshold']:.0f}% {verdict}"
                   f"{' — ' + t['verdict'] if t.get('verdict') else ''}")
    for name, counts in summary["inputs"].items():
        click.echo(f"  {name}: read {counts['read']:,} = written {counts['written']:,}"
                   f" + rejected {counts['rejected']:,}")
    from planner.care.text import care_lines  # noqa: PLC0415

    for line in care_lines(summary.get("care")):
        click.echo(line)


command = run
