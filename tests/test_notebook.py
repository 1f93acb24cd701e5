"""The instructor's notebook, notebooks/lecture_claims.py (jupytext's percent format), executed as CI executes it:
from the committed tables alone, in under a minute, with no cell error and no TensorFlow in its kernel."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from conftest import lazy

# The docs extra's packages, imported at their first use (jupytext alone is 0.6 s of every worker's collection)
pytestmark = pytest.mark.skipif(any(importlib.util.find_spec(p) is None for p in ("jupytext", "nbclient", "nbformat")),
                                reason="the docs extra is not installed: pip install -e '.[docs]'")
jupytext, nbclient, nbformat = lazy("jupytext"), lazy("nbclient"), lazy("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "lecture_claims.py"
BUDGET_S = 60
LOADED = "import sys\nprint(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'tf_keras'}))"


@pytest.mark.slow  # starts a Jupyter kernel
def test_notebook_executes_in_a_minute_without_tensorflow(monkeypatch):
    monkeypatch.delenv("LECTURE_FIGURES", raising=False)  # the kernel inherits the environment: write no files
    notebook = jupytext.read(NOTEBOOK)
    notebook.cells.append(nbformat.v4.new_code_cell(LOADED))
    client = nbclient.NotebookClient(notebook, timeout=BUDGET_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError, naming the cell, on the first cell that fails
    took = time.monotonic() - start
    assert took < BUDGET_S, f"the notebook took {took:.0f} s, over its {BUDGET_S} s budget"
    loaded = "".join(o.get("text", "") for o in notebook.cells[-1].outputs).strip()
    assert loaded == "[]", f"the notebook's kernel imported {loaded}"
    figures = sum("image/png" in o.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                  for o in cell.outputs)
    assert figures >= 9, f"{figures} figures drawn: every claim and control should have one"


def test_notebook_is_a_reviewed_source_and_its_ipynb_is_not_committed():
    notebook = jupytext.read(NOTEBOOK)
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    assert "notebooks/*.ipynb" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
