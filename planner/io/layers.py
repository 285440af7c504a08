"""Choose the table: the layer of a GeoPackage or the sheet of an Excel workbook.

A GeoPackage often holds several layers and a workbook several sheets (some of them
hidden). Reading "the first" silently assesses the wrong table. The rules:

- a layer or sheet the user names (``--communities-layer``, ``--sheet``, or
  ``file.gpkg:layer`` / ``file.xlsx:sheet``) is used, or the run stops listing those
  that exist;
- otherwise a file with one layer (one visible sheet) uses it;
- otherwise the layer (visible sheet) named for the role (``communities``, ``小区`` …)
  is used, else the first one with the role's required columns, and a note says which
  and how to choose another;
- hidden sheets are never read unless named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio

from planner._errors import InputError
from planner.io.headers import _rename_columns

logger = logging.getLogger("planner")

#: Layer or sheet names that mark a table's role (compared in lower case).
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "communities": ("communities", "community", "小区", "居住小区", "residential"),
    "facilities": ("facilities", "facility", "设施", "养老设施", "养老服务设施"),
    "gates": ("gates", "gate", "出入口", "小区出入口", "大门"),
    "network": ("roads", "road", "network", "streets", "edges", "lines", "道路", "路网"),
}
#: The CLI option that chooses each role's layer or sheet.
LAYER_OPTIONS = {"communities": "--communities-layer", "facilities": "--facilities-layer",
                 "gates": "--gates-layer", "network": "--network-layer"}


@dataclass
class Choice:
    """The layer or sheet chosen, and the note that says why (``None``: nothing to say)."""

    name: str | None
    note: str | None = None


def _option(role: str) -> str:
    return LAYER_OPTIONS.get(role, "layer=")


def _has_columns(columns: list[str], required: tuple[str, ...],
                 aliases: dict[str, str]) -> bool:
    try:
        renamed = _rename_columns(pd.DataFrame(columns=columns), aliases)
    except InputError:
        return False
    return all(r in renamed.columns for r in required)


def choose_layer(path: Path, role: str, layer: str | None, *,
                 required: tuple[str, ...] = (), aliases: dict[str, str] | None = None,
                 lines: bool = False) -> Choice:
    """Choose the GeoPackage layer to read for ``role`` (see the module docstring).

    Parameters
    ----------
    path
        A GeoPackage (other formats have one layer: the choice is ``layer`` as given).
    role
        ``communities``, ``facilities``, ``gates`` or ``network``.
    layer
        The layer the user named, or ``None``.
    required, aliases
        Columns the role needs, and the header aliases that may provide them.
    lines
        Prefer layers of (multi)line geometry (the road network).

    Raises
    ------
    InputError
        A named layer that does not exist, or several layers and none fits the role.
    """
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        return Choice(layer)
    try:
        listed = pyogrio.list_layers(path)
    except MemoryError:
        raise
    except Exception:
        return Choice(layer)
    names = [str(row[0]) for row in listed]
    kinds = {str(row[0]): str(row[1] or "") for row in listed}
    if layer is not None:
        if layer not in names:
            msg = (f"{path}: no layer {layer!r}. Its layers are {', '.join(names)}; choose "
                   f"one with {_option(role)}.")
            raise InputError(msg)
        return Choice(layer)
    if len(names) <= 1:
        return Choice(None)
    pick, why = _pick_layer(path, role, names, kinds, required, aliases or {}, lines=lines)
    if pick is None:
        msg = (f"{path} has {len(names)} layers ({', '.join(names)}) and none is named for "
               f"the {role} or has the columns {', '.join(required) or 'needed'}. Choose one "
               f"with {_option(role)} (or {path.name}:LAYER).")
        raise InputError(msg)
    note = (f"{path.name} has {len(names)} layers ({', '.join(names)}): read layer {pick!r} "
            f"for the {role} ({why}); choose another with {_option(role)}")
    logger.info(note)
    return Choice(pick, note)


def _pick_layer(path: Path, role: str, names: list[str], kinds: dict[str, str],
                required: tuple[str, ...], aliases: dict[str, str], *,
                lines: bool) -> tuple[str | None, str]:
    wanted = {n.lower() for n in ROLE_NAMES.get(role, ())}
    for name in names:
        if name.lower() in wanted:
            return name, "named for them"
    for name in names:
        if lines and "line" not in kinds[name].lower():
            continue
        if not required:
            return name, "the first line layer" if lines else "the first layer"
        try:
            fields = [str(f) for f in pyogrio.read_info(path, layer=name)["fields"]]
        except MemoryError:
            raise
        except Exception:
            continue
        if _has_columns(fields, required, aliases):
            return name, "the first with the required columns"
    return None, ""


def choose_sheet(path: Path, role: str, sheet: str | int | None, *,
                 required: tuple[str, ...] = (), aliases: dict[str, str] | None = None,
                 ) -> Choice:
    """Choose the Excel sheet to read for ``role``; hidden sheets are read only if named.

    Raises
    ------
    InputError
        A named sheet that does not exist, or a workbook with no visible sheet.
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return Choice(None if sheet is None else str(sheet))
    states = _sheet_states(path)
    if states is None:  # not a readable workbook: the reader reports it
        return Choice(None if sheet is None else str(sheet))
    names = list(states)
    if sheet is not None:
        if isinstance(sheet, int) and 0 <= sheet < len(names):
            return Choice(names[sheet])
        if str(sheet) not in names:
            msg = (f"{path}: no sheet {sheet!r}. Its sheets are {', '.join(names)}; choose one "
                   f"with {_option(role)} or --sheet.")
            raise InputError(msg)
        return Choice(str(sheet))
    visible = [n for n in names if states[n] == "visible"]
    hidden = [n for n in names if states[n] != "visible"]
    if not visible:
        msg = f"{path}: every sheet is hidden. Unhide the sheet to assess, or name it with --sheet."
        raise InputError(msg)
    pick, why = _pick_sheet(path, role, visible, required, aliases or {})
    if len(names) == 1:
        return Choice(pick)
    note = (f"{path.name} has {len(names)} sheets ({', '.join(names)}"
            f"{'; hidden: ' + ', '.join(hidden) if hidden else ''}): read sheet {pick!r} "
            f"for the {role} ({why}); choose another with {_option(role)} or --sheet")
    logger.info(note)
    return Choice(pick, note)


def _pick_sheet(path: Path, role: str, visible: list[str], required: tuple[str, ...],
                aliases: dict[str, str]) -> tuple[str, str]:
    wanted = {n.lower() for n in ROLE_NAMES.get(role, ())}
    for name in visible:
        if name.lower() in wanted:
            return name, "named for them"
    if required:
        for name in visible:
            header = _header_row(path, name)
            if header and _has_columns(header, required, aliases):
                return name, "the first visible sheet with the required columns"
    return visible[0], "the first visible sheet"


def _sheet_states(path: Path) -> dict[str, str] | None:
    """Sheet name → ``visible``, ``hidden`` or ``veryHidden``, in workbook order."""
    import openpyxl  # noqa: PLC0415 - only for Excel input

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except MemoryError:
        raise
    except Exception:
        return None
    try:
        return {ws.title: str(ws.sheet_state) for ws in wb.worksheets}
    finally:
        wb.close()


def _header_row(path: Path, sheet: str) -> list[str]:
    import openpyxl  # noqa: PLC0415

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        for row in wb[sheet].iter_rows(min_row=1, max_row=1, values_only=True):
            return [str(v) for v in row if v is not None]
        return []
    finally:
        wb.close()
