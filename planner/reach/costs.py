"""The cost table: the seam between the walking network and the metrics.

A long :class:`pandas.DataFrame` with one row per (facility, community) pair within the
largest walking budget needed:

=============== ======== ===========================================================
column          dtype    meaning
=============== ======== ===========================================================
``facility_id`` any      the facility (index value of the facilities layer)
``community_id`` any     the community (index value of the communities layer)
``distance_m``  float64  network metres from the community's best access point to the
                         facility, off-road walks included; finite and ``>= 0``
=============== ======== ===========================================================

Coverage applies each community's circle minutes and the walking speed to it
(:func:`circle_pairs`, called by :func:`planner.coverage.assess`), so a what-if on
minutes or speed re-filters the table instead of searching the network again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner._errors import InputError, MissingColumnError
from planner.units import metres_for_minutes, minutes_for_metres

#: Columns of the cost table, in order.
COST_COLUMNS = ("facility_id", "community_id", "distance_m")


def empty_costs() -> pd.DataFrame:
    """A cost table with no rows."""
    return pd.DataFrame({"facility_id": pd.Series(dtype=object),
                         "community_id": pd.Series(dtype=object),
                         "distance_m": pd.Series(dtype=float)})


def validate_costs(costs: pd.DataFrame, *, source: str = "costs") -> pd.DataFrame:
    """Check a cost table and return it unchanged.

    Parameters
    ----------
    costs
        Columns ``facility_id``, ``community_id`` and ``distance_m`` (metres).
    source
        Name of the table in messages (a file name when it was read from one).

    Returns
    -------
    pandas.DataFrame
        ``costs`` itself.

    Raises
    ------
    MissingColumnError
        A column is missing.
    InputError
        ``distance_m`` is not numeric, is NaN, infinite or negative, or a
        (facility_id, community_id) pair appears twice; the message names the first
        offending row and its values.
    """
    if not isinstance(costs, pd.DataFrame):
        msg = f"{source}: expected a pandas DataFrame, got {type(costs).__name__}."
        raise InputError(msg)
    missing = [c for c in COST_COLUMNS if c not in costs.columns]
    if missing:
        msg = (f"{source}: missing column(s) {', '.join(missing)}; a cost table has "
               f"columns {', '.join(COST_COLUMNS)}.")
        raise MissingColumnError(msg)
    d = costs["distance_m"]
    if not pd.api.types.is_numeric_dtype(d) or pd.api.types.is_bool_dtype(d):
        msg = f"{source}: column distance_m has dtype {d.dtype}; it must hold metres as numbers."
        raise InputError(msg)
    values = d.to_numpy(dtype=float)
    for bad, what in ((~np.isfinite(values), "is missing or infinite"),
                      (values < 0, "is negative")):
        if bad.any():
            _raise_row(costs, source, int(np.flatnonzero(bad)[0]), f"distance_m {what}")
    for col in ("facility_id", "community_id"):
        if costs[col].isna().any():
            _raise_row(costs, source, int(np.flatnonzero(costs[col].isna())[0]),
                       f"{col} is missing")
    dup = costs.duplicated(["facility_id", "community_id"])
    if dup.any():
        _raise_row(costs, source, int(np.flatnonzero(dup)[0]),
                   "the (facility_id, community_id) pair appears twice; keep one row per "
                   "pair (the shortest distance)")
    return costs


def _raise_row(costs: pd.DataFrame, source: str, pos: int, reason: str) -> None:
    row = costs.iloc[pos]
    msg = (f"{source}, row {pos + 1}: {reason} (facility_id={row['facility_id']!r}, "
           f"community_id={row['community_id']!r}, distance_m={row['distance_m']!r}).")
    raise InputError(msg)


def circle_pairs(
    costs: pd.DataFrame, circle_minutes: pd.Series, *, speed_m_s: float
) -> pd.DataFrame:
    """The pairs of a cost table within each community's own walking circle.

    Parameters
    ----------
    costs
        A cost table (see :func:`validate_costs`), up to at least the largest circle.
    circle_minutes
        Each community's circle in minutes, indexed by ``community_id``.
    speed_m_s
        Walking speed in metres per second: a circle of ``m`` minutes reaches
        ``m × 60 × speed_m_s`` metres (:func:`planner.units.metres_for_minutes`).

    Returns
    -------
    pandas.DataFrame
        ``facility_id, community_id, distance_m, minutes`` for the pairs with
        ``distance_m`` within the community's circle (other columns of ``costs`` are
        kept). A community missing from ``circle_minutes`` is an error, never dropped.
    """
    budget = circle_minutes.reindex(costs["community_id"]).to_numpy(dtype=float)
    missing = np.isnan(budget)
    if missing.any():
        first = costs["community_id"].to_numpy()[np.flatnonzero(missing)[0]]
        msg = (f"costs: community_id {first!r} has no circle minutes; give every "
               "community of the cost table its circle.")
        raise InputError(msg)
    d = costs["distance_m"].to_numpy(dtype=float)
    out = costs[d <= metres_for_minutes(budget, speed_m_s)].copy()
    out["minutes"] = minutes_for_metres(out["distance_m"].to_numpy(dtype=float), speed_m_s)
    return out.reset_index(drop=True)
