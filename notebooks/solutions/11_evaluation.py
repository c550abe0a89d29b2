"""Solutions to lesson 11's exercises. Try them yourself first.

Run a solution through its check: ``from retina_lesson.exercises import check_interpolated_ap``,
then ``check_interpolated_ap(my_interpolated_ap)``.
"""
import torch

from retina_lesson.boxes import box_iou


def my_interpolated_ap(recall, precision):
    """COCO's 101-point interpolated AP of one precision-recall curve (detections ranked by score)."""
    # the envelope: p_interp(r) = max over r' >= r of p(r'), a cumulative max from the right
    envelope = precision.flip(0).cummax(dim=0).values.flip(0)
    # the 101 recall thresholds 0, 0.01, ..., 1 (pycocotools: np.linspace(0, 1, 101))
    thresholds = torch.linspace(0, 1, 101, dtype=torch.float64)
    # at each threshold, the first detection whose recall is >= the threshold (side="left")
    first = torch.searchsorted(recall.contiguous(), thresholds, side="left")
    reached = first < len(envelope)
    sampled = torch.zeros(101, dtype=torch.float64)  # a threshold never reached counts 0
    sampled[reached] = envelope[first[reached]]
    return float(sampled.mean())                     # AP = (1/101) sum_r p_interp(r)


def my_detection_tp(det_boxes, det_scores, gt_boxes, iou_threshold):
    """True for the detections that are true positives (one image, one class), COCO's greedy way."""
    iou = box_iou(det_boxes.double(), gt_boxes.double())          # [D, G]
    tp = torch.zeros(len(det_boxes), dtype=torch.bool)
    taken = torch.zeros(len(gt_boxes), dtype=torch.bool)
    if len(gt_boxes) == 0:
        return tp                                                  # nothing to find: all FP
    for d in torch.argsort(det_scores, descending=True, stable=True).tolist():   # best score first
        row = iou[d].masked_fill(taken, -1.0)                      # each object is matched once
        g = len(row) - 1 - int(row.flip(0).argmax())               # equal IoUs: the last (COCOeval)
        if row[g] >= iou_threshold:                                # IoU >= t is a match
            tp[d] = True
            taken[g] = True
    return tp


# Q: Evaluate with at most 10 detections per image (model.detections_per_img = 10). Which columns
#    change, and why hardly at all?
# A: Measured on the stored run (keeping each image's 10 best detections): AP 0.488 -> 0.478,
#    AP50 0.755 -> 0.728, AP75 0.527 -> 0.523, AR100 0.615 -> 0.579. The images hold 3.5 objects
#    on average (702 in 200), so the 11th and later detections of an image are mostly low-scored
#    false positives at the end of the ranking, where the curve adds little area. What is lost are
#    the correct but low-scored detections of crowded images: recall at the loose threshold (AP50,
#    AR) drops most, the tight thresholds hardly, because those boxes were rarely tight anyway.

# Q: Sample the raw precision (not made non-increasing) in `average_precision`. Is AP higher or
#    lower? Why does COCO use the envelope?
# A: Lower or equal: the envelope is >= the raw precision at every recall. The raw curve zigzags
#    (each false positive drops it, each true positive raises it again), so its samples depend on
#    where exactly a threshold falls between two detections. The envelope answers "what precision
#    can I get at recall >= r if I choose the score threshold well", a monotone, stable quantity.

# Q: Shift every predicted box by 2 pixels to the right before evaluating. How much do AP50, AP75
#    and AP drop? Which objects suffer most?
# A: Measured on the stored run: AP 0.488 -> 0.362, AP50 0.755 -> 0.733, AP75 0.527 -> 0.337,
#    APs 0.479 -> 0.317, APm 0.515 -> 0.469. A shift of d pixels costs a box of width w an IoU of
#    about (w - d) / (w + d): 0.82 for a 20-px box, 0.67 for a 10-px one. AP50 barely moves (most
#    boxes stay above 0.5); AP75 and AP, whose high thresholds need tight boxes, drop clearly, and
#    the small objects (APs) the most.

# Q: Compute the table for the training split (shapes_datasets()[0]). Is there a gap between
#    training and validation AP?
# A: A modest one. On the first 400 training images the stored run reaches AP 0.539 / AP50 0.808,
#    against 0.488 / 0.755 on the validation split: both come from the same generator, but the
#    model has seen each training image 10 times and begins to fit them. The gap (5 points) is
#    larger than the seed noise of the AP (about 3 points), small next to what overfitting looks
#    like (training AP far above validation AP, validation AP falling as training goes on).
