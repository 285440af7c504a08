"""The main job, end to end: load a study area, assess it against a profile, write outputs.

Stages (each a small module)::

    io.read_*  ─► communities, facilities, gates (WGS84) ─┐
    network.compile_network ─► CompiledNetwork (metric) ──┼─► load_study_area ─► StudyArea
    standards.load_profile ─► Profile ────────────────────┘
    assess(area, profile) ─► reach.compute_reach (a StudyGraph: cost table, nearest)
                          ─► coverage.assess_profile ─► judge (targets, timeline)
                          ─► isochrones.facility_circles (only for the map / GeoPackage)
                          ─► Assessment ─► outputs.write_outputs(out_dir)

Notebooks call :func:`load_study_area` once and :func:`assess` per scenario.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import diagnostics, standards
from planner._errors import NetworkError
from planner.care.assess import care_stage
from planner.coverage import assess_profile
from planner.gaps import street_table
from planner.io import LoadResult, read_communities, read_facilities, read_gates
from planner.isochrones import HERE_SHARE_WHILE_ASSESSING, start_facility_circles
from planner.judge import judge, planned_costs
from planner.network import compile_network
from planner.notes import result_notes, synthetic_notes
from planner.reach import CompiledNetwork, ReachParams, ReachResult, compute_reach
from planner.schema import SERVICE_STATUSES, validate_communities, validate_facilities
from planner.standards import Profile
from planner.terrain import Terrain

log = logging.getLogger("planner")


@dataclass
class StudyArea:
    """A district ready to assess: network and layers in one metric CRS.

    Attributes
    ----------
    net
        The compiled walking network.
    communities, facilities, gates
        Layers projected to the network's CRS, indexed by ``community_id`` /
        ``facility_id``; ``gates`` may be ``None``.
    loads
        What each loader read and rejected (``communities``, ``facilities``, ``gates``).
    notes
        Lines every report must show about the data (e.g. "synthetic sample").
    terrain
        Heights and stairs (:func:`planner.terrain.load_terrain`); :func:`assess` then
        walks on direction-dependent costs (flat-equivalent metres).
    """

    net: CompiledNetwork
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame | None = None
    loads: dict[str, LoadResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    declared_crs: dict[str, str] = field(default_factory=dict)
    terrain: Terrain | None = None


@dataclass
class Assessment:
    """Everything a report needs.

    Attributes
    ----------
    communities
        Input columns plus the result contract (:data:`planner.schema.COMMUNITY_RESULT_COLUMNS`
        and ``nearest_minutes_<kind>``), metric CRS.
    facilities
        Input columns plus ``in_assessment``, ``snap_distance_m``, ``network_component``,
        ``communities_served``, ``households_served``, ``m2_per_100hh_served``,
        ``meets_min_size``.
    costs
        ``facility_id, community_id, distance_m, minutes`` within circles.
    isochrones
        One walking-circle polygon per assessed facility (or ``None``).
    targets
        The profile's coverage targets with value, threshold and pass/fail.
    streets
        Households and floor area by status per street (see :func:`planner.gaps.street_table`).
    summary
        The JSON-ready summary (see :func:`summarise`).
    """

    profile: Profile
    params: ReachParams
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    costs: pd.DataFrame
    isochrones: gpd.GeoDataFrame | None
    targets: pd.DataFrame
    summary: dict[str, Any]
    streets: pd.DataFrame | None = None
    timeline: pd.DataFrame | None = None
    #: The care stage (:class:`planner.care.CareResult`: raw counts, not for export), or
    #: ``None`` without care data; the layers above carry its columns with small counts
    #: suppressed, ``summary["care"]`` its safe summary.
    care: Any = None


def load_study_area(
    network: str | Path,
    communities: str | Path,
    facilities: str | Path,
    *,
    gates: str | Path | None = None,
    network_crs: str = "wgs84",
    communities_crs: str = "wgs84",
    facilities_crs: str = "wgs84",
    metric_crs: str | None = None,
    use_cache: bool = True,
    layers: dict[str, str | None] | None = None,
) -> StudyArea:
    """Read the network and the layers and bring them into the network's metric CRS.

    Parameters
    ----------
    network
        ``.osm``, ``.osm.pbf``, ``.graphml`` or road-line file (see
        :func:`planner.network.compile_network`).
    communities, facilities, gates
        Tables or spatial files (see :mod:`planner.io`).
    network_crs, communities_crs, facilities_crs
        Declared coordinate system of each input: ``wgs84``, ``cgcs2000``, ``gcj02``,
        ``bd09`` or ``EPSG:nnnn``. GCJ-02 and BD-09 are converted to WGS84 first.
    metric_crs
        Projected CRS to work in; by default the UTM zone of the network.
    layers
        Layer (GeoPackage) or sheet (Excel) to read per input: ``network``,
        ``communities``, ``facilities``, ``gates``; by default chosen as
        :mod:`planner.io.layers` says, with a note.

    Returns
    -------
    StudyArea
        ``notes`` carries what the checks of :mod:`planner.diagnostics` found: layers
        partly outside the network, coordinates that look like undeclared GCJ-02/BD-09,
        repaired polygons. Gates of unknown communities are moved to the rejects.

    Raises
    ------
    InputError
        An unknown coordinate system, a file too big for the memory available, a layer
        with no usable rows, most of a layer outside the network, and every error of the
        readers (:mod:`planner.io`).
    NetworkError
        The network has no walkable roads.
    """
    declared = {"network": network_crs, "communities": communities_crs,
                "facilities": facilities_crs, "gates": communities_crs}
    diagnostics.check_declarations(declared)
    paths = {"network": network, "communities": communities, "facilities": facilities,
             "gates": gates}
    for role, path in paths.items():
        diagnostics.check_memory(path, role=role)
    layers = layers or {}
    # the layers first: a bad row or column is reported in a second, before the network
    # (minutes for a big .pbf without a cache) is compiled
    loads = {
        "communities": read_communities(communities, crs=communities_crs,
                                        layer=layers.get("communities")),
        "facilities": read_facilities(facilities, crs=facilities_crs,
                                      layer=layers.get("facilities")),
    }
    diagnostics.check_not_empty(loads["communities"], what="communities", role="communities")
    diagnostics.check_not_empty(loads["facilities"], what="facilities", role="facilities")
    if gates is not None:
        loads["gates"] = diagnostics.reject_unknown_gates(
            read_gates(gates, crs=communities_crs, layer=layers.get("gates")),
            loads["communities"].data,
            communities_path=Path(communities))
    net = compile_network(network, crs=network_crs, metric_crs=metric_crs, use_cache=use_cache,
                          layer=layers.get("network"))
    _ = net.tree  # build the edge index now: snapping needs it, and it is part of loading
    crs = net.pyproj_crs
    projected = {k: v.data.to_crs(crs) for k, v in loads.items()}
    notes = synthetic_notes(communities)  # the marker planner sample writes, not a README
    notes += diagnostics.diagnose_layers(net, loads, projected, declared=declared,
                                         network_path=network)
    return StudyArea(net, projected["communities"], projected["facilities"],
                     projected.get("gates"), loads, notes,
                     {k: v for k, v in declared.items() if k != "gates" or gates is not None})


def assess(
    area: StudyArea,
    profile: Profile | str = "national",
    *,
    params: ReachParams | None = None,
    include_planned: bool = False,
    isochrones: bool = True,
    progress: bool = False,
    as_of: int | None = None,
) -> Assessment:
    """Assess a study area against a standards profile.

    Parameters
    ----------
    area
        From :func:`load_study_area` (or built by hand in the metric CRS).
    profile
        A :class:`~planner.standards.Profile` or a profile name/path.
    params
        Reach parameters; by default the profile's walking speed and planner defaults.
    include_planned
        Count facilities with ``status = planned`` as if built (a scenario).
    isochrones
        Build walking-circle polygons for the map.
    as_of
        Year the targets are judged in (due / overdue; default: the current year).
    """
    if not isinstance(profile, Profile):
        profile = standards.load_profile(profile)
    validate_communities(area.communities)
    validate_facilities(area.facilities)
    params = params or ReachParams(speed_m_s=profile.walking_speed_m_s.value)
    if area.terrain is not None:  # hills and stairs: directed costs at this walking speed
        area = replace(area, net=area.terrain.network(area.net, speed_m_s=params.speed_m_s),
                       terrain=None)
    comm = prepare_communities(area.communities, profile)
    fac = prepare_facilities(area.facilities, include_planned=include_planned)
    active = fac["in_assessment"]
    if len(area.net.edge_u) == 0:
        msg = "the study area has no roads; check the network file and its area."
        raise NetworkError(msg)
    counted = set(profile.area_counted_kinds.kinds)
    # walking circles need only the facilities: most are drawn by a second process while
    # this one assesses; .result() below draws the rest and joins
    pending = (start_facility_circles(area.net, fac[active], progress=progress,
                                      minutes=profile.circle_minutes["urban"].value,
                                      speed_m_s=params.speed_m_s,
                                      here_share=HERE_SHARE_WHILE_ASSESSING)
               if isochrones else None)
    try:
        reach = compute_reach(
            area.net, comm, fac[active], circle_minutes=comm["circle_minutes"].to_numpy(),
            params=params, gates=area.gates, nearest_kinds=counted,
        )
        comm, fac = _combine(comm, fac, reach, profile, counted)
        judged = judge(profile, comm, fac, reach.costs, as_of=as_of,
                       planned_costs=planned_costs(area, comm, fac, params,
                                                   study=reach.study))
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    comm, fac, targets = judged.communities, judged.facilities, judged.targets
    summary = summarise(area, profile, params, comm, fac, targets,
                        include_planned=include_planned)
    summary["notes"] += judged.notes
    summary.update(judged.summary)
    streets = street_table(comm)
    comm, fac, care = care_stage(area, comm, fac, reach.costs, profile,
                                 speed_m_s=params.speed_m_s)
    if care is not None:
        summary["care"] = care.summary
        summary["choices"] = [*summary["choices"], *care.report_choices()]
    circles = pending.result() if pending is not None else None
    return Assessment(profile, params, comm, fac, reach.costs, circles, targets, summary,
                      streets, timeline=judged.timeline, care=care)


def in_assessment(facilities: pd.DataFrame, *, include_planned: bool) -> pd.Series:
    """Which facilities count as built, as the assessment decides it.

    Existing ones (a blank or missing ``status`` is ``existing``) and, with
    ``include_planned``, planned ones. Boolean, indexed like ``facilities``.
    """
    if "status" not in facilities:
        return pd.Series(True, index=facilities.index)
    status = facilities["status"].fillna("existing")
    return status.eq("existing") | (include_planned & status.eq("planned"))


def prepare_facilities(facilities: gpd.GeoDataFrame, *, include_planned: bool) -> gpd.GeoDataFrame:
    """Status filled (``existing`` by default) and ``in_assessment`` as the assessment sets it."""
    fac = facilities.copy()
    fac["status"] = fac["status"].fillna("existing") if "status" in fac else "existing"
    fac["in_assessment"] = in_assessment(fac, include_planned=include_planned)
    return fac


def prepare_communities(communities: gpd.GeoDataFrame, profile: Profile) -> gpd.GeoDataFrame:
    """Fill status (new/old), area type and circle minutes from the profile."""
    comm = communities.copy()
    none = pd.Series(None, index=comm.index, dtype=object)
    year = comm["completion_year"] if "completion_year" in comm else none
    given = comm["status"] if "status" in comm else none
    comm["status_basis"] = standards.status_basis(year, given)
    comm["status"] = standards.infer_status(year, given, profile)
    given_type = comm["area_type"].notna() if "area_type" in comm else False
    comm["area_type_basis"] = np.where(given_type, "given", "assumed_urban")
    if "area_type" not in comm:
        comm["area_type"] = "urban"
    comm["area_type"] = comm["area_type"].fillna("urban")
    if "street" not in comm:
        comm["street"] = None
    comm["circle_minutes"] = np.asarray(
        standards.circle_minutes(comm["area_type"].to_numpy(), profile), dtype=float
    )
    return comm


def _combine(
    comm: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    reach: ReachResult,
    profile: Profile,
    counted: set[str],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Join reach results onto the layers and assess floor area (:mod:`planner.coverage`)."""
    comm = comm.join(reach.communities.drop(columns=["circle_minutes"]))
    fac = fac.join(reach.facilities)
    # reach.costs already holds only the pairs within each circle: assess_profile's own
    # circle filter keeps them all, without a second pass over the whole study table
    comm, fac = assess_profile(comm, fac, reach.costs, profile,
                               speed_m_s=reach.speed_m_s, counted_kinds=counted)
    # the street of each facility is filled row by row, and reported, and meets_min_size
    # judged (with the smaller minimum where the 社区 has few elderly), in planner.judge
    return comm, fac


def _load_counts(load: LoadResult | None, written: int) -> dict[str, Any]:
    if load is None:
        return {"read": written, "written": written, "rejected": 0}
    rejected = int(load.rejects["row"].nunique()) if len(load.rejects) else 0
    return {"file": str(load.path), "read": load.rows_read, "written": written,
            "rejected": rejected, "read_equals_written_plus_rejected":
            load.rows_read == written + rejected}


def summarise(
    area: StudyArea,
    profile: Profile,
    params: ReachParams,
    comm: pd.DataFrame,
    fac: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    include_planned: bool,
) -> dict[str, Any]:
    """The run summary written as ``summary.json``.

    Keys: ``profile``, ``profile_name_zh``, ``walking_speed_m_s``, ``circle_minutes``,
    ``circle_metres``, ``choices``, ``notes``, ``targets`` (each with value, threshold and
    passed), ``communities`` and ``facilities`` counts, ``inputs`` (``read = written +
    rejected``), ``network`` and ``profile_detail``.
    """
    statuses = comm["service_status"].value_counts().to_dict()
    hh = comm["households"]
    minutes = {k: v.value for k, v in profile.circle_minutes.items()}
    notes = list(area.notes)
    basis = comm["status_basis"].value_counts().to_dict()
    if basis.get("default", 0):
        notes.append(f"{basis['default']} 个小区缺少建成年代和新旧类型，"
                     "按老城区、已建成小区标准评估 / "
                     f"{basis['default']} communities had neither completion year nor status: "
                     "assessed as old (the lower floor)")
    notes += result_notes(comm, fac, include_planned=include_planned,
                          snap_max_m=getattr(params, "snap_max_m", None),
                          files={k: v.path for k, v in area.loads.items()})
    off_main = int(((comm["network_component"] > 0)).sum())
    return {
        "profile": profile.name,
        "profile_name_zh": profile.name_zh,
        "walking_speed_m_s": params.speed_m_s,
        "circle_minutes": minutes,
        "circle_metres": {k: float(params.metres(v)) for k, v in minutes.items()},
        "include_planned": include_planned,
        "choices": profile.choices(),
        "notes": notes,
        "targets": _json_records(targets),
        "communities": {
            "count": len(comm),
            "households": int(hh.sum()),
            "by_status": {s: int(statuses.get(s, 0)) for s in SERVICE_STATUSES},
            "households_by_status": {s: int(hh[comm["service_status"] == s].sum())
                                     for s in SERVICE_STATUSES},
            "on_minor_network_component": off_main,
            "shortfall_m2": float(comm["shortfall_m2"].sum()),
            "required_m2": float(comm["required_m2"].sum()),
        },
        "facilities": {
            "count": len(fac),
            "assessed": int(fac["in_assessment"].sum()),
            "not_on_network": int((fac["in_assessment"] & (fac["network_component"] < 0)).sum()),
            "floor_area_m2": float(fac.loc[fac["in_assessment"], "floor_area_m2"].sum()),
            "by_kind": {str(k): int(v) for k, v in fac["kind"].value_counts().items()},
        },
        "inputs": {
            "communities": _load_counts(area.loads.get("communities"), len(comm)),
            "facilities": _load_counts(area.loads.get("facilities"), len(fac)),
            **({"gates": _load_counts(area.loads["gates"], len(area.gates))}
               if "gates" in area.loads and area.gates is not None else {}),
        },
        "declared_crs": dict(area.declared_crs),
        "network": {"nodes": area.net.n_nodes, "edges": area.net.n_edges,
                    "components": int(area.net.components.max()) + 1,
                    "main_component_share": float(np.mean(area.net.components == 0)),
                    "crs": area.net.pyproj_crs.name,
                    "length_km": float(area.net.edge_length.sum() / 1000)},
        "profile_detail": profile.to_dict(),
    }


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN becomes None)."""
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else
             v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
