"""A scenario: a study area with edits, recomputing only what the edits change.

::

    base = Scenario.from_area(area, "jinzhong")              # one search, whole district
    more = base.add_facility("NEW1", lon=112.75, lat=37.69, kind="station", floor_area_m2=300)
    slow = base.with_speed(0.8)                              # re-filters, no search
    table = compare(base.result(), more.result(), slow.result())

Every edit returns a new :class:`Scenario` (named ``"<base> + <change>"`` unless a
``name`` is given); the one it came from is unchanged, so any number of variants can be
compared. What an edit costs:

* add or move a facility: one search from that facility, over the communities within
  ``max_distance_m`` in a straight line;
* resize or close a facility, change households, status or street of communities,
  count planned facilities: no search (the 2SFCA and targets are re-evaluated);
* add communities (a new project): one search from the facilities within reach of them;
* walking speed, circle minutes or profile: the cost table is re-filtered, unless the new
  circles are longer than the table reaches (then the district is searched again, once).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from planner import standards
from planner._errors import InputError
from planner.pipeline import StudyArea
from planner.reach import CompiledNetwork, StudyGraph
from planner.reach.params import ReachParams
from planner.scenarios.evaluate import ScenarioResult, circle_minutes_of, evaluate
from planner.scenarios.quick import QuickBase, QuickResult, quick
from planner.schema import FACILITY_KINDS
from planner.standards import Profile

log = logging.getLogger("planner")


@dataclass(frozen=True)
class Scenario:
    """A study area, a profile and a walking speed, with the cost table searched once.

    Build one with :meth:`from_area`; edit with the methods below (each returns a new
    scenario). :meth:`result` assesses it.

    Attributes
    ----------
    name
        Shown in comparisons.
    net, gates
        The compiled network and the gates (shared, never edited).
    communities, facilities
        The scenario's layers (metric CRS).
    profile, speed_m_s, minutes, include_planned
        How it is assessed; ``minutes`` overrides the profile's circle minutes by area type.
    graph
        The reach core (:class:`planner.reach.StudyGraph`): the layers snapped to the
        network and the cost table of every pair within ``max_distance_m``; each edit
        works on a copy.
    changes, recomputed
        The edits from the first scenario, and what each recomputed.
    """

    name: str
    net: CompiledNetwork
    gates: gpd.GeoDataFrame | None
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    profile: Profile
    speed_m_s: float
    graph: StudyGraph
    params: ReachParams = field(default_factory=ReachParams)
    minutes: Mapping[str, float] = field(default_factory=dict)
    include_planned: bool = False
    changes: tuple[str, ...] = ()
    recomputed: tuple[str, ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: shared by scenarios that differ only in facilities (see :meth:`quick`)
    _lineage: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: facility edits of the lineage: ("add", new cost rows) or ("drop", ids)
    _delta: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        # the first scenario of a lineage (scenarios differing in facilities only) is its
        # root: :meth:`quick` reuses the root's assessment and applies the recorded edits
        self._lineage.setdefault("root", self)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_area(
        cls,
        area: StudyArea,
        profile: Profile | str = "national",
        *,
        speed_m_s: float | None = None,
        include_planned: bool = False,
        max_distance_m: float | None = None,
        name: str = "baseline",
        params: ReachParams | None = None,
    ) -> Scenario:
        """Search the whole district once and return its baseline scenario.

        Parameters
        ----------
        area
            From :func:`planner.pipeline.load_study_area` (or built by hand).
        profile
            A profile or its name/path.
        speed_m_s
            Walking speed (m/s); the profile's by default.
        include_planned
            Count planned facilities as built.
        max_distance_m
            How far to search (metres); by default the longest circle of the profile at
            this speed. Give more to explore faster walking or longer circles without a
            new search.
        name
            Shown in comparisons.
        params
            Snapping distances (speed is taken from ``speed_m_s``).
        """
        if not isinstance(profile, Profile):
            profile = standards.load_profile(profile)
        speed = float(speed_m_s or profile.walking_speed_m_s.value)
        params = params or ReachParams()
        need = _needed_m(area.communities, profile, speed, {})
        reach_m = float(max(max_distance_m or 0.0, need))
        graph = _build(area.net, area.communities, area.facilities, area.gates, reach_m, params)
        note = (f"searched the district: {len(area.facilities):,} facilities, "
                f"{len(graph.costs):,} pairs within {reach_m:,.0f} m")
        log.info("scenario %s: %s", name, note)
        return cls(name, area.net, area.gates, area.communities, area.facilities, profile,
                   speed, graph, params, {}, include_planned, (), (note,))

    @property
    def table(self) -> pd.DataFrame:
        """``facility_id, community_id, distance_m``: every pair within ``max_distance_m``."""
        return self.graph.costs

    @property
    def access_points(self) -> pd.Series:
        """Access points per community that joined the network (0: unreachable)."""
        return self.graph.communities["access_points"]

    @property
    def max_distance_m(self) -> float:
        """How far the cost table reaches (metres)."""
        return self.graph.max_distance_m

    def _edit(self, change: str, recomputed: str, name: str | None, *,
              facilities_only: bool = False, delta: tuple[tuple[str, Any], ...] = (),
              **fields: Any) -> Scenario:
        name = name or f"{self.name} + {change}"
        log.info("scenario %s: %s (%s)", name, change, recomputed)
        return dataclasses.replace(
            self, name=name, changes=(*self.changes, change),
            recomputed=(*self.recomputed, recomputed), _cache={},
            _lineage=self._lineage if facilities_only else {},
            _delta=(*self._delta, *delta) if facilities_only else (), **fields)

    def named(self, name: str) -> Scenario:
        """The same scenario under another name."""
        return dataclasses.replace(self, name=name, _cache={})

    # ---------------------------------------------------------------- facilities

    def point(self, *, x: float | None = None, y: float | None = None,
              lon: float | None = None, lat: float | None = None) -> shapely.Point:
        """A point in the scenario's metric CRS from metres (x, y) or WGS84 lon/lat."""
        if lon is not None and lat is not None:
            return gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(
                self.net.pyproj_crs).iloc[0]
        if x is None or y is None:
            msg = "give a place as lon= and lat= (WGS84) or x= and y= (metres, metric CRS)."
            raise InputError(msg)
        return shapely.Point(x, y)

    def add_facilities(self, new: gpd.GeoDataFrame, *, name: str | None = None) -> Scenario:
        """Add facilities (indexed by ``facility_id``; ``kind``, ``floor_area_m2``, points).

        Only the new facilities' circles are searched.
        """
        new = self._as_layer(new, "facility_id")
        _check_new_ids(new.index, self.facilities.index, "facility")
        _check_kinds(new)
        graph = self.graph.copy()
        pairs = graph.add_facilities(new)
        facilities = pd.concat([self.facilities, new.reindex(
            columns=self.facilities.columns.union(new.columns, sort=False))])
        facilities = gpd.GeoDataFrame(facilities, geometry=self.facilities.geometry.name,
                                      crs=self.facilities.crs)
        facilities.index.name = "facility_id"
        return self._edit(f"add {_names(new.index)}",
                          f"searched {len(new)} new circle(s): {len(pairs):,} pairs", name,
                          facilities=facilities, graph=graph, facilities_only=True,
                          delta=(("add", pairs),))

    def add_facility(self, facility_id: str, *, kind: str = "station", floor_area_m2: float,
                     status: str = "existing", facility_name: str | None = None,
                     street: str | None = None, name: str | None = None,
                     **place: float) -> Scenario:
        """Add one facility at ``lon``/``lat`` (WGS84) or ``x``/``y`` (metres)."""
        row = {"kind": kind, "floor_area_m2": float(floor_area_m2), "status": status}
        if facility_name is not None:
            row["name"] = facility_name
        if street is not None:
            row["street"] = street
        new = gpd.GeoDataFrame([row], index=pd.Index([facility_id], name="facility_id"),
                               geometry=[self.point(**place)], crs=self.net.pyproj_crs)
        return self.add_facilities(new, name=name)

    def move_facility(self, facility_id: str, *, name: str | None = None,
                      **place: float) -> Scenario:
        """Move a facility; its old pairs are dropped and its new circle searched."""
        self._check_known(facility_id, self.facilities.index, "facility")
        facilities = self.facilities.copy()
        facilities.loc[facility_id, facilities.geometry.name] = self.point(**place)
        graph = self.graph.copy()
        graph.remove_facilities([facility_id])
        pairs = graph.add_facilities(facilities.loc[[facility_id]])
        return self._edit(f"move {facility_id}",
                          f"searched 1 circle: {len(pairs):,} pairs", name,
                          facilities=facilities, graph=graph, facilities_only=True,
                          delta=(("drop", [facility_id]), ("add", pairs)))

    def resize_facility(self, facility_id: str, floor_area_m2: float, *,
                        name: str | None = None) -> Scenario:
        """Change a facility's floor area (m²); no search."""
        self._check_known(facility_id, self.facilities.index, "facility")
        facilities = self.facilities.copy()
        old = facilities.at[facility_id, "floor_area_m2"]
        facilities.loc[facility_id, "floor_area_m2"] = float(floor_area_m2)
        return self._edit(f"resize {facility_id} {old:,.0f} -> {floor_area_m2:,.0f} m²",
                          "no search", name, facilities=facilities, facilities_only=True)

    def close_facilities(self, ids: Iterable[str], *, name: str | None = None) -> Scenario:
        """Remove facilities and their pairs; no search."""
        ids = list(ids)
        for fid in ids:
            self._check_known(fid, self.facilities.index, "facility")
        graph = self.graph.copy()
        graph.remove_facilities(ids)
        return self._edit(f"close {_names(ids)}", "no search", name,
                          facilities=self.facilities.drop(index=ids), graph=graph,
                          facilities_only=True, delta=(("drop", ids),))

    def with_planned(self, include: bool = True, *, name: str | None = None) -> Scenario:
        """Count planned facilities as built (or not); no search."""
        return self._edit(f"{'count' if include else 'ignore'} planned facilities",
                          "no search", name, include_planned=include, facilities_only=True)

    # --------------------------------------------------------------- communities

    def add_communities(self, new: gpd.GeoDataFrame, *, gates: gpd.GeoDataFrame | None = None,
                        name: str | None = None) -> Scenario:
        """Add communities (a new project): indexed by ``community_id``, with ``households``.

        Only the facilities within reach of the new communities are searched.
        """
        new = self._as_layer(new, "community_id")
        _check_new_ids(new.index, self.communities.index, "community")
        if gates is not None:
            gates = gates.to_crs(self.net.pyproj_crs)
        all_gates = _concat_gdf(self.gates, gates)
        graph = self.graph.copy()
        pairs = graph.add_communities(new, gates=gates)
        communities = pd.concat([self.communities, new.reindex(
            columns=self.communities.columns.union(new.columns, sort=False))])
        communities = gpd.GeoDataFrame(communities, geometry=self.communities.geometry.name,
                                       crs=self.communities.crs)
        communities.index.name = "community_id"
        return self._edit(f"add {_names(new.index)} ({int(new['households'].sum()):,} households)",
                          f"searched from the new communities: {len(pairs):,} pairs",
                          name, communities=communities, gates=all_gates, graph=graph)

    def add_community(self, community_id: str, *, households: int, geometry: Any = None,
                      name: str | None = None, **columns: Any) -> Scenario:
        """Add one community: ``geometry`` in the metric CRS, or ``lon``/``lat``/``x``/``y``."""
        place = {k: columns.pop(k) for k in ("x", "y", "lon", "lat") if k in columns}
        geom = geometry if geometry is not None else self.point(**place)
        new = gpd.GeoDataFrame([{"households": int(households), **columns}],
                               index=pd.Index([community_id], name="community_id"),
                               geometry=[geom], crs=self.net.pyproj_crs)
        return self.add_communities(new, name=name)

    def change_communities(self, ids: Iterable[str], *, name: str | None = None,
                           **columns: Any) -> Scenario:
        """Set columns (``households``, ``status``, ``completion_year``, ``street``…); no search.

        ``area_type`` changes the circle minutes (a re-filter); geometry cannot change here
        (close and add the community instead).
        """
        ids = list(ids)
        for cid in ids:
            self._check_known(cid, self.communities.index, "community")
        if self.communities.geometry.name in columns:
            msg = "a community's place cannot be changed; add it again under a new id."
            raise InputError(msg)
        communities = self.communities.copy()
        for col, value in columns.items():
            communities.loc[ids, col] = value
        what = ", ".join(f"{k}={v}" for k, v in columns.items())
        scenario = self._edit(f"set {what} for {_names(ids)}", "no search", name,
                              communities=communities)
        return scenario._ensure_reach("area_type" in columns)

    def remove_communities(self, ids: Iterable[str], *, name: str | None = None) -> Scenario:
        """Remove communities and their pairs; no search."""
        ids = list(ids)
        for cid in ids:
            self._check_known(cid, self.communities.index, "community")
        graph = self.graph.copy()
        graph.remove_communities(ids)
        return self._edit(f"remove {_names(ids)}", "no search", name,
                          communities=self.communities.drop(index=ids), graph=graph)

    # ------------------------------------------------------ speed, minutes, profile

    def with_speed(self, speed_m_s: float, *, name: str | None = None) -> Scenario:
        """Walk at ``speed_m_s`` (m/s): re-filters the table.

        The district is searched again only if the circles now reach beyond the table.
        """
        if not speed_m_s > 0:
            msg = f"walking speed must be positive (m/s), got {speed_m_s}."
            raise InputError(msg)
        return self._edit(f"walking speed {self.speed_m_s} -> {speed_m_s} m/s", "re-filtered",
                          name, speed_m_s=float(speed_m_s))._ensure_reach(True)

    def with_minutes(self, *, urban: float | None = None, rural: float | None = None,
                     name: str | None = None) -> Scenario:
        """Circle minutes by area type: re-filters the table."""
        minutes = dict(self.minutes)
        minutes.update({k: float(v) for k, v in (("urban", urban), ("rural", rural))
                        if v is not None})
        what = ", ".join(f"{k} {v:g} min" for k, v in minutes.items())
        return self._edit(f"circles {what}", "re-filtered", name,
                          minutes=minutes)._ensure_reach(True)

    def with_profile(self, profile: Profile | str, *, speed_m_s: float | None = None,
                     name: str | None = None) -> Scenario:
        """Assess against another profile (its walking speed unless ``speed_m_s``)."""
        if not isinstance(profile, Profile):
            profile = standards.load_profile(profile)
        speed = float(speed_m_s or profile.walking_speed_m_s.value)
        return self._edit(f"profile {self.profile.name} -> {profile.name}", "re-filtered",
                          name, profile=profile, speed_m_s=speed)._ensure_reach(True)

    # ------------------------------------------------------------------- results

    def result(self) -> ScenarioResult:
        """Assess the scenario (cached)."""
        if "result" not in self._cache:
            res = evaluate(self.communities, self.facilities, self.table, self.access_points,
                           self.profile, speed_m_s=self.speed_m_s, minutes=self.minutes,
                           include_planned=self.include_planned, name=self.name)
            res.changes, res.recomputed = list(self.changes), list(self.recomputed)
            self._cache["result"] = res
        return self._cache["result"]

    def quick(self) -> QuickResult:
        """Statuses, floor area and targets only, fast (cached).

        For scenarios that differ from an assessed one in facilities only (add, move,
        resize, close, planned): everything about the communities is reused from the
        first full assessment of the lineage (:meth:`result` is run once for it), and
        only the 2SFCA and the targets are recomputed. Statuses and targets equal those
        of :meth:`result`; ``allocation_status`` (配建, the facilities each estate owns)
        is taken as assessed. After an edit of communities, speed, minutes or profile the
        next call assesses in full once again.
        """
        if "quick" not in self._cache:
            if "base" not in self._lineage:
                root = self._lineage["root"]
                self._lineage["base"] = QuickBase(root, len(root._delta))
            self._cache["quick"] = quick(self, self._lineage["base"])
        return self._cache["quick"]

    # ------------------------------------------------------------------- helpers

    def _ensure_reach(self, check: bool) -> Scenario:
        """Search the district again if the circles now reach beyond the table."""
        if not check:
            return self
        need = _needed_m(self.communities, self.profile, self.speed_m_s, self.minutes)
        if need <= self.max_distance_m:
            return self
        graph = _build(self.net, self.communities, self.facilities, self.gates, need,
                       self.params)
        note = (f"circles reach {need:,.0f} m, beyond the table's {self.max_distance_m:,.0f} m: "
                f"searched the district again ({len(graph.costs):,} pairs)")
        log.info("scenario %s: %s", self.name, note)
        return dataclasses.replace(self, graph=graph,
                                   recomputed=(*self.recomputed[:-1], note), _cache={},
                                   _lineage={}, _delta=())

    def _as_layer(self, layer: gpd.GeoDataFrame, index: str) -> gpd.GeoDataFrame:
        if index in layer.columns:
            layer = layer.set_index(index)
        layer = layer.copy()
        layer.index.name = index
        if layer.crs is None:
            what = index.split("_", maxsplit=1)[0]
            msg = f"the new {what} layer has no coordinate system; set one."
            raise InputError(msg)
        return layer.to_crs(self.net.pyproj_crs)

    @staticmethod
    def _check_known(item_id: str, index: pd.Index, what: str) -> None:
        if item_id not in index:
            msg = f"no {what} with id {item_id!r} in the scenario; check the id."
            raise InputError(msg)


def _build(net: CompiledNetwork, communities: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
           gates: gpd.GeoDataFrame | None, max_distance_m: float,
           params: ReachParams) -> StudyGraph:
    return StudyGraph.build(net, communities, facilities, gates=gates,
                            max_distance_m=max_distance_m, snap_max_m=params.snap_max_m,
                            boundary_access_m=params.boundary_access_m)


def _needed_m(communities: pd.DataFrame, profile: Profile, speed: float,
              minutes: Mapping[str, float]) -> float:
    """The longest circle of any community, metres."""
    area = communities["area_type"].fillna("urban").to_numpy() if "area_type" in communities \
        else pd.Series("urban", index=communities.index).to_numpy()
    mins = circle_minutes_of(area, profile, minutes)
    return float(mins.max() * 60.0 * speed) if len(mins) else 0.0


def _check_new_ids(new: pd.Index, old: pd.Index, what: str) -> None:
    clash = new.intersection(old)
    if len(clash) or new.has_duplicates:
        msg = (f"{what} id(s) {_names(clash if len(clash) else new[new.duplicated()])} already "
               f"exist in the scenario; give new {what}s ids of their own.")
        raise InputError(msg)


def _check_kinds(new: pd.DataFrame) -> None:
    for col in ("kind", "floor_area_m2"):
        if col not in new:
            msg = f"new facilities need a '{col}' column."
            raise InputError(msg)
    bad = new.loc[~new["kind"].isin(list(FACILITY_KINDS)), "kind"]
    if len(bad):
        msg = (f"facility {bad.index[0]!r}: unknown kind {bad.iloc[0]!r}; "
               f"use one of {', '.join(FACILITY_KINDS)}.")
        raise InputError(msg)


def _names(ids: Iterable[Any]) -> str:
    ids = [str(i) for i in ids]
    return ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _concat_gdf(a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if a is None or b is None:
        return a if b is None else b
    return gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True), crs=a.crs)
