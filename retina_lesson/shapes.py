"""A synthetic detection dataset, written in COCO format: coloured shapes on noisy backgrounds.

Four classes (COCO-style category ids 1..4: circle, rectangle, triangle, cross) drawn with
varied colours and sizes spanning small to large (``sqrt(w*h)`` log-uniform between
``size_range`` fractions of the image side, so every pyramid level gets objects), on random
gradients + pixel noise + distractor strokes. Objects may overlap, but never with IoU above
``max_iou``, and larger shapes are drawn first with at most ``max_covered`` of their box under
smaller ones, so every object stays mostly visible. About ``empty_fraction`` of the images contain
no object: background-only images are normal data. Easier variants with the same objects in the
same places: ``distractors=False`` (no strokes), ``regular_shapes=True`` (isosceles triangles and
centred plus signs instead of apexes anywhere and arms of varied thickness).

Every image is drawn from its own seed (seed, split, index), so the files - and the JSON, byte
for byte - depend only on the configuration, which is stored in the JSON ``info`` field. A call
whose configuration matches the files on disk returns at once; another configuration regenerates.
Annotation ``area`` is the box area ``w * h`` (COCOeval uses it for the small / medium / large
split: small < 32², large > 96²).
"""
from __future__ import annotations

import colorsys
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["CLASSES", "GENERATOR_VERSION", "QUICK_SIZES", "FULL_SIZES", "shapes_config",
           "make_shapes", "shapes_root", "ensure_shapes"]

CLASSES = ("circle", "rectangle", "triangle", "cross")  # category ids 1, 2, 3, 4
GENERATOR_VERSION = 1
SPLITS = ("train", "val")
FULL_SIZES = {"num_train": 3000, "num_val": 200}  # the training lesson's dataset
QUICK_SIZES = {"num_train": 200, "num_val": 50}   # RETINA_LESSON_QUICK=1
_SS = 2  # draw at 2x and downsample: smooth (anti-aliased) edges


def shapes_config(num_train=3000, num_val=200, image_size=128, seed=0, size_range=(0.07, 0.6),
                  max_objects=6, max_iou=0.5, max_covered=0.5, empty_fraction=0.05,
                  distractors=True, regular_shapes=False) -> dict:
    """The full configuration of a dataset (what ``info.config`` of its JSON files holds).

    ``distractors=False`` leaves out the background strokes and ``regular_shapes=True`` draws
    isosceles triangles and centred plus signs: easier variants with the same objects in the same
    places (the README measures what each costs the default training run).
    """
    if image_size < 32:
        raise ValueError(f"image_size must be at least 32 pixels, got {image_size}")
    lo, hi = size_range
    if not 0 < lo < hi <= 1:
        raise ValueError(f"size_range must be fractions 0 < min < max <= 1, got {size_range}")
    return {"generator": "retina_lesson.shapes", "version": GENERATOR_VERSION,
            "num_train": int(num_train), "num_val": int(num_val), "image_size": int(image_size),
            "seed": int(seed), "size_range": [float(lo), float(hi)],
            "max_objects": int(max_objects),
            "max_iou": float(max_iou), "max_covered": float(max_covered),
            "empty_fraction": float(empty_fraction), "distractors": bool(distractors),
            "regular_shapes": bool(regular_shapes), "classes": list(CLASSES)}


def _iou(a, b) -> float:
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(iw, 0) * max(ih, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _visible_enough(boxes, max_covered) -> bool:
    """No box more than ``max_covered`` hidden by the smaller boxes drawn over it (upper bound)."""
    boxes = sorted(boxes, key=lambda b: -b[2] * b[3])  # the drawing order
    for i, a in enumerate(boxes):
        covered = 0
        for b in boxes[i + 1:]:
            iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            covered += max(iw, 0) * max(ih, 0)
        if covered > max_covered * a[2] * a[3]:
            return False
    return True


def _colour(rng, sat, val):
    return np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val)))


def _place_objects(rng, cfg):
    """Sample (category, [x, y, w, h]) for one image; boxes are integers inside the image.

    A position is tried up to 30 times per object; an object that finds no place is dropped.
    """
    size = cfg["image_size"]
    if rng.random() < cfg["empty_fraction"]:
        return []
    lo, hi = (math.log(f * size) for f in cfg["size_range"])
    objects = []
    for _ in range(int(rng.integers(1, cfg["max_objects"] + 1))):
        cat = int(rng.integers(1, len(CLASSES) + 1))
        for _attempt in range(30):
            s = math.exp(rng.uniform(lo, hi))                      # sqrt(w * h)
            r = 1.0 if cat == 1 else math.exp(rng.uniform(math.log(0.5), math.log(2.0)))  # h / w
            w = int(np.clip(round(s / math.sqrt(r)), 4, size))
            h = int(np.clip(round(s * math.sqrt(r)), 4, size))
            box = [int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1)), w, h]
            if all(_iou(box, b) <= cfg["max_iou"] for _, b in objects) and \
                    _visible_enough([b for _, b in objects] + [box], cfg["max_covered"]):
                objects.append((cat, box))
                break
    return objects


def _draw_shape(draw, rng, cat, box, fill, regular=False):
    """Draw one shape filling the box exactly (at the supersampled scale).

    ``regular`` draws isosceles triangles and centred plus signs; the same random numbers are
    drawn either way, so both variants of a dataset have the same objects in the same places.
    """
    x, y, w, h = (v * _SS for v in box)
    x2, y2 = x + w - 1, y + h - 1
    if cat == 1:
        draw.ellipse([x, y, x2, y2], fill=fill)
    elif cat == 2:
        draw.rectangle([x, y, x2, y2], fill=fill)
    elif cat == 3:  # apex anywhere on one side (regular: centred), base on the opposite side
        apex = rng.uniform(0, 1)
        pts = np.array([[0.5 if regular else apex, 0.0], [0.0, 1.0], [1.0, 1.0]])
        k = int(rng.integers(4))  # 4 orientations
        if k & 1:
            pts[:, 1] = 1 - pts[:, 1]
        if k & 2:
            pts = pts[:, ::-1]
        draw.polygon([(x + px * (w - 1), y + py * (h - 1)) for px, py in pts], fill=fill)
    else:  # a plus: two bars, arm thickness and crossing point vary (regular: 1/3, centred)
        tw, th = rng.uniform(0.25, 0.45, size=2)
        cx, cy = rng.uniform(0.35, 0.65, size=2)
        if regular:
            tw = th = 1 / 3
            cx = cy = 0.5
        bx = x + (cx - tw / 2) * w
        by = y + (cy - th / 2) * h
        draw.rectangle([x, by, x2, by + th * h - 1], fill=fill)
        draw.rectangle([bx, y, bx + tw * w - 1, y2], fill=fill)


def _render(rng, cfg, objects) -> np.ndarray:
    """Gradient background, distractor strokes, shapes (large first), then noise: uint8 HWC."""
    size, big = cfg["image_size"], cfg["image_size"] * _SS
    c1, c2 = _colour(rng, (0, 0.5), (0.15, 0.85)), _colour(rng, (0, 0.5), (0.15, 0.85))
    angle = rng.uniform(0, 2 * math.pi)
    ramp = np.linspace(0.0, 1.0, big, dtype=np.float32)
    t = ramp[None, :] * math.cos(angle) + ramp[:, None] * math.sin(angle)
    t = (t - t.min()) / (t.max() - t.min())
    background = np.empty((big, big, 3), dtype=np.float32)
    for ch in range(3):  # per channel: much faster than broadcasting over a last axis of 3
        np.multiply(t, np.float32((c2[ch] - c1[ch]) * 255), out=background[..., ch])
        background[..., ch] += np.float32(c1[ch] * 255)
    img = Image.fromarray((background + 0.5).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 7))):  # distractors: thin lines and arcs
        colour = tuple(int(v) for v in (_colour(rng, (0, 1), (0.2, 1)) * 255).round())
        x0, y0 = rng.uniform(0, big, size=2)
        line = arc = None
        if rng.random() < 0.7:
            length, a = rng.uniform(0.2, 0.8) * big, rng.uniform(0, 2 * math.pi)
            line = [(x0, y0), (x0 + length * math.cos(a), y0 + length * math.sin(a))]
        else:
            r = rng.uniform(0.1, 0.4) * big
            start = rng.uniform(0, 360)
            arc = ([x0 - r, y0 - r, x0 + r, y0 + r], start, start + rng.uniform(60, 240))
        width = int(rng.integers(1, 4))  # drawn or not, the same random numbers are used
        if cfg["distractors"] and line:
            draw.line(line, fill=colour, width=width)
        elif cfg["distractors"]:
            draw.arc(*arc, fill=colour, width=width)
    for cat, box in sorted(objects, key=lambda o: -o[1][2] * o[1][3]):
        cy, cx = (box[1] * 2 + box[3]) * _SS // 2, (box[0] * 2 + box[2]) * _SS // 2
        centre = background[cy, cx] / 255
        for _ in range(10):  # keep the shape visible against the background under it
            colour = _colour(rng, (0.55, 1.0), (0.55, 1.0))
            if np.linalg.norm(colour - centre) > 0.35:
                break
        _draw_shape(draw, rng, cat, box, tuple(int(v) for v in (colour * 255).round()),
                    cfg["regular_shapes"])
    small = np.asarray(img.reduce(_SS), dtype=np.float32)
    noise = rng.standard_normal(size=(size, size, 3), dtype=np.float32) * rng.uniform(2.0, 10.0)
    return np.clip(small + noise + 0.5, 0, 255).astype(np.uint8)


def _coco_json(cfg, split, images, annotations) -> str:
    info = {"description": f"retina_lesson synthetic shapes, {split} split", "version":
            str(GENERATOR_VERSION), "split": split, "config": cfg}
    categories = [{"id": i + 1, "name": n, "supercategory": "shape"} for i, n in enumerate(CLASSES)]
    data = {"info": info, "licenses": [], "images": images, "annotations": annotations,
            "categories": categories}
    return json.dumps(data, separators=(",", ":"))


def _is_complete(root: Path, cfg) -> bool:
    for split in SPLITS:
        path = root / f"instances_{split}.json"
        if not path.is_file():
            return False
        try:
            data = json.loads(path.read_text())
            if data["info"]["config"] != cfg:
                return False
            if not all((root / split / im["file_name"]).is_file() for im in data["images"]):
                return False
        except (ValueError, KeyError, TypeError):
            return False
    return True


def _check_ours(root: Path):
    """Refuse to overwrite a folder that holds some other COCO dataset."""
    for split in SPLITS:
        path = root / f"instances_{split}.json"
        try:
            config = json.loads(path.read_text())["info"]["config"]
            ours = config["generator"] == "retina_lesson.shapes"
        except FileNotFoundError:
            continue
        except (ValueError, KeyError, TypeError):
            ours = False
        if not ours:
            raise FileExistsError(f"{path} exists and was not written by make_shapes; "
                                  f"choose another root")


def _write_image(job):
    """Draw image ``i`` of a split from its own seed, write its PNG; return its objects."""
    cfg, split_id, folder, i = job
    rng = np.random.default_rng([cfg["seed"], split_id, i])
    objects = _place_objects(rng, cfg)
    name = f"{i + 1:06d}.png"
    tmp = folder / f"{name}.{os.getpid()}.tmp"  # atomic: another process may read it
    Image.fromarray(_render(rng, cfg, objects)).save(tmp, format="PNG", compress_level=1)
    tmp.replace(folder / name)
    return objects


def make_shapes(root="data/shapes", num_train=3000, num_val=200, image_size=128, seed=0,
                progress=True, workers: int | None = None, **options) -> Path:
    """Write the dataset: ``root/{train,val}/*.png`` and ``root/instances_{train,val}.json``.

    ``options`` go to :func:`shapes_config` (``size_range``, ``max_objects``, ``max_iou``,
    ``empty_fraction``). Returns ``root``; does nothing when the files already match.
    ``workers`` processes draw the images (default: one per CPU core); every image comes from its
    own seed, so the files do not depend on how many.
    """
    from .progress import tqdm

    root = Path(root)
    cfg = shapes_config(num_train, num_val, image_size, seed, **options)
    if _is_complete(root, cfg):
        return root
    _check_ours(root)
    bar = tqdm(total=num_train + num_val, desc=f"shapes -> {root}", disable=not progress)
    workers = min(os.cpu_count() or 1, 8) if workers is None else workers
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        for split_id, split in enumerate(SPLITS):
            folder = root / split
            folder.mkdir(parents=True, exist_ok=True)
            jobs = [(cfg, split_id, folder, i) for i in range(cfg[f"num_{split}"])]
            drawn = pool.map(_write_image, jobs, chunksize=32) if pool else map(_write_image, jobs)
            images, annotations = [], []
            for i, objects in enumerate(drawn):  # in index order: the JSON is the same every time
                images.append({"id": i + 1, "file_name": f"{i + 1:06d}.png", "width": image_size,
                               "height": image_size})
                for cat, box in objects:
                    annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                        "category_id": cat, "bbox": box, "area": box[2] * box[3],
                                        "iscrowd": 0})
                bar.update(1)
            for old in folder.glob("[0-9]" * 6 + ".png"):  # left over from a larger configuration
                if int(old.stem) > cfg[f"num_{split}"]:
                    old.unlink()
            tmp = root / f"instances_{split}.json.{os.getpid()}.tmp"  # written last: marks completion
            tmp.write_text(_coco_json(cfg, split, images, annotations))
            tmp.replace(root / f"instances_{split}.json")
    finally:
        if pool is not None:
            pool.shutdown()
    bar.close()
    return root


def shapes_root(quick: bool | None = None, base=None) -> Path:
    """Folder of the full dataset (``data/shapes``) or of the quick one (``data/shapes_quick``)."""
    from . import is_quick
    from .photo import DATA_DIR

    quick = is_quick() if quick is None else quick
    return Path(base or DATA_DIR) / ("shapes_quick" if quick else "shapes")


def ensure_shapes(quick: bool | None = None, root=None, progress=True, **overrides) -> Path:
    """Generate the course's dataset on first use (quick: 200/50 images, full: 3000/200)."""
    from . import is_quick

    quick = is_quick() if quick is None else quick
    kwargs = {**(QUICK_SIZES if quick else FULL_SIZES), **overrides}
    return make_shapes(root or shapes_root(quick), progress=progress, **kwargs)
