"""Targets as data: what a policy counts, where, with which facilities, and by when.

A target in a profile names

- its **measure**: ``coverage`` (units that have a qualifying facility), ``facility_share``
  (facilities whose attribute reaches a value, e.g. centres with ≥ 20 beds), ``bed_ratio``
  (nursing-type beds among all beds), ``allocation`` (estates meeting their on-site
  allocation, 配建);
- its **unit**: ``estate`` (小区), ``shequ`` (社区/村), ``street`` (街道/乡镇), ``county``
  (县/区/市), ``facility`` or ``bed``;
- its **filter**: ``area_type`` (urban/rural), ``street_type`` (street 街道 / township 乡镇),
  ``status`` (new/old);
- the **kinds** that qualify (``"nursing_home@township"``: a nursing home whose ``level``
  is township, i.e. a 敬老院 turned into a regional centre);
- its **reading**: ``present_in_unit`` (建有: the facility is in the unit) or
  ``within_circle`` (a facility within the walking circle of the unit's estates); the other
  reading is computed too and reported beside it;
- ``threshold`` (0–1), ``due`` (``"2025"`` or ``"2021-03"``) and the source clause.

A sixth city's targets are a TOML table, no code. New measures (beds per elderly, tiers)
are added by registering a function in :data:`planner.gaps.MEASURES` and naming it here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.schema import (
    AREA_TYPES,
    COMMUNITY_STATUSES,
    FACILITY_KINDS,
    FACILITY_LEVELS,
    STREET_TYPES,
)
from planner.standards._parsing import (
    _COMMON_KEYS,
    _bad,
    _check_keys,
    _common,
    _Context,
    _flag,
    _number,
    _text,
)
from planner.standards.model import _Stated

#: Measures a target may use, with one-line definitions (the computation is in planner.gaps).
MEASURES: dict[str, str] = {
    "coverage": ("share of units (by count, and by the households living in them) that have "
                 "a qualifying facility, in the unit or within the walking circle"),
    "facility_share": ("share of the qualifying facilities whose `attribute` column is at "
                       "least `at_least` (e.g. centres with 20 beds or more)"),
    "bed_ratio": "nursing-type beds (nursing_beds) among all beds (beds) of qualifying facilities",
    "allocation": ("share of estates whose own facility area (serves_community_id), or their "
                   "pooling group's, meets households × the floor-area ratio (配建)"),
}
#: Units a target counts.
UNITS: dict[str, tuple[str, str]] = {
    "estate": ("小区", "residential estate (one row of the communities table)"),
    "shequ": ("社区/村", "residents' committee or village (communities column `shequ`)"),
    "street": ("街道/乡镇", "street or township (communities column `street`)"),
    "county": ("县(区、市)", "county (communities column `county`; else the whole study area)"),
    "facility": ("设施", "facility"),
    "bed": ("床位", "institutional bed"),
}
#: Units each measure may count.
MEASURE_UNITS: dict[str, tuple[str, ...]] = {
    "coverage": ("estate", "shequ", "street", "county"),
    "facility_share": ("facility",),
    "bed_ratio": ("bed",),
    "allocation": ("estate",),
}
#: How a coverage target counts a unit as served.
TARGET_READINGS: dict[str, str] = {
    "present_in_unit": "a qualifying facility stands in the unit (建有)",
    "within_circle": "a qualifying facility is within the walking circle of the unit's estates",
}
#: Filter keys and their allowed values.
FILTERS: dict[str, tuple[str, ...]] = {
    "area_type": AREA_TYPES,
    "street_type": STREET_TYPES,
    "status": COMMUNITY_STATUSES,
}
_COMMUNITY_KINDS = ("station", "day_care", "street_centre", "township_centre", "mutual_aid")

#: Legacy target metrics (profiles written before targets became data). Each is a preset
#: of the fields above and keeps its old meaning: estates, not 社区, so a city profile
#: should state its targets in full instead.
TARGET_METRICS: dict[str, str] = {
    "urban_communities_covered": (
        "share of urban estates with a community facility within their walking circle"),
    "rural_communities_covered": (
        "share of rural estates with a community facility within their walking circle"),
    "communities_with_day_care": (
        "share of all estates with a day_care facility within their walking circle"),
    "streets_with_street_centre": (
        "share of streets with urban estates that contain a street_centre"),
    "townships_with_township_centre": (
        "share of streets with rural estates that contain a township_centre"),
}
_PRESETS: dict[str, dict[str, Any]] = {
    "urban_communities_covered": {"unit": "estate", "filter": {"area_type": "urban"},
                                  "kinds": _COMMUNITY_KINDS, "reading": "within_circle"},
    "rural_communities_covered": {"unit": "estate", "filter": {"area_type": "rural"},
                                  "kinds": _COMMUNITY_KINDS, "reading": "within_circle"},
    "communities_with_day_care": {"unit": "estate", "filter": {}, "kinds": ("day_care",),
                                  "reading": "within_circle"},
    "streets_with_street_centre": {"unit": "street", "filter": {"area_type": "urban"},
                                   "kinds": ("street_centre",), "reading": "present_in_unit"},
    "townships_with_township_centre": {"unit": "street", "filter": {"area_type": "rural"},
                                       "kinds": ("township_centre",),
                                       "reading": "present_in_unit"},
}
_DUE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True, kw_only=True)
class Target(_Stated):
    """A target: ``measure`` over ``unit`` (after ``filter``) must reach ``threshold`` by ``due``.

    Attributes
    ----------
    id, metric, label_zh, label_en
        Identity; ``metric`` is the name reports key on (default: ``id``).
    measure, unit, reading
        See :data:`MEASURES`, :data:`UNITS`, :data:`TARGET_READINGS`.
    filter
        ``(key, value)`` pairs, see :data:`FILTERS`.
    kinds
        Qualifying facility kinds; ``"kind@level"`` also requires the facility's ``level``.
    threshold
        Fraction 0–1.
    due, due_assumption
        ``"YYYY"`` or ``"YYYY-MM"`` ("" when none); True when the year is the planner's
        reading rather than the text's.
    attribute, at_least
        For ``facility_share``: facility column and the value it must reach.
    fallback_unit
        Unit used, labelled a proxy in every report, when the unit's column is missing
        ("" for none: the target is then "not computable").
    """

    id: str
    metric: str
    label_zh: str
    label_en: str
    measure: str
    unit: str
    filter: tuple[tuple[str, str], ...] = ()
    kinds: tuple[str, ...] = ()
    reading: str = "present_in_unit"
    threshold: float
    due: str = ""
    due_assumption: bool = False
    attribute: str = ""
    at_least: float | None = None
    fallback_unit: str = ""

    @property
    def due_year(self) -> int | None:
        """The year the target is due (``"2021-03"`` → 2021), or None."""
        return int(self.due[:4]) if self.due else None

    @property
    def filters(self) -> Mapping[str, str]:
        """The filter as a dict."""
        return dict(self.filter)

    def kind_levels(self) -> list[tuple[str, str | None]]:
        """Qualifying ``(kind, level or None)`` pairs."""
        out = []
        for k in self.kinds:
            kind, _, level = k.partition("@")
            out.append((kind, level or None))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the target, its source and inherited flag as a JSON-ready dict."""
        keys = ("id", "metric", "measure", "unit", "reading", "threshold", "due",
                "due_assumption", "attribute", "at_least", "fallback_unit", "label_zh",
                "label_en")
        return {**{k: getattr(self, k) for k in keys}, "filter": dict(self.filter),
                "kinds": list(self.kinds), "due_year": self.due_year, **self._meta_dict()}


def due_status(due_year: int | None, as_of: int) -> str:
    """Say whether a target is due in ``as_of``.

    Returns
    -------
    str
        ``"no deadline"``, ``"not yet due"`` (``as_of`` before the due year), ``"due"``
        (the due year itself) or ``"past due"`` (after it).
    """
    if due_year is None:
        return "no deadline"
    if as_of < due_year:
        return "not yet due"
    return "due" if as_of == due_year else "past due"


# --------------------------------------------------------------------------- parsing

_TARGET_KEYS = ("id", "metric", "measure", "unit", "filter", "kinds", "reading", "threshold",
                "due", "due_assumption", "attribute", "at_least", "fallback_unit",
                "label_zh", "label_en")


def _choice(table: dict[str, Any], key: str, where: str, path: Path,
            options: Mapping[str, Any] | tuple[str, ...], default: str | None = None) -> str:
    value = _text(table, key, where, path, default or "")
    if value not in options:
        raise _bad(path, f"{where}.{key}", table.get(key, value),
                   f"use one of {', '.join(options)}")
    return value


def _parse_filter(table: dict[str, Any], where: str, path: Path) -> tuple[tuple[str, str], ...]:
    raw = table.get("filter", {})
    if not isinstance(raw, dict):
        raise _bad(path, f"{where}.filter", raw, 'must be a table, e.g. { area_type = "urban" }')
    out = []
    for key, value in raw.items():
        if key not in FILTERS:
            raise _bad(path, f"{where}.filter.{key}", value,
                       f"unknown filter; use one of {', '.join(FILTERS)}")
        if value not in FILTERS[key]:
            raise _bad(path, f"{where}.filter.{key}", value,
                       f"use one of {', '.join(FILTERS[key])}")
        out.append((key, str(value)))
    return tuple(out)


def _parse_kinds(table: dict[str, Any], where: str, path: Path) -> tuple[str, ...]:
    kinds = table.get("kinds", [])
    if not isinstance(kinds, list):
        raise _bad(path, f"{where}.kinds", kinds, "must be a list of facility kinds")
    for k in kinds:
        kind, _, level = str(k).partition("@")
        if kind not in FACILITY_KINDS or (level and level not in FACILITY_LEVELS):
            raise _bad(path, f"{where}.kinds", k,
                       f"use a facility kind ({', '.join(FACILITY_KINDS)}), optionally "
                       f"with @level ({', '.join(FACILITY_LEVELS)})")
    return tuple(str(k) for k in kinds)


def _parse_due(table: dict[str, Any], where: str, path: Path) -> str:
    due = table.get("due", "")
    if isinstance(due, int) and not isinstance(due, bool):
        due = str(due)
    if not isinstance(due, str) or (due and not _DUE.match(due)):
        raise _bad(path, f"{where}.due", due, 'must be a year "2025" or a month "2021-03"')
    return due


def _preset(table: dict[str, Any], where: str, path: Path) -> dict[str, Any]:
    """The fields a legacy ``metric`` stands for (empty for a new-style target)."""
    metric = table.get("metric")
    if "measure" in table or metric is None:
        return {}
    if metric not in _PRESETS:
        raise _bad(path, f"{where}.metric", metric,
                   f"unknown target metric; use one of {', '.join(TARGET_METRICS)}, or "
                   f"state measure, unit, kinds and reading")
    p = _PRESETS[metric]
    return {"measure": "coverage", "unit": p["unit"], "reading": p["reading"],
            "kinds": tuple(p["kinds"]), "filter": tuple(p["filter"].items())}


def parse_target(table: Any, i: int, path: Path, ctx: _Context) -> Target:
    """Parse and check one ``[[targets]]`` table; errors name the file, key and value."""
    where = f"targets[{i}]"
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a [[targets]] table")
    required = ("id", "threshold", "label_zh", "label_en")
    _check_keys(table, where, path, (*_TARGET_KEYS, *_COMMON_KEYS), (*required, "source"))
    preset = _preset(table, where, path)
    if not preset:
        _check_keys(table, where, path, (*_TARGET_KEYS, *_COMMON_KEYS), ("measure", "unit"))
    threshold = _number(table, "threshold", where, path)
    if threshold > 1:
        raise _bad(path, f"{where}.threshold", table["threshold"],
                   "must be a fraction 0-1 (write 0.6 for 60 %)")
    fields: dict[str, Any] = preset or {
        "measure": _choice(table, "measure", where, path, MEASURES),
        "unit": _choice(table, "unit", where, path, UNITS),
        "reading": _choice(table, "reading", where, path, TARGET_READINGS, "present_in_unit"),
        "kinds": _parse_kinds(table, where, path),
        "filter": _parse_filter(table, where, path),
    }
    units = MEASURE_UNITS[fields["measure"]]
    if fields["unit"] not in units:
        raise _bad(path, f"{where}.unit", fields["unit"],
                   f"measure {fields['measure']} counts {', '.join(units)}")
    fallback = _text(table, "fallback_unit", where, path)
    if fallback and fallback not in MEASURE_UNITS[fields["measure"]]:
        raise _bad(path, f"{where}.fallback_unit", fallback,
                   f"use one of {', '.join(MEASURE_UNITS[fields['measure']])}")
    at_least = _number(table, "at_least", where, path) if "at_least" in table else None
    ident = _text(table, "id", where, path)
    return Target(
        id=ident, metric=_text(table, "metric", where, path, ident),
        label_zh=_text(table, "label_zh", where, path),
        label_en=_text(table, "label_en", where, path),
        threshold=threshold, due=_parse_due(table, where, path),
        due_assumption=_flag(table, "due_assumption", where, path),
        attribute=_text(table, "attribute", where, path), at_least=at_least,
        fallback_unit=fallback,
        **fields, **_common(table, where, path, ctx),
    )


def parse_targets(raw: dict[str, Any], path: Path, ctx: _Context) -> dict[str, Target]:
    """Parse every ``[[targets]]`` table of one file; ids must be unique."""
    items = raw.get("targets", [])
    if not isinstance(items, list):
        raise _bad(path, "targets", items, "must be a list of [[targets]] tables")
    out: dict[str, Target] = {}
    for i, table in enumerate(items):
        target = parse_target(table, i, path, ctx)
        if target.id in out:
            raise _bad(path, f"targets[{i}].id", target.id, "is used twice; ids must be unique")
        out[target.id] = target
    return out
