"""Every coding solution in notebooks/solutions/ passes its exercise's check.

The contract: a lesson's stub is ``my_<name>`` and its check ``retina_lesson.exercises.check_<name>``;
a solution file defines ``my_<name>`` for every coding exercise of its lesson.
"""
import importlib.util
import re
from pathlib import Path

import pytest

from retina_lesson import exercises

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
NOTEBOOKS = SOLUTIONS.parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"solution_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _solutions():
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.py")):
        module = _load(path)
        for name in sorted(n for n in vars(module) if n.startswith("my_")):
            yield pytest.param(getattr(module, name), name[3:], id=f"{path.stem[:2]}-{name}")


@pytest.mark.parametrize("solution, name", list(_solutions()))
def test_solution_passes_its_check(solution, name, capsys):
    check = getattr(exercises, f"check_{name}", None)
    assert check is not None, f"no retina_lesson.exercises.check_{name} for my_{name}"
    assert check(solution)
    assert "cases agree" in capsys.readouterr().out


def _stubs(notebook: Path) -> set[str]:
    text = notebook.read_text(encoding="utf-8")
    return set(re.findall(r"def (my_\w+)\(", text))


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.name[:2])
def test_every_stub_of_a_lesson_has_a_solution_and_a_check(notebook):
    stubs = _stubs(notebook)
    if not stubs:
        pytest.skip(f"{notebook.name} has no coding exercise")
    solution_files = list(SOLUTIONS.glob(f"{notebook.name[:2]}_*.py"))
    assert solution_files, f"no solution file for {notebook.name} in notebooks/solutions/"
    solved = {n for n in vars(_load(solution_files[0])) if n.startswith("my_")}
    assert stubs <= solved, f"stubs without a solution: {sorted(stubs - solved)}"
    missing = sorted(s for s in stubs if not hasattr(exercises, f"check_{s[3:]}"))
    assert not missing, f"stubs without a check: {missing}"
