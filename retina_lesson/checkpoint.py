"""Checkpoints and result files: written atomically, read safely, damage named in one line.

A checkpoint is a ``torch.save`` d dict of tensors and plain data (``model``, ``optimizer``,
``epoch``, ``history``, ``config``, ...), read back with ``weights_only=True`` so that loading a
file never runs code from it. Every write goes to a temporary file that is renamed over the old
one, so an interrupted write (Ctrl-C, a kill, a full disk) leaves the previous file intact and no
partial file behind.
"""
from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import torch

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "write_json", "atomic_write"]


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint of this course; the message names the file."""


def atomic_write(path, write) -> Path:
    """Call ``write(tmp_path)``, then rename ``tmp_path`` to ``path``; on any failure (Ctrl-C
    included) the temporary file is removed and ``path`` keeps its old content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(path, **state) -> None:
    """Write to a temporary file, then rename: a kill mid-save never loses the last good one."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def write_json(path, data) -> Path:
    """Write ``data`` as indented JSON, atomically (numbers that JSON lacks, NaN, become null)."""
    text = json.dumps(_plain(data), indent=2) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _plain(x):
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, Path):
        return str(x)
    if torch.is_tensor(x):
        return _plain(x.tolist())
    if hasattr(x, "tolist"):  # numpy arrays and scalars
        return _plain(x.tolist())
    return x


def load_checkpoint(path, map_location="cpu", required=()) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``: no code runs).

    Raises ``FileNotFoundError`` when there is no file, and :class:`CheckpointError` (one line,
    naming the file) when it is empty, truncated, not a torch file, holds other objects than a
    checkpoint does, or lacks one of the ``required`` keys.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes), not a checkpoint")
    try:
        with warnings.catch_warnings():  # torch's advice about pickle protocols: not the user's
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        # torch's message advises weights_only=False, i.e. running code from the file: never here
        raise CheckpointError(f"{path}: not a checkpoint of this course (it holds objects other "
                              f"than tensors and plain data, which are not loaded)") from None
    except (EOFError, RuntimeError, zipfile.BadZipFile) as err:
        what = ("truncated or damaged" if zipfile.is_zipfile(path) or _looks_like_torch(path)
                or isinstance(err, EOFError) else "not a torch checkpoint file")
        raise CheckpointError(f"{path}: {what} ({size:,} bytes); it cannot be read") from None
    except Exception as err:  # a text file, a format torch does not know
        raise CheckpointError(f"{path}: not a torch checkpoint file ({type(err).__name__})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a checkpoint of this course (it holds a "
                              f"{type(state).__name__}, not a dict)")
    missing = [k for k in required if k not in state]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint of this course (no {', '.join(missing)})")
    return state


def _looks_like_torch(path: Path) -> bool:
    """A zip archive's signature at the start: a torch file that lost its end."""
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


# ------------------------------------------------------------------- the run a checkpoint holds
EXTENSIBLE = ("epochs", "minutes")  # what ``train(..., extend=True)`` lets a resumed run change


def saved_config(state: dict):
    """The ``TrainConfig`` a checkpoint was written by; fields added since take their defaults."""
    from .train import TrainConfig

    # checkpoints written before ``backbone_width`` existed trained resnet_tiny at width 32
    return TrainConfig(**{"backbone_width": 32, **state["config"]})


def finished(state: dict, config) -> bool:
    """Whether a checkpoint's run is over: all its epochs or ``iterations`` done, or its time
    budget spent."""
    budget_spent = config.minutes is not None and state.get("seconds", 0.0) >= 60 * config.minutes
    iterations = getattr(config, "iterations", None)
    steps_done = iterations is not None and len(state.get("history", ())) >= iterations
    return state["epoch"] >= config.epochs or budget_spent or steps_done


def check_resumable(state: dict, config, path, amp: bool = False, extend: bool = False) -> None:
    """Raise ``ValueError`` (one line) unless ``config`` may continue the run in ``state``."""
    from dataclasses import asdict

    saved, wanted = asdict(saved_config(state)), asdict(config)
    changed = sorted(k for k, v in wanted.items() if saved.get(k) != v)
    if extend:
        if config.epochs < int(state["epoch"]):
            raise ValueError(f"{path} has already trained {state['epoch']} epochs; to extend it, "
                             f"ask for more (--epochs {state['epoch'] + 1} or more)")
        changed = [k for k in changed if k not in EXTENSIBLE]
    if changed:
        raise ValueError(f"{path} was written by another configuration (differs in "
                         f"{changed}); use another --out folder or the same settings")
    if bool(state.get("amp", False)) != bool(amp):
        was = "with" if state.get("amp", False) else "without"
        raise ValueError(f"{path} was trained {was} mixed precision (--amp); resume it the same way")


def model_from_checkpoint(path, device=None, state: dict | None = None):
    """Rebuild the trained model stored in a checkpoint, in eval mode (``state``: already loaded)."""
    from . import default_device
    from .train import build_model

    state = state if state is not None else load_checkpoint(
        path, required=("model", "config", "num_classes"))
    model = build_model(state["num_classes"], saved_config(state))
    model.load_state_dict(state["model"])
    return model.to(device or default_device()).eval()


def run_state(ckpt, config) -> dict | None:
    """The state in ``ckpt`` when ``config`` wrote it (finished or not); None otherwise."""
    from dataclasses import asdict

    ckpt = Path(ckpt)
    state = load_checkpoint(ckpt) if ckpt.is_file() else None
    return state if state and asdict(saved_config(state)) == asdict(config) else None


def finished_run(ckpt, config) -> dict | None:
    """The state in ``ckpt`` when it holds a finished run of ``config``; None otherwise."""
    state = run_state(ckpt, config)
    return state if state and finished(state, config) else None
