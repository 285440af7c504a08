"""Helpers shared by the benchmark scripts: threads, timing, memory, sample networks.

Import it from a script in ``benchmarks/`` (the script's folder is on ``sys.path``)::

    from _common import single_threaded_env, best_of, sample_case

Call :func:`force_single_thread` before numpy/scipy are imported when a script must stay
on one core; :func:`single_threaded_env` gives the same variables for a subprocess.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Thread-pool variables of OpenMP, BLAS and numexpr; all set to 1 for single-threaded runs.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
#: Road nodes per unit of ``planner.sample`` size, a first guess refined by measuring.
NODES_PER_SIZE = 5800.0
MB = 2**20


def force_single_thread() -> None:
    """Pin every thread pool of this process to one thread (call before importing numpy)."""
    for var in THREAD_VARS:
        os.environ[var] = "1"


def single_threaded_env() -> dict[str, str]:
    """This process's environment with every thread pool pinned to one thread."""
    env = dict(os.environ)
    env.update(dict.fromkeys(THREAD_VARS, "1"))
    return env


# ------------------------------------------------------------------------------ timing


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Run ``fn`` ``repeat`` times; return ``(first_s, best_s, last result)``."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times[0], min(times), out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; return ``(seconds, result)``."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


# ------------------------------------------------------------------------------ memory


def rss_mb() -> float:
    """Resident memory of this process now (MiB)."""
    import psutil  # noqa: PLC0415 - only the benchmarks need psutil

    return psutil.Process().memory_info().rss / MB


def reset_peak() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_mb() -> float:
    """Peak resident memory of this process (MiB) since start or :func:`reset_peak`.

    Reads ``VmHWM`` (which :func:`reset_peak` resets) and falls back on
    ``getrusage(RUSAGE_SELF).ru_maxrss`` (kB on Linux, bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / MB if sys.platform == "darwin" else maxrss / 1024


def available_mb() -> float:
    """Memory available to new allocations (MiB)."""
    import psutil  # noqa: PLC0415

    return psutil.virtual_memory().available / MB


def run_python(args: list[str], *, timeout_s: float | None = None) -> subprocess.CompletedProcess:
    """Run ``python args...`` single-threaded in a fresh process (clean memory peaks)."""
    return subprocess.run([sys.executable, *args], env=single_threaded_env(), text=True,
                          capture_output=True, timeout=timeout_s, check=False)


# ---------------------------------------------------------------------- sample networks


@dataclass
class SampleCase:
    """A sample district written to disk and compiled through the real loader.

    Attributes
    ----------
    size
        The ``planner.sample`` size used.
    files
        Paths written by ``planner.sample.write_sample``.
    cache_folder
        Where ``compile_network`` cached the compiled arrays (reload is fast).
    net
        The compiled network.
    """

    size: float
    files: dict[str, Path]
    cache_folder: Path
    net: Any


def count_sample_nodes(size: float, *, seed: int = 42) -> int:
    """Road nodes of the sample district at ``size`` (generated in memory, not written)."""
    import numpy as np  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from planner.sample import generate_sample  # noqa: PLC0415

    roads = generate_sample(seed=seed, size=size, n_facilities=1).roads
    ends = shapely.get_coordinates(roads.geometry.to_numpy())
    return len(np.unique(np.round(ends, 9), axis=0))


def size_for_nodes(nodes: int, *, seed: int = 42) -> float:
    """The sample ``size`` whose network has about ``nodes`` nodes (two measured steps)."""
    size = max(0.05, nodes / NODES_PER_SIZE)
    for _ in range(2):
        size = max(0.05, size * nodes / count_sample_nodes(size, seed=seed))
    return round(size, 2)


def load_compiled_network(roads: Path, cache_folder: Path) -> Any:
    """Load the roads through ``planner.network.compile_network`` (cached)."""
    from planner.network import compile_network  # noqa: PLC0415

    return compile_network(roads, cache_folder=cache_folder)


def sample_case(out_dir: Path, *, size: float, seed: int = 42,
                n_communities: int | None = None, n_facilities: int | None = None) -> SampleCase:
    """Write the sample district at ``size`` to ``out_dir`` and compile its roads.

    If the district cannot hold ``n_communities`` the natural count for ``size`` is used.
    """
    from planner._errors import InputError  # noqa: PLC0415
    from planner.sample import write_sample  # noqa: PLC0415

    out_dir = Path(out_dir)
    try:
        files = write_sample(out_dir, seed=seed, size=size, n_communities=n_communities,
                             n_facilities=n_facilities)
    except InputError:
        files = write_sample(out_dir, seed=seed, size=size, n_facilities=n_facilities)
    cache = out_dir / "cache"
    return SampleCase(size, files, cache, load_compiled_network(files["roads"], cache))


def edge_arrays(net: Any) -> tuple[Any, Any, Any]:
    """Undirected edges ``(u, v, length_m)`` of a compiled network, self-loops dropped.

    Parallel edges are kept; each consumer reduces them as its tool does.
    """
    keep = net.edge_u != net.edge_v
    return net.edge_u[keep], net.edge_v[keep], net.edge_length[keep]


def plain_csr(u: Any, v: Any, w: Any, n: int) -> Any:
    """Symmetric CSR of ``(u, v, w)`` keeping the shortest of parallel edges (plain scipy)."""
    import numpy as np  # noqa: PLC0415
    import scipy.sparse as sp  # noqa: PLC0415

    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    vals = np.concatenate([w, w])
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    return sp.csr_matrix((vals[first], (rows[first], cols[first])), shape=(n, n))
