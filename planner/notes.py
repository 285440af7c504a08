"""Notes every report must carry about the data and the results, so no answer is silently wrong.

- :func:`synthetic_notes`: the "synthetic sample" label, from the marker that
  ``planner sample`` writes into its GeoPackage (layer metadata
  :data:`SYNTHETIC_MARKER`), never from a README that happens to lie beside real data.
- :func:`clustered_notes`: most communities at one point (a failed geocoding puts every
  address at the city centre).
- :func:`result_notes`: most communities unreachable; every facility planned while
  planned facilities are not counted.

Each returns lines for ``summary.json`` ``notes`` (also shown by the CLI and the map).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

log = logging.getLogger("planner")

#: GeoPackage layer metadata key (and value) that ``planner sample`` writes.
SYNTHETIC_MARKER = {"planner_synthetic_sample": "yes"}
SYNTHETIC_NOTE = "合成示例数据，并非真实地点 / synthetic sample — not a real place"
#: "Most" communities, for the notes below.
MOST_SHARE = 0.5
#: Points closer than this are "the same point" (metres, or 1e-5 degrees ~ 1 m).
SAME_POINT_DEGREES = 1e-5


def synthetic_notes(path: str | Path) -> list[str]:
    """The synthetic-sample note when ``path`` carries the marker of ``planner sample``."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        return []
    try:
        for name, _ in pyogrio.list_layers(path):
            meta = pyogrio.read_info(path, layer=name).get("layer_metadata") or {}
            if all(meta.get(k) == v for k, v in SYNTHETIC_MARKER.items()):
                return [SYNTHETIC_NOTE]
    except MemoryError:
        raise
    except Exception:  # an unreadable file has no marker; the reader reports it
        return []
    return []


def clustered_notes(layer_wgs84: pd.DataFrame, *, what: str, path: Path) -> list[str]:
    """A note when most points of a layer sit on one spot (failed geocoding)."""
    if len(layer_wgs84) < 3:
        return []
    pts = shapely.get_coordinates(layer_wgs84.geometry.representative_point().to_numpy())
    keys = np.round(pts / SAME_POINT_DEGREES).astype(np.int64)
    _, counts = np.unique(keys, axis=0, return_counts=True)
    top = int(counts.max())
    if top <= MOST_SHARE * len(layer_wgs84):
        return []
    note = (f"{path.name}: {top} of {len(layer_wgs84)} {what} share one location: their "
            "coordinates look like a failed geocoding (every address placed at one point). "
            "Distances for them are meaningless; geocode the addresses again")
    log.warning(note)
    return [note]


def result_notes(comm: pd.DataFrame, fac: pd.DataFrame, *, include_planned: bool,
                 snap_max_m: float | None = None,
                 files: dict[str, Path] | None = None) -> list[str]:
    """Notes on results that look wrong.

    Most communities unreachable; no assessed facility near any road (naming the
    snapping distance and the files); every facility planned while planned ones are
    not counted.
    """
    notes = []
    files = files or {}
    assessed = fac[fac["in_assessment"].astype(bool)] if "in_assessment" in fac else fac
    if len(assessed) and "network_component" in assessed and \
            (assessed["network_component"] < 0).all():
        where = f"{snap_max_m:g} m" if snap_max_m is not None else "the snapping distance"
        names = " and ".join([*(Path(files[k]).name for k in ("facilities",) if k in files),
                              Path(files["network"]).name if "network" in files
                              else "the road network"])
        notes.append(
            f"none of the {len(assessed)} assessed facilities lies within {where} of a road, "
            f"so no community is served: check that {names} cover the same place"
            " and that their coordinate systems are declared right")
    if len(comm) and "service_status" in comm:
        unreachable = int((comm["service_status"] == "unreachable").sum())
        if unreachable > MOST_SHARE * len(comm):
            notes.append(
                f"{unreachable} of {len(comm)} communities are unreachable (farther than the "
                "snapping distance from every road): check that the network covers the "
                "district and that --communities-crs / --network-crs are right")
    if len(fac) and "status" in fac and not include_planned:
        planned = int((fac["status"] == "planned").sum())
        if planned == len(fac):
            notes.append(
                f"all {planned} facilities are planned, none existing, so every community is "
                "uncovered; add --include-planned to count planned facilities as built")
    for line in notes:
        log.warning(line)
    return notes
