"""Figures of lesson 03 (matching): IoU heat maps, the three zones, anchors by zone on the photo."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

from .core import LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes, show_image

__all__ = ["faded", "plot_iou_objects_anchors", "plot_best_iou_per_level", "plot_zones",
           "plot_zone_anchors", "plot_zone_counts_per_level", "plot_low_quality"]

_ZONE_STYLE = {"positive": {"linewidth": 1.8, "linestyle": "-", "alpha": 1.0},
               "ignored": {"linewidth": 0.9, "linestyle": "--", "alpha": 0.6},
               "negative": {"linewidth": 1.0, "linestyle": ":", "alpha": 0.9}}
_DRAW_ORDER = ("negative", "ignored", "positive")


def _np(x):
    return torch.as_tensor(x).detach().cpu().numpy()


def faded(image, keep: float = 0.45):
    """The image in grey, blended towards white, so coloured boxes drawn on it stand out."""
    img = torch.as_tensor(image, dtype=torch.float32)
    grey = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])[None].expand(3, -1, -1)
    return keep * grey + (1 - keep)


def plot_iou_objects_anchors(iou, names, anchors_per_location: int = 9, ax=None,
                             fg_iou: float = 0.5,
                             title: str = "IoU of every object with every anchor"):
    """Heat map of an [M objects, N anchors] IoU block (one pyramid level, anchors in generation
    order); cells with IoU >= ``fg_iou`` are dotted, locations are separated by faint lines."""
    iou = _np(iou)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.45 * iou.shape[0] + 1.8))
    im = ax.imshow(iou, vmin=0, vmax=1, cmap="viridis", aspect="auto", interpolation="nearest")
    rows, cols = np.nonzero(iou >= fg_iou)
    ax.scatter(cols, rows, s=10, color="white", edgecolor="black", linewidth=0.5,
               label=f"IoU >= {fg_iou} (positive)")
    for x in range(anchors_per_location, iou.shape[1], anchors_per_location):
        ax.axvline(x - 0.5, color="white", linewidth=0.4, alpha=0.5)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel(f"anchor index within the level ({anchors_per_location} anchors per location, "
                  "locations row by row)")
    ax.set_ylabel("object")
    ax.figure.colorbar(im, ax=ax, label="IoU", fraction=0.03, pad=0.01)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    ax.set_title(title)
    return ax


def plot_best_iou_per_level(best_iou, feature_sizes, strides, boxes=None, image_size=None,
                            levels=LEVEL_NAMES, anchors_per_location: int = 9, size: float = 3.0):
    """Each location's best IoU (over its anchors and all objects) as an image per level.

    ``best_iou`` [N_anchors] in generation order; ``feature_sizes`` (H_l, W_l) and ``strides``
    (s_y, s_x) per level place every cell on the input image (anchor centre = cell's top-left
    corner, torchvision's offset 0); ``boxes`` are drawn on top.
    """
    best_iou = torch.as_tensor(best_iou).detach().cpu()
    fig, axes = plt.subplots(1, len(levels), figsize=(size * len(levels) + 1.0, size + 0.6),
                             squeeze=False)
    axes, start, im = axes[0], 0, None
    for ax, name, (fh, fw), stride in zip(axes, levels, feature_sizes, strides):
        sy, sx = stride if isinstance(stride, (tuple, list)) else (stride, stride)
        n = fh * fw * anchors_per_location
        level = best_iou[start:start + n].reshape(fh, fw, -1).amax(dim=-1).numpy()
        start += n
        im = ax.imshow(level, vmin=0, vmax=1, cmap="viridis", interpolation="nearest",
                       extent=(-sx / 2, fw * sx - sx / 2, fh * sy - sy / 2, -sy / 2))
        if boxes is not None:
            draw_boxes(ax, boxes, color=ZONE_COLORS["object"], linewidth=1.2)
        if image_size is not None:
            ax.set_xlim(-sx / 2, max(image_size[1], fw * sx - sx / 2))
            ax.set_ylim(max(image_size[0], fh * sy - sy / 2), -sy / 2)
        ax.set_title(f"{name}: {fh}x{fw} cells, max {level.max():.2f}", fontsize=9,
                     color=LEVEL_COLORS.get(name, "black"))
        ax.set_xlabel("x (pixels)")
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("y (pixels)")
    fig.colorbar(im, ax=list(axes), label="best IoU of the cell's anchors", fraction=0.02,
                 pad=0.01)
    handles = [patches.Patch(edgecolor=ZONE_COLORS["object"], facecolor="none", label="objects")]
    axes[-1].legend(handles=handles, loc="lower right", fontsize=7)
    fig.suptitle("Best IoU per location and level (brighter = an anchor there fits an object)")
    return fig


def plot_zones(fg_iou: float = 0.5, bg_iou: float = 0.4, best_iou=None, bins: int = 50):
    """The three zones of the matching rule on a number line; with ``best_iou`` (each anchor's
    best IoU), a histogram (log counts) of where the anchors fall."""
    spans = [("negative", 0.0, bg_iou), ("ignored", bg_iou, fg_iou), ("positive", fg_iou, 1.0)]
    labels = {"negative": f"negative / background\n0 <= IoU < {bg_iou}",
              "ignored": f"ignored\n{bg_iou} <= IoU < {fg_iou}",
              "positive": f"positive / object\nIoU >= {fg_iou}"}
    nrows = 1 if best_iou is None else 2
    fig, axes = plt.subplots(nrows, 1, figsize=(9, 1.9 if nrows == 1 else 5.2), squeeze=False,
                             sharex=True, gridspec_kw={"height_ratios": [1, 2.4][:nrows]})
    line = axes[0, 0]
    for zone, lo, hi in spans:
        line.axvspan(lo, hi, color=ZONE_COLORS[zone], alpha=0.35, label=labels[zone])
        line.text((lo + hi) / 2, 0.5, zone, ha="center", va="center", fontsize=9, weight="bold")
    for t in (bg_iou, fg_iou):
        line.axvline(t, color="black", linewidth=1)
    line.set_yticks([])
    line.set_xlim(0, 1)
    line.set_title("The three-zone rule on each anchor's best IoU (paper Sec. 4)")
    line.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 if nrows == 1 else 1.9), ncol=3,
                fontsize=8)
    if best_iou is not None:
        ax = axes[1, 0]
        v = _np(best_iou).ravel()
        edges = np.linspace(0, 1, bins + 1)
        for zone, lo, hi in spans:
            sel = v[(v >= lo) & ((v < hi) if zone != "positive" else (v <= hi))]
            ax.hist(sel, bins=edges, color=ZONE_COLORS[zone], edgecolor="black", linewidth=0.3,
                    label=f"{zone} by IoU alone: {sel.size:,} anchors")
        ax.set_yscale("log")
        ax.set_ylabel("anchors (log scale)")
        ax.legend(fontsize=8)
        for t in (bg_iou, fg_iou):
            ax.axvline(t, color="black", linewidth=1)
    axes[-1, 0].set_xlabel("IoU of the anchor with its best object")
    fig.tight_layout()
    return fig


def _zone_of(matches):
    return {"positive": matches >= 0, "ignored": matches == -2, "negative": matches == -1}


def plot_zone_anchors(image, boxes, anchors, matches, level_ids, levels=LEVEL_NAMES,
                      n_negative: int = 15, seed: int = 0, size: float = 4.2):
    """Anchors by zone on the image: one panel per level and one with all levels together.

    Positives solid green, ignored dashed orange, a random sample of ``n_negative`` negatives per
    level dotted grey (there are far too many to draw); objects in red.
    """
    anchors, matches = torch.as_tensor(anchors), torch.as_tensor(matches)
    level_ids = torch.as_tensor(level_ids)
    g = torch.Generator().manual_seed(seed)
    n = len(levels) + 1
    ncols = 3
    fig, axes = new_axes(ncols, int(np.ceil(n / ncols)), size=size)
    picked_all = {z: [] for z in _DRAW_ORDER}
    zones = _zone_of(matches)
    background = faded(image)
    for k, ax in enumerate(axes):
        if k >= n:
            ax.axis("off")
            continue
        show_image(ax, background)
        draw_boxes(ax, boxes, color=ZONE_COLORS["object"], linewidth=2.2, label="object")
        if k < len(levels):
            on_level = level_ids == k
            counts = {}
            for zone in _DRAW_ORDER:
                idx = (zones[zone] & on_level).nonzero().flatten()
                counts[zone] = f"{idx.numel():,} {zone[:3]}"
                if zone == "negative" and idx.numel() > n_negative:
                    idx = idx[torch.randperm(idx.numel(), generator=g)[:n_negative]]
                picked_all[zone].append(idx)
                draw_boxes(ax, anchors[idx], color=ZONE_COLORS[zone], **_ZONE_STYLE[zone])
            ax.set_title(f"{levels[k]}: " + ", ".join(counts[z] for z in _ZONE_STYLE),
                         fontsize=8.5, color=LEVEL_COLORS.get(levels[k], "black"))
        else:
            for zone in _DRAW_ORDER:
                idx = torch.cat(picked_all[zone]) if picked_all[zone] else torch.zeros(0, dtype=int)
                what = "sample of negatives" if zone == "negative" else zone
                draw_boxes(ax, anchors[idx], color=ZONE_COLORS[zone], label=what,
                           **_ZONE_STYLE[zone])
            ax.set_title("all levels together", fontsize=9)
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles[::-1], labels[::-1], loc="lower left", fontsize=7, framealpha=0.9)
        h, w = image.shape[-2:]
        ax.set_xlim(-0.05 * w, 1.05 * w)
        ax.set_ylim(1.05 * h, -0.05 * h)
    fig.suptitle("Anchors by zone (anchors may reach beyond the image border)")
    fig.tight_layout()
    return fig


def plot_zone_counts_per_level(counts, levels=None, ax=None,
                               title: str = "Anchors per zone and level",
                               xlabel: str = "pyramid level"):
    """Grouped bars (log scale) of ``counts``: {level name: {"positive": n, "ignored": n,
    "negative": n}}; the exact numbers are written on the bars."""
    levels = list(counts) if levels is None else list(levels)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4))
    zones = ("positive", "ignored", "negative")
    x = np.arange(len(levels))
    width = 0.27
    for j, zone in enumerate(zones):
        vals = np.array([counts[lv][zone] for lv in levels], dtype=float)
        bars = ax.bar(x + (j - 1) * width, np.maximum(vals, 0.8), width, color=ZONE_COLORS[zone],
                      edgecolor="black", linewidth=0.4, label=zone)
        for b, v in zip(bars, vals):
            ax.text(b.get_x() + b.get_width() / 2, max(v, 0.8) * 1.15, f"{int(v):,}",
                    ha="center", va="bottom", fontsize=6.5, rotation=90)
    ax.set_yscale("log")
    ax.set_ylim(0.7, max(max(c.values()) for c in counts.values()) * 20)
    ax.set_xticks(x, levels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("anchors (log scale)")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title)
    return ax


def plot_low_quality(image, box, best_anchors, best_ious, low_quality_anchors, name: str = "object",
                     fg_iou: float = 0.5, margin: float = 30, size: float = 4.6):
    """Two panels for one object: without the low-quality rule its best anchors (``best_anchors``,
    IoU ``best_ious``, all below ``fg_iou``) stay unmatched; with it ``low_quality_anchors`` become
    its positives."""
    box = torch.as_tensor(box, dtype=torch.float32).reshape(4)
    best_anchors = torch.as_tensor(best_anchors).reshape(-1, 4)
    low_quality_anchors = torch.as_tensor(low_quality_anchors).reshape(-1, 4)
    fig, axes = new_axes(2, size=size)
    everything = torch.cat([box[None], best_anchors, low_quality_anchors])
    x1, y1 = everything[:, :2].min(dim=0).values.tolist()
    x2, y2 = everything[:, 2:].max(dim=0).values.tolist()
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) / 2 + margin
    best = float(torch.as_tensor(best_ious).max()) if len(best_ious) else 0.0
    panels = [(best_anchors, "ignored", f"without low-quality matches: 0 positives\n"
               f"(best anchors IoU {best:.3f} < {fg_iou}: ignored)"),
              (low_quality_anchors, "positive", f"with low-quality matches: "
               f"{len(low_quality_anchors)} positives\n(its tied-best anchors, IoU {best:.3f})")]
    for ax, (anc, zone, title) in zip(axes, panels):
        show_image(ax, faded(image))
        draw_boxes(ax, anc, color=ZONE_COLORS[zone], label=f"anchors ({zone})", linewidth=1.8,
                   linestyle="--" if zone == "ignored" else "-")
        draw_boxes(ax, box[None], color=ZONE_COLORS["object"], linewidth=2.5, label=name)
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)
        ax.set_title(title, fontsize=9)
        ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    fig.suptitle(f"The low-quality rule rescues the {name}")
    fig.tight_layout()
    return fig
