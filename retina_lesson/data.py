"""Detection data: the synthetic shapes dataset and a reader for any COCO-format folder.

A detection sample is an image and a *variable* number of objects, each a box (xyxy, pixels) and
a label. Labels are the COCO category ids themselves: they index the model's classification
columns directly (column 0 is never positive), as in torchvision's detection models. Batches are
lists, not stacked tensors, because images and their object counts differ (``collate_fn``).
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, get_worker_info

from .shapes import (CLASSES, FULL_SIZES, QUICK_SIZES, ensure_shapes, make_shapes,  # noqa: F401
                     shapes_config, shapes_root)

__all__ = ["CLASSES", "make_shapes", "shapes_root", "ensure_shapes", "shapes_datasets",
           "CocoDataset", "collate_fn", "hflip", "object_sizes", "load_image"]


def load_image(path, dtype=torch.float32) -> torch.Tensor:
    """An image file as a float tensor [3, H, W] in [0, 1] (``dtype=torch.uint8``: 0..255)."""
    with Image.open(path) as img:
        array = np.asarray(img.convert("RGB"))
    if dtype == torch.uint8:
        return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    # in numpy (one thread): torch's small-tensor ops can stall on a busy multi-core machine
    array = np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32)
    array /= 255.0
    return torch.from_numpy(array)


def _require(entry, keys, what, path):
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: every entry of {what!r} must be an object, got {entry!r:.80}")
    missing = [k for k in keys if k not in entry]
    if missing:
        raise ValueError(f"{path}: an entry of {what!r} lacks {missing}: {entry!r:.120}")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: malformed JSON ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a COCO object at the top level, "
                         f"got {type(data).__name__}")
    missing = [k for k in ("images", "annotations", "categories") if k not in data]
    if missing:
        raise ValueError(f"{path}: not a COCO instances file, missing key(s) {missing}")
    for key, fields in (("images", ("id", "file_name", "width", "height")),
                        ("annotations", ("id", "image_id", "category_id", "bbox")),
                        ("categories", ("id", "name"))):
        if not isinstance(data[key], list):
            raise ValueError(f"{path}: {key!r} must be a list")
        for entry in data[key]:
            _require(entry, fields, key, path)
        ids = [entry["id"] for entry in data[key]]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"{path}: id {dup!r} appears more than once in {key!r}")
    for image in data["images"]:
        size = (image["width"], image["height"])
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   and v > 0 for v in size):
            raise ValueError(f"{path}: image id {image['id']!r} has a bad size {size[0]!r} x "
                             f"{size[1]!r} (expected positive numbers of pixels)")
    return data


CACHE_BYTES = 1 << 30  # cache=None: keep decoded images in memory up to this size (uint8)


class CocoDataset(Dataset):
    """Images + a COCO instances JSON -> ``(image [3, H, W] in [0, 1], target)``.

    ``target = {"boxes": [N, 4] xyxy float32, "labels": [N] int64 (category ids),
    "image_id": int}``.
    Annotations are checked once, here: boxes are clipped to the image, boxes with no area
    after clipping and ``iscrowd`` annotations are skipped and counted in ``self.skipped``
    (reason -> count, also reported as one warning). ``train=True`` turns on a horizontal flip
    with probability ``flip_prob``, drawn from ``generator`` (a ``torch.Generator`` or an int
    seed: with ``num_workers=0`` the flips are then reproducible; DataLoader workers draw from
    their own RNG, which the DataLoader seeds from ``torch``'s global seed). ``cache=True`` keeps
    every decoded image in memory (as uint8) after its first read: for small datasets that are
    read every epoch (the shapes data: 3000 x 48 KiB), it saves the PNG decoding, ~8% of a step.
    ``cache=None`` caches when all decoded images fit in ``cache_bytes`` (default 1 GiB).
    """

    def __init__(self, image_dir, ann_file, train: bool = False, flip_prob: float = 0.5,
                 generator=None, cache: bool | None = False, cache_bytes: int = CACHE_BYTES):
        self.image_dir, self.ann_file = Path(image_dir), Path(ann_file)
        if not self.ann_file.is_file():
            raise FileNotFoundError(f"COCO annotation file not found: {self.ann_file}")
        if not self.image_dir.is_dir():
            raise FileNotFoundError(f"image folder not found: {self.image_dir}")
        data = _read_json(self.ann_file)
        self.train, self.flip_prob = train, float(flip_prob)
        if isinstance(generator, int):
            generator = torch.Generator().manual_seed(generator)
        self.generator = generator
        self._categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        self._images = sorted(data["images"], key=lambda im: im["id"])
        if cache is None:
            cache = sum(3 * im["width"] * im["height"] for im in self._images) <= cache_bytes
        self._cache = {} if cache else None
        missing = [self.image_dir / im["file_name"] for im in self._images
                   if not (self.image_dir / im["file_name"]).is_file()]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise FileNotFoundError(f"image file not found: {missing[0]}{more}, listed in "
                                    f"{self.ann_file}")
        self.skipped: dict[str, int] = {}
        self.clipped = 0
        self._targets, annotations = self._build_targets(data)
        self.coco = self._make_coco({**data, "annotations": annotations})
        if self.skipped or self.clipped:
            parts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            warnings.warn(f"{self.ann_file.name}: skipped {sum(self.skipped.values())} "
                          f"annotation(s) ({parts or 'none'}); clipped {self.clipped} box(es) "
                          f"to the image", stacklevel=2)

    def _build_targets(self, data):
        """Per-image targets, and the cleaned annotations (the ground truth for COCOeval)."""
        by_image = {im["id"]: ([], []) for im in self._images}
        sizes = {im["id"]: (im["height"], im["width"]) for im in self._images}
        kept = []
        for ann in data["annotations"]:
            aid, iid, cat = ann["id"], ann["image_id"], ann["category_id"]
            if cat not in self._categories:
                raise ValueError(f"{self.ann_file}: annotation id {aid} has unknown category id "
                                 f"{cat} (known: {sorted(self._categories)})")
            if iid not in by_image:
                raise ValueError(f"{self.ann_file}: annotation id {aid} refers to unknown "
                                 f"image id {iid}")
            bbox = ann["bbox"]
            if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                    or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)):
                raise ValueError(f"{self.ann_file}: annotation id {aid} has a bad bbox {bbox!r} "
                                 f"(expected 4 finite numbers x, y, width, height)")
            if ann.get("iscrowd", 0):  # COCOeval treats crowd regions as "ignore": keep them there
                self._skip("iscrowd")
                kept.append({**ann, "area": ann.get("area", bbox[2] * bbox[3])})
                continue
            h, w = sizes[iid]
            x, y, bw, bh = bbox
            box = [min(max(x, 0), w), min(max(y, 0), h), min(max(x + bw, 0), w),
                   min(max(y + bh, 0), h)]
            if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
                self._skip("empty after clipping")
                continue
            if box != [x, y, x + bw, y + bh]:
                self.clipped += 1
            by_image[iid][0].append(box)
            by_image[iid][1].append(cat)
            xywh = [box[0], box[1], box[2] - box[0], box[3] - box[1]]
            kept.append({**ann, "bbox": xywh, "iscrowd": 0,
                         "area": ann.get("area", xywh[2] * xywh[3])})
        targets = [{"boxes": torch.tensor(b, dtype=torch.float32).reshape(-1, 4),
                    "labels": torch.tensor(lab, dtype=torch.int64), "image_id": int(iid)}
                   for iid, (b, lab) in by_image.items()]
        return targets, kept

    def _skip(self, reason):
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @staticmethod
    def _make_coco(data):
        from pycocotools.coco import COCO

        coco = COCO()
        coco.dataset = data
        with contextlib.redirect_stdout(io.StringIO()):
            coco.createIndex()
        return coco

    @property
    def class_names(self) -> dict[int, str]:
        """Category id -> name."""
        return dict(self._categories)

    @property
    def num_classes(self) -> int:
        """Classification columns a model needs: the largest category id + 1 (column 0 unused)."""
        return max(self._categories, default=0) + 1

    @property
    def image_ids(self) -> list[int]:
        return [im["id"] for im in self._images]

    def __len__(self) -> int:
        return len(self._images)

    def target(self, index: int) -> dict:
        """The (un-augmented) target of one image, without reading the image."""
        t = self._targets[index]
        return {"boxes": t["boxes"].clone(), "labels": t["labels"].clone(),
                "image_id": t["image_id"]}

    def load(self, index: int):
        """``(image, target)`` with no augmentation (what evaluation uses)."""
        path = self.image_dir / self._images[index]["file_name"]
        if self._cache is None:
            return load_image(path), self.target(index)
        if index not in self._cache:
            self._cache[index] = load_image(path, dtype=torch.uint8)
        return self._cache[index].float().div_(255.0), self.target(index)

    def __getitem__(self, index: int):
        image, target = self.load(index)
        if self.train and self.flip_prob > 0:
            # in a DataLoader worker, its own RNG (seeded by the DataLoader) instead of a copy
            # of the generator that every worker would share
            generator = self.generator if get_worker_info() is None else None
            if float(torch.rand((), generator=generator)) < self.flip_prob:
                image, target = hflip(image, target)
        return image, target


def hflip(image, target):
    """Mirror an image [C, H, W] and its xyxy boxes left-right: x -> W - x."""
    width = image.shape[-1]
    boxes = target["boxes"].clone()
    boxes[:, [0, 2]] = width - target["boxes"][:, [2, 0]]
    if image.device.type == "cpu" and not image.requires_grad:  # numpy: one thread, no stalls
        flipped = torch.from_numpy(np.ascontiguousarray(image.numpy()[..., ::-1]))
    else:
        flipped = image.flip(-1)
    return flipped, {**target, "boxes": boxes}


def collate_fn(batch):
    """A batch as ``(list of images, list of targets)``: what detection models take."""
    images, targets = zip(*batch) if batch else ((), ())
    return list(images), list(targets)


def object_sizes(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sizes, labels)`` of every object: size = sqrt(w * h) in pixels (reads no image)."""
    targets = [dataset.target(i) for i in range(len(dataset))]
    boxes = torch.cat([torch.zeros(0, 4)] + [t["boxes"] for t in targets])
    labels = torch.cat([torch.zeros(0, dtype=torch.int64)] + [t["labels"] for t in targets])
    wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0)
    return (wh[:, 0] * wh[:, 1]).sqrt(), labels


def shapes_datasets(root=None, quick: bool | None = None, flip_prob: float = 0.5, seed: int = 0,
                    progress: bool = True, cache: bool | None = None):
    """``(train, val)`` datasets of the shapes data, generated on first use (train flips).

    The training images are cached in memory (``cache``; None: when they fit in 1 GiB).
    """
    root = Path(root) if root is not None else ensure_shapes(quick, progress=progress)
    train = CocoDataset(root / "train", root / "instances_train.json", train=True,
                        flip_prob=flip_prob, generator=seed, cache=cache)
    val = CocoDataset(root / "val", root / "instances_val.json")
    return train, val
