"""A NaN the held-out loss shows first: some inputs make it, not the weights (docs/diagnose.md, "A NaN the held-out
loss shows first").

An evaluation runs the model on the weights of that moment, and a NaN written into the weights by an update stays
there: every later loss is NaN (the rule NanContext's `recovers` rests on). So a held-out loss that is non-finite at
an evaluation while the train loss is finite at a logged step after it was computed through finite weights: some
held-out inputs make the forward pass non-finite, NaN/Inf in those inputs or an op they drive to 0/0, log 0 or the
square root of a negative (a per-sample normalisation of an all-zero row, a standardisation of a blank image), or,
in float16, an activation those inputs push past 65504. An LR too high and a float16 gradient overflow act through
the weights (the update writes inf/NaN into them): they make the train loss non-finite first, never a held-out loss
ahead of it, so neither reads this trace. When the train loss then goes non-finite too, the same kind of input
reached a train batch. Which of the two readings that are left, NaN in the inputs or an op they drive to NaN, the
log cannot tell: both are listed level (detect_nan_inf, detect_heldout_nan_first), below the report threshold.

A held-out loss non-finite with the train loss finite at every point is detect_heldout_nonfinite's (the held-out
data alone); a NaN after a blow-up, a climbing loss or an LR change is the LR's (NanContext.lr_lead), whatever the
held-out loss shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.evidence.context import cite_series, loss_series, nan_context
from traindoc.evidence.heldout import first_nonfinite_heldout_losses
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run


@dataclass(frozen=True)
class InputsFirst:
    metric: str  # the held-out loss that went non-finite first
    step: int  # its first non-finite evaluation
    finite_until: int  # the last logged step with a finite train loss (> step, or = step with a finite grad norm)
    evidence: str


def inputs_first(run: Run) -> InputsFirst | None:
    return stats.cached(run, "nan_inputs_first", lambda: _inputs_first(run))


def _inputs_first(run: Run) -> InputsFirst | None:
    ctx = nan_context(run)
    loss = loss_series(run)
    if ctx is None or loss is None or not ctx.loss_nan or ctx.recovers or ctx.lr_lead or ctx.from_start:
        return None
    steps, vals = loss.finite()
    for name, s, i in first_nonfinite_heldout_losses(run):
        first = int(s.steps[i])
        after = steps[(steps > first) & (steps <= ctx.step)]
        if after.size == 0 and _finite_update_at(run, first, steps):
            after = np.array([first])
        if after.size == 0:
            continue  # no finite train loss after it: the weights may already have been NaN at that evaluation
        last = int(after[-1])
        val = float(vals[steps == last][0])
        also = ", grad norm finite" if last == first else ""
        ev = (f"{name} is {fmt(float(s.values[i]))} at step {first} {cite_series(s)} while the train loss is still "
              f"finite at step {last} ({fmt(val)}{also}) {cite_series(loss)}, before it goes non-finite at step "
              f"{ctx.step}: "
              f"the weights were finite at that evaluation (a NaN written into them keeps every later loss NaN), so "
              f"some inputs make the forward pass non-finite (NaN/Inf in them, or an op they drive to 0/0 or log 0); "
              f"an LR too high or a float16 gradient overflow would have reached the train loss first")
        return InputsFirst(name, first, last, ev)
    return None


def _finite_update_at(run: Run, step: int, loss_steps: np.ndarray) -> bool:
    """A finite train loss and a finite grad norm logged at the evaluation's own step: whether the evaluation ran
    before or after that step's update, the weights it saw were finite (an update with a finite gradient keeps
    them finite; a loss alone would not do: the backward pass of x / x.norm() is NaN at 0 where its forward is
    not)."""
    g = run.series("grad_norm")
    if g is None or step not in loss_steps:
        return False
    at = g.values[g.steps == step]
    return bool(at.size and np.all(np.isfinite(at)))
