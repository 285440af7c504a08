"""The street grid runs of a network, cached beside its compiled-network cache.

Cutting every street's band into grid runs (:func:`~planner.isochrones.sample_edges`)
depends only on the network's geometry, :data:`CELL_M` and
:data:`STREET_HALF_WIDTH_M`, yet costs most of a second on a city of 130,000 nodes. The
runs are therefore kept as ``<network cache stem>.runs-<key>.npy`` beside the network's
own cache file (:attr:`CompiledNetwork.cache_file`), and only there: a network that was
never cached (``--no-cache``) gets none, and no file is written anywhere else.

The key in the name is a digest of the format version, the cell size, the half-width,
the network cache's file name (which holds its source key) and a CRC-32 of the edge
vertices and offsets, so runs are never read for other geometry (a network whose stairs
were removed, a recompiled file). The file is one ``int32`` array, memory-mapped when
read: opening it costs nothing, and the worker drawing circles in a second process
shares its pages with this one. A missing or damaged file is rebuilt; it is written to
a temporary file with a unique name and moved into place in one step, so two runs at
the same moment never read half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import uuid
import zlib
from pathlib import Path

import numpy as np

from planner.isochrones.runs import StreetRuns, grid_origin, segment_table
from planner.isochrones.sizes import CELL_M, STREET_HALF_WIDTH_M
from planner.network.store import CompiledNetwork

log = logging.getLogger("planner")

#: Version of the runs cache format; bump when the runs or their layout change.
RUNS_CACHE_VERSION = 1

_NETWORK_SUFFIX = ".reach.npz"
#: What opening a damaged ``.npy`` can raise (bad header, file shorter than its shape).
_CORRUPT = (OSError, ValueError, EOFError)


def runs_key(net: CompiledNetwork, *, cell_m: float = CELL_M,
             half_width_m: float = STREET_HALF_WIDTH_M) -> str:
    """The key (16 hex digits) of the cached runs of ``net`` at these sizes."""
    coords = np.ascontiguousarray(net.edge_coords, dtype=np.float64)
    offsets = np.ascontiguousarray(net.edge_offsets, dtype=np.int64)
    crc = zlib.crc32(offsets.data, zlib.crc32(coords.data))
    source = "" if net.cache_file is None else Path(net.cache_file).name
    text = (f"v{RUNS_CACHE_VERSION}|cell {cell_m!r}|half {half_width_m!r}|{source}|"
            f"{net.n_edges} edges|{len(coords)} vertices|crc {crc:08x}")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def runs_cache_file(net: CompiledNetwork, *, cell_m: float = CELL_M,
                    half_width_m: float = STREET_HALF_WIDTH_M) -> Path | None:
    """Where the runs of ``net`` are cached: beside its network cache, or ``None``."""
    if net.cache_file is None:
        return None
    path = Path(net.cache_file)
    name = path.name
    base = name[: -len(_NETWORK_SUFFIX)] if name.endswith(_NETWORK_SUFFIX) else path.stem
    key = runs_key(net, cell_m=cell_m, half_width_m=half_width_m)
    return path.with_name(f"{base}.runs-{key}.npy")


def load_runs(net: CompiledNetwork, *, cell_m: float = CELL_M,
              half_width_m: float = STREET_HALF_WIDTH_M) -> StreetRuns | None:
    """The cached runs of ``net`` (memory-mapped), or ``None`` without a usable file.

    A damaged file is removed (it is rebuilt by the next :func:`save_runs`).
    """
    path = runs_cache_file(net, cell_m=cell_m, half_width_m=half_width_m)
    if path is None or not path.exists():
        return None
    try:
        flat = np.load(path, mmap_mode="r", allow_pickle=False)
        offsets, row, lo, hi = _split(net, flat)
    except _CORRUPT as exc:
        log.warning("note: the street grid cache %s was damaged (%s); it is built again",
                    path.name, type(exc).__name__)
        path.unlink(missing_ok=True)
        return None
    x0, y0 = grid_origin(net, cell_m=cell_m, half_width_m=half_width_m)
    seg_offsets, seg_vertex, seg_along = segment_table(net)
    return StreetRuns(cell_m, half_width_m, x0, y0, row, lo, hi, offsets, seg_offsets,
                      seg_vertex, seg_along)


def _split(
    net: CompiledNetwork, flat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(offsets, row, col_lo, col_hi)`` of a cached array; ValueError if it does not fit."""
    m = net.n_edges + 1
    n = (len(flat) - m) // 3
    ok = (flat.dtype == np.int32 and flat.ndim == 1 and len(flat) >= m
          and len(flat) == m + 3 * n and int(flat[0]) == 0 and int(flat[m - 1]) == n)
    if not ok:
        msg = "cached runs do not fit the network"
        raise ValueError(msg)
    offsets = np.asarray(flat[:m], dtype=np.int64)
    return offsets, flat[m:m + n], flat[m + n:m + 2 * n], flat[m + 2 * n:]


def save_runs(net: CompiledNetwork, runs: StreetRuns) -> Path | None:
    """Cache ``runs`` (of every edge of ``net``) beside the network's cache, if it has one.

    Returns the file written, or ``None`` (no network cache, or the folder cannot be
    written: the runs are then only computed again next time).
    """
    path = runs_cache_file(net, cell_m=runs.cell_m, half_width_m=runs.half_width_m)
    if path is None:
        return None
    if len(runs.row) >= np.iinfo(np.int32).max:
        return None  # too many runs for the int32 offsets (a network far beyond a city)
    _remove_stale_temporaries(path)
    flat = np.concatenate([runs.offsets, runs.row, runs.col_lo, runs.col_hi]).astype(np.int32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as f:
            np.save(f, flat, allow_pickle=False)
        tmp.replace(path)
    except OSError as exc:
        log.warning("note: could not cache the street grid in %s (%s)", path.parent,
                    exc.strerror or type(exc).__name__)
        return None
    finally:
        tmp.unlink(missing_ok=True)
    return path


#: A temporary runs file this old was left by a run that was stopped while writing it.
STALE_TEMPORARY_S = 3600.0


def _remove_stale_temporaries(path: Path) -> None:
    """Remove temporary files of ``path`` left by runs stopped while writing (over an hour old).

    Only names this module makes (``.<runs file>.<pid>-<random>.tmp``) are touched.
    """
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > STALE_TEMPORARY_S:
                tmp.unlink()
