"""The text-recognition trainer of clovaai's deep-text-recognition-benchmark and its forks (EasyOCR's `trainer/`):
its `log_train.txt`.

Every `valInterval` iterations the trainer validates and appends one block to `saved_models/<name>/log_train.txt`:

    [20000/300000] Train loss: 0.30092, Valid loss: 1.49355, Elapsed_time: 1935.90580
    Current_accuracy : 60.039, Current_norm_ED  : 0.8185
    Best_accuracy    : 60.039, Best_norm_ED     : 0.8185
    --------------------------------------------------------------------------------
    Ground Truth              | Prediction                | Confidence Score & T/F
    --------------------------------------------------------------------------------
    TROY                      | TROY                      | 0.4822	True

`[i/N]` is the iteration and the run's total; `Train loss` is the mean training loss since the last validation and
`Valid loss` the validation loss, read as `loss` and `val_loss` at step i. `Current_accuracy` is the validation word
accuracy in percent, read as `val_accuracy` at the same step. `Current_norm_ED` is not read: the trainer's versions
disagree on its direction (the original sums edit distances, lower is better; later ones and EasyOCR's average
1 - normalised distance, higher is better), and no line says which. The `Best_` line is a running maximum, not a
measurement, and the prediction table (ground truth, prediction, confidence) holds sample strings, not metrics: both
are claimed so that no other parser reads them. A fork prints the iteration inside an epoch,
`epoch : e [i/N] Train loss: x,Valid loss: y, time : t lr : r`; its step is e * N + i and the learning rate is read.

The generic rules read the block's `key : value` pairs with the line order as the step and the `Best_` running
maximum as a series of its own: a public EasyOCR trainer log (issue 8, session 33; its excerpt is in
tests/test_ingest_dtrb_console.py) was read so blind, its 14 validations on steps 1..42.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_HEAD = re.compile(
    rf"^(?:epoch\s*:\s*(\d+)\s+)?\[(\d+)/(\d+)\]\s+Train loss:\s*({NUM}),\s*Valid loss:\s*({NUM}),?"
    rf"\s*(?:Elapsed_time|time)\s*:\s*{NUM}(?:\s+lr\s*:\s*({NUM}))?\s*$"
)
_CURRENT = re.compile(rf"^Current_accuracy\s*:\s*({NUM}),\s*Current_norm_ED\s*:\s*{NUM}\s*$")
_BEST = re.compile(rf"^Best_accuracy\s*:\s*{NUM},\s*Best_norm_ED\s*:\s*{NUM}\s*$")
_TABLE_HEAD = re.compile(r"^Ground Truth\s*\|\s*Prediction\s*\|\s*Confidence Score & T/F$")
_RULE = re.compile(r"^-{20,}$")
_TABLE_ROW = re.compile(r"\|.*\|\s*[\d.]+\s+(?:True|False)$")


def parse_dtrb(line: str, st: State) -> Record | None:
    """One line of a deep-text-recognition-benchmark log (module docstring), or None for any other line."""
    text = line.strip()
    m = _HEAD.match(text)
    if m is not None:
        loss, val_loss = parse_number(m.group(4)), parse_number(m.group(5))
        if loss is None or val_loss is None:
            return None
        it, total = int(m.group(2)), int(m.group(3))
        step = it
        if m.group(1) is not None:  # the fork's per-epoch iteration
            st.epoch = int(m.group(1))
            step = st.epoch * total + it
        st.last_step = step
        st.extra["dtrb"] = True
        metrics = {"loss": loss, "val_loss": val_loss}
        lr = parse_number(m.group(6)) if m.group(6) is not None else None
        if lr is not None:
            metrics["lr"] = lr
        return Record(step, metrics)
    if not st.extra.get("dtrb") or st.last_step is None:
        return None
    m = _CURRENT.match(text)
    if m is not None:
        acc = parse_number(m.group(1))
        if acc is None:
            return Record(None, claimed=True)
        return Record(st.last_step, {"val_accuracy": acc}, eval=True)
    if _BEST.match(text) or _TABLE_HEAD.match(text) or _RULE.match(text) or _TABLE_ROW.search(text):
        return Record(None, claimed=True)
    return None
