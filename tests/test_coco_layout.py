"""The COCO folder layouts: the standard 2017 release's and the course's own (coco_layout)."""
import shutil

import pytest
import torch
from torchvision.models import resnet18

from retina_lesson.checkpoint import load_checkpoint
from retina_lesson.coco_layout import coco_datasets, find_layout, split_files
from retina_lesson.data import make_shapes
from retina_lesson.train import main


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("course"), progress=False, num_train=6, num_val=3,
                       image_size=64)


def as_coco2017(course, root):
    """The same images and annotations, arranged as the COCO 2017 release is."""
    (root / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        shutil.copytree(course / split, root / f"{split}2017")
        shutil.copy(course / f"instances_{split}.json",
                    root / "annotations" / f"instances_{split}2017.json")
    return root


def test_standard_layout_reads_the_same_data_as_the_course_layout(course, tmp_path):
    coco = as_coco2017(course, tmp_path / "coco")
    layout = find_layout(coco)
    assert layout.name == "coco2017" and layout.standard
    assert layout.images["val"] == coco / "val2017"
    assert layout.annotations["train"] == coco / "annotations" / "instances_train2017.json"
    assert find_layout(course).name == "course" and not find_layout(course).standard
    (train, val), (train0, val0) = coco_datasets(coco), coco_datasets(course)
    assert (len(train), len(val)) == (6, 3) and train.num_classes == train0.num_classes == 5
    assert train.train and not val.train  # flips for training only (Sec. 4.1)
    for a, b in ((train, train0), (val, val0)):
        for i in range(len(a)):
            (img, t), (img0, t0) = a.load(i), b.load(i)
            assert img.equal(img0) and t["boxes"].equal(t0["boxes"])
            assert t["labels"].equal(t0["labels"])


def test_val_only_layout_is_enough_to_evaluate(course, tmp_path):
    coco = as_coco2017(course, tmp_path / "coco")
    shutil.rmtree(coco / "train2017")
    assert find_layout(coco, splits=("val",)).images == {"val": coco / "val2017"}
    assert split_files(coco, "val") == (coco / "val2017",
                                        coco / "annotations" / "instances_val2017.json")
    assert split_files(course, "test") == (course / "test", course / "instances_test.json")
    with pytest.raises(FileNotFoundError, match="train2017/"):
        find_layout(coco)


@pytest.mark.parametrize("remove, named", [
    ("annotations/instances_val2017.json", "lacks annotations/instances_val2017.json"),
    ("val2017", "lacks val2017/"),
])
def test_incomplete_standard_layout_names_what_is_missing(course, tmp_path, remove, named):
    coco = as_coco2017(course, tmp_path / "coco")
    path = coco / remove
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    with pytest.raises(FileNotFoundError) as err:
        find_layout(coco)
    message = str(err.value)
    assert "\n" not in message and named in message and "COCO 2017 layout" in message


def test_incomplete_course_layout_and_missing_folder(course, tmp_path):
    partial = tmp_path / "mine"
    shutil.copytree(course, partial)
    (partial / "instances_val.json").unlink()
    with pytest.raises(FileNotFoundError, match="the course layout lacks instances_val.json;"):
        find_layout(partial)
    with pytest.raises(FileNotFoundError, match="nowhere does not exist; expected the COCO 2017"):
        find_layout(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="empty holds no COCO data; expected the COCO 2017"):
        find_layout(empty)
    with pytest.raises(ValueError, match="splits must be"):
        find_layout(course, splits=("test",))


def test_preset_paper_on_a_coco2017_folder_takes_the_papers_recipe(course, tmp_path, capsys,
                                                                   monkeypatch):
    coco = as_coco2017(course, tmp_path / "coco")
    torch.manual_seed(0)
    weights = tmp_path / "resnet18_imagenet.pth"  # made here: nothing is downloaded
    torch.save(resnet18(weights=None).state_dict(), weights)
    out = tmp_path / "run"
    monkeypatch.setenv("RETINA_LESSON_QUICK", "0")  # the real recipe, cut to 2 iterations
    main(["--preset", "paper", "--data", str(coco), "--backbone", "resnet18", "--backbone-weights",
          str(weights), "--batch-size", "2", "--image-size", "64", "--iterations", "2",
          "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert "6 images, 240000 epochs (at most 2 steps)" in printed and "AP50" in printed
    assert "1 of 240000 epochs - 2 steps came first" in printed
    state = load_checkpoint(out / "last.pt")
    config = state["config"]
    assert len(state["history"]) == 2 and config["iterations"] == 2
    # Sec. 4.1 at a global batch of 2: lr 0.01 x 2/16, 90k x 16/2 iterations (cut to 2 here)
    assert (config["optimizer"], config["schedule"]) == ("sgd", "step")
    assert config["weight_decay"] == 1e-4
    assert config["lr"] == pytest.approx(0.00125) and config["warmup_iters"] == 4000
    assert config["epochs"] == 720_000 // 3 and config["grad_clip"] == 0.0
    assert tuple(config["anchor_sizes"]) == (32, 64, 128, 256, 512)
    assert config["model_overrides"] == {"p6_from": "c5"} and config["fpn_channels"] == 256
    assert config["backbone_weights"] == str(weights.resolve())
    stem = torch.load(weights)["conv1.weight"]  # frozen: still the file's weights after training
    assert torch.equal(state["model"]["backbone.conv1.weight"], stem)
    assert "backbone.bn1.num_batches_tracked" not in state["model"]  # FrozenBatchNorm2d
    # the evaluation command line reads the same folder (the run's metrics.json names it)
    from retina_lesson import evaluate

    metrics = evaluate.main(["--checkpoint", str(out / "last.pt"), "--no-progress"])
    assert "COCO AP on coco val (3 images)" in capsys.readouterr().out and "AP50" in metrics
