"""Column contracts shared by every stage.

These names are the planner's vocabulary. Loaders produce them, the metrics add to
them, the outputs keep them. Units are in the names: ``_m`` metres, ``_m2`` square
metres, ``_minutes`` minutes, ``_m2_per_100hh`` square metres per 100 households.
"""

from __future__ import annotations

from planner._errors import InputError, MissingColumnError
from planner.labels import FACILITY_KIND_LABELS, SERVICE_STATUS_LABELS  # noqa: F401 (re-exported)

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
    "shequ",
    "street_type",
    "county",
    "pooling_group",
    # vulnerable elderly, people (care stage; sensitive: suppressed under 5 in exports)
    "elderly_80plus",
    "living_alone",
    "empty_nest",
    "disabled",
)
#: ``street_type`` of a community's street: 街道 (street, urban) or 乡镇 (township).
STREET_TYPES = ("street", "township")
#: ``status`` of a community: new-build (新建住宅小区) or old/built-up (老城区、已建成小区).
COMMUNITY_STATUSES = ("new", "old")
#: ``area_type`` of a community.
AREA_TYPES = ("urban", "rural")

#: Facilities (养老服务设施): one row per facility.
FACILITY_ID = "facility_id"
FACILITY_REQUIRED = ("facility_id", "kind", "floor_area_m2")
FACILITY_OPTIONAL = ("name", "beds", "status", "street", "shequ", "serves_community_id",
                     "opening_year", "nursing_beds", "level",
                     # care places (people) and the centre that runs a station (care stage)
                     "day_care_places", "home_visit_capacity", "managed_by")
#: ``level`` of a facility in the care network (county 县级, township 乡镇/街道, community 社区).
FACILITY_LEVELS = ("county", "township", "community")
FACILITY_STATUSES = ("existing", "planned")
#: Facility kinds with their Chinese and English labels (:mod:`planner.labels`).
FACILITY_KINDS: dict[str, tuple[str, str]] = FACILITY_KIND_LABELS

#: Service status of a community after the assessment.
SERVICE_STATUSES = ("meets", "below_standard", "uncovered", "unreachable")

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


# ---------------------------------------------------------------------------
# validation of in-memory tables (the contract between stages)


def _check_frame(gdf: object, *, index: str, required: tuple[str, ...], what: str,
                 source: str) -> None:
    """Check index name and required columns; raise MissingColumnError naming the fix."""
    columns = list(getattr(gdf, "columns", []))
    index_name = getattr(getattr(gdf, "index", None), "name", None)
    if not columns and index_name is None:
        msg = f"{source}: {what} must be a GeoDataFrame, got {type(gdf).__name__}."
        raise InputError(msg)
    if index_name != index:
        msg = (f"{source}: {what} must be indexed by {index!r} (index is {index_name!r}); "
               f"use gdf.set_index({index!r}) or the planner.io readers.")
        raise InputError(msg)
    missing = [c for c in (*required, "geometry") if c != index and c not in columns]
    if missing:
        msg = (f"{source}: {what} lack column(s) {', '.join(missing)}. "
               f"Columns found: {', '.join(map(str, columns))}.")
        raise MissingColumnError(msg)
    frame_index = gdf.index  # type: ignore[attr-defined]  # a frame, checked above
    if not frame_index.is_unique:
        dup = frame_index[frame_index.duplicated()][0]
        msg = f"{source}: {what} have duplicate {index} {dup!r}; IDs must be unique."
        raise InputError(msg)


def _check_values(gdf: object, column: str, allowed: tuple[str, ...], source: str) -> None:
    if column not in getattr(gdf, "columns", []):
        return
    values = gdf[column]  # type: ignore[index]
    bad = values.notna() & ~values.isin(allowed)
    if bad.any():
        first = values[bad].index[0]
        msg = (f"{source}: {column} {values[first]!r} (id {first!r}) is not one of "
               f"{', '.join(allowed)}.")
        raise InputError(msg)


def validate_communities(gdf: object, *, source: str = "communities") -> object:
    """Check a communities GeoDataFrame against the contract and return it unchanged.

    Parameters
    ----------
    gdf
        Indexed by ``community_id``; columns :data:`COMMUNITY_REQUIRED` (less the
        index) and ``geometry``; ``households`` > 0; ``status`` in
        :data:`COMMUNITY_STATUSES`, ``area_type`` in :data:`AREA_TYPES` and
        ``street_type`` in :data:`STREET_TYPES` when given.
    source
        Name used in error messages (a file name, for example).

    Returns
    -------
    geopandas.GeoDataFrame
        The same object.

    Raises
    ------
    MissingColumnError
        A required column is missing.
    InputError
        Wrong index, duplicate IDs, or values outside the contract.
    """
    _check_frame(gdf, index=COMMUNITY_ID, required=COMMUNITY_REQUIRED, what="communities",
                 source=source)
    households = gdf["households"]  # type: ignore[index]
    bad = households.isna() | (households <= 0)
    if bad.any():
        first = households[bad].index[0]
        msg = f"{source}: households must be > 0 (community {first!r} has {households[first]!r})."
        raise InputError(msg)
    _check_values(gdf, "status", COMMUNITY_STATUSES, source)
    _check_values(gdf, "area_type", AREA_TYPES, source)
    _check_values(gdf, "street_type", STREET_TYPES, source)
    return gdf


def validate_facilities(gdf: object, *, source: str = "facilities") -> object:
    """Check a facilities GeoDataFrame against the contract and return it unchanged.

    Parameters
    ----------
    gdf
        Indexed by ``facility_id``; columns :data:`FACILITY_REQUIRED` (less the index)
        and ``geometry``; ``kind`` in :data:`FACILITY_KINDS`; ``floor_area_m2`` > 0 m²;
        ``status`` in :data:`FACILITY_STATUSES` and ``level`` in :data:`FACILITY_LEVELS`
        when given.
    source
        Name used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The same object.

    Raises
    ------
    MissingColumnError
        A required column is missing.
    InputError
        Wrong index, duplicate IDs, or values outside the contract.
    """
    _check_frame(gdf, index=FACILITY_ID, required=FACILITY_REQUIRED, what="facilities",
                 source=source)
    _check_values(gdf, "kind", tuple(FACILITY_KINDS), source)
    area = gdf["floor_area_m2"]  # type: ignore[index]
    bad = area.isna() | (area <= 0)
    if bad.any():
        first = area[bad].index[0]
        msg = f"{source}: floor_area_m2 must be > 0 m² (facility {first!r} has {area[first]!r})."
        raise InputError(msg)
    _check_values(gdf, "status", FACILITY_STATUSES, source)
    _check_values(gdf, "level", FACILITY_LEVELS, source)
    return gdf
