"""GluonTS's MXNet `Trainer` log: `Epoch[e] Learning rate is x` and `Epoch[e] Evaluation metric 'epoch_loss'=x`.

GluonTS (the MXNet estimators, `gluonts.trainer` / `gluonts.mx.trainer`) logs each epoch through the logging module
(`INFO:root:` or `[INFO] gluonts.trainer` before the text) and draws a tqdm bar whose postfix is the running mean of
the epoch's loss:

    INFO:root:Epoch[0] Learning rate is 0.001
    100%|██████████| 100/100 [00:01<00:00, 99.55it/s, avg_epoch_loss=5.41]
    INFO:root:Epoch[0] Elapsed time 1.009 seconds
    INFO:root:Epoch[0] Evaluation metric 'epoch_loss'=5.412240
    INFO:root:Epoch[1] Learning rate is 0.001
    ...
    INFO:root:Final loss: 4.639415121078491 (occurred at epoch 3)

`epoch_loss` is the training loss of epoch e (the mean negative log-likelihood of the forecast distribution), and
`validation_epoch_loss` the same on the validation data when one is given; the learning rate is the one the epoch
ran at. Epochs count from 0; the record's step is the epoch. Read blind (issue 8, session 29:
tests/corpus/realworld/gluonts-tutorial-simplefeedforward-m4-hourly-5-epochs), the bars went to the Lightning-bar
reader, which stepped every finished bar at 100 (its n of 100): five epochs became one loss point, and the
diagnosis had too little data.

The bar is not read: it only rounds the running mean of the loss that the epoch's `Evaluation metric` line gives
exactly (the Lightning-bar reader passes over a bar whose only postfix is `avg_epoch_loss`). `Final loss` repeats the
best epoch's value and is not read either.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LR = re.compile(rf"(?:^|[\s:\]])Epoch\[(\d+)\] Learning rate is ({NUM})$")
_METRIC = re.compile(rf"(?:^|[\s:\]])Epoch\[(\d+)\] Evaluation metric '(validation_)?epoch_loss'=({NUM})$")


def parse_gluonts_trainer(line: str, st: State) -> Record | None:
    """An epoch's learning rate or its evaluated loss (module docstring); None for any other line."""
    text = line.strip()
    m = _LR.search(text)
    if m:
        lr = parse_number(m.group(2))
        st.epoch = int(m.group(1))
        return Record(st.epoch, {"lr": lr}, epoch=st.epoch, from_epoch=True) if lr is not None else None
    m = _METRIC.search(text)
    if m:
        epoch, value = int(m.group(1)), parse_number(m.group(3))
        if value is None:
            return None
        st.epoch = epoch
        if m.group(2):
            return Record(epoch, {"eval_loss": value}, eval=True, epoch=epoch, from_epoch=True)
        return Record(epoch, {"loss": value}, epoch=epoch, from_epoch=True)
    return None
