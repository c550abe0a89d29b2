"""COCO evaluation: the AP numbers of the paper's tables, computed by pycocotools (Sec. 5).

AP is the area under the precision-recall curve of each class, averaged over classes and over
IoU thresholds 0.50:0.05:0.95; AP50 / AP75 use one threshold; APs / APm / APl keep objects of
area < 32², 32²-96², > 96² (pycocotools writes -1 where a size has no objects).

``predict`` runs a model (the torchvision detection contract: ``model.eval(); model(images)`` ->
list of ``{"boxes" xyxy, "scores", "labels" = category ids}``) and returns COCO results;
``evaluate_detections`` scores results against a ground truth; ``coco_evaluate`` does both.
"""
from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import torch

__all__ = ["METRICS", "PAPER_TABLE2", "predict", "evaluate_detections", "coco_evaluate",
           "match_detections", "format_ap_table"]

METRICS = ("AP", "AP50", "AP75", "APs", "APm", "APl")
_EXTRA = ("AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
# Table 2 (b) of the paper, COCO test-dev, as fractions (the paper prints percent).
PAPER_TABLE2 = {
    "RetinaNet, ResNet-101-FPN": dict(zip(METRICS, (0.391, 0.591, 0.423, 0.218, 0.427, 0.502))),
    "RetinaNet, ResNeXt-101-FPN": dict(zip(METRICS, (0.408, 0.611, 0.441, 0.241, 0.442, 0.512))),
}


def _base(dataset):
    """The dataset under (possibly nested) ``torch.utils.data.Subset`` s, and the indices used."""
    indices = list(range(len(dataset)))
    while isinstance(dataset, torch.utils.data.Subset):
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    return dataset, indices


def _model_device(model, device):
    if device is not None:
        return torch.device(device)
    param = next(iter(model.parameters()), None)
    return param.device if param is not None else torch.device("cpu")


def predict(model, dataset, batch_size: int = 8, device=None, progress: bool = True) -> list[dict]:
    """Run ``model`` on every image of ``dataset`` (no augmentation); COCO results format.

    Each result is ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.
    """
    from .progress import tqdm

    base, indices = _base(dataset)
    load = getattr(base, "load", base.__getitem__)  # CocoDataset.load skips the train-time flip
    device = _model_device(model, device)
    was_training = model.training
    model.eval()
    results = []
    try:
        with torch.no_grad():
            for start in tqdm(range(0, len(indices), batch_size), desc="evaluate",
                              disable=not progress):
                batch = [load(i) for i in indices[start:start + batch_size]]
                outputs = model([image.to(device) for image, _ in batch])
                for (_, target), out in zip(batch, outputs):
                    results.extend(_to_coco(int(target["image_id"]), out))
    finally:
        model.train(was_training)
    return results


def _to_coco(image_id: int, out: dict) -> list[dict]:
    boxes = out["boxes"].detach().float().cpu().reshape(-1, 4)
    wh = boxes[:, 2:] - boxes[:, :2]
    xywh = torch.cat([boxes[:, :2], wh], dim=1).tolist()
    scores = out["scores"].detach().float().cpu().tolist()
    labels = out["labels"].detach().cpu().tolist()
    return [{"image_id": image_id, "category_id": int(c), "bbox": b, "score": s}
            for b, s, c in zip(xywh, scores, labels)]


def evaluate_detections(coco_gt, results: list[dict], img_ids=None, verbose: bool = False) -> dict:
    """Score COCO-format ``results`` against ``coco_gt`` (a pycocotools ``COCO``) with COCOeval.

    Returns ``AP, AP50, AP75, APs, APm, APl`` (and ``AR1 ... ARl``) as floats, ``per_class``
    {name: AP} and ``per_class_AP50``, and ``precision``: the precision-recall curves,
    ``{"recall": [R], "AP50": [R, K], "AP": [R, K] (mean over IoU 0.5:0.95), "classes": names}``
    (-1 where a class has no ground truth). No detections at all give zeros, not a crash.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    coco_gt = getattr(coco_gt, "coco", coco_gt)  # a CocoDataset is accepted too
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:
        if results:
            coco_dt = coco_gt.loadRes(results)
        else:  # loadRes([]) fails on results[0]: build an empty result set by hand
            coco_dt = COCO()
            coco_dt.dataset = {"images": list(coco_gt.dataset["images"]), "annotations": [],
                               "categories": list(coco_gt.dataset["categories"])}
            coco_dt.createIndex()
        coco_eval = COCOeval(coco_gt, coco_dt, iouType="bbox")
        if img_ids is not None:
            coco_eval.params.imgIds = sorted(int(i) for i in img_ids)
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    metrics = {k: float(v) for k, v in zip(METRICS + _EXTRA, coco_eval.stats)}
    # precision[T, R, K, A, M]: IoU thresholds, recall thresholds, classes, areas ("all" first),
    # max detections (100 last)
    precision = coco_eval.eval["precision"][:, :, :, 0, -1]
    names = [coco_gt.cats[c]["name"] for c in coco_eval.params.catIds]
    masked = np.where(precision > -1, precision, np.nan)
    with warnings.catch_warnings():  # nanmean of an all-NaN slice: a class with no objects
        warnings.simplefilter("ignore", RuntimeWarning)
        ap_all = np.nanmean(masked, axis=0)  # [R, K]
        per_class = np.nanmean(masked, axis=(0, 1))
        per_class50 = np.nanmean(masked[0], axis=0)
    metrics["per_class"] = {n: _num(v) for n, v in zip(names, per_class)}
    metrics["per_class_AP50"] = {n: _num(v) for n, v in zip(names, per_class50)}
    metrics["precision"] = {"recall": coco_eval.params.recThrs.copy(),
                            "AP50": precision[0].copy(), "AP": np.nan_to_num(ap_all, nan=-1.0),
                            "classes": names}
    return metrics


def _num(v) -> float:
    return -1.0 if np.isnan(v) else float(v)


def coco_evaluate(model, dataset, batch_size: int = 8, device=None, progress: bool = True,
                  verbose: bool = False) -> dict:
    """COCO AP of ``model`` on ``dataset`` (a ``CocoDataset`` or a ``Subset`` of one).

    The paper's table columns ``AP, AP50, AP75, APs, APm, APl`` plus the extras of
    :func:`evaluate_detections`, and ``detections`` (how many the model returned).
    """
    results = predict(model, dataset, batch_size=batch_size, device=device, progress=progress)
    return score_results(dataset, results, verbose=verbose)


def score_results(dataset, results: list[dict], verbose: bool = False) -> dict:
    """The metrics of :func:`coco_evaluate` for detections already made (COCO results format) on
    every image of ``dataset``: also what rank 0 scores after gathering every process's share."""
    base, indices = _base(dataset)
    img_ids = [base.target(i)["image_id"] if hasattr(base, "target") else base[i][1]["image_id"]
               for i in indices]
    metrics = evaluate_detections(base.coco, results, img_ids=img_ids, verbose=verbose)
    metrics["detections"] = len(results)
    return metrics


def match_detections(det_boxes, det_scores, det_labels, gt_boxes, gt_labels, iou_threshold=0.5):
    """Greedy COCO-style matching of one image: ``(det_is_tp [D] bool, gt_is_found [G] bool)``.

    Detections, best score first, take the unmatched ground-truth box of their class with the
    highest IoU >= ``iou_threshold``; the rest are false positives; unmatched objects are missed.
    As COCOeval: IoU in float64, and of objects with equal IoU the *last* one is taken (its loop
    keeps replacing its choice while ``iou >= best``), which decides who is left for the others.
    """
    from .boxes import box_iou

    det_boxes = torch.as_tensor(det_boxes, dtype=torch.float64).reshape(-1, 4)
    gt_boxes = torch.as_tensor(gt_boxes, dtype=torch.float64).reshape(-1, 4)
    det_labels, gt_labels = torch.as_tensor(det_labels), torch.as_tensor(gt_labels)
    iou = box_iou(det_boxes, gt_boxes)
    iou[det_labels[:, None] != gt_labels[None, :]] = -1
    tp = torch.zeros(len(det_boxes), dtype=torch.bool)
    found = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for d in torch.argsort(torch.as_tensor(det_scores), descending=True, stable=True).tolist():
        if len(gt_boxes) == 0:
            break
        row = iou[d].masked_fill(found, -1)
        best = len(row) - 1 - int(row.flip(0).argmax())  # the last of equal IoUs
        if row[best] >= iou_threshold:
            tp[d], found[best] = True, True
    return tp, found


def format_ap_table(rows, percent: bool = True) -> str:
    """A text table in the layout of the paper's Table 2: one row per method, AP ... APl.

    ``rows`` maps a name to a metrics dict (fractions, as returned above), or is a list of
    ``(name, metrics)``. Values are printed in percent with one decimal; -1 (no objects) as "-".
    """
    rows = list(rows.items()) if isinstance(rows, dict) else list(rows)
    width = max([len("method")] + [len(str(name)) for name, _ in rows])
    lines = [f"{'method':<{width}}" + "".join(f"{m:>7}" for m in METRICS)]
    for name, metrics in rows:
        cells = []
        for m in METRICS:
            v = metrics.get(m)
            if v is None or v < 0:
                cells.append(f"{'-':>7}")
            else:
                cells.append(f"{v * 100:>7.1f}" if percent else f"{v:>7.3f}")
        lines.append(f"{str(name):<{width}}" + "".join(cells))
    return "\n".join(lines)


# ------------------------------------------------------------------ python -m ...evaluate
def main(argv=None) -> dict:
    """``python -m retina_lesson.evaluate --checkpoint RUN/last.pt [--data COCO_FOLDER]``: the AP
    table of a trained run, added to ``RUN/metrics.json`` (one entry per dataset evaluated)."""
    from .cli import Parser, add_common, one_line_errors, positive_int

    p = Parser(prog="python -m retina_lesson.evaluate",
               description="COCO AP of a trained checkpoint on a COCO-format dataset (pycocotools); "
                           "prints the AP table and writes it to metrics.json beside the checkpoint.")
    p.add_argument("--checkpoint", required=True, help="a checkpoint of python -m retina_lesson.train")
    p.add_argument("--data", default=None,
                   help="a COCO folder: train2017/, val2017/, annotations/ (COCO 2017), or "
                        "SPLIT/ and instances_SPLIT.json (default: the data the run was trained "
                        "on, as its metrics.json records; else the shapes dataset)")
    p.add_argument("--split", default="val", help="which split of --data (default val)")
    p.add_argument("--batch-size", type=positive_int, default=8)
    p.add_argument("--out", default=None, help="the metrics file (default: CHECKPOINT's folder/"
                   "metrics.json; other datasets' entries in it are kept)")
    p.add_argument("--quick", action="store_true", help="the quick shapes dataset")
    add_common(p)
    args = p.parse_args(argv)
    with one_line_errors(args.debug, p.prog):
        return _evaluate_command(args)


def _evaluate_command(args) -> dict:
    import json
    from pathlib import Path

    from . import default_device, is_quick
    from .checkpoint import load_checkpoint, model_from_checkpoint, write_json
    from .cli import METRICS_FILE, dataset_label, format_metrics_table, interrupted, metrics_entry
    from .coco_layout import split_files
    from .data import CocoDataset, ensure_shapes

    ckpt = Path(args.checkpoint)
    state = load_checkpoint(ckpt, required=("model", "config", "num_classes", "epoch"))
    out = Path(args.out) if args.out else ckpt.parent / METRICS_FILE
    record = {}
    if out.is_file():
        try:
            record = json.loads(out.read_text())
        except ValueError:
            raise ValueError(f"{out}: not a metrics file (malformed JSON); pass another --out") from None
    data = args.data if args.data is not None else record.get("data")
    quick = args.quick or is_quick() or (args.data is None and record.get("quick", False))
    root = Path(data) if data is not None else ensure_shapes(quick, progress=not args.no_progress)
    dataset = CocoDataset(*split_files(root, args.split))
    if dataset.num_classes > state["num_classes"]:
        raise ValueError(f"{ckpt} predicts {state['num_classes']} classes (ids 0-"
                         f"{state['num_classes'] - 1}) but {root} has category ids up to "
                         f"{dataset.num_classes - 1}: evaluate it on the data it was trained for")
    label = dataset_label(data, args.split, quick)
    device = default_device()
    model = model_from_checkpoint(ckpt, device, state)
    try:
        metrics = coco_evaluate(model, dataset, batch_size=args.batch_size, device=device,
                                progress=not args.no_progress)
    except KeyboardInterrupt:
        interrupted(f"nothing was written; {out} is as it was")
    config = state["config"]
    print(format_metrics_table({f"RetinaNet ({config.get('preset', '?')}), epoch {state['epoch']}":
                                metrics}, label, len(dataset)))
    record.setdefault("checkpoint", str(ckpt))
    record.setdefault("config", config)
    record.setdefault("evaluations", {})[label] = metrics_entry(metrics, label, data, args.split,
                                                                len(dataset), state["epoch"])
    print(f"metrics: {write_json(out, record)}")
    return metrics


if __name__ == "__main__":
    main()
