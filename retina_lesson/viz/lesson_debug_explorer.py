"""Figures of lesson 12 (anchor debugging, paper Sec. 4 "Anchors"), one object at a time: the
anchors of each level around an object by zone (positive, ignored, the best negatives), and an
ipywidgets explorer of the same view (``core.show_live_widget`` keeps it out of stored outputs).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import lines as mlines

from .. import anchors as A
from ..boxes import box_iou
from .core import LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes, show_image
from .lesson_debug import _level_name
from .lesson_matching import faded

__all__ = ["draw_object_anchors", "plot_object_anchors", "anchor_iou_explorer"]

_ZONE_LINE = {"positive": "-", "ignored": "--", "negative": ":"}


def draw_object_anchors(ax, image, box, anchors, fg_iou: float = 0.5, bg_iou: float = 0.4,
                        level_name: str = "P3", max_negative: int = 6, margin: float = 0.15,
                        image_title: str = "", legend: bool = True):
    """One object (red) and the anchors of one level around it, by zone: positives solid green,
    ignored dashed orange, the ``max_negative`` negatives of highest IoU dotted grey; the best
    anchor is thick, in the level's colour. A square view frames the object and its best anchor.
    Returns the IoU of the best anchor."""
    box = torch.as_tensor(box, dtype=torch.float32).reshape(1, 4)
    anchors = torch.as_tensor(anchors, dtype=torch.float32).reshape(-1, 4)
    iou = box_iou(box, anchors)[0] if len(anchors) else torch.zeros(0)
    show_image(ax, faded(image, keep=0.7))
    counts = {}
    for zone, mask in (("negative", (iou < bg_iou) & (iou > 0)),
                       ("ignored", (iou >= bg_iou) & (iou < fg_iou)), ("positive", iou >= fg_iou)):
        idx = mask.nonzero().flatten()
        counts[zone] = int(idx.numel()) if zone != "negative" else int((iou < bg_iou).sum())
        if zone == "negative":
            idx = idx[iou[idx].argsort(descending=True)[:max_negative]]
            label = f"best {len(idx)} negatives"
        else:
            label = f"{zone} ({counts[zone]})"
        draw_boxes(ax, anchors[idx], color=ZONE_COLORS[zone], linewidth=1.2,
                   linestyle=_ZONE_LINE[zone], label=label if len(idx) else None)
    best = float(iou.max()) if len(iou) else 0.0
    frame = box
    if len(iou):
        best_box = anchors[iou.argmax()][None]
        draw_boxes(ax, best_box, color=LEVEL_COLORS.get(level_name, "black"), linewidth=2.6,
                   label=f"best {level_name} anchor, IoU {best:.2f}")
        frame = torch.cat([box, best_box])
    draw_boxes(ax, box, color=ZONE_COLORS["object"], linewidth=2.2, label="object")
    x1, y1 = frame[:, :2].min(0).values.tolist()
    x2, y2 = frame[:, 2:].max(0).values.tolist()
    half = (0.5 + margin) * max(x2 - x1, y2 - y1)       # a square view: panels keep their size
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy + half, cy - half)
    ax.set_title(f"{image_title}{level_name}: best IoU {best:.2f}\n{counts['positive']} positive, "
                 f"{counts['ignored']} ignored", fontsize=8.5,
                 color=LEVEL_COLORS.get(level_name, "black"))
    if legend:
        ax.legend(fontsize=6.5, loc="lower right", framealpha=0.85)
    return best


def plot_object_anchors(image, box, per_level_anchors, fg_iou: float = 0.5, bg_iou: float = 0.4,
                        size: float = 3.4, title: str = "One object and the anchors of each level"):
    """The static version of the explorer: one panel per pyramid level for one object, one legend
    for the figure."""
    n = len(per_level_anchors)
    fig, axes = new_axes(n, 1, size=size)
    for i, (ax, anchors) in enumerate(zip(np.atleast_1d(axes), per_level_anchors)):
        draw_object_anchors(ax, image, box, anchors, fg_iou, bg_iou, _level_name(i, n),
                            legend=False)
    handles = [mlines.Line2D([], [], color=ZONE_COLORS["object"], linewidth=2.2, label="object"),
               mlines.Line2D([], [], color="#333333", linewidth=2.6,
                             label="best anchor of the level (level colour)")]
    handles += [mlines.Line2D([], [], color=ZONE_COLORS[z], linestyle=_ZONE_LINE[z],
                              label=text) for z, text in
                (("positive", f"positive (IoU >= {fg_iou})"),
                 ("ignored", f"ignored ({bg_iou} <= IoU < {fg_iou})"),
                 ("negative", "the best negatives"))]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def anchor_iou_explorer(samples: dict, configs: dict, fg_iou: float = 0.5, bg_iou: float = 0.4):
    """ipywidgets: choose an image, an object, a level and an anchor configuration; draws that
    level's anchors around the object with their zones (``draw_object_anchors``).

    ``samples`` maps a name to ``(image [3, H, W], boxes [N, 4])`` in network-input pixels (the
    padded input size is taken from the image); ``configs`` maps a name to keyword arguments of
    ``anchors.anchors_per_level`` (``sizes``, ``scales``, ``ratios``, ...).
    """
    import ipywidgets as widgets

    names, config_names = list(samples), list(configs)
    cache = {}

    def anchors_of(sample, config):
        key = (sample, config)
        if key not in cache:
            image = samples[sample][0]
            size = tuple(int(np.ceil(s / 32) * 32) for s in image.shape[-2:])
            cache[key] = A.anchors_per_level(size, **configs[config])
        return cache[key]

    def update(sample, obj, level, config):
        image, boxes = samples[sample]
        obj = min(obj, len(boxes) - 1)
        fig, ax = plt.subplots(figsize=(6, 6))
        draw_object_anchors(ax, image, boxes[obj], anchors_of(sample, config)[level], fg_iou,
                            bg_iou, LEVEL_NAMES[level], image_title=f"{sample}, object {obj}: ")
        plt.show()

    max_objects = max(len(b) for _, b in samples.values())
    return widgets.interactive(
        update,
        sample=widgets.Dropdown(options=names, value=names[0], description="image"),
        obj=widgets.IntSlider(value=0, min=0, max=max_objects - 1, description="object"),
        level=widgets.Dropdown(options=[(n, i) for i, n in enumerate(LEVEL_NAMES)], value=0,
                               description="level"),
        config=widgets.Dropdown(options=config_names, value=config_names[0],
                                description="anchors"))
