"""Column headers: normalisation, Chinese and English aliases, required columns."""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner import schema
from planner._errors import InputError, MissingColumnError

logger = logging.getLogger("planner")

#: Header aliases shared by every table, after :func:`normalise_header`.
_COMMON_ALIASES: dict[str, str] = {
    "名称": "name",
    "街道": "street",
    "乡镇": "street",
    "街道/乡镇": "street",
    "所属街道": "street",
    "状态": "status",
}
#: Header aliases of community tables.
COMMUNITY_ALIASES: dict[str, str] = {
    **_COMMON_ALIASES,
    "id": "community_id",
    "小区编号": "community_id",
    "编号": "community_id",
    "community_": "community_id",  # Shapefile truncates names to 10 characters
    "小区名称": "name",
    "小区名": "name",
    "小区": "name",
    "户数": "households",
    "总户数": "households",
    "房屋总数": "households",
    "household": "households",
    "人口": "residents",
    "常住人口": "residents",
    "老年人口": "elderly",
    "60岁以上": "elderly",
    "60岁以上人口": "elderly",
    "建成年代": "completion_year",
    "竣工年份": "completion_year",
    "buildtime": "completion_year",
    "completion": "completion_year",
    "小区类型": "status",
    "新建/老旧": "status",
    "城乡": "area_type",
    "区域类型": "area_type",
    "area_type": "area_type",
    "社区": "shequ",
    "所属社区": "shequ",
    "社区/村": "shequ",
    "街道类型": "street_type",
    "street_typ": "street_type",  # Shapefile truncation
    "统筹组": "pooling_group",
}
#: Header aliases of facility tables.
FACILITY_ALIASES: dict[str, str] = {
    **_COMMON_ALIASES,
    "id": "facility_id",
    "设施编号": "facility_id",
    "编号": "facility_id",
    "facility_i": "facility_id",
    "设施名称": "name",
    "类型": "kind",
    "设施类型": "kind",
    "面积": "floor_area_m2",
    "建筑面积": "floor_area_m2",
    "建筑面积(平方米)": "floor_area_m2",
    "建筑面积(m2)": "floor_area_m2",
    "建筑面积(㎡)": "floor_area_m2",
    "floor_area": "floor_area_m2",
    "床位": "beds",
    "床位数": "beds",
    "护理型床位": "nursing_beds",
    "护理型床位数": "nursing_beds",
    "开业年份": "opening_year",
    "建成年份": "opening_year",
    "级别": "level",
    "层级": "level",
    "所属社区": "shequ",
    "配建小区": "serves_community_id",
    "配建小区编号": "serves_community_id",
}
#: Header aliases of gate tables.
GATE_ALIASES: dict[str, str] = {
    "id": "community_id",
    "小区编号": "community_id",
    "编号": "community_id",
    "community_": "community_id",
}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "point_x")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "point_y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")

STATUS_SYNONYMS = {"new": "new", "old": "old", "新建": "new", "新": "new", "老旧": "old",
                   "旧": "old", "老": "old", "老城区": "old", "已建成": "old"}
AREA_TYPE_SYNONYMS = {"urban": "urban", "rural": "rural", "城市": "urban", "城镇": "urban",
                      "城区": "urban", "农村": "rural", "乡村": "rural"}
STREET_TYPE_SYNONYMS = {"street": "street", "township": "township", "街道": "street",
                        "乡镇": "township", "镇": "township", "乡": "township"}
LEVEL_SYNONYMS = {"county": "county", "township": "township", "community": "community",
                  "县级": "county", "区级": "county", "县": "county", "乡镇": "township",
                  "街道": "township", "乡镇级": "township", "社区": "community",
                  "社区级": "community"}
FACILITY_STATUS_SYNONYMS = {"existing": "existing", "planned": "planned", "现状": "existing",
                            "现有": "existing", "已建": "existing", "规划": "planned",
                            "拟建": "planned", "在建": "planned"}


def _kind_synonyms() -> dict[str, str]:
    """Kind labels (key, Chinese names split on '/', English label) → kind key."""
    out: dict[str, str] = {}
    for key, (zh, en) in schema.FACILITY_KINDS.items():
        out[key] = key
        out[en.lower()] = key
        out[zh] = key
        for part in zh.split("/"):
            out[part] = key
    out.update({"社区日间照料中心": "day_care", "日间照料站": "day_care",
                "社区养老服务中心": "station",
                "养老服务站": "station", "互助幸福院": "mutual_aid", "农村幸福院": "mutual_aid"})
    return out


KIND_SYNONYMS = _kind_synonyms()


# ---------------------------------------------------------------------------
# headers


def normalise_header(name: object) -> str:
    """Normalise a column header: NFKC (full-width → ASCII), strip, lower, ``_`` for spaces.

    Parameters
    ----------
    name
        The header as read.

    Returns
    -------
    str
        For example ``" Floor  Area(平方米)"`` → ``"floor_area(平方米)"``; full-width
        brackets and digits become ASCII first.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"\s+", "_", text)


def _rename_columns(table: pd.DataFrame, aliases: dict[str, str],
                    path: Path | None = None) -> pd.DataFrame:
    """Normalise headers and map aliases; a canonical name already present wins."""
    geometry_name = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    normalised = {col: normalise_header(col) for col in table.columns if col != geometry_name}
    canonical = set(aliases.values())
    used = {norm for norm in normalised.values() if norm in canonical}
    mapping: dict[str, str] = {}
    for col, norm in normalised.items():
        target = aliases.get(norm, norm)
        if target != norm and target in used:
            target = norm  # e.g. both 编号 and community_id: keep community_id
        used.add(target)
        mapping[col] = target
    _check_duplicate_headers(mapping, path)
    return table.rename(columns=mapping)


def _check_duplicate_headers(mapping: Mapping[Any, str], path: Path | None) -> None:
    """Raise InputError when two headers mean the same column (``households``, ``Households``)."""
    seen: dict[str, object] = {}
    for col, target in mapping.items():
        if target in seen:
            where = f"{path}: " if path is not None else ""
            msg = (f"{where}the columns {str(seen[target])!r} and {str(col)!r} both mean "
                   f"{target!r}. Keep one of them (delete or rename the other) and try again.")
            raise InputError(msg)
        seen[target] = col


def _require(table: pd.DataFrame, required: tuple[str, ...], aliases: dict[str, str],
             path: Path) -> None:
    """Raise MissingColumnError naming the columns found and the closest match."""
    for name in required:
        if name in table.columns:
            continue
        found = [str(c) for c in table.columns if c not in ("geometry", "_row")]
        hints = [k for k, v in aliases.items() if v == name and not k.isascii()]
        close = difflib.get_close_matches(name, found, n=1, cutoff=0.5)
        close += difflib.get_close_matches(name, [normalise_header(c) for c in found], n=1)
        advice = (f" The closest is {close[0]!r}: rename it to {name!r}." if close
                  else f" Add a column {name!r} (or {' / '.join(hints[:3])}).")
        unnamed = [c for c in found if normalise_header(c).startswith("unnamed")]
        if unnamed and len(unnamed) >= len(found) / 2:
            advice += (" The first row looks like a title (merged cells), not the header: "
                       "delete the rows above the header in Excel and save again.")
        msg = (f"{path}: required column {name!r} is missing"
               f"{' (Chinese headers ' + ', '.join(hints) + ' also work)' if hints else ''}."
               f" Columns found: {', '.join(found)}.{advice}")
        raise MissingColumnError(msg)
