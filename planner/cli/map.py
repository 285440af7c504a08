"""``planner map``: the map, a print (PNG/PDF) and the report from a finished run's folder.

The same options (``--boundary``, ``--water``, ``--tiles``, ``--png``, ``--pdf``,
``--report``, ``--print-size``) are offered by ``planner run``; :func:`map_options` adds
them to a command, :func:`check_map_options` checks them before any computing and
:func:`planner.run.maps.write_map_extras` writes the files (the same code as ``planner run``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from planner._errors import InputError
from planner.cli._common import CRS_HELP, _friendly_errors, _step
from planner.run.maps import base_map, file_date, map_title, write_map_extras

__all__ = ["base_map", "check_map_options", "file_date", "map_options", "map_title",
           "split_notes", "write_map_extras"]

PRINT_SIZES = ("a4", "a3", "slide")


def map_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the base-map, print and report options to a click command."""
    options = [
        click.option("--boundary", type=click.Path(dir_okay=False), default=None,
                     help="District boundary to draw (GeoJSON, GeoPackage, Shapefile)."),
        click.option("--water", type=click.Path(dir_okay=False), default=None,
                     help="Rivers and water areas to draw (default: from an .osm/.pbf network)."),
        click.option("--tiles", default="osm", show_default=True,
                     help="Online tiles offered beside the offline base: none, osm, amap "
                          "(data shifted to GCJ-02) or tianditu:KEY."),
        click.option("--png", "png_path", type=click.Path(dir_okay=False), default=None,
                     help="Also print the map to this PNG file."),
        click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False), default=None,
                     help="Also print the map to this PDF file."),
        click.option("--print-size", type=click.Choice(PRINT_SIZES), default="a4",
                     show_default=True, help="Page of the print: A4, A3 (landscape) or a "
                                             "16:9 slide."),
        click.option("--print-dpi", type=click.IntRange(50, 600), default=200,
                     show_default=True, help="Resolution of the PNG print (dots per inch)."),
        click.option("--report", "report", is_flag=True,
                     help="Also write the HTML report (OUT/report.html)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def check_map_options(opts: dict[str, Any]) -> None:
    """Refuse bad print/report options before any computing (font, file names, tiles)."""
    from planner.io.guard import MAP_SUFFIXES  # noqa: PLC0415
    from planner.maps.base import parse_tiles  # noqa: PLC0415
    from planner.maps.files import check_replaceable  # noqa: PLC0415

    parse_tiles(opts.get("tiles"))
    for key, suffixes in (("png_path", (".png",)), ("pdf_path", (".pdf",)),
                          ("html_path", MAP_SUFFIXES)):  # html_path: `planner map --html`
        path = opts.get(key)
        if path is None:
            continue
        if Path(path).suffix.lower() not in suffixes:
            msg = f"--{key.removesuffix('_path')} {path}: give a file name ending in {suffixes[0]}"
            raise InputError(msg)
        check_replaceable(path)
    for key in ("boundary", "water"):
        if opts.get(key) is not None and not Path(opts[key]).exists():
            msg = f"--{key} {opts[key]} not found; check the path"
            raise InputError(msg)
    if opts.get("png_path") or opts.get("pdf_path") or opts.get("report"):
        from planner.maps.printing import cjk_font  # noqa: PLC0415  (matplotlib: only to print)

        cjk_font()


#: Words that mark a note about the data or its coordinates (shown first, in colour).
WARNING_WORDS = ("synthetic", "合成", "坐标", "GCJ", "BD-09", "gcj02", "bd09", "outside",
                 "范围外", "repaired", "修复", "unreadable", "无法识别", "off the roads",
                 "rejected", "island", "不连通")


def split_notes(notes: list[str]) -> tuple[list[str], list[str]]:
    """(warnings, other notes): a note naming data or coordinate trouble is a warning."""
    warn = [n for n in notes if any(w.lower() in n.lower() for w in WARNING_WORDS)]
    return warn, [n for n in notes if n not in warn]


@click.command(name="map")
@click.argument("out_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--network", type=click.Path(dir_okay=False, exists=True), default=None,
              help="The run's network, to draw its streets under the data.")
@click.option("--network-crs", default="wgs84", show_default=True, help=CRS_HELP)
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Redraw the web map here (with the base map and tiles given).")
@click.option("--title", default=None, help="Title of the map and report.")
@click.option("--data-date", default=None, help="Date of the input data, printed on maps.")
@map_options
@_friendly_errors
def map_command(**opts: Any) -> None:
    """Draw maps and the report from a finished run's output folder OUT_DIR.

    \b
    Examples:
      planner map out/sample --png out/sample/gap_map.png --report
      planner map out/sample --network roads.gpkg --pdf map.pdf --print-size a3
      planner map out/sample --html map_amap.html --tiles amap
    """
    from planner.maps import gap_map, save_map  # noqa: PLC0415
    from planner.network import compile_network  # noqa: PLC0415
    from planner.report import load_run  # noqa: PLC0415

    check_map_options(opts)  # also --html: its name and that it may be replaced
    if not (opts["html_path"] or opts["png_path"] or opts["pdf_path"] or opts["report"]):
        msg = "nothing to do: give --html, --png, --pdf and/or --report"
        raise InputError(msg)
    run = load_run(opts["out_dir"])
    net = None
    if opts["network"]:
        with _step("loading the network for the base map"):
            net = compile_network(opts["network"], crs=opts["network_crs"])
    base = base_map(opts, net=net, network_path=opts["network"])
    title = opts["title"] or map_title(run.summary)
    if opts["html_path"]:
        with _step(f"drawing the web map to {opts['html_path']}"):
            warnings, notes = split_notes(run.summary.get("notes", []))
            m = gap_map(run.communities, run.facilities, run.isochrones, title=title,
                        warnings=warnings, notes=[*notes, *run.summary.get("choices", [])],
                        targets=run.targets, base=base, tiles=opts["tiles"],
                        timeline=run.timeline)
            save_map(m, opts["html_path"])
    source = run.summary.get("inputs", {}).get("communities", {}).get("file")
    written = write_map_extras(run, opts["out_dir"], opts, base=base, title=title,
                               data_date=opts["data_date"] or file_date(source), step=_step)
    for path in written.values():
        click.echo(f"wrote {path}")


command = map_command
