"""The district a project is checked against, prepared once and reused for every project.

:func:`prepare_district` assesses the district as it is (existing facilities only) and
keeps what the checks need: the :class:`~planner.project.effects.Base` tables and a reach
source that answers, per project, two small questions along the walking network:

* ``to_facilities``: metres from the project's gates (or its boundary, or its point) to
  every existing facility within the search limit;
* ``from_site``: metres from the project's site (its planned facility, or a point inside the
  site when it plans none) to every community within the search limit, project included.

When the reach core's :class:`planner.reach.StudyGraph` is available, the network, the
snapping and the base cost table are built once and each project only searches from its
own points (``add_communities`` / ``add_facilities``). Otherwise each project reruns
:func:`planner.circles.compute_reach` on the district (same answers, slower).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import standards
from planner._errors import InputError
from planner.circles import ReachParams, compute_reach
from planner.pipeline import StudyArea, assess
from planner.project.effects import Base
from planner.project.model import Project
from planner.standards import Profile

log = logging.getLogger("planner")

#: Searches from a project reach this many times its circle, so the nearest facility of a
#: kind is found a little beyond the circle ("more than …" past it).
SEARCH_FACTOR = 2.0
#: Facility id used for a project's site in the searches (never a real facility id).
SITE_ID = "__project_site__"


@dataclass
class ProjectReach:
    """Network answers for one project (see the module docstring)."""

    to_facilities: pd.DataFrame
    from_site: pd.DataFrame


class ReachSource(Protocol):
    """Answers :class:`ProjectReach` for a project."""

    def project_reach(self, project: Project) -> ProjectReach:
        """Metres from the project to facilities and from its site to communities."""
        ...


@dataclass
class District:
    """A district ready for project checks.

    Attributes
    ----------
    area
        The study area (network and layers, metric CRS).
    profile
        The standards profile (with the reading applied).
    params
        Reach parameters (walking speed…).
    base
        The district before any project (:class:`~planner.project.effects.Base`).
    reach
        The reach source used per project.
    search_m
        Search limit of a project's searches, metres.
    notes
        Data notes every report repeats (synthetic sample, points off the network…).
    """

    area: StudyArea
    profile: Profile
    params: ReachParams
    base: Base
    reach: ReachSource
    search_m: float
    notes: list[str] = field(default_factory=list)
    engine: str = "compute_reach"

    def circle_m(self, area_type: str) -> float:
        """A community's circle of this area type, metres."""
        minutes = float(standards.circle_minutes(area_type, self.profile))
        return float(self.params.metres(minutes))

    def check_id(self, project: Project) -> None:
        """Raise InputError when the project's id is that of an existing community."""
        if project.project_id in self.base.communities.index:
            msg = (f"project_id {project.project_id!r} is already a community id in the "
                   "district's communities file; give the project an id of its own.")
            raise InputError(msg)


def prepare_district(
    area: StudyArea,
    profile: Profile,
    *,
    params: ReachParams | None = None,
    engine: str = "auto",
) -> District:
    """Assess the district as it is and prepare the reach source for projects.

    Parameters
    ----------
    area
        From :func:`planner.pipeline.load_study_area`.
    profile
        Standards profile (readings already applied).
    params
        Reach parameters; default the profile's walking speed.
    engine
        ``"auto"`` (the reach core's StudyGraph when present), ``"studygraph"`` or
        ``"compute_reach"``.

    Returns
    -------
    District
    """
    params = params or ReachParams(speed_m_s=profile.walking_speed_m_s.value)
    circle_max = max(float(params.metres(v.value)) for v in profile.circle_minutes.values())
    search_m = SEARCH_FACTOR * circle_max
    use_sg = engine == "studygraph" or (engine == "auto" and _has_studygraph())
    if use_sg:
        from planner.project.sg_reach import studygraph_district  # noqa: PLC0415

        return studygraph_district(area, profile, params, search_m)
    result = assess(area, profile, params=params, isochrones=False)
    base = base_from_assessment(result.communities, result.facilities, result.costs, profile,
                                params)
    return District(area, profile, params, base, _ComputeReach(area, params, search_m),
                    search_m, list(result.summary["notes"]), "compute_reach")


def _has_studygraph() -> bool:
    try:
        from planner.reach import StudyGraph  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def base_from_assessment(
    communities: pd.DataFrame, facilities: pd.DataFrame, costs: pd.DataFrame, profile: Profile,
    params: ReachParams,
) -> Base:
    """The :class:`Base` tables from an assessment's communities, facilities and circle pairs."""
    comm = pd.DataFrame(index=communities.index)
    comm["name"] = communities["name"] if "name" in communities else ""
    for col in ("households", "status", "accessible_m2_per_100hh", "required_m2_per_100hh",
                "required_m2", "accessible_m2", "facilities_within", "service_status"):
        comm[col] = communities[col]
    comm["circle_m"] = params.metres(communities["circle_minutes"].to_numpy(dtype=float))
    fac = facilities[facilities["in_assessment"]] if "in_assessment" in facilities else facilities
    out = pd.DataFrame(index=fac.index)
    out["name"] = fac["name"] if "name" in fac else ""
    out["kind"] = fac["kind"]
    out["floor_area_m2"] = fac["floor_area_m2"].astype(float)
    out["counted"] = fac["kind"].isin(profile.area_counted_kinds.kinds)
    for col in ("households_served", "m2_per_100hh_served"):
        out[col] = fac[col].where(out["counted"]) if col in fac else np.nan
    pairs = costs[costs["facility_id"].isin(out.index[out["counted"]])]
    pairs = pairs[["facility_id", "community_id", "distance_m"]].reset_index(drop=True)
    return Base(comm, out, pairs, params.speed_m_s)


def project_layers(
    project: Project, crs: Any
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame]:
    """The project as a one-row community layer, its gates, and its site as a facility."""
    comm = gpd.GeoDataFrame(
        {"households": [project.households], "name": [project.name or project.project_id],
         "status": [project.status], "area_type": [project.area_type]},
        geometry=[project.geometry], crs=crs,
        index=pd.Index([project.project_id], name="community_id"))
    gates = None
    if project.gates:
        gates = gpd.GeoDataFrame({"community_id": [project.project_id] * len(project.gates)},
                                 geometry=list(project.gates), crs=crs)
    fac = project.facility
    site = gpd.GeoDataFrame(
        {"kind": [fac.kind if fac else "station"],
         "floor_area_m2": [fac.floor_area_m2 if fac else 0.0], "status": ["planned"]},
        geometry=[project.site_point], crs=crs, index=pd.Index([SITE_ID], name="facility_id"))
    return comm, gates, site


class _ComputeReach:
    """Reach source without the reach core: reruns compute_reach per project (slow, exact)."""

    def __init__(self, area: StudyArea, params: ReachParams, search_m: float) -> None:
        self.area = area
        self.params = params
        self.search_minutes = float(params.minutes(search_m))
        fac = area.facilities
        status = fac["status"].fillna("existing") if "status" in fac else None
        self.existing = fac if status is None else fac[status.eq("existing")]

    def project_reach(self, project: Project) -> ProjectReach:
        crs = self.area.net.pyproj_crs
        comm, gates, site = project_layers(project, crs)
        r = compute_reach(self.area.net, comm, self.existing,
                          circle_minutes=np.array([self.search_minutes]), params=self.params,
                          gates=gates)
        to_fac = r.costs[["facility_id", "distance_m"]].reset_index(drop=True)
        all_comm = pd.concat([self.area.communities[[self.area.communities.geometry.name]],
                              comm[[comm.geometry.name]]])
        all_gates = _concat_gates(self.area.gates, gates)
        r2 = compute_reach(self.area.net, all_comm, site,
                           circle_minutes=np.full(len(all_comm), self.search_minutes),
                           params=self.params, gates=all_gates)
        from_site = r2.costs[["community_id", "distance_m"]].reset_index(drop=True)
        return ProjectReach(to_fac, from_site)


def _concat_gates(
    a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    parts = [g[["community_id", g.geometry.name]].rename_geometry("geometry")
             for g in (a, b) if g is not None and len(g)]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                            crs=parts[0].crs)
