"""Smoke tests of the figures of lessons 03-05 (matching, box coding, focal loss), with Agg."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from retina_lesson import viz  # noqa: E402
from retina_lesson.anchors import (effective_strides, feature_sizes, generate_anchors,  # noqa: E402
                                   level_of_anchor)
from retina_lesson.box_coding import encode  # noqa: E402
from retina_lesson.boxes import box_iou  # noqa: E402
from retina_lesson.matching import match_anchors  # noqa: E402

SIZE = (128, 128)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scene():
    image = torch.rand(3, *SIZE, generator=torch.Generator().manual_seed(0))
    boxes = torch.tensor([[10.0, 12.0, 60.0, 50.0], [70.0, 20.0, 90.0, 120.0]])
    anchors = generate_anchors(SIZE)
    iou = box_iou(boxes, anchors)
    return image, boxes, anchors, iou, match_anchors(iou), level_of_anchor(SIZE)


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in [ax.title, ax.xaxis.label])


def test_matching_figures(scene):
    image, boxes, anchors, iou, matches, level = scene
    ax = viz.plot_iou_objects_anchors(iou[:, -144:], ["a", "b"])
    assert ax.get_title() and ax.get_legend() is not None
    fig = viz.plot_best_iou_per_level(iou.max(dim=0).values, feature_sizes(SIZE),
                                      effective_strides(SIZE, feature_sizes(SIZE)), boxes=boxes,
                                      image_size=SIZE)
    assert len(fig.axes) == 6  # five levels and the colour bar
    fig = viz.plot_zones(0.5, 0.4, best_iou=iou.max(dim=0).values)
    assert "zone" in _texts(fig)
    assert len(viz.plot_zones().axes) == 1
    fig = viz.plot_zone_anchors(image, boxes, anchors, matches, level, n_negative=3)
    assert "all levels" in _texts(fig)
    counts = {"P3": {"positive": 3, "ignored": 0, "negative": 900},
              "P4": {"positive": 1, "ignored": 2, "negative": 200}}
    assert viz.plot_zone_counts_per_level(counts).get_yscale() == "log"
    j = 1
    tied = (iou[j] == iou[j].max()).nonzero().flatten()
    fig = viz.plot_low_quality(image, boxes[j], anchors[tied], iou[j, tied], anchors[tied],
                               name="b")
    assert len(fig.axes) == 2
    assert viz.faded(image).shape == image.shape


def test_coding_figures(scene):
    image, boxes, anchors, iou, matches, level = scene
    pos = (matches >= 0).nonzero().flatten()
    targets = encode(boxes[matches[pos]], anchors[pos])
    ax = viz.plot_encoding_example(anchors[pos[0]], boxes[matches[pos[0]]], targets[0], image=image)
    assert ax.get_legend() is not None
    assert len(viz.plot_log_space().axes) == 2
    ax = viz.plot_coding_arrows(image, boxes, anchors[pos], matches[pos], level[pos],
                                names=["a", "b"])
    assert str(len(pos)) in ax.get_title()
    assert viz.plot_clamp(16.0, math.log(1000 / 16)).get_yscale() == "log"
    assert len(viz.plot_target_histograms(targets).axes) == 4


def test_focal_figures():
    p_t = torch.linspace(0.01, 1, 50)
    ax = viz.plot_focal_curves(p_t, {g: -(1 - p_t) ** g * torch.log(p_t) for g in (0.0, 2.0)})
    assert len(ax.get_lines()) == 2
    ax = viz.plot_score_distributions(torch.rand(20), torch.rand(200) * 0.1)
    assert ax.get_yscale() == "log"
    ax = viz.plot_loss_shares({"CE": (1.0, 9.0), "FL": (3.0, 1.0)})
    assert len(ax.get_yticks()) == 2
    cdf = torch.linspace(0, 1, 10)
    fig = viz.plot_loss_cdf({0.0: cdf, 2.0: cdf ** 2}, {0.0: cdf, 2.0: cdf ** 4})
    assert len(fig.axes) == 2
    ax = viz.plot_prior_init({"CE, bias 0": 5e4, "FL, prior bias": 1.2})
    assert ax.get_xscale() == "log"


def test_names_are_not_shadowed_by_other_lessons():
    # viz/__init__ star-imports every lesson module: a later module must not override ours
    from retina_lesson.viz import lesson_coding, lesson_focal, lesson_matching
    for module in (lesson_matching, lesson_coding, lesson_focal):
        for name in module.__all__:
            assert getattr(viz, name) is getattr(module, name), f"viz.{name} is shadowed"
