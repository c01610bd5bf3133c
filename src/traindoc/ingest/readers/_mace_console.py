"""MACE's training console (`<name>_run-<seed>.log` in its log folder, also its stdout).

After every `eval_interval` epochs MACE scores the validation set and logs one line (older releases without the
head, newer ones with it, and an `Initial:` line for the untrained model):

    2024-07-21 14:16:49.644 INFO: Epoch 0: loss=30.7212, RMSE_E_per_atom=5323.5 meV, RMSE_F=1678.3 meV / A
    2026-02-25 13:49:45.983 INFO: Epoch 0: head: Default, loss=1.99465336, RMSE_E_per_atom=   54.74 meV, ...

These are validation errors (newer releases say so: "Started training, reporting errors on validation set"): read
at the epoch as `eval_loss` and `eval_<error>_mev` (`eval_rmse_e_per_atom_mev`, `eval_rmse_f_mev`: the console prints
meV where the results file, _mace_results.py, keeps eV). The line of the untrained model (`Epoch None:` /
`Initial:`) has no epoch and is not read. The stochastic weight averaging announcement (`... with energy weight :
1000.0, forces weight : 100.0 and learning rate : 0.001`) is configuration, claimed so that no other rule reads its
weights as metrics. The generic reader read the epoch lines as a training `loss` and the announcement as three
one-point metrics.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import (
    KEY_CHAR,
    NUM,
    Record,
    State,
    findall_keyed,
    parse_number,
)

# the errors after the loss are taken pair by pair (_ERROR) from the rest of the line: a pattern that also checked
# their sequence, `((?:\s*\w+=\s*NUM\s*[^,=]*,?)+)\s*$`, backtracked exponentially on a line whose end did not
# fit (ten `name=1 word` pairs then `=` took over a minute)
_EPOCH = re.compile(rf"\bEpoch (\d+): (?:head: [\w.-]+, )?loss=({NUM}),(.*)$")
_ERROR = re.compile(rf"(\w+)=\s*({NUM})\s*(meV)?")
_SWA = re.compile(r"\bUsing stochastic weight averaging \(after \d+ epochs\) with energy weight :")


def parse_mace_console(line: str, st: State) -> Record | None:
    """A MACE validation line (module docstring), or None for any other line."""
    if _SWA.search(line):
        return Record(None, {}, claimed=True)
    m = _EPOCH.search(line)
    if m is None:
        return None
    loss = parse_number(m.group(2))
    if loss is None:
        return None
    metrics = {"eval_loss": loss}
    # findall_keyed, not _ERROR.findall: the same pairs, but a long run of word characters with no "=" after it
    # took time quadratic in its length
    for name, raw, unit in findall_keyed(_ERROR, m.group(3), "=", KEY_CHAR, KEY_CHAR):
        v = parse_number(raw)
        if v is not None:
            metrics[f"eval_{name.lower()}{'_mev' if unit else ''}"] = v
    if len(metrics) == 1:
        return None  # MACE prints its errors after the loss: a line with none is not its validation line
    return Record(int(m.group(1)), metrics, eval=True)
