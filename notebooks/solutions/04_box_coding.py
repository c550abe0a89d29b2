"""Solutions to lesson 04's exercises. Try them yourself first.

The box coding of R-CNN that RetinaNet uses (paper, Sec. 4, box regression subnet), with the
weights (1, 1, 1, 1) and torchvision's clamp of t_w, t_h at log(1000 / 16) on decoding.
"""
import math

import torch

CLIP = math.log(1000.0 / 16)


def _centre_size(boxes):
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def my_encode(boxes, anchors):
    """Deltas (t_x, t_y, t_w, t_h) that move each anchor onto its box, [N, 4]."""
    xa, ya, wa, ha = _centre_size(anchors)
    x, y, w, h = _centre_size(boxes)
    tx = (x - xa) / wa                                     # t_x = (x - x_a) / w_a
    ty = (y - ya) / ha                                     # t_y = (y - y_a) / h_a
    tw = torch.log(w / wa)                                 # t_w = log(w / w_a)
    th = torch.log(h / ha)                                 # t_h = log(h / h_a)
    return torch.stack([tx, ty, tw, th], dim=1)


def my_decode(deltas, anchors):
    """Boxes (x1, y1, x2, y2) from deltas and their anchors, t_w, t_h clamped at log(1000/16)."""
    xa, ya, wa, ha = _centre_size(anchors)
    x = xa + deltas[:, 0] * wa                             # x = x_a + t_x w_a
    y = ya + deltas[:, 1] * ha                             # y = y_a + t_y h_a
    w = wa * torch.exp(deltas[:, 2].clamp(max=CLIP))       # w = w_a exp(t_w)
    h = ha * torch.exp(deltas[:, 3].clamp(max=CLIP))       # h = h_a exp(t_h)
    return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], dim=1)


# Q: Encode the photo's positives with weights=(10, 10, 5, 5) (Faster R-CNN's box head). What
#    happens to the standard deviations of section 7, and how must decode be called?
# A: Each target is multiplied by its weight, so the standard deviations grow 10x (t_x, t_y) and
#    5x (t_w, t_h): from about 0.14 and 0.27 to about 1.4 and 1.3 - roughly unit variance, which
#    is why a second stage uses them. decode must get the same weights (it divides by them);
#    decoding those targets with (1, 1, 1, 1) gives boxes off by over 2,000 px on the photo.

# Q: Prove |t_x| <= 0.5 for IoU >= 0.5. What is the largest |t_x| in section 7 - is 0.5 tight?
# A: IoU <= (intersection width) / max(w, w_a), because the intersection is at most that wide
#    times the smaller height and the union is at least the larger box's area. The intersection
#    is at most (w + w_a)/2 - |x - x_a| wide, so 0.5 max(w, w_a) <= (w + w_a)/2 - |x - x_a|, i.e.
#    |x - x_a| <= min(w, w_a)/2 <= w_a/2: |t_x| <= 0.5. Section 7's largest is 0.451. The bound
#    is tight: a box twice as wide as its anchor, same height, with the anchor flush against one
#    end has IoU exactly 0.5 and t_x = 0.5 (t_w = log 2); random scenes rarely hit that corner.

# Q: Encode a box that is not matched to the anchor (IoU 0), e.g. the flag against a P3 anchor at
#    the other side of the photo. How large are the targets? Why would training on them hurt?
# A: For the P3 anchor (433, 245, 479, 267): t = (-8.7, -0.16, 0.89, 3.13) - t_x and t_h are
#    10-30x the spread of real targets (std 0.14-0.27). The anchor's features see nothing of the
#    flag, so it cannot predict these numbers; the huge L1 errors would dominate the box loss and
#    pull the shared head's weights towards nonsense. That is why only positives get box targets.

# Q: The paper convention centres anchors in their cells (convention="paper"). Do the t_x, t_y of
#    section 7 change their mean? Why?
# A: No: the means stay ~0 (0.0004 / 0.0008 with torchvision's anchors, 0.0003 / -0.0003 with the
#    paper's). The objects are placed at random with respect to the grid, and each object matches
#    the anchors around it whichever way the grid is shifted; a half-stride shift changes which
#    anchors match, not the average offset. The shift matters at the image border and in parity.
