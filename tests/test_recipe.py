"""The paper's schedule (Sec. 4.1) scaled linearly with the global batch."""
import pytest

from retina_lesson.recipe import paper_config, paper_schedule


def test_the_papers_numbers_at_batch_16():
    s = paper_schedule(16)
    assert (s.lr, s.iterations, s.steps) == (0.01, 90_000, (60_000, 80_000))
    assert (s.momentum, s.weight_decay) == (0.9, 1e-4)
    assert s.warmup_iters == 500 and s.lr_at(0) == pytest.approx(0.01 / 3)
    assert s.lr_at(250) == pytest.approx(0.01 * 2 / 3) and s.lr_at(500) == 0.01
    assert [s.lr_at(i) for i in (59_999, 60_000, 79_999, 80_000, 89_999)] == pytest.approx(
        [0.01, 0.001, 0.001, 0.0001, 0.0001])


@pytest.mark.parametrize("batch, lr, iterations, steps, warmup", [
    (8, 0.005, 180_000, (120_000, 160_000), 1000),
    (32, 0.02, 45_000, (30_000, 40_000), 250),
    (64, 0.04, 22_500, (15_000, 20_000), 125),
    (24, 0.015, 60_000, (40_000, 53_334), 333),
])
def test_scaled_with_the_global_batch(batch, lr, iterations, steps, warmup):
    s = paper_schedule(batch)
    assert (s.lr, s.iterations, s.steps, s.warmup_iters) == (pytest.approx(lr), iterations, steps,
                                                              warmup)
    # the same number of images before each drop as the paper's 16 x 60k and 16 x 80k
    assert all(abs(step * batch - ref * 16) <= batch
               for step, ref in zip(s.steps, (60_000, 80_000)))


def test_steps_fall_where_train_learning_rate_puts_them():
    from retina_lesson.train import TrainConfig, learning_rate

    for batch in (16, 24, 48):
        s = paper_schedule(batch)
        config = TrainConfig(preset="paper", optimizer="sgd", schedule="step", lr=s.lr,
                             warmup_iters=s.warmup_iters)
        for it in (0, s.warmup_iters // 2, s.warmup_iters, *s.steps, s.steps[0] - 1,
                   s.steps[1] - 1, s.iterations - 1):
            lr = learning_rate(config, it, s.iterations)
            assert lr == pytest.approx(s.lr_at(it)), (batch, it)


def test_paper_config_and_epochs():
    c = paper_config(16, num_images=117_266)  # COCO train2017 images with annotations
    assert c["epochs"] == 13 and c["iterations"] == 90_000 and c["image_size"] == 800
    assert (c["backbone"], c["fpn_channels"], c["optimizer"], c["schedule"]) == ("resnet50", 256,
                                                                                "sgd", "step")
    assert c["anchor_sizes"] == (32, 64, 128, 256, 512)
    assert c["model_overrides"] == {"p6_from": "c5"}
    with pytest.raises(ValueError, match="positive whole number, got 0"):
        paper_schedule(0)
    with pytest.raises(ValueError, match="10 training images make no batch of 16"):
        paper_schedule(16).epochs(10)
