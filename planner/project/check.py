"""Check one project against a prepared district: every finding and the verdict.

:func:`check_project` runs the on-site rules (:mod:`planner.project.rules`), asks the
district's reach source for the project's two searches, derives reach, shared
facilities, pooling and the effect on neighbours (:mod:`planner.project.effects`), and
combines them into a verdict: ``pass``, ``pass_with_conditions`` or ``fail``, each
reason and condition citing its clause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner.project import effects, rules
from planner.project.clauses import (
    ACCEPTANCE_WINDOW_DAYS,
    SMALL_PROJECT_M2,
    clauses_for,
    pooling_clause,
)
from planner.project.district import District, ProjectReach
from planner.project.model import Project
from planner.project.rules import Finding, fmt
from planner.schema import FACILITY_KINDS

#: Verdicts with their Chinese and English labels.
VERDICTS: dict[str, tuple[str, str]] = {
    "pass": ("通过", "pass"),
    "pass_with_conditions": ("有条件通过", "pass with conditions"),
    "fail": ("不通过", "fail"),
}


@dataclass
class ProjectCheck:
    """Everything the review of one project found.

    Attributes
    ----------
    project
        The project checked.
    verdict
        ``pass``, ``pass_with_conditions`` or ``fail`` (:data:`VERDICTS`).
    findings
        Every checked rule, in report order.
    reach
        Minutes to its own and the nearest existing facilities (see
        :func:`planner.project.effects.reach_summary`).
    shared
        Existing facilities it would share, before/after (``shared_facilities``).
    neighbours
        Communities within its circle (``neighbours_within``).
    pooling
        The pooled requirement (``pooling``).
    changes
        Communities whose floor area per 100 households changes (``effect_on_communities``).
    change_summary
        Communities brought to standard / pushed below it, with households.
    served_m2_per_100hh
        The project's own floor area per 100 households within walking reach (the
        catchment indicator, not the on-site rule).
    choices, notes
        The profile's interpretive choices and the data notes, for the report.
    terrain
        Hills and stairs the walk assumed (:attr:`District.terrain`), ``None`` on flat
        ground.
    """

    project: Project
    profile: str
    profile_name_zh: str
    verdict: str
    findings: list[Finding]
    reach: dict[str, Any]
    shared: pd.DataFrame
    neighbours: pd.DataFrame
    pooling: dict[str, Any]
    changes: pd.DataFrame
    change_summary: dict[str, Any]
    served_m2_per_100hh: float
    choices: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    terrain: dict[str, Any] | None = None

    @property
    def reasons(self) -> list[Finding]:
        """Findings that make the project fail."""
        return [f for f in self.findings if f.outcome == "fail"]

    @property
    def conditions(self) -> list[Finding]:
        """Findings the pass depends on (conditions, and checks not made)."""
        return [f for f in self.findings if f.outcome in ("condition", "not_checked")]

    def finding(self, fid: str) -> Finding:
        """The finding with this id."""
        return next(f for f in self.findings if f.id == fid)


def check_project(
    district: District, project: Project, *, reach: ProjectReach | None = None
) -> ProjectCheck:
    """Check a project against the district.

    Parameters
    ----------
    district
        From :func:`planner.project.district.prepare_district`.
    project
        From :func:`planner.project.model.make_project`, geometry in the district's CRS.
    reach
        The project's searches when already made (a batch searches for all its projects
        at once); by default searched now.

    Returns
    -------
    ProjectCheck
    """
    district.check_id(project)
    profile = district.profile
    base = district.base
    circle_m = district.circle_m(project.area_type)
    floor = rules.floor_area(project, profile)
    size = rules.facility_size(project, profile)
    pr = reach if reach is not None else district.reach.project_reach(project)
    own = _own_distance(pr.from_site, project)
    kinds = [k for k in FACILITY_KINDS if k in set(base.fac_kind)]
    reached = effects.reach_summary(base, pr.to_facilities, circle_m=circle_m,
                                    own_distance_m=own, kinds=kinds)
    shared = effects.shared_facilities(base, pr.to_facilities, households=project.households,
                                       circle_m=circle_m)
    neighbours = effects.neighbours_within(base, pr.from_site, project_id=project.project_id,
                                           circle_m=circle_m)
    planned_m2 = floor.figures["planned_m2"]
    pool = effects.pooling(neighbours, households=project.households,
                           required_m2=floor.figures["required_m2"], planned_m2=planned_m2)
    counts = (project.facility is not None
              and project.facility.kind in profile.area_counted_kinds.kinds)
    changes, served = effects.effect_on_communities(
        base, project_id=project.project_id, households=project.households,
        shared=shared, circle_m=circle_m,
        planned=(planned_m2, pr.from_site) if counts else None)
    summary = effects.neighbour_changes(changes)
    pool_finding = _pooling_finding(project, district, floor, pool)
    pooled = pool_finding.outcome == "condition"
    findings = [floor, size, pool_finding,
                _reach_finding(project, district, reached, circle_m, pr),
                _effect_finding(summary, served)]
    findings += _sync_findings(project, district, pooled=pooled)
    refusal = _refusal(project, district, floor, pooled)
    if refusal is not None:
        findings.append(refusal)
    verdict = ("fail" if any(f.outcome == "fail" and not (f.id == "floor_area" and pooled)
                             for f in findings)
               else "pass_with_conditions" if any(f.outcome in ("condition", "not_checked")
                                                  for f in findings)
               else "pass")
    if pooled:
        floor.outcome = "condition"
    choices = [
        *profile.choices(),
        f"同步验收：设施与住宅验收相隔{ACCEPTANCE_WINDOW_DAYS}天内视为同步（假设） / acceptance "
        f"within {ACCEPTANCE_WINDOW_DAYS} days of the housing counts as together (assumption)"]
    return ProjectCheck(project, profile.name, profile.name_zh, verdict, findings, reached,
                        shared, neighbours, pool, changes, summary, served, choices,
                        list(district.notes), district.terrain)


def _own_distance(from_site: pd.DataFrame, project: Project) -> float | None:
    if project.facility is None:
        return None
    d = from_site.loc[from_site["community_id"] == project.project_id, "distance_m"]
    return float(d.min()) if len(d) else math.nan


def _pooling_finding(project: Project, district: District, floor: Finding,
                     pool: dict[str, Any]) -> Finding:
    clause = pooling_clause(district.profile)
    n = len(pool["neighbours"])
    figures = {**pool, "small_project": rules.is_small(project, district.profile),
               "small_project_m2": SMALL_PROJECT_M2}
    text_zh = (f"统筹配建：步行圈内相邻小区{n}个（{pool['neighbour_households']:,}户），合计"
               f"{pool['households']:,}户，合计需{fmt(pool['required_m2'])}平方米，可用"
               f"{fmt(pool['floor_area_m2'])}平方米")
    text_en = (f"Pooling: {n} neighbouring communities within the circle "
               f"({pool['neighbour_households']:,} households); together {pool['households']:,} "
               f"households need {fmt(pool['required_m2'])} m² and have "
               f"{fmt(pool['floor_area_m2'])} m²")
    ok_zh = "，统筹后达标" if pool["passes"] else "，统筹后仍不达标"
    ok_en = ", pooling meets it" if pool["passes"] else ", pooling falls short"
    if clause is None:
        return Finding("pooling", "info",
                       f"{text_zh}{ok_zh}（{district.profile.name_zh}无统筹配建条款，仅供参考）。",
                       f"{text_en}{ok_en} ({district.profile.name} has no pooling clause: "
                       "for information only).", figures=figures)
    src = clause.text() + "; small: " + rules.small_source()
    if floor.outcome == "pass":
        return Finding("pooling", "info", f"{text_zh}{ok_zh}（项目自身已达标，无需统筹）。",
                       f"{text_en}{ok_en} (the project meets the rule on its own).", src,
                       figures)
    if not figures["small_project"]:
        return Finding(
            "pooling", "fail",
            f"{text_zh}{ok_zh}；但项目需配建{fmt(floor.figures['required_m2'])}平方米，不属于"
            f"“居住人口较少的小区”（低于{fmt(SMALL_PROJECT_M2)}平方米），不得以统筹代替配建。",
            f"{text_en}{ok_en}; but the project needs {fmt(floor.figures['required_m2'])} m², "
            f"so it is not a small community (below {fmt(SMALL_PROJECT_M2)} m²) and may not pool "
            "instead of building.", src, figures)
    outcome = "condition" if pool["passes"] else "fail"
    cond_zh = "；条件：与上述相邻小区签订统筹配建协议。" if pool["passes"] else "。"
    cond_en = ("; condition: a pooling agreement with these neighbours." if pool["passes"]
               else ".")
    return Finding("pooling", outcome, f"{text_zh}{ok_zh}{cond_zh}", f"{text_en}{ok_en}{cond_en}",
                   src, figures)


def _reach_finding(project: Project, district: District, reach: dict[str, Any],
                   circle_m: float, pr: ProjectReach) -> Finding:
    minutes = float(district.params.minutes(circle_m))
    src = district.profile.circle_minutes[project.area_type].source.text()
    own = reach["own_facility_minutes"]
    inside = reach["inside_existing_circle"]
    parts_zh = [f"步行圈{fmt(minutes)}分钟"]
    parts_en = [f"circle {fmt(minutes)} min"]
    outcome = "info"
    if pr.access_points == 0:
        snap = fmt(district.params.snap_max_m)
        return Finding(
            "reach", "not_checked",
            f"步行可达：项目{snap}米内没有道路（或大门不在路网上），未核对步行可达性。",
            f"Reach: no road within {snap} m of the project (or of its gates); walking reach "
            "not checked.", src, {**reach, "access_points": 0})
    if project.facility is not None:
        if own is None:
            parts_zh.append("自有设施不可达（不在路网上）")
            parts_en.append("its own facility is not reachable on the network")
            outcome = "condition"
        else:
            parts_zh.append(f"到自有设施{own:.1f}分钟")
            parts_en.append(f"{own:.1f} min to its own facility")
            if own > minutes + 1e-9:
                outcome = "condition"
                parts_zh.append("超出步行圈，条件：调整设施位置")
                parts_en.append("beyond the circle; condition: move the facility closer")
    for kind, near in reach["nearest"].items():
        zh_kind, en_kind = FACILITY_KINDS[kind]
        if near["minutes"] is None:
            far = fmt(float(district.params.minutes(district.search_m)))
            parts_zh.append(f"最近现有{zh_kind}超过{far}分钟")
            parts_en.append(f"nearest existing {en_kind} more than {far} min")
        else:
            parts_zh.append(f"最近现有{zh_kind}{near['minutes']:.1f}分钟（{near['facility_id']}）")
            parts_en.append(f"nearest existing {en_kind} {near['minutes']:.1f} min "
                            f"({near['facility_id']})")
    parts_zh.append("位于现有设施服务圈内" if inside else "不在任何现有设施服务圈内")
    parts_en.append("inside an existing facility's circle" if inside
                    else "outside every existing facility's circle")
    if district.terrain is not None:
        zh, en = _terrain_words(district.terrain)
        parts_zh.append(zh)
        parts_en.append(en)
    return Finding("reach", outcome, "步行可达：" + "；".join(parts_zh) + "。",
                   "Reach: " + "; ".join(parts_en) + ".", src,
                   {k: v for k, v in reach.items()})


def _terrain_words(terrain: dict[str, Any]) -> tuple[str, str]:
    """How the walk's minutes were made on hills and stairs, for the reach sentence."""
    zh, en = [], []
    if terrain["dem"] is not None:
        zh.append(f"按DEM {terrain['dem']}计入坡度（居民步行前往设施的方向）")
        en.append(f"with slope from DEM {terrain['dem']} (the residents' walk to the facility)")
    if terrain["no_steps"]:
        zh.append("不走台阶")
        en.append("without stairs")
    elif terrain["stair_edges"]:
        zh.append("台阶计时")
        en.append("stairs timed")
    return "步行时间" + "、".join(zh), "walking minutes " + ", ".join(en)


#: Community ids named in a sentence; the JSON and the tables list all.
SENTENCE_IDS = 10


def _ids(ids: list[str], sep: str) -> str:
    more = f"{sep}… (+{len(ids) - SENTENCE_IDS})" if len(ids) > SENTENCE_IDS else ""
    return sep.join(ids[:SENTENCE_IDS]) + more


def _effect_finding(summary: dict[str, Any], served: float) -> Finding:
    b, p = summary["brought_to_standard"], summary["pushed_below"]
    zh = (f"对周边的影响：使{len(b)}个小区（{summary['brought_households']:,}户）达标"
          + (f"：{_ids(b, '、')}" if b else ""))
    en = (f"Effect on neighbours: brings {len(b)} communities "
          f"({summary['brought_households']:,} households) to standard"
          + (f": {_ids(b, ', ')}" if b else ""))
    if p:
        zh += f"；使{len(p)}个小区（{summary['pushed_households']:,}户）降至不达标：{_ids(p, '、')}"
        en += (f"; pushes {len(p)} ({summary['pushed_households']:,} households) below it: "
               f"{_ids(p, ', ')}")
    zh += f"；项目居民步行可达设施面积每百户{served:.1f}平方米（服务指标，不是配建核查）"
    en += (f"; its residents reach {served:.1f} m² per 100 households within the circle "
           "(a service indicator, not the on-site check)")
    return Finding("effect", "info", zh + "。", en + ".",
                   figures={**summary, "served_m2_per_100hh": served})


def _sync_findings(project: Project, district: District, *, pooled: bool) -> list[Finding]:
    if project.status != "new":
        return [Finding("sync", "info", "四同步：适用于新建住宅小区，老旧小区改造项目不核对。",
                        "Synchronisations: apply to new-build projects; not checked for an "
                        "old-district renovation.")]
    return rules.synchronisations(project, district.profile, pooled=pooled)


def _refusal(project: Project, district: District, floor: Finding, pooled: bool) -> Finding | None:
    clauses, _ = clauses_for(district.profile)
    if clauses.refusal is None or project.status != "new" or floor.outcome == "pass" or pooled:
        return None
    return Finding("planning_review", "fail",
                   "规划审核：未按规划要求配建社区居家养老服务设施，不予规划审核。",
                   "Planning review: the project does not allocate the facility as required; "
                   "planning review is refused.", clauses.refusal.text())
