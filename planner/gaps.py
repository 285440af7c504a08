"""District coverage targets: value, threshold, pass or fail.

Each metric of :data:`planner.standards.TARGET_METRICS` is computed here from the
assessed communities, the facilities and the ``costs`` table. A profile chooses which
targets apply and their thresholds; a target whose population is empty (no rural
communities, say) is reported as not applicable rather than passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

#: Facility kinds that serve as a street's centre (街道养老服务中心).
STREET_CENTRE_KINDS = ("street_centre",)
#: Facility kinds that serve as a township's centre (乡镇养老服务中心).
TOWNSHIP_CENTRE_KINDS = ("township_centre",)


def _share(mask: pd.Series, population: pd.Series) -> tuple[int, int]:
    """Numerator and denominator of a share of ``population`` (a boolean selection)."""
    return int((mask & population).sum()), int(population.sum())


def _covered(area_type: str) -> Callable[..., tuple[int, int]]:
    def metric(communities: pd.DataFrame, **_: object) -> tuple[int, int]:
        return _share(communities["facilities_within"] > 0, communities["area_type"] == area_type)

    return metric


def _with_day_care(
    communities: pd.DataFrame, facilities: pd.DataFrame, costs: pd.DataFrame, **_: object
) -> tuple[int, int]:
    day_care = facilities.index[facilities["kind"] == "day_care"]
    served = costs.loc[costs["facility_id"].isin(day_care), "community_id"].unique()
    everyone = pd.Series(True, index=communities.index)
    return _share(pd.Series(communities.index.isin(served), index=communities.index), everyone)


def _areas_with_centre(
    area_type: str, kinds: Iterable[str]
) -> Callable[..., tuple[int, int]]:
    def metric(communities: pd.DataFrame, facilities: pd.DataFrame, **_: object) -> tuple[int, int]:
        areas = communities.loc[communities["area_type"] == area_type, "street"].dropna().unique()
        centres = facilities.loc[facilities["kind"].isin(list(kinds)), "street"].dropna().unique()
        return int(np.isin(areas, centres).sum()), len(areas)

    return metric


#: How each target metric is computed: ``(numerator, denominator)``.
METRICS: dict[str, Callable[..., tuple[int, int]]] = {
    "urban_communities_covered": _covered("urban"),
    "rural_communities_covered": _covered("rural"),
    "communities_with_day_care": _with_day_care,
    "streets_with_street_centre": _areas_with_centre("urban", STREET_CENTRE_KINDS),
    "townships_with_township_centre": _areas_with_centre("rural", TOWNSHIP_CENTRE_KINDS),
}


def street_table(communities: pd.DataFrame) -> pd.DataFrame:
    """Per street (街道/乡镇): households and floor area by service status.

    Parameters
    ----------
    communities
        Assessed communities with ``street``, ``area_type``, ``households``,
        ``service_status``, ``required_m2``, ``accessible_m2`` and ``shortfall_m2``.

    Returns
    -------
    pandas.DataFrame
        One row per street (``(no street)`` for communities without one), sorted by
        shortfall: ``street``, ``area_type`` (the most common), ``communities``,
        ``households``, ``households_<status>`` for each status, ``share_households_meets``
        (0–1), ``required_m2``, ``accessible_m2``, ``shortfall_m2``.
    """
    frame = pd.DataFrame(communities).assign(
        street=communities["street"].fillna("(no street)").astype(str))
    grouped = frame.groupby("street", sort=False)
    out = pd.DataFrame({
        "area_type": grouped["area_type"].agg(lambda s: s.mode().iat[0] if len(s) else None),
        "communities": grouped.size(),
        "households": grouped["households"].sum(),
    })
    for status in ("meets", "below_standard", "uncovered", "unreachable"):
        hh = frame["households"].where(frame["service_status"] == status, 0)
        out[f"households_{status}"] = hh.groupby(frame["street"], sort=False).sum()
    out["share_households_meets"] = out["households_meets"] / out["households"]
    for col in ("required_m2", "accessible_m2", "shortfall_m2"):
        out[col] = grouped[col].sum().round(1)
    return out.sort_values("shortfall_m2", ascending=False).reset_index()


def evaluate_targets(
    targets: Iterable[object],
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    costs: pd.DataFrame,
) -> pd.DataFrame:
    """Evaluate a profile's coverage targets.

    Parameters
    ----------
    targets
        The profile's targets: objects with ``id``, ``metric``, ``threshold`` (0–1),
        ``label_zh``, ``label_en`` and ``source``.
    communities
        Assessed communities (``facilities_within``, ``area_type``, ``street``).
    facilities
        Existing facilities that count, with ``kind`` and ``street``.
    costs
        ``facility_id, community_id`` pairs within circles.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``id``, ``metric``, ``label_zh``, ``label_en``,
        ``numerator``, ``denominator``, ``value`` (0–1, NaN if not applicable),
        ``threshold``, ``passed`` (True/False/None) and ``source``.
    """
    rows = []
    for t in targets:
        num, den = METRICS[t.metric](communities=communities, facilities=facilities, costs=costs)
        value = num / den if den else float("nan")
        rows.append({
            "id": t.id, "metric": t.metric, "label_zh": t.label_zh, "label_en": t.label_en,
            "numerator": num, "denominator": den, "value": value,
            "threshold": float(t.threshold),
            "passed": (bool(value >= t.threshold - 1e-12) if den else None),
            "source": str(t.source),
        })
    columns = ["id", "metric", "label_zh", "label_en", "numerator", "denominator", "value",
               "threshold", "passed", "source"]
    return pd.DataFrame(rows, columns=columns)
