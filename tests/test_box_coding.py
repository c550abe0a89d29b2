import math

import pytest
import torch
from torchvision.models.detection._utils import BoxCoder

from retina_lesson.box_coding import BBOX_XFORM_CLIP, decode, encode

from .test_matching import random_objects


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_encode_decode_equal_torchvision(weights):
    boxes, anchors = random_objects(50, seed=1), random_objects(50, seed=2)
    coder = BoxCoder(weights)
    deltas = encode(boxes, anchors, weights)
    torch.testing.assert_close(deltas, coder.encode_single(boxes, anchors))
    noise = torch.randn(50, 4, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(decode(noise, anchors, weights), coder.decode_single(noise, anchors))


def test_round_trip():
    boxes, anchors = random_objects(100, seed=4), random_objects(100, seed=5)
    torch.testing.assert_close(decode(encode(boxes, anchors), anchors), boxes, atol=1e-4, rtol=1e-5)


def test_by_hand_and_log_space_symmetry():
    anchor = torch.tensor([[0.0, 0.0, 32.0, 32.0]])
    double = torch.tensor([[-16.0, -16.0, 48.0, 48.0]])  # same centre, twice the size
    half = torch.tensor([[8.0, 8.0, 24.0, 24.0]])
    shifted = torch.tensor([[16.0, 0.0, 48.0, 32.0]])  # half a width to the right
    assert encode(double, anchor)[0, 2].item() == pytest.approx(math.log(2))
    assert encode(half, anchor)[0, 2].item() == pytest.approx(-math.log(2))
    torch.testing.assert_close(encode(shifted, anchor), torch.tensor([[0.5, 0.0, 0.0, 0.0]]))


def test_decode_clamps_huge_sizes():
    anchor = torch.tensor([[0.0, 0.0, 16.0, 16.0]])
    out = decode(torch.tensor([[0.0, 0.0, 50.0, 50.0]]), anchor)
    assert torch.isfinite(out).all()
    assert out[0, 2] - out[0, 0] == pytest.approx(16 * math.exp(BBOX_XFORM_CLIP), rel=1e-5)  # 1000 px


def test_empty():
    assert encode(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)
    assert decode(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)


def test_bad_input():
    a = random_objects(3)
    with pytest.raises(ValueError, match="pair up one to one"):
        encode(a, random_objects(4))
    with pytest.raises(ValueError, match="positive width and height"):
        encode(torch.tensor([[1.0, 1.0, 1.0, 5.0]]), a[:1])
    with pytest.raises(ValueError, match=r"shape \[N, 4\]"):
        decode(torch.zeros(3, 5), a)
    with pytest.raises(ValueError, match="x2 < x1"):
        encode(torch.tensor([[5.0, 1.0, 1.0, 5.0]]), a[:1])
