"""Checks for the exercises of lesson 10 (training: one optimisation step written out)."""
from __future__ import annotations

import torch

from ..train import TrainConfig, build_model, make_optimizer
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_training_step", "training_step"]

# a detector small enough that a step takes milliseconds: the default preset (GroupNorm head, GIoU,
# AdamW) at width 8 with 8 FPN channels, on 64-px images; seeded, so every build is the same model
_TINY = TrainConfig(backbone_width=8, fpn_channels=8, image_size=64, channels_last=False)
_NUM_CLASSES = 3


def training_step(model, images, targets, optimizer):
    """One step of ``train.train``'s loop, written out (without its learning-rate schedule,
    NaN check and gradient clipping): the summed loss before the step."""
    model.train()                      # in eval mode the model returns detections, not losses
    optimizer.zero_grad()              # forget the previous step's gradients
    losses = model(images, targets)    # {"classification": ..., "bbox_regression": ...}
    loss = losses["classification"] + losses["bbox_regression"]
    loss.backward()                    # gradients of the summed loss
    optimizer.step()                   # update the weights with them
    return loss


def _as_number(loss) -> float:
    if isinstance(loss, dict):
        raise TypeError("the step returned the dict of losses: return their sum (one number)")
    if loss is None:
        raise TypeError("the step returned None: return the summed loss")
    return float(loss.detach()) if torch.is_tensor(loss) else float(loss)


def _run_steps(step):
    """``run(images, targets, steps)``: build the tiny model (in eval mode, as after drawing
    detections) and its optimizer, call ``step`` ``steps`` times, report the losses and weights."""
    def run(images, targets, steps):
        model = build_model(_NUM_CLASSES, _TINY).eval()
        optimizer = make_optimizer(model, _TINY)
        losses = []
        for _ in range(steps):
            try:
                loss = step(model, images, targets, optimizer)
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - explain the most common cause
                if not model.training:
                    raise RuntimeError(f"{error} - the model was in eval mode, where it returns "
                                       "detections, not losses: call model.train() first") from None
                raise
            losses.append(_as_number(loss))
        weights = torch.cat([p.detach().flatten() for p in model.parameters()])
        return {"loss of each step": torch.tensor(losses), "weights after the steps": weights}
    return run


def _no_zero_grad(model, images, targets, optimizer):
    model.train()
    losses = model(images, targets)
    loss = losses["classification"] + losses["bbox_regression"]
    loss.backward()
    optimizer.step()
    return loss


def _classification_only(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = model(images, targets)["classification"]
    loss.backward()
    optimizer.step()
    return loss


def _step_before_backward(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    losses = model(images, targets)
    loss = losses["classification"] + losses["bbox_regression"]
    optimizer.step()
    loss.backward()
    return loss


def _mean_of_losses(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    losses = model(images, targets)
    loss = (losses["classification"] + losses["bbox_regression"]) / 2
    loss.backward()
    optimizer.step()
    return loss



def _images(n: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(3, 64, 64, generator=g) for _ in range(n)]


def _target(boxes, labels) -> dict:
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.int64)}


def _cases() -> list[Case]:
    return [
        Case("one 64-px image with two objects, two steps in a row",
             (_images(1, 10), [_target([[6, 8, 30, 40], [36, 20, 60, 44]], [1, 2])], 2)),
        Case("two images, the second without objects (only negatives), two steps",
             (_images(2, 11), [_target([[10, 12, 50, 34]], [2]), _target([], [])], 2)),
    ]


def check_training_step(fn) -> Verdict:
    """Lesson 10: ``fn(model, images, targets, optimizer)`` does one training step (train mode,
    zero_grad, forward to the loss dict, sum, backward, step) and returns the summed loss: the
    same losses and the same weights after two steps as the package's ``training_step``."""
    hints = [
        Mistake("the first step agrees but the second does not: gradients add up in .grad - call "
                "optimizer.zero_grad() before every backward pass", _run_steps(_no_zero_grad)),
        Mistake("the loss is the SUM of both entries of the dict: classification + "
                "bbox_regression (lesson 08); the box loss trains the box subnet",
                _run_steps(_classification_only)),
        Mistake("the weights did not change: optimizer.step() must come after loss.backward() "
                "(and zero_grad() before backward, not between backward and step)",
                _run_steps(_step_before_backward)),
        Mistake("add the two losses, do not average them", _run_steps(_mean_of_losses)),
    ]
    return run_check("training_step", _run_steps(fn), _run_steps(training_step), _cases(),
                     hints=hints, arg_names=("images", "targets", "steps"))
