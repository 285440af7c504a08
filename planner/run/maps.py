"""The map side of ``planner run``: base map, title, data date, print and report.

Used by :func:`planner.run.run_planner` (so ``planner run`` and ``planner batch`` draw the
same) and by ``planner map``.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from planner.run.steps import Step, quiet

__all__ = ["base_map", "file_date", "map_title", "write_map_extras"]


def base_map(opts: dict[str, Any], *, net: Any = None, network_path: str | None = None) -> Any:
    """The base map from the options: the network's streets, --water, --boundary or OSM."""
    from planner.maps import BaseMap, osm_outlines, read_outline, street_lines  # noqa: PLC0415

    osm = osm_outlines(network_path) if network_path else BaseMap()
    return BaseMap(
        streets=street_lines(net) if net is not None else None,
        water=read_outline(opts["water"], what="water") if opts.get("water") else osm.water,
        boundary=(read_outline(opts["boundary"], what="boundary") if opts.get("boundary")
                  else osm.boundary),
    )


def file_date(path: str | Path | None) -> str | None:
    """The modification date of an input file (``YYYY-MM-DD``), shown as the data date."""
    if path is None or not Path(path).exists():
        return None
    return datetime.date.fromtimestamp(Path(path).stat().st_mtime).isoformat()


def write_map_extras(run: Any, out_dir: str | Path, opts: dict[str, Any], *, base: Any,
                     title: str, data_date: str | None, fresh_run: bool = False,
                     step: Step = quiet) -> dict[str, Path]:
    """Write the print(s) and the report asked for in ``opts``; returns what was written.

    ``opts`` keys used: ``png_path``, ``pdf_path``, ``print_size``, ``print_dpi``,
    ``report``. ``fresh_run``: the folder's results were just written, so a report of an
    earlier run left there (the planner's own) is removed when no report is asked for.
    ``step`` reports each step (the CLI prints it).
    """
    from planner.maps.files import planner_made  # noqa: PLC0415

    notes = [*run.summary.get("notes", []), *run.summary.get("choices", [])]
    written: dict[str, Path] = {}
    for key in ("png_path", "pdf_path"):
        if opts.get(key):
            from planner.maps.printing import print_map  # noqa: PLC0415  (matplotlib)

            with step(f"printing the map to {opts[key]}"):
                written[key] = print_map(run.communities, run.facilities, opts[key],
                                         title=title, base=base, notes=notes,
                                         data_date=data_date, size=opts.get("print_size", "a4"),
                                         dpi=opts.get("print_dpi") or 200)
    stale = Path(out_dir) / "report.html"
    if fresh_run and not opts.get("report") and stale.exists() and planner_made(stale):
        stale.unlink()  # an earlier run's report must not pass for this run's
    if opts.get("report"):
        from planner.report import write_report  # noqa: PLC0415  (matplotlib, via prints)

        with step(f"writing the report to {Path(out_dir) / 'report.html'}"):
            has_map = (Path(out_dir) / "gap_map.html").exists()
            written["report"] = write_report(
                run, Path(out_dir) / "report.html", title=title, base=base,
                map_png=written.get("png_path"), data_date=data_date,
                map_html="gap_map.html" if has_map else None)
    return written


def map_title(summary: dict[str, Any]) -> str:
    """The title of maps and reports: the profile's city and the circle."""
    return (f"{summary.get('profile_name_zh', '')} 15分钟养老服务圈缺口图 / "
            f"elderly-care gap map ({summary.get('profile', '')})")
