"""Solutions to lesson 08's exercises. Try them yourself first.

Check them with ``retina_lesson.exercises.check_image_loss`` and ``check_nms``.
"""
import torch

from retina_lesson.box_coding import encode
from retina_lesson.boxes import box_iou
from retina_lesson.losses import sigmoid_focal_loss
from retina_lesson.matching import IGNORED, NEGATIVE, match_anchors


def my_image_loss(logits, deltas, anchors, boxes, labels):
    """RetinaNet's two losses for one image: logits [A, K], deltas [A, 4], anchors [A, 4]."""
    if len(boxes):
        matched = match_anchors(box_iou(boxes, anchors))        # object index, -1 or -2
    else:
        matched = torch.full((len(anchors),), NEGATIVE)          # no object: all background
    positive, valid = matched >= 0, matched != IGNORED
    n_pos = max(1, int(positive.sum()))                          # N_pos, at least 1
    gt_classes = torch.zeros_like(logits)                        # one-hot rows for the positives
    gt_classes[positive, labels[matched[positive]]] = 1.0
    # focal loss summed over every (anchor, class) pair of the non-ignored anchors / N_pos (Sec. 4.1)
    cls_loss = sigmoid_focal_loss(logits[valid], gt_classes[valid], alpha=0.25, gamma=2.0,
                                  reduction="sum") / n_pos
    # L1 between the positives' deltas and the deltas that move each anchor onto its object
    target_deltas = encode(boxes[matched[positive]], anchors[positive])
    box_loss = (deltas[positive] - target_deltas).abs().sum() / n_pos
    return {"classification": cls_loss, "bbox_regression": box_loss}


def my_nms(boxes, scores, iou_threshold):
    """Greedy NMS: indices of the kept boxes, by decreasing score."""
    order = scores.argsort(descending=True, stable=True)        # best first, ties by index
    keep = []
    while len(order):
        best, order = order[0], order[1:]
        keep.append(int(best))
        iou = box_iou(boxes[best][None], boxes[order])[0]
        order = order[iou <= iou_threshold]                      # remove only IoU > threshold
    return torch.tensor(keep, dtype=torch.int64)


# Open questions (about section 1's batch of three images and section 2's synthetic outputs)
#
# Q: Divide the focal loss by the number of all non-ignored anchors instead of N_pos. By how much
#    does the loss of the batch shrink, and why would the gradients of the positives vanish?
# A: The photo has 131 positives among 8,897 non-ignored anchors, so its classification loss
#    shrinks ~68x (the blank image's 9,216x). Every positive's gradient is divided the same way:
#    the ~100 positives of an image drown in a denominator of ~100k anchors, and the learning
#    signal per object becomes tiny; dividing by N_pos keeps it independent of the anchor count
#    (Sec. 4.1: the easy negatives contribute little loss, so they should not count either).
#
# Q: Switch off the low-quality matches and count the positives of the name tag (the smallest
#    object) again. What happens to its loss?
# A: If none of its anchors reaches IoU 0.5, it has no positive at all: no box loss, and its
#    anchors are background (or ignored), so the classifier is taught that the name tag is not
#    an object. The low-quality rule (RPN's: each object keeps its best anchor) guarantees every
#    object at least one positive.
#
# Q: Replace the L1 box loss by smooth L1 (losses.smooth_l1_loss, beta = 1/9) and compare with
#    RetinaNet(box_loss="smooth_l1").
# A: Both give the same number (compute_loss uses the same function): smooth L1 equals
#    |x| - beta/2 for |x| >= beta, so for the untrained deltas (mostly |x| > 1/9) it is the L1
#    loss minus ~0.056 per coordinate; only near-converged deltas feel its quadratic zone.
#
# Q: In the synthetic example, lower the NMS threshold to 0.3 and raise it to 0.7: how many
#    detections per object remain?
# A: At 0.3 still one per object (the synthetic boxes of one object overlap it strongly); at
#    0.7 several boxes per object survive, since two neighbouring anchors' boxes often overlap by
#    less than 0.7: duplicates that cost precision at evaluation.
#
# Q: Why does the postprocess clip boxes before NMS? Construct two boxes whose IoU changes when
#    they are clipped.
# A: NMS should compare the boxes as they will be reported, inside the image. Boxes
#    [-40, 0, 10, 10] and [-5, 0, 10, 10] in an image starting at x = 0 have IoU 15/50 = 0.3
#    (both kept at 0.5); clipped to [0, 0, 10, 10] and [0, 0, 10, 10] they are the same box,
#    IoU 1, and one suppresses the other. torchvision clips first, so the course does too.
