"""Anchors: the dense set of reference boxes RetinaNet classifies and regresses (paper Sec. 4).

At each pyramid level P3-P7 (strides 8 ... 128) every feature-map location carries A = 9 anchors:
areas 32^2 ... 512^2, each at scales {2^0, 2^(1/3), 2^(2/3)} and aspect ratios {1:2, 1:1, 2:1}.

Two conventions are offered:

* ``"torchvision"`` (default) - exactly what ``torchvision``'s RetinaNet ``AnchorGenerator`` does:
  per-level sizes truncated to integers (32, 40, 50), base anchors ``[-w, -h, w, h] / 2`` rounded,
  centres at the top-left corner of each cell (``x * stride``), and the stride of a level taken as
  ``image_size // feature_size`` per axis (61 and 114 on P6/P7 for an 800-px side).
* ``"paper"`` - the idealised reading: exact sizes (512 * 2^(2/3) = 812.7), no rounding, centres in
  the middle of each cell (``(x + 0.5) * stride``) with the nominal strides 8 ... 128.

Order of the output, as in torchvision: level by level (P3 first), then location row by row
(y, then x), then the A anchors of a location (ratio-major, scale-minor).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

SIZES = (32, 64, 128, 256, 512)
STRIDES = (8, 16, 32, 64, 128)
SCALES = (1.0, 2 ** (1 / 3), 2 ** (2 / 3))
RATIOS = (0.5, 1.0, 2.0)  # height / width
LEVELS = ("P3", "P4", "P5", "P6", "P7")
CONVENTIONS = ("torchvision", "paper")


def _check_positive(name, values):
    values = tuple(values)
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    for v in values:
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be positive finite numbers, got {values}")
    return values


def _check_config(sizes, strides, scales, ratios, convention):
    sizes = _check_positive("sizes", sizes)
    strides = _check_positive("strides", strides)
    _check_positive("scales", scales)
    _check_positive("ratios", ratios)
    if len(sizes) != len(strides):
        raise ValueError(f"sizes and strides must have one entry per pyramid level; got "
                         f"{len(sizes)} sizes {sizes} and {len(strides)} strides {strides}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return sizes, strides


def _check_image_size(image_size):
    try:
        h, w = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (height, width), got {image_size!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"image_size must be positive, got {tuple(image_size)}")
    return h, w


def level_sizes(size: float, scales=SCALES, convention: str = "torchvision") -> list[float]:
    """The anchor sizes of one level: ``size * scale`` (truncated to int by torchvision)."""
    if convention == "torchvision":
        return [int(size * s) for s in scales]
    return [size * s for s in scales]


def base_anchors(size: float, scales=SCALES, ratios=RATIOS, convention: str = "torchvision",
                 dtype=torch.float32) -> Tensor:
    """The A = len(ratios) * len(scales) anchors of one location, centred on (0, 0), [A, 4] xyxy.

    For sqrt-area s and ratio r = h / w: h = s * sqrt(r), w = s / sqrt(r) (area stays s^2).
    """
    _check_positive("size", [size])
    _check_positive("scales", scales)
    _check_positive("ratios", ratios)
    s = torch.as_tensor(level_sizes(size, scales, convention), dtype=dtype)
    r = torch.as_tensor(ratios, dtype=dtype)
    h_ratios = torch.sqrt(r)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * s[None, :]).view(-1)
    hs = (h_ratios[:, None] * s[None, :]).view(-1)
    anchors = torch.stack([-ws, -hs, ws, hs], dim=1) / 2
    return anchors.round() if convention == "torchvision" else anchors


def feature_sizes(image_size, strides=STRIDES) -> list[tuple[int, int]]:
    """Feature-map size (H_l, W_l) = ceil(H / stride_l), ceil(W / stride_l) of every level.

    This is what a ResNet-FPN produces: every stride-2 conv (padding 1) gives ceil(size / 2).
    """
    h, w = _check_image_size(image_size)
    strides = _check_positive("strides", strides)
    return [(math.ceil(h / s), math.ceil(w / s)) for s in strides]


def effective_strides(image_size, sizes_hw) -> list[tuple[int, int]]:
    """torchvision's stride of each level: ``image_size // feature_size`` per axis."""
    h, w = _check_image_size(image_size)
    return [(h // fh, w // fw) for fh, fw in sizes_hw]


def grid_anchors(base: Tensor, feature_size, stride, offset: float = 0.0) -> Tensor:
    """Shift the base anchors to every location of one feature map, [H_l * W_l * A, 4].

    Location (y, x) has its centre at ((x + offset) * stride_x, (y + offset) * stride_y).
    """
    fh, fw = feature_size
    sy, sx = stride if isinstance(stride, (tuple, list)) else (stride, stride)
    xs = (torch.arange(fw, dtype=base.dtype) + offset) * sx
    ys = (torch.arange(fh, dtype=base.dtype) + offset) * sy
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    cx, cy = cx.reshape(-1), cy.reshape(-1)
    shifts = torch.stack((cx, cy, cx, cy), dim=1)
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)


def anchors_per_level(image_size, sizes=SIZES, strides=STRIDES, scales=SCALES, ratios=RATIOS,
                      convention: str = "torchvision", dtype=torch.float32) -> list[Tensor]:
    """One [H_l * W_l * A, 4] tensor of xyxy anchors per pyramid level."""
    sizes, strides = _check_config(sizes, strides, scales, ratios, convention)
    image_size = _check_image_size(image_size)
    grids = feature_sizes(image_size, strides)
    if convention == "torchvision":
        steps, offset = effective_strides(image_size, grids), 0.0
    else:
        steps, offset = [(s, s) for s in strides], 0.5
    return [grid_anchors(base_anchors(size, scales, ratios, convention, dtype), grid, step, offset)
            for size, grid, step in zip(sizes, grids, steps)]


def generate_anchors(image_size, sizes=SIZES, strides=STRIDES, scales=SCALES, ratios=RATIOS,
                     convention: str = "torchvision", dtype=torch.float32) -> Tensor:
    """All anchors of a (padded) input of size (H, W), [A_total, 4] xyxy, level by level.

    With the defaults: the same tensor as torchvision's RetinaNet ``AnchorGenerator``.
    """
    return torch.cat(anchors_per_level(image_size, sizes, strides, scales, ratios, convention, dtype))


def num_anchors_per_level(image_size, strides=STRIDES, scales=SCALES, ratios=RATIOS) -> list[int]:
    """H_l * W_l * A for every level (how many anchors each level contributes)."""
    a = len(tuple(scales)) * len(tuple(ratios))
    return [fh * fw * a for fh, fw in feature_sizes(image_size, strides)]


def level_of_anchor(image_size, strides=STRIDES, scales=SCALES, ratios=RATIOS) -> Tensor:
    """The pyramid-level index (0 = P3) of every anchor, in ``generate_anchors`` order."""
    counts = num_anchors_per_level(image_size, strides, scales, ratios)
    return torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))


def anchor_table(sizes=SIZES, strides=STRIDES, scales=SCALES, ratios=RATIOS,
                 convention: str = "torchvision") -> list[dict]:
    """One row per level: name, stride, sizes at each scale, smallest and largest anchor side."""
    sizes, strides = _check_config(sizes, strides, scales, ratios, convention)
    rows = []
    for i, (size, stride) in enumerate(zip(sizes, strides)):
        base = base_anchors(size, scales, ratios, convention, dtype=torch.float64)
        sides = torch.cat([base[:, 2] - base[:, 0], base[:, 3] - base[:, 1]])
        name = LEVELS[i] if i < len(LEVELS) and len(sizes) == len(LEVELS) else f"L{i}"
        rows.append({"level": name, "stride": stride, "sizes": level_sizes(size, scales, convention),
                     "min_side": float(sides.min()), "max_side": float(sides.max())})
    return rows
