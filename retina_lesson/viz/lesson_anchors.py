"""Figures of lesson 02 (anchors, paper Sec. 4): base anchors, the pyramid's grids, anchor counts,
torchvision vs paper centres, and an interactive anchor explorer (ipywidgets)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

from .. import anchors as A
from .core import (LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes, show_image,
                   show_live_widget)

__all__ = ["RATIO_STYLES", "plot_base_anchors", "plot_anchor_coverage", "plot_anchor_centres",
           "plot_level_anchors", "plot_anchor_counts", "plot_centre_conventions", "anchor_at",
           "draw_anchor", "plot_anchor_settings", "anchor_explorer", "plot_anchor_ladders",
           "show_anchor_explorer"]

SCALE_NAMES = ("2^0", "2^(1/3)", "2^(2/3)")
SCALE_COLORS = ("#0072B2", "#009E73", "#D55E00")
RATIO_STYLES = {0.5: "-", 1.0: "--", 2.0: ":"}


def _ratio_name(r: float) -> str:
    return {0.5: "h/w = 1/2 (wide)", 1.0: "h/w = 1 (square)", 2.0: "h/w = 2 (tall)"}.get(
        float(r), f"h/w = {r:g}")


def plot_base_anchors(base, ratios=A.RATIOS, scales=A.SCALES, ax=None, title: str | None = None):
    """The A anchors of one location (``base`` [A, 4], centred on 0, ratio-major): colour = scale,
    line style = aspect ratio; each legend entry gives the anchor's w x h."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5.2))
    base = torch.as_tensor(base, dtype=torch.float64)
    for k, (x1, y1, x2, y2) in enumerate(base.tolist()):
        i, j = divmod(k, len(scales))
        r = float(ratios[i])
        ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, linewidth=2,
                                       edgecolor=SCALE_COLORS[j % 3],
                                       linestyle=RATIO_STYLES.get(r, "-."),
                                       label=f"{_ratio_name(r)}, scale {SCALE_NAMES[j % 3]}: "
                                             f"{x2 - x1:.1f} x {y2 - y1:.1f}"))
    ax.plot([0], [0], "k+", markersize=10, label="anchor centre")
    lim = float(base.abs().max()) * 1.1
    ax.set_xlim(-lim, lim)
    ax.set_ylim(lim, -lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x - centre (pixels)")
    ax.set_ylabel("y - centre (pixels)")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    ax.set_title(title or f"The {len(base)} anchors of one location")
    return ax


def plot_anchor_coverage(tables: dict, ax=None):
    """Anchor sizes (sqrt of area) of every level on a log axis, one row per convention:
    the three scales fill each octave, so sizes step by 2^(1/3) from 32 to ~813 px."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 2.8))
    for row_y, (name, rows) in enumerate(tables.items()):
        for r in rows:
            color = LEVEL_COLORS.get(r["level"], "black")
            ax.scatter(r["sizes"], [row_y] * len(r["sizes"]), color=color, s=60, zorder=3,
                       label=r["level"] if row_y == 0 else None)
            for s in r["sizes"]:
                ax.text(s, row_y + 0.18, f"{s:.1f}" if s != int(s) else f"{int(s)}",
                        ha="center", fontsize=6.5, rotation=60)
    ax.set_xscale("log", base=2)
    ax.set_yticks(range(len(tables)), list(tables))
    ax.set_ylim(-0.5, len(tables) - 0.1)
    ax.set_xlabel("anchor size = sqrt(area) (pixels, log2 scale)")
    ax.legend(ncol=5, fontsize=8, loc="lower right")
    ax.set_title("15 anchor sizes per convention: P3 ... P7 x 3 scales")
    return ax


def plot_anchor_centres(image, centres, feature_sizes, strides, example_boxes=None, ncols=5,
                        size: float = 3.2):
    """One panel per level: the centres ([K_l, 2] each) of that level's grid over the image, and
    optionally one anchor box per level (``example_boxes`` [L, 4]) to compare size with stride."""
    n = len(centres)
    fig, axes = new_axes(min(ncols, n), int(np.ceil(n / ncols)), size=size)
    axes = np.atleast_1d(axes)
    for l, ax in enumerate(axes):
        if l >= n:
            ax.axis("off")
            continue
        name = LEVEL_NAMES[l]
        c = torch.as_tensor(centres[l]).reshape(-1, 2)
        fh, fw = feature_sizes[l]
        show_image(ax, image, f"{name}: stride {strides[l]}, {fh}x{fw} = {fh * fw} centres")
        ax.title.set_fontsize(8.5)
        ax.scatter(c[:, 0], c[:, 1], s=0.8 * (64 / max(fh, fw)) ** 1.4, color=LEVEL_COLORS[name],
                   linewidths=0, label="anchor centres")
        if example_boxes is not None:
            draw_boxes(ax, example_boxes[l], color=LEVEL_COLORS[name], linewidth=2,
                       label="one anchor (scale 1, 1:1)")
            draw_boxes(ax, example_boxes[l], color="white", linewidth=0.7, linestyle="--")
        ax.set_xlim(-40, image.shape[-1] + 40)
        ax.set_ylim(image.shape[-2] + 40, -40)
        if l == 0:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    fig.suptitle("Anchor centres of each pyramid level (one level, one colour)")
    fig.tight_layout()
    return fig


def plot_level_anchors(image, boxes_by_level, gt_boxes=None, gt_names=None, labels_by_level=None,
                       ax=None, title: str = "Anchors of every level", linewidth: float = 1.6,
                       legend_labels=None):
    """Anchors over the image, coloured by level (``boxes_by_level``: one [K, 4] per level,
    P3 first); objects dashed in red; ``labels_by_level`` writes e.g. the IoU at each anchor,
    ``legend_labels`` (one per level) replaces the level names in the legend."""
    if ax is None:
        _, ax = new_axes(size=5.5)
    show_image(ax, image, title)
    if gt_boxes is not None:
        draw_boxes(ax, gt_boxes, color=ZONE_COLORS["object"], linestyle="--", linewidth=1.2,
                   labels=gt_names)
    for l, boxes in enumerate(boxes_by_level):
        draw_boxes(ax, boxes, color=LEVEL_COLORS[LEVEL_NAMES[l]], linewidth=linewidth,
                   labels=None if labels_by_level is None else labels_by_level[l])
    drawn = [torch.as_tensor(b, dtype=torch.float32).reshape(-1, 4) for b in boxes_by_level]
    drawn.append(torch.tensor([[0.0, 0.0, float(image.shape[-1]), float(image.shape[-2])]]))
    drawn = torch.cat(drawn)
    lo, hi = drawn[:, :2].min(0).values - 25, drawn[:, 2:].max(0).values + 25  # show every box
    ax.set_xlim(float(lo[0]), float(hi[0]))
    ax.set_ylim(float(hi[1]), float(lo[1]))
    names = LEVEL_NAMES[: len(boxes_by_level)]
    handles = [patches.Patch(edgecolor=LEVEL_COLORS[n], facecolor="none", linewidth=2,
                             label=n if legend_labels is None else legend_labels[i])
               for i, n in enumerate(names)]
    handles.append(patches.Patch(edgecolor=ZONE_COLORS["object"], facecolor="none",
                                 linestyle="--", label="object"))
    ax.legend(handles=handles, loc="lower left", fontsize=7, ncol=2, framealpha=0.9)
    return ax


def plot_anchor_ladders(image, ladders, size: tuple = (15, 5.6)):
    """One panel per object: its box and, on every level, one anchor near its centre.

    ``ladders``: (object name, object box [1, 4], one [1, 4] anchor per level, one legend label
    per level) for each panel.
    """
    fig, axes = plt.subplots(1, len(ladders), figsize=size, squeeze=False)
    for ax, (name, box, rungs, labels) in zip(axes[0], ladders):
        plot_level_anchors(image, rungs, box, ax=ax, legend_labels=labels,
                           title=f"{name}: the square anchor of each level nearest its centre")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def plot_anchor_counts(counts, feature_sizes, image_size, ax=None):
    """Bars of H_l * W_l * A per level with their share of the total (P3 dominates)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4))
    total = sum(counts)
    names = LEVEL_NAMES[: len(counts)]
    bars = ax.bar(names, counts, color=[LEVEL_COLORS[n] for n in names], edgecolor="black")
    for b, c, (fh, fw) in zip(bars, counts, feature_sizes):
        ax.text(b.get_x() + b.get_width() / 2, c, f"{c:,}\n{100 * c / total:.1f}%\n({fh}x{fw}x9)",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max(counts) * 1.35)
    ax.set_xlabel("pyramid level")
    ax.set_ylabel("anchors")
    h, w = image_size
    ax.set_title(f"Anchors per level for an input of {h}x{w}: {total:,} in total")
    return ax


def plot_centre_conventions(length: int, centres: dict, ax=None):
    """Anchor centres along one image axis: ``centres`` maps a row label (e.g. "P6 torchvision")
    to its positions; the image occupies [0, length]."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.55 * len(centres) + 1.4))
    for i, (name, xs) in enumerate(centres.items()):
        xs = np.asarray(xs, dtype=float)
        level = name.split()[0]
        paper = "paper" in name
        color = LEVEL_COLORS.get(level, "black")
        if paper:
            ax.scatter(xs, np.full_like(xs, i), marker="o", s=50, facecolors="none",
                       edgecolors=color)
        else:
            ax.scatter(xs, np.full_like(xs, i), marker="|", s=250, color=color)
        ax.text(xs[-1] + 12, i, f"last = {xs[-1]:g}", va="center", fontsize=8)
    ax.axvspan(0, length, color="0.9", zorder=0, label=f"image (0 ... {length} px)")
    ax.set_yticks(range(len(centres)), list(centres), fontsize=8)
    ax.set_ylim(len(centres) - 0.5, -0.5)
    ax.set_xlim(-20, max(length, max(max(v) for v in centres.values())) + 110)
    ax.set_xlabel("x (pixels)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Anchor centres along x: torchvision (|, offset 0, stride = size // cells) "
                 "vs paper (o, cell middles)", fontsize=9)
    return ax


def anchor_at(image_size, level: int, scale_idx: int, ratio_idx: int, x: float, y: float,
              convention: str = "torchvision"):
    """The real anchor (from ``anchors.anchors_per_level``) of a level, scale and ratio whose
    centre is nearest to (x, y); returns (box [4], centre (cx, cy))."""
    per_level = A.anchors_per_level(image_size, convention=convention)[level]
    a = len(A.SCALES) * len(A.RATIOS)
    boxes = per_level[ratio_idx * len(A.SCALES) + scale_idx::a]
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    k = int(((centres - torch.tensor([float(x), float(y)])) ** 2).sum(1).argmin())
    return boxes[k], tuple(centres[k].tolist())


def draw_anchor(ax, image, level: int, scale_idx: int, ratio_idx: int, x: float, y: float,
                convention: str = "torchvision"):
    """Draw one anchor of the explorer on the image (the asked point and the snapped centre)."""
    box, (cx, cy) = anchor_at(image.shape[-2:], level, scale_idx, ratio_idx, x, y, convention)
    name = LEVEL_NAMES[level]
    show_image(ax, image)
    draw_boxes(ax, box, color=LEVEL_COLORS[name], linewidth=2.5, label=f"{name} anchor")
    ax.plot([x], [y], "wx", markersize=8, markeredgewidth=2, label="asked point")
    ax.plot([cx], [cy], "o", color=LEVEL_COLORS[name], markeredgecolor="white",
            label="anchor centre")
    w, h = float(box[2] - box[0]), float(box[3] - box[1])
    ax.set_title(f"{name}, scale {SCALE_NAMES[scale_idx]}, {_ratio_name(A.RATIOS[ratio_idx])}\n"
                 f"{w:g} x {h:g} at ({cx:g}, {cy:g}), asked ({x:g}, {y:g})", fontsize=9)
    lo = torch.minimum(box[:2], torch.zeros(2)) - 20
    hi = torch.maximum(box[2:], torch.tensor([float(image.shape[-1]), float(image.shape[-2])])) + 20
    ax.set_xlim(float(lo[0]), float(hi[0]))
    ax.set_ylim(float(hi[1]), float(lo[1]))
    return ax


def plot_anchor_settings(image, settings, ncols: int = 3, size: float = 3.6):
    """A static grid of explorer views; ``settings`` are (level, scale_idx, ratio_idx, x, y)."""
    n = len(settings)
    fig, axes = new_axes(min(ncols, n), int(np.ceil(n / ncols)), size=size)
    axes = np.atleast_1d(axes)
    for ax, s in zip(axes, settings):
        draw_anchor(ax, image, *s)
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle("Anchor explorer, a few settings (white x: the asked point; dot: the centre of "
                 "the nearest anchor)")
    fig.tight_layout()
    return fig


def anchor_explorer(image, convention: str = "torchvision", size: float = 5.5):
    """An ipywidgets panel (level, scale, ratio, x, y) that redraws the chosen anchor.

    The figure is rendered off-screen (Agg) into an ``Image`` widget rather than shown through an
    ``Output`` widget / ``interact``: headless runners (nbclient, nbval) can hang on the latter.
    """
    import io

    import ipywidgets as widgets
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h, w = image.shape[-2:]
    controls = {
        "level": widgets.Dropdown(options=[(n, i) for i, n in enumerate(LEVEL_NAMES)], value=0,
                                  description="level"),
        "scale_idx": widgets.Dropdown(options=[(n, i) for i, n in enumerate(SCALE_NAMES)],
                                      value=0, description="scale"),
        "ratio_idx": widgets.Dropdown(options=[(_ratio_name(r), i) for i, r in enumerate(A.RATIOS)],
                                      value=1, description="ratio"),
        "x": widgets.IntSlider(value=w // 2, min=0, max=w - 1, description="x"),
        "y": widgets.IntSlider(value=h // 2, min=0, max=h - 1, description="y"),
    }
    view = widgets.Image(format="png")

    def render(_change=None):
        fig = Figure(figsize=(size, size), dpi=80)
        FigureCanvasAgg(fig)
        draw_anchor(fig.add_subplot(), image, convention=convention,
                    **{k: c.value for k, c in controls.items()})
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        view.value = buf.getvalue()

    for c in controls.values():
        c.observe(render, names="value")
    render()
    panel = widgets.HBox([widgets.VBox(list(controls.values())), view])
    panel.controls, panel.render = controls, render  # handles for scripting and tests
    return panel


def show_anchor_explorer(image, **kwargs):
    """Display :func:`anchor_explorer` in a live session (``core.show_live_widget``; a line of
    text where the lesson is executed for storage) and return the panel, or None."""
    return show_live_widget(lambda: anchor_explorer(image, **kwargs),
                            note="The anchor explorer is interactive: run this cell in JupyterLab "
                                 "(with ipywidgets) to use it. The figure below shows a few of its "
                                 "settings.")
