"""LightGBM evaluation lines (`lgb.train(..., valid_sets=...)` with `log_evaluation`, the sklearn wrapper's
`eval_set`, `lgb.cv`).

LightGBM prints one line per `log_evaluation(period)` rounds, a tab between cells:

    [10]\ttraining's l1: 0.457448\ttraining's l2: 0.217995\tvalid_1's l1: 0.456464\tvalid_1's l2: 0.21641
    [100]\tvalid_0's multi_logloss: 0.987234
    [20]\tcv_agg's binary_logloss: 0.2351 + 0.0031      (lgb.cv: the folds' mean + std)

`[i]` is the 1-based boosting round, read as the step; `<set>'s <metric>: <value>` is that set's metric (naming in
_gbdt_names.py: the objective's loss of `training` is the training `loss`, of a validation set or `cv_agg`
`val_loss`). With early stopping LightGBM ends with "Early stopping, best iteration is:" (or "Did not meet early
stopping. Best iteration is:") and repeats the best round's line: that line is a summary of an earlier round, not a
new one, and is not read again. The generic reader read none of these lines (the names hold an apostrophe and a
space), so a LightGBM log was unreadable.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers._gbdt_names import read_cells
from traindoc.ingest.readers.textlog_formats import NUM, Record, State

_HEAD = re.compile(r"^\[(\d+)\]\s+(.*)$")
_CELL = re.compile(rf"^([A-Za-z_][\w.\-]*)'s\s+([A-Za-z][\w@.\-]*)\s*:\s*({NUM})(?:\s*\+\s*{NUM})?$")
_BEST = re.compile(r"best iteration is\s*:?\s*$", re.I)
_KEY = "lightgbm_best_next"
# Cells are split at tabs or at a run of >= 2 spaces before the next `<set>'s`. Tried only where a run of spaces
# starts ("(?<!\s)"): from inside a run the lookahead sits at the same place, so nothing else could match, and trying
# every position of a long run (each scanning to its end) was quadratic in its length (docs/architecture.md).
_SPLIT = re.compile(r"\t+|(?<!\s)\s{2,}(?=[A-Za-z_][\w.\-]*'s\s)")


def parse_lightgbm(line: str, st: State) -> Record | None:
    """A LightGBM round line (module docstring), or None for any other line."""
    s = line.strip()
    if _BEST.search(s):
        st.extra[_KEY] = True
        return None
    m = _HEAD.match(s)
    if m is None:
        return None
    metrics = read_cells(_SPLIT.split(m.group(2)), _CELL)
    if metrics is None:
        return None
    if st.extra.pop(_KEY, False):
        return None  # the best round's line repeated after early stopping: already read at its round
    return Record(int(m.group(1)), metrics)
