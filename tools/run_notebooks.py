"""Execute notebooks in place (real mode by default) and strip volatile metadata.

    python tools/run_notebooks.py notebooks/02_anchors.ipynb      # one notebook
    python tools/run_notebooks.py                                  # all of them, in order

Notebooks are committed executed, in real mode (RETINA_LESSON_QUICK=0), so that a reader on the
web sees real results; `pytest` then re-runs them in quick mode and compares the teaching facts.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def strip(nb):
    """Keep outputs and execution counts; drop timestamps and machine-specific metadata."""
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def run(path: Path, timeout: int = 1800) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.time()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(strip(nb), path)
    return time.time() - start


if __name__ == "__main__":
    os.environ.setdefault("RETINA_LESSON_QUICK", "0")
    os.environ.pop("MPLBACKEND", None)
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for p in paths:
        print(f"{p.name}: {run(p):.1f} s (RETINA_LESSON_QUICK={os.environ['RETINA_LESSON_QUICK']})",
              flush=True)
