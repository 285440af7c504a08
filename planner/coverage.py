r"""Floor area per household within walking circles: a two-step floating catchment.

Pure pandas: no graph and no geometry. The network is already reduced to the long
``costs`` table of ``(facility_id, community_id)`` pairs within each community's circle.

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

import numpy as np
import pandas as pd

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
    required_m2_per_100hh: np.ndarray | pd.Series,
    reachable: np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Step 2: accessible floor area, requirement, shortfall and status per community.

    Parameters
    ----------
    communities
        Indexed by ``community_id`` with ``households``.
    facilities
        The facilities that count, indexed by ``facility_id`` with ``floor_area_m2``.
    costs
        ``facility_id, community_id`` pairs within each community's circle.
    required_m2_per_100hh
        The standard for each community (by its status), m² per 100 households.
    reachable
        False for communities not connected to the network (status ``unreachable``).

    Returns
    -------
    pandas.DataFrame
        ``communities`` with added columns ``facilities_within`` (int),
        ``accessible_m2``, ``accessible_m2_per_100hh``, ``required_m2_per_100hh``,
        ``required_m2``, ``shortfall_m2`` and ``service_status`` (``meets``,
        ``below_standard``, ``uncovered`` or ``unreachable``).
    """
    shares = facility_shares(facilities, communities, costs)
    pairs = costs[costs["facility_id"].isin(facilities.index)]
    per_hh = (shares["m2_per_100hh_served"] / 100).reindex(pairs["facility_id"]).to_numpy()
    by_community = pd.DataFrame({"community_id": pairs["community_id"].to_numpy(),
                                 "per_hh": per_hh}).groupby("community_id")["per_hh"]
    hh = communities["households"].astype(float)
    out = communities.copy()
    out["facilities_within"] = by_community.size().reindex(out.index).fillna(0).astype(int)
    a_per_100 = (100 * by_community.sum()).reindex(out.index).fillna(0.0)
    out["accessible_m2_per_100hh"] = a_per_100
    out["accessible_m2"] = a_per_100 * hh / 100
    req = np.asarray(required_m2_per_100hh, dtype=float)
    out["required_m2_per_100hh"] = req
    out["required_m2"] = req * hh / 100
    out["shortfall_m2"] = np.maximum(0.0, out["required_m2"] - out["accessible_m2"])
    status = np.where(
        out["facilities_within"] == 0, "uncovered",
        np.where(a_per_100 + TOLERANCE_M2_PER_100HH >= req, "meets", "below_standard"),
    )
    if reachable is not None:
        status = np.where(np.asarray(reachable, dtype=bool), status, "unreachable")
    out["service_status"] = status
    return out
