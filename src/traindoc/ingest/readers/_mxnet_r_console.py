"""The MXNet R package's training console: `[r] Train-<metric>=x` and `[r] Validation-<metric>=x` per round.

`mx.model.FeedForward.create` / `mx.mlp` print, once per round (epoch, counted from 1), the evaluation metric on the
training data and, with `eval.data`, on the validation data:

    Start training with 1 devices
    [1] Train-rmse=16.063282524034
    [1] Validation-rmse=10.1766446093622

R Markdown / knitr renders console output with a `## ` prefix (often indented in the docs built from it), which is
kept in a transcription. The names follow the Python MXNet reader (textlog_formats.parse_mxnet): the metric as
printed, `eval_` before a validation one, and MXNet's cross-entropy metrics read as the `loss`. The generic rules
read nothing here (issue 8, session 29: tests/corpus/realworld/mxnet-r-tutorial-linear-regression-boston-50-rounds,
unreadable blind): the `[r]` counter is no `key: value` and `Train-rmse=x` is a hyphenated name glued to its value.

Guards: the whole line must be the print; the round counter must not go back (a second training printed into the same
file or page starts again at [1]: its lines are not read, as other loops' readers do); `Batch [k] Train-...` lines of
the batch callback are not read (their mean restarts every round).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number
from traindoc.ingest.readers.textlog_formats import _mx_name as mx_metric_name

_ROUND = re.compile(rf"^(?:##\s+)?\[(\d+)\]\s+(Train|Validation)-([A-Za-z][\w.-]*)=({NUM})$")


def parse_mxnet_r(line: str, st: State) -> Record | None:
    """One round's metric line (module docstring), or None for any other line."""
    m = _ROUND.match(line.strip())
    if m is None:
        return None
    rnd = int(m.group(1))
    last = st.extra.get("mxr_round")
    if isinstance(last, int) and rnd < last:
        st.extra["mxr_done"] = True
    if st.extra.get("mxr_done"):
        return None  # a second run in the same file
    value = parse_number(m.group(4))
    if value is None:
        return None
    st.extra["mxr_round"] = rnd
    st.epoch = rnd
    name = mx_metric_name(m.group(3))
    is_eval = m.group(2) == "Validation"
    return Record(rnd, {(f"eval_{name}" if is_eval else name): value}, eval=is_eval, epoch=rnd, from_epoch=True)
