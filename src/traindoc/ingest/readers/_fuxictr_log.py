"""FuxiCTR's training log (the CTR-prediction library behind the BARS benchmark): epoch banners, `Train loss`, and a
`[Metrics]` line per evaluation.

    2022-02-10 19:31:21,867 P1904 INFO ************ Epoch=1 start ************
    2022-02-10 19:31:33,917 P1904 INFO [Metrics] AUC: 0.937016 - logloss: 0.677712
    2022-02-10 19:31:33,925 P1904 INFO Save best model: monitor(max): 0.937016
    2022-02-10 19:31:34,133 P1904 INFO Train loss: 0.376398
    2022-02-10 19:31:34,133 P1904 INFO ************ Epoch=1 end ************
    ...
    2022-02-10 19:34:19,614 P1904 INFO Training finished.
    2022-02-10 19:34:19,652 P1904 INFO ****** Validation evaluation ******
    2022-02-10 19:34:21,761 P1904 INFO [Metrics] AUC: 0.985168 - logloss: 0.142101
    2022-02-10 19:34:22,024 P1904 INFO ******** Test evaluation ********

Older releases open only the first epoch with `Epoch=N start` and close every epoch with `Epoch=N end`; newer ones
print both banners every epoch and `Train loss @epoch N: x`. The epoch a line belongs to is the one the last banner
opened (a start banner, or the epoch after the last end banner); the step is that epoch. `Train loss` is the epoch's
mean training loss (`loss`); the `[Metrics]` line inside an epoch scores the validation set (FuxiCTR's `valid_data`),
read as held-out: `logloss` (the binary cross-entropy the model trains on) as `val_loss`, every other metric as
`val_<name>` (`AUC` -> `val_auc`; a top-k metric `Recall(k=20)` -> `val_recall@20`). After `Training finished.` the
best checkpoint is scored again on the validation set and once on the test set: a re-evaluation of a step already
read, not an epoch, so those lines hold no point here. The generic rules read this log as `AUC`, `logloss` and a loss
named `INFO Train loss`, stepped by line order, with the two post-training evaluations as two more epochs (issue 8,
session 31: tests/corpus/realworld/bars-fuxictr-deepfm-frappe-15ep, blind).

Guards: the logger's own `P<pid> INFO` head (or none), a `[Metrics]` line made only of ` - `-separated `Name: value`
pairs, and no line read before the first epoch banner (a `[Metrics]` line elsewhere is some other tool's).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_HEAD = r"^(?:P\d+\s+)?(?:INFO\s+)?"
_BANNER = re.compile(rf"{_HEAD}\*+ Epoch=(\d+) (start|end) \*+$")
_TRAIN_LOSS = re.compile(rf"{_HEAD}Train loss(?: @epoch (\d+))?: ({NUM})$")
_METRICS = re.compile(rf"{_HEAD}\[Metrics\] (.+)$")
_PAIR = re.compile(rf"^([A-Za-z][\w@]*(?:\(k=\d+\))?): ({NUM})$")
_AFTER = re.compile(rf"{_HEAD}(?:Training finished\.|\*+ (?:Validation|Test) evaluation \*+)$")
_EPOCH = "fuxictr_epoch"


def _metrics(body: str) -> dict[str, float] | None:
    out: dict[str, float] = {}
    for part in body.split(" - "):
        m = _PAIR.match(part.strip())
        if m is None:
            return None
        value = parse_number(m.group(2))
        if value is None:
            continue
        name = re.sub(r"\(k=(\d+)\)$", r"@\1", m.group(1)).lower()
        out["val_loss" if name == "logloss" else f"val_{name}"] = value
    return out


def parse_fuxictr(line: str, st: State) -> Record | None:
    """A FuxiCTR log line with a value (module docstring), or None for any other line."""
    text = line.strip()
    b = _BANNER.match(text)
    if b is not None:
        epoch = int(b.group(1))
        st.extra[_EPOCH] = epoch if b.group(2) == "start" else epoch + 1
        return None
    if _AFTER.match(text):
        st.extra["fuxictr_after"] = True
        return None
    epoch = st.extra.get(_EPOCH)
    if epoch is None:
        return None
    t = _TRAIN_LOSS.match(text)
    if t is not None:
        if t.group(1) is not None:
            epoch = int(t.group(1))
        value = parse_number(t.group(2))
        return Record(epoch, {"loss": value}, epoch=epoch, from_epoch=True) if value is not None else None
    m = _METRICS.match(text)
    if m is None:
        return None
    metrics = _metrics(m.group(1))
    if not metrics:
        return None
    if st.extra.get("fuxictr_after"):
        return Record(None, {}, claimed=True)
    return Record(epoch, metrics, eval=True, epoch=epoch, from_epoch=True)
