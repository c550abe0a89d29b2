import pytest
import torch
from torchvision.models.detection._utils import Matcher

from retina_lesson.anchors import generate_anchors
from retina_lesson.boxes import box_iou
from retina_lesson.matching import (IGNORED, NEGATIVE, clean_objects, match_anchors,
                                    match_anchors_batch, zone_counts)


def random_objects(n, size=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size * 0.8
    wh = torch.rand(n, 2, generator=g) * size * 0.5 + 8
    return torch.cat([xy, (xy + wh).clamp(max=size)], dim=1)


@pytest.mark.parametrize("low_quality", [True, False])
@pytest.mark.parametrize("seed", range(5))
def test_equals_torchvision_matcher_on_random_images(seed, low_quality):
    iou = box_iou(random_objects(1 + seed * 3, seed=seed), generate_anchors((256, 256)))
    expected = Matcher(0.5, 0.4, allow_low_quality_matches=low_quality)(iou)
    assert torch.equal(match_anchors(iou, allow_low_quality=low_quality), expected)


def test_three_zones_by_hand():
    iou = torch.tensor([[0.7, 0.45, 0.39, 0.4, 0.5, 0.0],
                        [0.1, 0.2, 0.3, 0.1, 0.6, 0.0]])
    out = match_anchors(iou, allow_low_quality=False)
    assert out.tolist() == [0, IGNORED, NEGATIVE, IGNORED, 1, NEGATIVE]


def test_low_quality_ties_keep_their_own_best_object():
    # object 1's best IoU is 0.3, on anchors 1 and 2 (a tie); anchor 2 prefers object 0 (0.35)
    iou = torch.tensor([[0.9, 0.1, 0.35, 0.0],
                        [0.0, 0.3, 0.3, 0.2]])
    ours = match_anchors(iou)
    assert torch.equal(ours, Matcher(0.5, 0.4, True)(iou))
    assert ours.tolist() == [0, 1, 0, NEGATIVE]
    assert match_anchors(iou, allow_low_quality=False).tolist() == [0, NEGATIVE, NEGATIVE, NEGATIVE]


def test_ties_in_random_quantised_iou():
    g = torch.Generator().manual_seed(7)
    iou = (torch.rand(6, 500, generator=g) * 10).floor() / 10  # many exact ties
    assert torch.equal(match_anchors(iou), Matcher(0.5, 0.4, True)(iou))


def test_no_objects_means_all_negative():
    out = match_anchors(torch.zeros(0, 17))
    assert out.tolist() == [NEGATIVE] * 17
    assert zone_counts(out) == {"positive": 0, "negative": 17, "ignored": 0}


def test_zero_iou_object_is_rejected_with_clear_message():
    iou = torch.tensor([[0.8, 0.1, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"object\(s\) \[1\] overlap no anchor"):
        match_anchors(iou)
    # torchvision would silently make every zero-IoU anchor "positive" for that object:
    assert (Matcher(0.5, 0.4, True)(iou) >= 0).sum() == 3
    # without the low-quality rule there is no trap
    assert match_anchors(iou, allow_low_quality=False).tolist() == [0, NEGATIVE, NEGATIVE]


def test_clean_objects_drops_out_of_image_and_empty_boxes():
    boxes = torch.tensor([[10.0, 10.0, 50.0, 50.0], [300.0, 300.0, 340.0, 340.0],
                          [5.0, 5.0, 5.0, 30.0], [-20.0, 0.0, 20.0, 40.0]])
    kept, keep = clean_objects(boxes, image_size=(256, 256))
    assert keep.tolist() == [True, False, False, True]
    assert kept[1].tolist() == [0.0, 0.0, 20.0, 40.0]


@pytest.mark.parametrize("iou,kwargs,message", [
    (torch.rand(3), {}, r"\[M_objects, N_anchors\]"),
    (torch.full((2, 3), 1.5), {}, r"in \[0, 1\]"),
    (torch.full((2, 3), float("nan")), {}, r"in \[0, 1\]"),
    (torch.rand(2, 3), {"fg_iou": 0.4, "bg_iou": 0.5}, "bg_iou <= fg_iou"),
])
def test_bad_input_raises(iou, kwargs, message):
    with pytest.raises(ValueError, match=message):
        match_anchors(iou, **kwargs)


def test_low_quality_with_a_weak_object_and_ties_equals_torchvision():
    # a tiny object has a low best IoU, so many anchors are candidates for the low-quality rule;
    # quantised IoU adds ties between objects
    objects = torch.cat([random_objects(8, seed=11), torch.tensor([[100.0, 100.0, 102.0, 103.0]])])
    iou = box_iou(objects, generate_anchors((256, 256)))
    assert 0 < iou[-1].max() < 0.05
    quantised = iou.clone()
    quantised[:-1] = (iou[:-1] * 20).floor() / 20
    for q in (iou, quantised):
        assert torch.equal(match_anchors(q), Matcher(0.5, 0.4, True)(q))


def padded_ious(counts, seed=0, quantise=False):
    """A batch of IoU matrices, objects padded with garbage rows, and the per-image matrices."""
    anchors = generate_anchors((128, 128))
    per_image = [box_iou(random_objects(c, size=128, seed=seed + i), anchors) for i, c in
                 enumerate(counts)]
    if quantise:  # ties between objects, as in the low-quality test above
        per_image = [(q * 10).floor() / 10 + 1e-3 for q in per_image]
    rows = max(counts)
    batch = torch.rand(len(counts), rows, anchors.shape[0]) * 3 - 1  # padding holds anything
    for b, q in enumerate(per_image):
        batch[b, : len(q)] = q
    return batch, per_image


@pytest.mark.parametrize("low_quality", [True, False])
@pytest.mark.parametrize("quantise", [False, True])
def test_batch_equals_image_by_image_and_torchvision(low_quality, quantise):
    counts = [3, 0, 7, 1, 5]  # an image without objects in the batch, padding in all but one
    batch, per_image = padded_ious(counts, seed=3, quantise=quantise)
    out = match_anchors_batch(batch, counts, allow_low_quality=low_quality)
    assert out.shape == (len(counts), batch.shape[-1])
    for b, q in enumerate(per_image):
        expected = Matcher(0.5, 0.4, low_quality)(q) if len(q) else match_anchors(q)
        assert torch.equal(out[b], match_anchors(q, allow_low_quality=low_quality))
        assert torch.equal(out[b], expected)
    assert (out[1] == NEGATIVE).all()


def test_batch_of_empty_images_is_all_negative():
    out = match_anchors_batch(torch.zeros(3, 0, 50), [0, 0, 0])
    assert out.shape == (3, 50) and (out == NEGATIVE).all()


def test_batch_errors_name_the_problem():
    batch, _ = padded_ious([2, 3], seed=1)
    with pytest.raises(ValueError, match=r"\[B, M_objects, N_anchors\]"):
        match_anchors_batch(batch[0], [2])
    with pytest.raises(ValueError, match="num_objects must give 0..3 objects for each of the 2"):
        match_anchors_batch(batch, [2, 4])
    bad = batch.clone()
    bad[1, 1] = 0.0  # image 1's object 1 overlaps no anchor
    with pytest.raises(ValueError, match=r"image 1: object\(s\) \[1\] overlap no anchor"):
        match_anchors_batch(bad, [2, 3])
    bad[1, 1, 0] = float("nan")
    with pytest.raises(ValueError, match="no NaN"):
        match_anchors_batch(bad, [2, 3])


@pytest.mark.parametrize("fill", [-1.0, float("nan")])
def test_batch_padding_of_minus_one_or_nan(fill):
    """-1 padding (the model's) is used as it is; NaN padding is replaced, never matched."""
    counts = [3, 0, 7, 1, 5]
    batch, per_image = padded_ious(counts, seed=5)
    for b, c in enumerate(counts):
        batch[b, c:] = fill
    out = match_anchors_batch(batch, counts)
    for b, q in enumerate(per_image):
        assert torch.equal(out[b], match_anchors(q))
