"""``python -m retina_lesson.debug``: the anchor-coverage report of a dataset, from the shell.

The practitioner's question of lesson 12 (paper Sec. 4, "Anchors"): with these anchor sizes,
scales, ratios and thresholds, which objects get no positive anchor, at which pyramid level, at
which object size? Prints the report (the numbers of :mod:`retina_lesson.debug`) and writes it to
``report.txt`` and ``summary.json`` with three figures (PNG) in ``--out``.
"""
from __future__ import annotations

import math

import torch

from . import anchors as anchor_lib
from .debug import (DEFAULT_CONFIG, analyse_dataset, positives_per_level, summarize,
                    unmatched)

SIZE_BINS = (0, 16, 32, 64, 128, 256, 512, math.inf)  # sqrt(box area), input pixels


def format_report(reports, title: str, levels: int, fg_iou=0.5, worst: int = 10) -> str:
    """The command line's coverage report: overall, per pyramid level, per object size, and the
    objects with no positive anchor (worst first)."""
    s = summarize(reports)
    lines = [title]
    if not reports:
        return "\n".join(lines + ["no objects: nothing to match (images without objects are fine)"])
    lines.append(f"objects: {s['objects']}; with a positive anchor (IoU >= {fg_iou}): "
                 f"{s['recall']:.3f} of them, {s['recall_low_quality']:.3f} with torchvision's "
                 f"low-quality matches; with none: {s['unmatched']}; mean best IoU "
                 f"{s['mean_best_iou']:.3f}; positive anchors per object {s['mean_positives']:.2f}")
    per_level = s["positives_per_level"]
    total = max(1, sum(per_level))
    best_level = torch.bincount(torch.tensor([r.best_level for r in reports]), minlength=levels)
    lines.append("positive anchors per level:   " + " | ".join(
        f"P{3 + i} {n} ({n / total:.0%})" for i, n in enumerate(per_level)))
    lines.append("objects by their best level:  " + " | ".join(
        f"P{3 + i} {int(n)}" for i, n in enumerate(best_level.tolist())))
    lines.append(f"{'object size (px)':<18}{'objects':>8}{'no positive':>12}{'share':>7}"
                 f"{'mean best IoU':>15}")
    side = torch.tensor([math.sqrt(max(0.0, (r.box[2] - r.box[0]) * (r.box[3] - r.box[1])))
                         for r in reports])
    best = torch.tensor([r.best_iou for r in reports])
    none = torch.tensor([r.positives == 0 for r in reports])
    for lo, hi in zip(SIZE_BINS, SIZE_BINS[1:]):
        inside = (side >= lo) & (side < hi)
        n = int(inside.sum())
        if n:
            name = f"{lo:g}-{hi:g}" if hi != math.inf else f">= {lo:g}"
            lines.append(f"{name:<18}{n:>8}{int(none[inside].sum()):>12}"
                         f"{float(none[inside].float().mean()):>7.1%}{float(best[inside].mean()):>15.3f}")
    left = unmatched(reports)[:worst]
    if left:
        lines.append(f"objects with no positive anchor, worst {len(left)} (image index, object, "
                     f"box xyxy in input px, best IoU, its level):")
        lines += [f"  image {r.image_index:>5} object {r.object_index:>3}  "
                  f"[{', '.join(f'{v:.0f}' for v in r.box)}]  {r.best_iou:.3f}  P{3 + r.best_level}"
                  for r in left]
    return "\n".join(lines)


def save_figures(reports, config: dict, out, fg_iou=0.5, bg_iou=0.4) -> list:
    """The report's figures as PNG files in ``out``: best IoU, positives per level, shapes."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .viz import lesson_debug

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wh = torch.tensor([[r.box[2] - r.box[0], r.box[3] - r.box[1]] for r in reports]).reshape(-1, 2)
    anchor_wh = [(lambda a: a[:, 2:] - a[:, :2])(anchor_lib.base_anchors(
        size, config["scales"], config["ratios"])) for size in config["sizes"]]
    figures = {
        "best_iou.png": lambda ax: lesson_debug.plot_best_iou_histogram(
            {"objects": [r.best_iou for r in reports]}, fg_iou, bg_iou, ax=ax),
        "positives_per_level.png": lambda ax: lesson_debug.plot_positives_per_level(
            {"this configuration": positives_per_level(reports)}, ax=ax),
        "object_shapes.png": lambda ax: lesson_debug.plot_object_shapes(
            wh, anchor_wh, ax=ax, highlight=torch.tensor([r.positives == 0 for r in reports])),
    }
    written = []
    for name, draw in figures.items():
        fig, ax = plt.subplots(figsize=(8.5, 5.5), layout="constrained")
        draw(ax)
        fig.savefig(out / name)
        plt.close(fig)
        written.append(out / name)
    return written


def main(argv=None) -> dict:
    """``python -m retina_lesson.debug --data COCO_FOLDER``: does every object get a positive
    anchor? Prints the coverage report and writes its figures (PNG) and report.txt."""
    from .cli import Parser, add_common, one_line_errors, positive_float, positive_int, unit_interval

    p = Parser(prog="python -m retina_lesson.debug",
               description="Anchor coverage of a COCO-format dataset (paper Sec. 4, 'Anchors'): "
                           "which objects get no positive anchor, per level and per size.")
    p.add_argument("--data", default=None, help="a COCO folder: train2017/, val2017/, "
                   "annotations/ (COCO 2017), or SPLIT/ and instances_SPLIT.json (default: the "
                   "generated shapes dataset)")
    p.add_argument("--split", default="train", help="default train")
    p.add_argument("--checkpoint", default=None,
                   help="take anchor sizes and input size from this run's configuration")
    p.add_argument("--sizes", type=positive_float, nargs="+", default=None,
                   help=f"anchor size per level (default {anchor_lib.SIZES}, the paper's)")
    p.add_argument("--strides", type=positive_int, nargs="+", default=None,
                   help=f"default {anchor_lib.STRIDES}")
    p.add_argument("--scales", type=positive_float, nargs="+", default=None,
                   help="default 1 2^(1/3) 2^(2/3)")
    p.add_argument("--ratios", type=positive_float, nargs="+", default=None,
                   help="height / width (default 0.5 1 2)")
    p.add_argument("--min-size", type=positive_int, default=None,
                   help="resize so the short side is this, as the model does (default: the images' "
                        "own size; torchvision: 800)")
    p.add_argument("--max-size", type=positive_int, default=1333)
    p.add_argument("--fg-iou", type=unit_interval, default=0.5)
    p.add_argument("--bg-iou", type=unit_interval, default=0.4)
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N images")
    p.add_argument("--out", default=None, help="folder for the figures and report.txt "
                   "(default runs/anchor_debug; the next free runs/anchor_debug_N if it holds one)")
    p.add_argument("--quick", action="store_true", help="the quick shapes dataset")
    add_common(p)
    args = p.parse_args(argv)
    with one_line_errors(args.debug, p.prog):
        return _debug_command(args)


def _debug_command(args) -> dict:
    from pathlib import Path

    from . import is_quick
    from .checkpoint import load_checkpoint, saved_config, write_json
    from .cli import dataset_label
    from .coco_layout import split_files
    from .data import CocoDataset, ensure_shapes

    config, min_size = dict(DEFAULT_CONFIG), args.min_size
    if args.checkpoint:
        run = saved_config(load_checkpoint(args.checkpoint, required=("config",)))
        config["sizes"] = tuple(run.anchor_sizes)
        min_size = min_size or run.image_size
    for key in ("sizes", "strides", "scales", "ratios"):
        if getattr(args, key) is not None:
            config[key] = tuple(int(v) if float(v).is_integer() else v for v in getattr(args, key))
    if len(config["sizes"]) != len(config["strides"]):
        raise ValueError(f"--sizes gives {len(config['sizes'])} levels and --strides "
                         f"{len(config['strides'])}: one size per stride")
    if args.bg_iou > args.fg_iou:
        raise ValueError(f"--bg-iou {args.bg_iou} is above --fg-iou {args.fg_iou}")
    default_out = Path("runs/anchor_debug")
    out = Path(args.out) if args.out else default_out
    if (out / "report.txt").exists():
        if args.out:
            raise FileExistsError(f"{out} holds an earlier report; choose another --out")
        n = 2
        while (out := default_out.with_name(f"{default_out.name}_{n}")).joinpath("report.txt").exists():
            n += 1
        print(f"{default_out} holds an earlier report; this one goes to {out}")
    quick = args.quick or is_quick()
    root = Path(args.data) if args.data else ensure_shapes(quick, progress=not args.no_progress)
    dataset = CocoDataset(*split_files(root, args.split))
    reports = analyse_dataset(dataset, config, args.fg_iou, args.bg_iou, min_size=min_size,
                              max_size=args.max_size, limit=args.limit)
    images = len(dataset) if args.limit is None else min(args.limit, len(dataset))
    resize = f"short side {min_size} (long <= {args.max_size})" if min_size else "the images' own size"
    title = (f"anchor coverage of {dataset_label(args.data, args.split, quick)} ({images} images): "
             f"sizes {config['sizes']}, strides {config['strides']}, scales "
             f"{tuple(round(s, 3) for s in config['scales'])}, ratios (h/w) {config['ratios']}; "
             f"input {resize}; positive IoU >= {args.fg_iou}, negative < {args.bg_iou}")
    text = format_report(reports, title, len(config["sizes"]), args.fg_iou)
    print(text)
    figures = save_figures(reports, config, out, args.fg_iou, args.bg_iou)
    summary = {**summarize(reports), "anchors": config, "min_size": min_size, "images": images,
               "data": str(root.resolve()), "split": args.split}
    write_json(out / "summary.json", summary)
    (out / "report.txt").write_text(text + "\n")
    print(f"figures: {', '.join(str(f) for f in figures)}; report: {out / 'report.txt'}")
    return summary

