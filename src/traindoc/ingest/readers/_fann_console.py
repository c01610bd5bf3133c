"""FANN (Fast Artificial Neural Network library, C) `fann_train_on_data` / `fann_train_on_file` reports.

With a report interval set (`epochs_between_reports`), FANN prints the run's target once and then one line per
report:

    Max epochs     1000. Desired error: 0.0000000000.
    Epochs            1. Current error: 0.2981990576. Bit fail 4.
    Epochs           56. Current error: 0.0000285224. Bit fail 0.

(the language bindings -- Python, Node, PHP -- print the same lines, and some callbacks leave out the bit-fail
count). "Current error" is the mean squared error over the training data after that epoch (`fann_get_MSE`), the
criterion FANN's trainers descend: it is the training `loss`. "Bit fail" counts the training outputs farther than
the bit-fail limit from their target, an error count, kept as `bit_fail`. The generic reader took nothing from these
lines (the numbers sit after words ending in a full stop), so a FANN run was unreadable. The "Max epochs" line is the
run's configuration, not a point, and is left to the other readers.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, epoch_loss_line

_LINE = re.compile(rf"^Epochs\s+(\d+)\.\s+Current error:\s*({NUM})\.?(?:\s+Bit fail\s+(\d+)\.?)?\s*$")


def parse_fann(line: str, st: State) -> Record | None:
    """A FANN epoch report (module docstring), or None for any other line."""
    got = epoch_loss_line(_LINE, line, st)
    if got is None:
        return None
    m, epoch, metrics = got
    if m.group(3) is not None:
        metrics["bit_fail"] = float(m.group(3))
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
