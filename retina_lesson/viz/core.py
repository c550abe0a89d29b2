"""The course palette and drawing primitives: one colour per pyramid level, everywhere."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patches

__all__ = ["LEVEL_COLORS", "LEVEL_NAMES", "ZONE_COLORS", "CLASS_COLORS", "level_color",
           "to_numpy_image", "show_image", "draw_boxes", "new_axes", "level_legend",
           "show_live_widget"]

LEVEL_NAMES = ("P3", "P4", "P5", "P6", "P7")
# One colour per pyramid level (colour-blind-safe Okabe-Ito hues), used by every lesson.
LEVEL_COLORS = {"P3": "#0072B2", "P4": "#009E73", "P5": "#E69F00", "P6": "#CC79A7", "P7": "#D55E00"}
# The three zones of the matching rule (lesson 03) and ground truth.
ZONE_COLORS = {"positive": "#009E73", "ignored": "#E69F00", "negative": "#999999",
               "object": "#D00000"}
CLASS_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
                "#000000")


def level_color(level) -> str:
    """Colour of a level given as index (0 = P3) or name ("P3")."""
    name = LEVEL_NAMES[level] if isinstance(level, int) else str(level)
    return LEVEL_COLORS[name]


def to_numpy_image(image) -> np.ndarray:
    """A CHW/HWC tensor, PIL image or array as an HWC array matplotlib can show."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.dim() == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
            image = image.permute(1, 2, 0)
        image = image.numpy()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype.kind == "f":
        image = np.clip(image, 0.0, 1.0)
    return image


def new_axes(ncols: int = 1, nrows: int = 1, size: float = 4.0, **kwargs):
    """A figure with a grid of square-ish axes, each ``size`` inches wide."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False,
                             **kwargs)
    return fig, axes.ravel() if axes.size > 1 else axes[0, 0]


def show_image(ax, image, title: str | None = None):
    """Show an image with pixel axes labelled (x right, y down as in image coordinates)."""
    ax.imshow(to_numpy_image(image))
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    if title:
        ax.set_title(title)
    return ax


def draw_boxes(ax, boxes, color="#D00000", labels=None, linewidth: float = 2.0, alpha: float = 1.0,
               linestyle: str = "-", label: str | None = None, fill: bool = False):
    """Draw xyxy boxes as rectangles; ``labels`` (one string per box) are written at the corner.

    ``label`` is the legend entry (given once for the whole set).
    """
    boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4).tolist()
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        rect = patches.Rectangle((x1, y1), x2 - x1, y2 - y1, linewidth=linewidth, alpha=alpha,
                                 edgecolor=color, facecolor=color if fill else "none",
                                 linestyle=linestyle, label=label if i == 0 else None)
        ax.add_patch(rect)
        if labels is not None:
            ax.text(x1, y1, str(labels[i]), color="white", fontsize=8, va="bottom",
                    bbox={"facecolor": color, "edgecolor": "none", "pad": 1, "alpha": 0.85})
    return ax


def level_legend(ax, levels=LEVEL_NAMES, **kwargs):
    """A legend with one coloured entry per pyramid level."""
    handles = [patches.Patch(edgecolor=LEVEL_COLORS[n], facecolor="none", linewidth=2, label=n)
               for n in levels]
    return ax.legend(handles=handles, **kwargs)


def show_live_widget(widget, note: str = "(an interactive explorer: it needs a running kernel - "
                                         "run this cell in JupyterLab to use it)"):
    """Display an ipywidgets panel (or build it first, when ``widget`` is a function) in a live
    session and return it. Where the output is stored as text (``tools/run_notebooks.py`` sets
    ``RETINA_LESSON_TEXT_PROGRESS=1``), print ``note`` instead and return None: a stored widget
    shows nothing without a kernel."""
    import os

    from IPython.display import display

    from ..progress import TEXT_ENV

    if os.environ.get(TEXT_ENV) == "1":
        print(note)
        return None
    widget = widget() if callable(widget) else widget
    display(widget)
    return widget
