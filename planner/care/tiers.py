"""Tiers of the care network, co-location with health services, and the bed rules.

**Tiers.** A city's network has levels: county (县/市级: Changji's city guidance centre,
Jinzhong's county institution), township (乡镇/街道 centres) and community (社区站, 村互助点).
A facility's level is its ``level`` column, else by kind (:data:`KIND_LEVELS`). The tier
is present in a unit when a facility of that level stands in it: county → the
communities' ``county`` (the whole study area without it), township → ``street``,
community → ``shequ`` (not checked without that column).

**Co-location** (三站合一, Chishui 003 二(七)): a care station counts as built together with
a health centre and a nursing station when each stands within ``colocation_m`` metres
(straight line, metric CRS).

**Beds.** Wanzhou: each street and township centre ≥ 20 beds (002 item 13). Yangjiang:
nursing-type beds ≥ 50 % of institutional beds (001 六), over the facilities with both
``beds`` and ``nursing_beds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["KIND_LEVELS", "UNIT_COLUMNS", "bed_share", "centre_beds", "colocation",
           "facility_levels", "tiers_by_unit"]

#: Level of a facility kind when the ``level`` column does not say.
KIND_LEVELS: dict[str, str] = {"street_centre": "township", "township_centre": "township",
                               "station": "community", "day_care": "community",
                               "mutual_aid": "community"}
#: Communities' column holding the unit of each tier.
UNIT_COLUMNS = {"county": "county", "township": "street", "community": "shequ"}
#: Unit name when the study area has no ``county`` column.
WHOLE_AREA = "(study area)"


def facility_levels(facilities: pd.DataFrame) -> pd.Series:
    """Level of each facility (``county``, ``township``, ``community`` or None)."""
    by_kind = facilities["kind"].map(KIND_LEVELS)
    if "level" not in facilities:
        return by_kind.astype(object).where(by_kind.notna(), None)
    given = facilities["level"].astype(object)
    out = given.where(given.notna() & (given.astype(str).str.strip() != ""), by_kind)
    return out.astype(object).where(out.notna(), None)


def _facility_units(facilities: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                    column: str) -> pd.Series:
    """The unit of each facility: its own column, else that of the nearest community."""
    if column in facilities and facilities[column].notna().all():
        return facilities[column]
    joined = gpd.sjoin_nearest(facilities[[facilities.geometry.name]],
                               communities[[column, communities.geometry.name]])
    nearest = joined.groupby(level=0)[column].first().reindex(facilities.index)
    if column in facilities:
        return facilities[column].where(facilities[column].notna(), nearest)
    return nearest


def tiers_by_unit(communities: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                  tiers: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Whether each required tier exists in each unit.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Rows ``tier, unit_column, unit, facilities, present``; and notes on tiers that
        could not be checked.
    """
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    levels = facility_levels(facilities)
    for tier in tiers:
        column = UNIT_COLUMNS[tier]
        comm = communities
        if column not in comm or comm[column].isna().all():
            if tier != "county":
                notes.append(f"tier {tier}: no '{column}' column in the communities; not checked")
                continue
            comm = comm.assign(county=WHOLE_AREA)
        units = sorted(comm[column].dropna().astype(str).unique())
        fac = facilities[levels == tier]
        counts = pd.Series(dtype=int)
        if len(fac):
            fac_units = (pd.Series(WHOLE_AREA, index=fac.index) if comm is not communities
                         else _facility_units(fac, comm, column))
            counts = fac_units.astype(str).value_counts()
        rows += [{"tier": tier, "unit_column": column, "unit": u,
                  "facilities": int(counts.get(u, 0)), "present": bool(counts.get(u, 0) > 0)}
                 for u in units]
    frame = pd.DataFrame(rows, columns=["tier", "unit_column", "unit", "facilities", "present"])
    return frame, notes


def colocation(facilities: gpd.GeoDataFrame, *, station_kinds: Sequence[str],
               with_kinds: Sequence[str], distance_m: float) -> pd.DataFrame:
    """Distance from each care station to the nearest facility of each ``with_kinds``.

    Returns
    -------
    pandas.DataFrame
        Indexed by station id: ``nearest_<kind>_m`` (metres, straight line; NaN when the
        district has none) per kind, and ``colocated`` (every kind within ``distance_m``).
    """
    stations = facilities[facilities["kind"].isin(station_kinds)]
    out = pd.DataFrame(index=stations.index)
    ok = pd.Series(True, index=stations.index)
    for kind in with_kinds:
        other = facilities[facilities["kind"] == kind]
        col = f"nearest_{kind}_m"
        if len(other) == 0 or len(stations) == 0:
            out[col] = np.nan
            ok &= False
            continue
        _, dist = other.sindex.nearest(stations.geometry, return_distance=True,
                                       return_all=False)
        out[col] = dist
        ok &= out[col] <= distance_m
    out["colocated"] = ok
    return out


def centre_beds(facilities: pd.DataFrame, *, kinds: Sequence[str],
                min_beds: float) -> pd.Series:
    """True/False per centre of ``kinds`` against ``min_beds``; None without beds data."""
    if "beds" not in facilities:
        return pd.Series(None, index=facilities.index, dtype=object)
    beds = pd.to_numeric(facilities["beds"], errors="coerce")
    sel = facilities["kind"].isin(kinds) & beds.notna()
    return pd.Series([bool(b >= min_beds) if s else None for s, b in zip(sel, beds, strict=True)],
                     index=facilities.index, dtype=object)


def bed_share(facilities: pd.DataFrame, *, threshold: float) -> dict[str, Any]:
    """Nursing-type beds among beds, over facilities with both columns and beds > 0.

    Returns
    -------
    dict
        ``beds``, ``nursing_beds``, ``facilities`` (counted), ``share`` (None without
        data), ``threshold`` and ``passed`` (None without data).
    """
    if "beds" not in facilities or "nursing_beds" not in facilities:
        return {"beds": 0, "nursing_beds": 0, "facilities": 0, "share": None,
                "threshold": threshold, "passed": None}
    beds = pd.to_numeric(facilities["beds"], errors="coerce")
    nursing = pd.to_numeric(facilities["nursing_beds"], errors="coerce")
    both = beds.notna() & nursing.notna() & (beds > 0)
    total, nurse = float(beds[both].sum()), float(nursing[both].sum())
    share = nurse / total if total > 0 else None
    return {"beds": int(total), "nursing_beds": int(nurse), "facilities": int(both.sum()),
            "share": share, "threshold": threshold,
            "passed": None if share is None else bool(share >= threshold)}
