"""Checks for the exercises of lesson 04 (box coding: encode and decode)."""
from __future__ import annotations

import math
from functools import partial

import torch

from ..box_coding import BBOX_XFORM_CLIP, decode, encode
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_encode", "check_decode"]


def _centre_size(b):
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return b[:, 0] + 0.5 * w, b[:, 1] + 0.5 * h, w, h


# --- wrong versions of encode ------------------------------------------------------------------

def _encode(boxes, anchors, *, size="log", offset_by="anchor", y_by="height", corners=False,
            swap=False):
    """encode with one mistake switched on (the defaults give the right answer)."""
    if swap:
        boxes, anchors = anchors, boxes
    xa, ya, wa, ha = _centre_size(anchors)
    x, y, w, h = _centre_size(boxes)
    if corners:
        x, y, xa, ya = boxes[:, 0], boxes[:, 1], anchors[:, 0], anchors[:, 1]
    dw, dh = (wa, ha) if offset_by == "anchor" else (w, h)
    if y_by == "width":
        dh = dw
    sizes = {"log": (torch.log(w / wa), torch.log(h / ha)),
             "ratio": (w / wa, h / ha),
             "ratio-1": (w / wa - 1, h / ha - 1),
             "inverse": (torch.log(wa / w), torch.log(ha / h))}[size]
    return torch.stack([(x - xa) / dw, (y - ya) / dh, *sizes], dim=1)


def _transposed(case, expected, received):
    if (isinstance(received, torch.Tensor) and received.shape == expected.shape[::-1]
            and expected.shape[0] != 4):
        return "one row per box: stack the four numbers with dim=1 ([N, 4]), not dim=0"
    return None


def _encode_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(5)
    xy = torch.rand(10, 2, generator=g) * 400
    wh = 8 + torch.rand(10, 2, generator=g) * 200
    anchors = torch.cat([xy, xy + wh], dim=1)
    # objects near their anchors: centres moved by up to half the anchor, sizes by up to 2x
    centre = xy + wh / 2 + (torch.rand(10, 2, generator=g) - 0.5) * wh
    size = wh * torch.exp((torch.rand(10, 2, generator=g) - 0.5) * 2 * math.log(2))
    boxes = torch.cat([centre - size / 2, centre + size / 2], dim=1)
    return [
        Case("the box is the anchor itself: all four deltas are 0",
             (t([[10.0, 20, 42, 84]]), t([[10.0, 20, 42, 84]]))),
        Case("a 32 x 64 anchor and a box of the same size moved by (8, 8): t_x = 8/32, t_y = 8/64",
             (t([[8.0, 8, 40, 72]]), t([[0.0, 0, 32, 64]]))),
        Case("a 40 x 20 box moved by (10, 5) from a 20 x 40 anchor",
             (t([[10.0, 15, 50, 35]]), t([[10.0, 0, 30, 40]]))),
        Case("a box twice as wide and half as tall as its anchor, same centre: "
             "t_w = log 2, t_h = -log 2",
             (t([[0.0, 40, 64, 56]]), t([[16.0, 32, 48, 64]]))),
        Case("10 random boxes near their random anchors", (boxes, anchors)),
        Case("no boxes at all: shape [0, 4]", (torch.zeros(0, 4), torch.zeros(0, 4))),
    ]


def check_encode(fn) -> Verdict:
    """Lesson 04: ``fn(boxes, anchors)`` must equal ``box_coding.encode`` (weights (1, 1, 1, 1)):
    the deltas (t_x, t_y, t_w, t_h) that move each anchor onto its box, [N, 4]."""
    hints = [
        _transposed,
        Mistake("the sizes live in log space: t_w = log(w / w_a), not the plain ratio w / w_a",
                partial(_encode, size="ratio")),
        Mistake("the sizes live in log space: t_w = log(w / w_a), not w / w_a - 1",
                partial(_encode, size="ratio-1")),
        Mistake("the arguments are swapped: encode(boxes, anchors) measures the box from the "
                "anchor, t_x = (x - x_a) / w_a", partial(_encode, swap=True)),
        Mistake("t_w = log(w / w_a): the box's size over the anchor's, not the other way round",
                partial(_encode, size="inverse")),
        Mistake("divide the offsets by the ANCHOR's size (w_a, h_a), not the box's: the network "
                "only knows the anchor", partial(_encode, offset_by="object")),
        Mistake("t_y is divided by the anchor's height h_a, not its width",
                partial(_encode, y_by="width")),
        Mistake("t_x, t_y move the centres: use the centres x = (x1 + x2) / 2, not the corners",
                partial(_encode, corners=True)),
    ]
    return run_check("encode", fn, lambda b, a: encode(b, a), _encode_cases(), hints=hints,
                     arg_names=("boxes", "anchors"))


# --- wrong versions of decode ------------------------------------------------------------------

def _decode(deltas, anchors, *, exp=True, clamp="max", offset_by="anchor", y_by="height",
            half=True, swap=False, out="xyxy"):
    """decode with one mistake switched on (the defaults give the right answer)."""
    if swap:
        deltas, anchors = anchors, deltas
    xa, ya, wa, ha = _centre_size(anchors)
    tw, th = deltas[:, 2], deltas[:, 3]
    if clamp == "max":
        tw, th = tw.clamp(max=BBOX_XFORM_CLIP), th.clamp(max=BBOX_XFORM_CLIP)
    elif clamp == "both":
        tw = tw.clamp(-BBOX_XFORM_CLIP, BBOX_XFORM_CLIP)
        th = th.clamp(-BBOX_XFORM_CLIP, BBOX_XFORM_CLIP)
    w, h = (wa * torch.exp(tw), ha * torch.exp(th)) if exp else (wa * tw, ha * th)
    dw, dh = (wa, ha) if offset_by == "anchor" else (w, h)
    if y_by == "width":
        dh = dw
    x, y = xa + deltas[:, 0] * dw, ya + deltas[:, 1] * dh
    if out == "cxcywh":
        return torch.stack([x, y, w, h], dim=1)
    k = 0.5 if half else 1.0
    return torch.stack([x - k * w, y - k * h, x + k * w, y + k * h], dim=1)


def _decode_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(6)
    xy = torch.rand(12, 2, generator=g) * 400
    wh = 8 + torch.rand(12, 2, generator=g) * 200
    anchors = torch.cat([xy, xy + wh], dim=1)
    anchor = t([[10.0, 20, 42, 84]])  # 32 x 64, centre (26, 52)
    return [
        Case("zero deltas give the anchor back", (t([[0.0, 0, 0, 0]]), anchor)),
        Case("t_w = log 2, t_h = -log 2: twice as wide, half as tall, same centre",
             (t([[0.0, 0, math.log(2), -math.log(2)]]), anchor)),
        Case("t_x = 0.5, t_y = -0.25 on a 32 x 64 anchor: moved by (+16, -16) px",
             (t([[0.5, -0.25, 0, 0]]), anchor)),
        Case("t_x = 0.5 with t_w = log 2: the centre moves by half the ANCHOR's width (16 px), "
             "then the box doubles", (t([[0.5, 0, math.log(2), 0]]), anchor)),
        Case("a large prediction t_w = t_h = 10: clamped at log(1000/16), 62.5 x the anchor",
             (t([[0.0, 0, 10, 10]]), anchor)),
        Case("t_w = t_h = 100 (a wild, untrained output): clamped, a finite box",
             (t([[0.0, 0, 100, 100]]), anchor)),
        Case("t_w = t_h = -10: a tiny box; the clamp is on the large side only",
             (t([[0.0, 0, -10, -10]]), anchor)),
        Case("12 random predictions (std 1) on random anchors",
             (torch.randn(12, 4, generator=g), anchors)),
        Case("12 random predictions (std 3, some clamped) on random anchors",
             (torch.randn(12, 4, generator=g) * 3, anchors)),
    ]


def check_decode(fn) -> Verdict:
    """Lesson 04: ``fn(deltas, anchors)`` must equal ``box_coding.decode`` (weights (1, 1, 1, 1)):
    xyxy boxes from deltas, t_w and t_h clamped at log(1000/16) = 4.135 before exp, [N, 4]."""
    hints = [
        _transposed,
        Mistake("the sizes are in log space: w = w_a * exp(t_w), not w_a * t_w",
                partial(_decode, exp=False)),
        Mistake("the arguments are swapped: decode(deltas, anchors)", partial(_decode, swap=True)),
        Mistake("return corners (x1, y1, x2, y2), not centre and size",
                partial(_decode, out="cxcywh")),
        Mistake("the corners are half a width from the centre: x1 = x - w / 2",
                partial(_decode, half=False)),
        Mistake("multiply the offsets by the ANCHOR's size: x = x_a + t_x * w_a (not the decoded "
                "width)", partial(_decode, offset_by="object")),
        Mistake("t_y is multiplied by the anchor's height h_a, not its width",
                partial(_decode, y_by="width")),
        Mistake("clamp t_w and t_h at log(1000 / 16) before exp: a large prediction must stay a "
                "finite box", partial(_decode, clamp="none")),
        Mistake("clamp only from above (max=log(1000/16)): a very negative t_w is a tiny box, "
                "which is harmless", partial(_decode, clamp="both")),
    ]
    return run_check("decode", fn, lambda d, a: decode(d, a), _decode_cases(), hints=hints,
                     arg_names=("deltas", "anchors"))
