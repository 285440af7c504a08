"""Run many districts on a Dask cluster: one task per district, province tables at the end.

The cluster is a local one (``workers`` processes, one thread each, ``memory_limit`` each)
or an existing one reached at ``scheduler`` (``tcp://host:8786``). Every worker must see the
input paths (a shared disk) and have planner installed; the compiled-network cache of each
worker (:data:`planner.settings.cache_folder`) is used as in ``planner run``.

Faults: an error inside a district is caught by the task and reported (the others go on); a
worker that dies mid-task (killed, out of memory) is rescheduled by the scheduler on another
worker, up to ``distributed.scheduler.allowed-failures`` times (3 by default), after which
the district is reported failed with ``KilledWorker``; ``retries`` more attempts are made for
an error raised outside the task's own handling. Ctrl-C cancels the tasks and closes a local
cluster; staging folders left behind are removed by the next batch, and complete districts
are skipped by it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner._errors import InputError
from planner.batch.districts import DistrictSpec, read_districts
from planner.batch.province import (
    PROVINCE_TEMP_PREFIX,
    check_province_files,
    province_summary,
    write_province,
)
from planner.batch.task import run_district
from planner.io.guard import check_output_paths

log = logging.getLogger("planner")

__all__ = ["DEFAULT_MEMORY_LIMIT", "BatchResult", "local_cluster", "run_batch"]

#: Memory limit per worker of a local cluster. A district of ~130,000 network nodes,
#: 10,000 communities and 1,000 facilities peaks at about 1.0 GB in ``planner run``
#: (README), so 2 GiB leaves room for the map and the GeoPackage writer.
DEFAULT_MEMORY_LIMIT = "2GiB"


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    records
        One dict per district (see :func:`planner.batch.task.run_district`), table order.
    summary
        The province summary table (as written to ``province_summary.csv``, before the
        CSV's rounding and escaping for Excel).
    files
        File name → path of the province files written.
    elapsed_s
        Wall time of the batch, s.
    """

    records: list[dict[str, Any]]
    summary: pd.DataFrame
    files: dict[str, Path]
    elapsed_s: float

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Records of the districts that failed."""
        return [r for r in self.records if r["status"] == "failed"]


def local_cluster(workers: int = 2, *, memory_limit: str = DEFAULT_MEMORY_LIMIT,
                  processes: bool = True) -> Any:
    """Start a local Dask cluster: ``workers`` single-threaded workers of ``memory_limit``.

    One thread per worker because a district is CPU-bound Python/NumPy work (threads would
    contend for the GIL), and memory is bounded per worker process: the nanny restarts a
    worker past 95 % of ``memory_limit`` and its task is rescheduled.
    """
    from distributed import LocalCluster  # noqa: PLC0415

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                        memory_limit=memory_limit, dashboard_address=":0")


def _clear_staging(out: Path) -> None:
    """Remove what an interrupted batch left: marked staging folders, province temp files."""
    from planner.io.guard import clear_partial  # noqa: PLC0415

    clear_partial(out)
    for p in out.glob(f"{PROVINCE_TEMP_PREFIX}*"):
        if p.is_file():
            p.unlink(missing_ok=True)


def _connect(address: str, timeout_s: float = 20.0) -> Any:
    """A client of the scheduler at ``address``; InputError naming it when unreachable."""
    from distributed import Client  # noqa: PLC0415

    try:
        return Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        msg = (f"--scheduler {address}: cannot reach a Dask scheduler there ({exc}). Check the "
               "address (tcp://host:8786) and that `dask scheduler` is running and reachable "
               "from this machine, or leave --scheduler out to use a local cluster.")
        raise InputError(msg) from exc


def _check_memory_limit(memory_limit: str) -> None:
    from dask.utils import parse_bytes  # noqa: PLC0415

    try:
        parse_bytes(memory_limit)
    except (ValueError, TypeError) as exc:
        msg = (f"--memory-limit {memory_limit!r} is not a size; give e.g. 2GiB or 1500MB "
               "(memory per worker).")
        raise InputError(msg) from exc


def _lost(spec: DistrictSpec, exc: BaseException) -> dict[str, Any]:
    """Record of a district whose task never returned (e.g. its workers kept dying)."""
    return {"district": spec.district, "row": spec.row, "status": "failed",
            "error": f"{type(exc).__name__}: {exc}", "elapsed_s": 0.0, "cpu_s": 0.0,
            "peak_rss_mb": 0.0, "worker": None, "summary": None}


def run_batch(
    districts: str | Path | Sequence[DistrictSpec],
    out_dir: str | Path,
    *,
    client: Any = None,
    workers: int = 2,
    scheduler: str | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    retries: int = 1,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    task: Callable[[DistrictSpec, str], dict[str, Any]] = run_district,
) -> BatchResult:
    """Run every district as one Dask task and write the province tables and map.

    Parameters
    ----------
    districts
        A districts table (see :mod:`planner.batch.districts`) or its specs.
    out_dir
        Output folder: ``out_dir/<district>/`` as ``planner run`` writes it, plus
        ``province_summary.csv``, ``province_targets.csv`` and ``province_map.html``.
    client
        An existing :class:`distributed.Client` to use (then ``workers``, ``scheduler``
        and ``memory_limit`` are ignored).
    workers
        Worker processes of the local cluster.
    scheduler
        Address of an existing scheduler (``tcp://host:8786``); no local cluster is started.
    memory_limit
        Per worker of a local cluster (e.g. ``"2GiB"``).
    retries
        Extra attempts for a task that raised outside its own error handling.
    on_result
        Called with each district's record as it finishes (for a progress bar).
    task
        The function run per district (tests wrap it to simulate faults).

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        The districts table is unusable, or ``out_dir`` holds a user's file under a
        province file's name (before any district starts).
    """
    from distributed import Client, as_completed  # noqa: PLC0415

    started = time.perf_counter()
    specs = list(read_districts(districts) if isinstance(districts, (str, Path)) else districts)
    out = check_output_paths(out_dir)  # writable (made only once the cluster is there)
    check_province_files(out)  # a user's province_summary.csv: refused before any district
    if client is None and not scheduler:
        _check_memory_limit(memory_limit)
    own_cluster = None
    if client is None:
        if scheduler:
            client = _connect(scheduler)
        else:
            own_cluster = local_cluster(workers, memory_limit=memory_limit)
            client = Client(own_cluster)
    own_client = own_cluster is not None or scheduler is not None
    records: list[dict[str, Any]] = []
    futures: dict[str, DistrictSpec] = {}
    pending: list[Any] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        _clear_staging(out)
        for spec in specs:
            fut = client.submit(task, spec, str(out.resolve()), pure=False, retries=retries,
                                key=f"planner-district-{spec.row}-{spec.district}-{time.time_ns()}")
            futures[fut.key] = spec
            pending.append(fut)
        for fut in as_completed(pending):
            spec = futures[fut.key]
            try:
                rec = fut.result()
            except Exception as exc:
                rec = _lost(spec, exc)
            records.append(rec)
            if on_result is not None:
                on_result(rec)
    except BaseException:
        client.cancel(pending)
        raise
    finally:
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()
    summary = province_summary(records)
    files = write_province(records, out, summary=summary)
    records.sort(key=lambda r: r["row"])
    return BatchResult(records, summary, files, time.perf_counter() - started)
