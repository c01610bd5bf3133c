"""MATLAB Deep Learning Toolbox `trainNetwork` verbose table (`trainingOptions(..., 'Verbose', true)`).

MATLAB prints a boxed table: a rule of `=`, two header rows whose cells stack a column's name over two lines, a rule,
then one row per `VerboseFrequency` iterations (and the last iteration):

    |  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Validation  |  Mini-batch  |  Base Learning  |
    |         |             |   (hh:mm:ss)   |   Accuracy   |   Accuracy   |     Loss     |      Rate       |
    |========================================================================================================|
    |       1 |           1 |       00:03:33 |       23.81% |       54.82% |       1.3868 |          0.0100 |
    |       5 |        1010 |       12:21:20 |       94.45% |              |       0.1483 |          0.0010 |

(here without the Validation Loss column that the run printed after Mini-batch Loss, to fit the page).

The columns depend on the task and the options: classification prints accuracies (percent), regression RMSE, and the
Validation columns appear only with `ValidationData`; a row where no validation ran leaves those cells blank. The
generic reader saw only `|`-separated words and numbers with no names and read nothing ("no metric lines
recognised"), so a whole MATLAB run was unreadable. Read here: the header's two rows give each column its name; the
step is the Iteration column (MATLAB counts iterations across epochs), the epoch is the Epoch column; "Mini-batch
Loss" is the training `loss` (the loss of the iteration's mini-batch, as MATLAB documents it), "Validation Loss" is
`val_loss`, "Base Learning Rate" is `lr`, accuracies are read as fractions (MATLAB prints them as percentages),
RMSE as `rmse` / `val_rmse`. The time column is no metric. A row is read only after a header was seen, so a
`|`-table of something else is left alone.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_KEY = "matlab_trainnetwork_cols"
_PENDING = "matlab_trainnetwork_top"

# (split, quantity) -> the name the rest of traindoc reads
_NAMES = {
    ("Mini-batch", "Loss"): "loss",
    ("Validation", "Loss"): "val_loss",
    ("Mini-batch", "Accuracy"): "accuracy",
    ("Validation", "Accuracy"): "val_accuracy",
    ("Mini-batch", "RMSE"): "rmse",
    ("Validation", "RMSE"): "val_rmse",
    ("Base Learning", "Rate"): "lr",
}
_ROW_CELL = re.compile(r"^\s*\d+\s*$")


def _cells(line: str) -> list[str] | None:
    s = line.strip()
    if len(s) < 3 or not (s.startswith("|") and s.endswith("|")):
        return None
    return [c.strip() for c in s[1:-1].split("|")]


def parse_matlab_trainnetwork(line: str, st: State) -> Record | None:
    """A row of a `trainNetwork` verbose table (module docstring), or None for any other line; the two header rows
    are remembered (they carry no metric)."""
    cells = _cells(line)
    if cells is None:
        return None
    if len(cells) >= 3 and cells[0] == "Epoch" and cells[1] == "Iteration" and cells[2].startswith("Time Elapsed"):
        st.extra[_PENDING] = cells  # the first header row; the names end on the next one
        st.extra.pop(_KEY, None)
        return None
    top = st.extra.pop(_PENDING, None)
    if top is not None:
        if len(cells) != len(top):
            return None
        st.extra[_KEY] = [(a, b) for a, b in zip(top, cells, strict=True)]
        return None
    cols = st.extra.get(_KEY)
    if cols is None or len(cells) != len(cols):
        return None
    if not (_ROW_CELL.match(cells[0]) and _ROW_CELL.match(cells[1])):
        return None
    epoch, step = int(cells[0]), int(cells[1])
    metrics: dict[str, float] = {}
    for (top_name, bottom), cell in zip(cols[3:], cells[3:], strict=True):
        name = _NAMES.get((top_name, bottom))
        if name is None or not cell:
            continue
        value = parse_number(cell)
        if value is None:
            continue
        metrics[name] = value / 100.0 if cell.endswith("%") else value
    if not metrics:
        return None
    st.epoch = epoch
    return Record(step, metrics, epoch=epoch)
