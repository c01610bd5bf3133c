"""Chemprop v1's training log (`verbose.log` in its save_dir, also its console; `chemprop_train`).

Each epoch opens with a banner, then a line every `log_frequency` batches and the epoch's validation score:

    Epoch 0
    Loss = 1.7687e+00, PNorm = 42.7364, GNorm = 1.1340, lr_0 = 5.1250e-04
    Validation rmse = 1.496992

`Loss` is the mean training loss over the batches since the last line, `PNorm` / `GNorm` the parameter and gradient
norms and `lr_0` the first parameter group's learning rate (chemprop.train.train); the validation line scores the
epoch's model on the validation split with the run's `--metric` (rmse, mae, auc, prc-auc, ...), read as `val_<metric>`.
The loss lines carry no counter: each is the next logging interval, the step; the validation line belongs to the
last of its epoch. The summaries after the last epoch (`Model 0 best validation rmse = ... on epoch 27`, the test
scores) repeat a point or score one model once, and are not read. The generic reader stepped the loss lines by the
epoch banner, keeping one of each epoch's lines, and read no validation score at all.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_EPOCH = re.compile(r"^Epoch (\d+)$")
_LOSS = re.compile(rf"^Loss = ({NUM}), PNorm = ({NUM}), GNorm = ({NUM}), lr_0 = ({NUM})$")
_VALID = re.compile(rf"^Validation ([\w-]+) = ({NUM})$")
_COUNT = "chemprop_lines"
_EPOCH_KEY = "chemprop_epoch"


def parse_chemprop_log(line: str, st: State) -> Record | None:
    """A chemprop epoch banner, loss line or validation line (module docstring), or None for any other line."""
    text = line.strip()
    m = _EPOCH.match(text)
    if m is not None:
        st.extra[_EPOCH_KEY] = int(m.group(1))
        return Record(None, {}, claimed=True)
    epoch = st.extra.get(_EPOCH_KEY)
    if epoch is None:
        return None
    m = _LOSS.match(text)
    if m is not None:
        values = [parse_number(g) for g in m.groups()]
        st.extra[_COUNT] = st.extra.get(_COUNT, 0) + 1
        metrics = {k: v for k, v in zip(("loss", "param_norm", "grad_norm", "lr"), values, strict=True)
                   if v is not None}
        return Record(st.extra[_COUNT], metrics, epoch=epoch) if metrics else None
    m = _VALID.match(text)
    if m is not None and _COUNT in st.extra:
        v = parse_number(m.group(2))
        if v is None:
            return None
        return Record(st.extra[_COUNT], {f"val_{m.group(1).replace('-', '_')}": v}, eval=True, epoch=epoch)
    return None
