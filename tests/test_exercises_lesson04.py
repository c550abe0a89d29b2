"""Lesson 04's checks: they pass the package and the solution, wait for a stub, and reject the
usual mistakes of box coding (no log / exp, the object's size, swapped arguments, the width for
y, no clamp)."""
import importlib.util
import math
from pathlib import Path

import pytest
import torch

from retina_lesson.box_coding import decode, encode
from retina_lesson.exercises import check_decode, check_encode

_path = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "04_box_coding.py"
_spec = importlib.util.spec_from_file_location("solution_04", _path)
solution = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solution)


def _cs(b):
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return b[:, 0] + w / 2, b[:, 1] + h / 2, w, h


def _encode(boxes, anchors, *, log=True, by_object=False, swap=False, width_for_y=False):
    if swap:
        boxes, anchors = anchors, boxes
    xa, ya, wa, ha = _cs(anchors)
    x, y, w, h = _cs(boxes)
    sx, sy = (w, h) if by_object else (wa, ha)
    if width_for_y:
        sy = sx
    f = torch.log if log else (lambda r: r)
    return torch.stack([(x - xa) / sx, (y - ya) / sy, f(w / wa), f(h / ha)], dim=1)


def _decode(deltas, anchors, *, exp=True, by_object=False, swap=False, width_for_y=False,
            clamp=True):
    if swap:
        deltas, anchors = anchors, deltas
    xa, ya, wa, ha = _cs(anchors)
    tw, th = deltas[:, 2], deltas[:, 3]
    if clamp:
        tw, th = tw.clamp(max=math.log(1000 / 16)), th.clamp(max=math.log(1000 / 16))
    w, h = (wa * torch.exp(tw), ha * torch.exp(th)) if exp else (wa * tw, ha * th)
    sx, sy = (w, h) if by_object else (wa, ha)
    if width_for_y:
        sy = sx
    x, y = xa + deltas[:, 0] * sx, ya + deltas[:, 1] * sy
    return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], dim=1)


@pytest.mark.parametrize("fn", [encode, solution.my_encode, _encode],
                         ids=["package", "solution", "written out"])
def test_encode_check_accepts_right_versions(fn, capsys):
    assert check_encode(fn)
    assert "encode: 6 cases agree" in capsys.readouterr().out


@pytest.mark.parametrize("fn", [decode, solution.my_decode, _decode],
                         ids=["package", "solution", "written out"])
def test_decode_check_accepts_right_versions(fn, capsys):
    assert check_decode(fn)
    assert "decode: 9 cases agree" in capsys.readouterr().out


def test_checks_wait_for_the_stubs(capsys):
    def stub(a, b):
        raise NotImplementedError
    assert not check_encode(stub) and not check_decode(stub)
    assert capsys.readouterr().out.count("not done") == 2


@pytest.mark.parametrize("mistake, words", [
    ({"log": False}, "log space"),
    ({"by_object": True}, "ANCHOR's size"),
    ({"swap": True}, "arguments are swapped"),
    ({"width_for_y": True}, "height h_a, not its width"),
], ids=["no log", "object's size", "swapped", "width for y"])
def test_encode_check_names_the_mistake(mistake, words):
    with pytest.raises(AssertionError, match=words):
        check_encode(lambda b, a: _encode(b, a, **mistake))


def test_encode_check_names_a_transposed_result():
    with pytest.raises(AssertionError, match="dim=1"):
        check_encode(lambda b, a: encode(b, a).T)


@pytest.mark.parametrize("mistake, words", [
    ({"exp": False}, r"exp\(t_w\)"),
    ({"by_object": True}, "ANCHOR's size"),
    ({"swap": True}, "arguments are swapped"),
    ({"width_for_y": True}, "height h_a, not its width"),
    ({"clamp": False}, "clamp t_w and t_h"),
], ids=["no exp", "object's size", "swapped", "width for y", "no clamp"])
def test_decode_check_names_the_mistake(mistake, words):
    with pytest.raises(AssertionError, match=words):
        check_decode(lambda d, a: _decode(d, a, **mistake))


def test_decode_check_rejects_a_two_sided_clamp():
    def both_sides(deltas, anchors):
        clip = math.log(1000 / 16)
        return decode(torch.cat([deltas[:, :2], deltas[:, 2:].clamp(-clip, clip)], 1), anchors)
    with pytest.raises(AssertionError, match="only from above"):
        check_decode(both_sides)
