"""Nervana neon (1.x/2.x) console: the progress bar's closing line and the callbacks' epoch summary.

`Model.fit` with `ProgressBarCallback` ends each epoch's bar with the epoch's training cost and, when an evaluation
set is given, the loss on it in a second bracket; the default callbacks then log the epoch's costs:

    Epoch 0   [Train |██████████|  696/696  batches, 0.74 cost, 638.26s] [CrossEntropyBinary Loss 0.72, 147.45s]
    2017-03-19 23:44:46,501 - neon.callbacks.callbacks - INFO - Epoch 0 complete.  Train Cost 0.773655.  Eval Cost
    0.716362

(the bar shortened here, the summary folded here; both are one line in the log).

The generic reader kept the bracket's loss under its cost-function name ("CrossEntropyBinary Loss") and the summary's
"Eval Cost", but not the training cost, so the run had no training loss. Read here: the step is the epoch (neon counts
from 0); the bar's "x cost" and the summary's "Train Cost" are the training `loss` (the summary's, printed to more
digits, is the later line of the epoch and keeps the step), the bracket's loss and "Eval Cost" the `val_loss`. A bar
caught before its last batch (a running cost over part of an epoch) is no epoch point and is left alone.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_BAR = re.compile(
    rf"^Epoch\s+(\d+)\s+\[Train\s*\|[^|]*\|\s*(\d+)/(\d+)\s+batches,\s*({NUM})\s+cost,\s*{NUM}s\]"
    rf"(?:\s*\[[^\]]*?\bLoss\s+({NUM}),\s*{NUM}s\])?"
)
_SUMMARY = re.compile(rf"\bEpoch\s+(\d+)\s+complete\.\s+Train Cost\s+({NUM})\.?(?:\s+Eval Cost\s+({NUM})\.?)?\s*$")


def parse_neon(line: str, st: State) -> Record | None:
    """A neon epoch line (module docstring), or None for any other line."""
    text = line.strip()
    metrics: dict[str, float] = {}
    m = _BAR.match(text)
    if m is not None:
        if m.group(2) != m.group(3):
            return None
        epoch, train, held = int(m.group(1)), m.group(4), m.group(5)
    else:
        m = _SUMMARY.search(text)
        if m is None:
            return None
        epoch, train, held = int(m.group(1)), m.group(2), m.group(3)
    if (v := parse_number(train)) is not None:
        metrics["loss"] = v
    if held is not None and (v := parse_number(held)) is not None:
        metrics["val_loss"] = v
    if not metrics:
        return None
    st.epoch = epoch
    # an explicit step (not from_epoch): the bar and the summary are two lines of one epoch, not two batches
    return Record(epoch, metrics, epoch=epoch)
