"""The static gap map for slides and paper: PNG or PDF with matplotlib.

A4 and A3 (landscape) and 16:9 slide sizes, with a title, legend, scale bar, north
arrow, the data date and the source notes. Chinese labels need a CJK font: the project's
set-up installs one (``fonts-wqy-microhei`` / ``fonts-noto-cjk`` on Debian/Ubuntu, see the
README); without any, :func:`print_map` stops with :class:`MissingFontError` rather than
print empty boxes.
"""

from __future__ import annotations

import logging
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd

from planner._errors import InputError, PlannerError
from planner.maps import style as st
from planner.maps.base import BaseMap
from planner.maps.files import GENERATOR, check_replaceable
from planner.schema import SERVICE_STATUS_LABELS, SERVICE_STATUSES

log = logging.getLogger(__name__)

#: Paper sizes, landscape, in inches (A4 297×210 mm, A3 420×297 mm, a 16:9 slide).
PAGE_SIZES_IN: dict[str, tuple[float, float]] = {
    "a4": (297 / 25.4, 210 / 25.4),
    "a3": (420 / 25.4, 297 / 25.4),
    "slide": (13.333, 7.5),
}
#: Resolution of PNG output (dots per inch).
PNG_DPI = 200
#: CJK fonts looked for, in order (the first two are what ``.ci/run`` installs).
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "Noto Sans CJK JP", "WenQuanYi Zen Hei",
             "Source Han Sans SC", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC")


class MissingFontError(PlannerError, RuntimeError):
    """No font with Chinese characters is installed, so a print would show empty boxes."""


def cjk_font() -> str:
    """The name of an installed font with Chinese glyphs.

    Raises
    ------
    MissingFontError
        When none of :data:`CJK_FONTS` is installed.
    """
    from matplotlib import font_manager  # noqa: PLC0415

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    msg = ("no Chinese (CJK) font found, so the printed map would show empty boxes. Install "
           "one: `sudo apt-get install fonts-wqy-microhei fonts-noto-cjk` (Debian/Ubuntu), "
           "or any of " + ", ".join(CJK_FONTS) + "; then delete matplotlib's font cache "
           "(~/.cache/matplotlib) and run again.")
    raise MissingFontError(msg)


def print_map(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str,
    base: BaseMap | None = None,
    notes: Sequence[str] = (),
    data_date: str | None = None,
    size: str = "a4",
    dpi: int = PNG_DPI,
) -> Path:
    """Draw the gap map as a static PNG or PDF (by the suffix of ``path``).

    Parameters
    ----------
    communities, facilities
        As for :func:`planner.maps.gap_map` (any CRS; drawn in a metric one).
    path
        ``.png`` or ``.pdf``; parent folders are created.
    title
        Printed at the top.
    base
        Streets, water and boundary drawn under the data.
    notes
        Source notes printed at the foot (data provenance, standards, readings).
    data_date
        The date of the data ("2026-11"), printed at the foot.
    size
        ``a4``, ``a3`` (landscape) or ``slide`` (16:9).
    dpi
        Resolution of a PNG.

    Raises
    ------
    InputError
        An unknown size or file type, or ``path`` is a file the planner did not write.
    MissingFontError
        No CJK font is installed.
    """
    out = Path(path)
    if size not in PAGE_SIZES_IN:
        msg = f"unknown print size {size!r}: use one of {', '.join(PAGE_SIZES_IN)}"
        raise InputError(msg)
    if out.suffix.lower() not in (".png", ".pdf"):
        msg = f"cannot print to {out.name}: give a .png or .pdf file name"
        raise InputError(msg)
    font = cjk_font()
    mpl.use("Agg", force=False)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    crs = _metric_crs(communities)
    with mpl.rc_context({"font.family": "sans-serif",
                         "font.sans-serif": [font, "DejaVu Sans"],
                         "axes.unicode_minus": False}):
        fig = plt.figure(figsize=PAGE_SIZES_IN[size])
        try:
            _draw(fig, communities.to_crs(crs), facilities.to_crs(crs), base, crs,
                  title=title, notes=notes, data_date=data_date)
            check_replaceable(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            meta = ({"Software": GENERATOR, "Title": title} if out.suffix.lower() == ".png"
                    else {"Creator": GENERATOR, "Title": title})
            fig.savefig(out, dpi=dpi, facecolor="white", metadata=meta)
        finally:
            plt.close(fig)
    log.info("printed %s (%s, %s bytes)", out, size, f"{out.stat().st_size:,}")
    return out


def _metric_crs(gdf: gpd.GeoDataFrame) -> object:
    if gdf.crs is None:
        msg = "communities have no CRS; declare it when loading"
        raise InputError(msg)
    return gdf.crs if gdf.crs.is_projected else gdf.estimate_utm_crs()


def _draw(fig: object, comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, base: BaseMap | None,
          crs: object, *, title: str, notes: Sequence[str], data_date: str | None) -> None:
    width, height = fig.get_size_inches()  # type: ignore[attr-defined]
    footer = _footer_lines(notes, data_date, width=width, max_lines=int(height * 1.1))
    foot = (0.3 + 0.125 * len(footer)) / height
    ax = fig.add_axes([0.015, foot, 0.74, 0.93 - foot])  # type: ignore[attr-defined]
    ax.set_axis_off()
    ax.set_aspect("equal")
    _draw_base(ax, base, crs)
    _draw_communities(ax, comm)
    _draw_facilities(ax, fac)
    xmin, ymin, xmax, ymax = pd.concat([comm.geometry, fac.geometry]).total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 100.0)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    _scale_bar(ax)
    _north_arrow(ax)
    fig.text(0.015, 0.965, title, fontsize=16, weight="bold", va="center")  # type: ignore[attr-defined]
    _legend(fig, comm, fac, base, foot)
    fig.text(0.015, foot - 0.012, "\n".join(footer), fontsize=7, va="top",  # type: ignore[attr-defined]
             color="#333")


def _footer_lines(notes: Sequence[str], data_date: str | None, *, width: float,
                  max_lines: int) -> list[str]:
    """Data date and source notes, wrapped to the page width, at most ``max_lines``."""
    per_line = int(0.97 * width / (7 / 72 * 0.52))  # characters of 7 pt text on the page
    lines = [f"数据日期 data date: {data_date or '—'}"]
    for note in notes:
        lines += _wrap(f"· {note}", per_line)[:2]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines - 1],
                 f"… {len(notes)} 条说明, 详见报告 notes in full: report.html / summary.json"]
    return lines


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` half-width characters (a Chinese character counts two)."""
    lines, line, used = [], "", 0
    for ch in text:
        w = 2 if ord(ch) > 0x2E80 else 1
        if used + w > width:
            lines.append(line)
            line, used = "  ", 2
        line += ch
        used += w
    return [*lines, line] if line.strip() else lines


def _draw_base(ax: object, base: BaseMap | None, crs: object) -> None:
    if base is None:
        return
    if base.water is not None and len(base.water):
        water = base.water.to_crs(crs)
        polys = water[water.geom_type.isin(["Polygon", "MultiPolygon"])]
        lines = water[~water.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polys):
            polys.plot(ax=ax, color=st.WATER_COLOUR, linewidth=0, zorder=1)
        if len(lines):
            lines.plot(ax=ax, color=st.WATER_COLOUR, linewidth=2, zorder=1)
    if base.streets is not None and len(base.streets):
        base.streets.to_crs(crs).plot(ax=ax, color=st.STREET_COLOUR, linewidth=0.35, zorder=2)
    if base.boundary is not None and len(base.boundary):
        base.boundary.to_crs(crs).boundary.plot(ax=ax, color=st.BOUNDARY_COLOUR, linewidth=1.2,
                                                linestyle="--", zorder=3)


def _draw_communities(ax: object, comm: gpd.GeoDataFrame) -> None:
    points = comm.geom_type.isin(["Point", "MultiPoint"])
    for status in SERVICE_STATUSES:
        sel = comm["service_status"] == status
        colour = st.STATUS_COLOURS[status]
        if (sel & ~points).any():
            comm[sel & ~points].plot(ax=ax, color=colour, alpha=0.75, edgecolor=colour,
                                     linewidth=0.4, zorder=4)
        if (sel & points).any():
            comm[sel & points].plot(ax=ax, color=colour, markersize=18, edgecolor="white",
                                    linewidth=0.4, zorder=4)


def _draw_facilities(ax: object, fac: gpd.GeoDataFrame) -> None:
    if len(fac) == 0:
        return
    area = pd.to_numeric(fac["floor_area_m2"], errors="coerce").fillna(0).clip(lower=0)
    largest = float(area.max()) or 1.0
    sizes = 12 + 110 * np.sqrt(area / largest)
    planned = st.column(fac, "status").astype(object) == "planned"
    under = st.column(fac, "meets_min_size").map(lambda v: (not st.is_missing(v)) and not bool(v))
    for kind in st.kinds_present(fac["kind"]):
        sel = (fac["kind"].astype(str) == kind).to_numpy()
        colour = st.kind_colour(kind)
        for is_planned in (False, True):
            rows = sel & (planned.to_numpy() == is_planned)
            if not rows.any():
                continue
            edge = np.where(under.to_numpy()[rows].astype(bool), st.UNDERSIZE_COLOUR,
                            colour if is_planned else "white")
            ax.scatter(fac.geometry.x[rows], fac.geometry.y[rows], s=sizes[rows],  # type: ignore[attr-defined]
                       c="white" if is_planned else colour, edgecolors=list(edge),
                       linewidths=np.where(under.to_numpy()[rows].astype(bool), 2.0, 1.0),
                       linestyle="--" if is_planned else "-", zorder=5)


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k m) of about a fifth of ``span_m``."""
    target = span_m / 5
    power = 10 ** math.floor(math.log10(max(target, 1.0)))
    return max(s * power for s in (1, 2, 5) if s * power <= max(target, power))


def _scale_bar(ax: object) -> None:
    x0, x1 = ax.get_xlim()  # type: ignore[attr-defined]
    y0, y1 = ax.get_ylim()  # type: ignore[attr-defined]
    length = _nice_length(x1 - x0)
    x, y = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    ax.add_patch(mpl.patches.Rectangle((x, y), length / 2, h, color="#222", zorder=9))  # type: ignore[attr-defined]
    ax.add_patch(mpl.patches.Rectangle((x + length / 2, y), length / 2, h, facecolor="white",  # type: ignore[attr-defined]
                                       edgecolor="#222", zorder=9))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x + length / 2, y + 2.2 * h, label, ha="center", va="bottom", fontsize=8, zorder=9)  # type: ignore[attr-defined]


def _north_arrow(ax: object) -> None:
    ax.annotate("N 北", xy=(0.96, 0.96), xytext=(0.96, 0.86), xycoords="axes fraction",  # type: ignore[attr-defined]
                ha="center", va="center", fontsize=10, weight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.5})


def _legend(fig: object, comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, base: BaseMap | None,
            foot: float) -> None:
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    handles: list[object] = []
    for status in SERVICE_STATUSES:
        zh, en = SERVICE_STATUS_LABELS[status]
        n = int((comm["service_status"] == status).sum())
        handles.append(Patch(color=st.STATUS_COLOURS[status], alpha=0.75,
                             label=f"{zh} ({n})\n{textwrap.fill(en, 34)}"))
    for kind in st.kinds_present(fac["kind"]) if len(fac) else []:
        zh, en = st.kind_label(kind)
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=7,
                              markerfacecolor=st.kind_colour(kind), markeredgecolor="white",
                              label=f"{zh}\n{textwrap.fill(en, 34)}"))
    if len(fac):
        handles += [
            Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor="white",
                   markeredgecolor="#555", label="规划 planned (hollow)"),
            Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor="#999",
                   markeredgecolor=st.UNDERSIZE_COLOUR, markeredgewidth=2,
                   label="低于最小面积 below minimum size"),
        ]
    if base is not None:
        if base.streets is not None:
            handles.append(Line2D([], [], color=st.STREET_COLOUR, lw=1, label="街道 streets"))
        if base.water is not None:
            handles.append(Patch(color=st.WATER_COLOUR, label="水系 water"))
        if base.boundary is not None:
            handles.append(Line2D([], [], color=st.BOUNDARY_COLOUR, lw=1.2, linestyle="--",
                                  label="边界 boundary"))
    ax = fig.add_axes([0.765, foot, 0.225, 0.93 - foot])  # type: ignore[attr-defined]
    ax.set_axis_off()
    ax.legend(handles=handles, loc="upper left", fontsize=7.5, frameon=False, labelspacing=0.7,
              title="图例 Legend\n圆点大小 = 建筑面积 dot size = floor area", title_fontsize=9,
              alignment="left")
