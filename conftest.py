"""Root pytest configuration: `pytest` runs the unit tests and every notebook (nbval, quick mode).

* RETINA_LESSON_QUICK defaults to 1 so that notebooks shrink their work (set it to 0 for the
  real run, e.g. `RETINA_LESSON_QUICK=0 pytest --nbval notebooks/`).
* `pytest` alone compares notebooks in lax mode (only `# NBVAL_CHECK_OUTPUT` cells);
  `pytest --nbval` compares every cell. The mode is chosen here, not in addopts, because both
  flags together silently mean lax.
* nbval resolves the sanitize file from the current directory: make it absolute.
* tqdm bars and warnings go to stderr, which depends on the machine: never compared.
"""
import os
from pathlib import Path

os.environ.setdefault("RETINA_LESSON_QUICK", "1")
os.environ.pop("MPLBACKEND", None)  # the kernel inherits the environment; keep the inline backend


def pytest_configure(config):
    opt = config.option
    if hasattr(opt, "nbval_lax") and not (opt.nbval or opt.nbval_lax):
        opt.nbval_lax = True
    path = getattr(opt, "nbval_sanitize_with", None)
    if path and not Path(path).is_absolute():
        opt.nbval_sanitize_with = str(config.rootpath / path)


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
