"""Torch7's `nn.StochasticGradient` trainer, verbose: `# current error = x` once per epoch.

The Lua `nn` package's built-in trainer (`trainer = nn.StochasticGradient(net, criterion); trainer:train(set)`) prints

    # StochasticGradient: training
    # current error = 0.21806134158785
    # current error = 0.1968732223494
    ...
    # StochasticGradient: you have reached the maximum number of iterations
    # training error = 0.083430811335054

`current error` is the criterion's mean over the epoch's samples (nn/StochasticGradient.lua divides the summed
`criterion:forward` values by the dataset size): the training `loss` of that epoch, one line per epoch (Torch7 prints a
trailing tab after the number). `training error` repeats the last epoch's value once training stops, so it is not read
again. The generic rules kept the values as a metric "current error", which no rule reads as a loss (issue 8,
session 29: tests/corpus/realworld/geo-learning-torch7-stochasticgradient-cnn-50-epochs, read blind as healthy on no
loss at all).

The step is the epoch, counted from 1 from the first `current error` line of the file (or of each `training` banner:
a second trainer:train call in the same file starts its own count, its lines are not read, as other loops' readers do).
The leading `#` is optional (a capture pasted as comments loses it to the reader's uncommenting).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_BANNER = re.compile(r"^#?\s*StochasticGradient: training\s*$")
_EPOCH = re.compile(rf"^#?\s*current error = ({NUM})\s*$")


def parse_torch7_stochastic_gradient(line: str, st: State) -> Record | None:
    """One `current error` line as the next epoch's training loss; the banner is remembered; None otherwise."""
    text = line.strip()
    if _BANNER.match(text):
        st.extra["t7sg_banners"] = st.extra.get("t7sg_banners", 0) + 1
        return None
    m = _EPOCH.match(text)
    if m is None or st.extra.get("t7sg_banners", 0) > 1:
        return None  # another line, or a second training run in the same file
    loss = parse_number(m.group(1))
    if loss is None:
        return None
    epoch = st.extra.get("t7sg_epoch", 0) + 1
    st.extra["t7sg_epoch"] = epoch
    st.epoch = epoch
    return Record(epoch, {"loss": loss}, epoch=epoch, from_epoch=True)
