"""The care map layer (关爱地图, Wanzhou 002 item 6): vulnerable elderly beside care places.

Two switchable layers for the gap map page (:class:`planner.maps.layers.Layer`, off when
the page opens):

- **vulnerable elderly by community** (a dot per community): red where the vulnerable
  elderly lack care places within the walking circle, green where they have them, grey
  without data; the popup gives the counts *as exported*, small counts already ``"<5"``;
- **care places by facility**: each facility with places, sized by its places, popup with
  places, vulnerable elderly in its circle (suppressed when small), the stations it leads
  and its load.

Only the exported layers (after :func:`planner.care.export_layers`) are drawn, and every
count is checked again before it is put in the page: a count under the threshold raises
instead of reaching the HTML. Give :func:`care_map_layers` of an assessment to
:func:`planner.maps.gap_map` (``extra_layers=``); each layer brings its own style
(``kind="styled"``) and legend lines.
"""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.care.privacy import is_safe
from planner.maps.geojson import features_json, geometry_json
from planner.maps.layers import Layer, swatch

__all__ = ["CARE_COLOURS", "add_care_layers", "care_layers", "care_map_layers"]

#: Colours of the care layers: lacks places, has places, no data; care-place dots.
CARE_COLOURS = {"lacks": "#d73027", "has": "#1a9850", "no_data": "#8c8c8c",
                "places": "#1a9850"}

_COMMUNITY_POPUP = (("name", "小区 community"), ("vulnerable_elderly", "困难老人 vulnerable"),
                    ("elderly_80plus", "高龄 80+"), ("living_alone", "独居 alone"),
                    ("empty_nest", "空巢 empty nest"), ("disabled", "失能 disabled"),
                    ("care_places_per_100_vulnerable", "每百人床位/名额 places per 100"),
                    ("lacks", "缺少服务 lacks places"))
_FACILITY_POPUP = (("name", "设施 facility"), ("kind", "类型 kind"),
                   ("care_places", "床位/名额 places"),
                   ("vulnerable_in_circle", "圈内困难老人 vulnerable in circle"),
                   ("care_places_free", "空余 free places"),
                   ("stations_led", "带站数 stations led"),
                   ("station_load_status", "带站负荷 load"))
_COUNTS = ("vulnerable_elderly", "elderly_80plus", "living_alone", "empty_nest", "disabled",
           "vulnerable_in_circle")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return html.escape(str(value))


def _check(frame: pd.DataFrame, threshold: int) -> None:
    for col in set(_COUNTS) & set(frame.columns):
        bad = [v for v in frame[col] if not is_safe(v, threshold=threshold)]
        if bad:
            msg = (f"care layer: column {col} holds counts under {threshold} ({bad[:3]}); "
                   "pass the exported layers (planner.care.export_layers), not the raw ones")
            raise ValueError(msg)


def _props(frame: pd.DataFrame, rows: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    return pd.DataFrame({c: [_text(v) for v in frame[c]] if c in frame else "–"
                         for c, _ in rows}, index=frame.index)


def care_layers(communities: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                threshold: int = 5) -> list[Any]:
    """The two care layers (see the module docstring), from the exported layers.

    Raises
    ------
    ValueError
        A count under ``threshold`` in the layers (raw, unsuppressed data).
    """
    _check(communities, threshold)
    _check(facilities, threshold)
    comm = communities[communities.get("vulnerable_elderly", pd.Series(
        None, index=communities.index)).notna()].copy()
    lacks = comm.get("lacks_care_places", pd.Series(None, index=comm.index))
    comm["lacks"] = lacks.map({True: "是 yes", False: "否 no"}).fillna("–")
    props = _props(comm, _COMMUNITY_POPUP)
    colour = lacks.map({True: CARE_COLOURS["lacks"], False: CARE_COLOURS["has"]}).fillna(
        CARE_COLOURS["no_data"])
    props["_c"], props["_f"] = "#ffffff", colour.to_numpy()
    props["_fo"], props["_w"], props["_r"] = 0.9, 1.5, 7
    points = comm.geometry.representative_point().to_crs("EPSG:4326")
    n_lacks = int(lacks.fillna(False).astype(bool).sum())
    layers = [Layer(
        id="care-vulnerable", group="communities", kind="styled",
        label=(f"{swatch(CARE_COLOURS['lacks'], 'planner-dot')}关爱地图：困难老人 care map: "
               f"vulnerable elderly ({n_lacks} 缺少服务 lack places)"),
        data=features_json(comm.index.astype(str), props, geometry_json(points.values)),
        show=False, popup=_COMMUNITY_POPUP, tooltip="name", count=len(comm),
        legend=(f"<div>关爱地图 care map: "
                f"{swatch(CARE_COLOURS['lacks'], 'planner-dot')}困难老人缺少床位/名额 "
                f"vulnerable elderly lack places　"
                f"{swatch(CARE_COLOURS['has'], 'planner-dot')}有 have places　"
                f"{swatch(CARE_COLOURS['no_data'], 'planner-dot')}无数据 no data</div>"))]
    places = pd.to_numeric(facilities.get("care_places", pd.Series(0, index=facilities.index)),
                           errors="coerce").fillna(0)
    fac = facilities[places > 0]
    if len(fac):
        fprops = _props(fac, _FACILITY_POPUP)
        size = np.sqrt(places[places > 0].to_numpy())
        fprops["_r"] = 5 + 13 * (size - size.min()) / max(float(np.ptp(size)), 1.0)
        fprops["_c"], fprops["_f"] = CARE_COLOURS["places"], CARE_COLOURS["places"]
        fprops["_fo"], fprops["_w"] = 0.35, 2
        pts = fac.geometry.representative_point().to_crs("EPSG:4326")
        layers.append(Layer(
            id="care-places", group="facilities", kind="styled",
            label=(f"{swatch(CARE_COLOURS['places'], 'planner-dot')}床位与服务名额 "
                   f"care places ({len(fac)})"),
            data=features_json(fac.index.astype(str), fprops, geometry_json(pts.values)),
            show=False, popup=_FACILITY_POPUP, tooltip="name", count=len(fac),
            legend=(f"<div>{swatch(CARE_COLOURS['places'], 'planner-dot')}床位与服务名额 "
                    "care places (圆越大名额越多 larger ring = more places)</div>")))
    return layers


def care_map_layers(result: Any) -> list[Any]:
    """The care layers of an assessment, for ``gap_map(..., extra_layers=...)``.

    ``result`` is a :class:`planner.pipeline.Assessment`; empty when it has no care results.

    Counts under the care rules' ``suppress_below`` raise (see :func:`care_layers`).
    """
    care = getattr(result, "care", None)
    if care is None:
        return []
    return care_layers(result.communities, result.facilities,
                       threshold=int(care.rules["suppress_below"]))


def add_care_layers(gap_map: Any, result: Any) -> Any:
    """Add the care layers to a gap map (:class:`planner.maps.GapMap`), returned.

    Kept for callers that draw the map first; prefer ``gap_map(..., extra_layers=
    care_map_layers(result))``. Nothing is added when the assessment has no care results.
    """
    if gap_map is None:
        return gap_map
    return gap_map.add_layers(care_map_layers(result))
