from retina_lesson.boxes import validate_boxes
from retina_lesson.photo import load_photo


def test_photo_and_annotations_load():
    image, target, names = load_photo()
    assert image.shape == (3, 512, 512) and 0 <= image.min() and image.max() <= 1
    validate_boxes(target["boxes"])
    assert len(target["boxes"]) == len(target["labels"]) == 7
    assert (target["boxes"] <= 512).all() and set(target["labels"].tolist()) <= set(names)
