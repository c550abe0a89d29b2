"""Smoke tests of the figures of lessons 00-02: each draws and returns its axes or figure."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from retina_lesson import anchors, viz  # noqa: E402
from retina_lesson.viz import lesson_anchors, lesson_boxes, lesson_intro  # noqa: E402

IMAGE = torch.rand(3, 128, 160, generator=torch.Generator().manual_seed(0))
BOXES = torch.tensor([[10.0, 20.0, 60.0, 90.0], [40.0, 30.0, 150.0, 100.0]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _drew(result, kind):
    assert isinstance(result, kind)
    fig = result if isinstance(result, Figure) else result.figure
    fig.canvas.draw()  # renders every artist: catches errors matplotlib defers to draw time
    assert fig.axes
    return fig


def test_exports():
    for module in (lesson_intro, lesson_boxes, lesson_anchors):
        for name in module.__all__:
            assert getattr(viz, name) is getattr(module, name)


def test_intro_figures():
    rows = [{"method": "A", "backbone": "x", "stage": "two-stage", "AP": 30.0},
            {"method": "B", "backbone": "y", "stage": "one-stage", "AP": 20.0},
            {"method": "RetinaNet", "backbone": "z", "stage": "one-stage", "AP": 35.0}]
    _drew(viz.plot_paper_results(rows, "AP"), Axes)
    _drew(viz.plot_dense_sampling(IMAGE, BOXES, torch.rand(50, 2) * 128, names=["a", "b"],
                                  stride=8), Axes)
    _drew(viz.plot_candidate_counts({"one-stage: anchors": 1000, "two-stage: proposals": 100,
                                     "objects": 3}), Axes)
    p = torch.linspace(0.01, 1, 20)
    _drew(viz.plot_loss_curves(p, {"CE": -p.log(), "FL": -(1 - p) ** 2 * p.log()}), Axes)
    fig = _drew(viz.plot_course_map([("00", "intro", "§1"), ("01", "boxes", ""),
                                     ("02", "focal loss", "§3")], ncols=2), Figure)
    assert len(fig.axes) == 1


def test_boxes_figures():
    _drew(viz.plot_box_formats(IMAGE, BOXES[0], name="box"), Figure)
    _drew(viz.plot_iou_pair(BOXES[0], BOXES[1], names=("a", "b")), Axes)
    _drew(viz.plot_iou_pair(BOXES[0], BOXES[1], image=IMAGE), Axes)
    _drew(viz.plot_iou_pair([0, 0, 1, 1], [5, 5, 6, 6], details=False), Axes)  # disjoint pair
    pairs = [([0, 0, 10, 10], [3, 0, 13, 10]), ([0, 0, 10, 10], [2, 2, 8, 8]),
             ([0, 0, 10, 10], [9, 9, 19, 19])]
    fig = _drew(viz.plot_iou_examples(pairs, [0.54, 0.36, 0.005], captions=["s", "n", "d"],
                                      ncols=2), Figure)
    assert len(fig.axes) == 4  # 2 x 2 grid, the empty cell switched off
    iou = torch.rand(3, 4)
    _drew(viz.plot_iou_matrix(iou, ["a", "b", "c"], ["w", "x", "y", "z"]), Axes)
    _drew(viz.plot_named_boxes(IMAGE, BOXES, ["a", "b"]), Axes)


def test_anchor_figures():
    size = tuple(IMAGE.shape[-2:])
    _drew(viz.plot_base_anchors(anchors.base_anchors(32)), Axes)
    tables = {"paper": anchors.anchor_table(convention="paper"),
              "torchvision": anchors.anchor_table()}
    _drew(viz.plot_anchor_coverage(tables), Axes)
    per_level = anchors.anchors_per_level(size)
    centres = [((p[:, :2] + p[:, 2:]) / 2)[::9] for p in per_level]
    fsizes = anchors.feature_sizes(size)
    fig = _drew(viz.plot_anchor_centres(IMAGE, centres, fsizes, anchors.STRIDES,
                                        example_boxes=[p[3] for p in per_level]), Figure)
    assert len(fig.axes) == 5
    _drew(viz.plot_level_anchors(IMAGE, [p[:2] for p in per_level], BOXES, ["a", "b"],
                                 [["x", "y"]] * 5), Axes)
    _drew(viz.plot_level_anchors(IMAGE, [p[:1] for p in per_level],
                                 legend_labels=[f"L{i}" for i in range(5)]), Axes)
    counts = anchors.num_anchors_per_level((800, 1333))
    _drew(viz.plot_anchor_counts(counts, anchors.feature_sizes((800, 1333)), (800, 1333)), Axes)
    _drew(viz.plot_centre_conventions(800, {"P6 torchvision": [0, 61, 122],
                                            "P6 paper": [32, 96, 160]}), Axes)
    _drew(viz.plot_anchor_settings(IMAGE, [(0, 0, 1, 50, 60), (4, 2, 2, 10, 10)], ncols=2),
          Figure)


def test_anchor_at_returns_the_real_nearest_anchor():
    box, (cx, cy) = viz.anchor_at((128, 160), level=0, scale_idx=0, ratio_idx=1, x=41, y=22)
    assert (cx, cy) == (40.0, 24.0)  # torchvision grid: multiples of the stride 8
    assert box.tolist() == [24.0, 8.0, 56.0, 40.0]  # the 32 x 32 square around it
    assert any(torch.equal(box, a) for a in anchors.generate_anchors((128, 160)))
    _, (px, py) = viz.anchor_at((128, 160), 0, 0, 1, 41, 22, convention="paper")
    assert (px, py) == (44.0, 20.0)  # cell middles: (x + 0.5) * 8


def test_anchor_explorer_builds_headless():
    widgets = pytest.importorskip("ipywidgets")
    panel = viz.anchor_explorer(IMAGE)
    assert isinstance(panel, widgets.HBox)
    controls, view = panel.children[0].children, panel.children[1]
    assert [c.description for c in controls] == ["level", "scale", "ratio", "x", "y"]
    first = view.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"  # a rendered figure
    panel.controls["level"].value = 4  # a change redraws synchronously
    assert view.value[:8] == first[:8] and view.value != first
