"""``planner run`` as a library function: the one code path of the CLI and of ``planner batch``.

:func:`run_planner` loads a district, applies the terrain and population options, assesses
it, draws the gap map (with the care layers and, with a DEM, what the hills take away),
writes every output file (a large district's map is drawn in a forked child meanwhile,
:mod:`planner.run.overlap`), copies the map to ``map_path``, and writes the print, report and
minutes raster asked for. Its options are those of ``planner run``, by the names click gives
them (``out_dir``, ``map_path``, ``png_path``…; see :data:`DEFAULT_OPTIONS`); the CLI checks
their values first (:mod:`planner.cli.run`), and :func:`run_scenario_file` runs
``--scenario`` on the result.

This package sits at the batch layer: above the pipeline, the maps, the report and the
scenarios, below the CLI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from planner.run.maps import base_map, file_date, map_title, write_map_extras
from planner.run.steps import Step, quiet
from planner.run.terrain import apply_terrain, prefill_population, write_terrain_extras

if TYPE_CHECKING:
    from planner.maps import GapMap

__all__ = ["DEFAULT_OPTIONS", "RunOutcome", "run_planner", "run_scenario_file"]

#: Every option of ``planner run`` and its default (the click parameter names).
DEFAULT_OPTIONS: dict[str, Any] = {
    "communities": None, "gates": None, "profile": "national", "network_crs": "wgs84",
    "communities_crs": "wgs84", "facilities_crs": "wgs84", "metric_crs": None,
    "speed": None, "reading": None, "include_planned": False, "as_of": None,
    "scenario_file": None, "map_path": None, "no_map": False, "no_cache": False,
    "network_layer": None, "communities_layer": None, "facilities_layer": None,
    "gates_layer": None, "sheet": None,
    # base map, print and report (planner.cli.map.map_options)
    "boundary": None, "water": None, "tiles": "osm", "png_path": None, "pdf_path": None,
    "print_size": "a4", "print_dpi": 200, "report": False,
    # terrain and rasters (planner.cli.terrain_options)
    "dem": None, "no_steps": False, "population": None, "household_size": None,
    "minutes_raster": None, "cell_size": 50.0,
}


@dataclass
class RunOutcome:
    """What :func:`run_planner` computed and wrote.

    Attributes
    ----------
    area
        The study area (:class:`planner.pipeline.StudyArea`).
    profile
        The standards profile used (with ``reading`` applied).
    result
        The assessment (:class:`planner.pipeline.Assessment`).
    files
        File name → path of every output file written into ``out_dir``.
    extras
        Prints, report and minutes raster written (``png_path``, ``pdf_path``,
        ``report``, ``minutes_raster``) → path.
    """

    area: Any
    profile: Any
    result: Any
    files: dict[str, Path]
    extras: dict[str, Path] = field(default_factory=dict)


def _layers(opts: Mapping[str, Any]) -> dict[str, str | None]:
    """Layer or sheet per input role, from --*-layer (and --sheet for Excel files)."""
    out: dict[str, str | None] = {}
    for role in ("network", "communities", "facilities", "gates"):
        chosen = opts.get(f"{role}_layer")
        path = str(opts.get(role) or "")
        if chosen is None and opts.get("sheet") and path.lower().endswith((".xlsx", ".xlsm")):
            chosen = opts["sheet"]
        out[role] = chosen
    return out


def _copy_map(source: Path, target: Path) -> None:
    """Copy the map to ``map_path`` in one step (a temporary file, then a rename)."""
    if target.resolve() == source.resolve():
        return  # map_path is OUT/gap_map.html itself
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _hill_layers(area: Any, result: Any, profile: Any, opts: dict[str, Any], *,
                 step: Step) -> tuple[list[Any], list[str]]:
    """On a DEM (--dem): the layers and notes of what the hills take away (else none)."""
    if area.terrain is None:
        return [], []
    from planner.maps.terrain import hills_map_layers  # noqa: PLC0415

    with step("flat walk for comparison (what the hills take away)"):
        hills, notes = hills_map_layers(
            area, result, profile, params=result.params,
            include_planned=opts["include_planned"], as_of=opts["as_of"])
    return list(hills), list(notes)


def _draw_gap_map(area: Any, result: Any, opts: dict[str, Any], *, base: Any, title: str,
                  hills: tuple[list[Any], list[str]]) -> Any:
    """The gap map with the care layers and the hill layers ``hills`` (layers, notes)."""
    from planner.maps import gap_map  # noqa: PLC0415
    from planner.maps.care import care_map_layers  # noqa: PLC0415

    layers, hill_notes = hills
    return gap_map(result.communities, result.facilities, result.isochrones,
                   title=title, warnings=area.notes,  # data and coordinate warnings
                   notes=[*(n for n in result.summary["notes"] if n not in area.notes),
                          *result.summary["choices"], *hill_notes],
                   targets=result.targets, base=base, tiles=opts["tiles"],
                   timeline=result.timeline,
                   extra_layers=[*care_map_layers(result), *layers])  # care map (关爱地图)


def _map_and_outputs(area: Any, result: Any, profile: Any, opts: dict[str, Any], *,
                     base: Any, title: str, step: Step) -> dict[str, Path]:
    """Draw the gap map and write every output file; returns what was written.

    A district of :data:`~planner.run.overlap.OVERLAP_MIN_COMMUNITIES` communities or
    more has its map drawn in a forked child while this process writes the data files
    (:mod:`planner.run.overlap`); the files are the same as drawn one after the other.
    """
    from planner.outputs import write_outputs  # noqa: PLC0415
    from planner.run.overlap import overlap_possible, start_page  # noqa: PLC0415

    out_dir = opts["out_dir"]
    if opts["no_map"]:
        with step(f"writing outputs to {out_dir}"):
            return write_outputs(result, area, out_dir)
    hills = _hill_layers(area, result, profile, opts, step=step)

    def draw() -> Any:
        return _draw_gap_map(area, result, opts, base=base, title=title, hills=hills)

    if not overlap_possible(len(result.communities)):
        with step("drawing the gap map"):
            m = draw()
        with step(f"writing outputs to {out_dir}"):
            return write_outputs(result, area, out_dir, gap_map=m)
    page = start_page(draw)  # the map on the second core
    try:
        with step(f"drawing the gap map while writing outputs to {out_dir}"):
            return write_outputs(result, area, out_dir, gap_map=cast("GapMap", page))
    finally:
        page.cancel()  # a failure or Ctrl-C here leaves no child behind


def run_planner(options: Mapping[str, Any], *, step: Step = quiet, progress: bool = False,
                summary_extra: Callable[[Any], Mapping[str, Any]] | None = None
                ) -> RunOutcome:
    """Run ``planner run`` with ``options`` (already checked) and write its outputs.

    Parameters
    ----------
    options
        ``network``, ``facilities``, ``out_dir`` and ``communities`` (or ``population``)
        are required; every other key defaults as in :data:`DEFAULT_OPTIONS`.
    step
        Reports each step (the CLI prints it; default: silent).
    progress
        Show progress bars of the long steps.
    summary_extra
        Called with the assessment before anything is written; the keys it returns are
        added to ``summary.json`` (``planner batch`` adds its fingerprint and outline).

    Returns
    -------
    RunOutcome

    Raises
    ------
    planner._errors.InputError
        Bad input files or values (the message names file, row, column and value).
    """
    from planner.circles import ReachParams  # noqa: PLC0415  (keeps --help fast)
    from planner.io.outputs import refuse_foreign_outputs  # noqa: PLC0415
    from planner.pipeline import assess, load_study_area  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    opts = {**DEFAULT_OPTIONS, **options}
    refuse_foreign_outputs(opts["out_dir"], gap_map=not opts["no_map"])  # before computing
    profile = load_profile(opts["profile"])
    if opts["reading"]:
        profile = profile.with_reading(opts["reading"])
    with step("loading network and layers"):
        area = load_study_area(
            opts["network"], prefill_population(opts),  # --population: missing households
            opts["facilities"], gates=opts["gates"],
            network_crs=opts["network_crs"], communities_crs=opts["communities_crs"],
            facilities_crs=opts["facilities_crs"], metric_crs=opts["metric_crs"],
            use_cache=not opts["no_cache"], layers=_layers(opts),
        )
    apply_terrain(area, opts, step=step)  # --dem / --no-steps / --population
    params = ReachParams(speed_m_s=opts["speed"] or profile.walking_speed_m_s.value)
    with step("walking circles and floor area per household"):
        result = assess(area, profile, params=params, include_planned=opts["include_planned"],
                        isochrones=not opts["no_map"], progress=progress, as_of=opts["as_of"])
    if summary_extra is not None:
        result.summary.update(summary_extra(result))
    title = map_title(result.summary)
    base = base_map(opts, net=area.net, network_path=opts["network"])
    files = _map_and_outputs(area, result, profile, opts, base=base, title=title, step=step)
    if opts["map_path"] and "gap_map.html" in files:
        _copy_map(files["gap_map.html"], Path(opts["map_path"]))
    extras = write_map_extras(result, opts["out_dir"], opts, base=base, title=title,
                              data_date=file_date(opts["communities"]), fresh_run=True,
                              step=step)
    raster = write_terrain_extras(result, area, opts, step=step)  # --minutes-raster
    if raster is not None:
        extras["minutes_raster"] = Path(raster)
    return RunOutcome(area=area, profile=profile, result=result, files=files, extras=extras)


def run_scenario_file(outcome: RunOutcome, options: Mapping[str, Any], *,
                      step: Step = quiet) -> Any:
    """Run ``--scenario`` (``options["scenario_file"]``) on a run; writes ``OUT/scenario/``.

    Returns the scenario's difference (:func:`planner.scenarios.report.run_scenario`), or
    ``None`` when no scenario file is given.
    """
    opts = {**DEFAULT_OPTIONS, **options}
    if not opts["scenario_file"]:
        return None
    from planner.scenarios.report import run_scenario  # noqa: PLC0415

    with step(f"scenario {opts['scenario_file']}"):
        return run_scenario(outcome.area, outcome.profile,
                            speed_m_s=outcome.result.params.speed_m_s,
                            include_planned=opts["include_planned"],
                            changes=opts["scenario_file"],
                            out_dir=Path(opts["out_dir"]) / "scenario")
