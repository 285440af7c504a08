"""Column contracts shared by every stage.

These names are the planner's vocabulary. Loaders produce them, the metrics add to
them, the outputs keep them. Units are in the names: ``_m`` metres, ``_m2`` square
metres, ``_minutes`` minutes, ``_m2_per_100hh`` square metres per 100 households.
"""

from __future__ import annotations

#: Communities (小区): one row per residential community.
COMMUNITY_ID = "community_id"
COMMUNITY_REQUIRED = ("community_id", "households")
COMMUNITY_OPTIONAL = (
    "name",
    "residents",
    "elderly",
    "completion_year",
    "status",
    "area_type",
    "street",
)
#: ``status`` of a community: new-build (新建住宅小区) or old/built-up (老城区、已建成小区).
COMMUNITY_STATUSES = ("new", "old")
#: ``area_type`` of a community.
AREA_TYPES = ("urban", "rural")

#: Facilities (养老服务设施): one row per facility.
FACILITY_ID = "facility_id"
FACILITY_REQUIRED = ("facility_id", "kind", "floor_area_m2")
FACILITY_OPTIONAL = ("name", "beds", "status", "street")
FACILITY_STATUSES = ("existing", "planned")
#: Facility kinds with their Chinese and English labels.
FACILITY_KINDS: dict[str, tuple[str, str]] = {
    "station": ("社区养老服务站", "community elderly-care station"),
    "day_care": ("日间照料中心", "day-care centre"),
    "street_centre": ("街道养老服务中心", "street elderly-care centre"),
    "township_centre": ("乡镇养老服务中心", "township elderly-care centre"),
    "nursing_home": ("养老院/敬老院", "nursing home"),
    "mutual_aid": ("农村互助点", "rural mutual-aid point"),
}

#: Service status of a community after the assessment.
SERVICE_STATUSES = ("meets", "below_standard", "uncovered", "unreachable")
SERVICE_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "meets": ("达标", "meets the standard"),
    "below_standard": ("面积不足", "within a circle, floor area below standard"),
    "uncovered": ("未覆盖", "no facility within the walking circle"),
    "unreachable": ("无法到达", "not connected to the walking network"),
}

#: Columns the assessment adds to communities (the output contract).
COMMUNITY_RESULT_COLUMNS = (
    "access_points",
    "snap_distance_m",
    "network_component",
    "circle_minutes",
    "nearest_facility_id",
    "nearest_minutes",
    "facilities_within",
    "accessible_m2",
    "accessible_m2_per_100hh",
    "required_m2_per_100hh",
    "required_m2",
    "shortfall_m2",
    "service_status",
)
