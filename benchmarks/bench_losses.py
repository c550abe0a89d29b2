"""Benchmark: focal loss forward + backward, ours vs torchvision, in one run (issue 18).

    .venv/bin/python benchmarks/bench_losses.py [--anchors 100000] [--classes 80] [--repeats 9]

``retina_lesson.losses.sigmoid_focal_loss`` against ``torchvision.ops.sigmoid_focal_loss`` on the
same logits and 0/1 targets (one positive per 50 anchors, as in detection), gamma 2 (the paper)
and 1 (the course's default preset), then soft targets (ours takes the general formulas). The two
alternate within each repeat, so a busy machine slows both alike; medians after 2 warm-ups. The
values are checked equal first (same numbers as torchvision up to float rounding).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torchvision.ops import sigmoid_focal_loss as tv_focal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from retina_lesson.losses import sigmoid_focal_loss  # noqa: E402


def fwd_bwd(fn, logits, targets, gamma):
    x = logits.clone().requires_grad_()
    start = time.perf_counter()
    fn(x, targets, 0.25, gamma, "sum").backward()
    return time.perf_counter() - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--anchors", type=int, default=100_000)
    p.add_argument("--classes", type=int, default=80)
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(args.anchors, args.classes, generator=g) * 3 - 2
    binary = torch.zeros(args.anchors, args.classes)
    rows = torch.randint(0, args.anchors, (args.anchors // 50,), generator=g)
    binary[rows, torch.randint(0, args.classes, (len(rows),), generator=g)] = 1.0
    soft = torch.rand(args.anchors, args.classes, generator=g)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; logits "
          f"{args.anchors:,} x {args.classes}; forward + backward, median of {args.repeats}")
    print(f"{'case':<26}{'ours ms':>9}{'torchvision ms':>16}{'ours / tv':>11}")
    for name, targets, gamma in (("0/1 targets, gamma 2", binary, 2.0),
                                 ("0/1 targets, gamma 1", binary, 1.0),
                                 ("soft targets, gamma 2", soft, 2.0)):
        torch.testing.assert_close(sigmoid_focal_loss(logits, targets, 0.25, gamma),
                                   tv_focal(logits, targets, 0.25, gamma), rtol=1e-5, atol=1e-6)
        times = {"ours": [], "tv": []}
        for r in range(args.repeats + 2):
            for key, fn in (("ours", sigmoid_focal_loss), ("tv", tv_focal))[:: 1 if r % 2 else -1]:
                t = fwd_bwd(fn, logits, targets, gamma)
                if r >= 2:
                    times[key].append(t)
        ours, tv = (statistics.median(times[k]) * 1000 for k in ("ours", "tv"))
        print(f"{name:<26}{ours:>9.0f}{tv:>16.0f}{ours / tv:>10.2f}x")


if __name__ == "__main__":
    main()
