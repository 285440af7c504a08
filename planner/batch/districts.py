"""The districts table of a batch: one row per study area, read and checked before any work.

``DISTRICTS.csv`` (or .xlsx) has one row per district with the options of ``planner run``:

========================  ========  ==========================================================
column                    required  meaning
========================  ========  ==========================================================
``district``              yes       folder name of its outputs (``DIR/<district>/``); unique
``network``               yes       walking network (as ``planner run --network``)
``communities``           yes       communities file
``facilities``            yes       facilities file
``gates``                 no        gates file
``profile``               no        standards profile name or .toml file (default ``national``)
``network_crs``           no        ``wgs84`` (default), ``cgcs2000``, ``gcj02``, ``bd09``, EPSG
``communities_crs``       no        idem
``facilities_crs``        no        idem
``metric_crs``            no        projected CRS to work in (default: the network's UTM zone)
``speed``                 no        walking speed, m/s (default: the profile's)
``reading``               no        ``per_100_households`` or ``literal`` (Yangjiang's rule)
``include_planned``       no        ``yes``/``no``: count planned facilities as built
``no_map``                no        ``yes``/``no``: skip the HTML gap map
========================  ========  ==========================================================

Relative paths are read against the folder of the districts table, so a table and its data
move together. A bad value stops the batch before any district starts, naming the file, the
row (as in Excel), the column and the value; a district whose *files* cannot be read fails on
its own when it runs, and the others go on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner._errors import InputError, MissingColumnError
from planner.batch.province import PROVINCE_FILES
from planner.io import read_table
from planner.io.tables import is_blank
from planner.reach.params import MAX_SPEED_M_S

__all__ = ["DistrictSpec", "read_districts"]

REQUIRED = ("district", "network", "communities", "facilities")
PATHS = ("network", "communities", "facilities", "gates")
TEXT_OPTIONS = ("profile", "network_crs", "communities_crs", "facilities_crs", "metric_crs",
                "reading")
FLAGS = ("include_planned", "no_map")
KNOWN = (*REQUIRED, "gates", *TEXT_OPTIONS, "speed", *FLAGS)
READINGS = ("per_100_households", "literal")
_TRUE = {"yes", "y", "true", "1", "是"}
_FALSE = {"no", "n", "false", "0", "否", ""}
#: Excel row of the first data row (row 1 is the header).
_FIRST_ROW = 2


@dataclass(frozen=True)
class DistrictSpec:
    """One district of a batch: where its inputs are and how to run it.

    Small and picklable: this, not the data, is what travels to a worker.
    Paths are absolute strings.
    """

    district: str
    network: str
    communities: str
    facilities: str
    gates: str | None = None
    profile: str = "national"
    network_crs: str = "wgs84"
    communities_crs: str = "wgs84"
    facilities_crs: str = "wgs84"
    metric_crs: str | None = None
    speed: float | None = None
    reading: str | None = None
    include_planned: bool = False
    no_map: bool = False
    row: int = 0

    def options(self) -> dict[str, object]:
        """The run options that change the results (part of the fingerprint)."""
        return {k: getattr(self, k) for k in ("profile", "network_crs", "communities_crs",
                                              "facilities_crs", "metric_crs", "speed",
                                              "reading", "include_planned", "no_map")}


def _bad(path: Path, row: int, column: str, value: object, what: str) -> InputError:
    return InputError(f"{path}: row {row}, column {column!r}, value {value!r}: {what}.")


def _folder_name(value: object, path: Path, row: int) -> str:
    name = str(value).strip()
    if is_blank(value) or name.startswith(".") or any(c in name for c in '/\\:*?"<>|'):
        raise _bad(path, row, "district", value,
                   "give each district a plain folder name (no / \\ : * ? \" < > |, "
                   "not starting with a dot)")
    if name.lower() in {n.lower() for n in PROVINCE_FILES}:
        raise _bad(path, row, "district", value,
                   f"that is the name of a province file the batch writes beside the district "
                   f"folders ({', '.join(PROVINCE_FILES)}); give the district another name")
    return name


def _flag(value: object, path: Path, row: int, column: str) -> bool:
    text = "" if is_blank(value) else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _bad(path, row, column, value, "write yes or no")


def _speed(value: object, path: Path, row: int) -> float | None:
    if is_blank(value):
        return None
    try:
        speed = float(str(value).strip())
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and 0 < speed <= MAX_SPEED_M_S):  # as `planner run --speed`
        raise _bad(path, row, "speed", value,
                   f"give a walking speed in m/s, more than 0 and at most {MAX_SPEED_M_S:g} "
                   "(e.g. 1.0), or leave it empty for the profile's")
    return speed


def _check_texts(texts: dict[str, str], path: Path, row: int) -> None:
    """Profile, coordinate systems and metric CRS: refused here, not on a worker later."""
    from planner.crs import check_metric_crs, parse_declared  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    checks: dict[str, Callable[[str], object]] = {
        "profile": load_profile, "metric_crs": check_metric_crs,
        **{c: parse_declared for c in ("network_crs", "communities_crs", "facilities_crs")}}
    for column, check in checks.items():
        if column in texts:
            try:
                check(texts[column])
            except InputError as exc:
                raise _bad(path, row, column, texts[column], str(exc).rstrip(".")) from exc


def _path(value: object, base: Path) -> str:
    p = Path(str(value).strip()).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def _spec(row: pd.Series, path: Path, excel_row: int) -> DistrictSpec:
    for column in REQUIRED:
        if is_blank(row.get(column)):
            raise _bad(path, excel_row, column, row.get(column), "this column is required")
    texts = {c: str(row[c]).strip() for c in TEXT_OPTIONS if c in row and not is_blank(row[c])}
    if "reading" in texts and texts["reading"] not in READINGS:
        raise _bad(path, excel_row, "reading", texts["reading"],
                   f"use one of {', '.join(READINGS)}")
    if texts.get("profile", "").lower().endswith(".toml"):  # a file: beside the table
        texts["profile"] = _path(texts["profile"], path.parent)
    _check_texts(texts, path, excel_row)
    paths = {c: _path(row[c], path.parent) for c in PATHS if c in row and not is_blank(row[c])}
    return DistrictSpec(
        district=_folder_name(row["district"], path, excel_row), row=excel_row,
        speed=_speed(row.get("speed"), path, excel_row),
        include_planned=_flag(row.get("include_planned"), path, excel_row, "include_planned"),
        no_map=_flag(row.get("no_map"), path, excel_row, "no_map"),
        **paths, **texts,  # type: ignore[arg-type]
    )


def read_districts(path: str | Path) -> list[DistrictSpec]:
    """Read and check a districts table.

    Parameters
    ----------
    path
        CSV (UTF-8, UTF-8-BOM, GBK) or XLSX; columns as in the module docstring.

    Returns
    -------
    list of DistrictSpec
        In table order, paths made absolute against the table's folder.

    Raises
    ------
    MissingColumnError
        A required column is missing (the message lists the columns found).
    InputError
        An unknown column (probably a typo), an empty required cell, a district name that
        is not a plain folder name or is used twice, a flag that is not yes/no, a speed
        not above 0 or above 3 m/s, an unknown reading, profile or coordinate system, or a
        metric CRS that is not projected.
    """
    path = Path(path)
    table = read_table(path)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        msg = (f"{path}: missing column(s) {', '.join(missing)}. Columns found: "
               f"{', '.join(table.columns)}. Required: {', '.join(REQUIRED)}.")
        raise MissingColumnError(msg)
    unknown = [c for c in table.columns if c not in KNOWN]
    if unknown:
        msg = (f"{path}: unknown column(s) {', '.join(unknown)}; known columns are "
               f"{', '.join(KNOWN)}. Rename or remove them.")
        raise InputError(msg)
    specs: list[DistrictSpec] = []
    seen: dict[str, int] = {}
    for index, row in table.iterrows():  # the index is the row's place in the file
        spec = _spec(row, path, int(index) + _FIRST_ROW)  # (empty rows dropped, not counted)
        if spec.district in seen:
            raise _bad(path, spec.row, "district", spec.district,
                       f"already used in row {seen[spec.district]}; district names must be "
                       "unique (they are output folders)")
        seen[spec.district] = spec.row
        specs.append(spec)
    return specs
