"""What the hills take away, on the gap map: the flat walk beside the terrain walk.

When a run has a DEM (``planner run --dem``) the same district is also walked flat, and
three layers (off when the page opens, each with its legend line) show the difference:

- **communities that lose coverage** (inside a walking circle on the flat, outside with
  terrain): a thick dashed red outline, popup with minutes flat and with terrain;
- **circle area lost** per facility: the flat circle minus the terrain circle, filled
  brown, popup with both areas (m²) and the share lost;
- **flat circles**: the flat walking circles' outlines (dashed grey), to set against the
  terrain circles of the ordinary circle layers.

Numbers come from :mod:`planner.terrain.compare`; this module only draws them. Use
:func:`hills_layers` with two assessments, or :func:`hills_map_layers` to run the flat one.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.maps import style as st
from planner.maps.geojson import compact_geometry_json, features_json
from planner.maps.layers import Layer, swatch
from planner.terrain.compare import compare_circles, compare_communities, summary_lines

__all__ = ["HILLS_COLOURS", "hills_layers", "hills_map_layers"]

#: Colours: communities losing coverage, circle area lost, flat circle outline.
HILLS_COLOURS = {"lost_community": "#c62828", "lost_area": "#8c510a",
                 "flat_circle": "#555555"}
_COMMUNITY_POPUP = (("name", "小区 community"), ("households", "户数 households"),
                    ("flat", "平地步行分钟 minutes, flat"),
                    ("terrain", "考虑地形分钟 minutes with terrain"),
                    ("added", "增加分钟 minutes added"),
                    ("status", "服务状态 平地→地形 status flat → terrain"))
_AREA_POPUP = (("facility", "设施 facility"), ("flat", "平地步行圈 flat circle m²"),
               ("terrain", "地形步行圈 terrain circle m²"),
               ("lost", "减少 area lost m²"), ("share", "减少比例 share lost"))


def _by_facility(iso: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """One (unioned) circle per ``facility_id``, in the layer's CRS."""
    ids = iso["facility_id"].astype(str) if "facility_id" in iso else iso.index.astype(str)
    merged = iso.geometry.groupby(ids.to_numpy()).agg(lambda g: shapely.union_all(g.values))
    return gpd.GeoSeries(merged.values, index=merged.index.astype(str), crs=iso.crs)


def hills_layers(
    flat_communities: pd.DataFrame,
    terrain_communities: gpd.GeoDataFrame,
    flat_isochrones: gpd.GeoDataFrame | None = None,
    terrain_isochrones: gpd.GeoDataFrame | None = None,
    facility_names: dict[str, str] | None = None,
) -> list[Layer]:
    """The three "what the hills take away" layers (module docstring), off by default.

    Parameters
    ----------
    flat_communities, terrain_communities
        Community results of the flat and the terrain assessment, indexed by
        ``community_id``, with ``households``, ``nearest_minutes`` and
        ``service_status``; geometry (any CRS) from ``terrain_communities``.
    flat_isochrones, terrain_isochrones
        Walking circles (``facility_id``, polygons, metric CRS) of both; None for no
        circle layers.
    facility_names
        Names shown in popups by ``facility_id``.

    Returns
    -------
    list of Layer
        ``kind="styled"`` layers with their legend lines, for ``gap_map(extra_layers=…)``;
        a layer with nothing to show is left out.
    """
    names = facility_names or {}
    layers: list[Layer] = []
    cmp = compare_communities(flat_communities, terrain_communities)
    lost = cmp[cmp["lost_circle"]]
    if len(lost):
        geo = terrain_communities.geometry.reindex(lost.index)
        colour = HILLS_COLOURS["lost_community"]
        name = terrain_communities.get("name", pd.Series(dtype=object)).reindex(lost.index)
        props = pd.DataFrame({
            "name": [st.esc(n) if not st.is_missing(n) else st.esc(i)
                     for i, n in zip(lost.index, name, strict=True)],
            "households": st.each(lost["households"], st.whole),
            "flat": st.each(lost["nearest_minutes_flat"], st.num),
            "terrain": st.each(lost["nearest_minutes_terrain"], st.num),
            "added": st.each(lost["minutes_added"], st.num),
            "status": [f"{st.esc(a)} → {st.esc(b)}" for a, b in
                       zip(lost["service_status_flat"], lost["service_status_terrain"],
                           strict=True)],
            "_c": colour, "_w": 3.5, "_d": "6 4", "_f": colour, "_fo": 0.15, "_r": 9,
        }, index=lost.index)
        shown = gpd.GeoSeries(geo.values, crs=terrain_communities.crs).to_crs(4326)
        geoms = compact_geometry_json(shown.values)
        hh = st.whole(lost["households"].sum())
        layers.append(Layer(
            id="hills-lost-communities", group="communities", kind="styled",
            label=(f"{swatch('transparent', 'planner-ring')}地形使其失去覆盖的小区 "
                   f"communities losing coverage with terrain ({len(lost)}, {hh} 户 hh)"),
            data=features_json(lost.index.astype(str), props, geoms), show=False,
            popup=_COMMUNITY_POPUP, tooltip="name", count=len(lost),
            legend=(f"<div>{swatch(colour, 'planner-dot')}因坡度和台阶失去步行圈覆盖的小区 "
                    "communities inside a flat walking circle but outside with terrain</div>")))
    if flat_isochrones is None or terrain_isochrones is None or len(flat_isochrones) == 0:
        return layers
    flat = _by_facility(flat_isochrones)
    hilly = _by_facility(terrain_isochrones.to_crs(flat.crs)).reindex(flat.index)
    circles = compare_circles(
        gpd.GeoDataFrame({"facility_id": flat.index}, geometry=flat.values, crs=flat.crs),
        gpd.GeoDataFrame({"facility_id": flat.index},
                         geometry=[g if g is not None else shapely.Polygon() for g in hilly],
                         crs=flat.crs))
    gone = shapely.difference(flat.values, np.array(
        [g if g is not None else shapely.Polygon() for g in hilly.values], dtype=object))
    gone_m2 = shapely.area(gone)
    keep = gone_m2 > 0.5  # m²: below that, numerical noise of the difference
    if keep.any():
        ids = flat.index[keep]
        props = pd.DataFrame({
            "facility": [st.esc(names.get(i, i)) for i in ids],
            "flat": st.each(circles.loc[ids, "circle_area_m2_flat"], st.whole),
            "terrain": st.each(circles.loc[ids, "circle_area_m2_terrain"].fillna(0), st.whole),
            "lost": st.each(pd.Series(gone_m2[keep], index=ids), st.whole),
            "share": st.each(circles.loc[ids, "area_lost_share"], st.percent),
            "_c": HILLS_COLOURS["lost_area"], "_w": 0.5, "_f": HILLS_COLOURS["lost_area"],
            "_fo": 0.45,
        }, index=ids)
        shown = gpd.GeoSeries(gone[keep], crs=flat.crs).to_crs(4326)
        layers.append(Layer(
            id="hills-lost-area", group="circles", kind="styled",
            label=(f"{swatch(HILLS_COLOURS['lost_area'])}地形减少的步行圈面积 circle area "
                   f"lost to terrain ({int(keep.sum())} 设施 facilities)"),
            data=features_json(ids, props, compact_geometry_json(shown.values)),
            show=False, popup=_AREA_POPUP, tooltip="facility", count=int(keep.sum()),
            legend=(f"<div>{swatch(HILLS_COLOURS['lost_area'])}平地步行圈中地形走不到的部分 "
                    "part of the flat walking circle out of reach with terrain</div>")))
    shown = flat.to_crs(4326)
    props = pd.DataFrame({"facility": [st.esc(names.get(i, i)) for i in flat.index],
                          "_c": HILLS_COLOURS["flat_circle"], "_w": 1.5, "_d": "4 4"},
                         index=flat.index)
    layers.append(Layer(
        id="hills-flat-circles", group="circles", kind="styled",
        label=(f"{swatch('transparent', 'planner-ring')}平地步行圈 flat walking circles "
               "(不计地形 without terrain)"),
        data=features_json(flat.index, props, compact_geometry_json(shown.values)),
        show=False, tooltip="facility", count=len(flat),
        legend=(f"<div>{swatch(HILLS_COLOURS['flat_circle'], 'planner-line')}平地步行圈轮廓 "
                "flat walking circle outline (terrain circles: the walking-circle layers)"
                "</div>")))
    return layers


def hills_map_layers(area: Any, terrain_result: Any, profile: Any, *, params: Any,
                     include_planned: bool = False, as_of: int | None = None
                     ) -> tuple[list[Layer], list[str]]:
    """Walk the district flat as well and draw what the hills take away.

    Parameters
    ----------
    area
        The study area with its ``terrain`` (:class:`planner.pipeline.StudyArea`);
        unchanged.
    terrain_result
        Its assessment with terrain (:func:`planner.pipeline.assess`).
    profile, params, include_planned, as_of
        As given to that assessment.

    Returns
    -------
    tuple of (list of Layer, list of str)
        The layers of :func:`hills_layers` (empty without terrain) and the comparison's
        summary lines (:func:`planner.terrain.compare.summary_lines`) for the notes.
    """
    from dataclasses import replace  # noqa: PLC0415

    from planner.pipeline import assess  # noqa: PLC0415

    if getattr(area, "terrain", None) is None:
        return [], []
    flat = assess(replace(area, terrain=None), profile, params=params,
                  include_planned=include_planned, isochrones=True, as_of=as_of)
    fac = terrain_result.facilities
    names = dict(zip(fac.index.astype(str), st.names(fac), strict=True))
    layers = hills_layers(flat.communities, terrain_result.communities, flat.isochrones,
                          terrain_result.isochrones, names)
    cmp = compare_communities(flat.communities, terrain_result.communities)
    circles = (compare_circles(flat.isochrones, terrain_result.isochrones)
               if flat.isochrones is not None and terrain_result.isochrones is not None
               and len(flat.isochrones) else None)
    lines = [f"地形影响 terrain: {line}" for line in summary_lines(cmp, circles)]
    return layers, lines
