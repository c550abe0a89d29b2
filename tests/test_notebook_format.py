"""Every lesson keeps the course's conventions (tools/check_notebooks.py): a slide type on every
cell, no cell over 20 lines, nbval markers as tags, quick mode read in one cell, exercises with
checks, a folded self-test, Chinese terms, and stored outputs without widgets, unfinished bars or
machine paths."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "check_notebooks", Path(__file__).resolve().parent.parent / "tools" / "check_notebooks.py")
check_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_notebooks)


@pytest.mark.parametrize("path", check_notebooks.lessons(), ids=lambda p: p.name[:2])
def test_lesson_keeps_the_conventions(path):
    found = check_notebooks.problems(path)
    assert not found, "\n".join(found)


def test_the_checks_catch_what_they_claim(tmp_path):
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1,
            "source": "# NBVAL_CHECK_OUTPUT\n" + "x = 1\n" * 21,
            "outputs": [{"output_type": "stream", "name": "stderr",
                         "text": "  0%|  | 0/9\r100%|##| 9/9\n/root/x.py:3: Warning\n"}]}
    path = tmp_path / "05_demo.ipynb"
    path.write_text(__import__("json").dumps({"cells": [cell], "metadata": {}}))
    found = "\n".join(check_notebooks.problems(path))
    for what in ("no slide type", "22 lines", "NBVAL_", "carriage returns", "machine path",
                 "exercise stubs", "folded answers", "Chinese"):
        assert what in found, what
