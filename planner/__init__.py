"""planner: whether elderly-care facilities reach the people they serve; the public API.

The public API, in the order of the pipeline (``docs/architecture.md``)::

    import planner

    area = planner.load_study_area("roads.osm.pbf", "小区.xlsx", "设施.csv",
                                   communities_crs="gcj02", facilities_crs="bd09")
    result = planner.assess(area, "jinzhong")          # communities, facilities, targets
    planner.write_outputs(result, area, "out/yuci")    # gpkg, csv, summary.json

    # the reach core: one search, then what-ifs without re-running the pipeline
    sg = planner.StudyGraph.build(area.net, area.communities, area.facilities,
                                  max_distance_m=15 * 60 * 1.0)
    new_rows = sg.copy().add_facilities(proposed)       # searches from the new ones only

Loading
    :func:`load_study_area`, :class:`StudyArea`, :func:`compile_network`,
    :func:`read_communities`, :func:`read_facilities`, :func:`read_gates`.
Profiles
    :func:`load_profile`, :func:`list_profiles`, :class:`Profile`.
Assessing
    :func:`assess`, :class:`Assessment`, :class:`ReachParams`, :func:`assess_coverage`.
Reach core
    :class:`StudyGraph`, :class:`CompiledNetwork`, :func:`compute_reach`,
    :func:`validate_costs`, :func:`circle_pairs`, :func:`facility_circles`.
Units
    :func:`metres_for_minutes`, :func:`minutes_for_metres`.
Outputs
    :func:`write_outputs` (tables, GeoPackages, the map), :func:`gap_map`.
Errors
    :class:`PlannerError`, :class:`InputError`, :class:`MissingColumnError`,
    :class:`CRSError`, :class:`UnknownProfileError`, :class:`NetworkError`.

Names are imported on first use, so ``import planner`` (and ``planner --help``) stays
fast; type checkers see them through the ``TYPE_CHECKING`` block.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from planner._errors import (
    CRSError,
    InputError,
    MissingColumnError,
    NetworkError,
    PlannerError,
    UnknownProfileError,
)
from planner.units import metres_for_minutes, minutes_for_metres

__version__ = "0.1.0"

#: Public name -> module that defines it (imported on first use).
_LAZY = {
    "load_study_area": "planner.pipeline",
    "StudyArea": "planner.pipeline",
    "assess": "planner.pipeline",
    "Assessment": "planner.pipeline",
    "compile_network": "planner.network",
    "read_communities": "planner.io",
    "read_facilities": "planner.io",
    "read_gates": "planner.io",
    "load_profile": "planner.standards",
    "list_profiles": "planner.standards",
    "Profile": "planner.standards",
    "ReachParams": "planner.reach",
    "StudyGraph": "planner.reach",
    "CompiledNetwork": "planner.network.store",
    "compute_reach": "planner.reach",
    "validate_costs": "planner.reach",
    "circle_pairs": "planner.reach",
    "facility_circles": "planner.isochrones",
    "write_outputs": "planner.outputs",
    "gap_map": "planner.maps",
}
_RENAMED = {"assess_coverage": ("planner.coverage", "assess")}

__all__ = [
    "Assessment",
    "CRSError",
    "CompiledNetwork",
    "InputError",
    "MissingColumnError",
    "NetworkError",
    "PlannerError",
    "Profile",
    "ReachParams",
    "StudyArea",
    "StudyGraph",
    "UnknownProfileError",
    "__version__",
    "assess",
    "assess_coverage",
    "circle_pairs",
    "compile_network",
    "compute_reach",
    "facility_circles",
    "gap_map",
    "list_profiles",
    "load_profile",
    "load_study_area",
    "metres_for_minutes",
    "minutes_for_metres",
    "read_communities",
    "read_facilities",
    "read_gates",
    "validate_costs",
    "write_outputs",
]

if TYPE_CHECKING:
    from planner.coverage import assess as assess_coverage
    from planner.io import read_communities, read_facilities, read_gates
    from planner.isochrones import facility_circles
    from planner.maps import gap_map
    from planner.network import compile_network
    from planner.network.store import CompiledNetwork
    from planner.outputs import write_outputs
    from planner.pipeline import Assessment, StudyArea, assess, load_study_area
    from planner.reach import ReachParams, StudyGraph, circle_pairs, compute_reach, validate_costs
    from planner.standards import Profile, list_profiles, load_profile


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _RENAMED:
        module, attr = _RENAMED[name]
        value = getattr(importlib.import_module(module), attr)
    else:
        msg = f"module 'planner' has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
