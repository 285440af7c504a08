"""The gap map page: :func:`gap_map` assembles layers and panels, :func:`save_map` writes it.

The page is a small template of our own (no folium): the vendored Leaflet, the page's
CSS and script (``planner/static/gap_map.*``), the panels' HTML, and one JSON block with
every layer's data, written once and never passed through a template engine.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from planner._errors import CRSError, InputError, MissingColumnError
from planner.crs import wgs84_to_gcj02
from planner.maps import assets, panels
from planner.maps import style as st
from planner.maps.base import (
    GCJ02_NOTE,
    BaseMap,
    base_layers,
    lonlat_function,
    parse_tiles,
    tile_config,
    to_display,
)
from planner.maps.files import GENERATOR, check_replaceable
from planner.maps.geojson import decoded_geometry, gc_paused, to_json
from planner.maps.layers import (
    Layer,
    change_layers,
    circle_layers,
    community_layers,
    facility_layers,
)
from planner.schema import SERVICE_STATUSES

log = logging.getLogger(__name__)

#: Display simplification of community outlines (metres).
COMMUNITY_SIMPLIFY_M = 1.0
#: Zoom used when the data is a single point.
MAX_FIT_ZOOM = 17
_DATA_OPEN = '<script type="application/json" id="planner-data">'

_COMMUNITY_REQUIRED = (
    "households", "service_status", "nearest_facility_id", "nearest_minutes",
    "facilities_within", "accessible_m2_per_100hh", "required_m2_per_100hh", "shortfall_m2",
)
_FACILITY_REQUIRED = ("kind", "floor_area_m2")
_ISOCHRONE_REQUIRED = ("facility_id", "kind", "minutes")


@dataclass
class GapMap:
    """A gap map ready to write: its panels and layers. Write it with :func:`save_map`.

    In Jupyter it displays inline.
    """

    title: str
    headline: str
    warnings: str
    notes: str
    legend: str
    layers: list[Layer]
    bounds: list[list[float]] | None
    tiles: list[dict[str, Any]] = field(default_factory=list)
    gcj02: bool = False

    def add_layers(self, layers: Sequence[Layer]) -> GapMap:
        """Add extra layers (above the others) and their legend lines; returns the map.

        The hook for layers other stages draw (the care map, what the hills take away):
        each :class:`~planner.maps.layers.Layer` brings its own style (``kind="styled"``
        for per-feature colours) and ``legend`` HTML, shown under "more layers". Their
        data is WGS84 lon/lat; on a map drawn for Amap tiles (``gcj02``) it is shifted to
        GCJ-02 here, like the rest of the page.
        """
        layers = list(layers)
        if not layers:
            return self
        ids = [layer.id for layer in [*self.layers, *layers]]
        clash = sorted({i for i in ids if ids.count(i) > 1})
        if clash:
            msg = f"gap map already has layer(s) {', '.join(clash)}; give extra layers new ids"
            raise ValueError(msg)
        if self.gcj02:
            layers = [replace(layer, data=_shift_to_gcj02(layer.data)) for layer in layers]
        self.layers += layers
        lines = "".join(layer.legend for layer in layers if layer.legend)
        if lines:
            self.legend += (f'<div class="planner-legend-extra"><h3>更多图层 More layers '
                            '<span class="planner-hint">(默认关闭 off by default)</span>'
                            f"</h3>{lines}</div>")
        return self

    def data_json(self) -> str:
        """The page's data block: settings and every layer (JSON text)."""
        return "".join(self._data_parts())

    def _data_parts(self) -> list[str]:
        """:meth:`data_json` in pieces (the layers' data not copied), joined once."""
        config = {
            "title": self.title, "bounds": self.bounds, "maxFitZoom": MAX_FIT_ZOOM,
            "tiles": self.tiles,
            "colours": {"status": st.STATUS_COLOURS, "kind": st.KIND_COLOURS,
                        "otherKind": st.OTHER_KIND_COLOUR, "undersize": st.UNDERSIZE_COLOUR,
                        "shortfall": list(st.SHORTFALL_COLOURS), "street": st.STREET_COLOUR,
                        "water": st.WATER_COLOUR, "boundary": st.BOUNDARY_COLOUR},
        }
        parts = [to_json(config)[:-1] + ',"layers":[']
        for n, layer in enumerate(self.layers):
            parts += [("," if n else "") + to_json(layer.meta())[:-1] + ',"data":',
                      layer.data, "}"]
        parts.append("]}")
        return parts

    def render(self) -> str:
        """The whole page as one self-contained HTML text."""
        title = html.escape(self.title)
        head = "\n".join([
            "<!DOCTYPE html>",
            '<html lang="zh-CN"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="{GENERATOR}">',
            f"<title>{title}</title>",
            f"<style>{assets.leaflet_css()}</style>",
            f"<style>{assets.page_css()}</style>",
            f"<script>{assets.leaflet_js()}</script>",
            "</head><body>",
            '<div id="planner-map"></div>',
            '<div id="planner-headline" class="planner-panel planner-title">'
            f"<details open><summary><h1>{title}</h1></summary>{self.warnings}{self.headline}"
            f"</details>{self.notes}</div>",
            '<div id="planner-legend" class="planner-panel planner-legend">'
            f"<details open><summary><h2>图例 Legend</h2></summary>{self.legend}</details></div>",
            _DATA_OPEN,
        ])
        tail = "\n".join(["</script>", f"<script>{assets.page_js()}</script>", "</body></html>"])
        # one copy of the (tens of MB of) layer data: straight from the layers into the page
        return "".join([head, *self._data_parts(), tail])

    def _repr_html_(self) -> str:
        doc = html.escape(self.render(), quote=True)
        return f'<iframe srcdoc="{doc}" style="width:100%;height:600px;border:none"></iframe>'


def gap_map(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame | None = None,
    *,
    title: str,
    notes: Sequence[str] = (),
    warnings: Sequence[str] = (),
    targets: pd.DataFrame | None = None,
    base: BaseMap | None = None,
    tiles: str | None = "osm",
    basemap: bool = True,
    changes_from: pd.DataFrame | None = None,
    timeline: pd.DataFrame | None = None,
    extra_layers: Sequence[Layer] = (),
) -> GapMap:
    """Draw the coverage gaps of a district as a self-contained web map.

    Parameters
    ----------
    communities
        Assessed communities indexed by ``community_id``, any CRS, polygon or point
        geometry, with ``households`` and the columns the assessment adds:
        ``service_status``, ``nearest_facility_id``, ``nearest_minutes`` (NaN when none),
        ``facilities_within``, ``accessible_m2_per_100hh``, ``required_m2_per_100hh``
        and ``shortfall_m2``; ``name``, ``status``, ``area_type``, ``street``,
        ``standard_range`` and ``allocation_status`` are shown when present.
    facilities
        Facilities indexed by ``facility_id``, point geometry, with ``kind`` and
        ``floor_area_m2``; ``name``, ``status`` (existing/planned), ``meets_min_size``,
        ``households_served`` and ``m2_per_100hh_served`` are shown when present.
    isochrones
        Walking circles with ``facility_id``, ``kind``, ``minutes`` and polygon geometry,
        drawn as given, one layer per kind, off until turned on.
    title
        Shown in the headline and as the page title.
    notes
        Lines behind the notes toggle: the standards profile and how it was read.
    warnings
        Lines shown first and in colour: coordinate or data problems, "synthetic sample".
    targets
        District targets with ``label_zh``, ``label_en``, ``value``, ``threshold`` and
        ``passed`` (and ``due_year``, ``due_status``, ``id`` and ``first_year_met``
        when known: the targets panel then says the year each target is first met).
    base
        Streets, water and boundary drawn under the data (offline).
    tiles
        Online tiles offered as an alternative base: ``"osm"``, ``"amap"`` (the data is
        then shifted to GCJ-02), ``"tianditu:KEY"``, or ``None``. Never shown by default.
    basemap
        ``False`` drops the online tiles (as ``tiles=None``).
    changes_from
        An earlier scenario's ``service_status`` and ``shortfall_m2`` by
        ``community_id``: communities now better or worse are outlined in two more layers.
    timeline
        Targets year by year as planned facilities open (``year``, ``id``, ``value``,
        ``passed``; the assessment's ``timeline``): the targets panel says when each is
        first met, or "not met by <last year>", with the values year by year on hover.
    extra_layers
        More layers drawn above the rest, each with its style and legend lines (see
        :meth:`GapMap.add_layers`): e.g. :func:`planner.maps.care.care_map_layers`.

    Raises
    ------
    MissingColumnError
        When an input lacks a column listed above.
    CRSError
        When an input has no CRS.
    InputError
        When a ``service_status`` is not one of the four statuses, or ``tiles`` is unknown.
    """
    _check_columns(communities, _COMMUNITY_REQUIRED, "communities")
    _check_columns(facilities, _FACILITY_REQUIRED, "facilities")
    _check_statuses(communities)
    with gc_paused():
        return _gap_map(communities, facilities, isochrones, title=title, notes=notes,
                        warnings=warnings, targets=targets, base=base, tiles=tiles,
                        basemap=basemap, changes_from=changes_from, timeline=timeline,
                        extra_layers=extra_layers)


def _gap_map(communities: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
             isochrones: gpd.GeoDataFrame | None, *, title: str, notes: Sequence[str],
             warnings: Sequence[str], targets: pd.DataFrame | None, base: BaseMap | None,
             tiles: str | None, basemap: bool, changes_from: pd.DataFrame | None,
             timeline: pd.DataFrame | None, extra_layers: Sequence[Layer]) -> GapMap:
    """:func:`gap_map` once its inputs are checked."""
    provider, key = parse_tiles(tiles if basemap else None)
    gcj02 = provider == "amap"
    comm = _display(communities, "communities", COMMUNITY_SIMPLIFY_M, gcj02)
    fac = _display(facilities, "facilities", 0.0, gcj02)
    names = dict(zip(facilities.index.astype(str), st.names(facilities), strict=True))
    layers = base_layers(base, gcj02=gcj02) if base is not None else []
    has_circles = False
    if isochrones is not None and len(isochrones) > 0:
        _check_columns(isochrones, _ISOCHRONE_REQUIRED, "isochrones")
        iso = _drawable(isochrones, "isochrones")
        circles = circle_layers(iso, names, to_lonlat=lonlat_function(iso.crs, gcj02=gcj02))
        has_circles = bool(circles)
        layers += circles
    layers += community_layers(comm, names)
    if changes_from is not None:
        _check_columns(changes_from, ("service_status", "shortfall_m2"), "changes_from")
        layers += change_layers(comm, changes_from)
    layers += facility_layers(fac)
    warnings = [*warnings, GCJ02_NOTE] if gcj02 else list(warnings)
    m = GapMap(
        title=title,
        headline=panels.headline_html(comm, targets, timeline),
        warnings=panels.warnings_html(warnings),
        notes=panels.notes_html(notes),
        legend=panels.legend_html(comm, fac, has_circles=has_circles,
                                  has_base=any(x.group == "base" for x in layers)),
        layers=layers,
        bounds=_bounds([comm, fac]),
        tiles=tile_config(provider, key),
        gcj02=gcj02,
    )
    m.add_layers(extra_layers)
    log.info("gap map %r: %d communities, %d facilities, %d layers", title, len(comm), len(fac),
             len(layers))
    return m


def save_map(m: GapMap, path: str | Path) -> Path:
    """Write ``m`` as one self-contained HTML file (parent folders are created).

    Raises
    ------
    InputError
        When the page would load a script or stylesheet from the internet, or ``path``
        is a file the planner did not write.
    """
    text = m.render()
    # the data block cannot load anything (JSON, "<" written as \u003c): scan the rest
    start = text.find(_DATA_OPEN)
    end = text.find("</script>", start) if start >= 0 else -1
    external = assets.external_assets(text if end < 0 else text[:start] + text[end:])
    if external:
        msg = (f"the map links {len(external)} external script(s)/stylesheet(s) that will "
               f"not load offline: {', '.join(external)}")
        raise InputError(msg)
    out = check_replaceable(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    log.info("wrote %s (%s bytes)", out, f"{out.stat().st_size:,}")
    return out


def _shift_to_gcj02(data: str) -> str:
    """A FeatureCollection's JSON text (WGS84 lon/lat) shifted to GCJ-02 (Amap tiles).

    Encoded polylines come back as plain coordinates (extra layers are small).
    """
    collection = json.loads(data)

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    for feature in collection["features"]:
        geom = shapely.geometry.shape(decoded_geometry(feature["geometry"]))
        feature["geometry"] = json.loads(shapely.to_geojson(shapely.transform(geom, move)))
    return to_json(collection)


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{what} lacks column(s) {', '.join(missing)} needed for the gap map"
        raise MissingColumnError(msg)


def _check_statuses(communities: pd.DataFrame) -> None:
    unknown = sorted(set(communities["service_status"].dropna()) - set(SERVICE_STATUSES))
    if unknown or communities["service_status"].isna().any():
        msg = (f"communities has service_status {unknown or ['<missing>']}; "
               f"expected one of {', '.join(SERVICE_STATUSES)}")
        raise InputError(msg)


def _display(gdf: gpd.GeoDataFrame, what: str, simplify_m: float, gcj02: bool
             ) -> gpd.GeoDataFrame:
    """The rows with a geometry, in EPSG:4326 display geometry (see ``base.to_display``)."""
    gdf = _drawable(gdf, what)
    shown = to_display(gdf.geometry, simplify_m=simplify_m, gcj02=gcj02)
    return gdf.set_geometry(gpd.GeoSeries(shown.values, index=gdf.index, crs=4326))


def _drawable(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """The rows with a geometry; raises when ``gdf`` has no CRS."""
    if gdf.crs is None:
        msg = f"{what} has no CRS; declare it when loading (e.g. EPSG:32649)"
        raise CRSError(msg)
    drawable = gdf.geometry.notna() & ~gdf.geometry.is_empty
    if not drawable.all():
        log.warning("%s: %d row(s) without geometry are not drawn", what, int((~drawable).sum()))
        return gdf[drawable]
    return gdf


def _bounds(frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]] | None:
    frames = [f for f in frames if len(f) > 0]
    if not frames:
        return None
    b = np.array([f.total_bounds for f in frames])
    return [[float(b[:, 1].min()), float(b[:, 0].min())],
            [float(b[:, 3].max()), float(b[:, 2].max())]]
