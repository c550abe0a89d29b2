"""Checks for the exercises of lesson 05 (the focal loss and the prior bias)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..losses import prior_bias, sigmoid_focal_loss
from ._core import Case, Mistake, Verdict, run_check

__all__ = ["check_sigmoid_focal_loss", "check_prior_bias"]


# ------------------------------------------------------------------ sigmoid_focal_loss
def _reduce(loss, reduction):
    return loss.sum() if reduction == "sum" else loss.mean() if reduction == "mean" else loss


def _fl_parts(logits, targets):
    """CE from the logits and 1 - p_t, as a careful student computes them."""
    targets = targets.to(logits.dtype)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p = torch.sigmoid(logits)
    return targets, ce, 1 - (p * targets + (1 - p) * (1 - targets))


def _fl_no_alpha(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    return sigmoid_focal_loss(logits, targets, -1, gamma, reduction)


def _fl_alpha_everywhere(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    if alpha < 0:
        return sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    return _reduce(alpha * sigmoid_focal_loss(logits, targets, -1, gamma, "none"), reduction)


def _fl_alpha_swapped(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    if alpha < 0:
        return sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    return sigmoid_focal_loss(logits, targets, 1 - alpha, gamma, reduction)


def _fl_one_minus_p(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    targets, ce, _ = _fl_parts(logits, targets)
    loss = ce * (1 - torch.sigmoid(logits)) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction)


def _fl_alpha_minus_one_literal(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    targets, ce, one_minus_p_t = _fl_parts(logits, targets)
    loss = (alpha * targets + (1 - alpha) * (1 - targets)) * ce * one_minus_p_t ** gamma
    return _reduce(loss, reduction)


def _fl_gamma_fixed(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    return sigmoid_focal_loss(logits, targets, alpha, 2.0, reduction)


def _fl_no_reduction(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    return sigmoid_focal_loss(logits, targets, alpha, gamma, "none")


def _fl_always_sum(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    return sigmoid_focal_loss(logits, targets, alpha, gamma, "sum")


def _fl_always_mean(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    return sigmoid_focal_loss(logits, targets, alpha, gamma, "mean")


def _fl_mean_sum_swapped(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    swapped = {"sum": "mean", "mean": "sum"}.get(reduction, reduction)
    return sigmoid_focal_loss(logits, targets, alpha, gamma, swapped)


def _fl_negated(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    return -sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)


def _saturation_hint(case: Case, expected, received) -> str | None:
    """Logits of +-100: naive log(sigmoid) gives inf/nan; clamping p gives a finite wrong value."""
    if not isinstance(received, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return None
    if received.shape != expected.shape or not bool(torch.isfinite(expected).all()):
        return None
    if not bool(torch.isfinite(received).all()):
        return ("the loss is inf or nan: log(sigmoid(x)) or log(1 - sigmoid(x)) is log(0) once "
                "sigmoid(x) rounds to 0 or 1 (logits of +-100 in float32). Compute the cross entropy "
                "from the logits: F.binary_cross_entropy_with_logits(logits, targets, "
                "reduction='none') (or F.logsigmoid)")
    logits = case.args[0]
    extreme = logits.abs() >= 10
    if bool(extreme.any()):
        close = torch.isclose(received.double(), expected.double(), rtol=1e-4, atol=1e-5)
        if bool(close[~extreme].all()) and not bool(close[extreme].all()):
            return ("right for ordinary logits, wrong only for large |logit|: clamping p (or adding "
                    "an eps inside the log) caps the loss of a sure, wrong answer; compute the cross "
                    "entropy from the logits with F.binary_cross_entropy_with_logits")
    return None


def _focal_cases() -> list[Case]:
    t = torch.tensor
    g = torch.Generator().manual_seed(5)
    six = (t([-3.0, 0.0, 3.0, -3.0, 0.0, 3.0]), t([0.0, 0.0, 0.0, 1.0, 1.0, 1.0]))
    grid = (t([[-2.0, 0.5, 1.0, 4.0], [0.0, -1.0, 2.5, -4.0], [3.0, -0.5, -6.0, 1.5]]),
            t([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
    extreme = (t([-100.0, -20.0, 0.0, 20.0, 100.0] * 2), t([0.0] * 5 + [1.0] * 5))
    rand_logits = torch.randn(16, 5, generator=g) * 4
    rand_targets = (torch.rand(16, 5, generator=g) < 0.15).float()
    return [
        Case("the lesson's six logits (-3, 0, 3), labels 0 then 1; alpha 0.25, gamma 2", six),
        Case("gamma = 0: the alpha-balanced CE of Eq. 3", six, {"alpha": 0.25, "gamma": 0.0}),
        Case("alpha = 0.5, gamma = 1 on a [3, 4] tensor: the result keeps the shape", grid,
             {"alpha": 0.5, "gamma": 1.0}),
        Case("alpha = -1: no alpha weighting at all (torchvision's convention)", six,
             {"alpha": -1, "gamma": 2.0}),
        Case("reduction = 'sum': one number", six, {"reduction": "sum"}),
        Case("reduction = 'mean': one number, the sum / 6", six, {"reduction": "mean"}),
        Case("reduction = 'none' given explicitly on the [3, 4] tensor", grid,
             {"alpha": 0.25, "gamma": 2.0, "reduction": "none"}),
        Case("logits of +-100 and +-20 (float32), labels 0 then 1: finite, e.g. 0.75 x 100 = 75 for "
             "logit +100 on a negative", extreme),
        Case("logits of +-100, alpha = -1, gamma = 0.5, reduction 'sum'", extreme,
             {"alpha": -1, "gamma": 0.5, "reduction": "sum"}),
        Case("random logits (std 4) [16, 5], 15% positives; alpha 0.75, gamma 5", (rand_logits,
             rand_targets), {"alpha": 0.75, "gamma": 5.0}),
        Case("the same random logits in float64; alpha 0.25, gamma 0.5, reduction 'mean'",
             (rand_logits.double(), rand_targets.double()),
             {"alpha": 0.25, "gamma": 0.5, "reduction": "mean"}),
    ]


def check_sigmoid_focal_loss(fn) -> Verdict:
    """Lesson 05: ``fn(logits, targets, alpha=0.25, gamma=2.0, reduction="none")`` must equal
    ``losses.sigmoid_focal_loss`` (= ``torchvision.ops.sigmoid_focal_loss``), Eq. 5 per element."""
    hints = [
        Mistake("alpha is missing: FL = -alpha_t (1 - p_t)^gamma log(p_t) (Eq. 5), with alpha_t = "
                "alpha for targets 1 and 1 - alpha for targets 0", _fl_no_alpha),
        Mistake("alpha_t depends on the target: alpha for targets 1 but 1 - alpha for targets 0, not "
                "alpha on every element", _fl_alpha_everywhere),
        Mistake("alpha_t is swapped: alpha (0.25) belongs to targets 1, the rare positives, and "
                "1 - alpha to targets 0", _fl_alpha_swapped),
        Mistake("the modulating factor is (1 - p_t)^gamma with p_t = p for targets 1 and 1 - p for "
                "targets 0 (Eq. 2), not (1 - p)^gamma", _fl_one_minus_p),
        Mistake("alpha = -1 means no alpha weighting (torchvision's convention): skip alpha_t when "
                "alpha < 0 instead of using -1 and 2 as weights", _fl_alpha_minus_one_literal),
        Mistake("gamma is not used: the exponent of (1 - p_t) must be the gamma argument",
                _fl_gamma_fixed),
        Mistake("reduction is ignored: 'sum' returns loss.sum() and 'mean' loss.mean(), a single "
                "number; 'none' the per-element loss", _fl_no_reduction),
        Mistake("'sum' and 'mean' are swapped: 'mean' divides the sum by the number of elements",
                _fl_mean_sum_swapped),
        Mistake("reduction='none' (the default) returns one loss per element, the shape of "
                "logits; reduce only for 'sum' or 'mean'", _fl_always_sum),
        Mistake("reduction='none' (the default) returns one loss per element, the shape of "
                "logits; reduce only for 'sum' or 'mean'", _fl_always_mean),
        Mistake("the sign: log(p_t) <= 0, so FL = -alpha_t (1 - p_t)^gamma log(p_t) is >= 0",
                _fl_negated),
        _saturation_hint,
    ]
    return run_check("sigmoid_focal_loss", fn, sigmoid_focal_loss, _focal_cases(), hints=hints,
                     arg_names=("logits", "targets"))


# ------------------------------------------------------------------ prior_bias
def _prior_cases() -> list[Case]:
    return [Case(f"pi = {pi}" + (f" ({note})" if note else ""), (pi,)) for pi, note in (
        (0.01, "the paper's value: b = -log(99)"), (0.5, "no prior: b = 0"), (0.1, ""),
        (0.001, ""), (0.9, "a prior above 0.5: b > 0"), (0.25, ""))]


def check_prior_bias(fn) -> Verdict:
    """Lesson 05: ``fn(pi)`` must equal ``losses.prior_bias``: b = -log((1 - pi) / pi) (Sec. 4.1),
    the bias that makes sigmoid(b) = pi."""
    hints = [
        Mistake("the sign: for pi < 0.5 the bias is negative, b = -log((1 - pi) / pi) "
                "(sigmoid(b) must equal pi)", lambda pi: math.log((1 - pi) / pi)),
        Mistake("b = -log((1 - pi) / pi), not log(pi): the 1 - pi matters (they differ by 0.01 at "
                "pi = 0.01 and by 0.69 at 0.5)", lambda pi: math.log(pi)),
        Mistake("use the natural log (math.log, torch.log), not log10", lambda pi:
                -math.log10((1 - pi) / pi)),
        Mistake("parentheses: -log((1 - pi) / pi), not -log(1 - pi) / pi",
                lambda pi: -math.log(1 - pi) / pi),
    ]
    return run_check("prior_bias", fn, prior_bias, _prior_cases(), hints=hints, arg_names=("pi",))
