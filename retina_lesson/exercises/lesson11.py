"""Checks for the exercises of lesson 11 (evaluation: COCO AP, true and false positives)."""
from __future__ import annotations

import numpy as np
import torch

from ..evaluate import match_detections
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_interpolated_ap", "check_detection_tp"]

# COCOeval's recall thresholds, made exactly as pycocotools makes them (params.recThrs)
_REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1)


# --- exercise 1: the 101-point interpolated AP of one precision-recall curve ---------------------

def _sampled(recall, precision, thresholds=_REC_THRS, envelope=True, side="left", missing="zero"):
    """COCOeval.accumulate for one curve, with switches for the usual mistakes."""
    rc = np.asarray(torch.as_tensor(recall, dtype=torch.float64))
    pr = np.asarray(torch.as_tensor(precision, dtype=torch.float64)).copy()
    if envelope:
        pr = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
    inds = np.searchsorted(rc, thresholds, side=side)
    reached = inds < len(pr)
    q = np.zeros(len(thresholds))
    q[reached] = pr[inds[reached]]
    if missing == "last" and len(pr):
        q[~reached] = pr[-1]
    if missing == "dropped":
        return float(q[reached].mean()) if reached.any() else 0.0
    return float(q.mean())


def _interpolated_ap(recall, precision):
    """COCO's AP of one curve: the envelope, read at recalls 0, 0.01, ..., 1, averaged."""
    return _sampled(recall, precision)


def _area_raw(recall, precision):
    rc = np.concatenate([[0.0], np.asarray(torch.as_tensor(recall, dtype=torch.float64))])
    pr = np.asarray(torch.as_tensor(precision, dtype=torch.float64))
    return float((np.diff(rc) * pr).sum())


def _area_trapezoid(recall, precision):
    rc = np.asarray(torch.as_tensor(recall, dtype=torch.float64))
    pr = np.asarray(torch.as_tensor(precision, dtype=torch.float64))
    return float(((rc[1:] - rc[:-1]) * (pr[1:] + pr[:-1]) / 2).sum()) if len(rc) > 1 else 0.0


def _area_envelope(recall, precision):
    pr = np.asarray(torch.as_tensor(precision, dtype=torch.float64))
    env = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
    return _area_raw(recall, torch.as_tensor(env.copy()))


def _curve(hits, n_objects):
    """(recall, precision) of detections ranked by score, as COCOeval computes them."""
    hit = np.asarray(hits, dtype=bool)
    tp, fp = np.cumsum(hit), np.cumsum(~hit)
    recall = tp / n_objects
    precision = tp / (tp + fp + np.spacing(1))
    return torch.tensor(recall, dtype=torch.float64), torch.tensor(precision, dtype=torch.float64)


def _ap_cases() -> list[Case]:
    g = torch.Generator().manual_seed(11)
    cases = [
        Case("a perfect ranking: 4 correct detections find all 4 objects (AP 1)",
             _curve([1, 1, 1, 1], 4)),
        Case("recall stops at 0.5: the thresholds 0.51 ... 1 are never reached and count 0",
             _curve([1, 0, 1], 4)),
        Case("a false positive, then correct detections again: the precision curve goes up",
             _curve([1, 0, 1, 1], 4)),
        Case("recall exactly 0.5 = a threshold, then false positives: read the precision at "
             "recall 0.5 itself", _curve([1, 1, 0, 0, 1, 1], 4)),
        Case("the best-scored detection is a false positive (the curve starts at recall 0)",
             _curve([0, 1, 1], 2)),
        Case("no detections at all (an empty curve): AP 0",
             (torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64))),
    ]
    for n_objects, n_dets in ((7, 12), (9, 20), (11, 9), (13, 30)):
        # correct detections more likely at the top of the ranking, as from a real detector
        p_hit = torch.linspace(0.9, 0.2, n_dets, dtype=torch.float64)
        hits = (torch.rand(n_dets, generator=g, dtype=torch.float64) < p_hit).tolist()
        while sum(hits) > n_objects:                  # never more hits than objects
            hits[hits.index(True)] = False
        cases.append(Case(f"a random curve: {n_dets} detections, {n_objects} objects",
                          _curve(hits, n_objects)))
    return cases


def check_interpolated_ap(fn) -> Verdict:
    """Lesson 11: ``fn(recall, precision)`` must return COCO's AP of one precision-recall curve.

    ``recall`` and ``precision`` are float64 [D] tensors, one value per detection ranked by score
    (recall never decreases). COCO (pycocotools' ``COCOeval.accumulate``) makes the precision
    non-increasing from the right, reads it at the 101 recall thresholds 0, 0.01, ..., 1 (the
    first detection whose recall is >= the threshold: ``searchsorted(side="left")``; 0 where the
    recall never gets there) and averages the 101 values.
    """
    hints = [
        Mistake("make the precision non-increasing first: at each recall take the best precision "
                "at that recall or beyond (a cumulative max from the right), then sample it",
                lambda r, p: _sampled(r, p, envelope=False)),
        Mistake("COCO samples 101 recall thresholds 0, 0.01, ..., 1, not the 11 of PASCAL VOC 2007",
                lambda r, p: _sampled(r, p, thresholds=np.linspace(0, 1, 11))),
        Mistake("that is the area under the raw curve; COCO averages the precision envelope at 101 "
                "recall thresholds", _area_raw),
        Mistake("that is the area under the raw curve (trapezoids); COCO averages the precision "
                "envelope at 101 recall thresholds", _area_trapezoid),
        Mistake("that is the exact area under the envelope (PASCAL VOC 2010+); COCO reads the "
                "envelope at 101 recall thresholds and averages them", _area_envelope),
        Mistake("a recall threshold that the curve never reaches counts as precision 0, not as the "
                "last precision", lambda r, p: _sampled(r, p, missing="last")),
        Mistake("a recall threshold that the curve never reaches still counts, as 0: average over "
                "all 101 thresholds", lambda r, p: _sampled(r, p, missing="dropped")),
        Mistake("at a threshold equal to a recall of the curve, read the precision at that recall: "
                "the first recall >= the threshold (searchsorted side='left', as pycocotools)",
                lambda r, p: _sampled(r, p, side="right")),
    ]
    return run_check("interpolated_ap", fn, _interpolated_ap, _ap_cases(), hints=hints,
                     arg_names=("recall", "precision"))


# --- exercise 2: true and false positives of one image (one class) ------------------------------

def _detection_tp(det_boxes, det_scores, gt_boxes, iou_threshold):
    """The package's greedy COCO matching (``evaluate.match_detections``), one class."""
    det_labels = torch.zeros(len(det_boxes), dtype=torch.int64)
    gt_labels = torch.zeros(len(gt_boxes), dtype=torch.int64)
    return match_detections(det_boxes, det_scores, det_labels, gt_boxes, gt_labels,
                            iou_threshold)[0]


def _greedy(det_boxes, det_scores, gt_boxes, iou_threshold, order="score", once=True,
            strict=False, skip_taken=True, last_of_ties=True):
    """COCOeval's matching with switches for the usual mistakes."""
    from ..boxes import box_iou

    det_boxes = torch.as_tensor(det_boxes, dtype=torch.float64).reshape(-1, 4)
    gt_boxes = torch.as_tensor(gt_boxes, dtype=torch.float64).reshape(-1, 4)
    scores = torch.as_tensor(det_scores, dtype=torch.float64)
    iou = box_iou(det_boxes, gt_boxes)
    tp = torch.zeros(len(det_boxes), dtype=torch.bool)
    found = torch.zeros(len(gt_boxes), dtype=torch.bool)
    if order == "score":
        ranked = torch.argsort(scores, descending=True, stable=True).tolist()
    elif order == "input":
        ranked = list(range(len(det_boxes)))
    else:  # equal scores in reverse input order
        n = len(det_boxes)
        ranked = [n - 1 - k for k in torch.argsort(scores.flip(0), descending=True,
                                                    stable=True).tolist()]
    for d in ranked:
        if len(gt_boxes) == 0:
            break
        row = iou[d].clone()
        if once and skip_taken:
            row[found] = -1
        best = (len(row) - 1 - int(row.flip(0).argmax())) if last_of_ties else int(row.argmax())
        ok = row[best] > iou_threshold if strict else row[best] >= iou_threshold
        if once and not skip_taken and found[best]:
            ok = False
        if ok:
            tp[d], found[best] = True, True
    return tp


def _in_score_order(det_boxes, det_scores, gt_boxes, iou_threshold):
    tp = _detection_tp(det_boxes, det_scores, gt_boxes, iou_threshold)
    return tp[torch.argsort(torch.as_tensor(det_scores), descending=True, stable=True)]


def _tp_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(12)
    sq = [0.0, 0, 10, 10]
    objects = torch.rand(5, 2, generator=g) * 80
    objects = torch.cat([objects, objects + 10 + torch.rand(5, 2, generator=g) * 20], dim=1)
    jitter = (torch.rand(10, 4, generator=g) - 0.5) * 8
    dets = objects[torch.arange(10) % 5] + jitter
    dets = torch.cat([dets[:, :2], torch.maximum(dets[:, 2:], dets[:, :2] + 2)], dim=1)
    return [
        Case("one detection exactly on one object", (t([sq]), t([0.9]), t([sq]), 0.5)),
        Case("IoU exactly 0.5 is a match (IoU >= the threshold)",
             (t([[0.0, 0, 20, 10]]), t([0.9]), t([sq]), 0.5)),
        Case("3 detections, not sorted by score: a hit (0.3), a false positive (0.9), a hit (0.6)",
             (t([sq, [50.0, 50, 60, 60], [20.0, 0, 30, 10]]), t([0.3, 0.9, 0.6]),
              t([sq, [20.0, 0, 30, 10]]), 0.5)),
        Case("two detections of one object, the lower score first in the list: the higher score "
             "takes the object, the other is a false positive",
             (t([[1.0, 0, 11, 10], sq]), t([0.6, 0.9]), t([sq]), 0.5)),
        Case("the second detection's best object is taken already: it takes the next unmatched "
             "object with IoU >= 0.5 (0.54)",
             (t([sq, [1.0, 0, 11, 10]]), t([0.9, 0.8]), t([sq, [4.0, 0, 14, 10]]), 0.5)),
        Case("no objects in the image: every detection is a false positive",
             (t([sq, [20.0, 20, 30, 30]]), t([0.9, 0.3]), torch.zeros(0, 4), 0.5)),
        Case("no detections: an empty result",
             (torch.zeros(0, 4), torch.zeros(0), t([sq]), 0.5)),
        Case("a stricter threshold, IoU 0.75: IoU 0.82 matches, IoU 0.54 does not",
             (t([[1.0, 0, 11, 10], [23.0, 0, 33, 10]]), t([0.9, 0.8]),
              t([sq, [20.0, 0, 30, 10]]), 0.75)),
        Case("equal scores: the earlier detection in the list goes first (a stable sort, as "
             "COCOeval's mergesort)",
             (t([[2.0, 0, 12, 10], sq]), t([0.7, 0.7]), t([sq]), 0.5)),
        Case("5 objects, 10 jittered detections with random scores",
             (dets, torch.rand(10, generator=g), objects, 0.5)),
        Case("the same detections at IoU 0.75", (dets, torch.rand(10, generator=g), objects, 0.75)),
        Case("the first detection has the same IoU (0.82) with two objects: COCOeval takes the "
             "last of them, which leaves the first for the next detection",
             (t([[1.0, 0, 11, 10], [-3.0, 0, 7, 10]]), t([0.9, 0.8]),
              t([sq, [2.0, 0, 12, 10]]), 0.5)),
    ]


def check_detection_tp(fn) -> Verdict:
    """Lesson 11: ``fn(det_boxes, det_scores, gt_boxes, iou_threshold)`` -> bool [D], True for the
    true positives of one image and one class, as ``evaluate.match_detections`` (and COCOeval).

    Detections, best score first (equal scores: list order), each take the not yet matched object
    with the highest IoU >= ``iou_threshold`` (equal IoUs: the last such object); a detection that
    finds none is a false positive. Boxes are xyxy; the result is in the detections' input order.
    """
    hints = [
        Mistake("go through the detections best score first (torch.argsort(scores, "
                "descending=True)), not in the order of the list",
                lambda *a: _greedy(*a, order="input")),
        Mistake("an object is matched once: a second detection of the same object is a false "
                "positive (keep a 'found' flag per object)", lambda *a: _greedy(*a, once=False)),
        Mistake("IoU exactly at the threshold is a match: compare with >=, not >",
                lambda *a: _greedy(*a, strict=True)),
        Mistake("when the best object is taken already, the detection may still take another "
                "unmatched object with IoU >= the threshold: leave the taken objects out before "
                "choosing", lambda *a: _greedy(*a, skip_taken=False)),
        Mistake("return the flags in the order of the input detections (tp[i] is detection i), "
                "not in score order", _in_score_order),
        Mistake("of equal scores, the detection that comes first in the list goes first: "
                "torch.argsort(..., descending=True, stable=True)",
                lambda *a: _greedy(*a, order="reversed-ties")),
        Mistake("of two objects with the same IoU, COCOeval takes the last one (its loop replaces "
                "its choice while the IoU is not lower): argmax over the flipped row",
                lambda *a: _greedy(*a, last_of_ties=False)),
    ]
    return run_check("detection_tp", fn, _detection_tp, _tp_cases(), hints=hints,
                     arg_names=("det_boxes", "det_scores", "gt_boxes", "iou_threshold"))
