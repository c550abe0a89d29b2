"""Checks for the exercises of lesson 06 (backbone and FPN).

* ``check_feature_sizes(fn)``: ``fn(image_size)`` gives the (H, W) of P3-P7 for a padded input of
  size (H, W); it must equal ``anchors.feature_sizes`` (every stride-2 layer rounds *up*).
* ``check_fpn_top_down(fn)``: ``fn(features, lateral_convs)`` runs the FPN's lateral 1x1 convs and
  its top-down pathway on [C3, C4, C5] and returns the merged maps [M3, M4, M5] (before the 3x3
  output convs); it must equal what ``fpn.FPN`` computes with the same laterals.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from ..anchors import feature_sizes
from ..fpn import FPN
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_feature_sizes", "check_fpn_top_down"]

STRIDES = (8, 16, 32, 64, 128)


# ---------------------------------------------------------------- feature sizes of P3-P7
def _sizes_floor(image_size):
    h, w = image_size
    return [(h // s, w // s) for s in STRIDES]


def _sizes_round(image_size):
    h, w = image_size
    return [(round(h / s), round(w / s)) for s in STRIDES]


def _sizes_floor_half_on_top(image_size):
    h, w = image_size
    sizes = [(math.ceil(h / s), math.ceil(w / s)) for s in STRIDES[:3]]
    for _ in range(2):  # P6, P7 as the floor of half the level below
        sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
    return sizes


def _sizes_no_padding_on_top(image_size):
    h, w = image_size
    sizes = [(math.ceil(h / s), math.ceil(w / s)) for s in STRIDES[:3]]
    for _ in range(2):  # a 3x3 stride-2 conv without padding: (n - 3) // 2 + 1
        sizes.append(((sizes[-1][0] - 3) // 2 + 1, (sizes[-1][1] - 3) // 2 + 1))
    return sizes


def _feature_size_cases() -> list[Case]:
    g = torch.Generator().manual_seed(6)
    cases = [
        Case("a 512 x 768 input (every side a multiple of 128)", ((512, 768),)),
        Case("the COCO size 800 x 1333 before padding", ((800, 1333),)),
        Case("a 799 x 1333 input (odd on both sides)", ((799, 1333),)),
        Case("the padded COCO input 800 x 1344 (P5 is 25 cells tall: P6 is 13, not 12)",
             ((800, 1344),)),
        Case("the lesson's awkward 250 x 333 input", ((250, 333),)),
        Case("a tall 600 x 200 input (H != W)", ((600, 200),)),
        Case("a 1 x 1 input (every level has one cell)", ((1, 1),)),
        Case("a 129 x 127 input (one pixel past / short of 128)", ((129, 127),)),
    ]
    for _ in range(4):
        h, w = (int(v) for v in torch.randint(1, 1400, (2,), generator=g))
        cases.append(Case(f"a random {h} x {w} input", ((h, w),)))
    return cases


def check_feature_sizes(fn) -> Verdict:
    """Lesson 06: ``fn(image_size)`` -> [(H3, W3), ..., (H7, W7)], equal to
    ``anchors.feature_sizes(image_size)``: ceil(H / stride) per level, strides 8 ... 128."""
    hints = [
        Mistake("a stride-2 conv with padding 1 maps a side n to ceil(n / 2), not n // 2: use "
                "math.ceil(H / stride)", _sizes_floor),
        Mistake("round() is not the rule: a stride-2 conv with padding 1 always rounds *up*, "
                "ceil(n / 2)", _sizes_round),
        Mistake("P6 and P7 come from 3x3 stride-2 convs with padding 1: each is ceil(half) of "
                "the level below, not floor (an 800-px side: P5 25, P6 13, P7 7)",
                _sizes_floor_half_on_top),
        Mistake("the P6/P7 convs have padding 1: a side n becomes (n + 2 - 3) // 2 + 1 = "
                "ceil(n / 2)", _sizes_no_padding_on_top),
        Mistake("height and width are swapped: return (H_l, W_l) for each level, H first",
                lambda image_size: feature_sizes(image_size[::-1])),
    ]
    return run_check("feature_sizes", fn, lambda image_size: feature_sizes(image_size),
                     _feature_size_cases(), hints=hints, arg_names=("image_size",))


# ---------------------------------------------------------------- the FPN's top-down pathway
def _identity_conv3x3(conv: nn.Conv2d) -> None:
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        for i in range(conv.out_channels):
            conv.weight[i, i, 1, 1] = 1.0


def _top_down_reference(features, lateral_convs):
    """The package's FPN with these laterals and identity output convs: P3-P5 = the merged maps."""
    fpn = FPN([f.shape[1] for f in features], lateral_convs[0].out_channels)
    for ours, theirs in zip(fpn.lateral, lateral_convs):
        ours.load_state_dict(theirs.state_dict())
    for conv in fpn.output:
        _identity_conv3x3(conv)
    with torch.no_grad():
        p = fpn(OrderedDict((f"C{3 + i}", f) for i, f in enumerate(features)))
    return [p[f"P{3 + i}"] for i in range(len(features))]


def _top_down(features, lateral_convs, upsample, accumulate=True):
    laterals = [conv(f) for conv, f in zip(lateral_convs, features)]
    merged = [laterals[-1]]
    for i in range(len(features) - 2, -1, -1):
        above = merged[0] if accumulate else laterals[i + 1]
        merged.insert(0, laterals[i] + upsample(above, laterals[i]))
    return merged


def _nearest(x, like):
    return F.interpolate(x, size=like.shape[-2:], mode="nearest")


def _bilinear(features, lateral_convs):
    return _top_down(features, lateral_convs,
                     lambda x, like: F.interpolate(x, size=like.shape[-2:], mode="bilinear"))


def _nearest_exact(features, lateral_convs):
    return _top_down(features, lateral_convs,
                     lambda x, like: F.interpolate(x, size=like.shape[-2:], mode="nearest-exact"))


def _no_accumulation(features, lateral_convs):
    return _top_down(features, lateral_convs, _nearest, accumulate=False)


def _add_before_lateral(features, lateral_convs):
    merged = [lateral_convs[-1](features[-1])]
    for i in range(len(features) - 2, -1, -1):
        merged.insert(0, lateral_convs[i](features[i] + _nearest(merged[0], features[i])))
    return merged


def _coarse_first(features, lateral_convs):
    return _top_down(features, lateral_convs, _nearest)[::-1]


def _fpn_case(description, sizes, in_channels, out_channels, generator, batch=1) -> Case:
    features = [torch.randn(batch, c, h, w, generator=generator)
                for c, (h, w) in zip(in_channels, sizes)]
    convs = []
    for c in in_channels:
        conv = nn.Conv2d(c, out_channels, kernel_size=1)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) / math.sqrt(c))
            conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * 0.1)
        convs.append(conv)
    return Case(description, (features, convs))


def _fpn_cases() -> list[Case]:
    g = torch.Generator().manual_seed(6)
    return [
        _fpn_case("C3-C5 of a 64 x 64 input: 8 x 8, 4 x 4, 2 x 2 (exact halvings)",
                  [(8, 8), (4, 4), (2, 2)], (4, 8, 16), 4, g),
        _fpn_case("the lesson's 250 x 333 input: C4 is 16 x 21 but C5 is 8 x 11",
                  [(32, 42), (16, 21), (8, 11)], (4, 8, 16), 4, g),
        _fpn_case("C3-C5 with 3 channels each, as many as the lateral convs give",
                  [(8, 12), (4, 6), (2, 3)], (3, 3, 3), 3, g),
        _fpn_case("a 32 x 32 input: C5 is a single cell", [(4, 4), (2, 2), (1, 1)], (2, 4, 8), 5, g),
        _fpn_case("800 x 1333 shrunk 8x: 13 x 21, 7 x 11, 4 x 6 (odd on both sides)",
                  [(13, 21), (7, 11), (4, 6)], (6, 4, 2), 3, g),
        _fpn_case("a batch of 2 images", [(6, 10), (3, 5), (2, 3)], (2, 4, 8), 2, g, batch=2),
    ]


def check_fpn_top_down(fn) -> Verdict:
    """Lesson 06: ``fn(features, lateral_convs)`` -> [M3, M4, M5]: M5 = lateral(C5), then
    M_l = lateral(C_l) + nearest-upsample(M_{l+1}, to C_l's size); equal to ``fpn.FPN``'s merged
    maps (its P3-P5 before the 3x3 output convs)."""
    hints = [
        Mistake("the FPN upsamples with mode='nearest' (each cell copied into a 2x2 block), not "
                "bilinear", _bilinear),
        Mistake("torchvision's FPN uses mode='nearest'; 'nearest-exact' picks other source cells "
                "when a side is odd (11 -> 21)", _nearest_exact),
        Mistake("upsample the *merged* map of the level above (M_{l+1}), not its lateral: the "
                "top-down path carries C5's information all the way to M3", _no_accumulation),
        Mistake("apply the 1x1 lateral conv to C_l first, then add the upsampled map: "
                "M_l = lateral(C_l) + up(M_{l+1})", _add_before_lateral),
        Mistake("return the merged maps finest first: [M3, M4, M5]", _coarse_first),
    ]
    return run_check("fpn_top_down", _explain_errors(fn), _top_down_reference, _fpn_cases(),
                     hints=hints, arg_names=("features", "lateral_convs"))


def _explain_errors(fn):
    """The student's function, with a hint added to the errors that the usual mistakes raise."""
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:
            raise
        except RuntimeError as error:
            text = str(error)
            if "must match the size" in text and "dimension 1" in text:
                raise RuntimeError(f"{text} - hint: C_l and the upsampled map have different "
                                   "channels: apply the 1x1 lateral conv to C_l before adding"
                                   ) from None
            if "must match the size" in text:
                raise RuntimeError(f"{text} - hint: upsample to the finer map's exact size, "
                                   "F.interpolate(m, size=lateral.shape[-2:]); scale_factor=2 "
                                   "overshoots when a side is odd (11 -> 22, not 21)") from None
            raise
    return wrapped
