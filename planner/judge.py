"""What the standards say about an assessed district, beside the catchment measure.

After :mod:`planner.coverage` has computed the catchment measure (``service_status``),
this stage adds what the policy texts ask of each estate and facility and of the district:

- ``allocation_status`` per estate: its own on-site facility (配建) against households ×
  ratio, with pooling where the profile allows it (:mod:`planner.standards.allocation`);
- ``meets_min_size`` per facility against stated minimum sizes only (the smaller size
  where the 社区 has few elderly), and ``subsidy_size_reached`` for subsidy thresholds;
- the targets with deadlines as of a year (:func:`planner.gaps.evaluate_targets`), and a
  timeline year by year as planned facilities open.

Every guess is reported in ``notes``: facility streets taken from an estate, estates with
no ``area_type`` (their circle is the urban one, and they are left out of urban/rural
targets), targets computed on a proxy unit or not computable.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.gaps import _missing, evaluate_targets
from planner.standards import (
    ALLOCATION_STATUSES,
    Profile,
    allocation_status,
    facility_minimum_m2,
    few_elderly,
)
from planner.standards.allocation import TWO_MEASURES


@dataclass
class Judged:
    """The layers with the standards' columns, the targets, the timeline and the notes."""

    communities: pd.DataFrame
    facilities: pd.DataFrame
    targets: pd.DataFrame
    timeline: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def fill_facility_units(
    facilities: pd.DataFrame, communities: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Give every facility the street (and 社区, county) it stands in, row by row.

    A value given in the facilities table is kept. Otherwise it is taken from the estate
    the facility serves (``serves_community_id``), else from the nearest estate; the notes
    say how many of each were filled, so a present-in-unit count is never based on a
    silent guess.

    Parameters
    ----------
    facilities, communities
        GeoDataFrames in the same metric CRS, indexed by ``facility_id`` / ``community_id``.

    Returns
    -------
    tuple of (GeoDataFrame, list of str)
        The facilities with ``street`` (and ``shequ``/``county`` where the communities
        have them) filled, and the notes.
    """
    import geopandas as gpd  # noqa: PLC0415  (only this helper needs geometry)

    fac = facilities.copy()
    notes: list[str] = []
    if "street" not in fac:
        fac["street"] = None  # part of the output contract even when nobody has one
    columns = [c for c in ("street", "shequ", "county") if not _missing(communities, c)]
    if len(fac) == 0 or len(communities) == 0 or not columns:
        return fac, notes
    nearest = gpd.sjoin_nearest(fac[[fac.geometry.name]],
                                communities[[*columns, communities.geometry.name]])
    nearest = nearest[~nearest.index.duplicated()].reindex(fac.index)
    serves = (fac["serves_community_id"].astype("string") if "serves_community_id" in fac
              else pd.Series(pd.NA, index=fac.index, dtype="string"))
    by_id = communities.set_axis(communities.index.astype(str))
    for col in columns:
        given = fac[col] if col in fac else pd.Series(None, index=fac.index, dtype=object)
        empty = given.isna() | (given.astype(str).str.strip() == "")
        from_serves = serves.map(by_id[col]).where(serves.isin(by_id.index))
        use_serves = empty & from_serves.notna()
        use_nearest = empty & ~use_serves
        fac[col] = given.where(~use_serves, from_serves).where(~use_nearest, nearest[col])
        if use_serves.any() or use_nearest.any():
            notes.append(f"设施所在{col}：{int(use_serves.sum())} 个取自所服务小区，"
                         f"{int(use_nearest.sum())} 个取自最近小区 / facility {col}: "
                         f"{int(use_serves.sum())} taken from the estate served, "
                         f"{int(use_nearest.sum())} from the nearest estate (not given)")
    return fac, notes


def timeline(
    profile: Profile,
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    costs: pd.DataFrame,
    *,
    as_of: int,
) -> pd.DataFrame:
    """Year by year from ``as_of``: each target's value as planned facilities open.

    Parameters
    ----------
    profile
        Gives the targets and the allocation ratio.
    communities
        Assessed estates (as for :func:`evaluate_targets`).
    facilities
        Every facility: ``status`` (existing/planned), ``opening_year`` (planned ones
        without it never open), ``kind`` and the columns the targets need.
    costs
        Pairs within circles for existing **and** planned facilities.
    as_of
        First year of the timeline.

    Returns
    -------
    pandas.DataFrame
        One row per year and target: ``year``, ``id``, ``metric``, ``value``,
        ``value_households``, ``threshold``, ``passed``, ``due_year``, ``due_status``,
        ``facilities_open`` (count), ``opened`` (ids of planned facilities opening that
        year) and ``first_year_met`` (the first year the target is met, or NA). The years
        run to the last opening or due year, whichever is later.
    """
    opening = pd.to_numeric(facilities.get("opening_year"), errors="coerce") \
        if "opening_year" in facilities else pd.Series(np.nan, index=facilities.index)
    planned = facilities["status"].eq("planned") if "status" in facilities else \
        pd.Series(False, index=facilities.index)
    dues = [t.due_year for t in profile.targets.values() if t.due_year]
    last = int(max([as_of, *dues, *opening[planned].dropna().astype(int)]))
    rows = []
    unallocated = communities.drop(
        columns=[c for c in communities if c.startswith("allocation_")])
    for year in range(as_of, min(last, as_of + 50) + 1):
        open_now = ~planned | (opening <= year)
        fac = facilities[open_now]
        alloc, _ = allocation_status(unallocated, fac, profile)
        comm = unallocated.join(alloc)
        # pairs of facilities not open this year are dropped inside (no match in fac)
        table = evaluate_targets(profile.targets.values(), comm, fac, costs, as_of=year)
        opened = ", ".join(map(str, facilities.index[planned & (opening == year)]))
        for r in table.itertuples(index=False):
            rows.append({"year": year, "id": r.id, "metric": r.metric, "value": r.value,
                         "value_households": r.value_households, "threshold": r.threshold,
                         "passed": r.passed, "due_year": r.due_year,
                         "due_status": r.due_status, "facilities_open": int(open_now.sum()),
                         "opened": opened})
    out = pd.DataFrame(rows, columns=["year", "id", "metric", "value", "value_households",
                                      "threshold", "passed", "due_year", "due_status",
                                      "facilities_open", "opened"])
    met = out[out["passed"].eq(True)].groupby("id")["year"].min()
    out["first_year_met"] = out["id"].map(met).astype("Int64")
    return out


def _facility_elderly(fac: pd.DataFrame, comm: pd.DataFrame) -> pd.Series:
    """Elderly (60+) of each facility's 社区 (or of the estate it serves), NaN if unknown."""
    out = pd.Series(np.nan, index=fac.index)
    if _missing(comm, "elderly"):
        return out
    if not _missing(comm, "shequ") and "shequ" in fac:
        by_shequ = comm.groupby(comm["shequ"].astype(str))["elderly"].sum(min_count=1)
        out = fac["shequ"].astype(str).map(by_shequ).astype(float)
    if "serves_community_id" in fac:
        by_id = comm["elderly"].set_axis(comm.index.astype(str))
        served = fac["serves_community_id"].astype("string").map(by_id)
        out = out.fillna(pd.to_numeric(served, errors="coerce"))
    return out


def facility_sizes(
    fac: pd.DataFrame, comm: pd.DataFrame, profile: Profile
) -> tuple[pd.DataFrame, list[str]]:
    """``meets_min_size`` against stated minimums, ``subsidy_size_reached`` for subsidies.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        ``few_elderly`` (True/False/None: the facility's 社区 has fewer elderly than the
        profile's ``few_elderly_below``), ``meets_min_size`` (True/False, None where no
        minimum applies) and ``subsidy_size_reached`` (True/False, None without a
        subsidy threshold), indexed like ``fac``; and the notes.
    """
    out = pd.DataFrame(index=fac.index)
    few = pd.Series(few_elderly(_facility_elderly(fac, comm).to_numpy(), profile),
                    index=fac.index, dtype=object)
    minimum = pd.Series(facility_minimum_m2(fac["kind"].to_numpy(), profile,
                                            few_elderly=few.fillna(False).to_numpy()),
                        index=fac.index)
    area = fac["floor_area_m2"].astype(float)
    out["few_elderly"] = few
    out["meets_min_size"] = (area >= minimum).astype(object).where(minimum.notna(), None)
    subsidy = pd.Series(np.nan, index=fac.index)
    for kind, rule in profile.facility_min_m2.items():
        if not rule.is_minimum:
            subsidy[fac["kind"] == kind] = rule.min_m2
    out["subsidy_size_reached"] = (area >= subsidy).astype(object).where(subsidy.notna(), None)
    notes: list[str] = []
    small = [r for r in profile.facility_min_m2.values() if r.is_minimum and r.min_m2_small]
    unknown = fac["kind"].isin([r.kind for r in small]) & few.isna()
    if unknown.any():
        notes.append(f"{int(unknown.sum())} 个设施所在社区老年人口未知，按一般最小面积判断 / "
                     f"{int(unknown.sum())} facilities: elderly of their 社区 unknown "
                     "(needs elderly and shequ or serves_community_id); judged against "
                     "the ordinary minimum size")
    return out, notes


def _area_type_notes(comm: pd.DataFrame) -> list[str]:
    if "area_type_basis" not in comm:
        return []
    n = int((comm["area_type_basis"] != "given").sum())
    if not n:
        return []
    return [f"{n} 个小区缺少城乡类型（area_type），步行圈按城镇计，不计入城乡覆盖率目标 / "
            f"{n} communities have no area_type: their circle is the urban one (assumption) "
            "and they are left out of urban and rural targets"]


def _summary(comm: pd.DataFrame, targets: pd.DataFrame, line: pd.DataFrame,
             first: Any, as_of: int) -> dict[str, Any]:
    """``first`` is the first year each target is met, by target id (from the timeline)."""
    status = comm["allocation_status"]
    hh = comm["households"]
    return {
        "as_of": as_of,
        "measures": TWO_MEASURES,
        "allocation": {
            "by_status": {s: int((status == s).sum()) for s in ALLOCATION_STATUSES},
            "households_by_status": {s: int(hh[status == s].sum()) for s in ALLOCATION_STATUSES},
        },
        "targets_not_computable": {
            r.id: r.verdict for r in targets.itertuples() if not r.computable},
        "timeline": {
            "years": sorted({int(y) for y in line["year"]}) if len(line) else [],
            "first_year_met": {str(k): (None if pd.isna(v) else int(v))
                               for k, v in dict(first).items()},
        },
    }


def judge(
    profile: Profile,
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    costs: pd.DataFrame,
    *,
    as_of: int | None = None,
    planned_costs: pd.DataFrame | None = None,
) -> Judged:
    """Apply the profile's allocation rule, sizes, targets and timeline.

    Parameters
    ----------
    profile
        The standards profile.
    communities
        Assessed estates (after :func:`planner.coverage.assess`), indexed by
        ``community_id``, with ``households``, ``status``, ``area_type``; geometry.
    facilities
        Every facility with ``in_assessment`` (True for those counted now), ``status``,
        ``kind``, ``floor_area_m2``; geometry; optional ``opening_year``.
    costs
        Pairs within circles of the facilities in the assessment.
    as_of
        The year judged (default: the current year).
    planned_costs
        Pairs within circles of planned facilities not in the assessment (for the
        timeline); None when there are none.

    Returns
    -------
    Judged
        ``communities`` gain ``allocation_m2``, ``allocation_required_m2``,
        ``allocation_basis``, ``allocation_status``; ``facilities`` gain ``few_elderly``,
        ``subsidy_size_reached`` and a corrected ``meets_min_size``, with ``street`` (and
        ``shequ``/``county``) filled row by row; ``targets`` gain ``first_year_met`` (the
        first year of the timeline the target is met, NA if never within it).
    """
    as_of = datetime.date.today().year if as_of is None else int(as_of)
    fac, notes = fill_facility_units(facilities, communities)
    active = fac["in_assessment"].astype(bool)
    alloc, alloc_notes = allocation_status(communities, fac[active], profile)
    comm = communities.drop(columns=[c for c in alloc if c in communities]).join(alloc)
    sizes, size_notes = facility_sizes(fac, comm, profile)
    fac = fac.drop(columns=[c for c in sizes if c in fac]).join(sizes)
    targets = evaluate_targets(profile.targets.values(), comm, fac[active], costs, as_of=as_of)
    all_costs = costs if planned_costs is None else pd.concat([costs, planned_costs])
    line = timeline(profile, comm, fac, all_costs, as_of=as_of)
    first = line.drop_duplicates("id").set_index("id")["first_year_met"] if len(line) else {}
    targets["first_year_met"] = targets["id"].map(first).astype("Int64")  # from the timeline
    notes += alloc_notes + size_notes + _area_type_notes(comm) + [TWO_MEASURES]
    notes += undated_planned_notes(fac)
    notes += [f"目标 {r.id}：{r.verdict} / target {r.id}: {r.verdict}"
              for r in targets.itertuples() if not r.computable or r.unit_used != r.unit]
    return Judged(comm, fac, targets, line, notes,
                  _summary(comm, targets, line, first, as_of))


def undated_planned_notes(facilities: pd.DataFrame) -> list[str]:
    """A note when planned facilities have no ``opening_year``: the timeline never opens them.

    Returns an empty list when every planned facility has an opening year (or none is
    planned).
    """
    if "status" not in facilities:
        return []
    year = (pd.to_numeric(facilities["opening_year"], errors="coerce")
            if "opening_year" in facilities else pd.Series(np.nan, index=facilities.index))
    undated = facilities["status"].eq("planned") & year.isna()
    n = int(undated.sum())
    if n == 0:
        return []
    return [f"时间线：{n} 个规划设施无开业年份（opening_year），任何年份均不计入 / timeline: "
            f"{n} planned facilities have no opening_year and open in no year of the "
            "timeline; give opening_year to see when the targets are met"]


def planned_to_open(facilities: pd.DataFrame) -> pd.Series:
    """Planned facilities outside the assessment that open in a given year (the timeline's).

    Boolean, indexed like ``facilities`` (which has ``in_assessment`` and ``status``); all
    False without an ``opening_year`` column.
    """
    if "opening_year" not in facilities:
        return pd.Series(False, index=facilities.index)
    return (~facilities["in_assessment"].astype(bool) & facilities["status"].eq("planned")
            & facilities["opening_year"].notna())


def planned_costs(area: Any, communities: pd.DataFrame, facilities: pd.DataFrame,
                  params: Any, *, study: Any = None) -> pd.DataFrame | None:
    """Pairs within circles of planned facilities with an opening year, not yet assessed.

    For the timeline; None when there are none.

    ``area`` is a :class:`planner.pipeline.StudyArea` (its ``net`` and ``gates``), ``params``
    the run's :class:`planner.reach.ReachParams`. ``study`` is the assessment's
    :class:`planner.reach.StudyGraph` (``ReachResult.study``), built for these
    communities: a copy of it searches from the planned facilities only, without
    snapping every community again (the same pairs as a new graph).
    """
    from planner.reach import circle_pairs, compute_reach  # noqa: PLC0415

    sel = planned_to_open(facilities)
    if not sel.any():
        return None
    if study is not None:
        rows = study.copy().add_facilities(facilities[sel])
        return circle_pairs(rows, communities["circle_minutes"], speed_m_s=params.speed_m_s)
    reach = compute_reach(area.net, communities, facilities[sel],
                          circle_minutes=communities["circle_minutes"].to_numpy(),
                          params=params, gates=area.gates)
    return reach.costs
