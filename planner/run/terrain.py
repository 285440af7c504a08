"""The terrain and raster side of ``planner run``: --dem, --no-steps, --population, rasters.

``--dem`` and ``--no-steps`` make the walk depend on slope and stairs
(:mod:`planner.terrain`); ``--population`` fills missing residents and elderly from a
population raster (:mod:`planner.rasters.population`); ``--minutes-raster`` writes the
minutes to the nearest facility as a GeoTIFF (:mod:`planner.rasters.surface`). The option
values are checked by the CLI (:mod:`planner.cli.terrain_options`) before any computing.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from planner.run.steps import Step, quiet

__all__ = ["apply_terrain", "prefill_population", "write_terrain_extras"]


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


def apply_terrain(area: Any, opts: dict[str, Any], *, step: Step = quiet) -> None:
    """Attach heights and stairs, and population estimates, to a loaded study area."""
    if "_prefilled" in opts:
        _mark_prefilled(area, opts)
    if opts.get("dem") or opts.get("no_steps"):
        from planner.terrain import load_terrain  # noqa: PLC0415

        with step("terrain: heights along every street and stairs"):
            area.terrain = load_terrain(area.net, dem=opts.get("dem"),
                                        network=opts["network"],
                                        network_crs=opts.get("network_crs", "wgs84"),
                                        no_steps=bool(opts.get("no_steps")))
            area.notes.extend(area.terrain.notes())
    if opts.get("population"):
        from planner.rasters import DEFAULT_HOUSEHOLD_SIZE, estimate_households  # noqa: PLC0415

        with step("population raster: residents where the table has none"):
            area.communities = estimate_households(
                area.communities, opts["population"],
                household_size=opts.get("household_size") or DEFAULT_HOUSEHOLD_SIZE)
            n = int(area.communities["residents_estimated"].sum())
            if n:
                area.notes.append(f"{n} 个小区的人口由人口栅格估算 / residents of {n} "
                                  "communities estimated from the population raster "
                                  "(marked residents_estimated)")


def write_terrain_extras(result: Any, area: Any, opts: dict[str, Any], *,
                         step: Step = quiet) -> Path | None:
    """Write ``--minutes-raster`` (on the same, possibly terrain, network as the run)."""
    if not opts.get("minutes_raster"):
        return None
    from planner.rasters import minutes_surface, write_minutes_raster  # noqa: PLC0415

    net = area.net if area.terrain is None else area.terrain.network(
        area.net, speed_m_s=result.params.speed_m_s)
    fac = result.facilities[result.facilities["in_assessment"]]
    with step(f"minutes raster ({opts['cell_size']:g} m cells) to {opts['minutes_raster']}"):
        bands, names, transform = minutes_surface(
            net, fac.geometry.to_numpy(), fac["kind"].to_numpy(), cell_m=opts["cell_size"],
            speed_m_s=result.params.speed_m_s, snap_max_m=result.params.snap_max_m,
            limit_minutes=result.params.report_limit_minutes)
        return write_minutes_raster(opts["minutes_raster"], bands, names, transform,
                                    net.pyproj_crs.to_wkt())
