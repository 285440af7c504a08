"""Where a scenario's cost table comes from: searches on the compiled network.

The seam is the long table of the reach contract::

    costs: DataFrame[facility_id, community_id, distance_m]   (pairs with distance_m <= max_distance_m)

It is searched once for the whole study area, up to the largest circle any scenario needs;
afterwards a new facility searches only its own circle, and a new community only from the
facilities that can possibly reach it. Circle minutes and walking speed are applied later
(:mod:`planner.scenarios.evaluate`), so a what-if on either re-filters the table.

Prefiltering by straight line is exact: no walk is shorter than the straight line from the
facility to the community's polygon or gate, so a community farther than ``max_distance_m``
in a straight line can never be within ``max_distance_m`` of walking.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.circles import ReachParams, community_access
from planner.reach import CompiledNetwork, build_reach_graph, circle_searches, snap_points

#: Columns of a cost table (the reach contract).
COST_COLUMNS = ("facility_id", "community_id", "distance_m")


def empty_costs() -> pd.DataFrame:
    """A cost table with no rows and the contract's columns."""
    return pd.DataFrame({"facility_id": pd.Series(dtype=object),
                         "community_id": pd.Series(dtype=object),
                         "distance_m": pd.Series(dtype=float)})


def search_pairs(
    net: CompiledNetwork,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    params: ReachParams,
    gates: gpd.GeoDataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Every facility–community pair within ``max_distance_m`` metres of walking.

    Parameters
    ----------
    net
        Compiled network in the layers' metric CRS.
    communities, facilities
        Indexed by ``community_id`` / ``facility_id``; polygons or points.
    max_distance_m
        Largest walking distance kept (metres).
    params
        Snapping distances (``snap_max_m``, ``boundary_access_m``).
    gates
        Gates of gated communities (``community_id`` + point), or ``None``.

    Returns
    -------
    costs : pandas.DataFrame
        ``facility_id, community_id, distance_m`` (metres, door to door as in
        :func:`planner.circles.compute_reach`).
    access_points : pandas.Series
        Number of access points of each community that joined the network (0: unreachable).
    """
    n_c = len(communities)
    c_access = community_access(net, communities, gates, params=params)
    ok = c_access.edge >= 0
    access = pd.Series(np.bincount(c_access.owner[ok].astype(np.int64), minlength=n_c),
                       index=communities.index, name="access_points")
    if len(facilities) == 0 or n_c == 0:
        return empty_costs(), access
    f_access = snap_points(net, facilities.geometry.to_numpy(), max_m=params.snap_max_m)
    rg = build_reach_graph(net, f_access, c_access, n_c)
    budget = np.full(n_c, float(max_distance_m))
    parts_f, parts_c, parts_d = [], [], []
    for batch in circle_searches(rg, np.arange(len(facilities)), limit_m=float(max_distance_m)):
        f, c, d = batch.community_pairs(budget)
        parts_f.append(f)
        parts_c.append(c)
        parts_d.append(d)
    if not parts_f:
        return empty_costs(), access
    f_all, c_all = np.concatenate(parts_f), np.concatenate(parts_c)
    costs = pd.DataFrame({"facility_id": facilities.index.to_numpy()[f_all],
                          "community_id": communities.index.to_numpy()[c_all],
                          "distance_m": np.concatenate(parts_d)})
    return costs, access


def near(
    points: gpd.GeoDataFrame,
    others: gpd.GeoDataFrame,
    *,
    within_m: float,
    gates: gpd.GeoDataFrame | None = None,
    gates_of: str = "others",
) -> np.ndarray:
    """Positions in ``others`` lying within ``within_m`` (straight line) of any of ``points``.

    Gates count as part of their community: with ``gates_of="others"`` a community in
    ``others`` is near when its polygon *or* one of its gates is; with ``"points"`` the
    gates extend ``points`` instead.
    """
    if len(points) == 0 or len(others) == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(others.geometry.to_numpy())
    src = points.geometry.to_numpy()
    if gates is not None and len(gates) and gates_of == "points":
        mine = gates[gates["community_id"].isin(points.index)]
        src = np.concatenate([src, mine.geometry.to_numpy()])
    _, hit = tree.query(src, predicate="dwithin", distance=within_m)
    found = set(hit.tolist())
    if gates is not None and len(gates) and gates_of == "others":
        theirs = gates[gates["community_id"].isin(others.index)]
        if len(theirs):
            gtree = shapely.STRtree(theirs.geometry.to_numpy())
            _, ghit = gtree.query(src, predicate="dwithin", distance=within_m)
            pos = others.index.get_indexer(theirs["community_id"].to_numpy()[ghit])
            found.update(pos.tolist())
    return np.array(sorted(found), dtype=np.int64)


def gates_for(gates: gpd.GeoDataFrame | None, ids: pd.Index) -> gpd.GeoDataFrame | None:
    """The gates of the communities ``ids`` (``None`` when there are none)."""
    if gates is None:
        return None
    mine = gates[gates["community_id"].isin(ids)]
    return mine if len(mine) else None
