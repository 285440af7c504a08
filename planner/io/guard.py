"""Never touch what is not ours: output paths, the output lock and the planner's marks.

- :func:`check_output_paths` runs before any computing: it refuses an empty ``--out``,
  an output folder that holds an input file (its ``communities.csv`` would replace
  the user's), a ``--map`` that is an input file or not an ``.html`` file, and any
  output that cannot be written, so a user never waits for a run that fails at the end.
  It creates nothing: a missing ``--out`` is made when writing starts.
- :func:`output_lock` keeps two runs from writing into the same folder at once: the
  second stops at once with the first run's process id.
- :class:`Manifest` (``.planner-outputs.json`` in the output folder) records the files
  the planner wrote and their sizes. Only those are ever replaced or removed as stale;
  a file of the same name that the planner did not write (or that was edited since)
  stops the run with a message instead of being overwritten.
- Temporary folders are named ``.partial-planner-*`` and hold :data:`PARTIAL_MARK`;
  only such folders are removed when a killed run left them behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from planner._errors import InputError
from planner.io.tables import split_choice

log = logging.getLogger("planner")

#: The lock file a run holds in its output folder.
LOCK_NAME = ".planner.lock"
#: The manifest of files the planner wrote into an output folder.
MANIFEST_NAME = ".planner-outputs.json"
#: Prefix of the temporary folders a run writes into before moving files into place.
PARTIAL_PREFIX = ".partial-planner-"
#: File inside every temporary folder, proving the planner made it.
PARTIAL_MARK = ".planner-partial"
#: Suffixes accepted for ``--map``.
MAP_SUFFIXES = (".html", ".htm")
#: Shapefile companions: an input ``x.shp`` also owns ``x.dbf``, ``x.shx`` …
_SIDECARS = (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx")

_held: dict[Path, int] = {}


def _resolve(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def _input_files(inputs: Iterable[str | Path | None]) -> list[Path]:
    files = []
    for p in inputs:
        if p is None or str(p).strip() == "":
            continue
        path = _resolve(split_choice(p)[0])  # file.gpkg:layer → file.gpkg
        files.append(path)
        if path.suffix.lower() == ".shp":
            files += [path.with_suffix(s) for s in _SIDECARS]
    return files


def _nearest_existing(folder: Path) -> Path:
    """``folder`` itself when it exists, else its nearest existing parent.

    ``folder`` is absolute, so the search ends at the root at the latest.
    """
    return next((p for p in (folder, *folder.parents) if p.exists()), folder)


def _check_writable_folder(folder: Path, what: str) -> None:
    """Prove that ``folder`` can be written, or made and written, without making it.

    A folder that exists is probed with a file (written and removed at once). A missing
    one is not created here (a run refused on bad input must leave no empty folder): its
    nearest existing parent must be a folder in which a file can be written. The folder
    is made when writing starts (:func:`output_lock`, the writers).
    """
    existing = _nearest_existing(folder)
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(existing))
        probe = existing / f".planner-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        where = "" if existing == folder else f" (its parent {existing} cannot take it)"
        msg = (f"{what} {folder}: cannot write there ({reason}){where}. Choose a folder you "
               "can write to; nothing was computed.")
        raise InputError(msg) from exc


def check_output_paths(out_dir: str | Path, map_path: str | Path | None = None, *,
                       inputs: Iterable[str | Path | None] = (), option: str = "--out") -> Path:
    """Refuse outputs that would replace the user's files or cannot be written.

    Parameters
    ----------
    out_dir
        The output folder (``--out``). It is not created here: a missing folder is made
        when writing starts, so a run refused later on bad input leaves nothing behind.
    map_path
        The extra copy of the map (``--map``), or ``None``.
    inputs
        The input files of the run (network, communities, facilities, gates, profile).
    option
        How messages name the output folder (``--out`` from the CLI, ``out_dir`` in Python).

    Returns
    -------
    pathlib.Path
        The output folder, resolved.

    Raises
    ------
    InputError
        Naming the option, the path and what to do.
    """
    if str(out_dir).strip() == "":
        msg = f"{option} is empty. Give an output folder, e.g. out/district (it is created)."
        raise InputError(msg)
    out = _resolve(out_dir)
    files = _input_files(inputs)
    for path in files:
        if path == out:
            msg = (f"{option} {out_dir} is the input file {path}: outputs would replace it. "
                   "Give a new folder, e.g. --out out/district.")
            raise InputError(msg)
        if path.parent == out and path.exists():
            msg = (f"{option} {out_dir} is the folder holding the input file {path.name}: outputs "
                   "such as communities.csv could replace your files. Give a separate folder, "
                   f"e.g. {Path(out_dir) / 'planner-out'}.")
            raise InputError(msg)
    if out.exists() and not out.is_dir():
        msg = f"{option} {out_dir} is a file, not a folder. Give a folder name."
        raise InputError(msg)
    _check_writable_folder(out, option)
    if map_path is not None:
        _check_map_path(map_path, out, files)
    return out


def check_output_file(path: str | Path, *, option: str,
                      inputs: Iterable[str | Path | None] = (),
                      suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse an output file (``--out results.csv``, ``--map m.html``) that cannot be used.

    Checked before any computing, creating nothing: the name is not empty, not one of the
    input files, not a folder, ends in one of ``suffixes`` (when given), and its folder
    (or that folder's nearest existing parent) can be written. Whether an existing file
    of that name was written by planner is for the writer that knows its own files.

    Returns
    -------
    pathlib.Path
        The file, resolved.

    Raises
    ------
    InputError
        Naming the option, the path and what to do.
    """
    if str(path).strip() == "":
        msg = f"{option} is empty. Give a file name, or leave {option} out."
        raise InputError(msg)
    target = _resolve(path)
    if target in _input_files(inputs):
        msg = (f"{option} {path} is one of the input files: the output would replace it. "
               "Give a new file name.")
        raise InputError(msg)
    if suffixes and target.suffix.lower() not in suffixes:
        msg = f"{option} {path} must end in {' or '.join(suffixes)}."
        raise InputError(msg)
    if target.is_dir():
        msg = f"{option} {path} is a folder. Give a file name."
        raise InputError(msg)
    _check_writable_folder(target.parent, f"{option} folder")
    if target.exists() and not os.access(target, os.W_OK):
        msg = f"{option} {path}: the file cannot be written (read-only). Give another name."
        raise InputError(msg)
    return target


def _check_map_path(map_path: str | Path, out: Path, files: list[Path]) -> None:
    if str(map_path).strip() == "":
        msg = "--map is empty. Give a file name ending in .html, or leave --map out."
        raise InputError(msg)
    target = _resolve(map_path)
    if target in files:
        msg = (f"--map {map_path} is one of the input files: the map would replace it. "
               "Give a new file name ending in .html.")
        raise InputError(msg)
    if target.suffix.lower() not in MAP_SUFFIXES:
        msg = f"--map {map_path} must end in .html (it is a web page), e.g. --map gap_map.html."
        raise InputError(msg)
    if target.is_dir():
        msg = f"--map {map_path} is a folder. Give a file name ending in .html."
        raise InputError(msg)
    if target.exists() and target != out / "gap_map.html" and not _looks_like_html(target):
        msg = (f"--map {map_path} exists and is not an HTML page: planner will not replace it. "
               "Give a new file name.")
        raise InputError(msg)
    _check_writable_folder(target.parent, "--map folder")
    if target.exists() and not os.access(target, os.W_OK):
        msg = f"--map {map_path}: the file cannot be written (read-only). Give another name."
        raise InputError(msg)


def _looks_like_html(path: Path) -> bool:
    try:
        head = path.read_bytes()[:4096].decode("utf-8", errors="ignore").lower()
    except OSError:
        return False
    return "<html" in head or "<!doctype html" in head


# ---------------------------------------------------------------------------
# the lock


def _lock_owner(lock: Path) -> tuple[int, str] | None:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
        return int(data["pid"]), str(data.get("host", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int, host: str) -> bool:
    if host and host != socket.gethostname():
        return True  # another machine's run on a shared folder: assume it is running
    return psutil.pid_exists(pid)


@contextmanager
def output_lock(out_dir: str | Path) -> Iterator[Path]:
    """Hold ``OUT/.planner.lock`` while writing; a second run into ``OUT`` stops at once.

    Re-entrant within one process. A lock left by a process that no longer exists (a
    killed run) is taken over. ``OUT`` is made when missing, and removed again (with the
    parents made for it) when the run leaves it empty, e.g. refused on bad input.

    Raises
    ------
    InputError
        Another running planner process holds the lock (its id is named).
    """
    out = _resolve(out_dir)
    lock = out / LOCK_NAME
    if _held.get(out):
        _held[out] += 1
        try:
            yield lock
        finally:
            _held[out] -= 1
        return
    made = [p for p in (out, *out.parents) if not p.exists()]  # deepest first
    out.mkdir(parents=True, exist_ok=True)
    try:
        _acquire(lock, out)
    except BaseException:
        _remove_empty(made)
        raise
    _held[out] = 1
    try:
        yield lock
    finally:
        _held.pop(out, None)
        lock.unlink(missing_ok=True)
        _remove_empty(made)


def _remove_empty(made: list[Path]) -> None:
    """Remove the folders the lock made (deepest first) that are still empty.

    A run that stopped before writing (bad input found after the lock was taken) leaves
    no empty ``--out`` behind; a folder holding anything at all is kept.
    """
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return


def _acquire(lock: Path, out: Path) -> None:
    body = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _lock_owner(lock)
            if owner is not None and _alive(*owner):
                msg = (f"--out {out}: another planner run (process {owner[0]}) is writing "
                       "into this folder. Wait for it to finish, or give another --out.")
                raise InputError(msg) from None
            log.info("removing a stale lock left by a run that was killed: %s", lock.name)
            lock.unlink(missing_ok=True)
            continue
        except OSError as exc:
            msg = (f"--out {out}: cannot write there ({exc.strerror}). Choose a folder you "
                   "can write to.")
            raise InputError(msg) from exc
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
        return
    msg = f"--out {out}: could not take the output lock; another run is starting. Try again."
    raise InputError(msg)


# ---------------------------------------------------------------------------
# the manifest of planner-written files


@dataclass
class Manifest:
    """Files the planner wrote into an output folder: name → accepted sizes in bytes."""

    folder: Path
    files: dict[str, list[int]] = field(default_factory=dict)
    legacy: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, folder: Path, *, legacy: Iterable[str] = ()) -> Manifest:
        """The folder's manifest (empty when there is none or it is unreadable).

        ``legacy``: output names to accept as the planner's in a folder written before
        manifests existed, recognised by its ``summary.json`` (a planner summary, with
        ``profile`` and ``inputs``). They may be replaced, never removed as stale.
        """
        try:
            data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
            files = {str(k): [int(s) for s in v] for k, v in data["files"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            files = {}
        manifest = cls(folder, files)
        if not files and _planner_summary(folder / "summary.json"):
            manifest.legacy = {n for n in legacy if (folder / n).is_file()}
        return manifest

    def owns(self, name: str) -> bool:
        """True when ``name`` exists and is as the planner wrote it (by size)."""
        path = self.folder / name
        if not path.is_file():
            return False
        return path.stat().st_size in self.files.get(name, [])

    def foreign(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that exist in the folder but were not written by planner."""
        return [n for n in names
                if (self.folder / n).exists() and not self.owns(n) and n not in self.legacy]

    def write(self, files: dict[str, list[int]]) -> None:
        """Replace the manifest atomically."""
        self.files = files
        tmp = self.folder / f"{MANIFEST_NAME}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"written_by": "planner", "files": files}, indent=1),
                       encoding="utf-8")
        os.replace(tmp, self.folder / MANIFEST_NAME)


def refuse_foreign(out_dir: str | Path, names: Iterable[str], *, option: str = "--out") -> None:
    """Refuse an output folder holding a user's file under one of ``names``.

    For a command to call before computing (the writer checks again before writing):
    a file of an output's name that the planner did not write (or that was changed
    since) is never replaced. A missing folder holds nothing.

    Raises
    ------
    InputError
        Naming the folder, the files and what to do.
    """
    out = _resolve(out_dir)
    if not out.is_dir():
        return
    foreign = Manifest.read(out).foreign(list(names))
    if foreign:
        msg = (f"{option} {out_dir} already holds {', '.join(foreign)}, which planner did not "
               "write (or which was changed since): planner will not replace them. Move them "
               "away, or give a new output folder; nothing was computed.")
        raise InputError(msg)


def _planner_summary(path: Path) -> bool:
    """True when ``path`` is a summary.json written by planner (before manifests)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"profile", "inputs"} <= set(data)


def make_partial(out: Path) -> Path:
    """A new temporary folder inside ``out``, carrying the planner's mark."""
    tmp = out / f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    (tmp / PARTIAL_MARK).write_text("planner temporary output; safe to delete\n",
                                    encoding="utf-8")
    return tmp


def clear_partial(out_dir: str | Path) -> list[Path]:
    """Remove temporary folders left by killed runs: only those carrying the planner's mark.

    Returns the folders removed. Folders of a run still writing (its lock is held by a
    live process) are not touched because that run holds the lock.
    """
    removed = []
    for p in Path(out_dir).glob(".partial-*"):
        if p.is_dir() and not p.is_symlink() and (p / PARTIAL_MARK).is_file():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed
