"""The sections of the HTML report, each a function of the run's results returning HTML.

Every number is formatted with :mod:`planner.maps.style` (the map's formats) and every
text escaped. Tables list aggregates only: households per community and per street, never
counts of vulnerable elderly residents.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner.maps import style as st
from planner.maps.layers import swatch
from planner.report.run import RunResults
from planner.schema import FACILITY_KINDS, SERVICE_STATUS_LABELS, SERVICE_STATUSES

#: Rows in the "worst served" tables.
WORST_STREETS = 10
WORST_COMMUNITIES = 15
BUSIEST_FACILITIES = 15

CSS = """
body { font: 14px/1.5 "Helvetica Neue", Arial, "PingFang SC", "Microsoft YaHei",
       "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; color: #222;
       max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 17px; margin: 22px 0 6px;
  border-bottom: 2px solid #ddd; } h3 { font-size: 14px; margin: 12px 0 4px; }
.meta, .hint { color: #555; font-size: 12.5px; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }
td, th { padding: 3px 8px; border-bottom: 1px solid #e3e3e3; text-align: right; }
th { background: #f4f4f4; font-weight: 600; }
td:first-child, th:first-child, td.text, th.text { text-align: left; }
.pass { color: #1a7f37; } .fail { color: #c62828; font-weight: bold; } .notdue { color: #8a5a00; }
.warnings { color: #b00020; }
.planner-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,.35); }
img.map { width: 100%; border: 1px solid #ccc; }
.pair { display: flex; gap: 12px; } .pair figure { flex: 1; margin: 0; }
.pair img { width: 100%; border: 1px solid #ccc; } figcaption { font-weight: bold; }
.up { color: #1a7f37; } .down { color: #c62828; }
@page { size: A4; margin: 14mm; }
@media print { body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; } table, figure, img { break-inside: avoid; }
  a.screen-only { display: none; } }
"""


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
          text_columns: Sequence[int] = (0,)) -> str:
    """An HTML table; cells are HTML already escaped by the caller."""
    def cell(tag: str, i: int, value: str) -> str:
        cls = ' class="text"' if i in text_columns else ""
        return f"<{tag}{cls}>{value}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def status_counts(comm: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """Communities and households per service status."""
    hh = pd.to_numeric(comm["households"], errors="coerce").fillna(0)
    return {s: (int((comm["service_status"] == s).sum()),
                float(hh[comm["service_status"] == s].sum())) for s in SERVICE_STATUSES}


def summary_section(run: RunResults) -> str:
    """District summary: status counts, floor area required and short, facilities, warnings."""
    comm, fac, s = run.communities, run.facilities, run.summary
    counts = status_counts(comm)
    total_hh = sum(h for _, h in counts.values()) or 1.0
    rows = [[f"{swatch(st.STATUS_COLOURS[k])}{SERVICE_STATUS_LABELS[k][0]} "
             f"{html.escape(SERVICE_STATUS_LABELS[k][1])}",
             st.whole(n), st.whole(h), f"{100 * h / total_hh:.1f}%"]
            for k, (n, h) in counts.items()]
    rows.append(["<b>合计 total</b>", st.whole(len(comm)), st.whole(total_hh), "100%"])
    shortfall = pd.to_numeric(comm["shortfall_m2"], errors="coerce").fillna(0).sum()
    required = pd.to_numeric(st.column(comm, "required_m2"), errors="coerce").fillna(0).sum()
    assessed = fac[fac["in_assessment"].astype(bool)] if "in_assessment" in fac else fac
    parts = [
        "<h2>1 概况 District summary</h2>",
        table(["服务状态 service status", "小区 communities", "户数 households", "户数占比 share"],
              rows),
        f"<p>面积缺口合计 <b>total floor-area shortfall {st.whole(shortfall)} m²</b> "
        f"of {st.whole(required)} m² required (标准要求). "
        f"设施 facilities: {st.whole(len(assessed))} assessed of {st.whole(len(fac))}, "
        f"{st.whole(pd.to_numeric(assessed['floor_area_m2'], errors='coerce').sum())} m² floor "
        "area.</p>",
    ]
    warnings = s.get("notes", [])
    if warnings:
        items = "".join(f"<li>⚠ {html.escape(str(w))}</li>" for w in warnings)
        parts.append(f'<ul class="warnings">{items}</ul>')
    return "".join(parts)


def verdict(passed: Any, due_status: Any = None) -> str:
    """✓/✗ with the due status ("not yet due" failures are not shown as failures)."""
    if st.is_missing(passed):
        return "— n/a"
    if bool(passed):
        return '<span class="pass">✓ 达标 pass</span>'
    if due_status == "not yet due":
        return '<span class="notdue">✗ 未达标，未到期 not yet due</span>'
    return '<span class="fail">✗ 未达标 fail</span>'


def targets_section(targets: pd.DataFrame) -> str:
    """Each target: value, threshold, due year and status, verdict, source."""
    if targets is None or len(targets) == 0:
        return "<h2>3 规划目标 Targets</h2><p>无 none in this profile.</p>"
    rows = []
    for _, t in targets.iterrows():
        due = t.get("due_year")
        rows.append([
            f"{st.esc(t['label_zh'])}<br><span class='hint'>{st.esc(t['label_en'])}</span>",
            st.percent(t["value"]), f"≥ {st.percent(t['threshold'])}",
            st.MISSING if st.is_missing(due) else str(int(due)),
            st.esc(t.get("due_status")), verdict(t["passed"], t.get("due_status")),
            f"<span class='hint'>{st.esc(t.get('source'))}</span>",
        ])
    return ("<h2>3 规划目标 Targets</h2>"
            + table(["目标 target", "数值 value", "要求 threshold", "到期 due", "期限 status",
                     "结果 result", "依据 source"], rows, text_columns=(0, 4, 5, 6)))


def timeline_section(timeline: pd.DataFrame | None, targets: pd.DataFrame) -> str:
    """Targets year by year as planned facilities open (when the run has a timeline)."""
    if timeline is None or len(timeline) == 0 or "year" not in timeline:
        return ""
    labels = dict(zip(targets.get("id", []), targets.get("label_zh", []), strict=False))
    ids = list(dict.fromkeys(timeline["id"]))
    years = sorted(timeline["year"].unique())
    by = timeline.set_index(["year", "id"])
    rows = []
    for year in years:
        row = [str(int(year))]
        for tid in ids:
            if (year, tid) not in by.index:
                row.append(st.MISSING)
                continue
            r = by.loc[(year, tid)]
            mark = "✓" if str(r["passed"]).strip().lower() in ("true", "1", "1.0") else ""
            row.append(f"{st.percent(r['value'])} {mark}")
        opened = by.loc[year]["opened"].iloc[0] if "opened" in by.columns else ""
        row.append(st.esc(opened) if isinstance(opened, str) else st.MISSING)
        rows.append(row)
    header = ["年份 year", *[st.esc(labels.get(t, t)) for t in ids], "开业 opening"]
    return ("<h2>4 目标时间表 Timeline (as planned facilities open)</h2>"
            + table(header, rows, text_columns=(0, len(header) - 1)))


def streets_section(streets: pd.DataFrame | None) -> str:
    """The worst-served streets (largest shortfall first)."""
    if streets is None or len(streets) == 0:
        return ""
    worst = streets.sort_values("shortfall_m2", ascending=False).head(WORST_STREETS)
    rows = [[st.esc(r["street"]), st.whole(r["communities"]), st.whole(r["households"]),
             st.whole(r.get("households_uncovered")), st.percent(r.get("share_households_meets")),
             st.whole(r["shortfall_m2"])] for _, r in worst.iterrows()]
    return (f"<h2>5 服务最差的街道 Worst-served streets (top {WORST_STREETS})</h2>"
            + table(["街道 street", "小区 communities", "户数 households",
                     "未覆盖户数 uncovered", "达标户数占比 share meeting", "面积缺口 shortfall m²"],
                    rows))


def communities_section(comm: pd.DataFrame) -> str:
    """The communities with the largest floor-area shortfall."""
    worst = comm.assign(_s=pd.to_numeric(comm["shortfall_m2"], errors="coerce")).sort_values(
        "_s", ascending=False).head(WORST_COMMUNITIES)
    worst = worst[worst["_s"] > 0]
    if len(worst) == 0:
        return "<h2>6 缺口最大的小区 Communities</h2><p>无缺口 no shortfall.</p>"
    names = st.names(worst)
    rows = [[st.esc(names[i]), st.esc(i), st.esc(st.column(worst, "street")[i]),
             st.whole(r["households"]), st.label(SERVICE_STATUS_LABELS, r["service_status"]),
             st.num(r["nearest_minutes"]), st.num(r["accessible_m2_per_100hh"]),
             st.num(r["required_m2_per_100hh"]), st.whole(r["shortfall_m2"])]
            for i, r in worst.iterrows()]
    return (f"<h2>6 缺口最大的小区 Communities with the largest shortfall "
            f"(top {WORST_COMMUNITIES})</h2>"
            + table(["小区 community", "编号 ID", "街道 street", "户数 households",
                     "服务状态 status", "最近步行分钟 nearest min", "可达 m²/100户",
                     "要求 m²/100户", "缺口 shortfall m²"], rows, text_columns=(0, 1, 2, 4)))


def facilities_section(fac: pd.DataFrame) -> str:
    """Facility loads: the most loaded (least floor area per 100 households served)."""
    if len(fac) == 0 or "households_served" not in fac:
        return ""
    used = fac[pd.to_numeric(fac["households_served"], errors="coerce").fillna(0) > 0]
    load = pd.to_numeric(used.get("m2_per_100hh_served"), errors="coerce")
    busiest = used.assign(_load=load).sort_values("_load").head(BUSIEST_FACILITIES)
    names = st.names(busiest)
    rows = [[st.esc(names[i]), st.esc(i), st.label(FACILITY_KINDS, r["kind"]),
             st.num(r["floor_area_m2"]), st.whole(r["households_served"]),
             st.num(r.get("m2_per_100hh_served")), _size(r.get("meets_min_size"))]
            for i, r in busiest.iterrows()]
    under = fac[st.column(fac, "meets_min_size").map(
        lambda v: (not st.is_missing(v)) and not bool(v)).astype(bool)]
    note = (f"<p>{len(under)} 处设施低于最小面积 facilities below their minimum size: "
            f"{', '.join(st.esc(x) for x in under.index[:30])}</p>" if len(under) else "")
    return (f"<h2>7 设施负荷 Facility loads (most loaded {BUSIEST_FACILITIES})</h2>"
            + table(["设施 facility", "编号 ID", "类型 kind", "建筑面积 m²",
                     "服务户数 households served", "每百户面积 m²/100户", "最小面积 min size"],
                    rows, text_columns=(0, 1, 2, 6)) + note)


def _size(value: Any) -> str:
    if st.is_missing(value):
        return "无要求 no rule"
    return "✓" if bool(value) else '<span class="fail">✗ 偏小 undersize</span>'


def assumptions_section(summary: dict[str, Any]) -> str:
    """How the standards were read, and the run's parameters."""
    items = [f"标准 profile: {st.esc(summary.get('profile'))} "
             f"({st.esc(summary.get('profile_name_zh'))})",
             f"步行速度 walking speed: {st.num(summary.get('walking_speed_m_s'), decimals=2)} m/s",
             f"服务圈 circle minutes: {st.esc(summary.get('circle_minutes'))}"]
    items += [st.esc(c) for c in summary.get("choices", [])]
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f"<h2>8 假设与解读 Assumptions and readings</h2><ul>{lis}</ul>"
