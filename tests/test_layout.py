"""The package's layout: imports point down the pipeline, and modules stay small.

Layers, low to high, as in docs/architecture.md. A module may import from its own layer
or lower ones, never higher, counting imports inside functions too (a lazy import is
still a dependency). Every top-level module or package of ``planner`` must have a layer,
so a new one is placed on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "planner"

LAYERS: list[set[str]] = [
    {"_errors", "settings", "units", "notes"},
    {"crs", "schema", "labels"},
    {"io"},
    {"network"},
    {"reach", "circles"},
    {"isochrones"},
    {"standards"},
    {"coverage"},
    {"gaps", "judge"},
    {"care", "terrain", "rasters"},
    {"pipeline", "diagnostics"},
    {"project", "scenarios", "sites", "maps", "report", "outputs", "sample"},
    {"batch", "run"},  # run: `planner run` as a library function, which batch reuses
    {"cli"},
    # the public facade re-exports names of every layer, imported on first use; it
    # imports only _errors and units when the package loads
    {"__init__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}

#: Known exceptions, each with the way out. The test fails when one is fixed, so the
#: list only shrinks.
KNOWN: dict[tuple[str, str], str] = {}


def top_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def planner_imports(path: Path) -> set[str]:
    """Top-level planner modules imported anywhere in ``path`` (absolute imports)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "planner":
                names = [f"planner.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("planner.")}
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    tops = {top_name(p) for p in MODULES}
    assert tops - set(LAYER) == set(), "place new modules in LAYERS (docs/architecture.md)"


def test_imports_point_down_the_pipeline():
    violations = {}
    for path in MODULES:
        me = LAYER[top_name(path)]
        for other in planner_imports(path) - {top_name(path), "__version__"}:
            if LAYER.get(other, -1) > me:
                violations[(str(path.relative_to(PACKAGE)), other)] = (
                    f"{top_name(path)} (layer {me}) imports {other} (layer {LAYER[other]})")
    unexpected = {k: v for k, v in violations.items() if k not in KNOWN}
    assert unexpected == {}
    fixed = set(KNOWN) - set(violations)
    assert fixed == set(), "a known exception is fixed: remove it from KNOWN"


def test_the_check_sees_a_violation(tmp_path):
    # the checker itself: a module importing upward is reported
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from planner.maps import gap_map\n", encoding="utf-8")
    assert planner_imports(bad) == {"maps"}


@pytest.mark.parametrize("area", ["reach", "isochrones", "coverage.py", "pipeline.py",
                                  "circles.py", "units.py", "labels.py"])
def test_modules_stay_small(area):
    paths = sorted((PACKAGE / area).rglob("*.py")) if (PACKAGE / area).is_dir() else [
        PACKAGE / area]
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
             for p in paths}
    assert {k: v for k, v in sizes.items() if v > 500} == {}
