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
# A: The photo at 192 px has 131 positives among 8,897 non-ignored anchors: its classification
#    loss shrinks 68x, the blank image's 9,216x, the batch's classification loss ~87x (0.966 ->
#    ~0.011). Each positive's gradient shrinks the same way: the few positives of an image drown
#    in a denominator of ~10^4-10^5 anchors whose loss is negligible anyway (Sec. 4.1's reason),
#    and the loss scale would depend on the image size instead of on the objects.
#
# Q: Switch off the low-quality matches and count the positives of the name tag (the smallest
#    object) again. What happens to its loss?
# A: Its best IoU with any anchor at 192 px is 0.224: with the low-quality rule (RPN's: each object
#    keeps its best anchors) it has 8 positives (tied best anchors); without it, 0. It then gets no
#    box loss, and its anchors (IoU < 0.4) become negatives: the classifier is taught that the
#    name tag is background.
#
# Q: Replace the L1 box loss by smooth L1 (losses.smooth_l1_loss, beta = 1/9) and compare with
#    RetinaNet(box_loss="smooth_l1").
# A: The same number: compute_loss calls the same function. Smooth L1 is 0.5 x^2 / beta below
#    beta = 1/9 and |x| - beta / 2 above, so it is a little below L1 on every coordinate and has
#    the same gradient (+-1) for large errors; only nearly right deltas feel the difference.
#
# Q: In the synthetic example, lower the NMS threshold to 0.3 and raise it to 0.7: how many
#    detections per object remain?
# A: At 0.3 and at 0.5: 7 detections, one per object. At 0.7: 9, two each for the head and the
#    mission badge; their candidate boxes overlap each other by IoU between 0.5 and 0.7, so they
#    survive as duplicates, which cost precision at evaluation.
#
# Q: Why does the postprocess clip boxes before NMS? Construct two boxes whose IoU changes when
#    they are clipped.
# A: NMS should compare the boxes as they will be reported, inside the image. In a 10 x 10 image,
#    [-40, 0, 10, 10] and [-5, 0, 10, 10] have IoU 0.3 (both kept at 0.5); clipped, both are
#    [0, 0, 10, 10], IoU 1, and one removes the other. torchvision clips first; so does the course.
