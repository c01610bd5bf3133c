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
from traindoc.ingest.model import Run, Series

CONFINED_POINTS = 2
# The finite terms' own size through the NaN against their size before it. A NaN made inside one term's op leaves
# the others at their usual size; an update that blew the weights up first drives every output out of range, and the
# terms still finite then read many times their earlier level, the NaN in the others being the end of that
# divergence (the LR or an exploding gradient, which the LR evidence weighs), not an op nothing guards. A training
# loss term that tracks a run's progress falls or wanders within a few-fold of its level; BLOWN_UP_FACTOR = 10 (an
# order of magnitude over the median of its own earlier points, the robust level, BLOWN_UP_BEFORE of them at least so
# one early spike does not set it) is past any such wander and far under the ~1000x of a diverged regression term.
BLOWN_UP_FACTOR = 10.0
BLOWN_UP_BEFORE = 3


@dataclass(frozen=True)
class ConfinedNan:
    step: int  # the total's first non-finite step
    failing: list[str]  # terms non-finite at those steps
    finite: list[str]  # terms finite at every one of them
    evidence: str


def confined_terms(run: Run) -> ConfinedNan | None:
    return stats.cached(run, "nan_confined_terms", lambda: _confined_terms(run))


def _nonfinite_stretch(run: Run) -> tuple[Series, int, np.ndarray] | None:
    """(total loss, first non-finite step, the logged steps where it is non-finite) when it is non-finite at
    >= CONFINED_POINTS steps, else None."""
    total = loss_series(run)
    first = first_nonfinite(total)
    if total is None or first is None:
        return None
    bad_steps = total.steps[(total.steps >= first) & ~np.isfinite(total.values)]
    return (total, first, bad_steps) if bad_steps.size >= CONFINED_POINTS else None


def _confined_terms(run: Run) -> ConfinedNan | None:
    got = _nonfinite_stretch(run)
    if got is None:
        return None
    total, first, bad_steps = got
    failing, finite = [], []
    # a run that logs no total sums its terms (context.loss_series): the same test holds on the summed total
    for t in named_loss_terms(run):
        vals = t.values[np.isin(t.steps, bad_steps)]
        if vals.size < CONFINED_POINTS:
            continue
        (finite if bool(np.isfinite(vals).all()) else failing).append(t)
    if not failing or not finite:
        return None
    if blown_up(finite, first) is not None:
        return None  # the finite terms diverged first: the NaN ends a divergence, not a term's op (BLOWN_UP_FACTOR)
    ev = (f"the loss is non-finite at {bad_steps.size} logged steps from step {first} {cite_series(total)}, where "
          f"{', '.join(t.name for t in failing[:4])} {'is' if len(failing) == 1 else 'are'} non-finite too and "
          f"{', '.join(t.name for t in finite[:4])} {'stays' if len(finite) == 1 else 'stay'} finite at every one of "
          f"them {cite_series(finite[0])}: the terms read one forward pass, so the weights are finite (a NaN in them "
          f"would reach every term) and the NaN is made inside the failing terms' own computation")
    return ConfinedNan(first, [t.name for t in failing], [t.name for t in finite], ev)


def blown_up(terms: list[Series], first: int) -> tuple[str, float, float] | None:
    """Every term still finite at the total's NaN steps has a median there >= BLOWN_UP_FACTOR times the median of
    its own finite points before `first` (BLOWN_UP_BEFORE or more of them): (first term's name, before, at the NaN).
    Every one, not any: a term that grows by design (a KL weight annealed up from ~0) beside terms at their usual size
    is no divergence. None when a term lacks the earlier points or one stayed at its size."""
    out: tuple[str, float, float] | None = None
    for t in terms:
        st, v = t.finite()
        before, after = np.abs(v[st < first]), np.abs(v[st >= first])
        if before.size < BLOWN_UP_BEFORE or after.size == 0:
            return None
        lvl, now = float(np.median(before)), float(np.median(after))
        if not (lvl > 0 and now >= BLOWN_UP_FACTOR * lvl):
            return None
        out = out or (t.name, lvl, now)
    return out


def terms_blown_up(run: Run) -> tuple[str, float, float] | None:
    """The total went non-finite at steps where some loss terms stay finite, and those finite terms had blown up
    (blown_up) by then: the reading confined_terms leaves to the divergence evidence."""
    return stats.cached(run, "nan_terms_blown_up", lambda: _terms_blown_up(run))


def _terms_blown_up(run: Run) -> tuple[str, float, float] | None:
    got = _nonfinite_stretch(run)
    if got is None:
        return None
    _, first, bad_steps = got
    finite = []
    for t in named_loss_terms(run):
        vals = t.values[np.isin(t.steps, bad_steps)]
        if vals.size >= CONFINED_POINTS and bool(np.isfinite(vals).all()):
            finite.append(t)
    return blown_up(finite, first) if finite else None
