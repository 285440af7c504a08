"""The district a project is checked against, prepared once and reused for every project.

:func:`prepare_district` assesses the district as it is (existing facilities only) and
keeps what the checks need: the :class:`~planner.project.effects.Base` tables and a reach
source that answers, per project, two small questions along the walking network:

* ``to_facilities``: metres from the project's gates (or its boundary, or its point) to
  every existing facility within the search limit;
* ``from_site``: metres from the project's site (its planned facility, or a point inside the
  site when it plans none) to every community within the search limit, project included.

The reach core's :class:`planner.reach.StudyGraph` builds the network, the snapping and
the base cost table once; each project only searches from its own points
(``add_communities`` / ``add_facilities``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import standards
from planner._errors import InputError
from planner.circles import ReachParams
from planner.coverage import assess as assess_coverage
from planner.coverage import facility_shares
from planner.pipeline import StudyArea
from planner.project.effects import Base
from planner.project.model import Project
from planner.reach import StudyGraph
from planner.schema import validate_communities, validate_facilities
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
    access_points: int = 1
    site_snapped: bool = True


class ReachSource(Protocol):
    """Answers :class:`ProjectReach` for a project, or for many at once."""

    def project_reach(self, project: Project) -> ProjectReach:
        """Metres from the project to facilities and from its site to communities."""
        ...

    def projects_reach(self, projects: list[Project]) -> dict[str, ProjectReach]:
        """The same for many projects, by project id."""
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
    terrain
        What the walk assumed about hills and stairs (``dem``: the DEM's file name or
        ``None``, ``no_steps``, ``stair_edges``), or ``None`` on flat ground.
    """

    area: StudyArea
    profile: Profile
    params: ReachParams
    base: Base
    reach: ReachSource
    search_m: float
    notes: list[str] = field(default_factory=list)
    terrain: dict[str, Any] | None = None

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
) -> District:
    """Assess the district as it is and prepare the study graph for projects.

    Parameters
    ----------
    area
        From :func:`planner.pipeline.load_study_area`.
    profile
        Standards profile (readings already applied).
    params
        Reach parameters; default the profile's walking speed.

    Returns
    -------
    District
        With ``area.terrain`` (``planner check-project --dem/--no-steps``), every walk is
        on the terrain network at the walking speed, exactly as
        :func:`planner.pipeline.assess` does for a run: flat-equivalent metres of the
        resident's walk *to* the facility. Its base is the two-step floating catchment
        of the existing facilities (planned ones left out), on the study graph's cost
        table filtered by each community's circle.
    """
    params = params or ReachParams(speed_m_s=profile.walking_speed_m_s.value)
    terrain = None
    if area.terrain is not None:  # hills and stairs: directed costs at this walking speed
        t = area.terrain
        terrain = {"dem": t.dem.name if t.dem is not None else None,
                   "no_steps": bool(t.no_steps), "stair_edges": int(t.steps.sum())}
        area = replace(area, net=t.network(area.net, speed_m_s=params.speed_m_s),
                       terrain=None)
    circle_max = max(float(params.metres(v.value)) for v in profile.circle_minutes.values())
    search_m = SEARCH_FACTOR * circle_max
    validate_communities(area.communities)
    validate_facilities(area.facilities)
    fac = area.facilities.copy()
    fac["status"] = fac["status"].fillna("existing") if "status" in fac else "existing"
    fac["in_assessment"] = fac["status"].eq("existing")
    existing = fac[fac["in_assessment"]]
    sg = StudyGraph.build(area.net, area.communities, existing, gates=area.gates,
                          max_distance_m=search_m, snap_max_m=params.snap_max_m,
                          boundary_access_m=params.boundary_access_m)
    comm = _prepare(area, profile, params)
    costs = sg.costs
    within = costs[costs["distance_m"].to_numpy()
                   <= comm["circle_m"].reindex(costs["community_id"]).to_numpy()]
    counted = existing[existing["kind"].isin(profile.area_counted_kinds.kinds)]
    reachable = sg.communities["access_points"].reindex(comm.index).fillna(0) > 0
    assessed = assess_coverage(
        comm, counted, within,
        required_m2_per_100hh=np.asarray(
            standards.required_m2_per_100hh(comm["status"].to_numpy(), profile), dtype=float),
        reachable=reachable)
    fac_out = existing.join(facility_shares(existing, assessed, within))
    base = base_from_assessment(assessed, fac_out, within, profile, params)
    log.info("district ready for project checks: %s communities, %s facilities, %s pairs",
             f"{len(comm):,}", f"{len(existing):,}", f"{len(costs):,}")
    return District(area, profile, params, base, StudyGraphReach(sg), search_m,
                    list(area.notes), terrain)


def _prepare(area: StudyArea, profile: Profile, params: ReachParams) -> pd.DataFrame:
    """Communities with status (new/old), area type and circle metres from the profile."""
    comm = area.communities.copy()
    none = pd.Series(None, index=comm.index, dtype=object)
    year = comm["completion_year"] if "completion_year" in comm else none
    given = comm["status"] if "status" in comm else none
    comm["status"] = standards.infer_status(year, given, profile)
    comm["area_type"] = comm["area_type"].fillna("urban") if "area_type" in comm else "urban"
    minutes = np.asarray(standards.circle_minutes(comm["area_type"].to_numpy(), profile),
                         dtype=float)
    comm["circle_minutes"] = minutes
    comm["circle_m"] = params.metres(minutes)
    return comm


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
    return projects_layers([project], crs, site_ids=[SITE_ID])


def projects_layers(
    projects: list[Project], crs: Any, *, site_ids: list[str] | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame]:
    """Projects as a community layer, their gates, and their sites as facilities.

    Sites are named ``site_ids`` (default ``SITE_ID`` + position in ``projects``).
    """
    ids = [p.project_id for p in projects]
    comm = gpd.GeoDataFrame(
        {"households": [p.households for p in projects],
         "name": [p.name or p.project_id for p in projects]},
        geometry=[p.geometry for p in projects], crs=crs,
        index=pd.Index(ids, name="community_id", dtype=object))
    gate_owner = [p.project_id for p in projects for _ in p.gates]
    gates = None
    if gate_owner:
        gates = gpd.GeoDataFrame({"community_id": gate_owner},
                                 geometry=[g for p in projects for g in p.gates], crs=crs)
    names = site_ids or [f"{SITE_ID}{i}" for i in range(len(projects))]
    sites = gpd.GeoDataFrame(
        {"kind": [p.facility.kind if p.facility else "station" for p in projects]},
        geometry=[p.site_point for p in projects], crs=crs,
        index=pd.Index(names, name="facility_id", dtype=object))
    return comm, gates, sites


class StudyGraphReach:
    """Reach source on a prepared :class:`~planner.reach.StudyGraph`.

    Per project: ``add_communities`` (the project: its gates or boundary streets to every
    existing facility within the search limit) and ``add_facilities`` (its site to every
    community, the project included); both are removed again afterwards, so the graph is
    the district as it is for the next project.
    """

    def __init__(self, sg: StudyGraph) -> None:
        self.sg = sg
        self.existing_ids = set(sg.communities.index)
        self.crs = sg.net.pyproj_crs

    def project_reach(self, project: Project) -> ProjectReach:
        """Search from the project's access points and from its site, then undo both."""
        return self.projects_reach([project])[project.project_id]

    def projects_reach(self, projects: list[Project]) -> dict[str, ProjectReach]:
        """The same for many projects at once: two searches in all (a batch).

        Each project's site only counts for the existing communities and the project
        itself; other projects of the batch never see each other.
        """
        comm, gates, sites = projects_layers(projects, self.crs)
        ids = [p.project_id for p in projects]
        rows = self.sg.add_communities(comm, gates=gates)
        try:
            access = self.sg.communities["access_points"].reindex(ids).to_numpy()
            site_rows = self.sg.add_facilities(sites)
            snapped = self.sg.facilities["network_component"].reindex(sites.index).to_numpy() >= 0
            self.sg.remove_facilities(list(sites.index))
        finally:
            self.sg.remove_communities(ids)
        to_fac = {k: g[["facility_id", "distance_m"]].reset_index(drop=True)
                  for k, g in rows.groupby("community_id", sort=False)}
        site_of = dict(zip(sites.index, ids, strict=True))
        from_site = {site_of[k]: g for k, g in site_rows.groupby("facility_id", sort=False)}
        empty_f = pd.DataFrame({"facility_id": pd.Series(dtype=object),
                                "distance_m": pd.Series(dtype=float)})
        empty_c = pd.DataFrame({"community_id": pd.Series(dtype=object),
                                "distance_m": pd.Series(dtype=float)})
        out = {}
        existing = self.existing_ids
        for i, pid in enumerate(ids):
            fs = from_site.get(pid, empty_c)
            c = fs["community_id"].to_numpy(object)
            keep = np.fromiter((x == pid or x in existing for x in c), bool, len(c))
            out[pid] = ProjectReach(
                to_fac.get(pid, empty_f),
                fs.loc[keep, ["community_id", "distance_m"]].reset_index(drop=True),
                int(access[i]), bool(snapped[i]))
        return out
