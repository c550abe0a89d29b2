"""Lesson 10's exercise check: one training step; passes a right one, names the usual mistakes."""
import pytest

from retina_lesson.exercises import check_training_step
from retina_lesson.exercises.lesson10 import training_step


def _losses(model, images, targets):
    losses = model(images, targets)
    return losses["classification"] + losses["bbox_regression"]


def written_out(model, images, targets, optimizer):
    model.train()
    model.zero_grad()                       # the model's zero_grad does the same
    loss = sum(model(images, targets).values())
    loss.backward()
    optimizer.step()
    return loss.item()                      # a float is fine too


def no_zero_grad(model, images, targets, optimizer):
    model.train()
    loss = _losses(model, images, targets)
    loss.backward()
    optimizer.step()
    return loss


def classification_only(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = model(images, targets)["classification"]
    loss.backward()
    optimizer.step()
    return loss


def step_before_backward(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = _losses(model, images, targets)
    optimizer.step()
    loss.backward()
    return loss


def no_step(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = _losses(model, images, targets)
    loss.backward()
    return loss


def zero_grad_after_backward(model, images, targets, optimizer):
    model.train()
    loss = _losses(model, images, targets)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss


def averaged(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = _losses(model, images, targets) / 2
    loss.backward()
    optimizer.step()
    return loss


def eval_mode(model, images, targets, optimizer):
    optimizer.zero_grad()
    loss = _losses(model, images, targets)
    loss.backward()
    optimizer.step()
    return loss


def returns_the_dict(model, images, targets, optimizer):
    model.train()
    optimizer.zero_grad()
    losses = model(images, targets)
    (losses["classification"] + losses["bbox_regression"]).backward()
    optimizer.step()
    return losses


def test_accepts_a_correct_step_and_says_not_done_for_the_stub(capsys):
    def stub(model, images, targets, optimizer):
        raise NotImplementedError

    assert check_training_step(training_step)
    assert check_training_step(written_out)
    assert "cases agree" in capsys.readouterr().out
    assert not check_training_step(stub)
    assert "not done" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (no_zero_grad, "call optimizer.zero_grad\\(\\) before every backward"),
    (classification_only, "SUM of both entries"),
    (step_before_backward, "optimizer.step\\(\\) must come after loss.backward\\(\\)"),
    (no_step, "the weights did not change"),
    (zero_grad_after_backward, "the weights did not change"),
    (averaged, "do not average"),
    (eval_mode, "call model.train\\(\\) first"),
    (returns_the_dict, "return their sum"),
], ids=lambda v: getattr(v, "__name__", "hint"))
def test_rejects_the_usual_mistakes_with_their_hint(wrong, words):
    with pytest.raises(AssertionError, match=words):
        check_training_step(wrong)
