"""A pandas DataFrame as pandas prints it: a header of column names, then one row per index, wrapped into blocks.

Notebooks show a training history as a DataFrame (`pd.DataFrame(history.history)`, H2O-3's `model.score_history()`);
its text form (`DataFrame.to_string`, the text/plain of a notebook output) right-justifies every column name and
every value to the column's width, starts each row with the integer index (left-aligned, no header of its own), and
wraps a frame wider than the display into blocks of columns, each header but the last ending in ` \\`:

                  timestamp           duration  training_speed     epochs  \\
    0       2018-04-24 01:21:19          0.000 sec            None   0.000000
    1       2018-04-24 01:21:20          1.091 sec  100264 obs/sec   0.287277

        iterations    samples  training_rmse  training_logloss  \\
    0            0        0.0            NaN               NaN
    1            1   100264.0       0.444251          0.601859

A cell is the text between the right edge of the previous column's name and the right edge of its own (values may
hold spaces: `1 min  0.528 sec`); a cell that is not one number is not a metric. The generic rules read none of this
right (issue 8, session 30: tests/corpus/realworld/h2o-tutorials-deeplearning-covtype-score-history was read blind as
bare `step value` lines, its untrained NaN row as a non-finite training loss: fp16_overflow 0.82 on a healthy run).

Reading rules. The step is the row index, or the row's `epoch` / `step` column where a block has one (integer values;
later blocks of the same frame reuse it by index). Counter and clock columns (timestamp, duration, speeds, epochs,
iterations, samples, runtime) are no metrics. A block row whose metric cells are all `NaN` / `None` holds pandas'
missing-value marker (the pandas docs, "Working with missing data"), not a measured non-finite value: H2O's row 0 is
the model before any scoring; it is not read (a `NaN` beside measured values in the same block row is read as NaN). A
row whose counter column (epochs, iterations, samples, step) does not rise from the row before is no new point (H2O
repeats the best model's scores as the last row when early stopping keeps it); the row is skipped in every block. Such
rows are claimed (Record.claimed), so that no other family reads them (a one-column block reads like `step value`
prints). Names: H2O's `training_<m>` / `validation_<m>` (and `train_` / `val_` / `valid_`) put the split first; a
loss-type metric (`logloss` for classification, `deviance` for regression: H2O's own loss functions) is the `loss` /
`eval_loss`, any other keeps its name (`rmse`, `classification_error`, `auc`) with `eval_` on a validation one.
NeuralProphet's `fit` frame puts the split last (`MAE_val`, `Loss_val` beside `MAE`, `Loss`): a `_val` / `_valid` /
`_validation` suffix is the held-out split all the same.

A frame longer than pandas' `display.max_rows` is printed truncated: the first and last rows, with one row of dots
between them (`..` under the index, `...` in each cell; pandas' `DataFrameFormatter`, `show_dimensions` then adds
`[185 rows x 9 columns]` under the last block). That row is no end of the frame: it is skipped (claimed), and the
rows after it are read against the same header (issue 8, session 31: tests/corpus/realworld/
neuralprophet-tutorial10-validation-healthy read only its first five epochs, the dot row ending the frame).

Guards (another format's table must not be claimed): a header is two or more names separated by two or more spaces
(a wrapped frame's last block may have one), none a number; a row must fit the header's alignment: its index token
ends before the first name's left edge (a table whose first column is titled, fastai's `epoch  train_loss ...`, puts
its first value under that title), and each name's right edge falls on the last character of a cell. Rows are read
only after a header; a line that is neither ends the frame.
"""

from __future__ import annotations

import math
import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_NAME = re.compile(r"^[A-Za-z_][\w .%/()@+-]*$")
_ROW = re.compile(r"^(\d{1,9})(?=\s)")
# columns that count or time the run rather than measure it (H2O's scoring history, Keras/Lightning frames)
_NOT_METRIC = re.compile(r"^(?:timestamp|time|date|duration|runtime|.*_?speed|epochs?|iterations?|steps?|samples|"
                         r"number_of_\w+|.*_time)$", re.I)
_COUNTER = re.compile(r"^(?:epochs?|iterations?|steps?|samples)$", re.I)
_STEP_COLUMN = re.compile(r"^(?:epoch|step)$", re.I)
_MISSING = ("NaN", "nan", "None", "NaT", "<NA>")
# loss-type metric names: H2O's classification and regression losses, and the plain name
_LOSS = re.compile(r"^(?:loss|logloss|deviance|cross_?entropy)$", re.I)
_SPLIT = re.compile(r"^(training|train|validation|valid|val)_(.+)$", re.I)
_SPLIT_LAST = re.compile(r"^(.+)_(validation|valid|val)$", re.I)
# pandas' elision row of a truncated frame: ".." under the index, "..." in every cell (module docstring)
_ELIDED = re.compile(r"^\.\.(?:\s+\.\.\.)+$")


def _header(text: str) -> list[tuple[str, int]] | None:
    """(name, right edge) per column of a header line, or None when the line is no header."""
    body = text[:-1].rstrip() if text.endswith("\\") else text
    names: list[tuple[str, int]] = []
    for m in re.finditer(r"\S+(?: \S+)*", body):
        name = m.group(0)
        if not _NAME.match(name) or parse_number(name) is not None:
            return None
        names.append((name, m.end()))
    return names or None


def _metric_name(column: str) -> str:
    last = _SPLIT_LAST.match(column)
    if last is not None and _SPLIT.match(column) is None:
        metric = "loss" if _LOSS.match(last.group(1)) else last.group(1)
        return f"eval_{metric}"
    m = _SPLIT.match(column)
    if m is None:
        return "loss" if _LOSS.match(column) else column
    held_out = m.group(1).lower().startswith("v")
    metric = "loss" if _LOSS.match(m.group(2)) else m.group(2)
    return f"eval_{metric}" if held_out else metric


def _cells(row: str, columns: list[tuple[str, int]]) -> list[str] | None:
    """The row's cell per column by the header's right edges, or None when the row does not fit them."""
    shift = len(row) - columns[-1][1]
    index_end = _ROW.match(row).end()  # type: ignore[union-attr]  # the caller matched it
    first_left = columns[0][1] - len(columns[0][0]) + shift
    if index_end >= first_left:
        return None
    cells = []
    left = index_end
    for _, end in columns:
        right = end + shift
        if right <= left or right > len(row) or row[right - 1] == " " or (right < len(row) and row[right] != " "):
            return None
        cells.append(row[left:right].strip())
        left = right
    return cells


def parse_pandas_frame(line: str, st: State) -> Record | None:
    """One row of a printed DataFrame (module docstring), or None; header lines set the columns."""
    text = line.strip()
    x = st.extra
    if not text:
        return None  # the blank line between two blocks of a wrapped frame
    if x.get("pf_columns") and _ELIDED.match(text):
        return Record(None, {}, claimed=True)  # the dot row of a truncated frame (module docstring)
    if _ROW.match(text) is None:
        names = _header(text)
        if names is not None and (len(names) >= 2 or x.get("pf_wrapped")):
            if not x.get("pf_wrapped"):  # a new frame: its rows count from scratch
                x["pf_steps"], x["pf_skip"] = {}, set()
            x["pf_columns"], x["pf_wrapped"] = names, text.endswith("\\")
            x["pf_prev"] = {}
        else:
            x.pop("pf_columns", None)
            x["pf_wrapped"] = False
        return None
    columns = x.get("pf_columns")
    if not columns:
        return None
    cells = _cells(text, columns)
    if cells is None:
        return None
    index = int(_ROW.match(text).group(1))  # type: ignore[union-attr]
    steps: dict[int, int] = x["pf_steps"]
    skip: set[int] = x["pf_skip"]
    prev: dict[str, float] = x["pf_prev"]
    metrics: dict[str, float] = {}
    nan_cells: list[str] = []
    for (column, _), cell in zip(columns, cells, strict=True):
        value = parse_number(cell)
        if _COUNTER.match(column) and value is not None:
            if column in prev and value <= prev[column]:
                skip.add(index)  # a repeat of an earlier point (module docstring)
            prev[column] = value
        if _STEP_COLUMN.match(column) and value is not None and value == int(value):
            steps[index] = int(value)
        if _NOT_METRIC.match(column):
            continue
        if cell in _MISSING:
            if cell in ("NaN", "nan"):
                nan_cells.append(column)
            continue
        if value is not None:
            metrics[_metric_name(column)] = value
    if index in skip or not metrics:
        # a repeated row, or every metric cell missing: no measurement, and no other family's line either (a block
        # of one column reads like `step value` lines)
        return Record(None, {}, claimed=True)
    for column in nan_cells:  # beside measured values, a NaN is the value itself
        metrics[_metric_name(column)] = math.nan
    step = steps.get(index, index)
    held_out = all(k.startswith("eval_") for k in metrics)
    return Record(step, metrics, eval=held_out)
