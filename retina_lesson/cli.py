"""The command lines: what they share, and ``python -m retina_lesson.train`` itself.

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
import sys
import time
from dataclasses import asdict
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
    line on stderr and exit status 1; with ``debug`` they propagate with their traceback."""
    from .checkpoint import CheckpointError

    try:
        yield
    except (ValueError, OSError, FloatingPointError, CheckpointError) as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(1) from None


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


# ------------------------------------------------------------------------- python -m ...train
_OPTIONS = ("epochs", "minutes", "batch_size", "image_size", "backbone", "optimizer", "lr", "schedule")


def train_parser() -> argparse.ArgumentParser:
    from .train import PRESETS

    p = Parser(prog="python -m retina_lesson.train",
               description="Train RetinaNet (default: on the generated shapes dataset, about 5 "
                           "minutes on 2 CPU cores), then print its COCO AP table and write "
                           "OUT/last.pt and OUT/metrics.json.")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None, help="default: 'default'")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="default 10; with --resume: extend a run to this many epochs")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="also stop after this many minutes of training if the epochs are not done "
                        "by then (a slower machine); the learning rate follows whichever runs out "
                        "first, so the result then depends on the machine's speed")
    p.add_argument("--batch-size", type=positive_int, default=None, help="default 32")
    p.add_argument("--image-size", type=positive_int, default=None,
                   help="resize so the short side is this (default: the images' own size)")
    p.add_argument("--backbone", default=None, choices=["resnet_tiny", "resnet18", "resnet50"])
    p.add_argument("--optimizer", choices=["adamw", "sgd"], default=None)
    p.add_argument("--lr", type=positive_float, default=None, help="default 0.004")
    p.add_argument("--schedule", choices=["cosine", "step"], default=None)
    p.add_argument("--amp", action="store_true", default=None,
                   help="mixed precision: bfloat16 autocast on a CPU, float16 and a gradient "
                        "scaler on a CUDA GPU (boxes, matching and losses stay float32)")
    p.add_argument("--data", default=None, help="a COCO folder with train/, val/ and "
                   "instances_{train,val}.json (default: the generated shapes dataset)")
    p.add_argument("--out", default=None,
                   help=f"folder for last.pt and metrics.json (default {DEFAULT_OUT}; when it "
                        f"already holds a run, the next free {DEFAULT_OUT}_2, _3, ...)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT (its settings; --epochs N extends it)")
    p.add_argument("--quick", action="store_true", help="a tiny run (also RETINA_LESSON_QUICK=1)")
    add_common(p)
    return p


def command_line_config(args: argparse.Namespace, quick: bool = False, base=None):
    """The run the command line asks for: ``base`` (a resumed run's configuration), or
    ``TrainConfig()`` (lesson 10's run) or, in quick mode, ``quick_config()``, with the options
    given."""
    from .train import TrainConfig, quick_config

    overrides = {name: getattr(args, name) for name in _OPTIONS if getattr(args, name) is not None}
    if getattr(args, "preset", None) is not None:
        overrides["preset"] = args.preset
    if base is not None:
        return TrainConfig(**{**asdict(base), **overrides})
    return (quick_config if quick else TrainConfig)(**overrides)


def _describe(state: dict) -> str:
    from .checkpoint import finished, saved_config

    config = saved_config(state)
    done = "a finished" if finished(state, config) else "an unfinished"
    return f"{done} run ({state['epoch']} of {config.epochs} epochs)"


def output_folder(args) -> tuple[Path, str | None]:
    """``(folder, note)``: where this run writes. A run already in the folder is never
    overwritten: without ``--resume`` an explicit ``--out`` that holds one is refused, and the
    default folder moves on to the next free ``runs/shapes_N`` (the note says so)."""
    from .checkpoint import CheckpointError, load_checkpoint

    out = Path(args.out) if args.out is not None else DEFAULT_OUT
    if args.resume or not (out / "last.pt").exists():
        return out, None
    try:
        held = _describe(load_checkpoint(out / "last.pt", required=("epoch", "config")))
    except CheckpointError as err:
        raise CheckpointError(f"{err}; move it away or choose another --out") from None
    if args.out is not None:
        raise FileExistsError(f"{out / 'last.pt'} holds {held}: --resume continues it (--resume "
                              f"--epochs N extends it), --out NEW_FOLDER starts a fresh one")
    n = 2
    while (fresh := out.with_name(f"{out.name}_{n}")).exists() and any(fresh.iterdir()):
        n += 1
    return fresh, (f"{out} holds {held} (--resume continues it); this run goes to {fresh}")


def resume_command(args, out: Path) -> str:
    extra = (f" --data {args.data}" if args.data else "") + (" --quick" if args.quick else "")
    return f"python -m retina_lesson.train --out {out} --resume{extra}"


def train_main(argv=None) -> dict:
    """``python -m retina_lesson.train``; returns the AP metrics of the trained run."""
    args = train_parser().parse_args(argv)
    with one_line_errors(args.debug, "python -m retina_lesson.train"):
        return _train(args)


def _train(args) -> dict:
    import torch

    from . import default_device, is_quick
    from .checkpoint import finished, load_checkpoint, saved_config, write_json
    from .data import shapes_datasets
    from .evaluate import coco_evaluate
    from .train import train

    quick = args.quick or is_quick()
    out, note = output_folder(args)
    ckpt = out / "last.pt"
    state = None
    if args.resume:
        if not ckpt.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {ckpt} (nothing to continue; "
                                    f"without --resume a new run starts there)")
        state = load_checkpoint(ckpt, required=("model", "optimizer", "epoch", "history", "config"))
        config = command_line_config(args, quick, base=saved_config(state))
        amp = bool(state.get("amp", False)) if args.amp is None else True
    else:
        config = command_line_config(args, quick)
        amp = bool(args.amp)
    if note:
        print(note)
    progress = not args.no_progress
    try:
        train_set, val_set = shapes_datasets(args.data, quick=quick, progress=progress)
    except KeyboardInterrupt:
        interrupted("before training began; nothing was written to " + str(out))
    device = default_device()
    budget = f" or {config.minutes:g} minutes" if config.minutes is not None else ""
    precision = f", mixed precision ({'bfloat16' if device.type == 'cpu' else 'float16'})" if amp else ""
    done = state is not None and finished(state, config)
    if done:
        print(f"{ckpt} holds a finished run ({state['epoch']} of {config.epochs} epochs): "
              f"nothing to train (--epochs N extends it)")
    else:
        start_note = f", from epoch {state['epoch']}" if state is not None else ""
        print(f"training on {device} ({torch.get_num_threads()} threads{precision}): "
              f"{len(train_set)} images, {config.epochs} epochs{budget}{start_note}, "
              f"preset {config.preset!r} -> {out}")
    start = time.time()
    try:
        model, history = train(config, train_set, out, resume=args.resume, device=device,
                               progress=progress, amp=amp, extend=args.resume)
    except KeyboardInterrupt:
        if ckpt.is_file():
            held = _describe(load_checkpoint(ckpt))
            interrupted(f"{ckpt} holds {held}; continue with: {resume_command(args, out)}")
        interrupted(f"before the first epoch ended; nothing was saved in {out}")
    state = load_checkpoint(ckpt)
    if not done:
        cut = " - the time limit came first" if state["epoch"] < config.epochs else ""
        print(f"trained in {time.time() - start:.0f} s, {state['epoch']} of {config.epochs} epochs"
              f"{cut}; checkpoint {ckpt}")
    label = dataset_label(args.data, "val", quick)
    try:
        metrics = coco_evaluate(model, val_set, device=device, progress=progress)
    except KeyboardInterrupt:
        interrupted(f"during evaluation; the trained run is in {ckpt}; evaluate it with: "
                    f"python -m retina_lesson.evaluate --checkpoint {ckpt}")
    print(format_metrics_table({f"RetinaNet ({config.preset}), epoch {state['epoch']}": metrics},
                               label, len(val_set)))
    record = {"checkpoint": str(ckpt), "data": None if args.data is None else str(Path(args.data).resolve()),
              "quick": quick, "config": asdict(saved_config(state)), "amp": amp,
              "epochs_trained": state["epoch"], "train_seconds": round(state.get("seconds", 0.0), 1),
              "iterations": len(state["history"]),
              "evaluations": {label: metrics_entry(metrics, label, args.data, "val", len(val_set),
                                                   state["epoch"])}}
    print(f"metrics: {write_json(out / METRICS_FILE, record)}")
    return metrics
