"""Checkpoint files: atomic writes, and every kind of damage named in one line (never torch's
advice to load with ``weights_only=False``)."""
import json
import pickle

import pytest
import torch

from retina_lesson.checkpoint import (CheckpointError, atomic_write, load_checkpoint,
                                      save_checkpoint, write_json)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.pt"
    save_checkpoint(path, model={"w": torch.ones(3)}, epoch=1, config={}, num_classes=2)
    return path


def damaged(tmp_path, good):
    data = good.read_bytes()
    files = {"empty": b"", "half": data[: len(data) // 2], "head": data[:100],
             "text": b"hello, not a checkpoint\n", "pickle": pickle.dumps({"x": 1}, protocol=4)}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.pt"
        paths[name].write_bytes(content)
    torch.save([1, 2], tmp_path / "list.pt")
    paths["list"] = tmp_path / "list.pt"
    return paths


@pytest.mark.parametrize("kind, words", [("empty", "empty file (0 bytes)"),
                                         ("half", "truncated or damaged"),
                                         ("head", "truncated or damaged"),
                                         ("text", "not a torch checkpoint file"),
                                         ("pickle", "not a checkpoint of this course"),
                                         ("list", "not a checkpoint of this course")])
def test_unreadable_checkpoint_is_one_line_naming_the_file(tmp_path, good, kind, words):
    path = damaged(tmp_path, good)[kind]
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert message.startswith(str(path)) and words in message and "\n" not in message
    assert "weights_only" not in message
    assert err.value.__cause__ is None  # torch's own exception is not chained in
    assert err.value.__context__ is None or err.value.__suppress_context__


def test_checkpoint_without_the_required_keys(good):
    assert load_checkpoint(good, required=("model", "epoch"))["epoch"] == 1
    with pytest.raises(CheckpointError, match=r"good.pt: not a checkpoint of this course \(no history"):
        load_checkpoint(good, required=("model", "history"))
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(good.with_name("none.pt"))


def test_interrupted_write_keeps_the_old_file_and_leaves_no_partial_one(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"AP": 0.5})

    def interrupted(tmp):
        tmp.write_text("{\"AP\": 0.")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupted)
    assert json.loads(path.read_text()) == {"AP": 0.5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_write_json_writes_plain_numbers(tmp_path):
    path = write_json(tmp_path / "m.json", {"AP": float("nan"), "t": torch.tensor([1.5]),
                                            "sizes": (1, 2)})
    assert json.loads(path.read_text()) == {"AP": None, "t": [1.5], "sizes": [1, 2]}
