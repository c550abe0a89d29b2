"""Figures of lesson 11 (evaluation, paper Sec. 5): the precision-recall curves of every class at
IoU 0.5 and averaged over the ten IoU thresholds, side by side. The single-panel curves
(``plot_pr_curves``), the gallery and the per-class bars live with the lessons that introduce them.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from .lesson_data import plot_pr_curves

__all__ = ["plot_pr_curve_pair"]


def plot_pr_curve_pair(metrics, figsize=(12, 4.6)):
    """Two panels of ``plot_pr_curves``: AP50 (left) and AP over IoU 0.50:0.95 (right)."""
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    plot_pr_curves(metrics, "AP50", ax=axes[0])
    plot_pr_curves(metrics, "AP", ax=axes[1])
    return fig
