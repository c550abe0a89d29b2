"""RetinaNet assembled from the course's modules (paper Sec. 4, Fig. 3).

    images -> ImageTransform -> ResNet body (C3-C5) -> FPN (P3-P7) -> shared heads
           -> training: match anchors, focal loss + box loss, each / N_pos      (Sec. 4, Eq. 5)
           -> inference: top-k per level, decode, class-wise NMS                (Sec. 4, Inference)

Defaults are the paper's. ``detections_per_img=300`` reproduces torchvision's RetinaNet, and
``compat.from_torchvision`` builds this class with torchvision's weights: same losses, same boxes.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torchvision.ops import generalized_box_iou_loss

from . import anchors as anchor_lib
from .backbone import resnet_body
from .box_coding import decode, encode
from .boxes import box_iou, validate_boxes
from .fpn import FPN
from .heads import RetinaNetHead
from .losses import l1_loss, sigmoid_focal_loss, smooth_l1_loss
from .matching import IGNORED, match_anchors_batch
from .postprocess import postprocess_detections
from .precision import HALF, upcast
from .transform import IMAGENET_MEAN, IMAGENET_STD, ImageTransform

BOX_LOSSES = ("l1", "smooth_l1", "giou")


class RetinaNet(nn.Module):
    """RetinaNet for ``num_classes`` classification columns (labels index them directly).

    ``model(images)`` in eval mode -> list of {"boxes", "scores", "labels"} per image;
    ``model(images, targets)`` in train mode -> {"classification", "bbox_regression"}.
    """

    def __init__(self, num_classes: int, backbone: str | nn.Module = "resnet50",
                 fpn_channels: int = 256, p6_from: str = "p5", frozen_bn: bool = False,
                 min_size: int | None = 800, max_size: int = 1333, image_mean=IMAGENET_MEAN,
                 image_std=IMAGENET_STD, anchor_sizes=anchor_lib.SIZES,
                 anchor_strides=anchor_lib.STRIDES, anchor_scales=anchor_lib.SCALES,
                 anchor_ratios=anchor_lib.RATIOS, anchor_convention: str = "torchvision",
                 fg_iou: float = 0.5, bg_iou: float = 0.4, allow_low_quality: bool = True,
                 head_convs: int = 4, head_norm: str | None = None, prior: float = 0.01,
                 focal_alpha: float = 0.25, focal_gamma: float = 2.0, box_loss: str = "l1",
                 score_thresh: float = 0.05, topk_candidates: int = 1000, nms_thresh: float = 0.5,
                 detections_per_img: int = 100, backbone_kwargs: dict | None = None):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if box_loss not in BOX_LOSSES:
            raise ValueError(f"box_loss must be one of {BOX_LOSSES}, got {box_loss!r}")
        self.num_classes = num_classes
        self.transform = ImageTransform(min_size, max_size, image_mean, image_std)
        self.backbone = (resnet_body(backbone, frozen_bn=frozen_bn, **(backbone_kwargs or {}))
                         if isinstance(backbone, str) else backbone)
        self.fpn = FPN(self.backbone.out_channels, fpn_channels, p6_from)
        self.anchor_config = dict(sizes=tuple(anchor_sizes), strides=tuple(anchor_strides),
                                  scales=tuple(anchor_scales), ratios=tuple(anchor_ratios),
                                  convention=anchor_convention)
        num_anchors = len(self.anchor_config["scales"]) * len(self.anchor_config["ratios"])
        self.head = RetinaNetHead(fpn_channels, num_anchors, num_classes, head_convs, prior, head_norm)
        self.fg_iou, self.bg_iou, self.allow_low_quality = fg_iou, bg_iou, allow_low_quality
        self.focal_alpha, self.focal_gamma, self.box_loss = focal_alpha, focal_gamma, box_loss
        self.score_thresh, self.topk_candidates = score_thresh, topk_candidates
        self.nms_thresh, self.detections_per_img = nms_thresh, detections_per_img
        self._anchor_cache: dict = {}

    # ----------------------------------------------------------------- pieces
    def features(self, batch: Tensor) -> list[Tensor]:
        """P3-P7 of a normalised, padded batch."""
        return list(self.fpn(self.backbone(batch)).values())

    def anchors(self, image_size, features: list[Tensor]) -> list[Tensor]:
        """Anchors of each level for the padded batch size (cached per size and device), in the
        features' dtype, float32 when that is half precision (mixed precision: anchors of 800 px
        need float32's mantissa)."""
        grids = [tuple(f.shape[-2:]) for f in features]
        dtype = torch.float32 if features[0].dtype in HALF else features[0].dtype
        key = (tuple(image_size), tuple(grids), features[0].device, dtype)
        if key not in self._anchor_cache:
            if grids != anchor_lib.feature_sizes(image_size, self.anchor_config["strides"]):
                raise ValueError(f"feature maps {grids} do not have the sizes ceil(H / stride) the "
                                 f"anchor strides {self.anchor_config['strides']} imply")
            per_level = anchor_lib.anchors_per_level(image_size, dtype=dtype,
                                                     **self.anchor_config)
            self._anchor_cache = {key: [a.to(features[0].device) for a in per_level]}
        return self._anchor_cache[key]

    def match(self, boxes: list[Tensor], anchors: Tensor) -> Tensor:
        """Matched object index / NEGATIVE / IGNORED for every anchor of every image: [B, A].

        One IoU matrix for the batch, objects padded to the largest count (``match_anchors_batch``:
        the same as ``match_anchors`` image by image); an image without objects is all NEGATIVE.
        """
        device = anchors.device
        counts = [len(b) for b in boxes]
        iou = anchors.new_full((len(boxes), max(counts, default=0), anchors.shape[0]), -1.0)
        image = torch.repeat_interleave(torch.arange(len(boxes), device=device),
                                        torch.tensor(counts, device=device))
        row = torch.cat([torch.arange(c, device=device) for c in counts])
        iou[image, row] = box_iou(torch.cat(boxes), anchors)
        return match_anchors_batch(iou, counts, self.fg_iou, self.bg_iou, self.allow_low_quality)

    # ----------------------------------------------------------------- loss
    def compute_loss(self, targets: list[dict], head_outputs: dict, anchors: Tensor) -> dict:
        """Focal loss over non-ignored anchors and box loss over positives, each divided by the
        image's number of positive anchors (at least 1), averaged over the batch (Sec. 4).

        Matching and losses are computed for the whole batch at once: the same numbers as
        torchvision's loop over images, in a few large operations. Under mixed precision the
        head's outputs are upcast: matching, box coding and losses run in float32 (autocast off).
        """
        with torch.autocast(anchors.device.type, enabled=False):
            return self._compute_loss(targets, upcast(head_outputs["cls_logits"]),
                                      upcast(head_outputs["bbox_regression"]), anchors)

    def _compute_loss(self, targets, logits, deltas, anchors) -> dict:
        matched = self.match([t["boxes"] for t in targets], anchors)                # [B, A]
        positive = matched >= 0
        num_pos = positive.sum(dim=1).clamp(min=1).to(logits.dtype)               # [B]
        # positives as (image, anchor) pairs, and the object of each in the batch's boxes
        img_idx, anchor_idx = torch.where(positive)
        first = torch.tensor([0] + [len(t["boxes"]) for t in targets[:-1]],
                             device=matched.device).cumsum(0)
        obj_idx = matched[img_idx, anchor_idx] + first[img_idx]
        boxes = torch.cat([t["boxes"] for t in targets]).to(logits.dtype)
        labels = torch.cat([t["labels"] for t in targets])
        gt_classes = torch.zeros_like(logits)
        gt_classes[img_idx, anchor_idx, labels[obj_idx]] = 1.0
        focal = sigmoid_focal_loss(logits, gt_classes, self.focal_alpha, self.focal_gamma)
        focal = focal.masked_fill((matched == IGNORED).unsqueeze(-1), 0.0)
        cls_loss = focal.sum(dim=(1, 2)) / num_pos

        pos_deltas, pos_anchors = deltas[img_idx, anchor_idx], anchors[anchor_idx]
        matched_boxes = boxes[obj_idx]
        if self.box_loss == "giou":
            per_anchor = generalized_box_iou_loss(decode(pos_deltas, pos_anchors), matched_boxes)
        else:
            loss_fn = l1_loss if self.box_loss == "l1" else smooth_l1_loss
            per_anchor = loss_fn(pos_deltas, encode(matched_boxes, pos_anchors),
                                 reduction="none").sum(dim=1)
        box_loss = logits.new_zeros(len(targets)).index_add(0, img_idx, per_anchor) / num_pos
        return {"classification": cls_loss.mean(), "bbox_regression": box_loss.mean()}

    def _check_targets(self, targets):
        if targets is None:
            raise ValueError("targets are required in training mode: model(images, targets)")
        for i, t in enumerate(targets):
            if "boxes" not in t or "labels" not in t:
                raise ValueError(f"target {i} must have 'boxes' and 'labels', got {sorted(t)}")
            boxes = validate_boxes(t["boxes"], f"target {i} boxes")
            if ((boxes[:, 2:] <= boxes[:, :2]).any(dim=1)).any():
                row = int(torch.where((boxes[:, 2:] <= boxes[:, :2]).any(dim=1))[0][0])
                raise ValueError(f"target {i} box {row} has zero width or height: "
                                 f"{boxes[row].tolist()}")
            labels = t["labels"]
            if labels.shape != (boxes.shape[0],):
                raise ValueError(f"target {i}: {boxes.shape[0]} boxes but labels of shape "
                                 f"{list(labels.shape)}")
            if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f"target {i}: labels must be in [0, {self.num_classes - 1}] "
                                 f"(num_classes={self.num_classes}), got {labels.tolist()}")

    # ----------------------------------------------------------------- forward
    def forward(self, images: list[Tensor], targets: list[dict] | None = None):
        if isinstance(images, Tensor) and images.dim() == 3:
            images = [images]
        if self.training:
            self._check_targets(targets)
            targets = [{"boxes": t["boxes"].to(torch.float32), "labels": t["labels"].long()}
                       for t in targets]
        original_sizes = [tuple(img.shape[-2:]) for img in images]
        batch, sizes, targets = self.transform(images, targets if self.training else None)
        features = self.features(batch)
        head_outputs = self.head(features)
        per_level = self.anchors(batch.shape[-2:], features)
        if self.training:
            return self.compute_loss(targets, head_outputs, torch.cat(per_level))
        counts = [a.shape[0] for a in per_level]
        logits = upcast(head_outputs["cls_logits"]).split(counts, dim=1)
        deltas = upcast(head_outputs["bbox_regression"]).split(counts, dim=1)
        detections = [postprocess_detections([lg[i] for lg in logits], [dl[i] for dl in deltas],
                                             per_level, sizes[i], self.score_thresh,
                                             self.topk_candidates, self.nms_thresh,
                                             self.detections_per_img)
                      for i in range(len(images))]
        return self.transform.postprocess(detections, sizes, original_sizes)
