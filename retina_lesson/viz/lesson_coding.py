"""Figures of lesson 04 (box coding): one encoding, log space, arrows, the targets' spread."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

from .core import (CLASS_COLORS, LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes,
                   show_image)
from .lesson_matching import faded

__all__ = ["plot_encoding_example", "plot_log_space", "plot_coding_arrows", "plot_clamp",
           "plot_target_histograms"]

_ANCHOR = "#0072B2"


def _centre(box):
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


def plot_encoding_example(anchor, box, deltas, image=None, ax=None, margin: float = 25,
                          name: str = "object"):
    """One anchor (dashed blue), its object (red) and the four numbers that move one onto the
    other, written next to the arrow between their centres."""
    anchor = torch.as_tensor(anchor, dtype=torch.float32).reshape(4)
    box = torch.as_tensor(box, dtype=torch.float32).reshape(4)
    tx, ty, tw, th = (float(v) for v in torch.as_tensor(deltas).reshape(4))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    if image is not None:
        show_image(ax, faded(image))
    draw_boxes(ax, anchor[None], color=_ANCHOR, linestyle="--", label="anchor (x_a, y_a, w_a, h_a)")
    draw_boxes(ax, box[None], color=ZONE_COLORS["object"], label=f"{name} (x, y, w, h)")
    ax_, ay_, aw, ah = _centre(anchor)
    gx, gy, gw, gh = _centre(box)
    ax.plot([ax_], [ay_], "o", color=_ANCHOR)
    ax.plot([gx], [gy], "o", color=ZONE_COLORS["object"])
    ax.annotate("", (gx, gy), (ax_, ay_),
                arrowprops={"arrowstyle": "->", "lw": 2, "color": "black"})
    text = (f"$t_x = (x - x_a)/w_a = {tx:+.3f}$\n$t_y = (y - y_a)/h_a = {ty:+.3f}$\n"
            f"$t_w = \\log(w/w_a) = {tw:+.3f}$\n$t_h = \\log(h/h_a) = {th:+.3f}$")
    both = torch.stack([anchor, box])
    x1, y1 = both[:, :2].min(dim=0).values.tolist()
    x2, y2 = both[:, 2:].max(dim=0).values.tolist()
    half = max(x2 - x1, y2 - y1) / 2 + margin
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy + half, cy - half)
    ax.text(0.02, 0.02, text, transform=ax.transAxes, fontsize=9, va="bottom",
            bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"})
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    ax.set_title("Encoding: the anchor-to-object offset in anchor units")
    return ax


def plot_log_space(factors=(0.25, 0.5, 1, 2, 4), t_range=(-3.0, 2.0)):
    """Left: the target for a box ``factor`` times the anchor's width, linear (w / w_a - 1) vs log
    (log(w / w_a)). Right: the width decoded from a prediction t, w_a (1 + t) vs w_a exp(t)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    f = np.asarray(factors, dtype=float)
    x = np.arange(len(f))
    left.bar(x - 0.2, f - 1, 0.4, color="#999999", edgecolor="black", linewidth=0.5,
             label="linear: t = w / w_a - 1")
    left.bar(x + 0.2, np.log(f), 0.4, color=_ANCHOR, edgecolor="black", linewidth=0.5,
             label="log: t = log(w / w_a)")
    for xi, a, b in zip(x, f - 1, np.log(f)):
        left.text(xi - 0.2, a + (0.08 if a >= 0 else -0.08), f"{a:+.2f}", ha="center",
                  va="bottom" if a >= 0 else "top", fontsize=7.5)
        left.text(xi + 0.2, b + (0.08 if b >= 0 else -0.08), f"{b:+.2f}", ha="center",
                  va="bottom" if b >= 0 else "top", fontsize=7.5)
    left.axhline(0, color="black", linewidth=0.8)
    left.set_xticks(x, [f"x{v:g}" if v >= 1 else f"x1/{1 / v:g}" for v in f])
    left.set_xlabel("object width / anchor width")
    left.set_ylabel("regression target t")
    lo, hi = min((f - 1).min(), np.log(f).min()), max((f - 1).max(), np.log(f).max())
    left.set_ylim(lo - 0.6, hi + 0.6)
    left.legend(fontsize=8, loc="upper left")
    left.set_title("Halving and doubling: symmetric only in log space")
    t = np.linspace(*t_range, 200)
    right.plot(t, 1 + t, color="#999999", linewidth=2, label="linear: w = w_a (1 + t)")
    right.plot(t, np.exp(t), color=_ANCHOR, linewidth=2, label="log: w = w_a exp(t)")
    right.axhspan(min(0, 1 + t_range[0]) - 0.5, 0, color=ZONE_COLORS["object"], alpha=0.1,
                  label="impossible: width <= 0")
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xlabel("predicted t")
    right.set_ylabel("decoded width / anchor width")
    right.legend(fontsize=8, loc="upper left")
    right.set_title("Any prediction decodes to a positive width in log space")
    fig.tight_layout()
    return fig


def plot_coding_arrows(image, boxes, anchors, matched, level_ids, names=None,
                       anchors_per_object: int = 2, levels=LEVEL_NAMES, ax=None):
    """Every positive anchor's centre with an arrow to its object's centre (coloured by level):
    the (t_x, t_y) part of the targets. ``matched`` [P] is the object index of each positive
    anchor in ``anchors`` [P, 4]; a few anchors per object are drawn dashed."""
    boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    anchors = torch.as_tensor(anchors, dtype=torch.float32).reshape(-1, 4)
    matched, level_ids = torch.as_tensor(matched), torch.as_tensor(level_ids)
    if ax is None:
        _, ax = new_axes(size=7.0)
    show_image(ax, faded(image))
    a_ctr = (anchors[:, :2] + anchors[:, 2:]) / 2
    b_ctr = (boxes[:, :2] + boxes[:, 2:]) / 2
    for i in range(len(anchors)):
        color = LEVEL_COLORS[levels[int(level_ids[i])]]
        (x0, y0), (x1, y1) = a_ctr[i].tolist(), b_ctr[int(matched[i])].tolist()
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": color,
                                                        "lw": 0.9, "alpha": 0.8,
                                                        "shrinkA": 0, "shrinkB": 0})
        ax.plot([x0], [y0], ".", color=color, markersize=3)
    for j in range(len(boxes)):
        idx = (matched == j).nonzero().flatten()[:anchors_per_object]
        for i in idx.tolist():
            draw_boxes(ax, anchors[i][None], color=LEVEL_COLORS[levels[int(level_ids[i])]],
                       linestyle="--", linewidth=1.2)
    for j, box in enumerate(boxes):
        draw_boxes(ax, box[None], color=ZONE_COLORS["object"], linewidth=2,
                   labels=None if names is None else [names[j]])
    handles = [patches.Patch(edgecolor=LEVEL_COLORS[n], facecolor="none", label=f"{n} anchors")
               for k, n in enumerate(levels) if (level_ids == k).any()]
    handles.append(patches.Patch(edgecolor=ZONE_COLORS["object"], facecolor="none",
                                 label="objects"))
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    h, w = image.shape[-2:]
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_title(f"{len(anchors)} positive anchors, each pointing at its object's centre", pad=14)
    return ax


def plot_clamp(anchor_width: float = 16.0, clip: float = math.log(1000 / 16), t_max: float = 100.0,
               ax=None):
    """Decoded width w_a exp(t_w) against t_w (log y) with and without the clamp at ``clip``; in
    float32 the unclamped width becomes inf past t_w ~ 88."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    t = torch.linspace(0, t_max, 1001)
    raw = anchor_width * torch.exp(t)
    clamped = anchor_width * torch.exp(t.clamp(max=clip))
    finite = torch.isfinite(raw)
    ax.plot(t[finite], raw[finite], color="#999999", linewidth=2, label="no clamp: w_a exp(t_w)")
    if (~finite).any():
        t_inf = float(t[~finite][0])
        ax.axvspan(t_inf, t_max, color=ZONE_COLORS["object"], alpha=0.12,
                   label=f"no clamp: inf in float32 (t_w >= {t_inf:.1f})")
    ax.plot(t, clamped, color=_ANCHOR, linewidth=2,
            label=f"clamped at log(1000/16) = {clip:.3f}: "
                  f"at most {anchor_width * math.exp(clip):g} px")
    ax.set_yscale("log")
    ax.set_xlabel("predicted t_w")
    ax.set_ylabel(f"decoded width (pixels, anchor {anchor_width:g} px, log scale)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("What the clamp protects against")
    return ax


def plot_target_histograms(deltas, bins: int = 60, names=("t_x", "t_y", "t_w", "t_h"),
                           bound: float | None = math.log(2)):
    """Histograms of the four regression targets of positive anchors, [P, 4]; mean and standard
    deviation in each legend; ``bound`` (log 2) marks the limits |t_w|, |t_h| <= log 2 that
    IoU >= 0.5 implies."""
    d = torch.as_tensor(deltas, dtype=torch.float32).reshape(-1, 4).numpy()
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), sharey=True)
    for k, (ax, name) in enumerate(zip(axes, names)):
        v = d[:, k]
        ax.hist(v, bins=bins, color=CLASS_COLORS[k], alpha=0.85, edgecolor="black", linewidth=0.3,
                label=f"mean {v.mean():+.3f}\nstd {v.std():.3f}")
        if bound is not None and k >= 2:
            for b in (-bound, bound):
                ax.axvline(b, color="black", linestyle="--", linewidth=1,
                           label="+-log 2" if b > 0 else None)
        ax.set_xlabel(f"${name}$")
        ax.legend(fontsize=7.5, loc="upper right")
    axes[0].set_ylabel("positive anchors")
    fig.suptitle(f"Regression targets of {len(d):,} positive anchors")
    fig.tight_layout()
    return fig
