"""Benchmark: matching a batch at once (``match_anchors_batch``) vs image by image (ours and
torchvision's ``Matcher``), in one run (issue 18).

    .venv/bin/python benchmarks/bench_match_batch.py [--repeats 7]

Anchors of an 800x1344 input (RetinaNet's padded 800x1333); a batch of one image with 100
objects, and a batch of four with 100, 60, 30 and 0 objects. The IoU matrices are computed once
(padded with -1, as ``RetinaNet.match`` does) and only matching is timed; the three give the same
matches (checked first). Runs alternate within each repeat, so a busy machine slows all alike.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torchvision.models.detection._utils import Matcher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from retina_lesson.anchors import generate_anchors  # noqa: E402
from retina_lesson.boxes import box_iou  # noqa: E402
from retina_lesson.matching import match_anchors, match_anchors_batch  # noqa: E402


def objects(n, height=800, width=1333, seed=0):
    g = torch.Generator().manual_seed(seed)
    wh = 8 + torch.rand(n, 2, generator=g) * torch.tensor([width / 2, height / 2])
    xy = torch.rand(n, 2, generator=g) * (torch.tensor([width, height]) - wh)
    return torch.cat([xy, xy + wh], dim=1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    anchors = generate_anchors((800, 1344))
    matcher = Matcher(0.5, 0.4, allow_low_quality_matches=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(anchors):,} anchors; "
          f"median of {args.repeats} after 2 warm-ups, milliseconds")
    print(f"{'batch':<24}{'batch at once':>15}{'ours per image':>16}{'torchvision':>13}")
    for counts in ((100,), (100, 60, 30, 0)):
        ious = [box_iou(objects(c, seed=i), anchors) for i, c in enumerate(counts)]
        padded = torch.full((len(counts), max(counts), len(anchors)), -1.0)
        for i, iou in enumerate(ious):
            padded[i, :len(iou)] = iou
        runs = {"batch": lambda: match_anchors_batch(padded, counts),
                "ours": lambda: torch.stack([match_anchors(iou) for iou in ious]),
                "tv": lambda: torch.stack([matcher(iou) if len(iou) else
                                           torch.full((len(anchors),), -1) for iou in ious])}
        first = {k: f() for k, f in runs.items()}
        assert torch.equal(first["batch"], first["ours"]) and torch.equal(first["ours"], first["tv"])
        times = {k: [] for k in runs}
        for r in range(args.repeats + 2):
            for k, f in list(runs.items())[r % 3:] + list(runs.items())[:r % 3]:
                start = time.perf_counter()
                f()
                if r >= 2:
                    times[k].append(time.perf_counter() - start)
        med = {k: statistics.median(v) * 1000 for k, v in times.items()}
        name = f"{len(counts)} image(s), {sum(counts)} objects"
        print(f"{name:<24}{med['batch']:>15.0f}{med['ours']:>16.0f}{med['tv']:>13.0f}")


if __name__ == "__main__":
    main()
