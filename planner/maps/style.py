"""Colours, bilingual labels and number formatting shared by the web map, the print and the report.

One table per concept, used everywhere: a status is green on the web map, in the
printed PNG and in the report alike.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from planner.labels import (  # noqa: F401  (the one label table, used by layers/report)
    AREA_TYPE_LABELS,
    COMMUNITY_STATUS_LABELS,
    FACILITY_STATUS_LABELS,
)
from planner.schema import FACILITY_KINDS

#: Fill colour of communities by ``service_status``.
STATUS_COLOURS: dict[str, str] = {
    "meets": "#1a9850",
    "below_standard": "#f28e2b",
    "uncovered": "#d7301f",
    "unreachable": "#8c8c8c",
}
#: Marker colour of facilities by ``kind``; kinds not listed get :data:`OTHER_KIND_COLOUR`.
KIND_COLOURS: dict[str, str] = {
    "station": "#2166ac",
    "day_care": "#6a3d9a",
    "street_centre": "#01665e",
    "township_centre": "#8c510a",
    "nursing_home": "#c51b7d",
    "mutual_aid": "#35978f",
}
OTHER_KIND_COLOUR = "#333333"
#: Outline of a facility below its profile's minimum size.
UNDERSIZE_COLOUR = "#e6007e"
#: Shortfall classes (m² of floor area missing per community): upper bounds of each class
#: but the last; class 0 is "no shortfall". Colours light to dark.
SHORTFALL_BOUNDS_M2: tuple[float, ...] = (0.0, 20.0, 50.0, 100.0, 200.0)
SHORTFALL_COLOURS: tuple[str, ...] = (
    "#e8f1e4", "#fde0c5", "#facba6", "#f59e72", "#e15b48", "#a50f15",
)
#: Base map: streets, water and the district boundary.
STREET_COLOUR = "#9a9a9a"
WATER_COLOUR = "#a6cee3"
BOUNDARY_COLOUR = "#555555"
BACKGROUND_COLOUR = "#f4f2ee"

MISSING = "—"


def shortfall_class(shortfall_m2: pd.Series) -> pd.Series:
    """Class 0–5 of each shortfall (m²): 0 none, then by :data:`SHORTFALL_BOUNDS_M2`."""
    values = pd.to_numeric(shortfall_m2, errors="coerce").fillna(0).clip(lower=0)
    # the class is the number of bounds the value is above (the bounds increase)
    cls = np.searchsorted(SHORTFALL_BOUNDS_M2, values.to_numpy(dtype=float), side="left")
    return pd.Series(cls, index=shortfall_m2.index, dtype="int64")


def shortfall_class_labels() -> list[str]:
    """Legend text of each shortfall class ("0", "0–20", …, "> 200") in m²."""
    b = SHORTFALL_BOUNDS_M2
    out = ["0"]
    out += [f"{_num(b[i])}–{_num(b[i + 1])}" for i in range(len(b) - 1)]
    out.append(f"> {_num(b[-1])}")
    return out


def is_missing(value: Any) -> bool:
    """True for None, NaN and pd.NA."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def esc(value: Any) -> str:
    """Text for innerHTML: escaped, with missing values as a dash."""
    if is_missing(value):
        return MISSING
    return html.escape(str(value))


def _num(value: Any, *, decimals: int = 1) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(x):
        return MISSING
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def num(value: Any, *, decimals: int = 1) -> str:
    """Format a number with thousands separators and at most ``decimals`` decimals.

    Trailing zeros go: ``37.5`` shows "37.5", ``1200.0`` shows "1,200"; NaN shows a dash.
    """
    return _num(value, decimals=decimals)


def whole(value: Any) -> str:
    """A number rounded to a whole ("2,100")."""
    return _num(value, decimals=0)


def percent(share: Any) -> str:
    """A share 0–1 as a percentage ("61.3%"); the missing mark for NaN/None."""
    if is_missing(share):
        return MISSING
    return f"{100 * float(share):.1f}%"


def each(values: pd.Series | pd.Index, fn: Callable[[Any], str]) -> list[str]:
    """``fn`` of each value, read as Python objects (fast on Arrow-backed strings).

    ``fn`` must depend on the value only: each distinct string is formatted once (text
    columns such as statuses and streets repeat a few values).
    """
    items = values.tolist()
    kinds = set(map(type, items))
    if str not in kinds:
        return [fn(v) for v in items]
    texts = {v: fn(v) for v in dict.fromkeys(v for v in items if type(v) is str)}
    if kinds == {str}:
        return list(map(texts.__getitem__, items))
    return [texts[v] if type(v) is str else fn(v) for v in items]


def _floats(values: pd.Series | pd.Index) -> np.ndarray | None:
    """The values as float64 (missing as NaN) when the column is numeric, else None."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        return values.to_numpy(dtype=float) if dtype.kind in "iufb" else None
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return None


def nums(values: pd.Series | pd.Index, *, decimals: int = 1) -> list[str]:
    """:func:`num` of each value, formatted straight from a float array when numeric."""
    x = _floats(values) if decimals >= 0 else None
    if x is None:
        return each(values, lambda v: _num(v, decimals=decimals))
    spec = f",.{decimals}f"
    texts = [format(v, spec) for v in x.tolist()]
    if decimals > 0:  # every finite number has a "." then: drop trailing zeros as num does
        texts = [t.rstrip("0").rstrip(".") for t in texts]
    for i in np.flatnonzero(np.isnan(x)).tolist():
        texts[i] = MISSING
    return texts


def wholes(values: pd.Series | pd.Index) -> list[str]:
    """:func:`whole` of each value (see :func:`nums`)."""
    return nums(values, decimals=0)


def escs(values: pd.Series | pd.Index) -> list[str]:
    """:func:`esc` of each value: strings are escaped in one call, joined and split again."""
    items = values.tolist()
    if set(map(type, items)) == {str}:
        joined = "\x00".join(items)
        if joined.count("\x00") == len(items) - 1:  # no string holds the separator
            return html.escape(joined).split("\x00")
    return each(values, esc)


def label(labels: dict[str, tuple[str, str]], key: Any) -> str:
    """"中文 English" of ``key`` in ``labels``, escaped; the key itself when unknown."""
    if is_missing(key):
        return MISSING
    zh, en = labels.get(key, (str(key), ""))
    return html.escape(f"{zh} {en}".strip())


def column(df: pd.DataFrame, name: str) -> pd.Series:
    """``df[name]``, or a column of missing values when the optional column is absent."""
    if name in df.columns:
        return df[name]
    return pd.Series(None, index=df.index, dtype=object)


def names(df: pd.DataFrame) -> pd.Series:
    """Display names, falling back to the index for rows without a name."""
    named = column(df, "name").astype(object)
    ids = pd.Series(df.index.astype(str), index=df.index)
    return named.where(named.notna() & (named.astype(str) != ""), ids).astype(str)


def kind_colour(kind: str) -> str:
    """Colour of a facility kind."""
    return KIND_COLOURS.get(kind, OTHER_KIND_COLOUR)


def kind_label(kind: str) -> tuple[str, str]:
    """(Chinese, English) name of a facility kind."""
    return FACILITY_KINDS.get(kind, (kind, ""))


def kinds_present(kinds: pd.Series) -> list[str]:
    """The facility kinds in ``kinds``, in the schema's order, unknown ones last."""
    present = set(kinds.astype(str))
    ordered = [k for k in FACILITY_KINDS if k in present]
    return ordered + sorted(present - set(FACILITY_KINDS))
