"""Facilities of the synthetic sample district: kinds, hosts, names and sizes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from planner.sample.communities import (
    _two_char_names,
)
from planner.sample.layout import (
    _NURSING_SUFFIXES,
    FACILITY_BEDS,
    FACILITY_FLOOR_AREA_M2,
    OUTPUT_CRS,
    PLANNED_P,
    SERVED_NEW_AREA_FRACTION,
    _Layout,
    _to_lonlat,
)

# --------------------------------------------------------------------------- facilities


def _facility_kinds(n: int, n_streets: int, n_townships: int, n_villages: int) -> list[str]:
    """Return the kinds of ``n`` facilities: a centre per 街道/乡镇, then a mix."""
    townships = min(n_townships, max(1, round(0.06 * n))) if n_villages else 0
    mutual = min(n_villages - townships, round(0.10 * n)) if n_villages else 0
    street = min(n_streets, max(1, round(0.12 * n)))
    nursing = round(0.10 * n)
    day_care = round(0.20 * n)
    counts = {  # on a tie, the first kind listed gives way first
        "township_centre": townships,
        "street_centre": street,
        "nursing_home": nursing,
        "day_care": day_care,
        "mutual_aid": mutual,
    }
    while sum(counts.values()) > n:
        big = max(counts, key=lambda k: counts[k])
        counts[big] -= 1
    counts["station"] = n - sum(counts.values())
    return [k for k in FACILITY_FLOOR_AREA_M2 for _ in range(counts.get(k, 0))]


def _facility_hosts(
    kinds: list[str], comm: pd.DataFrame, served: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Pick the community hosting each facility (urban kinds only where ``served``)."""
    hosts = np.full(len(kinds), -1)
    kinds_arr = np.array(kinds)
    rural = np.flatnonzero(comm["zone"].to_numpy() == 2)
    pool = rng.permutation(np.flatnonzero(served if served.any() else comm["zone"].to_numpy() < 2))
    if len(pool) == 0:
        pool = rng.permutation(len(comm))
    centres = np.flatnonzero(kinds_arr == "street_centre")
    by_street = pd.Series(pool).groupby(comm["street"].to_numpy()[pool], sort=True).first()
    hosts[centres] = by_street.to_numpy()[rng.permutation(len(by_street))][: len(centres)]
    towns = np.flatnonzero(kinds_arr == "township_centre")
    by_town = pd.Series(rural).groupby(comm["street"].to_numpy()[rural], sort=True).first()
    hosts[towns] = by_town.to_numpy()[rng.permutation(len(by_town))][: len(towns)]
    rural_left = rng.permutation(np.setdiff1d(rural, hosts))
    mutual = np.flatnonzero(kinds_arr == "mutual_aid")
    hosts[mutual] = rural_left[: len(mutual)]
    rest = np.flatnonzero(hosts < 0)
    free = np.setdiff1d(pool, hosts, assume_unique=False)
    free = free[rng.permutation(len(free))]
    if len(free) < len(rest):
        free = np.r_[free, rng.choice(pool, len(rest) - len(free))]
    hosts[rest] = free[: len(rest)]
    return hosts


def _facility_table(
    kinds: list[str], hosts: np.ndarray, comm: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Name and size the facilities."""
    n = len(kinds)
    u = rng.random((4, n))
    host_name = comm["name"].to_numpy()[hosts]
    street = comm["street"].to_numpy()[hosts]
    stems = _two_char_names(n, rng)
    names = []
    for k, kind in enumerate(kinds):
        names.append(
            {
                "station": f"{host_name[k]}养老服务站",
                "day_care": f"{host_name[k]}日间照料中心",
                "street_centre": f"{street[k]}养老服务中心",
                "township_centre": f"{street[k]}养老服务中心",
                "nursing_home": f"{stems[k]}{_NURSING_SUFFIXES[int(u[3, k] * 4)]}",
                "mutual_aid": f"{host_name[k]}农村互助幸福院",
            }[kind]
        )
    lo = np.array([FACILITY_FLOOR_AREA_M2[k][0] for k in kinds], float)
    hi = np.array([FACILITY_FLOOR_AREA_M2[k][1] for k in kinds], float)
    beds_lo = np.array([FACILITY_BEDS[k][0] for k in kinds])
    beds_hi = np.array([FACILITY_BEDS[k][1] for k in kinds])
    planned = np.zeros(n, bool)
    planned[rng.permutation(n)[: round(PLANNED_P * n)]] = True
    return pd.DataFrame(
        {
            "facility_id": [f"F{k + 1:03d}" for k in range(n)],
            "name": names,
            "kind": kinds,
            "floor_area_m2": np.round(lo + (hi - lo) * u[0], -1),
            "beds": (beds_lo + np.floor((beds_hi - beds_lo + 1) * u[1])).astype(np.int64),
            "status": np.where(planned, "planned", "existing"),
        }
    )


def _facilities_frame(
    comm: gpd.GeoDataFrame,
    lay: _Layout,
    n: int,
    *,
    offset: np.ndarray,
    transformer: Transformer,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Place ``n`` facilities, leaving the east of the new-build area without any."""
    zone = comm["zone"].to_numpy()
    served = (zone == 0) | (
        (zone == 1) & (comm["x_m"].to_numpy() < SERVED_NEW_AREA_FRACTION * lay.east_m)
    )
    n_villages = int((zone == 2).sum())
    n_towns = comm.loc[zone == 2, "street"].nunique()
    kinds = _facility_kinds(n, comm.loc[served, "street"].nunique(), n_towns, n_villages)
    hosts = _facility_hosts(kinds, comm, served, rng)
    table = _facility_table(kinds, hosts, comm, rng)
    xy = comm[["x_m", "y_m"]].to_numpy()[hosts]
    lonlat = _to_lonlat(xy, offset, transformer)
    return gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=OUTPUT_CRS
    )
