"""Benchmark: one training step and one inference pass of our RetinaNet vs torchvision's.

    .venv/bin/python benchmarks/bench_model.py [--min-size 320] [--max-size 512] [--batch 2]
                                               [--repeats 7] [--device cpu|cuda]

Both models are ResNet-50-FPN RetinaNets with the *same* weights: torchvision's
``retinanet_resnet50_fpn(weights=None, weights_backbone=None)`` (random init) and ours built from it
with ``compat.from_torchvision``. The classification bias is set to ``--cls-bias`` (-2, as in
tests/test_model.py) so that every level keeps its 1000 candidates and inference does the full
post-processing work (with the prior bias no score passes 0.05 and NMS has nothing to do).

* train: ``model(images, targets)`` (forward, anchor matching, losses) + ``backward()``;
* inference: ``model.eval()`` under ``torch.no_grad()``: transform, forward, decode, NMS.

Before timing, the losses and the detections of both are checked equal. Repeats are interleaved
(ours, torchvision, torchvision, ours, ...) so that load from other processes hits both alike;
each number is the median of ``--repeats`` after ``--warmup`` runs. GPU when present. On a CPU
shared with other busy processes, ``--threads 1`` gives steadier numbers (two threads that have to
wait for each other suffer most from a neighbour's load).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision
from torchvision.models.detection import retinanet_resnet50_fpn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from retina_lesson import default_device  # noqa: E402
from retina_lesson.compat import from_torchvision  # noqa: E402


def make_batch(n: int, height: int, width: int, objects: int, device, seed: int = 0):
    """``n`` random images [3, H, W] in [0, 1] with ``objects`` random boxes each (fixed seed)."""
    g = torch.Generator().manual_seed(seed)
    images, targets = [], []
    for _ in range(n):
        images.append(torch.rand(3, height, width, generator=g).to(device))
        wh = 16 + torch.rand(objects, 2, generator=g) * torch.tensor([width / 2, height / 2])
        xy = torch.rand(objects, 2, generator=g) * (torch.tensor([width, height]) - wh)
        targets.append({"boxes": torch.cat([xy, xy + wh], dim=1).to(device),
                        "labels": torch.randint(1, 91, (objects,), generator=g).to(device)})
    return images, targets


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_step(model, images, targets):
    model.zero_grad(set_to_none=True)
    losses = model(images, targets)
    sum(losses.values()).backward()
    return losses


@torch.no_grad()
def infer(model, images):
    return model(images)


def check_equal(ours, tv, images, targets):
    """The same losses and the same detections; returns the number of detections per image."""
    ours.train(), tv.train()
    got, expected = ours(images, targets), tv(images, targets)
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-4, atol=1e-4)
    ours.eval(), tv.eval()
    with torch.no_grad():
        got, expected = ours(images), tv(images)
    for g, e in zip(got, expected):
        assert torch.equal(g["labels"], e["labels"]), "labels differ"
        torch.testing.assert_close(g["boxes"], e["boxes"], rtol=1e-4, atol=1e-3)
    return [len(g["boxes"]) for g in got]


def interleaved_medians(fn_ours, fn_tv, repeats: int, warmup: int, device, clock=time.perf_counter):
    """Median seconds of ``fn_ours`` and ``fn_tv``, run in ABBA order after warm-up."""
    for _ in range(warmup):
        fn_ours(), fn_tv()
    times = {"ours": [], "tv": []}
    for r in range(repeats):
        order = [("ours", fn_ours), ("tv", fn_tv)]
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            sync(device)
            start = clock()
            fn()
            sync(device)
            times[name].append(clock() - start)
    return statistics.median(times["ours"]), statistics.median(times["tv"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-size", type=int, default=320)
    parser.add_argument("--max-size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--height", type=int, default=480, help="height of the input images")
    parser.add_argument("--width", type=int, default=640, help="width of the input images")
    parser.add_argument("--objects", type=int, default=5, help="boxes per training image")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--cls-bias", type=float, default=-2.0)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: GPU when present)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's); 1 is steadier on a shared CPU")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time (default) or this process's CPU time (with "
                             "--threads 1 on a busy CPU: the work done, without the waiting)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    device = torch.device(args.device) if args.device else default_device()
    torch.manual_seed(0)
    tv = retinanet_resnet50_fpn(weights=None, weights_backbone=None, min_size=args.min_size,
                                max_size=args.max_size)
    torch.nn.init.constant_(tv.head.classification_head.cls_logits.bias, args.cls_bias)
    ours = from_torchvision(tv)
    tv, ours = tv.to(device), ours.to(device)
    images, targets = make_batch(args.batch, args.height, args.width, args.objects, device)
    detections = check_equal(ours, tv, images, targets)

    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
             f", threads {torch.get_num_threads()}"))
    print(f"ResNet-50-FPN RetinaNet, batch {args.batch} of {args.height}x{args.width} images, "
          f"resized to min_size {args.min_size} / max_size {args.max_size}; losses and detections "
          f"equal (detections per image: {detections})")
    print(f"median of {args.repeats} interleaved repeats after {args.warmup} warm-up runs, "
          f"{args.clock} seconds\n")

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    rows = []
    ours.train(), tv.train()
    rows.append(("train step", *interleaved_medians(lambda: train_step(ours, images, targets),
                                                    lambda: train_step(tv, images, targets),
                                                    args.repeats, args.warmup, device, clock)))
    ours.eval(), tv.eval()
    rows.append(("inference", *interleaved_medians(lambda: infer(ours, images),
                                                   lambda: infer(tv, images),
                                                   args.repeats, args.warmup, device, clock)))
    print(f"{'':<12}{'ours s':>10}{'torchvision s':>15}{'ours/tv':>10}")
    for name, t_ours, t_tv in rows:
        print(f"{name:<12}{t_ours:>10.3f}{t_tv:>15.3f}{t_ours / t_tv:>10.2f}")
    ratios = {name: t_ours / t_tv for name, t_ours, t_tv in rows}
    print("\ntarget: ours/torchvision <= 1.0 for both")
    return ratios


if __name__ == "__main__":
    main()
