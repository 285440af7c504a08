"""The one bilingual label table: every coded value with its Chinese and English label.

Reports, maps and profile texts take their labels from here, so one value is named one
way everywhere (``urban`` is 城镇 in every output, never 城市 in one and 城镇 in another).
Readers accept more spellings on input (see :mod:`planner.io.headers`); these are the
labels written out.
"""

from __future__ import annotations

#: ``area_type`` of a community. 城镇 covers city districts and county towns alike (the
#: urban side of the 城镇/农村 split in 001 "城镇社区…农村社区" and 004 "城镇社区"; 000 and
#: 002 write 城市 in the same sense, and readers accept it on input).
AREA_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "urban": ("城镇", "urban"),
    "rural": ("农村", "rural"),
}
#: ``status`` of a community: new-build (新建住宅小区) or old district / built-up, in the
#: policy texts' words: 老城区和已建成居住区 (建标〔2014〕23号; seeds 000, 003, 004; 001
#: writes 旧城区和已建住宅区). 老旧小区 (002) is the renovation programme's word, kept for
#: a renovation project (:data:`PROJECT_STATUS_LABELS`).
COMMUNITY_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新建住宅小区", "new-build"),
    "old": ("老城区、已建成小区", "old district / built-up"),
}
#: ``status`` of a project under check (``planner check-project``): the estate it builds is
#: new-build, or it renovates an old district (老旧小区改造, seeds 002 and 004).
PROJECT_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新建住宅小区", "new-build"),
    "old": ("老旧小区改造项目", "old-district renovation"),
}
#: ``status`` of a facility.
FACILITY_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "existing": ("现状", "existing"),
    "planned": ("规划", "planned"),
}
#: ``kind`` of a facility.
FACILITY_KIND_LABELS: dict[str, tuple[str, str]] = {
    "station": ("社区养老服务站", "community elderly-care station"),
    "day_care": ("日间照料中心", "day-care centre"),
    "street_centre": ("街道养老服务中心", "street elderly-care centre"),
    "township_centre": ("乡镇养老服务中心", "township elderly-care centre"),
    "nursing_home": ("养老院/敬老院", "nursing home"),
    "mutual_aid": ("农村互助点", "rural mutual-aid point"),
    # health services: not elderly-care facilities (no floor-area or coverage count); the care
    # stage checks co-location (三站合一) and the health-plus-care circle (医养结合服务圈)
    "health_centre": ("社区卫生服务中心(站)", "community health centre"),
    "township_hospital": ("乡镇卫生院", "township hospital"),
    "nursing_station": ("护理站", "nursing station"),
}
#: ``service_status`` of a community after the assessment.
SERVICE_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "meets": ("达标", "meets the standard"),
    "below_standard": ("面积不足", "within a circle, floor area below standard"),
    "uncovered": ("未覆盖", "no facility within the walking circle"),
    "unreachable": ("无法到达", "not connected to the walking network"),
}

#: Every table above by the column it labels.
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "area_type": AREA_TYPE_LABELS,
    "status": COMMUNITY_STATUS_LABELS,
    "project_status": PROJECT_STATUS_LABELS,
    "facility_status": FACILITY_STATUS_LABELS,
    "kind": FACILITY_KIND_LABELS,
    "service_status": SERVICE_STATUS_LABELS,
}


def label(column: str, value: str, *, lang: str = "zh") -> str:
    """The label of ``value`` in ``column`` (``lang`` ``zh`` or ``en``); the value if unknown."""
    pair = LABELS.get(column, {}).get(value)
    if pair is None:
        return value
    return pair[0] if lang == "zh" else pair[1]
