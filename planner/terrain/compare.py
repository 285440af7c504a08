"""What the hills take away: the same district assessed flat and with terrain, side by side.

Both functions take the outputs of two assessments of one study area (the second with
``StudyArea.terrain`` set) and return plain tables keyed by the planners' ids::

    flat = assess(area, profile)
    area.terrain = load_terrain(area.net, dem="dem.tif", network="roads.gpkg")
    hilly = assess(area, profile)
    compare_communities(flat.communities, hilly.communities)
    compare_circles(flat.isochrones, hilly.isochrones)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

#: Service statuses that mean "inside a facility's walking circle".
COVERED = ("meets", "below_standard")


def compare_communities(flat: pd.DataFrame, terrain: pd.DataFrame) -> pd.DataFrame:
    """Per community: minutes to the nearest facility and status, flat and with terrain.

    Parameters
    ----------
    flat, terrain
        Community results indexed by ``community_id`` with ``nearest_minutes`` and
        ``service_status`` (and ``households``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``community_id``: ``households``, ``nearest_minutes_flat``,
        ``nearest_minutes_terrain``, ``minutes_added`` (terrain − flat; NaN where either is
        beyond the search limit), ``service_status_flat``, ``service_status_terrain`` and
        ``lost_circle`` (inside a circle on the flat, outside with terrain).
    """
    out = pd.DataFrame(index=flat.index)
    out["households"] = flat["households"]
    out["nearest_minutes_flat"] = flat["nearest_minutes"]
    out["nearest_minutes_terrain"] = terrain["nearest_minutes"].reindex(flat.index)
    out["minutes_added"] = out["nearest_minutes_terrain"] - out["nearest_minutes_flat"]
    out["service_status_flat"] = flat["service_status"]
    out["service_status_terrain"] = terrain["service_status"].reindex(flat.index)
    out["lost_circle"] = (out["service_status_flat"].isin(COVERED)
                          & ~out["service_status_terrain"].isin(COVERED))
    return out


def compare_circles(flat: gpd.GeoDataFrame, terrain: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per facility: walking-circle area flat and with terrain (m², metric CRS).

    Parameters
    ----------
    flat, terrain
        Isochrone layers with ``facility_id`` and polygons in a metric CRS.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``facility_id``: ``circle_area_m2_flat``, ``circle_area_m2_terrain``
        and ``area_lost_share`` (1 − terrain / flat; NaN for an empty flat circle).
    """
    def areas(layer: gpd.GeoDataFrame) -> pd.Series:
        ids = layer["facility_id"] if "facility_id" in layer else layer.index.to_series()
        return pd.Series(layer.geometry.area.to_numpy(), index=pd.Index(ids, name="facility_id"))

    a, b = areas(flat), areas(terrain)
    out = pd.DataFrame({"circle_area_m2_flat": a, "circle_area_m2_terrain": b.reindex(a.index)})
    flat_m2 = out["circle_area_m2_flat"].to_numpy()
    share = np.full(len(out), np.nan)
    ok = flat_m2 > 0
    share[ok] = 1.0 - out["circle_area_m2_terrain"].to_numpy()[ok] / flat_m2[ok]
    out["area_lost_share"] = share
    return out


def summary_lines(communities: pd.DataFrame, circles: pd.DataFrame | None = None) -> list[str]:
    """A few lines for reports: what the terrain changes, in households and area."""
    lost = communities["lost_circle"]
    added = communities["minutes_added"].dropna()
    lines = [
        f"terrain adds {added.median():.1f} min (median), {added.quantile(0.9):.1f} min "
        f"(90th percentile) to the walk to the nearest facility",
        f"{int(lost.sum())} communities ({int(communities.loc[lost, 'households'].sum()):,} "
        "households) fall out of every walking circle",
    ]
    if circles is not None and len(circles):
        share = circles["area_lost_share"].dropna()
        lines.append(f"walking circles lose {100 * share.median():.0f} % of their area "
                     f"(median; up to {100 * share.max():.0f} %)")
    return lines
