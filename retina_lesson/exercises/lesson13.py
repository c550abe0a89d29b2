"""Checks for the exercises of lesson 13 (the focal-loss ablation, paper Sec. 5.1, Table 1).

* ``check_alpha_balanced_ce``: the alpha-balanced cross entropy of Sec. 3.1 (Eq. 3, Table 1a's loss),
  per element; the reference is the package's ``sigmoid_focal_loss`` with ``gamma=0``.
* ``check_easy_negative_share``: the share of a batch's classification loss that comes from easy
  negatives (negatives with p_t > .5, the paper's "well-classified examples", Fig. 1) - the number
  the focusing parameter gamma of Table 1b shrinks.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..losses import sigmoid_focal_loss
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_alpha_balanced_ce", "check_easy_negative_share"]


# --- alpha-balanced CE: the reference and the usual wrong versions ---------------------------------

def _alpha_balanced_ce(logits, targets, alpha):
    return sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=0.0, reduction="none")


def _alpha_on_both(logits, targets, alpha):
    return alpha * F.binary_cross_entropy_with_logits(logits, targets, reduction="none")


def _alpha_swapped(logits, targets, alpha):
    alpha_t = (1 - alpha) * targets + alpha * (1 - targets)
    return alpha_t * F.binary_cross_entropy_with_logits(logits, targets, reduction="none")


def _naive_log(logits, targets, alpha):
    p = torch.sigmoid(logits)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return -alpha_t * (targets * torch.log(p) + (1 - targets) * torch.log(1 - p))


def _naive_p_t(logits, targets, alpha):
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return -alpha_t * torch.log(p_t)


def _sign_flipped(logits, targets, alpha):
    return -_alpha_balanced_ce(logits, targets, alpha)


def _bce_on_probabilities(logits, targets, alpha):
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * F.binary_cross_entropy(torch.sigmoid(logits), targets, reduction="none")


def _class_indices(logits, targets, alpha):
    """Softmax cross entropy over the classes, reading the 0/1 targets as class indices."""
    labels = targets.argmax(dim=-1)
    alpha_t = torch.where(targets.amax(dim=-1) > 0, alpha, 1 - alpha)
    return alpha_t * F.cross_entropy(logits, labels, reduction="none")


def _not_finite(case, expected, received):
    if (isinstance(received, torch.Tensor) and isinstance(expected, torch.Tensor)
            and received.is_floating_point() and bool(torch.isfinite(expected).all())
            and not bool(torch.isfinite(received).all())):
        return ("inf or nan where the loss is finite: log(sigmoid(x)) and log(1 - sigmoid(x)) "
                "underflow for large |x| (sigmoid(100) is exactly 1.0 in float32). Compute the "
                "log from the logits: F.binary_cross_entropy_with_logits or F.logsigmoid")
    return None


def _wrong_shape(case, expected, received):
    if not (isinstance(received, torch.Tensor) and isinstance(expected, torch.Tensor)):
        return None
    if received.shape == expected.shape:
        return None
    if received.dim() == 0:
        return ("reduction 'none': return one loss per (anchor, class) element, the shape of "
                "logits - do not sum or average")
    return ("one loss per (anchor, class) element, the shape of logits: targets are 0/1 per "
            "column (one column per class, all 0 for background), not class indices - a sigmoid "
            "per element, no softmax or F.cross_entropy over the classes")


def _onehot(labels, num_classes):
    """Targets as the detector builds them: one 0/1 column per class, background rows all 0."""
    out = torch.zeros(len(labels), num_classes)
    for row, label in enumerate(labels):
        if label >= 0:
            out[row, label] = 1.0
    return out


def _alpha_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(13)
    random_logits = torch.randn(6, 4, generator=g) * 4
    random_labels = torch.randint(-1, 4, (6,), generator=g).tolist()
    random_labels[0] = -1                     # at least one background anchor
    big_logits = torch.randn(50, 3, generator=g) * 3
    big_labels = torch.randint(-2, 3, (50,), generator=g).clamp(min=-1).tolist()
    return [
        Case("one anchor, 2 class columns at p = 0.5 (logit 0): a positive and a negative, "
             "alpha 0.25", (t([[0.0, 0.0]]), t([[1.0, 0.0]]), 0.25)),
        Case("the same anchor, alpha 0.75 (Table 1a's best)",
             (t([[0.0, 0.0]]), t([[1.0, 0.0]]), 0.75)),
        Case("easy and hard anchors at logits +-3", (t([3.0, -3.0, 3.0, -3.0]),
                                                     t([1.0, 0.0, 0.0, 1.0]), 0.25)),
        Case("saturated logits +-100: hard ones cost ~100 alpha_t, easy ones ~0 (all finite)",
             (t([100.0, -100.0, 100.0, -100.0]), t([0.0, 1.0, 1.0, 0.0]), 0.25)),
        Case("logits +-30: 1 - sigmoid(30) is already 0 in float32",
             (t([30.0, -30.0]), t([0.0, 1.0]), 0.75)),
        Case("alpha = 1: negatives cost nothing", (t([0.5, -1.0, 2.0]), t([1.0, 0.0, 0.0]), 1.0)),
        Case("alpha = 0: positives cost nothing", (t([0.5, -1.0, 2.0]), t([1.0, 0.0, 0.0]), 0.0)),
        Case("3 anchors x 4 classes, one-hot targets (row 0 is background)",
             (t([[-4.6, -4.6, -4.6, -4.6], [1.0, -2.0, 0.0, 3.0], [-1.0, 2.0, 0.5, -0.5]]),
              _onehot([-1, 3, 1], 4), 0.25)),
        Case("6 random anchors x 4 classes, one-hot targets",
             (random_logits, _onehot(random_labels, 4), 0.25)),
        Case("50 random anchors x 3 classes in float64, alpha 0.75",
             (big_logits.double(), _onehot(big_labels, 3).double(), 0.75)),
    ]


def check_alpha_balanced_ce(fn) -> Verdict:
    """Lesson 13: ``fn(logits, targets, alpha)`` must equal the alpha-balanced cross entropy of
    Sec. 3.1 per element: alpha_t * CE(p_t), alpha_t = alpha for targets 1, 1 - alpha for targets 0
    (``losses.sigmoid_focal_loss(..., gamma=0, reduction="none")``)."""
    hints = [
        _not_finite,
        Mistake("alpha weighs both classes here: alpha_t is alpha for a positive (target 1) and "
                "1 - alpha for a negative (target 0)", _alpha_on_both),
        Mistake("alpha_t is swapped: alpha for the positives (target 1), 1 - alpha for the "
                "negatives (target 0)", _alpha_swapped),
        Mistake("log(sigmoid(x)) loses the large logits: compute the log from the logits "
                "(F.binary_cross_entropy_with_logits or F.logsigmoid)", _naive_log),
        Mistake("log(p_t) from sigmoid loses the large logits: compute the log from the logits "
                "(F.binary_cross_entropy_with_logits or F.logsigmoid)", _naive_p_t),
        Mistake("the loss is -alpha_t log(p_t): log(p_t) <= 0, so the loss is >= 0 - check the "
                "sign", _sign_flipped),
        Mistake("F.binary_cross_entropy on sigmoid(x) loses the large logits: sigmoid(30) is "
                "exactly 1.0 in float32, so log(1 - p) = log(0), which it clamps at -100. "
                "Compute the log from the logits (F.binary_cross_entropy_with_logits)",
                _bce_on_probabilities),
        Mistake("targets are 0/1 per (anchor, class) element, not class indices: a sigmoid per "
                "element, not a softmax over the classes", _class_indices),
        _wrong_shape,
    ]
    return run_check("alpha_balanced_ce", fn, _alpha_balanced_ce, _alpha_cases(), hints=hints,
                     arg_names=("logits", "targets", "alpha"))


# --- the share of the loss from easy negatives ------------------------------------------------------

def _easy_negative_share(logits, targets, alpha, gamma):
    loss = sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="none")
    easy_negative = (targets == 0) & (logits < 0)          # p_t = 1 - p > .5
    return float(loss[easy_negative].sum() / loss.sum())


def _share_p_not_p_t(logits, targets, alpha, gamma):
    loss = sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="none")
    return float(loss[(targets == 0) & (logits > 0)].sum() / loss.sum())


def _share_ties_easy(logits, targets, alpha, gamma):
    loss = sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="none")
    return float(loss[(targets == 0) & (logits <= 0)].sum() / loss.sum())


def _share_of_count(logits, targets, alpha, gamma):
    return float(((targets == 0) & (logits < 0)).sum() / targets.numel())


def _share_of_negatives(logits, targets, alpha, gamma):
    loss = sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="none")
    return float(loss[(targets == 0) & (logits < 0)].sum() / loss[targets == 0].sum())


def _share_all_negatives(logits, targets, alpha, gamma):
    loss = sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="none")
    return float(loss[targets == 0].sum() / loss.sum())


def _share_without_alpha(logits, targets, alpha, gamma):
    return _easy_negative_share(logits, targets, -1.0, gamma)


def _share_without_gamma(logits, targets, alpha, gamma):
    return _easy_negative_share(logits, targets, alpha, 0.0)


def _share_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(5)
    # a detector at the start of training: every score near the prior 0.01, a few positives
    start = torch.full((200, 4), -4.6) + 0.3 * torch.randn(200, 4, generator=g)
    start_targets = torch.zeros(200, 4)
    start_targets[torch.arange(0, 200, 25), torch.arange(8) % 4] = 1.0
    # later in training: scores spread out
    later = torch.randn(100, 3, generator=g) * 3
    later_targets = (torch.rand(100, 3, generator=g) < 0.05).float()
    return [
        Case("one easy negative, one hard negative, one positive; CE (gamma 0, alpha 0.5)",
             (t([-2.0, 1.0, 0.5]), t([0.0, 0.0, 1.0]), 0.5, 0.0)),
        Case("the same anchors with the focal loss (gamma 2, alpha 0.25)",
             (t([-2.0, 1.0, 0.5]), t([0.0, 0.0, 1.0]), 0.25, 2.0)),
        Case("a negative at p = 0.5 exactly (logit 0): p_t = .5 is not > .5, so not easy",
             (t([0.0, -1.0, 2.0, -3.0]), t([0.0, 0.0, 1.0, 1.0]), 0.25, 1.0)),
        Case("200 anchors x 4 classes at the prior (p ~ 0.01), CE without alpha weighting",
             (start, start_targets, -1.0, 0.0)),
        Case("the same anchors, alpha-balanced CE (alpha 0.75)", (start, start_targets, 0.75, 0.0)),
        Case("the same anchors, FL gamma 2, alpha 0.25", (start, start_targets, 0.25, 2.0)),
        Case("100 anchors x 3 classes with spread-out scores, FL gamma 0.5, alpha 0.5",
             (later, later_targets, 0.5, 0.5)),
        Case("the same anchors, FL gamma 5, alpha 0.25", (later, later_targets, 0.25, 5.0)),
    ]


def check_easy_negative_share(fn) -> Verdict:
    """Lesson 13: ``fn(logits, targets, alpha, gamma)`` must return, as a float, the share of the
    summed loss ``losses.sigmoid_focal_loss(logits, targets, alpha, gamma)`` that comes from easy
    negatives: elements with target 0 and p_t = 1 - p > .5 (logit < 0). alpha = -1: no alpha."""
    hints = [
        Mistake("easy means well classified, p_t > .5: for a negative p_t = 1 - p, so its score p "
                "is below .5 (logit < 0), not above", _share_p_not_p_t),
        Mistake("p_t must be strictly above .5: a negative at p = 0.5 (logit 0) is not easy",
                _share_ties_easy),
        Mistake("this is the share of the anchors; the exercise asks for the share of the loss "
                "(sum the easy negatives' losses, divide by the sum of all losses)",
                _share_of_count),
        Mistake("divide by the loss of every element (positives too), not only the negatives'",
                _share_of_negatives),
        Mistake("count only the easy negatives (target 0 and p < .5), not every negative",
                _share_all_negatives),
        Mistake("the loss must use alpha: alpha_t = alpha for positives, 1 - alpha for "
                "negatives", _share_without_alpha),
        Mistake("the loss must use gamma: the modulating factor (1 - p_t)^gamma is what shrinks "
                "the easy negatives' share", _share_without_gamma),
    ]
    return run_check("easy_negative_share", fn, _easy_negative_share, _share_cases(), hints=hints,
                     arg_names=("logits", "targets", "alpha", "gamma"))
