"""Solutions to lesson 00's exercises. Try them yourself first.

Lesson 00 has no coding exercise; these are the answers to its questions. The numbers come from
``retina_lesson.anchors`` / ``retina_lesson.boxes`` on the course photo, as in the lesson.
"""

# Q: Count the anchors for an input of 600 x 1000 pixels (the paper's ablations use an image
#    scale of 600 pixels, §5.1). How many are on P3?
# A: anchors.num_anchors_per_level((600, 1000)) = [84375, 21546, 5472, 1440, 360], 113,193 in all.
#    P3 is ceil(600 / 8) x ceil(1000 / 8) = 75 x 125 cells x 9 anchors = 84,375 — three quarters,
#    as at 800 x 1333.
#
# Q: Repeat the foreground/background count with the 7 boxes shrunk to half their width and height
#    (same centres). What happens to the ratio, and why?
# A: Foreground 150 (was 182), ignored 330, background 48,624: 1 : 324 instead of 1 : 267. A smaller
#    box reaches IoU >= 0.5 with fewer anchors (fewer grid positions lie within a third of its
#    side, and the sizes must still match), so fewer anchors are foreground and the imbalance
#    grows; the halved name tag (23 x 17.5 px) gets no anchor with IoU >= 0.5 at all (best
#    0.39). COCO, full of small objects, is far more imbalanced than our close-up photo, closer
#    to the paper's example of 1:1000 (§3).
#
# Q: At what p_t of the easy background anchors would their summed cross entropy equal that of the
#    foreground (182 anchors at p_t = 0.5)? And with the focal loss?
# A: CE: 48,517 * (-log p) = 182 * log 2 = 126.2, so -log p = 0.0026 and p_t = 0.9974: the
#    background must be almost perfectly classified before it stops dominating. FL (gamma = 2):
#    48,517 * (1 - p)^2 * (-log p) = 182 * 0.25 * log 2 = 31.5 at p_t ≈ 0.915 (bisection): with
#    the focal loss, background anchors stop dominating as soon as they are classified with
#    p_t > 0.915.
#
# Q: Which column of Table 2 shows the smallest gain of RetinaNet over the best two-stage model?
#    Give a reason you could test later in the course.
# A: APl (large objects): -1.9 (ResNet-101-FPN) and -0.9 (ResNeXt-101-FPN) — the Inception-ResNet
#    two-stage models stay ahead there, while the gain is largest on small objects (APs). Possible
#    reasons to test: large objects are few and each is matched on the coarse P6/P7 levels, whose
#    anchors are spaced 64-128 px apart and whose centres torchvision squeezes (lesson 02);
#    lesson 12's anchor-coverage analysis measures how well large objects are covered, and the
#    backbone (Inception-ResNet vs ResNet) is another candidate the course cannot test on a CPU.
