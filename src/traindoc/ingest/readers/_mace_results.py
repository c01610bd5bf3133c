"""MACE's results file (`<name>_run-<seed>_train.txt` in its results folder): one JSON object per line.

`mace.tools.train` writes a record for every optimiser step, `"mode": "opt"`, with that batch's loss and the epoch,
and one for every evaluation of the validation set, `"mode": "eval"`, with the loss and the error table (`rmse_f`,
`mae_e_per_atom`, ... in eV and eV/A), the first with `"epoch": null` (the untrained model, before epoch 0):

    {"loss": 71.368, "mae_e": 203.5, "rmse_f": 2.604, ..., "time": 0.85, "mode": "eval", "epoch": null}
    {"loss": 227.41, "time": 1.06, "mode": "opt", "epoch": 0}

The records carry no step. The generic JSON-lines reader stepped them by the epoch, so the 18 batch records of an
epoch overwrote each other and the epoch's training loss was its last batch's (a tutorial's healthy run read as a
61 % late rise, lr_too_high 1.0). Here an epoch's training `loss` is the mean of its batch losses, the epoch's loss
as trainers report it, at the epoch as the step; the evaluation after epoch e is read at step e under `eval_`
names (`eval_loss`, `eval_rmse_f`), as MACE's console prints it (`Epoch e: loss=...`, _mace_console.py). The
evaluation before training has no epoch of its own and is not read. `time` is a duration, not a metric.
"""

from __future__ import annotations

import math
from pathlib import Path

from traindoc.ingest.model import Run, Source
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers._structured import Columns, LineStats, json_dicts, to_float
from traindoc.ingest.readers.jsonl_metrics import _head_records
from traindoc.ingest.registry import Reader, ReadError

_MODES = {"opt", "eval"}
_SKIP = {"mode", "epoch", "time"}


def sniff_mace_results(path: Path, head: bytes) -> float:
    if not head.lstrip().startswith(b"{"):
        return 0.0
    recs = _head_records(head)
    if len(recs) < 2 or not all(r.get("mode") in _MODES and "epoch" in r and "loss" in r for r in recs):
        return 0.0
    return 0.9 if any(r["mode"] == "opt" for r in recs) else 0.0


def read_mace_results(path: Path, run: Run) -> Source:
    source = Source(str(path), "mace_results")
    cols = Columns()
    stats = LineStats()
    epoch: int | None = None
    batch: list[float] = []
    records = 0

    def close_epoch() -> None:
        if epoch is not None and batch:
            cols.add("loss", epoch, math.fsum(batch) / len(batch), "loss")
            run.epoch_starts.append((epoch, epoch))
        batch.clear()

    for rec in json_dicts(path, stats):
        if rec.get("mode") not in _MODES:
            continue
        records += 1
        e = rec.get("epoch")
        if rec["mode"] == "opt":
            if not isinstance(e, int):
                continue
            if e != epoch:
                close_epoch()
                epoch = e
            v = to_float(rec.get("loss"))
            if v is not None:
                batch.append(v)
            continue
        if not isinstance(e, int):
            continue  # the evaluation before training
        if e == epoch:
            close_epoch()
        for k, v in rec.items():
            fv = to_float(v)
            if k in _SKIP or fv is None:
                continue
            cols.add(canonical_metric(k, "eval"), e, fv, k)
    close_epoch()
    if not records:
        raise ReadError("no MACE record (JSON lines with a mode of opt or eval)")
    source.records = records
    source.metrics = cols.flush(run, str(path))
    return source


READERS = [Reader("mace_results", sniff_mace_results, read_mace_results)]
