"""XGBoost evaluation lines (`xgb.train(..., evals=[...])`, the sklearn wrapper's `eval_set`, `xgb.cv`).

With `verbose_eval` on, XGBoost prints one line per round (or per `verbose_eval` rounds), a tab between sets:

    [0]\ttrain-rmse:21.6024\teval-rmse:21.7310
    [9]\tvalidation_0-rmse:9.10759\tvalidation_1-rmse:9.8862
    [5]\ttrain-auc:0.9633+0.0012\ttest-auc:0.9521+0.0040      (xgb.cv: the folds' mean +std)

`[i]` is the 0-based boosting round, read as the step; each `<set>-<metric>:<value>` is that set's metric after the
round (naming in _gbdt_names.py: the objective's loss of the training set is the training `loss`, of another set
`val_loss`). The generic reader took nothing from these lines (the names end in `-rmse:` right after the set, with no
space), so an XGBoost log was unreadable. A line is read only when every tab-separated cell after `[i]` is such a
pair, so other bracketed counters are left alone.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers._gbdt_names import read_cells
from traindoc.ingest.readers.textlog_formats import NUM, Record, State

_HEAD = re.compile(r"^\[(\d+)\]\s+(.*)$")
_CELL = re.compile(rf"^([A-Za-z_][\w.]*)-([A-Za-z][\w@.\-]*?):({NUM})(?:\+{NUM})?$")


def parse_xgboost(line: str, st: State) -> Record | None:
    """An XGBoost round line (module docstring), or None for any other line."""
    m = _HEAD.match(line.strip())
    if m is None:
        return None
    metrics = read_cells(m.group(2).split(), _CELL)
    if metrics is None:
        return None
    return Record(int(m.group(1)), metrics)
