"""Coverage, status and targets of a scenario, from its cost table.

No search happens here: the long cost table (pairs up to the largest circle) is filtered
by each community's circle (its minutes × 60 × the walking speed,
:func:`planner.reach.circle_pairs`) and the facilities in the scenario, then handed to
the same floor-area assessment (:func:`planner.coverage.assess_profile`) and judgement
(:func:`planner.judge.judge`) as :func:`planner.pipeline.assess`. The pairs are put in one
canonical order (facility, then community, in layer order) so that a scenario built
step by step and the same scenario built in one go add the same numbers in the same
order and give identical results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import standards
from planner.coverage import assess_profile
from planner.gaps import street_table
from planner.judge import judge, planned_to_open
from planner.pipeline import prepare_communities, prepare_facilities
from planner.reach import circle_pairs as pairs_within_circles
from planner.schema import SERVICE_STATUSES
from planner.standards import Profile
from planner.units import minutes_for_metres


@dataclass
class ScenarioResult:
    """What one scenario gives.

    Attributes
    ----------
    name
        The scenario's name.
    communities
        Input columns plus ``status``, ``status_basis``, ``area_type``, ``circle_minutes``,
        ``access_points``, ``nearest_facility_id`` and ``nearest_minutes`` (nearest counted
        facility within the cost table's reach, NaN beyond), ``facilities_within``,
        ``accessible_m2``, ``accessible_m2_per_100hh``, ``required_m2_per_100hh``,
        ``required_m2``, ``shortfall_m2``, ``standard_range`` and ``service_status``,
        as :func:`planner.pipeline.assess` computes them (metric CRS).
    facilities
        Input columns plus ``in_assessment``, ``street``, ``communities_served``,
        ``households_served``, ``m2_per_100hh_served`` and ``meets_min_size``.
    costs
        ``facility_id, community_id, distance_m, minutes``: pairs within circles.
    targets
        The profile's targets (see :func:`planner.judge.judge`).
    streets
        Per street (see :func:`planner.gaps.street_table`).
    summary
        ``walking_speed_m_s``, ``circle_minutes``, ``households_by_status``,
        ``communities_by_status``, ``shortfall_m2``, ``required_m2``, ``notes``.
    changes
        The edits that made this scenario from its base, in order.
    recomputed
        What each edit recomputed (which searches ran, or "re-filtered").
    """

    name: str
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    costs: pd.DataFrame
    targets: pd.DataFrame
    streets: pd.DataFrame
    summary: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)


def circle_minutes_of(area_type: np.ndarray, profile: Profile,
                      minutes: Mapping[str, float] | None) -> np.ndarray:
    """Each community's circle (minutes): the profile's, or ``minutes[area_type]`` if given."""
    out = np.asarray(standards.circle_minutes(area_type, profile), dtype=float)
    for kind, value in (minutes or {}).items():
        out = np.where(area_type == kind, float(value), out)
    return out


def evaluate(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    table: pd.DataFrame,
    access_points: pd.Series,
    profile: Profile,
    *,
    speed_m_s: float,
    minutes: Mapping[str, float] | None = None,
    include_planned: bool = False,
    name: str = "scenario",
    as_of: int | None = None,
) -> ScenarioResult:
    """Assess a scenario from its cost table.

    Parameters
    ----------
    communities, facilities
        The scenario's layers (metric CRS), indexed by ``community_id`` / ``facility_id``.
    table
        ``facility_id, community_id, distance_m`` up to at least every community's
        circle in metres.
    access_points
        Access points per community that joined the network (0: unreachable).
    profile
        Standards profile.
    speed_m_s
        Walking speed (m/s).
    minutes
        Circle minutes by area type (``{"urban": 15}``) overriding the profile's.
    include_planned
        Count planned facilities as built.
    name
        The scenario's name.
    as_of
        Year the targets are judged in (default: the current year).
    """
    comm = prepare_communities(communities, profile)
    comm["circle_minutes"] = circle_minutes_of(comm["area_type"].to_numpy(), profile, minutes)
    comm["access_points"] = access_points.reindex(comm.index).fillna(0).astype(int)
    fac = prepare_facilities(facilities, include_planned=include_planned)
    pairs = circle_pairs(table, comm, fac, speed_m_s=speed_m_s)
    counted = set(profile.area_counted_kinds.kinds)
    counts = fac.index[fac["in_assessment"] & fac["kind"].isin(counted)]
    comm = _nearest(comm, pairs[pairs["facility_id"].isin(counts)], speed_m_s)
    # the 2SFCA, requirement, status, land and range of planner.pipeline.assess: one code path
    comm, fac = assess_profile(comm, fac, pairs, profile, speed_m_s=speed_m_s,
                               counted_kinds=counted)
    # street and meets_min_size are filled by judge, row by row, as in planner.pipeline
    judged = judge(profile, comm, fac, pairs, as_of=as_of,
                   planned_costs=_planned_pairs(table, comm, fac, speed_m_s))
    comm, fac = judged.communities, judged.facilities
    summary = _summary(comm, profile, speed_m_s, minutes)
    summary["notes"] = judged.notes
    return ScenarioResult(name, comm, fac, pairs, judged.targets, street_table(comm), summary)


def _planned_pairs(table: pd.DataFrame, comm: pd.DataFrame, fac: pd.DataFrame,
                   speed_m_s: float) -> pd.DataFrame | None:
    """Pairs of planned facilities with an opening year outside the assessment (timeline)."""
    sel = planned_to_open(fac)
    if not sel.any():
        return None
    planned = fac.assign(in_assessment=sel)
    return circle_pairs(table, comm, planned, speed_m_s=speed_m_s)


def circle_pairs(table: pd.DataFrame, comm: pd.DataFrame, fac: pd.DataFrame, *,
                 speed_m_s: float) -> pd.DataFrame:
    """The pairs within each community's circle, of facilities in the assessment.

    The circle filter is :func:`planner.reach.circle_pairs` (as in the main run), applied
    to the pairs of ``comm`` and the facilities of ``fac`` with ``in_assessment``; the
    result is sorted by facility, then community, in the layers' order (the canonical
    order: the same scenario built step by step or in one go adds the same numbers in the
    same order).

    Returns
    -------
    pandas.DataFrame
        ``facility_id, community_id, distance_m`` (metres) and ``minutes``.
    """
    c_pos = comm.index.get_indexer(table["community_id"].to_numpy())
    f_pos = fac.index.get_indexer(table["facility_id"].to_numpy())
    keep = (c_pos >= 0) & (f_pos >= 0)
    keep[keep] = fac["in_assessment"].to_numpy(dtype=bool)[f_pos[keep]]
    rows = np.flatnonzero(keep)[np.lexsort((c_pos[keep], f_pos[keep]))]
    ordered = pd.DataFrame({c: table[c].to_numpy()[rows]
                            for c in ("facility_id", "community_id", "distance_m")})
    return pairs_within_circles(ordered, comm["circle_minutes"], speed_m_s=speed_m_s)


def _nearest(comm: pd.DataFrame, pairs: pd.DataFrame, speed_m_s: float) -> pd.DataFrame:
    """Nearest counted facility within the circle pairs (NaN / None where none)."""
    out = comm.copy()
    if len(pairs) == 0:
        out["nearest_facility_id"] = None
        out["nearest_minutes"] = np.nan
        return out
    best = pairs.sort_values(["community_id", "distance_m"], kind="stable").drop_duplicates(
        "community_id").set_index("community_id")
    out["nearest_facility_id"] = best["facility_id"].reindex(out.index).astype(object)
    out["nearest_facility_id"] = out["nearest_facility_id"].where(
        out["nearest_facility_id"].notna(), None)
    out["nearest_minutes"] = minutes_for_metres(best["distance_m"], speed_m_s).reindex(out.index)
    return out


def _summary(comm: pd.DataFrame, profile: Profile, speed_m_s: float,
             minutes: Mapping[str, float] | None) -> dict[str, Any]:
    hh = comm["households"]
    status = comm["service_status"]
    circle = {k: float(v.value) for k, v in profile.circle_minutes.items()}
    circle.update({k: float(v) for k, v in (minutes or {}).items()})
    return {
        "profile": profile.name,
        "walking_speed_m_s": float(speed_m_s),
        "circle_minutes": circle,
        "communities": len(comm),
        "households": int(hh.sum()),
        "communities_by_status": {s: int((status == s).sum()) for s in SERVICE_STATUSES},
        "households_by_status": {s: int(hh[status == s].sum()) for s in SERVICE_STATUSES},
        "shortfall_m2": float(comm["shortfall_m2"].sum()),
        "required_m2": float(comm["required_m2"].sum()),
    }
