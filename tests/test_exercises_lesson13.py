"""Lesson 13's exercise checks accept right answers, say "not done" for the stub and reject the
usual mistakes with the hint that names them."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from retina_lesson.exercises import check_alpha_balanced_ce, check_easy_negative_share
from retina_lesson.losses import alpha_balanced_cross_entropy, sigmoid_focal_loss

SOLUTION = (Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
            / "13_focal_loss_ablation.py")


def _solution():
    spec = importlib.util.spec_from_file_location("solution_13", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stub(*args):
    raise NotImplementedError


def _alpha_t(targets, alpha):
    return alpha * targets + (1 - alpha) * (1 - targets)


# --- alpha-balanced CE -------------------------------------------------------------------------

def test_alpha_ce_accepts_the_package_and_the_solution(capsys):
    assert check_alpha_balanced_ce(lambda x, t, a: alpha_balanced_cross_entropy(x, t, alpha=a))
    assert check_alpha_balanced_ce(
        lambda x, t, a: sigmoid_focal_loss(x, t, alpha=a, gamma=0.0, reduction="none"))
    assert check_alpha_balanced_ce(_solution().my_alpha_balanced_ce)
    assert "alpha_balanced_ce: 10 cases agree" in capsys.readouterr().out


def test_alpha_ce_accepts_logsigmoid():
    def with_logsigmoid(logits, targets, alpha):
        log_p_t = targets * F.logsigmoid(logits) + (1 - targets) * F.logsigmoid(-logits)
        return -_alpha_t(targets, alpha) * log_p_t
    assert check_alpha_balanced_ce(with_logsigmoid)


def test_alpha_ce_stub_is_not_done(capsys):
    assert not check_alpha_balanced_ce(_stub)
    assert "not done" in capsys.readouterr().out


def test_alpha_ce_alpha_on_both_classes():
    def wrong(logits, targets, alpha):
        return alpha * F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    with pytest.raises(AssertionError, match="alpha weighs both classes"):
        check_alpha_balanced_ce(wrong)


def test_alpha_ce_alpha_t_swapped():
    def wrong(logits, targets, alpha):
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        return _alpha_t(targets, 1 - alpha) * ce
    with pytest.raises(AssertionError, match="alpha_t is swapped"):
        check_alpha_balanced_ce(wrong)


@pytest.mark.parametrize("form", ["log_p", "log_p_t", "bce_on_probabilities"])
def test_alpha_ce_naive_log_of_sigmoid(form):
    def wrong(logits, targets, alpha):
        p = torch.sigmoid(logits)
        if form == "log_p":
            ce = -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p))
        elif form == "log_p_t":
            ce = -torch.log(p * targets + (1 - p) * (1 - targets))
        else:  # F.binary_cross_entropy clamps log at -100: finite, but wrong at logit +-100
            ce = F.binary_cross_entropy(p, targets, reduction="none")
        return _alpha_t(targets, alpha) * ce
    with pytest.raises(AssertionError, match="logits .*100|from the logits"):
        check_alpha_balanced_ce(wrong)


def test_alpha_ce_sign_flipped():
    def wrong(logits, targets, alpha):
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        return -_alpha_t(targets, alpha) * ce
    with pytest.raises(AssertionError, match="check the sign"):
        check_alpha_balanced_ce(wrong)


def test_alpha_ce_targets_as_class_indices():
    def wrong(logits, targets, alpha):
        labels = targets.argmax(dim=-1)
        weight = torch.where(targets.amax(dim=-1) > 0, alpha, 1 - alpha)
        return weight * F.cross_entropy(logits, labels, reduction="none")
    with pytest.raises(AssertionError, match="not class indices"):
        check_alpha_balanced_ce(wrong)


def test_alpha_ce_reduced_to_a_scalar():
    def wrong(logits, targets, alpha):
        return alpha_balanced_cross_entropy(logits, targets, alpha=alpha).mean()
    with pytest.raises(AssertionError, match="reduction 'none'"):
        check_alpha_balanced_ce(wrong)


# --- the share of the loss from easy negatives -------------------------------------------------

def _loss(logits, targets, alpha, gamma):
    return sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="none")


def test_share_accepts_the_solution_and_a_tensor_result(capsys):
    assert check_easy_negative_share(_solution().my_easy_negative_share)

    def as_tensor(logits, targets, alpha, gamma):     # a 0-dim tensor is a number too
        loss = _loss(logits, targets, alpha, gamma)
        return loss[(targets == 0) & (torch.sigmoid(logits) < 0.5)].sum() / loss.sum()
    assert check_easy_negative_share(as_tensor)
    assert "easy_negative_share: 8 cases agree" in capsys.readouterr().out


def test_share_stub_is_not_done(capsys):
    assert not check_easy_negative_share(_stub)
    assert "not done" in capsys.readouterr().out


@pytest.mark.parametrize("mask, hint", [
    (lambda x, t: (t == 0) & (x > 0), "p_t = 1 - p"),
    (lambda x, t: (t == 0) & (x <= 0), "strictly above"),
    (lambda x, t: t == 0, "only the easy negatives"),
])
def test_share_wrong_mask(mask, hint):
    def wrong(logits, targets, alpha, gamma):
        loss = _loss(logits, targets, alpha, gamma)
        return float(loss[mask(logits, targets)].sum() / loss.sum())
    with pytest.raises(AssertionError, match=hint):
        check_easy_negative_share(wrong)


def test_share_of_the_anchors_not_of_the_loss():
    def wrong(logits, targets, alpha, gamma):
        return float(((targets == 0) & (logits < 0)).float().mean())
    with pytest.raises(AssertionError, match="share of the anchors"):
        check_easy_negative_share(wrong)


def test_share_divided_by_the_negatives_only():
    def wrong(logits, targets, alpha, gamma):
        loss = _loss(logits, targets, alpha, gamma)
        return float(loss[(targets == 0) & (logits < 0)].sum() / loss[targets == 0].sum())
    with pytest.raises(AssertionError, match="positives too"):
        check_easy_negative_share(wrong)


@pytest.mark.parametrize("drop, hint", [("alpha", "must use alpha"), ("gamma", "must use gamma")])
def test_share_loss_without_alpha_or_gamma(drop, hint):
    def wrong(logits, targets, alpha, gamma):
        loss = _loss(logits, targets, -1.0 if drop == "alpha" else alpha,
                     0.0 if drop == "gamma" else gamma)
        return float(loss[(targets == 0) & (logits < 0)].sum() / loss.sum())
    with pytest.raises(AssertionError, match=hint):
        check_easy_negative_share(wrong)
