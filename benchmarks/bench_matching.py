"""Benchmark: anchors + IoU + matching for one 800x1333 image with 100 objects, ours vs torchvision.

    .venv/bin/python benchmarks/bench_matching.py [--repeats 15] [--objects 100]

Ours: ``generate_anchors`` + ``box_iou`` + ``match_anchors``. torchvision: its RetinaNet
``AnchorGenerator`` (``retinanet._default_anchorgen()``) + ``torchvision.ops.box_iou`` +
``Matcher(0.5, 0.4, allow_low_quality_matches=True)``. The input is padded to a multiple of 32
(800x1344), as RetinaNet's transform does. The outputs of every stage are checked equal first;
then each stage and the whole pipeline are timed, ours and torchvision's alternating within each
repeat (so a busy machine slows both alike), and the median after warm-up is reported.
torch's default thread count is used (printed).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision
from torchvision.models.detection._utils import Matcher
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import _default_anchorgen
from torchvision.ops import box_iou as tv_box_iou

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from retina_lesson.anchors import feature_sizes, generate_anchors  # noqa: E402
from retina_lesson.boxes import box_iou  # noqa: E402
from retina_lesson.matching import match_anchors  # noqa: E402


def random_objects(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """``n`` xyxy boxes inside the image, sides 8 px to half the image plus 8 (fixed seed)."""
    g = torch.Generator().manual_seed(seed)
    wh = 8 + torch.rand(n, 2, generator=g) * torch.tensor([width / 2, height / 2])
    xy = torch.rand(n, 2, generator=g) * (torch.tensor([width, height]) - wh)
    return torch.cat([xy, xy + wh], dim=1)


def build(height: int, width: int, objects: torch.Tensor):
    """The two pipelines, each as {stage: function of the previous stage's output}."""
    h, w = (height + 31) // 32 * 32, (width + 31) // 32 * 32
    images = ImageList(torch.zeros(1, 3, h, w), [(height, width)])
    features = [torch.zeros(1, 1, fh, fw) for fh, fw in feature_sizes((h, w))]
    anchor_gen, matcher = _default_anchorgen(), Matcher(0.5, 0.4, allow_low_quality_matches=True)
    ours = {"anchors": lambda _: generate_anchors((h, w)),
            "iou": lambda anchors: box_iou(objects, anchors),
            "matching": match_anchors}
    theirs = {"anchors": lambda _: anchor_gen(images, features)[0],
              "iou": lambda anchors: tv_box_iou(objects, anchors),
              "matching": matcher}
    return (h, w), {"ours": ours, "torchvision": theirs}


def run_all(stages, x=None):
    outputs = {}
    for name, fn in stages.items():
        x = outputs[name] = fn(x)
    return outputs


def timed(fn, x):
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--width", type=int, default=1333)
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: leave torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    objects = random_objects(args.objects, args.height, args.width)
    padded, pipelines = build(args.height, args.width, objects)

    # correctness first: the same anchors, the same IoU matrix (bit for bit), the same matches
    outs = {impl: run_all(stages) for impl, stages in pipelines.items()}
    for stage in ("anchors", "iou"):
        torch.testing.assert_close(outs["ours"][stage], outs["torchvision"][stage], rtol=0, atol=0)
    assert torch.equal(outs["ours"]["matching"], outs["torchvision"]["matching"]), "matches differ"
    matches = outs["ours"]["matching"]

    times = {(impl, stage): [] for impl in pipelines for stage in [*pipelines[impl], "total"]}
    for r in range(args.warmup + args.repeats):
        for impl, stages in pipelines.items():
            for stage, fn in stages.items():
                prev = list(stages).index(stage) - 1
                x = outs[impl][list(stages)[prev]] if prev >= 0 else None
                times[impl, stage].append(timed(fn, x))
            times[impl, "total"].append(timed(lambda _: run_all(stages), None))
    med = {k: statistics.median(v[args.warmup:]) for k, v in times.items()}

    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"threads {torch.get_num_threads()}" + (" (set)" if args.threads else " (default)"))
    print(f"input {args.height}x{args.width} padded to {padded[0]}x{padded[1]}: "
          f"{outs['ours']['anchors'].shape[0]:,} anchors, {args.objects} objects, "
          f"{int((matches >= 0).sum()):,} positive anchors")
    print("outputs equal: anchors yes, IoU yes (bit for bit), matches yes")
    print(f"median of {args.repeats} repeats after {args.warmup} warm-up, milliseconds\n")
    print(f"{'stage':<10}{'ours':>10}{'torchvision':>13}{'ours/tv':>10}")
    for stage in [*pipelines["ours"], "total"]:
        a, b = med["ours", stage], med["torchvision", stage]
        print(f"{stage:<10}{a * 1e3:>10.1f}{b * 1e3:>13.1f}{a / b:>10.2f}")
    ratio = med["ours", "total"] / med["torchvision", "total"]
    print(f"\ntotal ours/torchvision = {ratio:.2f} (target <= 1.0)")
    return ratio


if __name__ == "__main__":
    main()
