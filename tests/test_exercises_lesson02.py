"""The checks of lesson 02 accept right answers, wait for stubs and explain the usual mistakes."""
import importlib.util
import math
from pathlib import Path

import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator

from retina_lesson import anchors
from retina_lesson.exercises import check_base_anchors, check_grid_anchors

_SOLUTION = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "02_anchors.py"
_spec = importlib.util.spec_from_file_location("solution_02", _SOLUTION)
solution = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solution)


def _stub(*args):
    raise NotImplementedError


# --- base anchors: hand-written wrong versions, each the way a student gets it wrong ----------

def base_hw_swapped(size, scales, ratios):
    rows = []
    for r in ratios:
        for sc in scales:
            s = int(size * sc)
            w, h = s * math.sqrt(r), s / math.sqrt(r)          # ratio read as w / h
            rows.append([-w / 2, -h / 2, w / 2, h / 2])
    return torch.tensor(rows).round()


def base_no_scales(size, scales, ratios):
    rows = []
    for r in ratios:
        for _ in scales:
            w, h = size / math.sqrt(r), size * math.sqrt(r)    # size, not size * scale
            rows.append([-w / 2, -h / 2, w / 2, h / 2])
    return torch.tensor(rows).round()


def base_float_sizes(size, scales, ratios):
    rows = []
    for r in ratios:
        for sc in scales:
            s = size * sc                                      # 40.32, not int(40.32)
            rows.append([-s / math.sqrt(r) / 2, -s * math.sqrt(r) / 2,
                         s / math.sqrt(r) / 2, s * math.sqrt(r) / 2])
    return torch.tensor(rows).round()


def base_not_rounded(size, scales, ratios):
    rows = []
    for r in ratios:
        for sc in scales:
            s = int(size * sc)
            w, h = s / math.sqrt(r), s * math.sqrt(r)
            rows.append([-w / 2, -h / 2, w / 2, h / 2])     # no torch.round
    return torch.tensor(rows)


def base_paper(size, scales, ratios):
    return anchors.base_anchors(size, scales, ratios, convention="paper")


def base_scale_major(size, scales, ratios):
    return torch.cat([solution.my_base_anchors(size, (sc,), ratios) for sc in scales])


def base_rounded_sizes(size, scales, ratios):
    rows = []
    for r in ratios:
        for sc in scales:
            s = int(size * sc)
            w, h = round(s / math.sqrt(r)), round(s * math.sqrt(r))
            rows.append([-w / 2, -h / 2, w / 2, h / 2])
    return torch.tensor(rows)


def base_truncated_corners(size, scales, ratios):
    exact = base_not_rounded(size, scales, ratios)
    return exact.trunc()


def test_base_anchors_accepts_the_package_torchvision_and_the_solution(capsys):
    def torchvision_cell_anchors(size, scales, ratios):
        sizes = tuple(int(size * s) for s in scales)
        return AnchorGenerator((sizes,), (tuple(ratios),)).cell_anchors[0]
    for fn in (anchors.base_anchors, torchvision_cell_anchors, solution.my_base_anchors):
        assert check_base_anchors(fn)
    assert "base_anchors: 9 cases agree" in capsys.readouterr().out


def test_base_anchors_waits_for_the_stub(capsys):
    assert not check_base_anchors(_stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (base_hw_swapped, "width and height are swapped"),
    (base_no_scales, "size \\* scale"),
    (base_float_sizes, "truncates each size to an integer"),
    (base_not_rounded, "rounds the corners"),
    (base_paper, "the paper's unrounded anchors"),
    (base_scale_major, "ratio-major, scale-minor"),
    (base_rounded_sizes, "round the half-sides"),
    (base_truncated_corners, "int\\(\\) truncates towards 0"),
])
def test_base_anchors_names_the_mistake(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_base_anchors(wrong)


# --- grid anchors ---------------------------------------------------------------------------

def _centres(feature_size, stride, offset=0.0):
    (fh, fw), (sy, sx) = feature_size, stride
    ys, xs = (torch.arange(fh) + offset) * sy, (torch.arange(fw) + offset) * sx
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    return cx.reshape(-1), cy.reshape(-1)


def grid_cell_middle(base, feature_size, stride):
    cx, cy = _centres(feature_size, stride, offset=0.5)
    return (torch.stack([cx, cy, cx, cy], 1)[:, None] + base[None]).reshape(-1, 4)


def grid_anchor_major(base, feature_size, stride):
    cx, cy = _centres(feature_size, stride)
    return (torch.stack([cx, cy, cx, cy], 1)[None] + base[:, None]).reshape(-1, 4)


def grid_column_by_column(base, feature_size, stride):
    (fh, fw), (sy, sx) = feature_size, stride
    rows = [[x * sx, y * sy] for x in range(fw) for y in range(fh)]   # x in the outer loop
    c = torch.tensor(rows, dtype=base.dtype)
    return (torch.cat([c, c], 1)[:, None] + base[None]).reshape(-1, 4)


def grid_xy_swapped(base, feature_size, stride):
    cx, cy = _centres(feature_size, stride)
    return (torch.stack([cy, cx, cy, cx], 1)[:, None] + base[None]).reshape(-1, 4)


def grid_strides_swapped(base, feature_size, stride):
    return solution.my_grid_anchors(base, feature_size, stride[::-1])


def grid_size_swapped(base, feature_size, stride):
    return solution.my_grid_anchors(base, feature_size[::-1], stride)


def test_grid_anchors_accepts_the_package_and_the_solution(capsys):
    for fn in (anchors.grid_anchors, solution.my_grid_anchors):
        assert check_grid_anchors(fn)
    assert "grid_anchors: 7 cases agree" in capsys.readouterr().out


def test_grid_anchors_with_the_solution_rebuilds_torchvision():
    base = solution.my_base_anchors(32)
    mine = solution.my_grid_anchors(base, (64, 64), (8, 8))
    assert torch.equal(mine, anchors.anchors_per_level((512, 512))[0])


def test_grid_anchors_waits_for_the_stub(capsys):
    assert not check_grid_anchors(_stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (grid_cell_middle, "offset 0"),
    (grid_anchor_major, "location-major"),
    (grid_column_by_column, "row by row"),
    (grid_xy_swapped, "x and y are swapped"),
    (grid_strides_swapped, "stride is \\(stride_y, stride_x\\)"),
    (grid_size_swapped, "feature_size is \\(H, W\\)"),
])
def test_grid_anchors_names_the_mistake(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_grid_anchors(wrong)
