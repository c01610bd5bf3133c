"""A NaN some loss terms carry while the others stay finite: made inside those terms, not in the weights
(docs/diagnose.md, "A NaN confined to some loss terms").

A model's loss terms are computed from one forward pass through shared weights (a detector's box, objectness and
class terms read one head's outputs; a multi-task loss's terms share the backbone). A NaN written into the weights by
an update (an LR too high diverging, a float16 gradient overflow applied) makes every output NaN, so every term goes
non-finite with the total, and stays so: the rule NanContext's `recovers` rests on, across terms instead of time. So
when the total loss is non-finite at logged steps where some of its terms are finite at every one of those steps,
the weights are finite there: the NaN is made inside the failing terms' own computation, an op on their targets or
their selection (a mean over an empty selection, a ratio with no positive sample in the batch, an IoU or log of a
degenerate box) that nothing guards. That guard is the fix whether or not the targets are at fault (detect_nan_inf
names the op first; the targets feeding it are data_pipeline_bug's reading, which the finite terms also narrow: the
inputs every term reads are finite). An LR too high does not leave this trace, so it is not the first reading.

Thresholds: the total non-finite at CONFINED_POINTS logged steps or more from its first non-finite one (a single
point could be a one-off), and each term called finite is finite at CONFINED_POINTS or more of those steps, and at
every one of them it is logged at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.evidence.context import cite_series, first_nonfinite, loss_series, named_loss_terms
from traindoc.ingest.model import Run

CONFINED_POINTS = 2


@dataclass(frozen=True)
class ConfinedNan:
    step: int  # the total's first non-finite step
    failing: list[str]  # terms non-finite at those steps
    finite: list[str]  # terms finite at every one of them
    evidence: str


def confined_terms(run: Run) -> ConfinedNan | None:
    return stats.cached(run, "nan_confined_terms", lambda: _confined_terms(run))


def _confined_terms(run: Run) -> ConfinedNan | None:
    total = loss_series(run)
    first = first_nonfinite(total)
    if total is None or first is None:
        return None
    bad_steps = total.steps[(total.steps >= first) & ~np.isfinite(total.values)]
    if bad_steps.size < CONFINED_POINTS:
        return None
    failing, finite = [], []
    # a run that logs no total sums its terms (context.loss_series): the same test holds on the summed total
    for t in named_loss_terms(run):
        vals = t.values[np.isin(t.steps, bad_steps)]
        if vals.size < CONFINED_POINTS:
            continue
        (finite if bool(np.isfinite(vals).all()) else failing).append(t)
    if not failing or not finite:
        return None
    ev = (f"the loss is non-finite at {bad_steps.size} logged steps from step {first} {cite_series(total)}, where "
          f"{', '.join(t.name for t in failing[:4])} {'is' if len(failing) == 1 else 'are'} non-finite too and "
          f"{', '.join(t.name for t in finite[:4])} {'stays' if len(finite) == 1 else 'stay'} finite at every one of "
          f"them {cite_series(finite[0])}: the terms read one forward pass, so the weights are finite (a NaN in them "
          f"would reach every term) and the NaN is made inside the failing terms' own computation")
    return ConfinedNan(first, [t.name for t in failing], [t.name for t in finite], ev)
