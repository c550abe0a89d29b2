"""Lesson 11's checks accept the package's reference and the solution, say "not done" for the stub,
and reject the usual mistakes with the hint that names them."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from retina_lesson.boxes import box_iou
from retina_lesson.evaluate import match_detections
from retina_lesson.exercises import check_detection_tp, check_interpolated_ap

_path = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "11_evaluation.py"
_spec = importlib.util.spec_from_file_location("solutions_11", _path)
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)


def stub(*args):
    raise NotImplementedError


# --- interpolated AP --------------------------------------------------------------------------

def ap_numpy(recall, precision):
    """The lines of pycocotools' COCOeval.accumulate for one curve, in numpy."""
    rc, pr = recall.numpy(), precision.numpy().tolist()
    for i in range(len(pr) - 1, 0, -1):
        if pr[i] > pr[i - 1]:
            pr[i - 1] = pr[i]
    q = np.zeros(101)
    inds = np.searchsorted(rc, np.linspace(0.0, 1.00, 101), side="left")
    try:
        for ri, pi in enumerate(inds):
            q[ri] = pr[pi]
    except IndexError:
        pass
    return float(q.mean())


def envelope(p):
    return p.flip(0).cummax(0).values.flip(0)


def sample(recall, values, thresholds, side="left", fill="zero"):
    idx = torch.searchsorted(recall.contiguous(), thresholds.to(recall.dtype), side=side)
    reached = idx < len(values)
    out = torch.zeros(len(thresholds), dtype=torch.float64)
    out[reached] = values[idx[reached]]
    if fill == "last" and len(values):
        out[~reached] = values[-1]
    return out, reached


T101 = torch.linspace(0, 1, 101, dtype=torch.float64)


def ap_no_envelope(r, p):
    return float(sample(r, p, T101)[0].mean())


def ap_11_points(r, p):
    return float(sample(r, envelope(p), torch.linspace(0, 1, 11, dtype=torch.float64))[0].mean())


def ap_raw_area(r, p):
    return float(((r - torch.cat([r.new_zeros(1), r[:-1]])) * p).sum())


def ap_missing_as_last(r, p):
    return float(sample(r, envelope(p), T101, fill="last")[0].mean())


def ap_missing_dropped(r, p):
    values, reached = sample(r, envelope(p), T101)
    return float(values[reached].mean()) if reached.any() else 0.0


def ap_side_right(r, p):
    return float(sample(r, envelope(p), T101, side="right")[0].mean())


def test_interpolated_ap_accepts_pycocotools_lines_and_the_solution(capsys):
    assert check_interpolated_ap(ap_numpy)
    assert check_interpolated_ap(solutions.my_interpolated_ap)
    assert "interpolated_ap: 10 cases agree" in capsys.readouterr().out


def test_interpolated_ap_stub_is_not_done(capsys):
    assert not check_interpolated_ap(stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (ap_no_envelope, "non-increasing"),
    (ap_11_points, "not the 11"),
    (ap_raw_area, "area under the raw curve"),
    (ap_missing_as_last, "counts as precision 0"),
    (ap_missing_dropped, "average over all 101"),
    (ap_side_right, "side='left'"),
])
def test_interpolated_ap_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_interpolated_ap(wrong)


def test_interpolated_ap_reference_is_what_cocoeval_computes():
    """The check's reference on a curve from real matching equals pycocotools' AP50 of that class."""
    from pycocotools.coco import COCO

    from retina_lesson.evaluate import evaluate_detections
    from retina_lesson.exercises.lesson11 import _interpolated_ap

    g = torch.Generator().manual_seed(0)
    images, annotations, results, hits, scores, n_objects = [], [], [], [], [], 0
    for image_id in range(1, 6):
        images.append({"id": image_id, "width": 100, "height": 100})
        xy = torch.rand(3, 2, generator=g) * 60
        gt = torch.cat([xy, xy + 15 + torch.rand(3, 2, generator=g) * 20], dim=1)
        det = gt[torch.tensor([0, 0, 1, 2, 2])] + (torch.rand(5, 4, generator=g) - 0.5) * 12
        s = torch.rand(5, generator=g)
        for b in gt.tolist():
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                                "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "iscrowd": 0,
                                "area": (b[2] - b[0]) * (b[3] - b[1])})
        for b, sc in zip(det.tolist(), s.tolist()):
            results.append({"image_id": image_id, "category_id": 1, "score": sc,
                            "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
        tp, _ = match_detections(det, s, torch.ones(5), gt, torch.ones(3), 0.5)
        hits += tp.tolist()
        scores += s.tolist()
        n_objects += 3
    coco = COCO()
    coco.dataset = {"images": images, "annotations": annotations,
                    "categories": [{"id": 1, "name": "shape"}]}
    coco.createIndex()
    order = np.argsort(-np.array(scores), kind="mergesort")
    hit = np.array(hits)[order]
    tp, fp = np.cumsum(hit), np.cumsum(~hit)
    recall = torch.tensor(tp / n_objects)
    precision = torch.tensor(tp / (tp + fp + np.spacing(1)))
    ap50 = evaluate_detections(coco, results)["AP50"]
    assert 0 < ap50 < 1
    assert _interpolated_ap(recall, precision) == pytest.approx(ap50, abs=1e-9)


# --- true / false positives -------------------------------------------------------------------

def greedy(det_boxes, det_scores, gt_boxes, t, *, by_score=True, once=True, strict=False,
           skip_taken=True, first_of_ties=False, unstable=False):
    """A hand-written matching with one mistake switched on at a time."""
    iou = box_iou(det_boxes.double(), gt_boxes.double())
    tp = torch.zeros(len(det_boxes), dtype=torch.bool)
    taken = torch.zeros(len(gt_boxes), dtype=torch.bool)
    if by_score and unstable:   # equal scores: the later detection first
        order = sorted(range(len(det_scores)), key=lambda i: (-float(det_scores[i]), -i))
    elif by_score:
        order = sorted(range(len(det_scores)), key=lambda i: (-float(det_scores[i]), i))
    else:
        order = range(len(det_boxes))
    for d in order:
        if len(gt_boxes) == 0:
            break
        row = iou[d].clone()
        if skip_taken and once:
            row[taken] = -1
        g = int(row.argmax()) if first_of_ties else len(row) - 1 - int(row.flip(0).argmax())
        good = row[g] > t if strict else row[g] >= t
        if good and not (once and taken[g]):
            tp[d] = True
            taken[g] = True
    return tp


def test_detection_tp_accepts_the_package_and_the_solution(capsys):
    def package(det_boxes, det_scores, gt_boxes, t):
        return match_detections(det_boxes, det_scores, torch.zeros(len(det_boxes)), gt_boxes,
                                torch.zeros(len(gt_boxes)), t)[0]

    assert check_detection_tp(package)
    assert check_detection_tp(greedy)
    assert check_detection_tp(solutions.my_detection_tp)
    assert "detection_tp: 12 cases agree" in capsys.readouterr().out


def test_detection_tp_stub_is_not_done(capsys):
    assert not check_detection_tp(stub)
    assert "not done yet" in capsys.readouterr().out


def in_score_order(det_boxes, det_scores, gt_boxes, t):
    return greedy(det_boxes, det_scores, gt_boxes, t)[torch.argsort(det_scores, descending=True,
                                                                      stable=True)]


@pytest.mark.parametrize("wrong, words", [
    (lambda *a: greedy(*a, by_score=False), "best score first"),
    (lambda *a: greedy(*a, once=False), "matched once"),
    (lambda *a: greedy(*a, strict=True), r"compare with >=, not >"),
    (lambda *a: greedy(*a, skip_taken=False), "best object is taken already"),
    (in_score_order, "order of the input detections"),
    (lambda *a: greedy(*a, unstable=True), "stable=True"),
    (lambda *a: greedy(*a, first_of_ties=True), "takes the last one"),
])
def test_detection_tp_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_detection_tp(wrong)
