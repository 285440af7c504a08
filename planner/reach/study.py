"""The study-area graph: a reusable reach core with incremental searches.

:class:`StudyGraph` holds a compiled network, the facilities and communities snapped to
it, and the cost table of every (facility, community) pair within ``max_distance_m``
(see :mod:`planner.reach.costs`). Adding facilities searches only from the new
facilities; adding communities searches only from the new communities' access points;
removing drops rows. Because lengths are exact on a 2⁻²⁰ m grid
(:mod:`planner.reach.pairs`), the table after any sequence of additions and removals
equals, bit for bit, the table built from scratch on the final layers.

Example
-------
>>> sg = StudyGraph.build(net, communities, facilities, max_distance_m=1500.0)
>>> base = sg.costs                                     # all pairs within 1,500 m
>>> what_if = sg.copy()
>>> new_rows = what_if.add_facilities(proposed)         # searches from ``proposed`` only
>>> what_if.nearest(kinds=["station"])                  # nearest station per community
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._errors import CRSError, InputError
from planner.network.store import CompiledNetwork
from planner.reach import pairs, walks
from planner.reach.costs import empty_costs
from planner.reach.params import DEFAULT_BOUNDARY_ACCESS_M, DEFAULT_SNAP_MAX_M, ReachParams
from planner.reach.snapping import AccessPoints, community_access, snap_points


class StudyGraph:
    """A compiled network with facilities and communities, and the cost table between them.

    Build it with :meth:`build`. Attributes:

    net
        The compiled network (shared by copies).
    max_distance_m
        Pairs are kept up to this many network metres (the largest walking budget).
    nearest_limit_m
        :meth:`nearest` searches up to this many metres.
    params
        Snapping parameters (``snap_max_m``, ``boundary_access_m``).
    facilities
        Indexed by ``facility_id``: ``kind``, ``snap_distance_m`` (off-road walk,
        metres; NaN when not snapped), ``network_component`` (0 = the main network,
        >0 an island, -1 not connected).
    communities
        Indexed by ``community_id``: ``access_points`` (int), ``snap_distance_m`` (the
        shortest off-road walk of its access points, metres), ``network_component``.
    """

    def __init__(
        self, net: CompiledNetwork, *, max_distance_m: float, params: ReachParams,
        nearest_limit_m: float | None = None, base: pairs.SearchBase | None = None,
    ) -> None:
        if not np.isfinite(max_distance_m) or max_distance_m < 0:
            msg = f"max_distance_m must be a finite number of metres >= 0, got {max_distance_m!r}."
            raise InputError(msg)
        self.net = net
        self.max_distance_m = float(max_distance_m)
        self.nearest_limit_m = float(max_distance_m if nearest_limit_m is None
                                     else nearest_limit_m)
        self.params = params
        self._base = base if base is not None else pairs.SearchBase.of(net)
        self._fac_ids = np.zeros(0, dtype=object)
        self._com_ids = np.zeros(0, dtype=object)
        self._fac_alive = np.zeros(0, dtype=bool)
        self._com_alive = np.zeros(0, dtype=bool)
        self._fac_kind = np.zeros(0, dtype=object)
        self._fpos = pairs.Positions.empty()
        self._cpos = pairs.Positions.empty()
        self._pair_f = np.zeros(0, dtype=np.int64)
        self._pair_c = np.zeros(0, dtype=np.int64)
        self._pair_d = np.zeros(0)
        self.facilities = pd.DataFrame(
            {"kind": pd.Series(dtype=object), "snap_distance_m": pd.Series(dtype=float),
             "network_component": pd.Series(dtype=np.int64)},
            index=pd.Index([], name="facility_id", dtype=object))
        self.communities = pd.DataFrame(
            {"access_points": pd.Series(dtype=np.int64),
             "snap_distance_m": pd.Series(dtype=float),
             "network_component": pd.Series(dtype=np.int64)},
            index=pd.Index([], name="community_id", dtype=object))
        self._costs: pd.DataFrame | None = None
        self._cidx: pairs.TargetIndex | None = None
        self._fidx: pairs.TargetIndex | None = None

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        net: CompiledNetwork,
        communities: gpd.GeoDataFrame,
        facilities: gpd.GeoDataFrame,
        *,
        gates: gpd.GeoDataFrame | None = None,
        max_distance_m: float,
        snap_max_m: float = DEFAULT_SNAP_MAX_M,
        boundary_access_m: float = DEFAULT_BOUNDARY_ACCESS_M,
        nearest_limit_m: float | None = None,
    ) -> StudyGraph:
        """Snap the layers and search every facility's reach once, up to ``max_distance_m``.

        Parameters
        ----------
        net
            Compiled network in a metric CRS.
        communities
            Indexed by ``community_id``, in the network's CRS; polygons (entered from
            every street within ``boundary_access_m`` metres of the boundary) or points.
        facilities
            Indexed by ``facility_id``, in the network's CRS; points, optional ``kind``.
        gates
            Points with a ``community_id`` column: a gated community is entered only
            through its gates.
        max_distance_m
            Keep pairs up to this many network metres: the largest walking budget the
            callers need (e.g. the longest circle minutes × 60 × the fastest speed).
        snap_max_m
            Points farther than this from every road are not snapped (metres).
        nearest_limit_m
            Search limit of :meth:`nearest` (metres; default ``max_distance_m``).

        Returns
        -------
        StudyGraph
        """
        params = ReachParams(snap_max_m=snap_max_m, boundary_access_m=boundary_access_m)
        sg = cls(net, max_distance_m=max_distance_m, params=params,
                 nearest_limit_m=nearest_limit_m)
        sg.add_communities(communities, gates=gates)
        sg.add_facilities(facilities)
        return sg

    def copy(self) -> StudyGraph:
        """A copy for a scenario: own tables, shared network and search structures."""
        other = _copy.copy(self)
        for name in ("_fac_ids", "_com_ids", "_fac_alive", "_com_alive", "_fac_kind",
                     "_pair_f", "_pair_c", "_pair_d"):
            setattr(other, name, getattr(self, name).copy())
        other.facilities = self.facilities.copy()
        other.communities = self.communities.copy()
        return other

    # ------------------------------------------------------------------ the tables

    @property
    def costs(self) -> pd.DataFrame:
        """Every pair within ``max_distance_m``: ``facility_id, community_id, distance_m``.

        Sorted by facility (in the order they were added), then community.
        """
        if self._costs is None:
            order = np.lexsort((self._pair_c, self._pair_f))
            f, c, d = self._pair_f[order], self._pair_c[order], self._pair_d[order]
            if len(d) == 0:
                self._costs = empty_costs()
            else:
                self._costs = pd.DataFrame({"facility_id": self._fac_ids[f],
                                            "community_id": self._com_ids[c],
                                            "distance_m": d})
        return self._costs

    def nearest(
        self, kinds: Iterable[str] | None = None, *, limit_m: float | None = None
    ) -> pd.DataFrame:
        """The nearest facility of each community, over the whole network.

        Parameters
        ----------
        kinds
            Only facilities of these kinds count (default: all).
        limit_m
            Search limit in metres (default :attr:`nearest_limit_m`).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``community_id`` (every community): ``facility_id`` (None when no
            facility is within the limit) and ``distance_m`` (metres, NaN when none). Of
            facilities at exactly the same distance, one is named.
        """
        limit = self.nearest_limit_m if limit_m is None else float(limit_m)
        slots = np.flatnonzero(self._fac_alive)
        if kinds is not None:
            slots = slots[np.isin(self._fac_kind[slots], list(kinds))]
        tgt, metres, src = walks.nearest(self._base, self._fpos, slots, self._community_index(),
                                         limit_m=limit)
        alive = np.flatnonzero(self._com_alive)
        dist = np.full(len(self._com_ids), np.nan)
        which = np.full(len(self._com_ids), None, dtype=object)
        dist[tgt] = metres
        which[tgt] = self._fac_ids[src]
        return pd.DataFrame({"facility_id": which[alive], "distance_m": dist[alive]},
                            index=pd.Index(self._com_ids[alive], name="community_id"))

    def facility_searches(
        self, facility_ids: Iterable[object] | None = None, *, limit_m: float
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Node distances of each facility's walk, for drawing its circle.

        Yields ``(facility_ids, nodes, node_dist)`` per batch: ``nodes`` are network node
        indices, ``node_dist`` metres ``(len(facility_ids), len(nodes))`` including the
        facility's off-road walk, ``inf`` beyond ``limit_m``.
        """
        slots = self._slots(self._fac_ids, self._fac_alive, facility_ids, "facility")
        empty = pairs.TargetIndex.of(self.net, pairs.Positions.empty())
        for batch in walks.searches(self._base, self._fpos, slots, empty, limit_m=limit_m):
            yield self._fac_ids[batch.sources], batch.nodes, batch.node_dist

    def facility_positions(self) -> pd.DataFrame:
        """Where each facility joined the network (facilities that snapped only).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``facility_id``: ``edge`` (edge index), ``along_m`` (metres from
            the edge's ``u`` end) and ``offroad_m`` (the straight walk to it, metres).
        """
        p = self._fpos
        return pd.DataFrame({"edge": p.edge, "along_m": p.to_u, "offroad_m": p.offroad},
                            index=pd.Index(self._fac_ids[p.owner], name="facility_id"))

    # ------------------------------------------------------------------ changes

    def add_facilities(self, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
        """Snap new facilities and search from them only.

        Parameters
        ----------
        facilities
            Indexed by ``facility_id`` (ids not already in the graph), points in the
            network's CRS, optional ``kind``.

        Returns
        -------
        pandas.DataFrame
            The new cost rows (``facility_id, community_id, distance_m``); they are
            also added to :attr:`costs`.
        """
        self._check_layer(facilities, "facilities", self._fac_ids[self._fac_alive])
        access = snap_points(self.net, facilities.geometry.to_numpy(),
                             max_m=self.params.snap_max_m)
        slots = len(self._fac_ids) + np.arange(len(facilities))
        kinds = (facilities["kind"].to_numpy(dtype=object) if "kind" in facilities
                 else np.full(len(facilities), None, dtype=object))
        info = pd.DataFrame({"kind": kinds, "snap_distance_m": access.offroad_m,
                             "network_component": _components(self.net, access,
                                                              len(facilities))},
                            index=pd.Index(facilities.index, name="facility_id"))
        self._fac_ids = np.concatenate([self._fac_ids, facilities.index.to_numpy(dtype=object)])
        self._fac_alive = np.concatenate([self._fac_alive, np.ones(len(facilities), bool)])
        self._fac_kind = np.concatenate([self._fac_kind, kinds])
        self.facilities = _append(self.facilities, info)
        self._fpos = pairs.Positions.concat([self._fpos,
                                             self._base.positions(access, slots[access.owner])])
        self._fidx = None
        f, c, d = self._search(self._fpos, slots, self._community_index())
        return self._add_pairs(f, c, d)

    def add_communities(
        self, communities: gpd.GeoDataFrame, gates: gpd.GeoDataFrame | None = None
    ) -> pd.DataFrame:
        """Snap new communities and search from their access points only.

        Parameters
        ----------
        communities
            Indexed by ``community_id`` (ids not already in the graph), polygons or
            points in the network's CRS.
        gates
            Gates of these communities (points with ``community_id``).

        Returns
        -------
        pandas.DataFrame
            The new cost rows; they are also added to :attr:`costs`.
        """
        self._check_layer(communities, "communities", self._com_ids[self._com_alive], gates)
        access = community_access(self.net, communities, gates, params=self.params)
        slots = len(self._com_ids) + np.arange(len(communities))
        n = len(communities)
        snapped = access.edge >= 0
        snap = pd.Series(access.offroad_m[snapped]).groupby(access.owner[snapped]).min()
        info = pd.DataFrame({
            "access_points": np.bincount(access.owner[snapped].astype(np.int64), minlength=n),
            "snap_distance_m": snap.reindex(np.arange(n)).to_numpy(),
            "network_component": _components(self.net, access, n),
        }, index=pd.Index(communities.index, name="community_id"))
        self._com_ids = np.concatenate([self._com_ids, communities.index.to_numpy(dtype=object)])
        self._com_alive = np.concatenate([self._com_alive, np.ones(n, bool)])
        self.communities = _append(self.communities, info)
        owner = slots[access.owner.astype(np.int64)] if len(access) else access.owner
        self._cpos = pairs.Positions.concat([self._cpos, self._base.positions(access, owner)])
        self._cidx = None
        c, f, d = self._search(self._cpos, slots, self._facility_index())
        return self._add_pairs(f, c, d)

    def remove_facilities(self, ids: Iterable[object]) -> None:
        """Drop facilities and their cost rows (an unknown id is an error)."""
        slots = self._slots(self._fac_ids, self._fac_alive, ids, "facility")
        self._fac_alive[slots] = False
        self._fpos = self._fpos.subset(self._fac_alive[self._fpos.owner])
        self.facilities = self.facilities.drop(index=self._fac_ids[slots])
        self._fidx = None
        self._drop_pairs(~np.isin(self._pair_f, slots))

    def remove_communities(self, ids: Iterable[object]) -> None:
        """Drop communities and their cost rows (an unknown id is an error)."""
        slots = self._slots(self._com_ids, self._com_alive, ids, "community")
        self._com_alive[slots] = False
        self._cpos = self._cpos.subset(self._com_alive[self._cpos.owner])
        self.communities = self.communities.drop(index=self._com_ids[slots])
        self._cidx = None
        self._drop_pairs(~np.isin(self._pair_c, slots))

    # ------------------------------------------------------------------ internals

    def _search(
        self, src: pairs.Positions, slots: np.ndarray, targets: pairs.TargetIndex
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(targets.positions) == 0:  # nothing to reach: no search
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0)
        parts = [b.pairs(self.max_distance_m)
                 for b in walks.searches(self._base, src, slots, targets,
                                         limit_m=self.max_distance_m,
                                         from_communities=src is self._cpos)]
        if not parts:
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0)
        return tuple(np.concatenate(x) for x in zip(*parts, strict=True))  # type: ignore[return-value]

    def _add_pairs(self, f: np.ndarray, c: np.ndarray, d: np.ndarray) -> pd.DataFrame:
        self._pair_f = np.concatenate([self._pair_f, f])
        self._pair_c = np.concatenate([self._pair_c, c])
        self._pair_d = np.concatenate([self._pair_d, d])
        self._costs = None
        order = np.lexsort((c, f))
        if len(order) == 0:
            return empty_costs()
        return pd.DataFrame({"facility_id": self._fac_ids[f[order]],
                             "community_id": self._com_ids[c[order]],
                             "distance_m": d[order]})

    def _drop_pairs(self, keep: np.ndarray) -> None:
        self._pair_f, self._pair_c = self._pair_f[keep], self._pair_c[keep]
        self._pair_d = self._pair_d[keep]
        self._costs = None

    def _community_index(self) -> pairs.TargetIndex:
        if self._cidx is None:
            self._cidx = pairs.TargetIndex.of(self.net, self._cpos)
        return self._cidx

    def _facility_index(self) -> pairs.TargetIndex:
        if self._fidx is None:
            self._fidx = pairs.TargetIndex.of(self.net, self._fpos, facility=True)
        return self._fidx

    @staticmethod
    def _slots(
        all_ids: np.ndarray, alive: np.ndarray, ids: Iterable[object] | None, what: str
    ) -> np.ndarray:
        live = np.flatnonzero(alive)
        if ids is None:
            return live
        lookup = pd.Series(live, index=pd.Index(all_ids[live]))
        wanted = pd.Index(list(ids))
        unknown = wanted.difference(lookup.index)
        if len(unknown):
            msg = (f"unknown {what} id(s): {', '.join(map(str, unknown[:5]))}; "
                   f"they are not in the study graph.")
            raise InputError(msg)
        return lookup.loc[wanted].to_numpy(dtype=np.int64)

    def _check_layer(
        self, layer: gpd.GeoDataFrame, what: str, existing: np.ndarray,
        gates: gpd.GeoDataFrame | None = None,
    ) -> None:
        crs = self.net.pyproj_crs
        for name, gdf in ((what, layer), ("gates", gates)):
            if gdf is not None and (gdf.crs is None or not crs.equals(gdf.crs)):
                msg = (f"{name}: CRS {gdf.crs} differs from the network's {crs.name}; "
                       "project the layer to the network's CRS first (planner.pipeline "
                       "does it once at load).")
                raise CRSError(msg)
        dup = layer.index[layer.index.duplicated()]
        clash = layer.index.intersection(pd.Index(existing))
        if len(dup) or len(clash):
            bad = list(dup[:5]) + list(clash[:5])
            msg = (f"{what}: id(s) {', '.join(map(str, bad))} "
                   f"{'appear twice' if len(dup) else 'are already in the study graph'}; "
                   "ids must be unique (remove the old ones first to replace them).")
            raise InputError(msg)


def _append(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``rows`` below it (no concat of an empty frame: keeps dtypes)."""
    return rows.copy() if len(frame) == 0 else pd.concat([frame, rows])


def _components(net: CompiledNetwork, access: AccessPoints, n: int) -> np.ndarray:
    """Component label per owner (its best-connected access point), -1 if none snapped."""
    comp = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    ok = access.edge >= 0
    if ok.any():
        labels = net.components[net.edge_u[access.edge[ok].astype(np.int64)]]
        np.minimum.at(comp, access.owner[ok].astype(np.int64), labels)
    comp[comp == np.iinfo(np.int64).max] = -1
    return comp
