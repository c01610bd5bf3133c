"""Encog (Java / C#) training loops: `Epoch #N Error:x`.

Encog's examples and most user code around them train with `train.iteration()` in a loop and print
`"Epoch #" + epoch + " Error:" + train.getError()`:

    Epoch #1 Error:0.5557190004909449
    Epoch #4999 Error:0.00607827858207903

`getError()` is the training-set error of the last iteration (the mean squared error for Encog's propagation
trainers), the criterion the trainer descends: the training `loss`. The generic reader kept it as a metric named
"Error", which no rule reads as a loss, so the run read as healthy on no loss at all. The step is the epoch number
as printed.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, epoch_loss_line

_LINE = re.compile(rf"^Epoch\s+#(\d+)\s+Error:\s*({NUM})\s*$")


def parse_encog(line: str, st: State) -> Record | None:
    """An Encog epoch line (module docstring), or None for any other line."""
    got = epoch_loss_line(_LINE, line, st)
    if got is None:
        return None
    _, epoch, metrics = got
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
