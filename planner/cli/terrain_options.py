"""``planner run`` options for hills, stairs and rasters (defined once, applied in steps).

``--dem`` and ``--no-steps`` make the walk depend on slope and stairs
(:mod:`planner.terrain`); ``--population`` fills missing residents and elderly from a
population raster (:mod:`planner.rasters.population`); ``--minutes-raster`` writes the
minutes to the nearest facility as a GeoTIFF (:mod:`planner.rasters.surface`).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from planner._errors import InputError
from planner.cli._common import _step

#: Default cell size of the minutes raster (metres).
DEFAULT_CELL_M = 50.0


def terrain_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the terrain and raster options to a command (``--dem``, ``--no-steps`` ...)."""
    options = [
        click.option("--dem", type=click.Path(dir_okay=False), default=None,
                     help="Heights (GeoTIFF, metres, any CRS): walking time then depends on "
                          "slope and direction (Tobler's function at the profile's speed)."),
        click.option("--no-steps", is_flag=True,
                     help="Wheelchair / walker: stairs (highway=steps) cannot be used."),
        click.option("--population", type=click.Path(dir_okay=False), default=None,
                     help="Population raster (people per cell): residents and elderly "
                          "missing from the communities table are estimated over each "
                          "community polygon and marked *_estimated."),
        click.option("--household-size", type=float, default=None,
                     help="Residents per household for --population estimates "
                          "(default: 2.62, China's 2020 census)."),
        click.option("--minutes-raster", type=click.Path(dir_okay=False), default=None,
                     help="Also write minutes to the nearest facility (overall and per "
                          "kind) as a GeoTIFF here, from network distances."),
        click.option("--cell-size", type=float, default=DEFAULT_CELL_M, show_default=True,
                     help="Cell size of --minutes-raster (metres)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def check_terrain_options(opts: dict[str, Any]) -> None:
    """Refuse bad values before any computing (missing files, cell size, output path)."""
    if not opts.get("communities") and not opts.get("population"):
        msg = ("give --communities (小区 table), or --population (a population raster) to "
               "use its cells as communities.")
        raise InputError(msg)
    for name in ("dem", "population"):
        if opts.get(name) and not Path(opts[name]).exists():
            msg = f"--{name} {opts[name]}: file not found."
            raise InputError(msg)
    if opts.get("minutes_raster") and not (opts.get("cell_size") or 0) > 0:
        msg = f"--cell-size {opts.get('cell_size')}: give a positive number of metres."
        raise InputError(msg)
    size = opts.get("household_size")
    if size is not None and not 0.5 <= size <= 20:
        msg = f"--household-size {size}: give residents per household, e.g. 2.62."
        raise InputError(msg)


def prefill_population(opts: dict[str, Any]) -> str:
    """The communities file to read (with ``--population``, a copy with households filled).

    Rows without households get them from the raster in a temporary copy; the user's
    file is not changed.
    """
    if not opts.get("population"):
        return str(opts["communities"])
    from planner.rasters import DEFAULT_HOUSEHOLD_SIZE  # noqa: PLC0415
    from planner.rasters.prefill import prefill_grid, prefill_households  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="planner-population-"))
    size = opts.get("household_size") or DEFAULT_HOUSEHOLD_SIZE
    if not opts.get("communities"):  # no table: the raster's cells are the communities
        filled = prefill_grid(opts["population"], folder, household_size=size)
    else:
        filled = prefill_households(
            opts["communities"], opts["population"], folder,
            crs=opts.get("communities_crs", "wgs84"), layer=opts.get("communities_layer"),
            household_size=size)
    opts["_prefilled"] = (filled, folder)
    return str(filled.path)


def _mark_prefilled(area: Any, opts: dict[str, Any]) -> None:
    """Flag the estimated households, name the user's file again, drop the copy."""
    filled, folder = opts.pop("_prefilled")
    comm = area.communities
    comm["households_estimated"] = comm.index.astype(str).isin(filled.estimated_ids)
    load = area.loads.get("communities")
    if load is not None and filled.estimated_ids and opts.get("communities"):
        load.path = Path(opts["communities"])  # the user's table, not the filled copy
        load.rejects["file"] = str(opts["communities"])
    if not opts.get("communities"):
        area.notes.append(f"无小区表：人口栅格的 {len(comm):,} 个格网作为需求点 / no community "
                          f"table: {len(comm):,} cells of the population raster are the "
                          "communities (households, residents and elderly estimated)")
    n = int(comm["households_estimated"].sum())
    if n:
        area.notes.append(f"{n} 个小区的户数由人口栅格估算 / households of {n} communities "
                          "estimated from the population raster (marked households_estimated)")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # later steps may read it


def apply_terrain(area: Any, opts: dict[str, Any]) -> None:
    """Attach heights and stairs, and population estimates, to a loaded study area."""
    if "_prefilled" in opts:
        _mark_prefilled(area, opts)
    if opts.get("dem") or opts.get("no_steps"):
        from planner.terrain import load_terrain  # noqa: PLC0415

        with _step("terrain: heights along every street and stairs"):
            area.terrain = load_terrain(area.net, dem=opts.get("dem"),
                                        network=opts["network"],
                                        network_crs=opts.get("network_crs", "wgs84"),
                                        no_steps=bool(opts.get("no_steps")))
            area.notes.extend(area.terrain.notes())
    if opts.get("population"):
        from planner.rasters import DEFAULT_HOUSEHOLD_SIZE, estimate_households  # noqa: PLC0415

        with _step("population raster: residents where the table has none"):
            area.communities = estimate_households(
                area.communities, opts["population"],
                household_size=opts.get("household_size") or DEFAULT_HOUSEHOLD_SIZE)
            n = int(area.communities["residents_estimated"].sum())
            if n:
                area.notes.append(f"{n} 个小区的人口由人口栅格估算 / residents of {n} "
                                  "communities estimated from the population raster "
                                  "(marked residents_estimated)")


def write_terrain_extras(result: Any, area: Any, opts: dict[str, Any]) -> Path | None:
    """Write ``--minutes-raster`` (on the same, possibly terrain, network as the run)."""
    if not opts.get("minutes_raster"):
        return None
    from planner.rasters import minutes_surface, write_minutes_raster  # noqa: PLC0415

    net = area.net if area.terrain is None else area.terrain.network(
        area.net, speed_m_s=result.params.speed_m_s)
    fac = result.facilities[result.facilities["in_assessment"]]
    with _step(f"minutes raster ({opts['cell_size']:g} m cells) to {opts['minutes_raster']}"):
        bands, names, transform = minutes_surface(
            net, fac.geometry.to_numpy(), fac["kind"].to_numpy(), cell_m=opts["cell_size"],
            speed_m_s=result.params.speed_m_s, snap_max_m=result.params.snap_max_m,
            limit_minutes=result.params.report_limit_minutes)
        return write_minutes_raster(opts["minutes_raster"], bands, names, transform,
                                    net.pyproj_crs.to_wkt())
