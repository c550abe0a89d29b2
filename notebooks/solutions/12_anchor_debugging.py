"""Solutions to lesson 12's exercises. Try them yourself first.

Run a solution through its check: ``from retina_lesson.exercises import check_unmatched_share``,
then ``check_unmatched_share(my_unmatched_share)``.
"""
import math

import torch


def my_unmatched_share(iou, fg_iou):
    """The share of objects (rows of iou [M, N]) that no anchor is a positive of."""
    best_iou, best_object = iou.max(dim=0)       # each anchor goes to its own best object
    positive = best_iou >= fg_iou                # IoU >= 0.5: positive (Sec. 4, "Anchors")
    has_positive = torch.zeros(len(iou), dtype=torch.bool)
    has_positive[best_object[positive]] = True
    return float((~has_positive).float().mean())


def my_positives_per_level(iou, level, num_levels):
    """The positive anchors (three-zone rule, IoU >= 0.5) of each pyramid level."""
    best_iou = iou.max(dim=0).values             # an anchor is positive once, for its best object
    return torch.bincount(level[best_iou >= 0.5], minlength=num_levels)


def worst_case_iou(size_over_stride):
    """A square object and the same square anchor, shifted by half a stride in x and y."""
    s, d = size_over_stride, 0.5
    return (s - d) ** 2 / (2 * s ** 2 - (s - d) ** 2)


# Q: Train the course's model with the stride-sized anchors, TrainConfig(anchor_sizes=(8, 16, 32,
#    64, 128)), and compare its AP with lesson 11's (trained with 12...192). How much AP does the
#    lower anchor recall cost? On which object sizes?
# A: The course measured it when it chose its anchors (benchmarks/lesson_measurements.md): on 6000
#    images, with everything else the same, 8...128 gave COCO AP 0.068 and 12...192 gave 0.103 -
#    an older, weaker configuration than today's default, so expect other numbers, not another
#    ranking. Section 8's table says where to look: with stride-sized anchors about 4 in 10 objects
#    of every size lack a positive; the course's anchors recover most of those of 32 px and more
#    (recall 0.66 -> 0.95; COCO's "medium") and fewer of the smallest (0.59 -> 0.66 under 16 px),
#    so expect APm to gain at least as much as APs.

# Q: Using worst_case_iou, find the smallest size / stride ratio for which every square object
#    gets IoU >= 0.5 with an anchor of its size. How do the scales 2^(1/3), 2^(2/3) change it?
# A: (x - 1/2)^2 / (2x^2 - (x - 1/2)^2) >= 1/2 gives 3 (x - 1/2)^2 >= 2 x^2, so
#    x >= (sqrt(3) / 2) / (sqrt(3) - sqrt(2)) ~ 2.72: an anchor must be 2.72 x its stride.
X_MIN = (math.sqrt(3) / 2) / (math.sqrt(3) - math.sqrt(2))
assert worst_case_iou(X_MIN) > 0.5 - 1e-9 and worst_case_iou(2.7) < 0.5
#    The scales add, at the same grid point, anchors 2^(1/3) and 2^(2/3) x larger. The shifted
#    object then fits the next larger anchor better than the one of its own size (the larger box
#    covers the half-stride offset): the worst case reaches 0.5 from about 2.48 x the stride
#    instead of 2.72 (measured with box_iou over the three scales). The paper's 32-px anchors on
#    stride 8 (4 x) clear both limits with room to spare.

# Q: Drop P7 (four levels: sizes and strides without the last) for the shapes data. How many
#    anchors, and how many positives, are lost?
# A: On a 128-px input P7 is a single location (9 anchors, centred on the corner (0, 0)) and gets
#    no positive (section 4): dropping it loses 9 anchors of 3069 and no positive at all. Its 9
#    anchors were negatives in every image: a small saving, and no object loses its anchors.

# Q: The paper's anchors on the photo: run the analysis with min_size=600 (the paper's ablation
#    scale, Sec. 5.1) instead of 800. Which objects change level?
# A: At 600 px (padded input 608 x 608) every object is 0.75 x as large, and the objects near a
#    level's boundary move one level down: the helmet and the shuttle model from P6 to P5, the
#    mission badge from P5 to P4, the name tag from P4 to P3. The person (P7), the head (P5) and the
#    flag (P6, still without a positive: its shape, not its size, is the problem) keep theirs.
