r"""What a project does to the district: reach, shared facilities, pooling, effect on neighbours.

Pure pandas on cost tables (the reach core's seam): no graph and no geometry. The
district's base is the two-step floating catchment of :mod:`planner.coverage`: facility
:math:`j` with floor area :math:`S_j` shares it among the households :math:`H_j` inside
its circle, :math:`R_j = S_j / H_j`; community :math:`i` gets :math:`A_i = 100 \sum_j R_j`
m² per 100 households. A project changes it in two ways, computed incrementally:

* its households join the circles of the existing facilities that reach it:
  :math:`R_j' = S_j / (H_j + h_p)`, so every community :math:`i` in those circles loses
  :math:`100 (R_j - R_j')`;
* its planned facility :math:`P` (when of a counted kind) serves the communities whose
  circle holds it, project included: :math:`R_P = S_P / \sum_{k \in C_P} h_k`, added to each.

Only communities in the circles of those facilities change; the rest keep their base values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.project.rules import TOLERANCE_M2_PER_100HH


@dataclass
class Base:
    """The district as assessed before the project (the inputs of this module).

    Attributes
    ----------
    communities
        Indexed by ``community_id``: ``name``, ``households``, ``status``,
        ``circle_m`` (the community's own circle, metres), ``accessible_m2_per_100hh``,
        ``required_m2_per_100hh``, ``required_m2``, ``accessible_m2``,
        ``facilities_within``, ``service_status``.
    facilities
        Existing facilities indexed by ``facility_id``: ``name``, ``kind``,
        ``floor_area_m2``, ``counted`` (bool: counts towards floor area), and for counted
        ones ``households_served`` and ``m2_per_100hh_served``.
    pairs
        ``facility_id, community_id, distance_m``: counted facilities and the communities
        within each community's circle of them.
    speed_m_s
        Walking speed, m/s.
    """

    communities: pd.DataFrame
    facilities: pd.DataFrame
    pairs: pd.DataFrame
    speed_m_s: float

    def minutes(self, metres: Any) -> Any:
        """Minutes to walk ``metres`` at the district's speed."""
        return np.asarray(metres, dtype=float) / (60.0 * self.speed_m_s)


def reach_summary(
    base: Base,
    to_facilities: pd.DataFrame,
    *,
    circle_m: float,
    own_distance_m: float | None,
    nearest_by_kind: pd.DataFrame,
) -> dict[str, Any]:
    """Minutes from the project to its own facility and the nearest existing of each kind.

    Parameters
    ----------
    to_facilities
        ``facility_id, distance_m`` from the project's gates/boundary to existing
        facilities (every kind), within the search limit.
    circle_m
        The project's circle, metres.
    own_distance_m
        Metres from the project to its planned facility (``None``: it plans none; NaN:
        not reached).
    nearest_by_kind
        Indexed by kind: ``facility_id``, ``distance_m`` (NaN beyond the search limit).

    Returns
    -------
    dict
        ``own_facility_minutes``, ``nearest`` (kind → facility id, name, minutes),
        ``inside_existing_circle`` (a counted facility within the project's circle),
        ``circle_minutes``.
    """
    fac = base.facilities
    counted = to_facilities[to_facilities["facility_id"].map(fac["counted"]).fillna(False)
                            .astype(bool)]
    inside = bool((counted["distance_m"] <= circle_m).any())
    nearest = {}
    for kind, row in nearest_by_kind.iterrows():
        fid = row["facility_id"]
        ok = isinstance(fid, str) and np.isfinite(row["distance_m"])
        nearest[str(kind)] = {
            "facility_id": fid if ok else None,
            "name": _text_or_none(fac.at[fid, "name"]) if ok and "name" in fac else None,
            "minutes": float(base.minutes(row["distance_m"])) if ok else None,
        }
    own = None
    if own_distance_m is not None and np.isfinite(own_distance_m):
        own = float(base.minutes(own_distance_m))
    return {"own_facility_minutes": own, "nearest": nearest, "inside_existing_circle": inside,
            "circle_minutes": float(base.minutes(circle_m))}


def _text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def shared_facilities(
    base: Base, to_facilities: pd.DataFrame, *, households: int, circle_m: float
) -> pd.DataFrame:
    """Existing counted facilities whose circle would hold the project, before and after.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``facility_id``: ``name``, ``kind``, ``floor_area_m2``, ``minutes``,
        ``households_before``, ``households_after``, ``m2_per_100hh_before``,
        ``m2_per_100hh_after`` (nearest first).
    """
    fac = base.facilities
    rows = to_facilities[to_facilities["distance_m"] <= circle_m]
    rows = rows[rows["facility_id"].map(fac["counted"]).fillna(False).astype(bool)]
    rows = rows.sort_values(["distance_m", "facility_id"]).drop_duplicates("facility_id")
    f = fac.loc[rows["facility_id"]]
    out = pd.DataFrame(index=pd.Index(rows["facility_id"].to_numpy(), name="facility_id"))
    out["name"] = f["name"].to_numpy() if "name" in f else ""
    out["kind"] = f["kind"].to_numpy()
    out["floor_area_m2"] = f["floor_area_m2"].to_numpy(dtype=float)
    out["minutes"] = base.minutes(rows["distance_m"].to_numpy())
    before = f["households_served"].fillna(0).to_numpy(dtype=float)
    out["households_before"] = before.astype(int)
    out["households_after"] = (before + households).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["m2_per_100hh_before"] = np.where(before > 0, 100 * out["floor_area_m2"] / before,
                                              np.nan)
    out["m2_per_100hh_after"] = 100 * out["floor_area_m2"] / out["households_after"]
    return out


def neighbours_within(
    base: Base, from_site: pd.DataFrame, *, project_id: str, circle_m: float
) -> pd.DataFrame:
    """Communities within the project's circle of its site (its planned facility's place).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``community_id`` (project excluded), nearest first: ``name``,
        ``households``, ``status``, ``minutes``, ``required_m2``, ``accessible_m2``,
        ``service_status``.
    """
    rows = from_site[(from_site["distance_m"] <= circle_m)
                     & (from_site["community_id"] != project_id)]
    rows = rows[rows["community_id"].isin(base.communities.index)]
    rows = rows.sort_values(["distance_m", "community_id"]).drop_duplicates("community_id")
    c = base.communities.loc[rows["community_id"]]
    cols = ["name", "households", "status", "required_m2", "accessible_m2", "service_status"]
    out = c[[k for k in cols if k in c]].copy()
    out.insert(3, "minutes", base.minutes(rows["distance_m"].to_numpy()))
    return out


def pooling(
    neighbours: pd.DataFrame, *, households: int, required_m2: float, planned_m2: float
) -> dict[str, Any]:
    """The project pooled with its neighbours (统筹配建): combined requirement and floor area.

    The pool's requirement is the project's plus each neighbour's (by its own status);
    its floor area is the project's planned m² plus what already serves each neighbour
    (its accessible m², the two-step share, so no facility is counted twice). Pooling
    passes when the floor area covers the requirement.
    """
    pool_hh = int(households + neighbours["households"].sum())
    pool_req = float(required_m2 + neighbours["required_m2"].sum())
    pool_area = float(planned_m2 + neighbours["accessible_m2"].sum())
    return {
        "neighbours": [str(i) for i in neighbours.index],
        "neighbour_households": int(neighbours["households"].sum()),
        "households": pool_hh, "required_m2": pool_req, "floor_area_m2": pool_area,
        "shortfall_m2": max(0.0, pool_req - pool_area),
        "passes": bool(pool_area + 1e-9 >= pool_req) and len(neighbours) > 0,
    }


def effect_on_communities(
    base: Base,
    *,
    project_id: str,
    households: int,
    to_facilities: pd.DataFrame,
    circle_m: float,
    planned: tuple[float, pd.DataFrame] | None,
) -> tuple[pd.DataFrame, float]:
    """Floor area per 100 households of every community the project changes.

    Parameters
    ----------
    to_facilities
        ``facility_id, distance_m`` from the project (its circle is ``circle_m``).
    planned
        ``(floor_area_m2, from_site)`` of the project's planned facility when it counts
        (``from_site``: ``community_id, distance_m``, project included), else ``None``.

    Returns
    -------
    (pandas.DataFrame, float)
        Changed communities indexed by ``community_id``: ``name``, ``households``,
        ``status_before``, ``status_after``, ``m2_per_100hh_before``,
        ``m2_per_100hh_after``, ``required_m2_per_100hh``; and the project's own m² per
        100 households served (the catchment indicator, not the on-site check).
    """
    comm = base.communities
    delta = pd.Series(0.0, index=comm.index)
    gained_within = pd.Series(0, index=comm.index)
    shared = shared_facilities(base, to_facilities, households=households, circle_m=circle_m)
    project_a = 0.0
    if len(shared):
        r_before = (shared["m2_per_100hh_before"].fillna(0.0) / 100)
        r_after = shared["m2_per_100hh_after"] / 100
        change = (r_after - r_before).rename("change")
        pairs = base.pairs[base.pairs["facility_id"].isin(shared.index)]
        by_comm = pairs["facility_id"].map(change).groupby(pairs["community_id"]).sum()
        delta = delta.add(100 * by_comm, fill_value=0.0)
        project_a += float(100 * r_after.sum())
    if planned is not None:
        area_m2, from_site = planned
        circle = comm["circle_m"].reindex(from_site["community_id"]).to_numpy()
        is_project = (from_site["community_id"] == project_id).to_numpy()
        circle = np.where(is_project, circle_m, circle)
        within = from_site[from_site["distance_m"].to_numpy() <= circle]
        members = within["community_id"].drop_duplicates()
        hh = comm["households"].reindex(members).fillna(0).to_numpy(dtype=float)
        total = hh.sum() + (households if (members == project_id).any() else 0)
        if total > 0:
            r_p = area_m2 / total
            others = members[members != project_id]
            delta = delta.add(pd.Series(100 * r_p, index=others.to_numpy()), fill_value=0.0)
            gained_within = gained_within.add(pd.Series(1, index=others.to_numpy()),
                                              fill_value=0).astype(int)
            if (members == project_id).any():
                project_a += 100 * r_p
    changed = delta.index[(delta.abs() > 1e-12) | (gained_within > 0)]
    c = comm.loc[changed]
    after = c["accessible_m2_per_100hh"] + delta.loc[changed]
    within_after = c["facilities_within"] + gained_within.loc[changed]
    ok = after + TOLERANCE_M2_PER_100HH >= c["required_m2_per_100hh"]
    status_after = np.where(within_after == 0, "uncovered",
                            np.where(ok, "meets", "below_standard"))
    status_after = np.where(c["service_status"] == "unreachable", "unreachable", status_after)
    out = pd.DataFrame({
        "name": c["name"] if "name" in c else "",
        "households": c["households"].astype(int),
        "status_before": c["service_status"],
        "status_after": status_after,
        "m2_per_100hh_before": c["accessible_m2_per_100hh"],
        "m2_per_100hh_after": after,
        "required_m2_per_100hh": c["required_m2_per_100hh"],
    }, index=changed)
    return out.sort_index(), project_a


def neighbour_changes(changed: pd.DataFrame) -> dict[str, Any]:
    """Communities brought to standard and those pushed below it, with households."""
    brought = changed[(changed["status_before"] != "meets") & (changed["status_after"] == "meets")]
    pushed = changed[(changed["status_before"] == "meets") & (changed["status_after"] != "meets")]
    return {
        "brought_to_standard": [str(i) for i in brought.index],
        "brought_households": int(brought["households"].sum()),
        "pushed_below": [str(i) for i in pushed.index],
        "pushed_households": int(pushed["households"].sum()),
        "changed": len(changed),
    }
