"""Smoke tests of the figures of lessons 09-11 (Agg backend: nothing is shown)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from retina_lesson import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(epochs=3, per_epoch=10):
    g = torch.Generator().manual_seed(0)
    history = []
    for it in range(epochs * per_epoch):
        noise = 0.05 * float(torch.rand(1, generator=g))
        history.append({"iter": it, "epoch": it // per_epoch, "lr": 1e-3,
                        "classification": 1.1 / (1 + it) + noise,
                        "bbox_regression": 0.6 - 0.01 * it})
    return history


def test_smooth_curve_is_a_trailing_mean():
    values = [1.0, 3.0, 5.0, 7.0]
    np.testing.assert_allclose(viz.smooth_curve(values, 2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(viz.smooth_curve(values, 1), values)
    np.testing.assert_allclose(viz.smooth_curve([2.0] * 5, 3), [2.0] * 5)
    assert len(viz.smooth_curve([], 5)) == 0


def test_plot_losses_two_log_panels_with_epoch_marks():
    fig = viz.plot_losses(_history(), window=5)
    axes = fig.axes
    assert len(axes) == 2
    for ax in axes:
        assert ax.get_yscale() == "log"
        assert ax.get_xlabel() == "iteration"
        assert len(ax.lines) == 2 + 2          # raw, smoothed, 2 epoch boundaries
        assert ax.get_legend() is not None


def test_plot_losses_keeps_linear_axis_for_non_positive_values():
    history = _history(epochs=1)
    history[0]["bbox_regression"] = 0.0       # e.g. a batch with no positives
    fig = viz.plot_losses(history)
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "linear"]


def test_plot_learning_rate_one_panel_per_schedule():
    fig = viz.plot_learning_rate({"a": np.linspace(1, 0, 100) * 1e-3, "b": [0.01] * 20000},
                                 warmup={"a": 10}, marks={"b": [5000]})
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert fig.axes[0].get_ylabel() == "learning rate"


def test_plot_training_snapshots_grid():
    images = [torch.rand(3, 32, 32) for _ in range(3)]
    targets = [{"boxes": torch.tensor([[2.0, 2.0, 12.0, 12.0]]), "labels": torch.tensor([1])}
               for _ in images]
    empty = {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0),
             "labels": torch.zeros(0, dtype=torch.int64)}
    good = {"boxes": torch.tensor([[2.0, 2.0, 12.0, 12.0], [20.0, 20.0, 30.0, 30.0]]),
            "scores": torch.tensor([0.9, 0.8]), "labels": torch.tensor([1, 2])}
    fig = viz.plot_training_snapshots(images, targets, {"before": [empty] * 3, "after": [good] * 3},
                                      {1: "circle", 2: "square"})
    assert len(fig.axes) == 6
    assert fig.axes[0].get_ylabel() == "before" and fig.axes[3].get_ylabel() == "after"
    assert fig.axes[0].get_title() == "TP 0, FP 0, missed 1"
    assert fig.axes[3].get_title() == "TP 1, FP 1, missed 0"


def test_plot_per_class_ap_skips_classes_without_objects():
    metrics = {"AP": 0.5, "AP50": 0.8, "per_class": {"a": 0.4, "b": 0.6, "c": -1.0},
               "per_class_AP50": {"a": 0.7, "b": 0.9, "c": -1.0}}
    ax = viz.plot_per_class_ap(metrics)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert len(ax.patches) == 4


def test_plot_best_anchor_iou_panels_and_zone_counts():
    sizes = torch.tensor([9.0, 20.0, 40.0, 70.0])
    fig = viz.plot_best_anchor_iou(sizes, {"x": torch.tensor([0.1, 0.45, 0.6, 0.9]),
                                           "y": torch.tensor([0.7, 0.7, 0.7, 0.7])})
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["positive: 50.0% of 4 objects", "ignored: 25.0% of 4 objects",
                      "negative: 25.0% of 4 objects"]


def test_plot_best_anchor_iou_wraps_panels_in_rows():
    sizes = torch.tensor([9.0, 20.0, 40.0, 70.0])
    best = {name: torch.tensor([0.1, 0.45, 0.6, 0.9]) for name in "abc"}
    fig = viz.plot_best_anchor_iou(sizes, best, ncols=2)
    assert len(fig.axes) == 4 and not fig.axes[3].axison      # 2 x 2, the spare panel hidden
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert fig.get_size_inches() == pytest.approx([10.4, 8.0])
    fig = viz.plot_best_anchor_iou(sizes, best)                # default: one row
    assert len(fig.axes) == 3 and fig.get_size_inches() == pytest.approx([15.6, 4.0])
    plt.close("all")
