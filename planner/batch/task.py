"""One district of a batch: the task a Dask worker runs.

:func:`run_district` runs ``planner run``'s own code (:func:`planner.run.run_planner`: load,
assess, draw the gap map with its care layers, write) on the worker, reading the network
from its path or the compiled-network cache there: only the small
:class:`~planner.batch.districts.DistrictSpec` goes through the scheduler, and only a small
record (counts, targets, an outline) comes back.

Faults stay inside the district: any error becomes a ``failed`` record with its message, so
the other districts finish. A district's files are written into a hidden staging folder
``DIR/.partial-planner-…`` and the folder is renamed into place when complete, so an
interrupted batch (Ctrl-C, a lost worker) never leaves a half-written ``DIR/<district>/``;
the next batch removes the staging folders (only those carrying the planner's mark).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

from planner.batch.districts import DistrictSpec

log = logging.getLogger("planner")

__all__ = ["district_fingerprint", "is_complete", "run_district"]

#: Key of ``summary.json`` holding what the batch needs (fingerprint, outline).
BATCH_KEY = "batch"
#: Sidecar files that belong to a Shapefile (hashed with it).
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _file_digest(path: str) -> str:
    p = Path(path)
    parts = [p]
    if p.suffix.lower() == ".shp":
        parts = [q for q in (p.with_suffix(s) for s in _SHAPEFILE_PARTS) if q.exists()]
    h = hashlib.sha256()
    for part in parts:
        with part.open("rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def district_fingerprint(spec: DistrictSpec) -> str:
    """SHA-256 of a district's inputs: file contents, run options and the resolved profile.

    A rerun skips a district only when this matches the one stored in its
    ``summary.json``: changing a file, an option, a profile value (also an inherited one)
    or the planner version makes it run again.

    Raises
    ------
    InputError
        An input file does not exist (naming the district, the column and the path).
    """
    from planner import __version__  # noqa: PLC0415
    from planner._errors import InputError  # noqa: PLC0415
    from planner.standards import load_profile  # noqa: PLC0415

    files: dict[str, str | None] = {}
    for role in ("network", "communities", "facilities", "gates"):
        path = getattr(spec, role)
        if path is not None and not Path(path).is_file():
            msg = (f"district {spec.district!r} (row {spec.row}), column {role!r}: no file at "
                   f"{path}. Check the path in the districts table (relative paths are read "
                   "from the table's folder).")
            raise InputError(msg)
        files[role] = None if path is None else _file_digest(path)
    profile = load_profile(spec.profile)
    if spec.reading:
        profile = profile.with_reading(spec.reading)
    payload = {"files": files, "options": spec.options(), "profile": profile.to_dict(),
               "planner": __version__}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_summary(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(folder: str | Path, fingerprint: str) -> bool:
    """True when ``folder/summary.json`` exists and records ``fingerprint``."""
    summary = _read_summary(Path(folder))
    if not summary:
        return False
    return bool(summary.get(BATCH_KEY, {}).get("fingerprint") == fingerprint)


def _outline_wkt(communities: Any) -> str | None:
    """Convex hull of the district's communities in WGS84, as WKT (for the province map)."""
    import shapely  # noqa: PLC0415

    if len(communities) == 0:
        return None
    hull = communities.to_crs("EPSG:4326").geometry.union_all().convex_hull
    return shapely.to_wkt(hull, rounding_precision=6)


def _options(spec: DistrictSpec, out_dir: Path) -> dict[str, Any]:
    """The ``planner run`` options of a district (the rest keep ``planner run``'s defaults)."""
    return {"network": spec.network, "communities": spec.communities,
            "facilities": spec.facilities, "gates": spec.gates, "out_dir": str(out_dir),
            **spec.options()}


def _run(spec: DistrictSpec, out_root: Path, fingerprint: str) -> Path:
    """Run the district exactly as ``planner run`` does (:func:`planner.run.run_planner`).

    Its outputs never look half-written: a new district is written into a marked staging
    folder (``.partial-planner-…``, see :mod:`planner.io.guard`) and renamed into place
    when complete. An existing folder is updated by :func:`planner.outputs.write_outputs`
    itself, which replaces only the files the planner wrote there, one by one,
    ``summary.json`` (the completeness mark) last. The summary records the fingerprint.
    """
    from planner.io.guard import make_partial  # noqa: PLC0415
    from planner.run import run_planner  # noqa: PLC0415

    def batch_record(result: Any) -> dict[str, Any]:
        return {BATCH_KEY: {"district": spec.district, "fingerprint": fingerprint,
                            "outline_wgs84": _outline_wkt(result.communities),
                            "no_map": spec.no_map}}

    out_root.mkdir(parents=True, exist_ok=True)
    target = out_root / spec.district
    if target.exists():
        run_planner(_options(spec, target), summary_extra=batch_record)
        return target
    staging = make_partial(out_root)
    try:
        run_planner(_options(spec, staging / "district"), summary_extra=batch_record)
        os.replace(staging / "district", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _check_target(spec: DistrictSpec, out_root: Path) -> None:
    """Refuse an existing output folder that holds the district's own input files."""
    from planner.io.guard import check_output_paths  # noqa: PLC0415

    target = out_root / spec.district
    if target.exists():
        check_output_paths(target, inputs=[spec.network, spec.communities, spec.facilities,
                                           spec.gates])


def _peak_rss_mb() -> float:
    """Peak resident memory of this worker process so far, MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _record(spec: DistrictSpec, status: str, started: float, cpu_started: float, *,
            error: str | None = None, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    if summary is not None:
        summary = {k: v for k, v in summary.items() if k != "profile_detail"}  # keep it small
    return {"district": spec.district, "row": spec.row, "status": status, "error": error,
            "elapsed_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu_started, "peak_rss_mb": _peak_rss_mb(),
            "worker": f"{socket.gethostname()}:{os.getpid()}", "summary": summary}


def run_district(spec: DistrictSpec, out_root: str) -> dict[str, Any]:
    """Run one district, or skip it when its outputs are complete for the same inputs.

    Parameters
    ----------
    spec
        The district (from :func:`planner.batch.districts.read_districts`).
    out_root
        The batch's output folder; this district's files go to ``out_root/<district>``.

    Returns
    -------
    dict
        ``district``, ``row``, ``status`` (``done``, ``skipped`` or ``failed``), ``error``
        (the message, for ``failed``), ``elapsed_s`` (wall time, s), ``cpu_s`` (CPU time
        of the worker process during the task, s), ``peak_rss_mb`` (the worker process's
        peak resident memory so far, MB), ``worker`` (host:pid) and ``summary`` (the district's
        ``summary.json`` as a dict, ``None`` when failed).
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    root = Path(out_root)
    try:
        fingerprint = district_fingerprint(spec)
        if is_complete(root / spec.district, fingerprint):
            return _record(spec, "skipped", started, cpu_started,
                           summary=_read_summary(root / spec.district))
        _check_target(spec, root)
        _run(spec, root, fingerprint)
        return _record(spec, "done", started, cpu_started,
                       summary=_read_summary(root / spec.district))
    except MemoryError:
        return _record(spec, "failed", started, cpu_started,
                       error="ran out of memory: raise the worker memory limit "
                             "(--memory-limit) or clip the district's network")
    except Exception as exc:
        log.debug("district %s failed", spec.district, exc_info=True)
        return _record(spec, "failed", started, cpu_started, error=f"{type(exc).__name__}: {exc}")
