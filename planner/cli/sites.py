"""``planner sites``: recommend where new facilities bring the most households to standard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from planner.cli._common import CRS_HELP, _friendly_errors, _step, check_speed

#: metres, m², seconds: more than zero (0 or less gave nonsense sites or an internal error)
_POSITIVE = click.FloatRange(min=0, min_open=True)

@click.command(name="sites")
@click.option("--network", required=True, type=click.Path(dir_okay=False),
              help="Walking network (as for `planner run`).")
@click.option("--communities", required=True, type=click.Path(dir_okay=False),
              help="Communities (小区).")
@click.option("--facilities", required=True, type=click.Path(dir_okay=False),
              help="Existing facilities; they stay as they are.")
@click.option("--gates", type=click.Path(dir_okay=False), default=None,
              help="Optional gates of gated communities.")
@click.option("--candidates", type=click.Path(dir_okay=False), default=None,
              help="Candidate sites (candidate_id, lon/lat; optional kind, floor_area_m2, "
                   "max_floor_area_m2), e.g. idle public buildings. Default: network nodes "
                   "on a grid near the communities short of the standard.")
@click.option("--candidates-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--spacing", type=_POSITIVE, default=250.0, show_default=True,
              help="Grid spacing of generated candidates (metres).")
@click.option("--near", "near_m", type=_POSITIVE, default=300.0, show_default=True,
              help="Generated candidates lie within this distance (metres, straight line) "
                   "of a community short of the standard.")
@click.option("--k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Number of new sites.")
@click.option("--model", type=click.Choice(["standard", "capacity", "coverage", "cover"]),
              default="standard", show_default=True,
              help="standard: most households newly meeting the floor-area standard (sites of "
                   "fixed size); capacity: the same, sizing each site; coverage: most "
                   "households newly within a circle; cover: fewest sites covering every "
                   "community.")
@click.option("--size", "size_m2", type=_POSITIVE, default=None,
              help="Floor area of each new site (m²); default the profile's minimum for the "
                   "kind, else 300 m².")
@click.option("--max-size", "max_m2", type=_POSITIVE, default=None,
              help="Largest site the capacity model may propose (m², default 1,000).")
@click.option("--profile", default="national", show_default=True, help="Standards profile.")
@click.option("--speed", type=float, default=None, help="Walking speed in m/s.")
@click.option("--include-planned", is_flag=True, help="Count planned facilities as built.")
@click.option("--time-limit", type=_POSITIVE, default=60.0, show_default=True,
              help="Seconds the optimiser may take per solve; it reports its gap if stopped.")
@click.option("--gap", "mip_gap", type=click.FloatRange(0, 1), default=1e-4, show_default=True,
              help="Relative gap to the bound at which the optimiser stops.")
@click.option("--no-curve", is_flag=True, help="Skip the trade-off curve (k = 1 … K).")
@click.option("--network-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--communities-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--facilities-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder.")
@_friendly_errors
def sites(**opts: Any) -> None:
    """Recommend K new sites: which ones, how big, and what they bring.

    Writes OUT/sites.csv (chosen sites with size and households each brings to standard),
    OUT/tradeoff.csv (k against households, optimiser and greedy), OUT/sites_map.html,
    OUT/streets_before_after.csv, OUT/targets_before_after.csv and OUT/sites_summary.json.
    """
    from planner.io.guard import check_output_paths, refuse_foreign  # noqa: PLC0415
    from planner.pipeline import load_study_area  # noqa: PLC0415  (keeps --help fast)
    from planner.scenarios import Scenario  # noqa: PLC0415
    from planner.sites import grid_candidates, read_candidates, recommend_sites  # noqa: PLC0415
    from planner.sites.report import SITE_FILES, site_writers  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    inputs = [opts[k] for k in ("network", "communities", "facilities", "gates", "candidates")]
    if Path(str(opts["profile"])).suffix.lower() == ".toml":
        inputs.append(opts["profile"])
    # everything that can be refused is refused before loading and optimising
    check_speed(opts["speed"])
    check_output_paths(opts["out_dir"], inputs=inputs)
    refuse_foreign(opts["out_dir"], SITE_FILES)  # a user's sites.csv in --out
    profile = load_profile(opts["profile"])
    given = (read_candidates(opts["candidates"], crs=opts["candidates_crs"])  # WGS84
             if opts["candidates"] else None)
    with _step("loading network and layers"):
        area = load_study_area(opts["network"], opts["communities"], opts["facilities"],
                               gates=opts["gates"], network_crs=opts["network_crs"],
                               communities_crs=opts["communities_crs"],
                               facilities_crs=opts["facilities_crs"])
    with _step("assessing the district"):
        base = Scenario.from_area(area, profile, speed_m_s=opts["speed"],
                                  include_planned=opts["include_planned"])
        before = base.result()
    if given is not None:
        cands = given.to_crs(area.net.pyproj_crs)  # as read_candidates(metric_crs=…) does
    else:
        short = before.communities[before.communities["service_status"].isin(
            ["uncovered", "below_standard"])]
        cands = grid_candidates(area.net, spacing_m=opts["spacing"], near=short.geometry,
                                near_m=opts["near_m"])
    with _step(f"choosing among {len(cands):,} candidate sites ({opts['model']})"):
        search = recommend_sites(base, cands, k=opts["k"], model=opts["model"],
                                 size_m2=opts["size_m2"], max_m2=opts["max_m2"],
                                 curve=not opts["no_curve"], time_limit_s=opts["time_limit"],
                                 mip_rel_gap=opts["mip_gap"])
    with _step(f"writing outputs to {opts['out_dir']}"):
        from planner.scenarios.output import write_files  # noqa: PLC0415

        write_files(opts["out_dir"], site_writers(search), inputs=inputs)
    _print(search, Path(opts["out_dir"]))


def _print(search: Any, out: Path) -> None:
    s = search.summary()
    unit = "sites" if s["model"] == "cover" else "households"
    click.echo(f"\nmodel {s['model']}: {s['sites']} sites, {s['floor_area_m2']:,.0f} m² in all")
    verdict = ("proven optimal" if s["optimal"] else
               f"{s['status']}, within {100 * s['gap']:.2f}% of the bound {s['bound']:,.0f}")
    click.echo(f"  optimiser (HiGHS): {s['objective']:,.0f} {unit}, {verdict} "
               f"({s['seconds']:.1f} s)")
    click.echo(f"  greedy heuristic:  {s['greedy_objective']:,.0f} {unit}")
    if s["model"] in ("coverage", "standard"):
        click.echo(f"  local search:      {s['local_search_objective']:,.0f} {unit} "
                   "(from greedy's choice)")
    what = ("newly within a walking circle" if s["model"] in ("coverage", "cover")
            else "newly meeting the floor-area standard")
    click.echo(f"  checked by the planner's assessment: {s['verified_households']:,} "
               f"households {what}")
    cols = ["rank", "kind", "floor_area_m2", "households_within", "households_won"]
    click.echo(search.sites[cols].head(10).to_string())
    click.echo(f"tables and map in {out}/ (sites.csv, tradeoff.csv, sites_map.html)")


command = sites
