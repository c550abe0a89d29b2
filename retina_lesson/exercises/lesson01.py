"""Checks for the exercises of lesson 01 (boxes and IoU)."""
from __future__ import annotations

import torch

from ..boxes import box_iou, convert
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_box_iou", "check_xywh_to_cxcywh"]


# --- check_box_iou: the IoU matrix of two sets of xyxy boxes ---------------------------------

def _areas(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return area_a, area_b


def _iou_union_not_reduced(a, b):
    area_a, area_b = _areas(a, b)
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :])


def _iou_not_clamped(a, b):
    area_a, area_b = _areas(a, b)
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


def _iou_corners_swapped(a, b):
    # min of the left edges / max of the right edges: the enclosing box, not the intersection
    area_a, area_b = _areas(a, b)
    lt, rb = torch.min(a[:, None, :2], b[None, :, :2]), torch.max(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def _iou_shape_hint(case, expected, received):
    if isinstance(received, torch.Tensor) and received.shape != expected.shape:
        return ("the result must hold one IoU per pair, shape [N, M]: broadcast the boxes of the "
                "first set, a[:, None, :] ([N, 1, 4]), against those of the second, b[None, :, :] "
                "([1, M, 4])")
    return None


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
        Case("two boxes side by side with a gap, at the same height (IoU 0)",
             (t([[0.0, 0, 10, 10]]), t([[15.0, 0, 25, 10]]))),
        Case("one box above the other with a gap, in the same column (IoU 0)",
             (t([[0.0, 0, 10, 10]]), t([[0.0, 15, 10, 25]]))),
        Case("a box inside another (IoU = small area / large area)",
             (t([[0.0, 0, 20, 20]]), t([[5.0, 5, 15, 15]]))),
        Case("IoU exactly 0.5", (t([[0.0, 0, 20, 10]]), t([[0.0, 0, 10, 10]]))),
        Case("2 boxes against 3 boxes: the result is [2, 3]",
             (t([[0.0, 0, 10, 10], [5.0, 5, 25, 25]]),
              t([[0.0, 0, 10, 10], [20.0, 20, 30, 30], [100.0, 0, 110, 5]]))),
        Case("no boxes in the first set (an image without objects): the result is [0, 2]",
             (torch.zeros(0, 4), t([[0.0, 0, 10, 10], [5.0, 5, 25, 25]]))),
        Case("8 random boxes against 5 random boxes", (_random_boxes(8, g), _random_boxes(5, g))),
    ]


def check_box_iou(fn) -> Verdict:
    """Lesson 01: ``fn(a, b)`` must equal ``boxes.box_iou``: IoU of [N, 4] and [M, 4] xyxy boxes."""
    hints = [
        Mistake("the IoU is too small: is the intersection subtracted from the union "
                "(area_a + area_b - inter)?", _iou_union_not_reduced),
        Mistake("IoU is not 0 for boxes that do not overlap: are the intersection's width AND "
                "height clamped at 0?",
                _iou_not_clamped),
        Mistake("these are continuous coordinates: width = x2 - x1, without the +1 of pixel "
                "counting", _iou_plus_one),
        Mistake("the intersection's top-left corner is the LARGER of the two top-left corners "
                "(torch.max), its bottom-right corner the SMALLER of the two (torch.min)",
                _iou_corners_swapped),
        Mistake("the result is transposed: row i should be box i of the first argument, "
                "shape [N, M]", lambda a, b: box_iou(a, b).T),
        _iou_shape_hint,
    ]
    return run_check("box_iou", fn, box_iou, _cases(), hints=hints, arg_names=("a", "b"))


# --- check_xywh_to_cxcywh: COCO boxes to centre-size boxes ------------------------------------

def _cx_not_halved(b):
    x, y, w, h = b.unbind(-1)
    return torch.stack([x + w, y + h, w, h], dim=-1)


def _read_as_xyxy(b):
    x1, y1, x2, y2 = b.unbind(-1)  # the xyxy -> cxcywh formula applied to xywh numbers
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def _wrong_direction(b):
    x, y, w, h = b.unbind(-1)  # cxcywh -> xywh (the inverse conversion)
    return torch.stack([x - w / 2, y - h / 2, w, h], dim=-1)


def _size_halved(b):
    x, y, w, h = b.unbind(-1)
    return torch.stack([x + w / 2, y + h / 2, w / 2, h / 2], dim=-1)


def _xywh_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(2)
    xy, wh = torch.rand(6, 2, generator=g) * 400, torch.rand(6, 2, generator=g) * 150 + 1
    return [
        Case("a 10x20 box at the origin", (t([[0.0, 0, 10, 20]]),)),
        Case("the photo's head box as COCO stores it", (t([[150.0, 14, 130, 162]]),)),
        Case("a box of zero width and height (a point)", (t([[5.0, 7, 0, 0]]),)),
        Case("three boxes at once", (t([[1.0, 2, 3, 4], [10.0, 20, 30, 40], [0.5, 0.5, 1, 1]]),)),
        Case("no boxes at all: a [0, 4] tensor in, a [0, 4] tensor out", (torch.zeros(0, 4),)),
        Case("6 random boxes", (torch.cat([xy, wh], dim=1),)),
    ]


def check_xywh_to_cxcywh(fn) -> Verdict:
    """Lesson 01: ``fn(b)`` must equal ``boxes.convert(b, "xywh", "cxcywh")`` for [N, 4] boxes."""
    hints = [
        Mistake("the centre is half the size away from the corner: cx = x + w / 2", _cx_not_halved),
        Mistake("the input is (x, y, w, h), not (x1, y1, x2, y2): the third number is already "
                "the width", _read_as_xyxy),
        Mistake("this converts the other way (cxcywh -> xywh): from the top-left corner the "
                "centre is at x + w / 2, not x - w / 2", _wrong_direction),
        Mistake("width and height stay as they are; only the corner moves to the centre",
                _size_halved),
    ]
    return run_check("xywh_to_cxcywh", fn, lambda b: convert(b, "xywh", "cxcywh"), _xywh_cases(),
                     hints=hints, arg_names=("b",))
