"""Checks for the exercises of lesson 02 (anchors)."""
from __future__ import annotations

import math

import torch

from ..anchors import RATIOS, SCALES, base_anchors, grid_anchors
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_base_anchors", "check_grid_anchors"]


# --- check_base_anchors: the A anchors of one location, torchvision's convention ---------------

def _base(size, scales, ratios, *, truncate=True, scale=True, swap=False, order="ratio",
          rounding="half"):
    """A configurable hand-written version: each keyword is one way of getting it wrong."""
    rows = []
    outer, inner = (ratios, scales) if order == "ratio" else (scales, ratios)
    for a in outer:
        for b in inner:
            r, sc = (a, b) if order == "ratio" else (b, a)
            s = size * sc if scale else size
            s = int(s) if truncate else s
            w, h = s / math.sqrt(r), s * math.sqrt(r)
            if swap:
                w, h = h, w
            if rounding == "half":
                rows.append([round(-w / 2), round(-h / 2), round(w / 2), round(h / 2)])
            elif rounding == "size":  # the width and height are rounded, then halved
                rows.append([-round(w) / 2, -round(h) / 2, round(w) / 2, round(h) / 2])
            elif rounding == "trunc":
                rows.append([int(-w / 2), int(-h / 2), int(w / 2), int(h / 2)])
            else:
                rows.append([-w / 2, -h / 2, w / 2, h / 2])
    return torch.tensor(rows, dtype=torch.float32)


def _base_cases() -> list[Case]:
    g = torch.Generator().manual_seed(2)
    rand_scales = tuple(round(1 + v, 3) for v in torch.rand(2, generator=g).tolist())
    rand_ratios = tuple(round(0.3 + 3 * v, 3) for v in torch.rand(3, generator=g).tolist())
    return [
        Case("P3 (size 32), the default scales and ratios", (32, SCALES, RATIOS)),
        Case("P7 (size 512): 512 * 2**(2/3) = 812.7 is truncated to 812", (512, SCALES, RATIOS)),
        Case("one scale and one ratio: the square anchor of size 64", (64, (1.0,), (1.0,))),
        Case("size 128, one scale, the three ratios", (128, (1.0,), RATIOS)),
        Case("size 64, the three scales, one ratio 1:2 (h / w = 0.5)", (64, SCALES, (0.5,))),
        Case("size 100, 2 scales x 4 ratios (the order: ratio-major, scale-minor)",
             (100, (1.0, 1.5), (0.25, 0.5, 1.0, 2.0))),
        Case("P4 (size 64), the default scales and ratios", (64, SCALES, RATIOS)),
        Case("P6 (size 256), the default scales and ratios", (256, SCALES, RATIOS)),
        Case("size 48, 2 random scales x 3 random ratios", (48, rand_scales, rand_ratios)),
    ]


def check_base_anchors(fn) -> Verdict:
    """Lesson 02: ``fn(size, scales, ratios)`` must equal ``anchors.base_anchors`` (torchvision's
    convention): [len(ratios) * len(scales), 4] xyxy anchors centred on (0, 0)."""
    hints = [
        Mistake("width and height are swapped: the ratio is r = h / w, so h = s * sqrt(r) and "
                "w = s / sqrt(r) (ratio 0.5 gives a WIDE anchor)",
                lambda *a: _base(*a, swap=True)),
        Mistake("every anchor has the level's base size: the size of an anchor is "
                "size * scale", lambda *a: _base(*a, scale=False)),
        Mistake("torchvision truncates each size to an integer first: int(32 * 2**(1/3)) = 40, "
                "int(512 * 2**(2/3)) = 812", lambda *a: _base(*a, truncate=False)),
        Mistake("torchvision rounds the corners: torch.round([-w, -h, w, h] / 2)",
                lambda *a: _base(*a, rounding="none")),
        Mistake("round the half-sides (w / 2), not the width and height before halving",
                lambda *a: _base(*a, rounding="size")),
        Mistake("int() truncates towards 0; the corners must be rounded to the nearest whole "
                "number (torch.round)", lambda *a: _base(*a, rounding="trunc")),
        Mistake("the order is ratio-major, scale-minor: all scales of the first ratio, then all "
                "scales of the second ratio, ...", lambda *a: _base(*a, order="scale")),
        Mistake("these are the paper's unrounded anchors; torchvision truncates the sizes to "
                "integers and rounds the corners",
                lambda *a: _base(*a, truncate=False, rounding="none")),
    ]
    return run_check("base_anchors", fn, base_anchors, _base_cases(), hints=hints,
                     arg_names=("size", "scales", "ratios"))


# --- check_grid_anchors: the base anchors shifted to every location of a feature map ------------

def _grid(base, feature_size, stride, *, offset=0.0, anchor_major=False, x_major=False,
          swap_xy=False, swap_strides=False, swap_size=False):
    fh, fw = feature_size
    sy, sx = stride
    if swap_strides:
        sy, sx = sx, sy
    if swap_size:
        fh, fw = fw, fh
    xs = (torch.arange(fw, dtype=base.dtype) + offset) * sx
    ys = (torch.arange(fh, dtype=base.dtype) + offset) * sy
    if x_major:  # column by column: x slowest
        cx, cy = torch.meshgrid(xs, ys, indexing="ij")
    else:
        cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    cx, cy = cx.reshape(-1), cy.reshape(-1)
    shifts = torch.stack((cy, cx, cy, cx) if swap_xy else (cx, cy, cx, cy), dim=1)
    if anchor_major:
        return (base.view(-1, 1, 4) + shifts.view(1, -1, 4)).reshape(-1, 4)
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)


def _grid_cases() -> list[Case]:
    p3 = base_anchors(32)
    g = torch.Generator().manual_seed(3)
    half = torch.rand(5, 2, generator=g) * 40 + 2
    random_base = torch.cat([-half, half], dim=1).round()
    square = torch.tensor([[-16.0, -16, 16, 16]])
    tall = torch.tensor([[-2.0, -5, 2, 5]])
    return [
        Case("one location, the square anchor: the centre is (0, 0), the cell's corner",
             (square, (1, 1), (8, 8))),
        Case("one anchor on a 2 x 3 grid (2 rows, 3 columns), stride 8", (square, (2, 3), (8, 8))),
        Case("one tall anchor on a 3 x 2 grid with strides (y, x) = (10, 20)",
             (tall, (3, 2), (10, 20))),
        Case("the 9 P3 anchors on a 2 x 2 grid, stride 8", (p3, (2, 2), (8, 8))),
        Case("two anchors on a 2 x 2 grid: the anchors of one location come together",
             (torch.cat([square, tall]), (2, 2), (16, 16))),
        Case("P7 of an 800 x 1344 input: 7 x 11 cells, torchvision's strides (114, 122)",
             (base_anchors(512), (7, 11), (114, 122))),
        Case("5 random anchors on a 4 x 6 grid with strides (13, 17)",
             (random_base, (4, 6), (13, 17))),
    ]


def _grid_reference(base, feature_size, stride):
    return grid_anchors(base, feature_size, stride, offset=0.0)


def check_grid_anchors(fn) -> Verdict:
    """Lesson 02: ``fn(base, feature_size, stride)`` must equal ``anchors.grid_anchors`` with
    offset 0: base [A, 4], feature_size (H, W), stride (stride_y, stride_x) -> [H * W * A, 4]."""
    hints = [
        Mistake("torchvision puts the anchors of cell (y, x) at (x * stride_x, y * stride_y), the "
                "cell's top-left corner (offset 0), not at the cell's middle (x + 0.5) * stride",
                lambda *a: _grid(*a, offset=0.5)),
        Mistake("the order is location-major: the A anchors of location 0, then the A anchors "
                "of location 1, ... (shifts[:, None, :] + base[None, :, :])",
                lambda *a: _grid(*a, anchor_major=True)),
        Mistake("the locations go row by row (y slowest, x fastest): "
                "torch.meshgrid(ys, xs, indexing='ij') gives (cy, cx)",
                lambda *a: _grid(*a, x_major=True)),
        Mistake("x and y are swapped in the shift: a box is (x1, y1, x2, y2), so the shift is "
                "(cx, cy, cx, cy)", lambda *a: _grid(*a, swap_xy=True)),
        Mistake("stride is (stride_y, stride_x): the x positions use stride[1], the y positions "
                "stride[0]", lambda *a: _grid(*a, swap_strides=True)),
        Mistake("feature_size is (H, W): H rows (y) and W columns (x)",
                lambda *a: _grid(*a, swap_size=True)),
    ]
    return run_check("grid_anchors", fn, _grid_reference, _grid_cases(), hints=hints,
                     arg_names=("base", "feature_size", "stride"))
