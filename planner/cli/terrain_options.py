"""``planner run`` options for hills, stairs and rasters (defined once, applied in steps).

``--dem`` and ``--no-steps`` make the walk depend on slope and stairs
(:mod:`planner.terrain`); ``--population`` fills missing residents and elderly from a
population raster (:mod:`planner.rasters.population`); ``--minutes-raster`` writes the
minutes to the nearest facility as a GeoTIFF (:mod:`planner.rasters.surface`).

The options are defined and checked here; :mod:`planner.run.terrain` applies them (the same
code for ``planner run`` and ``planner batch``) and is re-exported for old imports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from planner._errors import InputError
from planner.run.terrain import apply_terrain, prefill_population, write_terrain_extras

__all__ = ["DEFAULT_CELL_M", "apply_terrain", "check_terrain_options", "prefill_population",
           "terrain_options", "write_terrain_extras"]

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
