"""The care stage: vulnerable elderly, centres, tiers, co-location, health circle, beds.

:func:`assess_care` takes the study area, the assessed layers and the circle pairs, and
returns a :class:`CareResult` holding the raw per-community and per-facility results (for
notebooks: not to be exported as they are) and a summary that is safe to publish.
:func:`export_layers` joins the care columns onto the layers that are written, with every
count of vulnerable elderly under the threshold suppressed (:mod:`planner.care.privacy`).

Network distances come from the reach core (:class:`planner.reach.StudyGraph`): stations
searched from centres up to ``centre_reach_m``; communities from health and care
facilities up to the health-plus-care circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.care.capacity import (
    SUPPLY_COLUMNS,
    VULNERABLE_COLUMNS,
    capacity_catchment,
    care_places,
    vulnerable_demand,
)
from planner.care.centres import centre_loads, lead_stations
from planner.care.privacy import CARE_COUNT_COLUMNS, safe_total, suppress_counts
from planner.care.rules import CareRules, care_rules
from planner.care.tiers import bed_share, centre_beds, colocation, facility_levels, tiers_by_unit

__all__ = ["HEALTH_KINDS", "CareResult", "assess_care", "care_stage", "export_layers",
           "has_care_data"]

#: Health facilities (their own circle; never counted as elderly-care floor area).
HEALTH_KINDS = ("health_centre", "township_hospital")
#: Care columns added to the exported communities (counts suppressed under the threshold).
COMMUNITY_OUT = ("vulnerable_elderly", "care_places_per_100_vulnerable", "lacks_care_places",
                 "nearest_minutes_health", "health_within_circle", "health_plus_care")
#: Care columns added to the exported facilities.
FACILITY_OUT = ("care_places", "vulnerable_in_circle", "care_places_free", "care_level",
                "lead_centre_id", "lead_distance_m", "centre_reaches", "managed_by_check",
                "stations_led", "station_load_status", "colocated", "meets_centre_beds")


@dataclass
class CareResult:
    """Results of the care stage.

    Attributes
    ----------
    rules
        The resolved care rules with sources.
    communities
        Raw per-community results (counts not suppressed: do not export as is).
    facilities
        Per-facility results.
    tiers
        ``tier, unit_column, unit, facilities, present``.
    summary
        JSON-ready and safe to publish (aggregates, small counts suppressed).
    """

    rules: CareRules
    communities: pd.DataFrame
    facilities: pd.DataFrame
    tiers: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def report_choices(self) -> list[str]:
        """The lines every report shows: demand basis, suppression, assumptions count."""
        assumed = [k for k, r in self.rules.rules.items() if r.assumption]
        return [*self.summary.get("choices", [])[:2],
                f"care checks: {len(assumed)} thresholds are assumptions, not stated by "
                f"the city ({', '.join(assumed)}); see summary.json care.rules"]


def has_care_data(communities: pd.DataFrame, facilities: pd.DataFrame) -> bool:
    """True when the layers carry any care input (vulnerable counts, places, health kinds…)."""
    comm_cols = (*VULNERABLE_COLUMNS, "vulnerable_elderly")
    fac_cols = ("day_care_places", "home_visit_capacity", "managed_by", "nursing_beds")
    return (any(c in communities and communities[c].notna().any() for c in comm_cols)
            or any(c in facilities and facilities[c].notna().any() for c in fac_cols)
            or bool(facilities["kind"].isin([*HEALTH_KINDS, "nursing_station"]).any()))


def _distances(net: Any, targets: gpd.GeoDataFrame, sources: gpd.GeoDataFrame, max_m: float,
               gates: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Network metres from each source (a facility) to each target within ``max_m``."""
    from planner.reach import StudyGraph  # noqa: PLC0415

    if len(targets) == 0 or len(sources) == 0:
        return pd.DataFrame({"facility_id": [], "community_id": [], "distance_m": []})
    targets = targets[[targets.geometry.name]].rename_axis("community_id")
    sources = sources[["kind", sources.geometry.name]].rename_axis("facility_id")
    sg = StudyGraph.build(net, targets, sources, gates=gates, max_distance_m=float(max_m))
    return sg.costs[["facility_id", "community_id", "distance_m"]]


def _centres(area: Any, fac: gpd.GeoDataFrame, rules: CareRules) -> pd.DataFrame:
    centres = fac[fac["kind"].isin(rules["centre_kinds"])]
    stations = fac[fac["kind"].isin(rules["station_kinds"])]
    d = _distances(area.net, stations, centres, rules["centre_reach_m"]).rename(
        columns={"facility_id": "centre_id", "community_id": "station_id"})
    managed = fac.loc[stations.index, "managed_by"] if "managed_by" in fac else None
    if managed is not None and managed.isna().all():
        managed = None
    lead = lead_stations(stations.index, d, reach_m=rules["centre_reach_m"],
                         managed_by=managed, centres=centres.index)
    loads = centre_loads(centres.index, lead, per_centre=rules["stations_per_centre"])
    return lead.join(loads, how="outer")


def _health(area: Any, comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, rules: CareRules,
            speed_m_s: float, care_kinds: set[str]) -> pd.DataFrame | None:
    health = fac[fac["kind"].isin(HEALTH_KINDS)]
    if len(health) == 0:
        return None
    minutes = rules["health_circle_minutes"]
    limit = comm["area_type"].map(minutes).astype(float)
    care = fac[fac["kind"].isin(care_kinds)]
    sources = pd.concat([health, care])
    d = _distances(area.net, area.communities, sources, limit.max() * 60 * speed_m_s,
                   gates=area.gates)
    d = d.assign(minutes=d["distance_m"] / speed_m_s / 60,
                 health=d["facility_id"].isin(health.index).to_numpy())
    d = d[d["minutes"] <= limit.reindex(d["community_id"]).to_numpy()]
    nearest = d[d["health"]].groupby("community_id")["minutes"].min()
    out = pd.DataFrame(index=comm.index)
    out["nearest_minutes_health"] = nearest.reindex(comm.index)
    out["health_within_circle"] = out["nearest_minutes_health"].notna()
    care_ok = d[~d["health"]].groupby("community_id").size().reindex(comm.index).notna()
    out["health_plus_care"] = out["health_within_circle"] & care_ok
    return out


def _ids(mask: pd.Series) -> list[str]:
    return [str(i) for i in mask[mask.fillna(False).astype(bool)].index]


def assess_care(area: Any, comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, costs: pd.DataFrame,
                profile: Any, *, speed_m_s: float) -> CareResult:
    """Run the care checks.

    Parameters
    ----------
    area
        The study area (``net``, ``communities``, ``gates``).
    comm, fac
        The assessed communities and facilities (metric CRS; ``area_type``, ``street``,
        ``in_assessment``).
    costs
        Circle pairs ``facility_id, community_id`` (community inside the facility's circle).
    profile
        The standards profile (its ``chain`` selects the care rules).
    speed_m_s
        Walking speed, m/s.
    """
    rules = care_rules(tuple(getattr(profile, "chain", ("national",))))
    active = fac[fac["in_assessment"]] if "in_assessment" in fac else fac
    demand, basis = vulnerable_demand(comm)
    places = care_places(active)
    c_comm, c_fac = capacity_catchment(demand, places[places > 0], costs,
                                       min_per_100=rules["places_per_100_vulnerable"])
    c_fac = c_fac.reindex(fac.index)
    c_fac["care_places"] = care_places(fac)
    c_fac["care_level"] = facility_levels(fac)
    c_fac = c_fac.join(_centres(area, active, rules))
    c_fac = c_fac.join(colocation(active, station_kinds=rules["station_kinds"],
                                  with_kinds=rules["colocation_kinds"],
                                  distance_m=rules["colocation_m"]))
    c_fac["meets_centre_beds"] = centre_beds(fac, kinds=rules["centre_kinds"],
                                             min_beds=rules["centre_min_beds"])
    counted = set(profile.area_counted_kinds.kinds) if hasattr(profile, "area_counted_kinds") \
        else {"station", "day_care", "street_centre", "township_centre", "mutual_aid"}
    health = _health(area, comm, active, rules, speed_m_s, counted)
    if health is not None:
        c_comm = c_comm.join(health)
    tiers, tier_notes = tiers_by_unit(comm, active, rules["tiers"])
    result = CareResult(rules, c_comm, c_fac, tiers)
    result.summary = _summary(result, comm, fac, basis, tier_notes, health is not None)
    return result


def _summary(care: CareResult, comm: pd.DataFrame, fac: pd.DataFrame, basis: str,
             tier_notes: list[str], has_health: bool) -> dict[str, Any]:
    rules, c, f = care.rules, care.communities, care.facilities
    k = int(rules["suppress_below"])
    lacking = c["lacks_care_places"]
    centres = f[fac["kind"].isin(rules["centre_kinds"]).reindex(f.index, fill_value=False)]
    stations = f[fac["kind"].isin(rules["station_kinds"]).reindex(f.index, fill_value=False)]
    missing = care.tiers[~care.tiers["present"]] if len(care.tiers) else care.tiers
    choices = [f"vulnerable elderly = {basis}" + (
        " (the largest of elderly_80plus, living_alone, empty_nest, disabled: a lower bound, "
        "since one person can be in several groups)" if basis == "max_of_groups" else ""),
        f"counts of vulnerable elderly under {k} are suppressed in every exported file; "
        f"totals are rounded to a multiple of {k}"]
    out: dict[str, Any] = {
        "rules": rules.to_dict(),
        "choices": choices + rules.assumptions(),
        "suppress_below": k,
        "vulnerable": {
            "basis": basis,
            "communities_with_data": int(c["vulnerable_elderly"].notna().sum()),
            "total": safe_total(c["vulnerable_elderly"], threshold=k),
            "by_group": {g: safe_total(pd.to_numeric(comm[g], errors="coerce"), threshold=k)
                         for g in VULNERABLE_COLUMNS if g in comm},
            "places_per_100_required": rules["places_per_100_vulnerable"],
            "communities_lacking_places": int(lacking.fillna(False).astype(bool).sum()),
            "communities_lacking_places_ids": _ids(lacking),
        },
        "places": {"total": int(f["care_places"].fillna(0).sum()),
                   "by_column": {s: int(pd.to_numeric(fac[s], errors="coerce").fillna(0).sum())
                                 for s in SUPPLY_COLUMNS if s in fac}},
        "centres": {
            "count": len(centres), "stations_per_centre": rules["stations_per_centre"],
            "reach_m": rules["centre_reach_m"],
            **{status: _ids(centres["station_load_status"] == status)
               for status in ("over", "at", "under", "none")},
        },
        "stations": {"count": len(stations),
                     "not_reached_by_a_centre": _ids(~stations["centre_reaches"].astype(bool)),
                     **({"managed_by_problems": {str(i): v for i, v in
                                                stations["managed_by_check"].items()
                                                if v != "ok"}}
                        if "managed_by_check" in stations else {})},
        "tiers": {"required": list(rules["tiers"]), "notes": tier_notes,
                  "missing": missing[["tier", "unit"]].to_dict("records")},
        "colocation": {"distance_m": rules["colocation_m"], "kinds": rules["colocation_kinds"],
                       "stations": len(stations),
                       "colocated": int(stations["colocated"].fillna(False).sum()),
                       "not_colocated": _ids(~stations["colocated"].fillna(False).astype(bool))},
        "beds": {"centre_min_beds": rules["centre_min_beds"],
                 "centres_checked": int(f["meets_centre_beds"].notna().sum()),
                 "centres_below": _ids(f["meets_centre_beds"] == False),  # noqa: E712
                 "nursing_share": bed_share(fac[fac["kind"] != "nursing_station"],
                                            threshold=rules["nursing_bed_share"])},
        "health_circle": None,
    }
    if has_health:
        hh = comm["households"]
        out["health_circle"] = {
            "minutes": rules["health_circle_minutes"],
            "communities_health_within": int(c["health_within_circle"].sum()),
            "communities_health_plus_care": int(c["health_plus_care"].sum()),
            "share_households_health_plus_care":
                float(hh[c["health_plus_care"].reindex(hh.index, fill_value=False)].sum()
                      / hh.sum()) if hh.sum() else None,
        }
    return out


def export_layers(comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame,
                  care: CareResult) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The layers to write: care columns joined, small counts suppressed.

    The input count columns (``elderly_80plus``, ``living_alone``, ``empty_nest``,
    ``disabled``) and ``vulnerable_elderly`` become ``"<k>"`` under the threshold ``k``;
    ``care_places_per_100_vulnerable`` is withheld where ``vulnerable_elderly`` was
    suppressed (with one community in a facility's circle the rate reveals the count), and
    a facility's ``vulnerable_in_circle`` is suppressed under the threshold too, with its
    ``care_places_free`` (places minus free places would give the count).
    """
    k = int(care.rules["suppress_below"])
    add = [c for c in COMMUNITY_OUT if c in care.communities and c not in comm]
    out_c = comm.join(care.communities[add])
    out_c = suppress_counts(out_c, ("vulnerable_elderly",), threshold=k,
                            withhold=("care_places_per_100_vulnerable",))
    out_c = suppress_counts(out_c, [c for c in CARE_COUNT_COLUMNS if c != "vulnerable_elderly"],
                            threshold=k)
    add_f = [c for c in FACILITY_OUT if c in care.facilities and c not in fac]
    out_f = fac.join(care.facilities[add_f])
    out_f = suppress_counts(out_f, ("vulnerable_in_circle",), threshold=k,
                            withhold=("care_places_free",))  # places − free = the count
    for col in ("care_places_per_100_vulnerable", "lead_distance_m"):
        for frame in (out_c, out_f):
            if col in frame:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").round(1)
    return out_c, out_f



def care_stage(area: Any, comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, costs: pd.DataFrame,
               profile: Any, *, speed_m_s: float,
               ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, CareResult | None]:
    """The pipeline's hook: read the care columns, run the checks, suppress for export.

    Returns the layers unchanged and ``None`` when the district has no care data (no
    vulnerable counts, care places, ``managed_by``, nursing beds or health facilities).
    """
    from planner.care.columns import attach_care_columns  # noqa: PLC0415

    comm, fac = attach_care_columns(area, comm, fac)
    if not has_care_data(comm, fac):
        return comm, fac, None
    care = assess_care(area, comm, fac, costs, profile, speed_m_s=speed_m_s)
    comm, fac = export_layers(comm, fac, care)
    return comm, fac, care
