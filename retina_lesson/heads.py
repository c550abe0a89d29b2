"""The two subnets of RetinaNet (paper Sec. 4, Fig. 3 c-d), shared across all pyramid levels.

Each subnet: ``num_convs`` x (3x3 conv, ``channels`` channels, ReLU), then a 3x3 conv to
K * A (classification, read through a sigmoid) or 4 * A (box deltas) outputs. The same weights
run on P3 ... P7. Init (Sec. 4.1): conv weights ~ N(0, 0.01), biases 0, except the classification
output bias b = -log((1 - pi) / pi), pi = 0.01, so that every anchor starts with p ~ 0.01.

Outputs are reshaped to one row per anchor, [N, sum_l H_l W_l A, K] and [..., 4], in the order of
``anchors.generate_anchors`` (level, then location row-major, then anchor). ``norm="gn"`` adds
GroupNorm after each conv (what torchvision's RetinaNet v2 adopted after the paper), with 32 groups
at 256 channels and 4 channels a group below that.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .losses import prior_bias


def gn_groups(channels: int) -> int:
    """GroupNorm groups of the head: 32 (torchvision's v2) at 256 channels, 4 channels a group below."""
    return max(1, min(32, channels // 4))


class Subnet(nn.Module):
    """``num_convs`` x (conv 3x3 [+ GroupNorm] + ReLU) followed by a 3x3 output conv."""

    def __init__(self, channels: int, out_per_anchor: int, num_anchors: int, num_convs: int = 4,
                 norm: str | None = None, out_bias: float = 0.0):
        super().__init__()
        if norm not in (None, "gn"):
            raise ValueError(f"norm must be None or 'gn', got {norm!r}")
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1, bias=norm is None)
                                   for _ in range(num_convs))
        self.norms = nn.ModuleList(nn.GroupNorm(gn_groups(channels), channels)
                                   for _ in range(num_convs)) if norm == "gn" else None
        self.out = nn.Conv2d(channels, out_per_anchor * num_anchors, 3, padding=1)
        self.out_per_anchor = out_per_anchor
        for conv in [*self.convs, self.out]:
            nn.init.normal_(conv.weight, std=0.01)
            if conv.bias is not None:
                nn.init.constant_(conv.bias, 0.0)
        nn.init.constant_(self.out.bias, out_bias)

    def forward_level(self, x: Tensor) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if self.norms is not None:
                x = self.norms[i](x)
            x = F.relu(x, inplace=True)  # on a fresh conv/norm output: saves a copy
        x = self.out(x)
        n, _, h, w = x.shape  # (N, A * D, H, W) -> (N, H * W * A, D)
        return x.view(n, -1, self.out_per_anchor, h, w).permute(0, 3, 4, 1, 2).reshape(
            n, -1, self.out_per_anchor)

    def forward(self, features: list[Tensor]) -> Tensor:
        return torch.cat([self.forward_level(f) for f in features], dim=1)


class ClassificationHead(Subnet):
    """K * A sigmoid logits per location; bias initialised to the prior pi (Sec. 4.1)."""

    def __init__(self, channels: int, num_anchors: int, num_classes: int, num_convs: int = 4,
                 prior: float = 0.01, norm: str | None = None):
        super().__init__(channels, num_classes, num_anchors, num_convs, norm,
                         out_bias=prior_bias(prior) if prior else 0.0)
        self.num_classes = num_classes


class RegressionHead(Subnet):
    """4 * A box deltas (t_x, t_y, t_w, t_h) per location, class-agnostic."""

    def __init__(self, channels: int, num_anchors: int, num_convs: int = 4, norm: str | None = None):
        super().__init__(channels, 4, num_anchors, num_convs, norm)


class RetinaNetHead(nn.Module):
    """Both subnets; ``forward(features)`` -> {"cls_logits": [N, R, K], "bbox_regression": [N, R, 4]}."""

    def __init__(self, channels: int, num_anchors: int, num_classes: int, num_convs: int = 4,
                 prior: float = 0.01, norm: str | None = None):
        super().__init__()
        self.classification = ClassificationHead(channels, num_anchors, num_classes, num_convs, prior,
                                                 norm)
        self.regression = RegressionHead(channels, num_anchors, num_convs, norm)

    def forward(self, features: list[Tensor]) -> dict[str, Tensor]:
        return {"cls_logits": self.classification(features),
                "bbox_regression": self.regression(features)}
