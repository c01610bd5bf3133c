"""DeepXDE's loss history file (`loss.dat`, written by `dde.saveplot(..., issave=True)`).

DeepXDE (Lu et al. 2021, "DeepXDE: A deep learning library for solving differential equations", SIAM Review 63(1))
trains physics-informed networks and neural operators (DeepONet) and saves the loss history as a numpy table under
one fixed header: the step, then every loss term on the training points, then the same terms on the test points,
then the test metrics:

    # step, loss_train, loss_test, metrics_test
    0.000000000000000000e+00 3.99e-02 1.43e-01 ... 3.80e-02 1.37e-01 ...
    1.000000000000000000e+03 2.24e-02 6.96e-04 ... 2.38e-02 5.39e-04 ...

A PINN has one term per PDE residual and one per boundary or initial condition, so a row of n terms and m metrics
has 1 + 2n + m columns. The header does not say n: m has the parity of the value count, and DeepXDE's test set
keeps the training's boundary and initial points (only the residual gets fresh test points), so a condition term
has the same value in both halves of the row (exactly so in the committed files read here) and the split that pairs
identical values is the one the file was written with. Among m = parity, parity + 2, ... (at most MAX_METRICS) the
first row picks the split with the most such identical pairs, the smallest m where no pair is identical.

The training `loss` is the sum of the training terms (the objective DeepXDE minimises, its "Train loss" with the
terms' weights already applied) and `val_loss` the sum of the test terms: DeepXDE evaluates its test set at every
display step while training and has no other held-out split, so it is the run's validation curve. The terms of a
PINN span orders of magnitude and trade against each other (a residual can rise while a boundary term falls), so
they are not read as series of their own. DeepXDE's metrics are errors of the solution on the test points ("l2
relative error", "MSE", "mean l2 relative error"), read as `val_error` (`val_error_k` when there are several):
lower is better. DeepXDE's losses are regression losses (mean squared residuals by default), with no entropy floor:
the reader says so in run.meta["regression_loss"] (detectors/data.regression_run), as no metric name in the file
shows it. The step is the optimiser's iteration; DeepXDE writes the last row again when a second `model.train()`
(L-BFGS after Adam) starts, and a step that does not rise is no new point. The numbers are numpy's `%.18e`, so a
row is read only under the header (the numbers alone could be any table). The generic reader took nothing from this
file.
"""

from __future__ import annotations

import math
import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_HEADER = re.compile(r"^#\s*step,\s*loss_train,\s*loss_test,\s*metrics_test\s*$")
_ON = "deepxde_loss_dat"
_SPLIT = "deepxde_loss_dat_split"
_LAST = "deepxde_loss_dat_last_step"
# DeepXDE models name one metric as a rule and rarely more than two or three; a split with more metric columns than
# this is not tried (it would leave a PINN of many terms read as a table of metrics).
MAX_METRICS = 4


def _split(values: list[str]) -> tuple[int, int] | None:
    """(n loss terms, m metrics) of a row's 2n + m value fields (module docstring), or None when no n >= 1 fits."""
    total = len(values)
    best: tuple[int, int] | None = None
    best_same = -1
    for m in range(total % 2, min(MAX_METRICS, total - 2) + 1, 2):
        n = (total - m) // 2
        same = sum(1 for j in range(n) if values[j] == values[n + j])
        if same > best_same:
            best, best_same = (n, m), same
    return best


def parse_deepxde_loss_dat(line: str, st: State) -> Record | None:
    """A loss.dat row under its header (module docstring), or None for any other line."""
    text = line.strip()
    if _HEADER.match(text):
        st.extra[_ON] = True
        st.extra["regression_loss"] = True
        st.extra.pop(_SPLIT, None)
        st.extra.pop(_LAST, None)
        return Record(None, {}, claimed=True)
    if not st.extra.get(_ON):
        return None
    fields = text.split()
    if len(fields) < 3:
        return None
    nums = [parse_number(f) for f in fields]
    if any(v is None for v in nums):
        return None
    step_value = nums[0]
    assert step_value is not None
    if not math.isfinite(step_value) or step_value < 0 or step_value != int(step_value):  # no step: not a row
        return None
    split = st.extra.get(_SPLIT)
    if split is None:
        split = _split(fields[1:])
        if split is None:
            return None
        st.extra[_SPLIT] = split
    n, m = split
    if len(fields) != 1 + 2 * n + m:
        return None
    step = int(step_value)
    last = st.extra.get(_LAST)
    if last is not None and step <= last:
        return Record(None, {}, claimed=True)
    values = [float(v) for v in nums[1:] if v is not None]
    metrics = {"loss": sum(values[:n]), "val_loss": sum(values[n : 2 * n])}
    for k in range(m):
        metrics["val_error" if m == 1 else f"val_error_{k + 1}"] = values[2 * n + k]
    st.extra[_LAST] = step
    return Record(step, metrics)
