"""Write an assessment and its gap map: :func:`planner.io.outputs.write_outputs` plus the map.

The writing itself (atomic, never over a user's file, Excel-safe CSV) lives in
:mod:`planner.io.outputs`, below the pipeline and the maps; this thin layer only turns
a gap map (:class:`planner.maps.GapMap`, our own small page template) into the function
that saves it (:func:`planner.maps.save_map`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.io.guard import check_output_paths
from planner.io.outputs import OUTPUT_CRS, OUTPUT_FILES, clear_partial, rejects_table
from planner.io.outputs import write_outputs as _write_outputs
from planner.maps import GapMap, save_map

__all__ = ["OUTPUT_CRS", "OUTPUT_FILES", "check_output_paths", "clear_partial",
           "rejects_table", "write_outputs"]


def write_outputs(
    result: Any,
    area: Any,
    out_dir: str | Path,
    *,
    gap_map: GapMap | None = None,
) -> dict[str, Path]:
    """Write every output file into ``out_dir``; see :func:`planner.io.outputs.write_outputs`.

    Parameters
    ----------
    result
        From :func:`planner.pipeline.assess`.
    area
        The study area (for the rejects report).
    out_dir
        The output folder (created if needed).
    gap_map
        The gap map (from :func:`planner.maps.gap_map`), or ``None`` to skip it.

    Returns
    -------
    dict
        File name → path of every file written.
    """
    writer = None if gap_map is None else (lambda path: save_map(gap_map, path))
    return _write_outputs(result, area, out_dir, gap_map=writer)
