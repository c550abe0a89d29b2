"""Solutions to lesson 06's exercises. Try them yourself first."""
import math

import torch.nn.functional as F

STRIDES = (8, 16, 32, 64, 128)  # P3 ... P7: P_l has resolution 2^l lower than the input (§4)


def my_feature_sizes(image_size):
    """(H_l, W_l) of P3-P7 for a padded input of size (H, W)."""
    h, w = image_size
    # every stride-2 layer (3x3 conv with padding 1) maps a side n to ceil(n / 2), so after l
    # halvings the side is ceil(n / 2^l); P6 = ceil(P5 / 2) and P7 = ceil(P6 / 2) agree with it
    return [(math.ceil(h / s), math.ceil(w / s)) for s in STRIDES]


def my_fpn_top_down(features, lateral_convs):
    """The merged maps [M3, M4, M5] of the FPN's top-down pathway (before the 3x3 output convs)."""
    laterals = [conv(c) for conv, c in zip(lateral_convs, features)]  # 1x1: C_l -> 256 channels
    merged = [laterals[-1]]                                            # M5 = lateral(C5)
    for lateral in reversed(laterals[:-1]):                            # C4, then C3
        # M_l = lateral(C_l) + nearest-upsample(M_{l+1}) to C_l's exact size (FPN, Lin et al.)
        up = F.interpolate(merged[0], size=lateral.shape[-2:], mode="nearest")
        merged.insert(0, lateral + up)
    return merged


# Q: Replace `size=` by `scale_factor=2` in the hand-built top-down pass. Which input sizes
#    (250x333? 256x320?) still work, and why does `ImageTransform` make the model safe anyway?
# A: 256x320 works: every C_l side is an exact multiple (32x40, 16x20, 8x10), so doubling C5's map
#    gives C4's size. 250x333 fails: C5 is 8x11, doubled 16x22, but C4 is 16x21 - the addition
#    raises a size mismatch. ImageTransform pads every batch to a multiple of 32, so C3-C5 always
#    halve exactly; the FPN still upsamples to the exact size so that it does not depend on it.

# Q: Drop the top-down path (P_l = output(lateral(C_l)) only) and draw the P3 map of the photo
#    again. What changes?
# A: P3 then shows C3's own (sharp, 8-px) structure instead of the blurred, blocky copy of C5 that
#    dominates it with random weights. Every level sees only its own stage: P3 would lose the deep,
#    semantic information the top-down path brings down - the reason FPN exists.

# Q: Build `resnet_body("resnet18")` and an FPN on it. What are its `in_channels`, and how many
#    parameters do the laterals and a C5-based P6 have now?
# A: ResNet-18 (basic blocks) gives C3-C5 with 128, 256, 512 channels. Laterals:
#    (128 + 256 + 512) * 256 + 3 * 256 = 230,144; P6 from C5: 512 * 256 * 9 + 256 = 1,179,904
#    (from P5 it stays 590,080). Check with sum(p.numel() for p in fpn.lateral.parameters()).

# Q: Compute the table of section 5 for a 600x1000 image (what does ImageTransform(800, 1333)
#    resize it to?). Which levels have an effective stride different from the nominal one?
# A: scale = min(800 / 600, 1333 / 1000) = 1.333: 799x1333 (sizes floored), padded to 800x1344,
#    so the table is that of section 5. P6 and P7 along y (61 and 114, from 13 and 7 cells) and P7 along x
#    (1344 // 11 = 122) differ from 64 and 128; P3-P5 and P6 along x (1344 // 21 = 64) do not.
