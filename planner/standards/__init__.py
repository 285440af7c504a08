"""Planning standards as data: load, validate and resolve city profiles.

A profile is a TOML file, one per city, shipped in ``planner/standards/profiles/``
(``national`` is the default that the cities inherit from). A user can pass the path of
their own TOML file, so a new city needs no code. Every value carries its source (document
id, clause and the quoted Chinese text where there is one) and whether it is stated by the
profile, inherited, or an assumption.

Modules: :mod:`~planner.standards.model` (dataclasses), :mod:`~planner.standards.loader`
(files and inheritance), :mod:`~planner.standards.targets` (targets as data),
:mod:`~planner.standards.rules` (status, requirement, circle, sizes),
:mod:`~planner.standards.allocation` (on-site allocation, 配建),
:mod:`~planner.standards.text` (bilingual report lines) and
:mod:`~planner.standards.docs` (docs/standards.md generated from the profiles).

Units: floor area in m² per 100 households (``_m2_per_100hh``), facility sizes in m², land
in m² per resident, circles in minutes, walking speed in m/s.

Examples
--------
>>> from planner.standards import load_profile, required_m2
>>> p = load_profile("jinzhong")
>>> p.area_per_100hh["new"].min_m2, p.area_per_100hh["old"].inherited
(30.0, True)
>>> float(required_m2(250, "old", p))
37.5
"""

from __future__ import annotations

from planner.standards.allocation import ALLOCATION_STATUSES, allocation_status
from planner.standards.loader import list_profiles, load_profile
from planner.standards.model import (
    PROFILE_DIR,
    READINGS,
    UNITS_AS_WRITTEN,
    AreaRule,
    Document,
    FacilityMin,
    KindList,
    Pooling,
    Profile,
    Source,
    Value,
)
from planner.standards.rules import (
    circle_distance_m,
    circle_minutes,
    counts_towards_area,
    facility_minimum_m2,
    few_elderly,
    infer_status,
    range_position,
    required_m2,
    required_m2_per_100hh,
    status_basis,
)
from planner.standards.targets import (
    FILTERS,
    MEASURES,
    TARGET_METRICS,
    TARGET_READINGS,
    UNITS,
    Target,
    due_status,
)

__all__ = [
    "ALLOCATION_STATUSES",
    "FILTERS",
    "MEASURES",
    "PROFILE_DIR",
    "READINGS",
    "TARGET_METRICS",
    "TARGET_READINGS",
    "UNITS",
    "UNITS_AS_WRITTEN",
    "AreaRule",
    "Document",
    "FacilityMin",
    "KindList",
    "Pooling",
    "Profile",
    "Source",
    "Target",
    "Value",
    "allocation_status",
    "circle_distance_m",
    "circle_minutes",
    "counts_towards_area",
    "due_status",
    "facility_minimum_m2",
    "few_elderly",
    "infer_status",
    "list_profiles",
    "load_profile",
    "range_position",
    "required_m2",
    "required_m2_per_100hh",
    "status_basis",
]
