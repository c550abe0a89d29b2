"""The command lines: what they share (``python -m retina_lesson.train`` is in ``train_cli``).

Shared rules: every option is checked by the parser (a bad one exits with status 2 and one line);
a bad file, folder or setting found later ends the command with one line naming it, status 1
(``--debug`` shows the traceback instead); Ctrl-C ends with status 130 and says what was kept;
no command overwrites a finished run; printed tables state their units and name the dataset.
``evaluate.py`` and ``debug.py`` hold their own command lines, built on these pieces.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from pathlib import Path

DEFAULT_OUT = Path("runs/shapes")
METRICS_FILE = "metrics.json"
UNITS = ("AP: mean over IoU 0.50:0.95; AP50, AP75: at IoU 0.5, 0.75; APs, APm, APl: objects "
         "under 32², 32²-96², over 96² px (-: none of that size)")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``prog: error: ... (see --help)``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(kind, name, minimum=None, positive=False):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if positive and not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive (> 0)")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return value
    parse.__name__ = name  # argparse names the type in its messages
    return parse


positive_int = _number(int, "a whole number", positive=True)
positive_float = _number(float, "a number", positive=True)
fraction = _number(float, "a number", minimum=0.0)


def unit_interval(text):
    value = fraction(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} must lie in [0, 1]")
    return value


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")


@contextlib.contextmanager
def one_line_errors(debug: bool = False, prog: str = "retina_lesson"):
    """Turn the errors a user can cause (a bad file, folder, setting; a diverging run) into one
    line on stderr and exit status 1, Ctrl-C into one line and status 130; with ``debug`` they
    propagate with their traceback."""
    from .checkpoint import CheckpointError

    try:
        yield
    except (ValueError, OSError, FloatingPointError, CheckpointError) as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        if os.environ.get("RANK", "0") == "0":  # under torchrun every process fails alike: 1 line
            print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # where the command has no more to say (it says it where it does)
        if debug:
            raise
        interrupted("the command stopped; files it writes are written whole or not at all")


def interrupted(message: str):
    """End a command interrupted by Ctrl-C: one line, exit status 130."""
    print(f"\ninterrupted: {message}", file=sys.stderr)
    raise SystemExit(130)


def dataset_label(data, split: str, quick: bool = False) -> str:
    """How tables and metrics.json name a dataset: ``shapes val`` or ``<folder name> val``."""
    if data is None:
        return f"shapes{' (quick)' if quick else ''} {split}"
    return f"{Path(data).resolve().name} {split}"


def format_metrics_table(rows: dict, dataset: str, images: int) -> str:
    """The command lines' AP table: fractions, units stated, the dataset named."""
    from .evaluate import format_ap_table

    return (f"COCO AP on {dataset} ({images} images), as fractions (0.480 = 48.0 %)\n{UNITS}\n"
            + format_ap_table(rows, percent=False))


def metrics_entry(metrics: dict, dataset: str, data, split: str, images: int, epoch) -> dict:
    """One evaluation as metrics.json stores it."""
    from .evaluate import METRICS

    keep = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    return {"dataset": dataset, "data": None if data is None else str(Path(data).resolve()),
            "split": split, "images": images, "checkpoint_epoch": epoch,
            "units": "fractions 0-1; -1: no objects of that size", "table": list(METRICS),
            "metrics": keep, "per_class_AP": metrics.get("per_class", {})}
