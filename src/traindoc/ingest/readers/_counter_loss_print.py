"""A loop's bare progress print "step/total: loss", the makemore / "Zero to Hero" print and its many copies.

Karpathy's makemore lectures (and the notebooks that follow them) print one line every N steps:

    print(f'{i:7d}/{max_steps:7d}: {loss.item():.4f}')

          0/ 200000: 3.3239
      10000/ 200000: 2.0322

The line has no word at all, so the generic `key: value` rules read nothing and such a run was "insufficient data".
The number is the loss of that step's minibatch (what a loop that prints one number prints: the same reading as the
bare "step value" print, parse_step_value), so it is read as the training `loss` at step `i`, and `total` as the
planned number of steps.

Guards against other "a/b: x" lines (a ratio table, "3/10: 0.5" in prose): the value has a decimal point or is
non-finite (integer pairs are counts), the counter rises strictly and the total stays the same from line to line
(a line that breaks either is no line of this loop), and the counter never exceeds the total.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, plan_steps

_LINE = re.compile(
    r"^(\d{1,12})\s*/\s*(\d{1,12}):\s+([-+]?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|nan|NaN|inf|-inf|Inf))$")


def parse_counter_loss(line: str, st: State) -> Record | None:
    """A "step/total: loss" line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    step, total = int(m.group(1)), int(m.group(2))
    if step > total:
        return None
    x = st.extra
    last, seen_total = x.get("counter_loss_last"), x.get("counter_loss_total")
    if last is not None and (step <= last or total != seen_total):
        return None
    x["counter_loss_last"], x["counter_loss_total"] = step, total
    plan_steps(st, total)
    return Record(step, {"loss": float(m.group(3))})
