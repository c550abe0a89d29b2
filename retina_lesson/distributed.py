"""Data-parallel training with PyTorch's own engine: ``torchrun`` + DistributedDataParallel.

    torchrun --standalone --nproc_per_node 2 -m retina_lesson.train --quick   # 2 processes
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_id run1 --rdzv_backend c10d \\
             --rdzv_endpoint HOST:29500 -m retina_lesson.train --preset paper --data COCO_ROOT

torchrun starts the processes and sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``; this module reads them, joins the process group (gloo on the CPU, NCCL on CUDA),
wraps the model in DistributedDataParallel (which averages the gradients during ``backward``) and
gives each process its share of every batch. Without torchrun, nothing changes: one process, no
process group. As in torchvision's detection reference scripts, nothing here is home-made: no
launcher, no gradient averaging of our own.

The paper trains this way (Sec. 4.1: "synchronized SGD over 8 GPUs with a total of 16 images per
minibatch"): the loss of every image is averaged over the *global* batch, since DDP averages the
per-process gradients of equal per-process batches. BatchNorm layers that still learn (a backbone
trained from scratch) normalise over each process's own images; with ImageNet weights BatchNorm is
frozen (``--backbone-weights``), and one process or many then compute the same step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """Where this process stands: its rank among ``size`` processes, and its device."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0 prints, writes checkpoints and metrics."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init_world(device: torch.device) -> World:
    """Join the process group torchrun set up (gloo on CPUs, NCCL on CUDA); one process otherwise.

    On CUDA each process takes the GPU of its ``LOCAL_RANK``.
    """
    device = torch.device(device)
    if not launched_by_torchrun() or _env_int("WORLD_SIZE") == 1:
        return World(device=device)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise ValueError(f"process {local_rank} of this machine has no GPU: it has {count}; "
                             f"start at most {count} processes per machine (--nproc_per_node)")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ValueError(f"several processes train on CUDA GPUs (NCCL) or CPUs (gloo), "
                         f"not on {device.type}")
    if not dist.is_initialized():
        if device.type == "cuda":  # device_id: NCCL binds this process to its GPU at once
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
    return World(rank=dist.get_rank(), size=dist.get_world_size(), local_rank=local_rank,
                 device=device)


def _env_int(name: str, default: int | None = None) -> int:
    text = os.environ.get(name)
    if text is None and default is not None:
        return default
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ValueError(f"the environment variable {name}={text!r} (set by torchrun) is not a "
                         f"whole number") from None


def close_world(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def per_process_batch(global_batch: int, world: World) -> int:
    """The global batch split evenly over the processes; a clear error when it does not divide."""
    if global_batch % world.size:
        raise ValueError(f"the batch size {global_batch} (the global batch, all processes "
                         f"together) "
                         f"does not divide evenly over {world.size} processes")
    return global_batch // world.size


def train_loader(dataset, batch_size: int, world: World, *, collate_fn, generator=None,
                 seed: int = 0, num_workers: int = 0, pin_memory: bool = False):
    """``(loader, sampler)``: batches of ``batch_size`` images (the global batch) for this process.

    One process: a shuffling ``DataLoader`` drawing its order from ``generator`` (``sampler`` is
    None). Several: a ``DistributedSampler`` (shuffled from ``seed``; call :func:`set_epoch` before
    every epoch) gives each process its ``1/size`` share of every epoch; batch ``k`` of all the
    processes together is ``batch_size`` distinct images. Incomplete batches are dropped, so every
    process takes the same number of steps.
    """
    per = per_process_batch(batch_size, world)
    # workers start afresh every epoch, seeded from ``generator`` (reseeded per epoch by train):
    # their random flips are then a function of (seed, epoch), so a resumed run repeats them
    extra = dict(num_workers=num_workers, pin_memory=pin_memory)
    if not world.distributed:
        loader = torch.utils.data.DataLoader(dataset, batch_size=per, shuffle=True,
                                             collate_fn=collate_fn, generator=generator,
                                             drop_last=True, **extra)
        return loader, None
    sampler = torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=world.size, rank=world.rank, shuffle=True, seed=seed, drop_last=True)
    loader = torch.utils.data.DataLoader(dataset, batch_size=per, sampler=sampler,
                                         collate_fn=collate_fn, generator=generator,
                                         drop_last=True, **extra)
    return loader, sampler


def set_epoch(sampler, epoch: int) -> None:
    """A new order every epoch, the same on every process (``DistributedSampler.set_epoch``)."""
    if sampler is not None:
        sampler.set_epoch(epoch)


def wrap_model(model: torch.nn.Module, world: World) -> torch.nn.Module:
    """DistributedDataParallel around ``model`` when there are several processes."""
    if not world.distributed:
        return model
    ids = [world.device.index] if world.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside DistributedDataParallel (what checkpoints store)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def gather(items: list, world: World) -> list:
    """Every process's ``items``, concatenated in rank order, on every process."""
    if not world.distributed:
        return list(items)
    parts: list = [None] * world.size
    dist.all_gather_object(parts, list(items))
    return [item for part in parts for item in part]


def broadcast(value, world: World):
    """Rank 0's ``value`` on every process (e.g. whether to stop)."""
    if not world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_over_processes(losses: dict, world: World) -> dict:
    """Each loss (a 0-dim tensor) averaged over the processes: the global batch's, for printing
    and for stopping every process alike on a NaN (DDP itself averages the gradients). One
    process: ``losses`` itself."""
    if not world.distributed:
        return losses
    values = torch.stack([v.detach().to(torch.float64) for v in losses.values()])
    dist.all_reduce(values)
    return dict(zip(losses, (values / world.size).cpu().unbind()))


def on_main(fn, world: World):
    """``fn()`` run on rank 0 alone, its result (or its error) on every process: what must agree
    (the output folder, whether a checkpoint exists) is decided once."""
    if not world.distributed:
        return fn()
    payload = (None, None)
    if world.is_main:
        try:
            payload = (fn(), None)
        except Exception as err:  # raised by every process, so none waits for a dead one
            payload = (None, err)
    result, error = broadcast(payload, world)
    if error is not None:
        raise error
    return result


def main_first(fn, world: World):
    """``fn()`` on rank 0 first, then on the others (e.g. the shapes data: generated once, on
    rank 0, before the others read them); an error on rank 0 is raised by every process."""
    if not world.distributed:
        return fn()
    kept = []
    on_main(lambda: kept.append(fn()), world)  # every process waits for rank 0 here
    return kept[0] if world.is_main else fn()


def backend(world: World) -> str:
    """The process group's backend: ``gloo`` (CPU) or ``nccl`` (CUDA)."""
    return str(dist.get_backend()) if world.distributed else "none"


def broadcast_if(needed: bool, value, world: World):
    """Rank 0's ``value`` everywhere when ``needed`` (e.g. the time spent, read on one clock, so
    that every process stops at the same step); ``value`` itself otherwise."""
    return broadcast(value, world) if needed and world.distributed else value


def spread(world: World) -> str:
    """`` over N processes`` for messages, or nothing for one process."""
    return f" over {world.size} processes" if world.distributed else ""


def resume_state(path, world: World, resume: bool = True):
    """The checkpoint to continue from, or None (no ``resume``, or no file yet).

    Several processes: rank 0 reads it and sends it to the others, so the file need only be on
    its machine; an unreadable file is an error on every process (none waits for a dead one).
    """
    from .checkpoint import load_checkpoint

    required = ("model", "optimizer", "epoch", "history", "config")
    if not resume:
        return None
    if not world.distributed:
        return load_checkpoint(path, map_location=world.device,
                               required=required) if path.is_file() else None
    payload = (None, None)
    if world.is_main and path.is_file():
        try:
            payload = (load_checkpoint(path, map_location="cpu", required=required), None)
        except Exception as err:  # sent to every process, raised by all
            payload = (None, err)
    state, error = broadcast(payload, world)
    if error is not None:
        raise error
    return state


def evaluation_shard(n: int, batch_size: int, world: World) -> list[int]:
    """The image indices this process evaluates: whole batches ``rank, rank + size, ...`` of the
    one-process order, so every image is run in the same batch (the same padding) as one process
    runs it, and the detections, and so the AP, are the same."""
    batches = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
    return [i for batch in batches[world.rank::world.size] for i in batch]


def coco_evaluate(model, dataset, world: World, batch_size: int = 8, device=None,
                  progress: bool = True):
    """COCO AP of ``model`` on ``dataset``, every process detecting on its share of the images
    (:func:`evaluation_shard`); rank 0 gathers all the detections and scores them with
    pycocotools. Returns the metrics of ``evaluate.coco_evaluate`` on rank 0, None elsewhere."""
    from . import evaluate

    model = unwrap(model)  # no DDP collectives in a forward pass: shares may differ in length
    if not world.distributed:
        return evaluate.coco_evaluate(model, dataset, batch_size=batch_size, device=device,
                                      progress=progress)
    mine = evaluation_shard(len(dataset), batch_size, world)
    results = evaluate.predict(model, torch.utils.data.Subset(dataset, mine),
                               batch_size=batch_size, device=device,
                               progress=progress and world.is_main)
    results = gather(results, world)
    return evaluate.score_results(dataset, results) if world.is_main else None
