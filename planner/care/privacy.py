"""Privacy of the care data: aggregated counts only, small counts suppressed.

Counts of vulnerable elderly (高龄、独居、空巢、失能) are personal data about vulnerable
people. The planner takes them already aggregated per community (never a list of people)
and every exported file (CSV, GeoPackage, HTML map, ``summary.json``) carries them through
:func:`suppress_counts`: a count under the threshold (5 by default, ``suppress_below`` in
``rules.toml``) is written as the text ``"<5"`` — zero included, so that "nobody" and
"one person" cannot be told apart. Totals are rounded to a multiple of the threshold
(:func:`safe_total`), so a suppressed community's count cannot be recovered exactly by
subtracting the others from a published total. Rates derived from a suppressed count
(places per 100 vulnerable elderly) are withheld too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["CARE_COUNT_COLUMNS", "is_safe", "safe_total", "suppress_counts", "suppressed_label"]

#: Per-community counts of vulnerable elderly, people (input columns and the derived demand).
CARE_COUNT_COLUMNS = ("elderly_80plus", "living_alone", "empty_nest", "disabled",
                      "vulnerable_elderly")


def suppressed_label(threshold: int) -> str:
    """The text written instead of a small count, e.g. ``"<5"``."""
    return f"<{threshold}"


def suppress_counts(frame: pd.DataFrame, columns: Iterable[str], *,
                    threshold: int = 5, withhold: Iterable[str] = ()) -> pd.DataFrame:
    """Return a copy with small counts replaced by ``"<threshold"``.

    Parameters
    ----------
    frame
        Any table (a GeoDataFrame keeps its geometry).
    columns
        Count columns (people); those absent are skipped. A value under ``threshold``
        (0 included) becomes ``"<threshold"``, others become whole numbers; NaN stays
        missing (unknown, not zero).
    threshold
        People; 5 by default.
    withhold
        Columns derived from the counts (rates); set to missing wherever any of
        ``columns`` was suppressed in that row.

    Returns
    -------
    pandas.DataFrame
        The copy; suppressed columns have object dtype.
    """
    out = frame.copy()
    label = suppressed_label(threshold)
    hidden = pd.Series(False, index=frame.index)
    for col in columns:
        if col not in out:
            continue
        numbers = pd.to_numeric(out[col], errors="coerce")
        small = numbers.notna() & (numbers < threshold)
        hidden |= small
        out[col] = pd.Series([label if s else (None if pd.isna(v) else round(float(v)))
                              for s, v in zip(small, numbers, strict=True)],
                             index=out.index, dtype=object)
    for col in withhold:
        if col in out:
            out[col] = out[col].astype(object).where(~hidden, None)
    return out


def safe_total(values: Iterable[float], *, threshold: int = 5) -> int | str | None:
    """A published total of counts: ``"<threshold"`` when small, else a multiple of it.

    Returns ``None`` when no value is known. Rounding to a multiple of ``threshold``
    (nearest) hides the exact value of a suppressed cell from subtraction.
    """
    arr = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    if arr.size == 0:
        return None
    total = float(arr.sum())
    if total < threshold:
        return suppressed_label(threshold)
    return int(threshold * math.floor(total / threshold + 0.5))


def is_safe(value: object, *, threshold: int = 5) -> bool:
    """True when ``value`` is fit to publish: missing, the suppression label, or ≥ threshold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, str):
        text = value.strip()
        if text in ("", suppressed_label(threshold)):
            return True
        try:
            return float(text) >= threshold
        except ValueError:
            return False
    return float(value) >= threshold  # type: ignore[arg-type]
