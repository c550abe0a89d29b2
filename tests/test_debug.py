import pytest
import torch

from retina_lesson import debug
from retina_lesson.anchors import generate_anchors
from retina_lesson.boxes import box_iou
from retina_lesson.data import CocoDataset
from retina_lesson.photo import PHOTO_ANNOTATIONS, DATA_DIR


def test_analyse_image_counts_agree_with_matching():
    boxes = torch.tensor([[10.0, 10.0, 42.0, 42.0], [100.0, 20.0, 104.0, 120.0]])  # square, thin
    reports = debug.analyse_image(boxes, torch.tensor([1, 2]), (128, 128))
    iou = box_iou(boxes, generate_anchors((128, 128)))
    assert [r.positives for r in reports] == [int(((iou.argmax(0) == j) & (iou.max(0).values >= 0.5))
                                                   .sum()) for j in range(2)]
    assert reports[0].positives > 0 and reports[1].positives == 0  # the thin box gets none
    assert reports[1].positives_low_quality >= 1  # ... except through the low-quality rule
    assert reports[0].best_iou == pytest.approx(float(iou[0].max()))
    assert sum(reports[0].positives_per_level) == reports[0].positives
    assert debug.anchor_recall(reports) == 0.5 and debug.anchor_recall(reports, True) == 1.0
    assert [r.object_index for r in debug.unmatched(reports)] == [1]


def test_empty_image_and_no_objects():
    assert debug.analyse_image(torch.zeros(0, 4), torch.zeros(0), (64, 64)) == []
    assert debug.summarize([])["objects"] == 0


def test_dataset_analysis_and_config_comparison_on_the_photo():
    ds = CocoDataset(DATA_DIR, PHOTO_ANNOTATIONS)
    results = debug.compare_configs(ds, {"paper": {}, "only 32 px": {"sizes": (32,) * 5}})
    assert results["paper"]["objects"] == 7
    assert results["paper"]["recall"] > results["only 32 px"]["recall"]
    assert "paper" in debug.format_comparison(results)


def test_input_size_follows_the_transform():
    assert debug.input_size(512, 512) == (1.0, (512, 512))
    scale, padded = debug.input_size(480, 640, min_size=800, max_size=1333)
    assert scale == pytest.approx(800 / 480) and padded == (800, 1088)
