"""Small checked readers of TOML values, shared by the profile and target parsers.

Every error names the file, the dotted key and the value, and points to docs/standards.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner._errors import InputError
from planner.schema import FACILITY_KINDS
from planner.standards.model import Document, Source, Value

_COMMON_KEYS = ("source", "assumption", "note", "note_zh", "alternative")


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
        "alternative": _text(table, "alternative", where, path),
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


def _choice_in_file(value: str, options: tuple[str, ...], key: str, path: Path) -> None:
    if value not in options:
        raise _bad(path, key, value, f"must be one of {', '.join(options)}")


def _check_kind(kind: Any, key: str, path: Path) -> str:
    if kind not in FACILITY_KINDS:
        raise _bad(
            path, key, kind, f"unknown facility kind; use one of {', '.join(FACILITY_KINDS)}"
        )
    return str(kind)
