"""Parity of the assembled RetinaNet with torchvision's, and the pieces it is built from."""
import pytest
import torch
from torchvision.models.detection import retinanet_resnet50_fpn
from torchvision.models.detection.retinanet import _v1_to_v2_weights  # noqa: F401 (exists)
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

from retina_lesson.anchors import generate_anchors, num_anchors_per_level
from retina_lesson.backbone import resnet_body
from retina_lesson.compat import convert_state_dict, from_torchvision, load_torchvision_checkpoint
from retina_lesson.fpn import FPN
from retina_lesson.heads import RetinaNetHead
from retina_lesson.losses import prior_bias
from retina_lesson.model import RetinaNet


def make_pair(builder=retinanet_resnet50_fpn):
    """A seeded random torchvision RetinaNet (small images) and ours built from it."""
    torch.manual_seed(0)
    tv = builder(weights=None, weights_backbone=None, min_size=128, max_size=224)
    torch.nn.init.constant_(tv.head.classification_head.cls_logits.bias, -2.0)  # non-empty output
    return tv, from_torchvision(tv)


@pytest.fixture(scope="module")
def pair():
    return make_pair()


def images_and_targets():
    g = torch.Generator().manual_seed(1)
    images = [torch.rand(3, 150, 230, generator=g), torch.rand(3, 200, 170, generator=g),
              torch.rand(3, 97, 131, generator=g)]
    targets = [{"boxes": torch.tensor([[10.0, 20.0, 100.0, 140.0], [50.0, 50.0, 62.0, 71.0]]),
                "labels": torch.tensor([1, 17])},
               {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)},  # empty
               {"boxes": torch.tensor([[0.0, 0.0, 131.0, 97.0], [30.0, 40.0, 35.0, 90.0]]),
                "labels": torch.tensor([90, 3])}]
    return images, targets


def test_same_losses_as_torchvision(pair):
    tv, ours = pair
    images, targets = images_and_targets()
    tv.train(), ours.train()
    torch.manual_seed(0)
    expected = tv(images, targets)
    torch.manual_seed(0)
    got = ours(images, targets)
    assert set(got) == {"classification", "bbox_regression"}
    for k in got:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-5, atol=1e-5)
    assert got["classification"] > 0 and got["bbox_regression"] > 0


def test_same_detections_as_torchvision(pair):
    tv, ours = pair
    images, _ = images_and_targets()
    tv.eval(), ours.eval()
    with torch.no_grad():
        expected, got = tv(images), ours(images)
    for e, g in zip(expected, got):
        assert len(g["boxes"]) == len(e["boxes"]) > 0
        assert torch.equal(g["labels"], e["labels"])
        torch.testing.assert_close(g["boxes"], e["boxes"], atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(g["scores"], e["scores"], atol=1e-4, rtol=0)


def test_checkpoint_file_round_trip_and_errors(pair, tmp_path):
    tv, _ = pair
    path = tmp_path / "retinanet.pth"
    torch.save(tv.state_dict(), path)
    model = load_torchvision_checkpoint(path, min_size=128, max_size=224)
    assert not model.training and model.detections_per_img == 300
    torch.testing.assert_close(model.head.classification.out.bias,
                               tv.head.classification_head.cls_logits.bias)
    # an old (v1) head naming, as in the official COCO file, is accepted
    v1 = {k.replace("conv.1.0.", "conv.2.").replace("conv.0.0.", "conv.0."): v
          for k, v in tv.state_dict().items()}
    assert convert_state_dict(v1).keys() == convert_state_dict(tv.state_dict()).keys()
    broken = dict(tv.state_dict())
    broken.pop("head.regression_head.bbox_reg.weight")
    broken["extra.weight"] = torch.zeros(1)
    torch.save(broken, path)
    with pytest.raises(ValueError, match=r"missing keys \[head.regression.out.weight\].*unexpected "
                                         r"keys \[extra.weight\]"):
        load_torchvision_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="no torchvision RetinaNet weights file"):
        load_torchvision_checkpoint(tmp_path / "absent.pth")


def test_fpn_equals_torchvision_fpn():
    torch.manual_seed(0)
    ours = FPN((16, 32, 64), channels=8, p6_from="p5")
    tv = FeaturePyramidNetwork([16, 32, 64], 8, extra_blocks=LastLevelP6P7(8, 8))
    state = {k: v for k, v in ours.state_dict().items()}
    tv_state = {}
    for i in range(3):
        for t in ("weight", "bias"):
            tv_state[f"inner_blocks.{i}.0.{t}"] = state[f"lateral.{i}.{t}"]
            tv_state[f"layer_blocks.{i}.0.{t}"] = state[f"output.{i}.{t}"]
    for t in ("weight", "bias"):
        tv_state[f"extra_blocks.p6.{t}"] = state[f"p6.{t}"]
        tv_state[f"extra_blocks.p7.{t}"] = state[f"p7.{t}"]
    tv.load_state_dict(tv_state)
    c = {"C3": torch.randn(2, 16, 25, 19), "C4": torch.randn(2, 32, 13, 10),
         "C5": torch.randn(2, 64, 7, 5)}
    got, expected = list(ours(c).values()), list(tv(c).values())
    assert [tuple(x.shape[-2:]) for x in got] == [(25, 19), (13, 10), (7, 5), (4, 3), (2, 2)]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_p6_from_c5_uses_c5_channels():
    fpn = FPN((16, 32, 64), channels=8, p6_from="c5")
    assert fpn.p6.in_channels == 64
    with pytest.raises(ValueError, match="p6_from"):
        FPN((16, 32, 64), channels=8, p6_from="p4")


def test_head_shapes_order_sharing_and_prior():
    head = RetinaNetHead(channels=8, num_anchors=9, num_classes=3, num_convs=4)
    feats = [torch.randn(2, 8, h, w) for h, w in [(8, 8), (4, 4), (2, 2), (1, 1), (1, 1)]]
    out = head(feats)
    assert out["cls_logits"].shape == (2, (64 + 16 + 4 + 1 + 1) * 9, 3)
    assert out["bbox_regression"].shape == (2, (64 + 16 + 4 + 1 + 1) * 9, 4)
    torch.testing.assert_close(head.classification.out.bias, torch.full((27,), prior_bias(0.01)))
    # one row per anchor, in the order of generate_anchors: location (y, x) then anchor a
    level0 = head.classification.forward_level(feats[0])
    raw = head.classification.out(torch.relu(head.classification.convs[3](torch.relu(
        head.classification.convs[2](torch.relu(head.classification.convs[1](torch.relu(
            head.classification.convs[0](feats[0])))))))))
    y, x, a = 3, 5, 7
    torch.testing.assert_close(level0[1, (y * 8 + x) * 9 + a], raw[1, a * 3:(a + 1) * 3, y, x])


def test_small_backbones_and_options_train_and_infer():
    torch.manual_seed(0)
    model = RetinaNet(num_classes=4, backbone="resnet_tiny", fpn_channels=16, min_size=None,
                      anchor_sizes=(8, 16, 32, 64, 128), head_convs=2, head_norm="gn",
                      box_loss="giou", p6_from="c5")
    images = [torch.rand(3, 64, 64), torch.rand(3, 64, 64)]
    targets = [{"boxes": torch.tensor([[4.0, 4.0, 30.0, 40.0]]), "labels": torch.tensor([2])},
               {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}]
    losses = model.train()(images, targets)
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())
    out = model.eval()(images)
    assert len(out) == 2 and out[0]["boxes"].shape[1] == 4
    assert resnet_body("resnet18").out_channels == [128, 256, 512]


def test_anchor_count_matches_head_rows():
    model = RetinaNet(num_classes=2, backbone="resnet_tiny", fpn_channels=8, min_size=None).eval()
    with torch.no_grad():
        batch, _, _ = model.transform([torch.rand(3, 100, 130)])
        feats = model.features(batch)
        out = model.head(feats)
    assert out["cls_logits"].shape[1] == sum(num_anchors_per_level(batch.shape[-2:]))
    assert torch.equal(torch.cat(model.anchors(batch.shape[-2:], feats)),
                       generate_anchors(batch.shape[-2:]))


@pytest.mark.parametrize("target,message", [
    ({"boxes": torch.tensor([[5.0, 5.0, 5.0, 9.0]]), "labels": torch.tensor([1])}, "zero width"),
    ({"boxes": torch.tensor([[5.0, 5.0, 9.0]]), "labels": torch.tensor([1])}, r"shape \[N, 4\]"),
    ({"boxes": torch.tensor([[5.0, 5.0, 9.0, 9.0]]), "labels": torch.tensor([7])}, "labels must be"),
    ({"boxes": torch.tensor([[5.0, 5.0, float("nan"), 9.0]]), "labels": torch.tensor([1])}, "NaN"),
    ({"boxes": torch.tensor([[5.0, 5.0, 9.0, 9.0]])}, "'boxes' and 'labels'"),
])
def test_bad_targets_raise_clear_errors(target, message):
    model = RetinaNet(num_classes=3, backbone="resnet_tiny", fpn_channels=8, min_size=None).train()
    with pytest.raises(ValueError, match=message):
        model([torch.rand(3, 32, 32)], [target])
    with pytest.raises(ValueError, match="targets are required"):
        model([torch.rand(3, 32, 32)])
