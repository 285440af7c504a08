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

    Lookups by id (dicts and numpy arrays) are built once, so a project's check touches
    only the rows near it.
    """

    communities: pd.DataFrame
    facilities: pd.DataFrame
    pairs: pd.DataFrame
    speed_m_s: float

    def __post_init__(self) -> None:
        c, f = self.communities, self.facilities
        self.comm_ids = c.index.to_numpy(dtype=object)
        self.comm_pos = {k: i for i, k in enumerate(self.comm_ids)}
        self.fac_pos = {k: i for i, k in enumerate(f.index.to_numpy(dtype=object))}
        self.fac_counted = f["counted"].to_numpy(dtype=bool)
        self.fac_kind = f["kind"].to_numpy(dtype=object)
        self.fac_area = f["floor_area_m2"].to_numpy(dtype=float)
        self.fac_served = f["households_served"].fillna(0).to_numpy(dtype=float)
        self.hh = c["households"].to_numpy(dtype=float)
        self.circle = c["circle_m"].to_numpy(dtype=float)
        self.a100 = c["accessible_m2_per_100hh"].to_numpy(dtype=float)
        self.req100 = c["required_m2_per_100hh"].to_numpy(dtype=float)
        self.within = c["facilities_within"].to_numpy(dtype=np.int64)
        self.status = c["service_status"].to_numpy(dtype=object)
        self.comm_name = (c["name"].to_numpy(dtype=object) if "name" in c
                          else np.full(len(c), "", dtype=object))
        self.comm_state = c["status"].to_numpy(dtype=object)
        self.req_m2 = c["required_m2"].to_numpy(dtype=float)
        self.acc_m2 = c["accessible_m2"].to_numpy(dtype=float)
        self.fac_ids = f.index.to_numpy(dtype=object)
        self.fac_name = (f["name"].to_numpy(dtype=object) if "name" in f
                         else np.full(len(f), "", dtype=object))
        fpos = np.array([self.fac_pos[k] for k in self.pairs["facility_id"].to_numpy(object)],
                        dtype=np.int64)
        cpos = np.array([self.comm_pos[k] for k in self.pairs["community_id"].to_numpy(object)],
                        dtype=np.int64)
        order = np.argsort(fpos, kind="stable")
        starts = np.searchsorted(fpos[order], np.arange(len(f) + 1))
        self.members = [cpos[order[starts[j]:starts[j + 1]]] for j in range(len(f))]

    def minutes(self, metres: Any) -> Any:
        """Minutes to walk ``metres`` at the district's speed."""
        return np.asarray(metres, dtype=float) / (60.0 * self.speed_m_s)

    def facility_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``frame.facility_id`` among the facilities (-1: unknown) and metres."""
        pos = np.array([self.fac_pos.get(k, -1) for k in frame["facility_id"].to_numpy(object)],
                       dtype=np.int64)
        return pos, frame["distance_m"].to_numpy(dtype=float)

    def community_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``frame.community_id`` among the communities (-1: unknown) and metres."""
        pos = np.array([self.comm_pos.get(k, -1) for k in frame["community_id"].to_numpy(object)],
                       dtype=np.int64)
        return pos, frame["distance_m"].to_numpy(dtype=float)


def _text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def nearest_by_kind(base: Base, to_facilities: pd.DataFrame) -> dict[str, tuple[str, float]]:
    """Nearest existing facility of each kind within the search: kind → (id, metres)."""
    pos, dist = base.facility_rows(to_facilities)
    ids = to_facilities["facility_id"].to_numpy(object)
    best: dict[str, tuple[str, float]] = {}
    for i in np.lexsort((ids.astype(str), dist)):
        if pos[i] < 0:
            continue
        kind = str(base.fac_kind[pos[i]])
        if kind not in best:
            best[kind] = (str(ids[i]), float(dist[i]))
    return best


def reach_summary(
    base: Base,
    to_facilities: pd.DataFrame,
    *,
    circle_m: float,
    own_distance_m: float | None,
    kinds: list[str],
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
    kinds
        Kinds to report (those present in the district).

    Returns
    -------
    dict
        ``own_facility_minutes``, ``nearest`` (kind → facility id, name, minutes; None
        beyond the search), ``inside_existing_circle`` (a counted facility within the
        project's circle), ``circle_minutes``.
    """
    pos, dist = base.facility_rows(to_facilities)
    known = pos >= 0
    inside = bool((base.fac_counted[pos[known]] & (dist[known] <= circle_m)).any())
    best = nearest_by_kind(base, to_facilities)
    nearest = {}
    for kind in kinds:
        fid, metres = best.get(kind, (None, np.nan))
        nearest[kind] = {
            "facility_id": fid,
            "name": _text_or_none(base.fac_name[base.fac_pos[fid]]) if fid else None,
            "minutes": float(base.minutes(metres)) if fid else None,
        }
    own = None
    if own_distance_m is not None and np.isfinite(own_distance_m):
        own = float(base.minutes(own_distance_m))
    return {"own_facility_minutes": own, "nearest": nearest, "inside_existing_circle": inside,
            "circle_minutes": float(base.minutes(circle_m))}


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
    pos, dist = base.facility_rows(to_facilities)
    keep = (pos >= 0) & (dist <= circle_m)
    keep[keep] = base.fac_counted[pos[keep]]
    pos, dist = pos[keep], dist[keep]
    order = np.argsort(dist, kind="stable")
    pos, dist = pos[order], dist[order]
    _, first = np.unique(pos, return_index=True)
    pick = np.sort(first)
    pos, dist = pos[pick], dist[pick]
    before = base.fac_served[pos]
    area = base.fac_area[pos]
    with np.errstate(divide="ignore", invalid="ignore"):
        per100_before = np.where(before > 0, 100 * area / before, np.nan)
    return pd.DataFrame({
        "name": base.fac_name[pos],
        "kind": base.fac_kind[pos], "floor_area_m2": area, "minutes": base.minutes(dist),
        "households_before": before.astype(int), "households_after": (before + households)
        .astype(int), "m2_per_100hh_before": per100_before,
        "m2_per_100hh_after": 100 * area / (before + households),
    }, index=pd.Index(base.fac_ids[pos], name="facility_id"))


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
    pos, dist = base.community_rows(from_site)
    keep = (pos >= 0) & (dist <= circle_m)
    pos, dist = pos[keep], dist[keep]
    order = np.lexsort((base.comm_ids[pos].astype(str), dist))
    pos, dist = pos[order], dist[order]
    out = pd.DataFrame({
        "name": base.comm_name[pos],
        "households": base.hh[pos].astype(int), "status": base.comm_state[pos],
        "minutes": base.minutes(dist), "required_m2": base.req_m2[pos],
        "accessible_m2": base.acc_m2[pos],
        "service_status": base.status[pos],
    }, index=pd.Index(base.comm_ids[pos], name="community_id"))
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
    shared: pd.DataFrame,
    circle_m: float,
    planned: tuple[float, pd.DataFrame] | None,
) -> tuple[pd.DataFrame, float]:
    """Floor area per 100 households of every community the project changes.

    Parameters
    ----------
    shared
        The existing facilities whose circle holds the project (:func:`shared_facilities`).
    circle_m
        The project's circle, metres.
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
    delta = np.zeros(len(base.comm_ids))
    gained = np.zeros(len(base.comm_ids), dtype=np.int64)
    touched = [np.zeros(0, dtype=np.int64)]
    project_a = 0.0
    change = (shared["m2_per_100hh_after"] - shared["m2_per_100hh_before"].fillna(0.0))
    for fid, dv in zip(shared.index, change.to_numpy(float), strict=True):
        members = base.members[base.fac_pos[fid]]
        np.add.at(delta, members, dv)
        touched.append(members)
    project_a += float(shared["m2_per_100hh_after"].sum())
    if planned is not None:
        area_m2, from_site = planned
        pos, dist = base.community_rows(from_site)
        is_project = (from_site["community_id"].to_numpy(object) == project_id)
        circle = np.where(pos >= 0, base.circle[np.maximum(pos, 0)], np.inf)
        inside_p = bool((is_project & (dist <= circle_m)).any())
        members = np.unique(pos[(pos >= 0) & (dist <= circle)])
        total = base.hh[members].sum() + (households if inside_p else 0)
        if total > 0:
            per100 = 100 * area_m2 / total
            delta[members] += per100
            gained[members] += 1
            touched.append(members)
            if inside_p:
                project_a += per100
    idx = np.unique(np.concatenate(touched))
    after = base.a100[idx] + delta[idx]
    within_after = base.within[idx] + gained[idx]
    ok = after + TOLERANCE_M2_PER_100HH >= base.req100[idx]
    status_after = np.where(within_after == 0, "uncovered",
                            np.where(ok, "meets", "below_standard")).astype(object)
    status_after[base.status[idx] == "unreachable"] = "unreachable"
    out = pd.DataFrame({
        "name": base.comm_name[idx],
        "households": base.hh[idx].astype(int), "status_before": base.status[idx],
        "status_after": status_after, "m2_per_100hh_before": base.a100[idx],
        "m2_per_100hh_after": after, "required_m2_per_100hh": base.req100[idx],
    }, index=pd.Index(base.comm_ids[idx], name="community_id"))
    return out, project_a


def neighbour_changes(changed: pd.DataFrame) -> dict[str, Any]:
    """Communities brought to standard and those pushed below it, with households."""
    before = changed["status_before"].to_numpy(object) == "meets"
    after = changed["status_after"].to_numpy(object) == "meets"
    ids = changed.index.to_numpy(object)
    hh = changed["households"].to_numpy(np.int64)
    brought, pushed = ~before & after, before & ~after
    differs = changed["status_before"].to_numpy(object) != changed["status_after"].to_numpy(object)
    return {
        "brought_to_standard": [str(i) for i in ids[brought]],
        "brought_households": int(hh[brought].sum()),
        "pushed_below": [str(i) for i in ids[pushed]],
        "pushed_households": int(hh[pushed].sum()),
        "changed": int(differs.sum()),
    }
