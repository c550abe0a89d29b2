"""Figures of lesson 12 (anchor debugging, paper Sec. 4 "Anchors"): each object's best IoU against
the 0.4 / 0.5 thresholds, positives per pyramid level, object shapes against the anchor shapes,
objects left without a positive anchor and a comparison of anchor configurations. One object's
anchors by zone, and their explorer, are in ``lesson_debug_explorer``; lesson 13's figures are in
``lesson_ablation``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import lines as mlines
from matplotlib import patches, ticker

from .core import (CLASS_COLORS, LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes,
                   show_image)
from .lesson_matching import faded

__all__ = ["plot_best_iou_histogram", "plot_positives_per_level", "plot_object_shapes",
           "plot_shapes_panels", "show_unmatched", "plot_config_comparison"]

def _np(x):
    return np.asarray(torch.as_tensor(x, dtype=torch.float64))


def _level_name(i: int, n: int) -> str:
    return LEVEL_NAMES[i] if n == len(LEVEL_NAMES) else f"L{i}"


def plot_best_iou_histogram(best_ious: dict, fg_iou: float = 0.5, bg_iou: float = 0.4, ax=None,
                            bins: int = 40, title: str = "Each object's best IoU with any anchor",
                            xlabel: str = "best IoU of the object with any anchor"):
    """Histogram of the objects' best anchor IoU, one outline per configuration (``best_ious``:
    label -> values), over the three zones of the matching rule (Sec. 4): an object left of
    ``fg_iou`` gets no positive anchor from the three-zone rule alone."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 5.0), layout="constrained")
    ax.axvspan(0, bg_iou, color=ZONE_COLORS["negative"], alpha=0.15)
    ax.axvspan(bg_iou, fg_iou, color=ZONE_COLORS["ignored"], alpha=0.18)
    ax.axvspan(fg_iou, 1, color=ZONE_COLORS["positive"], alpha=0.12)
    edges = np.linspace(0, 1, bins + 1)
    for k, (label, values) in enumerate(best_ious.items()):
        v = _np(values)
        below = float((v < fg_iou).mean()) if len(v) else float("nan")
        ax.hist(v, bins=edges, histtype="step", linewidth=2, color=CLASS_COLORS[k % 8],
                label=f"{label}: {below:.1%} of {len(v)} below {fg_iou}")
    for x, name in ((bg_iou, f"bg_iou {bg_iou}"), (fg_iou, f"fg_iou {fg_iou}")):
        ax.axvline(x, color="#333333", linestyle="--", linewidth=1)
        ax.text(x, 1.01, name, transform=ax.get_xaxis_transform(), fontsize=8, va="bottom",
                ha="center")
    zone_handles = [patches.Patch(color=ZONE_COLORS[z], alpha=0.3, label=f"zone: {z}")
                    for z in ("negative", "ignored", "positive")]
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + zone_handles, fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.13), ncol=2)
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("objects")
    ax.set_title(title, pad=14)
    return ax


def plot_positives_per_level(counts: dict, ax=None, log: bool = False,
                             title: str = "Positive anchors per pyramid level"):
    """Bars of the positive anchors of each level (colour = level), one group per configuration
    (``counts``: label -> list of per-level counts, as ``debug.positives_per_level`` returns)."""
    labels = list(counts)
    n_levels = max(len(c) for c in counts.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 2.2 * len(labels) + 2), 4.2), layout="constrained")
    width = 0.8 / n_levels
    top = max(max(c) if len(c) else 0 for c in counts.values())
    for g, label in enumerate(labels):
        for i, v in enumerate(counts[label]):
            name = _level_name(i, n_levels)
            x = g + (i - (n_levels - 1) / 2) * width
            ax.bar(x, max(v, 0.8) if log else v, width, color=LEVEL_COLORS.get(name, "#333333"),
                   edgecolor="black", linewidth=0.4, label=name if g == 0 else None)
            ax.text(x, (max(v, 0.8) * 1.15) if log else v + 0.01 * top, f"{int(v):,}",
                    ha="center", va="bottom", fontsize=7, rotation=90)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(0.7, max(top, 1) * 30)
    else:
        ax.set_ylim(0, max(top, 1) * 1.25)
    ax.set_xticks(range(len(labels)), labels, fontsize=9)
    ax.set_xlabel("anchor configuration")
    ax.set_ylabel("positive anchors (three-zone rule)" + (" (log scale)" if log else ""))
    ax.legend(title="level", fontsize=8, loc="upper right", ncol=n_levels)
    ax.set_title(title)
    return ax


def plot_object_shapes(wh, anchor_wh, ax=None, highlight=None, highlight_label: str = "no positive",
                       max_points: int = 4000, seed: int = 0,
                       title: str = "Object shapes against the anchor shapes"):
    """Log-log scatter of object width against height (grey; ``highlight`` [N] bool in red) with
    the anchor shapes of a configuration (``anchor_wh``: one [A, 2] (w, h) array per level) as
    large hollow squares in the level's colour. Dotted lines: aspect ratios 1:2, 1:1, 2:1."""
    wh = _np(wh).reshape(-1, 2)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.6, 6.0), layout="constrained")
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(wh))[:max_points] if len(wh) > max_points else np.arange(len(wh))
    mask = np.zeros(len(wh), bool) if highlight is None else _np(highlight).astype(bool)
    ax.scatter(wh[pick][~mask[pick], 0], wh[pick][~mask[pick], 1], s=6, color="#777777",
               alpha=0.45, label=f"objects ({len(wh):,})")
    if mask.any():
        ax.scatter(wh[pick][mask[pick], 0], wh[pick][mask[pick], 1], s=8,
                   color=ZONE_COLORS["object"],
                   alpha=0.6, label=f"objects with {highlight_label} ({int(mask.sum()):,})")
    sides = [wh] + [_np(a).reshape(-1, 2) for a in anchor_wh]
    lo = max(1.0, min(float(s.min()) for s in sides if len(s)) / 1.5)
    hi = max(float(s.max()) for s in sides if len(s)) * 1.5
    for i, a in enumerate(anchor_wh):
        a = _np(a).reshape(-1, 2)
        name = _level_name(i, len(anchor_wh))
        ax.scatter(a[:, 0], a[:, 1], s=110, marker="s", facecolor="none", linewidth=2,
                   edgecolor=LEVEL_COLORS.get(name, "black"), label=f"{name} anchors")
    for r, text in ((0.5, "h/w = 1/2"), (1.0, "h/w = 1"), (2.0, "h/w = 2")):
        ax.plot([lo, hi], [lo * r, hi * r], color="#999999", linestyle=":", linewidth=1)
        x = hi / 1.6 / max(r, 1)
        ax.text(x, x * r, text, fontsize=7, color="#666666", rotation=45, ha="center")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    fmt = ticker.FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(fmt)
    ax.set_xlabel("width (pixels, log scale)")
    ax.set_ylabel("height (pixels, log scale)")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title)
    return ax


def plot_shapes_panels(panels: dict, anchor_wh: dict, highlight: dict, size=(6.5, 6.2),
                       title: str = "Object width x height and the anchor shapes"):
    """One ``plot_object_shapes`` panel per entry of ``panels`` (name -> objects' (w, h) [N, 2]),
    with that entry's anchor shapes (``anchor_wh[name]``) and red objects (``highlight[name]``)."""
    names = list(panels)
    fig, axes = plt.subplots(1, len(names), figsize=(size[0] * len(names), size[1]),
                             layout="constrained")
    for ax, name in zip(np.atleast_1d(axes), names):
        plot_object_shapes(panels[name], anchor_wh[name], ax=ax, highlight=highlight[name],
                           title=name)
    fig.suptitle(title)
    return fig


def show_unmatched(images, object_boxes, anchor_boxes, anchor_levels, ious, captions=None,
                   ncols: int = 4, size: float = 3.0, margin: float = 10,
                   title: str = "Objects with no positive anchor, and their best anchor"):
    """One panel per object: the image (faded), the object (red) and its best anchor (the level's
    colour, dashed), zoomed on the pair; the title gives the IoU and the level."""
    n = len(object_boxes)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = new_axes(min(ncols, max(n, 1)), nrows, size=size)
    axes = np.atleast_1d(axes)
    n_levels = max([int(v) + 1 for v in anchor_levels] + [len(LEVEL_NAMES)])
    for k, ax in enumerate(axes):
        if k >= n:
            ax.axis("off")
            continue
        box = torch.as_tensor(object_boxes[k], dtype=torch.float32).reshape(4)
        anchor = torch.as_tensor(anchor_boxes[k], dtype=torch.float32).reshape(4)
        name = _level_name(int(anchor_levels[k]), n_levels)
        show_image(ax, faded(images[k], keep=0.7))
        draw_boxes(ax, box, color=ZONE_COLORS["object"], linewidth=2, label="object")
        draw_boxes(ax, anchor, color=LEVEL_COLORS.get(name, "black"), linewidth=2, linestyle="--",
                   label=f"best anchor ({name})")
        both = torch.stack([box, anchor])
        x1, y1 = (both[:, :2].min(0).values - margin).tolist()
        x2, y2 = (both[:, 2:].max(0).values + margin).tolist()
        half = max(x2 - x1, y2 - y1) / 2
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)
        caption = captions[k] if captions is not None else ""
        ax.set_title(f"{caption}\nIoU {float(ious[k]):.2f} with a {name} anchor".strip(),
                     fontsize=8)
        ax.set_xlabel("x (pixels)", fontsize=8)
        ax.set_ylabel("y (pixels)", fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [mlines.Line2D([], [], color=ZONE_COLORS["object"], linewidth=2, label="object")]
    handles += [mlines.Line2D([], [], color=LEVEL_COLORS[nm], linestyle="--", linewidth=2,
                              label=f"best anchor on {nm}") for nm in LEVEL_NAMES]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_config_comparison(results: dict, ax=None, highlight=(),
                           title: str = "Anchor recall of each configuration"):
    """Horizontal bars per configuration (``results`` from ``debug.compare_configs``): the share of
    objects with a positive anchor under the three-zone rule, and with the low-quality rule added.
    Names in ``highlight`` are written in bold."""
    names = list(results)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.6), layout="constrained")
    y = np.arange(len(names))
    rule = [results[n]["recall"] for n in names]
    low_q = [results[n]["recall_low_quality"] for n in names]
    ax.barh(y - 0.2, rule, 0.4, color=ZONE_COLORS["positive"],
            label="three-zone rule (IoU >= fg_iou)")
    ax.barh(y + 0.2, low_q, 0.4, color="#56B4E9", label="with low-quality matches")
    for yy, a, b in zip(y, rule, low_q):
        ax.text(a + 0.005, yy - 0.2, f"{a:.3f}", va="center", fontsize=7)
        ax.text(b + 0.005, yy + 0.2, f"{b:.3f}", va="center", fontsize=7)
    ax.set_yticks(y, names, fontsize=8)
    for tick, n in zip(ax.get_yticklabels(), names):
        if n in highlight:
            tick.set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlim(0, 1.45)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.axvline(1.0, color="#333333", linewidth=0.8, linestyle=":")
    ax.set_xlabel("anchor recall: share of objects with at least one positive anchor")
    ax.set_ylabel("configuration")
    ax.legend(fontsize=8, loc="center right", framealpha=0.95)
    ax.set_title(title)
    return ax
