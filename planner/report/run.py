"""A run's results, from memory (an assessment) or read back from its output folder."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner._errors import InputError


@dataclass
class RunResults:
    """What the map, print and report read: the attributes of an assessment.

    Attributes
    ----------
    communities, facilities
        Assessed layers indexed by ``community_id`` / ``facility_id``.
    isochrones
        Walking circles, or ``None``.
    targets
        One row per target (``label_zh``, ``label_en``, ``value``, ``threshold``,
        ``passed``, and ``due_year``/``due_status`` when known).
    summary
        The run summary (``summary.json``).
    streets
        Per-street table, or ``None``.
    timeline
        Targets year by year as planned facilities open, or ``None``.
    """

    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame | None
    targets: pd.DataFrame
    summary: dict[str, Any]
    streets: pd.DataFrame | None = None
    timeline: pd.DataFrame | None = None


def from_assessment(result: Any) -> RunResults:
    """The parts of a :class:`planner.pipeline.Assessment` the reports read."""
    return RunResults(result.communities, result.facilities, result.isochrones,
                      result.targets, result.summary, getattr(result, "streets", None),
                      getattr(result, "timeline", None))


def load_run(out_dir: str | Path) -> RunResults:
    """Read a finished ``planner run`` output folder.

    Raises
    ------
    InputError
        The folder has no ``summary.json`` (not a finished run) or lacks a layer.
    """
    out = Path(out_dir)
    summary_path = out / "summary.json"
    if not summary_path.exists():
        msg = (f"{out} has no summary.json: it is not a finished `planner run` output folder. "
               "Give the --out folder of a run that completed.")
        raise InputError(msg)
    for name in ("communities.gpkg", "facilities.gpkg", "targets.csv"):
        if not (out / name).exists():
            msg = f"{out} lacks {name}; run `planner run … --out {out}` again"
            raise InputError(msg)
    comm = gpd.read_file(out / "communities.gpkg", layer="communities",
                         engine="pyogrio").set_index("community_id")
    fac = gpd.read_file(out / "facilities.gpkg", layer="facilities",
                        engine="pyogrio").set_index("facility_id")
    try:
        iso = gpd.read_file(out / "facilities.gpkg", layer="isochrones", engine="pyogrio")
    except Exception:  # the layer is absent when the run drew no circles
        iso = None
    if "meets_min_size" in fac:
        fac["meets_min_size"] = fac["meets_min_size"].map(_bool_or_none)
    targets = pd.read_csv(out / "targets.csv", encoding="utf-8-sig")
    if "passed" in targets:
        targets["passed"] = targets["passed"].map(_bool_or_none)
    streets = (pd.read_csv(out / "streets.csv", encoding="utf-8-sig")
               if (out / "streets.csv").exists() else None)
    timeline = (pd.read_csv(out / "timeline.csv", encoding="utf-8-sig")
                if (out / "timeline.csv").exists() else None)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return RunResults(comm, fac, iso, targets, summary, streets, timeline)


def _bool_or_none(value: Any) -> bool | None:
    """A stored flag ("True", "false", 1, NaN) as True, False or None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        return None
    return bool(value)
