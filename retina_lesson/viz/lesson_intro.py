"""Figures of lesson 00 (introduction): the paper's results, the class imbalance, the course map."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

from .core import ZONE_COLORS, draw_boxes, new_axes, show_image

__all__ = ["STAGE_COLORS", "plot_paper_results", "plot_dense_sampling", "plot_candidate_counts",
           "plot_loss_curves", "plot_course_map"]

# One-stage (dense) vs two-stage (proposal-driven) detectors, as in the paper's Table 2.
STAGE_COLORS = {"two-stage": "#999999", "one-stage": "#56B4E9", "RetinaNet": "#D55E00"}


def _stage_color(row) -> str:
    if row["method"].startswith("RetinaNet"):
        return STAGE_COLORS["RetinaNet"]
    return STAGE_COLORS[row["stage"]]


def plot_paper_results(rows, metric: str = "AP", ax=None):
    """Horizontal bars of one column of the paper's Table 2 (COCO test-dev), coloured by family.

    ``rows``: dicts with ``method``, ``backbone``, ``stage`` ("one-stage" / "two-stage") and
    the metric.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4.8))
    labels = [f"{r['method']}\n({r['backbone']})" for r in rows]
    values = [r[metric] for r in rows]
    y = np.arange(len(rows))[::-1]
    ax.barh(y, values, color=[_stage_color(r) for r in rows], edgecolor="black", linewidth=0.5)
    for yi, v in zip(y, values):
        ax.text(v + 0.3, yi, f"{v:.1f}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=7.5)
    ax.set_xlabel(f"COCO test-dev {metric} (%)")
    ax.set_xlim(0, max(values) * 1.5)
    best_two = max(r[metric] for r in rows if r["stage"] == "two-stage")
    ax.axvline(best_two, color="black", linestyle="--", linewidth=1)
    handles = [patches.Patch(color=c, label="RetinaNet (one-stage)" if k == "RetinaNet" else k)
               for k, c in STAGE_COLORS.items()]
    handles.append(plt.Line2D([], [], color="black", linestyle="--", label="best two-stage"))
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_title(f"Paper, Table 2: single-model {metric} on COCO test-dev")
    return ax


def plot_dense_sampling(image, boxes, centres, names=None, stride: int | None = None, ax=None):
    """The dense grid a one-stage detector classifies (``centres`` [L, 2]) over the image and its
    few objects (``boxes`` xyxy): the imbalance of Sec. 1 in one picture."""
    if ax is None:
        _, ax = new_axes(size=5.5)
    show_image(ax, image)
    c = torch.as_tensor(centres, dtype=torch.float32).reshape(-1, 2)
    grid = f" (stride {stride})" if stride else ""
    ax.scatter(c[:, 0], c[:, 1], s=1.5, color="#56B4E9", label=f"{len(c):,} grid locations{grid}")
    draw_boxes(ax, boxes, color=ZONE_COLORS["object"], labels=names,
               label=f"{len(boxes)} objects")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_title("One-stage: every location is a candidate", pad=12)
    return ax


def plot_candidate_counts(counts: dict, ax=None):
    """Bars (log scale) of how many candidates each stage of a detector looks at per image."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    names, values = list(counts), [float(v) for v in counts.values()]
    colors = [STAGE_COLORS["one-stage"] if "one-stage" in n else
              ZONE_COLORS["object"] if "object" in n else STAGE_COLORS["two-stage"] for n in names]
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color=colors, edgecolor="black", linewidth=0.5)
    for yi, v in zip(y, values):
        ax.text(v * 1.15, yi, f"{v:,.0f}", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(1, max(values) * 8)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("candidates per image (log scale)")
    handles = [patches.Patch(color=STAGE_COLORS["one-stage"], label="one-stage"),
               patches.Patch(color=STAGE_COLORS["two-stage"], label="two-stage"),
               patches.Patch(color=ZONE_COLORS["object"], label="objects")]
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_title("How many boxes are classified per image")
    return ax


def plot_loss_curves(p_t, curves: dict, ax=None, title: str = "Cross entropy vs focal loss"):
    """Loss against the probability of the true class p_t, one curve per entry (paper Fig. 1)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    p = torch.as_tensor(p_t).numpy()
    for name, values in curves.items():
        ax.plot(p, torch.as_tensor(values).numpy(), label=name, linewidth=2)
    ax.axvspan(0.5, 1.0, color="#009E73", alpha=0.08, label="well-classified (p_t > 0.5)")
    ax.set_xlabel("probability of the ground-truth class, p_t")
    ax.set_ylabel("loss")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 5)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return ax


def plot_course_map(entries, ncols: int = 5):
    """The lessons as a flow of numbered boxes; ``entries`` are (number, idea, section) tuples."""
    n = len(entries)
    nrows = int(np.ceil(n / ncols))
    fig, ax = plt.subplots(figsize=(2.0 * ncols, 1.35 * nrows + 0.5))
    ax.set_xlim(0, ncols)
    ax.set_ylim(nrows, 0)
    ax.axis("off")
    w, h = 0.88, 0.8
    centres = []
    for i, (num, idea, section) in enumerate(entries):
        r, c = divmod(i, ncols)
        c = c if r % 2 == 0 else ncols - 1 - c  # snake, so consecutive lessons stay adjacent
        cx, cy = c + 0.5, r + 0.5
        centres.append((cx, cy))
        color = STAGE_COLORS["RetinaNet"] if "focal" in idea.lower() else "#0072B2"
        ax.add_patch(patches.FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                            boxstyle="round,pad=0.02", facecolor=color,
                                            alpha=0.15, edgecolor=color))
        ax.text(cx, cy - 0.27, f"{num}", ha="center", va="center", fontsize=9, weight="bold")
        ax.text(cx, cy + 0.02, textwrap.fill(idea, 19), ha="center", va="center", fontsize=7.5)
        ax.text(cx, cy + 0.3, section or "", ha="center", va="center", fontsize=7, color="0.35")
    for (x0, y0), (x1, y1) in zip(centres[:-1], centres[1:]):
        if y0 == y1:
            dx = w / 2 if x1 > x0 else -w / 2
            ax.annotate("", (x1 - dx, y1), (x0 + dx, y0), arrowprops={"arrowstyle": "->"})
        else:
            ax.annotate("", (x1, y1 - h / 2), (x0, y0 + h / 2), arrowprops={"arrowstyle": "->"})
    ax.legend(handles=[patches.Patch(color="#0072B2", alpha=0.15, label="detector component"),
                       patches.Patch(color=STAGE_COLORS["RetinaNet"], alpha=0.15,
                                     label="the paper's new idea: focal loss")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8)
    ax.set_title("The course: one notebook per idea (paper section below each)")
    return fig
