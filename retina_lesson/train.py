"""Training RetinaNet on the shapes dataset, from scratch, on a CPU in minutes (paper Sec. 4.1).

    python -m retina_lesson.train                      # the default run (about 5 minutes, 2 cores)
    python -m retina_lesson.train --preset paper       # the paper's head and L1 box loss
    python -m retina_lesson.train --epochs 2 --out runs/try --resume   # continue, or extend
    python -m retina_lesson.train --amp                # mixed precision (bfloat16 CPU, float16 CUDA)
    python -m retina_lesson.train --minutes 5          # stop after 5 minutes if not done by then
    torchrun --standalone --nproc_per_node 2 -m retina_lesson.train --quick   # 2 processes

Under torchrun the processes train one model data-parallel (``distributed``; Sec. 4.1: "synchronized
SGD over 8 GPUs"), ``--batch-size`` being the global batch; ``recipe`` holds the paper's schedule.

The paper trains with SGD (momentum 0.9, weight decay 1e-4, lr 0.01, warm-up, steps at 60k/80k of
90k iterations, batch 16) from ImageNet weights. Here nothing is pre-trained and the budget is a few
CPU minutes, so the default is AdamW with a linear warm-up and a cosine decay, which reaches a
usable detector in that budget; ``--optimizer sgd --schedule step`` gives the paper's recipe.

At a fixed budget of CPU minutes the detector is limited by how many images it sees, so the default
network is small and fast: ``benchmarks/training_runs.md`` lists every run behind these defaults
(network sizes, batch, learning rate, gamma, head depth, data variants) with its time and AP.

The accuracy target's history and the floor the course holds (AP 0.44 / AP50 0.69) are in
``benchmarks/accuracy_target.md``, checked by ``benchmarks/bench_train.py``.

A checkpoint is written atomically after every epoch; ``--resume`` continues from it (the command
line never overwrites a finished run; ``train_cli``). With
``--minutes`` the run also stops when that much training time is spent, the learning rate following
whichever runs out first (the time or the epochs), so a fast enough machine gives the same run.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import default_device
from .checkpoint import (CheckpointError, check_resumable, finished, finished_run,  # noqa: F401
                         load_checkpoint, model_from_checkpoint, run_state, save_checkpoint,
                         saved_config)
from .model import RetinaNet
from .precision import autocast, grad_scaler
from .recipe import learning_rate, make_optimizer  # noqa: F401 (lesson 10 imports them here)

clock = time.monotonic  # the time source of ``minutes`` and ``seconds``; tests put a fake clock here

PRESETS = {
    # what came after the paper (torchvision's RetinaNet v2): GroupNorm in a lighter head, GIoU loss;
    # gamma 1: beat the paper's 2 at this budget in every pairing measured (training_runs.md,
    # lesson 13)
    "default": dict(head_convs=2, head_norm="gn", box_loss="giou", focal_gamma=1.0),
    # the paper: 4 convs without normalisation, L1 on the box deltas, gamma 2
    "paper": dict(head_convs=4, head_norm=None, box_loss="l1", focal_gamma=2.0),
}


@dataclass
class TrainConfig:
    """Everything a run depends on; saved in the checkpoint."""
    preset: str = "default"
    epochs: int = 10
    batch_size: int = 32          # the paper: 16; 32 trains 14% more images a second here
    optimizer: str = "adamw"      # or "sgd" (momentum 0.9, the paper)
    lr: float = 4e-3              # sgd: 0.01 as in the paper
    weight_decay: float = 1e-4
    schedule: str = "cosine"      # or "step": x0.1 at 2/3 and 8/9 of training (60k, 80k of 90k)
    warmup_iters: int = 100
    grad_clip: float = 10.0
    backbone: str = "resnet_tiny"
    backbone_width: int = 24      # resnet_tiny's stages: width x (1, 2, 4, 8) (lessons 06-08: 32)
    fpn_channels: int = 32        # the paper: 256; 32 trains 1.8x more images a second than 64 here
    image_size: int | None = None  # None: train at the images' own size (128 px)
    anchor_sizes: tuple = (12, 24, 48, 96, 192)  # 1.5 x stride (paper: 4 x stride), lessons 09, 12
    focal_alpha: float = 0.25
    focal_gamma: float | None = None  # None: the preset's (default 1, paper 2)
    prior: float = 0.01
    cls_loss_scale: float = 1.0
    seed: int = 0
    max_train_images: int | None = None  # a subset, for quick runs
    minutes: float | None = None  # a wall-clock budget: stop when spent, even before `epochs`
    channels_last: bool = True    # NHWC feature maps: 6-9% faster convolutions on a CPU
    model_overrides: dict = field(default_factory=dict)
    iterations: int | None = None  # stop after this many steps (the paper: 90k at batch 16)
    backbone_weights: str | None = None  # ImageNet weights of resnet50/18: frozen BN (Sec. 4.1)

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        if self.minutes is not None and not self.minutes > 0:
            raise ValueError(f"minutes must be a positive number, got {self.minutes}")
        if self.focal_gamma is None:
            self.focal_gamma = PRESETS[self.preset]["focal_gamma"]
        if self.iterations is not None and not self.iterations > 0:
            raise ValueError(f"iterations must be a positive number, got {self.iterations}")
        if self.backbone_weights is not None and self.backbone not in ("resnet50", "resnet18"):
            raise ValueError(f"backbone weights (ImageNet, torchvision's names) fit the backbones "
                             f"resnet50 and resnet18, not {self.backbone!r}")

    def model_kwargs(self) -> dict:
        kwargs = dict(PRESETS[self.preset], backbone=self.backbone, fpn_channels=self.fpn_channels,
                      min_size=self.image_size, max_size=max(1333, self.image_size or 0),
                      anchor_sizes=tuple(self.anchor_sizes), focal_alpha=self.focal_alpha,
                      focal_gamma=self.focal_gamma, prior=self.prior)
        if self.backbone == "resnet_tiny":
            kwargs["backbone_kwargs"] = {"width": self.backbone_width}
        if self.backbone_weights is not None:
            kwargs["frozen_bn"] = True  # ImageNet statistics, as torchvision does
        kwargs.update(self.model_overrides)
        return kwargs


def build_model(num_classes: int, config: TrainConfig, load_weights: bool = False) -> RetinaNet:
    """The model of ``config``. With ``config.backbone_weights`` BatchNorm is frozen and so are the
    stem and layer1 (torchvision's ``trainable_backbone_layers=3``); ``load_weights`` reads the
    file (a fresh run; a checkpoint brings its own weights)."""
    torch.manual_seed(config.seed)
    model = RetinaNet(num_classes, **config.model_kwargs())
    if config.backbone_weights is not None:
        from .backbone import freeze_stages, load_imagenet_weights

        if load_weights:
            load_imagenet_weights(model.backbone, config.backbone_weights)
        freeze_stages(model.backbone, 3)
    return model.to(memory_format=torch.channels_last) if config.channels_last else model


class NonFiniteLoss(FloatingPointError):
    """Raised when a loss becomes NaN or inf; the last checkpoint stays as it was."""


def train(config: TrainConfig, train_set, out_dir="runs/shapes", resume: bool = False,
          device=None, progress: bool = True, on_epoch_end=None, amp: bool = False,
          extend: bool = False, world=None, workers: int = 0) -> tuple[RetinaNet, list[dict]]:
    """Train and return ``(model, history)``; ``history`` has one entry per iteration.

    ``on_epoch_end(epoch, model)`` is called after each epoch (e.g. to draw detections). With
    ``config.minutes`` set, training stops when that much time is spent (the checkpoint keeps the
    seconds spent, so a resumed run only uses what is left). ``out_dir/last.pt`` is (re)written
    after every epoch. ``amp``: mixed precision (:func:`autocast`). ``extend`` (with ``resume``):
    the checkpoint's run may have fewer ``epochs`` or ``minutes`` than ``config``: it goes on to
    the new end, its learning-rate schedule stretched to the new length from where it stands.

    ``world`` (:func:`distributed.init_world`, under torchrun): DistributedDataParallel, each
    process taking its share of every batch of ``config.batch_size`` images (the global batch);
    rank 0 alone writes the checkpoint. ``workers``: DataLoader processes; on CUDA the batches are
    read into pinned memory and copied asynchronously.
    """
    from .progress import tqdm

    from . import distributed as dd
    from .data import collate_fn

    world = world or dd.World(device=torch.device(device) if device is not None
                              else default_device())
    device = world.device
    torch.set_flush_denormal(True)  # tiny activations of an unnormalised head are slow as denormals
    out_dir = Path(out_dir)
    ckpt_path = out_dir / "last.pt"
    num_classes = train_set.num_classes
    state = dd.resume_state(ckpt_path, world, resume)
    model = build_model(num_classes, config, load_weights=state is None).to(device)
    optimizer = make_optimizer(model, config)
    mixed, scaler = autocast(device, amp), grad_scaler(device, amp)
    history, start_epoch, spent = [], 0, 0.0
    if state is not None:
        check_resumable(state, config, ckpt_path, amp, extend)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scaler is not None and "scaler" in state:
            scaler.load_state_dict(state["scaler"])
        history, start_epoch = list(state["history"]), int(state["epoch"])
        spent = float(state.get("seconds", 0.0))
        torch.set_rng_state(state["rng"])
        if finished(state, config):
            return model.eval(), history
    if config.max_train_images:
        train_set = torch.utils.data.Subset(train_set, range(min(config.max_train_images,
                                                                 len(train_set))))
    generator = torch.Generator()
    loader, sampler = dd.train_loader(train_set, config.batch_size, world, collate_fn=collate_fn,
                                      generator=generator, seed=config.seed, num_workers=workers,
                                      pin_memory=device.type == "cuda")
    if len(loader) == 0:
        raise ValueError(f"{len(train_set)} training images make no batch of {config.batch_size}"
                         f"{dd.spread(world)}; use a smaller batch size")
    base = train_set.dataset if isinstance(train_set, torch.utils.data.Subset) else train_set
    total = min(config.epochs * len(loader), config.iterations or math.inf)
    budget = 60 * config.minutes if config.minutes is not None else math.inf
    net = dd.wrap_model(model, world)  # one process: the model itself
    net.train()
    for epoch in range(start_epoch, config.epochs):
        # order and flips are a function of (seed, epoch): a resumed run sees the same batches
        generator.manual_seed(config.seed * 100_003 + epoch)
        dd.set_epoch(sampler, epoch)
        if getattr(base, "generator", None) is not None:
            base.generator.manual_seed(config.seed * 100_003 + epoch + 50_000)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}",
                   disable=not progress or not world.is_main)
        start, steps = clock(), 0
        for images, targets in bar:
            time_spent = dd.broadcast_if(budget < math.inf, (spent + clock() - start) / budget,
                                         world)  # every process stops at the same step
            if time_spent >= 1 or len(history) >= total:
                break
            it, steps = len(history), steps + 1
            lr = learning_rate(config, it, total, time_spent)
            for group in optimizer.param_groups:
                group["lr"] = lr
            blocking = {"non_blocking": True} if device.type == "cuda" else {}  # pinned: async
            images = [im.to(device, **blocking) for im in images]
            targets = [{k: (v.to(device, **blocking) if torch.is_tensor(v) else v)
                        for k, v in t.items()} for t in targets]
            with mixed:
                losses = net(images, targets)
            loss = config.cls_loss_scale * losses["classification"] + losses["bbox_regression"]
            # the global batch's losses (one process: these very tensors)
            logged = dd.mean_over_processes({"total": loss, **losses}, world)
            if not torch.isfinite(logged["total"]):
                kept = (f"the last good checkpoint is {ckpt_path}" if ckpt_path.is_file()
                        else "no checkpoint was written yet")
                raise NonFiniteLoss(f"loss became {logged['total'].item()} at iteration {it} "
                                    f"(epoch {epoch + 1}); {kept}")
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
            else:  # float16: scale the loss so small gradients do not underflow, unscale to clip
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            norm = (torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                    if config.grad_clip else None)
            if scaler is not None:  # skips the step when a gradient overflowed, adapts the scale
                scaler.step(optimizer)
                scaler.update()
            elif not amp or _finite(model, norm):
                optimizer.step()
            # else: bfloat16 on a CPU, a gradient overflowed: skip the step as GradScaler does
            history.append({"iter": it, "epoch": epoch, "lr": lr,
                            "classification": logged["classification"].item(),
                            "bbox_regression": logged["bbox_regression"].item()})
            bar.set_postfix(cls=f"{history[-1]['classification']:.3f}",
                            box=f"{history[-1]['bbox_regression']:.3f}")
        seconds = clock() - start
        spent += seconds
        if steps:
            history[-1]["epoch_seconds"] = seconds
            history[-1]["images_per_second"] = steps * config.batch_size / max(seconds, 1e-9)
        extra = {"amp": True, "scaler": scaler.state_dict() if scaler else {}} if amp else {}
        if world.is_main:
            save_checkpoint(ckpt_path, model=model.state_dict(), optimizer=optimizer.state_dict(),
                            epoch=epoch + 1, history=history, config=asdict(config),
                            num_classes=num_classes, rng=torch.get_rng_state(), seconds=spent,
                            **extra)
        dd.barrier(world)
        if on_epoch_end is not None and world.is_main:
            on_epoch_end(epoch, model)
            model.train()
        if dd.broadcast_if(budget < math.inf, spent, world) >= budget or len(history) >= total:
            break  # the time (or the iterations) ran out during this epoch
    return model.eval(), history


def _finite(model, norm=None) -> bool:
    """Whether the gradients are finite (``norm``: their total norm, when already computed)."""
    if norm is None:
        norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()
                                              if p.grad is not None])
    return bool(torch.isfinite(norm))


def quick_config(**overrides) -> TrainConfig:
    """The configuration of quick mode (tests): a few iterations on a subset."""
    return TrainConfig(**{"epochs": 1, "max_train_images": 160, "batch_size": 8, "warmup_iters": 5,
                          **overrides})


def ensure_trained(config: TrainConfig | None = None, out_dir=None, train_set=None,
                   progress: bool = True, device=None):
    """The trained model of ``config``: loaded from ``out_dir/last.pt`` when that checkpoint holds
    a finished run of the same configuration, trained (and saved) otherwise.

    Lessons after the training lesson call this, so each runs on its own, but none trains twice.
    Returns ``(model, history)``.
    """
    from . import is_quick
    from .data import shapes_datasets

    config = config or (quick_config() if is_quick() else TrainConfig())
    out_dir = Path(out_dir or f"runs/{config.preset}{'_quick' if is_quick() else ''}")
    ckpt = out_dir / "last.pt"
    state = run_state(ckpt, config)  # read once: finished -> load it, unfinished -> resume it
    if state is not None and finished(state, config):
        return model_from_checkpoint(ckpt, device, state), list(state["history"])
    if train_set is None:
        train_set, _ = shapes_datasets(progress=progress)
    return train(config, train_set, out_dir, resume=state is not None, device=device,
                 progress=progress)


def main(argv=None):
    """``python -m retina_lesson.train``: see :mod:`retina_lesson.train_cli`."""
    from .train_cli import train_main

    return train_main(argv)


if __name__ == "__main__":
    main()
