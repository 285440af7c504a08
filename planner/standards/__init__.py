"""Planning standards as data: load, validate and resolve city profiles.

A profile is a TOML file, one per city, shipped in ``planner/profiles/`` (``national`` is the
default that the cities inherit from). A user can pass the path of their own TOML file, so a
new city needs no code. Every value carries its source (document id, clause and the quoted
Chinese text where there is one) and whether it is stated by the profile or inherited.

Units: floor area in m² per 100 households (``_m2_per_100hh``), facility sizes in m², land
in m² per resident, circles in minutes, walking speed in m/s. The file format is documented
in ``docs/standards.md``.

Examples
--------
>>> from planner.standards import load_profile, required_m2
>>> p = load_profile("jinzhong")
>>> p.area_per_100hh["new"].min_m2, p.area_per_100hh["old"].inherited
(30.0, True)
>>> float(required_m2(250, "old", p))
37.5
"""

# Report text is bilingual: full-width Chinese punctuation, en dashes in ranges and the
# multiplication sign in formulas are intended.

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from planner._errors import InputError, UnknownProfileError
from planner.schema import AREA_TYPES, COMMUNITY_STATUSES, FACILITY_KINDS

__all__ = [
    "PROFILE_DIR",
    "READINGS",
    "TARGET_METRICS",
    "UNITS_AS_WRITTEN",
    "AreaRule",
    "Document",
    "FacilityMin",
    "KindList",
    "Profile",
    "Source",
    "Target",
    "Value",
    "circle_distance_m",
    "circle_minutes",
    "counts_towards_area",
    "facility_minimum_m2",
    "infer_status",
    "list_profiles",
    "load_profile",
    "range_position",
    "required_m2",
    "required_m2_per_100hh",
    "status_basis",
]

#: Folder of the built-in profiles (package data).
PROFILE_DIR = Path(__file__).parent / "profiles"

#: Coverage metrics a target may use. The planner computes exactly these; a profile cannot
#: invent a new one. Each is a fraction 0-1.
TARGET_METRICS: dict[str, str] = {
    "urban_communities_covered": (
        "share of urban communities (area_type = urban) with at least one counted facility "
        "within the urban walking circle"
    ),
    "rural_communities_covered": (
        "share of rural communities (area_type = rural) with at least one facility within the "
        "rural walking circle"
    ),
    "communities_with_day_care": (
        "share of all communities with a day_care facility within their walking circle"
    ),
    "streets_with_street_centre": (
        "share of streets (街道: the 'street' column of urban communities) that contain at "
        "least one street_centre facility"
    ),
    "townships_with_township_centre": (
        "share of townships (乡镇, the 'street' column of rural communities) that contain at "
        "least one township_centre facility"
    ),
}

#: How a value written per household is read: factor to m² per 100 households.
READINGS: dict[str, float] = {"per_100_households": 1.0, "literal": 100.0}
#: Units a floor-area value may be written in (``unit_as_written``).
UNITS_AS_WRITTEN = ("per_100_households", "per_household")

_STATUS_LABELS = {
    "new": ("新建住宅小区", "new-build"),
    "old": ("老旧小区/已建成小区", "old/built-up"),
}
_AREA_LABELS = {"urban": ("城市", "urban"), "rural": ("农村", "rural")}
_COMMON_KEYS = ("source", "assumption", "note", "note_zh")


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True, kw_only=True)
class Document:
    """A document a profile cites (a policy notice, a national standard, a study)."""

    id: str
    title: str
    issued: str = ""
    file: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the document as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a value comes from: document id, clause, quoted text and a note."""

    doc: str
    clause: str
    quote: str = ""
    note: str = ""
    doc_title: str = ""
    doc_file: str = ""

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        """Return a one-line citation, e.g. ``004 item 5: 「每百户…」``."""
        out = f"{self.doc} {self.clause}"
        return f"{out}: 「{self.quote}」" if self.quote else out

    def to_dict(self) -> dict[str, str]:
        """Return the source as a JSON-ready dict, with a ``text`` citation."""
        return {**dataclasses.asdict(self), "text": self.text()}


@dataclass(frozen=True, kw_only=True)
class _Stated:
    """Fields every stated value shares.

    ``origin`` is the profile that states the value; ``inherited`` is True when the profile
    holding it did not state it itself. ``assumption`` marks a value chosen by the planner's
    authors rather than read from a document; ``note``/``note_zh`` explain it.
    """

    source: Source
    origin: str
    inherited: bool = False
    assumption: bool = False
    note: str = ""
    note_zh: str = ""

    def _meta_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "stated_by": self.origin,
            "inherited": self.inherited,
            "inherited_from": self.origin if self.inherited else None,
            "assumption": self.assumption,
            "note": self.note,
            "note_zh": self.note_zh,
        }


@dataclass(frozen=True, kw_only=True)
class Value(_Stated):
    """A single number with its source (walking speed m/s, minutes, a year, m² per resident)."""

    value: float

    def to_dict(self) -> dict[str, Any]:
        """Return the value, its source and inherited flag as a JSON-ready dict."""
        return {"value": self.value, **self._meta_dict()}


@dataclass(frozen=True, kw_only=True)
class AreaRule(_Stated):
    """Floor area of elderly-care facilities required per 100 households for one status.

    ``written_min_m2``/``written_max_m2`` are the numbers as the document writes them, in
    ``unit_as_written``. :attr:`min_m2` and :attr:`max_m2` are in m² per 100 households
    under the chosen ``reading``.
    """

    status: str
    written_min_m2: float
    written_max_m2: float | None = None
    unit_as_written: str = "per_100_households"
    reading: str = "per_100_households"

    @property
    def factor(self) -> float:
        """Factor from the written number to m² per 100 households."""
        if self.unit_as_written == "per_household":
            return READINGS[self.reading]
        return 1.0

    @property
    def min_m2(self) -> float:
        """Minimum, m² per 100 households."""
        return self.written_min_m2 * self.factor

    @property
    def max_m2(self) -> float | None:
        """Upper end of a range, m² per 100 households, or None when there is no range."""
        if self.written_max_m2 is None:
            return None
        return self.written_max_m2 * self.factor

    def to_dict(self) -> dict[str, Any]:
        """Return the rule (effective and as written), source and flags as a dict."""
        return {
            "min_m2_per_100hh": self.min_m2,
            "max_m2_per_100hh": self.max_m2,
            "written_min_m2": self.written_min_m2,
            "written_max_m2": self.written_max_m2,
            "unit_as_written": self.unit_as_written,
            "reading": self.reading,
            **self._meta_dict(),
        }


@dataclass(frozen=True, kw_only=True)
class Target(_Stated):
    """A coverage target: ``metric`` (one of :data:`TARGET_METRICS`) must reach ``threshold``."""

    id: str
    metric: str
    threshold: float
    label_zh: str
    label_en: str

    def to_dict(self) -> dict[str, Any]:
        """Return the target, its source and inherited flag as a JSON-ready dict."""
        keys = ("id", "metric", "threshold", "label_zh", "label_en")
        return {**{k: getattr(self, k) for k in keys}, **self._meta_dict()}


@dataclass(frozen=True, kw_only=True)
class FacilityMin(_Stated):
    """Minimum floor area of one facility kind, m²; ``min_m2_small`` where few elderly live."""

    kind: str
    min_m2: float
    min_m2_small: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the minimum sizes, source and inherited flag as a JSON-ready dict."""
        sizes = {"kind": self.kind, "min_m2": self.min_m2, "min_m2_small": self.min_m2_small}
        return {**sizes, **self._meta_dict()}


@dataclass(frozen=True, kw_only=True)
class KindList(_Stated):
    """Facility kinds that count towards floor area per 100 households."""

    kinds: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the kinds, source and inherited flag as a JSON-ready dict."""
        return {"kinds": list(self.kinds), **self._meta_dict()}


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A resolved standards profile: every value stated by the file or inherited.

    Attributes
    ----------
    name, name_zh, description
        Identity of the profile.
    path
        The TOML file it was loaded from.
    chain
        Names from this profile to the root, e.g. ``("jinzhong", "national")``.
    documents
        Cited documents by id.
    walking_speed_m_s
        Walking speed, m/s.
    circle_minutes
        ``urban`` and ``rural`` service-circle budgets, minutes.
    area_per_100hh
        ``new`` and ``old`` floor-area rules, m² per 100 households.
    new_build_from_year
        A community completed in or after this year is new-build when only its
        ``completion_year`` is known.
    land_per_resident_m2
        Land for elderly-care facilities, m² per resident.
    targets
        Coverage targets by id.
    facility_min_m2
        Minimum facility sizes by kind, m².
    area_counted_kinds
        Facility kinds counted towards floor area per 100 households.
    """

    name: str
    name_zh: str
    description: str
    path: Path
    chain: tuple[str, ...]
    documents: Mapping[str, Document]
    walking_speed_m_s: Value
    circle_minutes: Mapping[str, Value]
    area_per_100hh: Mapping[str, AreaRule]
    new_build_from_year: Value
    land_per_resident_m2: Value
    area_counted_kinds: KindList
    targets: Mapping[str, Target] = field(default_factory=lambda: MappingProxyType({}))
    facility_min_m2: Mapping[str, FacilityMin] = field(default_factory=lambda: MappingProxyType({}))

    def with_reading(self, reading: str, *, status: str | None = None) -> Profile:
        """Return a copy that reads values written per household with ``reading``.

        Parameters
        ----------
        reading
            ``"per_100_households"`` (the default reading: the text is taken as a slip for
            每百户) or ``"literal"`` (the text as written: × 100 per 100 households).
        status
            Only switch the rule for this status (``"new"`` or ``"old"``); default both.

        Returns
        -------
        Profile
            The same profile, with the new reading on every rule whose
            ``unit_as_written`` is ``"per_household"``; rules written per 100 households
            are unchanged, so a profile without such rules comes back equal.
        """
        _check_choice(reading, READINGS, "reading", "with_reading()")
        if status is not None:
            _check_choice(status, COMMUNITY_STATUSES, "status", "with_reading()")
        rules = {
            key: dataclasses.replace(rule, reading=reading)
            if rule.unit_as_written == "per_household" and status in (None, key)
            else rule
            for key, rule in self.area_per_100hh.items()
        }
        return dataclasses.replace(self, area_per_100hh=MappingProxyType(rules))

    def choices(self) -> list[str]:
        """Return the interpretive choices every report must print, in Chinese and English.

        Returns
        -------
        list of str
            One line per choice: readings of values written per household, ranges,
            assumptions (walking speed, cut-off year, counted kinds...) and one line per
            profile the values are inherited from. Each line is ``中文 / English``.
        """
        lines = [_reading_line(self, r) for r in self.area_per_100hh.values()]
        lines += [_range_line(r) for r in self.area_per_100hh.values()]
        lines += [_assumption_line(key, item) for key, item in self.items() if item.assumption]
        lines += _inherited_lines(self)
        if not self.targets:
            lines.append(f"{self.name_zh}未规定覆盖率目标 / {self.name} states no coverage targets")
        return [line for line in lines if line]

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as a JSON-ready dict for ``summary.json``.

        Every value comes with its source, ``inherited`` flag and ``inherited_from``.
        """
        return {
            "name": self.name,
            "name_zh": self.name_zh,
            "description": self.description,
            "path": str(self.path),
            "chain": list(self.chain),
            "documents": {k: d.to_dict() for k, d in self.documents.items()},
            "walking_speed_m_s": self.walking_speed_m_s.to_dict(),
            "circle_minutes": {k: v.to_dict() for k, v in self.circle_minutes.items()},
            "area_per_100hh": {k: v.to_dict() for k, v in self.area_per_100hh.items()},
            "new_build_from_year": self.new_build_from_year.to_dict(),
            "land_per_resident_m2": self.land_per_resident_m2.to_dict(),
            "area_counted_kinds": self.area_counted_kinds.to_dict(),
            "targets": [t.to_dict() for t in self.targets.values()],
            "facility_min_m2": {k: v.to_dict() for k, v in self.facility_min_m2.items()},
            "choices": self.choices(),
        }

    def items(self) -> list[tuple[str, _Stated]]:
        """Return every value as ``(dotted key, item)``, e.g. ``("area_per_100hh.old", rule)``."""
        items: list[tuple[str, _Stated]] = [("walking_speed_m_s", self.walking_speed_m_s)]
        items += [(f"circle_minutes.{k}", v) for k, v in self.circle_minutes.items()]
        items += [(f"area_per_100hh.{k}", v) for k, v in self.area_per_100hh.items()]
        items += [("new_build_from_year", self.new_build_from_year)]
        items += [("land_per_resident_m2", self.land_per_resident_m2)]
        items += [("area_counted_kinds", self.area_counted_kinds)]
        items += [(f"facility_min_m2.{k}", v) for k, v in self.facility_min_m2.items()]
        items += [(f"targets.{k}", v) for k, v in self.targets.items()]
        return items


# --------------------------------------------------------------------------- choices text


def _fmt(x: float | None) -> str:
    """Format a number without a spurious ``.0`` (20.0 → '20', 0.1 → '0.1')."""
    if x is None:
        return ""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def _reading_line(profile: Profile, rule: AreaRule) -> str:
    if rule.unit_as_written != "per_household":
        return ""
    zh, en = _STATUS_LABELS[rule.status]
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
    zh, en = _STATUS_LABELS[rule.status]
    lo, hi = _fmt(rule.min_m2), _fmt(rule.max_m2)
    return (
        f"{zh}面积标准为区间：每百户{lo}–{hi}平方米（{rule.origin}），低于{lo}为不达标，"
        f"{lo}–{hi}为达标，报告注明所处位置 / {en} floor area is a range of {lo}–{hi} m² per "
        f"100 households ({rule.origin}): below {lo} fails, {lo}–{hi} meets; reports say "
        f"where in the range a value sits"
    )


def _item_text(key: str, item: _Stated) -> tuple[str, str]:
    """Return short Chinese and English descriptions of one item with its value."""
    if isinstance(item, AreaRule):
        zh, en = _STATUS_LABELS[item.status]
        span = _fmt(item.min_m2) + (f"–{_fmt(item.max_m2)}" if item.max_m2 is not None else "")
        return f"{zh}每百户{span}平方米", f"{en} {span} m² per 100 households"
    if isinstance(item, Target):
        pct = _fmt(item.threshold * 100)
        return f"{item.label_zh}{pct}%", f"{item.label_en} {pct} %"
    if isinstance(item, FacilityMin):
        zh, en = FACILITY_KINDS[item.kind]
        return f"{zh}不小于{_fmt(item.min_m2)}平方米", f"{en} at least {_fmt(item.min_m2)} m²"
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
        zh, en = _AREA_LABELS[key.split(".", 1)[1]]
        return f"{zh}服务圈{v}分钟", f"{en} circle {v} min"
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


# --------------------------------------------------------------------------- loading


def list_profiles() -> list[str]:
    """Return the names of the built-in profiles, sorted."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a standards profile by built-in name or from a TOML file.

    Parameters
    ----------
    name_or_path
        A built-in name (see :func:`list_profiles`), or the path of a TOML file (a
        :class:`~pathlib.Path`, or a string ending in ``.toml`` or containing a ``/``).

    Returns
    -------
    Profile
        The resolved profile: ``inherits`` followed recursively, every value not stated
        by the file flagged ``inherited=True`` with the profile it came from.

    Raises
    ------
    UnknownProfileError
        No built-in profile has that name, or the file does not exist.
    InputError
        The file is malformed: TOML syntax, a missing or unknown key, a wrong type, a
        negative number, an unknown target metric or facility kind, or an inheritance cycle.
    """
    path = _locate(name_or_path)
    layers = _resolve(path, ())
    return _build(path, layers)


def _is_path(name_or_path: str | Path) -> bool:
    if isinstance(name_or_path, Path):
        return True
    return name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """Return the file of a profile name or path (relative paths against ``relative_to``)."""
    available = ", ".join(list_profiles())
    if _is_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to.parent / path
        if not path.is_file():
            msg = (
                f"No profile file at {path}. Check the path, or use a built-in profile: "
                f"{available}."
            )
            raise UnknownProfileError(msg)
        return path
    path = PROFILE_DIR / f"{str(name_or_path).strip().lower()}.toml"
    if not path.is_file():
        msg = (
            f"Unknown profile {name_or_path!r}. Available profiles: {available}. To use your "
            f"own standards, pass the path of a TOML file (e.g. --profile ./mycity.toml); the "
            f"format is described in docs/standards.md."
        )
        raise UnknownProfileError(msg)
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        msg = f"{path}: not valid TOML ({e}). Fix the syntax; see docs/standards.md."
        raise InputError(msg) from e


def _resolve(path: Path, stack: tuple[Path, ...]) -> list[dict[str, Any]]:
    """Return the parsed layers from the root profile down to ``path``."""
    resolved = path.resolve()
    if resolved in stack:
        cycle = " -> ".join(str(p) for p in (*stack, resolved))
        msg = (
            f"{path}: key 'profile.inherits' makes a cycle: {cycle}. Make one of these "
            f"profiles inherit from 'national' (or from nothing)."
        )
        raise InputError(msg)
    raw = _read_toml(path)
    meta = _table(raw, "profile", path, required=True)
    parent = meta.get("inherits")
    parents: list[dict[str, Any]] = []
    if parent is not None:
        _expect_str(parent, "profile.inherits", path)
        parents = _resolve(_locate(parent, relative_to=path), (*stack, resolved))
    docs = {k: v for layer in parents for k, v in layer["documents"].items()}
    return [*parents, _parse_layer(raw, path, docs)]


# --------------------------------------------------------------------------- parsing

_TOP_KEYS = (
    "profile",
    "documents",
    "walking_speed_m_s",
    "circle_minutes",
    "area_per_100hh",
    "new_build_from_year",
    "land_per_resident_m2",
    "area_counted_kinds",
    "targets",
    "facility_min_m2",
)


def _bad(path: Path, key: str, value: Any, problem: str) -> InputError:
    return InputError(f"{path}: key '{key}' = {value!r}: {problem}. See docs/standards.md.")


def _expect_str(value: Any, key: str, path: Path) -> str:
    if not isinstance(value, str):
        raise _bad(path, key, value, "must be a string (in quotes)")
    return value


def _check_keys(
    table: dict[str, Any], key: str, path: Path, allowed: tuple[str, ...], required: tuple[str, ...]
) -> None:
    for k in table:
        if k not in allowed:
            msg = (
                f"{path}: unknown key '{key}.{k}'. Allowed keys in [{key}]: "
                f"{', '.join(allowed)}. Fix the spelling or remove it; see docs/standards.md."
            )
            raise InputError(msg)
    for k in required:
        if k not in table:
            msg = f"{path}: missing key '{key}.{k}'. Add it to [{key}]; see docs/standards.md."
            raise InputError(msg)


def _table(raw: dict[str, Any], key: str, path: Path, *, required: bool = False) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        if required:
            msg = f"{path}: missing table [{key}]. Add it; see docs/standards.md."
            raise InputError(msg)
        return {}
    if not isinstance(value, dict):
        raise _bad(path, key, value, "must be a table ([section] or { ... })")
    return value


def _number(
    table: dict[str, Any], key: str, where: str, path: Path, *, integer: bool = False
) -> float:
    value = table[key]
    full = f"{where}.{key}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(path, full, value, "must be a number")
    if integer and not isinstance(value, int):
        raise _bad(path, full, value, "must be a whole number (e.g. 2014)")
    if not math.isfinite(value) or value < 0:
        raise _bad(path, full, value, "must be a number of zero or more")
    return float(value)


def _positive(table: dict[str, Any], key: str, where: str, path: Path) -> float:
    value = _number(table, key, where, path)
    if value == 0:
        raise _bad(path, f"{where}.{key}", table[key], "must be greater than zero")
    return value


def _flag(table: dict[str, Any], key: str, where: str, path: Path) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise _bad(path, f"{where}.{key}", value, "must be true or false")
    return value


def _text(table: dict[str, Any], key: str, where: str, path: Path, default: str = "") -> str:
    return _expect_str(table.get(key, default), f"{where}.{key}", path)


def _parse_source(
    table: dict[str, Any], where: str, path: Path, docs: Mapping[str, Document]
) -> Source:
    raw = table["source"]
    key = f"{where}.source"
    if not isinstance(raw, dict):
        raise _bad(
            path, key, raw, 'must be a table: { doc = "...", clause = "...", quote = "..." }'
        )
    _check_keys(raw, key, path, ("doc", "clause", "quote", "note"), ("doc", "clause"))
    doc = _text(raw, "doc", key, path)
    if doc not in docs:
        known = ", ".join(docs) or "none"
        raise _bad(
            path,
            f"{key}.doc",
            doc,
            f'no such document; declare it under [documents."{doc}"] (known: {known})',
        )
    document = docs[doc]
    return Source(
        doc=doc,
        clause=_text(raw, "clause", key, path),
        quote=_text(raw, "quote", key, path),
        note=_text(raw, "note", key, path),
        doc_title=document.title,
        doc_file=document.file,
    )


def _common(table: dict[str, Any], where: str, path: Path, ctx: _Context) -> dict[str, Any]:
    """Return the keyword arguments every :class:`_Stated` item shares."""
    return {
        "source": _parse_source(table, where, path, ctx.docs),
        "origin": ctx.name,
        "assumption": _flag(table, "assumption", where, path),
        "note": _text(table, "note", where, path),
        "note_zh": _text(table, "note_zh", where, path),
    }


@dataclass(frozen=True)
class _Context:
    name: str
    docs: Mapping[str, Document]


def _parse_documents(raw: dict[str, Any], path: Path) -> dict[str, Document]:
    out = {}
    for doc_id, table in _table(raw, "documents", path).items():
        where = f"documents.{doc_id}"
        if not isinstance(table, dict):
            raise _bad(path, where, table, 'must be a table with at least title = "..."')
        _check_keys(table, where, path, ("title", "issued", "file", "note"), ("title",))
        fields = {k: _text(table, k, where, path) for k in ("title", "issued", "file", "note")}
        out[doc_id] = Document(id=doc_id, **fields)
    return out


def _parse_value(
    table: dict[str, Any], where: str, path: Path, ctx: _Context, *, integer: bool = False
) -> Value:
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a table with value = ... and source = {...}")
    _check_keys(table, where, path, ("value", *_COMMON_KEYS), ("value", "source"))
    if integer:
        value = _number(table, "value", where, path, integer=True)
    else:
        value = _positive(table, "value", where, path)
    return Value(value=value, **_common(table, where, path, ctx))


def _parse_area(table: Any, status: str, path: Path, ctx: _Context) -> AreaRule:
    where = f"area_per_100hh.{status}"
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a table with min_m2 = ... and source = {...}")
    allowed = ("min_m2", "max_m2", "unit_as_written", "reading", *_COMMON_KEYS)
    _check_keys(table, where, path, allowed, ("min_m2", "source"))
    lo = _number(table, "min_m2", where, path)
    hi = _number(table, "max_m2", where, path) if "max_m2" in table else None
    if hi is not None and hi < lo:
        raise _bad(path, f"{where}.max_m2", table["max_m2"], f"must not be below min_m2 = {lo:g}")
    unit = _text(table, "unit_as_written", where, path, "per_100_households")
    _choice_in_file(unit, UNITS_AS_WRITTEN, f"{where}.unit_as_written", path)
    reading = _text(table, "reading", where, path, "per_100_households")
    _choice_in_file(reading, tuple(READINGS), f"{where}.reading", path)
    if unit == "per_100_households" and reading != "per_100_households":
        raise _bad(
            path, f"{where}.reading", reading, "only values written per household have a reading"
        )
    return AreaRule(
        status=status,
        written_min_m2=lo,
        written_max_m2=hi,
        unit_as_written=unit,
        reading=reading,
        **_common(table, where, path, ctx),
    )


def _choice_in_file(value: str, options: tuple[str, ...], key: str, path: Path) -> None:
    if value not in options:
        raise _bad(path, key, value, f"must be one of {', '.join(options)}")


def _parse_target(table: Any, i: int, path: Path, ctx: _Context) -> Target:
    where = f"targets[{i}]"
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a [[targets]] table")
    keys = ("id", "metric", "threshold", "label_zh", "label_en")
    _check_keys(table, where, path, (*keys, *_COMMON_KEYS), (*keys, "source"))
    metric = _text(table, "metric", where, path)
    if metric not in TARGET_METRICS:
        raise _bad(
            path,
            f"{where}.metric",
            metric,
            f"unknown target metric; use one of {', '.join(TARGET_METRICS)}",
        )
    threshold = _number(table, "threshold", where, path)
    if threshold > 1:
        raise _bad(
            path,
            f"{where}.threshold",
            table["threshold"],
            "must be a fraction 0-1 (write 0.6 for 60 %)",
        )
    texts = {k: _text(table, k, where, path) for k in ("id", "label_zh", "label_en")}
    return Target(metric=metric, threshold=threshold, **texts, **_common(table, where, path, ctx))


def _check_kind(kind: Any, key: str, path: Path) -> str:
    if kind not in FACILITY_KINDS:
        raise _bad(
            path, key, kind, f"unknown facility kind; use one of {', '.join(FACILITY_KINDS)}"
        )
    return str(kind)


def _parse_facility_min(table: Any, kind: str, path: Path, ctx: _Context) -> FacilityMin:
    where = f"facility_min_m2.{kind}"
    _check_kind(kind, where, path)
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a table with min_m2 = ... and source = {...}")
    _check_keys(table, where, path, ("min_m2", "min_m2_small", *_COMMON_KEYS), ("min_m2", "source"))
    small = _number(table, "min_m2_small", where, path) if "min_m2_small" in table else None
    return FacilityMin(
        kind=kind,
        min_m2=_number(table, "min_m2", where, path),
        min_m2_small=small,
        **_common(table, where, path, ctx),
    )


def _parse_kinds(table: Any, path: Path, ctx: _Context) -> KindList:
    where = "area_counted_kinds"
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a table with kinds = [...] and source = {...}")
    _check_keys(table, where, path, ("kinds", *_COMMON_KEYS), ("kinds", "source"))
    kinds = table["kinds"]
    if not isinstance(kinds, list):
        raise _bad(path, f"{where}.kinds", kinds, "must be a list of facility kinds")
    checked = tuple(_check_kind(k, f"{where}.kinds", path) for k in kinds)
    return KindList(kinds=checked, **_common(table, where, path, ctx))


def _parse_keyed(
    raw: dict[str, Any], key: str, path: Path, allowed: tuple[str, ...]
) -> dict[str, Any]:
    table = _table(raw, key, path)
    for k in table:
        if k not in allowed:
            raise _bad(
                path, f"{key}.{k}", table[k], f"unknown entry; use one of {', '.join(allowed)}"
            )
    return table


def _parse_targets(raw: dict[str, Any], path: Path, ctx: _Context) -> dict[str, Target]:
    items = raw.get("targets", [])
    if not isinstance(items, list):
        raise _bad(path, "targets", items, "must be a list of [[targets]] tables")
    out: dict[str, Target] = {}
    for i, table in enumerate(items):
        target = _parse_target(table, i, path, ctx)
        if target.id in out:
            raise _bad(path, f"targets[{i}].id", target.id, "is used twice; ids must be unique")
        out[target.id] = target
    return out


def _parse_layer(
    raw: dict[str, Any], path: Path, parent_docs: dict[str, Document]
) -> dict[str, Any]:
    """Parse and validate one file on its own; return its stated items."""
    _check_keys(raw, "(top level)", path, _TOP_KEYS, ("profile",))
    meta = _table(raw, "profile", path, required=True)
    _check_keys(meta, "profile", path, ("name", "name_zh", "inherits", "description"), ("name",))
    name = _text(meta, "name", "profile", path)
    docs = {**parent_docs, **_parse_documents(raw, path)}
    ctx = _Context(name=name, docs=docs)
    layer: dict[str, Any] = {
        "name": name,
        "name_zh": _text(meta, "name_zh", "profile", path, name),
        "description": _text(meta, "description", "profile", path),
        "documents": docs,
    }
    for key in ("walking_speed_m_s", "land_per_resident_m2"):
        if key in raw:
            layer[key] = _parse_value(raw[key], key, path, ctx)
    if "new_build_from_year" in raw:
        layer["new_build_from_year"] = _parse_value(
            raw["new_build_from_year"], "new_build_from_year", path, ctx, integer=True
        )
    circles = _parse_keyed(raw, "circle_minutes", path, AREA_TYPES)
    layer["circle_minutes"] = {
        k: _parse_value(v, f"circle_minutes.{k}", path, ctx) for k, v in circles.items()
    }
    areas = _parse_keyed(raw, "area_per_100hh", path, COMMUNITY_STATUSES)
    layer["area_per_100hh"] = {k: _parse_area(v, k, path, ctx) for k, v in areas.items()}
    if "area_counted_kinds" in raw:
        layer["area_counted_kinds"] = _parse_kinds(raw["area_counted_kinds"], path, ctx)
    mins = _table(raw, "facility_min_m2", path)
    layer["facility_min_m2"] = {k: _parse_facility_min(v, k, path, ctx) for k, v in mins.items()}
    layer["targets"] = _parse_targets(raw, path, ctx)
    return layer


# --------------------------------------------------------------------------- merging

_SINGLE_KEYS = (
    "walking_speed_m_s",
    "new_build_from_year",
    "land_per_resident_m2",
    "area_counted_kinds",
)
_KEYED = ("circle_minutes", "area_per_100hh", "facility_min_m2", "targets")


def _inherit(item: _Stated) -> _Stated:
    return dataclasses.replace(item, inherited=True)


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Overlay ``child`` on ``parent``; every item taken from the parent becomes inherited."""
    out = dict(child)
    for key in _SINGLE_KEYS:
        if key not in child and key in parent:
            out[key] = _inherit(parent[key])
    for key in _KEYED:
        merged = {k: _inherit(v) for k, v in parent.get(key, {}).items()}
        out[key] = {**merged, **child.get(key, {})}
    return out


def _build(path: Path, layers: list[dict[str, Any]]) -> Profile:
    merged = layers[0]
    for layer in layers[1:]:
        merged = _merge(merged, layer)
    _require(merged, path, layers)
    return Profile(
        name=merged["name"],
        name_zh=merged["name_zh"],
        description=merged["description"],
        path=path,
        chain=tuple(layer["name"] for layer in reversed(layers)),
        documents=MappingProxyType(merged["documents"]),
        **{key: merged[key] for key in _SINGLE_KEYS},
        **{key: MappingProxyType(merged[key]) for key in _KEYED},
    )


def _require(merged: dict[str, Any], path: Path, layers: list[dict[str, Any]]) -> None:
    """Check the resolved profile states every required value somewhere in its chain."""
    chain = " -> ".join(layer["name"] for layer in reversed(layers))
    needed = [k for k in _SINGLE_KEYS if k not in merged]
    needed += [f"circle_minutes.{k}" for k in AREA_TYPES if k not in merged["circle_minutes"]]
    needed += [
        f"area_per_100hh.{k}" for k in COMMUNITY_STATUSES if k not in merged["area_per_100hh"]
    ]
    if needed:
        msg = (
            f"{path}: missing key '{needed[0]}' "
            f"(also missing: {', '.join(needed[1:]) or 'nothing'}); "
            f"no profile in the chain {chain} states it. Add it to the file, or set "
            f'inherits = "national" under [profile]; see docs/standards.md.'
        )
        raise InputError(msg)


# --------------------------------------------------------------------------- helpers


def _check_choice(value: Any, options: Any, key: str, where: str) -> None:
    if value not in options:
        msg = f"{where}: {key} = {value!r} is not valid; use one of {', '.join(options)}."
        raise InputError(msg)


def _as_object(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _missing(values: np.ndarray) -> np.ndarray:
    """Return True where a value is missing (None, NaN, pd.NA or an empty string)."""
    blank = np.array([isinstance(v, str) and not v.strip() for v in values.ravel()], dtype=bool)
    return np.asarray(pd.isna(values), dtype=bool) | blank.reshape(values.shape)


def _normalise(values: Any, options: tuple[str, ...], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(lower-cased strings, missing mask)``; raise on a value not in ``options``."""
    arr = _as_object(values)
    missing = _missing(arr)
    clean = np.array(
        [
            str(v).strip().lower() if not m else ""
            for v, m in zip(arr.ravel(), missing.ravel(), strict=True)
        ],
        dtype=object,
    ).reshape(arr.shape)
    bad = ~missing & ~np.isin(clean, options)
    if bad.any():
        examples = sorted({str(v) for v in arr[bad]})[:5]
        msg = (
            f"{key} must be one of {', '.join(options)} (or empty); got {examples} in "
            f"{int(bad.sum())} row(s). Fix the {key} column."
        )
        raise InputError(msg)
    return clean, missing


def _scalar_or_array(result: np.ndarray, like: Any) -> Any:
    return result.item() if np.ndim(like) == 0 else result


def _rule_for(status: str, profile: Profile) -> AreaRule:
    return profile.area_per_100hh[status]


def required_m2_per_100hh(status: str | Any, profile: Profile) -> float | np.ndarray:
    """Return the minimum floor area for each status, m² per 100 households.

    Parameters
    ----------
    status
        ``"new"`` or ``"old"``, or an array of them (run :func:`infer_status` first).
    profile
        The standards profile.

    Returns
    -------
    float or numpy.ndarray
        ``area_per_100hh[status].min_m2`` (under the profile's reading), a float for a
        scalar status and a float array otherwise. For a range (Wanzhou 20–30) this is
        the lower end: meeting the minimum meets the standard.
    """
    clean, missing = _normalise(status, COMMUNITY_STATUSES, "status")
    if missing.any():
        msg = "status is missing in some rows; run infer_status() first to fill it."
        raise InputError(msg)
    lookup = {s: _rule_for(s, profile).min_m2 for s in COMMUNITY_STATUSES}
    result = np.vectorize(lookup.__getitem__, otypes=[float])(clean)
    return _scalar_or_array(result, status)


def required_m2(households: Any, status: str | Any, profile: Profile) -> float | np.ndarray:
    """Return the floor area a community needs, m² (households × minimum / 100).

    Parameters
    ----------
    households
        Number of households (户), scalar or array.
    status
        ``"new"``/``"old"``, scalar or array broadcastable with ``households``.
    profile
        The standards profile.

    Returns
    -------
    float or numpy.ndarray
        Required floor area, m². E.g. 250 old households in Jinzhong: 15 × 250 / 100 = 37.5.
    """
    per_100 = required_m2_per_100hh(status, profile)
    result = np.asarray(households, dtype=float) * np.asarray(per_100) / 100.0
    return _scalar_or_array(result, result)


def _years(completion_year: Any) -> tuple[np.ndarray, np.ndarray]:
    arr = _as_object(completion_year)
    missing = _missing(arr)
    numbers = pd.to_numeric(pd.Series(arr.ravel()), errors="coerce").to_numpy(dtype=float)
    numbers = numbers.reshape(arr.shape)
    bad = ~missing & ~np.isfinite(numbers)
    if bad.any():
        examples = sorted({str(v) for v in arr[bad]})[:5]
        msg = (
            f"completion_year must be a year such as 2016 (or empty); got {examples} in "
            f"{int(bad.sum())} row(s). Fix the completion_year column."
        )
        raise InputError(msg)
    return numbers, missing


def _status_parts(completion_year: Any, status: Any) -> tuple[np.ndarray, ...]:
    if completion_year is None and status is None:
        msg = (
            "infer_status needs completion_year or status (or both); with neither column "
            "every community is 'old' - build that array directly."
        )
        raise InputError(msg)
    like = status if completion_year is None else completion_year
    shape = np.shape(like) if status is None or completion_year is None else None
    status_arr = np.full(shape, None, dtype=object) if status is None else status
    year_arr = np.full(shape, None, dtype=object) if completion_year is None else completion_year
    clean, no_status = _normalise(status_arr, COMMUNITY_STATUSES, "status")
    years, no_year = _years(year_arr)
    return tuple(np.broadcast_arrays(clean, no_status, years, no_year))


def infer_status(completion_year: Any, status: Any, profile: Profile) -> np.ndarray:
    """Return each community's status, ``"new"`` or ``"old"``.

    An explicit ``status`` wins. Otherwise a ``completion_year`` at or after
    ``profile.new_build_from_year`` means new-build, earlier means old. A row with
    neither is ``"old"``: the old-district floor (15 m² per 100 households nationally) is the
    lower requirement, so an unknown community is never held to a standard it may not be
    subject to; the caller should flag such rows (see :func:`status_basis`).

    Parameters
    ----------
    completion_year
        Completion year per community (array-like, missing as None/NaN), or None.
    status
        ``"new"``/``"old"`` per community (array-like, missing as None/NaN/""), or None.
    profile
        The standards profile (gives ``new_build_from_year``).

    Returns
    -------
    numpy.ndarray
        Array of ``"new"``/``"old"`` with the broadcast shape of the inputs.
    """
    clean, no_status, years, no_year = _status_parts(completion_year, status)
    cutoff = profile.new_build_from_year.value
    with np.errstate(invalid="ignore"):
        by_year = np.where(~no_year & (years >= cutoff), "new", "old")
    return np.where(~no_status, clean, by_year).astype(str)


def status_basis(completion_year: Any, status: Any) -> np.ndarray:
    """Return how :func:`infer_status` decided each row.

    Returns
    -------
    numpy.ndarray
        ``"status"`` (given explicitly), ``"completion_year"`` (from the cut-off year) or
        ``"default"`` (neither given: ``"old"`` was assumed; flag these rows in reports).
    """
    _, no_status, _, no_year = _status_parts(completion_year, status)
    return np.where(~no_status, "status", np.where(~no_year, "completion_year", "default"))


def circle_minutes(area_type: str | Any, profile: Profile) -> float | np.ndarray:
    """Return the service-circle budget for each community, minutes.

    Parameters
    ----------
    area_type
        ``"urban"``/``"rural"``, scalar or array. A missing value counts as ``"urban"``
        (the circle GB 50180-2018 defines, and the shorter budget where a profile differs).
    profile
        The standards profile.

    Returns
    -------
    float or numpy.ndarray
        Minutes (e.g. Wanzhou: 15 urban, 25 rural).
    """
    clean, missing = _normalise(area_type, AREA_TYPES, "area_type")
    clean = np.where(missing, "urban", clean)
    lookup = {a: profile.circle_minutes[a].value for a in AREA_TYPES}
    result = np.vectorize(lookup.__getitem__, otypes=[float])(clean)
    return _scalar_or_array(result, area_type)


def circle_distance_m(area_type: str | Any, profile: Profile) -> float | np.ndarray:
    """Return the walking distance of each community's circle, m (minutes × 60 × m/s)."""
    minutes = np.asarray(circle_minutes(area_type, profile), dtype=float)
    result = minutes * 60.0 * profile.walking_speed_m_s.value
    return _scalar_or_array(result, area_type)


def _position(value: float, status: str, profile: Profile) -> str:
    rule = _rule_for(status, profile)
    lo, hi = _fmt(rule.min_m2), _fmt(rule.max_m2)
    what = "range" if rule.max_m2 is not None else "minimum"
    inherited = ", inherited" if rule.inherited else ""
    label = f"({rule.origin} {_STATUS_LABELS[status][1]} {what}{inherited})"
    if not math.isfinite(value):
        return f"no value {label}"
    shown = f"{value:.1f}"
    if value < rule.min_m2:
        return f"{shown} below {lo} {label}"
    if rule.max_m2 is None:
        return f"{shown} meets ≥ {lo} {label}"
    if value <= rule.max_m2:
        return f"{shown} within {lo}–{hi} {label}"
    return f"{shown} above {lo}–{hi}, meets {label}"


def range_position(
    value_m2_per_100hh: Any, status: str | Any, profile: Profile
) -> str | np.ndarray:
    """Say where a floor area sits against the standard for its status.

    Parameters
    ----------
    value_m2_per_100hh
        Floor area, m² per 100 households (scalar or array).
    status
        ``"new"``/``"old"`` (scalar or array).
    profile
        The standards profile.

    Returns
    -------
    str or numpy.ndarray
        Text per value, e.g. ``"22.0 within 20–30 (wanzhou new-build range)"``,
        ``"12.0 below 20 (wanzhou new-build range)"``, ``"35.0 above 20–30, meets (...)"``
        (more than the range asks), ``"16.0 meets ≥ 15 (national old/built-up minimum,
        inherited)"`` or ``"no value (...)"`` for NaN.
    """
    clean, missing = _normalise(status, COMMUNITY_STATUSES, "status")
    if missing.any():
        msg = "status is missing in some rows; run infer_status() first to fill it."
        raise InputError(msg)
    values = np.asarray(value_m2_per_100hh, dtype=float)
    func = np.vectorize(lambda v, s: _position(float(v), str(s), profile), otypes=[object])
    result = func(values, clean)
    return _scalar_or_array(result, result)


def counts_towards_area(kind: str | Any, profile: Profile) -> bool | np.ndarray:
    """Return True for facility kinds that count towards floor area per 100 households."""
    result = np.isin(_as_object(kind), profile.area_counted_kinds.kinds)
    return _scalar_or_array(result, kind)


def facility_minimum_m2(
    kind: str | Any, profile: Profile, *, few_elderly: bool = False
) -> float | np.ndarray:
    """Return the minimum floor area of each facility kind, m² (NaN where none is stated).

    Parameters
    ----------
    kind
        Facility kind(s), see :data:`planner.schema.FACILITY_KINDS`.
    profile
        The standards profile.
    few_elderly
        Use ``min_m2_small`` where the profile states one (Wanzhou stations: 200 m² in
        communities with few elderly instead of 300 m²).
    """

    def one(k: object) -> float:
        rule = profile.facility_min_m2.get(str(k))
        if rule is None:
            return math.nan
        if few_elderly and rule.min_m2_small is not None:
            return rule.min_m2_small
        return rule.min_m2

    result = np.vectorize(one, otypes=[float])(_as_object(kind))
    return _scalar_or_array(result, kind)
