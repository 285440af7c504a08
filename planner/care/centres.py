"""Centres lead stations (中心带站): which centre runs each station, and each centre's load.

Wanzhou's street centres run all stations of their street or "about ten stations around
them" (002 item 9). Each station is assigned to the nearest street or township centre
that reaches it within ``centre_reach_m`` network metres; a centre's load is the number
of stations assigned to it, compared with ``stations_per_centre``: ``over`` above it,
``under`` below it (``none`` for a centre with no station), ``at`` equal. When the
facilities carry a ``managed_by`` column (the id of the centre that runs the station),
that assignment is used instead and checked against reach.

The distances are a plain table (``centre_id, station_id, distance_m``), so this module
needs no graph; :func:`planner.care.assess.centre_station_distances` makes it with the reach
core.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["centre_loads", "lead_stations"]


def _load_status(load: int, per_centre: int) -> str:
    if load == 0:
        return "none"
    if load > per_centre:
        return "over"
    return "under" if load < per_centre else "at"


def lead_stations(
    stations: pd.Index,
    distances: pd.DataFrame,
    *,
    reach_m: float,
    managed_by: pd.Series | None = None,
    centres: pd.Index | None = None,
) -> pd.DataFrame:
    """Assign each station to a centre.

    Parameters
    ----------
    stations
        Station ids.
    distances
        ``centre_id, station_id, distance_m`` (network metres); pairs beyond ``reach_m``
        may be absent.
    reach_m
        A centre runs stations up to this many network metres away.
    managed_by
        Centre id per station (the input column), or ``None`` to assign by distance.
    centres
        Ids of the centres (to tell an unknown ``managed_by`` id).

    Returns
    -------
    pandas.DataFrame
        Indexed by station id: ``lead_centre_id`` (None when no centre reaches it),
        ``lead_distance_m`` (network metres, NaN when not reached), ``lead_basis``
        (``nearest`` or ``managed_by``), ``centre_reaches`` (bool) and, with
        ``managed_by``, ``managed_by_check`` (``ok``, ``beyond_reach``, ``not_a_centre``
        or ``missing``).
    """
    d = distances[distances["station_id"].isin(stations)
                  & (distances["distance_m"] <= reach_m)]
    nearest = d.sort_values(["station_id", "distance_m", "centre_id"]).drop_duplicates(
        "station_id").set_index("station_id").reindex(stations)
    out = pd.DataFrame(index=stations)
    out["lead_centre_id"] = nearest["centre_id"].astype(object).where(
        nearest["centre_id"].notna(), None)
    out["lead_distance_m"] = nearest["distance_m"].astype(float)
    out["lead_basis"] = "nearest"
    out["centre_reaches"] = out["lead_centre_id"].notna()
    if managed_by is None:
        return out
    lookup = d.set_index(["centre_id", "station_id"])["distance_m"]
    check: list[str] = []
    dist: list[float] = []
    lead: list[str | None] = []
    for sid in stations:
        cid = managed_by.get(sid)
        if cid is None or pd.isna(cid) or str(cid).strip() == "":
            check.append("missing")
            dist.append(float("nan"))
            lead.append(None)
            continue
        cid = str(cid).strip()
        lead.append(cid)
        if centres is not None and cid not in centres:
            check.append("not_a_centre")
            dist.append(float("nan"))
        elif (cid, sid) in lookup.index:
            check.append("ok")
            dist.append(float(lookup[(cid, sid)]))
        else:
            check.append("beyond_reach")
            dist.append(float("nan"))
    out["lead_centre_id"] = lead
    out["lead_distance_m"] = dist
    out["lead_basis"] = "managed_by"
    out["managed_by_check"] = check
    out["centre_reaches"] = [c == "ok" for c in check]
    return out


def centre_loads(centres: pd.Index, assignment: pd.DataFrame, *, per_centre: int) -> pd.DataFrame:
    """Stations per centre against ``per_centre``.

    Returns
    -------
    pandas.DataFrame
        Indexed by centre id: ``stations_led`` (count) and ``station_load_status``
        (``over``, ``at``, ``under`` or ``none``).
    """
    counts = assignment["lead_centre_id"].dropna().value_counts()
    load = counts.reindex(centres, fill_value=0).astype(int)
    return pd.DataFrame({"stations_led": load,
                         "station_load_status": [_load_status(n, per_centre) for n in load]},
                        index=centres)
