"""Notebooks are executed top to bottom, as a planner would run them."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "communities change status" in text
    # adding facilities only adds shares in a 2SFCA: the shortfall cannot grow
    m = re.search(r"shortfall ([\d,]+) m² -> ([\d,]+) m²", text)
    before, after = (int(g.replace(",", "")) for g in m.groups())
    assert after <= before


def test_there_is_a_notebook():
    assert NOTEBOOKS, "notebooks/ should hold at least one scenario notebook"
