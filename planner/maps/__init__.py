"""Gap maps: the assessment drawn for planning meetings, on screen and on paper.

This package only presents results that other stages computed: it reads the columns
:mod:`planner.coverage` and :mod:`planner.gaps` add, and never derives a metric.

Modules, one job each:

- :mod:`~planner.maps.page`: :func:`gap_map` assembles a self-contained web page
  (Leaflet inlined, no CDN, a small template of our own) and :func:`save_map` writes it;
- :mod:`~planner.maps.layers`: communities by status or shortfall, facilities by kind and
  floor area (under-size marked), walking circles per kind;
- :mod:`~planner.maps.base`: the offline base (the study area's own streets, water,
  boundary) and optional online tiles (OpenStreetMap, Tianditu, Amap with GCJ-02 shift);
- :mod:`~planner.maps.panels`: headline, notes and legend;
- :mod:`~planner.maps.geojson`: compact GeoJSON text (encoded polylines for big layers);
- :mod:`~planner.maps.assets`: the inlined Leaflet and page script/stylesheet;
- :mod:`~planner.maps.printing`: the static map (PNG/PDF) with matplotlib;
- :mod:`~planner.maps.style`: colours, bilingual labels and number formats.
"""

from __future__ import annotations

from planner.maps.assets import external_assets
from planner.maps.base import BaseMap, osm_outlines, read_outline, street_lines
from planner.maps.page import GapMap, gap_map, save_map

__all__ = [
    "BaseMap",
    "GapMap",
    "external_assets",
    "gap_map",
    "osm_outlines",
    "read_outline",
    "save_map",
    "street_lines",
]
