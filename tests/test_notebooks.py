"""Notebooks are executed top to bottom, as a planner would run them; their findings are
sentences computed from the results, checked here against the numbers they state."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _run(path: Path, tmp_path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def _number(text: str) -> int:
    return int(text.replace(",", "").replace("+", ""))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    text = _run(path, tmp_path)
    findings = [line for line in text.splitlines() if line.startswith("FINDING:")]
    assert findings, "every notebook states its finding in words"
    if path.stem.startswith("01"):
        shares = [int(s) for s in re.findall(r"(\d+)% of the district's", text)]
        assert shares and 0 <= shares[0] <= 100
        assert re.search(r"the street with the largest shortfall is \S+", text)
    if path.stem.startswith("02"):
        # adding a station only adds shares in a 2SFCA: the shortfall cannot grow
        m = re.search(r"add a station: .* shortfall ([\d,]+) m² -> ([\d,]+) m²", text)
        assert _number(m.group(2)) <= _number(m.group(1))
        # slower walking shrinks every circle: nobody can newly meet the standard
        m = re.search(r"walk at 0\.8 m/s: .*households meeting the standard ([+-][\d,]+)", text)
        assert _number(m.group(1)) <= 0
        m = re.search(r"new project: .*uncovered ([+-][\d,]+)", text)
        assert m is not None
    if path.stem.startswith("03"):
        m = re.search(
            r"bring ([\d,]+) households to the standard .*greedy heuristic reaches ([\d,]+)", text)
        assert _number(m.group(2)) <= _number(m.group(1))  # greedy never beats the optimum
        assert "proven optimal" in text


def test_there_are_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03"]
