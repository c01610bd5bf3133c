"""MiniTorch's training interface log: `Epoch: e/N, loss: x, correct: c`.

MiniTorch (Cornell Tech's teaching library) trains its scalar and tensor networks on the 2-D toy data sets (Simple,
Diag, Split, Xor, Circle, Spiral) through a Streamlit page, `project/interface/train.py`, which logs every tenth
epoch as

    Epoch: 10/500, loss: 34.600551289244024, correct: 26

the loss summed over the data set's points and `correct` the number of them classified right, and calls its log
function once before training, `log_fn(0, 0, 0, [0])`, which prints `Epoch: 0/500, loss: 0, correct: 0`. The
course's READMEs paste this log. The generic `key: value` rules read it, the line before training too: a loss of
exactly 0 at epoch 0, 34.6 at epoch 10 (tests/corpus/realworld/g3s32-minitorch-mod2-simple-500ep). Here that line
is the family's own and no point; the others are read at their epoch, `correct` under its printed name (a count of
points, no fraction: the data set's size is not printed).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^Epoch:\s*(\d+)/(\d+),\s*loss:\s*({NUM}),\s*correct:\s*(\d+)$")


def parse_minitorch(line: str, st: State) -> Record | None:
    """A MiniTorch interface log line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    epoch, loss, correct = int(m.group(1)), parse_number(m.group(3)), int(m.group(4))
    if loss is None:
        return None
    if epoch == 0 and loss == 0 and correct == 0:
        return Record(None, claimed=True)  # the interface's log_fn(0, 0, 0, [0]) before training
    return Record(epoch, {"loss": loss, "correct": float(correct)}, epoch=epoch)
