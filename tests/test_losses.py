import math

import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss as tv_focal

from retina_lesson import losses as L


def logits_and_targets(seed=0, shape=(64, 5)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * 4, (torch.rand(shape, generator=g) < 0.2).float()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.5, 0.0), (-1, 1.0), (0.75, 5.0), (0.25, 0.5)])
def test_focal_loss_equals_torchvision(reduction, alpha, gamma):
    x, t = logits_and_targets()
    torch.testing.assert_close(L.sigmoid_focal_loss(x, t, alpha, gamma, reduction),
                               tv_focal(x, t, alpha, gamma, reduction))


def test_gamma_zero_is_alpha_balanced_ce_and_no_alpha_is_ce():
    x, t = logits_and_targets(1)
    torch.testing.assert_close(L.sigmoid_focal_loss(x, t, alpha=-1, gamma=0.0),
                               L.sigmoid_cross_entropy(x, t))
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    torch.testing.assert_close(L.alpha_balanced_cross_entropy(x, t, 0.25),
                               ce * (0.25 * t + 0.75 * (1 - t)))


def test_easy_negative_by_hand():
    # p_t = 0.9: CE = -log 0.9 = 0.1054; FL (gamma 2, no alpha) = 0.01 * CE: 100x smaller
    x = torch.tensor([math.log(0.1 / 0.9)])  # p = 0.1 for a negative -> p_t = 0.9
    ce = L.sigmoid_cross_entropy(x, torch.zeros(1)).item()
    fl = L.sigmoid_focal_loss(x, torch.zeros(1), alpha=-1, gamma=2).item()
    assert ce == pytest.approx(-math.log(0.9), rel=1e-5)
    assert fl == pytest.approx(0.01 * ce, rel=1e-4)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_saturated_logits_are_stable_in_value_and_gradient(gamma):
    x = torch.tensor([100.0, -100.0, 100.0, -100.0, 30.0, -30.0], requires_grad=True)
    t = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    loss = L.sigmoid_focal_loss(x, t, gamma=gamma, reduction="sum")
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    # the two confidently wrong anchors: CE = 100 each, weighted 1 - alpha = 0.75 and alpha = 0.25
    assert loss.item() == pytest.approx(100 * 0.75 + 100 * 0.25, rel=1e-4)


def test_box_losses_equal_torch():
    a, b = torch.randn(10, 4), torch.randn(10, 4)
    torch.testing.assert_close(L.l1_loss(a, b), (a - b).abs().sum())
    torch.testing.assert_close(L.smooth_l1_loss(a, b), F.smooth_l1_loss(a, b, beta=1 / 9, reduction="sum"))


def test_prior_bias():
    b = L.prior_bias(0.01)
    assert b == pytest.approx(-math.log(99))
    assert torch.sigmoid(torch.tensor(b)).item() == pytest.approx(0.01)
    with pytest.raises(ValueError, match="pi must be"):
        L.prior_bias(1.0)


def test_bad_arguments():
    x, t = logits_and_targets()
    with pytest.raises(ValueError, match="same shape"):
        L.sigmoid_focal_loss(x, t[:3])
    with pytest.raises(ValueError, match="alpha"):
        L.sigmoid_focal_loss(x, t, alpha=2.0)
    with pytest.raises(ValueError, match="reduction"):
        L.sigmoid_focal_loss(x, t, reduction="avg")


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (1.0, 0.25), (0.5, 0.1), (0.0, -1)])
def test_zero_one_targets_give_the_general_formulas_bit_for_bit(gamma, alpha):
    """With 0/1 targets the loss takes one sigmoid of +-x and a choice of alpha_t: the values and
    the gradients are exactly those of the general formulas (which soft targets still take)."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(500, 7, generator=g) * 6
    targets = (torch.rand(500, 7, generator=g) < 0.1).float()

    def general(x, t):
        ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        loss = ce
        if gamma:
            q = torch.sigmoid(x) * (1 - t) + torch.sigmoid(-x) * t
            loss = ce * q.clamp(min=torch.finfo(x.dtype).tiny) ** gamma
        return (alpha * t + (1 - alpha) * (1 - t)) * loss if alpha >= 0 else loss

    results = []
    for fn in (general, lambda x, t: L.sigmoid_focal_loss(x, t, alpha, gamma),
               lambda x, t: L.sigmoid_focal_loss(x, t.bool(), alpha, gamma)):
        x = logits.clone().requires_grad_()
        loss = fn(x, targets)
        loss.sum().backward()
        results.append((loss.detach(), x.grad))
    for loss, grad in results[1:]:
        assert torch.equal(loss, results[0][0]) and torch.equal(grad, results[0][1])
    soft = torch.rand(500, 7, generator=g)  # soft targets: torchvision's numbers
    torch.testing.assert_close(L.sigmoid_focal_loss(logits, soft, max(alpha, 0), gamma),
                               tv_focal(logits, soft, max(alpha, 0), gamma))
