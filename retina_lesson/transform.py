"""The image transform in front of the network (as torchvision's ``GeneralizedRCNNTransform``).

1. normalise with the ImageNet mean / std the backbone expects;
2. resize by s = min(min_size / short side, max_size / long side), bilinear, size floored
   (800 / 1333 for COCO); ``min_size=None`` keeps the image's own size;
3. pad bottom / right with zeros to a multiple of 32 and stack the batch.

Boxes are scaled with the image on the way in, and mapped back per axis on the way out.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize_boxes(boxes: Tensor, original_size, new_size) -> Tensor:
    """Scale xyxy boxes from an image of ``original_size`` (H, W) to one of ``new_size``."""
    ratio_h, ratio_w = (torch.tensor(n, dtype=torch.float32, device=boxes.device)
                        / torch.tensor(o, dtype=torch.float32, device=boxes.device)
                        for n, o in zip(new_size, original_size))
    x1, y1, x2, y2 = boxes.unbind(1)
    return torch.stack((x1 * ratio_w, y1 * ratio_h, x2 * ratio_w, y2 * ratio_h), dim=1)


class ImageTransform(nn.Module):
    """Normalise, resize and batch images (and their target boxes)."""

    def __init__(self, min_size: int | None = 800, max_size: int = 1333, mean=IMAGENET_MEAN,
                 std=IMAGENET_STD, size_divisible: int = 32):
        super().__init__()
        self.min_size, self.max_size = min_size, max_size
        self.mean, self.std = tuple(mean), tuple(std)
        self.size_divisible = size_divisible

    def normalize(self, image: Tensor) -> Tensor:
        mean = torch.as_tensor(self.mean, dtype=image.dtype, device=image.device)
        std = torch.as_tensor(self.std, dtype=image.dtype, device=image.device)
        return (image - mean[:, None, None]) / std[:, None, None]

    def resize(self, image: Tensor) -> Tensor:
        if self.min_size is None:
            return image
        h, w = image.shape[-2:]
        scale = min(self.min_size / min(h, w), self.max_size / max(h, w))
        return F.interpolate(image[None], scale_factor=scale, mode="bilinear",
                             recompute_scale_factor=True, align_corners=False)[0]

    def batch(self, images: list[Tensor]) -> Tensor:
        d = self.size_divisible
        h = int(math.ceil(max(i.shape[-2] for i in images) / d) * d)
        w = int(math.ceil(max(i.shape[-1] for i in images) / d) * d)
        batched = images[0].new_zeros(len(images), images[0].shape[0], h, w)
        for b, image in zip(batched, images):
            b[:, : image.shape[-2], : image.shape[-1]].copy_(image)
        return batched

    def forward(self, images: list[Tensor], targets: list[dict] | None = None):
        """Return ``(batch [N, 3, H, W], image_sizes after resize, targets with scaled boxes)``."""
        out_images, sizes, out_targets = [], [], [] if targets is not None else None
        for i, image in enumerate(images):
            if not isinstance(image, Tensor) or image.dim() != 3 or image.shape[0] != 3:
                shape = list(image.shape) if isinstance(image, Tensor) else type(image).__name__
                raise ValueError(f"image {i} must be a [3, H, W] tensor, got {shape}")
            if not image.is_floating_point():
                raise ValueError(f"image {i} must be float in [0, 1], got dtype {image.dtype}")
            original = tuple(image.shape[-2:])
            image = self.resize(self.normalize(image))
            out_images.append(image)
            sizes.append(tuple(image.shape[-2:]))
            if targets is not None:
                t = dict(targets[i])
                t["boxes"] = resize_boxes(t["boxes"], original, sizes[-1])
                out_targets.append(t)
        return self.batch(out_images), sizes, out_targets

    def postprocess(self, detections: list[dict], image_sizes, original_sizes) -> list[dict]:
        """Map detected boxes back to each original image's pixel coordinates."""
        for det, size, original in zip(detections, image_sizes, original_sizes):
            det["boxes"] = resize_boxes(det["boxes"], size, original)
        return detections
