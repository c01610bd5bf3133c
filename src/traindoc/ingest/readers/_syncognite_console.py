"""syncognite (a C++/Eigen neural-network library) training consoles: `Ep: N, Time: Ts, (Ts test) loss:x ...`.

Its MNIST / CIFAR-10 test programs print one line per epoch and a block of final results:

    Ep: 1, Time: 155s, (16s test) loss:0.1003 err(val):0.0197 acc(val):0.9803
    Final results on MNIST after 40.0000 epochs:
          Train-error: 0.0001 train-acc: 0.9999
     Validation-error: 0.0059   val-acc: 0.9941
           Test-error: 0.0066  test-acc: 0.9934

`loss` is the epoch's training loss; `err(val)` and `acc(val)` are the validation set's error rate and accuracy after
the epoch (they sum to 1), read as `val_error` and `val_accuracy`; the times are not metrics. The final block
re-evaluates the last model once per split, one point each at the last epoch: its validation row repeats the last
epoch's columns and its test accuracy would land in the same held-out accuracy series at the same step, so the block
is not read. The generic reader kept the loss and the epoch time but not the validation columns (a key in
parentheses), and the final block as one-point series, so the run read as a training loss with no held-out curve.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_EPOCH = re.compile(
    rf"^Ep:\s*(\d+),\s*Time:\s*[\d.]+s,\s*\([\d.]+s test\)\s*loss:\s*({NUM})"
    rf"(?:\s+err\(val\):\s*({NUM}))?(?:\s+acc\(val\):\s*({NUM}))?\s*$"
)


def parse_syncognite(line: str, st: State) -> Record | None:
    """A syncognite epoch line (module docstring), or None for any other line."""
    text = line.strip()
    m = _EPOCH.match(text)
    if m is not None:
        loss = parse_number(m.group(2))
        if loss is None:
            return None
        epoch = int(m.group(1))
        st.epoch = epoch
        metrics = {"loss": loss}
        for key, raw in (("val_error", m.group(3)), ("val_accuracy", m.group(4))):
            value = parse_number(raw) if raw is not None else None
            if value is not None:
                metrics[key] = value
        return Record(epoch, metrics, epoch=epoch, from_epoch=True)
    return None
