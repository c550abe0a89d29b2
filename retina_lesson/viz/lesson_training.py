"""Figures of the training and evaluation lessons (10, 11): loss curves, the learning-rate
schedule, detections at several points of training, and AP per class."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import lines as mlines
from matplotlib import ticker

from .core import CLASS_COLORS, new_axes
from .lesson_data import _DETECTION_STYLES, DETECTION_COLORS, show_detections

__all__ = ["LOSS_COLORS", "smooth_curve", "plot_losses", "plot_learning_rate",
           "plot_training_snapshots", "plot_per_class_ap"]

LOSS_COLORS = {"classification": "#0072B2", "bbox_regression": "#D55E00"}
_LOSS_TITLES = {"classification": "classification loss (focal, Sec. 3.2)",
                "bbox_regression": "box regression loss"}


def smooth_curve(values, window: int = 20) -> np.ndarray:
    """Trailing moving average: point i is the mean of the last ``window`` values up to i
    (fewer at the start), so the curve starts where the raw one starts."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    window = max(1, int(window))
    csum = np.cumsum(np.insert(values, 0, 0.0))
    i = np.arange(1, len(values) + 1)
    start = np.maximum(0, i - window)
    return (csum[i] - csum[start]) / (i - start)


def plot_losses(history, window: int | None = None, keys=("classification", "bbox_regression"),
                title: str = "Training losses"):
    """The losses of each iteration (thin) and their moving average (thick), log y axis.

    ``history`` is what ``train.train`` returns: one dict per iteration with ``"iter"``,
    ``"epoch"`` and a value per loss. Vertical lines mark the ends of epochs. Returns the figure.
    """
    iters = np.array([h["iter"] for h in history])
    epochs = np.array([h["epoch"] for h in history])
    window = window or max(3, min(50, len(history) // 10))
    fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4), squeeze=False,
                             layout="constrained")
    for ax, key in zip(axes[0], keys):
        raw = np.array([h[key] for h in history], dtype=np.float64)
        colour = LOSS_COLORS.get(key, "#333333")
        ax.plot(iters, raw, color=colour, alpha=0.3, linewidth=0.8, label="each iteration")
        ax.plot(iters, smooth_curve(raw, window), color=colour, linewidth=2.2,
                label=f"moving average ({window} iterations)")
        ends = iters[np.flatnonzero(np.diff(epochs))] if len(iters) else []
        for k, x in enumerate(ends):
            ax.axvline(x + 0.5, color="#999999", linewidth=0.8, linestyle=":",
                       label="end of an epoch" if k == 0 else None)
        if len(raw) and (raw > 0).all():
            ax.set_yscale("log")
            plain = ticker.FuncFormatter(lambda v, _: f"{v:g}")
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss" + (" (log scale)" if ax.get_yscale() == "log" else ""))
        ax.set_title(_LOSS_TITLES.get(key, key))
        ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    return fig


def plot_learning_rate(schedules: dict, warmup: dict | int | None = None, marks: dict | None = None,
                       title: str = "Learning-rate schedules"):
    """One panel per schedule: the learning rate of every iteration.

    ``schedules`` maps a label to a sequence of learning rates (one per iteration); ``warmup``
    (an int for all, or label -> int) shades the warm-up; ``marks`` (label -> iterations) draws
    dotted lines, e.g. at the paper's steps. Returns the figure.
    """
    fig, axes = plt.subplots(1, len(schedules), figsize=(6 * len(schedules), 3.8), squeeze=False,
                             layout="constrained")
    for k, (ax, (label, lrs)) in enumerate(zip(axes[0], schedules.items())):
        lrs = np.asarray(lrs, dtype=np.float64)
        colour = CLASS_COLORS[k % len(CLASS_COLORS)]
        ax.plot(np.arange(len(lrs)), lrs, color=colour, linewidth=2, label="learning rate")
        w = warmup.get(label) if isinstance(warmup, dict) else warmup
        if w:
            ax.axvspan(0, w, color="#999999", alpha=0.25, label=f"warm-up ({w} iterations)")
        for x in (marks or {}).get(label, ()):
            ax.axvline(x, color="#333333", linestyle=":", linewidth=1)
            ax.annotate(f" {x:,}", (x, lrs.max() * 0.5), fontsize=8, ha="left")
        ax.set_xlim(0, len(lrs))
        ax.set_ylim(0, lrs.max() * 1.08 if len(lrs) else 1)
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        if len(lrs) >= 10_000:
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(
                lambda v, _: f"{v / 1000:g}k" if v else "0"))
        ax.set_xlabel("iteration")
        ax.set_ylabel("learning rate")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    return fig


def plot_training_snapshots(images, targets, snapshots: dict, class_names,
                            score_threshold: float = 0.5, iou_threshold: float = 0.5,
                            size: float = 2.6, title: str = "The same images during training"):
    """Rows: moments of training (``snapshots`` maps a label to one detection dict per image);
    columns: the images. Boxes as in ``show_detections``: true positives solid, false positives
    dashed, missed objects dotted. Returns the figure."""
    nrows, ncols = len(snapshots), len(images)
    fig, axes = new_axes(ncols, nrows, size=size)
    axes = np.atleast_1d(axes).reshape(nrows, ncols)
    for r, (label, detections) in enumerate(snapshots.items()):
        for c, (image, target, det) in enumerate(zip(images, targets, detections)):
            ax = axes[r, c]
            counts = show_detections(ax, image, target, det, class_names, score_threshold,
                                     iou_threshold)
            ax.set_title("TP {true positive}, FP {false positive}, missed {missed}".format(
                **counts), fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel(label if c == 0 else "", fontsize=9)
    handles = [mlines.Line2D([], [], color=col, linestyle=_DETECTION_STYLES[k], linewidth=2,
                             label=k) for k, col in DETECTION_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
    fig.suptitle(f"{title} (detections scoring >= {score_threshold})")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_per_class_ap(metrics, ax=None, title: str = "AP per class"):
    """Bars of AP (IoU 0.5:0.95) and AP50 for each class, from ``evaluate_detections`` output;
    the dashed lines are the means over classes (the ``AP`` and ``AP50`` of the table)."""
    names = [n for n, v in metrics["per_class"].items() if v >= 0]
    ap = [metrics["per_class"][n] for n in names]
    ap50 = [metrics["per_class_AP50"][n] for n in names]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
    x = np.arange(len(names))
    for offset, values, label, colour in ((-0.2, ap, "AP (IoU 0.5:0.95)", "#0072B2"),
                                          (0.2, ap50, "AP50 (IoU 0.5)", "#56B4E9")):
        bars = ax.bar(x + offset, values, width=0.4, color=colour, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    for key, colour in (("AP", "#0072B2"), ("AP50", "#56B4E9")):
        if key in metrics:
            ax.axhline(metrics[key], color=colour, linestyle="--", linewidth=1,
                       label=f"mean {key} {metrics[key]:.3f}")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel("class")
    ax.set_ylabel("average precision")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    return ax
