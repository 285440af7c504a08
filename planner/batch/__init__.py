"""Province-wide runs: many districts on a Dask cluster, one task per district.

::

    read_districts(DISTRICTS.csv) ─► DistrictSpec per row (small, picklable)
    run_batch ─► Dask: run_district(spec) on a worker per district
                 (load the network there, assess, write DIR/<district>/ as `planner run`)
              ─► write_province: province_summary.csv, province_targets.csv, province_map.html

See :mod:`planner.batch.runner` for faults, memory and clusters.
"""

from planner.batch.districts import DistrictSpec, read_districts
from planner.batch.province import province_summary, province_targets, write_province
from planner.batch.runner import DEFAULT_MEMORY_LIMIT, BatchResult, local_cluster, run_batch
from planner.batch.task import district_fingerprint, is_complete, run_district

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "BatchResult",
    "DistrictSpec",
    "district_fingerprint",
    "is_complete",
    "local_cluster",
    "province_summary",
    "province_targets",
    "read_districts",
    "run_batch",
    "run_district",
    "write_province",
]
