"""Checks for the exercises of lesson 12 (anchor debugging: objects without a positive anchor)."""
from __future__ import annotations

import torch

from ..matching import match_anchors
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_unmatched_share", "check_positives_per_level"]


def _three_zone(iou, fg_iou=0.5):
    """The package's matching, three-zone rule only (no low-quality matches): LongTensor [N]."""
    return match_anchors(iou, fg_iou=fg_iou, bg_iou=min(0.4, fg_iou), allow_low_quality=False)


# --- exercise 1: the share of objects that get no positive anchor -------------------------------

def _unmatched_share(iou, fg_iou, strict=False):
    """Share of the objects (rows) that no anchor is assigned to (as ``debug.summarize``)."""
    matches = _three_zone(iou, fg_iou)
    if strict:  # the mistake: IoU > fg_iou
        matches = torch.where(iou.max(dim=0).values > fg_iou, matches, -1)
    has_positive = torch.zeros(iou.shape[0], dtype=torch.bool)
    has_positive[matches[matches >= 0]] = True
    return float((~has_positive).float().mean())


def _best_iou_share(iou, fg_iou):            # forgets that an anchor goes to its best object
    return float((iou.max(dim=1).values < fg_iou).float().mean())


def _iou_matrix(m: int, n: int, g: torch.Generator) -> torch.Tensor:
    """A random [m, n] IoU matrix: mostly small values, a few anchors near each object."""
    iou = torch.rand(m, n, generator=g, dtype=torch.float64) ** 4 * 0.45
    pool = torch.randperm(n, generator=g)[:3 * m]   # near anchors: neighbours compete for some
    for j in range(m):
        near = pool[torch.randint(0, len(pool), (3,), generator=g)]
        iou[j, near] = 0.25 + 0.6 * torch.rand(3, generator=g, dtype=torch.float64)
    return iou.float()


def _share_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(12)
    return [
        Case("one object, one anchor at IoU 0.7", (t([[0.7]]), 0.5)),
        Case("IoU exactly fg_iou = 0.5 makes a positive (IoU >= fg_iou)",
             (t([[0.5, 0.3, 0.0, 0.0, 0.1], [0.2, 0.45, 0.0, 0.1, 0.0],
                 [0.0, 0.0, 0.9, 0.0, 0.0], [0.0, 0.1, 0.0, 0.7, 0.2]]), 0.5)),
        Case("3 objects, 5 anchors: one object's best anchor reaches only 0.45",
             (t([[0.8, 0.6, 0.1, 0.0, 0.0], [0.0, 0.1, 0.45, 0.3, 0.0],
                 [0.0, 0.0, 0.0, 0.2, 0.9]]), 0.5)),
        Case("object 1's only good anchor (0.6) overlaps object 0 more (0.8): the anchor goes to "
             "object 0", (t([[0.8, 0.1, 0.0], [0.6, 0.2, 0.3]]), 0.5)),
        Case("a stricter fg_iou = 0.6", (t([[0.55, 0.62, 0.1], [0.58, 0.2, 0.59]]), 0.6)),
        Case("no object reaches fg_iou", (t([[0.3, 0.49], [0.1, 0.2], [0.0, 0.4]]), 0.5)),
        Case("6 random objects, 200 anchors", (_iou_matrix(6, 200, g), 0.5)),
        Case("20 random objects, 1000 anchors", (_iou_matrix(20, 1000, g), 0.5)),
        Case("20 random objects, 1000 anchors, fg_iou = 0.6", (_iou_matrix(20, 1000, g), 0.6)),
    ]


def check_unmatched_share(fn) -> Verdict:
    """Lesson 12: ``fn(iou, fg_iou)`` -> the share of objects with no positive anchor (a float).

    ``iou`` is [M objects, N anchors]. An anchor is positive for the object it is matched to: its
    best object, when that IoU is >= ``fg_iou`` (the three-zone rule, no low-quality matches), as
    ``matching.match_anchors(..., allow_low_quality=False)`` and ``debug.summarize``'s
    ``unmatched / objects`` count it.
    """
    hints = [
        Mistake("an anchor is matched to its own best object: an anchor with IoU >= fg_iou with "
                "this object but higher IoU with another one is the other object's positive. Match "
                "first (match_anchors(iou, fg_iou, 0.4, allow_low_quality=False)), then count the "
                "objects that no anchor is matched to", _best_iou_share),
        Mistake("iou is [objects, anchors]: take the best over the anchors of each object "
                "(dim=1, one value per row), not over the objects",
                lambda iou, fg: float((iou.max(dim=0).values < fg).float().mean())),
        Mistake("an anchor at exactly fg_iou is positive: IoU >= fg_iou, not >",
                lambda iou, fg: _unmatched_share(iou, fg, strict=True)),
        Mistake("a share of the objects: divide by the number of objects (rows), not of anchors",
                lambda iou, fg: float((iou.max(dim=1).values < fg).sum() / iou.shape[1])),
        Mistake("count objects, not (object, anchor) pairs: an object is unmatched when none of "
                "its anchors is positive", lambda iou, fg: float((iou < fg).float().mean())),
        Mistake("a share, not a count: divide by the number of objects",
                lambda iou, fg: float((iou.max(dim=1).values < fg).sum())),
        Mistake("that is the anchor recall (objects WITH a positive); the exercise asks for the "
                "share WITHOUT one", lambda iou, fg: 1 - _unmatched_share(iou, fg)),
    ]
    return run_check("unmatched_share", fn, _unmatched_share, _share_cases(), hints=hints,
                     arg_names=("iou", "fg_iou"))


# --- exercise 2: the positive anchors of each pyramid level --------------------------------------

def _positives_per_level(iou, level, num_levels):
    """Positive anchors (three-zone rule, fg_iou 0.5) per level, as ``debug.positives_per_level``."""
    matches = _three_zone(iou)
    return torch.bincount(level[matches >= 0], minlength=num_levels)


def _level_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(13)
    lv = t([0, 0, 0, 1, 1, 2])
    random_level = torch.sort(torch.randint(0, 5, (300,), generator=g)).values
    random_level[-1] = 4
    return [
        Case("2 objects on 6 anchors of 3 levels: object 0 on level 0, object 1 on level 1",
             (t([[0.7, 0.6, 0.1, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.8, 0.3, 0.2]]), lv, 3)),
        Case("one anchor with IoU >= 0.5 with two objects is ONE positive (of its best object)",
             (t([[0.6, 0.1, 0.0, 0.7, 0.0, 0.0], [0.55, 0.0, 0.0, 0.1, 0.0, 0.3]]), lv, 3)),
        Case("IoU exactly 0.5 is positive",
             (t([[0.5, 0.2, 0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.1, 0.49, 0.0]]), lv, 3)),
        Case("object 1's best anchor reaches only 0.45: no positive for it (the low-quality rule "
             "is not counted)",
             (t([[0.9, 0.6, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.1, 0.45, 0.2, 0.0]]), lv, 3)),
        Case("5 levels, no positive on the last two: they count 0",
             (t([[0.9, 0.6, 0.0, 0.0, 0.0, 0.0]]), lv, 5)),
        Case("no positive anchor at all: zeros", (t([[0.3, 0.2, 0.1, 0.0, 0.4, 0.0]]), lv, 3)),
        Case("5 random objects, 300 anchors on 5 levels",
             (_iou_matrix(5, 300, g), random_level, 5)),
        Case("12 random objects, 300 anchors on 5 levels",
             (_iou_matrix(12, 300, g), random_level, 5)),
    ]


def check_positives_per_level(fn) -> Verdict:
    """Lesson 12: ``fn(iou, level, num_levels)`` -> LongTensor [num_levels]: the positive anchors of
    each pyramid level, as ``debug.positives_per_level`` sums them over a dataset's objects.

    ``iou`` is [M objects, N anchors], ``level`` [N] the level of each anchor (0 = P3). An anchor is
    positive when its best IoU is >= 0.5 (the three-zone rule alone: no low-quality matches), and
    it is positive once, for its best object.
    """
    hints = [
        Mistake("an anchor is positive once, for its best object: count anchors, not (object, "
                "anchor) pairs with IoU >= 0.5",
                lambda iou, lv, n: torch.bincount(lv[(iou >= 0.5).nonzero()[:, 1]], minlength=n)),
        Mistake("the three-zone rule alone: match_anchors(..., allow_low_quality=False); the "
                "low-quality rule's extra matches are not positives of the rule",
                lambda iou, lv, n: torch.bincount(lv[match_anchors(iou) >= 0], minlength=n)),
        Mistake("IoU exactly 0.5 is positive: >=, not >",
                lambda iou, lv, n: torch.bincount(lv[iou.max(dim=0).values > 0.5], minlength=n)),
        Mistake("bincount(..., minlength=num_levels): a level without positives still needs its 0",
                lambda iou, lv, n: torch.bincount(lv[_three_zone(iou) >= 0])),
        Mistake("that counts each object's best anchor by level; the exercise counts every "
                "positive anchor",
                lambda iou, lv, n: torch.bincount(lv[iou.argmax(dim=1)], minlength=n)),
    ]
    return run_check("positives_per_level", fn, _positives_per_level, _level_cases(), hints=hints,
                     arg_names=("iou", "level", "num_levels"))
