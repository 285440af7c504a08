"""``planner check-project``: the allocation check a reviewer runs on a new residential project."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from planner._errors import PlannerError
from planner.cli._common import CRS_HELP, _friendly_errors, _step, check_speed
from planner.cli.terrain_options import apply_terrain, check_terrain_options, terrain_options

_DATE_HELP = "YYYY-MM-DD; missing dates are reported as not checked, never as a pass."


def _walk_options(fn: Any) -> Any:
    """``--dem`` and ``--no-steps``, declared once for ``planner run`` and reused here."""
    probe = terrain_options(lambda **_: None)
    params = [p for p in getattr(probe, "__click_params__", [])
              if p.name in ("dem", "no_steps")]
    fn.__dict__.setdefault("__click_params__", []).extend(params)
    return fn


@click.command(name="check-project")
@click.option("--network", required=True, type=click.Path(dir_okay=False),
              help="Walking network of the district (as for `planner run`).")
@click.option("--communities", required=True, type=click.Path(dir_okay=False),
              help="The district's existing communities (小区).")
@click.option("--facilities", required=True, type=click.Path(dir_okay=False),
              help="The district's facilities; only status=existing ones are counted.")
@click.option("--gates", "district_gates", type=click.Path(dir_okay=False), default=None,
              help="Gates of the district's gated communities.")
@click.option("--network-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--communities-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--facilities-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--profile", default="national", show_default=True,
              help="Standards profile: a name (see `planner profiles`) or a .toml file.")
@click.option("--reading", type=click.Choice(["per_100_households", "literal"]), default=None,
              help="Yangjiang's per-household rule: per 100 households (default) or literal.")
@click.option("--speed", type=float, default=None, help="Walking speed, m/s (default: profile).")
@_walk_options
@click.option("--project-id", default="PROJECT", show_default=True, help="Id of the project.")
@click.option("--name", default="", help="Name of the project.")
@click.option("--households", default=None, help="Households (户数) of the project.")
@click.option("--status", type=click.Choice(["new", "old"]), default="new", show_default=True,
              help="new: new-build (新建住宅小区); old: old-district renovation.")
@click.option("--area-type", type=click.Choice(["urban", "rural"]), default="urban",
              show_default=True, help="Chooses the circle minutes.")
@click.option("--boundary", type=click.Path(dir_okay=False), default=None,
              help="Boundary of the site: a polygon file (GeoJSON/GeoPackage/Shapefile, or "
                   "CSV with a wkt column).")
@click.option("--lon", type=float, default=None, help="Site longitude (instead of --boundary).")
@click.option("--lat", type=float, default=None, help="Site latitude.")
@click.option("--crs", "project_crs", default="wgs84", show_default=True,
              help="Coordinates of the project (site, gates, facility): " + CRS_HELP)
@click.option("--gate", "gates", multiple=True,
              help="A gate of the project as LON,LAT (repeat for each gate).")
@click.option("--facility-m2", default=None,
              help="Floor area of the planned facility, m² (omit or 0: none).")
@click.option("--facility-kind", default="station", show_default=True,
              help="Kind of the planned facility (station, day_care, street_centre…).")
@click.option("--facility-location", type=click.Choice(["inside", "outside"]),
              default="inside", show_default=True, help="Inside the site or outside it.")
@click.option("--facility-lon", type=float, default=None, help="Facility longitude.")
@click.option("--facility-lat", type=float, default=None, help="Facility latitude.")
@click.option("--few-elderly", is_flag=True,
              help="Few elderly live here (Wanzhou: 200 m² station minimum instead of 300).")
@click.option("--elderly", default=None,
              help="Elderly residents (60+) expected; compared with the profile's "
                   "few-elderly number when --few-elderly is not given.")
@click.option("--planning-approval", default=None, help="Planning approval date; " + _DATE_HELP)
@click.option("--housing-completion", default=None, help="Housing completion acceptance date.")
@click.option("--facility-acceptance", default=None, help="Facility acceptance date.")
@click.option("--handover", default=None, help="Facility hand-over date.")
@click.option("--projects", type=click.Path(dir_okay=False), default=None,
              help="Batch: CSV/XLSX with one project a row (columns as the options above: "
                   "project_id, households, lon, lat, status, facility_m2, …).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Batch: CSV of one row per project (rejects beside it as *_rejects.csv).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
              help="Write an HTML map of the project, its circle and its neighbours.")
@_friendly_errors
def check_project(**opts: Any) -> None:
    """Check a new residential project: floor area, size, reach, pooling, dates, verdict.

    \b
    Example (the synthetic sample):
      planner check-project --profile jinzhong
          --network data/sample/roads.gpkg --communities data/sample/communities.gpkg
          --facilities data/sample/facilities.csv --gates data/sample/gates.csv
          --project-id P1 --households 800 --lon 112.752 --lat 37.687
          --facility-m2 240 --planning-approval 2024-03-01

    \b
    Exit codes (for scripts):
      0  pass, or pass with conditions
      1  fail (a rule is not met; the reasons cite their clauses)
      2  bad input (a file, column or value; the message says what to fix)
      3  internal error (a bug: rerun with -v and report it)
    With --projects: 1 when any project fails or any row is rejected.
    """
    from planner.circles import ReachParams  # noqa: PLC0415  (keeps --help fast)
    from planner.pipeline import load_study_area  # noqa: PLC0415
    from planner.project import prepare_district  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    _check_options(opts)  # every value and output, before the slow loading
    profile = load_profile(opts["profile"])
    if opts["reading"]:
        profile = profile.with_reading(opts["reading"])
    with _step("loading network and layers"):
        area = load_study_area(
            opts["network"], opts["communities"], opts["facilities"],
            gates=opts["district_gates"], network_crs=opts["network_crs"],
            communities_crs=opts["communities_crs"], facilities_crs=opts["facilities_crs"])
    apply_terrain(area, opts, step=_step)  # --dem, --no-steps: hills and stairs
    params = ReachParams(speed_m_s=opts["speed"] or profile.walking_speed_m_s.value)
    with _step("preparing the district (reach core, base floor area)"):
        district = prepare_district(area, profile, params=params)
    if opts["projects"]:
        sys.exit(_batch(district, opts))
    sys.exit(_single(district, opts))


def _inputs(opts: dict[str, Any]) -> list[Any]:
    """The input files of the command (no output may replace one)."""
    names = ("network", "communities", "facilities", "district_gates", "boundary", "projects",
             "dem")
    profile = [opts["profile"]] if Path(str(opts["profile"])).suffix.lower() == ".toml" else []
    return [opts[k] for k in names] + profile


def _check_options(opts: dict[str, Any]) -> None:
    """Refuse bad values and unusable outputs before the district is loaded.

    The project is built once in WGS84, so every value is checked as it will be after
    loading; a projects file is read once in WGS84 for its whole-file problems (a missing
    column); its bad rows become rejects as ever.
    """
    from planner._errors import InputError  # noqa: PLC0415
    from planner.io.guard import MAP_SUFFIXES, check_output_file  # noqa: PLC0415
    from planner.maps.files import check_replaceable  # noqa: PLC0415

    check_speed(opts["speed"])
    check_terrain_options(opts)  # --dem: the same checks and messages as `planner run`
    _check_crs(opts["project_crs"])
    inputs = _inputs(opts)
    if opts["projects"]:
        from planner.project.batch import check_batch_out  # noqa: PLC0415
        from planner.project.inputs import read_projects  # noqa: PLC0415

        if opts["out_path"] is None:
            msg = "--projects needs --out FILE.csv for the table of results."
            raise InputError(msg)
        if opts["map_path"]:
            msg = ("--map draws one project; it is not made with --projects. Leave --map out, "
                   "or check the project on its own to map it.")
            raise InputError(msg)
        out = check_output_file(opts["out_path"], option="--out", inputs=inputs)
        check_output_file(out.with_name(out.stem + "_rejects.csv"), option="--out",
                          inputs=inputs)
        check_batch_out(out)
        read_projects(opts["projects"], crs=opts["project_crs"], metric_crs=WGS84)
        return
    if opts["out_path"] is not None:
        msg = ("--out is the results table of a batch (--projects FILE); one project's result "
               "is printed (--json for JSON) and --map draws it.")
        raise InputError(msg)
    if opts["households"] is None:
        msg = "give --households (户数 of the project), or --projects FILE for a batch."
        raise InputError(msg)
    if opts["boundary"] is None and (opts["lon"] is None or opts["lat"] is None):
        msg = "give the site: --boundary FILE, or --lon and --lat."
        raise InputError(msg)
    if opts["map_path"]:
        check_output_file(opts["map_path"], option="--map", inputs=inputs,
                          suffixes=MAP_SUFFIXES)
        check_replaceable(opts["map_path"])
    _project(opts, WGS84)  # the same checks as after loading, in WGS84


def _check_crs(declared: str) -> None:
    """Refuse an unknown ``--crs`` (a batch would otherwise reject every row for it)."""
    from planner.crs import parse_declared  # noqa: PLC0415

    try:
        parse_declared(declared)
    except PlannerError as exc:
        raise type(exc)(f"--crs {declared}: {exc}") from exc


#: Coordinates the project is checked in before the district (and its metric CRS) is known.
WGS84 = "EPSG:4326"


def _project(opts: dict[str, Any], crs: Any) -> Any:
    """The project of the command line, its geometry in ``crs``; InputError when bad."""
    from planner.project.inputs import (  # noqa: PLC0415
        lonlat_point,
        parse_gate,
        read_boundary,
        to_metric,
    )
    from planner.project.model import make_project  # noqa: PLC0415

    declared = opts["project_crs"]
    if opts["boundary"]:
        site = to_metric(read_boundary(opts["boundary"]), declared, crs, opts["boundary"])[0]
    else:
        site = to_metric([lonlat_point(opts["lon"], opts["lat"], "site", "--lon/--lat")],
                         declared, crs, "--lon/--lat")[0]
    gates = tuple(to_metric([parse_gate(g) for g in opts["gates"]], declared, crs, "--gate")
                  ) if opts["gates"] else ()
    fpoint = None
    if opts["facility_lon"] is not None or opts["facility_lat"] is not None:
        fpoint = to_metric([lonlat_point(opts["facility_lon"], opts["facility_lat"],
                                         "facility", "--facility-lon/--facility-lat")],
                           declared, crs, "--facility-lon/--facility-lat")[0]
    return make_project(
        project_id=opts["project_id"], households=opts["households"], geometry=site,
        status=opts["status"], name=opts["name"], area_type=opts["area_type"], gates=gates,
        facility_m2=opts["facility_m2"], facility_kind=opts["facility_kind"],
        facility_location=opts["facility_location"], facility_point=fpoint,
        few_elderly=opts["few_elderly"], elderly=opts["elderly"],
        dates={k: opts[k] for k in ("planning_approval", "housing_completion",
                                    "facility_acceptance", "handover")},
        where="project (command line)")


def _single(district: Any, opts: dict[str, Any]) -> int:
    from planner.project import check_project as run_check  # noqa: PLC0415
    from planner.project.render import EXIT_CODES, to_json, to_text  # noqa: PLC0415

    project = _project(opts, district.area.net.pyproj_crs)
    with _step("checking the project"):
        check = run_check(district, project)
    if opts["map_path"]:
        from planner.project.map import project_map, save_map  # noqa: PLC0415

        with _step(f"drawing the map {opts['map_path']}"):
            save_map(project_map(district, check), opts["map_path"])
    click.echo(to_json(check) if opts["as_json"] else to_text(check))
    return EXIT_CODES[check.verdict]


def _batch(district: Any, opts: dict[str, Any]) -> int:
    from planner.project.batch import check_projects, write_batch  # noqa: PLC0415
    from planner.project.inputs import read_projects  # noqa: PLC0415

    crs = district.area.net.pyproj_crs
    read = read_projects(opts["projects"], crs=opts["project_crs"], metric_crs=crs)
    with _step(f"checking {len(read.projects):,} projects"):
        result = check_projects(district, read)
    out, rejects = write_batch(result, Path(opts["out_path"]))
    c = result.counts
    click.echo(f"projects: read {result.rows_read:,} = checked {len(result.rows):,} + "
               f"rejected {c['rejected']:,}")
    click.echo(f"  pass {c['pass']:,}, pass with conditions {c['pass_with_conditions']:,}, "
               f"fail {c['fail']:,}")
    click.echo(f"  results: {out}; rejects: {rejects}")
    if district.terrain is not None:
        from planner.project.render import walk_label  # noqa: PLC0415

        click.echo(f"  walk: {walk_label(district.terrain)} (the walk column)")
    if not len(result.rows):
        return 2
    return 1 if c["fail"] or c["rejected"] else 0


command = check_project
