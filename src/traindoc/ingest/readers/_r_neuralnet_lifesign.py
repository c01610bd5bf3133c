"""R's neuralnet trace (`neuralnet::neuralnet(..., lifesign = "full")`).

With `lifesign = "full"` neuralnet prints, per repetition, a header that opens the first progress line, then one line
every `lifesign.step` steps (1000 by default) and the line where the fit stopped:

    hidden: 16, 5, 5    thresh: 0.005    rep: 1/1    steps:    1000  min thresh: 2.2874452913864
                                                                2000  min thresh: 0.70078147423752
                                                               64978  error: 0.00125  time: 2.38 mins

`min thresh` is the smallest value so far of the largest absolute partial derivative of the error function: the
quantity the `threshold` stopping rule compares (neuralnet's documentation: "the threshold for the partial derivatives
of the error function as stopping criteria"). It never rises, by construction, and it is no loss: it keeps its own
name, `min_thresh`. The last line's `error` is the error function the fit minimised (half the sum of squared errors,
or the cross-entropy with `err.fct = "ce"`) at the step where it stopped: the one point of the training `loss`; with
`likelihood = TRUE` it also prints the `aic` and `bic`, which are read under their names. `lifesign = "minimal"`
prints the header and the last line only. A repetition after the first (`rep: 2/3`) counts its steps from 1 again;
its lines are claimed and not read, as a second run in the same file. Knitted output carries knitr's `## ` before
every line (`comment_marker` knows the one-character markers only). The generic reader took nothing from these lines
(it reads `key: value` pairs keyed by a word, and the header's `steps:` holds the counter), so a neuralnet run was
unreadable.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_KNITR = r"(?:##\s+)?"
_HEADER = re.compile(rf"^{_KNITR}hidden:\s+[\d,\s]+?\s+thresh:\s+{NUM}\s+rep:\s+(\d+)/(\d+)\s+steps:\s+(.*)$")
_MIN_THRESH = re.compile(rf"^(\d+)\s+min thresh:\s+({NUM})\s*$")
_STOPPED = re.compile(rf"^(\d+)\s+error:\s+({NUM})(?:\s+aic:\s+({NUM})\s+bic:\s+({NUM}))?\s+time:\s+\S+\s+\w+\s*$")
_PROGRESS = re.compile(rf"^{_KNITR}(\d+\s+(?:min thresh|error):.*)$")
_REP = "r_neuralnet_rep"


def _progress(rest: str) -> Record | None:
    m = _MIN_THRESH.match(rest)
    if m is not None:
        value = parse_number(m.group(2))
        return None if value is None else Record(int(m.group(1)), {"min_thresh": value})
    m = _STOPPED.match(rest)
    if m is None:
        return None
    metrics: dict[str, float] = {}
    for name, raw in (("loss", m.group(2)), ("aic", m.group(3)), ("bic", m.group(4))):
        value = parse_number(raw) if raw is not None else None
        if value is not None:
            metrics[name] = value
    return Record(int(m.group(1)), metrics) if "loss" in metrics else None


def parse_r_neuralnet(line: str, st: State) -> Record | None:
    """A neuralnet lifesign line with a value (module docstring), or None for any other line."""
    text = line.strip()
    m = _HEADER.match(text)
    if m is not None:
        st.extra[_REP] = int(m.group(1))
        rest = m.group(3).strip()
    else:
        if _REP not in st.extra:  # progress columns with no header before them: not this trace
            return None
        m = _PROGRESS.match(text)
        if m is None:
            return None
        rest = m.group(1)
    rec = _progress(rest)
    if rec is None:
        return None
    if st.extra[_REP] != 1:
        return Record(rec.step, claimed=True)
    return rec
