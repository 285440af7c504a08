"""Province tables and map from the districts' records.

``province_summary.csv``
    one row per district in table order: ``district, row, status`` (``done``, ``skipped``,
    ``failed``), ``error``, ``profile``, ``communities``, ``households``,
    ``households_meets``, ``households_below_standard``, ``households_uncovered``,
    ``households_unreachable``, ``share_households_served`` (households within the walking
    circle of a counted facility, i.e. ``meets`` + ``below_standard``, over all households),
    ``share_households_meets``, ``required_m2``, ``shortfall_m2``, ``facilities``,
    ``targets_passed``, ``targets_failed``, ``elapsed_s`` (wall, s), ``cpu_s`` (s),
    ``peak_rss_mb`` (MB), ``worker`` (host:pid) and ``folder``; a last row
    ``district = "(province)"`` adds up the districts with results.
``province_targets.csv``
    one row per district and target: ``district, id, metric, label_zh, label_en,
    numerator, denominator, value, threshold, passed, source``.
``province_map.html``
    the districts (outline of their communities) coloured by ``share_households_served``,
    each linking to its own ``gap_map.html``.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from planner._errors import InputError
from planner.io.guard import Manifest
from planner.io.writers import write_csv

__all__ = ["PROVINCE_FILES", "PROVINCE_TEMP_PREFIX", "PROVINCE_TOTAL", "check_province_files",
           "province_map", "province_summary", "province_targets", "write_province"]

#: The files a batch writes into its output folder itself (beside the district folders).
PROVINCE_FILES = ("province_summary.csv", "province_targets.csv", "province_map.html")

#: Prefix of the temporary files the province tables are written through.
PROVINCE_TEMP_PREFIX = ".partial-planner-province-"
#: ``district`` label of the totals row.
PROVINCE_TOTAL = "(province)"
_STATUSES = ("meets", "below_standard", "uncovered", "unreachable")
#: Columns of ``province_summary.csv``, in order.
SUMMARY_COLUMNS = ("district", "row", "status", "error", "profile", "communities", "households",
                   *(f"households_{s}" for s in _STATUSES), "share_households_served",
                   "share_households_meets", "required_m2", "shortfall_m2", "facilities",
                   "targets_passed", "targets_failed", "elapsed_s", "cpu_s", "peak_rss_mb",
                   "worker", "folder")
#: First columns of ``province_targets.csv``.
TARGET_COLUMNS = ("district", "id", "metric", "label_zh", "label_en", "numerator",
                  "denominator", "value", "threshold", "passed", "source")
#: Found in every ``province_map.html`` (how a file of an older batch is recognised).
_MAP_MARK = '<script type="application/json" id="province-data">'

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
    row |= {"elapsed_s": round(rec["elapsed_s"], 2), "cpu_s": round(rec.get("cpu_s", 0.0), 2),
            "peak_rss_mb": round(rec["peak_rss_mb"], 1), "worker": rec.get("worker"),
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
             "cpu_s": round(frame["cpu_s"].sum(), 2),
             "peak_rss_mb": frame["peak_rss_mb"].max()}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    frame = _shares(frame)
    return frame[list(SUMMARY_COLUMNS)]


def province_targets(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Every district's targets, one row per district and target (see module doc)."""
    rows = [{"district": r["district"], **t}
            for r in sorted(records, key=lambda r: r["row"]) if r.get("summary")
            for t in r["summary"].get("targets", [])]
    columns = list(TARGET_COLUMNS)
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


_PAGE_JS = """
var data = JSON.parse(document.getElementById('province-data').textContent);
var map = L.map('map');
var layer = L.geoJSON(data, {
  style: function (f) { return {fillColor: f.properties.colour, color: '#333', weight: 1,
                                fillOpacity: 0.7}; },
  onEachFeature: function (f, l) {
    l.bindTooltip(f.properties.district + ': ' + f.properties.share);
    l.bindPopup('<b>' + f.properties.district + '</b><br>步行圈内户数占比 / served: ' +
                f.properties.share + '<br>' + f.properties.link);
  }
}).addTo(map);
if (data.features.length) { map.fitBounds(layer.getBounds()); } else { map.setView([35, 110], 4); }
"""


def _feature(rec: dict[str, Any], share: Any) -> dict[str, Any] | None:
    import shapely  # noqa: PLC0415

    batch = (rec.get("summary") or {}).get("batch", {})
    if not batch.get("outline_wgs84"):
        return None
    name = html.escape(rec["district"])
    label = "n/a" if share is None or pd.isna(share) else f"{100 * share:.1f}%"
    link = (name if batch.get("no_map") else
            f'<a href="{quote(rec["district"])}/gap_map.html" target="_blank">'
            f"{name} 缺口图 / gap map</a>")
    geometry = json.loads(shapely.to_geojson(shapely.from_wkt(batch["outline_wgs84"])))
    return {"type": "Feature", "geometry": geometry,
            "properties": {"district": name, "share": label, "colour": _colour(share),
                           "link": link}}


def province_map(summary: pd.DataFrame, records: Sequence[dict[str, Any]], *,
                 title: str = "全省养老服务圈 / province elderly-care circles") -> str:
    """Self-contained web page of the districts coloured by share of households served.

    Parameters
    ----------
    summary
        From :func:`province_summary`.
    records
        The districts' records (their ``summary["batch"]["outline_wgs84"]`` is drawn: the
        convex hull of the district's communities).

    Returns
    -------
    str
        HTML with Leaflet inlined (opens offline). One polygon per district with results;
        its popup links to ``<district>/gap_map.html`` (relative, so the output folder can
        be moved or zipped). Failed districts are listed in the title box.
    """
    from planner.maps import assets  # noqa: PLC0415

    shares = summary.set_index("district")["share_households_served"]
    feats = [f for r in records if (f := _feature(r, shares.get(r["district"]))) is not None]
    data = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # stays inside its <script> element
    failed = summary.loc[summary["status"] == "failed", "district"].tolist()
    note = (f"<br>失败 / failed: {html.escape(', '.join(failed))}" if failed else "")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{assets.leaflet_css()}</style>",
        "<style>html,body,#map{height:100%;margin:0}#box{position:absolute;top:10px;"
        "left:50px;z-index:1000;background:#fff;padding:6px 10px;border:1px solid #999;"
        "font:14px sans-serif}</style>",
        f"<script>{assets.leaflet_js()}</script>", "</head><body>",
        f'<div id="box"><b>{html.escape(title)}</b><br>颜色：步行圈内户数占比 / colour: share '
        f"of households within a walking circle (red 0% → green 100%){note}</div>",
        '<div id="map"></div>',
        f'<script type="application/json" id="province-data">{data}</script>',
        f"<script>{_PAGE_JS}</script>", "</body></html>"])


def _atomic_write(path: Path, write: Any, manifest: Manifest, old: list[int]) -> Path:
    """Write through a temporary file beside ``path`` and rename it into place.

    The manifest lists the new size with the old ones before the rename (an interrupted
    batch leaves either file the planner's) and the new size alone after it.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{PROVINCE_TEMP_PREFIX}{path.name}-")
    os.close(fd)
    try:
        write(Path(tmp))
        size = Path(tmp).stat().st_size
        manifest.write({**manifest.files, path.name: sorted({*old, size})})
        os.replace(tmp, path)
        manifest.write({**manifest.files, path.name: [size]})
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _older_batch_file(path: Path) -> bool:
    """True when ``path`` is a province file of a batch from before manifests (by content)."""
    try:
        with path.open(encoding="utf-8-sig") as f:
            head = f.read() if path.suffix == ".html" else f.readline()  # the data: after Leaflet
    except (OSError, UnicodeDecodeError):
        return False
    first = head.split("\n", 1)[0].rstrip("\r")
    if path.name == "province_summary.csv":
        return first == ",".join(SUMMARY_COLUMNS)
    if path.name == "province_targets.csv":
        return first.startswith(",".join(TARGET_COLUMNS))
    return _MAP_MARK in head


def check_province_files(out_dir: str | Path) -> None:
    """Refuse an output folder holding a user's file under a province file's name.

    A province file is the planner's when the folder's manifest lists it at its size, or,
    when the manifest does not list it (a folder of an older batch), when its content is
    a province file's (the summary's header, the map's data element). Called before any
    district runs, and again by :func:`write_province`.

    Raises
    ------
    InputError
        Naming the file and what to do.
    """
    out = Path(out_dir)
    if not out.is_dir():
        return
    manifest = Manifest.read(out)
    for name in manifest.foreign(PROVINCE_FILES):
        if name not in manifest.files and _older_batch_file(out / name):
            continue
        path = out / name
        msg = (f"{path} exists and was not written by planner (or was changed since): the "
               f"batch writes its province table there and will not replace your file. "
               "Rename it or move it away, or give another --out folder; no district was run.")
        raise InputError(msg)


def write_province(records: Sequence[dict[str, Any]], out_dir: str | Path, *,
                   summary: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write ``province_summary.csv``, ``province_targets.csv`` and ``province_map.html``.

    Parameters
    ----------
    records
        The districts' records.
    out_dir
        The batch's output folder; its manifest (``.planner-outputs.json``) records the
        three files, keeping the entries of any other file.
    summary
        :func:`province_summary` of ``records`` when already made.

    Returns
    -------
    dict
        File name → path.

    Raises
    ------
    InputError
        A file of one of these names that planner did not write is in ``out_dir``
        (:func:`check_province_files`); nothing is written.
    """
    out = Path(out_dir)
    check_province_files(out)
    summary = province_summary(records) if summary is None else summary
    targets = province_targets(records)
    m = province_map(summary, records)
    writers = {
        "province_summary.csv": lambda p: write_csv(summary, p),
        "province_targets.csv": lambda p: write_csv(targets, p),
        "province_map.html": lambda p: p.write_text(m, encoding="utf-8"),
    }
    manifest = Manifest.read(out)
    written = {}
    for name, write in writers.items():
        old = manifest.files.get(name, [])
        path = _atomic_write(out / name, write, manifest, old)
        written[name] = path
    return written
