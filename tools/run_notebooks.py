"""Execute notebooks in place (real mode by default) and strip volatile metadata.

    python tools/run_notebooks.py notebooks/02_anchors.ipynb      # one notebook
    python tools/run_notebooks.py                                  # all of them, in order

Notebooks are committed executed, in real mode (RETINA_LESSON_QUICK=0), so that a reader on the
web sees real results; `pytest` then re-runs them in quick mode and compares the teaching facts.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def finished_text(text: str) -> str:
    """What a terminal shows: each line keeps only what follows its last carriage return
    (a text progress bar stores every update; the reader should see the finished bar)."""
    lines = text.split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


def without_machine_paths(text: str) -> str:
    """Tracebacks and warnings name files by absolute path: keep them relative to the repository
    (or to site-packages), so no stored output shows the machine that ran it."""
    text = text.replace(str(ROOT) + "/", "")
    return re.sub(r"/\S*/(site-packages|dist-packages)/", r"\1/", text)


def merged_streams(outputs):
    """Consecutive stream outputs of the same name as one: a text bar arrives in many pieces (one
    per refresh), and only their concatenation shows which update came last."""
    merged = []
    for out in outputs:
        if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged


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
            continue
        cell.outputs = merged_streams(cell.outputs)
        for out in cell.outputs:
            if out.output_type == "stream":
                out.text = without_machine_paths(finished_text(out.text))
            elif out.output_type == "error":
                out.traceback = [without_machine_paths(line) for line in out.traceback]
            elif "text/plain" in out.get("data", {}):
                out.data["text/plain"] = without_machine_paths(out.data["text/plain"])
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
    os.environ["RETINA_LESSON_TEXT_PROGRESS"] = "1"  # stored bars are text, shown finished
    os.environ.pop("MPLBACKEND", None)
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for p in paths:
        print(f"{p.name}: {run(p):.1f} s (RETINA_LESSON_QUICK={os.environ['RETINA_LESSON_QUICK']})",
              flush=True)
