"""A small HTML map of one project check: the site, its walking circle, neighbours, facilities.

Self-contained: Leaflet is inlined (:mod:`planner.maps.assets`, no CDN), so the data shows
offline; only the OpenStreetMap basemap tiles need the internet. The walking circle is
drawn as the streets reached from the project's site within its circle minutes (searched
on the district's study graph), not as a straight-line buffer.
"""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.maps import assets
from planner.maps.files import GENERATOR, check_replaceable
from planner.maps.style import STATUS_COLOURS
from planner.project.check import VERDICTS, ProjectCheck
from planner.project.district import SITE_ID, District, project_layers

#: A verdict is drawn in the colour of the service status it resembles (the gap map's table).
_VERDICT_STATUS = {"pass": "meets", "pass_with_conditions": "below_standard",
                   "fail": "uncovered"}


def reached_streets(district: District, check: ProjectCheck) -> shapely.Geometry | None:
    """Streets whose both ends lie within the project's circle of its site (metric CRS)."""
    sg = district.reach.sg  # type: ignore[attr-defined]
    _, _, site = project_layers(check.project, sg.net.pyproj_crs)
    budget = district.circle_m(check.project.area_type)
    sg.add_facilities(site)
    try:
        found = list(sg.facility_searches([SITE_ID], limit_m=budget))
    finally:
        sg.remove_facilities([SITE_ID])
    if not found:
        return None
    _, nodes, dist = found[0]
    reached = np.zeros(sg.net.n_nodes, dtype=bool)
    ok = np.isfinite(dist[0]) & (dist[0] <= budget) & (nodes < sg.net.n_nodes)
    reached[nodes[ok]] = True
    edges = np.flatnonzero(reached[sg.net.edge_u] & reached[sg.net.edge_v])
    if not len(edges):
        return None
    return shapely.multilinestrings(list(sg.net.edge_geoms[edges]))


def project_map(district: District, check: ProjectCheck) -> folium.Map:
    """The map: site (by verdict colour), circle streets, neighbours by status, facilities."""
    crs = district.area.net.pyproj_crs
    p = check.project
    site = gpd.GeoSeries([p.geometry], crs=crs).to_crs(4326)
    centre = site.representative_point().iloc[0]
    m = folium.Map(location=[centre.y, centre.x], zoom_start=15, tiles="OpenStreetMap")
    m.default_js = []
    m.default_css = []
    verdict_colour = STATUS_COLOURS[_VERDICT_STATUS[check.verdict]]
    streets = reached_streets(district, check)
    if streets is not None:
        folium.GeoJson(gpd.GeoSeries([streets], crs=crs).to_crs(4326).__geo_interface__,
                       name="步行圈 walking circle",
                       style_function=lambda _: {"color": "#3182bd", "weight": 3,
                                                 "opacity": 0.6}).add_to(m)
    label = html.escape(f"{p.project_id} {p.name}: {VERDICTS[check.verdict][0]} / "
                        f"{VERDICTS[check.verdict][1]}")
    if p.geometry.geom_type in ("Polygon", "MultiPolygon"):  # a point is the marker below
        folium.GeoJson(site.__geo_interface__, name="项目 project", tooltip=label,
                       style_function=lambda _: {"color": verdict_colour, "weight": 3,
                                                 "fillOpacity": 0.3}).add_to(m)
    folium.CircleMarker([centre.y, centre.x], radius=9, color=verdict_colour, fill=True,
                        fill_opacity=0.9, tooltip=label).add_to(m)
    _communities(m, district, check)
    _facilities(m, district, check)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _points(frame: pd.DataFrame, geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    return geoms.loc[frame.index].representative_point().to_crs(4326)


def _communities(m: folium.Map, district: District, check: ProjectCheck) -> None:
    after = check.changes["status_after"] if len(check.changes) else pd.Series(dtype=object)
    ids = check.neighbours.index.union(after.index)
    base = district.base.communities
    geoms = district.area.communities.geometry
    group = folium.FeatureGroup(name="相邻小区 neighbours (status after)")
    pts = _points(base.loc[ids], geoms)
    for cid, pt in pts.items():
        status = after.get(cid, base.at[cid, "service_status"])
        before = base.at[cid, "service_status"]
        tip = html.escape(f"{cid}: {int(base.at[cid, 'households']):,} 户, {before} → {status}")
        folium.CircleMarker([pt.y, pt.x], radius=6, color=STATUS_COLOURS.get(status, "#555"),
                            fill=True, fill_opacity=0.8, tooltip=tip).add_to(group)
    group.add_to(m)


def _facilities(m: folium.Map, district: District, check: ProjectCheck) -> None:
    fac = district.base.facilities
    ids = [f for f in (*check.shared.index,
                       *(v["facility_id"] for v in check.reach["nearest"].values()))
           if isinstance(f, str) and f in fac.index]
    if not ids:
        return
    group = folium.FeatureGroup(name="现有设施 existing facilities")
    pts = _points(fac.loc[list(dict.fromkeys(ids))], district.area.facilities.geometry)
    for fid, pt in pts.items():
        tip = html.escape(f"{fid} {fac.at[fid, 'kind']} {fac.at[fid, 'floor_area_m2']:,.0f} m²")
        folium.CircleMarker([pt.y, pt.x], radius=8, color="#54278f", weight=4, fill=True,
                            fill_color="#ffffff", fill_opacity=0.9, tooltip=tip).add_to(group)
    group.add_to(m)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one HTML file with Leaflet inlined (works offline but for tiles).

    Raises
    ------
    InputError
        ``path`` is a file the planner did not write (it is left untouched).
    """
    out = check_replaceable(path)
    inline = (f'<meta name="generator" content="{GENERATOR}">\n'
              f"<style>{assets.leaflet_css()}</style>\n<script>{assets.leaflet_js()}</script>\n")
    page = m.get_root().render().replace("<head>", "<head>\n" + inline, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
