"""Figures of lessons 06-07 (the network, paper Sec. 4 and Fig. 3): the backbone and FPN pyramid,
feature maps per level, the two shared subnets, the output reshaping, parameter counts and the
initial scores. Lesson 08's figures (loss and inference) are in ``lesson_inference``."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

from .core import LEVEL_COLORS, LEVEL_NAMES, show_image

__all__ = ["STAGE_COLOR", "plot_pyramid", "plot_feature_maps", "plot_p6_sources",
           "plot_head_diagram", "plot_reshape_example", "plot_parameter_counts",
           "plot_initial_scores"]

STAGE_COLOR = "#BBBBBB"  # backbone stages C3-C5 (the pyramid levels use LEVEL_COLORS)


def _shape_text(shape) -> str:
    return " x ".join(str(int(s)) for s in shape)


def _box(ax, x, y, w, h, color, text, fontsize=8, text_color="black", **kw):
    ax.add_patch(patches.FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                        facecolor=color, edgecolor="black", linewidth=0.8, **kw))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=text_color)


def _arrow(ax, p, q, text=None, color="black", style="-|>", ls="-", text_offset=(0, 0), **kw):
    ax.annotate("", q, p, arrowprops={"arrowstyle": style, "color": color, "lw": 1.3,
                                      "linestyle": ls, "shrinkA": 2, "shrinkB": 2})
    if text:
        ax.text((p[0] + q[0]) / 2 + text_offset[0], (p[1] + q[1]) / 2 + text_offset[1], text,
                ha="center", va="center", fontsize=7, color=color,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.9}, **kw)


# ---------------------------------------------------------------- lesson 06: backbone and FPN
def plot_pyramid(c_shapes: dict, p_shapes: dict, p6_from: str = "p5", ax=None, title=None):
    """The FPN as a diagram with the real shapes: C3-C5 (bottom-up, left), lateral 1x1 convs,
    the top-down path (2x nearest upsampling, +), 3x3 output convs, P6 / P7 (right).

    ``c_shapes``: {"C3": (C, H, W), ...}; ``p_shapes``: {"P3": (C, H, W), ..., "P7": ...}.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(10.5, 6.2))
    cy = {f"C{l}": l - 3 for l in (3, 4, 5)}
    py = {f"P{l}": l - 3 for l in (3, 4, 5, 6, 7)}
    largest = max(s[-1] for s in p_shapes.values())

    def width(shape):  # box width grows with the feature map's width (sqrt to keep P7 readable)
        return 0.9 + 1.1 * (shape[-1] / largest) ** 0.5

    for name, shape in c_shapes.items():
        _box(ax, 0, cy[name], width(shape), 0.55, STAGE_COLOR,
             f"{name}\n{_shape_text(shape)}")
    for name, shape in p_shapes.items():
        _box(ax, 5, py[name], width(shape), 0.55, LEVEL_COLORS.get(name, "white"),
             f"{name}\n{_shape_text(shape)}",
             text_color="white" if name in ("P3", "P4", "P7") else "black")
    ax.text(0, -1.0, "input image", ha="center", fontsize=8)
    _arrow(ax, (0, -0.85), (0, -0.3), "stem, layer1 (C2), layer2")
    for lo, hi in ((3, 4), (4, 5)):
        _arrow(ax, (0, cy[f"C{lo}"] + 0.3), (0, cy[f"C{hi}"] - 0.3), f"layer{hi - 1}, stride 2")
    for l in (3, 4, 5):
        y = cy[f"C{l}"]
        ax.text(2.5, y, "+", ha="center", va="center", fontsize=13,
                bbox={"boxstyle": "circle", "facecolor": "white", "edgecolor": "black"})
        _arrow(ax, (1.2, y), (2.3, y), "1x1 lateral", text_offset=(0, 0.14))
        _arrow(ax, (2.7, y), (3.8, y), "3x3 output", text_offset=(0, 0.14))
    for hi, lo in ((5, 4), (4, 3)):
        _arrow(ax, (2.5, hi - 3 - 0.2), (2.5, lo - 3 + 0.2), "2x up\n(nearest)", ls="--",
               color="#0072B2", text_offset=(0.45, 0))
    src = (5, py["P5"] + 0.3) if p6_from == "p5" else (1.1, cy["C5"] + 0.2)
    _arrow(ax, src, (5, py["P6"] - 0.3) if p6_from == "p5" else (4.0, py["P6"] - 0.1),
           f"3x3 stride 2 on {'P5' if p6_from == 'p5' else 'C5'}", color="#CC79A7",
           text_offset=(0.95, 0) if p6_from == "p5" else (0, 0.2))
    _arrow(ax, (5, py["P6"] + 0.3), (5, py["P7"] - 0.3), "ReLU, 3x3 stride 2", color="#D55E00",
           text_offset=(0.95, 0))
    handles = [patches.Patch(facecolor=STAGE_COLOR, edgecolor="black", label="ResNet stage C_l"),
               *(patches.Patch(facecolor=LEVEL_COLORS[n], edgecolor="black", label=n)
                 for n in p_shapes)]
    ax.legend(handles=handles, loc="upper left", fontsize=8)
    ax.set_xlim(-1.6, 6.6)
    ax.set_ylim(-1.3, 4.6)
    ax.set_xticks([0, 2.5, 5], ["bottom-up\n(backbone)", "top-down\n+ lateral", "pyramid\n(FPN)"])
    ax.set_yticks(range(5), [f"level {l}\n(stride {2 ** l})" for l in range(3, 8)], fontsize=8)
    ax.set_xlabel("pathway")
    ax.set_ylabel("pyramid level (resolution 2^l lower than the input)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"Feature pyramid: shapes are channels x height x width (P6 from "
                          f"{p6_from.upper()})")
    return ax


def plot_feature_maps(image, maps: dict, title: str, colorbar_label: str = "activation (a.u.)",
                      size: float = 2.9, ncols: int | None = None, input_height: int | None = None):
    """The image, then one heat map per level (``maps``: name -> 2-D tensor), each panel framed in
    its level colour and titled with its grid size and its stride on the network's input
    (``input_height`` pixels high; the shown image's height by default)."""
    n = len(maps) + 1
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.05),
                             squeeze=False)
    axes = axes.ravel()
    show_image(axes[0], image, "input image")
    height = input_height or image.shape[-2]
    for ax, (name, m) in zip(axes[1:], maps.items()):
        m = torch.as_tensor(m).detach().float().cpu()
        im = ax.imshow(m.numpy(), cmap="viridis")
        color = LEVEL_COLORS.get(name, "black")
        for spine in ax.spines.values():
            spine.set_edgecolor(color)
            spine.set_linewidth(3)
        stride = height / m.shape[0]
        ax.set_title(f"{name}: {m.shape[0]} x {m.shape[1]} (stride {stride:g})", color=color,
                     fontsize=9)
        ax.set_xlabel("x (feature cells)")
        ax.set_ylabel("y (feature cells)")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).set_label(colorbar_label, fontsize=7)
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_p6_sources(maps: dict, params: dict, size: float = 3.3):
    """P6 computed two ways (``maps``: label -> 2-D tensor) and the parameter count of the P6 conv
    in each case (``params``: label -> int)."""
    fig, axes = plt.subplots(1, len(maps) + 1, figsize=(size * (len(maps) + 1.3), size))
    for ax, (label, m) in zip(axes, maps.items()):
        m = torch.as_tensor(m).detach().float().cpu()
        im = ax.imshow(m.numpy(), cmap="viridis")
        ax.set_title(label, fontsize=9, color=LEVEL_COLORS["P6"])
        ax.set_xlabel("x (P6 cells)")
        ax.set_ylabel("y (P6 cells)")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).set_label("|P6| (a.u.)", fontsize=7)
    ax = axes[-1]
    labels, values = list(params), list(params.values())
    bars = ax.bar(range(len(values)), [v / 1e6 for v in values],
                  color=[LEVEL_COLORS["P6"], "#999999"][:len(values)], edgecolor="black",
                  label="P6 conv weights + biases")
    for b, v in zip(bars, values):
        ax.text(b.get_x() + b.get_width() / 2, v / 1e6, f"{v:,}", ha="center", va="bottom",
                fontsize=8)
    ax.set_xticks(range(len(values)), labels, fontsize=8)
    ax.set_ylabel("parameters (millions)")
    ax.set_ylim(0, max(values) / 1e6 * 1.25)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("size of the P6 conv", fontsize=9)
    fig.suptitle("P6 from P5 (torchvision v1) vs P6 from C5 (the paper): same shape, other numbers")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- lesson 07: heads
def plot_head_diagram(num_convs: int = 4, channels: int = 256, num_anchors: int = 9,
                      num_classes: int = 80, levels=LEVEL_NAMES, ax=None):
    """The paper's Fig. 3 (c, d): every level goes through the *same* two subnets."""
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4.6))
    ys = np.linspace(3.6, 0.4, len(levels))
    for y, name in zip(ys, levels):
        _box(ax, 0, y, 0.8, 0.45, LEVEL_COLORS.get(name, "white"), name,
             text_color="white" if name in ("P3", "P4", "P7") else "black")
    rows = {"class subnet": (3.0, f"K·A = {num_classes * num_anchors}\n(sigmoid)", "#56B4E9"),
            "box subnet": (1.0, f"4·A = {4 * num_anchors}\n(box deltas)", "#F0E442")}
    for label, (y, out_text, color) in rows.items():
        for y_level in ys:
            ax.annotate("", (1.35, y), (0.42, y_level),
                        arrowprops={"arrowstyle": "-|>", "color": "#666666", "lw": 0.8})
        for i in range(num_convs):
            _box(ax, 1.9 + 1.15 * i, y, 0.95, 0.75, color,
                 f"3x3 conv\n{channels}, ReLU", fontsize=7)
            if i:
                _arrow(ax, (1.9 + 1.15 * i - 0.68, y), (1.9 + 1.15 * i - 0.48, y))
        x_out = 1.9 + 1.15 * num_convs + 0.35
        _arrow(ax, (x_out - 0.85, y), (x_out - 0.45, y))
        _box(ax, x_out + 0.2, y, 1.2, 0.75, "white", f"3x3 conv\n{out_text}", fontsize=7)
        ax.text(1.9 + 1.15 * (num_convs - 1) / 2, y + 0.62, f"{label}: {num_convs} x (W x H x "
                f"{channels})", ha="center", fontsize=8.5, fontweight="bold")
    ax.text(0.9, 4.25, "one set of weights, applied to every level", fontsize=9, color="#D00000")
    handles = [patches.Patch(facecolor=LEVEL_COLORS.get(n, "white"), edgecolor="black", label=n)
               for n in levels]
    ax.legend(handles=handles, loc="lower right", fontsize=7, ncol=len(levels), title="input level")
    ax.set_xlim(-0.6, x_out + 1.0)
    ax.set_ylim(-0.6, 4.5)
    ax.set_xlabel("depth in the subnet (layers) ->")
    ax.set_ylabel("pyramid level in")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"RetinaNet heads (paper Fig. 3 c, d): A = {num_anchors} anchors, "
                 f"K = {num_classes} classes")
    return ax


def plot_reshape_example(before, after, num_anchors: int, num_classes: int):
    """The head output of one image before ([A*K, H, W]) and after ([H*W*A, K]) the reshape, every
    cell written as its (y, x, a, k) and coloured by its location (y, x)."""
    before, after = torch.as_tensor(before), torch.as_tensor(after)
    ak, h, w = before.shape
    cmap = plt.get_cmap("tab10")

    def code(v):
        v = int(v)
        return f"{v // 1000}{v // 100 % 10}{v // 10 % 10}{v % 10}"

    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2),
                             gridspec_kw={"width_ratios": [h * w, num_classes]})
    flat = before.reshape(ak, h * w)
    for r in range(ak):
        for c in range(h * w):
            axes[0].add_patch(patches.Rectangle((c, r), 1, 1, facecolor=cmap(c % 10), alpha=0.55,
                                                edgecolor="white"))
            axes[0].text(c + 0.5, r + 0.5, code(flat[r, c]), ha="center", va="center", fontsize=8)
    axes[0].set_xlim(0, h * w)
    axes[0].set_ylim(ak, 0)
    axes[0].set_xticks(np.arange(h * w) + 0.5, [f"({y},{x})" for y in range(h) for x in range(w)])
    axes[0].set_yticks(np.arange(ak) + 0.5, [f"a={r // num_classes} k={r % num_classes}"
                                             for r in range(ak)], fontsize=8)
    axes[0].set_xlabel("location (y, x) of the feature map")
    axes[0].set_ylabel("output channel = a·K + k")
    axes[0].set_title(f"conv output: [A·K, H, W] = [{ak}, {h}, {w}]")
    rows = after.shape[0]
    for r in range(rows):
        loc = r // num_anchors
        for c in range(num_classes):
            axes[1].add_patch(patches.Rectangle((c, r), 1, 1, facecolor=cmap(loc % 10), alpha=0.55,
                                                edgecolor="white"))
            axes[1].text(c + 0.5, r + 0.5, code(after[r, c]), ha="center", va="center", fontsize=8)
    axes[1].set_xlim(0, num_classes)
    axes[1].set_ylim(rows, 0)
    axes[1].set_xticks(np.arange(num_classes) + 0.5, [f"k={k}" for k in range(num_classes)])
    axes[1].set_yticks(np.arange(rows) + 0.5, [f"row {r}" for r in range(rows)], fontsize=8)
    axes[1].set_xlabel("class column k")
    axes[1].set_ylabel("anchor row = (y·W + x)·A + a")
    axes[1].set_title(f"one row per anchor: [H·W·A, K] = [{rows}, {num_classes}]")
    handles = [patches.Patch(facecolor=cmap(i % 10), alpha=0.55, label=f"location ({y},{x})")
               for i, (y, x) in enumerate((y, x) for y in range(h) for x in range(w))]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    fig.suptitle("Each cell shows its digits y x a k: the reshape groups a location's A anchors")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_parameter_counts(counts: dict, ax=None, title: str = "Where the parameters are"):
    """Horizontal bars, one per part (``counts``: name -> number of parameters)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.55 * len(counts) + 1.4))
    names, values = list(counts), [int(v) for v in counts.values()]
    palette = ["#999999", "#0072B2", "#56B4E9", "#E69F00", "#009E73", "#CC79A7"]
    y = np.arange(len(names))[::-1]
    colors = [palette[i % len(palette)] for i in range(len(values))]
    ax.barh(y, [v / 1e6 for v in values], color=colors, edgecolor="black", linewidth=0.5,
            label="parameters")
    for yi, v in zip(y, values):
        ax.text(v / 1e6, yi, f" {v:,}", va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel("parameters (millions)")
    ax.set_xlim(0, max(values) / 1e6 * 1.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    return ax


def plot_initial_scores(scores: dict, ax=None, threshold: float = 0.05):
    """Histogram (log x) of the sigmoid scores of all (anchor, class) pairs of an untrained model,
    one per initialisation of the classification bias (``scores``: label -> 1-D tensor)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4))
    bins = np.logspace(-4, 0, 161)
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    for (label, s), color in zip(scores.items(), colors):
        s = torch.as_tensor(s).detach().float().flatten().cpu().numpy()
        ax.hist(s, bins=bins, color=color, alpha=0.75, label=f"{label} (mean {s.mean():.4f})")
    ax.axvline(threshold, color="black", ls="--", lw=1, label=f"inference threshold {threshold}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("initial score p = sigmoid(logit) of one (anchor, class) pair")
    ax.set_ylabel("number of pairs")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Scores of an untrained RetinaNet on the photo")
    return ax
