"""Rules a profile applies to each community or facility: status, requirement, circle, size.

Units: floor area in m² per 100 households (``_m2_per_100hh``), facility sizes in m²,
circles in minutes, walking speed in m/s.
"""

# Report text is bilingual: en dashes in ranges and ≥ are intended.

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from planner._errors import InputError
from planner.labels import COMMUNITY_STATUS_LABELS
from planner.schema import AREA_TYPES, COMMUNITY_STATUSES
from planner.standards.model import AreaRule, Profile
from planner.standards.text import _fmt
from planner.units import metres_for_minutes


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
    shape = np.shape(like)
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
    result = metres_for_minutes(minutes, profile.walking_speed_m_s.value)
    return _scalar_or_array(result, area_type)


def _position(value: float, status: str, profile: Profile) -> str:
    rule = _rule_for(status, profile)
    lo, hi = _fmt(rule.min_m2), _fmt(rule.max_m2)
    what = "range" if rule.max_m2 is not None else "minimum"
    inherited = ", inherited" if rule.inherited else ""
    label = f"({rule.origin} {COMMUNITY_STATUS_LABELS[status][1]} {what}{inherited})"
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
        (more than the range asks), ``"16.0 meets ≥ 15 (national old district / built-up minimum,
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
    kind: str | Any, profile: Profile, *, few_elderly: Any = False
) -> float | np.ndarray:
    """Return the minimum floor area of each facility kind, m² (NaN where none is stated).

    Subsidy thresholds (``purpose = "subsidy"``, e.g. Wanzhou's 1,500 / 800 m² for centres
    built by social investors) are not minimum sizes: NaN for them.

    Parameters
    ----------
    kind
        Facility kind(s), see :data:`planner.schema.FACILITY_KINDS`.
    profile
        The standards profile.
    few_elderly
        Use ``min_m2_small`` where the profile states one (Wanzhou stations: 200 m² in
        communities with few elderly instead of 300 m²); a bool or one per kind.
    """

    def one(k: object, few: object) -> float:
        rule = profile.facility_min_m2.get(str(k))
        if rule is None or not rule.is_minimum:
            return math.nan
        if bool(few) and rule.min_m2_small is not None:
            return rule.min_m2_small
        return rule.min_m2

    result = np.vectorize(one, otypes=[float])(_as_object(kind), _as_object(few_elderly))
    return _scalar_or_array(result, kind)


def few_elderly(elderly: Any, profile: Profile) -> np.ndarray:
    """Return True where a community (社区) has few elderly, False where not, None if unknown.

    Parameters
    ----------
    elderly
        Elderly residents (60+) of each community, people (NaN when unknown).
    profile
        Gives ``few_elderly_below`` (an assumption where the text states no number).

    Returns
    -------
    numpy.ndarray
        Object array of True/False/None; all None when the profile states no threshold.
    """
    values = np.asarray(pd.to_numeric(pd.Series(_as_object(elderly).ravel()), errors="coerce"),
                        dtype=float)
    out = np.full(values.shape, None, dtype=object)
    if profile.few_elderly_below is None:
        return out
    known = np.isfinite(values)
    out[known] = values[known] < profile.few_elderly_below.value
    return out
