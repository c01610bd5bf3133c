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

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^Epoch\s+#(\d+)\s+Error:\s*({NUM})\s*$")


def parse_encog(line: str, st: State) -> Record | None:
    """An Encog epoch line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    loss = parse_number(m.group(2))
    if loss is None:
        return None
    epoch = int(m.group(1))
    st.epoch = epoch
    return Record(epoch, {"loss": loss}, epoch=epoch, from_epoch=True)
