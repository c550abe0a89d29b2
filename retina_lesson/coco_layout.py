"""Where the images and annotations of a COCO folder are: the standard layout or the course's.

The paper trains on COCO ``trainval35k`` and reports ``minival`` / test-dev (Sec. 5); the same
images are released today as ``train2017`` and ``val2017``, in this layout::

    COCO_ROOT/train2017/*.jpg    COCO_ROOT/annotations/instances_train2017.json
    COCO_ROOT/val2017/*.jpg      COCO_ROOT/annotations/instances_val2017.json

The course's own data (``make_shapes``) use ``train/``, ``val/``, ``instances_{train,val}.json``.
:func:`find_layout` recognises either; a folder that is neither gets one line naming what is
missing. :func:`coco_datasets` returns the ``(train, val)`` datasets of either.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# name -> {split: (image folder, annotation file)}, relative to the root
LAYOUTS = {
    "coco2017": {"train": ("train2017", "annotations/instances_train2017.json"),
                 "val": ("val2017", "annotations/instances_val2017.json")},
    "course": {"train": ("train", "instances_train.json"),
               "val": ("val", "instances_val.json")},
}
_HINT = ("expected the COCO 2017 layout (train2017/, val2017/, "
         "annotations/instances_train2017.json, annotations/instances_val2017.json) "
         "or the course's (train/, val/, instances_train.json, instances_val.json)")


@dataclass(frozen=True)
class CocoLayout:
    """The folders and files of one COCO folder: ``images[split]``, ``annotations[split]``."""

    root: Path
    name: str  # "coco2017" or "course"
    images: dict
    annotations: dict

    @property
    def standard(self) -> bool:
        """True for the COCO 2017 release's layout (real data: the paper's recipe applies)."""
        return self.name == "coco2017"


def _missing(root: Path, layout: dict, splits) -> list[str]:
    out = []
    for split in splits:
        folder, ann = layout[split]
        if not (root / folder).is_dir():
            out.append(folder + "/")
        if not (root / ann).is_file():
            out.append(ann)
    return out


def find_layout(root, splits=("train", "val")) -> CocoLayout:
    """The layout of ``root`` for the ``splits`` needed (e.g. ``("val",)`` to evaluate only).

    Raises ``FileNotFoundError`` with one line: the folder itself is missing, or which folders and
    files of the layout it resembles most are missing.
    """
    root = Path(root)
    splits = tuple(splits)
    unknown = [s for s in splits if s not in ("train", "val")]
    if unknown or not splits:
        raise ValueError(f"splits must be 'train' and/or 'val', got {splits!r}")
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise FileNotFoundError(f"COCO folder {root} {what}; {_HINT}")
    missing = {name: _missing(root, layout, splits) for name, layout in LAYOUTS.items()}
    for name, gaps in missing.items():
        if not gaps:
            return CocoLayout(root, name, {s: root / LAYOUTS[name][s][0] for s in splits},
                              {s: root / LAYOUTS[name][s][1] for s in splits})
    # the layout with the fewest missing parts is the one meant (ties: the standard one)
    name = min(missing, key=lambda n: len(missing[n]))
    _raise(root, name, missing[name], parts=2 * len(splits))


def _raise(root: Path, name: str, gaps: list[str], parts: int):
    if len(gaps) == parts:  # nothing of either layout is there
        raise FileNotFoundError(f"{root} holds no COCO data; {_HINT}")
    kind = "COCO 2017" if name == "coco2017" else "course"
    raise FileNotFoundError(f"{root} is not a complete COCO folder: the {kind} layout lacks "
                            f"{', '.join(gaps)}; {_HINT}")


def split_files(root, split: str) -> tuple[Path, Path]:
    """``(image folder, annotation file)`` of one split: ``train`` and ``val`` in either layout
    (:func:`find_layout`), any other name in the course's (``SPLIT/``, ``instances_SPLIT.json``)."""
    root = Path(root)
    if split in ("train", "val"):
        layout = find_layout(root, splits=(split,))
        return layout.images[split], layout.annotations[split]
    return root / split, root / f"instances_{split}.json"


def coco_datasets(root, flip_prob: float = 0.5, seed: int = 0, cache: bool | None = None):
    """``(train, val)`` :class:`~retina_lesson.data.CocoDataset` s of a folder in either layout.

    The training set flips images horizontally with probability ``flip_prob``, the paper's only
    augmentation (Sec. 4.1); ``cache`` as in ``CocoDataset`` (None: when the images fit in 1 GiB).
    """
    from .data import CocoDataset

    layout = find_layout(root)
    train = CocoDataset(layout.images["train"], layout.annotations["train"], train=True,
                        flip_prob=flip_prob, generator=seed, cache=cache)
    val = CocoDataset(layout.images["val"], layout.annotations["val"])
    return train, val
