"""Boxes: formats, conversions, area and IoU (the overlap measure every later lesson uses).

Boxes are float tensors of shape [N, 4]. ``xyxy`` = (x1, y1, x2, y2), corners in pixels;
``xywh`` = (x1, y1, width, height) as in COCO annotations; ``cxcywh`` = (centre x, centre y,
width, height) as used by the box coding of Sec. 4 / Faster R-CNN.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .precision import upcast

FORMATS = ("xyxy", "xywh", "cxcywh")


def validate_boxes(boxes: Tensor, name: str = "boxes", fmt: str = "xyxy") -> Tensor:
    """Check boxes and return them as a float tensor; raise ``ValueError`` naming the problem.

    Rejects a shape other than [N, 4], NaN or inf, and (for ``xyxy``) x2 < x1 or y2 < y1,
    (for ``xywh``/``cxcywh``) a negative width or height. Empty [0, 4] is valid.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown box format {fmt!r}; expected one of {FORMATS}")
    if not isinstance(boxes, Tensor):
        boxes = torch.as_tensor(boxes, dtype=torch.float32)
    if boxes.numel() == 0 and boxes.dim() == 1:
        boxes = boxes.reshape(0, 4)
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} must have shape [N, 4], got {list(boxes.shape)}")
    if not boxes.is_floating_point():
        boxes = boxes.float()
    bad = ~torch.isfinite(boxes).all(dim=1)
    if bad.any():
        row = int(bad.nonzero()[0])
        raise ValueError(f"{name} contains NaN or inf at row {row}: {boxes[row].tolist()}")
    if fmt == "xyxy":
        a, b = boxes[:, 2] < boxes[:, 0], boxes[:, 3] < boxes[:, 1]
        for bad, what in ((a, "x2 < x1"), (b, "y2 < y1")):
            if bad.any():
                row = int(bad.nonzero()[0])
                raise ValueError(f"{name} has {what} at row {row}: {boxes[row].tolist()} "
                                 f"(expected xyxy = x1, y1, x2, y2)")
    else:
        bad = (boxes[:, 2:] < 0).any(dim=1)
        if bad.any():
            row = int(bad.nonzero()[0])
            raise ValueError(f"{name} has a negative width or height at row {row}: {boxes[row].tolist()}")
    return boxes


def convert(boxes: Tensor, src: str, dst: str) -> Tensor:
    """Convert boxes between ``xyxy``, ``xywh`` and ``cxcywh``."""
    boxes = validate_boxes(boxes, fmt=src)
    if dst not in FORMATS:
        raise ValueError(f"unknown box format {dst!r}; expected one of {FORMATS}")
    if src == "xywh":
        x, y, w, h = boxes.unbind(-1)
        xyxy = torch.stack([x, y, x + w, y + h], dim=-1)
    elif src == "cxcywh":
        cx, cy, w, h = boxes.unbind(-1)
        xyxy = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
    else:
        xyxy = boxes
    x1, y1, x2, y2 = xyxy.unbind(-1)
    if dst == "xywh":
        return torch.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)
    if dst == "cxcywh":
        return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)
    return xyxy.clone() if xyxy is boxes else xyxy


def xyxy_to_xywh(boxes: Tensor) -> Tensor:
    return convert(boxes, "xyxy", "xywh")


def xywh_to_xyxy(boxes: Tensor) -> Tensor:
    return convert(boxes, "xywh", "xyxy")


def xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    return convert(boxes, "xyxy", "cxcywh")


def cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    return convert(boxes, "cxcywh", "xyxy")


def box_area(boxes: Tensor) -> Tensor:
    """Area (x2 - x1) * (y2 - y1) of xyxy boxes, [N]."""
    boxes = validate_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou_pair(a, b) -> float:
    """IoU of two single boxes written out step by step (the hand computation of lesson 01)."""
    ax1, ay1, ax2, ay2 = (float(v) for v in a)
    bx1, by1, bx2, by2 = (float(v) for v in b)
    inter_w = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    inter_h = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = inter_w * inter_h
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0.0


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection over union of every pair, [N, M] (xyxy boxes).

    IoU = |A ∩ B| / |A ∪ B|. The same numbers as ``torchvision.ops.box_iou``; a pair whose union
    is zero (two zero-size boxes) gets IoU 0 instead of NaN. Half precision is computed (and
    returned) in float32, as torchvision does: a 300-px box's area overflows float16.
    """
    boxes1 = upcast(validate_boxes(boxes1, "boxes1"))
    boxes2 = upcast(validate_boxes(boxes2, "boxes2"))
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    a, b = boxes1[:, None, :], boxes2[None, :, :]
    # Intersection width and height, one [N, M] plane each:
    #   min(x2, x2') - max(x1, x1'), clamped at 0 (no overlap). With 100 objects and 200k anchors
    # a plane is 80 MB, so the planes are computed in place and `tmp` is reused: 3 planes in all
    # instead of torchvision's [N, M, 2] temporaries (same numbers, ~2x less memory traffic).
    inter = torch.minimum(a[..., 2], b[..., 2])
    tmp = torch.maximum(a[..., 0], b[..., 0])
    inter.sub_(tmp).clamp_(min=0)
    inter_h = torch.minimum(a[..., 3], b[..., 3])
    inter_h.sub_(torch.maximum(a[..., 1], b[..., 1], out=tmp)).clamp_(min=0)
    inter.mul_(inter_h)
    del inter_h
    union = torch.add(area1[:, None], area2[None, :], out=tmp).sub_(inter)
    return inter.div_(union).nan_to_num_(0.0)  # 0 / 0 (two empty boxes) -> 0


def clip_boxes(boxes: Tensor, image_size) -> Tensor:
    """Clip xyxy boxes to an image of size (H, W)."""
    h, w = image_size
    x = boxes[..., 0::2].clamp(0, w)
    y = boxes[..., 1::2].clamp(0, h)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], dim=-1)
