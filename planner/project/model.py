"""What a reviewer checks: a new residential project and its planned facility.

A :class:`Project` is one row of the review: the site (boundary polygon or point, in the
district's metric CRS), its households, new-build or old-district renovation, its planned
elderly-care facility (or none) and the dates of the four synchronisations. :func:`make_project`
validates raw values (from the command line or one row of a projects file) and raises
:class:`~planner._errors.InputError` naming the field, the value and the fix.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from planner._errors import InputError
from planner.io.tables import is_blank
from planner.schema import AREA_TYPES, COMMUNITY_STATUSES, FACILITY_KINDS

#: Where a planned facility sits: inside the project's site or outside it.
FACILITY_LOCATIONS = ("inside", "outside")
#: The dates of the four synchronisations, in the order a project passes them.
DATE_FIELDS: dict[str, tuple[str, str]] = {
    "planning_approval": ("规划审批（规划条件/许可）日期", "planning approval date"),
    "housing_completion": ("住宅竣工验收日期", "housing completion (acceptance) date"),
    "facility_acceptance": ("养老服务设施验收日期", "facility acceptance date"),
    "handover": ("设施移交民政部门日期", "facility hand-over date"),
}
#: Most households one project may have (as for communities in planner.io).
MAX_HOUSEHOLDS = 200_000


@dataclass(frozen=True)
class Dates:
    """The project's dates; ``None`` where not given (that check is "not checked")."""

    planning_approval: dt.date | None = None
    housing_completion: dt.date | None = None
    facility_acceptance: dt.date | None = None
    handover: dt.date | None = None

    def to_dict(self) -> dict[str, str | None]:
        """ISO dates (``None`` where missing)."""
        return {k: (None if (v := getattr(self, k)) is None else v.isoformat())
                for k in DATE_FIELDS}


@dataclass(frozen=True)
class PlannedFacility:
    """The elderly-care facility the project plans (配建).

    Attributes
    ----------
    floor_area_m2
        Building floor area, m² (> 0).
    kind
        Facility kind (:data:`planner.schema.FACILITY_KINDS`), default ``station``.
    location
        ``inside`` the site or ``outside`` it.
    point
        Where it is, metric CRS; ``None`` means the site's representative point (inside).
    """

    floor_area_m2: float
    kind: str = "station"
    location: str = "inside"
    point: BaseGeometry | None = None


@dataclass(frozen=True)
class Project:
    """A new residential project under review.

    Attributes
    ----------
    project_id, name
        Identity (the id is used in tables; it must not clash with a community id).
    households
        Households (户) of the project, > 0.
    status
        ``new`` (新建住宅小区) or ``old`` (old-district renovation).
    geometry
        Boundary polygon or point, metric CRS of the district's network.
    area_type
        ``urban`` or ``rural`` (chooses the circle minutes).
    gates
        Gate points (metric CRS); empty: entered from every street along the boundary.
    facility
        The planned facility, or ``None`` when the project plans none.
    few_elderly
        The community has few elderly (Wanzhou's 200 m² station minimum applies).
    elderly
        Elderly residents (60+) expected, people, or ``None``; compared with the
        profile's ``few_elderly_below`` when ``few_elderly`` is not given.
    dates
        Planning approval, housing completion, facility acceptance and hand-over dates.
    """

    project_id: str
    households: int
    status: str
    geometry: BaseGeometry
    name: str = ""
    area_type: str = "urban"
    gates: tuple[BaseGeometry, ...] = ()
    facility: PlannedFacility | None = None
    few_elderly: bool = False
    elderly: int | None = None
    dates: Dates = field(default_factory=Dates)

    @property
    def site_point(self) -> BaseGeometry:
        """Where the project's facility is (or, without one, a point inside the site)."""
        if self.facility is not None and self.facility.point is not None:
            return self.facility.point
        return self.geometry.representative_point()


# ------------------------------------------------------------------------- parsing


def _bad(where: str, field_name: str, value: Any, problem: str) -> InputError:
    return InputError(f"{where}: {field_name} = {value!r}: {problem}.")


def parse_number(value: Any, field_name: str, where: str, *, units: tuple[str, ...] = ()) -> float:
    """Read a number (thousands separators and unit suffixes such as 户, m², ㎡ removed)."""
    if isinstance(value, bool):
        raise _bad(where, field_name, value, "must be a number")
    if isinstance(value, int | float):
        out = float(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
        for unit in units:
            text = text.removesuffix(unit).strip()
        try:
            out = float(text)
        except ValueError:
            raise _bad(where, field_name, value, "must be a number") from None
    if not math.isfinite(out) or out < 0:
        raise _bad(where, field_name, value, "must be a number of zero or more")
    return out


def parse_households(value: Any, where: str) -> int:
    """Households: a whole number from 1 to :data:`MAX_HOUSEHOLDS`."""
    if is_blank(value):
        raise _bad(where, "households", value, "is required (户数 of the project)")
    n = parse_number(value, "households", where, units=("户",))
    if n < 1 or not float(n).is_integer() or n > MAX_HOUSEHOLDS:
        raise _bad(where, "households", value,
                   f"must be a whole number from 1 to {MAX_HOUSEHOLDS:,}")
    return int(n)


def parse_choice(value: Any, options: tuple[str, ...], field_name: str, where: str,
                 default: str | None = None, synonyms: dict[str, str] | None = None) -> str:
    """One of ``options`` (case-insensitive; Chinese synonyms allowed)."""
    if is_blank(value):
        if default is None:
            raise _bad(where, field_name, value, f"is required: one of {', '.join(options)}")
        return default
    text = str(value).strip().lower()
    text = (synonyms or {}).get(text, text)
    if text not in options:
        raise _bad(where, field_name, value, f"must be one of {', '.join(options)}")
    return text


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: Any, field_name: str, where: str) -> dt.date | None:
    """A date as ``2024-05-01``, ``2024/5/1``, ``2024年5月1日`` or a spreadsheet date."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()  # type: ignore[no-any-return]
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = text.split(" ")[0].split("T")[0] if re.match(r"^\d{4}-\d{2}-\d{2}[ T]", text) else text
    match = _DATE_RE.match(text)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise _bad(where, field_name, value, "is not a date; write it as YYYY-MM-DD (e.g. 2025-06-30)")


_STATUS_SYNONYMS = {"新建": "new", "新建住宅小区": "new", "老旧": "old", "老旧小区": "old",
                    "改造": "old", "旧改": "old", "老旧小区改造": "old"}
_AREA_SYNONYMS = {"城市": "urban", "城镇": "urban", "农村": "rural"}
_LOCATION_SYNONYMS = {"内": "inside", "小区内": "inside", "项目内": "inside",
                      "外": "outside", "小区外": "outside", "项目外": "outside"}


def make_project(
    *,
    project_id: Any,
    households: Any,
    geometry: BaseGeometry | None,
    status: Any = "new",
    name: Any = "",
    area_type: Any = None,
    gates: tuple[BaseGeometry, ...] = (),
    facility_m2: Any = None,
    facility_kind: Any = None,
    facility_location: Any = None,
    facility_point: BaseGeometry | None = None,
    few_elderly: Any = False,
    elderly: Any = None,
    dates: dict[str, Any] | None = None,
    where: str = "project",
) -> Project:
    """Build a :class:`Project` from raw values, checking each.

    Parameters
    ----------
    project_id, households, status, name, area_type
        As in :class:`Project`; ``households`` may carry 户 and thousands separators.
    geometry
        Boundary or point in the district's metric CRS.
    gates
        Gate points, metric CRS.
    facility_m2
        Planned floor area, m²; missing or 0 means no facility.
    facility_kind, facility_location, facility_point
        Kind (default ``station``), ``inside``/``outside`` (default inside), and where
        (required when outside; default the site's representative point).
    few_elderly
        True where the community has few elderly.
    elderly
        Elderly residents (60+), people (optional).
    dates
        Raw values of :data:`DATE_FIELDS`.
    where
        Named in error messages (``"row 5 of projects.csv"``).

    Raises
    ------
    InputError
        A missing or bad value, naming ``where``, the field and the value.
    """
    if is_blank(project_id):
        raise _bad(where, "project_id", project_id, "is required")
    if geometry is None or shapely.is_empty(geometry):
        raise _bad(where, "geometry", None, "no site: give a boundary or lon/lat")
    hh = parse_households(households, where)
    state = parse_choice(status, COMMUNITY_STATUSES, "status", where, default="new",
                         synonyms=_STATUS_SYNONYMS)
    area = parse_choice(area_type, AREA_TYPES, "area_type", where, default="urban",
                        synonyms=_AREA_SYNONYMS)
    m2 = 0.0 if is_blank(facility_m2) else parse_number(
        facility_m2, "facility_m2", where, units=("平方米", "m²", "m2", "㎡"))
    facility = None
    if m2 > 0:
        kind = parse_choice(facility_kind, tuple(FACILITY_KINDS), "facility_kind", where,
                            default="station")
        location = parse_choice(facility_location, FACILITY_LOCATIONS, "facility_location",
                                where, default="inside", synonyms=_LOCATION_SYNONYMS)
        if location == "outside" and facility_point is None:
            raise _bad(where, "facility_location", "outside",
                       "give the facility's lon/lat (facility_lon, facility_lat)")
        facility = PlannedFacility(m2, kind, location, facility_point)
    raw_dates = dates or {}
    unknown = set(raw_dates) - set(DATE_FIELDS)
    if unknown:
        raise _bad(where, "dates", sorted(unknown), f"known dates: {', '.join(DATE_FIELDS)}")
    parsed = Dates(**{k: parse_date(raw_dates.get(k), k, where) for k in DATE_FIELDS})
    _check_date_order(parsed, where)
    return Project(
        project_id=str(project_id).strip(), households=hh, status=state, geometry=geometry,
        name="" if is_blank(name) else str(name).strip(), area_type=area, gates=tuple(gates),
        facility=facility, few_elderly=_flag(few_elderly, "few_elderly", where),
        elderly=None if is_blank(elderly) else int(parse_number(elderly, "elderly", where,
                                                                 units=("人",))),
        dates=parsed,
    )


def _flag(value: Any, field_name: str, where: str) -> bool:
    if is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "是", "1.0"):
        return True
    if text in ("0", "false", "no", "n", "否", "0.0"):
        return False
    raise _bad(where, field_name, value, "must be yes/no (true/false, 是/否)")


def _check_date_order(dates: Dates, where: str) -> None:
    """Hand-over cannot precede acceptance; completion cannot precede approval."""
    pairs = (("planning_approval", "housing_completion"),
             ("facility_acceptance", "handover"))
    for early, late in pairs:
        a, b = getattr(dates, early), getattr(dates, late)
        if a is not None and b is not None and b < a:
            raise _bad(where, late, b.isoformat(),
                       f"is before {early} ({a.isoformat()}); check the dates")
