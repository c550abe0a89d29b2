"""Figures of lesson 01 (boxes and IoU): box formats, the intersection of a pair, IoU matrices."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

from .core import CLASS_COLORS, draw_boxes, new_axes, show_image

__all__ = ["plot_box_formats", "plot_iou_pair", "plot_iou_examples", "plot_iou_matrix",
           "plot_named_boxes"]

_A, _B, _INTER = "#0072B2", "#D55E00", "#009E73"


def _arrow(ax, p, q, color, text, offset=(0, 0), **kw):
    ax.annotate("", q, p, arrowprops={"arrowstyle": "<->", "color": color, "lw": 1.5})
    mx, my = (p[0] + q[0]) / 2 + offset[0], (p[1] + q[1]) / 2 + offset[1]
    ax.text(mx, my, text, color="white", fontsize=8, ha="center", va="center",
            bbox={"facecolor": color, "edgecolor": "none", "pad": 1.5, "alpha": 0.9}, **kw)


def _dot(ax, x, y, color, text, ha="left", va="bottom", dx=4, dy=-4):
    ax.plot([x], [y], "o", color=color, markersize=6, markeredgecolor="white")
    ax.text(x + (dx if ha == "left" else -dx), y + dy, text, color="white", fontsize=8, ha=ha,
            va=va, bbox={"facecolor": color, "edgecolor": "none", "pad": 1.5, "alpha": 0.9})


def plot_box_formats(image, box, name: str = "box", margin: int = 70):
    """One xyxy ``box`` on the image in the three formats, its numbers written on the picture."""
    x1, y1, x2, y2 = (float(v) for v in torch.as_tensor(box).reshape(4))
    w, h, cx, cy = x2 - x1, y2 - y1, (x1 + x2) / 2, (y1 + y2) / 2
    height, width = image.shape[-2:]
    fig, axes = new_axes(3, size=4.2)
    titles = [f"xyxy = ({x1:g}, {y1:g}, {x2:g}, {y2:g})",
              f"xywh (COCO) = ({x1:g}, {y1:g}, {w:g}, {h:g})",
              f"cxcywh = ({cx:g}, {cy:g}, {w:g}, {h:g})"]
    for ax, title in zip(axes, titles):
        show_image(ax, image, title)
        draw_boxes(ax, [[x1, y1, x2, y2]], color="#D00000", label=name)
        ax.set_xlim(max(0, x1 - margin), min(width, x2 + margin))
        ax.set_ylim(min(height, y2 + margin), max(0, y1 - margin))
        ax.title.set_fontsize(9.5)
    c = "#0072B2"
    _dot(axes[0], x1, y1, c, f"(x1, y1) = ({x1:g}, {y1:g})", dy=10, va="top")
    _dot(axes[0], x2, y2, c, f"(x2, y2) = ({x2:g}, {y2:g})", ha="right", dy=-8)
    _dot(axes[1], x1, y1, c, f"(x, y) = ({x1:g}, {y1:g})", dy=10, va="top")
    _arrow(axes[1], (x1, y2 + 12), (x2, y2 + 12), c, f"w = {w:g}")
    _arrow(axes[1], (x2 + 12, y1), (x2 + 12, y2), c, f"h = {h:g}", rotation=90)
    _dot(axes[2], cx, cy, c, f"(cx, cy) = ({cx:g}, {cy:g})", dy=-8)
    _arrow(axes[2], (x1, cy + 25), (x2, cy + 25), c, f"w = {w:g}")
    _arrow(axes[2], (cx - 25, y1), (cx - 25, y2), c, f"h = {h:g}", rotation=90)
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle("The same box in three formats (pixels; y grows downwards)")
    fig.tight_layout()
    return fig


def plot_iou_pair(a, b, ax=None, names=("A", "B"), details: bool = True, image=None):
    """Two xyxy boxes, their intersection filled and the IoU arithmetic written in the title
    (over ``image`` when one is given)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    if image is not None:
        show_image(ax, image)
    a = [float(v) for v in torch.as_tensor(a).reshape(4)]
    b = [float(v) for v in torch.as_tensor(b).reshape(4)]
    ix1, iy1, ix2, iy2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    iw, ih = max(0.0, ix2 - ix1), max(0.0, iy2 - iy1)
    inter = iw * ih
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    iou = inter / union if union > 0 else 0.0
    draw_boxes(ax, [a], color=_A, label=f"{names[0]} (area {area_a:g})")
    draw_boxes(ax, [b], color=_B, label=f"{names[1]} (area {area_b:g})")
    if inter > 0:
        ax.add_patch(patches.Rectangle((ix1, iy1), iw, ih, facecolor=_INTER, alpha=0.45,
                                       hatch="//", edgecolor=_INTER,
                                       label=f"intersection ({iw:g} x {ih:g} = {inter:g})"))
    xs, ys = [a[0], a[2], b[0], b[2]], [a[1], a[3], b[1], b[3]]
    pad = 0.12 * max(max(xs) - min(xs), max(ys) - min(ys))
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_ylim(max(ys) + pad, min(ys) - pad)  # image convention: y down
    ax.set_aspect("equal")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    if details:
        ax.set_title(f"IoU = {inter:g} / ({area_a:g} + {area_b:g} - {inter:g}) = {iou:.4f}",
                     fontsize=10)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, ncol=1)
    else:
        ax.set_title(f"IoU = {iou:.2f}", fontsize=10)
    return ax


def plot_iou_examples(pairs, ious, captions=None, ncols: int | None = None, size: float = 2.2,
                      thresholds=(0.4, 0.5)):
    """A grid of box pairs, each titled with its IoU; pairs near the matching ``thresholds``
    (0.4 background / 0.5 object, paper Sec. 4) are framed."""
    n = len(pairs)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.6) * nrows + 0.6),
                             squeeze=False)
    pb = torch.as_tensor([[list(map(float, p)) for p in pair] for pair in pairs]).reshape(-1, 2, 4)
    lo, hi = pb[..., :2].min(1).values, pb[..., 2:].max(1).values  # [n, 2] extent of each pair
    half = float((hi - lo).max()) * 0.56  # the same scale in every panel, each pair centred
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.axis("off")
            continue
        a, b = pairs[k]
        plot_iou_pair(a, b, ax=ax, details=False)
        cx, cy = ((lo[k] + hi[k]) / 2).tolist()
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)
        iou = float(ious[k])
        title = f"IoU = {iou:.2f}" + (f"\n{captions[k]}" if captions else "")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        if any(abs(iou - t) < 0.051 for t in thresholds):
            for s in ax.spines.values():
                s.set_edgecolor("#D00000")
                s.set_linewidth(2)
    handles = [patches.Patch(edgecolor=_A, facecolor="none", label="box A"),
               patches.Patch(edgecolor=_B, facecolor="none", label="box B"),
               patches.Patch(color=_INTER, alpha=0.45, label="intersection"),
               patches.Patch(edgecolor="#D00000", facecolor="none", linewidth=2,
                             label=f"near a matching threshold {thresholds}")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("What an IoU value looks like")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_iou_matrix(iou, row_names, col_names=None, ax=None, title: str = "IoU matrix"):
    """Heat map of an [N, M] IoU matrix with every value written in its cell."""
    iou = torch.as_tensor(iou).detach().cpu().numpy()
    col_names = row_names if col_names is None else col_names
    if ax is None:
        _, ax = plt.subplots(figsize=(0.8 * iou.shape[1] + 2.5, 0.6 * iou.shape[0] + 1.5))
    im = ax.imshow(iou, vmin=0, vmax=1, cmap="viridis")
    for i in range(iou.shape[0]):
        for j in range(iou.shape[1]):
            ax.text(j, i, f"{iou[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if iou[i, j] > 0.6 else "white")
    ax.set_xticks(range(len(col_names)), col_names, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_names)), row_names, fontsize=8)
    ax.set_xlabel("box j")
    ax.set_ylabel("box i")
    ax.figure.colorbar(im, ax=ax, label="IoU(i, j)", fraction=0.046)
    ax.set_title(title)
    return ax


def plot_named_boxes(image, boxes, names, ax=None, title: str = "The photo's boxes"):
    """The photo with its boxes, one colour per box, names written at the corners."""
    if ax is None:
        _, ax = new_axes(size=5.5)
    show_image(ax, image)
    ax.set_title(title, pad=12)
    palette = [c for c in CLASS_COLORS if c != "#F0E442"]  # white labels need dark colours
    for i, (box, name) in enumerate(zip(torch.as_tensor(boxes), names)):
        draw_boxes(ax, box[None], color=palette[i % len(palette)], labels=[name], label=name)
    ax.legend(loc="lower left", fontsize=7, ncol=2, framealpha=0.9)
    return ax
