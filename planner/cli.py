"""The ``planner`` command: a thin click group over the library.

Commands: ``run`` (assess a district), ``fetch`` (download a walking network),
``sample`` (write the synthetic sample district) and ``profiles`` (list or show the
standards profiles). Every command catches planner's own errors once, prints the
message (what is wrong, where, and what to do) and exits with code 2; ``-v`` also
prints the traceback.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click

from planner._errors import PlannerError

log = logging.getLogger("planner")

CRS_HELP = ("coordinate system of the file: wgs84, cgcs2000, gcj02 (Amap/Tencent), "
            "bd09 (Baidu) or EPSG:nnnn")


def _setup_logging(verbose: int, quiet: int) -> None:
    level = max(logging.DEBUG, logging.INFO - 10 * verbose + 10 * quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("planner")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a PlannerError into a clear message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PlannerError as exc:
            if logging.getLogger("planner").level <= logging.DEBUG:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except MemoryError:
            if logging.getLogger("planner").level <= logging.DEBUG:
                raise
            click.echo("error: ran out of memory. Clip the network and the layers to the "
                       "district (osmium extract -b …), or run on a machine with more memory; "
                       "no complete output was written.", err=True)
            sys.exit(2)

    return wrapper


@contextmanager
def _step(text: str) -> Iterator[None]:
    """Print a step and how long it took (to stderr)."""
    click.echo(f"• {text} …", err=True)
    start = time.perf_counter()
    yield
    click.echo(f"  done in {time.perf_counter() - start:.1f} s", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More detail; -v also shows tracebacks.")
@click.option("-q", "--quiet", count=True, help="Less output.")
@click.version_option(package_name="planner")
def main(verbose: int, quiet: int) -> None:
    """Check whether elderly-care facilities reach the communities they serve.

    \b
    Typical use (the synthetic sample; give your own files instead):
      planner sample --out data/sample
      planner run --profile jinzhong --out out/sample
          --network data/sample/roads.gpkg --gates data/sample/gates.csv
          --communities data/sample/communities.gpkg
          --facilities data/sample/facilities.csv
    Declare each file's coordinates (--communities-crs gcj02 for Amap data).
    See `planner run --help` for every option.
    """
    _setup_logging(verbose, quiet)


@main.command()
@click.option("--network", required=True, type=click.Path(dir_okay=False),
              help="Walking network: .osm, .osm.pbf, .graphml, or road lines "
                   "(.gpkg/.shp/.geojson).")
@click.option("--communities", required=True, type=click.Path(dir_okay=False),
              help="Communities (小区): CSV, XLSX, GeoJSON, GeoPackage or Shapefile.")
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
@click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
              help="Also save the gap map here (it is always written as OUT/gap_map.html).")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--no-cache", is_flag=True, help="Recompile the network even if cached.")
@_friendly_errors
def run(**opts: Any) -> None:
    """Assess a district: circles, floor area per household, coverage targets, gap map.

    Writes OUT/communities.gpkg and .csv, OUT/facilities.gpkg (with an `isochrones`
    layer), OUT/targets.csv, OUT/rejects.csv, OUT/summary.json and OUT/gap_map.html.
    """
    from planner.circles import ReachParams  # noqa: PLC0415  (keeps --help fast)
    from planner.maps import gap_map  # noqa: PLC0415
    from planner.outputs import clear_partial, write_outputs  # noqa: PLC0415
    from planner.pipeline import assess, load_study_area  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    profile = load_profile(opts["profile"])
    if opts["reading"]:
        profile = profile.with_reading(opts["reading"])
    with _step("loading network and layers"):
        area = load_study_area(
            opts["network"], opts["communities"], opts["facilities"], gates=opts["gates"],
            network_crs=opts["network_crs"], communities_crs=opts["communities_crs"],
            facilities_crs=opts["facilities_crs"], metric_crs=opts["metric_crs"],
            use_cache=not opts["no_cache"],
        )
    params = ReachParams(speed_m_s=opts["speed"] or profile.walking_speed_m_s.value)
    with _step("walking circles and floor area per household"):
        result = assess(area, profile, params=params, include_planned=opts["include_planned"],
                        isochrones=not opts["no_map"], progress=True)
    html = None
    if not opts["no_map"]:
        with _step("drawing the gap map"):
            title = (f"{profile.name_zh} 15分钟养老服务圈缺口图 / "
                     f"elderly-care gap map ({profile.name})")
            notes = [*result.summary["notes"], *result.summary["choices"]]
            m = gap_map(result.communities, result.facilities, result.isochrones, title=title,
                        notes=notes, targets=result.targets)
            html = m
    with _step(f"writing outputs to {opts['out_dir']}"):
        clear_partial(opts["out_dir"])  # temporary folders of a run that was killed
        files = write_outputs(result, area, opts["out_dir"], gap_map=html)
    if opts["map_path"] and html is not None:
        Path(opts["map_path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files["gap_map.html"], opts["map_path"])
    _print_summary(result.summary)


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
        click.echo(f"  target {t['label_en']}: {value} vs {100 * t['threshold']:.0f}% {verdict}")
    for name, counts in summary["inputs"].items():
        click.echo(f"  {name}: read {counts['read']:,} = written {counts['written']:,}"
                   f" + rejected {counts['rejected']:,}")


@main.command()
@click.option("--place", required=True, help='Place name, e.g. "榆次区, 晋中市, 山西省, 中国".')
@click.option("--cache-folder", type=click.Path(file_okay=False), default=None,
              help="Where to keep the GraphML (default data/cache).")
@_friendly_errors
def fetch(place: str, cache_folder: str | None) -> None:
    """Download a place's walking network from OpenStreetMap (needs internet)."""
    from planner.network import fetch_network  # noqa: PLC0415

    with _step(f"fetching the walking network of {place}"):
        path = fetch_network(place, cache_folder=Path(cache_folder) if cache_folder else None)
    click.echo(str(path))


@main.command()
@click.option("--out", "out_dir", default="data/sample", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the sample files.")
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option("--size", default=1.0, show_default=True,
              help="Scale of the district (1 = a few hundred communities; "
                   "10 = ten times the area).")
@click.option("--communities", "n_communities", type=int, default=None,
              help="Number of communities (default: by size).")
@click.option("--facilities", "n_facilities", type=int, default=None,
              help="Number of facilities (default: by size).")
@_friendly_errors
def sample(out_dir: str, seed: int, size: float, n_communities: int | None,
           n_facilities: int | None) -> None:
    """Write the synthetic sample district (roads, communities, gates, facilities)."""
    from planner.sample import write_sample  # noqa: PLC0415

    with _step(f"writing the synthetic sample (seed {seed}, size {size}) to {out_dir}"):
        files = write_sample(out_dir, seed=seed, size=size, n_communities=n_communities,
                             n_facilities=n_facilities)
    for name, path in files.items():
        click.echo(f"{name}: {path}")


@main.command()
@click.argument("name", required=False)
@_friendly_errors
def profiles(name: str | None) -> None:
    """List the standards profiles, or show one with the source of every value."""
    from planner.standards import list_profiles, load_profile  # noqa: PLC0415

    if not name:
        for n in list_profiles():
            p = load_profile(n)
            click.echo(f"{n:10s} {p.name_zh}  {p.description}")
        return
    p = load_profile(name)
    d = p.to_dict()
    click.echo(f"{p.name} {p.name_zh}: {p.description}  (inherits: {' → '.join(p.chain)})")
    click.echo(f"walking speed: {p.walking_speed_m_s.value} m/s")
    for k, v in p.circle_minutes.items():
        click.echo(f"circle {k}: {v.value} min{'  (inherited)' if v.inherited else ''}"
                   f"  — {v.source.text()}")
    for k, r in p.area_per_100hh.items():
        rng = f"–{r.max_m2:g}" if r.max_m2 is not None else ""
        click.echo(f"floor area {k}: ≥ {r.min_m2:g}{rng} m² per 100 households"
                   f"{'  (inherited)' if r.inherited else ''}  — {r.source.text()}")
    for t in d["targets"]:
        click.echo(f"target {t['label_en']} ({t['label_zh']}): ≥ {100 * t['threshold']:.0f}%"
                   f"  — {t['source']['text']}")
    for line in p.choices():
        click.echo(f"choice: {line}")
