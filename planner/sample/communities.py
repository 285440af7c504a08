"""Communities of the synthetic sample district.

Names, 街道/乡镇, households and the exact community count.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._errors import InputError
from planner.sample.layout import (
    _CHAR_A,
    _CHAR_B,
    _NEW_SUFFIXES,
    _OLD_SUFFIXES,
    _QUARTERS,
    _SURNAMES,
    _VILLAGE_SUFFIXES,
    _WORK_UNITS,
    OUTPUT_CRS,
    STREET_ZONE_M,
    TOWNSHIP_ZONE_M,
    _Layout,
    _polygons_to_wgs84,
)

# --------------------------------------------------------------------------- attributes


def _two_char_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` two-character auspicious name stems (repeats possible)."""
    a = rng.integers(0, len(_CHAR_A), n)
    b = rng.integers(0, len(_CHAR_B), n)
    return np.array([_CHAR_A[p] + _CHAR_B[q] for p, q in zip(a, b, strict=True)], dtype=object)


def _distinct_stems(n: int, rng: np.random.Generator) -> list[str]:
    """Draw ``n`` distinct two-character stems (for 街道 and 乡镇 names)."""
    total = len(_CHAR_A) * len(_CHAR_B)
    picks = rng.permutation(total)[: min(n, total)]
    stems = [_CHAR_A[k // len(_CHAR_B)] + _CHAR_B[k % len(_CHAR_B)] for k in picks]
    return stems + [f"{_QUARTERS[k // total % 5]}{stems[k % total]}" for k in range(total, n)]


def _community_names(zone: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw Chinese-looking community names by zone (0 old town, 1 new build, 2 village)."""
    n = len(zone)
    stems = _two_char_names(n, rng)
    pick = rng.integers(0, 1000, (3, n))
    work_unit = [
        _WORK_UNITS[k % len(_WORK_UNITS)]
        + "东西南北一二三"[k // len(_WORK_UNITS) % 7]
        + ("家属院" if k % 2 else "宿舍")
        for k in pick[1]
    ]
    old = np.where(
        pick[0] % 10 == 0,
        work_unit,
        stems + np.array([_OLD_SUFFIXES[k % len(_OLD_SUFFIXES)] for k in pick[2]], dtype=object),
    )
    new = stems + np.array([_NEW_SUFFIXES[k % len(_NEW_SUFFIXES)] for k in pick[2]], dtype=object)
    village = np.array(
        [
            _SURNAMES[p % len(_SURNAMES)] + _VILLAGE_SUFFIXES[q % len(_VILLAGE_SUFFIXES)]
            for p, q in zip(pick[1], pick[2], strict=True)
        ],
        dtype=object,
    )
    return np.select([zone == 0, zone == 1], [old, new], village)


def _zone_labels(
    x: np.ndarray, y: np.ndarray, extent: tuple[float, float, float, float], zone_m: float
) -> np.ndarray:
    """Return the index of the ~``zone_m`` square that each point falls in."""
    x0, y0, x1, y1 = extent
    kx = max(1, round((x1 - x0) / zone_m))
    ky = max(1, round((y1 - y0) / zone_m))
    ix = np.clip(((x - x0) / (x1 - x0) * kx).astype(int), 0, kx - 1)
    iy = np.clip(((y - y0) / (y1 - y0) * ky).astype(int), 0, ky - 1)
    return iy * kx + ix


def _admin_units(
    zone: np.ndarray, centre: np.ndarray, lay: _Layout, rng: np.random.Generator
) -> np.ndarray:
    """Name the 街道 (urban) or 乡镇 (rural) of every community."""
    extents = {
        0: (0, 0, lay.east_m, lay.south_road_m),
        1: (0, lay.north_road_m, lay.east_m, lay.height_m),
    }
    key = np.zeros(len(zone), dtype=np.int64)
    for z, extent in extents.items():
        m = zone == z
        key[m] = z * 1_000_000 + _zone_labels(centre[m, 0], centre[m, 1], extent, STREET_ZONE_M)
    m = zone == 2
    north = centre[m, 1] > lay.south_road_m
    along_m = np.where(north, centre[m, 1] - lay.north_road_m, centre[m, 1])
    key[m] = 2_000_000 + north * 1_000 + (along_m // TOWNSHIP_ZONE_M).astype(int)
    uniq, inverse = np.unique(key, return_inverse=True)
    stems = _distinct_stems(len(uniq), rng)
    rural = uniq >= 2_000_000
    suffix = np.where(rural, np.where(rng.random(len(uniq)) < 0.8, "镇", "乡"), "街道")
    return np.array([s + x for s, x in zip(stems, suffix, strict=True)], dtype=object)[inverse]


def _community_numbers(
    zone: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw households, residents, elderly and completion years by zone."""
    n = len(zone)
    u = rng.random((5, n))
    area_ha = area_m2 / 10_000
    old_hh = np.clip(area_ha * (60 + 70 * u[0]), 80, 600)
    new_hh = np.clip(area_ha * (150 + 150 * u[0]), 400, 2500)
    village_hh = 80 + 370 * u[0]
    households = (
        np.select([zone == 0, zone == 1], [old_hh, new_hh], village_hh).round().astype(np.int64)
    )
    residents = (households * (2.6 + 0.3 * u[1])).round().astype(np.int64)
    share = np.select(
        [zone == 0, zone == 1], [0.22 + 0.08 * u[2], 0.18 + 0.06 * u[2]], 0.24 + 0.06 * u[2]
    )
    year = np.select([zone == 0, zone == 1], [1960 + 46 * u[3], 2008 + 17 * u[3]], 1975 + 36 * u[3])
    return {
        "households": households,
        "residents": residents,
        "elderly": (residents * share).round().astype(np.int64),
        "completion_year": np.floor(year).astype(np.int64),
    }


# --------------------------------------------------------------------------- counts


def _proportional(counts: list[int], target: int) -> list[int]:
    """Split ``target`` over zones in proportion to ``counts`` (largest remainders)."""
    total = sum(counts)
    exact = [c * target / total for c in counts]
    out = [int(e) for e in exact]
    for k in sorted(range(len(counts)), key=lambda k: out[k] - exact[k])[: target - sum(out)]:
        out[k] += 1
    return out


def _split_groups(
    groups: np.ndarray, resident: np.ndarray, need: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split old-town groups into single blocks until ``need`` are residential."""
    cells = (groups[:, 1] - groups[:, 0] + 1) * (groups[:, 3] - groups[:, 2] + 1)
    order = np.r_[
        rng.permutation(np.flatnonzero(resident)), rng.permutation(np.flatnonzero(~resident))
    ]
    gain = np.where(resident[order], cells[order] - 1, cells[order])
    reached = np.searchsorted(np.cumsum(gain), need - resident.sum())
    if reached >= len(order):
        msg = (
            f"n_communities asks for {need:,} old-town communities but this size has only "
            f"{cells.sum():,} blocks; raise size or lower n_communities"
        )
        raise InputError(msg)
    split = np.zeros(len(groups), bool)
    split[order[: reached + 1]] = True
    singles = []
    for j0, j1, i0, i1 in groups[split]:
        j, i = (g.ravel() for g in np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1)))
        singles.append(np.c_[j, j, i, i])
    single_rows = np.concatenate(singles)
    groups = np.r_[groups[~split], single_rows]
    resident = np.r_[resident[~split], np.ones(len(single_rows), bool)]
    surplus = rng.choice(
        np.flatnonzero(resident[-len(single_rows) :]) + len(groups) - len(single_rows),
        resident.sum() - need,
        replace=False,
    )
    resident[surplus] = False
    return groups, resident


def _keep_random(mask: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``mask`` with only ``k`` of its True entries, chosen at random, kept."""
    out = np.zeros_like(mask)
    out[rng.choice(np.flatnonzero(mask), k, replace=False)] = True
    return out


def _apply_target(
    target: int | None, groups: np.ndarray, masks: list[np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Adjust which old-town groups, superblocks and villages are residential."""
    counts = [int(m.sum()) for m in masks]
    if target is None or target == sum(counts):
        return groups, masks
    if target < 1:
        msg = f"n_communities must be at least 1, not {target}"
        raise InputError(msg)
    if target < sum(counts):
        keep = _proportional(counts, target)
        return groups, [_keep_random(m, k, rng) for m, k in zip(masks, keep, strict=True)]
    groups, old = _split_groups(groups, masks[0], target - counts[1] - counts[2], rng)
    return groups, [old, masks[1], masks[2]]


def _communities_frame(
    lay: _Layout, polys: list[np.ndarray], offset: np.ndarray, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Build the communities table with a private ``zone`` column (0 old, 1 new, 2 village)."""
    geoms = np.concatenate(polys)
    zone = np.concatenate([np.full(len(p), z) for z, p in enumerate(polys)])
    centre = shapely.get_coordinates(shapely.point_on_surface(geoms))
    numbers = _community_numbers(zone, shapely.area(geoms), rng)
    frame = pd.DataFrame(
        {
            "community_id": [f"C{k + 1:04d}" for k in range(len(geoms))],
            "name": _community_names(zone, rng),
            **numbers,
            "status": np.where(zone == 1, "new", "old"),
            "area_type": np.where(zone == 2, "rural", "urban"),
            "street": _admin_units(zone, centre, lay, rng),
            "zone": zone,
            "x_m": centre[:, 0],
            "y_m": centre[:, 1],
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=_polygons_to_wgs84(geoms, offset).to_numpy(), crs=OUTPUT_CRS
    )
