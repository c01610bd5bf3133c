"""A model that keeps falling back towards where it started and learning it again: the weights bounce across the
valley they found (docs/diagnose.md, "A loss or held-out accuracy that bounces back to its start").

With a step size between the optimal one and twice it, gradient descent oscillates across a minimum; beyond twice
it, it leaves (LeCun, Bottou, Orr & Mueller 1998, "Efficient BackProp", §5.1). A network trained at an LR at that
edge finds the valley and is thrown back out of it again and again: its loss returns towards the untrained level
and falls again, or its held-out accuracy returns to chance between evaluations while the training epoch means
(averages over the whole bounce) keep falling. Two readings, both lr_too_high:

- the training loss, in an epoch history (<= 50 rows, no grad norm logged, each row an epoch's: it starts an
  epoch of its own in the log's epoch clock, or a held-out evaluation is printed with every row), goes back >= 3x
  above its best so far (lr_too_high's overshoot factor) and gives back >= half of what it had learned (its fall
  from the first row to that best) at >= 3 separate rows, falling back to within 1.5x of its best in between. One
  such row is a spike (detect_epoch_spike's exploding gradients), two may be two bad epochs; three returns
  half-way to the start, each recovered, are an oscillation. Per-step logs are left out: a single small batch's
  loss goes back near chance in healthy runs (the development corpus's per-step healthy runs do it up to 5 times),
  so the rows must be epochs. 0.5.
- a held-out accuracy (or any accuracy-like held-out score) that, after gaining >= 10 points of its scale, loses
  >= 60 % of its gain at an evaluation and regains it later, at >= 2 separate evaluations, while the training loss
  ends below its first value. The held-out set is fixed, so the drops are the weights' own: an end-of-epoch
  snapshot thrown out of the valley, which the epoch's training mean averages away. No healthy development run
  loses 60 % of its held-out gain even once. Listed (0.45): held-out batch-norm statistics from tiny batches swing
  a held-out score too.
"""

from __future__ import annotations

import numpy as np

from traindoc.evidence import heldout
from traindoc.evidence.context import cite_series, loss_series, rows_are_epochs
from traindoc.evidence.detectors.epoch_curves import loss_without_grad_norm
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run

EPOCH_MAX_ROWS = 50
LOSS_OVERSHOOT = 3.0  # a row this many times above the best so far (lr_too_high's "first updates overshoot" factor)
GIVE_BACK = 0.5  # ... that gives back at least half of the fall from the first row to that best
RECOVERED = 1.5  # an episode ends when the loss is back within 1.5x of its best
LOSS_EPISODES = 3
LOSS_STRENGTH = 0.5

ACC_GAIN = 0.1  # the held-out score gained >= 10 % of its scale (1 or 100) before a drop counts
ACC_GIVE_BACK = 0.6  # a drop loses >= 60 % of the gain so far
ACC_EPISODES = 2
ACC_STRENGTH = 0.45


def loss_relapses(v: np.ndarray) -> list[int]:
    """Rows at which the loss goes back >= LOSS_OVERSHOOT x its best so far and gives back >= GIVE_BACK of its fall
    from the first row, one per episode (an episode ends when the loss is back within RECOVERED x its best)."""
    out: list[int] = []
    best = float(v[0])
    open_episode = False
    for j in range(1, v.size):
        x = float(v[j])
        best = min(best, x)
        fell = float(v[0]) - best
        if open_episode:
            open_episode = x > RECOVERED * best
            continue
        if best <= 0.5 * float(v[0]) and x >= LOSS_OVERSHOOT * best and x - best >= GIVE_BACK * fell:
            out.append(j)
            open_episode = True
    return out


def error_relapses(err: np.ndarray, scale: float) -> list[int]:
    """Evaluations at which an error (1 - accuracy, in units of `scale`) gives back >= ACC_GIVE_BACK of its gain so
    far, once the gain is >= ACC_GAIN of the scale; one per episode (an episode ends when half the gain is back)."""
    out: list[int] = []
    best = float(err[0])
    open_episode = False
    for j in range(1, err.size):
        e = float(err[j])
        best = min(best, e)
        gain = float(err[0]) - best
        if open_episode:
            open_episode = e - best > 0.5 * gain
            continue
        if gain >= ACC_GAIN * scale and e - best >= ACC_GIVE_BACK * gain:
            out.append(j)
            open_episode = True
    return out


def detect_loss_bounces(run: Run) -> list[Finding]:
    """An epoch history whose loss goes back half-way to its start, >= 3x its best, at >= 3 separate rows and falls
    again each time: the step oversteps the valley (lr_too_high 0.5)."""
    got = loss_without_grad_norm(run)
    if got is None:
        return []
    loss, st, v = got
    if v.size < 2 * LOSS_EPISODES or v.size > EPOCH_MAX_ROWS or not bool(np.all(v > 0)) or not rows_are_epochs(run, st):
        return []
    rel = loss_relapses(v)
    if len(rel) < LOSS_EPISODES:
        return []
    shown = ", ".join(f"{fmt(float(v[j]))} at step {int(st[j])}" for j in rel[:4])
    ev = [f"the loss returns towards where it started ({fmt(float(v[0]))}) at {len(rel)} separate rows after "
          f"falling to {fmt(float(v[:rel[0]].min()))}: {shown}, each >= {LOSS_OVERSHOOT:g}x its best so far and "
          f"giving back over half of what it had learned, and falls again in between {cite_series(loss)}",
          "an optimiser step past the stable edge finds the valley and is thrown back out of it (gradient descent "
          "oscillates across a minimum with a step between the optimal one and twice it: LeCun et al. 1998, "
          f"Efficient BackProp); the loss ends at {fmt(float(v[-1]))}, its best is {fmt(float(v.min()))}"]
    return [Finding("detect_loss_bounces", "lr_too_high", LOSS_STRENGTH,
                    "the loss keeps bouncing back towards its start: the step oversteps the valley", ev,
                    int(st[rel[0]]), {"relapses": len(rel), "loss_only": True})]


def detect_heldout_accuracy_bounces(run: Run) -> list[Finding]:
    """A held-out accuracy that loses >= 60 % of its gain at >= 2 separate evaluations and regains it in between,
    while the training loss falls: the end-of-epoch weights are thrown out of the valley (lr_too_high 0.45)."""
    loss = loss_series(run)
    if loss is None:
        return []
    _, lv = loss.finite()
    if lv.size < 2 or not float(lv[-1]) < float(lv[0]):
        return []  # the training loss did not fall: the loss rules read a run that does not learn or diverges
    for m in heldout.task_metrics(run, min_points=2 * ACC_EPISODES + 1):
        if m.top is None:
            continue
        rel = error_relapses(m.error, m.top)
        if len(rel) < ACC_EPISODES:
            continue
        vals = m.top - m.error
        shown = ", ".join(f"{fmt(float(vals[j]))} at step {int(m.steps[j])}" for j in rel[:4])
        ev = [f"{m.name} falls back towards its first value {fmt(float(vals[0]))} at {len(rel)} separate evaluations "
              f"after reaching up to {fmt(float(vals.max()))}: {shown}, each losing over "
              f"{ACC_GIVE_BACK:.0%} of what it had gained, and recovers in between {cite_series(m.series)}",
              f"the training loss keeps falling ({fmt(float(lv[0]))} -> {fmt(float(lv[-1]))}): the epoch means "
              "average the bounce away, the held-out snapshot at the end of an epoch does not; a step past the "
              "stable edge throws the weights out of the valley they found (LeCun et al. 1998, Efficient BackProp); "
              "batch-norm statistics from tiny batches can swing a held-out score too"]
        return [Finding("detect_heldout_accuracy_bounces", "lr_too_high", ACC_STRENGTH,
                        "the held-out accuracy keeps falling back to its start: the weights bounce", ev,
                        int(m.steps[rel[0]]), {"relapses": len(rel)})]
    return []


DETECTORS = [detect_loss_bounces, detect_heldout_accuracy_bounces]
