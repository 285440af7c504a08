"""On-site rules of a project review: floor area (配建), facility size, the synchronisations.

Each check returns a :class:`Finding`: an outcome (``pass``, ``fail``, ``condition``,
``not_checked`` or ``info``), one sentence in Chinese and one in English ready for an
opinion letter, the clause it rests on, and its figures (m², days…) for tables and JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from planner import standards
from planner.labels import PROJECT_STATUS_LABELS
from planner.project.clauses import (
    ACCEPTANCE_WINDOW_DAYS,
    SMALL_PROJECT_M2,
    SMALL_PROJECT_SOURCE,
    SYNCS,
    clauses_for,
)
from planner.project.model import Project
from planner.schema import FACILITY_KINDS
from planner.standards import Profile, Source

#: Outcomes of a finding. ``condition``: passes only if the reviewer attaches a condition;
#: ``not_checked``: a figure is missing (never a pass); ``info``: no rule applies.
OUTCOMES = ("pass", "fail", "condition", "not_checked", "info")
#: Tolerance on floor area, m² per 100 households (as in planner.coverage).
TOLERANCE_M2_PER_100HH = 1e-6


@dataclass
class Finding:
    """One checked rule.

    Attributes
    ----------
    id
        ``floor_area``, ``facility_size``, ``sync_planning`` … ``handover_deadline``,
        ``pooling``, ``reach``.
    outcome
        One of :data:`OUTCOMES`.
    zh, en
        The sentence for the report.
    source
        The clause (``doc clause: 「quote」``), empty when none.
    figures
        Numbers behind the sentence (m², days, minutes…).
    """

    id: str
    outcome: str
    zh: str
    en: str
    source: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"id": self.id, "outcome": self.outcome, "zh": self.zh, "en": self.en,
                "source": self.source, "figures": self.figures}


def fmt(x: float | None, digits: int = 1) -> str:
    """A number without a spurious ``.0`` (``300.0`` → ``300``, ``22.5`` → ``22.5``)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _cite(source: Source | None, *, inherited: bool = False, assumption: bool = False) -> str:
    if source is None:
        return ""
    flags = [f for f, on in (("inherited", inherited), ("assumption", assumption)) if on]
    return source.text() + (f" [{', '.join(flags)}]" if flags else "")


# ------------------------------------------------------------------------- floor area


def floor_area(project: Project, profile: Profile) -> Finding:
    """Required floor area for the project's households against what it plans (配建).

    required m² = households × (m² per 100 households for its status) / 100. The
    figures give the formula, the reading of a rule written per household (Yangjiang)
    with the other reading's requirement, and for a range (Wanzhou 20–30) where the
    planned m² per 100 households sits in it (0 % at the bottom, 100 % at the top).
    """
    rule = profile.area_per_100hh[project.status]
    hh = project.households
    per100 = rule.min_m2
    required = hh * per100 / 100
    fac = project.facility
    counted = fac is not None and fac.kind in profile.area_counted_kinds.kinds
    planned = fac.floor_area_m2 if fac is not None and counted else 0.0
    planned_per100 = 100 * planned / hh
    ok = planned_per100 + TOLERANCE_M2_PER_100HH >= per100
    shortfall = max(0.0, required - planned)
    formula = f"{hh:,} × {fmt(per100)} / 100 = {fmt(required)} m²"
    figures: dict[str, Any] = {
        "households": hh, "status": project.status, "required_m2_per_100hh": per100,
        "required_m2": required, "planned_m2": planned, "planned_m2_per_100hh": planned_per100,
        "shortfall_m2": shortfall, "formula": formula, "reading": rule.reading,
        "unit_as_written": rule.unit_as_written, "rule_inherited": rule.inherited,
        "rule_origin": rule.origin,
        "standard_position": str(standards.range_position(planned_per100, project.status,
                                                          profile)),
    }
    reading_zh = reading_en = ""
    if rule.unit_as_written == "per_household":
        other = "literal" if rule.reading == "per_100_households" else "per_100_households"
        other_per100 = rule.written_min_m2 * standards.READINGS[other]
        figures["other_reading"] = other
        figures["other_reading_required_m2"] = hh * other_per100 / 100
        if rule.reading == "per_100_households":
            reading_zh = (f"（原文“每户{fmt(rule.written_min_m2)}平方米”按每百户解读；按字面需"
                          f"{fmt(hh * other_per100 / 100)}平方米）")
            reading_en = (f" (the text says {fmt(rule.written_min_m2)} m² per household; read "
                          f"per 100 households; read literally it needs "
                          f"{fmt(hh * other_per100 / 100)} m²)")
        else:
            reading_zh = (f"（原文“每户{fmt(rule.written_min_m2)}平方米”按字面解读；按每百户"
                          f"解读需{fmt(hh * other_per100 / 100)}平方米）")
            reading_en = (f" (the text {fmt(rule.written_min_m2)} m² per household applied "
                          f"literally; read per 100 households it needs "
                          f"{fmt(hh * other_per100 / 100)} m²)")
    range_zh = range_en = ""
    if rule.max_m2 is not None and rule.max_m2 > rule.min_m2:
        position = (planned_per100 - rule.min_m2) / (rule.max_m2 - rule.min_m2)
        figures["range_m2_per_100hh"] = [rule.min_m2, rule.max_m2]
        figures["range_position"] = position
        figures["range_max_m2"] = hh * rule.max_m2 / 100
        where = ("低于区间" if position < 0 else "高于区间" if position > 1
                 else f"位于区间{position:.0%}处")
        where_en = ("below the range" if position < 0 else "above the range" if position > 1
                    else f"{position:.0%} of the way up the range")
        range_zh = (f"；标准区间每百户{fmt(rule.min_m2)}–{fmt(rule.max_m2)}平方米"
                    f"（{fmt(required)}–{fmt(hh * rule.max_m2 / 100)}平方米），本项目每百户"
                    f"{planned_per100:.1f}平方米，{where}")
        range_en = (f"; the standard is a range of {fmt(rule.min_m2)}–{fmt(rule.max_m2)} m² "
                    f"per 100 households ({fmt(required)}–{fmt(hh * rule.max_m2 / 100)} m²): "
                    f"the project plans {planned_per100:.1f}, {where_en}")
    if fac is not None and not counted:
        kind_zh, kind_en = FACILITY_KINDS[fac.kind]
        reading_zh += f"（{kind_zh}不计入养老服务设施配建面积）"
        reading_en += f" (a {kind_en} does not count towards the floor area)"
    status_zh, status_en = PROJECT_STATUS_LABELS[project.status]
    verdict_zh = "达标" if ok else f"不达标，缺{fmt(shortfall)}平方米"
    verdict_en = "meets it" if ok else f"short by {fmt(shortfall)} m²"
    zh = (f"配建面积：{status_zh}应配建 {formula}（每百户{fmt(per100)}平方米）"
          f"{reading_zh}；规划{fmt(planned)}平方米，{verdict_zh}{range_zh}。")
    en = (f"Floor area: a {status_en} project needs {formula} ({fmt(per100)} m² per 100 "
          f"households){reading_en}; it plans {fmt(planned)} m², {verdict_en}{range_en}.")
    return Finding("floor_area", "pass" if ok else "fail", zh, en,
                   _cite(rule.source, inherited=rule.inherited, assumption=rule.assumption),
                   figures)


def is_small(project: Project, profile: Profile) -> bool:
    """True when the project's requirement is below :data:`SMALL_PROJECT_M2` (居住人口较少)."""
    return project.households * profile.area_per_100hh[project.status].min_m2 / 100 < (
        SMALL_PROJECT_M2)


def small_source() -> str:
    """The clause and note behind :func:`is_small`."""
    return _cite(SMALL_PROJECT_SOURCE, assumption=True)


# ------------------------------------------------------------------------- facility size


def facility_size(project: Project, profile: Profile) -> Finding:
    """The planned facility against the profile's minimum size for its kind.

    The minimum is labelled ``stated`` when the profile's city states it, ``assumed`` when
    it is an assumption (Wanzhou's street and township centres use subsidy thresholds) or
    inherited; with no minimum for the kind the finding is ``info`` (nothing to check).
    """
    fac = project.facility
    if fac is None:
        return Finding("facility_size", "info", "设施规模：项目未规划养老服务设施，无从核对规模。",
                       "Facility size: the project plans no facility; no size to check.")
    zh_kind, en_kind = FACILITY_KINDS[fac.kind]
    rule = profile.facility_min_m2.get(fac.kind)
    if rule is None:
        return Finding(
            "facility_size", "info",
            f"设施规模：{profile.name_zh}未规定{zh_kind}最小面积，规划{fmt(fac.floor_area_m2)}平方米。",
            f"Facility size: {profile.name} states no minimum for a {en_kind}; it plans "
            f"{fmt(fac.floor_area_m2)} m².",
            figures={"kind": fac.kind, "planned_m2": fac.floor_area_m2, "minimum_m2": None,
                     "basis": None})
    if not getattr(rule, "is_minimum", True):
        above = fac.floor_area_m2 >= rule.min_m2
        return Finding(
            "facility_size", "info",
            f"设施规模：{fmt(rule.min_m2)}平方米为{zh_kind}建设补助门槛，不是最小面积；规划"
            f"{fmt(fac.floor_area_m2)}平方米，{'达到' if above else '低于'}补助门槛。",
            f"Facility size: {fmt(rule.min_m2)} m² is the construction-subsidy threshold of a "
            f"{en_kind}, not a minimum size; it plans {fmt(fac.floor_area_m2)} m², "
            f"{'at or above' if above else 'below'} the threshold.",
            _cite(rule.source, inherited=rule.inherited, assumption=rule.assumption),
            {"kind": fac.kind, "planned_m2": fac.floor_area_m2, "minimum_m2": None,
             "subsidy_threshold_m2": rule.min_m2, "basis": "subsidy"})
    small = few_elderly(project, profile) and rule.min_m2_small is not None
    minimum = rule.min_m2_small if small and rule.min_m2_small is not None else rule.min_m2
    basis = "assumed" if (rule.assumption or rule.inherited) else "stated"
    ok = fac.floor_area_m2 >= minimum
    few_zh = "（老年人口较少）" if small else ""
    few_en = " (few elderly)" if small else ""
    basis_zh = "文件规定" if basis == "stated" else "假设"
    zh = (f"设施规模：{zh_kind}最小{fmt(minimum)}平方米{few_zh}（{basis_zh}），规划"
          f"{fmt(fac.floor_area_m2)}平方米，{'达标' if ok else '不达标'}。")
    en = (f"Facility size: a {en_kind} must have at least {fmt(minimum)} m²{few_en} "
          f"({basis}); it plans {fmt(fac.floor_area_m2)} m², {'meets it' if ok else 'too small'}.")
    figures = {"kind": fac.kind, "planned_m2": fac.floor_area_m2, "minimum_m2": minimum,
               "few_elderly": small, "basis": basis}
    return Finding("facility_size", "pass" if ok else "fail", zh, en,
                   _cite(rule.source, inherited=rule.inherited, assumption=rule.assumption),
                   figures)


def few_elderly(project: Project, profile: Profile) -> bool:
    """Few elderly live here: said so (``few_elderly``), or elderly below the profile's number."""
    if project.few_elderly:
        return True
    if project.elderly is None:
        return False
    return bool(standards.few_elderly([project.elderly], profile)[0])


# ------------------------------------------------------------------------- synchronisation


def synchronisations(project: Project, profile: Profile, *, pooled: bool = False) -> list[Finding]:
    """The four synchronisations and the hand-over deadline, from the project's dates.

    Readings (the documents give no test): planning — the facility (or a pooling
    arrangement, ``pooled``) is in the plan approved on ``planning_approval``;
    construction — the facility is accepted no later than the housing is completed;
    acceptance — the facility is accepted within :data:`ACCEPTANCE_WINDOW_DAYS` days of the
    housing (an assumption); hand-over — handed over after acceptance, and within the
    profile's deadline where it states one (Jinzhong: 60 days after both acceptances).
    A missing date gives ``not_checked``, never a pass. A synchronisation the profile does
    not require is ``info``.
    """
    clauses, origin = clauses_for(profile)
    src = _cite(clauses.sync_source)
    out = []
    has_facility = project.facility is not None or pooled
    for key, (zh_name, en_name) in SYNCS.items():
        if key not in clauses.syncs:
            out.append(Finding(f"sync_{key}", "info",
                               f"{zh_name}：{profile.name_zh}未作要求，未核对。",
                               f"{en_name.capitalize()} ({zh_name}): not required by "
                               f"{profile.name} ({origin}); not checked."))
            continue
        out.append(_SYNC_CHECKS[key](project, has_facility, zh_name, en_name, src))
    out.append(_handover_deadline(project, clauses.handover_days,
                                  _cite(clauses.handover_source)))
    return out


def _not_checked(fid: str, zh_name: str, en_name: str, missing: list[str], src: str) -> Finding:
    from planner.project.model import DATE_FIELDS  # noqa: PLC0415

    zh_missing = "、".join(DATE_FIELDS[m][0] for m in missing)
    en_missing = ", ".join(DATE_FIELDS[m][1] for m in missing)
    return Finding(fid, "not_checked", f"{zh_name}：缺少{zh_missing}，未核对（不视为通过）。",
                   f"{en_name.capitalize()} ({zh_name}): not checked, {en_missing} missing "
                   "(not a pass).", src, {"missing": missing})


def _sync_planning(p: Project, has_facility: bool, zh: str, en: str, src: str) -> Finding:
    if p.dates.planning_approval is None:
        return _not_checked("sync_planning", zh, en, ["planning_approval"], src)
    day = p.dates.planning_approval.isoformat()
    ok = has_facility
    return Finding(
        "sync_planning", "pass" if ok else "fail",
        f"{zh}：{day}规划审批{'已' if ok else '未'}包含养老服务设施。",
        f"{en.capitalize()} ({zh}): the plan approved on {day} "
        f"{'includes' if ok else 'does not include'} the facility.", src,
        {"planning_approval": day})


def _sync_construction(p: Project, has_facility: bool, zh: str, en: str, src: str) -> Finding:
    missing = [k for k in ("housing_completion", "facility_acceptance")
               if getattr(p.dates, k) is None]
    if missing:
        return _not_checked("sync_construction", zh, en, missing, src)
    assert p.dates.housing_completion and p.dates.facility_acceptance
    lag = (p.dates.facility_acceptance - p.dates.housing_completion).days
    ok = lag <= 0
    return Finding(
        "sync_construction", "pass" if ok else "fail",
        f"{zh}：设施验收{p.dates.facility_acceptance}，住宅竣工{p.dates.housing_completion}，"
        + ("设施不晚于住宅建成。" if ok else f"设施晚于住宅{lag}天。"),
        f"{en.capitalize()} ({zh}): facility accepted {p.dates.facility_acceptance}, housing "
        f"completed {p.dates.housing_completion}: "
        + ("the facility was finished no later than the housing." if ok
           else f"the facility lagged the housing by {lag} days."), src,
        {"facility_lag_days": lag})


def _sync_acceptance(p: Project, has_facility: bool, zh: str, en: str, src: str) -> Finding:
    missing = [k for k in ("housing_completion", "facility_acceptance")
               if getattr(p.dates, k) is None]
    if missing:
        return _not_checked("sync_acceptance", zh, en, missing, src)
    assert p.dates.housing_completion and p.dates.facility_acceptance
    gap = abs((p.dates.facility_acceptance - p.dates.housing_completion).days)
    ok = gap <= ACCEPTANCE_WINDOW_DAYS
    w = ACCEPTANCE_WINDOW_DAYS
    return Finding(
        "sync_acceptance", "pass" if ok else "fail",
        f"{zh}：设施与住宅验收相隔{gap}天（假设{w}天内视为同步），{'同步' if ok else '不同步'}。",
        f"{en.capitalize()} ({zh}): facility and housing accepted {gap} days apart "
        f"(assumption: within {w} days counts as together): "
        f"{'together' if ok else 'not together'}.",
        src + f" [assumption: {w}-day window]", {"acceptance_gap_days": gap,
                                                 "window_days": w})


def _sync_handover(p: Project, has_facility: bool, zh: str, en: str, src: str) -> Finding:
    missing = [k for k in ("facility_acceptance", "handover") if getattr(p.dates, k) is None]
    if missing:
        return _not_checked("sync_handover", zh, en, missing, src)
    assert p.dates.facility_acceptance and p.dates.handover
    days = (p.dates.handover - p.dates.facility_acceptance).days
    return Finding(
        "sync_handover", "pass",
        f"{zh}：设施验收后{days}天移交（{p.dates.handover}）。",
        f"{en.capitalize()} ({zh}): handed over {days} days after acceptance "
        f"({p.dates.handover}).", src, {"handover_after_acceptance_days": days})


_SYNC_CHECKS = {"planning": _sync_planning, "construction": _sync_construction,
                "acceptance": _sync_acceptance, "handover": _sync_handover}


def _handover_deadline(p: Project, days: int | None, src: str) -> Finding:
    fid = "handover_deadline"
    if days is None:
        return Finding(fid, "info", "移交期限：未规定天数，未核对。",
                       "Hand-over deadline: no number of days stated; not checked.", src)
    d = p.dates
    missing = [k for k in ("housing_completion", "facility_acceptance", "handover")
               if getattr(d, k) is None]
    if missing:
        return _not_checked(fid, f"{days}日内移交", f"hand-over within {days} days", missing,
                            src)
    assert d.housing_completion and d.facility_acceptance and d.handover
    start = max(d.housing_completion, d.facility_acceptance)
    taken = (d.handover - start).days
    ok = taken <= days
    return Finding(
        fid, "pass" if ok else "fail",
        f"移交期限：验收与竣工后第{taken}天移交（期限{days}日），"
        + ("按期。" if ok else f"逾期{taken - days}天。"),
        f"Hand-over deadline: handed over {taken} days after acceptance and completion "
        f"(limit {days} days): {'on time' if ok else f'{taken - days} days late'}.",
        src, {"days_taken": taken, "limit_days": days, "from": start.isoformat()})
