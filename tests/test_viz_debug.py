"""Smoke tests of the figures of lessons 12-13 (Agg backend: nothing is shown)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from retina_lesson import anchors as A  # noqa: E402
from retina_lesson import debug, viz  # noqa: E402
from retina_lesson.viz.core import LEVEL_COLORS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _reports():
    boxes = torch.tensor([[10.0, 10.0, 42.0, 42.0], [100.0, 20.0, 104.0, 120.0],
                          [50.0, 60.0, 61.0, 70.0]])
    return debug.analyse_image(boxes, torch.tensor([1, 2, 3]), (128, 128),
                               {"sizes": (8, 16, 32, 64, 128)})


def test_best_iou_histogram_has_thresholds_and_zones():
    ax = viz.plot_best_iou_histogram({"a": [0.1, 0.45, 0.7], "b": torch.tensor([0.6, 0.9])})
    xs = sorted(line.get_xdata()[0] for line in ax.lines)
    assert xs == [0.4, 0.5]                                   # the two thresholds
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "a: 66.7% of 3 below 0.5" and texts[1] == "b: 0.0% of 2 below 0.5"
    assert any("zone: ignored" == t for t in texts)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_positives_per_level_bars_use_level_colours():
    counts = {"cfg 1": [5, 3, 0, 1, 0], "cfg 2": [0, 7, 2, 0, 0]}
    ax = viz.plot_positives_per_level(counts)
    assert len(ax.patches) == 10
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches[:5]]
    assert colours == [c.lower() for c in LEVEL_COLORS.values()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cfg 1", "cfg 2"]
    log_ax = viz.plot_positives_per_level(counts, log=True)
    assert log_ax.get_yscale() == "log"


def test_object_shapes_scatter_is_log_log_with_one_series_per_level():
    anchor_wh = []
    for s in (8, 16, 32, 64, 128):
        b = A.base_anchors(s)
        anchor_wh.append(b[:, 2:] - b[:, :2])
    wh = torch.tensor([[10.0, 12.0], [30.0, 15.0], [60.0, 70.0]])
    ax = viz.plot_object_shapes(wh, anchor_wh, highlight=[False, True, False])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["objects (3)", "objects with no positive (1)"]
    assert labels[2:] == [f"{n} anchors" for n in LEVEL_COLORS]


def test_show_unmatched_draws_object_and_best_anchor():
    image = torch.rand(3, 64, 64)
    fig = viz.show_unmatched([image, image], [[10, 10, 20, 20], [30, 30, 40, 50]],
                             [[12, 8, 22, 18], [28, 30, 44, 46]], [0, 1], [0.4, 0.45],
                             captions=["one", "two"], ncols=3)
    axes = fig.axes
    assert len(axes) == 2                                   # no more columns than objects
    assert len(axes[0].patches) == 2 and "IoU 0.40 with a P3 anchor" in axes[0].get_title()
    assert "P4" in axes[1].get_title()
    fig = viz.show_unmatched([image] * 4, [[10, 10, 20, 20]] * 4, [[12, 8, 22, 18]] * 4,
                             [0] * 4, [0.4] * 4, ncols=3)
    assert len(fig.axes) == 6 and not fig.axes[5].axison   # the spare panels are hidden


def test_config_comparison_chart_and_explorer_views():
    reps = _reports()
    results = {"paper": debug.summarize(reps), "other": debug.summarize(reps[:1])}
    ax = viz.plot_config_comparison(results, highlight=("paper",))
    assert len(ax.patches) == 4
    assert ax.get_yticklabels()[0].get_fontweight() == "bold"
    per_level = A.anchors_per_level((128, 128), sizes=(8, 16, 32, 64, 128))
    fig = viz.plot_object_anchors(torch.rand(3, 128, 128), [10.0, 10.0, 42.0, 42.0], per_level)
    assert len(fig.axes) == 5
    assert all("best IoU" in ax.get_title() for ax in fig.axes)
    _, ax = plt.subplots()
    best = viz.draw_object_anchors(ax, torch.rand(3, 128, 128), [10.0, 10.0, 42.0, 42.0],
                                   per_level[2], level_name="P5")
    assert best == pytest.approx(reps[0].best_iou) and reps[0].best_level == 2


def test_anchor_iou_explorer_builds_headless():
    widgets = pytest.importorskip("ipywidgets")
    samples = {"img": (torch.rand(3, 64, 64), torch.tensor([[5.0, 5.0, 30.0, 30.0]]))}
    w = viz.anchor_iou_explorer(samples, {"small": {"sizes": (8, 16, 32, 64, 128)}, "paper": {}})
    assert isinstance(w, widgets.interactive)
    assert [c.description for c in w.children[:4]] == ["image", "object", "level", "anchors"]


def _rows():
    rows = []
    for name, (g, a, p) in {"ce": (0.0, -1.0, 0.01), "ce_a0.75": (0.0, 0.75, 0.01),
                            "fl2": (2.0, 0.25, 0.01), "fl5": (5.0, 0.25, 0.01),
                            "fl2_noprior": (2.0, 0.25, 0.0)}.items():
        rows.append({"name": name, "label": name, "gamma": g, "alpha": a, "prior": p,
                     "AP": 0.4 + 0.01 * g, "AP50": 0.7, "AP75": 0.4})
    return rows


def test_ap_vs_gamma_has_ours_and_the_paper():
    from retina_lesson.ablation import PAPER_TABLE1B

    fig = viz.plot_ap_vs_gamma(_rows(), PAPER_TABLE1B)
    ours, paper = fig.axes
    main = [line for line in ours.lines if line.get_label() == "AP"][0]
    np.testing.assert_allclose(main.get_xdata(), [0, 2, 5])   # the alpha-balanced runs
    np.testing.assert_allclose(main.get_ydata(), [40, 42, 45])
    ref = [line for line in paper.lines if line.get_label() == "AP"][0]
    np.testing.assert_allclose(ref.get_ydata(), [31.1, 31.4, 31.9, 32.9, 33.7, 34.0, 32.2])
    labels = [t.get_text() for t in ours.get_legend().get_texts()]
    assert "ce (hollow)" in labels and "fl2_noprior" in labels


def test_ablation_losses_one_curve_per_run():
    hist = [{"iter": i, "epoch": 0, "classification": 1.0 / (i + 1), "bbox_regression": 0.5}
            for i in range(30)]
    fig = viz.plot_ablation_losses({"CE": hist, "FL": hist, "FL no prior": hist},
                                   gammas={"CE": 0.0, "FL": 2.0, "FL no prior": 2.0})
    cls_ax, box_ax = fig.axes
    assert len(cls_ax.lines) == len(box_ax.lines) == 3
    assert cls_ax.get_yscale() == "log"
    styles = [line.get_linestyle() for line in cls_ax.lines]
    assert styles[1] != styles[2]                             # same gamma: another line style
    assert cls_ax.lines[1].get_color() == cls_ax.lines[2].get_color()


def test_debug_anchor_cache_keeps_results():
    reps = _reports()
    again = _reports()
    assert reps == again
    tv = debug.analyse_image(torch.tensor([[10.0, 10.0, 42.0, 42.0]]), torch.tensor([1]),
                             (128, 128), {"convention": "paper"})
    assert tv[0].best_iou > 0
