"""Many projects against one prepared district: one table row per project, rejects for bad rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner._errors import InputError
from planner.io import write_csv
from planner.project.check import check_project
from planner.project.district import District
from planner.project.inputs import REJECT_COLUMNS, ProjectRows
from planner.project.model import Project
from planner.project.render import ROW_COLUMNS, to_row

log = logging.getLogger("planner")


@dataclass
class BatchResult:
    """Rows (one per checked project, :data:`~planner.project.render.ROW_COLUMNS`) and rejects."""

    rows: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int

    @property
    def counts(self) -> dict[str, int]:
        """Projects by verdict, and rejected rows."""
        v = self.rows["verdict"].value_counts() if len(self.rows) else pd.Series(dtype=int)
        return {"pass": int(v.get("pass", 0)),
                "pass_with_conditions": int(v.get("pass_with_conditions", 0)),
                "fail": int(v.get("fail", 0)),
                "rejected": int(self.rejects["row"].nunique()) if len(self.rejects) else 0}


#: Projects searched together (two searches per chunk; bounds the memory of a batch).
CHUNK = 250


def check_projects(
    district: District, read: ProjectRows,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Check every project read from a projects file.

    Projects are searched in chunks of :data:`CHUNK` (two reach-core searches per chunk,
    see :meth:`~planner.project.district.StudyGraphReach.projects_reach`); each is judged
    on its own, as if it were the only new project. A project that cannot be checked
    (its id is a community's) joins the rejects with its row; nothing is dropped:
    ``rows_read = len(rows) + rejected rows``.
    """
    rows: list[dict[str, Any]] = []
    rejects = [read.rejects] if len(read.rejects) else []
    ok: list[tuple[int, Project]] = []
    for row, project in read.projects:
        try:
            district.check_id(project)
        except InputError as exc:
            rejects.append(pd.DataFrame([{"layer": "projects", "file": "", "row": row,
                                          "column": "project_id",
                                          "value": project.project_id, "reason": str(exc)}]))
            continue
        ok.append((row, project))
    lonlat = _lonlat([p for _, p in ok], district.area.net.pyproj_crs)
    done = 0
    for start in range(0, len(ok), CHUNK):
        chunk = ok[start:start + CHUNK]
        reach = district.reach.projects_reach([p for _, p in chunk])
        for i, (row, project) in enumerate(chunk):
            check = check_project(district, project, reach=reach[project.project_id])
            rows.append({"row": row, **to_row(check, lonlat[start + i])})
            done += 1
            if progress is not None:
                progress(done, len(ok))
    table = pd.DataFrame(rows, columns=["row", *ROW_COLUMNS])
    rej = (pd.concat(rejects, ignore_index=True) if rejects
           else pd.DataFrame(columns=list(REJECT_COLUMNS)))
    return BatchResult(table, rej, read.rows_read)


def _lonlat(projects: list[Project], crs: Any) -> list[tuple[float, float]]:
    """WGS84 lon/lat of each project's representative point (one transformation)."""
    if not projects:
        return []
    pts = gpd.GeoSeries([p.geometry.representative_point() for p in projects], crs=crs)
    wgs = pts.to_crs(4326)
    return list(zip(wgs.x.to_numpy(float), wgs.y.to_numpy(float), strict=True))


#: The first cells of a file this module writes (how it recognises its own files).
_OWN_HEADER = ("row", "project_id")


def _is_own(path: Path) -> bool:
    try:
        first = path.read_text(encoding="utf-8-sig").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return False
    cells = tuple(c.strip() for c in first.split(",")[:2])
    return cells in (_OWN_HEADER, ("layer", "file"))


def check_batch_out(out: str | Path) -> tuple[Path, Path]:
    """The results file and its rejects file, after checking neither is a user's file.

    Called before any computing (``planner check-project --projects``) and again by
    :func:`write_batch`.

    Raises
    ------
    InputError
        ``out`` (or ``<stem>_rejects.csv`` beside it) exists and was not written by
        ``planner check-project``: the planner never overwrites a file it did not create.
    """
    out = Path(out)
    rejects = out.with_name(out.stem + "_rejects.csv")
    for path in (out, rejects):
        if path.exists() and not _is_own(path):
            msg = (f"{path} exists and was not written by planner check-project; choose "
                   "another --out file, or move that file away (the planner never "
                   "overwrites other files).")
            raise InputError(msg)
    return out, rejects


def write_batch(result: BatchResult, out: str | Path) -> tuple[Path, Path]:
    """Write the rows to ``out`` (CSV) and the rejects beside it (``<stem>_rejects.csv``).

    Raises
    ------
    InputError
        ``out`` (or the rejects file) exists and was not written by this command: the
        planner never overwrites a file it did not create.
    """
    out, rejects = check_batch_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(result.rows, out)
    write_csv(result.rejects, rejects)
    return out, rejects
