"""The per-epoch print of `network.py`, the NumPy network of Michael Nielsen's book *Neural Networks and Deep
Learning*: `Epoch j: c / n`.

`Network.SGD(training_data, epochs, mini_batch_size, eta, test_data=test_data)` evaluates the network on the test
data after every epoch and prints how many of the n test images it classifies correctly:

    Epoch 0: 9129 / 10000
    Epoch 1: 9295 / 10000

The book's own transcripts (chapter 1) and the many copies of its code print exactly this line, epochs counted from
0. The count over the total is the held-out accuracy after epoch j, read as `test_accuracy` at step j; the program
prints no loss. The generic rules read nothing here (no `key: value` whose value is one number). First met in a
real-world faulty log (issue 8, session 30: tests/corpus/realworld/g3-nndl-ch1-eta-100-accuracy-at-chance-lr-too-high),
unreadable blind.

Guards: the whole line is the print (a line with more on it, such as a copy that appends its own `Accuracy score: x`,
is left to the other rules); the count is at most the total and the total is positive; the epoch counts up (a
repeated or earlier epoch is a second run's line, not this one's).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State

_EPOCH = re.compile(r"^Epoch\s+(\d{1,9}):\s+(\d{1,12})\s*/\s*(\d{1,12})$")


def parse_nielsen_network(line: str, st: State) -> Record | None:
    """An `Epoch j: c / n` line (module docstring) as the test accuracy c/n at epoch j; None for any other line."""
    m = _EPOCH.match(line.strip())
    if m is None:
        return None
    epoch, correct, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if total <= 0 or correct > total:
        return None
    last = st.extra.get("nielsen_epoch")
    if isinstance(last, int) and epoch <= last:
        return None
    st.extra["nielsen_epoch"] = epoch
    st.epoch = epoch
    return Record(epoch, {"test_accuracy": correct / total}, eval=True, epoch=epoch, from_epoch=True)
