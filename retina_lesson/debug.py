"""Anchor debugging: does every object of a dataset get a positive anchor? (plots live in ``viz``)

For each object: its best IoU with any anchor, the level of that anchor, and how many anchors the
three-zone rule makes positive for it, with and without torchvision's low-quality matches. An object
with no positive anchor under the pure rule is trained only through the low-quality rule (one
mediocre anchor) or not at all: a sign that the anchor sizes, scales, ratios or thresholds don't
fit the data. ``anchor_recall`` condenses this into one number, so configurations can be compared.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from . import anchors as anchor_lib
from .boxes import box_iou
from .matching import match_anchors

DEFAULT_CONFIG = dict(sizes=anchor_lib.SIZES, strides=anchor_lib.STRIDES, scales=anchor_lib.SCALES,
                      ratios=anchor_lib.RATIOS)


@dataclass
class ObjectReport:
    """What the anchors of one configuration do for one object."""
    image_index: int
    object_index: int
    label: int
    box: list            # xyxy in the network's input pixels (after any resize)
    best_iou: float
    best_level: int      # 0 = P3
    positives: int       # anchors with IoU >= fg_iou assigned to this object (three-zone rule)
    positives_low_quality: int  # with torchvision's low-quality matches added
    positives_per_level: list


def input_size(height: int, width: int, min_size=None, max_size=1333):
    """(scale, padded input size) the model's transform gives an image of this size."""
    scale = 1.0 if min_size is None else min(min_size / min(height, width), max_size / max(height, width))
    h, w = math.floor(height * scale), math.floor(width * scale)
    return scale, (math.ceil(h / 32) * 32, math.ceil(w / 32) * 32)


def _image_sizes(dataset):
    coco = getattr(dataset, "coco", None)
    if coco is None:
        raise ValueError("dataset must be a CocoDataset (it needs each image's height and width)")
    return [(coco.imgs[i]["height"], coco.imgs[i]["width"]) for i in dataset.image_ids]


@functools.lru_cache(maxsize=32)
def _anchors(image_size, config):
    """(per-level anchors, all anchors, level of each) of a size and configuration, computed once
    (a dataset's images mostly share one input size; the tensors are never modified)."""
    per_level = anchor_lib.anchors_per_level(image_size, **dict(config))
    level = torch.cat([torch.full((len(a),), i) for i, a in enumerate(per_level)])
    return per_level, torch.cat(per_level), level


def analyse_image(boxes, labels, image_size, config=None, fg_iou=0.5, bg_iou=0.4,
                  image_index=0) -> list[ObjectReport]:
    """Reports for the objects of one image; ``image_size`` is the (padded) network input."""
    config = {**DEFAULT_CONFIG, **(config or {})}
    key = tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v)
                       for k, v in config.items()))
    per_level, anchors, level = _anchors(tuple(int(s) for s in image_size), key)
    if len(boxes) == 0:
        return []
    iou = box_iou(boxes, anchors)
    best_iou, best_anchor = iou.max(dim=1)
    plain = match_anchors(iou, fg_iou, bg_iou, allow_low_quality=False)
    low_quality = match_anchors(iou, fg_iou, bg_iou, allow_low_quality=True)
    reports = []
    for j in range(len(boxes)):
        mine = plain == j
        reports.append(ObjectReport(
            image_index, j, int(labels[j]), boxes[j].tolist(), float(best_iou[j]),
            int(level[best_anchor[j]]), int(mine.sum()), int((low_quality == j).sum()),
            torch.bincount(level[mine], minlength=len(per_level)).tolist()))
    return reports


def analyse_dataset(dataset, config=None, fg_iou=0.5, bg_iou=0.4, min_size=None,
                    max_size=1333, limit=None) -> list[ObjectReport]:
    """Reports for every object of a COCO-format dataset (no image is read)."""
    sizes = _image_sizes(dataset)
    reports = []
    for i in range(len(dataset) if limit is None else min(limit, len(dataset))):
        target = dataset.target(i)
        scale, padded = input_size(*sizes[i], min_size=min_size, max_size=max_size)
        reports += analyse_image(target["boxes"] * scale, target["labels"], padded, config, fg_iou,
                                 bg_iou, image_index=i)
    return reports


def anchor_recall(reports, low_quality: bool = False) -> float:
    """Share of objects with at least one positive anchor (nan when there are no objects)."""
    if not reports:
        return float("nan")
    key = "positives_low_quality" if low_quality else "positives"
    return sum(getattr(r, key) > 0 for r in reports) / len(reports)


def unmatched(reports) -> list[ObjectReport]:
    """Objects that get no positive anchor under the three-zone rule, worst first."""
    return sorted((r for r in reports if r.positives == 0), key=lambda r: r.best_iou)


def positives_per_level(reports) -> list[int]:
    """Positive anchors summed over all objects, per pyramid level."""
    if not reports:
        return []
    return [sum(r.positives_per_level[i] for r in reports)
            for i in range(len(reports[0].positives_per_level))]


def summarize(reports) -> dict:
    """The numbers to compare configurations by."""
    best = torch.tensor([r.best_iou for r in reports]) if reports else torch.zeros(0)
    pos = torch.tensor([r.positives for r in reports], dtype=torch.float32) if reports else best
    return {"objects": len(reports), "recall": anchor_recall(reports),
            "recall_low_quality": anchor_recall(reports, low_quality=True),
            "unmatched": len(unmatched(reports)),
            "mean_best_iou": float(best.mean()) if len(best) else float("nan"),
            "mean_positives": float(pos.mean()) if len(pos) else float("nan"),
            "positives_per_level": positives_per_level(reports)}


def compare_configs(dataset, configs: dict, **kwargs) -> dict:
    """``{name: summarize(analyse_dataset(dataset, config))}`` for several anchor configurations.

    A configuration may also set ``fg_iou`` / ``bg_iou`` to compare thresholds.
    """
    out = {}
    for name, config in configs.items():
        config = dict(config)
        fg, bg = config.pop("fg_iou", 0.5), config.pop("bg_iou", 0.4)
        out[name] = summarize(analyse_dataset(dataset, config, fg, bg, **kwargs))
    return out


def format_comparison(results: dict) -> str:
    """A text table of :func:`compare_configs`."""
    lines = [f"{'configuration':<28}{'objects':>8}{'recall':>8}{'+low-q':>8}{'no pos':>8}"
             f"{'best IoU':>9}{'pos/obj':>8}"]
    for name, s in results.items():
        lines.append(f"{name:<28}{s['objects']:>8}{s['recall']:>8.3f}{s['recall_low_quality']:>8.3f}"
                     f"{s['unmatched']:>8}{s['mean_best_iou']:>9.3f}{s['mean_positives']:>8.2f}")
    return "\n".join(lines)


def main(argv=None) -> dict:
    """``python -m retina_lesson.debug``: the coverage report of a dataset (see ``debug_cli``)."""
    from .debug_cli import main as debug_main

    return debug_main(argv)


if __name__ == "__main__":
    main()
