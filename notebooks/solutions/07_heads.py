"""Solutions to lesson 07's exercises. Try them yourself first."""


def my_head_reshape(x, num_anchors):
    """[B, A*K, H, W] -> [B, H*W*A, K], one row per anchor, in the order of generate_anchors."""
    b, ak, h, w = x.shape
    k = ak // num_anchors                       # channel a*K + k is "anchor a, class k"
    x = x.view(b, num_anchors, k, h, w)         # [B, A, K, H, W]
    x = x.permute(0, 3, 4, 1, 2)                # [B, H, W, A, K]: location first, then anchor
    return x.reshape(b, h * w * num_anchors, k)  # row (y*W + x)*A + a


def my_head_parameter_count(channels, num_anchors, outputs_per_anchor, num_convs):
    """Parameters of one subnet: num_convs x (3x3 conv C -> C, ReLU), then 3x3 conv C -> D*A."""
    hidden = channels * channels * 3 * 3 + channels          # weights + biases of one hidden conv
    out = outputs_per_anchor * num_anchors                   # K*A filters (class) or 4*A (box), §4
    return num_convs * hidden + channels * out * 3 * 3 + out


# Q: Give the box subnet K*4*A outputs (class-specific boxes, as in Faster R-CNN). How many
#    parameters does its output conv have for K = 80?
# A: 256 * (80 * 4 * 9) * 9 + 80 * 4 * 9 = 6,638,400, exactly 80x the class-agnostic 82,980 and
#    more than the whole class subnet. The paper uses "a class-agnostic bounding box regressor
#    which uses fewer parameters and we found to be equally effective" (§4).

# Q: Replace the shared head by five independent heads (an nn.ModuleList) and verify the 5x in
#    parameters. What would a level that sees few objects (P7) learn?
# A: 5 x 6,463,220 = 32,316,100 parameters. P7's head would be trained only by the few very large
#    objects assigned to P7, so it would learn slowly and overfit them; with sharing, every object
#    at any level trains the same filters (the gradients of the levels add up).

# Q: Use RetinaNet(..., head_norm="gn") (GroupNorm, as torchvision's v2): how many parameters does
#    it add, and are the initial scores still 0.01?
# A: +2,048 (6,465,268 vs 6,463,220): each of the 8 hidden convs gets a GroupNorm with 256 weights
#    and 256 biases and drops its own 256 biases (GN's shift makes them redundant): 8 * 256.
#    The output conv and its prior bias are unchanged; on the photo the mean initial score is
#    0.0106 (0.0018 to 0.061): GN rescales the features, so the logits spread a little more around
#    b, but the scores still start near pi.

# Q: Plot the initial classification loss against pi in {0.5, 0.1, 0.01, 0.001} on the photo.
# A: About 2,963, 21.8, 1.15 and 1.72 (untrained ResNet-50 model of the lesson, 512 px). The
#    background term falls like pi^2 (0.75 * pi^2 * log(1 / (1 - pi)) per pair) while the
#    positives' term grows like log(1 / pi): below 0.01 the loss rises again, slowly. The paper
#    uses pi = .01 and finds results "robust to the exact value" (§4.1).
