"""A table of changes, one per row, applied to a scenario (``planner run --scenario FILE``).

Columns (empty cells are ignored): ``action`` and, by action,

=====================  ==================================================================
``add_facility``       ``id``, ``kind``, ``floor_area_m2``, ``lon``, ``lat`` (``name``, ``street``)
``move_facility``      ``id``, ``lon``, ``lat``
``resize_facility``    ``id``, ``floor_area_m2``
``close_facility``     ``id``
``add_community``      ``id``, ``households``, ``lon``, ``lat`` (``name``, ``status``,
                       ``completion_year``, ``area_type``, ``street``)
``change_community``   ``id`` and any of ``households``, ``status``, ``completion_year``,
                       ``area_type``, ``street``
``remove_community``   ``id``
``speed``              ``value``: walking speed, m/s
``minutes``            ``value``: circle minutes; ``area_type`` urban or rural (empty: both)
``include_planned``    ``value``: yes/no
=====================  ==================================================================

Coordinates are WGS84 longitude/latitude unless the file's system is declared
(``gcj02``, ``bd09``…). Rows apply in order; each is one edit of
:class:`~planner.scenarios.Scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from planner import crs as _crs
from planner._errors import InputError, MissingColumnError
from planner.io import read_table
from planner.scenarios.scenario import Scenario

#: The actions a changes table may hold.
ACTIONS = ("add_facility", "move_facility", "resize_facility", "close_facility",
           "add_community", "change_community", "remove_community", "speed", "minutes",
           "include_planned")
_COMMUNITY_COLUMNS = ("name", "status", "completion_year", "area_type", "street")
_YES = {"yes", "true", "1", "y", "是"}
_NO = {"no", "false", "0", "n", "否"}


def read_changes(path: str | Path) -> pd.DataFrame:
    """Read a changes table; check its actions (the error names file, row and value)."""
    path = Path(path)
    table = pd.DataFrame(read_table(path))
    table.columns = [str(c).strip().lower() for c in table.columns]
    if "action" not in table:
        msg = (f"{path}: no 'action' column; each row needs an action "
               f"({', '.join(ACTIONS)}).")
        raise MissingColumnError(msg)
    table["action"] = table["action"].astype(str).str.strip().str.lower()
    for i, action in enumerate(table["action"]):
        if action not in ACTIONS:
            msg = (f"{path}: row {i + 2}, column action: unknown action {action!r}; "
                   f"use one of {', '.join(ACTIONS)}.")
            raise InputError(msg)
    return table


def apply_changes(scenario: Scenario, table: pd.DataFrame, *, path: str | Path = "changes",
                  crs: str = "wgs84", name: str | None = None) -> Scenario:
    """Apply every row of a changes table in order and return the new scenario."""
    out = scenario
    for i, row in enumerate(table.to_dict("records")):
        out = _apply(out, _Row(row, Path(path), i + 2, crs))
    return out.named(name or Path(path).stem)


class _Row:
    """One row with helpers that raise errors naming the file, row and column."""

    def __init__(self, data: dict[str, Any], path: Path, row: int, crs: str) -> None:
        self.data, self.path, self.row, self.crs = data, path, row, crs

    def has(self, col: str) -> bool:
        value = self.data.get(col)
        return value is not None and not (isinstance(value, float) and pd.isna(value)) \
            and str(value).strip() != ""

    def text(self, col: str) -> str:
        if not self.has(col):
            self.fail(col, self.data.get(col), "is empty; this action needs it")
        return str(self.data[col]).strip()

    def number(self, col: str) -> float:
        raw = self.text(col)
        try:
            value = float(raw)
        except ValueError:
            self.fail(col, raw, "is not a number")
        if not value > 0:
            self.fail(col, raw, "must be positive")
        return value

    def point(self, scenario: Scenario) -> shapely.Point:
        lon, lat = self.number_any("lon"), self.number_any("lat")
        wgs = _crs.to_wgs84([shapely.Point(lon, lat)], self.crs).geometry
        return gpd.GeoSeries(wgs, crs=4326).to_crs(scenario.net.pyproj_crs).iloc[0]

    def number_any(self, col: str) -> float:
        raw = self.text(col)
        try:
            return float(raw)
        except ValueError:
            self.fail(col, raw, "is not a number")
        raise AssertionError  # unreachable

    def fail(self, col: str, value: Any, problem: str) -> None:
        msg = f"{self.path}: row {self.row}, column {col}: value {value!r} {problem}."
        raise InputError(msg)


def _add_facility(s: Scenario, r: _Row) -> Scenario:
    p = r.point(s)
    return s.add_facility(r.text("id"), kind=r.text("kind"),
                          floor_area_m2=r.number("floor_area_m2"),
                          facility_name=r.text("name") if r.has("name") else None,
                          street=r.text("street") if r.has("street") else None, x=p.x, y=p.y)


def _move_facility(s: Scenario, r: _Row) -> Scenario:
    p = r.point(s)
    return s.move_facility(r.text("id"), x=p.x, y=p.y)


def _add_community(s: Scenario, r: _Row) -> Scenario:
    extra = {c: r.data[c] for c in _COMMUNITY_COLUMNS if r.has(c)}
    return s.add_community(r.text("id"), households=int(r.number("households")),
                           geometry=r.point(s), **extra)


def _change_community(s: Scenario, r: _Row) -> Scenario:
    extra = {c: r.data[c] for c in ("households", *_COMMUNITY_COLUMNS) if r.has(c)}
    if "households" in extra:
        extra["households"] = int(r.number("households"))
    if not extra:
        r.fail("households", None, "and the other columns are empty: nothing to change")
    return s.change_communities([r.text("id")], **extra)


def _minutes(s: Scenario, r: _Row) -> Scenario:
    value = r.number("value")
    kinds = [r.text("area_type")] if r.has("area_type") else ["urban", "rural"]
    if not set(kinds) <= {"urban", "rural"}:
        r.fail("area_type", kinds[0], "is not urban or rural")
    return s.with_minutes(urban=value if "urban" in kinds else None,
                          rural=value if "rural" in kinds else None)


def _planned(s: Scenario, r: _Row) -> Scenario:
    flag = r.text("value").lower()
    if flag not in _YES | _NO:
        r.fail("value", flag, "is not yes or no")
    return s.with_planned(flag in _YES)


_ACTIONS: dict[str, Callable[[Scenario, _Row], Scenario]] = {
    "add_facility": _add_facility,
    "move_facility": _move_facility,
    "resize_facility": lambda s, r: s.resize_facility(r.text("id"), r.number("floor_area_m2")),
    "close_facility": lambda s, r: s.close_facilities([r.text("id")]),
    "add_community": _add_community,
    "change_community": _change_community,
    "remove_community": lambda s, r: s.remove_communities([r.text("id")]),
    "speed": lambda s, r: s.with_speed(r.number("value")),
    "minutes": _minutes,
    "include_planned": _planned,
}


def _apply(s: Scenario, r: _Row) -> Scenario:
    return _ACTIONS[r.data["action"]](s, r)
