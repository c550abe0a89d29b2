import math

import pytest
import torch
import torchvision

from retina_lesson import boxes as B


def random_boxes(n, size=100.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    wh = torch.rand(n, 2, generator=g) * size / 2 + 0.5
    return torch.cat([xy, xy + wh], dim=1)


def test_box_iou_matches_torchvision():
    a, b = random_boxes(37, seed=1), random_boxes(53, seed=2)
    torch.testing.assert_close(B.box_iou(a, b), torchvision.ops.box_iou(a, b))


def test_box_iou_properties():
    a = random_boxes(40, seed=3)
    iou = B.box_iou(a, a)
    torch.testing.assert_close(iou, iou.T)  # symmetric
    assert (iou >= 0).all() and (iou <= 1 + 1e-6).all()
    torch.testing.assert_close(iou.diagonal(), torch.ones(40))


def test_box_iou_hand_computed():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[5.0, 5.0, 15.0, 15.0], [10.0, 10.0, 20.0, 20.0], [0.0, 0.0, 10.0, 5.0]])
    torch.testing.assert_close(B.box_iou(a, b), torch.tensor([[25 / 175, 0.0, 0.5]]))
    assert math.isclose(B.box_iou_pair(a[0], b[0]), 25 / 175)
    assert B.box_iou_pair(a[0], b[1]) == 0.0


def test_box_iou_zero_size_boxes_give_zero_not_nan():
    z = torch.tensor([[3.0, 3.0, 3.0, 3.0]])
    assert B.box_iou(z, z).item() == 0.0


def test_empty_inputs_give_empty_results():
    e = torch.zeros(0, 4)
    assert B.box_iou(e, random_boxes(3)).shape == (0, 3)
    assert B.box_iou(random_boxes(3), e).shape == (3, 0)
    assert B.box_area(e).shape == (0,)
    assert B.convert(e, "xyxy", "cxcywh").shape == (0, 4)


@pytest.mark.parametrize("src,dst", [("xyxy", "xywh"), ("xyxy", "cxcywh"), ("xywh", "cxcywh")])
def test_conversions_match_torchvision_and_round_trip(src, dst):
    xyxy = random_boxes(20, seed=4)
    boxes = torchvision.ops.box_convert(xyxy, "xyxy", src)
    out = B.convert(boxes, src, dst)
    torch.testing.assert_close(out, torchvision.ops.box_convert(boxes, src, dst))
    torch.testing.assert_close(B.convert(out, dst, src), boxes)


def test_area_matches_torchvision():
    a = random_boxes(10, seed=5)
    torch.testing.assert_close(B.box_area(a), torchvision.ops.box_area(a))


@pytest.mark.parametrize("bad,message", [
    (torch.zeros(3, 5), r"shape \[N, 4\]"),
    (torch.zeros(4), r"shape \[N, 4\]"),
    (torch.tensor([[0.0, 0.0, 1.0, 1.0], [5.0, 0.0, 1.0, 1.0]]), r"x2 < x1 at row 1"),
    (torch.tensor([[0.0, 5.0, 1.0, 1.0]]), r"y2 < y1 at row 0"),
    (torch.tensor([[0.0, 0.0, float("nan"), 1.0]]), r"NaN or inf at row 0"),
    (torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, float("inf"), 1.0]]), r"NaN or inf at row 1"),
])
def test_bad_boxes_raise_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        B.box_iou(bad, random_boxes(2))
    with pytest.raises(ValueError, match=message):
        B.box_area(bad)


def test_negative_width_in_xywh_is_rejected():
    with pytest.raises(ValueError, match="negative width or height at row 0"):
        B.convert(torch.tensor([[0.0, 0.0, -1.0, 2.0]]), "xywh", "xyxy")


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="unknown box format"):
        B.convert(random_boxes(2), "xyxy", "yxyx")


def test_clip_boxes():
    out = B.clip_boxes(torch.tensor([[-5.0, -5.0, 50.0, 20.0]]), (10, 30))
    torch.testing.assert_close(out, torchvision.ops.clip_boxes_to_image(
        torch.tensor([[-5.0, -5.0, 50.0, 20.0]]), (10, 30)))


@pytest.mark.parametrize("dtypes", [(torch.float32, torch.float32), (torch.float64, torch.float64),
                                    (torch.float32, torch.float64)])
def test_box_iou_bit_identical_to_torchvision_on_anchors(dtypes):
    # the in-place implementation must give exactly torchvision's numbers (the benchmark relies on it)
    from retina_lesson.anchors import generate_anchors
    g = torch.Generator().manual_seed(3)
    xy = torch.rand(30, 2, generator=g) * 300
    objects = torch.cat([xy, xy + 4 + torch.rand(30, 2, generator=g) * 200], 1).to(dtypes[0])
    anchors = generate_anchors((320, 448)).to(dtypes[1])
    ours = B.box_iou(objects, anchors)
    theirs = torchvision.ops.box_iou(objects, anchors)
    assert ours.dtype == theirs.dtype
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
