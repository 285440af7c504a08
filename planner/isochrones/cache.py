"""The street grid runs of a network, cached beside its compiled-network cache.

Cutting every street's band into grid runs (:func:`~planner.isochrones.sample_edges`)
depends only on the network's geometry, :data:`CELL_M` and
:data:`STREET_HALF_WIDTH_M`, yet costs about a second on a city of 130,000 nodes. The
runs are therefore kept as ``<network cache>.runs.npz`` beside the network's own cache
file (:attr:`CompiledNetwork.cache_file`), and only there: a network that was never
cached (``--no-cache``) gets none, and no file is written anywhere else.

The file records a key: the format version, the cell size, the half-width, the network
cache's file name (which holds its source key) and a CRC-32 of the edge vertices and
offsets, so runs are never read for other geometry (a network whose stairs were
removed, a recompiled file). A missing, stale or damaged file is rebuilt; it is written
to a temporary file with a unique name and moved into place in one step, so two runs at
the same moment never read half a file.
"""

from __future__ import annotations

import logging
import os
import uuid
import zipfile
import zlib
from pathlib import Path

import numpy as np

from planner.isochrones.runs import StreetRuns, segment_table
from planner.isochrones.sizes import CELL_M, STREET_HALF_WIDTH_M
from planner.network.store import CompiledNetwork

log = logging.getLogger("planner")

#: Version of the runs cache format; bump when the runs or their arrays change.
RUNS_CACHE_VERSION = 1

_NETWORK_SUFFIX = ".reach.npz"
_RUNS_SUFFIX = ".runs.npz"
#: What reading a damaged ``.npz`` can raise (truncated zip, missing array, bad header).
_CORRUPT = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def runs_cache_file(net: CompiledNetwork) -> Path | None:
    """Where the runs of ``net`` are cached: beside its network cache, or ``None``."""
    path = net.cache_file
    if path is None:
        return None
    path = Path(path)
    name = path.name
    base = name[: -len(_NETWORK_SUFFIX)] if name.endswith(_NETWORK_SUFFIX) else path.stem
    return path.with_name(base + _RUNS_SUFFIX)


def runs_key(net: CompiledNetwork, *, cell_m: float = CELL_M,
             half_width_m: float = STREET_HALF_WIDTH_M) -> str:
    """The key a cached runs file must carry to be read for ``net``."""
    coords = np.ascontiguousarray(net.edge_coords, dtype=np.float64)
    offsets = np.ascontiguousarray(net.edge_offsets, dtype=np.int64)
    crc = zlib.crc32(offsets.data, zlib.crc32(coords.data))
    source = "" if net.cache_file is None else Path(net.cache_file).name
    return (f"v{RUNS_CACHE_VERSION}|cell {cell_m!r}|half {half_width_m!r}|{source}|"
            f"{net.n_edges} edges|{len(coords)} vertices|crc {crc:08x}")


def load_runs(net: CompiledNetwork, *, cell_m: float = CELL_M,
              half_width_m: float = STREET_HALF_WIDTH_M) -> StreetRuns | None:
    """The cached runs of ``net``, or ``None`` when there is no usable cache file.

    A damaged file is removed (it is rebuilt by the next :func:`save_runs`).
    """
    path = runs_cache_file(net)
    if path is None or not path.exists():
        return None
    key = runs_key(net, cell_m=cell_m, half_width_m=half_width_m)
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            x0, y0 = (float(v) for v in z["origin"])
            row, lo, hi, offsets = z["row"], z["col_lo"], z["col_hi"], z["offsets"]
        _check(net, row, lo, hi, offsets)
    except _CORRUPT as exc:
        log.warning("note: the street grid cache %s was damaged (%s); it is built again",
                    path.name, type(exc).__name__)
        path.unlink(missing_ok=True)
        return None
    seg_offsets, seg_vertex, seg_along = segment_table(net)
    return StreetRuns(cell_m, half_width_m, x0, y0, row, lo, hi, offsets, seg_offsets,
                      seg_vertex, seg_along)


def _check(net: CompiledNetwork, row: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           offsets: np.ndarray) -> None:
    """Raise ValueError when cached runs do not fit ``net``."""
    ok = (len(offsets) == net.n_edges + 1 and len(row) == len(lo) == len(hi)
          and (len(offsets) == 0 or int(offsets[-1]) == len(row)))
    if not ok:
        msg = "cached runs have inconsistent lengths"
        raise ValueError(msg)


def save_runs(net: CompiledNetwork, runs: StreetRuns) -> Path | None:
    """Cache ``runs`` (of every edge of ``net``) beside the network's cache, if it has one.

    Returns the file written, or ``None`` (no network cache, or the folder cannot be
    written: the runs are then only computed again next time).
    """
    path = runs_cache_file(net)
    if path is None:
        return None
    key = runs_key(net, cell_m=runs.cell_m, half_width_m=runs.half_width_m)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as f:
            np.savez(f, key=key, origin=np.array([runs.x0, runs.y0]), row=runs.row,
                     col_lo=runs.col_lo, col_hi=runs.col_hi, offsets=runs.offsets)
        tmp.replace(path)
    except OSError as exc:
        log.warning("note: could not cache the street grid in %s (%s)", path.parent,
                    exc.strerror or type(exc).__name__)
        return None
    finally:
        tmp.unlink(missing_ok=True)
    return path
