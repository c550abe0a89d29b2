"""Backbone: a ResNet body that returns C3, C4, C5 (paper Sec. 4, "Feature Pyramid Network Backbone").

The course builds the detector, not ResNet: the stages are torchvision's ResNet blocks. C_l has
stride 2^l: C3 = 8, C4 = 16, C5 = 32. ``"resnet50"`` is the paper's (and torchvision's) body;
``"resnet18"`` and ``"resnet_tiny"`` (basic blocks, width 32, one block per stage) train on a CPU.
``"resnet_tiny"`` replaces the 7x7 stride-2 conv + max-pool stem by two 3x3 stride-2 convs (the
"ResNet-C" stem of He et al., "Bag of Tricks", 2019): at 128 px the 7x7 stem and its max-pool cost
13% of a training step; the light stem is 10% faster with the same AP on the shapes data.

BatchNorm is *frozen* (``FrozenBatchNorm2d``: fixed statistics and affine) when pretrained weights
are used, as in torchvision; trained from scratch it is ordinary ``BatchNorm2d``.
"""
from __future__ import annotations

from collections import OrderedDict
from functools import partial

import torch
from torch import nn
from torchvision.models import resnet as tv_resnet
from torchvision.ops.misc import FrozenBatchNorm2d

BACKBONES = ("resnet50", "resnet18", "resnet_tiny")


class ResNetBody(nn.Module):
    """conv1-bn1-relu-maxpool, then layer1..layer4; returns {"C3", "C4", "C5"} (layer2..4)."""

    def __init__(self, resnet: tv_resnet.ResNet):
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (resnet.layer1, resnet.layer2,
                                                              resnet.layer3, resnet.layer4)
        self.out_channels = [self._channels(layer) for layer in (self.layer2, self.layer3, self.layer4)]
        self.strides = [8, 16, 32]

    @staticmethod
    def _channels(layer: nn.Sequential) -> int:
        last = layer[-1]
        return (last.bn3 if hasattr(last, "bn3") else last.bn2).weight.shape[0]

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return OrderedDict([("C3", c3), ("C4", c4), ("C5", c5)])


def _tiny_resnet(width: int, blocks, norm_layer) -> tv_resnet.ResNet:
    """A ResNet of basic blocks with stage widths width * (1, 2, 4, 8)."""
    model = tv_resnet.ResNet(tv_resnet.BasicBlock, list(blocks), norm_layer=norm_layer)
    # rebuild with narrower stages (torchvision's ResNet fixes 64..512)
    model.inplanes = width
    half = width // 2  # stem: 3x3/2 (3 -> width/2), BN, ReLU, 3x3/2 (-> width); bn1-relu follow
    model.conv1 = nn.Sequential(nn.Conv2d(3, half, 3, stride=2, padding=1, bias=False),
                                norm_layer(half), nn.ReLU(inplace=True),
                                nn.Conv2d(half, width, 3, stride=2, padding=1, bias=False))
    model.bn1 = norm_layer(width)
    model.maxpool = nn.Identity()
    model.layer1 = model._make_layer(tv_resnet.BasicBlock, width, blocks[0])
    model.layer2 = model._make_layer(tv_resnet.BasicBlock, width * 2, blocks[1], stride=2)
    model.layer3 = model._make_layer(tv_resnet.BasicBlock, width * 4, blocks[2], stride=2)
    model.layer4 = model._make_layer(tv_resnet.BasicBlock, width * 8, blocks[3], stride=2)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return model


def resnet_body(name: str = "resnet50", frozen_bn: bool = False, bn_eps: float = 1e-5,
                width: int = 32, blocks=(1, 1, 1, 1)) -> ResNetBody:
    """Build a backbone body by name; ``width``/``blocks`` apply to ``"resnet_tiny"``."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; expected one of {BACKBONES}")
    norm = partial(FrozenBatchNorm2d, eps=bn_eps) if frozen_bn else partial(nn.BatchNorm2d, eps=bn_eps)
    if name == "resnet50":
        resnet = tv_resnet.resnet50(weights=None, norm_layer=norm)
    elif name == "resnet18":
        resnet = tv_resnet.resnet18(weights=None, norm_layer=norm)
    else:
        resnet = _tiny_resnet(width, blocks, norm)
    return ResNetBody(resnet)


def freeze_stages(body: ResNetBody, trainable_layers: int = 3) -> ResNetBody:
    """Freeze the stem and the first stages, as torchvision does with pretrained weights (default 3
    trainable: layer2..layer4)."""
    if not 0 <= trainable_layers <= 5:
        raise ValueError(f"trainable_layers must be in [0, 5], got {trainable_layers}")
    names = ["layer4", "layer3", "layer2", "layer1", "conv1"][:trainable_layers]
    if trainable_layers == 5:
        names.append("bn1")
    for pname, p in body.named_parameters():
        if all(not pname.startswith(n) for n in names):
            p.requires_grad_(False)
    return body


def _imagenet_state(source) -> tuple[dict, str]:
    """A ResNet state_dict from a file (or a dict), and how to name it in errors."""
    if isinstance(source, dict):
        state, where = source, "the backbone weights"
    else:
        where = str(source)
        try:
            state = torch.load(source, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise FileNotFoundError(f"backbone weights file not found: {source}") from None
        except Exception as err:  # unpickling errors have no common type
            raise ValueError(f"{source}: not a PyTorch state_dict file "
                             f"({type(err).__name__}: {' '.join(str(err).split())[:99]})") from None
    for key in ("state_dict", "model"):  # checkpoints that wrap the weights
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"{where}: expected a state_dict (names -> tensors), "
                         f"got {type(state).__name__}")
    return {k.removeprefix("module."): v for k, v in state.items()}, where


def load_imagenet_weights(body: ResNetBody, source) -> ResNetBody:
    """Copy an ImageNet ResNet state_dict into ``body`` (paper Sec. 4.1: "ResNet-50 ... pre-trained
    on ImageNet1k").

    ``source``: a file (e.g. torchvision's ``resnet50-0676ba68.pth``, read from disk, never
    downloaded) or a dict, with torchvision's names (``conv1``, ``bn1``, ``layer1``..``layer4``);
    the classifier ``fc`` is dropped. Every tensor of the body must be there with its shape; a
    missing, extra or misshapen one ends with one line naming it.
    """
    state, where = _imagenet_state(source)
    state = {k: v for k, v in state.items()
             if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}
    own = {k: v for k, v in body.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    for keys, what in ((missing, "lacks"), (extra, "has tensors this backbone does not:")):
        if keys:
            more = f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
            raise ValueError(f"{where}: not the weights of this backbone: it {what} {keys[0]}"
                             f"{more}")
    for key, value in own.items():
        if state[key].shape != value.shape:
            raise ValueError(f"{where}: {key} has shape {list(state[key].shape)}, this backbone "
                             f"{list(value.shape)} (weights of another ResNet depth?)")
    body.load_state_dict(state, strict=False)  # only num_batches_tracked (ordinary BN) is left
    return body


def pretrained_body(name: str, source, trainable_layers: int = 3) -> ResNetBody:
    """A body with ImageNet weights, as torchvision's ``retinanet_resnet50_fpn(weights_backbone=)``
    builds it: BatchNorm frozen (``FrozenBatchNorm2d``, eps 1e-5: the statistics and affine of
    ImageNet training), and the stem and ``layer1`` frozen (``trainable_layers=3``)."""
    if name not in ("resnet50", "resnet18"):
        raise ValueError(f"ImageNet weights fit the torchvision ResNets 'resnet50' and "
                         f"'resnet18', not {name!r}")
    return freeze_stages(load_imagenet_weights(resnet_body(name, frozen_bn=True), source),
                         trainable_layers)
