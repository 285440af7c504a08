"""A before/after map of two scenarios: one self-contained HTML page, no CDN.

Communities are drawn as circles (area ∝ households) coloured by service status, once
for the scenario before and once after (switch between them in the layer control);
communities whose status changes are outlined, new facilities are drawn as squares and
closed ones in grey. Leaflet is inlined from ``planner/static`` so the page opens
offline; the OpenStreetMap basemap needs internet, the data does not.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.maps.assets import leaflet_css, leaflet_js
from planner.maps.style import STATUS_COLOURS  # the gap map's palette, one table
from planner.scenarios.evaluate import ScenarioResult
from planner.schema import SERVICE_STATUS_LABELS


class BeforeAfterMap:
    """An HTML page; shows inline in Jupyter, :meth:`save` writes it."""

    def __init__(self, page: str) -> None:
        self.html = page

    def save(self, path: str | Path) -> Path:
        """Write the page (UTF-8) and return its path."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html)}" style="width:100%;height:520px;'
                'border:none"></iframe>')


def _points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return frame.geometry.representative_point().to_crs(4326)


def _community_features(result: ScenarioResult, other: ScenarioResult | None) -> list[dict]:
    comm = result.communities
    pts = _points(comm)
    status = comm["service_status"].astype(str)
    ref = other.communities["service_status"].reindex(comm.index) if other is not None else None
    feats = []
    for i, cid in enumerate(comm.index):
        s = status.iat[i]
        label_zh, label_en = SERVICE_STATUS_LABELS.get(s, (s, s))
        was = None if ref is None else ref.iat[i]
        changed = ref is not None and str(was) != s
        name = comm["name"].iat[i] if "name" in comm else cid
        hh = int(comm["households"].iat[i])
        feats.append({
            "x": round(float(pts.iat[i].x), 6), "y": round(float(pts.iat[i].y), 6),
            "c": STATUS_COLOURS.get(s, "#333"), "r": round(float(2 + np.sqrt(hh) / 6), 1),
            "o": bool(changed),
            "p": (f"<b>{html.escape(str(name))}</b> ({html.escape(str(cid))})<br>{hh:,} 户 "
                  f"households<br>{label_zh} / {label_en}<br>"
                  f"{comm['accessible_m2_per_100hh'].iat[i]:.1f} m² per 100 households "
                  f"(standard {comm['required_m2_per_100hh'].iat[i]:.0f})"
                  + (f"<br><i>was: {html.escape(str(was))}</i>" if changed else "")),
        })
    return feats


def _facility_features(fac: gpd.GeoDataFrame, colour: str, square: bool) -> list[dict]:
    if len(fac) == 0:
        return []
    pts = _points(fac)
    return [{"x": round(float(p.x), 6), "y": round(float(p.y), 6), "c": colour, "s": square,
             "p": f"<b>{html.escape(str(fid))}</b> {html.escape(str(fac['kind'].iat[i]))}, "
                  f"{float(fac['floor_area_m2'].iat[i]):,.0f} m²"}
            for i, (fid, p) in enumerate(zip(fac.index, pts, strict=True))]


def before_after_map(before: ScenarioResult, after: ScenarioResult, *,
                     title: str | None = None) -> BeforeAfterMap:
    """Map two scenarios: status before and after, changes outlined, new facilities.

    Parameters
    ----------
    before, after
        Assessed scenarios (see :meth:`planner.scenarios.Scenario.result`).
    title
        Page title; by default "before → after".

    Returns
    -------
    BeforeAfterMap
    """
    title = title or f"{before.name} → {after.name}"
    fb, fa = before.facilities, after.facilities
    active_b = fb[fb["in_assessment"]] if "in_assessment" in fb else fb
    active_a = fa[fa["in_assessment"]] if "in_assessment" in fa else fa
    new = active_a.loc[active_a.index.difference(active_b.index)]
    closed = active_b.loc[active_b.index.difference(active_a.index)]
    kept = active_a.loc[active_a.index.intersection(active_b.index)]
    data: dict[str, Any] = {
        "before": _community_features(before, None),
        "after": _community_features(after, before),
        "facilities": _facility_features(kept, "#2b5fad", False),
        "new": _facility_features(new, "#7b3294", True),
        "closed": _facility_features(closed, "#999999", True),
        "names": [before.name, after.name],
    }
    allpts = _points(after.communities)
    bounds = [[float(allpts.y.min()), float(allpts.x.min())],
              [float(allpts.y.max()), float(allpts.x.max())]] if len(allpts) else None
    legend = "".join(
        f'<div><span style="background:{c};display:inline-block;width:10px;height:10px;'
        f'border-radius:5px"></span> {SERVICE_STATUS_LABELS[s][0]} / {s}</div>'
        for s, c in STATUS_COLOURS.items())
    legend += ('<div>■ <span style="color:#7b3294">new facility 新增设施</span> · '
               '<span style="color:#999">closed 关闭</span></div>'
               '<div>outlined: status changed</div>')
    return BeforeAfterMap(_PAGE.format(
        title=html.escape(title), css=leaflet_css(), js=leaflet_js(),
        data=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"),
        bounds=json.dumps(bounds), legend=legend))


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style>
<style>html,body,#map{{height:100%;margin:0}} .box{{position:absolute;z-index:1000;
background:#fff;padding:6px 8px;font:12px sans-serif;border-radius:4px;
box-shadow:0 0 4px #888}} #title{{top:8px;left:50px}} #legend{{bottom:20px;left:8px}}</style>
</head><body><div id="map"></div><div id="title" class="box"><b>{title}</b></div>
<div id="legend" class="box">{legend}</div>
<script>{js}</script>
<script>
var D = {data};
var map = L.map('map', {{preferCanvas: true}});
L.tileLayer('https://{{s}}.tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png',
  {{maxZoom: 19, attribution: '&copy; OpenStreetMap'}}).addTo(map);
function circles(list) {{
  var g = L.layerGroup();
  list.forEach(function (f) {{
    L.circleMarker([f.y, f.x], {{radius: f.r, color: f.o ? '#000' : f.c, weight: f.o ? 2.5 : 1,
      fillColor: f.c, fillOpacity: 0.75}}).bindPopup(f.p).addTo(g);
  }});
  return g;
}}
function sites(list) {{
  var g = L.layerGroup();
  list.forEach(function (f) {{
    var d = 0.00045;
    (f.s ? L.rectangle([[f.y - d, f.x - d], [f.y + d, f.x + d]], {{color: f.c, weight: 2,
      fillOpacity: 0.8}}) : L.circleMarker([f.y, f.x], {{radius: 5, color: f.c,
      fillOpacity: 0.9}})).bindPopup(f.p).addTo(g);
  }});
  return g;
}}
var before = circles(D.before), after = circles(D.after);
var base = {{}};
base['before: ' + D.names[0]] = before;
base['after: ' + D.names[1]] = after;
after.addTo(map);
var over = {{'facilities': sites(D.facilities).addTo(map),
  'new facilities': sites(D['new']).addTo(map),
  'closed facilities': sites(D.closed).addTo(map)}};
L.control.layers(base, over, {{collapsed: false}}).addTo(map);
var b = {bounds};
if (b) {{ map.fitBounds(b, {{padding: [20, 20]}}); }} else {{ map.setView([35, 105], 4); }}
</script></body></html>
"""


def changed_communities(before: ScenarioResult, after: ScenarioResult) -> pd.Index:
    """Ids of communities whose service status differs (added ones included)."""
    b = before.communities["service_status"]
    a = after.communities["service_status"]
    return a.index[a.ne(b.reindex(a.index))]
