"""Solutions to lesson 09's exercises. Try them yourself first."""
import torch


def my_coco_to_xyxy(bbox: torch.Tensor, image_size) -> torch.Tensor:
    """COCO boxes [N, 4] = (x, y, width, height) of one image -> the xyxy boxes to train on."""
    h, w = image_size                                   # image_size is (H, W)
    x1, y1 = bbox[:, 0], bbox[:, 1]
    x2, y2 = bbox[:, 0] + bbox[:, 2], bbox[:, 1] + bbox[:, 3]   # continuous: no -1
    boxes = torch.stack([x1.clamp(0, w), y1.clamp(0, h),       # clip to the image
                         x2.clamp(0, w), y2.clamp(0, h)], dim=1)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # area left after clipping
    return boxes[keep]


# Q: (section 4) Recompute the share of objects with a positive anchor (best IoU >= 0.5) with
#    anchor sizes (16, 32, 64, 128, 256) = 2 x the stride. Where do the misses move?
# A: A half-stride shift is now 1/4 of the anchor, so even the worst grid position gives
#    (3/4)^2 / (2 - (3/4)^2) = 0.39 - still under 0.5, but far fewer positions fall below it.
#    On the full training split: objects of 16 px and more get a positive almost always (98.8 %,
#    99.8 %, 99.3 % for 16-32, 32-64, >= 64 px; the course's 1.5 x: 95.9 %, 95.2 %, 94.1 %), but
#    under 16 px only 45.7 % (1.5 x: 66.8 %): P3's smallest anchor is now 16 px, and a 9-px
#    object inside it has IoU (9/16)^2 = 0.32 at best. In all, 84.1 % against 87.3 %: the misses
#    move to the smallest objects. Lesson 12 compares more configurations.

# Q: (section 4) Where are the centres of the objects that get no positive anchor with
#    anchor = stride (8-128), relative to the stride-8 grid?
# A: Near the middle of a grid cell, i.e. about half a stride from every anchor centre in x and
#    in y: torchvision puts the centres at offset 0 (the cells' top-left corners, lesson 02), so
#    an object centred at (8k + 4, 8m + 4) is the worst case, with IoU 0.14 for an anchor of its
#    own size. Objects centred on a grid point match an anchor of their size with IoU near 1.

# Q: (section 3) A variant with smaller objects, make_shapes(..., size_range=(0.04, 0.2)):
#    objects of about 5-26 px. How do the paper's anchors and the course's do?
# A: The paper's anchors (32 px and up on P3) give almost no object a positive: IoU of a 20-px
#    object with a 32-px anchor is at most (20/32)^2 = 0.39. The course's 12-px anchors still
#    reach the objects of ~9-24 px, but the smallest (5-8 px) are left to the low-quality
#    matches: a detector for such data needs a finer level (P2, stride 4) or smaller anchors.

# Q: Why does the loader drop a box of zero width instead of keeping it?
# A: Its IoU with every anchor is 0, so its best IoU is 0, and the low-quality rule of lesson 03
#    would make every anchor with IoU 0 - nearly all of them - "positive" for it. One bad
#    annotation would then teach the classifier that the whole background is that class.
