import json
import math
import warnings

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch.utils.data import DataLoader

from retina_lesson.boxes import box_iou, validate_boxes
from retina_lesson.data import (CLASSES, CocoDataset, collate_fn, hflip, make_shapes,
                                object_sizes, shapes_datasets, shapes_root)
from retina_lesson.photo import DATA_DIR, load_photo
from retina_lesson.shapes import _draw_shape, shapes_config

SMALL = {"num_train": 16, "num_val": 6, "image_size": 128}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes"), progress=False, **SMALL)


def _json(root, split="train"):
    return json.loads((root / f"instances_{split}.json").read_text())


def test_layout_and_coco_fields(shapes):
    for split, n in (("train", 16), ("val", 6)):
        data = _json(shapes, split)
        assert len(data["images"]) == n == len(list((shapes / split).glob("*.png")))
        assert [c["id"] for c in data["categories"]] == [1, 2, 3, 4]
        assert [c["name"] for c in data["categories"]] == list(CLASSES)
        assert data["info"]["config"] == shapes_config(**SMALL)
        for ann in data["annotations"]:
            x, y, w, h = ann["bbox"]
            assert 0 <= x and 0 <= y and x + w <= 128 and y + h <= 128 and w > 0 and h > 0
            assert ann["area"] == w * h and ann["iscrowd"] == 0 and 1 <= ann["category_id"] <= 4
        ids = [a["id"] for a in data["annotations"]]
        assert ids == list(range(1, len(ids) + 1))


@pytest.mark.parametrize("workers", [1, 3])
def test_deterministic_byte_for_byte(shapes, tmp_path, workers):
    # whatever the number of drawing processes (the fixture used the default, one per core)
    again = make_shapes(tmp_path / "again", progress=False, workers=workers, **SMALL)
    for split in ("train", "val"):
        name = f"instances_{split}.json"
        assert (again / name).read_bytes() == (shapes / name).read_bytes()
    for png in ("train/000003.png", "val/000002.png"):
        assert (again / png).read_bytes() == (shapes / png).read_bytes()


def _pixels(root, split, name):
    return np.asarray(Image.open(root / split / name), dtype=np.int16)


def _outside_boxes(data, image, dilate=1):
    """Mask of the pixels outside every annotated box of ``image`` (grown by ``dilate``)."""
    mask = np.ones((image["height"], image["width"]), dtype=bool)
    for ann in data["annotations"]:
        if ann["image_id"] == image["id"]:
            x, y, w, h = ann["bbox"]
            mask[max(y - dilate, 0):y + h + dilate, max(x - dilate, 0):x + w + dilate] = False
    return mask


def test_regular_shapes_same_objects_only_triangles_and_crosses_change(shapes, tmp_path):
    regular = make_shapes(tmp_path / "regular", progress=False, regular_shapes=True, **SMALL)
    a, b = _json(shapes), _json(regular)
    assert b["info"]["config"] == shapes_config(regular_shapes=True, **SMALL)
    assert a["annotations"] == b["annotations"] and a["images"] == b["images"]  # paired data
    triangles_and_crosses = {"annotations": [x for x in a["annotations"]
                                             if x["category_id"] in (3, 4)]}
    changed = 0
    for image in a["images"]:
        diff = (_pixels(shapes, "train", image["file_name"]) !=
                _pixels(regular, "train", image["file_name"])).any(axis=2)
        outside = _outside_boxes(triangles_and_crosses, image, dilate=0)
        assert not diff[outside].any()  # only inside their boxes
        changed += int(diff.any())
    assert changed >= 4


@pytest.mark.parametrize("cat", [3, 4])
def test_regular_shapes_are_mirror_symmetric(cat):
    def mismatch(regular, seed):
        img = Image.new("L", (80, 80))
        _draw_shape(ImageDraw.Draw(img), np.random.default_rng(seed), cat, [5, 5, 30, 30], 255,
                    regular)
        m = np.asarray(img)[10:70, 10:70] > 0  # the box, drawn at twice the size
        return min((m != m[:, ::-1]).mean(), (m != m[::-1]).mean())
    assert max(mismatch(True, seed) for seed in range(8)) < 0.03
    assert max(mismatch(False, seed) for seed in range(8)) > 0.1


def test_without_distractors_the_background_is_a_plane_plus_noise(shapes, tmp_path):
    plain = make_shapes(tmp_path / "plain", progress=False, distractors=False, **SMALL)
    data = _json(plain)
    assert data["annotations"] == _json(shapes)["annotations"]

    def largest_residual(root, image):
        """Largest deviation of background pixels from a fitted plane (the gradient)."""
        pixels, keep = _pixels(root, "train", image["file_name"]), _outside_boxes(data, image)
        ys, xs = np.nonzero(keep)
        design = np.stack([xs, ys, np.ones_like(xs)], axis=1).astype(float)
        values = pixels[keep].astype(float)
        fit = np.linalg.lstsq(design, values, rcond=None)[0]
        return np.abs(values - design @ fit).max()
    # noise has a standard deviation of at most 10 grey levels; a stroke stands out further
    assert max(largest_residual(plain, im) for im in data["images"]) < 60
    assert sum(largest_residual(shapes, im) > 60 for im in data["images"]) >= 8


def test_skip_when_config_matches_and_regenerate_when_not(tmp_path):
    root = make_shapes(tmp_path / "s", num_train=4, num_val=2, progress=False)
    stamp = (root / "instances_train.json").stat().st_mtime_ns
    first = (root / "instances_train.json").read_bytes()
    make_shapes(root, num_train=4, num_val=2, progress=False)
    assert (root / "instances_train.json").stat().st_mtime_ns == stamp  # skipped
    make_shapes(root, num_train=3, num_val=2, seed=1, progress=False)  # another config
    data = _json(root)
    assert data["info"]["config"]["seed"] == 1 and len(data["images"]) == 3
    assert (root / "instances_train.json").read_bytes() != first
    assert sorted(p.name for p in (root / "train").glob("*.png")) == [
        "000001.png", "000002.png", "000003.png"]  # the 4th image of the old config is gone
    (root / "train" / "000002.png").unlink()  # an incomplete folder is regenerated
    make_shapes(root, num_train=3, num_val=2, seed=1, progress=False)
    assert (root / "train" / "000002.png").is_file()


def test_refuses_to_overwrite_a_foreign_dataset(tmp_path):
    (tmp_path / "instances_train.json").write_text('{"images": []}')
    with pytest.raises(FileExistsError, match="instances_train.json"):
        make_shapes(tmp_path, num_train=2, num_val=1, progress=False)


def test_object_statistics(tmp_path):
    root = make_shapes(tmp_path / "stats", num_train=80, num_val=1, image_size=128,
                       empty_fraction=0.2, progress=False)
    data = _json(root)
    per_image = {}
    for ann in data["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann["bbox"])
    assert 0 < 80 - len(per_image) < 40  # some images are background only
    sizes = [math.sqrt(w * h) for _, _, w, h in (a["bbox"] for a in data["annotations"])]
    assert min(sizes) < 16 and max(sizes) > 64  # small to large: every pyramid level has objects
    assert {a["category_id"] for a in data["annotations"]} == {1, 2, 3, 4}
    for bboxes in per_image.values():  # overlaps allowed, heavy occlusion not
        xyxy = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in bboxes], dtype=torch.float32)
        iou = box_iou(xyxy, xyxy).fill_diagonal_(0)
        assert iou.max() <= 0.5


def test_larger_images_have_coco_large_objects(tmp_path):
    root = make_shapes(tmp_path / "big", num_train=12, num_val=1, image_size=256, progress=False)
    areas = [a["area"] for a in _json(root)["annotations"]]
    assert max(areas) > 96 ** 2 and min(areas) < 32 ** 2


def test_shapes_root_quick_and_full_differ(tmp_path):
    assert shapes_root(True) != shapes_root(False)
    assert shapes_root(False, base=tmp_path) == tmp_path / "shapes"


def test_dataset_items_and_loader(shapes):
    train, val = shapes_datasets(shapes)
    image, target = val[0]
    assert image.shape == (3, 128, 128) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1
    assert target["boxes"].dtype == torch.float32 and target["labels"].dtype == torch.int64
    validate_boxes(target["boxes"])
    assert target["image_id"] == 1 and len(train) == 16 and len(val) == 6
    assert val.class_names == {1: "circle", 2: "rectangle", 3: "triangle", 4: "cross"}
    assert val.num_classes == 5
    images, targets = next(iter(DataLoader(val, batch_size=4, collate_fn=collate_fn)))
    assert len(images) == len(targets) == 4 and isinstance(images, list)
    sizes, labels = object_sizes(val)
    assert len(sizes) == len(labels) == sum(len(val.target(i)["boxes"]) for i in range(len(val)))


def test_flip_is_correct_and_deterministic(shapes):
    plain = CocoDataset(shapes / "val", shapes / "instances_val.json")
    flip = CocoDataset(shapes / "val", shapes / "instances_val.json", train=True, flip_prob=1.0)
    (img, tgt), (fimg, ftgt) = plain[0], flip[0]
    assert torch.equal(fimg, img.flip(-1))
    assert torch.equal(ftgt["boxes"][:, [0, 2]], 128 - tgt["boxes"][:, [2, 0]])
    assert torch.equal(ftgt["boxes"][:, [1, 3]], tgt["boxes"][:, [1, 3]])
    twice = hflip(*hflip(img, tgt))
    assert torch.equal(twice[1]["boxes"], tgt["boxes"])

    def flips(seed):
        ds = CocoDataset(shapes / "val", shapes / "instances_val.json", train=True, generator=seed)
        return [bool((ds[i][0] != plain[i][0]).any()) for i in range(len(ds)) for _ in range(2)]

    assert flips(3) == flips(3) and any(flips(3)) and not all(flips(3))


def test_cache_none_keeps_images_in_memory_when_they_fit(shapes, tmp_path):
    import shutil
    folder = shutil.copytree(shapes / "val", tmp_path / "val")
    ann = shapes / "instances_val.json"
    fits = CocoDataset(folder, ann, cache=None)                    # 6 x 48 KiB < 1 GiB
    too_big = CocoDataset(folder, ann, cache=None, cache_bytes=1000)
    first = fits.load(0)[0]
    too_big.load(0)
    (folder / "000001.png").unlink()
    torch.testing.assert_close(fits.load(0)[0], first)            # served from memory
    with pytest.raises(FileNotFoundError):
        too_big.load(0)                                            # read from disk each time


def test_astronaut_coco_file():
    ds = CocoDataset(DATA_DIR, DATA_DIR / "astronaut.json")
    image, target = ds[0]
    ref_image, ref_target, names = load_photo()
    assert torch.equal(image, ref_image)
    assert torch.equal(target["boxes"], ref_target["boxes"])
    assert target["labels"].tolist() == ref_target["labels"].tolist() and ds.class_names == names
    assert ds.skipped == {}


def _coco(tmp_path, annotations, images=None, categories=None, image_size=(20, 30)):
    from PIL import Image

    (tmp_path / "img").mkdir(exist_ok=True)
    Image.new("RGB", (image_size[1], image_size[0])).save(tmp_path / "img" / "a.png")
    data = {"images": images if images is not None else
            [{"id": 7, "file_name": "a.png", "height": image_size[0], "width": image_size[1]}],
            "annotations": annotations,
            "categories": categories or [{"id": 1, "name": "thing"}, {"id": 3, "name": "other"}]}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    return tmp_path / "img", tmp_path / "ann.json"


def _ann(i, bbox, cat=1, **kw):
    return {"id": i, "image_id": 7, "category_id": cat, "bbox": bbox, **kw}


def test_clipping_skips_and_warning(tmp_path):
    anns = [_ann(1, [2, 3, 4, 5]), _ann(2, [-5, 10, 10, 20], cat=3),  # clipped to the image
            _ann(3, [40, 0, 5, 5]),                                    # outside: empty after clip
            _ann(4, [1, 1, 0, 4]),                                     # zero width
            _ann(5, [0, 0, 10, 10], iscrowd=1)]
    with pytest.warns(UserWarning, match="skipped 3 annotation"):
        ds = CocoDataset(*_coco(tmp_path, anns))
    assert ds.skipped == {"empty after clipping": 2, "iscrowd": 1} and ds.clipped == 1
    _, target = ds[0]
    assert torch.equal(target["boxes"], torch.tensor([[2.0, 3, 6, 8], [0, 10, 5, 20]]))
    assert target["labels"].tolist() == [1, 3] and target["image_id"] == 7


def test_image_without_objects(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = CocoDataset(*_coco(tmp_path, []))
    image, target = ds[0]
    assert image.shape == (3, 20, 30) and target["boxes"].shape == (0, 4)
    assert target["labels"].shape == (0,)


def test_missing_files_name_the_path(tmp_path):
    img, ann = _coco(tmp_path, [])
    with pytest.raises(FileNotFoundError, match="nope.json"):
        CocoDataset(img, tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError, match="no_folder"):
        CocoDataset(tmp_path / "no_folder", ann)
    (img / "a.png").unlink()
    with pytest.raises(FileNotFoundError, match="a.png"):
        CocoDataset(img, ann)


@pytest.mark.parametrize("text, problem", [
    ("{not json", "malformed JSON"),
    ("[]", "top level"),
    ('{"images": [], "annotations": []}', "categories"),
    ('{"images": [{"id": 1}], "annotations": [], "categories": []}', "file_name"),
    ('{"images": [], "annotations": [{"id": 1}], "categories": []}', "image_id"),
    ('{"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}, '
     '{"id": 1, "name": "b"}]}', "id 1 appears more than once in 'categories'"),
    ('{"images": [{"id": 7, "file_name": "a.png", "width": "640", "height": 480}], '
     '"annotations": [], "categories": []}', "image id 7 has a bad size '640' x 480"),
    ('{"images": [{"id": 7, "file_name": "a.png", "width": 640, "height": 0}], '
     '"annotations": [], "categories": []}', "image id 7 has a bad size 640 x 0"),
])
def test_malformed_json_names_file_and_problem(tmp_path, text, problem):
    img, ann = _coco(tmp_path, [])
    ann.write_text(text)
    with pytest.raises(ValueError, match=problem) as err:
        CocoDataset(img, ann)
    assert "ann.json" in str(err.value)


def test_unknown_category_and_bad_boxes(tmp_path):
    with pytest.raises(ValueError, match=r"annotation id 9 has unknown category id 2"):
        CocoDataset(*_coco(tmp_path, [_ann(9, [0, 0, 2, 2], cat=2)]))
    with pytest.raises(ValueError, match=r"annotation id 4 has a bad bbox"):
        CocoDataset(*_coco(tmp_path, [_ann(4, [0, 0, 2])]))
    with pytest.raises(ValueError, match=r"unknown image id 8"):
        CocoDataset(*_coco(tmp_path, [{**_ann(5, [0, 0, 2, 2]), "image_id": 8}]))


def test_dataset_figures(shapes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from retina_lesson import viz

    train, _ = shapes_datasets(shapes)
    fig = viz.show_dataset_grid(train, ncols=3, nrows=1)
    assert len(fig.axes) == 3 and fig.axes[0].patches
    ax = viz.plot_object_sizes(train, anchor_sizes=(8, 16, 32, 64, 128))
    assert len(ax.get_legend().get_texts()) == 6  # objects + 5 levels
    ax = viz.plot_class_balance(train)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASSES)
    plt.close("all")
