"""Smoke tests of the figures of lessons 06-08 (viz.lesson_network, viz.lesson_inference)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from retina_lesson import viz  # noqa: E402
from retina_lesson.anchors import generate_anchors, level_of_anchor  # noqa: E402
from retina_lesson.boxes import box_iou  # noqa: E402
from retina_lesson.matching import match_anchors  # noqa: E402

IMAGE = torch.rand(3, 64, 96)
GT = torch.tensor([[4.0, 6.0, 40.0, 50.0], [50.0, 10.0, 90.0, 30.0]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_exported_from_viz():
    from retina_lesson.viz import lesson_inference, lesson_network
    for name in lesson_network.__all__ + lesson_inference.__all__:
        assert hasattr(viz, name), name


@pytest.mark.parametrize("p6_from", ["p5", "c5"])
def test_plot_pyramid(p6_from):
    c = {"C3": (512, 32, 40), "C4": (1024, 16, 20), "C5": (2048, 8, 10)}
    p = {f"P{l}": (256, 256 // 2 ** l, 320 // 2 ** l) for l in range(3, 8)}
    ax = viz.plot_pyramid(c, p, p6_from=p6_from)
    assert p6_from.upper() in ax.get_title()
    assert ax.get_legend() is not None and ax.get_xlabel() and ax.get_ylabel()


def test_plot_feature_maps_and_p6_sources():
    maps = {f"P{l}": torch.rand(64 // 2 ** l, 96 // 2 ** l) for l in range(3, 6)}
    fig = viz.plot_feature_maps(IMAGE, maps, "maps", ncols=2)
    titled = [ax for ax in fig.axes if ax.get_title().startswith("P3")]
    assert titled and "stride 8" in titled[0].get_title()
    assert fig._suptitle.get_text() == "maps"
    fig = viz.plot_p6_sources({"from P5": torch.rand(4, 6), "from C5": torch.rand(4, 6)},
                              {"from P5": 590_080, "from C5": 4_718_848})
    assert fig._suptitle is not None and len(fig.axes) >= 3


def test_plot_head_diagram_and_parameter_counts():
    ax = viz.plot_head_diagram(num_convs=4, channels=256, num_anchors=9, num_classes=80)
    assert "K = 80" in ax.get_title() and ax.get_legend() is not None
    texts = [t.get_text() for t in ax.texts]
    assert any("720" in t for t in texts) and any("36" in t for t in texts)
    ax = viz.plot_parameter_counts({"body": 23_508_032, "FPN": 3_868_672, "heads": 6_463_220})
    assert ax.get_xlabel() and ax.get_title() and len(ax.patches) == 3


def test_plot_reshape_example():
    a, k, h, w = 2, 3, 2, 2
    raw = torch.arange(a * k * h * w).reshape(a * k, h, w)
    rows = raw.view(a, k, h, w).permute(2, 3, 0, 1).reshape(h * w * a, k)
    fig = viz.plot_reshape_example(raw, rows, a, k)
    assert len(fig.axes) == 2 and fig.legends


def test_plot_initial_scores():
    ax = viz.plot_initial_scores({"prior": torch.full((100,), 0.01), "zero": torch.rand(100)})
    assert ax.get_xscale() == "log" and ax.get_legend() is not None


def test_plot_loss_figures():
    anchors = generate_anchors((64, 96))
    matched = match_anchors(box_iou(GT, anchors))
    ax = viz.plot_positive_anchors(IMAGE, GT, anchors, matched, level_of_anchor((64, 96)),
                                   title="positives", show_ignored=True)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "object" in labels and any(t.startswith("positive on P3") for t in labels)
    ax = viz.plot_zone_counts({"a": {"positive": 3, "negative": 100, "ignored": 2},
                               "empty": {"positive": 0, "negative": 105, "ignored": 0}})
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    ax = viz.plot_loss_terms({"a": {"classification": torch.tensor(1.1), "bbox_regression": 0.7},
                              "empty": {"classification": 0.6, "bbox_regression": 0.0}},
                             {"classification": 0.85, "bbox_regression": 0.35})
    assert ax.get_legend() is not None and ax.get_ylabel() == "loss"


def test_plot_inference_steps_handles_empty_and_many():
    many = {"title": "many", "boxes": torch.tensor([[1.0, 2, 30, 40]]).repeat(400, 1),
            "scores": torch.rand(400), "labels": torch.randint(1, 4, (400,))}
    final = {"title": "final", "boxes": GT, "scores": torch.tensor([0.9, 0.6]),
             "labels": torch.tensor([1, 2])}
    empty = {"title": "none", "boxes": torch.zeros(0, 4), "scores": torch.zeros(0),
             "labels": torch.zeros(0, dtype=torch.int64)}
    fig = viz.plot_inference_steps(IMAGE, [many, empty, final], {1: "person", 2: "head"},
                                   title="steps")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["many", "none", "final"]
    assert any("person 0.90" in t.get_text() for t in axes[2].texts)
    assert axes[1].get_legend() is None and axes[0].get_legend() is not None
