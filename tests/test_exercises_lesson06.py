"""Lesson 06's checks accept the package's answers and reject the usual mistakes with their hint."""
import math

import pytest
import torch.nn.functional as F

from retina_lesson.anchors import feature_sizes
from retina_lesson.exercises import check_feature_sizes, check_fpn_top_down

STRIDES = (8, 16, 32, 64, 128)


def stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- check_feature_sizes
def by_halving(image_size):  # C3 = ceil(H / 8), then every level ceil(half) of the one below
    h, w = (math.ceil(s / 8) for s in image_size)
    sizes = [(h, w)]
    for _ in range(4):
        h, w = -(-h // 2), -(-w // 2)
        sizes.append((h, w))
    return sizes


@pytest.mark.parametrize("fn", [feature_sizes, by_halving])
def test_feature_sizes_accepts_correct(fn, capsys):
    assert check_feature_sizes(fn)
    assert "cases agree" in capsys.readouterr().out


def test_feature_sizes_stub_is_not_done(capsys):
    assert not check_feature_sizes(stub)
    assert "not done yet" in capsys.readouterr().out


def floor_everywhere(image_size):
    return [(image_size[0] // s, image_size[1] // s) for s in STRIDES]


def rounded(image_size):
    return [(round(image_size[0] / s), round(image_size[1] / s)) for s in STRIDES]


def floor_half_on_top(image_size):
    sizes = feature_sizes(image_size)[:3]
    for _ in range(2):
        sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
    return sizes


def width_first(image_size):
    return [(math.ceil(image_size[1] / s), math.ceil(image_size[0] / s)) for s in STRIDES]


@pytest.mark.parametrize("wrong, words", [
    (floor_everywhere, "ceil"),
    (rounded, "round"),
    (floor_half_on_top, "P6 and P7"),
    (width_first, "swapped"),
    (lambda image_size: feature_sizes(image_size)[:3], "expected 5 results"),
])
def test_feature_sizes_rejects_mistakes(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_feature_sizes(wrong)


# ---------------------------------------------------------------- check_fpn_top_down
def top_down(features, lateral_convs, mode="nearest", accumulate=True, upsample=None):
    laterals = [conv(c) for conv, c in zip(lateral_convs, features)]
    merged = [laterals[-1]]
    for lat, above in zip(laterals[-2::-1], laterals[:0:-1]):
        source = merged[0] if accumulate else above
        up = upsample(source) if upsample else F.interpolate(source, size=lat.shape[-2:], mode=mode)
        merged.insert(0, lat + up)
    return merged


def top_down_crop(features, lateral_convs):  # double, then crop: also right
    laterals = [conv(c) for conv, c in zip(lateral_convs, features)]
    merged = [laterals[-1]]
    for lat in laterals[-2::-1]:
        up = F.interpolate(merged[0], scale_factor=2, mode="nearest")
        merged.insert(0, lat + up[..., :lat.shape[-2], :lat.shape[-1]])
    return merged


@pytest.mark.parametrize("fn", [top_down, top_down_crop])
def test_fpn_top_down_accepts_correct(fn, capsys):
    assert check_fpn_top_down(fn)
    assert "cases agree" in capsys.readouterr().out


def test_fpn_top_down_stub_is_not_done(capsys):
    assert not check_fpn_top_down(stub)
    assert "not done yet" in capsys.readouterr().out


def add_before_lateral(features, lateral_convs):
    merged = [lateral_convs[-1](features[-1])]
    for conv, c in zip(lateral_convs[-2::-1], features[-2::-1]):
        merged.insert(0, conv(c + F.interpolate(merged[0], size=c.shape[-2:])))
    return merged


@pytest.mark.parametrize("wrong, words", [
    (lambda f, c: top_down(f, c, mode="bilinear"), "not bilinear"),
    (lambda f, c: top_down(f, c, mode="nearest-exact"), "nearest-exact"),
    (lambda f, c: top_down(f, c, upsample=lambda m: F.interpolate(m, scale_factor=2)),
     "scale_factor=2 overshoots"),
    (lambda f, c: top_down(f, c, accumulate=False), r"\*merged\* map"),
    (add_before_lateral, "lateral conv to C_l"),
    (lambda f, c: top_down(f, c)[::-1], "finest first"),
    (lambda f, c: [conv(x) for conv, x in zip(c, f)], "case 1 of"),  # no top-down path at all
])
def test_fpn_top_down_rejects_mistakes(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_fpn_top_down(wrong)
