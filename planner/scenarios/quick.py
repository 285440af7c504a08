"""A quick what-if for facility edits: statuses, floor area and targets, fast.

At city size it takes a fraction of a second.

:meth:`Scenario.result` re-runs the whole assessment (allocation rule, timeline, every
column of the report). A planner sliding a station along a street needs only what moves:
the 2SFCA of the communities, their status, and the district targets. :func:`quick`
computes exactly those from the scenario's cost table with numpy, reusing everything that
does not depend on facilities (community status, requirement, circle, units) from the
first full assessment of the scenario's lineage. Its numbers equal :meth:`Scenario.result`
(statuses and targets exactly, floor areas to rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from planner.coverage import TOLERANCE_M2_PER_100HH
from planner.gaps import evaluate_targets
from planner.pipeline import in_assessment
from planner.schema import SERVICE_STATUSES

if TYPE_CHECKING:
    from planner.scenarios.scenario import Scenario

#: Community columns the targets read (those present are kept).
TARGET_COMMUNITY_COLUMNS = ("households", "area_type", "area_type_basis", "status", "street",
                            "shequ", "street_type", "county", "allocation_status")
#: Facility columns the targets read.
TARGET_FACILITY_COLUMNS = ("kind", "street", "shequ", "county", "level", "beds",
                           "nursing_beds", "serves_community_id", "in_assessment")


@dataclass
class QuickResult:
    """What a facility what-if changes.

    Attributes
    ----------
    name
        The scenario's name.
    communities
        Indexed by ``community_id``: ``facilities_within``, ``accessible_m2_per_100hh``,
        ``accessible_m2``, ``shortfall_m2``, ``service_status``.
    targets
        As :func:`planner.gaps.evaluate_targets` returns them.
    households_by_status
        Households per service status.
    """

    name: str
    communities: pd.DataFrame
    targets: pd.DataFrame
    households_by_status: dict[str, int]


class QuickBase:
    """What does not change when facilities do, from one full assessment.

    Ids are replaced by positions (integers) in everything handed to the targets, so
    their joins hash integers, not text.
    """

    def __init__(self, scenario: Scenario, n_delta: int) -> None:
        full = scenario.result()
        comm = full.communities
        self.n_delta = n_delta
        self.ids = pd.Index(comm.index.to_numpy(dtype=object))
        self.h = comm["households"].to_numpy(dtype=float)
        self.req = comm["required_m2_per_100hh"].to_numpy(dtype=float)
        self.budget = comm["circle_minutes"].to_numpy() * 60.0 * scenario.speed_m_s
        self.reachable = comm["access_points"].to_numpy() > 0
        self.slim = _slim(comm, TARGET_COMMUNITY_COLUMNS, pd.RangeIndex(len(comm)))
        fac = full.facilities
        self.fids = pd.Index(fac.index.to_numpy(dtype=object))
        units = _slim(fac, TARGET_FACILITY_COLUMNS, self.fids)
        if "serves_community_id" in units:  # estates as positions, like the communities
            pos = self.ids.get_indexer(units["serves_community_id"].to_numpy(dtype=object))
            units["serves_community_id"] = np.where(pos >= 0, pos.astype(str), None)
        self.fac_units = units
        self.fac_geoms = pd.Series(fac.geometry.to_numpy(), index=self.fids)
        self.streets = comm["street"].to_numpy(dtype=object)
        self.tree = shapely.STRtree(comm.geometry.to_numpy())
        table = scenario.table
        self.c = self.ids.get_indexer(table["community_id"].to_numpy(dtype=object))
        self.f = self.fids.get_indexer(table["facility_id"].to_numpy(dtype=object))
        self.d = table["distance_m"].to_numpy()


def _slim(frame: pd.DataFrame, columns: tuple[str, ...], index: pd.Index) -> pd.DataFrame:
    out = {}
    for c in columns:
        if c in frame:
            col = frame[c]
            out[c] = col.to_numpy(dtype=object) if pd.api.types.is_string_dtype(col.dtype) \
                else col.to_numpy()
    return pd.DataFrame(out, index=index)


def _pairs(scenario: Scenario, base: QuickBase, fids: pd.Index) -> tuple[np.ndarray, ...]:
    """``(facility position, community position, metres)`` of the scenario's cost table.

    The base table with the recorded drops and additions applied.
    """
    dropped = np.zeros(len(base.fids), dtype=bool)
    extra: list[pd.DataFrame] = []
    for kind, what in scenario._delta[base.n_delta:]:
        if kind == "drop":
            gone = set(map(str, what))
            dropped |= base.fids.isin(list(gone))
            extra = [e[~e["facility_id"].astype(str).isin(gone)] for e in extra]
        else:
            extra.append(what)
    to_now = fids.get_indexer(base.fids)
    keep = ~dropped[base.f] & (to_now[base.f] >= 0)
    f = [to_now[base.f[keep]]]
    c, d = [base.c[keep]], [base.d[keep]]
    for e in extra:
        f.append(fids.get_indexer(e["facility_id"].to_numpy(dtype=object)))
        c.append(base.ids.get_indexer(e["community_id"].to_numpy(dtype=object)))
        d.append(e["distance_m"].to_numpy())
    return np.concatenate(f), np.concatenate(c), np.concatenate(d)


def quick(scenario: Scenario, base: QuickBase) -> QuickResult:
    """Statuses, floor area and targets of ``scenario`` (facility edits only)."""
    fac = scenario.facilities
    fids = pd.Index(fac.index.to_numpy(dtype=object))
    active = in_assessment(fac, include_planned=scenario.include_planned).to_numpy()
    counted = fac["kind"].isin(list(scenario.profile.area_counted_kinds.kinds)).to_numpy()
    f, c, d = _pairs(scenario, base, fids)
    ok = (c >= 0) & (f >= 0)
    ok[ok] &= active[f[ok]] & (d[ok] <= base.budget[c[ok]])
    f, c, d = f[ok], c[ok], d[ok]
    use = counted[f]
    fu, cu = f[use], c[use]
    n_c = len(base.ids)
    served = np.bincount(fu, weights=base.h[cu], minlength=len(fids))
    area = fac["floor_area_m2"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_hh = np.where(served > 0, area / served, 0.0)
    within = np.bincount(cu, minlength=n_c)
    per100 = 100 * np.bincount(cu, weights=per_hh[fu], minlength=n_c)
    acc = per100 * base.h / 100
    short = np.maximum(0.0, base.req * base.h / 100 - acc)
    st = np.where(within == 0, "uncovered",
                  np.where(per100 + TOLERANCE_M2_PER_100HH >= base.req, "meets", "below_standard"))
    st = np.where(base.reachable, st, "unreachable")
    comm = pd.DataFrame({"facilities_within": within, "accessible_m2_per_100hh": per100,
                         "accessible_m2": acc, "shortfall_m2": short, "service_status": st},
                        index=base.ids)
    slim = base.slim.assign(facilities_within=within, service_status=st)
    units = _facility_units(fac, fids, base).reset_index(drop=True)
    pairs = pd.DataFrame({"facility_id": f, "community_id": c, "distance_m": d})
    targets = evaluate_targets(scenario.profile.targets.values(), slim, units[active], pairs)
    hh = {s: int(base.h[st == s].sum()) for s in SERVICE_STATUSES}
    return QuickResult(scenario.name, comm, targets, hh)


def _facility_units(fac: pd.DataFrame, fids: pd.Index, base: QuickBase) -> pd.DataFrame:
    """Facilities with the units the targets count (street…).

    New or moved ones take the nearest community's, as
    :func:`planner.judge.fill_facility_units` does.
    """
    known = base.fac_units.reindex(fids)
    old_geoms = base.fac_geoms.reindex(fids).to_numpy()
    moved = ~shapely.equals(np.where(pd.isna(old_geoms), None, old_geoms),
                            fac.geometry.to_numpy())
    new = ~fids.isin(base.fac_units.index) | moved
    known["kind"] = fac["kind"].to_numpy(dtype=object)
    if new.any() and "street" in known:
        geoms = fac.geometry.to_numpy()[new]
        src, hit = base.tree.query_nearest(geoms, all_matches=False)
        street = np.full(int(new.sum()), None, dtype=object)
        street[src] = base.streets[hit]
        given = fac["street"].to_numpy(dtype=object)[new] if "street" in fac else street
        known.loc[new, "street"] = [g if isinstance(g, str) and g else s
                                    for g, s in zip(given, street, strict=True)]
    return known

