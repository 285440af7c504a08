"""The profile's data model: documents, sources, stated values and the resolved profile.

Every value carries its :class:`Source` (document id, clause and the quoted Chinese text)
and whether it is stated by the profile, inherited from a parent, or an assumption of the
planner's authors. Targets live in :mod:`planner.standards.targets`.
"""

# Report text is bilingual: full-width Chinese punctuation, en dashes in ranges and the
# multiplication sign in formulas are intended.

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from planner._errors import InputError
from planner.schema import COMMUNITY_STATUSES

if TYPE_CHECKING:
    from planner.standards.targets import Target

#: Folder of the built-in profiles (package data).
PROFILE_DIR = Path(__file__).parent / "profiles"

#: How a value written per household is read: factor to m² per 100 households.
READINGS: dict[str, float] = {"per_100_households": 1.0, "literal": 100.0}
#: Units a floor-area value may be written in (``unit_as_written``).
UNITS_AS_WRITTEN = ("per_100_households", "per_household")

_COMMON_KEYS = ("source", "assumption", "note", "note_zh", "alternative")


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
    authors rather than read from a document; ``note``/``note_zh`` explain it;
    ``alternative`` is the reading not chosen (printed in docs/standards.md).
    """

    source: Source
    origin: str
    inherited: bool = False
    assumption: bool = False
    note: str = ""
    note_zh: str = ""
    alternative: str = ""

    def _meta_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "stated_by": self.origin,
            "inherited": self.inherited,
            "inherited_from": self.origin if self.inherited else None,
            "assumption": self.assumption,
            "note": self.note,
            "note_zh": self.note_zh,
            "alternative": self.alternative,
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
class FacilityMin(_Stated):
    """A floor-area size of one facility kind, m²; ``min_m2_small`` where few elderly live.

    ``purpose`` is ``"minimum"`` (a stated minimum size: ``meets_min_size``) or
    ``"subsidy"`` (the size from which a construction subsidy is paid, e.g. Wanzhou's
    1,500 / 800 m² for centres built by social investors: reported, never a minimum).
    """

    kind: str
    min_m2: float
    min_m2_small: float | None = None
    purpose: str = "minimum"

    @property
    def is_minimum(self) -> bool:
        """True for a minimum size; False for a subsidy threshold (not a minimum)."""
        return self.purpose == "minimum"

    def to_dict(self) -> dict[str, Any]:
        """Return the sizes, purpose, source and inherited flag as a JSON-ready dict."""
        sizes = {"kind": self.kind, "min_m2": self.min_m2, "min_m2_small": self.min_m2_small,
                 "purpose": self.purpose}
        return {**sizes, **self._meta_dict()}


@dataclass(frozen=True, kw_only=True)
class KindList(_Stated):
    """Facility kinds that count towards floor area per 100 households."""

    kinds: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the kinds, source and inherited flag as a JSON-ready dict."""
        return {"kinds": list(self.kinds), **self._meta_dict()}


@dataclass(frozen=True, kw_only=True)
class Pooling(_Stated):
    """Whether small estates may meet the on-site allocation together (统筹配建).

    ``allowed`` True: estates that share a ``pooling_group`` in the input are judged on
    their summed own facility area against their summed requirement.
    """

    allowed: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the rule, source and inherited flag as a JSON-ready dict."""
        return {"allowed": self.allowed, **self._meta_dict()}


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
    few_elderly_below
        A community (社区) with fewer elderly (60+) than this has "few elderly" and its
        station may be smaller (``min_m2_small``); None where no profile states one.
    allocation_pooling
        Whether small estates may meet the on-site allocation together; None: no pooling.
    small_estate_below_households
        An estate with fewer households is "small" and pools with the estates its polygon
        touches, where pooling is allowed and no ``pooling_group`` is given; None: only
        explicit groups pool.
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
    few_elderly_below: Value | None = None
    small_estate_below_households: Value | None = None
    allocation_pooling: Pooling | None = None

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
        from planner.standards.text import (  # noqa: PLC0415  (text imports this module)
            _assumption_line,
            _due_line,
            _inherited_lines,
            _range_line,
            _reading_line,
        )

        lines = [_reading_line(self, r) for r in self.area_per_100hh.values()]
        lines += [_range_line(r) for r in self.area_per_100hh.values()]
        lines += [_assumption_line(key, item) for key, item in self.items() if item.assumption]
        lines += [_due_line(t) for t in self.targets.values() if t.due_assumption]
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
            "few_elderly_below": (self.few_elderly_below.to_dict()
                                  if self.few_elderly_below else None),
            "allocation_pooling": (self.allocation_pooling.to_dict()
                                   if self.allocation_pooling else None),
            "small_estate_below_households": (self.small_estate_below_households.to_dict()
                                              if self.small_estate_below_households else None),
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
        if self.few_elderly_below is not None:
            items += [("few_elderly_below", self.few_elderly_below)]
        if self.allocation_pooling is not None:
            items += [("allocation_pooling", self.allocation_pooling)]
        if self.small_estate_below_households is not None:
            items += [("small_estate_below_households", self.small_estate_below_households)]
        items += [(f"targets.{k}", v) for k, v in self.targets.items()]
        return items




def _check_choice(value: Any, options: Any, key: str, where: str) -> None:
    if value not in options:
        msg = f"{where}: {key} = {value!r} is not valid; use one of {', '.join(options)}."
        raise InputError(msg)
