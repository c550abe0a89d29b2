"""Inference (paper Sec. 4, "Inference"): from dense scores to a few detections.

Per pyramid level: sigmoid scores of every (anchor, class); keep those above 0.05; of those the
top 1000; decode their boxes from the anchors; clip to the image. Then, over all levels, class-wise
non-maximum suppression at IoU 0.5, and the best ``detections_per_img``: the paper gives no cap;
100 is the most that COCO's AP counts per image (Detectron's default), torchvision keeps 300.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import batched_nms

from .box_coding import decode
from .boxes import box_iou, clip_boxes


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float = 0.5) -> Tensor:
    """Greedy NMS written out (the lesson's version): indices kept, by decreasing score.

    Take the best box, drop every box overlapping it by more than ``iou_threshold``, repeat.
    Same result as ``torchvision.ops.nms`` (which the model uses for speed).
    """
    order = scores.argsort(descending=True, stable=True)
    keep = []
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    iou = box_iou(boxes[order], boxes[order])
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(order[i])
        suppressed |= iou[i] > iou_threshold
    return torch.stack(keep) if keep else torch.zeros(0, dtype=torch.int64)


def batched_nms_by_class(boxes: Tensor, scores: Tensor, labels: Tensor,
                         iou_threshold: float = 0.5) -> Tensor:
    """Class-wise NMS: boxes of different classes never suppress each other."""
    keep = [idx[nms(boxes[idx], scores[idx], iou_threshold)] for idx in
            (torch.where(labels == c)[0] for c in labels.unique())]
    keep = torch.cat(keep) if keep else torch.zeros(0, dtype=torch.int64)
    return keep[scores[keep].argsort(descending=True, stable=True)]


def select_level(logits: Tensor, deltas: Tensor, anchors: Tensor, image_size,
                 score_thresh: float = 0.05, topk: int = 1000):
    """Candidates of one level of one image: (boxes, scores, labels) before NMS.

    ``logits`` [R_l, K], ``deltas`` [R_l, 4], ``anchors`` [R_l, 4]. The flat index of a kept
    score is anchor * K + class.
    """
    num_classes = logits.shape[-1]
    scores = torch.sigmoid(logits).flatten()
    keep = scores > score_thresh
    scores = scores[keep]
    flat_idxs = torch.where(keep)[0]
    scores, order = scores.topk(min(topk, flat_idxs.numel()))
    flat_idxs = flat_idxs[order]
    anchor_idxs = torch.div(flat_idxs, num_classes, rounding_mode="floor")
    labels = flat_idxs % num_classes
    boxes = clip_boxes(decode(deltas[anchor_idxs], anchors[anchor_idxs]), image_size)
    return boxes, scores, labels


def postprocess_detections(cls_logits: list[Tensor], bbox_deltas: list[Tensor],
                           anchors: list[Tensor], image_size, score_thresh: float = 0.05,
                           topk: int = 1000, nms_thresh: float = 0.5,
                           detections_per_img: int = 100) -> dict[str, Tensor]:
    """Detections of one image from its per-level outputs (lists over levels)."""
    per_level = [select_level(lg, dl, an, image_size, score_thresh, topk)
                 for lg, dl, an in zip(cls_logits, bbox_deltas, anchors)]
    boxes, scores, labels = (torch.cat(parts) for parts in zip(*per_level))
    keep = batched_nms(boxes, scores, labels, nms_thresh)[:detections_per_img]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}
