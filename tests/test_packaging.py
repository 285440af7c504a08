"""environment.yml must offer conda users exactly the dependencies of pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: PyPI name -> conda-forge name where they differ.
CONDA_NAMES = {"osmium": "pyosmium"}


def _requirements(spec: list[str]) -> dict[str, str]:
    out = {}
    for item in spec:
        name, floor = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", item).groups()
        out[CONDA_NAMES.get(name.lower(), name.lower())] = floor.replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirements(project["dependencies"])
    for extra in ("test", "bench", "sites"):
        wanted |= _requirements(project["optional-dependencies"][extra])
    listed = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s+-\s+([A-Za-z0-9_.-]+)(\S*)\s*$", line)
        if m and m.group(1) != "python" and not line.strip().startswith("- conda-forge"):
            listed[m.group(1).lower()] = m.group(2)
    assert listed == wanted
