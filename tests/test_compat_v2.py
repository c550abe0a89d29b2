"""Parity with torchvision's RetinaNet v2 (``retinanet_resnet50_fpn_v2``): GroupNorm head, GIoU box
loss, P6 from C5. The v1 counterparts are in test_model.py, whose images and targets are reused."""
import pytest
import torch
from torchvision.models.detection import retinanet_resnet50_fpn_v2

from retina_lesson.compat import convert_state_dict, from_torchvision, load_torchvision_checkpoint

from .test_model import images_and_targets, make_pair


@pytest.fixture(scope="module")
def pair_v2():
    return make_pair(retinanet_resnet50_fpn_v2)


def test_v2_layout_is_detected(pair_v2):
    tv, ours = pair_v2
    assert ours.fpn.p6_from == "c5" and ours.fpn.p6.in_channels == 2048
    assert ours.box_loss == "giou"
    norms = ours.head.classification.norms
    assert norms is not None and norms[0].num_groups == 32
    assert ours.head.classification.convs[0].bias is None
    torch.testing.assert_close(ours.head.regression.norms[3].bias,
                               tv.head.regression_head.conv[3][1].bias)
    tv.head.regression_head._loss_type = "smooth_l1"  # torchvision's beta 1 is not ours (1/9)
    try:
        with pytest.raises(ValueError, match="box loss 'smooth_l1' is not supported"):
            from_torchvision(tv)
    finally:
        tv.head.regression_head._loss_type = "giou"


def test_v2_same_losses_as_torchvision(pair_v2):
    tv, ours = pair_v2
    images, targets = images_and_targets()
    tv.train(), ours.train()
    expected, got = tv(images, targets), ours(images, targets)
    assert set(got) == {"classification", "bbox_regression"}
    for k in got:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-5, atol=1e-5)
    assert got["classification"] > 0 and got["bbox_regression"] > 0


def assert_same_detections(got, expected):
    for e, g in zip(expected, got, strict=True):
        assert len(g["boxes"]) == len(e["boxes"]) > 0
        assert torch.equal(g["labels"], e["labels"])
        torch.testing.assert_close(g["boxes"], e["boxes"], atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(g["scores"], e["scores"], atol=1e-4, rtol=0)


def test_v2_same_detections_as_torchvision(pair_v2):
    tv, ours = pair_v2
    images, _ = images_and_targets()
    tv.eval(), ours.eval()
    with torch.no_grad():
        assert_same_detections(ours(images), tv(images))


def test_v2_checkpoint_file_round_trip(pair_v2, tmp_path):
    tv, ours = pair_v2
    path = tmp_path / "retinanet_v2.pth"
    torch.save(tv.state_dict(), path)
    model = load_torchvision_checkpoint(path, min_size=128, max_size=224)
    assert not model.training and model.detections_per_img == 300
    assert model.fpn.p6_from == "c5" and model.box_loss == "giou"
    assert model.head.classification.norms is not None
    # torchvision's v2 builder keeps ordinary BatchNorm (eps 1e-5), also with COCO weights
    assert type(model.backbone.bn1) is torch.nn.BatchNorm2d and model.backbone.bn1.eps == 1e-5
    converted = convert_state_dict(tv.state_dict())
    assert converted.keys() == ours.state_dict().keys() == model.state_dict().keys()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, converted[name]), name
    images, _ = images_and_targets()
    tv.eval()
    with torch.no_grad():
        assert_same_detections(model(images), tv(images))
