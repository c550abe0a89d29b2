"""Checks for the exercises of lesson 08 (the loss of one image, and non-maximum suppression)."""
from __future__ import annotations

import torch

from ..anchors import generate_anchors
from ..box_coding import encode
from ..boxes import box_iou
from ..losses import l1_loss, sigmoid_cross_entropy, sigmoid_focal_loss, smooth_l1_loss
from ..matching import IGNORED, NEGATIVE, match_anchors
from ..postprocess import nms
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_nms", "check_image_loss"]


# ------------------------------------------------------------------ nms
def _greedy(boxes, scores, iou_threshold, *, order=None, suppress=None, skip_suppressed=True,
            sort_kept=False, positions=False):
    """Greedy NMS with one of its steps replaceable (the mistakes below)."""
    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.int64)
    order = scores.argsort(descending=True, stable=True) if order is None else order
    iou = box_iou(boxes[order], boxes[order])
    suppress = (lambda v: v > iou_threshold) if suppress is None else suppress
    removed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if removed[i] and skip_suppressed:
            continue
        if not removed[i]:
            keep.append(i if positions else int(order[i]))
        hit = suppress(iou[i])
        hit[: i + 1] = False
        removed |= hit
    return torch.tensor(sorted(keep) if sort_kept else keep, dtype=torch.int64)


def _nms_index_order(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, iou_threshold, order=torch.arange(len(boxes)))


def _nms_sorted_indices(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, iou_threshold, sort_kept=True)


def _nms_positions(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, iou_threshold, positions=True)


def _nms_any_overlap(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, iou_threshold, suppress=lambda v: v > 0)


def _nms_at_least(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, iou_threshold, suppress=lambda v: v >= iou_threshold)


def _nms_fixed_threshold(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, 0.5)


def _nms_suppressed_still_suppress(boxes, scores, iou_threshold):
    return _greedy(boxes, scores, iou_threshold, skip_suppressed=False)


def _nms_ties_reversed(boxes, scores, iou_threshold):
    n = len(boxes)
    order = torch.tensor(sorted(range(n), key=lambda i: (-float(scores[i]), -i)), dtype=torch.int64)
    return _greedy(boxes, scores, iou_threshold, order=order)


def _nms_form_hint(case: Case, expected, received) -> str | None:
    if isinstance(received, (list, tuple)):
        return "return a tensor of indices, torch.tensor(keep, dtype=torch.int64), not a list"
    if not isinstance(received, torch.Tensor):
        return None
    if received.dim() == 2 and received.shape[-1] == 4:
        return "return the indices of the kept boxes (int64), not the boxes themselves"
    if received.is_floating_point():
        return ("indices are whole numbers: torch.tensor(keep, dtype=torch.int64) (an empty "
                "torch.tensor([]) is float32)")
    return None


def _nms_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(8)

    def cluster(n, generator, spread=30.0):
        centre = torch.rand(n, 2, generator=generator) * spread + 20
        half = torch.rand(n, 2, generator=generator) * 12 + 6
        return torch.cat([centre - half, centre + half], dim=1)

    random_boxes = cluster(30, g)
    random_scores = torch.rand(30, generator=g)
    tied_boxes = cluster(24, g)
    tied_scores = (torch.rand(24, generator=g) * 3).round() / 4        # many ties
    return [
        Case("one box: it is kept", (t([[0.0, 0, 10, 10]]), t([0.7]), 0.5)),
        Case("three boxes already sorted by score; box 1 overlaps box 0 (IoU 0.81)",
             (t([[0.0, 0, 10, 10], [1.0, 1, 10, 10], [20.0, 20, 30, 30]]), t([0.9, 0.8, 0.7]), 0.5)),
        Case("boxes not sorted by score: box 1 (0.9) removes box 0 (0.3), so box 2 (0.6), which "
             "only overlaps box 0, survives",
             (t([[0.0, 0, 10, 10], [2.0, 0, 12, 10], [-2.0, 0, 8, 10]]), t([0.3, 0.9, 0.6]), 0.5)),
        Case("two boxes far apart: both kept, the higher score first",
             (t([[0.0, 0, 10, 10], [50.0, 50, 60, 60]]), t([0.2, 0.9]), 0.5)),
        Case("a chain: box 1 overlaps boxes 0 and 2, which do not overlap each other; box 1 is "
             "removed by box 0, so it cannot remove box 2",
             (t([[0.0, 0, 10, 10], [2.0, 0, 12, 10], [4.0, 0, 14, 10]]), t([0.9, 0.8, 0.7]), 0.5)),
        Case("a small overlap (IoU 0.25) below the threshold: both kept",
             (t([[0.0, 0, 10, 10], [5.0, 0, 15, 10]]), t([0.9, 0.8]), 0.5)),
        Case("IoU exactly 0.5 at threshold 0.5: kept (only IoU > threshold removes a box)",
             (t([[0.0, 0, 20, 10], [0.0, 0, 10, 10]]), t([0.9, 0.8]), 0.5)),
        Case("boxes that only touch (IoU 0) at threshold 0: both kept",
             (t([[0.0, 0, 10, 10], [10.0, 0, 20, 10]]), t([0.9, 0.8]), 0.0)),
        Case("threshold 0.3 instead of 0.5 (IoU 1/3 now removes)",
             (t([[0.0, 0, 10, 10], [5.0, 0, 15, 10], [0.0, 0, 10, 15]]), t([0.9, 0.8, 0.7]), 0.3)),
        Case("threshold 0.7: IoU 0.67 no longer removes",
             (t([[0.0, 0, 10, 10], [0.0, 0, 10, 15], [0.0, 0, 10, 11]]), t([0.9, 0.8, 0.7]), 0.7)),
        Case("equal scores: ties are visited in index order (a stable sort), as torchvision does",
             (t([[0.0, 0, 10, 10], [1.0, 0, 11, 10], [30.0, 0, 40, 10]]), t([0.5, 0.5, 0.5]), 0.5)),
        Case("no boxes at all: an empty int64 tensor",
             (torch.zeros(0, 4), torch.zeros(0), 0.5)),
        Case("30 random overlapping boxes, random scores, threshold 0.5",
             (random_boxes, random_scores, 0.5)),
        Case("24 random boxes with many tied scores, threshold 0.3", (tied_boxes, tied_scores, 0.3)),
    ]


def check_nms(fn) -> Verdict:
    """Lesson 08: ``fn(boxes, scores, iou_threshold)`` must equal ``postprocess.nms`` (=
    ``torchvision.ops.nms``): the indices of the kept boxes, by decreasing score."""
    hints = [
        _nms_form_hint,
        Mistake("return the kept indices by decreasing score (the order you kept them in), not "
                "sorted by index", _nms_sorted_indices),
        Mistake("visit the boxes by decreasing score (scores.argsort(descending=True)), not in the "
                "order they come in", _nms_index_order),
        Mistake("these are positions in the sorted order: return the boxes' own indices, "
                "order[i], not i", _nms_positions),
        Mistake("a box that was removed must not remove others: skip suppressed boxes in the loop",
                _nms_suppressed_still_suppress),
        Mistake("IoU equal to the threshold keeps the box: remove only IoU > threshold (not >=), "
                "as torchvision.ops.nms", _nms_at_least),
        Mistake("only IoU > iou_threshold removes a box; here any overlap (IoU > 0) removed one",
                _nms_any_overlap),
        Mistake("the threshold is fixed at 0.5: use the iou_threshold argument",
                _nms_fixed_threshold),
        Mistake("ties in score go in index order: argsort(descending=True, stable=True)",
                _nms_ties_reversed),
    ]
    return run_check("nms", fn, nms, _nms_cases(), hints=hints,
                     arg_names=("boxes", "scores", "iou_threshold"))


# ------------------------------------------------------------------ loss of one image
def _loss(logits, deltas, anchors, boxes, labels, *, low_quality=True, skip_ignored=True,
          negatives=True, clamp=True, norm="positives", cls="focal", cls_reduction="sum",
          box="l1", box_reduction="sum", encoded=True, swap_encode=False, label_shift=0):
    """The loss of one image (Sec. 4.1), with every choice a student can get wrong as a flag."""
    if len(boxes):
        matched = match_anchors(box_iou(boxes, anchors), allow_low_quality=low_quality)
    else:
        matched = torch.full((len(anchors),), NEGATIVE, dtype=torch.int64)
    positive = matched >= 0
    used = matched != IGNORED if skip_ignored else torch.ones_like(positive)
    if not negatives:
        used = positive
    count = int(positive.sum())
    n_pos = {"positives": max(1, count) if clamp else count, "used": int(used.sum()),
             "all": len(anchors)}[norm]
    gt_classes = torch.zeros_like(logits)
    gt_classes[positive, labels[matched[positive]] - label_shift] = 1.0
    if cls == "focal":
        cls_loss = sigmoid_focal_loss(logits[used], gt_classes[used], 0.25, 2.0, cls_reduction)
    else:
        cls_loss = sigmoid_cross_entropy(logits[used], gt_classes[used], cls_reduction)
    pos_boxes, pos_anchors = boxes[matched[positive]], anchors[positive]
    if not encoded:
        target = pos_boxes
    else:
        target = encode(pos_anchors, pos_boxes) if swap_encode else encode(pos_boxes, pos_anchors)
    loss_fn = l1_loss if box == "l1" else smooth_l1_loss
    box_loss = loss_fn(deltas[positive], target, reduction=box_reduction)
    if box_reduction == "mean" and count == 0:
        box_loss = deltas.new_zeros(())
    return {"classification": cls_loss / n_pos, "bbox_regression": box_loss / n_pos}


def _image_loss(logits, deltas, anchors, boxes, labels):
    """Reference: RetinaNet's loss for one image, from the package's pieces."""
    return _loss(logits, deltas, anchors, boxes, labels)


def _wrong(**flags):
    return lambda logits, deltas, anchors, boxes, labels: _loss(logits, deltas, anchors, boxes,
                                                                labels, **flags)


def _image_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(8)
    # six hand-made anchors around one object [0, 0, 10, 10]
    six = t([[0.0, 0, 10, 10],      # IoU 1      -> positive
             [0.0, 0, 10, 20],      # IoU 0.5    -> positive (>= 0.5)
             [0.0, 0, 10, 22],      # IoU 0.45   -> ignored
             [0.0, 0, 10, 25],      # IoU 0.4    -> ignored (0.4 <= IoU < 0.5)
             [5.0, 0, 15, 10],      # IoU 1/3    -> negative
             [20.0, 20, 30, 30]])   # IoU 0      -> negative
    k = 3
    logits6 = torch.randn(6, k, generator=g) * 2 - 2
    deltas6 = torch.randn(6, 4, generator=g) * 0.3
    # a second, small object (6 x 6) whose two best anchors tie at IoU 0.36 < 0.4
    seven = torch.cat([six, t([[18.0, 18, 28, 28]])])
    logits7 = torch.randn(7, k, generator=g) * 2 - 2
    deltas7 = torch.randn(7, 4, generator=g) * 0.3
    two = t([[0.0, 0, 10, 10], [20.0, 20, 26, 26]])
    anchors_grid = generate_anchors((64, 96), sizes=(16, 32, 64, 128, 256))
    n = len(anchors_grid)
    logits_grid = torch.randn(n, 4, generator=g) * 1.5 - 3
    deltas_grid = torch.randn(n, 4, generator=g) * 0.5
    objects = t([[4.0, 6, 30, 40], [40.0, 10, 90, 60], [50.0, 30, 62, 44]])
    return [
        Case("one object (label 2), six anchors: 2 positive, 2 ignored, 2 negative",
             (logits6, deltas6, six, t([[0.0, 0, 10, 10]]), t([2]))),
        Case("an image with no object: every anchor negative, N_pos = max(1, 0) = 1, box loss 0",
             (logits6, deltas6, six, torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64))),
        Case("the same object with label 0: labels index the columns directly",
             (logits6, deltas6, six, t([[0.0, 0, 10, 10]]), t([0]))),
        Case("two objects, labels 1 and 2; the small one's two best anchors tie at IoU 0.36 "
             "(a low-quality match makes both positive)", (logits7, deltas7, seven, two, t([1, 2]))),
        Case(f"{n} anchors of a 64 x 96 image, 3 objects, K = 4 random logits and deltas",
             (logits_grid, deltas_grid, anchors_grid, objects, t([1, 3, 0]))),
        Case("the same anchors, no object", (logits_grid, deltas_grid, anchors_grid,
                                             torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64))),
    ]


def check_image_loss(fn) -> Verdict:
    """Lesson 08: ``fn(logits, deltas, anchors, boxes, labels)`` -> ``{"classification",
    "bbox_regression"}`` must equal RetinaNet's loss of one image (``RetinaNet.compute_loss`` for
    a batch of one): focal loss (alpha 0.25, gamma 2) summed over the non-ignored anchors and L1
    between the positives' deltas and ``encode(object, anchor)``, each divided by
    max(1, positives)."""
    divide = "divide both terms by N_pos = max(1, number of positive anchors), not by "
    hints = [
        Mistake(divide + "the number of non-ignored anchors (Sec. 4.1)", _wrong(norm="used")),
        Mistake(divide + "the number of all anchors (Sec. 4.1)", _wrong(norm="all")),
        Mistake("an image without objects has 0 positives: N_pos = max(1, positives), or the "
                "loss is inf / nan", _wrong(clamp=False)),
        Mistake("ignored anchors (0.4 <= IoU < 0.5, IGNORED = -2) count in neither term: leave "
                "them out of the focal loss", _wrong(skip_ignored=False)),
        Mistake("the focal loss runs over all non-ignored anchors, the negatives too (that is "
                "where the imbalance is), not only over the positives", _wrong(negatives=False)),
        Mistake("match with match_anchors' defaults: its low-quality matches make each object's "
                "best anchor positive even below IoU 0.5", _wrong(low_quality=False)),
        Mistake("sum the focal loss over every (anchor, class) pair (reduction='sum'), then divide "
                "by N_pos; not the mean", _wrong(cls_reduction="mean")),
        Mistake("the classification loss is the focal loss (alpha 0.25, gamma 2), not plain CE",
                _wrong(cls="ce")),
        Mistake("labels index the columns directly: the 1 goes in column labels[object], "
                "not labels - 1", _wrong(label_shift=1)),
        Mistake("the box loss compares the deltas with encode(object box, anchor), not with the "
                "box's coordinates", _wrong(encoded=False)),
        Mistake("encode(boxes, anchors): the matched object's box first, then the anchor",
                _wrong(swap_encode=True)),
        Mistake("sum the L1 over the positives' 4 deltas, then divide by N_pos; not the mean",
                _wrong(box_reduction="mean")),
        Mistake("the box loss is L1 (torchvision's and the course's default), not smooth L1",
                _wrong(box="smooth_l1")),
    ]
    return run_check("image_loss", fn, _image_loss, _image_cases(), hints=hints,
                     arg_names=("logits", "deltas", "anchors", "boxes", "labels"))

