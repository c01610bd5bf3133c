"""A training loss at ~0 that the training accuracy logged beside it contradicts (issue 8; docs/diagnose.md,
data_pipeline_bug's row).

A cross-entropy is a mean of per-sample terms -log p(correct), each >= 0, and a sample whose correct class has
p <= 0.5 contributes >= ln 2. So a mean loss L over a batch leaves at most L / ln 2 of its samples with p <= 0.5
(Markov's inequality), and every other sample has its correct class as the argmax: the accuracy over the same
samples is >= 1 - L / ln 2. A loss of 1e-4 (detect_data_pipeline_bug's "~0") forces an accuracy >= 0.9998. A
training accuracy under 0.5 logged at the same points therefore cannot be the accuracy of the predictions that loss
was computed from: the loss has stopped measuring the model (a float16 loss whose epsilon or probabilities underflow,
a NaN the loop reports as 0, a loss computed over no targets), which is not "the data gives nothing to learn" (a
trivial target is learned: its accuracy goes to 1 with its loss).
Only the training accuracy counts: a held-out accuracy may sit anywhere under a training loss of 0 (memorisation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.evidence.context import cite_series, loss_series
from traindoc.ingest.model import Run, Series

ZERO_LOSS = 1e-4  # detect_data_pipeline_bug's "loss ~0": no real task starts this solved
# Accuracy below which the bound above (>= 1 - 1e-4 / ln 2 = 0.9998) is contradicted by far more than any logging
# or rounding could explain: a majority of the samples would have to be wrong at a loss that allows 0.01 % of them
ACC_CONTRADICTS = 0.5
MIN_POINTS = 3  # the contradiction persists: one point may pair a loss and an accuracy from different windows

_ACC = re.compile(r"accuracy|(?:^|[_ /])acc(?:$|[_ /](?!step))|top[-_ ]?1(?!\d)|acc@1(?!\d)", re.IGNORECASE)
_HELDOUT = re.compile(r"(?:^|[_ /.-])(?:eval|val|vali|valid|validation|test|dev)(?:$|[_ /.-])", re.IGNORECASE)


@dataclass
class UnmeasuredLoss:
    accuracy: Series
    points: int  # steps where the loss is ~0 and the accuracy under ACC_CONTRADICTS
    acc_median: float  # as a fraction
    evidence: str


def _train_accuracy(run: Run) -> Series | None:
    for name in sorted(run.metrics):
        if _ACC.search(name) and not _HELDOUT.search(name) and "top5" not in name.lower().replace("-", ""):
            return run.metrics[name]
    return None


def unmeasured_loss(run: Run) -> UnmeasuredLoss | None:
    """The training loss ~0 (<= ZERO_LOSS) at >= MIN_POINTS steps where the training accuracy logged at the same
    step is under ACC_CONTRADICTS (module docstring); None otherwise."""
    return stats.cached(run, "unmeasured_loss", lambda: _unmeasured_loss(run))


def _unmeasured_loss(run: Run) -> UnmeasuredLoss | None:
    loss, acc = loss_series(run), _train_accuracy(run)
    if loss is None or acc is None:
        return None
    ls, lv = loss.finite()
    as_, av = acc.finite()
    if lv.size < MIN_POINTS or av.size < MIN_POINTS:
        return None
    scale = 100.0 if float(np.max(np.abs(av))) > 1.0 else 1.0  # logs print 0.18 or 18 %
    common, il, ia = np.intersect1d(ls, as_, return_indices=True)
    lo, ao = lv[il], av[ia] / scale
    hit = (np.abs(lo) <= ZERO_LOSS) & (ao < ACC_CONTRADICTS)
    n = int(hit.sum())
    if n < MIN_POINTS:
        return None
    med = float(np.median(ao[hit]))
    return UnmeasuredLoss(acc, n, med, (
        f"the training loss is ~0 (<= {ZERO_LOSS:g}) at {n} points where the training accuracy is a median "
        f"{med:.3g} {cite_series(loss)} {cite_series(acc)}: a cross-entropy of 1e-4 forces an accuracy >= 0.9998 "
        f"(a sample whose correct class has p <= 0.5 costs >= ln 2), so the loss no longer measures the model's "
        f"predictions (float16 underflow, a NaN reported as 0, a loss over no targets); a trivial target would be "
        f"learned, its accuracy going to 1 with its loss"))
