"""Checks for the exercises of lesson 03 (matching anchors to objects)."""
from __future__ import annotations

from functools import partial

import torch

from ..anchors import generate_anchors
from ..boxes import box_iou
from ..matching import IGNORED, NEGATIVE, clean_objects, match_anchors
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_match_anchors", "check_clean_objects"]


# --- wrong versions of match_anchors: the mistakes students make --------------------------------

def _match(iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True, *, strict_fg=False,
           loose_bg=False, no_ignore=None, low_quality="own", thresholds=None):
    """match_anchors with one mistake switched on (the defaults give the right answer)."""
    if thresholds is not None:
        fg_iou, bg_iou = thresholds
    num_objects, num_anchors = iou.shape
    if num_objects == 0:
        return torch.full((num_anchors,), NEGATIVE, dtype=torch.int64)
    best_iou, best_object = iou.max(dim=0)
    matches = best_object.clone()
    positive = best_iou > fg_iou if strict_fg else best_iou >= fg_iou
    negative = best_iou <= bg_iou if loose_bg else best_iou < bg_iou
    if no_ignore == "negative":      # one threshold: everything below fg_iou is background
        negative = ~positive
    elif no_ignore == "positive":    # one threshold: everything from bg_iou up is an object
        positive = ~negative
    matches[negative] = NEGATIVE
    matches[~positive & ~negative] = IGNORED
    if allow_low_quality and low_quality != "none" or low_quality == "always":
        best_per_object = iou.max(dim=1).values
        if low_quality == "argmax":  # one anchor per object, ties dropped
            for a in iou.argmax(dim=1).tolist():
                matches[a] = best_object[a]
        elif low_quality == "that_object":  # the object it is best for, not its own best object
            for j in range(num_objects):
                matches[iou[j] == best_per_object[j]] = j
        else:
            is_best = (iou == best_per_object[:, None]).any(dim=0)
            matches[is_best] = best_object[is_best]
    return matches


def _per_object_shape(case, expected, received):
    m, n = case.args[0].shape
    if isinstance(received, torch.Tensor) and received.shape == (m,) and m != n:
        return ("one label per anchor ([N_anchors]): reduce over the objects, iou.max(dim=0), "
                "not over the anchors")
    return None


def _float_codes(case, expected, received):
    if isinstance(received, torch.Tensor) and received.is_floating_point():
        return "return whole numbers (torch.long): object indices, -1 and -2"
    return None


# --- cases -----------------------------------------------------------------------------------

def _random_iou(generator, objects=5, image=96):
    """box_iou of random objects with an image's anchors (every object overlaps some anchor)."""
    anchors = generate_anchors((image, image))
    xy = torch.rand(objects, 2, generator=generator) * image * 0.7
    wh = 6 + torch.rand(objects, 2, generator=generator) * image * 0.5
    boxes = torch.cat([xy, (xy + wh).clamp(max=image)], dim=1)
    return box_iou(boxes, anchors)


def _grid_iou(generator, objects=4, anchors=30):
    """IoU values on a 0.05 grid: many ties and many values exactly at 0.4 and 0.5."""
    iou = torch.randint(0, 21, (objects, anchors), generator=generator).float() / 20
    iou[:, 0] = torch.maximum(iou[:, 0], torch.tensor(0.05))  # every object overlaps something
    return iou


def _cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(3)
    strict = {"allow_low_quality": False}
    return [
        Case("3 anchors of one object, IoU 0.7 / 0.45 / 0.1 (one per zone), strict rule",
             (t([[0.7, 0.45, 0.1]]),), strict),
        Case("IoU exactly 0.5 is positive (>= 0.5), strict rule", (t([[0.5, 0.2, 0.1]]),), strict),
        Case("IoU exactly 0.4 is ignored (0.4 <= IoU < 0.5), strict rule",
             (t([[0.9, 0.4, 0.1]]),), strict),
        Case("each anchor goes to its best object: 2 objects, 4 anchors, strict rule",
             (t([[0.6, 0.1, 0.45, 0.0], [0.7, 0.55, 0.3, 0.2]]),), strict),
        Case("an object whose best IoU is 0.45: with low-quality matches its best anchor is "
             "positive",
             (t([[0.45, 0.3, 0.05]]),)),
        Case("the same object without low-quality matches (allow_low_quality=False): ignored",
             (t([[0.45, 0.3, 0.05]]),), strict),
        Case("an object whose best IoU (0.3) is reached by two anchors (a tie): both are positive",
             (t([[0.3, 0.1, 0.3, 0.2]]),)),
        Case("anchor 2 is object 1's best (0.3) but overlaps object 0 more (0.45): it is positive "
             "for its own best object, 0",
             (t([[0.8, 0.1, 0.45], [0.0, 0.2, 0.3]]),)),
        Case("an anchor with the same IoU (0.6) for two objects goes to the first, as "
             "iou.max(dim=0) does",
             (t([[0.6, 0.7, 0.1], [0.6, 0.1, 0.8]]),)),
        Case("other thresholds: fg_iou=0.6, bg_iou=0.3",
             (t([[0.65, 0.55, 0.35, 0.25]]),), {"fg_iou": 0.6, "bg_iou": 0.3,
                                                "allow_low_quality": False}),
        Case("no objects at all (iou of shape [0, 5]): every anchor is background (-1); handle it "
             "before iou.max(dim=0), which fails on an empty dimension",
             (torch.zeros(0, 5),)),
        Case("no objects, strict rule: still every anchor background (-1)",
             (torch.zeros(0, 3),), strict),
        Case("IoU on a 0.05 grid (ties, exact thresholds), 4 objects x 30 anchors",
             (_grid_iou(g),)),
        Case("the same kind of grid, strict rule", (_grid_iou(g),), strict),
        Case("5 random objects against the anchors of a 96 x 96 image", (_random_iou(g),)),
        Case("5 other random objects, strict rule", (_random_iou(g),), strict),
    ]


def check_match_anchors(fn) -> Verdict:
    """Lesson 03: ``fn(iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True)`` must equal
    ``matching.match_anchors``: an object index, -1 (negative) or -2 (ignored) for every anchor."""
    hints = [
        _per_object_shape,
        _float_codes,
        Mistake("IoU exactly 0.5 counts as positive: the rule is IoU >= fg_iou, not >",
                partial(_match, strict_fg=True)),
        Mistake("IoU exactly 0.4 is ignored, not negative: background is IoU < bg_iou, not <=",
                partial(_match, loose_bg=True)),
        Mistake("with allow_low_quality=False there are no low-quality matches: only the "
                "thresholds decide", partial(_match, low_quality="always")),
        Mistake("0.4 <= IoU < 0.5 is the ignored zone (-2): neither background (-1) nor object",
                partial(_match, no_ignore="negative")),
        Mistake("0.4 <= IoU < 0.5 is the ignored zone (-2): not a positive",
                partial(_match, no_ignore="positive")),
        Mistake("with allow_low_quality=True each object keeps its best anchor(s) as positives "
                "even below fg_iou; apply that rule last, after the thresholds, so they do not "
                "overwrite it", partial(_match, low_quality="none")),
        Mistake("ties: every anchor that reaches an object's best IoU is kept (iou == best), not "
                "just the one argmax picks", partial(_match, low_quality="argmax")),
        Mistake("a low-quality anchor keeps its OWN best object (best_object[is_best]), not the "
                "object it is best for (torchvision's Matcher does the same)",
                partial(_match, low_quality="that_object")),
        Mistake("use the arguments fg_iou and bg_iou instead of 0.5 and 0.4",
                partial(_match, thresholds=(0.5, 0.4))),
    ]
    return run_check("match_anchors", fn, match_anchors, _cases(), hints=hints, arg_names=("iou",))


# --- clean_objects ----------------------------------------------------------------------------

def _clean(boxes, image_size=None, min_size=1e-3, *, clip=True, return_clipped=True, swap=False,
           area=False, at_least=False, ignore_min=False):
    boxes = boxes.reshape(-1, 4)
    clipped = boxes
    if image_size is not None and clip:
        h, w = image_size
        if swap:
            h, w = w, h
        clipped = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                               boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)
    bw, bh = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    if ignore_min:
        min_size = 0.0
    if area:
        keep = bw * bh > min_size
    elif at_least:
        keep = (bw >= min_size) & (bh >= min_size)
    else:
        keep = (bw > min_size) & (bh > min_size)
    return (clipped if return_clipped else boxes)[keep], keep


def _clean_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(4)
    xy = torch.rand(12, 2, generator=g) * torch.tensor([260.0, 140.0]) - 30
    wh = torch.rand(12, 2, generator=g) * 60 - 5
    random_boxes = torch.cat([xy, xy + wh], dim=1)
    return [
        Case("two boxes well inside a 100 x 200 image (H x W): both kept, unchanged",
             (t([[10.0, 10, 50, 40], [120.0, 20, 190, 90]]), (100, 200))),
        Case("a box entirely outside the image (right of it): nothing left after clipping, dropped",
             (t([[250.0, 10, 300, 50]]), (100, 200))),
        Case("a box sticking out of the image on the right and bottom: clipped to it",
             (t([[150.0, 60, 260, 130]]), (100, 200))),
        Case("a box of zero width (x1 == x2), no image size: dropped",
             (t([[20.0, 10, 20, 50], [0.0, 0, 5, 5]]),)),
        Case("a box with x2 < x1 and y2 < y1 (negative width and height): dropped",
             (t([[40.0, 40, 10, 10]]), (100, 200))),
        Case("a box 1 px wide and 80 px tall, min_size=2: dropped",
             (t([[10.0, 10, 11, 90], [10.0, 10, 13, 90]]), (100, 200)), {"min_size": 2.0}),
        Case("a box exactly min_size wide (2 px, min_size=2): dropped (width > min_size)",
             (t([[10.0, 10, 12, 90]]), (100, 200)), {"min_size": 2.0}),
        Case("no boxes at all: shape [0, 4], empty mask", (torch.zeros(0, 4), (100, 200))),
        Case("12 random boxes, some outside or inverted, on a 100 x 200 image",
             (random_boxes, (100, 200))),
    ]


def check_clean_objects(fn) -> Verdict:
    """Lesson 03: ``fn(boxes, image_size=None, min_size=1e-3)`` must equal
    ``matching.clean_objects``: ``(kept_boxes, keep_mask)``, boxes clipped to the (H, W) image."""
    hints = [
        Mistake("return the clipped boxes, not the original ones",
                partial(_clean, return_clipped=False)),
        Mistake("clip the boxes to the image first (x to [0, W], y to [0, H]): a box outside the "
                "image has a positive size until it is clipped", partial(_clean, clip=False)),
        Mistake("image_size is (H, W): x coordinates are clipped to the width W, y to the height H",
                partial(_clean, swap=True)),
        Mistake("a box exactly min_size wide is dropped: keep width > min_size, not >=",
                partial(_clean, at_least=True)),
        Mistake("use the argument min_size (a box must be wider and taller than it), not 0",
                partial(_clean, ignore_min=True)),
        Mistake("test width and height separately (each > min_size): an area is positive when both "
                "are negative, and large when one side is ~0", partial(_clean, area=True)),
    ]
    return run_check("clean_objects", fn, clean_objects, _clean_cases(), hints=hints,
                     arg_names=("boxes", "image_size"))
