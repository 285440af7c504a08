r"""Floor area per household within walking circles: a two-step floating catchment.

Pure pandas: no graph and no geometry. The network is already reduced to the long cost
table ``(facility_id, community_id, distance_m)`` (:mod:`planner.reach.costs`); coverage
applies each community's circle minutes and the walking speed to it
(:func:`planner.reach.circle_pairs`), so a what-if on minutes or speed re-filters the
table and never searches the network again.

Step 1, per facility :math:`j` with floor area :math:`S_j` (m²): the households inside
its circle share it,

.. math:: R_j = \frac{S_j}{\sum_{k \in C_j} h_k}\quad\text{(m² per household)}

Step 2, per community :math:`i`: the shares of every facility whose circle holds it add up,

.. math:: A_i = 100 \sum_{j : i \in C_j} R_j\quad\text{(m² per 100 households)}

The community's accessible floor area is :math:`A_i h_i / 100` m²; its requirement is
:math:`r_i h_i / 100` m² with :math:`r_i` the profile's m² per 100 households for its
status (new-build or old); the shortfall is the positive part of the difference. Over a
district, the accessible areas add up to the floor area of the facilities that serve
anyone, so nothing is counted twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pandas as pd

from planner._errors import InputError
from planner.reach.costs import circle_pairs
from planner.standards import range_position, required_m2_per_100hh

if TYPE_CHECKING:
    from planner.standards import Profile

#: A per-community value: the name of a column of ``communities``, a Series indexed by
#: ``community_id``, or (older callers) an array in the communities' order.
PerCommunity: TypeAlias = str | pd.Series | np.ndarray

#: Ratios this close to the requirement count as meeting it (m² per 100 households),
#: so a value printed as 20.0 never fails a 20 m² rule by rounding.
TOLERANCE_M2_PER_100HH = 1e-6


def facility_shares(
    facilities: pd.DataFrame, communities: pd.DataFrame, costs: pd.DataFrame
) -> pd.DataFrame:
    """Step 1: households inside each facility's circle and its floor area per household.

    Parameters
    ----------
    facilities
        Indexed by ``facility_id``, with ``floor_area_m2``. Only facilities that count
        (the caller filters kinds and planned ones) should be passed.
    communities
        Indexed by ``community_id``, with ``households``.
    costs
        ``facility_id, community_id`` pairs within circles.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``facilities``: ``communities_served``, ``households_served`` and
        ``m2_per_100hh_served`` (NaN when the circle holds no households).
    """
    pairs = costs[costs["facility_id"].isin(facilities.index)]
    hh = communities["households"].reindex(pairs["community_id"]).to_numpy()
    served = pd.DataFrame({"facility_id": pairs["facility_id"].to_numpy(), "households": hh})
    grouped = served.groupby("facility_id")["households"]
    out = pd.DataFrame(index=facilities.index)
    out["communities_served"] = grouped.size().reindex(out.index).fillna(0).astype(int)
    out["households_served"] = grouped.sum().reindex(out.index).fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = facilities["floor_area_m2"] / out["households_served"]
    out["m2_per_100hh_served"] = (100 * ratio).where(out["households_served"] > 0)
    return out


def assess(
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    costs: pd.DataFrame,
    *,
    required_m2_per_100hh: PerCommunity = "required_m2_per_100hh",
    reachable: PerCommunity | None = None,
    circle_minutes: PerCommunity | None = None,
    speed_m_s: float | None = None,
) -> pd.DataFrame:
    """Step 2: accessible floor area, requirement, shortfall and status per community.

    Parameters
    ----------
    communities
        Indexed by ``community_id`` with ``households``.
    facilities
        The facilities that count, indexed by ``facility_id`` with ``floor_area_m2``.
    costs
        Columns ``facility_id, community_id`` (and ``distance_m`` in metres when
        ``circle_minutes`` is given): with ``circle_minutes`` a cost table up to at least
        the largest circle, filtered here; without, the pairs already within circles.
    required_m2_per_100hh
        The standard for each community (by its status), m² per 100 households: a
        column name, a Series indexed by ``community_id``, or an array in row order.
    reachable
        False for communities not connected to the network (status ``unreachable``);
        same forms.
    circle_minutes
        Each community's walking circle in minutes (same forms); needs ``speed_m_s``.
    speed_m_s
        Walking speed in metres per second; a circle of ``m`` minutes holds the pairs
        with ``distance_m <= m × 60 × speed_m_s``.

    Returns
    -------
    pandas.DataFrame
        ``communities`` with added columns ``facilities_within`` (int),
        ``accessible_m2``, ``accessible_m2_per_100hh``, ``required_m2_per_100hh``,
        ``required_m2``, ``shortfall_m2`` and ``service_status`` (``meets``,
        ``below_standard``, ``uncovered`` or ``unreachable``).
    """
    if circle_minutes is not None:
        if speed_m_s is None:
            msg = "coverage.assess: circle_minutes needs speed_m_s (metres per second)."
            raise InputError(msg)
        minutes = _per_community(communities, circle_minutes, "circle_minutes")
        costs = circle_pairs(costs, minutes, speed_m_s=speed_m_s)
    shares = facility_shares(facilities, communities, costs)
    pairs = costs[costs["facility_id"].isin(facilities.index)]
    per_hh = (shares["m2_per_100hh_served"] / 100).reindex(pairs["facility_id"]).to_numpy()
    by_community = pd.DataFrame({"community_id": pairs["community_id"].to_numpy(),
                                 "per_hh": per_hh}).groupby("community_id")["per_hh"]
    hh = communities["households"].astype(float)
    req = _per_community(communities, required_m2_per_100hh, "required_m2_per_100hh")
    req = req.to_numpy(dtype=float)
    out = communities.copy()
    out["facilities_within"] = by_community.size().reindex(out.index).fillna(0).astype(int)
    a_per_100 = (100 * by_community.sum()).reindex(out.index).fillna(0.0)
    out["accessible_m2_per_100hh"] = a_per_100
    out["accessible_m2"] = a_per_100 * hh / 100
    out["required_m2_per_100hh"] = req
    out["required_m2"] = req * hh / 100
    out["shortfall_m2"] = np.maximum(0.0, out["required_m2"] - out["accessible_m2"])
    status = np.where(
        out["facilities_within"] == 0, "uncovered",
        np.where(a_per_100 + TOLERANCE_M2_PER_100HH >= req, "meets", "below_standard"),
    )
    if reachable is not None:
        ok = _per_community(communities, reachable, "reachable").to_numpy(dtype=bool)
        status = np.where(ok, status, "unreachable")
    out["service_status"] = status
    return out


def assess_profile(
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    costs: pd.DataFrame,
    profile: Profile,
    *,
    speed_m_s: float,
    counted_kinds: set[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every per-community and per-facility floor-area metric against a profile.

    Parameters
    ----------
    communities
        Indexed by ``community_id`` with ``households``, ``status`` (new/old),
        ``circle_minutes``, ``access_points`` (0: not on the network), optional
        ``residents``.
    facilities
        Indexed by ``facility_id`` with ``kind``, ``floor_area_m2``, ``in_assessment``.
    costs
        The cost table up to at least the largest circle (metres,
        :mod:`planner.reach.costs`).
    profile
        The standards profile (m² per 100 households, land per resident, counted kinds).
    speed_m_s
        Walking speed in metres per second (circles: minutes × 60 × speed).
    counted_kinds
        Kinds whose floor area counts (default: the profile's ``area_counted_kinds``).

    Returns
    -------
    tuple of pandas.DataFrame
        Communities with the columns of :func:`assess` plus ``standard_range`` and,
        when ``residents`` is given, ``required_land_m2`` (m²); facilities with
        ``communities_served``, ``households_served`` and ``m2_per_100hh_served``.
    """
    counted = set(profile.area_counted_kinds.kinds if counted_kinds is None else counted_kinds)
    pairs = circle_pairs(costs, communities["circle_minutes"], speed_m_s=speed_m_s)
    active = facilities["in_assessment"].astype(bool)
    required = pd.Series(np.asarray(required_m2_per_100hh(
        communities["status"].to_numpy(), profile), dtype=float), index=communities.index)
    comm = assess(communities, facilities[active & facilities["kind"].isin(counted)], pairs,
                  required_m2_per_100hh=required, reachable=communities["access_points"] > 0)
    if "residents" in comm:
        # land for elderly-care facilities: m² per resident (000 (六), 004 item 5)
        comm["required_land_m2"] = comm["residents"] * profile.land_per_resident_m2.value
    comm["standard_range"] = range_position(
        comm["accessible_m2_per_100hh"].to_numpy(), comm["status"].to_numpy(), profile)
    fac = facilities.join(facility_shares(facilities[active], comm, pairs))
    return comm, fac


def _per_community(communities: pd.DataFrame, value: PerCommunity, name: str) -> pd.Series:
    """A per-community value as a Series aligned with ``communities``."""
    if isinstance(value, str):
        if value not in communities:
            msg = f"communities: no column {value!r} for {name}."
            raise InputError(msg)
        return communities[value]
    if isinstance(value, pd.Series):
        out = value.reindex(communities.index)
        if out.isna().any() and not value.index.equals(communities.index):
            first = communities.index[out.isna().to_numpy()][0]
            msg = f"{name}: no value for community_id {first!r}."
            raise InputError(msg)
        return out
    arr = np.asarray(value)
    if len(arr) != len(communities):
        msg = f"{name}: {len(arr)} values for {len(communities)} communities."
        raise InputError(msg)
    return pd.Series(arr, index=communities.index)
