"""Lesson 09's exercise check: passes the right conversion, names the usual mistakes."""
import json
import shutil

import pytest
import torch

from retina_lesson.data import CocoDataset
from retina_lesson.exercises import check_coco_to_xyxy
from retina_lesson.exercises.lesson09 import _cases, coco_to_xyxy
from retina_lesson.photo import PHOTO


def _clip(boxes, h, w):
    return torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                        boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)


def _keep(boxes):
    return boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]


def _xyxy(bbox):
    return torch.cat([bbox[:, :2], bbox[:, :2] + bbox[:, 2:]], dim=1)


def test_reference_is_what_the_dataset_trains_on(tmp_path, recwarn):
    """The check's reference gives the boxes CocoDataset keeps, on every case of the check."""
    shutil.copy(PHOTO, tmp_path / "a.jpg")
    for k, case in enumerate(_cases()):
        bbox, (h, w) = case.args
        coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": w, "height": h}],
                "categories": [{"id": 1, "name": "thing"}],
                "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": b}
                                for i, b in enumerate(bbox.tolist())]}
        (tmp_path / f"{k}.json").write_text(json.dumps(coco))
        dataset = CocoDataset(tmp_path, tmp_path / f"{k}.json")
        torch.testing.assert_close(dataset.target(0)["boxes"], coco_to_xyxy(bbox, (h, w)))


def test_accepts_a_correct_version_and_says_not_done_for_the_stub(capsys):
    def mine(bbox, image_size):
        h, w = image_size
        x1, y1 = bbox[:, 0].clamp(0, w), bbox[:, 1].clamp(0, h)
        x2, y2 = (bbox[:, 0] + bbox[:, 2]).clamp(0, w), (bbox[:, 1] + bbox[:, 3]).clamp(0, h)
        boxes = torch.stack([x1, y1, x2, y2], dim=1)
        return boxes[(x2 > x1) & (y2 > y1)]

    def stub(bbox, image_size):
        raise NotImplementedError

    assert check_coco_to_xyxy(coco_to_xyxy)
    assert check_coco_to_xyxy(mine)
    assert "cases agree" in capsys.readouterr().out
    assert not check_coco_to_xyxy(stub)
    assert "not done" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda b, s: _keep(_clip(b, *s)), "not \\[x1, y1, x2, y2\\]"),
    (lambda b, s: _keep(_xyxy(b)), "must be clipped"),
    (lambda b, s: _keep(_clip(_xyxy(b), s[1], s[0])), "image_size is \\(H, W\\)"),
    (lambda b, s: _keep(_clip(_xyxy(b), s[0] - 1, s[1] - 1)), "not \\[0, W - 1\\]"),
    (lambda b, s: _clip(_xyxy(b[(b[:, 2] > 0) & (b[:, 3] > 0)]), *s), "AFTER clipping"),
    (lambda b, s: _clip(_xyxy(b), *s), "zero width or height has no area"),
    (lambda b, s: (lambda x: x[(x[:, 2] >= x[:, 0]) & (x[:, 3] >= x[:, 1])])(_clip(_xyxy(b), *s)),
     "zero width or height has no area"),
    (lambda b, s: _keep(_clip(torch.cat([b[:, :2], b[:, :2] + b[:, 2:] - 1], 1), *s)),
     "without the -1"),
], ids=["read-as-xyxy", "no-clip", "size-swapped", "clip-at-W-1", "drop-before-clip",
        "keep-empty", "greater-or-equal", "pixel-minus-one"])
def test_rejects_the_usual_mistakes_with_their_hint(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_coco_to_xyxy(wrong)


def test_names_the_failing_case():
    with pytest.raises(AssertionError, match="case 1 of .* fails.*\n  input:    bbox = "):
        check_coco_to_xyxy(lambda b, s: b)
