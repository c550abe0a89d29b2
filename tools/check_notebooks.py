"""The course's conventions for a lesson, checked: slides, short cells, tags, stored outputs.

    python tools/check_notebooks.py                       # every lesson
    python tools/check_notebooks.py notebooks/03_*.ipynb  # some

Prints each problem on one line (``lesson: cell N: what``) and exits 1 when there is any.
``tests/test_notebook_format.py`` runs the same checks under pytest.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
MAX_LINES = 20
CJK = re.compile(r"[\u4e00-\u9fff]")
MACHINE_PATH = re.compile(r"(?<![\w.])/(home|root|work|tmp|Users|opt)/\S+")
WIDGET = "application/vnd.jupyter.widget-view+json"
# exercises each lesson sets at least (issue 16): 00 has none
MIN_EXERCISES = {"09": 1, "10": 1, "13": 1, "00": 0}


def source(cell) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _text(text) -> str:
    return text if isinstance(text, str) else "".join(text)


def output_texts(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            yield out["output_type"], _text(out.get("text", ""))
        elif out.get("output_type") == "error":
            yield "error", "\n".join(out.get("traceback", []))
        else:
            data = out.get("data", {})
            if WIDGET in data:
                yield "widget", ""
            yield "data", _text(data.get("text/plain", ""))


def problems(path: Path) -> list[str]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    lesson = Path(path).name[:2]
    found = []
    quick_cells, stubs, checks, details, chinese = [], 0, 0, 0, False
    for k, cell in enumerate(nb["cells"]):
        where = f"{Path(path).name}: cell {k}"
        src = source(cell)
        kind = cell["cell_type"]
        slide = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if slide not in SLIDE_TYPES:
            found.append(f"{where}: no slide type (metadata.slideshow.slide_type)")
        if k == 0 and slide != "slide":
            found.append(f"{where}: the first cell must start a slide")
        n = len(src.rstrip("\n").splitlines())
        if n > MAX_LINES:
            found.append(f"{where}: {n} lines ({kind}; at most {MAX_LINES})")
        chinese = chinese or bool(CJK.search(src))
        details += src.count("<details")
        if kind != "code":
            continue
        if "NBVAL_" in src:
            found.append(f"{where}: an NBVAL_ comment (use the cell tag instead)")
        if re.search(r"\bQUICK\b|\bscale\(", src):
            quick_cells.append(k)
        stubs += len(re.findall(r"^\s*raise NotImplementedError", src, flags=re.M))
        checks += len(re.findall(r"\bcheck_\w+\(", src))
        for what, text in output_texts(cell):
            if what == "widget":
                found.append(f"{where}: a widget output (stored bars must be text)")
            if "\r" in text:
                found.append(f"{where}: a stored output with carriage returns (unfinished bar)")
            m = MACHINE_PATH.search(text)
            if m:
                found.append(f"{where}: an output shows a machine path ({m.group(0)[:60]})")
    if len(quick_cells) > 1:
        found.append(f"{Path(path).name}: quick mode is read in cells {quick_cells} "
                     "(keep it to the one setup cell)")
    need = MIN_EXERCISES.get(lesson, 2)
    if stubs < need or checks < need:
        found.append(f"{Path(path).name}: {stubs} exercise stubs and {checks} checks "
                     f"(at least {need} of each)")
    if lesson != "00" and details < 3:
        found.append(f"{Path(path).name}: {details} folded answers (<details>); "
                     "the self-test needs 3-5")
    if lesson != "00" and not chinese:
        found.append(f"{Path(path).name}: no Chinese term from notebooks/GLOSSARY.md")
    return found


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or lessons()
    all_found = [line for p in paths for line in problems(p)]
    print("\n".join(all_found) or f"{len(paths)} lessons: no problems")
    sys.exit(1 if all_found else 0)
