"""Province tables and map from the districts' records.

``province_summary.csv``
    one row per district in table order: ``district, row, status`` (``done``, ``skipped``,
    ``failed``), ``error``, ``profile``, ``communities``, ``households``,
    ``households_meets``, ``households_below_standard``, ``households_uncovered``,
    ``households_unreachable``, ``share_households_served`` (households within the walking
    circle of a counted facility, i.e. ``meets`` + ``below_standard``, over all households),
    ``share_households_meets``, ``required_m2``, ``shortfall_m2``, ``facilities``,
    ``targets_passed``, ``targets_failed``, ``elapsed_s`` (s), ``peak_rss_mb`` (MB) and
    ``folder``; a last row ``district = "(province)"`` adds up the districts with results.
``province_targets.csv``
    one row per district and target: ``district, id, metric, label_zh, label_en,
    numerator, denominator, value, threshold, passed, source``.
``province_map.html``
    the districts (outline of their communities) coloured by ``share_households_served``,
    each linking to its own ``gap_map.html``.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

__all__ = ["PROVINCE_TOTAL", "province_map", "province_summary", "province_targets",
           "write_province"]

#: ``district`` label of the totals row.
PROVINCE_TOTAL = "(province)"
_STATUSES = ("meets", "below_standard", "uncovered", "unreachable")
_SUMMED = ("communities", "households", *(f"households_{s}" for s in _STATUSES),
           "required_m2", "shortfall_m2", "facilities", "targets_passed", "targets_failed")


def _district_row(rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"district": rec["district"], "row": rec["row"],
                           "status": rec["status"], "error": rec["error"]}
    s = rec.get("summary")
    if s:
        c = s["communities"]
        hh = c["households_by_status"]
        passed = [t.get("passed") for t in s.get("targets", [])]
        row |= {"profile": s["profile"], "communities": c["count"],
                "households": c["households"],
                **{f"households_{k}": hh.get(k, 0) for k in _STATUSES},
                "required_m2": c["required_m2"], "shortfall_m2": c["shortfall_m2"],
                "facilities": s["facilities"]["count"],
                "targets_passed": sum(p is True for p in passed),
                "targets_failed": sum(p is False for p in passed)}
    row |= {"elapsed_s": round(rec["elapsed_s"], 2), "peak_rss_mb": round(rec["peak_rss_mb"], 1),
            "folder": rec["district"] if s else None}
    return row


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    hh = frame["households"].where(frame["households"] > 0)
    served = frame["households_meets"] + frame["households_below_standard"]
    frame["share_households_served"] = (served / hh).round(4)
    frame["share_households_meets"] = (frame["households_meets"] / hh).round(4)
    return frame


def province_summary(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per district (table order) and a province totals row (see module doc)."""
    rows = [_district_row(r) for r in sorted(records, key=lambda r: r["row"])]
    frame = pd.DataFrame(rows)
    for col in ("profile", *_SUMMED):
        if col not in frame:
            frame[col] = np.nan
    ok = frame["status"] != "failed"
    total = {"district": PROVINCE_TOTAL, "status": f"{int(ok.sum())} of {len(frame)} with results",
             **{c: frame.loc[ok, c].sum() for c in _SUMMED},
             "elapsed_s": round(frame["elapsed_s"].sum(), 2),
             "peak_rss_mb": frame["peak_rss_mb"].max()}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    frame = _shares(frame)
    order = ["district", "row", "status", "error", "profile", "communities", "households",
             *(f"households_{s}" for s in _STATUSES), "share_households_served",
             "share_households_meets", "required_m2", "shortfall_m2", "facilities",
             "targets_passed", "targets_failed", "elapsed_s", "peak_rss_mb", "folder"]
    return frame[order]


def province_targets(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Every district's targets, one row per district and target (see module doc)."""
    rows = [{"district": r["district"], **t}
            for r in sorted(records, key=lambda r: r["row"]) if r.get("summary")
            for t in r["summary"].get("targets", [])]
    columns = ["district", "id", "metric", "label_zh", "label_en", "numerator",
               "denominator", "value", "threshold", "passed", "source"]
    frame = pd.DataFrame(rows)
    for col in columns:
        if col not in frame:
            frame[col] = None
    return frame[columns + [c for c in frame if c not in columns]]


def _colour(share: float) -> str:
    """Red (0 %) through amber to green (100 %) for the share of households served."""
    if share is None or not np.isfinite(share):
        return "#9e9e9e"
    stops = [(0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80))]
    for (a, ca), (b, cb) in itertools.pairwise(stops):
        if share <= b:
            t = (share - a) / (b - a)
            rgb = [round(x + t * (y - x)) for x, y in zip(ca, cb, strict=True)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#1a9850"


def province_map(summary: pd.DataFrame, records: Sequence[dict[str, Any]], *,
                 title: str = "全省养老服务圈 / province elderly-care circles") -> Any:
    """Folium map of the districts coloured by share of households served.

    Parameters
    ----------
    summary
        From :func:`province_summary`.
    records
        The districts' records (their ``summary["batch"]["outline_wgs84"]`` is drawn).

    Returns
    -------
    folium.Map
        One polygon per district with results; its popup links to ``<district>/gap_map.html``
        (relative, so the output folder can be moved or zipped). Failed districts are
        listed in the title box.
    """
    import folium  # noqa: PLC0415
    import geopandas as gpd  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    shares = summary.set_index("district")["share_households_served"]
    feats = []
    for rec in records:
        outline = (rec.get("summary") or {}).get("batch", {}).get("outline_wgs84")
        if not outline:
            continue
        share = shares.get(rec["district"])
        has_map = not (rec["summary"].get("batch", {}).get("no_map"))
        link = f"{quote(rec['district'])}/gap_map.html"
        label = "n/a" if share is None or pd.isna(share) else f"{100 * share:.1f}%"
        anchor = f'<a href="{link}" target="_blank">{rec["district"]} 缺口图 / gap map</a>'
        feats.append({"district": rec["district"], "share": label, "colour": _colour(share),
                      "link": anchor if has_map else rec["district"],
                      "geometry": shapely.from_wkt(outline)})
    failed = summary.loc[summary["status"] == "failed", "district"].tolist()
    m = folium.Map(tiles=None, control_scale=True)
    if feats:
        gdf = gpd.GeoDataFrame(feats, geometry="geometry", crs="EPSG:4326")
        folium.GeoJson(
            gdf, name="districts",
            style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#333",
                                      "weight": 1, "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(["district", "share"],
                                          aliases=["区县 / district", "服务覆盖户比 / served"]),
            popup=folium.GeoJsonPopup(["district", "share", "link"],
                                      aliases=["区县", "served", "map"]),
        ).add_to(m)
        minx, miny, maxx, maxy = gdf.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    note = f"<br>失败 / failed: {', '.join(failed)}" if failed else ""
    box = (f'<div style="position:fixed;top:10px;left:50px;z-index:9999;background:white;'
           f'padding:6px;border:1px solid #999"><b>{title}</b><br>颜色：步行圈内户数占比 / '
           f'colour: share of households within a walking circle (red 0% → green 100%){note}</div>')
    m.get_root().html.add_child(folium.Element(box))
    return m


def _atomic_write(path: Path, write: Any) -> Path:
    """Write through a temporary file beside ``path`` and rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".partial-{path.name}-")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def write_province(records: Sequence[dict[str, Any]], out_dir: str | Path) -> dict[str, Path]:
    """Write ``province_summary.csv``, ``province_targets.csv`` and ``province_map.html``.

    Returns
    -------
    dict
        File name → path.
    """
    from planner.maps import save_map  # noqa: PLC0415

    out = Path(out_dir)
    summary = province_summary(records)
    targets = province_targets(records)
    m = province_map(summary, records)
    return {
        "province_summary.csv": _atomic_write(
            out / "province_summary.csv",
            lambda p: summary.to_csv(p, index=False, encoding="utf-8-sig")),
        "province_targets.csv": _atomic_write(
            out / "province_targets.csv",
            lambda p: targets.to_csv(p, index=False, encoding="utf-8-sig")),
        "province_map.html": _atomic_write(out / "province_map.html",
                                           lambda p: save_map(m, p)),
    }
