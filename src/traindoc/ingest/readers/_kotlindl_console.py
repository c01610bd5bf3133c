"""KotlinDL's training console: its `fit()` logs one line per epoch through SLF4J, and `evaluate()` returns a data
class that scripts print.

    [main] INFO org.jetbrains.kotlinx.dl.api.core.GraphTrainableModel - epochs: 1 loss: 1.5531934 metric: 0.91681665
    o.j.kotlinx.dl.api.core.Sequential - epochs: 10 loss: 0.023344817 metric: 0.9952095
    EvaluationResult(lossValue=1.4855552911758423, metrics={ACCURACY=0.97607421875})

The logger's name (the full class name, or Logback's abbreviated `o.j.kotlinx...`) precedes ` - `; the line is
`epochs: N loss: x metric: y`, the epoch's mean training loss and the mean of the compiled metric, which the line
does not name (accuracy in the library's examples, but a regression compiles MAE or MSE), so it keeps its printed
name `metric`. Later releases print the metrics as a list (`metric: [0.91]`) and, with validation data,
`val loss: v val metrics: [m]` after them: the list's values are read in order (`metric`, `metric_2`, ...).

`EvaluationResult(...)` is the held-out evaluation the script ran after training: its loss and the named metrics
(`ACCURACY`, `MAE`) are read as test-set points at the last epoch. The generic reader took the epoch lines but read
the evaluation line as training series (`lossValue`, and an `accuracy` point among the training epochs).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import (
    KEY_CHAR,
    KEY_START,
    NUM,
    Record,
    State,
    findall_keyed,
    parse_number,
)

_LIST = r"\[[^\]]*\]"
_EPOCH = re.compile(
    rf"^(?:\S.*?\s-\s)?epochs: (\d+) loss: ({NUM}) metric: ({NUM}|{_LIST})"
    rf"(?: val loss: ({NUM}) val metrics: ({_LIST}))?\s*$")
_EVAL = re.compile(rf"^EvaluationResult\(lossValue=({NUM}), metrics=\{{([^}}]*)\}}\)\s*$")
_NAMED = re.compile(rf"([A-Za-z_][\w]*)=({NUM})")


def _values(raw: str) -> list[float] | None:
    """The number, or the numbers of a printed Kotlin list; None when one is not a number."""
    parts = raw[1:-1].split(",") if raw.startswith("[") else [raw]
    out = [parse_number(p.strip()) for p in parts if p.strip()]
    return None if not out or any(v is None for v in out) else [v for v in out if v is not None]


def _put_list(metrics: dict[str, float], base: str, values: list[float]) -> None:
    for i, v in enumerate(values):
        metrics[base if i == 0 else f"{base}_{i + 1}"] = v


def parse_kotlindl(line: str, st: State) -> Record | None:
    """A KotlinDL epoch line or a printed EvaluationResult (module docstring), or None for any other line."""
    text = line.strip()
    m = _EPOCH.match(text)
    if m is not None:
        loss = parse_number(m.group(2))
        metric = _values(m.group(3))
        if loss is None or metric is None:
            return None
        metrics: dict[str, float] = {"loss": loss}
        _put_list(metrics, "metric", metric)
        if m.group(4) is not None:
            val_loss, val_metric = parse_number(m.group(4)), _values(m.group(5))
            if val_loss is not None:
                metrics["val_loss"] = val_loss
            if val_metric is not None:
                _put_list(metrics, "val_metric", val_metric)
        st.epoch = int(m.group(1))
        return Record(st.epoch, metrics, epoch=st.epoch, from_epoch=True)
    m = _EVAL.match(text)
    if m is None or st.epoch is None:  # an evaluation with no training before it: not this console
        return None
    loss = parse_number(m.group(1))
    if loss is None:
        return None
    metrics = {"test_loss": loss}
    # findall's pairs in linear time: a long name with no `=` after it is scanned once, not from each of its letters
    for name, raw in findall_keyed(_NAMED, m.group(2), "=", KEY_CHAR, KEY_START):
        value = parse_number(raw)
        if value is not None:
            metrics[f"test_{name.lower()}"] = value
    return Record(None, metrics, eval=True)
