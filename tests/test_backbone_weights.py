"""ImageNet weights for the backbone from a local file, BatchNorm frozen as torchvision does."""
import pytest
import torch
from torchvision.models import resnet18, resnet50
from torchvision.ops.misc import FrozenBatchNorm2d

from retina_lesson.backbone import load_imagenet_weights, pretrained_body, resnet_body
from retina_lesson.model import RetinaNet


def imagenet_like(model_fn, seed=0):
    """A torchvision ResNet whose weights *and* BatchNorm statistics are not the defaults."""
    torch.manual_seed(seed)
    net = model_fn(weights=None)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return net.eval()


def test_weights_file_gives_torchvision_resnet_features_with_frozen_bn(tmp_path):
    net = imagenet_like(resnet18)
    path = tmp_path / "resnet18_imagenet.pth"
    torch.save(net.state_dict(), path)  # a local file, as downloaded once by the user
    body = pretrained_body("resnet18", path)
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        c = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        c5 = net.layer4(net.layer3(net.layer2(net.layer1(c))))
        body.train()  # frozen BN: the same numbers in train mode (ImageNet statistics)
        torch.testing.assert_close(body(x)["C5"], c5, rtol=1e-5, atol=1e-5)
    norms = [m for m in body.modules() if "Norm" in type(m).__name__]
    assert norms and all(isinstance(m, FrozenBatchNorm2d) and m.eps == 1e-5 for m in norms)
    trainable = {n.split(".")[0] for n, p in body.named_parameters() if p.requires_grad}
    assert trainable == {"layer2", "layer3", "layer4"}  # torchvision's trainable_layers=3


def test_resnet50_state_dict_loads_into_the_detector_and_changes_nothing_else():
    net = imagenet_like(resnet50)
    body = pretrained_body("resnet50", {"state_dict": net.state_dict()})  # wrapped checkpoints too
    model = RetinaNet(91, backbone=body, min_size=64, max_size=64)
    for key, value in net.state_dict().items():
        if not key.startswith("fc.") and "num_batches" not in key:
            assert model.state_dict()[f"backbone.{key}"].equal(value)
    # without weights the backbone is what it always was: ordinary BatchNorm, nothing frozen
    torch.manual_seed(0)
    plain = resnet_body("resnet50")
    assert all(p.requires_grad for p in plain.parameters())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())


def test_bad_weights_are_one_clear_line(tmp_path):
    r18 = imagenet_like(resnet18).state_dict()
    with pytest.raises(ValueError, match=r"layer1.0.conv3.weight \(and \d+ more\)"):
        load_imagenet_weights(resnet_body("resnet50", frozen_bn=True), r18)
    wrong = dict(r18, **{"conv1.weight": torch.zeros(64, 3, 3, 3)})
    with pytest.raises(ValueError, match=r"conv1.weight has shape \[64, 3, 3, 3\], this backbone "
                                         r"\[64, 3, 7, 7\]"):
        load_imagenet_weights(resnet_body("resnet18", frozen_bn=True), wrong)
    with pytest.raises(ValueError, match="has tensors this backbone does not: extra.weight"):
        load_imagenet_weights(resnet_body("resnet18", frozen_bn=True),
                              dict(r18, **{"extra.weight": torch.zeros(1)}))
    with pytest.raises(FileNotFoundError, match="backbone weights file not found: .*none.pth"):
        pretrained_body("resnet50", tmp_path / "none.pth")
    junk = tmp_path / "junk.pth"
    junk.write_text("not a tensor file")
    with pytest.raises(ValueError, match="junk.pth: not a PyTorch state_dict file"):
        pretrained_body("resnet18", junk)
    with pytest.raises(ValueError, match="not 'resnet_tiny'"):
        pretrained_body("resnet_tiny", r18)
