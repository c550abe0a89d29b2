"""Lesson 07's checks accept correct answers and reject the usual mistakes with their hint."""
import pytest
import torch

from retina_lesson.exercises import check_head_parameter_count, check_head_reshape
from retina_lesson.heads import Subnet


def stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- check_head_reshape
def torchvision_way(x, num_anchors):  # RetinaNetClassificationHead.forward
    n, ak, h, w = x.shape
    k = ak // num_anchors
    return x.view(n, -1, k, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, k)


def channels_last(x, num_anchors):  # the SSD way: channel a*K + k is already anchor-major
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, x.shape[1] // num_anchors)


@pytest.mark.parametrize("fn", [torchvision_way, channels_last])
def test_head_reshape_accepts_correct(fn, capsys):
    assert check_head_reshape(fn)
    assert "cases agree" in capsys.readouterr().out


def test_head_reshape_stub_is_not_done(capsys):
    assert not check_head_reshape(stub)
    assert "not done yet" in capsys.readouterr().out


def viewed(order, permutation, columns="k"):
    def wrong(x, num_anchors):
        n, ak, h, w = x.shape
        k = ak // num_anchors
        dims = {"ak": (num_anchors, k), "ka": (k, num_anchors)}[order]
        x = x.view(n, *dims, h, w)
        if permutation:
            x = x.permute(*permutation)
        return x.reshape(n, -1, k if columns == "k" else num_anchors)
    return wrong


@pytest.mark.parametrize("wrong, words", [
    (viewed("ka", (0, 3, 4, 2, 1)), r"view as \(B, A, K, H, W\)"),
    (viewed("ak", (0, 1, 3, 4, 2)), "location first, then anchor"),
    (viewed("ak", None), "a reshape alone"),
    (viewed("ak", (0, 4, 3, 1, 2)), "row by row"),
    (viewed("ka", (0, 3, 4, 1, 2), columns="a"), "the second argument is A"),
    (lambda x, a: torchvision_way(x, a)[0], "expected shape"),  # the batch dimension dropped
])
def test_head_reshape_rejects_mistakes(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_head_reshape(wrong)


def test_head_reshape_reference_is_the_package_subnet():
    torch.manual_seed(0)
    subnet = Subnet(channels=8, out_per_anchor=3, num_anchors=2, num_convs=1)
    x = torch.randn(2, 8, 3, 4)
    hidden = torch.relu(subnet.convs[0](x))
    torch.testing.assert_close(subnet.forward_level(x), torchvision_way(subnet.out(hidden), 2))


# ---------------------------------------------------------------- check_head_parameter_count
def counted(channels, num_anchors, outputs_per_anchor, num_convs):
    hidden = channels * channels * 3 * 3 + channels  # weights + biases of a C -> C 3x3 conv
    out = outputs_per_anchor * num_anchors
    return num_convs * hidden + channels * out * 3 * 3 + out


def built(channels, num_anchors, outputs_per_anchor, num_convs):
    return sum(p.numel() for p in Subnet(channels, outputs_per_anchor, num_anchors, num_convs)
               .parameters())


@pytest.mark.parametrize("fn", [counted, built])
def test_head_parameter_count_accepts_correct(fn, capsys):
    assert check_head_parameter_count(fn)
    assert "cases agree" in capsys.readouterr().out


def test_head_parameter_count_stub_is_not_done(capsys):
    assert not check_head_parameter_count(stub)
    assert "not done yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda c, a, d, n: n * c * c * 9 + c * d * a * 9, "bias"),
    (lambda c, a, d, n: n * (c * c + c) + c * d * a + d * a, "3x3"),
    (lambda c, a, d, n: counted(c, 1, d, n), "outputs_per_anchor x A filters"),
    (lambda c, a, d, n: counted(c, a, d, n + 1), "not one more"),
    (lambda c, a, d, n: counted(c, a, d, max(n - 1, 0)), "not one fewer"),
    (lambda c, a, d, n: (n + 1) * (c * c * 9 + c), "not C to C"),
    (lambda c, a, d, n: float(counted(c, a, d, n) + 1), "case 1 of"),
])
def test_head_parameter_count_rejects_mistakes(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_head_parameter_count(wrong)
