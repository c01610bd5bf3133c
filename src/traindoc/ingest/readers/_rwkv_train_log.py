"""RWKV-LM's `train_log.txt` (written by the RWKV-LM trainer's Lightning callback, RWKV-v4neo to RWKV-7).

At the end of each mini-epoch (`--epoch_steps` optimiser steps) the trainer appends one space-separated line:

    0 4.875856 131.0863 0.00059975 2025-04-24 02:23:42.481256 0
    1 4.028621 56.1834 0.00059899 2025-04-24 02:28:16.674463 1

the mini-epoch (`epoch_begin` + the epoch of this run), the mean training loss over the mini-epoch, its perplexity
exp(loss), the learning rate, the time, and the epoch within this run (0 again after a resume). The loss is read as
`loss` and the LR as `lr`, stepped by the first column (an epoch counter: each step is a whole mini-epoch); the
perplexity repeats the loss and is not read. A line is this format's only when its third number is exp of its second
(to the four to six significant digits printed), so no other table of bare numbers is taken for it. The `NEW RUN`
header and the argument dict the trainer writes at each start are configuration, not points. The generic reader
took nothing from these lines (bare numbers, no names).
"""

from __future__ import annotations

import math
import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^(\d+) ({NUM}) ({NUM}) ({NUM}) \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (\d+)$")
# the perplexity is printed with 4 decimals (`:.4f`) from a loss printed with 6: exp() of the printed loss matches it
# to 0.1 % over the losses a language model logs (the loss's rounding, 5e-7, moves exp() by 5e-5 %)
PPL_TOLERANCE = 1e-3


def parse_rwkv_train_log(line: str, st: State) -> Record | None:
    """One mini-epoch line of RWKV-LM's train_log.txt (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    loss, ppl, lr = (parse_number(m.group(i)) for i in (2, 3, 4))
    if loss is None or ppl is None or lr is None:
        return None
    if math.isfinite(loss) and loss < 700:  # exp() overflows past ~709; a NaN loss prints a NaN perplexity
        if not math.isclose(math.exp(loss), ppl, rel_tol=PPL_TOLERANCE, abs_tol=1e-4):
            return None
    elif not (math.isnan(loss) and math.isnan(ppl)) and not math.isinf(ppl):
        return None
    epoch = int(m.group(1))
    return Record(epoch, {"loss": loss, "lr": lr}, epoch=epoch, from_epoch=True)
