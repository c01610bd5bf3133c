"""The epoch line of Informer and the Time-Series-Library family (Autoformer, FEDformer, TimesNet, PatchTST...).

Their `exp_main.py` / `exp_long_term_forecasting.py` print, after each epoch,

    Epoch: 3, Steps: 9 | Train Loss: 0.4123 Vali Loss: 0.5234 Test Loss: 0.6345

where `Steps` is `len(train_loader)`, the number of batches of every epoch: the same number on every line, not a
counter. The generic rules took it for the step, so every epoch landed on step 9 and a whole run read as one point,
and the stepless `Updating learning rate to x` lines after it all went to that one step as well.

Read here: the line closes epoch `e` after `e * Steps` batches, which is its step (the `\titers: i, epoch: e | loss:
x` lines the same scripts print every 100 batches are the generic rules' and keep their own reading); `Train Loss`
is the training loss, `Vali Loss` the validation loss, `Test Loss` the test-split loss. The scripts' LR schedule
(`adjust_learning_rate`) prints `Updating learning rate to 5e-05` after the epoch: read as the LR, at the step of
the epoch line before it (a line without a step of its own), since in a log of this family the generic rules that
read it elsewhere are not consulted.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(
    rf"^Epoch:\s*(\d+),\s*Steps:\s*(\d+)\s*\|\s*Train Loss:\s*({NUM})\s+Vali(?:d|dation)? Loss:\s*({NUM})"
    rf"(?:\s+Test Loss:\s*({NUM}))?\s*$", re.I)

_LR = re.compile(rf"^Updating learning rate to\s+({NUM})\s*$")


def parse_tslib_epoch(line: str, st: State) -> Record | None:
    """An epoch line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        lr = _LR.match(line.strip())
        v = parse_number(lr.group(1)) if lr is not None else None
        return Record(None, {"lr": v}) if v is not None else None
    epoch, steps = int(m.group(1)), int(m.group(2))
    metrics: dict[str, float] = {}
    for key, raw in (("loss", m.group(3)), ("val_loss", m.group(4)), ("test_loss", m.group(5))):
        v = parse_number(raw) if raw is not None else None
        if v is not None:
            metrics[key] = v
    if "loss" not in metrics:
        return None
    return Record(epoch * max(steps, 1), metrics, epoch=epoch)
