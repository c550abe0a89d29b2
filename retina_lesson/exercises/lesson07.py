"""Checks for the exercises of lesson 07 (the heads).

* ``check_head_reshape(fn)``: ``fn(x, num_anchors)`` turns a subnet's output [B, A*K, H, W] into one
  row per anchor, [B, H*W*A, K], in the order of ``anchors.generate_anchors``; it must equal what
  ``heads.Subnet`` does (and torchvision's RetinaNet heads).
* ``check_head_parameter_count(fn)``: ``fn(channels, num_anchors, outputs_per_anchor, num_convs)``
  is the number of parameters of one subnet; it must equal the count of a ``heads.Subnet``.
"""
from __future__ import annotations

import torch

from ..heads import Subnet
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_head_reshape", "check_head_parameter_count"]


# ---------------------------------------------------------------- [B, A*K, H, W] -> [B, H*W*A, K]
def _reshape_reference(x, num_anchors):
    """The package's Subnet with no hidden conv and an identity output conv: only its reshape."""
    b, ak, h, w = x.shape
    subnet = Subnet(ak, ak // num_anchors, num_anchors, num_convs=0)
    with torch.no_grad():
        subnet.out.weight.zero_()
        subnet.out.bias.zero_()
        for i in range(ak):
            subnet.out.weight[i, i, 1, 1] = 1.0
        return subnet.forward_level(x.float()).to(x.dtype)


def _view_k_first(x, num_anchors):
    b, ak, h, w = x.shape
    k = ak // num_anchors
    return x.view(b, k, num_anchors, h, w).permute(0, 3, 4, 2, 1).reshape(b, -1, k)


def _anchor_major(x, num_anchors):
    b, ak, h, w = x.shape
    k = ak // num_anchors
    return x.view(b, num_anchors, k, h, w).permute(0, 1, 3, 4, 2).reshape(b, -1, k)


def _no_permute(x, num_anchors):
    b, ak, h, w = x.shape
    return x.reshape(b, -1, ak // num_anchors)


def _x_before_y(x, num_anchors):
    b, ak, h, w = x.shape
    k = ak // num_anchors
    return x.view(b, num_anchors, k, h, w).permute(0, 4, 3, 1, 2).reshape(b, -1, k)


def _a_as_columns(x, num_anchors):
    b, ak, h, w = x.shape
    k = ak // num_anchors
    return x.view(b, k, num_anchors, h, w).permute(0, 3, 4, 1, 2).reshape(b, -1, num_anchors)


def _digits(b, a, k, h, w):
    """Every value spells its own indices: 10000 b + 1000 y + 100 x + 10 a + k."""
    bb, aa, kk, yy, xx = torch.meshgrid(torch.arange(b), torch.arange(a), torch.arange(k),
                                        torch.arange(h), torch.arange(w), indexing="ij")
    return (10000 * bb + 1000 * yy + 100 * xx + 10 * aa + kk).reshape(b, a * k, h, w).float()


def _reshape_cases() -> list[Case]:
    g = torch.Generator().manual_seed(7)
    return [
        Case("A = 2 anchors, K = 3 classes on a 2 x 2 map; each value is its digits b y x a k",
             (_digits(1, 2, 3, 2, 2), 2)),
        Case("a 2 x 3 map (H != W), A = 2, K = 3", (_digits(1, 2, 3, 2, 3), 2)),
        Case("a batch of 2 images, A = 3, K = 2 on a 3 x 2 map", (_digits(2, 3, 2, 3, 2), 3)),
        Case("the box subnet: A = 9, 4 deltas per anchor, a 2 x 2 map", (_digits(1, 9, 4, 2, 2), 9)),
        Case("K = 1 class, A = 3", (_digits(1, 3, 1, 2, 3), 3)),
        Case("A = 1 anchor per location, K = 5", (_digits(1, 1, 5, 3, 2), 1)),
        Case("a 1 x 1 map (P7 of a small image), A = 9, K = 2", (_digits(2, 9, 2, 1, 1), 9)),
        Case("random logits, A = 9, K = 80, a batch of 2, 3 x 5 map",
             (torch.randn(2, 9 * 80, 3, 5, generator=g), 9)),
    ]


def check_head_reshape(fn) -> Verdict:
    """Lesson 07: ``fn(x, num_anchors)``: [B, A*K, H, W] -> [B, H*W*A, K], row (y*W + x)*A + a holds
    the K values of anchor a at (y, x); equal to ``heads.Subnet``'s reshape (and torchvision's)."""
    hints = [
        Mistake("the channels are grouped by anchor (channel a*K + k): view as (B, A, K, H, W), "
                "not (B, K, A, H, W)", _view_k_first),
        Mistake("the rows go location first, then anchor: permute to (B, H, W, A, K) before the "
                "reshape, not (B, A, H, W, K)", _anchor_major),
        Mistake("a reshape alone keeps the channel-first memory order: permute (or movedim) H, W in "
                "front of A, K first", _no_permute),
        Mistake("locations go row by row, y outer and x inner: permute to (B, H, W, ...), not "
                "(B, W, H, ...)", _x_before_y),
        Mistake("the second argument is A (anchors per location); the columns are the "
                "K = x.shape[1] // A values of one anchor", _a_as_columns),
    ]
    return run_check("head_reshape", fn, _reshape_reference, _reshape_cases(), hints=hints,
                     arg_names=("x", "num_anchors"), rtol=0.0, atol=0.0)


# ---------------------------------------------------------------- parameters of one subnet
def _count_reference(channels, num_anchors, outputs_per_anchor, num_convs):
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised
        subnet = Subnet(channels, outputs_per_anchor, num_anchors, num_convs)
    return sum(p.numel() for p in subnet.parameters())


def _count(channels, num_anchors, outputs_per_anchor, num_convs, kernel=9, bias=1, hidden=None,
           out=None):
    hidden = num_convs if hidden is None else hidden
    out = outputs_per_anchor * num_anchors if out is None else out
    return hidden * (channels * channels * kernel + bias * channels) + channels * out * kernel + \
        bias * out


def _parameter_cases() -> list[Case]:
    return [
        Case("the paper's class subnet: C = 256, A = 9, K = 80, 4 hidden convs", (256, 9, 80, 4)),
        Case("the paper's box subnet: C = 256, A = 9, 4 deltas per anchor", (256, 9, 4, 4)),
        Case("a small class subnet: C = 8, A = 9, K = 3", (8, 9, 3, 4)),
        Case("no hidden conv (num_convs = 0): only the output conv", (16, 9, 3, 0)),
        Case("one anchor, one class, one hidden conv", (4, 1, 1, 1)),
        Case("a deeper subnet: 6 hidden convs, C = 32, A = 3, K = 10", (32, 3, 10, 6)),
    ]


def check_head_parameter_count(fn) -> Verdict:
    """Lesson 07: ``fn(channels, num_anchors, outputs_per_anchor, num_convs)`` -> the number of
    parameters (weights and biases) of one subnet, equal to that of ``heads.Subnet``."""
    def mistake(hint, **kw):
        return Mistake(hint, lambda c, a, d, n: _count(c, a, d, n, **kw))
    hints = [
        mistake("every conv has a bias too: out_channels of them", bias=0),
        mistake("the convs are 3x3: each has in x out x 3 x 3 weights", kernel=1),
        Mistake("the output conv has outputs_per_anchor x A filters (K*A or 4*A), not "
                "outputs_per_anchor", lambda c, a, d, n: _count(c, 1, d, n)),
        Mistake("count num_convs hidden 3x3 convs plus one output conv, not one more",
                lambda c, a, d, n: _count(c, a, d, n + 1)),
        Mistake("count num_convs hidden 3x3 convs plus one output conv, not one fewer",
                lambda c, a, d, n: _count(c, a, d, max(n - 1, 0))),
        Mistake("the output conv maps C channels to outputs_per_anchor x A, not C to C",
                lambda c, a, d, n: _count(c, a, d, n, out=c)),
    ]
    return run_check("head_parameter_count", fn, _count_reference, _parameter_cases(), hints=hints,
                     arg_names=("channels", "num_anchors", "outputs_per_anchor", "num_convs"),
                     rtol=0.0, atol=0.0)
