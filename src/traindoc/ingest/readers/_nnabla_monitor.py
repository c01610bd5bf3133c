"""NNabla (Sony's Neural Network Libraries) `nnabla.monitor.MonitorSeries` console lines.

A `MonitorSeries(name, monitor, interval=N)` averages the values added to it over N calls and logs the mean through
NNabla's logger, one series per line, the name in braces:

    2019-07-05 14:26:26,885 [nnabla][INFO]: iter=199 {Training loss}=1.5021580457687378
    2019-07-05 14:26:28,756 [nnabla][INFO]: iter=200 {Test error}=0.5384837962962963

(`MonitorTimeElapsed` logs `iter=199 {Training time}[sec]=27.3[sec/200iter]` the same way; the finetuning tutorial
and the examples name their series "Training loss", "Training error", "Test loss", "Test error", "Validation
error"...). The generic rules find no `key: value` pair there (the name is in braces, after the counter), so such a
log was read as nothing at all ("no metric, warning or error lines recognised").

Read here: the step is `iter`; the braced name is split into its phase and its measure. A name that starts with a
held-out phase word (test, validation, valid, val, eval) is held out (`test_loss`, `val_error`); one that starts
with "train"/"training", or with none, is the training series (`loss`, `train_error`; an error keeps its `train_`
prefix since a bare "error" names no split). The measure keeps its own words joined by underscores ("Test top-5
error" -> `test_top_5_error`). Timing series (`[sec]` after the name) measure the machine, not the model, and are
left out.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^(?:\[nnabla\]\[\w+\]:\s*)?iter=(\d+)\s+\{{([^{{}}]+)\}}=({NUM})\s*$")
_HELD_OUT = {"test": "test_", "validation": "val_", "valid": "val_", "val": "val_", "eval": "val_",
             "evaluation": "val_"}
_TRAIN = ("train", "training")


def metric_name(braced: str) -> str | None:
    """The series name for a MonitorSeries name (module docstring), or None when nothing is left to name."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", braced.lower()) if w]
    if not words:
        return None
    prefix = ""
    if words[0] in _HELD_OUT:
        prefix = _HELD_OUT[words.pop(0)]
    elif words[0] in _TRAIN:
        words.pop(0)
    if not words:
        return None
    measure = "_".join(words)
    if not prefix and measure != "loss" and measure.endswith(("error", "accuracy", "acc")):
        prefix = "train_"
    return prefix + measure


def parse_nnabla_monitor(line: str, st: State) -> Record | None:
    """A MonitorSeries line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    name = metric_name(m.group(2))
    value = parse_number(m.group(3))
    if name is None or value is None:
        return None
    step = int(m.group(1))
    st.last_step = step
    return Record(step, {name: value}, eval=name.startswith(("test_", "val_")))
