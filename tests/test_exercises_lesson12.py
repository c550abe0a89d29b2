"""Lesson 12's checks accept the package's reference and the solution, say "not done" for the stub,
and reject the usual mistakes with the hint that names them."""
import importlib.util
from pathlib import Path

import pytest
import torch

from retina_lesson import debug
from retina_lesson.exercises import check_positives_per_level, check_unmatched_share
from retina_lesson.matching import match_anchors

_path = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "12_anchor_debugging.py"
_spec = importlib.util.spec_from_file_location("solutions_12", _path)
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)


def stub(*args):
    raise NotImplementedError


# --- the share of objects without a positive anchor ---------------------------------------------

def share_by_matching(iou, fg_iou):
    matches = match_anchors(iou, fg_iou, min(0.4, fg_iou), allow_low_quality=False)
    return sum(int((matches == j).sum()) == 0 for j in range(len(iou))) / len(iou)


def test_unmatched_share_accepts_matching_and_the_solution(capsys):
    assert check_unmatched_share(share_by_matching)
    assert check_unmatched_share(solutions.my_unmatched_share)
    assert "unmatched_share: 9 cases agree" in capsys.readouterr().out


def test_unmatched_share_is_what_debug_summarize_counts():
    """On a real image's anchors the check's reference equals debug's unmatched / objects."""
    from retina_lesson import anchors as A
    from retina_lesson.boxes import box_iou
    from retina_lesson.exercises.lesson12 import _unmatched_share

    boxes = torch.tensor([[3.0, 5, 14, 13], [20, 20, 60, 44], [70, 10, 79, 60], [90, 90, 127, 120]])
    config = dict(sizes=(8, 16, 32, 64, 128))
    reports = debug.analyse_image(boxes, torch.zeros(4), (128, 128), config)
    summary = debug.summarize(reports)
    iou = box_iou(boxes, A.generate_anchors((128, 128), sizes=config["sizes"]))
    assert _unmatched_share(iou, 0.5) == pytest.approx(summary["unmatched"] / summary["objects"])


def test_unmatched_share_stub_is_not_done(capsys):
    assert not check_unmatched_share(stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda iou, fg: float((iou.max(dim=0).values < fg).float().mean()), "dim=1"),
    (lambda iou, fg: float((iou.max(dim=1).values <= fg).float().mean()), "not >"),
    (lambda iou, fg: float((iou.max(dim=1).values < fg).sum() / iou.shape[1]), "not of anchors"),
    (lambda iou, fg: float((iou < fg).float().mean()), "pairs"),
    (lambda iou, fg: float((iou.max(dim=1).values < fg).sum()), "not a count"),
    (lambda iou, fg: 1 - share_by_matching(iou, fg), "anchor recall"),
    (lambda iou, fg: float((iou.max(dim=1).values < fg).float().mean()), "its own best object"),
])
def test_unmatched_share_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_unmatched_share(wrong)


# --- positives per level ------------------------------------------------------------------------

def per_level_by_matching(iou, level, num_levels):
    matches = match_anchors(iou, 0.5, 0.4, allow_low_quality=False)
    return torch.tensor([int(((matches >= 0) & (level == k)).sum()) for k in range(num_levels)])


def test_positives_per_level_accepts_matching_and_the_solution(capsys):
    assert check_positives_per_level(per_level_by_matching)
    assert check_positives_per_level(solutions.my_positives_per_level)
    assert "positives_per_level: 8 cases agree" in capsys.readouterr().out


def test_positives_per_level_stub_is_not_done(capsys):
    assert not check_positives_per_level(stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda iou, lv, n: torch.bincount(lv[(iou >= 0.5).nonzero()[:, 1]], minlength=n),
     "not \\(object, anchor\\) pairs"),
    (lambda iou, lv, n: torch.bincount(lv[match_anchors(iou, 0.5, 0.4) >= 0], minlength=n),
     "allow_low_quality=False"),
    (lambda iou, lv, n: torch.bincount(lv[iou.max(dim=0).values > 0.5], minlength=n), "not >"),
    (lambda iou, lv, n: torch.bincount(lv[iou.max(dim=0).values >= 0.5]), "minlength"),
    (lambda iou, lv, n: torch.bincount(lv[iou.argmax(dim=1)], minlength=n), "best anchor by level"),
])
def test_positives_per_level_names_the_mistake(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_positives_per_level(wrong)
