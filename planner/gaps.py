"""District targets: value, threshold, pass or fail, deadline, and a year-by-year timeline.

A target is data (:class:`planner.standards.Target`): a measure over a unit (estate, 社区,
street, county, facility, bed), a filter, the qualifying facility kinds, a reading
(present in the unit, or within the walking circle), a threshold and a due date. This
module computes it from the assessed communities, the facilities and the ``costs`` table.
Nothing passes silently: a target with nothing to count is "n/a", a target missing an input
column is "not computable: missing column X", and a target computed on a proxy unit (estates
standing in for 社区 when there is no ``shequ`` column) says so.

Both weightings are reported: by count of units (``value``) and by households
(``value_households``: households in estates that are themselves covered for
``within_circle``, households in covered units for ``present_in_unit``). The other
reading is computed beside the chosen one (``value_alternative``).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.schema import SERVICE_STATUSES
from planner.standards import Target, due_status

#: Tolerance on a share (a value printed as 100.0 % never fails a 100 % target by rounding).
_EPS = 1e-12
#: Columns of ``targets.csv`` in order: the first ten are the original contract.
TARGET_COLUMNS = (
    "id", "metric", "label_zh", "label_en", "numerator", "denominator", "value", "threshold",
    "passed", "source", "measure", "unit", "unit_used", "filter", "kinds", "reading",
    "households_numerator", "households_denominator", "value_households",
    "alternative_reading", "value_alternative", "due", "due_year", "as_of", "due_status",
    "verdict", "computable", "assumptions", "note",
)
_STUDY_AREA = "(study area)"


def _missing(frame: pd.DataFrame, column: str) -> bool:
    """True when ``column`` is absent or holds no value at all."""
    if column not in frame:
        return True
    values = frame[column]
    return not bool((values.notna() & (values.astype(str).str.strip() != "")).any())


class _NotComputable(Exception):
    """A target needs a column the inputs do not have."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


@dataclass
class _Outcome:
    """One target's counts."""

    numerator: float
    denominator: float
    households_numerator: float = float("nan")
    households_denominator: float = float("nan")
    value_alternative: float = float("nan")
    unit_used: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class _Inputs:
    communities: pd.DataFrame
    facilities: pd.DataFrame
    costs: pd.DataFrame
    pair_fac: np.ndarray = field(init=False)
    pair_comm: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        """Positions of each pair's facility and estate (pairs of others are dropped)."""
        fac = _positions(self.facilities.index, self.costs["facility_id"])
        comm = _positions(self.communities.index, self.costs["community_id"])
        ok = (fac >= 0) & (comm >= 0)
        self.pair_fac, self.pair_comm = fac[ok], comm[ok]


def _positions(index: pd.Index, values: Any) -> np.ndarray:
    """Position of each value in ``index`` (-1 where absent), hashing object arrays."""
    lookup = pd.Index(np.asarray(index, dtype=object))
    return np.asarray(lookup.get_indexer(np.asarray(values, dtype=object)), dtype=np.int64)


# --------------------------------------------------------------------------- selections


def _need(frame: pd.DataFrame, column: str) -> None:
    if _missing(frame, column):
        raise _NotComputable(column)


def _qualifying(fac: pd.DataFrame, target: Target) -> pd.Series:
    """True for facilities of a qualifying kind (and level, for ``kind@level``)."""
    mask = pd.Series(False, index=fac.index)
    for kind, level in target.kind_levels():
        sel = fac["kind"] == kind
        if level is not None and sel.any():  # the level matters only if there are any
            _need(fac, "level")
            sel &= fac["level"] == level
        mask |= sel
    return mask


def _estate_filter(comm: pd.DataFrame, target: Target, notes: list[str]) -> pd.Series:
    """True/False per estate for the target's filter; NaN where it cannot be told."""
    keep = pd.Series(1.0, index=comm.index)
    for key, value in target.filter:
        if key == "area_type":
            _need(comm, "area_type")
            known = comm["area_type_basis"] == "given" if "area_type_basis" in comm else True
            col = comm["area_type"].where(known)
            if col.isna().any():
                notes.append(f"{int(col.isna().sum())} estates without area_type left out")
        elif key == "street_type":
            if _missing(comm, "street_type"):
                _need(comm, "area_type")
                col = comm["area_type"].map({"urban": "street", "rural": "township"})
                notes.append("street_type taken from area_type (urban → 街道, rural → 乡镇): "
                             "no street_type column (assumption)")
            else:
                col = comm["street_type"]
        else:
            col = comm[key]
        keep = keep.where(col.isna(), keep * (col == value))
        keep[col.isna()] = np.nan
    return keep


def _unit_keys(comm: pd.DataFrame, unit: str, notes: list[str]) -> pd.Series:
    if unit == "estate":
        return pd.Series(comm.index.astype(str), index=comm.index)
    if unit == "county" and _missing(comm, "county"):
        notes.append("no county column: the study area is taken as one county (assumption)")
        return pd.Series(_STUDY_AREA, index=comm.index)
    _need(comm, unit)
    return _as_text(comm[unit])


def _as_text(values: pd.Series) -> pd.Series:
    """Values as Python strings (object dtype: fast hashing), missing as None."""
    out = values.astype(object)
    return out.where(values.isna(), out.astype(str)).where(values.notna(), None)


def _facility_keys(fac: pd.DataFrame, unit: str) -> pd.Series:
    column = {"estate": "serves_community_id"}.get(unit, unit)
    if unit == "county" and _missing(fac, "county"):
        return pd.Series(_STUDY_AREA, index=fac.index)
    if len(fac):
        _need(fac, column)
    return _as_text(fac[column]) if column in fac else pd.Series(dtype=object)


# --------------------------------------------------------------------------- measures


def _unit_has(data: _Inputs, target: Target, unit: str, reading: str, code: np.ndarray,
              uniques: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: is it covered; per estate: is the estate itself covered."""
    qualifying = _qualifying(data.facilities, target).to_numpy()
    n_units = len(uniques)
    if reading == "present_in_unit":
        present = _facility_keys(data.facilities, unit)[qualifying].dropna().unique()
        found = uniques.get_indexer(np.asarray(present, dtype=object))
        unit_has = np.zeros(n_units, dtype=bool)
        unit_has[found[found >= 0]] = True
        return unit_has, np.where(code >= 0, unit_has[np.maximum(code, 0)], False)
    rows = qualifying[data.pair_fac] if len(qualifying) else np.zeros(0, dtype=bool)
    estate_cov = np.bincount(data.pair_comm[rows], minlength=len(code)) > 0
    inside = estate_cov & (code >= 0)
    return np.bincount(code[inside], minlength=n_units) > 0, estate_cov


def _kept(code: np.ndarray, keep: np.ndarray, hh: np.ndarray, unit: str) -> np.ndarray:
    """Per estate: does it (or, above estates, its unit) pass the filter."""
    if unit == "estate":
        return (code >= 0) & (keep == 1)
    # a unit passes the filter when most of its (classified) households do
    known = (code >= 0) & ~np.isnan(keep)
    n_units = int(code.max()) + 1 if len(code) else 0
    yes = np.bincount(code[known], weights=(keep * hh)[known], minlength=n_units)
    all_hh = np.bincount(code[known], weights=hh[known], minlength=n_units)
    unit_keep = (all_hh > 0) & (yes > 0.5 * all_hh)
    return (code >= 0) & unit_keep[np.maximum(code, 0)]


def _coverage(data: _Inputs, target: Target, unit: str) -> _Outcome:
    comm = data.communities
    notes: list[str] = []
    keys = _unit_keys(comm, unit, notes)
    keep = _estate_filter(comm, target, notes).to_numpy(dtype=float)
    hh = comm["households"].to_numpy(dtype=float)
    code, uniques = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=True)
    uniques = pd.Index(np.asarray(uniques, dtype=object))
    if (code < 0).any():
        notes.append(f"{int((code < 0).sum())} estates without {unit} left out")
    estate_keep = _kept(code, keep, hh, unit)
    kept_units = np.bincount(code[estate_keep], minlength=len(uniques)) > 0
    results = {}
    for reading in ("present_in_unit", "within_circle"):
        try:
            unit_has, estate_cov = _unit_has(data, target, unit, reading, code, uniques)
        except _NotComputable:
            if reading == target.reading:
                raise
            continue
        weighted = estate_cov if reading == "within_circle" else np.where(
            code >= 0, unit_has[np.maximum(code, 0)], False)
        results[reading] = (int((unit_has & kept_units).sum()), int(kept_units.sum()),
                            float(hh[estate_keep & weighted].sum()),
                            float(hh[estate_keep].sum()))
    num, den, hnum, hden = results[target.reading]
    other = next((r for r in results if r != target.reading), None)
    alt = (results[other][0] / results[other][1]
           if other and results[other][1] else float("nan"))
    return _Outcome(num, den, hnum, hden, alt, unit, notes)


def _facility_share(data: _Inputs, target: Target, unit: str) -> _Outcome:
    fac = data.facilities[_qualifying(data.facilities, target)]
    _need(data.facilities, target.attribute)
    values = pd.to_numeric(fac[target.attribute], errors="coerce")
    notes: list[str] = []
    if values.isna().any():
        notes.append(f"{int(values.isna().sum())} facilities without {target.attribute} "
                     "left out")
    values = values.dropna()
    return _Outcome(int((values >= (target.at_least or 0)).sum()), len(values),
                    unit_used=unit, notes=notes)


def _bed_ratio(data: _Inputs, target: Target, unit: str) -> _Outcome:
    fac = data.facilities[_qualifying(data.facilities, target)]
    for column in ("beds", "nursing_beds"):
        _need(data.facilities, column)
    beds = pd.to_numeric(fac["beds"], errors="coerce")
    nursing = pd.to_numeric(fac["nursing_beds"], errors="coerce")
    both = beds.notna() & nursing.notna()
    notes = ([f"{int((~both).sum())} facilities without beds or nursing_beds left out"]
             if (~both).any() else [])
    return _Outcome(float(nursing[both].sum()), float(beds[both].sum()), unit_used=unit,
                    notes=notes)


def _allocation(data: _Inputs, target: Target, unit: str) -> _Outcome:
    comm = data.communities
    notes: list[str] = []
    if "allocation_status" not in comm or comm["allocation_status"].eq("not_assessed").all():
        raise _NotComputable("serves_community_id")
    keep = _estate_filter(comm, target, notes).fillna(0).astype(bool)
    sel = comm[keep]
    ok = sel["allocation_status"] == "compliant"
    hh = sel["households"].astype(float)
    return _Outcome(int(ok.sum()), len(sel), float(hh[ok].sum()), float(hh.sum()),
                    unit_used=unit, notes=notes)


#: How each measure is computed. A new measure (beds per elderly, tiers...) is a function
#: ``(inputs, target, unit) -> _Outcome`` registered here and named by a profile's target.
MEASURES: dict[str, Callable[[_Inputs, Target, str], _Outcome]] = {
    "coverage": _coverage,
    "facility_share": _facility_share,
    "bed_ratio": _bed_ratio,
    "allocation": _allocation,
}


# --------------------------------------------------------------------------- evaluation


def _outcome(data: _Inputs, target: Target) -> tuple[_Outcome | None, str]:
    """The target's counts, or None and the missing column."""
    measure = MEASURES[target.measure]
    try:
        return measure(data, target, target.unit), ""
    except _NotComputable as e:
        if target.fallback_unit and e.column == target.unit:
            try:
                out = measure(data, target, target.fallback_unit)
            except _NotComputable as e2:
                return None, e2.column
            out.notes.insert(0, f"proxy: no {target.unit} column, computed on "
                                f"{target.fallback_unit} (the text counts {target.unit})")
            return out, ""
        if e.column == "level":
            return _lower_bound(data, target)
        return None, e.column


def _lower_bound(data: _Inputs, target: Target) -> tuple[_Outcome | None, str]:
    """Without a ``level`` column, judge the target without the ``kind@level`` facilities.

    A pass is then certain (they could only add to it); a fail cannot be told, so the
    target is "not computable: missing column level".
    """
    plain = tuple(k for k in target.kinds if "@" not in k)
    if not plain:
        return None, "level"
    out, missing = _outcome(data, dataclasses.replace(target, kinds=plain))
    if out is None or not out.denominator or \
            out.numerator / out.denominator < target.threshold - _EPS:
        return None, missing or "level"
    left_out = ", ".join(k for k in target.kinds if "@" in k)
    out.notes.insert(0, f"met without {left_out} (no level column): a lower bound")
    return out, ""


def _verdict(passed: bool | None, computable: bool, missing: str, status: str,  # noqa: PLR0911
             due_year: int | None, proxy: bool) -> str:
    if not computable:
        return f"not computable: missing column {missing} / 缺少列 {missing}，无法计算"
    if passed is None:
        return "n/a: nothing to count / 无可计"
    tag = " (proxy)" if proxy else ""
    if passed:
        return f"met{tag} / 达标"
    if status == "past due":
        return f"not met, overdue since {due_year}{tag} / 逾期未达标"
    if status == "due":
        return f"not met, due {due_year}{tag} / 今年到期，未达标"
    if status == "not yet due":
        return f"not met, not yet due ({due_year}){tag} / 未到期，尚未达标"
    return f"not met{tag} / 未达标"


def _assumptions(target: Target) -> str:
    parts = []
    if target.assumption:
        parts.append(target.note or "target reading is an assumption")
    if target.due_assumption:
        parts.append(f"due {target.due} is an assumption (the clause states no year)")
    return "; ".join(parts)


def _row(target: Target, data: _Inputs, as_of: int) -> dict[str, Any]:
    out, missing = _outcome(data, target)
    computable = out is not None
    den = out.denominator if out else 0
    value = out.numerator / den if out and den else float("nan")
    passed = bool(value >= target.threshold - _EPS) if out and den else None
    hden = out.households_denominator if out else float("nan")
    proxy = bool(out and out.unit_used != target.unit)
    status = due_status(target.due_year, as_of)
    other = "within_circle" if target.reading == "present_in_unit" else "present_in_unit"
    return {
        "id": target.id, "metric": target.metric, "label_zh": target.label_zh,
        "label_en": target.label_en,
        "numerator": out.numerator if out else None, "denominator": den if out else None,
        "value": value, "threshold": float(target.threshold), "passed": passed,
        "source": str(target.source), "measure": target.measure, "unit": target.unit,
        "unit_used": out.unit_used if out else "",
        "filter": ", ".join(f"{k}={v}" for k, v in target.filter),
        "kinds": ", ".join(target.kinds), "reading": target.reading,
        "households_numerator": out.households_numerator if out else float("nan"),
        "households_denominator": hden,
        "value_households": (out.households_numerator / hden
                             if out and hden and not math.isnan(hden) else float("nan")),
        "alternative_reading": other if target.measure == "coverage" else "",
        "value_alternative": out.value_alternative if out else float("nan"),
        "due": target.due, "due_year": target.due_year, "as_of": as_of,
        "due_status": status,
        "verdict": _verdict(passed, computable, missing, status, target.due_year, proxy),
        "computable": computable, "assumptions": _assumptions(target),
        "note": "; ".join(out.notes) if out else "",
    }


def evaluate_targets(
    targets: Iterable[Target],
    communities: pd.DataFrame,
    facilities: pd.DataFrame,
    costs: pd.DataFrame,
    *,
    as_of: int | None = None,
) -> pd.DataFrame:
    """Evaluate a profile's targets.

    Parameters
    ----------
    targets
        The profile's :class:`~planner.standards.Target` objects.
    communities
        Assessed estates indexed by ``community_id``: ``households``, ``area_type``
        (``area_type_basis`` = ``given`` marks the ones stated in the input), ``status``,
        ``street``; optional ``shequ``, ``street_type``, ``county``, ``allocation_status``.
    facilities
        The facilities that exist (in the year judged) with ``kind``; ``street``/``shequ``
        for present-in-unit readings (see :func:`fill_facility_units`); optional
        ``level``, ``beds``, ``nursing_beds``, ``serves_community_id``.
    costs
        ``facility_id, community_id`` pairs within each community's walking circle.
    as_of
        The year judged, for ``due_status`` (default: the current year).

    Returns
    -------
    pandas.DataFrame
        One row per target with the columns of :data:`TARGET_COLUMNS`: ``value`` (0–1 by
        count of units; NaN when n/a or not computable), ``passed`` (True/False/None),
        ``value_households``, ``value_alternative`` (the other reading), ``due_status``
        (``no deadline``, ``not yet due``, ``due``, ``past due``) and ``verdict`` (a
        bilingual sentence: met, overdue, not computable: missing column X...).
    """
    as_of = datetime.date.today().year if as_of is None else int(as_of)
    data = _Inputs(pd.DataFrame(communities), pd.DataFrame(facilities), costs)
    rows = [_row(t, data, as_of) for t in targets]
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))


def street_table(communities: pd.DataFrame) -> pd.DataFrame:
    """Per street (街道/乡镇): households and floor area by service status.

    Parameters
    ----------
    communities
        Assessed communities with ``street``, ``area_type``, ``households``,
        ``service_status``, ``required_m2``, ``accessible_m2`` and ``shortfall_m2``.

    Returns
    -------
    pandas.DataFrame
        One row per street (``(no street)`` for communities without one), sorted by
        shortfall: ``street``, ``area_type`` (the most common), ``communities``,
        ``households``, ``households_<status>`` for each status, ``share_households_meets``
        (0–1), ``required_m2``, ``accessible_m2``, ``shortfall_m2``.
    """
    frame = pd.DataFrame(communities).assign(
        street=communities["street"].fillna("(no street)").astype(str))
    grouped = frame.groupby("street", sort=False)
    out = pd.DataFrame({
        "area_type": grouped["area_type"].agg(lambda s: s.mode().iat[0] if len(s) else None),
        "communities": grouped.size(),
        "households": grouped["households"].sum(),
    })
    for status in SERVICE_STATUSES:
        hh = frame["households"].where(frame["service_status"] == status, 0)
        out[f"households_{status}"] = hh.groupby(frame["street"], sort=False).sum()
    out["share_households_meets"] = out["households_meets"] / out["households"]
    for col in ("required_m2", "accessible_m2", "shortfall_m2"):
        out[col] = grouped[col].sum().round(1)
    return out.sort_values("shortfall_m2", ascending=False).reset_index()
