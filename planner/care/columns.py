"""The optional care columns of the input files, and plausible values for the sample.

:func:`attach_care_columns` reads the care columns (vulnerable elderly per community; care
places and ``managed_by`` per facility) from the files a study area was loaded from, when
the readers of :mod:`planner.io` did not already bring them, and joins them by id. A value
that is not a count (text, negative) stops the run naming the file, row, column and value.

:func:`add_sample_care_columns` gives the synthetic sample district plausible values
(deterministic from a seed), for tests and demonstrations.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from planner._errors import InputError
from planner.care.capacity import VULNERABLE_COLUMNS
from planner.io import (
    COMMUNITY_ALIASES,
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    FACILITY_ALIASES,
    SPATIAL_SUFFIXES,
    normalise_header,
    read_table,
)

__all__ = ["COMMUNITY_CARE_COLUMNS", "FACILITY_CARE_COLUMNS", "add_sample_care_columns",
           "attach_care_columns"]

#: Per-community counts of vulnerable elderly (people).
COMMUNITY_CARE_COLUMNS = (*VULNERABLE_COLUMNS, "vulnerable_elderly")
#: Per-facility care places (people) and the centre that runs a station.
FACILITY_CARE_COLUMNS = ("day_care_places", "home_visit_capacity", "managed_by")
_TEXT_COLUMNS = ("managed_by",)
#: Chinese headers of the care columns.
CARE_ALIASES = {"80岁以上": "elderly_80plus", "高龄": "elderly_80plus",
                "高龄老人": "elderly_80plus", "独居": "living_alone", "独居老人": "living_alone",
                "空巢": "empty_nest", "空巢老人": "empty_nest", "失能": "disabled",
                "失能老人": "disabled", "困难老人": "vulnerable_elderly",
                "日托床位": "day_care_places", "日间照料床位": "day_care_places",
                "上门服务能力": "home_visit_capacity", "运营中心": "managed_by",
                "所属中心": "managed_by"}
_FIRST_ROW = 2  # Excel row of the first data row


def _id(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"^(\d+)\.0+$", r"\1", str(value).strip())


def _counts(values: pd.Series, path: Path, column: str) -> pd.Series:
    numbers = pd.to_numeric(values.map(lambda v: str(v).strip().replace(",", "")
                                       if isinstance(v, str) else v), errors="coerce")
    bad = (values.notna() & numbers.isna()) | (numbers < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        # read_table keeps each row's position in the file as its index (blank rows count)
        row = int(values.index[i]) + _FIRST_ROW
        msg = (f"{path}: row {row}, column {column!r}, value {values.iloc[i]!r}: "
               "not a count of people. Give a whole number >= 0, or leave the cell empty "
               "when unknown.")
        raise InputError(msg)
    return numbers.astype(float)


def _headers(path: Path, table_name: str | None = None) -> list[str] | None:
    """Column names of a spatial file without reading its rows (None: read the table)."""
    if path.suffix.lower() not in SPATIAL_SUFFIXES:
        return None
    import pyogrio  # noqa: PLC0415

    try:
        return [str(f) for f in pyogrio.read_info(path, layer=table_name)["fields"]]
    except Exception:  # fall back to reading the table
        return None


def _read(path: Path, index_name: str, aliases: dict[str, str],
          wanted: tuple[str, ...], table_name: str | None = None) -> pd.DataFrame:
    if path.suffix.lower() not in (*CSV_SUFFIXES, *EXCEL_SUFFIXES, *SPATIAL_SUFFIXES):
        # e.g. communities made from a population raster: no table with care columns
        return pd.DataFrame(index=pd.Index([], name=index_name))
    headers = _headers(path, table_name)
    known = {**aliases, **CARE_ALIASES}
    if headers is not None and not any(known.get(normalise_header(h), normalise_header(h))
                                       in wanted for h in headers):
        return pd.DataFrame(index=pd.Index([], name=index_name))
    table = read_table(path, layer=table_name, sheet=table_name)  # the one the reader read
    names = {c: normalise_header(c) for c in table.columns}
    names = {c: {**aliases, **CARE_ALIASES}.get(n, n) for c, n in names.items()}
    table = pd.DataFrame(table).rename(columns=names)
    present = [c for c in wanted if c in table.columns]
    if not present or index_name not in table.columns:
        return pd.DataFrame(index=pd.Index([], name=index_name))
    out = pd.DataFrame({c: (table[c].map(_id) if c in _TEXT_COLUMNS
                            else _counts(table[c], path, c)) for c in present})
    out.index = pd.Index(table[index_name].map(_id), name=index_name)
    return out[~out.index.duplicated()]


def _attach(layer: pd.DataFrame, path: Path | None, index_name: str, aliases: dict[str, str],
            wanted: tuple[str, ...], table_name: str | None = None) -> pd.DataFrame:
    missing = tuple(c for c in wanted if c not in layer)
    if path is None or not missing or not Path(path).is_file():
        return layer
    extra = _read(Path(path), index_name, aliases, missing, table_name)
    if extra.empty and not len(extra.columns):
        return layer
    return layer.join(extra.reindex(layer.index.astype(str)).set_axis(layer.index))


def attach_care_columns(area: object, communities: pd.DataFrame,
                        facilities: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join the care columns the readers left out, read from the files of ``area``.

    Parameters
    ----------
    area
        A :class:`planner.pipeline.StudyArea`; its ``loads`` give the file of each layer
        (a layer built by hand has none, and is returned as it is).
    communities, facilities
        The layers to complete (indexed by ``community_id`` / ``facility_id``).

    Returns
    -------
    (communities, facilities)
        Copies with the care columns joined (NaN / None where a row has no value).
    """
    loads = getattr(area, "loads", {})
    out = []
    for layer, role, index_name, aliases, wanted in (
        (communities, "communities", "community_id", COMMUNITY_ALIASES, COMMUNITY_CARE_COLUMNS),
        (facilities, "facilities", "facility_id", FACILITY_ALIASES, FACILITY_CARE_COLUMNS),
    ):
        path = getattr(loads.get(role), "path", None)
        table_name = getattr(loads.get(role), "layer", None)  # layer or sheet the reader chose
        out.append(_attach(layer, path, index_name, aliases, wanted, table_name))
    return out[0], out[1]


def add_sample_care_columns(communities: pd.DataFrame, facilities: pd.DataFrame, *,
                            seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plausible care values for a (synthetic) district, deterministic from ``seed``.

    Communities get ``elderly_80plus`` (about 12 % of the 60+ residents; 0.45 people aged
    60+ per household are assumed where ``elderly`` is missing), ``living_alone`` (≈ 10 %),
    ``empty_nest`` (≈ 25 %) and ``disabled`` (≈ 4 %): shares of the order reported by
    national surveys of older people; some small communities get counts under 5, as real
    ones do. Facilities get ``day_care_places`` (stations and day-care centres, 10–30),
    ``home_visit_capacity`` (stations 20–60, centres 50–150) and ``beds`` where missing
    (centres 15–40, nursing homes 60–200).
    """
    rng = np.random.default_rng(seed)
    comm = communities.copy()
    hh = comm["households"].astype(float).to_numpy()
    elderly = (pd.to_numeric(comm["elderly"], errors="coerce").to_numpy()
               if "elderly" in comm else np.full(len(comm), np.nan))
    elderly = np.where(np.isnan(elderly), 0.45 * hh, elderly)  # ~0.45 people aged 60+ per household
    for col, share in (("elderly_80plus", 0.12), ("living_alone", 0.10),
                       ("empty_nest", 0.25), ("disabled", 0.04)):
        comm[col] = rng.binomial(np.maximum(elderly, 0).astype(int), share).astype(float)
    fac = facilities.copy()
    kind = fac["kind"].to_numpy()
    n = len(fac)
    community_level = np.isin(kind, ["station", "day_care"])
    centre = np.isin(kind, ["street_centre", "township_centre"])
    fac["day_care_places"] = np.where(community_level | centre,
                                      rng.integers(10, 31, n), 0).astype(float)
    fac["home_visit_capacity"] = np.select(
        [community_level, centre], [rng.integers(20, 61, n), rng.integers(50, 151, n)], 0
    ).astype(float)
    beds = pd.to_numeric(fac["beds"], errors="coerce") if "beds" in fac else pd.Series(
        np.nan, index=fac.index)
    fill = np.select([centre, kind == "nursing_home"],
                     [rng.integers(15, 41, n), rng.integers(60, 201, n)], 0)
    fac["beds"] = beds.where(beds.notna(), fill).round().astype("Int64")
    return comm, fac
