"""Lesson 03's checks: they pass the package and the solution, wait for a stub, and reject the
usual mistakes of matching (thresholds, ignore zone, low-quality matches) and of cleaning boxes."""
import importlib.util
from pathlib import Path

import pytest
import torch

from retina_lesson.exercises import check_clean_objects, check_match_anchors
from retina_lesson.matching import IGNORED, NEGATIVE, clean_objects, match_anchors

_path = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "03_matching.py"
_spec = importlib.util.spec_from_file_location("solution_03", _path)
solution = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solution)


def _match(iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True, *, pos=">=", neg="<",
           ignore=True, low_quality=True, own_object=True, ties=True):
    """A student's match_anchors, written out, with the comparison or rule given."""
    m, n = iou.shape
    if m == 0:
        return torch.full((n,), NEGATIVE, dtype=torch.long)
    best_iou, best_object = iou.max(dim=0)
    matches = torch.full((n,), IGNORED, dtype=torch.long)
    positive = best_iou >= fg_iou if pos == ">=" else best_iou > fg_iou
    negative = best_iou < bg_iou if neg == "<" else best_iou <= bg_iou
    if not ignore:
        negative = ~positive
    matches[positive] = best_object[positive]
    matches[negative] = NEGATIVE
    if allow_low_quality and low_quality:
        for j in range(m):
            anchors = (iou[j] == iou[j].max()).nonzero().flatten()
            if not ties:
                anchors = anchors[:1]
            matches[anchors] = best_object[anchors] if own_object else j
    return matches


def _stub(iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True):
    raise NotImplementedError


@pytest.mark.parametrize("fn", [match_anchors, solution.my_match_anchors, _match],
                         ids=["package", "solution", "written out"])
def test_match_check_accepts_right_versions(fn, capsys):
    assert check_match_anchors(fn)
    assert "match_anchors: 16 cases agree" in capsys.readouterr().out


def test_match_check_waits_for_the_stub(capsys):
    assert not check_match_anchors(_stub)
    assert "not done" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, words", [
    ({"pos": ">"}, "IoU >= fg_iou, not >"),
    ({"neg": "<="}, "IoU < bg_iou, not <="),
    ({"ignore": False}, "ignored zone"),
    ({"low_quality": False}, "keeps its best anchor"),
    ({"own_object": False}, "OWN best object"),
    ({"ties": False}, "ties"),
], ids=["> at 0.5", "<= at 0.4", "no ignore zone", "no low-quality", "their object", "no ties"])
def test_match_check_names_the_mistake(mistake, words):
    with pytest.raises(AssertionError, match=words):
        check_match_anchors(lambda iou, *a, **k: _match(iou, *a, **k, **mistake))


def test_match_check_rejects_hard_coded_thresholds_and_lost_flag():
    with pytest.raises(AssertionError, match="arguments fg_iou and bg_iou"):
        check_match_anchors(lambda iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True:
                            _match(iou, 0.5, 0.4, allow_low_quality))
    with pytest.raises(AssertionError, match="allow_low_quality=False there are no low-quality"):
        check_match_anchors(lambda iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True:
                            _match(iou, fg_iou, bg_iou, True))


def test_match_check_names_an_empty_image_and_the_wrong_axis():
    def no_empty_case(iou, fg_iou=0.5, bg_iou=0.4, allow_low_quality=True):
        return match_anchors(iou, fg_iou, bg_iou, allow_low_quality) if len(iou) else iou.max(0)[1]
    with pytest.raises(AssertionError, match=r"no objects at all[\s\S]*IndexError"):
        check_match_anchors(no_empty_case)
    with pytest.raises(AssertionError, match="one label per anchor"):
        check_match_anchors(lambda iou, *a, **k: iou.max(dim=1).indices)


def _clean(boxes, image_size=None, min_size=1e-3, *, clip=True, swap=False, area=False,
           ge=False, original=False):
    boxes = boxes.reshape(-1, 4)
    out = boxes
    if image_size is not None and clip:
        h, w = image_size[::-1] if swap else image_size
        out = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                           boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)
    bw, bh = out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]
    keep = (bw * bh > min_size) if area else ((bw >= min_size) & (bh >= min_size)) if ge \
        else (bw > min_size) & (bh > min_size)
    return (boxes if original else out)[keep], keep


@pytest.mark.parametrize("fn", [clean_objects, solution.my_clean_objects, _clean],
                         ids=["package", "solution", "written out"])
def test_clean_check_accepts_right_versions(fn, capsys):
    assert check_clean_objects(fn)
    assert "clean_objects: 9 cases agree" in capsys.readouterr().out


def test_clean_check_waits_for_the_stub(capsys):
    def stub(boxes, image_size=None, min_size=1e-3):
        raise NotImplementedError
    assert not check_clean_objects(stub)
    assert "not done" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, words", [
    ({"clip": False}, "clip the boxes to the image first"),
    ({"original": True}, "return the clipped boxes"),
    ({"swap": True}, r"image_size is \(H, W\)"),
    ({"area": True}, "width and height separately"),
    ({"ge": True}, "not >="),
], ids=["no clip", "unclipped returned", "H and W swapped", "area test", ">= min_size"])
def test_clean_check_names_the_mistake(mistake, words):
    with pytest.raises(AssertionError, match=words):
        check_clean_objects(lambda b, image_size=None, min_size=1e-3:
                            _clean(b, image_size, min_size, **mistake))
