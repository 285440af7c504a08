"""Load a profile: find the file, follow ``inherits``, parse and check every table.

A profile is a TOML file, one per city, shipped in ``planner/standards/profiles/``
(``national`` is the default the cities inherit from). A user can pass the path of their
own file, so a new city needs no code. The format is documented in docs/standards.md.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from planner._errors import InputError, UnknownProfileError
from planner.io.tables import read_text
from planner.schema import AREA_TYPES, COMMUNITY_STATUSES
from planner.standards._parsing import (
    _COMMON_KEYS,
    _bad,
    _check_keys,
    _check_kind,
    _choice_in_file,
    _common,
    _Context,
    _expect_str,
    _flag,
    _number,
    _parse_documents,
    _parse_value,
    _table,
    _text,
)
from planner.standards.model import (
    PROFILE_DIR,
    READINGS,
    UNITS_AS_WRITTEN,
    AreaRule,
    Document,
    FacilityMin,
    KindList,
    Pooling,
    Profile,
    _Stated,
)
from planner.standards.targets import parse_targets

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
    "few_elderly_below",
    "small_estate_below_households",
    "allocation_pooling",
)


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
    if _is_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to.parent / path
        if not path.is_file():
            msg = (
                f"No profile file at {path}. Check the path, or use a built-in profile: "
                f"{', '.join(list_profiles())}."
            )
            raise UnknownProfileError(msg)
        return path
    path = PROFILE_DIR / f"{str(name_or_path).strip().lower()}.toml"
    if not path.is_file():
        msg = (
            f"Unknown profile {name_or_path!r}. Available profiles: "
            f"{', '.join(list_profiles())}. To use your "
            f"own standards, pass the path of a TOML file (e.g. --profile ./mycity.toml); the "
            f"format is described in docs/standards.md."
        )
        raise UnknownProfileError(msg)
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))  # UTF-8, UTF-16 (BOM) or GB18030, as saved
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


def _parse_facility_min(table: Any, kind: str, path: Path, ctx: _Context) -> FacilityMin:
    where = f"facility_min_m2.{kind}"
    _check_kind(kind, where, path)
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a table with min_m2 = ... and source = {...}")
    allowed = ("min_m2", "min_m2_small", "purpose", *_COMMON_KEYS)
    _check_keys(table, where, path, allowed, ("min_m2", "source"))
    small = _number(table, "min_m2_small", where, path) if "min_m2_small" in table else None
    purpose = _text(table, "purpose", where, path, "minimum")
    _choice_in_file(purpose, ("minimum", "subsidy"), f"{where}.purpose", path)
    return FacilityMin(
        kind=kind,
        min_m2=_number(table, "min_m2", where, path),
        min_m2_small=small,
        purpose=purpose,
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


def _parse_pooling(table: Any, path: Path, ctx: _Context) -> Pooling:
    where = "allocation_pooling"
    if not isinstance(table, dict):
        raise _bad(path, where, table, "must be a table with allowed = true and source = {...}")
    _check_keys(table, where, path, ("allowed", *_COMMON_KEYS), ("allowed", "source"))
    return Pooling(allowed=_flag(table, "allowed", where, path),
                   **_common(table, where, path, ctx))


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
    if "small_estate_below_households" in raw:
        layer["small_estate_below_households"] = _parse_value(
            raw["small_estate_below_households"], "small_estate_below_households", path, ctx)
    if "few_elderly_below" in raw:
        layer["few_elderly_below"] = _parse_value(raw["few_elderly_below"], "few_elderly_below",
                                                  path, ctx)
    if "allocation_pooling" in raw:
        layer["allocation_pooling"] = _parse_pooling(raw["allocation_pooling"], path, ctx)
    layer["targets"] = parse_targets(raw, path, ctx)
    return layer


# --------------------------------------------------------------------------- merging

_SINGLE_KEYS = (
    "walking_speed_m_s",
    "new_build_from_year",
    "land_per_resident_m2",
    "area_counted_kinds",
)
#: Single values a profile may leave unstated everywhere in its chain.
_OPTIONAL_KEYS = ("few_elderly_below", "allocation_pooling", "small_estate_below_households")
_KEYED = ("circle_minutes", "area_per_100hh", "facility_min_m2", "targets")


def _inherit(item: _Stated) -> _Stated:
    return dataclasses.replace(item, inherited=True)


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Overlay ``child`` on ``parent``; every item taken from the parent becomes inherited."""
    out = dict(child)
    for key in (*_SINGLE_KEYS, *_OPTIONAL_KEYS):
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
        **{key: merged[key] for key in _OPTIONAL_KEYS if key in merged},
        circle_minutes=MappingProxyType(merged["circle_minutes"]),
        area_per_100hh=MappingProxyType(merged["area_per_100hh"]),
        facility_min_m2=MappingProxyType(merged["facility_min_m2"]),
        targets=MappingProxyType(merged["targets"]),
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
