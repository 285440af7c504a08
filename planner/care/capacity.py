"""Vulnerable elderly as demand, care places as supply: a capacity floating catchment.

Demand per community *i* is its number of vulnerable elderly *v_i* (people): the column
``vulnerable_elderly`` when given (a register's count of distinct people), else the largest
of ``elderly_80plus``, ``living_alone``, ``empty_nest`` and ``disabled`` — a lower bound,
since one person can be in several groups and their sum would count them twice (the
choice is reported).

Supply per facility *j* is its care places *P_j* = ``beds`` + ``day_care_places`` +
``home_visit_capacity`` (people it can serve; missing values count 0).

The two-step floating catchment on capacity, over the same circle pairs as the floor-area
measure (community *i* inside facility *j*'s walking circle, by *i*'s circle minutes)::

    R_j = P_j / Σ_{k ∈ C_j} v_k                  places per vulnerable elderly in j's circle
    rate_i = 100 Σ_{j: i ∈ C_j} R_j              places per 100 vulnerable elderly
    places_i = rate_i × v_i / 100                places accessible to i

Over the district the accessible places add up to the places of the facilities that have
vulnerable elderly within their circles, so nothing is counted twice. A community *lacks
places* when it has vulnerable elderly and ``rate_i`` is under the rule
``places_per_100_vulnerable``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SUPPLY_COLUMNS", "VULNERABLE_COLUMNS", "capacity_catchment", "care_places",
           "vulnerable_demand"]

#: Groups of vulnerable elderly (people per community): 80+, living alone, empty nest, disabled.
VULNERABLE_COLUMNS = ("elderly_80plus", "living_alone", "empty_nest", "disabled")
#: Care places of a facility (people it can serve).
SUPPLY_COLUMNS = ("beds", "day_care_places", "home_visit_capacity")


def vulnerable_demand(communities: pd.DataFrame) -> tuple[pd.Series, str]:
    """Vulnerable elderly per community (people; NaN when no column is given) and the basis.

    Returns
    -------
    (pandas.Series, str)
        Indexed like ``communities``; the basis is ``"vulnerable_elderly"`` (given),
        ``"max_of_groups"`` (lower bound from the groups) or ``"none"``.
    """
    if "vulnerable_elderly" in communities:
        return pd.to_numeric(communities["vulnerable_elderly"], errors="coerce"), \
            "vulnerable_elderly"
    groups = [c for c in VULNERABLE_COLUMNS if c in communities]
    if not groups:
        return pd.Series(np.nan, index=communities.index), "none"
    frame = communities[groups].apply(pd.to_numeric, errors="coerce")
    return frame.max(axis=1, skipna=True), "max_of_groups"


def care_places(facilities: pd.DataFrame) -> pd.Series:
    """Care places per facility: beds + day-care places + home-visit capacity (people)."""
    total = pd.Series(0.0, index=facilities.index)
    for col in SUPPLY_COLUMNS:
        if col in facilities:
            total += pd.to_numeric(facilities[col], errors="coerce").fillna(0).astype(float)
    return total


def capacity_catchment(
    demand: pd.Series,
    places: pd.Series,
    pairs: pd.DataFrame,
    *,
    min_per_100: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Places per 100 vulnerable elderly within the walking circle.

    Parameters
    ----------
    demand
        Vulnerable elderly per community (people), indexed by ``community_id``.
    places
        Care places per facility (people), indexed by ``facility_id``; only these
        facilities supply places.
    pairs
        ``facility_id, community_id``: community inside the facility's circle.
    min_per_100
        Places per 100 vulnerable elderly a community needs.

    Returns
    -------
    (communities, facilities)
        Communities indexed by ``community_id``: ``vulnerable_elderly``,
        ``care_places_accessible`` (places), ``care_places_per_100_vulnerable``,
        ``care_places_required`` (places) and ``lacks_care_places`` (True/False; None
        without vulnerable elderly or data). Facilities indexed by ``facility_id``:
        ``care_places``, ``vulnerable_in_circle`` (people) and ``care_places_free``
        (places beyond one per vulnerable elderly person in the circle, ≥ 0).
    """
    v = demand.astype(float)
    p = pairs[["facility_id", "community_id"]]
    p = p[p["facility_id"].isin(places.index) & p["community_id"].isin(v.index)]
    p = p.assign(v=v.reindex(p["community_id"]).fillna(0).to_numpy())
    in_circle = p.groupby("facility_id")["v"].sum().reindex(places.index, fill_value=0.0)
    ratio = (places / in_circle.where(in_circle > 0)).fillna(0.0)  # R_j, places per person
    p = p.assign(r=ratio.reindex(p["facility_id"]).to_numpy())
    rate = 100 * p.groupby("community_id")["r"].sum().reindex(v.index, fill_value=0.0)
    rate = rate.where(v > 0)  # no rate without vulnerable elderly
    comm = pd.DataFrame({
        "vulnerable_elderly": v,
        "care_places_accessible": rate * v / 100,
        "care_places_per_100_vulnerable": rate,
        "care_places_required": v * min_per_100 / 100,
    }, index=v.index)
    comm["lacks_care_places"] = pd.Series(
        [bool(r < min_per_100) if n > 0 else None for n, r in zip(v, rate, strict=True)],
        index=v.index, dtype=object)
    fac = pd.DataFrame({"care_places": places, "vulnerable_in_circle": in_circle,
                        "care_places_free": (places - in_circle).clip(lower=0)})
    return comm, fac
