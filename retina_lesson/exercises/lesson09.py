"""Checks for the exercises of lesson 09 (the dataset: COCO annotations to training targets)."""
from __future__ import annotations

import torch

from ..boxes import clip_boxes, xywh_to_xyxy
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_coco_to_xyxy", "coco_to_xyxy"]


def coco_to_xyxy(bbox: torch.Tensor, image_size) -> torch.Tensor:
    """What ``data.CocoDataset`` does to the boxes of one image: COCO ``[x, y, w, h]`` -> xyxy,
    clipped to the image ``(H, W)``, boxes with no area left dropped."""
    boxes = clip_boxes(xywh_to_xyxy(bbox), image_size)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[keep]


def _keep_positive(boxes):
    return boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]


def _xyxy(bbox, minus=0.0):
    return torch.cat([bbox[:, :2], bbox[:, :2] + bbox[:, 2:] - minus], dim=1)


def _clip(boxes, h, w):
    return torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                        boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)


def _as_if_xyxy(bbox, image_size):            # the bbox read as [x1, y1, x2, y2]
    return _keep_positive(_clip(bbox, *image_size))


def _no_clip(bbox, image_size):
    return _keep_positive(_xyxy(bbox))


def _size_swapped(bbox, image_size):         # x clipped at H, y at W
    h, w = image_size
    return _keep_positive(_clip(_xyxy(bbox), w, h))


def _clip_minus_one(bbox, image_size):       # x clipped at W - 1
    h, w = image_size
    return _keep_positive(_clip(_xyxy(bbox), h - 1, w - 1))


def _drop_before_clipping(bbox, image_size):
    bbox = bbox[(bbox[:, 2] > 0) & (bbox[:, 3] > 0)]
    return _clip(_xyxy(bbox), *image_size)


def _keep_empty(bbox, image_size):           # no box dropped (or kept with >= instead of >)
    return _clip(_xyxy(bbox), *image_size)


def _pixel_minus_one(bbox, image_size):      # x2 = x + w - 1 (pixel counting)
    return _keep_positive(_clip(_xyxy(bbox, minus=1.0), *image_size))


def _random_bboxes(n: int, image_size, generator: torch.Generator) -> torch.Tensor:
    """COCO boxes in and around an image: some stick out, a few have zero width or height."""
    h, w = image_size
    size = torch.tensor([w, h], dtype=torch.float32)
    xy = torch.rand(n, 2, generator=generator) * size * 1.2 - 0.1 * size
    wh = (torch.rand(n, 2, generator=generator) * torch.tensor([w, h]) * 0.5).round()
    wh[::5, 0] = 0.0                                   # every fifth box has zero width
    return torch.cat([xy.round(), wh], dim=1)


def _cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(9)
    return [
        Case("a box inside a 128 x 128 image (image 1's first object)",
             (t([[20.0, 99, 14, 7]]), (128, 128))),
        Case("a box that sticks out past the right and bottom edges (lesson 09's messy file)",
             (t([[400.0, 300, 200, 300]]), (512, 512))),
        Case("a box that starts left of and above the image (negative x and y)",
             (t([[-10.0, -5, 30, 20]]), (128, 128))),
        Case("a box that ends exactly on the image's right and bottom edges (kept, unchanged)",
             (t([[100.0, 90, 28, 38]]), (128, 128))),
        Case("a box of zero width (dropped)",
             (t([[50.0, 50, 0, 40], [10.0, 10, 20, 20]]), (512, 512))),
        Case("a box entirely right of the image: zero width once clipped (dropped)",
             (t([[10.0, 10, 20, 20], [140.0, 10, 20, 20]]), (128, 128))),
        Case("a wide image, image_size = (H, W) = (100, 200)",
             (t([[150.0, 50, 100, 100], [20.0, 90, 30, 5]]), (100, 200))),
        Case("an image without objects: 0 boxes in, 0 out", (torch.zeros(0, 4), (128, 128))),
        Case("12 random boxes in and around a 96 x 160 image",
             (_random_bboxes(12, (96, 160), g), (96, 160))),
    ]


def check_coco_to_xyxy(fn) -> Verdict:
    """Lesson 09: ``fn(bbox, image_size)`` turns the COCO boxes ``[N, 4]`` (x, y, width, height) of
    one image of size ``(H, W)`` into the xyxy boxes ``CocoDataset`` trains on: clipped to the
    image, boxes with no area left dropped."""
    hints = [
        Mistake("COCO's bbox is [x, y, width, height], not [x1, y1, x2, y2]: x2 = x + width, "
                "y2 = y + height", _as_if_xyxy),
        Mistake("a box that sticks out of the image must be clipped to it: x to [0, W], y to "
                "[0, H] (boxes.clip_boxes)", _no_clip),
        Mistake("image_size is (H, W): x is clipped at the width W = image_size[1], y at the "
                "height H = image_size[0]", _size_swapped),
        Mistake("clip to [0, W], not [0, W - 1]: coordinates are continuous, the image's right "
                "edge is x = W", _clip_minus_one),
        Mistake("drop boxes by their area AFTER clipping: a box entirely outside the image has a "
                "positive width in the file but zero width once clipped", _drop_before_clipping),
        Mistake("a box of zero width or height has no area: keep only boxes with x2 > x1 and "
                "y2 > y1 (a zero-size box would make every zero-IoU anchor positive, lesson 03)",
                _keep_empty),
        Mistake("continuous coordinates: x2 = x + width, without the -1 of pixel counting",
                _pixel_minus_one),
    ]
    return run_check("coco_to_xyxy", fn, coco_to_xyxy, _cases(), hints=hints,
                     arg_names=("bbox", "image_size"))
