import torch
from torchvision.ops import batched_nms, nms as tv_nms

from retina_lesson.postprocess import batched_nms_by_class, nms, select_level


def random_scene(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 100
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 40 + 1], dim=1)
    return boxes, torch.rand(n, generator=g), torch.randint(0, 4, (n,), generator=g)


def test_nms_equals_torchvision():
    for seed in range(3):
        boxes, scores, labels = random_scene(seed=seed)
        assert torch.equal(nms(boxes, scores, 0.5), tv_nms(boxes, scores, 0.5))
        assert torch.equal(batched_nms_by_class(boxes, scores, labels, 0.5),
                           batched_nms(boxes, scores, labels, 0.5))


def test_nms_empty():
    assert nms(torch.zeros(0, 4), torch.zeros(0)).numel() == 0


def test_select_level_threshold_topk_and_index_arithmetic():
    logits = torch.full((5, 3), -10.0)
    logits[2, 1], logits[4, 0], logits[0, 2] = 3.0, 2.0, 1.0  # anchor 2 class 1 is best
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0]] * 5)
    boxes, scores, labels = select_level(logits, torch.zeros(5, 4), anchors, (8, 8), topk=2)
    assert labels.tolist() == [1, 0] and scores[0] == torch.sigmoid(torch.tensor(3.0))
    assert boxes.tolist() == [[0.0, 0.0, 8.0, 8.0]] * 2  # clipped to the 8x8 image
