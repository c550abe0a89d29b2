"""Data-parallel training under torchrun (gloo on the CPU): 2 processes train as one does.

The torchrun tests start ``python -m torch.distributed.run --standalone`` (its rendezvous picks a
free port) with 2 processes on tiny data. This file is also the worker script of the first one
(``python tests/test_distributed.py --worker OUT DATA``).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from retina_lesson import distributed as dd
from retina_lesson.checkpoint import load_checkpoint, model_from_checkpoint
from retina_lesson.data import CocoDataset, collate_fn, make_shapes
from retina_lesson.evaluate import coco_evaluate
from retina_lesson.train import TrainConfig, main, train

# Tolerance of "the same parameters": DDP averages the two processes' gradients of 2 images
# each where one process averages 4 images' losses: the same sum, added in another order (and 1
# thread per process instead of 2). After three AdamW steps (lr 4e-3) the weights differ by at
# most 1.5e-6 (measured); training on half the batch instead moves them by 1.6e-2.
ATOL, RTOL = 2e-5, 1e-4


def equal_config(**kw):
    """3 steps of 4 images: one batch per epoch, so 1 and 2 processes take the same images
    (BatchNorm frozen: per-process batch statistics would differ, as in torchvision's scripts)."""
    return TrainConfig(**{"epochs": 3, "batch_size": 4, "fpn_channels": 16, "warmup_iters": 2,
                          "backbone_width": 8, "anchor_sizes": (8, 16, 32, 64, 128),
                          "model_overrides": {"frozen_bn": True}, **kw})


def unflipped(root):
    return CocoDataset(root / "train", root / "instances_train.json", train=True, flip_prob=0.0)


def torchrun(*args, cwd, timeout=600):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           *args]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"torchrun failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def worker(out, data):
    """Under torchrun: train ``equal_config`` with DDP; each rank notes what it saw."""
    world = dd.init_world(torch.device("cpu"))
    loader, sampler = dd.train_loader(unflipped(Path(data)), 4, world, collate_fn=collate_fn)
    seen = []
    for epoch in range(3):
        dd.set_epoch(sampler, epoch)
        seen.append([t["image_id"] for _, targets in loader for t in targets])
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / f"rank{world.rank}.json").write_text(json.dumps(
        {"rank": world.rank, "size": world.size, "backend": dd.backend(world), "seen": seen}))
    train(equal_config(), unflipped(Path(data)), out, progress=False, world=world)
    dd.close_world(world)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes"), num_train=8, num_val=12, image_size=64,
                       progress=False)


def test_each_process_takes_its_share_of_every_global_batch():
    data = list(range(12))
    worlds = [dd.World(rank=r, size=2) for r in range(2)]
    loaders = [dd.train_loader(data, 4, w, collate_fn=list, seed=3) for w in worlds]
    orders = []
    for epoch in range(2):
        for _, sampler in loaders:
            dd.set_epoch(sampler, epoch)
        steps = list(zip(*(loader for loader, _ in loaders)))
        assert len(steps) == 3 and all(len(b) == 2 for step in steps for b in step)
        order = [i for step in steps for b in step for i in b]
        assert sorted(order) == data  # every image once per epoch, in batches of 2 + 2
        orders.append(order)
    assert orders[0] != orders[1]  # set_epoch: a new order every epoch
    with pytest.raises(ValueError, match="batch size 6 .* does not divide evenly over 4 processes"):
        dd.per_process_batch(6, dd.World(size=4))


def test_loader_workers_and_pinned_memory_and_bad_options(tmp_path, capsys):
    loader, sampler = dd.train_loader(list(range(8)), 4, dd.World(), collate_fn=list,
                                      num_workers=2, pin_memory=True)
    assert sampler is None and loader.num_workers == 2 and loader.pin_memory
    assert not loader.persistent_workers  # reseeded every epoch: a resumed run flips alike
    for argv, message in ((["--workers", "-1"], "'-1' is not a whole number >= 0"),
                          (["--device", "tpu"], "invalid choice: 'tpu'")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit) as exit_:
            main(["--device", "cuda", "--out", str(tmp_path)])
        err = capsys.readouterr().err
        assert exit_.value.code == 1 and err.count("\n") == 1
        assert "--device cuda: PyTorch sees no CUDA GPU on this machine" in err


def test_evaluation_shards_are_whole_batches_of_the_one_process_order():
    shards = [dd.evaluation_shard(10, 3, dd.World(rank=r, size=2)) for r in range(2)]
    assert shards == [[0, 1, 2, 6, 7, 8], [3, 4, 5, 9]]
    assert dd.evaluation_shard(10, 3, dd.World()) == list(range(10))


def test_two_processes_give_the_parameters_of_one(tiny, tmp_path):
    data = tiny.parent / "four"  # 4 training images: one global batch per epoch
    if not data.exists():
        make_shapes(data, num_train=4, num_val=2, image_size=64, progress=False)
    torchrun(__file__, "--worker", str(tmp_path / "ddp"), str(data), cwd=tmp_path)
    ranks = [json.loads((tmp_path / "ddp" / f"rank{r}.json").read_text()) for r in range(2)]
    assert [(r["rank"], r["size"], r["backend"]) for r in ranks] == [(0, 2, "gloo"), (1, 2, "gloo")]
    for epoch in range(3):  # disjoint halves of the same 4 images
        halves = [r["seen"][epoch] for r in ranks]
        assert len(halves[0]) == len(halves[1]) == 2 and sorted(sum(halves, [])) == [1, 2, 3, 4]
    state = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert state["epoch"] == 3 and len(state["history"]) == 3
    model, history = train(equal_config(), unflipped(data), tmp_path / "one", progress=False,
                           device="cpu")
    ours = model.state_dict()
    moved = max((ours[k] - v).abs().max().item() for k, v in
                model_from_checkpoint(tmp_path / "one" / "last.pt", "cpu").state_dict().items())
    assert moved == 0.0  # the one-process checkpoint is the model it returned
    for key, value in state["model"].items():
        torch.testing.assert_close(value, ours[key], atol=ATOL, rtol=RTOL, msg=key)
    for a, b in zip(state["history"], history):  # the losses of the global batch, logged
        assert a["classification"] == pytest.approx(b["classification"], rel=1e-4)
    # a checkpoint written under torchrun loads in one process
    reloaded = model_from_checkpoint(tmp_path / "ddp" / "last.pt", "cpu")
    for key, value in reloaded.state_dict().items():
        assert torch.equal(value, state["model"][key])


def test_command_line_under_torchrun_trains_checkpoints_resumes_and_evaluates(tiny, tmp_path):
    out = tmp_path / "run"
    args = ["-m", "retina_lesson.train", "--quick", "--data", str(tiny), "--out", str(out),
            "--batch-size", "4", "--no-progress"]
    first = torchrun(*args, cwd=tmp_path).splitlines()
    assert first[0].startswith("training on 2 processes (cpu, gloo, 1 thread each; "
                               "batch 4 = 2 x 2)")
    assert sum(line.startswith("training on") for line in first) == 1  # rank 0 alone prints
    state = load_checkpoint(out / "last.pt")
    assert state["epoch"] == 1 and len(state["history"]) == 2  # 8 images, 4 a step
    record = json.loads((out / "metrics.json").read_text())
    assert record["processes"] == 2 and record["iterations"] == 2
    second = torchrun(*args, "--resume", "--epochs", "2", cwd=tmp_path).splitlines()
    assert "2 epochs, from epoch 1" in second[0]
    state = load_checkpoint(out / "last.pt")
    assert state["epoch"] == 2 and len(state["history"]) == 4
    # the AP gathered from both processes is one process's AP of the same checkpoint
    _, val = unflipped(tiny), CocoDataset(tiny / "val", tiny / "instances_val.json")
    alone = coco_evaluate(model_from_checkpoint(out / "last.pt", "cpu"), val, progress=False)
    gathered = json.loads((out / "metrics.json").read_text())
    gathered = next(iter(gathered["evaluations"].values()))["metrics"]
    for key in ("AP", "AP50", "AP75"):
        assert gathered[key] == pytest.approx(alone[key], abs=1e-6), key


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_path_one_process_amp_workers_pinned_memory(tiny, tmp_path, capsys):
    out = tmp_path / "gpu"
    main(["--quick", "--data", str(tiny), "--out", str(out), "--batch-size", "4", "--device",
          "cuda", "--amp", "--workers", "2", "--no-progress"])
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("training on cuda (") and "mixed precision (float16)" in first
    state = load_checkpoint(out / "last.pt")
    assert state["amp"] and len(state["history"]) == 2


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA GPUs (NCCL)")
def test_two_gpus_nccl_train_and_resume(tiny, tmp_path):
    out = tmp_path / "nccl"
    args = ["-m", "retina_lesson.train", "--quick", "--data", str(tiny), "--out", str(out),
            "--batch-size", "4", "--device", "cuda", "--no-progress"]
    first = torchrun(*args, cwd=tmp_path).splitlines()[0]
    assert first.startswith("training on 2 processes (cuda, nccl,")
    torchrun(*args, "--resume", "--epochs", "2", cwd=tmp_path)
    assert len(load_checkpoint(out / "last.pt")["history"]) == 4


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    worker(*sys.argv[2:4])
