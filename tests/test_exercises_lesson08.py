"""Lesson 08's checks accept right answers and name the usual mistakes."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torchvision

from retina_lesson.anchors import generate_anchors
from retina_lesson.box_coding import encode
from retina_lesson.boxes import box_iou
from retina_lesson.exercises import check_image_loss, check_nms
from retina_lesson.exercises.lesson08 import _image_loss
from retina_lesson.losses import sigmoid_focal_loss
from retina_lesson.matching import IGNORED, match_anchors
from retina_lesson.model import RetinaNet
from retina_lesson.postprocess import nms

SOLUTIONS = (Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
             / "08_loss_and_inference.py")


def _solutions():
    spec = importlib.util.spec_from_file_location("solutions_08", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ accepted
def test_nms_check_accepts_the_package_torchvision_and_the_solution(capsys):
    assert check_nms(nms)
    assert check_nms(torchvision.ops.nms)
    assert check_nms(_solutions().my_nms)
    assert "nms: 14 cases agree" in capsys.readouterr().out


def test_image_loss_check_accepts_the_solution(capsys):
    assert check_image_loss(_solutions().my_image_loss)
    assert "image_loss: 6 cases agree" in capsys.readouterr().out


def test_the_reference_is_the_models_own_loss_for_one_image():
    """The check's reference equals RetinaNet.compute_loss on a batch of one image."""
    torch.manual_seed(0)
    model = RetinaNet(num_classes=5, backbone="resnet_tiny", min_size=None)
    anchors = generate_anchors((64, 96))
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(len(anchors), 5, generator=g) * 2 - 3
    deltas = torch.randn(len(anchors), 4, generator=g) * 0.5
    for boxes, labels in ((torch.tensor([[4.0, 6, 30, 40], [40.0, 10, 90, 60], [50.0, 30, 58, 38]]),
                           torch.tensor([1, 4, 0])),
                          (torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64))):
        expected = model.compute_loss([{"boxes": boxes, "labels": labels}],
                                      {"cls_logits": logits[None], "bbox_regression": deltas[None]},
                                      anchors)
        got = _image_loss(logits, deltas, anchors, boxes, labels)
        for term in expected:
            torch.testing.assert_close(got[term], expected[term])


def test_stubs_are_not_done(capsys):
    def my_nms(boxes, scores, iou_threshold):
        raise NotImplementedError

    def my_image_loss(logits, deltas, anchors, boxes, labels):
        raise NotImplementedError

    assert not check_nms(my_nms)
    assert not check_image_loss(my_image_loss)
    assert capsys.readouterr().out.count("not done yet") == 2


# ------------------------------------------------------------------ nms: mistakes
def _nms_loop(boxes, scores, iou_threshold, order, remove):
    """A student's loop: walk ``order``, keep what is left, remove what ``remove`` says."""
    keep, removed = [], set()
    for i in order.tolist():
        if i in removed:
            continue
        keep.append(i)
        for j in order.tolist():
            if j != i and j not in keep and remove(box_iou(boxes[i:i + 1], boxes[j:j + 1]).item()):
                removed.add(j)
    return torch.tensor(keep, dtype=torch.int64)


def _by_score(scores):
    return scores.argsort(descending=True, stable=True)


def test_nms_boxes_not_visited_in_score_order():
    def wrong(boxes, scores, iou_threshold):
        return _nms_loop(boxes, scores, iou_threshold, torch.arange(len(boxes)),
                         lambda v: v > iou_threshold)

    with pytest.raises(AssertionError, match="visit the boxes by decreasing score"):
        check_nms(wrong)


def test_nms_kept_in_index_order():
    def wrong(boxes, scores, iou_threshold):
        keep = _nms_loop(boxes, scores, iou_threshold, _by_score(scores), lambda v: v > iou_threshold)
        return keep.sort().values

    with pytest.raises(AssertionError, match="not sorted by index"):
        check_nms(wrong)


def test_nms_positions_in_the_sorted_order():
    def wrong(boxes, scores, iou_threshold):
        order = _by_score(scores)
        keep = _nms_loop(boxes[order], scores[order], iou_threshold, torch.arange(len(boxes)),
                         lambda v: v > iou_threshold)
        return keep

    with pytest.raises(AssertionError, match="positions in the sorted order"):
        check_nms(wrong)


def test_nms_any_overlap_suppresses():
    def wrong(boxes, scores, iou_threshold):
        return _nms_loop(boxes, scores, iou_threshold, _by_score(scores), lambda v: v > 0)

    with pytest.raises(AssertionError, match=r"any overlap \(IoU > 0\)"):
        check_nms(wrong)


def test_nms_at_least_the_threshold():
    def wrong(boxes, scores, iou_threshold):
        return _nms_loop(boxes, scores, iou_threshold, _by_score(scores), lambda v: v >= iou_threshold)

    with pytest.raises(AssertionError, match="not >="):
        check_nms(wrong)


def test_nms_threshold_hard_coded():
    def wrong(boxes, scores, iou_threshold):
        return _nms_loop(boxes, scores, 0.5, _by_score(scores), lambda v: v > 0.5)

    with pytest.raises(AssertionError, match="use the iou_threshold argument"):
        check_nms(wrong)


def test_nms_removed_boxes_still_remove():
    def wrong(boxes, scores, iou_threshold):
        order = _by_score(scores)
        removed = torch.zeros(len(boxes), dtype=torch.bool)
        for i in order.tolist():                   # every box removes, removed or not
            iou = box_iou(boxes[i:i + 1], boxes)[0]
            later = torch.zeros_like(removed)
            later[order[(order == i).nonzero()[0, 0] + 1:]] = True
            removed |= (iou > iou_threshold) & later
        return order[~removed[order]]

    with pytest.raises(AssertionError, match="must not remove others"):
        check_nms(wrong)


def test_nms_ties_broken_the_other_way():
    def wrong(boxes, scores, iou_threshold):
        order = torch.tensor(sorted(range(len(scores)), key=lambda i: (-float(scores[i]), -i)),
                             dtype=torch.int64)
        return _nms_loop(boxes, scores, iou_threshold, order, lambda v: v > iou_threshold)

    with pytest.raises(AssertionError, match="ties in score"):
        check_nms(wrong)


def test_nms_empty_input_as_a_float_tensor():
    def wrong(boxes, scores, iou_threshold):
        keep = torchvision.ops.nms(boxes, scores, iou_threshold)
        return keep if len(keep) else torch.tensor([])

    with pytest.raises(AssertionError, match="no boxes at all(.|\n)*torch.int64"):
        check_nms(wrong)


def test_nms_returns_a_list():
    with pytest.raises(AssertionError, match="not a list"):
        check_nms(lambda boxes, scores, t: torchvision.ops.nms(boxes, scores, t).tolist())


# ------------------------------------------------------------------ image loss: mistakes
def _student_loss(logits, deltas, anchors, boxes, labels, *, allow_low_quality=True,
                  drop_ignored=True, normaliser=None, clamp=True, box_target=None):
    """A student's loss of one image, written out, with one choice replaceable."""
    if len(boxes):
        matched = match_anchors(box_iou(boxes, anchors), allow_low_quality=allow_low_quality)
    else:
        matched = torch.full((len(anchors),), -1)
    positive = matched >= 0
    valid = matched != IGNORED if drop_ignored else torch.ones_like(positive)
    n_pos = int(positive.sum())
    n_pos = max(1, n_pos) if clamp else n_pos
    n = n_pos if normaliser is None else normaliser(matched)
    gt = torch.zeros_like(logits)
    gt[positive, labels[matched[positive]]] = 1.0
    cls = sigmoid_focal_loss(logits[valid], gt[valid], reduction="sum") / n
    target = (encode(boxes[matched[positive]], anchors[positive]) if box_target is None
              else box_target(boxes[matched[positive]], anchors[positive]))
    box = (deltas[positive] - target).abs().sum() / n
    return {"classification": cls, "bbox_regression": box}


def _wrong(**choice):
    return lambda *args: _student_loss(*args, **choice)


@pytest.mark.parametrize("choice, words", [
    (dict(normaliser=lambda m: int((m != IGNORED).sum())), "not by the number of non-ignored"),
    (dict(normaliser=lambda m: len(m)), "not by the number of all anchors"),
    (dict(clamp=False), "N_pos = max\\(1, positives\\)"),
    (dict(drop_ignored=False), "ignored anchors .* count in neither term"),
    (dict(allow_low_quality=False), "low-quality matches"),
    (dict(box_target=lambda b, a: b), "encode\\(object box, anchor\\)"),
    (dict(box_target=lambda b, a: encode(a, b)), "the matched object's box first"),
])
def test_image_loss_mistakes(choice, words):
    with pytest.raises(AssertionError, match=words):
        check_image_loss(_wrong(**choice))


def test_image_loss_focal_loss_on_positives_only():
    def wrong(logits, deltas, anchors, boxes, labels):
        right = _student_loss(logits, deltas, anchors, boxes, labels)
        if not len(boxes):
            return {"classification": logits.new_zeros(()), "bbox_regression": right["bbox_regression"]}
        matched = match_anchors(box_iou(boxes, anchors))
        positive = matched >= 0
        gt = torch.zeros_like(logits)
        gt[positive, labels[matched[positive]]] = 1.0
        cls = sigmoid_focal_loss(logits[positive], gt[positive], reduction="sum")
        return {"classification": cls / max(1, int(positive.sum())),
                "bbox_regression": right["bbox_regression"]}

    with pytest.raises(AssertionError, match="the negatives too"):
        check_image_loss(wrong)


def test_image_loss_labels_shifted_and_mean_reductions():
    def shifted(logits, deltas, anchors, boxes, labels):
        return _student_loss(logits, deltas, anchors, boxes, labels - 1)

    with pytest.raises(AssertionError, match="labels index the columns directly"):
        check_image_loss(shifted)

    def box_mean(logits, deltas, anchors, boxes, labels):
        right = _student_loss(logits, deltas, anchors, boxes, labels)
        matched = (match_anchors(box_iou(boxes, anchors)) if len(boxes)
                   else torch.full((len(anchors),), -1))
        positive = matched >= 0
        if not positive.any():
            return right
        target = encode(boxes[matched[positive]], anchors[positive])
        box = torch.nn.functional.l1_loss(deltas[positive], target) / int(positive.sum())
        return {"classification": right["classification"], "bbox_regression": box}

    with pytest.raises(AssertionError, match="not the mean"):
        check_image_loss(box_mean)


def test_image_loss_returns_a_tuple():
    def wrong(*args):
        loss = _student_loss(*args)
        return loss["classification"], loss["bbox_regression"]

    with pytest.raises(AssertionError, match="expected a dict with keys"):
        check_image_loss(wrong)
