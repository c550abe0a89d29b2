"""Benchmark: what mixed precision (``--amp``) buys, ours and torchvision's side by side, one run.

    .venv/bin/python benchmarks/bench_amp.py [--preset default] [--repeats 8] [--batch-size 32]

A training step (forward + loss + backward) of the course's default network on one batch of the
shapes data, in float32 and under autocast (bfloat16 on a CPU, float16 on a CUDA GPU), for our
RetinaNet and for torchvision's RetinaNet class around the same backbone and FPN
(``bench_train.torchvision_twin``). The four runs alternate within each repeat, so a busy machine
slows all alike; medians after 2 warm-ups. Prints images a second and the losses of each
precision (ours: the float32 numbers within 2 %).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import torchvision_twin  # noqa: E402

from retina_lesson import default_device  # noqa: E402
from retina_lesson.data import collate_fn, shapes_datasets  # noqa: E402
from retina_lesson.precision import autocast  # noqa: E402
from retina_lesson.train import TrainConfig, build_model  # noqa: E402


def step(model, images, targets, device, amp):
    start = time.perf_counter()
    with autocast(device, amp):
        losses = model(images, targets)
    sum(losses.values()).backward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, {k: float(v.detach()) for k, v in losses.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="default")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=8)
    args = p.parse_args(argv)
    device = default_device()
    torch.set_flush_denormal(True)
    config = TrainConfig(preset=args.preset, batch_size=args.batch_size)
    train_set, _ = shapes_datasets(progress=False)
    images, targets = collate_fn([train_set[i] for i in range(config.batch_size)])
    images = [im.to(device) for im in images]
    targets = [{k: (v.to(device) if torch.is_tensor(v) else v) for k, v in t.items()}
               for t in targets]
    ours = build_model(train_set.num_classes, config).to(device).train()
    tv = torchvision_twin(ours, config, train_set.num_classes).to(device).train()
    half = "bfloat16" if device.type == "cpu" else "float16"
    runs = {(name, amp): model for name, model in (("ours", ours), ("torchvision", tv))
            for amp in (False, True)}
    times, losses = {k: [] for k in runs}, {}
    for r in range(args.repeats + 2):
        keys = list(runs)
        for key in keys[r % 4:] + keys[:r % 4]:
            t, losses[key] = step(runs[key], images, targets, device, key[1])
            if r >= 2:
                times[key].append(t)
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"torch {torch.__version__} on {device} {cpu} ({torch.get_num_threads()} threads); "
          f"preset {config.preset!r}, batch {config.batch_size} of {tuple(images[0].shape[-2:])} "
          f"images; training step (forward + backward), median of {args.repeats}")
    print(f"{'':<14}{'float32 img/s':>15}{half + ' img/s':>16}{'amp speed-up':>14}   "
          f"losses, float32 -> {half}")
    for name in ("ours", "torchvision"):
        full, mixed = (config.batch_size / statistics.median(times[(name, a)]) for a in (False, True))
        change = "  ".join(f"{k[:3]} {losses[(name, False)][k]:.4f} -> {losses[(name, True)][k]:.4f}"
                           for k in losses[(name, False)])
        print(f"{name:<14}{full:>15.1f}{mixed:>16.1f}{mixed / full:>13.2f}x   {change}")


if __name__ == "__main__":
    main()
