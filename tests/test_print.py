"""The printed map: PNG and PDF pages, their sizes, marks, CJK glyphs and errors."""

from __future__ import annotations

import struct
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from shapely.geometry import LineString, Point, box

from planner._errors import InputError
from planner.maps import BaseMap, printing
from planner.maps.files import planner_made
from planner.maps.printing import MissingFontError, cjk_font, print_map

CRS = "EPSG:32649"
X0, Y0 = 500_000.0, 2_410_000.0


@pytest.fixture
def layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    comm = gpd.GeoDataFrame(
        {"households": [800, 300, 1200], "service_status": ["meets", "below_standard",
                                                             "uncovered"],
         "shortfall_m2": [0.0, 37.5, 180.0]},
        geometry=[box(X0, Y0, X0 + 150, Y0 + 150), box(X0 + 400, Y0, X0 + 550, Y0 + 150),
                  Point(X0 + 900, Y0 + 500)],
        index=pd.Index(["C1", "C2", "C3"], name="community_id"), crs=CRS)
    fac = gpd.GeoDataFrame(
        {"kind": ["day_care", "station"], "floor_area_m2": [600.0, 150.0],
         "status": ["existing", "planned"], "meets_min_size": [True, False]},
        geometry=[Point(X0 + 230, Y0 + 200), Point(X0 + 620, Y0 + 260)],
        index=pd.Index(["F1", "F2"], name="facility_id"), crs=CRS)
    return comm, fac


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels from the PNG header (IHDR)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize(("size", "expected"), [
    # A4 landscape 297 × 210 mm at 50 dpi: 11.69 in × 50 = 584.6 → 584, 8.27 × 50 → 413
    ("a4", (584, 413)),
    # A3 420 × 297 mm: 16.54 × 50 = 826.8 → 826, 11.69 × 50 → 584
    ("a3", (826, 584)),
    # slide 13.333 × 7.5 in: 666, 375 (16:9)
    ("slide", (666, 375)),
])
def test_png_pages(layers, tmp_path, size, expected):
    comm, fac = layers
    out = print_map(comm, fac, tmp_path / f"{size}.png", title="城南片区 gap map", size=size,
                    dpi=50)
    assert _png_size(out) == expected
    assert planner_made(out)  # "Software: planner" in the PNG


def test_pdf_with_base_and_notes(layers, tmp_path):
    comm, fac = layers
    base = BaseMap(streets=gpd.GeoSeries([LineString([(X0, Y0 - 50), (X0 + 900, Y0 - 50)])],
                                         crs=CRS),
                   water=gpd.GeoSeries([box(X0, Y0 + 300, X0 + 900, Y0 + 340)], crs=CRS),
                   boundary=gpd.GeoSeries([box(X0 - 50, Y0 - 100, X0 + 950, Y0 + 550)], crs=CRS))
    out = print_map(comm.to_crs(4326), fac.to_crs(4326), tmp_path / "map.pdf", title="缺口图",
                    base=base, notes=["合成示例数据 synthetic sample"] * 30, data_date="2026-11",
                    size="a3")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert planner_made(out)
    # a second print replaces ours; a file of the user's is never replaced
    print_map(comm, fac, out, title="again")
    theirs = tmp_path / "theirs.png"
    theirs.write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    with pytest.raises(InputError, match="not written by planner"):
        print_map(comm, fac, theirs, title="t")
    assert theirs.read_bytes() == b"\x89PNG\r\n\x1a\nnot ours"


def test_footer_keeps_to_the_page():
    # 30 notes of 300 characters each on A4: 11.69 in / (7/72 in × 0.52) = 224 characters
    # a line; each note takes 2 lines at most and the footer at most 12 lines
    lines = printing._footer_lines(["x" * 300] * 30, "2026-11", width=11.69, max_lines=12)
    assert len(lines) == 12
    assert lines[0] == "数据日期 data date: 2026-11"
    assert lines[-1].startswith("… 30 条说明")
    assert max(len(line) for line in lines[1:-1]) <= int(0.97 * 11.69 / (7 / 72 * 0.52))
    # a Chinese character counts as two: 10 of them need 20 of the width
    assert printing._wrap("养老服务设施面积缺口", 12) == ["养老服务设施", "  面积缺口"]


@pytest.mark.parametrize(("span_m", "expected_m"), [
    (4_300, 500),    # a fifth is 860 m: the largest of 100/200/500 under it is 500
    (1_000, 200),    # 200 exactly
    (12_000, 2_000),  # 2,400 → 2,000
    (90, 10),        # 18 → 10
])
def test_scale_bar_lengths(span_m, expected_m):
    assert printing._nice_length(span_m) == expected_m


def test_cjk_font_has_chinese_glyphs():
    font = FT2Font(font_manager.findfont(cjk_font(), fallback_to_default=False))
    for ch in "养老服务圈缺口图例":
        assert font.get_char_index(ord(ch)) != 0, ch  # 0 is the missing glyph


def test_no_cjk_font_is_a_clear_error(layers, tmp_path, monkeypatch):
    monkeypatch.setattr(printing, "CJK_FONTS", ("No Such Font 宋体X",))
    comm, fac = layers
    with pytest.raises(MissingFontError, match="apt-get install fonts-wqy-microhei"):
        print_map(comm, fac, tmp_path / "x.png", title="t")
    assert not (tmp_path / "x.png").exists()


def test_bad_size_and_suffix(layers, tmp_path):
    comm, fac = layers
    with pytest.raises(InputError, match="unknown print size 'a5'"):
        print_map(comm, fac, tmp_path / "x.png", title="t", size="a5")
    with pytest.raises(InputError, match=r"give a \.png or \.pdf"):
        print_map(comm, fac, tmp_path / "x.jpg", title="t")
