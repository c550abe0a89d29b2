"""Benchmark: generating the shapes dataset, and reading it through ``CocoDataset`` + DataLoader.

    .venv/bin/python benchmarks/bench_data.py [--train 500] [--val 50] [--image-size 128]
                                              [--batch 16] [--workers 0 2] [--repeats 3]

* generation: ``make_shapes`` into a fresh temporary folder (images/s and seconds for the
  course's full 3000 + 200 dataset, extrapolated), then the skip when the files already match;
* loader: images/s of one pass over the train split with ``train=True`` (PNG decode, flip,
  ``collate_fn``), for each ``--workers`` value; the median of ``--repeats`` passes after one
  warm-up pass (which also warms the file cache).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from retina_lesson.data import CocoDataset, collate_fn, make_shapes  # noqa: E402
from retina_lesson.shapes import FULL_SIZES  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=500)
    p.add_argument("--val", type=int, default=50)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"{args.train} + {args.val} images of {args.image_size} px")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "shapes"
        start = time.perf_counter()
        make_shapes(root, num_train=args.train, num_val=args.val, image_size=args.image_size,
                    progress=False)
        seconds = time.perf_counter() - start
        n = args.train + args.val
        full = sum(FULL_SIZES.values())
        print(f"generate: {seconds:.2f} s, {n / seconds:.0f} images/s "
              f"(~{full * seconds / n:.0f} s for the full {full} images)")
        start = time.perf_counter()
        make_shapes(root, num_train=args.train, num_val=args.val, image_size=args.image_size,
                    progress=False)
        print(f"skip when up to date: {1000 * (time.perf_counter() - start):.0f} ms")
        size_mb = sum(f.stat().st_size for f in root.rglob("*")) / 2 ** 20
        print(f"on disk: {size_mb:.1f} MiB ({1024 * size_mb / n:.0f} KiB per image)")

        dataset = CocoDataset(root / "train", root / "instances_train.json", train=True,
                              generator=0)
        for workers in args.workers:
            loader = DataLoader(dataset, batch_size=args.batch, shuffle=True,
                                num_workers=workers, collate_fn=collate_fn,
                                persistent_workers=workers > 0)
            rates = []
            for r in range(args.repeats + 1):
                start = time.perf_counter()
                count = sum(len(images) for images, _ in loader)
                if r:  # the first pass is the warm-up
                    rates.append(count / (time.perf_counter() - start))
            print(f"loader, num_workers={workers}: {statistics.median(rates):.0f} images/s "
                  f"(batch {args.batch})")


if __name__ == "__main__":
    main()
