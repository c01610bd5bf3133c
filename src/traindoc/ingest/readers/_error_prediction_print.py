"""A one-unit gradient-descent print: `Error:x Prediction:y`, one line per update.

Grokking Deep Learning (Trask, 2019), chapters 4-6, and the teaching notebooks that follow it print the squared
error and the network's output after each update:

    print("Error:" + str(error) + " Prediction:" + str(pred))

    Error:0.30250000000000005 Prediction:0.25
    Error:0.17015625000000004 Prediction:0.3875

The error is `(pred - goal) ** 2`, the quantity the loop descends: the training `loss`. The prediction is the model's
output, no measurement of the training, and is not kept. The line has no counter: the k-th such line is update k
(0-based, as the loops count). The generic rules read nothing here: a line that opens with the word "Error" is taken
for an error message (textlog_formats._GEN_SKIP), so such a run was "insufficient data". First met in a real-world
faulty log (issue 8, session 30: tests/corpus/realworld/g7-grokking-dl-ch4-no-alpha-input-2-error-diverges),
unreadable blind.

Guards: both words and both values must be there, each a bare number (no unit, no percentage), and nothing else on
the line, so an error message that happens to name a prediction is not read.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^Error\s*:\s*({NUM})\s+Prediction\s*:\s*({NUM})$")


def parse_error_prediction(line: str, st: State) -> Record | None:
    """An `Error:x Prediction:y` line (module docstring) as the loss of the next update, or None for any other."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    loss = parse_number(m.group(1))
    if loss is None or parse_number(m.group(2)) is None:
        return None
    step = st.extra.get("error_prediction_next", 0)
    st.extra["error_prediction_next"] = step + 1
    return Record(step, {"loss": loss})
