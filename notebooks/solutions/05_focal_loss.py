"""Solutions to lesson 05's exercises. Try them yourself first.

Check them with ``retina_lesson.exercises.check_sigmoid_focal_loss`` and ``check_prior_bias``.
"""
import math

import torch
import torch.nn.functional as F


def my_sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """Focal loss of Eq. 5 per element, from logits; the same numbers as torchvision's."""
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    # CE(p_t) = -log(p_t) (Eq. 1), computed from the logits so that +-100 stays finite
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)                  # Eq. 2
    loss = ce * (1 - p_t) ** gamma                               # Eq. 4: (1 - p_t)^gamma CE
    if alpha >= 0:                                               # alpha = -1: no weighting
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)  # alpha_t, as p_t (Sec. 3.1)
        loss = alpha_t * loss                                    # Eq. 5
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def my_prior_bias(pi):
    """The classification bias b with sigmoid(b) = pi."""
    return -math.log((1 - pi) / pi)                              # b = -log((1 - pi) / pi), Sec. 4.1


# Open questions (section numbers are the lesson's; "section 4" = 100k easy negatives against
# 100 hard positives, modelled scores, alpha = -1 unless said otherwise)
#
# Q: In section 4, for which gamma do positives and negatives contribute equally?
# A: Without alpha, the negatives' share of the summed loss is 93% at gamma = 0, 72% at 0.5,
#    37% at 1, 14% at 1.5 and 4.9% at 2: the shares are equal near gamma = 0.8. The easy
#    negatives' loss shrinks like p^gamma with p ~ 0.007, the hard positives' only like
#    (1 - p)^gamma with 1 - p ~ 0.5, so a small gamma already balances them.
#
# Q: Redo section 4 with negatives from N(-3, 1) (a half-trained model). How much of the focal
#    loss's effect remains?
# A: Much less: the negatives are no longer easy (p ~ 0.05). Under CE they are 98.9% of the loss;
#    with gamma = 2 (no alpha) still 87.7%. The focal term divides their sum by ~29 instead of
#    ~581 (the positives' by 2.3, as before). The focal loss down-weights examples by how easy
#    they are, so it acts strongly only once the model has learnt that background is background.
#
# Q: Table 1b pairs larger gamma with smaller alpha. Using section 4's scores, find the alpha
#    that gives positives and negatives equal shares for each gamma.
# A: Equal shares need alpha * P = (1 - alpha) * N, i.e. alpha = N / (N + P) with P, N the
#    unweighted sums: alpha = 0.93 at gamma = 0, 0.72 at 0.5, 0.37 at 1, 0.14 at 1.5 and 0.05 at
#    gamma = 2. The same direction as Table 1b (0.75, 0.5, 0.25, 0.25 for gamma 0, 0.5, 1, 2):
#    the larger gamma, the less the positives need up-weighting (Sec. 5.1 says so). The paper's
#    alpha is not chosen to equalise the shares, though: it was chosen by AP.
#
# Q: Repeat section 6 with pi = 0.001 and pi = 0.1. The paper says results are robust to the
#    exact value; does the first-iteration loss agree?
# A: FL loss / N_pos is 1.7 at pi = 0.001, 1.2 at 0.01 and 64 at 0.1 (CE: 87, 809, 8431), against
#    10,400 (CE 55,450) with bias 0. Every prior in that range removes the huge, destabilising
#    first step that bias 0 gives, which fits the paper (Sec. 4.1: "results are robust to the
#    exact value"); how much of that carries over to the final AP only training can tell.
