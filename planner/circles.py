"""Walking circles for communities and facilities: the GeoDataFrame side of the engine.

:func:`compute_reach` snaps facilities and communities to the compiled network, runs
the searches in :mod:`planner.reach`, and returns tables keyed by the planners' ids:

* per community: access points, snapping distance, network component, nearest facility
  and minutes (overall and per kind);
* ``costs``: the long table ``(facility_id, community_id, distance_m, minutes)`` of every
  pair within the community's circle — the seam between the network and the metrics;
* per facility: an isochrone polygon built from the reached streets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._errors import CRSError
from planner.isochrones import circle_polygons, sample_edges
from planner.reach import (
    AccessPoints,
    CompiledNetwork,
    ReachGraph,
    boundary_access,
    build_reach_graph,
    circle_searches,
    nearest_facility,
    snap_points,
)

log = logging.getLogger("planner")

#: Show a progress bar for the circles from this many facilities on.
PROGRESS_MIN_FACILITIES = 200
#: Default walking speed of older pedestrians (m/s); the profile's value overrides it.
DEFAULT_SPEED_M_S = 1.0


@dataclass(frozen=True)
class ReachParams:
    """Method parameters of the reach computation.

    Attributes
    ----------
    speed_m_s
        Walking speed in metres per second (the standards profile gives it).
    snap_max_m
        A point farther than this from every road is reported as not connected, not
        snapped (metres).
    boundary_access_m
        A community polygon is entered from every street within this distance of its
        boundary (metres).
    report_limit_minutes
        Nearest-facility minutes are searched up to this; farther is reported as
        "more than" (NaN).
    """

    speed_m_s: float = DEFAULT_SPEED_M_S
    snap_max_m: float = 150.0
    boundary_access_m: float = 30.0
    report_limit_minutes: float = 60.0

    def metres(self, minutes: float | np.ndarray) -> float | np.ndarray:
        """Metres walked in ``minutes``."""
        return minutes * 60.0 * self.speed_m_s

    def minutes(self, metres: float | np.ndarray) -> float | np.ndarray:
        """Minutes to walk ``metres``."""
        return metres / (60.0 * self.speed_m_s)


@dataclass
class ReachResult:
    """What the reach stage hands to the metrics and the outputs.

    Attributes
    ----------
    communities
        Indexed by ``community_id``: ``access_points`` (int), ``snap_distance_m``,
        ``network_component`` (0 = the main network, -1 = not connected),
        ``circle_minutes``, ``nearest_facility_id``, ``nearest_minutes`` and
        ``nearest_minutes_<kind>`` for each facility kind present.
    facilities
        Indexed by ``facility_id``: ``snap_distance_m``, ``network_component``.
    costs
        Long table ``facility_id, community_id, distance_m, minutes`` of every pair
        within the community's circle.
    isochrones
        ``facility_id, kind, minutes, geometry`` (metric CRS), when asked for.
    """

    communities: pd.DataFrame
    facilities: pd.DataFrame
    costs: pd.DataFrame
    isochrones: gpd.GeoDataFrame | None


def community_access(
    net: CompiledNetwork,
    communities: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame | None,
    *,
    params: ReachParams,
) -> AccessPoints:
    """Where each community joins the network.

    A community with gates (rows of ``gates`` with its ``community_id``) is entered only
    through them. A polygon without gates is entered from every street along its
    boundary (within ``params.boundary_access_m``); a point community from its nearest
    street (within ``params.snap_max_m``).
    ``owner`` is the community's position in ``communities``.
    """
    position = pd.Series(np.arange(len(communities)), index=communities.index)
    parts = []
    gated = np.zeros(len(communities), dtype=bool)
    if gates is not None and len(gates):
        g = gates[gates["community_id"].isin(position.index)]
        owners = position.loc[g["community_id"]].to_numpy()
        snapped = snap_points(net, g.geometry.to_numpy(), max_m=params.snap_max_m)
        snapped.owner = owners
        gated[owners] = True
        parts.append(snapped)
    geoms = communities.geometry.to_numpy()
    is_area = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    areas = np.flatnonzero(~gated & is_area)
    if len(areas):
        ap = boundary_access(net, geoms[areas], near_m=params.boundary_access_m,
                             max_m=params.snap_max_m)
        ap.owner = areas[ap.owner]
        parts.append(ap)
    spots = np.flatnonzero(~gated & ~is_area)
    if len(spots):
        ap = snap_points(net, geoms[spots], max_m=params.snap_max_m)
        ap.owner = spots[ap.owner]
        parts.append(ap)
    return AccessPoints.concat(parts) if parts else AccessPoints(*(np.zeros(0),) * 4)


def _components(rg: ReachGraph, access: AccessPoints, node: np.ndarray, n: int) -> np.ndarray:
    """Component label per owner (its best-connected access point), -1 if none snapped."""
    comp = np.full(n, -1, dtype=np.int64)
    labels = rg.net.components
    ok = node >= 0
    edge_comp = labels[rg.net.edge_u[access.edge[ok]]]
    order = np.argsort(-edge_comp, kind="stable")  # smaller label (bigger component) last wins
    comp[access.owner[ok][order]] = edge_comp[order]
    return comp


def compute_reach(
    net: CompiledNetwork,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    circle_minutes: np.ndarray,
    params: ReachParams,
    gates: gpd.GeoDataFrame | None = None,
    isochrone_minutes: float | None = None,
    progress: bool = False,
    nearest_kinds: set[str] | None = None,
) -> ReachResult:
    """Minutes from every community to the facilities, and every facility's circle.

    Parameters
    ----------
    net
        Compiled network in the same metric CRS as the layers.
    communities
        Indexed by ``community_id``; polygon or point geometry.
    facilities
        Indexed by ``facility_id``; ``kind`` and point geometry.
    circle_minutes
        Each community's circle in minutes (15 urban, 25 rural in some profiles).
    isochrone_minutes
        Draw each facility's circle of this many minutes (``None``: no polygons).
    nearest_kinds
        Kinds that count for ``nearest_facility_id``/``nearest_minutes`` (default: all);
        ``nearest_minutes_<kind>`` is given for every kind.

    Returns
    -------
    ReachResult
    """
    _check_crs(net, communities, facilities, gates)
    n_c = len(communities)
    f_access = snap_points(net, facilities.geometry.to_numpy(), max_m=params.snap_max_m)
    c_access = community_access(net, communities, gates, params=params)
    rg = build_reach_graph(net, f_access, c_access, n_c)
    limit_m = float(params.metres(params.report_limit_minutes))

    out = pd.DataFrame(index=communities.index)
    out["access_points"] = np.bincount(c_access.owner[c_access.edge >= 0].astype(np.int64),
                                       minlength=n_c)
    snap = pd.Series(c_access.offroad_m).groupby(c_access.owner).min()
    out["snap_distance_m"] = snap.reindex(np.arange(n_c)).to_numpy()
    out["network_component"] = _components(rg, c_access, rg.community_node, n_c)
    out["circle_minutes"] = np.asarray(circle_minutes, dtype=float)

    fac = pd.DataFrame(index=facilities.index)
    fac["snap_distance_m"] = f_access.offroad_m
    fac["network_component"] = _components(rg, f_access, rg.facility_node, len(facilities))

    kinds = facilities["kind"].to_numpy()
    counted = set(nearest_kinds) if nearest_kinds else set(kinds)
    metres = np.full(n_c, np.inf)
    which = np.full(n_c, -1, dtype=np.int64)
    for kind in pd.unique(kinds):
        m, w = nearest_facility(rg, np.flatnonzero(kinds == kind), limit_m=limit_m)
        out[f"nearest_minutes_{kind}"] = _minutes_or_nan(m, params)
        if kind in counted:  # the nearest of all counted kinds is the best of the kinds
            better = m < metres
            metres[better], which[better] = m[better], w[better]
    ids = facilities.index.to_numpy()
    out["nearest_facility_id"] = np.where(which >= 0, ids[np.maximum(which, 0)], None)
    out["nearest_minutes"] = _minutes_or_nan(metres, params)
    per_kind = [c for c in out.columns if c.startswith("nearest_minutes_")]
    out = out[[c for c in out.columns if c not in per_kind] + per_kind]

    budget_c = params.metres(out["circle_minutes"].to_numpy())
    costs, iso = _circles(rg, facilities, communities.index.to_numpy(), budget_c, params,
                          isochrone_minutes, progress)
    log.info("reach: %s communities, %s facilities, %s pairs within circles",
             f"{n_c:,}", f"{len(facilities):,}", f"{len(costs):,}")
    return ReachResult(out, fac, costs, iso)


def _check_crs(net: CompiledNetwork, *layers: gpd.GeoDataFrame | None) -> None:
    """Fail like spopt when a layer is not in the network's metric CRS."""
    crs = net.pyproj_crs
    for layer in layers:
        if layer is not None and (layer.crs is None or not crs.equals(layer.crs)):
            msg = (f"layer CRS {layer.crs} differs from the network's {crs.name}; "
                   "load layers through planner.pipeline so they are projected once.")
            raise CRSError(msg)


def _minutes_or_nan(metres: np.ndarray, params: ReachParams) -> np.ndarray:
    return np.where(np.isfinite(metres), params.minutes(metres), np.nan)


def _circles(
    rg: ReachGraph,
    facilities: gpd.GeoDataFrame,
    community_ids: np.ndarray,
    budget_c: np.ndarray,
    params: ReachParams,
    isochrone_minutes: float | None,
    progress: bool,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """Every facility's circle: community pairs, and optionally its polygon."""
    snapped = np.flatnonzero(rg.facility_node >= 0)
    max_budget = float(budget_c.max()) if len(budget_c) else 0.0
    iso_m = float(params.metres(isochrone_minutes)) if isochrone_minutes else 0.0
    limit = max(max_budget, iso_m)
    samples = sample_edges(rg.net) if isochrone_minutes else None
    pair_f, pair_c, pair_d, poly_f, polys = [], [], [], [], []
    bar = None
    if progress and len(snapped) >= PROGRESS_MIN_FACILITIES:
        from tqdm import tqdm  # noqa: PLC0415

        bar = tqdm(total=len(snapped), desc="walking circles", unit="facility", mininterval=1.0)
    for batch in circle_searches(rg, snapped, limit_m=limit):
        f_i, c_i, d_i = batch.community_pairs(budget_c)
        pair_f.append(f_i)
        pair_c.append(c_i)
        pair_d.append(d_i)
        if samples is not None:
            fa, part = rg.facility_access, batch.facilities
            poly_f.append(part)
            polys.extend(circle_polygons(
                rg.net, samples, batch.dist, iso_m, nodes=batch.nodes, own_edge=fa.edge[part],
                own_along_m=fa.along_m[part], own_budget_m=iso_m - fa.offroad_m[part],
            ))
        if bar is not None:
            bar.update(len(batch.facilities))
    if bar is not None:
        bar.close()
    f_all = np.concatenate(pair_f) if pair_f else np.zeros(0, dtype=np.int64)
    c_all = np.concatenate(pair_c) if pair_c else np.zeros(0, dtype=np.int64)
    d_all = np.concatenate(pair_d) if pair_d else np.zeros(0)
    costs = pd.DataFrame({
        "facility_id": facilities.index.to_numpy()[f_all],
        "community_id": community_ids[c_all],
        "distance_m": d_all,
        "minutes": params.minutes(d_all),
    })
    iso = None
    if samples is not None:
        order = np.concatenate(poly_f) if poly_f else np.zeros(0, dtype=np.int64)
        iso = gpd.GeoDataFrame(
            {"facility_id": facilities.index.to_numpy()[order],
             "kind": facilities["kind"].to_numpy()[order],
             "minutes": float(isochrone_minutes)},
            geometry=polys, crs=rg.net.pyproj_crs,
        ).iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    return costs, iso
