"""FLAML's AutoML search console (`flaml.AutoML().fit(...)`, the `flaml.automl` / `flaml.automl.logger` logger).

Each trial of the hyperparameter search prints the learner it tries, then the best errors so far, each message after
the logger's head (`[flaml.automl: 11-15 19:46:44] {2029} `):

    INFO - iteration 3, current learner lgbm
    INFO -  at 0.9s,	estimator lgbm's best error=0.2985,	best estimator lgbm's best error=0.2985

The error is the one the search minimises (`Minimizing error metric: 1-r2`, `1-accuracy`, `log_loss`, ... as the
settings line says), measured on the held-out split or by cross-validation (`Evaluation method: holdout` / `cv`):
lower is better whatever the metric. The second figure, the best of every learner so far, is read as `val_error` at
the trial's iteration (a running minimum: the search's progress, not one model's training curve); the first, the
best of the learner just tried, and the search clock (`at 0.9s`) are not read. A line is read with or without the
logger's `[flaml.automl...] {line} ` head (documentation pages quote the message alone). The generic reader took the
clock as a metric `at` and the error under the name `s best error`.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_ITERATION = re.compile(r"\bINFO - iteration (\d+), current learner [\w.-]+\s*$")
_TRIAL = re.compile(rf"\bINFO -\s+at {NUM}s,\s+estimator [\w.-]+'s best error=({NUM}),\s+best estimator [\w.-]+'s "
                    rf"best error=({NUM})\s*$")
_ITER = "flaml_iteration"


def parse_flaml_automl(line: str, st: State) -> Record | None:
    """A FLAML search trial's lines (module docstring), or None for any other line."""
    m = _ITERATION.search(line)
    if m is not None:
        st.extra[_ITER] = int(m.group(1))
        return Record(None, claimed=True)
    m = _TRIAL.search(line)
    if m is None:
        return None
    best = parse_number(m.group(2))
    if best is None:
        return None
    step = st.extra.pop(_ITER, None)
    return Record(step, {"val_error": best}, eval=True)
