"""NequIP's (and Allegro's) training console, the `log` file `nequip-train` writes into its run folder.

Each epoch ends with a summary table whose header names the columns, one row for the training set and one for the
validation set, preceded by `! ` (the per-batch tables above them, `# Epoch batch loss ...`, repeat the epoch's
last batch and are not read):

      Train      #    Epoch      wal       LR       loss_f       loss_e         loss        f_mae       f_rmse ...
    ! Train               1    8.080    0.005         0.46        0.365        0.825        0.466        0.615 ...
    ! Validation          1    8.080    0.005        0.162       0.0567        0.219        0.288        0.365 ...

`loss` is the weighted sum of the loss terms the config's `loss_coeffs` name (`loss_f`, `loss_e`: the force and
energy mean-squared errors), read as `loss` on the training row and `val_loss` on the validation row; the other
columns keep their names (`f_mae`, `e/N_mae`), with `val_` put first on the validation row; `LR` is the learning rate
and `wal` the wall time (not a metric). The run's first table, `Initialization`, scores the untrained model on the
validation set (`! Initial Validation   0 ...`): epoch 0. The epoch is the step. The file has no suffix, so the
loader only offered it to the text-log reader, whose generic rules found no `key: value` pair in it: a NequIP run
folder was read from its `metrics_epoch.csv` alone, and a `log` on its own was unreadable.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_HEADER = re.compile(r"^(Train|Initialization)\s+#\s+Epoch\s+(\S.*)$")
_ROW = re.compile(r"^!\s+(Train|Validation|Initial Validation)\s+(\d+)\s+(\S.*)$")
_COLUMNS = "nequip_columns"


def _name(column: str, held_out: bool) -> str | None:
    if column == "wal":
        return None
    if column == "LR":
        return None if held_out else "lr"
    return f"val_{column}" if held_out else column


def parse_nequip_log(line: str, st: State) -> Record | None:
    """A NequIP epoch summary row under its header (module docstring), or None for any other line."""
    text = line.strip()
    m = _HEADER.match(text)
    if m is not None:
        st.extra[_COLUMNS] = m.group(2).split()
        return Record(None, {}, claimed=True)
    cols = st.extra.get(_COLUMNS)
    if cols is None:
        return None
    m = _ROW.match(text)
    if m is None:
        return None
    values = m.group(3).split()
    if len(values) != len(cols):
        return None
    held_out = m.group(1) != "Train"
    metrics: dict[str, float] = {}
    for col, raw in zip(cols, values, strict=True):
        name = _name(col, held_out)
        v = parse_number(raw)
        if name is None or v is None:
            continue
        metrics[name] = v
    return Record(int(m.group(2)), metrics, eval=held_out) if metrics else None
