"""torchvision compatibility: our RetinaNet carrying the weights of torchvision's.

Only the *names* differ; every tensor is copied as it is. The mapping itself is part of the lesson:

    backbone.body.layer1.0.conv1.weight          -> backbone.layer1.0.conv1.weight
    backbone.fpn.inner_blocks.0.0.weight         -> fpn.lateral.0.weight
    backbone.fpn.layer_blocks.0.0.weight         -> fpn.output.0.weight
    backbone.fpn.extra_blocks.p6.weight          -> fpn.p6.weight
    head.classification_head.conv.0.0.weight     -> head.classification.convs.0.weight
    head.classification_head.conv.0.1.weight     -> head.classification.norms.0.weight   (v2 only)
    head.classification_head.cls_logits.weight   -> head.classification.out.weight
    head.regression_head.bbox_reg.weight         -> head.regression.out.weight

Both torchvision builders are covered; what differs between them maps to our options:

    retinanet_resnet50_fpn (v1)           retinanet_resnet50_fpn_v2
    P6 from P5 (LastLevelP6P7(256, 256))  P6 from C5 (LastLevelP6P7(2048, 256))  -> p6_from
    head convs with bias, no norm         conv without bias + GroupNorm(32)      -> head_norm="gn"
    L1 box loss on the deltas             GIoU loss on the decoded boxes         -> box_loss="giou"

Old (v1) checkpoints, such as the official COCO file, name the head convs ``conv.0, conv.2, ...``
and the FPN convs ``inner_blocks.0.weight``; both spellings are accepted.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

from .model import RetinaNet

_RULES = [
    (r"^backbone\.body\.", "backbone."),
    (r"^backbone\.fpn\.inner_blocks\.(\d+)\.(?:0\.)?", r"fpn.lateral.\1."),
    (r"^backbone\.fpn\.layer_blocks\.(\d+)\.(?:0\.)?", r"fpn.output.\1."),
    (r"^backbone\.fpn\.extra_blocks\.", "fpn."),
    (r"^head\.classification_head\.cls_logits\.", "head.classification.out."),
    (r"^head\.regression_head\.bbox_reg\.", "head.regression.out."),
    (r"^head\.(classification|regression)_head\.conv\.(\d+)\.0\.", r"head.\1.convs.\2."),
    (r"^head\.(classification|regression)_head\.conv\.(\d+)\.1\.", r"head.\1.norms.\2."),  # v2 GN
]
_V1_HEAD = re.compile(r"^head\.(classification|regression)_head\.conv\.(\d+)\.(weight|bias)$")


def convert_state_dict(tv_state: dict) -> dict:
    """Rename a torchvision ``retinanet_resnet50_fpn`` (v1 or v2) state_dict to our names."""
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


def _layout_of_state(tv_state: dict) -> dict:
    """Our options for the layout of a torchvision state_dict: GroupNorm weights in the head and a
    P6 conv reading 2048 channels (C5) make it v2, whose builder also sets the GIoU box loss."""
    p6 = tv_state["backbone.fpn.extra_blocks.p6.weight"]  # [out, in, 3, 3]
    v2_head = "head.classification_head.conv.0.1.weight" in tv_state
    return {"p6_from": "p5" if p6.shape[1] == p6.shape[0] else "c5",
            "head_norm": "gn" if v2_head else None, "box_loss": "giou" if v2_head else "l1"}


def _layout_of_model(tv_model) -> dict:
    """Our options for a torchvision RetinaNet, read from its modules (v1, v2 or a mix of both)."""
    norms = [m for m in tv_model.head.modules() if isinstance(m, nn.GroupNorm)]
    if any(m.num_groups != 32 for m in norms):
        raise ValueError("only GroupNorm(32) heads are supported (ours: 32 groups at 256 channels)")
    loss = tv_model.head.regression_head._loss_type
    if loss not in ("l1", "giou"):  # torchvision's smooth_l1 has beta 1, ours Detectron's 1/9
        raise ValueError(f"torchvision box loss {loss!r} is not supported; expected 'l1' or 'giou'")
    return {"p6_from": "p5" if tv_model.backbone.fpn.extra_blocks.use_P5 else "c5",
            "head_norm": "gn" if norms else None, "box_loss": loss}


def _model_like(num_classes: int, **kwargs) -> RetinaNet:
    return RetinaNet(num_classes, backbone="resnet50", fpn_channels=256, **kwargs)


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
        raise ValueError(f"{source} does not fit a torchvision retinanet_resnet50_fpn (v1 or v2): "
                         f"missing keys [{show(missing)}]; unexpected keys [{show(unexpected)}]; "
                         f"shape mismatches [{show(mismatched)}]")
    model.load_state_dict(state, strict=False)
    return model


def from_torchvision(tv_model) -> RetinaNet:
    """Our ``RetinaNet`` with the weights and inference settings of a torchvision RetinaNet
    (``retinanet_resnet50_fpn`` or ``retinanet_resnet50_fpn_v2``)."""
    frozen = isinstance(tv_model.backbone.body.bn1, FrozenBatchNorm2d)
    eps = tv_model.backbone.body.bn1.eps
    transform = tv_model.transform
    num_classes = tv_model.head.classification_head.num_classes
    model = _model_like(num_classes, frozen_bn=frozen, min_size=transform.min_size[-1],
                        max_size=transform.max_size, image_mean=transform.image_mean,
                        image_std=transform.image_std, score_thresh=tv_model.score_thresh,
                        topk_candidates=tv_model.topk_candidates, nms_thresh=tv_model.nms_thresh,
                        detections_per_img=tv_model.detections_per_img,
                        backbone_kwargs={"bn_eps": eps}, **_layout_of_model(tv_model))
    load_converted(model, tv_model.state_dict(), "torchvision model")
    return model.train(tv_model.training)


def load_torchvision_checkpoint(path, num_classes: int = 91, **kwargs) -> RetinaNet:
    """Build our model from a torchvision ``retinanet_resnet50_fpn`` or ``_v2`` weights file on
    disk (e.g. an official COCO file a user downloaded); loaded with ``weights_only=True``.

    v1 or v2 is read from the file (see ``_layout_of_state``). As torchvision builds them, the COCO
    v1 weights get frozen BatchNorm of eps 0.0, the v2 weights ordinary BatchNorm of eps 1e-5.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no torchvision RetinaNet weights file at {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state_dict (got {type(state).__name__})")
    layout = _layout_of_state(state) if "backbone.fpn.extra_blocks.p6.weight" in state else {}
    v2 = layout.get("head_norm") == "gn"
    options = {"detections_per_img": 300, "frozen_bn": not v2,
               "backbone_kwargs": {"bn_eps": 1e-5 if v2 else 0.0}, **kwargs, **layout}
    model = _model_like(num_classes, **options)
    return load_converted(model, state, str(path)).eval()
