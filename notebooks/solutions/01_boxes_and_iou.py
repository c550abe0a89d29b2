"""Solutions to lesson 01's exercises. Try them yourself first.

Run a check on a solution with ``retina_lesson.exercises.check_<name>(my_<name>)``.
"""
import torch


def my_box_iou(a, b):
    """IoU of every box of a [N, 4] with every box of b [M, 4] (xyxy) -> [N, M]."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])                 # |A|, [N]
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])                 # |B|, [M]
    top_left = torch.max(a[:, None, :2], b[None, :, :2])               # [N, M, 2]
    bottom_right = torch.min(a[:, None, 2:], b[None, :, 2:])           # [N, M, 2]
    wh = (bottom_right - top_left).clamp(min=0)                        # no overlap -> 0
    inter = wh[..., 0] * wh[..., 1]                                    # |A ∩ B|
    union = area_a[:, None] + area_b[None, :] - inter        # |A ∪ B| = |A| + |B| - |A ∩ B|
    return inter / union                                               # IoU = |A ∩ B| / |A ∪ B|


def my_xywh_to_cxcywh(b):
    """COCO boxes (x, y, w, h) [N, 4] -> (cx, cy, w, h) [N, 4], without going through xyxy."""
    x, y, w, h = b.unbind(-1)
    return torch.stack([x + w / 2, y + h / 2, w, h], dim=-1)  # centre = corner + half the size


# Q: Two equal squares of side s shifted by d along BOTH x and y: what is their IoU, and which
#    diagonal shift gives IoU 0.5?
# A: The intersection is I = (s - d)^2, the union 2 s^2 - I. IoU = 0.5 when I = 2 s^2 / 3, i.e.
#    d = s (1 - sqrt(2/3)) ≈ 0.184 s along each axis (0.26 s along the diagonal), against s / 3
#    for a shift along one axis only. Check: boxes.box_iou_pair([0, 0, 1, 1],
#    [d, d, 1 + d, 1 + d]) with d = 1 - (2/3) ** 0.5 gives 0.5000.
#
# Q: For each of the photo's boxes, the largest horizontal shift that keeps IoU >= 0.5. Which
#    object is the hardest to hit?
# A: For a shift d along x of a box of width w, IoU = (w - d) / (w + d) (the height cancels), so
#    d_max = w / 3: it depends only on the width. The name tag (46 px wide) allows ~15 px, the
#    flag 37 px, the person 117 px. The narrowest object is the hardest to hit: a grid of stride 8
#    (P3) still has a centre within 4 px of it, but small objects need the small, dense levels.
#
# Q: GIoU: implement it with broadcasting and compare with torchvision.ops.generalized_box_iou.
# A: GIoU = IoU - (|C| - |A ∪ B|) / |C|, with C the smallest box enclosing A and B:
#        lt_c = torch.min(a[:, None, :2], b[None, :, :2])
#        rb_c = torch.max(a[:, None, 2:], b[None, :, 2:])
#        area_c = (rb_c - lt_c).prod(-1); giou = iou - (area_c - union) / area_c
#    It lies in (-1, 1] and, unlike IoU, keeps decreasing as disjoint boxes move apart, which is
#    why it is used as a regression loss. torch.testing.assert_close(giou,
#    torchvision.ops.generalized_box_iou(a, b)) passes.
