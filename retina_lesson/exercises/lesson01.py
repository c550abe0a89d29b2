"""Checks for the exercises of lesson 01 (boxes and IoU)."""
from __future__ import annotations

import torch

from ..boxes import box_iou
from ._core import Case, Mistake, run_check

__all__ = ["check_box_iou"]


def _iou_union_not_reduced(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :])


def _iou_not_clamped(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = rb - lt
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def _iou_plus_one(a, b):
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt + 1).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def _random_boxes(n: int, generator: torch.Generator, size: float = 100.0) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=generator) * size
    wh = torch.rand(n, 2, generator=generator) * size / 2 + 1
    return torch.cat([xy, xy + wh], dim=1)


def _cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(1)
    return [
        Case("a box against itself (IoU 1)", (t([[0.0, 0, 10, 10]]), t([[0.0, 0, 10, 10]]))),
        Case("two 10x10 boxes shifted by 5 px (IoU 1/3)",
             (t([[0.0, 0, 10, 10]]), t([[5.0, 0, 15, 10]]))),
        Case("two boxes that only touch at an edge (IoU 0)",
             (t([[0.0, 0, 10, 10]]), t([[10.0, 0, 20, 10]]))),
        Case("two boxes far apart on both axes (IoU 0)",
             (t([[0.0, 0, 10, 10]]), t([[30.0, 40, 50, 60]]))),
        Case("a box inside another (IoU = small area / large area)",
             (t([[0.0, 0, 20, 20]]), t([[5.0, 5, 15, 15]]))),
        Case("IoU exactly 0.5", (t([[0.0, 0, 20, 10]]), t([[0.0, 0, 10, 10]]))),
        Case("2 boxes against 3 boxes: the result is [2, 3]",
             (t([[0.0, 0, 10, 10], [5.0, 5, 25, 25]]),
              t([[0.0, 0, 10, 10], [20.0, 20, 30, 30], [100.0, 0, 110, 5]]))),
        Case("8 random boxes against 5 random boxes", (_random_boxes(8, g), _random_boxes(5, g))),
    ]


def check_box_iou(fn) -> bool:
    """Lesson 01: ``fn(a, b)`` must equal ``boxes.box_iou``: IoU of [N, 4] and [M, 4] xyxy boxes."""
    hints = [
        Mistake("the IoU is too small: is the intersection subtracted from the union "
                "(area_a + area_b - inter)?", _iou_union_not_reduced),
        Mistake("IoU is not 0 for boxes that do not overlap: is the intersection's width clamped at 0?",
                _iou_not_clamped),
        Mistake("these are continuous coordinates: width = x2 - x1, without the +1 of pixel "
                "counting", _iou_plus_one),
        Mistake("the result is transposed: row i should be box i of the first argument, "
                "shape [N, M]", lambda a, b: box_iou(a, b).T),
    ]
    return run_check("box_iou", fn, box_iou, _cases(), hints=hints, arg_names=("a", "b"))
