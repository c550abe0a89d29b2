"""Solutions to lesson 02's exercises. Try them yourself first.

Run a check on a solution with ``retina_lesson.exercises.check_<name>(my_<name>)``.
"""
import math

import torch

SCALES = (1.0, 2 ** (1 / 3), 2 ** (2 / 3))   # §4: sizes {2^0, 2^(1/3), 2^(2/3)} of each level
RATIOS = (0.5, 1.0, 2.0)                      # §4: aspect ratios {1:2, 1:1, 2:1}, as h / w


def my_base_anchors(size, scales=SCALES, ratios=RATIOS):
    """The len(ratios) * len(scales) anchors of one location, torchvision's convention, [A, 4]."""
    rows = []
    for r in ratios:                                   # ratio-major ...
        for scale in scales:                           # ... scale-minor
            s = int(size * scale)                      # torchvision: integer sizes (40, not 40.3)
            w, h = s / math.sqrt(r), s * math.sqrt(r)  # w h = s^2 and h / w = r
            rows.append([-w / 2, -h / 2, w / 2, h / 2])
    return torch.tensor(rows, dtype=torch.float32).round()  # corners rounded to whole pixels


def my_grid_anchors(base, feature_size, stride):
    """The base anchors [A, 4] at every cell of an (H, W) grid, [H * W * A, 4], offset 0."""
    (fh, fw), (sy, sx) = feature_size, stride
    xs = torch.arange(fw, dtype=base.dtype) * sx        # centres on the cells' top-left corners
    ys = torch.arange(fh, dtype=base.dtype) * sy
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")      # row by row: y slowest, x fastest
    shifts = torch.stack([cx, cy, cx, cy], dim=-1).reshape(-1, 1, 4)   # [H * W, 1, 4]
    return (shifts + base[None]).reshape(-1, 4)         # the A anchors of a location together


# Q: Add a fourth aspect ratio for tall objects, h / w = 4 (ratios=(0.5, 1.0, 2.0, 4.0)). How many
#    anchors does the photo have now, and what is the flag's best IoU? Why would 0.25 not help?
# A: A = 4 ratios x 3 scales = 12 per location: 49,104 * 12 / 9 = 65,472 anchors. The flag
#    (112 x 505, h / w = 4.5) gets a best IoU of 0.863 instead of 0.495, so it finally has a
#    positive anchor; the other objects keep their best IoUs. Ratios are h / w in torchvision, so
#    0.25 adds WIDE anchors (w = 2 s, h = s / 2): the flag's best IoU stays 0.495. The paper's
#    Table 1c finds that more anchors than 3 scales x 3 ratios bring no further gain on COCO —
#    data with many thin objects is where lesson 12's analysis pays off.
#
# Q: Which of the photo's objects would lose their last positive anchor with one scale per level?
# A: None: with scales=(1.0,) every object except the flag (0.495 either way) still has an anchor
#    with IoU >= 0.5, but the best IoUs drop (head 0.804 -> 0.696, shuttle model 0.726 -> 0.517,
#    person 0.730 -> 0.664). Sizes then jump by 2x between levels, so an object whose size falls
#    between two levels barely passes; the third-octave scales fill those gaps.
#
# Q: For an 800 x 1216 input (a multiple of 32), compute torchvision's effective strides.
# A: Feature sizes ceil(800 / s) x ceil(1216 / s) = 100x152, 50x76, 25x38, 13x19, 7x10; strides
#    (800 // fh, 1216 // fw) = (8, 8), (16, 16), (32, 32), (61, 64), (114, 121). P6 and P7 differ
#    from the nominal 64 and 128 along y (61, 114) and P7 also along x (121): 1216 / 128 = 9.5 is
#    not whole, while 1216 / 64 = 19 is.
#
# Q: With the explorer, find the level and shape with the highest IoU for the name tag.
# A: P3, ratio 1:1, scale 2^(1/3) (a 40 x 40 square): the anchor [324, 340, 364, 380] centred at
#    (344, 360), IoU 0.735 as in the table of section 3. The name tag (46 x 35, size 40) is the
#    only object small enough for P3.
