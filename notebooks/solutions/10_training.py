"""Solutions to lesson 10's exercises. Try them yourself first."""


def my_training_step(model, images, targets, optimizer):
    """One training step: the summed loss of the batch, then one update of the weights."""
    model.train()                                   # train mode: the model returns its losses
    optimizer.zero_grad()                           # gradients of the previous step are gone
    losses = model(images, targets)                 # {"classification", "bbox_regression"}
    loss = losses["classification"] + losses["bbox_regression"]   # L = L_cls + L_reg (Sec. 4.1)
    loss.backward()                                 # dL/dw for every weight
    optimizer.step()                                # w <- w - lr * (AdamW's scaled gradient)
    return loss


# Q: Train the paper's recipe, TrainConfig(optimizer="sgd", lr=0.01, schedule="step"), in another
#    out_dir. How do the losses compare after the same number of epochs?
# A: Expect them to fall more slowly: with one step size for every weight, SGD at 0.01 moves the
#    randomly initialised backbone, FPN and heads very unequally, and 930 iterations are 1 % of
#    the paper's 90k (which also start from ImageNet weights). In the course's early runs SGD
#    (lr 0.02) reached about 60 % of AdamW's AP after the same 6000 images
#    (benchmarks/training_runs.md).

# Q: Set warmup_iters=0 (lr 4e-3 from the first step). Does the first epoch still go well?
# A: Usually it still trains, but the first iterations are rougher: the loss can jump up before
#    it falls, because the first gradients of a random detector are large and AdamW's running
#    averages have seen only a few of them. The warm-up makes the first steps small while those
#    statistics settle; at a higher lr, no warm-up can mean a NaN (section 8).

# Q: Train the "paper" preset (4-conv head without normalisation, L1 box loss, gamma 2). How do
#    its loss curves compare?
# A: Its losses are on another scale (L1 on the deltas instead of GIoU; gamma 2 instead of 1 makes
#    the focal loss of easy anchors smaller), so compare the detections and lesson 11's AP, not
#    the raw numbers. In the course's measurements the default preset reached about twice the AP
#    of the paper's head at this budget: GroupNorm lets the randomly initialised head train fast.

# Q: How often is the gradient clip (norm 10) active, and when?
# A: torch.nn.utils.clip_grad_norm_ returns the norm before clipping: append it to the history in
#    a copy of the loop (my_training_step plus that line). Expect the norm to be largest in the
#    first iterations, when the random detector's loss is largest, and the clip to act rarely
#    afterwards: it guards against an occasional bad batch (section 8) rather than shaping the
#    training. Plot the norms over the iterations to see when.
