"""``python -m retina_lesson.train``: the training command line (shared rules in ``cli``).

    python -m retina_lesson.train --quick                               # one process
    torchrun --standalone --nproc_per_node 2 -m retina_lesson.train --quick   # 2 processes
    torchrun --nproc_per_node 8 -m retina_lesson.train --preset paper --data COCO_ROOT \\
        --backbone-weights resnet50-0676ba68.pth                        # the paper (Sec. 4.1)

Under torchrun (``distributed``) every process runs this same command: rank 0 alone prints,
writes the checkpoint and ``metrics.json``; what must agree (the output folder, the data on
disk, the checkpoint to resume) is decided on rank 0 and sent to the others. ``--preset paper``
on a folder in the COCO 2017 layout takes the paper's whole recipe (``recipe.paper_config``:
ResNet-50 at 800 px, SGD 0.01 at batch 16 scaled with the global batch, 90k iterations scaled
inversely; with ``--quick``, one epoch of 160 images); any option given overrides its part.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

from .cli import (DEFAULT_OUT, METRICS_FILE, Parser, add_common, dataset_label,
                  format_metrics_table, interrupted, metrics_entry, one_line_errors, positive_float,
                  positive_int)

_OPTIONS = ("epochs", "minutes", "batch_size", "image_size", "backbone", "optimizer", "lr",
            "schedule", "iterations", "backbone_weights")


def train_parser() -> argparse.ArgumentParser:
    from .train import PRESETS

    p = Parser(prog="python -m retina_lesson.train",
               description="Train RetinaNet (default: on the generated shapes dataset, about 5 "
                           "minutes on 2 CPU cores), then print its COCO AP table and write "
                           "OUT/last.pt and OUT/metrics.json. Under torchrun: data-parallel over "
                           "its processes (gloo on CPUs, NCCL on CUDA GPUs).")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="default: 'default'; 'paper' on a COCO 2017 folder: the paper's recipe")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="default 10; with --resume: extend a run to this many epochs")
    p.add_argument("--iterations", type=positive_int, default=None,
                   help="stop after this many steps (the paper: 90000 at batch 16)")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="also stop after this many minutes of training if the epochs are not done "
                        "by then (a slower machine); the learning rate follows whichever runs out "
                        "first, so the result then depends on the machine's speed")
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="the global batch: images per step, all processes together (under "
                        "torchrun each of N processes takes batch/N); default 32 (paper: 16)")
    p.add_argument("--image-size", type=positive_int, default=None,
                   help="resize so the short side is this (default: the images' own size)")
    p.add_argument("--backbone", default=None, choices=["resnet_tiny", "resnet18", "resnet50"])
    p.add_argument("--backbone-weights", default=None, metavar="FILE",
                   help="ImageNet weights of resnet50/resnet18 (a torchvision state_dict file on "
                        "disk; nothing is downloaded): BatchNorm and the stem and layer1 frozen")
    p.add_argument("--optimizer", choices=["adamw", "sgd"], default=None)
    p.add_argument("--lr", type=positive_float, default=None, help="default 0.004")
    p.add_argument("--schedule", choices=["cosine", "step"], default=None)
    p.add_argument("--amp", action="store_true", default=None,
                   help="mixed precision: bfloat16 autocast on a CPU, float16 and a gradient "
                        "scaler on a CUDA GPU (boxes, matching and losses stay float32)")
    p.add_argument("--device", choices=["cpu", "cuda", "mps"], default=None,
                   help="default: a CUDA GPU when there is one (under torchrun: GPU LOCAL_RANK)")
    p.add_argument("--workers", type=_workers, default=0,
                   help="data-loading processes per training process (default 0); on CUDA the "
                        "batches go through pinned memory")
    p.add_argument("--data", default=None, help="a COCO folder: train2017/, val2017/, "
                   "annotations/instances_{train,val}2017.json, or train/, val/, "
                   "instances_{train,val}.json (default: the generated shapes dataset)")
    p.add_argument("--out", default=None,
                   help=f"folder for last.pt and metrics.json (default {DEFAULT_OUT}; when it "
                        f"already holds a run, the next free {DEFAULT_OUT}_2, _3, ...)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT (its settings; --epochs N extends it)")
    p.add_argument("--quick", action="store_true", help="a tiny run (also RETINA_LESSON_QUICK=1)")
    add_common(p)
    return p


def _workers(text):
    value = int(text) if text.strip().isdigit() else -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def command_line_config(args: argparse.Namespace, quick: bool = False, base=None,
                        recipe: dict | None = None):
    """The run the command line asks for: ``base`` (a resumed run's configuration), or
    ``TrainConfig()`` (lesson 10's run) or, in quick mode, ``quick_config()``, or ``recipe``
    (the paper's, ``recipe.paper_config``), with the options given."""
    from .train import TrainConfig, quick_config

    overrides = {name: getattr(args, name, None) for name in _OPTIONS}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides.get("backbone_weights") is not None:
        overrides["backbone_weights"] = str(Path(overrides["backbone_weights"]).resolve())
    if getattr(args, "preset", None) is not None:
        overrides["preset"] = args.preset
    if base is not None:
        return TrainConfig(**{**asdict(base), **overrides})
    if recipe is not None:
        return TrainConfig(**{**recipe, **overrides})
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
    """``python -m retina_lesson.train``; returns the AP metrics of the trained run (under
    torchrun: on rank 0; the other processes return an empty dict)."""
    args = train_parser().parse_args(argv)
    with one_line_errors(args.debug, "python -m retina_lesson.train"):
        from . import distributed as dd

        world = dd.init_world(_device(args.device))
        try:
            return _train(args, world)
        finally:
            dd.close_world(world)


def _device(name):
    import torch

    from . import default_device

    if name is None:
        return default_device()
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: PyTorch sees no CUDA GPU on this machine")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("--device mps: PyTorch sees no Apple GPU (MPS) on this machine")
    return torch.device(name)


def _threads() -> str:
    import torch

    n = torch.get_num_threads()
    return f"{n} thread{'s' if n != 1 else ''}"


def _datasets(args, quick: bool, progress: bool):
    """``(train, val, layout)``: a COCO folder in either layout, or the shapes data."""
    from .coco_layout import coco_datasets, find_layout
    from .data import shapes_datasets

    if args.data is None:
        return (*shapes_datasets(None, quick=quick, progress=progress), None)
    return (*coco_datasets(args.data), find_layout(args.data))


def _small_state(path: Path) -> dict:
    """What the command line needs of a checkpoint to resume (not the weights)."""
    from .checkpoint import load_checkpoint

    state = load_checkpoint(path, required=("model", "optimizer", "epoch", "history", "config"))
    return {k: state[k] for k in ("config", "epoch", "history", "seconds", "amp") if k in state}


def _train(args, world) -> dict:
    import torch

    from . import distributed as dd
    from . import is_quick
    from .checkpoint import finished, load_checkpoint, saved_config, write_json
    from .recipe import paper_config
    from .train import train

    say = print if world.is_main else (lambda *a, **k: None)
    quick = args.quick or is_quick()
    out, note = dd.on_main(lambda: output_folder(args), world)
    ckpt = out / "last.pt"
    state = None
    if args.resume:
        if not dd.on_main(ckpt.is_file, world):
            raise FileNotFoundError(f"--resume: no checkpoint at {ckpt} (nothing to continue; "
                                    f"without --resume a new run starts there)")
        state = dd.on_main(lambda: _small_state(ckpt), world)
    if note:
        say(note)
    progress = not args.no_progress and world.is_main
    try:  # rank 0 first: it generates the shapes data when they are not on disk yet
        train_set, val_set, layout = dd.main_first(lambda: _datasets(args, quick, progress), world)
    except KeyboardInterrupt:
        interrupted("before training began; nothing was written to " + str(out))
    if state is not None:
        config = command_line_config(args, quick, base=saved_config(state))
        amp = bool(state.get("amp", False)) if args.amp is None else True
    else:
        recipe = None
        if args.preset == "paper" and layout is not None and layout.standard:
            recipe = paper_config(args.batch_size or 16, len(train_set))
            if quick:  # a smoke test of the recipe: one epoch of at most 160 images
                recipe.update(epochs=1, max_train_images=160)
        config = command_line_config(args, quick, recipe=recipe)
        amp = bool(args.amp)
    device = world.device
    dd.per_process_batch(config.batch_size, world)  # a batch that does not divide: say so first
    budget = f" or {config.minutes:g} minutes" if config.minutes is not None else ""
    half = "bfloat16" if device.type == "cpu" else "float16"
    precision = f", mixed precision ({half})" if amp else ""
    done = state is not None and finished(state, config)
    if done:
        say(f"{ckpt} holds a finished run ({state['epoch']} of {config.epochs} epochs): "
            f"nothing to train (--epochs N extends it)")
    else:
        start_note = f", from epoch {state['epoch']}" if state is not None else ""
        where = (f"{device} ({torch.get_num_threads()} threads{precision})" if not world.distributed
                 else f"{world.size} processes ({device.type}, {dd.backend(world)}, "
                      f"{_threads()} each{precision}; batch "
                      f"{config.batch_size} = {world.size} x {config.batch_size // world.size})")
        steps = f" (at most {config.iterations} steps)" if config.iterations else ""
        say(f"training on {where}: {len(train_set)} images, {config.epochs} epochs{steps}{budget}"
            f"{start_note}, preset {config.preset!r} -> {out}")
    start = time.time()
    try:
        model, history = train(config, train_set, out, resume=args.resume, progress=progress,
                               amp=amp, extend=args.resume, world=world, workers=args.workers)
    except KeyboardInterrupt:
        if world.is_main and ckpt.is_file():
            held = _describe(load_checkpoint(ckpt))
            interrupted(f"{ckpt} holds {held}; continue with: {resume_command(args, out)}")
        interrupted(f"before the first epoch ended; nothing was saved in {out}")
    if world.is_main:
        state = load_checkpoint(ckpt)
        if not done:
            steps_done = config.iterations and len(state["history"]) >= config.iterations
            cut = ("" if state["epoch"] >= config.epochs else
                   f" - {config.iterations} steps came first" if steps_done else
                   " - the time limit came first")
            say(f"trained in {time.time() - start:.0f} s, {state['epoch']} of {config.epochs} "
                f"epochs{cut}; checkpoint {ckpt}")
    label = dataset_label(args.data, "val", quick)
    try:
        metrics = dd.coco_evaluate(model, val_set, world, device=device, progress=progress)
    except KeyboardInterrupt:
        interrupted(f"during evaluation; the trained run is in {ckpt}; evaluate it with: "
                    f"python -m retina_lesson.evaluate --checkpoint {ckpt}")
    if not world.is_main:
        return {}
    say(format_metrics_table({f"RetinaNet ({config.preset}), epoch {state['epoch']}": metrics},
                             label, len(val_set)))
    data = None if args.data is None else str(Path(args.data).resolve())
    record = {"checkpoint": str(ckpt), "data": data, "quick": quick,
              "config": asdict(saved_config(state)), "amp": amp,
              "processes": world.size, "epochs_trained": state["epoch"],
              "train_seconds": round(state.get("seconds", 0.0), 1),
              "iterations": len(state["history"]),
              "evaluations": {label: metrics_entry(metrics, label, args.data, "val", len(val_set),
                                                   state["epoch"])}}
    say(f"metrics: {write_json(out / METRICS_FILE, record)}")
    return metrics
