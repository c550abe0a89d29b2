"""The checks of lesson 01 accept right answers, wait for stubs and explain the usual mistakes."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torchvision

from retina_lesson import boxes
from retina_lesson.exercises import check_box_iou, check_xywh_to_cxcywh

_SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
_SOLUTION = _SOLUTIONS / "01_boxes_and_iou.py"
_spec = importlib.util.spec_from_file_location("solution_01", _SOLUTION)
solution = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solution)


def _stub(*args):
    raise NotImplementedError


def _parts(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    return area_a[:, None], area_b[None, :], lt, rb


def iou_union_without_intersection(a, b):
    area_a, area_b, lt, rb = _parts(a, b)
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (area_a + area_b)


def iou_overlap_not_clamped(a, b):
    area_a, area_b, lt, rb = _parts(a, b)
    inter = (rb - lt).prod(-1)
    return inter / (area_a + area_b - inter)


def iou_only_width_clamped(a, b):  # a negative height times a negative width still slips through
    area_a, area_b, lt, rb = _parts(a, b)
    wh = rb - lt
    inter = wh[..., 0].clamp(min=0) * wh[..., 1]
    return inter / (area_a + area_b - inter)


def iou_plus_one_pixel(a, b):
    area_a = ((a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1))[:, None]
    area_b = ((b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1))[None, :]
    _, _, lt, rb = _parts(a, b)
    inter = (rb - lt + 1).clamp(min=0).prod(-1)
    return inter / (area_a + area_b - inter)


def iou_transposed(a, b):
    return solution.my_box_iou(b, a)


def iou_enclosing_box(a, b):
    area_a, area_b, _, _ = _parts(a, b)
    lt, rb = torch.min(a[:, None, :2], b[None, :, :2]), torch.max(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (area_a + area_b - inter)


def iou_pairwise_not_broadcast(a, b):  # IoU of a[i] with b[i] only
    n = min(len(a), len(b))
    return boxes.box_iou(a[:n], b[:n]).diagonal()


def test_box_iou_accepts_the_package_torchvision_and_the_solution(capsys):
    for fn in (boxes.box_iou, torchvision.ops.box_iou, solution.my_box_iou):
        assert check_box_iou(fn)
    assert "box_iou: 11 cases agree" in capsys.readouterr().out


def test_box_iou_waits_for_the_stub(capsys):
    assert not check_box_iou(_stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (iou_union_without_intersection, "intersection subtracted from the union"),
    (iou_overlap_not_clamped, "clamped at 0"),
    (iou_only_width_clamped, "clamped at 0"),
    (iou_plus_one_pixel, "without the \\+1 of pixel"),
    (iou_transposed, "transposed"),
    (iou_enclosing_box, "LARGER of the two top-left corners"),
    (iou_pairwise_not_broadcast, "shape \\[N, M\\]: broadcast"),
])
def test_box_iou_names_the_mistake(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_box_iou(wrong)


def test_box_iou_reports_input_expected_and_received():
    with pytest.raises(AssertionError) as info:
        check_box_iou(iou_union_without_intersection)
    text = str(info.value)
    for part in ("case 1 of 11", "input:", "expected:", "received:"):
        assert part in text


def test_box_iou_reports_an_error_raised_by_the_function():
    with pytest.raises(AssertionError, match="an error: IndexError"):
        check_box_iou(lambda a, b: a[:, 5])


def to_cxcywh_not_halved(b):
    x, y, w, h = b.unbind(-1)
    return torch.stack([x + w, y + h, w, h], dim=-1)


def to_cxcywh_read_as_xyxy(b):  # the xyxy formula applied to COCO numbers
    return torchvision.ops.box_convert(b, "xyxy", "cxcywh")


def to_cxcywh_inverse(b):
    x, y, w, h = b.unbind(-1)
    return torch.stack([x - w / 2, y - h / 2, w, h], dim=-1)


def to_cxcywh_size_halved(b):
    x, y, w, h = b.unbind(-1)
    return torch.stack([x + w / 2, y + h / 2, w / 2, h / 2], dim=-1)


def test_xywh_to_cxcywh_accepts_the_package_torchvision_and_the_solution(capsys):
    for fn in (lambda b: boxes.convert(b, "xywh", "cxcywh"),
               lambda b: torchvision.ops.box_convert(b, "xywh", "cxcywh"),
               lambda b: boxes.xyxy_to_cxcywh(boxes.xywh_to_xyxy(b)),
               solution.my_xywh_to_cxcywh):
        assert check_xywh_to_cxcywh(fn)
    assert "xywh_to_cxcywh: 6 cases agree" in capsys.readouterr().out


def test_xywh_to_cxcywh_waits_for_the_stub(capsys):
    assert not check_xywh_to_cxcywh(_stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (to_cxcywh_not_halved, "cx = x \\+ w / 2"),
    (to_cxcywh_read_as_xyxy, "the third number is already the width"),
    (to_cxcywh_inverse, "converts the other way"),
    (to_cxcywh_size_halved, "width and height stay as they are"),
])
def test_xywh_to_cxcywh_names_the_mistake(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_xywh_to_cxcywh(wrong)


def test_xywh_to_cxcywh_rejects_a_function_that_cannot_take_an_empty_batch():
    def no_empty(b):
        if len(b) == 0:
            raise ValueError("empty")
        return boxes.convert(b, "xywh", "cxcywh")
    with pytest.raises(AssertionError, match="no boxes at all"):
        check_xywh_to_cxcywh(no_empty)
