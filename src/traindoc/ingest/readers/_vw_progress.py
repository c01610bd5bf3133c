"""Vowpal Wabbit's progressive-validation table (the `vw` command line, `pyvw` with `quiet=False`).

After its header VW prints, at doubling example counts and at the end of each pass:

    average  since         example        example  current  current  current
    loss     last          counter         weight    label  predict features
    0.693147 0.693147            1            1.0  -1.0000   0.0000       38
    0.547826 0.481757          256          256.0  -1.0000  -1.1636       29
    0.458214 0.443012 h        2048         2048.0   1.0000   0.8413       31

"average loss" is the mean loss over every example seen so far and "since last" the mean over the examples since
the previous row: each is progressive validation (every example is scored before VW learns from it), so "since last"
is the training loss of that stretch, read as `loss` at the example counter (the step). A row marked `h` comes from the
holdout set VW keeps aside in multi-pass runs: its "since last" is read as `val_loss`. A non-numeric cell ("n.a."
when no label was given) is no point. For classification VW reports the 0/1 loss, not the loss it optimises: with
multiclass reductions (`--oaa`, `--csoaa`, `--named_labels`: the label and prediction cells are class names or bare
integers, and recent versions print "Output pred = MULTICLASS") and with `--binary` ("Output pred = BINARY"), the
column is an error rate, read as `error` / `val_error`: it starts at exactly 0 whenever the first examples are
guessed right (a class-sorted file scores 0 until its second class arrives), which is no loss curve.
Rows are read only after the two header lines were seen, so other number columns are left alone; the generic
reader read nothing from them (bare numbers with no names).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_HEAD = re.compile(r"^loss\s+last\s+counter\s+weight\s+label\s+predict\s+features$")
_ROW = re.compile(rf"^({NUM})\s+({NUM})(\s+h)?\s+(\d+)\s+{NUM}\s+(\S+)\s+(\S+)\s+\d+\s*$")
_PRED = re.compile(r"^Output pred = (\w+)")
_SCALAR = re.compile(r"^[-+]?\d+\.\d+$")  # VW prints scalar labels and predictions with decimals ("-1.0000")
_KEY = "vw_table"
_ZERO_ONE = "vw_zero_one"


def parse_vw_progress(line: str, st: State) -> Record | None:
    """A row of VW's progress table (module docstring), or None for any other line."""
    s = line.strip()
    pred = _PRED.match(s)
    if pred is not None:
        st.extra[_ZERO_ONE] = pred.group(1).upper() in ("MULTICLASS", "BINARY", "MULTILABELS", "MULTICLASSPROBS")
        return None
    if _HEAD.match(s):
        st.extra[_KEY] = True
        return None
    if not st.extra.get(_KEY):
        return None
    if s.startswith("finished run"):
        st.extra[_KEY] = False
        return None
    m = _ROW.match(s)
    if m is None:
        return None
    since = parse_number(m.group(2))
    if since is None:
        return None
    zero_one = st.extra.get(_ZERO_ONE) or not (_SCALAR.match(m.group(5)) and _SCALAR.match(m.group(6)))
    name = "error" if zero_one else "loss"
    return Record(int(m.group(4)), {f"val_{name}" if m.group(3) else name: since})
