"""Knet.jl-style progress tuples: Julia's `println((:epoch, e, :trn, x, :tst, y))`.

Knet's examples and tutorials report each epoch as a tuple of symbol / value pairs, printed as Julia prints it:

    (:epoch, 0, :trn, 0.7053912f0, :tst, 0.7054187f0)
    (:epoch, 10, :trn, 0.13503909f0, :tst, 0.13492692f0)
    (:iter, 100, :loss, 0.3127f0)

The first pair is the loop's counter (the step); the others are metrics, Float32 values printed with Julia's `f0`
exponent (`0.135f0` = 0.135e0). A symbol that names its metric (`:loss`, `:acc`, `:trnloss`) is read under its own
name. Knet's own `:trn` / `:tst` name only the split: the same examples print the training and test sets' loss
(the VAE, the linear regressions) or their accuracy (the MLP, LeNet and Fashion-MNIST examples) under them. An
accuracy here is a fraction, so a value above 1 is a loss; otherwise the first move of the training value tells:
a loss falls, an accuracy rises. Until one of these shows (the first tuple of most logs), the pair keeps its printed
names and no rule reads it. A tuple printed twice for the same counter (the examples print the last epoch again on
return) keeps its first reading. Julia's `@time` lines in between are timings, not metrics. The generic reader took
nothing from these lines (no `key: value` pair), so a Knet run was unreadable.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, canonical, parse_number

# a value's "[^,()]+" takes spaces too, so no "\s*" beside it: the same tuples and groups, while "\s*[^,()]+" and
# "[^,()]+\s*" split a run of spaces every way (quadratic on a long one, docs/architecture.md)
_TUPLE = re.compile(r"^\(\s*:(\w+),\s*(\d+)((?:,\s*:\w+,[^,()]+)+)\)$")
_PAIR = re.compile(r",\s*:(\w+),\s*([^,()]+)")
_COUNTER = re.compile(r"^(?:epoch|epochs|ep|iter|iters|iteration|step|steps|i|e|n|t|k|batch|update|updates)$", re.I)
# a Julia float literal: Float32's `f` exponent, NaN32 / Inf32
# "\d+(?:\.\d*)?", not "\d+\.?\d*": the same literals, one way to split a run of digits (linear on a long value)
_JULIA_F32 = re.compile(r"^([-+]?(?:\d+(?:\.\d*)?|\.\d+))f([-+]?\d+)$")
_SPLITS = {"trn": ("loss", "accuracy"), "tst": ("test_loss", "test_accuracy")}
_KIND = "julia_tuple_kind"  # "loss" | "accuracy"
_PREV = "julia_tuple_prev_trn"
_LAST = "julia_tuple_last_step"


def _julia_number(raw: str) -> float | None:
    raw = raw.strip()
    m = _JULIA_F32.match(raw)
    if m is not None:
        raw = f"{m.group(1)}e{m.group(2)}"
    elif raw in ("NaN32", "Inf32", "-Inf32", "NaN16", "Inf16", "-Inf16"):
        raw = raw[:-2]
    return parse_number(raw)


def _split_kind(values: dict[str, float], st: State) -> str | None:
    known = st.extra.get(_KIND)
    if known is not None:
        return known
    if any(v > 1 for v in values.values()):
        st.extra[_KIND] = "loss"
    elif "trn" in values:
        prev = st.extra.get(_PREV)
        st.extra[_PREV] = values["trn"]
        if prev is not None and values["trn"] != prev:
            st.extra[_KIND] = "loss" if values["trn"] < prev else "accuracy"
    return st.extra.get(_KIND)


def parse_julia_symbol_tuple(line: str, st: State) -> Record | None:
    """A Knet-style progress tuple (module docstring), or None for any other line."""
    m = _TUPLE.match(line.strip())
    if m is None or _COUNTER.match(m.group(1)) is None:
        return None
    step = int(m.group(2))
    if step == st.extra.get(_LAST):
        return None
    metrics: dict[str, float] = {}
    splits: dict[str, float] = {}
    for pair in _PAIR.finditer(m.group(3)):
        value = _julia_number(pair.group(2))
        if value is None:
            return None  # a tuple of other things (strings, arrays): no progress line
        name = pair.group(1)
        if name in _SPLITS:
            splits[name] = value
        else:
            metrics[canonical(name)] = value
    if splits:
        kind = _split_kind(splits, st)
        for name, value in splits.items():
            if kind is None:
                metrics[name] = value
            else:
                metrics[_SPLITS[name][0 if kind == "loss" else 1]] = value
    if not metrics:
        return None
    st.extra[_LAST] = step
    return Record(step, metrics)
