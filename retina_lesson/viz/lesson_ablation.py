"""Figures of lesson 13 (the focal-loss ablation, paper Sec. 5.1, Table 1): AP against the
focusing parameter gamma beside the paper's Table 1b, and the training losses of every run."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import lines as mlines
from matplotlib import ticker

from .core import CLASS_COLORS
from .lesson_focal import GAMMA_COLORS
from .lesson_training import smooth_curve

__all__ = ["plot_ap_vs_gamma", "plot_ablation_losses"]


def _alpha_text(alpha: float) -> str:
    return "no α" if alpha < 0 else f"α={alpha:g}".replace("=0.", "=.")


def _gamma_axis(ax, ticks):
    """x axis of gamma on a square-root scale (0 ... 5 spread out); ``ticks``: (gamma, alpha
    text), the text written only where it changes."""
    ax.set_xscale("function", functions=(lambda x: np.sqrt(np.clip(x, 0, None)), np.square))
    ax.set_xlim(-0.05, max(g for g, _ in ticks) * 1.08)
    texts = [t if k == 0 or t != ticks[k - 1][1] else "" for k, (_, t) in enumerate(ticks)]
    ax.set_xticks([g for g, _ in ticks], [f"{g:g}\n{t}" for (g, _), t in zip(ticks, texts)],
                  fontsize=7.5)
    ax.xaxis.set_minor_locator(ticker.NullLocator())


def plot_ap_vs_gamma(rows, paper: dict, metrics=("AP", "AP50", "AP75"), size: float = 5.2,
                     title: str = "AP against the focusing parameter gamma (Table 1b)"):
    """Two panels. Left: our runs (``rows`` from ``ablation.run_ablation``) - the settings with
    the prior init and an alpha joined over gamma (gamma 0 = alpha-balanced CE), plain CE as hollow
    markers, runs without the prior init as crosses. Right: the paper's Table 1b (``paper``:
    (gamma, alpha) -> (AP, AP50, AP75) in percent). x axis: gamma on a square-root scale, each
    tick with its alpha."""
    styles = {"AP": ("o", "-"), "AP50": ("s", "--"), "AP75": ("^", ":")}
    colours = {"AP": "#0072B2", "AP50": "#56B4E9", "AP75": "#D55E00"}
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size * 0.85), layout="constrained")
    main = sorted((r for r in rows if r["prior"] and r["alpha"] >= 0), key=lambda r: r["gamma"])
    plain = [r for r in rows if r["prior"] and r["alpha"] < 0]
    no_prior = [r for r in rows if not r["prior"]]
    for m in metrics:
        marker, ls = styles[m]
        axes[0].plot([r["gamma"] for r in main], [100 * r[m] for r in main], marker=marker,
                     linestyle=ls, color=colours[m], label=m)
        for r in plain:
            axes[0].plot([r["gamma"]], [100 * r[m]], marker=marker, linestyle="none",
                         markerfacecolor="white", color=colours[m], markersize=10)
        for r in no_prior:
            axes[0].plot([r["gamma"]], [100 * r[m]], marker="x", linestyle="none",
                         color=colours[m], markersize=10, markeredgewidth=2)
    extra = []
    if plain:
        extra.append(mlines.Line2D([], [], marker="o", markerfacecolor="white", color="#333333",
                                   linestyle="none", label=", ".join(r["label"] for r in plain)
                                   + " (hollow)"))
    if no_prior:
        extra.append(mlines.Line2D([], [], marker="x", color="#333333", linestyle="none",
                                   markeredgewidth=2,
                                   label=", ".join(r["label"] for r in no_prior)))
    ours_ticks = {float(r["gamma"]): _alpha_text(r["alpha"]) for r in plain + no_prior}
    ours_ticks.update({float(r["gamma"]): _alpha_text(r["alpha"]) for r in main})
    keys = sorted(paper)
    for k, m in enumerate(metrics):
        marker, ls = styles[m]
        axes[1].plot([g for g, _ in keys], [paper[key][k] for key in keys], marker=marker,
                     linestyle=ls, color=colours[m], label=m)
    paper_ticks = [(g, _alpha_text(a)) for g, a in keys]
    for ax, name, ticks in zip(axes, ("ours: shapes validation split, one seed per setting",
                                      "paper: COCO minival, ResNet-50, 600 px (Table 1b)"),
                               (sorted(ours_ticks.items()), paper_ticks)):
        _gamma_axis(ax, ticks)
        ax.set_xlabel("focusing parameter γ (square-root scale), α where it changes; "
                      "γ = 0: cross entropy", fontsize=9)
        ax.set_ylabel("percent")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    handles, _ = axes[0].get_legend_handles_labels()
    axes[0].legend(handles=handles + extra, fontsize=7.5, loc="best")
    axes[1].legend(fontsize=7.5, loc="best")
    fig.suptitle(title)
    return fig


def plot_ablation_losses(histories: dict, gammas: dict | None = None, window: int | None = None,
                         title: str = "Training losses of every run (moving averages)"):
    """Two panels, one curve per run (``histories``: label -> history of ``train.train``):
    the classification loss and the box loss, smoothed, log y axis. Runs are coloured by gamma
    (``gammas``: label -> gamma, the colours of lesson 05); runs sharing a gamma differ in style.
    The classification losses of different gamma are on different scales (FL <= CE for every
    anchor); the box losses are comparable."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4), layout="constrained")
    seen = {}
    for k, (label, history) in enumerate(histories.items()):
        g = None if gammas is None else gammas.get(label)
        colour = GAMMA_COLORS.get(float(g), CLASS_COLORS[k % 8]) if g is not None else \
            CLASS_COLORS[k % 8]
        style = ("-", "--", ":", "-.")[seen.get(colour, 0) % 4]
        seen[colour] = seen.get(colour, 0) + 1
        w = window or max(3, min(50, len(history) // 10))
        iters = np.array([h["iter"] for h in history])
        for ax, key in zip(axes, ("classification", "bbox_regression")):
            values = np.array([h[key] for h in history], dtype=np.float64)
            ax.plot(iters, smooth_curve(values, w), color=colour, linestyle=style, linewidth=1.8,
                    label=label)
    cls_ax = axes[0]
    if all(line.get_ydata().size and (line.get_ydata() > 0).all() for line in cls_ax.lines):
        cls_ax.set_yscale("log")   # the losses of different settings span decades
        cls_ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        cls_ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    for ax, name in zip(axes, ("classification loss (scales differ with γ and α)",
                               "box regression loss (one scale for all runs)")):
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss" + (" (log scale)" if ax.get_yscale() == "log" else ""))
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title)
    return fig
