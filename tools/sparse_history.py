"""A run seen as an epoch-level history: what a Keras `CSVLogger` / `History` would have given for it.

Most real-world logs, and every Keras `model.fit`, hold per-epoch values only: the training loss and accuracy as the
MEAN over the epoch's batches (Keras' running average at the epoch's end), the validation loss and accuracy of one
pass at the epoch's end, sometimes the learning rate in effect then; 5-50 rows, no gradient norm, no config. The
dev stacks of the real-library corpus log far more (per-step losses, grad norms, LR, configs), and the detectors
were fitted where that exists. This module turns a dense run into the sparse form, through a real file that the
real CSV reader reads back, so that `tools/evaluate.py --sparse` can measure what is lost (an ablation, dev runs only).

Epochs: an evaluation closes an epoch (Keras validates at each epoch's end); an evaluation logged before the first
training step is a pre-training baseline that Keras never makes and is dropped. Without at least MIN_EPOCHS such
evaluations, the run's own epoch starts are used, else the training points are cut into TARGET_ROWS equal-count
chunks. More than MAX_ROWS epochs are thinned to about TARGET_ROWS (the last always kept). Training points after
the last evaluation form a final row without validation values (a run stopped mid-epoch by a NaN still shows it).
A non-finite value inside an epoch makes that epoch's mean non-finite, as Keras' running mean does.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from traindoc.ingest.model import Run, Series

MIN_EPOCHS = 5  # fewer rows than this are not the 5-50 rows of an epoch history; use another clock
MAX_ROWS = 50  # above this, thin: a History with hundreds of rows is rare and would not be "sparse"
TARGET_ROWS = 20  # the brief's "about 20 points" when there is no epoch clock or too many epochs
VARIANTS = ("curves", "curves+lr")  # loss / accuracy curves only; the same plus the learning rate
FILE_NAME = "training.csv"  # the CSVLogger's default file name in the Keras examples


def _accuracy_like(name: str) -> bool:
    base = name.removeprefix("eval_")
    return "@" not in name and "/" not in name and (base == "accuracy" or "acc" in base or "top1" in base)


def _column(name: str) -> str:
    """The History key for a canonical name: Keras prefixes validation metrics with `val_`."""
    if name == "lr":
        return "learning_rate"
    return "val_" + name.removeprefix("eval_") if name.startswith("eval_") else name


def _thin(ends: np.ndarray) -> np.ndarray:
    if len(ends) <= MAX_ROWS:
        return ends
    k = math.ceil(len(ends) / TARGET_ROWS)
    picked = ends[k - 1::k]
    return picked if picked[-1] == ends[-1] else np.append(picked, ends[-1])


def epoch_ends(run: Run, loss: Series | None) -> np.ndarray:
    """The last step of each epoch (see the module docstring for the clock used)."""
    first = int(loss.steps[0]) if loss is not None else None
    for name in ("eval_loss", "eval_accuracy"):
        ev = run.series(name)
        if ev is not None:
            ends = ev.steps if first is None else ev.steps[ev.steps > first]
            if len(ends) >= MIN_EPOCHS:
                return _thin(np.asarray(ends, dtype=np.int64))
    if loss is None:
        return np.zeros(0, dtype=np.int64)
    starts = sorted({s for s, _ in run.epoch_starts if s > first})
    if len(starts) + 1 >= MIN_EPOCHS:
        ends = np.array([s - 1 for s in starts] + [int(loss.steps[-1])], dtype=np.int64)
        return _thin(ends)
    n = len(loss.steps)
    if n <= TARGET_ROWS:
        return np.asarray(loss.steps, dtype=np.int64)
    cuts = np.linspace(0, n, TARGET_ROWS + 1).round().astype(int)[1:] - 1
    return np.asarray(loss.steps[cuts], dtype=np.int64)


def history(run: Run, variant: str = "curves") -> dict[str, list[float | None]]:
    """Column -> one value per epoch (None: nothing logged in that epoch), with "epoch" 0-based as CSVLogger."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    loss = run.series("loss")
    ends = epoch_ends(run, loss)
    if loss is not None and len(ends) and loss.steps[-1] > ends[-1]:
        ends = np.append(ends, loss.steps[-1])
    if not len(ends):
        return {}
    lows = np.concatenate([[np.iinfo(np.int64).min], ends[:-1]])
    names = ["loss"] if loss is not None else []
    names += [n for n in ("eval_loss",) if run.series(n) is not None]
    names += sorted(n for n in run.metrics if _accuracy_like(n) and run.series(n) is not None)
    if variant == "curves+lr" and run.series("lr") is not None:
        names.append("lr")
    cols: dict[str, list[float | None]] = {"epoch": [float(i) for i in range(len(ends))]}
    for name in names:
        s = run.metrics[name]
        out: list[float | None] = []
        for lo, hi in zip(lows, ends, strict=True):
            if name == "lr":  # the rate in effect at the epoch's end
                idx = np.nonzero(s.steps <= hi)[0]
                out.append(float(s.values[idx[-1]]) if len(idx) else None)
                continue
            inside = s.values[(s.steps > lo) & (s.steps <= hi)]
            if not len(inside):
                out.append(None)
            elif name.startswith("eval_"):  # one validation pass at the epoch's end
                out.append(float(inside[-1]))
            else:  # the training metrics are the epoch's running mean; NaN or inf inside stays non-finite
                with np.errstate(invalid="ignore", over="ignore"):
                    out.append(float(np.mean(inside)))
        if any(v is not None for v in out):
            cols[_column(name)] = out
    return cols if len(cols) > 1 else {}


def csvlogger_text(cols: dict[str, list[float | None]]) -> str:
    """The history as a CSVLogger file: `epoch` first, then the keys sorted, one row per epoch."""
    if not cols:
        return ""
    keys = ["epoch"] + sorted(k for k in cols if k != "epoch")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    for i in range(len(cols["epoch"])):
        row = []
        for k in keys:
            v = cols[k][i]
            row.append("" if v is None else str(int(v)) if k == "epoch" else repr(float(v)))
        w.writerow(row)
    return buf.getvalue()
