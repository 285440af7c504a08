"""Bilingual report text for a profile: readings, ranges, assumptions, inherited values.

Every line is ``中文 / English``; :meth:`planner.standards.model.Profile.choices` collects
them and every report prints them.
"""

# Report text is bilingual: full-width Chinese punctuation, en dashes in ranges and the
# multiplication sign in formulas are intended.

from __future__ import annotations

from planner.labels import AREA_TYPE_LABELS, COMMUNITY_STATUS_LABELS, FACILITY_KIND_LABELS
from planner.standards.model import (
    READINGS,
    AreaRule,
    FacilityMin,
    KindList,
    Pooling,
    Profile,
    Value,
    _Stated,
)
from planner.standards.targets import Target


def _fmt(x: float | None) -> str:
    """Format a number without a spurious ``.0`` (20.0 → '20', 0.1 → '0.1')."""
    if x is None:
        return ""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def _reading_line(profile: Profile, rule: AreaRule) -> str:
    if rule.unit_as_written != "per_household":
        return ""
    zh, en = COMMUNITY_STATUS_LABELS[rule.status]
    alt = "literal" if rule.reading == "per_100_households" else "per_100_households"
    alt_m2 = rule.written_min_m2 * READINGS[alt]
    quote = rule.source.quote or f"每户不低于{_fmt(rule.written_min_m2)}平方米"
    if rule.reading == "per_100_households":
        reading_zh = "按“每百户”解读（视为笔误）"
        reading_en = "read as per 100 households (taken as a slip)"
    else:
        reading_zh = "按字面“每户”解读"
        reading_en = "read literally, per household"
    return (
        f"{profile.name_zh}{zh}面积：原文“{quote}”，{reading_zh}，即每百户{_fmt(rule.min_m2)}"
        f"平方米；另一读法为每百户{_fmt(alt_m2)}平方米 / {profile.name} {en} floor area is "
        f"written per household; {reading_en}: {_fmt(rule.min_m2)} m² per 100 households "
        f"(the other reading gives {_fmt(alt_m2)} m² per 100 households)"
    )


def _range_line(rule: AreaRule) -> str:
    if rule.max_m2 is None:
        return ""
    zh, en = COMMUNITY_STATUS_LABELS[rule.status]
    lo, hi = _fmt(rule.min_m2), _fmt(rule.max_m2)
    return (
        f"{zh}面积标准为区间：每百户{lo}–{hi}平方米（{rule.origin}），低于{lo}为不达标，"
        f"{lo}–{hi}为达标，报告注明所处位置 / {en} floor area is a range of {lo}–{hi} m² per "
        f"100 households ({rule.origin}): below {lo} fails, {lo}–{hi} meets; reports say "
        f"where in the range a value sits"
    )


def _item_text(key: str, item: _Stated) -> tuple[str, str]:  # noqa: PLR0911
    """Return short Chinese and English descriptions of one item with its value."""
    if isinstance(item, AreaRule):
        zh, en = COMMUNITY_STATUS_LABELS[item.status]
        span = _fmt(item.min_m2) + (f"–{_fmt(item.max_m2)}" if item.max_m2 is not None else "")
        return f"{zh}每百户{span}平方米", f"{en} {span} m² per 100 households"
    if isinstance(item, Target):
        pct = _fmt(item.threshold * 100)
        due = f"（{item.due}）" if item.due else ""
        due_en = f" by {item.due}" if item.due else ""
        return f"{item.label_zh}{pct}%{due}", f"{item.label_en} {pct} %{due_en}"
    if isinstance(item, FacilityMin):
        zh, en = FACILITY_KIND_LABELS[item.kind]
        if not item.is_minimum:
            return (f"{zh}{_fmt(item.min_m2)}平方米为建设补助门槛（非最小面积）",
                    f"{en} {_fmt(item.min_m2)} m² is a subsidy threshold (not a minimum size)")
        return f"{zh}不小于{_fmt(item.min_m2)}平方米", f"{en} at least {_fmt(item.min_m2)} m²"
    if isinstance(item, Pooling):
        return ("小区可与相邻小区统筹配建" if item.allowed else "不允许统筹配建",
                "small estates may pool their on-site allocation with adjacent ones"
                if item.allowed else "no pooling of on-site allocation")
    if isinstance(item, KindList):
        kinds = ", ".join(item.kinds)
        return f"计入面积的设施类型：{kinds}", f"kinds counted towards floor area: {kinds}"
    return _value_text(key, item)


def _value_text(key: str, item: _Stated) -> tuple[str, str]:
    v = _fmt(item.value) if isinstance(item, Value) else ""
    if key == "walking_speed_m_s" and isinstance(item, Value):
        v = f"{item.value:.1f}"
        return f"步行速度{v}米/秒", f"walking speed {v} m/s"
    if key.startswith("circle_minutes."):
        zh, en = AREA_TYPE_LABELS[key.split(".", 1)[1]]
        return f"{zh}服务圈{v}分钟", f"{en} circle {v} min"
    if key == "small_estate_below_households":
        return (f"户数少于{v}的小区为“居住人口较少”，与相邻小区统筹配建",
                f"an estate of fewer than {v} households is small and pools with adjacent ones")
    if key == "few_elderly_below":
        return (f"老年人口少于{v}人的社区为“老年人口较少”",
                f"a community with fewer than {v} elderly (60+) has few elderly")
    if key == "new_build_from_year":
        year = str(int(item.value)) if isinstance(item, Value) else v
        return f"新建小区起始年份{year}", f"new-build from completion year {year}"
    return f"人均用地{v}平方米", f"land {v} m² per resident"


def _assumption_line(key: str, item: _Stated) -> str:
    zh, en = _item_text(key, item)
    note_zh = f"：{item.note_zh}" if item.note_zh else ""
    note_en = f": {item.note}" if item.note else ""
    return f"假设（{item.origin}）{zh}{note_zh} / Assumption ({item.origin}) {en}{note_en}"


def _inherited_lines(profile: Profile) -> list[str]:
    by_origin: dict[str, list[tuple[str, str]]] = {}
    for key, item in profile.items():
        if item.inherited:
            by_origin.setdefault(item.origin, []).append(_item_text(key, item))
    return [
        f"以下取值继承自{origin}（{profile.name_zh}未规定）：{'；'.join(z for z, _ in texts)} / "
        f"inherited from {origin} (not stated by {profile.name}): "
        f"{'; '.join(e for _, e in texts)}"
        for origin, texts in by_origin.items()
    ]


def _due_line(target: Target) -> str:
    """The line for a deadline the clause does not state (an assumption)."""
    return (f"假设（{target.origin}）{target.label_zh}的期限{target.due}年：原文未写年份 / "
            f"Assumption ({target.origin}) {target.label_en} due {target.due}: the clause "
            "states no year")
