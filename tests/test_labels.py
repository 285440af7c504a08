"""One bilingual label table: planner.labels names each coded value, no module keeps a copy.

The scan reads the package source (``ast``) for the two shapes a copied label table takes:
a dict keyed by the codes of a table (``{"new": ..., "old": ...}``) whose values carry
Chinese text, and a ``("中文", "English")`` pair that repeats a label of the table. Input
spellings (``{"城镇": "urban"}`` in the readers) map text *to* a code and are not labels.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import planner
from planner.labels import (
    AREA_TYPE_LABELS,
    COMMUNITY_STATUS_LABELS,
    LABELS,
    PROJECT_STATUS_LABELS,
    label,
)
from planner.standards.loader import load_profile
from planner.standards.rules import range_position
from planner.standards.text import _item_text

PACKAGE = Path(planner.__file__).parent
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: Modules allowed their own label words (none: planner/project takes PROJECT_STATUS_LABELS).
_NOT_YET_FOLDED: set[str] = set()


def _is_str(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _has_cjk(node: ast.AST | None) -> bool:
    if _is_str(node):
        return bool(_CJK.search(node.value))  # type: ignore[union-attr]
    if isinstance(node, ast.Tuple):
        return any(_has_cjk(e) for e in node.elts)
    return False  # an f-string builds a name (the sample's "{小区}日间照料中心"), not a label


def label_copies(source: str) -> list[str]:
    """Where ``source`` keeps its own copy of a label: ``line: what`` for each."""
    tables = [set(t) for t in LABELS.values()]
    zh_labels = {p[0] for t in LABELS.values() for p in t.values()}
    en_labels = {p[1] for t in LABELS.values() for code, p in t.items() if p[1] != code}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict) and node.keys and all(_is_str(k) for k in node.keys):
            keys = {k.value for k in node.keys}  # type: ignore[union-attr]
            if any(keys <= t for t in tables) and any(_has_cjk(v) for v in node.values):
                found.append(f"{node.lineno}: table keyed by {sorted(keys)}")
        if (isinstance(node, ast.Tuple) and len(node.elts) == 2
                and all(_is_str(e) for e in node.elts)):
            zh, en = (e.value for e in node.elts)  # type: ignore[attr-defined]
            if zh in zh_labels or en in en_labels:
                found.append(f"{node.lineno}: pair ({zh!r}, {en!r})")
    return found


def test_the_scan_finds_a_copied_table_and_a_copied_pair():
    # the two shapes the standards model held before this change (城市, "old/built-up")
    source = ('_STATUS_LABELS = {"new": ("新建住宅小区", "new-build"),\n'
              '                  "old": ("老旧小区/已建成小区", "old/built-up")}\n'
              '_AREA_LABELS = {"urban": ("城市", "urban"), "rural": ("农村", "rural")}\n'
              'X = ("日间照料中心", "day centre")\n')
    found = label_copies(source)
    # line 1: the status dict and its new-build pair; line 3: the area dict and 农村 pair;
    # line 4: a kind pair with the table's Chinese label
    assert [f.split(":")[0] for f in found].count("1") == 2
    assert [f.split(":")[0] for f in found].count("3") == 2
    assert any(f.startswith("4: pair") for f in found)


def test_input_spellings_are_not_label_copies():
    # readers map spellings to codes: keys are text, values codes
    assert label_copies('SYN = {"城镇": "urban", "城市": "urban", "农村": "rural"}\n') == []


def test_no_module_keeps_its_own_label_table():
    copies = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name == "labels.py" or name in _NOT_YET_FOLDED:
            continue
        found = label_copies(path.read_text(encoding="utf-8"))
        if found:
            copies[name] = found
    assert copies == {}, f"take these labels from planner.labels: {copies}"


def test_one_wording_of_urban_and_old():
    # the policy texts' words: 城镇 (001, 004: 城镇社区) and 老城区、已建成小区
    # (建标〔2014〕23号 老城区和已建成居住区; seeds 000, 003, 004)
    assert AREA_TYPE_LABELS["urban"] == ("城镇", "urban")
    assert COMMUNITY_STATUS_LABELS["old"] == ("老城区、已建成小区", "old district / built-up")
    assert label("status", "old", lang="en") == "old district / built-up"
    assert label("area_type", "rural") == "农村"
    # a renovation project is a different thing from an old district's estate
    assert PROJECT_STATUS_LABELS["old"][0] != COMMUNITY_STATUS_LABELS["old"][0]


@pytest.fixture(scope="module")
def wanzhou():
    return load_profile("wanzhou")


def test_profile_text_takes_its_labels_from_the_table(wanzhou):
    # Wanzhou 002 item 25: urban 15 minutes, rural 25 minutes
    urban = _item_text("circle_minutes.urban", wanzhou.circle_minutes["urban"])
    rural = _item_text("circle_minutes.rural", wanzhou.circle_minutes["rural"])
    assert urban == (f"{AREA_TYPE_LABELS['urban'][0]}服务圈15分钟",
                     f"{AREA_TYPE_LABELS['urban'][1]} circle 15 min")
    assert rural == (f"{AREA_TYPE_LABELS['rural'][0]}服务圈25分钟",
                     f"{AREA_TYPE_LABELS['rural'][1]} circle 25 min")
    old = _item_text("area_per_100hh.old", wanzhou.area_per_100hh["old"])
    assert old[0].startswith(COMMUNITY_STATUS_LABELS["old"][0])
    assert old[1] == f"{COMMUNITY_STATUS_LABELS['old'][1]} 15 m² per 100 households"
    # Wanzhou states no old-district number: the national 15 is inherited
    assert range_position(16, "old", wanzhou) == (
        f"16.0 meets ≥ 15 (national {COMMUNITY_STATUS_LABELS['old'][1]} minimum, inherited)")
