"""The files ``planner sites`` writes.

As writer functions for :func:`planner.scenarios.output.write_files`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.io.writers import to_json, write_csv
from planner.scenarios import compare
from planner.scenarios.maps import before_after_map
from planner.sites.search import SiteSearch

#: Columns of ``sites.csv``.
SITE_COLUMNS = ["rank", "candidate_id", "name", "kind", "floor_area_m2", "households_within",
                "communities_won", "households_won", "lon", "lat"]


#: The files ``planner sites`` writes into its output folder (the keys of
#: :func:`site_writers`, known before any computing so that a user's file of one of these
#: names is refused first).
SITE_FILES = ("sites.csv", "tradeoff.csv", "streets_before_after.csv",
              "targets_before_after.csv", "sites_map.html", "sites_summary.json")


def sites_table(search: SiteSearch) -> pd.DataFrame:
    """The chosen sites as a plain table with WGS84 ``lon``/``lat``."""
    sites = search.sites
    pts = sites.geometry.to_crs(4326)
    out = pd.DataFrame(sites.drop(columns=sites.geometry.name)).reset_index()
    out["lon"], out["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    if "name" not in out:
        out["name"] = ""
    return out[SITE_COLUMNS]


def site_writers(search: SiteSearch) -> dict[str, Callable[[Path], object]]:
    """File name → writer of every output of a site search."""
    diff = compare(search.before, search.after)
    title = (f"{len(search.sites)} new sites ({search.model}) — "
             f"{search.verified_households:,} households")
    writers: dict[str, Callable[[Path], object]] = {
        "sites.csv": lambda p: write_csv(sites_table(search), p),
        "tradeoff.csv": lambda p: write_csv(search.curve, p),
        "streets_before_after.csv": lambda p: write_csv(diff.streets, p),
        "targets_before_after.csv": lambda p: write_csv(diff.targets, p),
        "sites_map.html": lambda p: before_after_map(search.before, search.after,
                                                     title=title).save(p),
        "sites_summary.json": lambda p: Path(p).write_text(to_json(search.summary()),
                                                           encoding="utf-8"),
    }
    return writers  # the names of SITE_FILES, in its order (tests/test_sites.py checks)
