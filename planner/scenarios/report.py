"""``planner run --scenario FILE``: apply a table of changes and write what it changes.

Files (in ``OUT/scenario/``): ``communities.csv`` (every community, status and floor
area before and after, ``changed``), ``streets.csv``, ``targets.csv``, ``totals.csv``
and ``before_after_map.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from planner.io.writers import write_csv
from planner.scenarios.changes import apply_changes, read_changes
from planner.scenarios.compare import Comparison, compare
from planner.scenarios.maps import before_after_map
from planner.scenarios.output import write_files
from planner.scenarios.scenario import Scenario


def run_scenario(area: Any, profile: Any, *, speed_m_s: float, include_planned: bool,
                 changes: str | Path, out_dir: str | Path,
                 changes_crs: str = "wgs84") -> Comparison:
    """Assess the baseline and the changed district; write the differences.

    Parameters
    ----------
    area
        The loaded study area.
    profile
        The run's profile.
    speed_m_s, include_planned
        As in the run.
    changes
        The changes table (see :mod:`planner.scenarios.changes`).
    out_dir
        Where the tables and the map go (created).
    changes_crs
        Coordinate system of the table's lon/lat.
    """
    table = read_changes(changes)
    base = Scenario.from_area(area, profile, speed_m_s=speed_m_s,
                              include_planned=include_planned)
    after = apply_changes(base, table, path=changes, crs=changes_crs)
    diff = compare(base.result(), after.result())
    page = before_after_map(base.result(), after.result(),
                            title=f"{base.name} → {after.name}")
    write_files(out_dir, {
        "communities.csv": lambda p: write_csv(diff.communities, p),
        "streets.csv": lambda p: write_csv(diff.streets, p),
        "targets.csv": lambda p: write_csv(diff.targets, p),
        "totals.csv": lambda p: write_csv(diff.totals, p, index=True),
        "before_after_map.html": page.save,
    }, inputs=[changes])
    return diff


def describe(diff: Comparison) -> list[str]:
    """Lines for the terminal: households meeting the standard, by status, targets."""
    t = diff.totals
    a, b = diff.names
    lines = [f"scenario {b} against {a}:"]
    for status in ("meets", "below_standard", "uncovered", "unreachable"):
        col = f"households_{status}"
        lines.append(f"  {status:15s} {t.loc[a, col]:9,d} -> {t.loc[b, col]:9,d} households")
    lines.append(f"  shortfall {t.loc[a, 'shortfall_m2']:,.0f} m² -> "
                 f"{t.loc[b, 'shortfall_m2']:,.0f} m²")
    changed = int(diff.communities["changed"].sum())
    lines.append(f"  {changed:,} communities change status")
    for _, row in diff.targets.iterrows():
        va, vb = row[f"value[{a}]"], row[f"value[{b}]"]
        if pd.notna(va) or pd.notna(vb):
            lines.append(f"  target {row['label_en']}: {_pct(va)} -> {_pct(vb)}")
    return lines


def _pct(v: float) -> str:
    return "n/a" if pd.isna(v) else f"{100 * v:.1f}%"
