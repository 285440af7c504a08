"""Gap maps: the assessment drawn as an interactive HTML map for planning meetings.

This module only presents results that other stages computed: it reads the columns
:mod:`planner.coverage` and :mod:`planner.gaps` add, and never derives a metric.

The exported file is **self-contained**. Officials open it on meeting-room machines
without internet, so Leaflet (vendored in ``planner/static``, see its README) is inlined
into the HTML and folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome) are
dropped. Only the optional OpenStreetMap basemap needs a network; offline it simply
stays blank and the data layers are drawn on a plain light background.

Layers, each switchable in the layer control:

- one group per service status (达标 / 面积不足 / 未覆盖 / 无法到达), coloured by status,
  with fill intensity by shortfall (m²);
- one group per facility kind, circle markers sized by floor area (square-root scale),
  planned facilities hollow with a dashed outline;
- the walking circles (步行圈), off by default. They are traced from 5 m raster cells;
  for display their stair steps are cut into clean outlines and their rings written as
  encoded polylines (about 2–3 bytes a vertex), decoded in the page.

The data of each layer is serialised once, as JSON text written into the page; it never
goes through jinja2 (branca compiles every rendered script as a template again, which
took seconds at city scale) and is built with array operations, not per vertex.

Panels: a title box with the notes (data provenance, standards profile and its
readings), a bilingual legend, and the district targets when given.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template
from pyproj import Transformer

from planner._errors import CRSError, InputError, MissingColumnError
from planner.schema import FACILITY_KINDS, SERVICE_STATUS_LABELS, SERVICE_STATUSES

__all__ = ["gap_map", "save_map"]

logger = logging.getLogger(__name__)

#: Fill colour of communities by ``service_status``.
STATUS_COLOURS: dict[str, str] = {
    "meets": "#1a9850",
    "below_standard": "#f28e2b",
    "uncovered": "#d7301f",
    "unreachable": "#8c8c8c",
}
#: Marker colour of facilities by ``kind``; kinds not listed get :data:`OTHER_KIND_COLOUR`.
KIND_COLOURS: dict[str, str] = {
    "station": "#2166ac",
    "day_care": "#6a3d9a",
    "street_centre": "#01665e",
    "township_centre": "#8c510a",
    "nursing_home": "#c51b7d",
    "mutual_aid": "#35978f",
}
OTHER_KIND_COLOUR = "#333333"

#: Labels of the community ``status`` column (新建 / 已建成).
COMMUNITY_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新建小区", "new-build"),
    "old": ("已建成小区/老城区", "built-up / old town"),
}
#: Labels of the facility ``status`` column.
FACILITY_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "existing": ("现状", "existing"),
    "planned": ("规划", "planned"),
}
AREA_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "urban": ("城镇", "urban"),
    "rural": ("农村", "rural"),
}

#: Decimals kept in coordinates (1e-6 degree is about 0.1 m).
COORD_DECIMALS = 6
#: Display simplification of community outlines (metres).
COMMUNITY_SIMPLIFY_M = 1.0
#: Cell size of the raster the walking circles are traced from (``planner.isochrones.CELL_M``);
#: their staircase outlines are smoothed by cutting the steps (:func:`_staircase_outline`).
CIRCLE_CELL_M = 5.0
#: Most a vertex of a walking circle moves when runs in line are merged (metres).
CIRCLE_TOLERANCE_M = 0.1
#: Decimals of the walking circles' encoded coordinates (1e-5 degree is about 1 m).
CIRCLE_DECIMALS = 5
#: Metres per degree of latitude, to turn the tolerances into degrees for geographic input.
_M_PER_DEGREE = 111_320.0

#: Fill opacity of communities: no shortfall, and the largest shortfall on the map.
FILL_OPACITY_RANGE = (0.3, 0.85)
#: Radius of facility markers (pixels): smallest and largest floor area on the map.
FACILITY_RADIUS_PX = (5.0, 18.0)
#: Radius of communities given as points (pixels).
COMMUNITY_POINT_RADIUS_PX = 7.0
#: Plain background shown where no basemap tile loads (offline).
BACKGROUND_COLOUR = "#f2efe9"
#: Zoom used when the data is a single point.
MAX_FIT_ZOOM = 17
#: Map centre and zoom used when there is nothing to draw (China).
EMPTY_LOCATION = (35.0, 105.0)

_CIRCLE_PANE = "planner_circles"  # below communities (overlayPane is z-index 400)
_FACILITY_PANE = "planner_facilities"  # above communities, so toggling keeps dots on top
_STATIC = resources.files("planner") / "static"
_MISSING = "—"

_COMMUNITY_REQUIRED = (
    "households",
    "service_status",
    "nearest_facility_id",
    "nearest_minutes",
    "facilities_within",
    "accessible_m2_per_100hh",
    "required_m2_per_100hh",
    "shortfall_m2",
)
_FACILITY_REQUIRED = ("kind", "floor_area_m2")
_ISOCHRONE_REQUIRED = ("facility_id", "kind", "minutes")
_TARGET_REQUIRED = ("label_zh", "label_en", "value", "threshold", "passed")

_CSS = f"""
.leaflet-container {{
  background: {BACKGROUND_COLOUR};
  font: 13px/1.45 "Helvetica Neue", Arial, "PingFang SC", "Microsoft YaHei",
        "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
}}
.planner-panel {{
  background: rgba(255, 255, 255, 0.95); color: #222; padding: 8px 11px;
  border-radius: 5px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35);
  max-width: 360px; max-height: 45vh; overflow-y: auto;
}}
.planner-panel summary {{ cursor: pointer; }}
.planner-panel summary > * {{ display: inline; }}
.planner-panel h1 {{ font-size: 17px; margin: 0 0 4px; }}
.planner-panel h2 {{ font-size: 14px; margin: 0; }}
.planner-panel h3 {{ font-size: 12.5px; margin: 6px 0 2px; }}
.planner-legend, .planner-targets, .planner-title ul {{ font-size: 12px; }}
.planner-title {{ max-height: 30vh; }}
.planner-legend, .planner-targets {{ max-height: 46vh; }}
.planner-panel ul {{ margin: 0; padding-left: 17px; color: #444; }}
.planner-panel .planner-hint {{ color: #555; font-size: 12px; }}
.planner-swatch {{
  display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid rgba(0, 0, 0, 0.35);
}}
.planner-dot {{ border-radius: 50%; }}
.planner-hollow {{ background: #fff !important; border: 2px dashed #555; }}
.planner-ring {{ background: rgba(85, 85, 85, 0.12) !important; border: 1px solid #555; }}
.planner-panel table {{ border-collapse: collapse; }}
.planner-panel td, .planner-panel th {{
  padding: 2px 6px; border-bottom: 1px solid #e3e3e3; text-align: right;
}}
.planner-panel td:first-child, .planner-panel th:first-child {{ text-align: left; }}
.planner-pass {{ color: #1a7f37; }}
.planner-fail {{ color: #c62828; font-weight: bold; }}
.foliumpopup {{ font-size: 12.5px; }}
.foliumpopup th {{ text-align: left; font-weight: normal; color: #555; padding: 1px 10px 1px 0; }}
.foliumpopup td {{ font-weight: bold; }}
.leaflet-control-layers-expanded {{ max-height: 50vh; overflow-y: auto; }}
"""


# --------------------------------------------------------------------------- public API


def gap_map(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame | None = None,
    *,
    title: str,
    notes: Sequence[str] = (),
    targets: pd.DataFrame | None = None,
    basemap: bool = True,
) -> folium.Map:
    """Draw the coverage gaps of a district as a self-contained folium map.

    Parameters
    ----------
    communities
        Assessed communities indexed by ``community_id``, any CRS, polygon or point
        geometry, with ``name``, ``households``, ``status``, ``area_type``, ``street``
        (all optional except ``households``) and the columns the assessment adds:
        ``service_status`` (one of ``meets``, ``below_standard``, ``uncovered``,
        ``unreachable``), ``nearest_facility_id``, ``nearest_minutes`` (NaN when none),
        ``facilities_within``, ``accessible_m2_per_100hh``, ``required_m2_per_100hh``
        and ``shortfall_m2``.
    facilities
        Facilities indexed by ``facility_id``, point geometry, with ``kind`` and
        ``floor_area_m2``; ``name``, ``status`` (existing/planned),
        ``households_served`` and ``m2_per_100hh_served`` are shown when present.
    isochrones
        Walking circles with ``facility_id``, ``kind``, ``minutes`` and polygon
        geometry. Drawn as one layer, switched off until the user turns it on.
    title
        Shown in the title box and as the page title.
    notes
        Lines shown under the title: data provenance ("synthetic sample"), the
        standards profile and how it was read.
    targets
        District targets with ``label_zh``, ``label_en``, ``value``, ``threshold`` and
        ``passed``, shown in a panel.
    basemap
        Add an OpenStreetMap tile layer. It needs internet; offline it stays blank and
        the data still reads on the plain background.

    Returns
    -------
    folium.Map
        With Leaflet inlined and no CDN links; write it with :func:`save_map`.

    Raises
    ------
    MissingColumnError
        When an input lacks a column listed above.
    CRSError
        When an input has no CRS.
    InputError
        When a ``service_status`` is not one of the four statuses.
    """
    _check_columns(communities, _COMMUNITY_REQUIRED, "communities")
    _check_columns(facilities, _FACILITY_REQUIRED, "facilities")
    _check_statuses(communities)
    comm = _display_frame(communities, "communities", simplify_m=COMMUNITY_SIMPLIFY_M)
    fac = _display_frame(facilities, "facilities", simplify_m=0.0)

    m = _offline_map(title)
    if basemap:
        _add_basemap(m)
    _add_community_layers(m, comm, _facility_names(facilities))
    if isochrones is not None and len(isochrones) > 0:
        _check_columns(isochrones, _ISOCHRONE_REQUIRED, "isochrones")
        iso = _drawable(isochrones, "isochrones")
        _add_circle_layer(m, iso, _facility_names(facilities))
    _add_facility_layers(m, fac)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)

    _Panel(
        f"<h1>{html.escape(title)}</h1>",
        _notes_html(notes),
        position="topleft",
        css_class="planner-title",
    ).add_to(m)
    _Panel(
        "<h2>图例 Legend</h2>",
        _legend_html(comm, fac, has_circles=isochrones is not None and len(isochrones) > 0),
        position="bottomleft",
        css_class="planner-legend",
    ).add_to(m)
    if targets is not None and len(targets) > 0:
        _check_columns(targets, _TARGET_REQUIRED, "targets")
        _Panel(
            "<h2>规划目标 District targets</h2>",
            _targets_html(targets),
            position="bottomright",
            css_class="planner-targets",
        ).add_to(m)
    _fit(m, [comm, fac])
    logger.info(
        "gap map %r: %d communities, %d facilities, %d circles",
        title,
        len(comm),
        len(fac),
        0 if isochrones is None else len(isochrones),
    )
    return m


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``m`` as one self-contained HTML file.

    Leaflet is inlined (maps from :func:`gap_map` already are; any other folium map
    is converted here). Folium elements that still link a script or stylesheet from the
    internet make this raise rather than write a map that fails in the meeting room.

    Parameters
    ----------
    m
        The map, usually from :func:`gap_map`.
    path
        Where to write; parent folders are created.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    InputError
        When an element of the map needs an external script or stylesheet.
    """
    _inline_assets(m)
    jquery = _needs_jquery(m)
    if jquery:
        msg = (
            f"the map has {', '.join(jquery)}, which need jQuery; it is not inlined, so "
            "they would fail offline. Use folium.GeoJsonPopup/GeoJsonTooltip instead."
        )
        raise InputError(msg)
    text = m.get_root().render()
    external = external_assets(text)
    if external:
        msg = (
            f"the map links {len(external)} external script(s)/stylesheet(s) that will not "
            f"load offline: {', '.join(external)}. Remove the folium elements that need "
            "them (folium.Popup and Marker icons need jQuery/Bootstrap), or vendor them "
            "in planner/static."
        )
        raise InputError(msg)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    logger.info("wrote %s (%s bytes)", out, f"{out.stat().st_size:,}")
    return out


def external_assets(html_text: str) -> list[str]:
    """List the URLs of scripts and stylesheets ``html_text`` would fetch from a network.

    Links (``<a href>``) and the basemap tile URL inside the script are not counted: the
    page shows its data without them.
    """
    patterns = (
        r"<script\b[^>]*\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
        r"<link\b[^>]*\bhref\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
        r"@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')\s]+)",
    )
    return [url for p in patterns for url in re.findall(p, html_text, flags=re.IGNORECASE)]


def _needs_jquery(m: folium.Map) -> list[str]:
    """Names of elements in ``m`` whose folium templates call jQuery (``$``)."""
    found = [f"keep_in_front on {m.get_name()}"] if m.objects_to_stay_in_front else []
    stack = list(m._children.values())
    while stack:
        element = stack.pop()
        if isinstance(element, folium.Popup):
            found.append(f"folium.Popup {element.get_name()}")
        stack.extend(element._children.values())
    return found


# --------------------------------------------------------------------------- offline map


class _Raw(Element):
    """Text put into the page verbatim (inlined CSS or JS), never parsed as a template."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def _offline_map(title: str) -> folium.Map:
    m = folium.Map(
        location=EMPTY_LOCATION,
        zoom_start=4,
        tiles=None,
        zoom_control="bottomright",
        control_scale=True,
    )
    m.get_root().title = html.escape(title)
    _inline_assets(m)
    return m


def _inline_assets(m: folium.Map) -> None:
    """Replace folium's CDN links on ``m`` by the vendored Leaflet, inlined (idempotent)."""
    m.default_js = []
    m.default_css = []
    header = m.get_root().header
    if "planner_leaflet_js" in header._children:
        return
    header.add_child(_Raw(f"<style>{_leaflet_css()}</style>"), name="planner_leaflet_css")
    header.add_child(_Raw(f"<style>{_CSS}</style>"), name="planner_css")
    header.add_child(_Raw(f"<script>{_leaflet_js()}</script>"), name="planner_leaflet_js")


def _leaflet_js() -> str:
    js = (_STATIC / "leaflet.js").read_text(encoding="utf-8")
    if "</script" in js.lower():  # would end the inline <script> early
        msg = "planner/static/leaflet.js contains '</script' and cannot be inlined"
        raise RuntimeError(msg)
    return js


def _leaflet_css() -> str:
    """Leaflet's stylesheet with its ``images/*.png`` turned into ``data:`` URIs."""
    css = (_STATIC / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        png = (_STATIC / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)


def _add_basemap(m: folium.Map) -> None:
    folium.TileLayer(
        "OpenStreetMap",
        name="底图 OpenStreetMap basemap (需联网 online only)",
        overlay=False,
        control=True,
        opacity=0.6,
    ).add_to(m)


class _Panel(MacroElement):
    """A box of HTML placed in a map corner as a Leaflet control.

    The HTML is written into the page body (so its text is in the file as written) and
    moved into the control when the map is built.
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div id="{{ this.get_name() }}" class="planner-panel {{ this.css_class }}">
          <details open><summary>{{ this.summary }}</summary>{{ this.content }}</details>
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var div = document.getElementById({{ this.get_name()|tojson }});
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, summary: str, content: str, *, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "Panel"
        self.summary = summary
        self.content = content
        self.position = position
        self.css_class = css_class


# --------------------------------------------------------------------------- geometry


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{what} lacks column(s) {', '.join(missing)} needed for the gap map"
        raise MissingColumnError(msg)


def _check_statuses(communities: pd.DataFrame) -> None:
    unknown = sorted(set(communities["service_status"].dropna()) - set(SERVICE_STATUSES))
    if unknown or communities["service_status"].isna().any():
        msg = (
            f"communities has service_status {unknown or ['<missing>']}; "
            f"expected one of {', '.join(SERVICE_STATUSES)}"
        )
        raise InputError(msg)


def _drawable(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """The rows of ``gdf`` with a geometry; raises when ``gdf`` has no CRS."""
    if gdf.crs is None:
        msg = f"{what} has no CRS; declare it when loading (e.g. EPSG:32649)"
        raise CRSError(msg)
    drawable = gdf.geometry.notna() & ~gdf.geometry.is_empty
    if not drawable.all():
        logger.warning("%s: %d row(s) without geometry are not drawn", what, int((~drawable).sum()))
        return gdf[drawable]
    return gdf


def _display_frame(gdf: gpd.GeoDataFrame, what: str, *, simplify_m: float) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 with display-simplified geometry rounded to 6 decimals."""
    gdf = _drawable(gdf, what)
    geom = gdf.geometry
    if simplify_m > 0:
        tolerance = simplify_m if geom.crs.is_projected else simplify_m / _M_PER_DEGREE
        geom = geom.simplify(tolerance, preserve_topology=True)
    geom = geom.to_crs(4326)
    rounded = shapely.transform(geom.values, lambda xy: np.round(xy, COORD_DECIMALS))
    return gdf.set_geometry(gpd.GeoSeries(rounded, index=gdf.index, crs=4326))


def _staircase_outline(geoms: Any, *, cell_m: float = CIRCLE_CELL_M) -> np.ndarray:
    """Display outlines of polygons traced along raster cells (projected CRS, metres).

    The shapely form of :func:`_cut_steps`, for checks; the map itself encodes the
    ring arrays directly. The input is not modified.
    """
    return _cut_steps(_Rings.of(geoms), cell_m=cell_m).polygons()


_Shift = Callable[[np.ndarray], np.ndarray]


@dataclass
class _Rings:
    """Polygon rings as flat arrays: open rings (no repeated closing vertex), in order.

    ``xy`` holds the vertices, ``ring`` the ring of each vertex (sorted), ``ring_part``
    the polygon (part) of each ring, its shell first, and ``part_geom`` the input
    geometry of each part.
    """

    xy: np.ndarray
    ring: np.ndarray
    ring_part: np.ndarray
    part_geom: np.ndarray
    n_geoms: int

    @classmethod
    def of(cls, geoms: Any) -> _Rings:
        geoms = np.asarray(geoms, dtype=object)
        parts, part_geom = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        opened = np.r_[ring[1:] == ring[:-1], False]  # drop each ring's closing vertex
        return cls(xy[opened], ring[opened], ring_part, part_geom, len(geoms))

    def starts(self) -> np.ndarray:
        """Index of the first vertex of each ring with vertices."""
        return np.flatnonzero(np.r_[True, self.ring[1:] != self.ring[:-1]])

    def shift(self) -> tuple[_Shift, _Shift]:
        """Functions giving, for a per-vertex array, the value at the next/previous vertex."""
        starts = self.starts()
        ends = np.r_[starts[1:] - 1, len(self.ring) - 1]

        def nxt(a: np.ndarray) -> np.ndarray:
            out = np.empty_like(a)
            out[:-1] = a[1:]
            out[ends] = a[starts]
            return out

        def prv(a: np.ndarray) -> np.ndarray:
            out = np.empty_like(a)
            out[1:] = a[:-1]
            out[starts] = a[ends]
            return out

        return nxt, prv

    def keep(self, mask: np.ndarray) -> _Rings:
        return _Rings(self.xy[mask], self.ring[mask], self.ring_part, self.part_geom, self.n_geoms)

    def polygons(self) -> np.ndarray:
        """The rings as shapely (multi)polygons, one per input geometry."""
        polys = shapely.polygons(shapely.linearrings(self.xy, indices=self.ring),
                                 indices=self.ring_part)
        n_parts = np.bincount(self.part_geom, minlength=self.n_geoms)
        if (n_parts == 1).all():
            return polys
        out = shapely.multipolygons(polys, indices=self.part_geom)
        single = np.flatnonzero(n_parts == 1)
        out[single] = polys[np.searchsorted(self.part_geom, single)]
        return out


def _cut_steps(
    rings: _Rings, *, cell_m: float = CIRCLE_CELL_M, tolerance_m: float = CIRCLE_TOLERANCE_M
) -> _Rings:
    """Turn staircase outlines of ``cell_m`` raster cells into clean outlines.

    1. Every corner with an edge of at most one cell (a stair step, not the corner of
       two long straight runs) is cut: the vertex is replaced by the points half a cell
       along each of its edges, or the edge's midpoint when shorter. On a regular
       staircase these are the midpoints of the steps, which line up along its slope
       (one Chaikin step, only where the outline is stepped).
    2. Points in line with their neighbours are dropped (:func:`_drop_collinear`, the
       outline moving by at most ``tolerance_m``), so a 45° staircase becomes one
       diagonal and a straight run one edge.

    Each cut adds or removes a triangle of at most ``cell_m² / 8``, and these alternate
    along a staircase, so areas stay within a fraction of a percent. Arrays only, no
    per-vertex Python. A ring left with fewer than 3 points keeps its own vertices.
    """
    if len(rings.xy) == 0:
        return rings
    x, y = rings.xy[:, 0].copy(), rings.xy[:, 1].copy()
    nxt, prv = rings.shift()
    dx, dy = nxt(x) - x, nxt(y) - y  # the edge leaving each vertex
    length = np.hypot(dx, dy)
    one_cell = length <= 1.01 * cell_m
    step = one_cell | prv(one_cell)
    # one-cell edges are cut at their midpoint, longer ones half a cell from the corner
    fraction = np.where(one_cell, 0.5, (cell_m / 2) / np.maximum(length, 1e-12))
    reach = fraction * nxt(step)  # of each edge, cut at its end
    leave = fraction * step  # of each edge, cut at its start
    # each vertex becomes the point where its corner cut meets the edge coming in (a)
    # and the one on the edge going out (b); uncut vertices give a == b
    n = len(x)
    px, py = np.empty(2 * n), np.empty(2 * n)
    px[0::2], py[0::2] = x - prv(dx * reach), y - prv(dy * reach)
    px[1::2], py[1::2] = x + dx * leave, y + dy * leave
    keep = np.empty(2 * n, dtype=bool)
    keep[0::2] = step  # a == b on uncut vertices
    # b equals the next vertex's a where two cuts meet mid-edge
    keep[1::2] = (np.abs(px[1::2] - nxt(px[0::2])) > 1e-9) | (
        np.abs(py[1::2] - nxt(py[0::2])) > 1e-9
    )
    cut = _Rings(np.column_stack([px[keep], py[keep]]), np.repeat(rings.ring, 2)[keep],
                 rings.ring_part, rings.part_geom, rings.n_geoms)
    cut = _drop_collinear(cut, tolerance_m)
    counts = np.bincount(cut.ring, minlength=len(rings.ring_part))
    if (counts >= 3).all():
        return cut
    bad = counts < 3
    good_pts, own = ~bad[cut.ring], bad[rings.ring]
    ring = np.concatenate([cut.ring[good_pts], rings.ring[own]])
    order = np.argsort(ring, kind="stable")
    xy = np.concatenate([cut.xy[good_pts], rings.xy[own]])[order]
    return _Rings(xy, ring[order], rings.ring_part, rings.part_geom, rings.n_geoms)


def _drop_collinear(rings: _Rings, tolerance: float) -> _Rings:
    """Drop vertices in line with their neighbours, moving the outline by ``tolerance`` at most.

    Each run of dropped vertices is checked against the segment that replaces it, and
    kept whole if any of them is farther (so gentle curves are never flattened).
    """
    if len(rings.xy) == 0:
        return rings
    x, y = rings.xy[:, 0], rings.xy[:, 1]
    nxt, prv = rings.shift()
    ax, ay = x - prv(x), y - prv(y)
    bx, by = nxt(ax), nxt(ay)
    cross = np.abs(ax * by - ay * bx)
    chord = np.hypot(ax + bx, ay + by)
    drop = (cross <= tolerance * chord) & (ax * bx + ay * by > 0)
    starts = rings.starts()
    drop[starts] = False  # runs never wrap round a ring's start
    if not drop.any():
        return rings
    idx = np.arange(len(x))
    before = np.maximum.accumulate(np.where(drop, 0, idx))  # kept vertex before each run
    after = np.minimum.accumulate(np.where(drop, len(x), idx)[::-1])[::-1]
    ring_start = starts[np.searchsorted(starts, idx, side="right") - 1]
    after = np.where((after >= len(x)) | (rings.ring[np.minimum(after, len(x) - 1)] != rings.ring),
                     ring_start, after)  # a run at a ring's end closes on its start
    sx, sy = x[after] - x[before], y[after] - y[before]
    far = np.abs((x - x[before]) * sy - (y - y[before]) * sx) > tolerance * np.maximum(
        np.hypot(sx, sy), 1e-12
    )
    bad_run = np.zeros(len(x), dtype=bool)
    bad_run[before[drop & far]] = True
    drop &= ~bad_run[before]
    return rings.keep(~drop)


# --------------------------------------------------------------------------- GeoJSON text


def _json(value: Any) -> str:
    """Compact JSON with UTF-8 kept as is, safe inside an inline ``<script>``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def _features_json(ids: Sequence[str], props: pd.DataFrame, geometries: Sequence[str]) -> str:
    """A FeatureCollection as JSON text around pre-serialised geometries (keys sorted).

    The features are encoded in one ``json.dumps`` call with ``NaN`` standing in for
    each geometry (a bare ``NaN`` cannot occur inside a JSON string), then split there.
    """
    columns = list(props.columns)
    records = zip(*(props[c].tolist() for c in columns), strict=True)
    features = [
        {"geometry": math.nan, "id": i, "properties": dict(zip(columns, r, strict=True)),
         "type": "Feature"}
        for i, r in zip(ids, records, strict=True)
    ]
    pieces = _json({"features": features, "type": "FeatureCollection"}).split(
        '{"geometry":NaN,'
    )
    if len(pieces) != len(geometries) + 1:  # never: NaN only stands for geometries
        msg = "could not place the geometries in the GeoJSON text"
        raise RuntimeError(msg)
    out = [pieces[0]]
    for geometry, rest in zip(geometries, pieces[1:], strict=True):
        out += ['{"geometry":', geometry, ",", rest]
    return "".join(out)


def _geometry_json(geoms: Any) -> list[str]:
    """GeoJSON text of each geometry, written by GEOS (coordinates already rounded)."""
    return list(shapely.to_geojson(np.asarray(geoms, dtype=object)))


def _encoded_geometry_json(rings: _Rings, *, decimals: int = CIRCLE_DECIMALS) -> list[str]:
    """Polygons with their rings as encoded polylines: compact text for big layers.

    Each geometry becomes ``{"type":"Polygon","polylines":[ring,...]}`` or
    ``{"type":"MultiPolygon","polylines":[[ring,...],...]}``, shell first, each ring in
    Google's encoded polyline format (latitude/longitude pairs at ``decimals``
    decimals; the closing vertex is implied). That is 2–3 bytes per vertex instead of
    ~20 in GeoJSON; :data:`_DECODE_JS` restores GeoJSON coordinates in the page.
    """
    n_rings = len(rings.ring_part)
    q = np.round(rings.xy[:, ::-1] * 10**decimals).astype(np.int64)  # lat, lng
    delta = q.copy()
    same = np.r_[False, rings.ring[1:] == rings.ring[:-1]]
    delta[same] -= q[:-1][same[1:]]
    value = delta.ravel()
    z = np.where(value < 0, ~(value << 1), value << 1)  # sign in the lowest bit
    n_chunks = np.ones(len(z), dtype=np.int64)
    rest = z >> 5
    while (rest > 0).any():
        n_chunks += rest > 0
        rest >>= 5
    ends = np.cumsum(n_chunks)
    starts = ends - n_chunks
    out = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
    for k in range(int(n_chunks.max()) if len(z) else 0):
        sel = np.flatnonzero(n_chunks > k)
        chunk = (z[sel] >> (5 * k)) & 31
        out[starts[sel] + k] = chunk + np.where(n_chunks[sel] > k + 1, 32, 0) + 63
    text = out.tobytes().decode("ascii")
    ring_chars = np.bincount(np.repeat(rings.ring, 2), weights=n_chunks, minlength=n_rings)
    bounds = np.r_[0, np.cumsum(ring_chars.astype(np.int64))].tolist()
    part_rings: list[list[str]] = [[] for _ in range(len(rings.part_geom))]
    for i, part in enumerate(rings.ring_part.tolist()):
        part_rings[part].append('"' + text[bounds[i] : bounds[i + 1]].replace("\\", "\\\\") + '"')
    geom_parts: list[list[str]] = [[] for _ in range(rings.n_geoms)]
    for part, geom in enumerate(rings.part_geom.tolist()):
        geom_parts[geom].append("[" + ",".join(part_rings[part]) + "]")
    return [
        '{"type":"Polygon","polylines":' + parts[0] + "}"
        if len(parts) == 1
        else '{"type":"MultiPolygon","polylines":[' + ",".join(parts) + "]}"
        for parts in geom_parts
    ]


def _fit(m: folium.Map, frames: Sequence[gpd.GeoDataFrame]) -> None:
    frames = [f for f in frames if len(f) > 0]
    if not frames:
        return
    bounds = np.array([f.total_bounds for f in frames])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    m.location = [float(south + north) / 2, float(west + east) / 2]
    _FitBesidePanels([[float(south), float(west)], [float(north), float(east)]]).add_to(m)


class _FitBesidePanels(MacroElement):
    """Fit the map to the data, keeping it clear of the corner panels when there is room.

    Must be added after the panels and the layer control so their widths are known.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, bounds) {
            function widest(corner) {
                var boxes = map.getContainer().querySelectorAll(corner + ' .leaflet-control');
                return Array.prototype.reduce.call(boxes, function (w, el) {
                    return Math.max(w, el.offsetWidth);
                }, 0);
            }
            var size = map.getSize();
            var left = Math.max(widest('.leaflet-top.leaflet-left'),
                                widest('.leaflet-bottom.leaflet-left'));
            var right = Math.max(widest('.leaflet-top.leaflet-right'),
                                 widest('.leaflet-bottom.leaflet-right'));
            var options = {maxZoom: {{ this.max_zoom }}, padding: [30, 30]};
            if (left + right + 200 < size.x) {
                options = {maxZoom: {{ this.max_zoom }}, paddingTopLeft: [left + 20, 30],
                           paddingBottomRight: [right + 20, 30]};
            }
            map.fitBounds(bounds, options);
        })({{ this._parent.get_name() }}, {{ this.bounds|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], *, max_zoom: int = MAX_FIT_ZOOM) -> None:
        super().__init__()
        self._name = "FitBesidePanels"
        self.bounds = bounds
        self.max_zoom = int(max_zoom)


# --------------------------------------------------------------------------- formatting


def _esc(value: Any) -> str:
    """Text for innerHTML: escaped, with missing values as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return _MISSING
    return html.escape(str(value))


def _num(value: Any, *, decimals: int = 1) -> str:
    """Format a number with thousands separators and at most ``decimals`` decimals.

    Trailing zeros go: ``37.5`` shows "37.5", ``1200.0`` shows "1,200"; NaN shows a dash.
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if math.isnan(x):
        return _MISSING
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _whole(value: Any) -> str:
    return _num(value, decimals=0)


def _each(values: pd.Series | pd.Index, fn: Callable[[Any], str]) -> list[str]:
    """``fn`` of each value, read as Python objects (fast on Arrow-backed strings)."""
    return [fn(v) for v in values.tolist()]


def _label(labels: dict[str, tuple[str, str]], key: Any) -> str:
    if key is None or (isinstance(key, float) and math.isnan(key)):
        return _MISSING
    zh, en = labels.get(key, (str(key), ""))
    return html.escape(f"{zh} {en}".strip())


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """``df[name]``, or a column of missing values when the optional column is absent."""
    if name in df.columns:
        return df[name]
    return pd.Series(None, index=df.index, dtype=object)


def _names(df: pd.DataFrame) -> pd.Series:
    """Display names, falling back to the index for rows without a name."""
    names = _column(df, "name").astype(object)
    ids = pd.Series(df.index.astype(str), index=df.index)
    return names.where(names.notna() & (names.astype(str) != ""), ids).astype(str)


def _facility_names(facilities: pd.DataFrame) -> dict[str, str]:
    return dict(zip(facilities.index.astype(str), _names(facilities), strict=True))


def _kind_colour(kind: str) -> str:
    return KIND_COLOURS.get(kind, OTHER_KIND_COLOUR)


def _kind_label(kind: str) -> tuple[str, str]:
    return FACILITY_KINDS.get(kind, (kind, ""))


def _swatch(colour: str, extra_class: str = "") -> str:
    return f'<span class="planner-swatch {extra_class}" style="background:{colour}"></span>'


# --------------------------------------------------------------------------- communities

#: Popup rows of a community: property key and its bilingual label.
_COMMUNITY_POPUP = (
    ("name", "小区 community"),
    ("id", "编号 ID"),
    ("households", "户数 households"),
    ("status", "小区类型 type"),
    ("street", "街道 street"),
    ("service", "服务状态 service status"),
    ("nearest", "最近设施 nearest facility"),
    ("minutes", "步行分钟 walking minutes"),
    ("within", "步行圈内设施数 facilities within the circle"),
    ("accessible", "可达面积 accessible m²/100户 households"),
    ("required", "标准要求 required m²/100户 households"),
    ("shortfall", "面积缺口 shortfall m²"),
)


def _community_props(comm: pd.DataFrame, facility_names: dict[str, str]) -> pd.DataFrame:
    def nearest(fid: Any) -> str:
        if fid is None or (isinstance(fid, float) and math.isnan(fid)) or fid is pd.NA:
            return "无 none"
        name = facility_names.get(str(fid), "")
        return _esc(f"{name} ({fid})" if name and name != str(fid) else fid)

    labels = {s: _label(SERVICE_STATUS_LABELS, s) for s in SERVICE_STATUSES}

    def service(s: Any) -> str:
        return labels.get(s) or _label(SERVICE_STATUS_LABELS, s)

    street = _column(comm, "street")
    area = _column(comm, "area_type")
    status = [
        " · ".join(
            p
            for p in (_label(COMMUNITY_STATUS_LABELS, s), _label(AREA_TYPE_LABELS, a))
            if p != _MISSING
        )
        or _MISSING
        for s, a in zip(_column(comm, "status").tolist(), area.tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "name": _each(_names(comm), _esc),
            "id": _each(comm.index.astype(str), _esc),
            "households": _each(comm["households"], _whole),
            "status": status,
            "street": _each(street, _esc),
            "service": _each(comm["service_status"], service),
            "nearest": _each(comm["nearest_facility_id"], nearest),
            "minutes": _each(comm["nearest_minutes"], _num),
            "within": _each(comm["facilities_within"], _whole),
            "accessible": _each(comm["accessible_m2_per_100hh"], _num),
            "required": _each(comm["required_m2_per_100hh"], _num),
            "shortfall": _each(comm["shortfall_m2"], _num),
        },
        index=comm.index,
    )


def _community_styles(comm: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Style per community id: colour by status, fill opacity by shortfall."""
    shortfall = pd.to_numeric(comm["shortfall_m2"], errors="coerce").clip(lower=0).fillna(0)
    largest = float(shortfall.max()) if len(shortfall) else 0.0
    low, high = FILL_OPACITY_RANGE
    share = shortfall / largest if largest > 0 else shortfall * 0
    styles = {}
    ids, statuses = comm.index.astype(str).tolist(), comm["service_status"].tolist()
    for cid, status, s in zip(ids, statuses, share.tolist(), strict=True):
        colour = STATUS_COLOURS[status]
        styles[cid] = {
            "color": colour,
            "weight": 1.5,
            "opacity": 0.9,
            "fill": True,  # folium's CircleMarker (point communities) defaults to no fill
            "fillColor": colour,
            "fillOpacity": round(low + (high - low) * float(s), 2),
        }
    return styles


def _add_community_layers(
    m: folium.Map, comm: gpd.GeoDataFrame, facility_names: dict[str, str]
) -> None:
    props = _community_props(comm, facility_names)
    styles = _community_styles(comm)
    for status in SERVICE_STATUSES:
        rows = comm["service_status"] == status
        if not rows.any():
            continue
        zh = SERVICE_STATUS_LABELS[status][0]
        group = folium.FeatureGroup(
            # short names here; the legend carries the full labels
            name=f"{_swatch(STATUS_COLOURS[status])}{zh} {status.replace('_', ' ')}"
            f" ({int(rows.sum())})",
            overlay=True,
            show=True,
        )
        css = f"planner-community planner-status-{status}"
        part = comm[rows]
        _GeoJsonLayer(
            _features_json(
                part.index.astype(str), props[rows], _geometry_json(part.geometry.values)
            ),
            styles={k: styles[k] for k in part.index.astype(str)},
            css_class=css,
            marker={"radius": COMMUNITY_POINT_RADIUS_PX, "className": css},
            popup=_COMMUNITY_POPUP,
            tooltip="name",
        ).add_to(group)
        group.add_to(m)


def _style_lookup(styles: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def style(feature: dict[str, Any]) -> dict[str, Any]:
        return styles[feature["id"]]

    return style


#: Restores GeoJSON coordinates from :func:`_encoded_geometry_json` in the page.
_DECODE_JS = """
function plannerRing(text, scale) {
    var ring = [], i = 0, lat = 0, lng = 0;
    function next() {
        var result = 0, shift = 0, b;
        do {
            b = text.charCodeAt(i++) - 63;
            result |= (b & 31) << shift;
            shift += 5;
        } while (b >= 32);
        return (result & 1) ? ~(result >> 1) : (result >> 1);
    }
    while (i < text.length) {
        lat += next();
        lng += next();
        ring.push([lng / scale, lat / scale]);
    }
    if (ring.length) { ring.push(ring[0]); }
    return ring;
}
function plannerDecode(data, scale) {
    data.features.forEach(function (f) {
        var g = f.geometry;
        if (g && g.polylines) {
            var polygon = function (rings) {
                return rings.map(function (r) { return plannerRing(r, scale); });
            };
            g.coordinates = g.type === "MultiPolygon" ? g.polylines.map(polygon)
                                                      : polygon(g.polylines);
            delete g.polylines;
        }
    });
    return data;
}
"""


class _GeoJsonLayer(folium.GeoJson):
    """A GeoJSON layer whose data is written into the page once, as JSON text.

    folium's ``GeoJson`` serialises its data inside a jinja2 template and branca then
    compiles the rendered script as a template again, which at city scale costs seconds;
    it also writes every style as a ``switch`` case per feature. Here the script is put
    together from constant JavaScript and the pre-serialised JSON, styles are one
    lookup (feature id to one of the distinct styles), and popups and tooltips are bound
    directly. ``data`` (parsed on first use) and ``style_function`` work as in folium.
    """

    def __init__(
        self,
        features_json: str,
        *,
        styles: dict[str, dict[str, Any]],
        css_class: str,
        marker: dict[str, Any] | None = None,
        popup: Sequence[tuple[str, str]] = (),
        tooltip: str | None = None,
        decode_scale: int | None = None,
        **options: Any,
    ) -> None:
        folium.map.Layer.__init__(self, overlay=True, control=False, show=True)
        self._name = "GeoJson"
        self._json = features_json
        self._data: dict[str, Any] | None = None
        self.style_function = _style_lookup(styles)
        self.style = True
        self.highlight = bool(popup)
        self._styles = styles
        self.css_class = css_class
        self.marker_options = marker
        self.popup_fields = list(popup)
        self.tooltip_field = tooltip
        self.decode_scale = decode_scale
        self.options = {"className": css_class, **options}

    @property
    def data(self) -> dict[str, Any]:  # type: ignore[override]
        if self._data is None:
            self._data = json.loads(self._json)
        return self._data

    def _get_self_bounds(self) -> list[list[float | None]]:
        return folium.utilities.get_bounds(self.data, lonlat=True)

    def render(self, **kwargs: Any) -> None:
        name = self.get_name()
        distinct: dict[str, int] = {}
        index = {
            fid: distinct.setdefault(_json(style), len(distinct))
            for fid, style in self._styles.items()
        }
        lines = [
            "(function () {",
            f"var styles = [{','.join(distinct)}];",
            f"var styleOf = {_json(index)};",
            "function style(feature) { return styles[styleOf[feature.id]] || {}; }",
        ]
        options = dict(self.options)
        if self.marker_options is not None:
            lines.append(
                f"var marker = {_json(self.marker_options)};\n"
                "function pointToLayer(feature, latlng) {\n"
                "    return L.circleMarker(latlng, Object.assign({}, marker, style(feature)));\n"
                "}"
            )
        lines.append(
            f"var layer = L.geoJson(null, Object.assign({_json(options)}, "
            "{style: style" + (", pointToLayer: pointToLayer" if self.marker_options else "")
            + (", onEachFeature: onEachFeature" if self.highlight else "") + "}));"
        )
        if self.highlight:
            lines.append(
                "function onEachFeature(feature, path) {\n"
                "    path.on({\n"
                "        mouseover: function (e) { e.target.setStyle({weight: 3.5}); },\n"
                "        mouseout: function (e) { layer.resetStyle(e.target); }\n"
                "    });\n"
                "}"
            )
        if self.popup_fields:
            keys, labels = zip(*self.popup_fields, strict=True)
            lines.append(
                f"var keys = {_json(list(keys))}, labels = {_json(list(labels))};\n"
                "layer.bindPopup(function (path) {\n"
                "    var p = path.feature.properties, div = L.DomUtil.create('div');\n"
                "    div.innerHTML = '<table>' + keys.map(function (k, i) {\n"
                "        return '<tr><th>' + labels[i] + '</th><td>' + p[k] + '</td></tr>';\n"
                "    }).join('') + '</table>';\n"
                "    return div;\n"
                "}, {className: 'foliumpopup', maxWidth: 380});"
            )
        if self.tooltip_field is not None:
            lines.append(
                "layer.bindTooltip(function (path) { return path.feature.properties["
                f"{_json(self.tooltip_field)}]; }}, {{sticky: true}});"
            )
        add = "layer.addData(data);"
        if self.decode_scale is not None:
            add = f"layer.addData(plannerDecode(data, {int(self.decode_scale)}));"
            lines.append(_DECODE_JS)
        lines += [
            f"layer.addTo({self._parent.get_name()});",
            f"window.{name} = layer;",
            f"function {name}_add(data) {{ {add} }}",
            # the data, once; the test helpers find it as "<name>_add({...});\n"
            f"{name}_add({self._json});\n",
            "})();",
        ]
        self.get_root().script.add_child(_Raw("\n".join(lines)), name=name)


# --------------------------------------------------------------------------- facilities

_FACILITY_POPUP = (
    ("name", "设施 facility"),
    ("id", "编号 ID"),
    ("kind", "类型 kind"),
    ("status", "状态 status"),
    ("floor_area", "建筑面积 floor area m²"),
    ("served", "服务户数 households served"),
    ("per_100hh", "每百户面积 m²/100户 households served"),
)


def _facility_props(fac: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": _each(_names(fac), _esc),
            "id": _each(fac.index.astype(str), _esc),
            "kind": _each(fac["kind"], lambda k: _label(FACILITY_KINDS, k)),
            "status": _each(_column(fac, "status"), lambda s: _label(FACILITY_STATUS_LABELS, s)),
            "floor_area": _each(fac["floor_area_m2"], _num),
            "served": _each(_column(fac, "households_served"), _whole),
            "per_100hh": _each(_column(fac, "m2_per_100hh_served"), _num),
        },
        index=fac.index,
    )


def _facility_styles(fac: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Style per facility id: colour by kind, radius by sqrt(floor area), planned hollow."""
    area = pd.to_numeric(fac["floor_area_m2"], errors="coerce").clip(lower=0).fillna(0)
    largest = float(area.max()) if len(area) else 0.0
    low, high = FACILITY_RADIUS_PX
    share = np.sqrt(area / largest) if largest > 0 else area * 0
    planned = _column(fac, "status").astype(object) == "planned"
    styles = {}
    for fid, kind, s, plan in zip(fac.index.astype(str), fac["kind"], share, planned, strict=True):
        colour = _kind_colour(kind)
        base = {
            "radius": round(low + (high - low) * float(s), 1),
            "opacity": 1.0,
            "fill": True,
            "pane": _FACILITY_PANE,  # read when the marker is made (pointToLayer)
        }
        if plan:
            base |= {
                "color": colour,
                "weight": 2.5,
                "dashArray": "4 3",
                "fillColor": "#ffffff",
                "fillOpacity": 0.9,
            }
        else:
            base |= {"color": "#ffffff", "weight": 1.5, "fillColor": colour, "fillOpacity": 0.95}
        styles[fid] = base
    return styles


def _add_facility_layers(m: folium.Map, fac: gpd.GeoDataFrame) -> None:
    if len(fac) == 0:
        return
    folium.map.CustomPane(_FACILITY_PANE, z_index=450).add_to(m)
    props = _facility_props(fac)
    styles = _facility_styles(fac)
    kinds = [k for k in FACILITY_KINDS if (fac["kind"] == k).any()]
    kinds += sorted(set(fac["kind"].astype(str)) - set(FACILITY_KINDS))
    for kind in kinds:
        rows = fac["kind"].astype(str) == kind
        zh, en = _kind_label(kind)
        group = folium.FeatureGroup(
            name=f"{_swatch(_kind_colour(kind), 'planner-dot')}{html.escape(zh)} {html.escape(en)}"
            f" ({int(rows.sum())})",
            overlay=True,
            show=True,
        )
        css = f"planner-facility planner-kind-{re.sub(r'[^A-Za-z0-9_-]', '_', kind)}"
        part = fac[rows]
        _GeoJsonLayer(
            _features_json(
                part.index.astype(str), props[rows], _geometry_json(part.geometry.values)
            ),
            styles={k: styles[k] for k in part.index.astype(str)},
            css_class=css,
            marker={"className": css},
            popup=_FACILITY_POPUP,
            tooltip="name",
        ).add_to(group)
        group.add_to(m)


# --------------------------------------------------------------------------- circles


def _add_circle_layer(m: folium.Map, iso: gpd.GeoDataFrame, facility_names: dict[str, str]) -> None:
    folium.map.CustomPane(_CIRCLE_PANE, z_index=350, pointer_events=False).add_to(m)
    minutes = sorted({_num(v) for v in iso["minutes"]})
    group = folium.FeatureGroup(
        name=f"{_swatch('transparent', 'planner-ring')}步行圈 walking circles "
        f"({'/'.join(minutes)} 分钟 min)",
        overlay=True,
        show=False,
    )
    iso = iso.reset_index(drop=True)
    styles = {
        str(i): {
            "color": _kind_colour(kind),
            "weight": 1,
            "opacity": 0.8,
            "fillColor": _kind_colour(kind),
            "fillOpacity": 0.1,
        }
        for i, kind in zip(iso.index, iso["kind"], strict=True)
    }
    props = pd.DataFrame(
        {
            "facility": iso["facility_id"].map(lambda f: _esc(facility_names.get(str(f), f))),
            "minutes": iso["minutes"].map(_num),
        },
        index=iso.index,
    )
    _GeoJsonLayer(
        _features_json(iso.index.astype(str), props, _circle_geometry_json(iso)),
        styles=styles,
        css_class="planner-circle",
        decode_scale=10**CIRCLE_DECIMALS,
        pane=_CIRCLE_PANE,
        interactive=False,
    ).add_to(group)
    group.add_to(m)


def _circle_geometry_json(iso: gpd.GeoDataFrame) -> list[str]:
    """Display geometry of the walking circles: steps cut (:func:`_cut_steps`), encoded."""
    geom = iso.geometry
    if not geom.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        shown = _display_frame(iso, "isochrones", simplify_m=COMMUNITY_SIMPLIFY_M)
        return _geometry_json(shown.geometry.values)
    if geom.crs.is_projected:
        rings = _cut_steps(_Rings.of(geom.values))
        to_wgs84 = Transformer.from_crs(geom.crs, 4326, always_xy=True)
        lon, lat = to_wgs84.transform(rings.xy[:, 0], rings.xy[:, 1])
        rings.xy = np.column_stack([lon, lat])
    else:  # cut the steps in local metres: a linear scaling is exact enough over a city
        if not geom.crs.equals(4326):
            geom = geom.to_crs(4326)
        rings = _Rings.of(geom.values)
        lat0 = float(np.clip(np.median(rings.xy[:, 1]), -80, 80)) if len(rings.xy) else 0.0
        scale = np.array([_M_PER_DEGREE * math.cos(math.radians(lat0)), _M_PER_DEGREE])
        rings.xy = rings.xy * scale
        rings = _cut_steps(rings)
        rings.xy = rings.xy / scale
    return _encoded_geometry_json(rings)


# --------------------------------------------------------------------------- panels


def _notes_html(notes: Sequence[str]) -> str:
    items = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
    return f"<ul>{items}</ul>" if items else ""


def _legend_html(comm: pd.DataFrame, fac: pd.DataFrame, *, has_circles: bool) -> str:
    parts = ["<h3>小区服务状态 Community service status</h3>"]
    for status in SERVICE_STATUSES:
        zh, en = SERVICE_STATUS_LABELS[status]
        parts.append(f"<div>{_swatch(STATUS_COLOURS[status])}{zh} {en}</div>")
    parts.append(
        '<div class="planner-hint">颜色越深, 面积缺口越大 '
        "darker fill = larger floor-area shortfall (m²)</div>"
    )
    if len(fac) > 0:
        parts.append("<h3>养老服务设施 Elderly-care facilities</h3>")
        kinds = [k for k in FACILITY_KINDS if (fac["kind"] == k).any()]
        kinds += sorted(set(fac["kind"].astype(str)) - set(FACILITY_KINDS))
        for kind in kinds:
            zh, en = _kind_label(kind)
            swatch = _swatch(_kind_colour(kind), "planner-dot")
            parts.append(f"<div>{swatch}{html.escape(zh)} {html.escape(en)}</div>")
        parts.append(
            f"<div>{_swatch('#888', 'planner-dot')}现状 existing　"
            f"{_swatch('#fff', 'planner-dot planner-hollow')}规划 planned</div>"
            '<div class="planner-hint">圆点大小表示建筑面积 dot size = floor area (m²)</div>'
        )
    if has_circles:
        parts.append(
            f"<div>{_swatch('transparent', 'planner-ring')}步行圈 walking circle "
            '<span class="planner-hint">(图层默认关闭 layer off by default)</span></div>'
        )
    parts.append(
        '<div class="planner-hint">点击小区或设施查看数据 click a shape for its numbers</div>'
    )
    return "".join(parts)


def _percent(share: Any) -> str:
    """A share 0–1 as a percentage ("61.3%"); the missing mark for NaN/None."""
    if share is None or share is pd.NA or (isinstance(share, float) and math.isnan(share)):
        return _MISSING
    return f"{100 * float(share):.1f}%"


def _targets_html(targets: pd.DataFrame) -> str:
    rows = []
    for t in targets.itertuples(index=False):
        passed = t.passed
        if passed is None or passed is pd.NA or (isinstance(passed, float) and math.isnan(passed)):
            verdict = _MISSING
        elif bool(passed):
            verdict = '<span class="planner-pass">✓ 达标 pass</span>'
        else:
            verdict = '<span class="planner-fail">✗ 未达标 fail</span>'
        rows.append(
            f"<tr><td>{_esc(t.label_zh)}<br>"
            f"<span class='planner-hint'>{_esc(t.label_en)}</span></td>"
            f"<td>{_percent(t.value)}</td><td>≥ {_percent(t.threshold)}</td>"
            f"<td>{verdict}</td></tr>"
        )
    head = (
        "<tr><th>指标 target</th><th>数值 value</th>"
        "<th>要求 threshold</th><th>结果 result</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"
