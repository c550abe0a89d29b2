"""Mixed precision: convolutions may run in 16 bits; IoU, NMS, box coding, matching and the
losses stay in float32 (torchvision upcasts the same way)."""
import pytest
import torch
import torchvision

from retina_lesson.box_coding import decode, encode
from retina_lesson.boxes import box_iou
from retina_lesson.data import collate_fn, shapes_datasets
from retina_lesson.postprocess import nms
from retina_lesson.precision import autocast, grad_scaler, upcast
from retina_lesson.shapes import make_shapes
from retina_lesson.train import TrainConfig, build_model, load_checkpoint, train


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    # 128 px, the course's size: on 64-px images P7's conv sees a 1x1 input, where torch 2.14's
    # CPU bfloat16 convolution backward intermittently returns non-finite weight gradients
    root = make_shapes(tmp_path_factory.mktemp("shapes"), num_train=16, num_val=4, image_size=128,
                       progress=False)
    return shapes_datasets(root, progress=False)


def test_float16_iou_of_large_boxes_is_right():
    # a 300-px box's area (90,000) overflows float16 (max 65,504): computed in float32 it is not
    boxes = torch.tensor([[0.0, 0.0, 300.0, 300.0], [0.0, 0.0, 300.0, 150.0]])
    for dtype in (torch.float16, torch.bfloat16):
        iou = box_iou(boxes.to(dtype), boxes.to(dtype))
        assert iou.dtype == torch.float32
        torch.testing.assert_close(iou, torch.tensor([[1.0, 0.5], [0.5, 1.0]]))
        torch.testing.assert_close(iou, torchvision.ops.box_iou(boxes.to(dtype), boxes.to(dtype)))


def test_half_precision_nms_keeps_what_torchvision_keeps():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(300, 2, generator=g) * 900
    boxes = torch.cat([xy, xy + 40 + torch.rand(300, 2, generator=g) * 300], dim=1)
    scores = torch.rand(300, generator=g)
    for dtype in (torch.float16, torch.bfloat16):
        b, s = boxes.to(dtype), scores.to(dtype)
        theirs = torchvision.ops.nms(b.float(), s.float(), 0.5)  # torchvision upcasts half input
        assert torch.equal(nms(b, s, 0.5), theirs)


def test_box_coding_upcasts_half_precision():
    anchors = torch.tensor([[100.0, 100.0, 900.0, 500.0]])
    boxes = torch.tensor([[110.0, 90.0, 870.0, 530.0]])
    deltas = encode(boxes.bfloat16(), anchors.bfloat16())
    assert deltas.dtype == torch.float32
    torch.testing.assert_close(deltas, encode(boxes.bfloat16().float(), anchors.bfloat16().float()))
    decoded = decode(deltas.bfloat16(), anchors)
    assert decoded.dtype == torch.float32
    assert upcast(anchors) is anchors and upcast(anchors.half()).dtype == torch.float32


@pytest.mark.parametrize("preset", ["default", "paper"])
def test_bfloat16_training_step_gives_the_float32_losses(tiny_data, preset):
    """Under bfloat16 autocast (--amp on a CPU) the losses stay float32 and within 2% of the
    float32 step's (bfloat16 keeps 8 bits of mantissa in the convolutions); gradients flow."""
    train_set, _ = tiny_data
    images, targets = collate_fn([train_set[i] for i in range(4)])
    model = build_model(train_set.num_classes, TrainConfig(preset=preset, fpn_channels=16))
    model.train()
    full = model(list(images), list(targets))
    with autocast("cpu"):
        mixed = model(list(images), list(targets))
    for key in full:
        assert mixed[key].dtype == torch.float32
        torch.testing.assert_close(mixed[key], full[key], rtol=2e-2, atol=1e-3)
    (mixed["classification"] + mixed["bbox_regression"]).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    model.eval()
    with torch.no_grad(), autocast("cpu"):
        detections = model(list(images[:1]))
    assert detections[0]["boxes"].dtype == torch.float32


def test_amp_training_writes_a_resumable_amp_checkpoint(tiny_data, tmp_path):
    train_set, _ = tiny_data
    config = TrainConfig(epochs=1, batch_size=8, fpn_channels=16, warmup_iters=2)
    _, history = train(config, train_set, tmp_path, progress=False, amp=True, device="cpu")
    assert len(history) == 2 and all(torch.isfinite(torch.tensor(h["classification"]))
                                     for h in history)
    assert load_checkpoint(tmp_path / "last.pt")["amp"] is True
    with pytest.raises(ValueError, match=r"trained with mixed precision \(--amp\)"):
        train(config, train_set, tmp_path, resume=True, progress=False, amp=False, device="cpu")


def test_autocast_and_scaler_per_device():
    assert grad_scaler("cpu") is None and grad_scaler("cuda", amp=False) is None
    with autocast("cpu", amp=False):
        assert not torch.is_autocast_enabled("cpu")
    with autocast("cpu"):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
    with pytest.raises(ValueError, match="--amp runs on a CPU"):
        autocast("meta")
