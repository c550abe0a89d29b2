"""The paper's training recipe, scaled with the global batch (Sec. 4.1, "Optimization").

Sec. 4.1: SGD over 8 GPUs, 16 images per minibatch; 90k iterations, learning rate 0.01 divided
by 10 at 60k and again at 80k; weight decay 0.0001, momentum 0.9; horizontal flips the only
augmentation. The paper does not state a warm-up; its code (Detectron's RetinaNet configs) warms
up linearly from lr/3 over 500 iterations, and so does this recipe.

Another global batch B keeps the recipe by the linear scaling rule (Goyal et al. 2017, "Accurate,
Large Minibatch SGD", by two of the paper's authors): the learning rate times B/16, every
iteration count (total, steps, warm-up) times 16/B, so the images seen, and where the learning
rate drops in them, stay the same (detectron2's ``auto_scale_workers`` scales the same four).

``learning_rate`` and ``make_optimizer`` turn any ``TrainConfig`` into its schedule and optimizer
(``train`` imports them from here).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

PAPER_BATCH = 16
PAPER_LR = 0.01
PAPER_ITERATIONS = 90_000
PAPER_STEPS = (60_000, 80_000)
PAPER_WARMUP = 500       # Detectron's WARM_UP_ITERS for RetinaNet
WARMUP_FACTOR = 1 / 3    # Detectron's WARM_UP_FACTOR: the warm-up starts at lr/3
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4


@dataclass(frozen=True)
class PaperSchedule:
    """The recipe at one global batch: learning rate and iteration counts already scaled."""

    global_batch: int
    lr: float
    iterations: int
    steps: tuple
    warmup_iters: int
    momentum: float = MOMENTUM
    weight_decay: float = WEIGHT_DECAY
    warmup_factor: float = WARMUP_FACTOR

    def lr_at(self, it: int) -> float:
        """The learning rate of iteration ``it`` (0-based): linear warm-up, then x0.1 per step."""
        if it < self.warmup_iters:
            t = it / self.warmup_iters
            return self.lr * (self.warmup_factor + (1 - self.warmup_factor) * t)
        return self.lr * 0.1 ** sum(it >= s for s in self.steps)

    def epochs(self, num_images: int) -> int:
        """Passes over ``num_images`` that hold the ``iterations`` (the last one cut short)."""
        per_epoch = num_images // self.global_batch
        if per_epoch < 1:
            raise ValueError(f"{num_images} training images make no batch of {self.global_batch}")
        return math.ceil(self.iterations / per_epoch)


def _step_at(fraction: float, total: int) -> int:
    """The first iteration ``it`` with ``it / total >= fraction`` (how ``train.learning_rate``
    places the steps: at 2/3 and 8/9 of the run, 60k and 80k of 90k)."""
    it = max(0, math.ceil(fraction * total) - 1)
    while it / total < fraction:
        it += 1
    return it


def paper_schedule(global_batch: int = PAPER_BATCH) -> PaperSchedule:
    """Sec. 4.1's schedule for ``global_batch`` images per iteration (all processes together)."""
    if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
        raise ValueError(f"the global batch must be a positive whole number, got {global_batch!r}")
    k = PAPER_BATCH / global_batch
    iterations = max(1, round(PAPER_ITERATIONS * k))
    steps = tuple(_step_at(s / PAPER_ITERATIONS, iterations) for s in PAPER_STEPS)
    return PaperSchedule(global_batch, PAPER_LR / k, iterations, steps,
                         warmup_iters=max(1, round(PAPER_WARMUP * k)))


def paper_config(global_batch: int = PAPER_BATCH, num_images: int | None = None) -> dict:
    """The ``TrainConfig`` settings of the paper's ResNet-50 RetinaNet on COCO (Sec. 4.1).

    The paper's model (4-conv head, L1 box loss, gamma 2, P6 from C5, anchors 32-512 px) on
    images resized to a short side of 800 px (at most 1333), trained with :func:`paper_schedule`.
    ``num_images`` (the training set's size) sets ``epochs`` to hold the iterations.
    """
    schedule = paper_schedule(global_batch)
    config = dict(preset="paper", backbone="resnet50", fpn_channels=256, image_size=800,
                  anchor_sizes=(32, 64, 128, 256, 512), optimizer="sgd", lr=schedule.lr,
                  weight_decay=schedule.weight_decay, schedule="step",
                  warmup_iters=schedule.warmup_iters, batch_size=global_batch, grad_clip=0.0,
                  iterations=schedule.iterations, model_overrides={"p6_from": "c5"})
    if num_images is not None:
        config["epochs"] = schedule.epochs(num_images)
    return config


# ------------------------------------------------ the optimizer and schedule of a TrainConfig
def learning_rate(config, it: int, total: int, time_spent: float = 0.0) -> float:
    """Warm-up linearly from lr/3 over ``warmup_iters``, then cosine to 0 or paper's steps.

    ``time_spent``: the share of a wall-clock budget (``config.minutes``) used so far; the schedule
    follows whichever runs out first, the iterations or the time.
    """
    if it < config.warmup_iters:
        return config.lr * (1 / 3 + (2 / 3) * it / config.warmup_iters)
    if config.schedule == "step":
        progress = max(it / total, time_spent)
        return config.lr * (0.1 ** sum(progress >= f for f in (2 / 3, 8 / 9)))
    if config.schedule != "cosine":
        raise ValueError(f"schedule must be 'cosine' or 'step', got {config.schedule!r}")
    progress = max((it - config.warmup_iters) / max(1, total - config.warmup_iters), time_spent)
    return config.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(model, config):
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":  # fused: one kernel for all weights (CPU: 8 -> 2 ms a step)
        fused = all(p.device.type in ("cpu", "cuda") for p in params) or None
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay,
                                 fused=fused)
    raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {config.optimizer!r}")
