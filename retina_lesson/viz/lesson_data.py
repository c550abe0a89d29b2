"""Figures of the dataset and evaluation lessons: samples, object sizes vs anchors, class balance,
precision-recall curves and a gallery of true positives, false positives and missed objects."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import lines as mlines

from .core import (CLASS_COLORS, LEVEL_COLORS, LEVEL_NAMES, ZONE_COLORS, draw_boxes, new_axes,
                   show_image)

__all__ = ["DETECTION_COLORS", "class_color", "show_dataset_grid", "plot_object_sizes",
           "plot_object_size_panels", "plot_class_balance", "plot_pr_curves", "show_detections",
           "detection_gallery", "plot_best_anchor_iou"]

DETECTION_COLORS = {"true positive": "#009E73", "false positive": "#D00000", "missed": "#E69F00"}
_DETECTION_STYLES = {"true positive": "-", "false positive": "--", "missed": ":"}


def class_color(category_id: int) -> str:
    """The course colour of a category id (ids 1, 2, ... take the palette in order)."""
    return CLASS_COLORS[(int(category_id) - 1) % len(CLASS_COLORS)]


def _draw_target(ax, boxes, labels, class_names, **kwargs):
    for box, label in zip(torch.as_tensor(boxes).reshape(-1, 4), torch.as_tensor(labels).tolist()):
        draw_boxes(ax, box[None], color=class_color(label),
                   labels=[class_names.get(label, str(label))], **kwargs)


def show_dataset_grid(dataset, indices=None, ncols: int = 4, nrows: int = 2, size: float = 3.0,
                      title: str = "Training samples with their boxes"):
    """A grid of images with their ground-truth boxes, coloured and named by class."""
    indices = list(range(ncols * nrows)) if indices is None else list(indices)
    nrows = max(1, -(-len(indices) // ncols))
    fig, axes = new_axes(ncols, nrows, size=size)
    axes = np.atleast_1d(axes)
    names = dataset.class_names
    for ax, index in zip(axes, indices):
        image, target = dataset.load(index) if hasattr(dataset, "load") else dataset[index]
        n = len(target["boxes"])
        show_image(ax, image, f"image {target['image_id']}: {n} object{'s' if n != 1 else ''}")
        _draw_target(ax, target["boxes"], target["labels"], names, linewidth=1.5)
    for ax in axes[len(indices):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_object_sizes(sizes, anchor_sizes=(32, 64, 128, 256, 512),
                      scales=(1.0, 2 ** (1 / 3), 2 ** (2 / 3)), image_scale: float = 1.0,
                      ax=None, bins: int = 30, title: str = "Object sizes vs anchor sizes"):
    """Histogram of object sizes sqrt(w*h) (log axis) with each level's anchor sizes marked.

    ``sizes`` is a tensor/array of sizes or a dataset (see ``data.object_sizes``);
    ``image_scale`` converts them to the model's input pixels (its resize factor). The band
    of each level spans its scales, size * 2^0 ... size * 2^(2/3) (Sec. 4).
    """
    if hasattr(sizes, "class_names"):
        from ..data import object_sizes

        sizes = object_sizes(sizes)[0]
    sizes = np.asarray(torch.as_tensor(sizes, dtype=torch.float32)) * image_scale
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    top = max(float(sizes.max()) if len(sizes) else 1.0, max(anchor_sizes) * max(scales))
    low = min(float(sizes.min()) if len(sizes) else 1.0, min(anchor_sizes)) * 0.8
    edges = np.geomspace(low, top * 1.25, bins + 1)
    ax.hist(sizes, bins=edges, color="#999999", edgecolor="white", label=f"objects ({len(sizes)})")
    for name, s in zip(LEVEL_NAMES, anchor_sizes):
        colour = LEVEL_COLORS[name]
        ax.axvspan(s * min(scales), s * max(scales), color=colour, alpha=0.15)
        ax.axvline(s, color=colour, linewidth=2, label=f"{name} anchors: {s} px")
    ax.set_xscale("log")
    ax.set_xlabel("object size sqrt(w·h) (pixels" + (" at the model's input)" if image_scale != 1
                                                    else ")"))
    ax.set_ylabel("number of objects")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_object_size_panels(sizes, panels: dict, ncols: int = 2, size=(6.5, 3.75)):
    """One ``plot_object_sizes`` panel per anchor configuration (lesson 09, section 3).

    ``panels`` maps a title to ``(anchor_sizes, image_scale)``. Returns the figure."""
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows),
                             squeeze=False, layout="constrained")
    for ax, (title, (anchor_sizes, image_scale)) in zip(axes.flat, panels.items()):
        plot_object_sizes(sizes, anchor_sizes=anchor_sizes, image_scale=image_scale, ax=ax,
                          title=title)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    return fig


def plot_class_balance(dataset, ax=None, title: str = "Objects per class"):
    """Bar chart of the number of objects of each class (and how many images have none)."""
    names = dataset.class_names
    targets = [dataset.target(i) for i in range(len(dataset))]
    labels = torch.cat([t["labels"] for t in targets]) if targets else torch.zeros(0)
    ids = sorted(names)
    counts = [int((labels == i).sum()) for i in ids]
    empty = sum(len(t["labels"]) == 0 for t in targets)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    bars = ax.bar([names[i] for i in ids], counts, color=[class_color(i) for i in ids],
                  label=f"{len(dataset)} images, {empty} with no object")
    ax.bar_label(bars)
    ax.margins(y=0.1)  # room for the labels above the bars
    ax.set_xlabel("class")
    ax.set_ylabel("number of objects")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_pr_curves(metrics, iou: str = "AP50", ax=None, title: str | None = None):
    """Precision-recall curve of each class and their mean, from ``evaluate_detections`` output.

    ``iou="AP50"`` is the curve at IoU 0.5; ``"AP"`` averages the curves over IoU 0.50:0.95.
    """
    pr = metrics["precision"]
    recall, curves = np.asarray(pr["recall"]), np.asarray(pr[iou])  # [R], [R, K]
    per_class = metrics["per_class_AP50" if iou == "AP50" else "per_class"]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    valid = []
    for k, name in enumerate(pr["classes"]):
        if (curves[:, k] < 0).all():  # no ground truth of this class
            continue
        valid.append(k)
        ax.plot(recall, curves[:, k], color=CLASS_COLORS[k % len(CLASS_COLORS)], linewidth=1.5,
                label=f"{name} (AP {per_class[name]:.3f})")
    if valid:
        mean = curves[:, valid].mean(axis=1)
        ax.plot(recall, mean, color="black", linewidth=2.5, linestyle="--",
                label=f"all classes ({iou} {metrics[iou]:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    what = "IoU 0.5" if iou == "AP50" else "mean over IoU 0.5:0.95"
    ax.set_title(title or f"Precision-recall, {what}")
    ax.legend(fontsize=8, loc="lower left")
    return ax


def show_detections(ax, image, target, detection, class_names, score_threshold: float = 0.5,
                    iou_threshold: float = 0.5, title: str | None = None):
    """One image: true positives (solid), false positives (dashed), missed objects (dotted).

    Detections scoring below ``score_threshold`` are not drawn; the rest are matched to the
    ground truth as COCOeval does (best score first, same class, IoU >= ``iou_threshold``).
    Returns the counts ``{"true positive", "false positive", "missed"}``.
    """
    from ..evaluate import match_detections

    keep = detection["scores"] >= score_threshold
    det = {k: torch.as_tensor(v)[keep].cpu() for k, v in detection.items() if k != "image_id"}
    tp, found = match_detections(det["boxes"], det["scores"], det["labels"], target["boxes"],
                                 target["labels"], iou_threshold)
    show_image(ax, image)
    groups = {"true positive": (det["boxes"][tp], det["labels"][tp], det["scores"][tp]),
              "false positive": (det["boxes"][~tp], det["labels"][~tp], det["scores"][~tp]),
              "missed": (target["boxes"][~found], target["labels"][~found], None)}
    for kind, (boxes, labels, scores) in groups.items():
        text = [class_names.get(int(c), str(int(c))) + ("" if scores is None else f" {s:.2f}")
                for c, s in zip(labels, scores if scores is not None else [0] * len(labels))]
        draw_boxes(ax, boxes, color=DETECTION_COLORS[kind], labels=text,
                   linestyle=_DETECTION_STYLES[kind], linewidth=2)
    counts = {kind: len(g[0]) for kind, g in groups.items()}
    summary = "TP {true positive}, FP {false positive}, missed {missed}".format(**counts)
    ax.set_title(title or summary, fontsize=9)
    return counts


def detection_gallery(images, targets, detections, class_names, ncols: int = 4, size: float = 3.2,
                      score_threshold: float = 0.5, iou_threshold: float = 0.5,
                      title: str = "Detections: true positives, false positives, missed objects"):
    """A grid of :func:`show_detections` with one legend; returns the figure."""
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = new_axes(ncols, nrows, size=size)
    axes = np.atleast_1d(axes)
    for ax, image, target, det in zip(axes, images, targets, detections):
        show_detections(ax, image, target, det, class_names, score_threshold, iou_threshold)
    for ax in axes[len(images):]:
        ax.axis("off")
    handles = [mlines.Line2D([], [], color=c, linestyle=_DETECTION_STYLES[k], linewidth=2, label=k)
               for k, c in DETECTION_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
    fig.suptitle(f"{title} (score >= {score_threshold}, IoU >= {iou_threshold})")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_best_anchor_iou(sizes, best_ious: dict, fg_iou: float = 0.5, bg_iou: float = 0.4,
                         max_points: int = 3000, seed: int = 0, ncols: int | None = None,
                         title: str = "Each object's best IoU with any anchor"):
    """One panel per anchor configuration: object size (log x) against the object's best IoU
    with an anchor, coloured by the zone that IoU falls in (Sec. 4: >= 0.5 positive, < 0.4
    background). ``best_ious`` maps a label to a tensor aligned with ``sizes``; at most
    ``max_points`` objects (a fixed random sample) are drawn. The panels fill rows of ``ncols``
    (default: all in one row). Returns the figure."""
    sizes = np.asarray(torch.as_tensor(sizes, dtype=torch.float32))
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(sizes))[:max_points] if len(sizes) > max_points else slice(None)
    ncols = max(1, min(ncols or len(best_ious), len(best_ious)))
    nrows = -(-len(best_ious) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4 * nrows), squeeze=False,
                             sharey=True, layout="constrained")
    for ax in axes.flat[len(best_ious):]:
        ax.axis("off")
    for ax, (label, best) in zip(axes.flat, best_ious.items()):
        best = np.asarray(torch.as_tensor(best, dtype=torch.float32))
        zones = {"positive": best >= fg_iou, "ignored": (best >= bg_iou) & (best < fg_iou),
                 "negative": best < bg_iou}
        for zone, mask in zones.items():
            ax.scatter(sizes[pick][mask[pick]], best[pick][mask[pick]], s=6, alpha=0.6,
                       color=ZONE_COLORS[zone],
                       label=f"{zone}: {mask.mean():.1%} of {len(best)} objects")
        for y in (fg_iou, bg_iou):
            ax.axhline(y, color="#333333", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        if len(sizes):
            ticks = [t for t in (4, 8, 16, 32, 64, 128, 256, 512)
                     if sizes.min() / 2 <= t <= sizes.max() * 2]
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_ylim(0, 1)
        ax.set_xlabel("object size sqrt(w·h) (pixels)")
        ax.set_ylabel("best IoU with any anchor")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=8, loc="lower right", title="zone of the best anchor",
                  title_fontsize=8)
    fig.suptitle(title)
    return fig
