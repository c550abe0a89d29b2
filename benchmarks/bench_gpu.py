"""Benchmark: training images per second of our RetinaNet vs torchvision's, the paper's setting.

    .venv/bin/python benchmarks/bench_gpu.py                    # a GPU: 800 px, batch 2, AMP off
    .venv/bin/python benchmarks/bench_gpu.py --amp --batch 4    # float16 autocast + GradScaler
    .venv/bin/python benchmarks/bench_gpu.py --device cpu       # anywhere: small, says no GPU

What one GPU does in one iteration of the paper's recipe (Sec. 4.1: 2 images per GPU, 8 GPUs):
a ResNet-50-FPN RetinaNet with ImageNet-style frozen BatchNorm and the stem and ``layer1`` frozen
(torchvision's ``trainable_backbone_layers=3``), images of 800 px short side (at most 1333),
``model(images, targets)``, ``backward()``, an SGD step (momentum 0.9, weight decay 1e-4).
torchvision's model is built as ``retinanet_resnet50_fpn(weights_backbone=...)`` builds it; ours
carries its weights (``compat.from_torchvision``), so both do the same arithmetic.

Runs are interleaved (ours, torchvision, torchvision, ours, ...) and each number is the median of
``--repeats`` timed runs of ``--steps`` iterations, after ``--warmup`` iterations (cuDNN picks
its algorithms then). The GPU is synchronised before every clock reading. Without a GPU the
script runs a small setting on the CPU and says so: the numbers then say nothing about a GPU.
Append the printed row to ``benchmarks/gpu_runs.md`` with the machine's name.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision
from torchvision.models import resnet50
from torchvision.models.detection import RetinaNet as TVRetinaNet
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import make_batch, sync  # noqa: E402

from retina_lesson.compat import from_torchvision  # noqa: E402
from retina_lesson.precision import autocast, grad_scaler  # noqa: E402


def torchvision_model(min_size: int, max_size: int):
    """torchvision's ``retinanet_resnet50_fpn`` as built with ImageNet backbone weights (frozen
    BatchNorm, 3 trainable stages), randomly initialised: nothing is downloaded."""
    torch.manual_seed(0)
    body = resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(body, 3, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    return TVRetinaNet(backbone, num_classes=91, min_size=min_size, max_size=max_size)


def ours_like(tv_model):
    """Our RetinaNet with the same weights, and the same parameters frozen."""
    model = from_torchvision(tv_model)
    trainable = {n for n, p in tv_model.backbone.body.named_parameters() if p.requires_grad}
    for name, p in model.backbone.named_parameters():
        p.requires_grad_(name in trainable)
    return model


class Trainer:
    """One model, its optimizer and (float16) gradient scaler: ``run(steps)`` -> seconds."""

    def __init__(self, model, images, targets, device, amp: bool):
        self.model = model.to(device).train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
        self.images, self.targets, self.device = images, targets, device
        self.mixed, self.scaler = autocast(device, amp), grad_scaler(device, amp)

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        with self.mixed:
            loss = sum(self.model(self.images, self.targets).values())
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        return loss

    def run(self, steps: int) -> float:
        sync(self.device)
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        sync(self.device)
        return time.perf_counter() - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default=None, help="cuda (default when present) or cpu")
    p.add_argument("--batch", type=int, default=None, help="images per step (GPU 2, CPU 1)")
    p.add_argument("--min-size", type=int, default=None, help="short side (GPU 800, CPU 160)")
    p.add_argument("--max-size", type=int, default=None, help="long side at most (GPU 1333)")
    p.add_argument("--steps", type=int, default=None, help="iterations per timed run (GPU 20)")
    p.add_argument("--warmup", type=int, default=None, help="untimed iterations (GPU 10)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--amp", action="store_true", help="float16 autocast + GradScaler on CUDA")
    args = p.parse_args(argv)
    gpu = torch.cuda.is_available()
    device = torch.device(args.device or ("cuda" if gpu else "cpu"))
    if device.type == "cuda" and not gpu:
        p.error("--device cuda: no CUDA GPU is visible to PyTorch on this machine")
    on_gpu = device.type == "cuda"
    batch = args.batch or (2 if on_gpu else 1)
    min_size = args.min_size or (800 if on_gpu else 160)
    max_size = args.max_size or (1333 if on_gpu else 2 * min_size)
    steps, warmup = args.steps or (20 if on_gpu else 1), args.warmup or (10 if on_gpu else 1)
    if min(batch, min_size, max_size, steps, warmup, args.repeats) < 1:
        p.error("every size and count must be a positive whole number")
    if on_gpu:
        torch.backends.cudnn.benchmark = True
        where = torch.cuda.get_device_name(device)
    else:
        where = f"CPU, {torch.get_num_threads()} threads"
        print("no GPU: a small run on the CPU; these numbers say nothing about a GPU")
    tv = torchvision_model(min_size, max_size)
    ours = ours_like(tv)
    images, targets = make_batch(batch, min_size, round(min_size * 4 / 3), 6, device)
    trainers = {"ours": Trainer(ours, images, targets, device, args.amp),
                "torchvision": Trainer(tv, images, targets, device, args.amp)}
    for trainer in trainers.values():
        trainer.run(warmup)
    times = {name: [] for name in trainers}
    for r in range(args.repeats):
        for name in (("ours", "torchvision") if r % 2 == 0 else ("torchvision", "ours")):
            times[name].append(trainers[name].run(steps))
    rate = {name: steps * batch / statistics.median(t) for name, t in times.items()}
    memory = (f", peak memory {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB (both)"
              if on_gpu else "")
    precision = ("float16 autocast" if on_gpu else "bfloat16 autocast") if args.amp else "float32"
    print(f"{where}; torch {torch.__version__}, torchvision {torchvision.__version__}; batch "
          f"{batch}, {min_size} px (max {max_size}), {precision}; median of {args.repeats} x "
          f"{steps} steps{memory}")
    print("| device | batch | size | precision | ours img/s | torchvision img/s | ours / tv |")
    print(f"| {where} | {batch} | {min_size} | {'amp' if args.amp else 'fp32'} | "
          f"{rate['ours']:.3g} | {rate['torchvision']:.3g} | "
          f"{rate['ours'] / rate['torchvision']:.2f} |")
    return rate


if __name__ == "__main__":
    main()
