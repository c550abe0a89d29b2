"""Figures of lesson 08 (loss and inference, paper Sec. 4): the anchors that count in each loss
term, the zone counts, the per-image loss terms, and the inference steps on the photo."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgb

from .core import CLASS_COLORS, LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes, \
    show_image

__all__ = ["plot_positive_anchors", "plot_zone_counts", "plot_anchors_and_zones", "plot_loss_terms",
           "plot_inference_steps"]


def plot_positive_anchors(image, gt_boxes, anchors, matched, level_index, ax=None,
                          title: str | None = None, show_ignored: bool = False):
    """The anchors that get a box loss (positives, coloured by their pyramid level) over the image
    and its objects; ``show_ignored`` adds the ignored anchors (grey, dashed)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    show_image(ax, image, title)
    matched = torch.as_tensor(matched)
    level_index = torch.as_tensor(level_index)
    if show_ignored:
        ign = matched == -2
        draw_boxes(ax, anchors[ign], color="#777777", linewidth=0.6, alpha=0.6, linestyle="--",
                   label=f"ignored anchors ({int(ign.sum())})")
    for lvl, name in enumerate(LEVEL_NAMES):
        sel = (matched >= 0) & (level_index == lvl)
        if sel.any():
            draw_boxes(ax, anchors[sel], color=LEVEL_COLORS[name], linewidth=1.0, alpha=0.8,
                       label=f"positive on {name} ({int(sel.sum())})")
    draw_boxes(ax, gt_boxes, color=ZONE_COLORS["object"], linewidth=2.5, label="object")
    h, w = image.shape[-2:]
    ax.set_xlim(-0.1 * w, 1.1 * w)
    ax.set_ylim(1.1 * h, -0.1 * h)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    return ax


def plot_zone_counts(counts: dict, ax=None):
    """Grouped bars (log scale) of positive / negative / ignored anchors per image
    (``counts``: image name -> {"positive": n, "negative": n, "ignored": n})."""
    from .lesson_matching import plot_zone_counts_per_level

    return plot_zone_counts_per_level(
        counts, ax=ax, xlabel="image of the batch",
        title="Focal loss: positive + negative anchors; box loss: positives only")


def plot_anchors_and_zones(image, gt_boxes, anchors, matched, level_index, counts: dict,
                           title: str | None = None):
    """Two panels: the anchors with a box loss on one image (``plot_positive_anchors``) and the
    zone counts of every image of the batch (``plot_zone_counts``)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.8))
    plot_positive_anchors(image, gt_boxes, anchors, matched, level_index, ax=axes[0], title=title)
    plot_zone_counts(counts, ax=axes[1])
    fig.tight_layout()
    return fig


def plot_loss_terms(per_image: dict, mean: dict | None = None, ax=None):
    """Both loss terms per image (``per_image``: name -> {"classification", "bbox_regression"})
    and their batch mean as dashed lines."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4))
    terms = ("classification", "bbox_regression")
    colors = {"classification": "#56B4E9", "bbox_regression": "#E69F00"}
    x = np.arange(len(per_image))
    for i, term in enumerate(terms):
        values = [float(v[term]) for v in per_image.values()]
        bars = ax.bar(x + (i - 0.5) * 0.38, values, 0.38, color=colors[term], edgecolor="black",
                      linewidth=0.5, label=f"{term} / max(1, N_pos)")
        for b, v in zip(bars, values):
            ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.3f}", ha="center", va="bottom",
                    fontsize=7)
        if mean is not None:
            ax.axhline(float(mean[term]), color=colors[term], ls="--", lw=1.2,
                       label=f"batch mean {term} = {float(mean[term]):.3f}")
    top = max(float(v[t]) for v in per_image.values() for t in terms)
    ax.set_ylim(0, top * 1.45)
    ax.set_xticks(x, list(per_image))
    ax.set_xlabel("image of the batch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    ax.set_title("Each image normalised by its own positives, then averaged")
    return ax


def plot_inference_steps(image, stages: list, class_names: dict | None = None, size: float = 4.3,
                         label_final: bool = True, title: str | None = None):
    """One panel per inference step (``stages``: dicts with "title", "boxes", "scores",
    "labels"); boxes coloured by class, more opaque the higher their score (faint when a panel
    holds hundreds of boxes); the last panel's boxes are labelled "name score"."""
    fig, axes = new_axes(len(stages), size=size)
    axes = np.atleast_1d(axes)
    names = class_names or {}
    for k, (ax, st) in enumerate(zip(axes, stages)):
        show_image(ax, image, st["title"])
        ax.title.set_fontsize(9)
        boxes = torch.as_tensor(st["boxes"]).detach().float().reshape(-1, 4).cpu()
        scores = torch.as_tensor(st["scores"]).detach().float().reshape(-1).clamp(0, 1).cpu()
        labels = torch.as_tensor(st["labels"]).reshape(-1).cpu()
        final = label_final and k == len(stages) - 1
        floor = 0.03 if len(boxes) > 300 else 0.15
        handles = []
        for c in labels.unique().tolist():
            sel = labels == c
            color = CLASS_COLORS[int(c) % len(CLASS_COLORS)]
            name = names.get(int(c), f"class {int(c)}")
            rgba = [(*to_rgb(color), float(floor + (1 - floor) * s)) for s in scores[sel]]
            rects = [patches.Rectangle((x1, y1), x2 - x1, y2 - y1)
                     for x1, y1, x2, y2 in boxes[sel].tolist()]
            ax.add_collection(PatchCollection(rects, facecolor="none", edgecolors=rgba,
                                              linewidths=1.8 if final else 0.8))
            handles.append(patches.Patch(facecolor="none", edgecolor=color, linewidth=2,
                                         label=name))
            if final:
                for (x1, y1, _, _), s in zip(boxes[sel].tolist(), scores[sel].tolist()):
                    ax.text(x1 + 2, y1 + 2, f"{name} {s:.2f}", color="white", fontsize=7,
                            va="top", bbox={"facecolor": color, "edgecolor": "none", "pad": 1,
                                            "alpha": 0.85})
        h, w = image.shape[-2:]
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        if handles:
            ax.legend(handles=handles, fontsize=6.5, loc="lower left", framealpha=0.8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
