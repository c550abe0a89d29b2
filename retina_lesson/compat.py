"""torchvision compatibility: our RetinaNet carrying the weights of torchvision's.

Only the *names* differ; every tensor is copied as it is. The mapping itself is part of the lesson:

    backbone.body.layer1.0.conv1.weight          -> backbone.layer1.0.conv1.weight
    backbone.fpn.inner_blocks.0.0.weight         -> fpn.lateral.0.weight
    backbone.fpn.layer_blocks.0.0.weight         -> fpn.output.0.weight
    backbone.fpn.extra_blocks.p6.weight          -> fpn.p6.weight
    head.classification_head.conv.0.0.weight     -> head.classification.convs.0.weight
    head.classification_head.cls_logits.weight   -> head.classification.out.weight
    head.regression_head.bbox_reg.weight         -> head.regression.out.weight

Old (v1) checkpoints, such as the official COCO file, name the head convs ``conv.0, conv.2, ...``
and the FPN convs ``inner_blocks.0.weight``; both spellings are accepted.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
from torchvision.ops.misc import FrozenBatchNorm2d

from .model import RetinaNet

_RULES = [
    (r"^backbone\.body\.", "backbone."),
    (r"^backbone\.fpn\.inner_blocks\.(\d+)\.(?:0\.)?", r"fpn.lateral.\1."),
    (r"^backbone\.fpn\.layer_blocks\.(\d+)\.(?:0\.)?", r"fpn.output.\1."),
    (r"^backbone\.fpn\.extra_blocks\.", "fpn."),
    (r"^head\.classification_head\.cls_logits\.", "head.classification.out."),
    (r"^head\.regression_head\.bbox_reg\.", "head.regression.out."),
    (r"^head\.classification_head\.conv\.(\d+)\.0\.", r"head.classification.convs.\1."),
    (r"^head\.regression_head\.conv\.(\d+)\.0\.", r"head.regression.convs.\1."),
]
_V1_HEAD = re.compile(r"^head\.(classification|regression)_head\.conv\.(\d+)\.(weight|bias)$")


def convert_state_dict(tv_state: dict) -> dict:
    """Rename a torchvision ``retinanet_resnet50_fpn`` state_dict to this package's names."""
    out = {}
    for key, value in tv_state.items():
        v1 = _V1_HEAD.match(key)
        if v1:  # v1 checkpoints: conv.{2i}.weight -> conv.{i}.0.weight
            key = f"head.{v1[1]}_head.conv.{int(v1[2]) // 2}.0.{v1[3]}"
        new = key
        for pattern, repl in _RULES:
            new = re.sub(pattern, repl, new)
        out[new] = value
    return out


def _model_like(num_classes: int, frozen_bn: bool, **kwargs) -> RetinaNet:
    return RetinaNet(num_classes, backbone="resnet50", fpn_channels=256, p6_from="p5",
                     frozen_bn=frozen_bn, **kwargs)


def load_converted(model: RetinaNet, tv_state: dict, source: str = "state_dict") -> RetinaNet:
    """Load a torchvision state_dict into ``model``; a clear error lists missing / unexpected keys."""
    state = convert_state_dict(tv_state)
    own = model.state_dict()
    missing = sorted(k for k in own if k not in state and not k.endswith("num_batches_tracked"))
    unexpected = sorted(k for k in state if k not in own and not k.endswith("num_batches_tracked"))
    mismatched = sorted(f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
                        if k in state and state[k].shape != own[k].shape)
    if missing or unexpected or mismatched:
        def show(keys):
            return ", ".join(keys[:5]) + (f" ... ({len(keys)} in all)" if len(keys) > 5 else "")
        raise ValueError(f"{source} does not fit a torchvision retinanet_resnet50_fpn: "
                         f"missing keys [{show(missing)}]; unexpected keys [{show(unexpected)}]; "
                         f"shape mismatches [{show(mismatched)}]")
    model.load_state_dict(state, strict=False)
    return model


def from_torchvision(tv_model) -> RetinaNet:
    """Our ``RetinaNet`` with the weights and inference settings of a torchvision RetinaNet."""
    frozen = isinstance(tv_model.backbone.body.bn1, FrozenBatchNorm2d)
    eps = tv_model.backbone.body.bn1.eps
    transform = tv_model.transform
    num_classes = tv_model.head.classification_head.num_classes
    model = _model_like(num_classes, frozen, min_size=transform.min_size[-1],
                        max_size=transform.max_size, image_mean=transform.image_mean,
                        image_std=transform.image_std, score_thresh=tv_model.score_thresh,
                        topk_candidates=tv_model.topk_candidates, nms_thresh=tv_model.nms_thresh,
                        detections_per_img=tv_model.detections_per_img,
                        backbone_kwargs={"bn_eps": eps})
    if not tv_model.backbone.fpn.extra_blocks.use_P5:
        raise ValueError("only RetinaNet v1 layouts (P6 from P5) are supported")
    load_converted(model, tv_model.state_dict(), "torchvision model")
    return model.train(tv_model.training)


def load_torchvision_checkpoint(path, num_classes: int = 91, **kwargs) -> RetinaNet:
    """Build our model from a torchvision ``retinanet_resnet50_fpn`` weights file on disk
    (e.g. the official COCO file a user downloaded); loaded with ``weights_only=True``.

    The COCO v1 weights were trained with frozen BatchNorm of eps 0.0, which is what this builds.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no torchvision RetinaNet weights file at {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state_dict (got {type(state).__name__})")
    kwargs.setdefault("detections_per_img", 300)
    kwargs.setdefault("backbone_kwargs", {"bn_eps": 0.0})
    model = _model_like(num_classes, True, **kwargs)
    return load_converted(model, state, str(path)).eval()
