import contextlib
import io

import numpy as np
import pytest
import torch
from pycocotools.cocoeval import COCOeval

from retina_lesson.data import CocoDataset, make_shapes
from retina_lesson.evaluate import (METRICS, PAPER_TABLE2, coco_evaluate, evaluate_detections,
                                    format_ap_table, match_detections, predict)


@pytest.fixture(scope="module")
def val(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp("shapes"), num_train=1, num_val=12,
                       progress=False)
    return CocoDataset(root / "val", root / "instances_val.json")


class FakeModel(torch.nn.Module):
    """Returns the ground truth of the images in dataset order, changed by ``edit``."""

    def __init__(self, dataset, edit=None, order=None):
        super().__init__()
        self.dataset, self.edit = dataset, edit
        self.order = iter(order if order is not None else range(len(dataset)))
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, images):
        assert not self.training and not torch.is_grad_enabled()
        out = []
        for image in images:
            target = self.dataset.target(next(self.order))
            assert image.shape[-2:] == (128, 128)
            det = {"boxes": target["boxes"], "scores": torch.ones(len(target["boxes"])),
                   "labels": target["labels"]}
            out.append(self.edit(det) if self.edit else det)
        return out


def _shift(det, fraction=0.2):  # IoU with the truth = (1 - f) / (1 + f) = 2/3
    boxes = det["boxes"].clone()
    boxes[:, [0, 2]] += fraction * (boxes[:, 2:3] - boxes[:, 0:1])
    return {**det, "boxes": boxes}


def _nothing(det):
    return {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0),
            "labels": torch.zeros(0, dtype=torch.int64)}


def _pycocotools_stats(coco_gt, results):
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(coco_gt, coco_gt.loadRes(results), iouType="bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def test_perfect_model_gets_ap_one(val):
    model = FakeModel(val).train()
    metrics = coco_evaluate(model, val, batch_size=5, progress=False)
    assert model.training  # the mode is restored
    assert metrics["AP"] == metrics["AP50"] == metrics["AP75"] == 1.0
    assert metrics["APs"] == metrics["APm"] == 1.0
    assert metrics["APl"] == -1.0  # no object > 96² in 128-px images
    assert set(metrics["per_class"].values()) == {1.0}
    pr = metrics["precision"]
    assert pr["recall"].shape == (101,) and pr["AP50"].shape == pr["AP"].shape == (101, 4)
    assert pr["classes"] == ["circle", "rectangle", "triangle", "cross"]
    assert metrics["detections"] == sum(len(val.target(i)["boxes"]) for i in range(len(val)))


def test_empty_model_gets_zero_without_crash(val):
    metrics = coco_evaluate(FakeModel(val, _nothing), val, progress=False)
    assert metrics["detections"] == 0
    assert all(metrics[k] == 0.0 for k in ("AP", "AP50", "AP75", "APs", "APm"))
    assert metrics["APl"] == -1.0 and set(metrics["per_class"].values()) == {0.0}


def test_shifted_boxes_pass_at_iou_half_only(val):
    metrics = coco_evaluate(FakeModel(val, _shift), val, progress=False)
    assert metrics["AP50"] == 1.0 and metrics["AP75"] == 0.0
    # IoU 2/3 clears the thresholds 0.50, 0.55, 0.60, 0.65: 4 of the 10
    assert metrics["AP"] == pytest.approx(0.4)


def test_matches_pycocotools_called_directly(val):
    g = torch.Generator().manual_seed(0)

    def noisy(det):  # jitter boxes, random scores, one false positive per image
        boxes = det["boxes"] + torch.randn(det["boxes"].shape, generator=g) * 3
        fp = torch.tensor([[5.0, 5.0, 30.0, 30.0]])
        return {"boxes": torch.cat([boxes, fp]),
                "labels": torch.cat([det["labels"], torch.tensor([2])]),
                "scores": torch.rand(len(boxes) + 1, generator=g)}

    results = predict(FakeModel(val, noisy), val, progress=False)
    ours = evaluate_detections(val.coco, results)
    reference = _pycocotools_stats(val.coco, results)
    np.testing.assert_allclose([ours[k] for k in METRICS], reference[:6])
    assert 0 < ours["AP"] < 1


def test_subset_evaluates_only_its_images(val):
    subset = torch.utils.data.Subset(val, [0, 2, 4])
    metrics = coco_evaluate(FakeModel(val, order=[0, 2, 4]), subset, progress=False)
    assert metrics["AP"] == 1.0
    results = predict(FakeModel(val, order=[0, 2, 4]), subset, progress=False)
    assert {r["image_id"] for r in results} <= {1, 3, 5}
    assert evaluate_detections(val, results)["AP"] < 1.0  # scored on all images: objects missed


def test_match_detections():
    gt = torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])
    det = torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [20, 20, 30, 30]])
    tp, found = match_detections(det, [0.9, 0.8, 0.7, 0.6], [1, 1, 1, 2], gt, [1, 1])
    assert tp.tolist() == [True, False, False, False]  # duplicate, background, wrong class
    assert found.tolist() == [True, False]
    none = torch.zeros(0, dtype=torch.int64)
    tp, found = match_detections(torch.zeros(0, 4), [], none, gt, [1, 1])
    assert tp.shape == (0,) and not found.any()


def test_match_detections_breaks_ties_as_cocoeval():
    """Two equal objects and a detection with the same IoU to both (lesson 11's image 63): COCOeval
    gives it the *last* one, leaving the first to the next detection; our greedy loop must agree."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = torch.tensor([[6.0, 97, 29, 120], [9, 84, 32, 107]])
    det = torch.tensor([[6.0, 84, 32, 120], [6, 98, 28, 120]])  # the first covers both: IoU 529/936
    scores = [0.38, 0.28]
    tp, found = match_detections(det, scores, [1, 1], gt, [1, 1])
    coco_gt = COCO()
    coco_gt.dataset = {"images": [{"id": 1, "width": 128, "height": 128}],
                       "categories": [{"id": 1, "name": "circle"}],
                       "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                                        "area": (x2 - x1) * (y2 - y1)}
                                       for i, (x1, y1, x2, y2) in enumerate(gt.tolist())]}
    coco_gt.createIndex()
    results = [{"image_id": 1, "category_id": 1, "score": s, "bbox": [x1, y1, x2 - x1, y2 - y1]}
               for s, (x1, y1, x2, y2) in zip(scores, det.tolist())]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_eval = COCOeval(coco_gt, coco_gt.loadRes(results), "bbox")
        coco_eval.evaluate()
    coco_tp = next(e for e in coco_eval.evalImgs if e is not None)["dtMatches"][0] > 0
    assert coco_tp.tolist() == [True, True] == tp.tolist()  # the first-of-equals rule gives [T, F]
    assert found.all()


def test_format_ap_table():
    ours = {**dict.fromkeys(METRICS, 0.5), "APl": -1.0}
    text = format_ap_table({**PAPER_TABLE2, "ours": ours})
    lines = text.splitlines()
    assert lines[0].split() == ["method", *METRICS]
    assert lines[1].split()[-6:] == ["39.1", "59.1", "42.3", "21.8", "42.7", "50.2"]
    assert lines[3].split() == ["ours", "50.0", "50.0", "50.0", "50.0", "50.0", "-"]


def test_evaluation_figures(val):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from retina_lesson import viz

    metrics = coco_evaluate(FakeModel(val, _shift), val, progress=False)
    ax = viz.plot_pr_curves(metrics, iou="AP")
    assert len(ax.lines) == 1 + sum(v >= 0 for v in metrics["per_class"].values())
    images = [val.load(i)[0] for i in range(3)]
    targets = [val.target(i) for i in range(3)]
    dets = [{**_shift(t), "scores": torch.ones(len(t["boxes"]))} for t in targets]
    fig = viz.detection_gallery(images, targets, dets, val.class_names, ncols=3)
    assert len(fig.axes) == 3
    counts = viz.show_detections(plt.figure().gca(), images[0], targets[0], _nothing(None),
                                 val.class_names)
    assert counts == {"true positive": 0, "false positive": 0, "missed": len(targets[0]["boxes"])}
    plt.close("all")
