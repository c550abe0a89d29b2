"""Solutions to lesson 03's exercises. Try them yourself first.

Lesson 03 matches anchors to objects with the paper's three-zone rule (Sec. 4, "Anchors"):
IoU >= 0.5 positive, IoU < 0.4 background, in between ignored; with RPN's extra rule (Faster
R-CNN, Sec. 3.1.2) that each object also keeps its highest-IoU anchor(s).
"""
import torch

NEGATIVE, IGNORED = -1, -2


def my_match_anchors(iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True):
    """An object index, NEGATIVE (-1) or IGNORED (-2) for every anchor; iou is [M, N]."""
    num_objects, num_anchors = iou.shape
    if num_objects == 0:                                   # no objects: all background
        return torch.full((num_anchors,), NEGATIVE, dtype=torch.long)
    best_iou, best_object = iou.max(dim=0)                 # each anchor's best object
    matches = best_object.clone()                          # IoU >= 0.5: that object
    matches[best_iou < bg_iou] = NEGATIVE                  # IoU in [0, 0.4): background
    matches[(best_iou >= bg_iou) & (best_iou < fg_iou)] = IGNORED   # [0.4, 0.5): ignored
    if allow_low_quality:                                  # RPN: each object's best anchor(s)
        best_per_object = iou.max(dim=1).values            # [M]
        is_best = (iou == best_per_object[:, None]).any(dim=0)      # ties included
        matches[is_best] = best_object[is_best]            # ... keep their OWN best object
    return matches


def my_clean_objects(boxes, image_size=None, min_size=1e-3):
    """Boxes clipped to the (H, W) image, those wider and taller than min_size; (boxes, mask)."""
    boxes = boxes.reshape(-1, 4)
    if image_size is not None:
        h, w = image_size                                  # (H, W): x goes to W, y to H
        x1, y1 = boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h)
        x2, y2 = boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)
        boxes = torch.stack([x1, y1, x2, y2], dim=1)
    keep = (boxes[:, 2] - boxes[:, 0] > min_size) & (boxes[:, 3] - boxes[:, 1] > min_size)
    return boxes[keep], keep


# Q: Raise the positive threshold to 0.6 (and the negative one to 0.5). How many positives are
#    left on the photo at 800 px? Which objects now depend on the low-quality rule?
# A: 62 positives instead of 202 (54 without low-quality matches), and 140 ignored instead of 418.
#    Only the flag (best IoU 0.495) depends on the rule, as before: the other six objects all
#    reach IoU >= 0.6 (the lowest is the name tag, 0.676). Fewer, better positives; lower
#    thresholds give more positives of poorer quality - the paper settles on 0.5 / 0.4.

# Q: Construct a thin pole, a 12 x 300 px box at (250, 100). What is its best IoU? How many
#    positives does it get with and without low-quality matches, and on which level?
# A: Its best IoU is only 0.162 (a 12-px-wide box against anchors that are at least ~23 px wide
#    and at most 2:1 tall). Strict rule: 0 positives - the pole is never learned. Low-quality rule:
#    39 positives, all tied at 0.162 (the pole lies inside many horizontally shifted anchors that
#    each cover it the same way), all on P4. Lesson 12 measures such objects on a whole dataset.

# Q: Repeat section 6 with the paper's anchors (convention="paper", centred in their cells).
#    Does the flag still need rescuing?
# A: Yes: its best IoU becomes 0.4972 (0.4950 with torchvision's anchors), still under 0.5. The
#    flag's problem is its shape (4.5:1 against anchors of at most 2:1), not where the anchors sit;
#    the half-stride shift only changes the IoU a little for every object.

# Q: torchvision's Matcher raises an error for an image without objects; match_anchors returns
#    all negatives. Which behaviour do you want when training on images that contain no object?
# A: All negatives: an empty image is a valid example of pure background and teaches the
#    classifier "nothing here" everywhere (its box loss is empty). torchvision's RetinaNet does the
#    same in its loss: it never calls the Matcher for such an image and fills the matches with -1.
