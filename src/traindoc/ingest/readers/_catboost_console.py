"""CatBoost verbose training lines (`model.fit(..., verbose=N)`, the `catboost fit` CLI).

CatBoost prints, every `verbose` iterations and at the last one, a tab between cells:

    0:\tlearn: 0.6475378\ttest: 0.6486123\tbest: 0.6486123 (0)\ttotal: 238ms\tremaining: 3m 58s
    999:\tlearn: 0.2109588\ttest: 0.2714410\tbest: 0.2714189 (980)\ttotal: 3m 2s\tremaining: 0us
    200:\tlearn: 0.2700602\ttotal: 10.5s\tremaining: 1m 33s                  (no eval_set)

then "bestTest = x" / "bestIteration = k" (a summary, not read). `N:` is the 0-based iteration, read as the step;
`learn` is the training set's value of the run's eval metric, `test` (`test1` ...) a validation set's; `total` and
`remaining` are times. The line does not name the metric: it is the loss function unless `eval_metric` chose another
one, which may be higher-is-better (AUC, Accuracy). The `best` cell tells which: CatBoost keeps there the best test
value so far, so once the test value has moved, a `best` equal to a lower test value than before means lower is
better, and a `best` above the current test value means higher is better. Lower-is-better values are read as `loss`
and `val_loss`; higher-is-better ones as `learn_score` / `val_score` (no rule reads a loss into them), and while the
direction is still unknown (a first line, or a line with no test set at all) `learn` is the objective's loss as
CatBoost reports it by default. The generic reader read these lines as `learn`/`test`/`best`/`total` metrics at no
step (the counter ends in a colon), so a CatBoost log kept only its summary lines.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(
    rf"^(\d+):\s+learn:\s*({NUM})((?:\s+test\d*:\s*{NUM})*)(?:\s+best:\s*({NUM})\s*\((\d+)\))?"
    r"\s+total:\s*[\d.]+\s*\w+(?:\s+[\d.]+\s*\w+)?\s+remaining:.*$"
)
_TEST = re.compile(rf"test(\d*):\s*({NUM})")
_DIR = "catboost_direction"  # "min" | "max"
_PREV = "catboost_prev_test"


def _direction(test: float, best: float | None, st: State) -> str | None:
    prev = st.extra.get(_PREV)
    st.extra[_PREV] = test
    known = st.extra.get(_DIR)
    if known is not None or best is None:
        return known
    if best > test:
        st.extra[_DIR] = "max"
    elif best < test:
        st.extra[_DIR] = "min"
    elif prev is not None and test != prev:  # best == test: this line is the best so far
        st.extra[_DIR] = "min" if test < prev else "max"
    return st.extra.get(_DIR)


def parse_catboost(line: str, st: State) -> Record | None:
    """A CatBoost iteration line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    learn = parse_number(m.group(2))
    if learn is None:
        return None
    tests = [(t.group(1), parse_number(t.group(2))) for t in _TEST.finditer(m.group(3) or "")]
    best = parse_number(m.group(4)) if m.group(4) else None
    first_test = tests[0][1] if tests else None
    direction = _direction(first_test, best, st) if first_test is not None else st.extra.get(_DIR)
    higher = direction == "max"
    metrics = {"learn_score" if higher else "loss": learn}
    for idx, value in tests:
        if value is not None:
            metrics[("val_score" if higher else "val_loss") + idx] = value
    return Record(int(m.group(1)), metrics)
