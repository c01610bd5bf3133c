"""A NaN loss beside a finite gradient norm: the weights stayed finite, so no step size made the NaN (docs/diagnose.md,
"A NaN loss beside a finite gradient norm").

The gradient norm a trainer logs is computed from the same weights the loss is: a NaN written into the weights by an
update (an LR too high diverging past fp32's range, a float16 gradient overflow applied) makes every later forward
pass NaN, so every later gradient is NaN too, and the grad norm goes non-finite with the loss and stays so (the rule
NanContext's `recovers` and nan_terms' confined terms rest on, here across the loss and its gradients). So when the
loss is non-finite at logged steps where the grad norm is logged finite at every one of them, the weights are finite
there: the NaN is made in the loss's own computation on some batches (an op those batches drive to 0/0 or log 0, or
a float16 overflow in the forward pass whose update a NaN check or loss scaler skipped, so it never reached the
weights). An LR too high does not leave this trace, so it is not the first reading; an op and float16 stay level,
the logs cannot tell them apart.

Thresholds (the same as nan_terms', so one rule holds for every companion series of a NaN):
- the loss non-finite at CONFINED_POINTS (2) logged steps or more from its first non-finite one, and the grad norm
  logged at CONFINED_POINTS or more of those steps and finite at every one: a single point could be a one-off;
- the grad norm at those steps not BLOWN_UP_FACTOR (10x) above the median of its own finite points before the NaN:
  gradients an order of magnitude up are a divergence under way (the blow-up lead NanContext reads; Pascanu et al.
  2013 for exploding gradients), which leaves the LR's reading in place even while they are still finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.evidence.context import cite_series, nan_context, nan_watch_series
from traindoc.evidence.nan_terms import BLOWN_UP_FACTOR, CONFINED_POINTS
from traindoc.ingest.model import Run


@dataclass(frozen=True)
class FiniteGrads:
    step: int  # the loss's first non-finite step
    points: int  # logged steps where the loss is non-finite and the grad norm finite
    evidence: str


def finite_grads(run: Run) -> FiniteGrads | None:
    return stats.cached(run, "nan_finite_grads", lambda: _finite_grads(run))


def _finite_grads(run: Run) -> FiniteGrads | None:
    ctx = nan_context(run)
    loss, g = nan_watch_series(run), run.series("grad_norm")
    # a loss that turns finite again is the recovering NaN's reading (skipped updates, context.NanContext)
    if ctx is None or not ctx.loss_nan or ctx.recovers or loss is None or g is None:
        return None
    first = ctx.step
    bad_steps = loss.steps[(loss.steps >= first) & ~np.isfinite(loss.values)]
    if bad_steps.size < CONFINED_POINTS:
        return None
    at = g.values[np.isin(g.steps, bad_steps)]
    if at.size < CONFINED_POINTS or not bool(np.isfinite(at).all()):
        return None
    gs, gv = g.finite()
    before = np.abs(gv[gs < first])
    if before.size and float(np.median(before)) > 0 and \
            float(np.median(np.abs(at))) >= BLOWN_UP_FACTOR * float(np.median(before)):
        return None  # gradients an order of magnitude up: a divergence under way, the LR's lead (docstring)
    ev = (f"the loss is non-finite at {bad_steps.size} logged steps from step {first} {cite_series(loss)}, and the "
          f"grad norm is finite at every one of the {at.size} logged among them ({stats.fmt(float(at[0]))} at the "
          f"first) {cite_series(g)}: NaN weights would make every gradient NaN, so the weights are finite and the "
          f"NaN is made in the loss's computation on some batches, not by a step size")
    return FiniteGrads(first, int(at.size), ev)
