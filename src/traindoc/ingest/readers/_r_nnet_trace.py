"""R's nnet trace (`nnet::nnet()`, `nnet::multinom()`, and caret / mlr / parsnip fits that call them).

With `trace = TRUE` (the default) nnet prints the number of weights, the objective before the first BFGS iteration,
then every tenth iteration, and how the fit ended:

    # weights:  26
    initial  value 74.693524
    iter  10 value 0.458543
    iter 200 value 0.001654
    final  value 0.001654
    stopped after 200 iterations          (or "converged")

The value is "the value of fitting criterion plus weight decay term" (nnet's documentation): the least-squares or
entropy objective the optimiser descends, the training `loss`; `initial value` is its value at the starting weights
(step 0) and `iter k` its value after k iterations. `final value` repeats the last iterate, which nnet reaches at an
iteration it does not print, so it is no point of its own. Output knitted by R Markdown carries knitr's `## ` before
every line, kept here (`comment_marker` knows the one-character markers only). A trace that prints an iteration
twice (optim's REPORT at a line search) keeps its first value: a step is one point. The generic reader took nothing
from these lines (a number after the word "value", no key), so an nnet run was unreadable.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_KNITR = r"(?:##\s+)?"
_ITER = re.compile(rf"^{_KNITR}iter\s+(\d+)\s+value\s+({NUM})\s*$")
_INITIAL = re.compile(rf"^{_KNITR}initial\s+value\s+({NUM})\s*$")
_LAST = "r_nnet_last_iter"


def parse_r_nnet(line: str, st: State) -> Record | None:
    """An nnet trace line with a value (module docstring), or None for any other line."""
    text = line.strip()
    m = _INITIAL.match(text)
    if m is not None:
        step = 0
        raw = m.group(1)
    else:
        m = _ITER.match(text)
        if m is None:
            return None
        step = int(m.group(1))
        raw = m.group(2)
        if step == st.extra.get(_LAST):
            return None
    value = parse_number(raw)
    if value is None:
        return None
    st.extra[_LAST] = step
    return Record(step, {"loss": value})
