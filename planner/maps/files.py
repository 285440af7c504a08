"""Never overwrite a file the planner did not make.

Every map, print and report the planner writes carries a mark: ``<meta name="generator"
content="planner">`` in HTML, ``Software: planner`` in a PNG, ``Creator: planner`` in a PDF.
An existing file at the target path is replaced only when it carries the mark.
"""

from __future__ import annotations

from pathlib import Path

from planner._errors import InputError

#: The generator name written into every file.
GENERATOR = "planner"
_MARKS = (b'<meta name="generator" content="planner">', b"Software\x00planner",
          b"/Creator (planner)",
          b'class="planner-panel')  # gap maps of earlier planner versions


def planner_made(path: Path) -> bool:
    """True when ``path`` carries the planner's mark (in its first or last 64 KB)."""
    with path.open("rb") as f:
        head = f.read(65536)
        f.seek(max(0, path.stat().st_size - 65536))
        tail = f.read()
    return any(mark in head or mark in tail for mark in _MARKS)


def check_replaceable(path: str | Path) -> Path:
    """``path``, after checking that writing there destroys nothing of the user's.

    Raises
    ------
    InputError
        ``path`` exists and was not made by the planner, or is a folder.
    """
    p = Path(path)
    if p.is_dir():
        msg = f"{p} is a folder; give a file name"
        raise InputError(msg)
    if p.exists() and not planner_made(p):
        msg = (f"{p} exists and was not written by planner; it is left untouched. "
               "Give another file name, or move that file away.")
        raise InputError(msg)
    return p
