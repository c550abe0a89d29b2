"""Mixed precision: convolutions in 16 bits, boxes and losses in 32 (Micikevicius et al. 2018).

The network's convolutions may run in bfloat16 (CPU) or float16 (CUDA) under ``torch.autocast``;
what decides *which anchor learns what* must not: IoU, matching, box coding and the losses upcast
half precision to float32, as torchvision does. A float16 box of 300 px has an area of 90,000,
beyond float16's largest number (65,504); bfloat16 keeps 8 bits of mantissa, so IoUs of nearby
boxes round to the same value and NMS keeps other boxes.
"""
from __future__ import annotations

import contextlib

import torch
from torch import Tensor

HALF = (torch.float16, torch.bfloat16)


def upcast(t: Tensor) -> Tensor:
    """float16 / bfloat16 -> float32; any other tensor unchanged (the same object)."""
    return t.float() if t.dtype in HALF else t


def autocast(device, amp: bool = True):
    """The mixed-precision context of a training step: bfloat16 autocast on a CPU, float16 on a
    CUDA GPU; a context that does nothing when ``amp`` is off."""
    if not amp:
        return contextlib.nullcontext()
    device = torch.device(device)
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--amp runs on a CPU (bfloat16) or a CUDA GPU (float16), not {device.type}")
    return torch.autocast(device.type, dtype=torch.bfloat16 if device.type == "cpu" else torch.float16)


def grad_scaler(device, amp: bool = True):
    """A ``GradScaler`` for float16 training on CUDA (bfloat16 has float32's range: none needed)."""
    if amp and torch.device(device).type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None
