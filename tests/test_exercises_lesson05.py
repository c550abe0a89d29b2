"""Lesson 05's checks accept right answers and name the usual mistakes."""
import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision

from retina_lesson.exercises import check_prior_bias, check_sigmoid_focal_loss
from retina_lesson.losses import prior_bias, sigmoid_focal_loss

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "05_focal_loss.py"


def _solutions():
    spec = importlib.util.spec_from_file_location("solutions_05", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reduce(loss, reduction):
    return loss.sum() if reduction == "sum" else loss.mean() if reduction == "mean" else loss


def _focal(logits, targets, alpha, gamma, reduction, *, alpha_t=None, factor=None, ce=None):
    """A focal loss written out, with one of its pieces replaced (the mistake under test)."""
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none") if ce is None else ce
    factor = (1 - p_t) ** gamma if factor is None else factor
    if alpha_t is None:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets) if alpha >= 0 else 1.0
    return _reduce(alpha_t * factor * ce, reduction)


# ------------------------------------------------------------------ accepted
def test_focal_check_accepts_the_package_torchvision_and_the_solution(capsys):
    assert check_sigmoid_focal_loss(sigmoid_focal_loss)
    assert check_sigmoid_focal_loss(torchvision.ops.sigmoid_focal_loss)
    assert check_sigmoid_focal_loss(_solutions().my_sigmoid_focal_loss)
    assert "sigmoid_focal_loss: 11 cases agree" in capsys.readouterr().out


def test_prior_check_accepts_the_package_and_the_solution(capsys):
    assert check_prior_bias(prior_bias)
    assert check_prior_bias(_solutions().my_prior_bias)
    assert check_prior_bias(lambda pi: torch.logit(torch.tensor(pi, dtype=torch.float64)))
    assert "prior_bias: 6 cases agree" in capsys.readouterr().out


def test_stubs_are_not_done(capsys):
    def my_sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        raise NotImplementedError

    def my_prior_bias(pi):
        raise NotImplementedError

    assert not check_sigmoid_focal_loss(my_sigmoid_focal_loss)
    assert not check_prior_bias(my_prior_bias)
    assert capsys.readouterr().out.count("not done yet") == 2


# ------------------------------------------------------------------ focal loss: mistakes
def test_alpha_dropped():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        return _focal(logits, targets, alpha, gamma, reduction, alpha_t=1.0)

    with pytest.raises(AssertionError, match="alpha is missing"):
        check_sigmoid_focal_loss(wrong)


def test_alpha_on_both_classes():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        return _focal(logits, targets, alpha, gamma, reduction,
                      alpha_t=alpha if alpha >= 0 else 1.0)

    with pytest.raises(AssertionError, match="alpha_t depends on the target"):
        check_sigmoid_focal_loss(wrong)


def test_alpha_swapped():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        t = targets.to(logits.dtype)
        return _focal(logits, targets, alpha, gamma, reduction,
                      alpha_t=(1 - alpha) * t + alpha * (1 - t) if alpha >= 0 else 1.0)

    with pytest.raises(AssertionError, match="alpha_t is swapped"):
        check_sigmoid_focal_loss(wrong)


def test_one_minus_p_instead_of_one_minus_p_t():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        return _focal(logits, targets, alpha, gamma, reduction,
                      factor=(1 - torch.sigmoid(logits)) ** gamma)

    with pytest.raises(AssertionError, match=r"\(1 - p_t\)\^gamma with p_t = p for targets 1"):
        check_sigmoid_focal_loss(wrong)


@pytest.mark.parametrize("broken", ["sum", "mean", "none"])
def test_reduction_ignored(broken):
    """Each reduction on its own: only that one is wrong (the others are right)."""
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        loss = sigmoid_focal_loss(logits, targets, alpha, gamma, "none")
        if reduction == broken:
            return loss if broken != "none" else loss.sum()
        return _reduce(loss, reduction)

    with pytest.raises(AssertionError, match="reduction='none' \\(the default\\)" if broken == "none" else
                       "reduction is ignored"):
        check_sigmoid_focal_loss(wrong)


def test_mean_and_sum_swapped():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        swapped = {"sum": "mean", "mean": "sum"}.get(reduction, reduction)
        return sigmoid_focal_loss(logits, targets, alpha, gamma, swapped)

    with pytest.raises(AssertionError, match="'mean' divides the sum"):
        check_sigmoid_focal_loss(wrong)


def test_naive_log_of_sigmoid_gives_inf_at_100():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        p = torch.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        return _focal(logits, targets, alpha, gamma, reduction, ce=-torch.log(p_t))

    with pytest.raises(AssertionError, match="inf or nan.*binary_cross_entropy_with_logits") as e:
        check_sigmoid_focal_loss(wrong)
    assert "+-100" in str(e.value).splitlines()[0]       # the failing case is the saturated one


def test_clamped_log_caps_the_loss_at_100():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
        p_t = p * targets + (1 - p) * (1 - targets)
        return _focal(logits, targets, alpha, gamma, reduction, ce=-torch.log(p_t))

    with pytest.raises(AssertionError, match="clamping p"):
        check_sigmoid_focal_loss(wrong)


def test_alpha_minus_one_taken_literally():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        t = targets.to(logits.dtype)
        return _focal(logits, targets, alpha, gamma, reduction,
                      alpha_t=alpha * t + (1 - alpha) * (1 - t))

    with pytest.raises(AssertionError, match="alpha = -1 means no alpha weighting"):
        check_sigmoid_focal_loss(wrong)


def test_gamma_hard_coded():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        return sigmoid_focal_loss(logits, targets, alpha, 2.0, reduction)

    with pytest.raises(AssertionError, match="gamma is not used"):
        check_sigmoid_focal_loss(wrong)


def test_negative_sign():
    def wrong(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
        return -sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)

    with pytest.raises(AssertionError, match="the sign"):
        check_sigmoid_focal_loss(wrong)


# ------------------------------------------------------------------ prior bias: mistakes
@pytest.mark.parametrize("wrong, words", [
    (lambda pi: math.log((1 - pi) / pi), "the sign"),
    (lambda pi: math.log(pi), "not log\\(pi\\)"),
    (lambda pi: -math.log10((1 - pi) / pi), "natural log"),
    (lambda pi: -math.log(1 - pi) / pi, "parentheses"),
])
def test_prior_bias_mistakes(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_prior_bias(wrong)
