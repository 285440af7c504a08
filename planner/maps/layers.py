"""The data layers of the gap map: communities, facilities and walking circles.

Each function returns :class:`Layer` objects: the GeoJSON text of the features (with the
popup text already formatted and escaped, and the few numbers the page styles them by)
and how the page shows them. Styles are computed in the page from those numbers
(``planner/static/gap_map.js``) so the status/shortfall switch is a restyle, not a
second copy of the data.

Feature properties read by the page (``_`` keys are for styling, the rest are popup rows):

- communities: ``_st`` service status, ``_op`` fill opacity by shortfall (0.3–0.85),
  ``_sq`` shortfall class (0 none … 5 largest, :data:`~planner.maps.style.SHORTFALL_BOUNDS_M2`);
- facilities: ``_k`` kind, ``_r`` radius in pixels by √floor area, ``_pl`` planned,
  ``_us`` below the profile's minimum size;
- walking circles: ``_k`` kind.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.maps import style as st
from planner.maps.geojson import (
    collection_json,
    compact_geometry_json,
    encoded_polygons_json,
    feature_texts,
    geometry_json,
)
from planner.schema import FACILITY_KINDS, SERVICE_STATUS_LABELS, SERVICE_STATUSES
from planner.standards import ALLOCATION_STATUSES

#: Fill opacity of communities: no shortfall, and the largest shortfall on the map.
FILL_OPACITY_RANGE = (0.3, 0.85)
#: Radius of facility markers (pixels): smallest and largest floor area on the map.
FACILITY_RADIUS_PX = (5.0, 18.0)


@dataclass
class Layer:
    """One switchable layer of the page.

    Attributes
    ----------
    id
        Unique name, also the CSS class suffix of its shapes (``planner-<id>``).
    group
        ``communities``, ``facilities``, ``circles`` or ``base``.
    kind
        How the page styles it: ``community``, ``facility``, ``circle``, ``street``,
        ``water`` or ``boundary``.
    label
        HTML of its line in the layer control.
    data
        FeatureCollection JSON text.
    show
        Drawn when the page opens.
    popup
        ``(property, label)`` rows of the popup; empty for no popup.
    tooltip
        Property shown on hover.
    count
        Number of features.
    extra
        More settings sent to the page (e.g. ``status``, ``facilityKind``).
    legend
        HTML of the layer's lines in the legend (extra layers, see
        :meth:`planner.maps.GapMap.add_layers`); empty for none. Not sent as data.

    Notes
    -----
    ``kind="styled"`` is the hook for extra layers: each feature carries its own style in
    ``_c`` (line colour), ``_f`` (fill colour, none for no fill), ``_fo`` (fill opacity),
    ``_w`` (line width, px), ``_d`` (dash pattern, e.g. ``"6 4"``) and ``_r`` (radius of
    point markers, px); the page draws it as given, whatever the colouring mode.
    """

    id: str
    group: str
    kind: str
    label: str
    data: str
    show: bool = True
    popup: Sequence[tuple[str, str]] = ()
    tooltip: str | None = None
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    legend: str = ""

    def meta(self) -> dict[str, Any]:
        """Everything but the data, JSON-ready."""
        return {"id": self.id, "group": self.group, "kind": self.kind, "label": self.label,
                "show": self.show, "popup": [list(p) for p in self.popup],
                "tooltip": self.tooltip, "count": self.count, **self.extra}


def swatch(colour: str, extra_class: str = "") -> str:
    """A small coloured square (or dot, ring…) for legends and the layer control."""
    return f'<span class="planner-swatch {extra_class}" style="background:{colour}"></span>'


def _css_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


# --------------------------------------------------------------------------- communities

#: Popup rows of a community: property key and its bilingual label.
COMMUNITY_POPUP = (
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
#: Rows shown only when the column exists: (column, property, label).
COMMUNITY_OPTIONAL = (
    ("standard_range", "range", "标准区间位置 position in the standard's range"),
    ("allocation_status", "allocation", "配建达标 on-site allocation (配建)"),
)


def _community_type(comm: pd.DataFrame) -> list[str]:
    """The type of each community, "status · area type"; each distinct pair joined once."""
    kinds = st.each(st.column(comm, "status"), lambda s: st.label(st.COMMUNITY_STATUS_LABELS, s))
    area = st.each(st.column(comm, "area_type"), lambda a: st.label(st.AREA_TYPE_LABELS, a))
    pairs = list(zip(kinds, area, strict=True))
    text = {p: " · ".join(x for x in p if x != st.MISSING) or st.MISSING
            for p in dict.fromkeys(pairs)}
    return list(map(text.__getitem__, pairs))


def _range_text(value: Any) -> str:
    """``standard_range`` as text: a 0–1 position ("below", "40% into 20–30"), or as given."""
    if st.is_missing(value):
        return st.MISSING
    try:
        x = float(value)
    except (TypeError, ValueError):
        return st.esc(value)
    if x < 0:
        return "低于下限 below the range"
    if x > 1:
        return "高于上限 above the range"
    return f"{100 * x:.0f}% 区间内 into the range"


def community_props(comm: pd.DataFrame, facility_names: dict[str, str]) -> pd.DataFrame:
    """Popup text and style numbers of each community (see the module docstring)."""
    return pd.DataFrame(_community_columns(comm, facility_names), index=comm.index)


def _community_columns(comm: pd.DataFrame, facility_names: dict[str, str]
                       ) -> dict[str, list[Any]]:
    """:func:`community_props` as plain lists (what the GeoJSON is written from)."""
    def nearest(fid: Any) -> str:
        if st.is_missing(fid):
            return "无 none"
        name = facility_names.get(str(fid), "")
        return st.esc(f"{name} ({fid})" if name and name != str(fid) else fid)

    service = {s: st.label(SERVICE_STATUS_LABELS, s) for s in SERVICE_STATUSES}
    shortfall = pd.to_numeric(comm["shortfall_m2"], errors="coerce").clip(lower=0).fillna(0)
    largest = float(shortfall.max()) if len(shortfall) else 0.0
    low, high = FILL_OPACITY_RANGE
    share = shortfall / largest if largest > 0 else shortfall * 0
    props: dict[str, list[Any]] = {
        "name": st.escs(st.names(comm)),
        "id": st.escs(comm.index.astype(str)),
        "households": st.wholes(comm["households"]),
        "status": _community_type(comm),
        "street": st.each(st.column(comm, "street"), st.esc),
        "service": list(map(service.__getitem__, comm["service_status"].tolist())),
        "nearest": st.each(comm["nearest_facility_id"], nearest),
        "minutes": st.nums(comm["nearest_minutes"]),
        "within": st.wholes(comm["facilities_within"]),
        "accessible": st.nums(comm["accessible_m2_per_100hh"]),
        "required": st.nums(comm["required_m2_per_100hh"]),
        "shortfall": st.nums(comm["shortfall_m2"]),
        "_st": comm["service_status"].astype(str).tolist(),
        "_op": np.round(low + (high - low) * share.to_numpy(dtype=float), 2).tolist(),
        "_sq": st.shortfall_class(comm["shortfall_m2"]).tolist(),
    }
    for col, key, _ in COMMUNITY_OPTIONAL:
        if col in comm.columns:
            if col == "standard_range":
                props[key] = st.each(comm[col], _range_text)
            else:
                props[key] = st.each(comm[col], lambda v: st.label(ALLOCATION_STATUSES, v))
    return props


def community_layers(comm: gpd.GeoDataFrame, facility_names: dict[str, str]) -> list[Layer]:
    """One layer per service status present (EPSG:4326 input, display geometry)."""
    props = _community_columns(comm, facility_names)
    popup = COMMUNITY_POPUP + tuple((key, lab) for col, key, lab in COMMUNITY_OPTIONAL
                                    if col in comm.columns)
    features = np.asarray(feature_texts(comm.index.astype(str), props,
                                        compact_geometry_json(comm.geometry.values)),
                          dtype=object)
    layers = []
    for status in SERVICE_STATUSES:
        rows = (comm["service_status"] == status).to_numpy()
        if not rows.any():
            continue
        zh = SERVICE_STATUS_LABELS[status][0]
        layers.append(Layer(
            id=f"status-{status}", group="communities", kind="community",
            label=f"{swatch(st.STATUS_COLOURS[status])}{zh} {status.replace('_', ' ')}"
                  f" ({int(rows.sum())})",
            data=collection_json(features[rows].tolist()),
            popup=popup, tooltip="name", count=int(rows.sum()),
            extra={"status": status},
        ))
    return layers


# --------------------------------------------------------------------------- facilities

FACILITY_POPUP = (
    ("name", "设施 facility"),
    ("id", "编号 ID"),
    ("kind", "类型 kind"),
    ("status", "状态 status"),
    ("floor_area", "建筑面积 floor area m²"),
    ("size", "最小面积 minimum size"),
    ("served", "服务户数 households served"),
    ("per_100hh", "每百户面积 m²/100户 households served"),
)


def _size_text(value: Any) -> str:
    if st.is_missing(value):
        return "无要求 no rule"
    return "✓ 达到 meets" if bool(value) else "✗ 低于最小面积 below the minimum"


def facility_props(fac: pd.DataFrame) -> pd.DataFrame:
    """Popup text and style numbers of each facility (see the module docstring)."""
    area = pd.to_numeric(fac["floor_area_m2"], errors="coerce").clip(lower=0).fillna(0)
    largest = float(area.max()) if len(area) else 0.0
    low, high = FACILITY_RADIUS_PX
    share = np.sqrt(area / largest) if largest > 0 else area * 0
    under = st.column(fac, "meets_min_size").map(
        lambda v: (not st.is_missing(v)) and not bool(v))
    return pd.DataFrame(
        {
            "name": st.escs(st.names(fac)),
            "id": st.escs(fac.index.astype(str)),
            "kind": st.each(fac["kind"], lambda k: st.label(FACILITY_KINDS, k)),
            "status": st.each(st.column(fac, "status"),
                              lambda s: st.label(st.FACILITY_STATUS_LABELS, s)),
            "floor_area": st.nums(fac["floor_area_m2"]),
            "size": st.each(st.column(fac, "meets_min_size"), _size_text),
            "served": st.wholes(st.column(fac, "households_served")),
            "per_100hh": st.nums(st.column(fac, "m2_per_100hh_served")),
            "_k": fac["kind"].astype(str).tolist(),
            "_r": np.round(low + (high - low) * share.to_numpy(dtype=float), 1).tolist(),
            "_pl": (st.column(fac, "status").astype(object) == "planned").tolist(),
            "_us": under.astype(bool).tolist(),
        },
        index=fac.index,
    )


def facility_layers(fac: gpd.GeoDataFrame) -> list[Layer]:
    """One layer per facility kind present (EPSG:4326 point input)."""
    if len(fac) == 0:
        return []
    props = facility_props(fac)
    features = np.asarray(feature_texts(fac.index.astype(str), props,
                                        geometry_json(fac.geometry.values)), dtype=object)
    layers = []
    for kind in st.kinds_present(fac["kind"]):
        rows = (fac["kind"].astype(str) == kind).to_numpy()
        zh, en = st.kind_label(kind)
        n_under = int(props.loc[rows, "_us"].sum())
        under = f", {n_under} 偏小 undersize" if n_under else ""
        layers.append(Layer(
            id=f"kind-{_css_id(kind)}", group="facilities", kind="facility",
            label=f"{swatch(st.kind_colour(kind), 'planner-dot')}{html.escape(zh)} "
                  f"{html.escape(en)} ({int(rows.sum())}{under})",
            data=collection_json(features[rows].tolist()),
            popup=FACILITY_POPUP, tooltip="name", count=int(rows.sum()),
            extra={"facilityKind": kind},
        ))
    return layers


# --------------------------------------------------------------------------- circles


def circle_layers(iso: gpd.GeoDataFrame, facility_names: dict[str, str], *,
                  to_lonlat: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Layer]:
    """Walking circles, one layer per facility kind, off by default.

    The polygons are drawn as given: they arrive simplified from :mod:`planner.isochrones`.
    ``to_lonlat`` turns their coordinates into display lon/lat (default: already lon/lat).
    """
    iso = iso.reset_index(drop=True)
    polygonal = iso.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    iso = iso[polygonal]
    if len(iso) == 0:
        return []
    props = pd.DataFrame({
        "facility": st.each(iso["facility_id"],
                            lambda f: st.esc(facility_names.get(str(f), f))),
        "minutes": st.nums(iso["minutes"]),
        "_k": iso["kind"].astype(str).tolist(),
    }, index=iso.index)
    features = np.asarray(feature_texts(
        iso.index.astype(str), props,
        encoded_polygons_json(iso.geometry.values, to_lonlat=to_lonlat)), dtype=object)
    minutes = "/".join(sorted({st.num(v) for v in iso["minutes"]}))
    layers = []
    for kind in st.kinds_present(iso["kind"]):
        rows = (iso["kind"].astype(str) == kind).to_numpy()
        zh, en = st.kind_label(kind)
        layers.append(Layer(
            id=f"circles-{_css_id(kind)}", group="circles", kind="circle",
            label=f"{swatch('transparent', 'planner-ring')}步行圈 walking circles: "
                  f"{html.escape(zh)} {html.escape(en)} ({minutes} 分钟 min)",
            data=collection_json(features[rows].tolist()),
            show=False, count=int(rows.sum()), extra={"facilityKind": kind},
        ))
    return layers


# --------------------------------------------------------------------------- scenario change

#: Order of the service statuses from best to worst, to say whether a community gains.
STATUS_RANK = {"meets": 0, "below_standard": 1, "uncovered": 2, "unreachable": 3}
CHANGE_POPUP = (
    ("name", "小区 community"),
    ("id", "编号 ID"),
    ("before", "之前 before"),
    ("after", "之后 after"),
    ("shortfall_before", "缺口 shortfall before m²"),
    ("shortfall_after", "缺口 shortfall after m²"),
)


def change_layers(comm: gpd.GeoDataFrame, before: pd.DataFrame) -> list[Layer]:
    """Communities whose service status is better or worse than in ``before``.

    ``comm`` is the later scenario (display geometry), ``before`` the earlier one's
    ``service_status`` and ``shortfall_m2`` by ``community_id``. Drawn as outlines
    (green better, red worse) over the status layers.
    """
    prior = before.reindex(comm.index)
    rank_now = comm["service_status"].map(STATUS_RANK)
    rank_before = prior["service_status"].map(STATUS_RANK)
    service = {s: st.label(SERVICE_STATUS_LABELS, s) for s in SERVICE_STATUSES}
    props = pd.DataFrame({
        "name": st.escs(st.names(comm)),
        "id": st.escs(comm.index.astype(str)),
        "before": [service.get(s, st.MISSING) for s in prior["service_status"].tolist()],
        "after": list(map(service.__getitem__, comm["service_status"].tolist())),
        "shortfall_before": st.nums(prior["shortfall_m2"]),
        "shortfall_after": st.nums(comm["shortfall_m2"]),
    }, index=comm.index)
    features = np.asarray(feature_texts(comm.index.astype(str), props,
                                        compact_geometry_json(comm.geometry.values)),
                          dtype=object)
    layers = []
    for better, rows, zh, en, colour in (
            (True, (rank_now < rank_before).to_numpy(), "改善", "better", "#1a7f37"),
            (False, (rank_now > rank_before).to_numpy(), "变差", "worse", "#c62828")):
        if not rows.any():
            continue
        layers.append(Layer(
            id=f"change-{en}", group="communities", kind="change",
            label=f"{swatch('transparent', 'planner-ring')}<b style='color:{colour}'>"
                  f"{zh} {en}</b> ({int(rows.sum())})",
            data=collection_json(features[rows].tolist()),
            popup=CHANGE_POPUP, tooltip="name", count=int(rows.sum()),
            extra={"better": better}))
    return layers
