"""Figures of lesson 05 (focal loss): the paper's Figures 1 and 4, where the loss comes from."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .core import ZONE_COLORS

__all__ = ["GAMMA_COLORS", "plot_focal_curves", "plot_score_distributions", "plot_loss_shares",
           "plot_loss_cdf", "plot_prior_init"]

# One colour per focusing parameter gamma, shared by the lesson's figures (gamma = 0 is CE).
GAMMA_COLORS = {0.0: "#0072B2", 0.5: "#56B4E9", 1.0: "#009E73", 2.0: "#D55E00", 5.0: "#CC79A7"}
_POS, _NEG = ZONE_COLORS["positive"], ZONE_COLORS["negative"]


def _gamma_color(gamma):
    return GAMMA_COLORS.get(float(gamma), "black")


def _np(x):
    return torch.as_tensor(x).detach().cpu().double().numpy()


def plot_focal_curves(p_t, losses: dict, ax=None, ymax: float = 5.0):
    """Loss against p_t, one curve per gamma (``losses``: {gamma: values}) - the paper's Fig. 1."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.6))
    p = _np(p_t)
    for gamma, values in losses.items():
        label = f"$\\gamma$ = {gamma:g}" + (" (cross entropy)" if gamma == 0 else "")
        ax.plot(p, _np(values), color=_gamma_color(gamma), linewidth=2, label=label)
    ax.axvspan(0.6, 1.0, color=_POS, alpha=0.08)
    ax.text(0.8, ymax * 0.55, "well-classified\nexamples", ha="center", fontsize=9, color="0.25")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, ymax)
    ax.set_xlabel("probability of ground truth class, $p_t$")
    ax.set_ylabel("loss")
    ax.legend(fontsize=9)
    ax.set_title("Focal loss $-(1 - p_t)^\\gamma \\log(p_t)$ (paper, Figure 1)")
    return ax


def plot_score_distributions(p_pos, p_neg, ax=None, bins: int = 60,
                             title: str = "Modelled foreground probabilities"):
    """Histograms (log counts) of the foreground probability p of positives and negatives."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    edges = np.linspace(0, 1, bins + 1)
    pn, pp = _np(p_neg), _np(p_pos)
    ax.hist(pn, bins=edges, color=_NEG, alpha=0.8, label=f"{pn.size:,} negatives (y = 0)")
    ax.hist(pp, bins=edges, color=_POS, alpha=0.8, label=f"{pp.size:,} positives (y = 1)")
    ax.set_yscale("log")
    ax.set_xlabel("predicted foreground probability p")
    ax.set_ylabel("examples (log scale)")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return ax


def plot_loss_shares(rows: dict, ax=None, title: str = "Where the total loss comes from"):
    """Horizontal bars split into the negatives' and the positives' share of the summed loss;
    ``rows``: {loss name: (sum over positives, sum over negatives)}."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.6))
    names = list(rows)
    y = np.arange(len(names))[::-1]
    for yi, name in zip(y, names):
        pos, neg = (float(v) for v in rows[name])
        total = pos + neg
        ax.barh(yi, neg / total, color=_NEG, edgecolor="black", linewidth=0.4,
                label="negatives" if yi == y[0] else None)
        ax.barh(yi, pos / total, left=neg / total, color=_POS, edgecolor="black", linewidth=0.4,
                label="positives" if yi == y[0] else None)
        ax.text(1.01, yi, f"total {total:.4g}", va="center", fontsize=8)
        ax.text(neg / total / 2, yi, f"{neg / total:.0%}", va="center", ha="center", fontsize=8)
    ax.set_yticks(y, names, fontsize=8.5)
    ax.set_xlim(0, 1.22)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel("share of the summed loss")
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.2), ncol=2, fontsize=8)
    ax.set_title(title)
    ax.figure.tight_layout()
    return ax


def plot_loss_cdf(cdfs_pos: dict, cdfs_neg: dict, size: float = 4.6):
    """Cumulative normalised loss against the fraction of examples (sorted from easiest to
    hardest), positives and negatives, one curve per gamma - the paper's Figure 4.

    ``cdfs_*``: {gamma: 1-D tensor of cumulative loss, ascending, ending at 1}."""
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 0.6, size), sharey=True)
    for ax, cdfs, what in ((axes[0], cdfs_pos, "foreground (positive)"),
                           (axes[1], cdfs_neg, "background (negative)")):
        for gamma, cdf in cdfs.items():
            c = _np(cdf)
            x = np.arange(1, c.size + 1) / c.size
            ax.plot(x, c, color=_gamma_color(gamma), linewidth=2, label=f"$\\gamma$ = {gamma:g}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"fraction of {what.split()[0]} examples (easiest first)")
        ax.set_title(f"CDF of the loss, {what} examples", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[0].set_ylabel("cumulative normalised loss")
    fig.suptitle("Cumulative distribution of the focal loss (paper, Figure 4), modelled scores")
    fig.tight_layout()
    return fig


def plot_prior_init(rows: dict, ax=None, title: str = "First-iteration loss / N_pos"):
    """Bars (log scale) of the first-iteration loss per setting, ``rows``: {name: value}; names
    containing "prior" (the pi = 0.01 initialisation) are drawn in blue, the others in grey."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.5))
    names, values = list(rows), [float(v) for v in rows.values()]
    y = np.arange(len(names))[::-1]
    colors = ["#0072B2" if "prior" in n else "#999999" for n in names]
    ax.barh(y, values, color=colors, edgecolor="black", linewidth=0.5)
    for yi, v in zip(y, values):
        ax.text(v * 1.15, yi, f"{v:,.0f}" if v >= 1000 else f"{v:.4g}", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 3, max(values) * 20)
    ax.set_yticks(y, names, fontsize=8.5)
    ax.set_xlabel("loss normalised by the number of positive anchors (log scale)")
    ax.set_title(title)
    return ax
