"""A project check as text (Chinese with English, for an opinion letter), JSON, or a table row."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from planner.io.writers import to_json as strict_json
from planner.labels import PROJECT_STATUS_LABELS
from planner.project.check import VERDICTS, ProjectCheck
from planner.project.rules import fmt

#: Outcome labels in the text report.
OUTCOME_LABELS: dict[str, str] = {
    "pass": "通过 pass",
    "fail": "不通过 FAIL",
    "condition": "附条件 condition",
    "not_checked": "未核对 not checked",
    "info": "说明 info",
}
#: Exit code of each verdict (``planner check-project``): 0 pass (with or without
#: conditions), 1 fail. Bad input is 2 and an internal error 3 (planner.cli._common).
EXIT_CODES = {"pass": 0, "pass_with_conditions": 0, "fail": 1}
#: Rows of each table shown in the text report (the JSON has all).
TEXT_ROWS = 10


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is pd.NA or x is pd.NaT:
        return None
    return x


def _records(frame: pd.DataFrame, index: str) -> list[dict[str, Any]]:
    out = frame.reset_index().rename(columns={"index": index})
    return [_clean(r) for r in out.to_dict("records")]


def to_dict(check: ProjectCheck) -> dict[str, Any]:
    """The check as a JSON-ready dict.

    Keys: ``project`` (id, name, households, status, area_type, facility, dates, lon/lat of
    the site), ``profile``, ``verdict`` (``pass``/``pass_with_conditions``/``fail``),
    ``verdict_zh``, ``verdict_en``, ``exit_code``, ``reasons`` and ``conditions`` (finding
    ids), ``findings`` (id, outcome, zh, en, source, figures), ``floor_area`` (its
    figures), ``reach``, ``shared_facilities``, ``neighbours``, ``pooling``, ``effect``
    (``brought_to_standard``… and ``changes``), ``served_m2_per_100hh``, ``choices``,
    ``notes``, ``terrain`` (``None`` on flat ground, else ``dem``: the DEM's file name,
    ``no_steps``, ``stair_edges``).
    """
    p = check.project
    fac = p.facility
    return _clean({
        "project": {
            "project_id": p.project_id, "name": p.name, "households": p.households,
            "status": p.status, "area_type": p.area_type, "few_elderly": p.few_elderly,
            "gates": len(p.gates),
            "facility": None if fac is None else {
                "floor_area_m2": fac.floor_area_m2, "kind": fac.kind, "location": fac.location},
            "dates": p.dates.to_dict(),
        },
        "profile": check.profile,
        "profile_name_zh": check.profile_name_zh,
        "verdict": check.verdict,
        "verdict_zh": VERDICTS[check.verdict][0],
        "verdict_en": VERDICTS[check.verdict][1],
        "exit_code": EXIT_CODES[check.verdict],
        "reasons": [f.id for f in check.reasons],
        "conditions": [f.id for f in check.conditions],
        "findings": [f.to_dict() for f in check.findings],
        "floor_area": check.finding("floor_area").figures,
        "reach": check.reach,
        "shared_facilities": _records(check.shared, "facility_id"),
        "neighbours": _records(check.neighbours, "community_id"),
        "pooling": check.pooling,
        "effect": {**check.change_summary,
                   "changes": _records(check.changes, "community_id")},
        "served_m2_per_100hh": check.served_m2_per_100hh,
        "choices": check.choices,
        "notes": check.notes,
        "terrain": check.terrain,
    })


def to_json(check: ProjectCheck) -> str:
    """The check as indented, strict JSON (UTF-8 text, Chinese kept as is).

    Written by :func:`planner.io.to_json`: NaN and ±Infinity become ``null`` (strict JSON
    readers reject them), numpy values become plain numbers, m² are rounded to 0.1,
    minutes to 0.01 and shares to 0.0001.
    """
    return strict_json(to_dict(check))


def _name(value: Any, fallback: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return fallback
    return str(value)


def to_text(check: ProjectCheck) -> str:
    """The readable report: verdict, each finding with its clause, the tables, the choices."""
    p = check.project
    zh, en = VERDICTS[check.verdict]
    status = {k: f"{zh} {en}" for k, (zh, en) in PROJECT_STATUS_LABELS.items()}
    lines = [
        f"项目审查 / Project check: {p.project_id}{' ' + p.name if p.name else ''} — "
        f"{p.households:,} 户 households, {status[p.status]}; profile {check.profile} "
        f"({check.profile_name_zh})",
        f"结论 / Verdict: {zh} / {en}",
        "",
    ]
    for f in check.findings:
        lines.append(f"[{OUTCOME_LABELS[f.outcome]}] {f.zh}")
        lines.append(f"    {f.en}")
        if f.source:
            lines.append(f"    依据 / clause: {f.source}")
    if check.reasons:
        lines += ["", "不通过理由 / Reasons for the fail:"]
        lines += [f"  - {f.zh} / {f.en} ({f.source})" if f.source else f"  - {f.zh} / {f.en}"
                  for f in check.reasons]
    if check.conditions:
        lines += ["", "条件与未核对事项 / Conditions and checks not made:"]
        lines += [f"  - {f.zh} / {f.en}" for f in check.conditions]
    lines += _shared_lines(check) + _neighbour_lines(check) + _change_lines(check)
    lines += ["", "口径说明 / Choices and notes:"]
    lines += [f"  - {c}" for c in [*check.notes, *check.choices]]
    return "\n".join(lines)


def _shared_lines(check: ProjectCheck) -> list[str]:
    if not len(check.shared):
        return ["", "共用的现有设施 / Existing facilities shared: 无 none"]
    out = ["", "共用的现有设施（每百户面积，加入前→加入后） / Existing facilities shared "
           "(m² per 100 households served, before → after):"]
    for fid, r in check.shared.iterrows():
        out.append(
            f"  {fid} {_name(r['name'], '')} {r['kind']} {fmt(r['floor_area_m2'])} m², "
            f"{r['minutes']:.1f} min: {r['households_before']:,} → {r['households_after']:,} 户 "
            f"households, {fmt(r['m2_per_100hh_before'])} → {fmt(r['m2_per_100hh_after'])}")
    return out


def _neighbour_lines(check: ProjectCheck) -> list[str]:
    n = check.neighbours
    if not len(n):
        return ["", "步行圈内相邻小区 / Neighbours within the circle: 无 none"]
    out = ["", f"步行圈内相邻小区 / Neighbours within the circle ({len(n)}):"]
    for cid, r in n.head(TEXT_ROWS).iterrows():
        out.append(f"  {cid} {_name(r.get('name'), '')} {int(r['households']):,} 户 households, "
                   f"{r['minutes']:.1f} min, {r['service_status']}")
    if len(n) > TEXT_ROWS:
        out.append(f"  … 另{len(n) - TEXT_ROWS}个 / {len(n) - TEXT_ROWS} more (--json lists all)")
    return out


def _change_lines(check: ProjectCheck) -> list[str]:
    c = check.changes
    changed = c[c["status_before"] != c["status_after"]]
    if not len(changed):
        return []
    out = ["", f"服务状态变化的小区 / Communities whose status changes ({len(changed)}):"]
    for cid, r in changed.head(TEXT_ROWS).iterrows():
        out.append(f"  {cid} {int(r['households']):,} 户: {r['status_before']} → "
                   f"{r['status_after']} ({fmt(r['m2_per_100hh_before'])} → "
                   f"{fmt(r['m2_per_100hh_after'])} m² per 100 households)")
    if len(changed) > TEXT_ROWS:
        out.append(f"  … 另{len(changed) - TEXT_ROWS}个 / {len(changed) - TEXT_ROWS} more "
                   "(--json lists all)")
    return out


#: Columns of a batch row (one project), in order.
ROW_COLUMNS = (
    "project_id", "name", "households", "status", "verdict", "reasons", "conditions",
    "required_m2_per_100hh", "required_m2", "planned_m2", "planned_m2_per_100hh",
    "floor_area", "shortfall_m2", "reading", "range_position", "facility_kind",
    "facility_minimum_m2", "facility_size", "facility_minimum_basis", "own_facility_minutes",
    "inside_existing_circle", "nearest_minutes_by_kind", "shared_facilities",
    "neighbours", "pooled_households", "pooled_required_m2", "pooled_floor_area_m2",
    "pooling", "brought_to_standard", "brought_households", "pushed_below",
    "pushed_households", "served_m2_per_100hh", "sync_planning", "sync_construction",
    "sync_acceptance", "sync_handover", "handover_deadline", "lon", "lat", "walk",
)


def walk_label(terrain: dict[str, Any] | None) -> str:
    """How the minutes were walked: ``flat``, ``DEM hill.tif``, ``DEM hill.tif; no steps``."""
    if terrain is None:
        return "flat"
    parts = [f"DEM {terrain['dem']}"] if terrain["dem"] is not None else []
    if terrain["no_steps"]:
        parts.append("no steps")
    elif terrain["stair_edges"]:
        parts.append(f"{terrain['stair_edges']} stair edges timed")
    return "; ".join(parts)


def to_row(check: ProjectCheck, lonlat: tuple[float, float] | None = None) -> dict[str, Any]:
    """One flat row of the batch table (:data:`ROW_COLUMNS`)."""
    fa = check.finding("floor_area").figures
    size = check.finding("facility_size")
    outcomes = {f.id: f.outcome for f in check.findings}
    nearest = "; ".join(f"{k} {fmt(v['minutes'])}" if v["minutes"] is not None else f"{k} –"
                        for k, v in check.reach["nearest"].items())
    row = {
        "project_id": check.project.project_id, "name": check.project.name,
        "households": check.project.households, "status": check.project.status,
        "verdict": check.verdict, "reasons": "; ".join(f.id for f in check.reasons),
        "conditions": "; ".join(f.id for f in check.conditions),
        "required_m2_per_100hh": fa["required_m2_per_100hh"], "required_m2": fa["required_m2"],
        "planned_m2": fa["planned_m2"], "planned_m2_per_100hh": fa["planned_m2_per_100hh"],
        "floor_area": outcomes["floor_area"], "shortfall_m2": fa["shortfall_m2"],
        "reading": fa["reading"], "range_position": fa.get("range_position"),
        "facility_kind": size.figures.get("kind"),
        "facility_minimum_m2": size.figures.get("minimum_m2"),
        "facility_size": size.outcome, "facility_minimum_basis": size.figures.get("basis"),
        "own_facility_minutes": check.reach["own_facility_minutes"],
        "inside_existing_circle": check.reach["inside_existing_circle"],
        "nearest_minutes_by_kind": nearest,
        "shared_facilities": "; ".join(map(str, check.shared.index)),
        "neighbours": "; ".join(map(str, check.neighbours.index)),
        "pooled_households": check.pooling["households"],
        "pooled_required_m2": check.pooling["required_m2"],
        "pooled_floor_area_m2": check.pooling["floor_area_m2"],
        "pooling": outcomes["pooling"],
        "brought_to_standard": "; ".join(check.change_summary["brought_to_standard"]),
        "brought_households": check.change_summary["brought_households"],
        "pushed_below": "; ".join(check.change_summary["pushed_below"]),
        "pushed_households": check.change_summary["pushed_households"],
        "served_m2_per_100hh": check.served_m2_per_100hh,
        **{k: outcomes.get(k, outcomes.get("sync", "info")) for k in
           ("sync_planning", "sync_construction", "sync_acceptance", "sync_handover",
            "handover_deadline")},
        "lon": lonlat[0] if lonlat else None, "lat": lonlat[1] if lonlat else None,
        "walk": walk_label(check.terrain),
    }
    return _clean(row)

