"""The course's real photograph (NASA astronaut portrait, public domain) and its hand-made boxes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PHOTO = DATA_DIR / "astronaut.jpg"
PHOTO_ANNOTATIONS = DATA_DIR / "astronaut.json"


def load_photo():
    """Return ``(image, target, class_names)``.

    ``image`` is a float tensor [3, 512, 512] in [0, 1]; ``target`` has ``"boxes"`` [N, 4] xyxy and
    ``"labels"`` [N] (COCO category ids); ``class_names`` maps id -> name.
    """
    for path in (PHOTO, PHOTO_ANNOTATIONS):
        if not path.is_file():
            raise FileNotFoundError(f"course photo file missing: {path} (is the repository complete?)")
    image = torch.from_numpy(np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32) / 255.0)
    image = image.permute(2, 0, 1).contiguous()
    coco = json.loads(PHOTO_ANNOTATIONS.read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    anns = coco["annotations"]
    boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)],
                         dtype=torch.float32).reshape(-1, 4)
    labels = torch.tensor([a["category_id"] for a in anns], dtype=torch.int64)
    return image, {"boxes": boxes, "labels": labels}, names
