"""The map's panels as HTML: headline, notes, legend.

- **Headline** (top left): warnings about coordinates or data first and in colour, then
  households and communities by service status, the total floor-area shortfall, and each
  target's pass/fail (those not yet due are marked so); the other notes (how the
  standards were read) sit behind a toggle in the same box.
- **Legend** (bottom left): what each colour, dot and line means, for the current
  colouring (by status or by shortfall).

Every text is escaped here; the page moves the boxes into Leaflet controls.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from planner.maps import style as st
from planner.maps.layers import swatch
from planner.schema import SERVICE_STATUS_LABELS, SERVICE_STATUSES

#: Short English names of the statuses for the headline (the legend has the full ones).
SHORT_STATUS_EN = {"meets": "meets", "below_standard": "below standard",
                   "uncovered": "uncovered", "unreachable": "unreachable"}
#: Columns of the targets table the map reads.
TARGET_COLUMNS = ("label_zh", "label_en", "value", "threshold", "passed")


def headline_html(comm: pd.DataFrame, targets: pd.DataFrame | None,
                  timeline: pd.DataFrame | None = None) -> str:
    """Counts by status, total shortfall and the targets' verdicts (and when each is met)."""
    hh = pd.to_numeric(comm["households"], errors="coerce").fillna(0)
    total_hh = float(hh.sum())
    rows = []
    for status in SERVICE_STATUSES:
        sel = comm["service_status"] == status
        zh = SERVICE_STATUS_LABELS[status][0]
        share = f" ({100 * hh[sel].sum() / total_hh:.0f}%)" if total_hh else ""
        rows.append(
            f'<tr class="planner-row-{status}"><td>{swatch(st.STATUS_COLOURS[status])}{zh} '
            f'<span class="planner-en">{SHORT_STATUS_EN[status]}</span></td>'
            f"<td>{st.whole(sel.sum())}</td><td>{st.whole(hh[sel].sum())}{share}</td></tr>")
    shortfall = pd.to_numeric(comm["shortfall_m2"], errors="coerce").fillna(0).clip(lower=0)
    short_hh = float(hh[shortfall > 0].sum())
    parts = [
        '<table class="planner-status-table"><tr><th>服务状态 status</th>'
        "<th>小区 communities</th><th>户数 households</th></tr>",
        *rows,
        f"<tr class='planner-total'><td>合计 total</td><td>{st.whole(len(comm))}</td>"
        f"<td>{st.whole(total_hh)}</td></tr></table>",
        f'<div class="planner-shortfall">面积缺口合计 total shortfall '
        f"<b>{st.whole(shortfall.sum())} m²</b> "
        f'<span class="planner-en">({st.whole(short_hh)} 户 households short)</span></div>',
    ]
    if targets is not None and len(targets):
        parts.append(targets_html(targets, timeline=timeline))
    return "".join(parts)


def _is_due(t: pd.Series, now: int) -> tuple[bool, int | None]:
    """Whether a target row is due, from ``due_status`` (or ``due_year``), and its year."""
    year = t.get("due_year")
    year = None if st.is_missing(year) else int(year)
    status = t.get("due_status")
    if isinstance(status, str):
        return status != "not yet due", year
    return year is None or year <= now, year


def _verdict(passed: object, *, due: bool) -> str:
    if st.is_missing(passed):
        return f"{st.MISSING} n/a"
    if bool(passed):
        return '<span class="planner-pass">✓ 达标 pass</span>'
    if not due:
        return '<span class="planner-notdue">✗ 未达标, 未到期 fail, not yet due</span>'
    return '<span class="planner-fail">✗ 未达标 fail</span>'


def _whole_percent(share: object) -> str:
    """A threshold as a percentage, without decimals when it is whole ("90%", "62.5%")."""
    text = st.percent(share)
    return text.replace(".0%", "%")


def _first_met(targets: pd.DataFrame, timeline: pd.DataFrame | None) -> pd.Series | None:
    """Each target's first year met (NA if never), from ``first_year_met`` or the timeline.

    None when neither the targets nor a timeline say it.
    """
    ids = targets["id"] if "id" in targets else pd.Series(targets.index, index=targets.index)
    if "first_year_met" in targets:
        return pd.to_numeric(targets["first_year_met"], errors="coerce")
    if timeline is None or len(timeline) == 0 or not {"id", "year", "passed"} <= set(timeline):
        return None
    passed = timeline["passed"].map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))
    met = timeline[passed].groupby(timeline["id"].astype(str))["year"].min()
    return ids.astype(str).map(met).astype(float)


def _year_by_year(tid: object, timeline: pd.DataFrame | None) -> str:
    """The target's value year by year ("2026 61.5% · 2027 92.0% ✓"), for a hover title."""
    if timeline is None or len(timeline) == 0 or not {"id", "year", "value"} <= set(timeline):
        return ""
    rows = timeline[timeline["id"].astype(str) == str(tid)].sort_values("year")
    passed = rows.get("passed", pd.Series(False, index=rows.index))
    return " · ".join(
        f"{int(y)} {st.percent(v)}{' ✓' if str(p).strip().lower() in ('true', '1', '1.0') else ''}"
        for y, v, p in zip(rows["year"], rows["value"], passed, strict=True))


def first_met_text(year: object, last_year: int | None) -> str:
    """When a target is first met: the year, or "not met by <last year>" (HTML).

    Parameters
    ----------
    year
        First year met (NA/NaN when never within the timeline).
    last_year
        Last year of the timeline; None when unknown.
    """
    if not st.is_missing(year):
        return f"首次达标 first met <b>{int(float(str(year)))}</b>"
    if last_year is None:
        return '<span class="planner-notmet">时间表内未达标 not met in the timeline</span>'
    return (f'<span class="planner-notmet">至{last_year}年未达标 '
            f"not met by {last_year}</span>")


def targets_html(targets: pd.DataFrame, *, this_year: int | None = None,
                 timeline: pd.DataFrame | None = None) -> str:
    """The targets as a compact table: label (due year), value, threshold, verdict, first met.

    A target not yet due (``due_status``, else ``due_year`` after ``this_year``) that
    fails is marked "not yet due" rather than failed. With ``first_year_met`` (the targets
    table) or a ``timeline`` (``year``, ``id``, ``value``, ``passed``: one row per year and
    target as planned facilities open) a line under each target says the year it is first
    met, or "not met by <last year of the timeline>"; hovering it shows the values year
    by year.
    """
    now = this_year if this_year is not None else pd.Timestamp.now().year
    first = _first_met(targets, timeline)
    last = (int(pd.to_numeric(timeline["year"]).max())
            if timeline is not None and len(timeline) and "year" in timeline else None)
    rows = []
    for i, (_, t) in enumerate(targets.iterrows()):
        due, year = _is_due(t, now)
        due_text = "" if year is None else f" <span class='planner-en'>({year})</span>"
        en = st.esc(t["label_en"])
        met = ""
        if first is not None:  # a line of its own under the target: the panel stays narrow
            steps = st.esc(_year_by_year(t.get("id"), timeline))
            met = (f"<tr class='planner-firstmet-row'><td class='planner-firstmet' colspan='4' "
                   f"title='{steps}'>↳ {first_met_text(first.iloc[i], last)}</td></tr>")
        rows.append(
            f"<tr><td>{st.esc(t['label_zh'])}{due_text}<br>"
            f"<span class='planner-en planner-clip' title='{en}'>{en}</span></td>"
            f"<td>{st.percent(t['value'])}</td><td>≥{_whole_percent(t['threshold'])}</td>"
            f"<td>{_verdict(t['passed'], due=due)}</td></tr>{met}")
    head = ("<tr><th>目标 (到期年) target (due)</th><th>数值 value</th><th>要求 threshold</th>"
            "<th>结果 result</th></tr>")
    return f'<table class="planner-targets">{head}{"".join(rows)}</table>'


def warnings_html(warnings: Sequence[str]) -> str:
    """Data and coordinate warnings, shown first under the title and in colour."""
    if not warnings:
        return ""
    items = "".join(f"<li>⚠ {html.escape(str(w))}</li>" for w in warnings)
    return f'<ul class="planner-warnings">{items}</ul>'


def notes_html(notes: Sequence[str]) -> str:
    """The other notes (how the standards were read) behind a toggle, closed by default."""
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
    return (f'<details class="planner-notes"><summary>说明 notes ({len(notes)}): '
            f"标准解读 how the standards were read</summary><ul>{items}</ul></details>")


def legend_html(comm: pd.DataFrame, fac: pd.DataFrame, *, has_circles: bool,
                has_base: bool) -> str:
    """The legend: status and shortfall (one shown at a time), facilities, circles, base."""
    parts = ['<div class="planner-legend-status"><h3>小区服务状态 Community service status</h3>']
    for status in SERVICE_STATUSES:
        zh, en = SERVICE_STATUS_LABELS[status]
        parts.append(f"<div>{swatch(st.STATUS_COLOURS[status])}{zh} {en}</div>")
    parts.append('<div class="planner-hint">颜色越深, 面积缺口越大 '
                 "darker fill = larger floor-area shortfall (m²)</div></div>")
    parts.append('<div class="planner-legend-shortfall">'
                 "<h3>面积缺口 Floor-area shortfall (m²)</h3>")
    for colour, text in zip(st.SHORTFALL_COLOURS, st.shortfall_class_labels(), strict=True):
        parts.append(f"<div>{swatch(colour)}{text} m²</div>")
    parts.append("</div>")
    if len(fac) > 0:
        parts.append("<h3>养老服务设施 Elderly-care facilities</h3>")
        for kind in st.kinds_present(fac["kind"]):
            zh, en = st.kind_label(kind)
            parts.append(f"<div>{swatch(st.kind_colour(kind), 'planner-dot')}"
                         f"{html.escape(zh)} {html.escape(en)}</div>")
        parts.append(
            f"<div>{swatch('#888', 'planner-dot')}现状 existing　"
            f"{swatch('#fff', 'planner-dot planner-hollow')}规划 planned　"
            f"{swatch('#888', 'planner-dot planner-undersize')}低于最小面积 undersize</div>"
            '<div class="planner-hint">圆点大小表示建筑面积 dot size = floor area (m²)</div>')
    if has_circles:
        parts.append(f"<div>{swatch('transparent', 'planner-ring')}步行圈 walking circle "
                     '<span class="planner-hint">(图层默认关闭 layer off by default)</span></div>')
    if has_base:
        parts.append(f"<div>{swatch(st.STREET_COLOUR, 'planner-line')}街道 streets　"
                     f"{swatch(st.WATER_COLOUR)}水系 water　"
                     f"{swatch('transparent', 'planner-boundary')}边界 boundary</div>")
    parts.append('<div class="planner-hint">点击小区或设施查看数据 '
                 "click a shape for its numbers</div>")
    return "".join(parts)
