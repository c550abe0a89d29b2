import math

import pytest
import torch
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import _default_anchorgen

from retina_lesson import anchors as A


def torchvision_anchors(image_size):
    """torchvision's RetinaNet AnchorGenerator applied to feature maps of a ResNet-FPN's sizes."""
    gen = _default_anchorgen()
    feats = [torch.zeros(1, 1, *hw) for hw in A.feature_sizes(image_size)]
    return gen(ImageList(torch.zeros(1, 3, *image_size), [tuple(image_size)]), feats)[0]


@pytest.mark.parametrize("image_size", [(800, 1344), (800, 1333), (512, 512), (333, 517),
                                        (640, 480), (64, 96), (100, 37)])
def test_generate_anchors_equals_torchvision(image_size):
    ours = A.generate_anchors(image_size)
    theirs = torchvision_anchors(image_size)
    assert ours.shape == theirs.shape
    assert torch.equal(ours, theirs)


def test_feature_sizes_match_a_real_resnet_fpn():
    """The ceil(H / stride) rule is what torchvision's RetinaNet backbone actually produces."""
    from torchvision.models.detection import retinanet_resnet50_fpn

    model = retinanet_resnet50_fpn(weights=None, weights_backbone=None).eval()
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, 160, 224))
    assert [tuple(f.shape[-2:]) for f in feats.values()] == A.feature_sizes((160, 224))


def test_torchvision_sizes_are_truncated():
    assert A.level_sizes(32) == [32, 40, 50]
    assert A.level_sizes(512) == [512, 645, 812]
    assert A.level_sizes(512, convention="paper")[2] == pytest.approx(812.7493, abs=1e-3)


def test_base_anchors_shape_order_and_area():
    base = A.base_anchors(32, convention="paper", dtype=torch.float64)
    assert base.shape == (9, 4)
    w, h = base[:, 2] - base[:, 0], base[:, 3] - base[:, 1]
    # ratio-major: first three anchors are ratio 0.5 (h / w = 0.5) at the three scales
    torch.testing.assert_close(h / w, torch.tensor([0.5] * 3 + [1.0] * 3 + [2.0] * 3,
                                                   dtype=torch.float64))
    expected_area = torch.tensor([32.0, 32 * 2 ** (1 / 3), 32 * 2 ** (2 / 3)] * 3,
                                 dtype=torch.float64) ** 2
    torch.testing.assert_close(w * h, expected_area)
    torch.testing.assert_close(base[:, :2], -base[:, 2:])  # centred on (0, 0)


def test_counts_for_800x1333():
    counts = A.num_anchors_per_level((800, 1333))
    fs = A.feature_sizes((800, 1333))
    assert fs == [(100, 167), (50, 84), (25, 42), (13, 21), (7, 11)]
    assert counts == [h * w * 9 for h, w in fs]
    assert sum(counts) == A.generate_anchors((800, 1333)).shape[0]


def test_effective_strides_on_p6_p7():
    image = (800, 800)
    strides = A.effective_strides(image, A.feature_sizes(image))
    assert [s[0] for s in strides] == [8, 16, 32, 61, 114]


def test_paper_convention_centres_cells():
    per_level = A.anchors_per_level((64, 64), convention="paper")
    centres = (per_level[0][:, :2] + per_level[0][:, 2:]) / 2
    torch.testing.assert_close(centres[0], torch.tensor([4.0, 4.0]))  # middle of the first cell
    torch.testing.assert_close(centres[9], torch.tensor([12.0, 4.0]))  # next location along x


def test_level_of_anchor_and_table():
    lv = A.level_of_anchor((128, 128))
    assert lv.shape[0] == A.generate_anchors((128, 128)).shape[0]
    assert torch.bincount(lv).tolist() == A.num_anchors_per_level((128, 128))
    table = A.anchor_table(convention="paper")
    assert [r["level"] for r in table] == ["P3", "P4", "P5", "P6", "P7"]
    assert math.isclose(table[-1]["sizes"][-1], 512 * 2 ** (2 / 3))


@pytest.mark.parametrize("kwargs,message", [
    ({"sizes": (32, 64), "strides": (8, 16, 32)}, "one entry per pyramid level"),
    ({"sizes": (32, -64, 128, 256, 512)}, "sizes must be positive"),
    ({"strides": (8, 0, 32, 64, 128)}, "strides must be positive"),
    ({"ratios": (0.5, float("nan"))}, "ratios must be positive"),
    ({"scales": ()}, "scales must not be empty"),
    ({"convention": "detectron"}, "convention must be one of"),
])
def test_bad_configuration_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        A.generate_anchors((128, 128), **kwargs)


def test_bad_image_size_raises():
    with pytest.raises(ValueError, match="image_size"):
        A.generate_anchors((0, 128))
    with pytest.raises(ValueError, match="image_size"):
        A.generate_anchors("big")
