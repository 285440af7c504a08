"""On-site allocation (配建): each estate's own facility against households × ratio.

The floor-area rules of the city texts are obligations of each residential project: a
new estate builds its own elderly-care facility of at least *ratio* m² per 100 households
(Jinzhong 004 item 5 lets small estates pool with adjacent ones, 统筹配建). This is a
compliance check of the estate's **own** facilities, named ``allocation_status``. It is
not the catchment measure of :mod:`planner.coverage` (``service_status``: floor area
within walking reach, shared among everyone around it): a compliant estate can show
``below_standard`` and a non-compliant one ``meets``.

A facility is an estate's own when its ``serves_community_id`` names the estate. Without
that column nothing can be judged: every estate is ``not_assessed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.standards.model import Profile
from planner.standards.rules import required_m2_per_100hh

#: Values of ``allocation_status``.
ALLOCATION_STATUSES: dict[str, tuple[str, str]] = {
    "compliant": ("配建达标", "own facility area meets households × ratio"),
    "short": ("配建不足", "own facility area below households × ratio"),
    "missing": ("未配建", "no own facility (serves_community_id names none)"),
    "not_assessed": ("无法判断", "facilities have no serves_community_id column"),
}
#: One sentence every report prints on the two measures.
TWO_MEASURES = (
    "allocation_status（配建）：小区自身配建设施面积是否达到 户数×每百户标准；"
    "service_status（服务）：步行圈内可达的设施面积按覆盖户数分摊后是否达标 / "
    "allocation_status is the estate's own on-site facility (配建) against households × "
    "the ratio, a compliance check; service_status is the floor area within walking reach "
    "shared among the households around it, a service indicator"
)
_TOLERANCE_M2 = 1e-6


def _has(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and bool(frame[column].notna().any())


def allocation_status(
    communities: pd.DataFrame, facilities: pd.DataFrame, profile: Profile
) -> tuple[pd.DataFrame, list[str]]:
    """Judge each estate's own facility area against its requirement.

    Parameters
    ----------
    communities
        Indexed by ``community_id`` with ``households`` and ``status`` (new/old, filled by
        :func:`planner.standards.infer_status`); optional ``pooling_group``.
    facilities
        The facilities that exist (in the year judged), with ``kind``, ``floor_area_m2``
        and optional ``serves_community_id``. Only kinds counted towards floor area
        (``profile.area_counted_kinds``) count.
    profile
        Gives the ratio (m² per 100 households by status) and whether pooling is allowed.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        Indexed like ``communities``: ``allocation_m2`` (own area, m², summed over the
        pooling group when pooled), ``allocation_required_m2`` (idem), ``allocation_basis``
        (``own``, ``pooled:<group>`` or ``none``) and ``allocation_status`` (see
        :data:`ALLOCATION_STATUSES`); and the notes reports must print.
    """
    idx = communities.index
    per_100 = np.asarray(required_m2_per_100hh(communities["status"].to_numpy(), profile),
                         dtype=float)
    required = communities["households"].to_numpy(dtype=float) * per_100 / 100
    out = pd.DataFrame(index=idx)
    notes: list[str] = []
    if not _has(facilities, "serves_community_id"):
        out["allocation_m2"] = np.nan
        out["allocation_required_m2"] = required
        out["allocation_basis"] = "none"
        out["allocation_status"] = "not_assessed"
        notes.append("设施表无 serves_community_id 列，无法判断配建 / allocation_status not "
                     "assessed: facilities have no serves_community_id column")
        return out, notes
    counted = facilities[facilities["kind"].isin(profile.area_counted_kinds.kinds)]
    serves = counted["serves_community_id"].dropna().astype(str)
    unknown = sorted(set(serves) - set(idx.astype(str)))
    if unknown:
        notes.append(f"{len(unknown)} 个设施的 serves_community_id 不在小区表中 / "
                     f"{len(unknown)} serves_community_id value(s) name no community "
                     f"(e.g. {unknown[0]!r}); their area is not counted")
    own = counted.loc[serves.index, "floor_area_m2"].groupby(serves.to_numpy()).sum()
    area = own.reindex(idx.astype(str)).fillna(0.0).to_numpy()
    group = pd.Series(idx.astype(str), index=idx)
    basis = np.where(area > 0, "own", "none").astype(object)
    pooled = _pooling_groups(communities, profile, notes)
    if pooled is not None:
        group = group.where(pooled.isna(), "pooled:" + pooled.astype(str))
        basis = np.where(pooled.notna(), group.to_numpy(), basis)
    frame = pd.DataFrame({"g": group.to_numpy(), "area": area, "req": required})
    sums = frame.groupby("g")[["area", "req"]].transform("sum")
    out["allocation_m2"] = sums["area"].to_numpy()
    out["allocation_required_m2"] = sums["req"].to_numpy()
    out["allocation_basis"] = basis
    ok = out["allocation_m2"] + _TOLERANCE_M2 >= out["allocation_required_m2"]
    out["allocation_status"] = np.where(
        out["allocation_m2"] <= 0, "missing", np.where(ok, "compliant", "short"))
    return out, notes


def _pooling_groups(
    communities: pd.DataFrame, profile: Profile, notes: list[str]
) -> pd.Series | None:
    """The pooling group of each estate where the profile allows pooling, else None.

    An explicit ``pooling_group`` wins; other small estates (fewer households than the
    profile's ``small_estate_below_households``) pool with the estates their polygons touch.
    """
    rule = profile.allocation_pooling
    if rule is None or not rule.allowed:
        if _has(communities, "pooling_group"):
            notes.append(f"{profile.name} 未规定统筹配建，pooling_group 列未使用 / pooling_group "
                         f"ignored: {profile.name} states no pooling of on-site allocation")
        return None
    groups = pd.Series(None, index=communities.index, dtype=object)
    if _has(communities, "pooling_group"):
        given = communities["pooling_group"]
        groups = given.where(given.notna() & (given.astype(str).str.strip() != ""))
        notes.append(f"{int(groups.notna().sum())} 个小区按 pooling_group 统筹配建 / "
                     f"{int(groups.notna().sum())} estates judged with their pooling group "
                     f"({rule.source.doc} {rule.source.clause})")
    adjacent = _adjacent_groups(communities, profile, groups.isna())
    if adjacent is not None and adjacent.notna().any():
        n = int(adjacent.notna().sum())
        notes.append(f"{n} 个小区与相邻小区统筹配建（小区户数门槛为假设） / {n} estates pooled "
                     "with the estates their polygons touch (the small-estate size is an "
                     "assumption)")
        groups = groups.where(groups.notna(), adjacent)
    return groups if groups.notna().any() else None


def _adjacent_groups(communities: pd.DataFrame, profile: Profile,
                     free: pd.Series) -> pd.Series | None:
    """Groups of small estates and the polygons they touch (connected components)."""
    small_below = profile.small_estate_below_households
    geometry = getattr(communities, "geometry", None)
    if small_below is None or geometry is None:
        return None
    from scipy.sparse import coo_matrix  # noqa: PLC0415
    from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

    polygon = np.asarray(geometry.geom_type.isin(["Polygon", "MultiPolygon"]) & free)
    small = polygon & (communities["households"].to_numpy() < small_below.value)
    if not small.any():
        return None
    candidates = np.flatnonzero(polygon)
    hits = geometry.iloc[candidates].sindex.query(geometry.iloc[np.flatnonzero(small)],
                                                   predicate="intersects")
    a = np.flatnonzero(small)[hits[0]]
    b = candidates[hits[1]]
    n = len(communities)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels, minlength=labels.max() + 1)
    ids = communities.index.astype(str).to_numpy()
    first = pd.Series(ids).groupby(labels).transform("first").to_numpy()
    named = np.where(sizes[labels] > 1, "adjacent:" + first.astype(object), None)
    return pd.Series(named, index=communities.index, dtype=object)
