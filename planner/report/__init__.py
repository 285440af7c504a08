"""Reports: one HTML page per run, printable to PDF, and a before/after page for two scenarios.

:func:`write_report` writes the district summary, the map (the static print embedded,
with a link to the interactive map beside it), the targets and their timeline, the
worst-served streets and communities, facility loads and the assumptions.
:func:`compare_report` puts two assessments side by side (for example without and with
the planned facilities): counts, shortfall and targets before and after, the
communities whose status changed, and both maps.
"""

from __future__ import annotations

import base64
import datetime
import html
import logging
import tempfile
from pathlib import Path
from typing import Any

from planner.maps import gap_map, save_map
from planner.maps.base import BaseMap
from planner.maps.files import GENERATOR, check_replaceable
from planner.maps.printing import print_map
from planner.report import sections
from planner.report.compare import compare_body
from planner.report.run import RunResults, from_assessment, load_run

__all__ = ["RunResults", "compare_report", "from_assessment", "load_run", "write_report"]

log = logging.getLogger(__name__)


def _as_results(run: Any) -> RunResults:
    return run if isinstance(run, RunResults) else from_assessment(run)


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML page with the report stylesheet."""
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f'<meta name="generator" content="{GENERATOR}">'
            f"<title>{html.escape(title)}</title><style>{sections.CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def png_data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI (the report stays one file)."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def print_png_uri(run: RunResults, *, title: str, base: BaseMap | None, size: str = "a4") -> str:
    """The run's static map printed to a temporary PNG, as a ``data:`` URI."""
    with tempfile.TemporaryDirectory(prefix="planner-report-") as tmp:
        png = Path(tmp) / "map.png"
        print_map(run.communities, run.facilities, png, title=title, base=base,
                  notes=run.summary.get("notes", []), size=size, dpi=130)
        return png_data_uri(png)


def _header(title: str, summary: dict[str, Any], data_date: str | None) -> str:
    today = datetime.date.today().isoformat()
    return (f"<h1>{html.escape(title)}</h1><p class='meta'>标准 profile "
            f"{html.escape(str(summary.get('profile', '')))} · 数据日期 data date "
            f"{html.escape(data_date or '—')} · 生成 generated {today} by planner</p>")


def write_report(
    run: Any,
    path: str | Path,
    *,
    title: str,
    map_png: str | Path | None = None,
    map_html: str | None = "gap_map.html",
    base: BaseMap | None = None,
    data_date: str | None = None,
) -> Path:
    """Write the HTML report of one run (printable to PDF from the browser).

    Parameters
    ----------
    run
        A :class:`planner.pipeline.Assessment` or :class:`RunResults` (see :func:`load_run`).
    path
        The ``.html`` file to write.
    title
        The report's title.
    map_png
        A printed map to embed; by default one is printed now (A4) from ``run``.
    map_html
        Link (relative to the report) to the interactive map, or ``None``.
    base
        Streets, water and boundary for the printed map.
    data_date
        The date of the input data, shown under the title.

    Raises
    ------
    InputError
        ``path`` is a file the planner did not write.
    MissingFontError
        The map must be printed and no CJK font is installed.
    """
    out = check_replaceable(path)
    res = _as_results(run)
    uri = (png_data_uri(Path(map_png)) if map_png is not None
           else print_png_uri(res, title=title, base=base))
    link = (f' <a class="screen-only" href="{html.escape(map_html)}">交互地图 open the '
            "interactive map</a>" if map_html else "")
    body = "".join([
        _header(title, res.summary, data_date),
        sections.summary_section(res),
        f"<h2>2 地图 Map</h2>{link}<img class='map' alt='gap map' src='{uri}'>",
        sections.targets_section(res.targets),
        sections.timeline_section(res.timeline, res.targets),
        sections.streets_section(res.streets),
        sections.communities_section(res.communities),
        sections.facilities_section(res.facilities),
        sections.assumptions_section(res.summary),
    ])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(title, body), encoding="utf-8")
    log.info("wrote report %s (%s bytes)", out, f"{out.stat().st_size:,}")
    return out


def compare_report(
    before: Any,
    after: Any,
    path: str | Path,
    *,
    title: str = "方案对比 Scenario comparison",
    names: tuple[str, str] = ("现状 before", "方案 after"),
    base: BaseMap | None = None,
    data_date: str | None = None,
) -> Path:
    """Write a before/after report and maps for two assessments of the same district.

    Beside ``path`` it writes ``<name>_map.html``: the web map of ``after`` with the
    communities whose status is better or worse than ``before`` outlined (two layers).

    Parameters
    ----------
    before, after
        Two :class:`planner.pipeline.Assessment` (or :class:`RunResults`) of the same
        communities, e.g. ``assess(area, p)`` and ``assess(area, p, include_planned=True)``.
    path
        The ``.html`` file to write.
    names
        What to call the two scenarios.
    base
        Streets, water and boundary for the two printed maps.

    Raises
    ------
    InputError
        The two runs do not hold the same communities, or ``path`` is not the planner's.
    MissingFontError
        No CJK font is installed (the maps are printed).
    """
    out = check_replaceable(path)
    web = check_replaceable(out.with_name(f"{out.stem}_map.html"))
    a, b = _as_results(before), _as_results(after)
    maps = [print_png_uri(r, title=n, base=base, size="slide") for r, n in ((a, names[0]),
                                                                              (b, names[1]))]
    body = compare_body(a, b, names, maps)  # checks the two hold the same communities
    link = (f"<p><a class='screen-only' href='{html.escape(web.name)}'>交互地图 the web map of "
            f"{html.escape(names[1])}, changes outlined</a></p>")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_map(gap_map(b.communities, b.facilities, b.isochrones, title=f"{title}: {names[1]}",
                     warnings=b.summary.get("notes", []), targets=b.targets, base=base,
                     changes_from=a.communities[["service_status", "shortfall_m2"]]), web)
    out.write_text(page(title, _header(title, b.summary, data_date) + link + body),
                   encoding="utf-8")
    log.info("wrote comparison %s and its map %s", out, web)
    return out
