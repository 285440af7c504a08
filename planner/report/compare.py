"""The body of the before/after report: what changes between two scenarios."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from planner._errors import InputError
from planner.maps import style as st
from planner.report import sections
from planner.report.run import RunResults
from planner.schema import SERVICE_STATUS_LABELS, SERVICE_STATUSES

#: Rows in the list of communities that gain the most.
MOST_IMPROVED = 20


def _change(before: float, after: float, *, better_when_higher: bool, decimals: int = 0) -> str:
    delta = after - before
    if delta == 0:
        return "0"
    good = (delta > 0) == better_when_higher
    sign = "+" if delta > 0 else "−"
    text = st.num(abs(delta), decimals=decimals)
    return f'<span class="{"up" if good else "down"}">{sign}{text}</span>'


def counts_table(a: RunResults, b: RunResults, names: Sequence[str]) -> str:
    """Communities and households by status, and the shortfall, before and after."""
    ca, cb = sections.status_counts(a.communities), sections.status_counts(b.communities)
    rows = []
    for s in SERVICE_STATUSES:
        higher = s == "meets"
        rows.append([f"{SERVICE_STATUS_LABELS[s][0]} {html.escape(SERVICE_STATUS_LABELS[s][1])}",
                     st.whole(ca[s][0]), st.whole(cb[s][0]),
                     _change(ca[s][0], cb[s][0], better_when_higher=higher),
                     st.whole(ca[s][1]), st.whole(cb[s][1]),
                     _change(ca[s][1], cb[s][1], better_when_higher=higher)])
    sa = float(pd.to_numeric(a.communities["shortfall_m2"], errors="coerce").sum())
    sb = float(pd.to_numeric(b.communities["shortfall_m2"], errors="coerce").sum())
    rows.append(["<b>面积缺口 shortfall m²</b>", "", "", "", st.whole(sa), st.whole(sb),
                 _change(sa, sb, better_when_higher=False)])
    n0, n1 = (html.escape(n) for n in names)
    return sections.table(
        ["", f"小区 {n0}", f"小区 {n1}", "变化 change", f"户数 {n0}", f"户数 {n1}", "变化 change"],
        rows)


def targets_table(a: RunResults, b: RunResults, names: Sequence[str]) -> str:
    """Each target's value and verdict before and after."""
    if len(a.targets) == 0:
        return "<p>无目标 no targets.</p>"
    key = "id" if "id" in a.targets and "id" in b.targets else "label_en"
    right = b.targets.set_index(key)
    rows = []
    for _, t in a.targets.iterrows():
        u = right.loc[t[key]] if t[key] in right.index else None
        rows.append([
            f"{st.esc(t['label_zh'])}<br><span class='hint'>{st.esc(t['label_en'])}</span>",
            st.percent(t["value"]), sections.verdict(t["passed"], t.get("due_status")),
            st.MISSING if u is None else st.percent(u["value"]),
            st.MISSING if u is None else sections.verdict(u["passed"], u.get("due_status")),
        ])
    n0, n1 = (html.escape(n) for n in names)
    return sections.table(["目标 target", n0, "", n1, ""], rows, text_columns=(0, 2, 4))


def transitions_table(a: RunResults, b: RunResults, names: Sequence[str]) -> str:
    """How many communities move from each status (rows, before) to each (columns, after)."""
    joined = pd.crosstab(a.communities["service_status"],
                         b.communities["service_status"].reindex(a.communities.index))
    joined = joined.reindex(index=list(SERVICE_STATUSES), columns=list(SERVICE_STATUSES),
                            fill_value=0)
    rows = [[f"{SERVICE_STATUS_LABELS[s][0]} {s}", *(st.whole(v) for v in joined.loc[s])]
            for s in SERVICE_STATUSES]
    head = [f"{html.escape(names[0])} → {html.escape(names[1])}",
            *(f"{SERVICE_STATUS_LABELS[s][0]} {s}" for s in SERVICE_STATUSES)]
    return sections.table(head, rows)


def improved_table(a: RunResults, b: RunResults) -> str:
    """The communities whose shortfall falls most."""
    sa = pd.to_numeric(a.communities["shortfall_m2"], errors="coerce").fillna(0)
    sb = pd.to_numeric(b.communities["shortfall_m2"], errors="coerce").reindex(sa.index).fillna(0)
    gain = (sa - sb).sort_values(ascending=False)
    gain = gain[gain > 0].head(MOST_IMPROVED)
    if len(gain) == 0:
        return "<p>无小区缺口减少 no community's shortfall falls.</p>"
    names = st.names(a.communities.loc[gain.index])
    rows = [[st.esc(names[i]), st.esc(i),
             st.label(SERVICE_STATUS_LABELS, a.communities.at[i, "service_status"]),
             st.label(SERVICE_STATUS_LABELS, b.communities.at[i, "service_status"]),
             st.whole(sa[i]), st.whole(sb[i])] for i in gain.index]
    return sections.table(["小区 community", "编号 ID", "之前 before", "之后 after",
                           "缺口 before m²", "缺口 after m²"], rows, text_columns=(0, 1, 2, 3))


def compare_body(a: RunResults, b: RunResults, names: Sequence[str],
                 map_uris: Sequence[str]) -> str:
    """The comparison sections, maps side by side first."""
    if not a.communities.index.sort_values().equals(b.communities.index.sort_values()):
        msg = ("the two scenarios hold different communities; compare assessments of the "
               "same study area (e.g. with and without --include-planned)")
        raise InputError(msg)
    figures = "".join(f"<figure><figcaption>{html.escape(n)}</figcaption>"
                      f"<img alt='{html.escape(n)}' src='{u}'></figure>"
                      for n, u in zip(names, map_uris, strict=True))
    return "".join([
        "<h2>1 概况 Summary</h2>", counts_table(a, b, names),
        f"<h2>2 地图 Maps</h2><div class='pair'>{figures}</div>",
        "<h2>3 规划目标 Targets</h2>", targets_table(a, b, names),
        "<h2>4 状态变化 Status changes</h2>", transitions_table(a, b, names),
        f"<h3>缺口减少最多的小区 Largest falls in shortfall (top {MOST_IMPROVED})</h3>",
        improved_table(a, b),
        sections.assumptions_section(b.summary),
    ])
