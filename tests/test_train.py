"""The training loop: loss falls, checkpoints are atomic and resumable, NaN stops cleanly."""
import math
from dataclasses import asdict

import pytest
import torch

from retina_lesson import train as train_module
from retina_lesson.train_cli import command_line_config, train_parser
from retina_lesson.data import shapes_datasets
from retina_lesson.shapes import make_shapes
from retina_lesson.train import (NonFiniteLoss, TrainConfig, build_model, finished_run,
                                 learning_rate, load_checkpoint, main, model_from_checkpoint,
                                 quick_config, run_state, save_checkpoint, train)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp("shapes"), num_train=32, num_val=8, image_size=64,
                       progress=False)
    return shapes_datasets(root, progress=False)


def tiny_config(**kw):
    return TrainConfig(**{"epochs": 2, "batch_size": 8, "fpn_channels": 16, "warmup_iters": 2,
                          "anchor_sizes": (8, 16, 32, 64, 128), **kw})


def test_train_saves_resumes_and_reloads(tiny_data, tmp_path):
    train_set, val_set = tiny_data
    model, history = train(tiny_config(epochs=1), train_set, tmp_path, progress=False)
    assert len(history) == 4 and all(math.isfinite(h["classification"]) for h in history)
    state = load_checkpoint(tmp_path / "last.pt")  # weights_only=True
    assert state["epoch"] == 1 and not (tmp_path / "last.pt.tmp").exists()
    with pytest.raises(ValueError, match="another configuration"):
        train(tiny_config(epochs=2), train_set, tmp_path, resume=True, progress=False)
    same = tiny_config(epochs=1)
    _, again = train(same, train_set, tmp_path, resume=True, progress=False)
    assert again == history  # nothing left to do: the finished run is returned as it was
    reloaded = model_from_checkpoint(tmp_path / "last.pt", device="cpu")
    image = val_set[0][0]
    with torch.no_grad():
        a, b = model.eval()([image]), reloaded([image])
    torch.testing.assert_close(a[0]["scores"], b[0]["scores"])


def test_resume_continues_where_it_stopped(tiny_data, tmp_path):
    train_set, _ = tiny_data
    config = tiny_config(epochs=2)
    _, full = train(config, train_set, tmp_path / "a", progress=False)

    class Stop(Exception):
        pass

    def stop_after_first(epoch, model):
        if epoch == 0:
            raise Stop

    with pytest.raises(Stop):
        train(config, train_set, tmp_path / "b", progress=False, on_epoch_end=stop_after_first)
    _, resumed = train(config, train_set, tmp_path / "b", resume=True, progress=False)
    assert [h["iter"] for h in resumed] == [h["iter"] for h in full]
    assert resumed[-1]["classification"] == pytest.approx(full[-1]["classification"], rel=1e-4)


class WithNaNImage(torch.utils.data.Dataset):
    """The shapes data with one image full of NaN (a corrupt input)."""

    def __init__(self, base):
        self.base, self.num_classes = base, base.num_classes

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        image, target = self.base[i]
        return (image * float("nan"), target) if i == 3 else (image, target)


def test_nan_loss_stops_with_clear_error_and_writes_no_checkpoint(tiny_data, tmp_path):
    train_set, _ = tiny_data
    with pytest.raises(NonFiniteLoss, match=r"loss became nan at iteration \d+ \(epoch 1\)"):
        train(tiny_config(epochs=1), WithNaNImage(train_set), tmp_path, progress=False)
    assert not (tmp_path / "last.pt").exists()


def test_atomic_save_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, value=torch.tensor(1))

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # a kill in the middle of torch.save

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, value=torch.tensor(2))
    assert load_checkpoint(path)["value"].item() == 1


def test_learning_rate_schedules():
    cfg = TrainConfig(lr=0.01, warmup_iters=10)
    assert learning_rate(cfg, 0, 100) == pytest.approx(0.01 / 3)
    assert learning_rate(cfg, 10, 100) == pytest.approx(0.01)
    assert learning_rate(cfg, 100, 100) == pytest.approx(0.0, abs=1e-12)
    step = TrainConfig(lr=0.01, warmup_iters=0, schedule="step")
    assert [learning_rate(step, i, 90) for i in (0, 60, 80)] == pytest.approx([0.01, 0.001, 0.0001])
    # a time budget: the schedule follows whichever runs out first, iterations or time
    assert learning_rate(cfg, 55, 100, time_spent=0.5) == pytest.approx(0.005)   # time is ahead
    assert learning_rate(cfg, 55, 100, time_spent=0.1) == pytest.approx(0.005)   # iterations are
    assert learning_rate(cfg, 20, 100, time_spent=1.0) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(cfg, 5, 100, time_spent=0.9) == learning_rate(cfg, 5, 100)  # warm-up first
    assert learning_rate(step, 10, 90, time_spent=0.7) == pytest.approx(0.001)


class FakeClock:
    """A clock that advances ``step`` seconds each time it is read: the run's timing no longer
    depends on the machine's speed or load."""

    def __init__(self, step=0.25):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_time_budget_stops_training_and_finishes_the_run(tiny_data, tmp_path, monkeypatch):
    train_set, _ = tiny_data
    monkeypatch.setattr(train_module, "clock", FakeClock(0.25))
    config = tiny_config(epochs=10_000, minutes=0.05)   # 3 seconds, far fewer than 10,000 epochs
    _, history = train(config, train_set, tmp_path, progress=False)
    iterations = 10_000 * 4
    # the clock is read at each epoch's start and end and before each step (0.25 s a read):
    # epochs 1 and 2 make their 4 steps in 1.25 s each; in epoch 3 the second check finds the
    # 3 s spent, after 1 step
    assert len(history) == 4 + 4 + 1 and [h["epoch"] for h in history[-3:]] == [1, 1, 2]
    last = history[-1]
    assert last["lr"] < 0.5 * learning_rate(config, last["iter"], iterations)  # time ran out first
    lrs = [h["lr"] for h in history if h["iter"] >= config.warmup_iters]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))   # decaying as the time goes
    state = finished_run(tmp_path / "last.pt", config)
    assert state is not None and state["seconds"] == 3.25 and state["epoch"] == 3
    _, again = train(config, train_set, tmp_path, resume=True, progress=False)
    assert again == history                            # the budget is spent: nothing more to do
    with pytest.raises(ValueError, match="minutes must be a positive number"):
        TrainConfig(minutes=0)


def test_missing_checkpoint_and_bad_options(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "none.pt")
    with pytest.raises(ValueError, match="preset"):
        TrainConfig(preset="fast").model_kwargs()


def test_presets_set_gamma_and_config_sets_backbone_width():
    assert TrainConfig().focal_gamma == 1.0 and TrainConfig(preset="paper").focal_gamma == 2.0
    assert TrainConfig(preset="paper", focal_gamma=0.5).model_kwargs()["focal_gamma"] == 0.5
    assert TrainConfig(preset="paper").model_kwargs()["focal_gamma"] == 2.0
    model = build_model(5, TrainConfig(backbone_width=16, fpn_channels=8))
    assert model.backbone.out_channels == [32, 64, 128] and model.focal_gamma == 1.0


def test_checkpoint_written_before_backbone_width_loads_at_width_32(tmp_path):
    config = TrainConfig(backbone_width=32, fpn_channels=8)
    saved = asdict(config)
    del saved["backbone_width"]
    save_checkpoint(tmp_path / "old.pt", model=build_model(5, config).state_dict(), config=saved,
                    num_classes=5)
    assert model_from_checkpoint(tmp_path / "old.pt", "cpu").backbone.out_channels == [64, 128, 256]


def test_command_line_trains_with_its_options_and_prints_the_ap_table(tiny_data, tmp_path, capsys):
    root = tiny_data[0].image_dir.parent
    metrics = main(["--quick", "--data", str(root), "--out", str(tmp_path), "--no-progress",
                    "--epochs", "2", "--minutes", "10", "--lr", "0.002"])
    out = capsys.readouterr().out
    assert "32 images, 2 epochs or 10 minutes" in out and "trained in" in out and "AP50" in out
    assert set(metrics) >= {"AP", "AP50", "AP75"}
    config = load_checkpoint(tmp_path / "last.pt")["config"]
    assert (config["epochs"], config["minutes"], config["lr"]) == (2, 10.0, 0.002)


def test_command_line_options_make_the_configuration():
    def config(*argv, quick=False):
        return command_line_config(train_parser().parse_args(list(argv)), quick)

    assert config() == TrainConfig()                  # lesson 10's run: no time limit
    assert config("--minutes", "5") == TrainConfig(minutes=5)
    assert config("--epochs", "30", "--batch-size", "16") == TrainConfig(epochs=30, batch_size=16)
    assert config("--preset", "paper", "--lr", "0.01") == TrainConfig(preset="paper", lr=0.01)
    assert config(quick=True) == quick_config()
    with pytest.raises(SystemExit):                   # checked by the parser (test_cli.py)
        config("--minutes", "0")


def test_checkpoint_written_before_minutes_existed_still_matches_its_configuration(tmp_path):
    config = TrainConfig(epochs=1, fpn_channels=8)
    saved = asdict(config)
    del saved["minutes"]                               # a field added later
    save_checkpoint(tmp_path / "old.pt", config=saved, epoch=1)
    assert run_state(tmp_path / "old.pt", config) is not None
    assert finished_run(tmp_path / "old.pt", config) is not None
    assert run_state(tmp_path / "old.pt", TrainConfig(epochs=1, fpn_channels=8, minutes=5)) is None


def test_channels_last_is_a_layout_not_another_model(tiny_data):
    """channels_last stores the feature maps NHWC (faster convolutions on a CPU): the same weights
    and the same losses; a checkpoint of either layout loads into the other."""
    train_set, _ = tiny_data
    images, targets = zip(*[train_set[i] for i in range(4)])
    nchw = build_model(5, tiny_config(channels_last=False)).train()
    nhwc = build_model(5, tiny_config(channels_last=True)).train()
    conv = nhwc.backbone.layer1[0].conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert nchw.backbone.layer1[0].conv1.weight.is_contiguous()
    for a, b in zip(nchw.state_dict().values(), nhwc.state_dict().values()):
        assert torch.equal(a, b)
    la, lb = nchw(list(images), list(targets)), nhwc(list(images), list(targets))
    for k in la:
        assert torch.allclose(la[k], lb[k], rtol=1e-4, atol=1e-6), k
    nchw.load_state_dict(nhwc.state_dict())
