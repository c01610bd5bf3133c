"""SpeechBrain's `train_log.txt` (speechbrain.utils.train_logger.FileTrainLogger), one line per epoch.

    epoch: 1, lr: 8.00e-04, steps: 2197, optimizer: AdamW - train loss: 1.71e+02 - valid loss: 1.06, valid WER: 1.00e+02
    epoch: 1, lr: 1.95e-05 - train loss: 1.39 - valid loss: 1.39, valid acc: 2.14e-01, valid cm: [[4 0 6 4]
     [6 0 6 2]
    epoch loaded: 862 - test loss: 5.71e-01, test f1: 7.80e-01, test acc: 7.81e-01, test cm: [[53 10  2  7]
    epoch loaded: 862 - valid loss: 8.68e-02, valid f1: 8.75e-01, valid acc: 8.75e-01, valid cm: [[11  3  0  0]

The logger writes the epoch's stats as `key: value` groups, one group per split joined by " - ", the split's name
before each key ("train loss", "valid acc"); a recipe's own epoch stats (lr, steps, optimizer) come first. After
training, `evaluate()` re-loads the best checkpoint and writes its stats after "epoch loaded: N" (SpeechBrain-MOABB
writes the test and then the validation stats of that checkpoint). A value that is an array (a confusion matrix)
runs on over the following lines.

Read blind (issue 8, session 29: tests/corpus/realworld/g36-speechbrain-moabb-eegnet-readme-train-log, the
SpeechBrain-MOABB README's example), the generic rules read the epoch lines, but took "epoch loaded: 862" for a
metric and, as those lines carry no step the rules accept, put the re-loaded checkpoint's validation stats at the
second line-order step: the validation loss read 1.39, 0.087, 1.39. Here an epoch line is one record at the
recipe's own `steps` counter when it prints one (the optimizer steps so far), else at the epoch; an "epoch loaded"
line is the final evaluation: its test stats at the checkpoint's epoch when the steps are epochs, else at the last
step read; its validation stats are kept only where the checkpoint's epoch lies past every epoch line read (the log
is an excerpt), since otherwise they repeat a validation already logged at that epoch. Non-numeric values (the
optimizer's name, a matrix) and the matrix's continuation lines are not read.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_EPOCH = re.compile(r"^epoch:\s*(\d+)\s*,\s*(.*)$")
_LOADED = re.compile(r"^epoch loaded:\s*(\d+)\s*-\s*(.*)$")
# "train loss: 1.39", "lr: 1.95e-05", "valid WER: 1.00e+02": a name of one or two words and a bare number
_KV = re.compile(rf"^\s*([A-Za-z][\w.]*(?: [A-Za-z][\w.@/-]*)?)\s*:\s*({NUM})\s*$")
_SPLITS = ("train", "valid", "test")
_NOT_METRICS = {"steps", "step", "epoch"}


def _groups(text: str) -> list[dict[str, float]]:
    """The " - "-joined groups of `key: value` pairs; a pair whose value is no bare number is left out."""
    out = []
    for group in text.split(" - "):
        pairs: dict[str, float] = {}
        for part in group.split(", "):
            m = _KV.match(part)
            if m is None:
                continue
            v = parse_number(m.group(2))
            if v is not None:
                pairs[m.group(1)] = v
        out.append(pairs)
    return out


def _split_of(name: str) -> str | None:
    head = name.split(" ", 1)[0].lower()
    return head if " " in name and head in _SPLITS else None


def parse_speechbrain_train_log(line: str, st: State) -> Record | None:
    """An epoch line or an "epoch loaded" line of a SpeechBrain train_log.txt (module docstring), else None."""
    text = line.strip()
    if not text.startswith("epoch"):
        return None
    x = st.extra
    m = _LOADED.match(text)
    if m is not None:
        return _loaded(int(m.group(1)), m.group(2), st)
    m = _EPOCH.match(text)
    if m is None or " - " not in m.group(2):
        return None  # the logger always joins the recipe's stats and a split's with " - "
    epoch = int(m.group(1))
    groups = _groups(m.group(2))
    head, splits = groups[0], groups[1:]
    if not splits or not all(_split_of(k) for g in splits for k in g):
        return None  # every group after the first is a split's, each key named by its split
    metrics = {k: v for k, v in head.items() if k.lower() not in _NOT_METRICS}
    for g in splits:
        metrics.update(g)
    if not metrics:
        return None
    steps = head.get("steps")
    step = int(steps) if steps is not None and steps >= 0 else epoch
    x["sb_counter"] = x.get("sb_counter", False) or steps is not None
    x["sb_last_epoch"] = max(epoch, x.get("sb_last_epoch", epoch))
    st.epoch = epoch
    st.last_step = step
    return Record(step, metrics, epoch=epoch, from_epoch=steps is None)


def _loaded(epoch: int, rest: str, st: State) -> Record | None:
    """The final evaluation of the re-loaded checkpoint of `epoch` (module docstring)."""
    x = st.extra
    last_epoch = x.get("sb_last_epoch")
    if last_epoch is None:
        return None  # no epoch line before it: not this logger's file
    pairs: dict[str, float] = {}
    for g in _groups(rest):
        pairs.update(g)
    keep_valid = epoch > last_epoch
    metrics = {k: v for k, v in pairs.items()
               if _split_of(k) == "test" or (keep_valid and _split_of(k) == "valid")}
    if not metrics:
        return None
    if x.get("sb_counter"):
        step = st.last_step
        return Record(step, metrics, eval=True)
    return Record(epoch, metrics, eval=True, epoch=epoch, from_epoch=True)
