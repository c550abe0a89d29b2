"""Feature Pyramid Network on top of C3-C5, giving P3-P7 (paper Sec. 4; Lin et al. 2017 "FPN").

* lateral: a 1x1 conv brings C_l to ``channels`` (256 in the paper);
* top-down: P_{l+1}'s merged map is upsampled 2x (nearest) and added to the lateral of C_l;
* output: a 3x3 conv on each merged map gives P3, P4, P5;
* P6 = 3x3 stride-2 conv, on C5 in the paper (``p6_from="c5"``) or on P5 as torchvision's
  RetinaNet v1 does (``p6_from="p5"``, the default); P7 = ReLU then 3x3 stride-2 conv on P6.
"""
from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn

P6_SOURCES = ("p5", "c5")


class FPN(nn.Module):
    """P3-P7 from C3-C5 with ``channels`` channels each."""

    def __init__(self, in_channels=(512, 1024, 2048), channels: int = 256, p6_from: str = "p5"):
        super().__init__()
        if p6_from not in P6_SOURCES:
            raise ValueError(f"p6_from must be one of {P6_SOURCES}, got {p6_from!r}")
        self.p6_from = p6_from
        self.out_channels = channels
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.output = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in in_channels)
        self.p6 = nn.Conv2d(channels if p6_from == "p5" else in_channels[-1], channels, 3, stride=2,
                            padding=1)
        self.p7 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        for conv in self.modules():
            if isinstance(conv, nn.Conv2d):  # torchvision's init
                nn.init.kaiming_uniform_(conv.weight, a=1)
                nn.init.constant_(conv.bias, 0)

    def forward(self, features: "OrderedDict[str, Tensor]") -> "OrderedDict[str, Tensor]":
        c = list(features.values())
        merged = self.lateral[-1](c[-1])
        results = [self.output[-1](merged)]
        for i in range(len(c) - 2, -1, -1):  # top-down: P5 -> P4 -> P3
            lateral = self.lateral[i](c[i])
            merged = lateral + F.interpolate(merged, size=lateral.shape[-2:], mode="nearest")
            results.insert(0, self.output[i](merged))
        p6 = self.p6(results[-1] if self.p6_from == "p5" else c[-1])
        p7 = self.p7(F.relu(p6))
        results += [p6, p7]
        return OrderedDict((f"P{3 + i}", r) for i, r in enumerate(results))
