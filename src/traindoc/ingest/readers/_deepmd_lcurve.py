"""DeePMD-kit's learning curve file (`lcurve.out`, the training section's `disp_file`).

Every `disp_freq` steps DeePMD-kit writes one row of root-mean-square errors under a header that names the columns:

    #  step      rmse_val    rmse_trn    rmse_e_val  rmse_e_trn    rmse_f_val  rmse_f_trn         lr
          0      1.05e+01    1.10e+01      6.72e-01    6.79e-01      3.31e-01    3.44e-01    1.0e-03
        100      7.63e+00    9.65e+00      6.84e-02    7.98e-02      2.41e-01    3.05e-01    1.0e-03

`rmse_trn` is the square root of the training loss on the batch just trained on, the energy, force and virial terms
weighted by their prefactors (DeePMD-kit's documentation, "Training a model": "the training error and validation
error"; Zhang et al. 2018, "Deep Potential Molecular Dynamics", Phys. Rev. Lett. 120, 143001, eq. 5), read as
`loss`, and `rmse_val` the same on `numb_btch` validation batches, read as `val_loss`. The per-term columns keep their
names with the split put first (`rmse_e_trn` -> `rmse_e`, `rmse_f_val` -> `val_rmse_f`); older releases print `tst`
for the validation split (and `batch` for the step, `l2_` for the errors), newer ones may print no validation
columns, and multi-task runs suffix a task name, all read by the same rule. The prefactors move with the learning
rate (`start_pref_*` to `limit_pref_*`), so the total's scale changes as the learning rate decays, as the per-term
errors do not. A row is read only under the header (the numbers alone could be any table). The generic reader took
nothing from this file.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_HEADER = re.compile(r"^#\s*(?:step|batch)((?:\s+(?:rmse|mae|l2)_\w+)+)(\s+lr)?\s*$")
_COLUMNS = "deepmd_lcurve_columns"
_LAST = "deepmd_lcurve_last_step"
_SPLIT = re.compile(r"^(rmse|mae|l2)(?:_(\w+?))?_(trn|val|tst)(?:_(\w+))?$")


def _name(column: str) -> str | None:
    """The metric name of a column (module docstring), or None for a column this reader does not know."""
    m = _SPLIT.match(column)
    if m is None:
        return None
    kind, term, split, task = m.groups()
    held_out = split != "trn"
    if term is None:
        base = "loss" if kind in ("rmse", "l2") else f"{kind}"
        name = f"val_{base}" if held_out else base
    else:
        name = f"val_{kind}_{term}" if held_out else f"{kind}_{term}"
    return f"{name}_{task}" if task else name


def parse_deepmd_lcurve(line: str, st: State) -> Record | None:
    """An lcurve.out row under its header (module docstring), or None for any other line."""
    text = line.strip()
    m = _HEADER.match(text)
    if m is not None:
        cols = m.group(1).split() + (["lr"] if m.group(2) else [])
        names = [c if c == "lr" else _name(c) for c in cols]
        st.extra[_COLUMNS] = names
        st.extra.pop(_LAST, None)
        return Record(None, {}, claimed=True)
    names = st.extra.get(_COLUMNS)
    if names is None:
        return None
    fields = text.split()
    if len(fields) != len(names) + 1 or not fields[0].isdigit():
        return None
    step = int(fields[0])
    last = st.extra.get(_LAST)
    if last is not None and step <= last:
        return None
    metrics: dict[str, float] = {}
    for name, raw in zip(names, fields[1:], strict=True):
        v = parse_number(raw)
        if v is None:
            return None
        if name is not None:
            metrics[name] = v
    st.extra[_LAST] = step
    return Record(step, metrics)
