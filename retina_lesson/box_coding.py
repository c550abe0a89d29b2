"""Box coding: what the box subnet predicts (paper Sec. 4, following Faster R-CNN / R-CNN).

The network does not output box corners; it outputs four deltas relative to an anchor
(centre x_a, y_a, size w_a, h_a) to the object (x, y, w, h):

    t_x = w_x (x - x_a) / w_a      t_y = w_y (y - y_a) / h_a
    t_w = w_w log(w / w_a)         t_h = w_h log(h / h_a)

Centres are measured in anchor widths, so one number means the same for a 32-px and a 512-px anchor;
sizes in log space, so doubling and halving are symmetric (+log 2, -log 2) and the decoded size
exp(t) * w_a can never be negative. On decode t_w, t_h are clamped at log(1000 / 16) so that an early,
wild prediction cannot overflow exp(). RetinaNet uses weights (1, 1, 1, 1).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .boxes import validate_boxes
from .precision import upcast

BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def _check_positive_size(boxes: Tensor, name: str):
    bad = ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1]))
    if bad.any():
        row = int(bad.nonzero()[0])
        raise ValueError(f"{name} must have positive width and height to be encoded; row {row} is "
                         f"{boxes[row].tolist()}")


def _centre_size(boxes: Tensor):
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def encode(boxes: Tensor, anchors: Tensor, weights=(1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """Deltas (t_x, t_y, t_w, t_h) that move each anchor onto its box, [N, 4] (half precision is
    computed in float32)."""
    boxes = upcast(validate_boxes(boxes, "boxes"))
    anchors = upcast(validate_boxes(anchors, "anchors"))
    if boxes.shape[0] != anchors.shape[0]:
        raise ValueError(f"boxes and anchors must pair up one to one; got {boxes.shape[0]} boxes and "
                         f"{anchors.shape[0]} anchors")
    _check_positive_size(boxes, "boxes")
    _check_positive_size(anchors, "anchors")
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centre_size(anchors)
    gx, gy, gw, gh = _centre_size(boxes)
    return torch.stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah,
                        ww * torch.log(gw / aw), wh * torch.log(gh / ah)], dim=1)


def decode(deltas: Tensor, anchors: Tensor, weights=(1.0, 1.0, 1.0, 1.0),
           clip: float = BBOX_XFORM_CLIP) -> Tensor:
    """Boxes (xyxy) from deltas and their anchors, [N, 4]; t_w, t_h clamped at ``clip``
    (half precision is computed in float32)."""
    if deltas.dim() != 2 or deltas.shape[1] != 4:
        raise ValueError(f"deltas must have shape [N, 4], got {list(deltas.shape)}")
    deltas = upcast(deltas)
    anchors = validate_boxes(anchors, "anchors").to(deltas.dtype)
    if deltas.shape[0] != anchors.shape[0]:
        raise ValueError(f"deltas and anchors must pair up one to one; got {deltas.shape[0]} deltas "
                         f"and {anchors.shape[0]} anchors")
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centre_size(anchors)
    dx, dy = deltas[:, 0] / wx, deltas[:, 1] / wy
    dw = torch.clamp(deltas[:, 2] / ww, max=clip)
    dh = torch.clamp(deltas[:, 3] / wh, max=clip)
    cx, cy = dx * aw + ax, dy * ah + ay
    half_w, half_h = 0.5 * torch.exp(dw) * aw, 0.5 * torch.exp(dh) * ah
    return torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=1)
