"""Trends of a held-out loss curve that a point-wise 10 % turn misses (docs/diagnose.md, "A held-out loss that
climbs by small steps; a gap that opens").

Two readings an engineer makes of a short validation history, both used by `detect_overfitting`:

- the held-out loss rises at every evaluation after its minimum: values that only scatter around a level come in
  ascending order at k consecutive evaluations with probability 1/(k+1)! (exchangeable values), so 4 rises in a row
  (1 in 120) are a trend, however small each step is, while 2 or 3 (1 in 6, 1 in 24) are not by themselves;
- the held-out/train loss ratio grows at every evaluation: the training loss falls faster than the held-out loss at
  each of them, the generalisation gap opens, which is memorisation's signature (docs/diagnose.md, overfitting row).
"""

from __future__ import annotations

import numpy as np

from traindoc.evidence.stats import downsample, mann_kendall_z
from traindoc.ingest.model import Series


def rises_to_end(values: np.ndarray, imin: int) -> int:
    """How many consecutive strict rises lead from the minimum at `imin` to the last value (0 when the curve does
    not rise at every evaluation after it)."""
    after = values[imin:]
    if after.size < 2 or not bool(np.all(np.diff(after) > 0)):
        return 0
    return int(after.size - 1)


def rises_at_end(values: np.ndarray) -> int:
    """How many consecutive strict rises end the curve (0 when its last step is not a rise). For a log that is a
    late window of its run (detect_overfitting's LATE_WINDOW_EVALS), where the held-out best lies before the window
    and the window's own lowest point is only where the log happens to begin."""
    k = 0
    while k + 1 < values.size and values[-1 - k] > values[-2 - k]:
        k += 1
    return k


def train_level_at_evals(loss: Series, eval_steps: np.ndarray) -> np.ndarray | None:
    """The training loss over the interval before each evaluation: the median of its finite points logged after the
    previous evaluation and up to this one (the last one before it when the interval holds none). None when an
    evaluation precedes every training point or a level is not positive (no ratio to read)."""
    lst, lv = loss.finite()
    out = np.empty(eval_steps.size)
    prev = -np.inf
    for i, s in enumerate(eval_steps):
        seg = lv[(lst > prev) & (lst <= s)]
        if seg.size == 0:
            seg = lv[lst <= s][-1:]
        if seg.size == 0:
            return None
        out[i] = float(np.median(seg))
        prev = s
    return out if bool(np.all(out > 0)) else None


def gap_ratios(loss: Series | None, eval_steps: np.ndarray, eval_values: np.ndarray) -> np.ndarray | None:
    """The held-out/train loss ratio at each evaluation (train_level_at_evals), or None when it cannot be read."""
    if loss is None or eval_values.size < 2 or not bool(np.all(eval_values > 0)):
        return None
    level = train_level_at_evals(loss, eval_steps)
    return None if level is None else eval_values / level


def widening_gap(ratio: np.ndarray | None) -> tuple[int, float, float]:
    """(how many consecutive evaluations up to the last one the held-out/train loss ratio grew at, the ratio where
    that run of growth began, the ratio at the end); (0, nan, nan) when it cannot be read."""
    if ratio is None or ratio.size < 2:
        return 0, float("nan"), float("nan")
    k = 0
    while k + 1 < ratio.size and ratio[-1 - k] > ratio[-2 - k]:
        k += 1
    return k, float(ratio[-1 - k]), float(ratio[-1])


# A held-out loss that keeps climbing after its best with the scatter of a real evaluation set (a dip at one epoch,
# two rises the next) never shows an unbroken run of rises, yet an engineer reads fourteen epochs of a validation
# curve drifting up under a training loss that keeps falling as memorisation (Chollet's Jena GRU, the book's own
# reading). The Mann-Kendall test (Mann 1945; Kendall 1975; evidence/stats.py) measures that trend by ranks: it asks
# no step to be a rise, only that later points sit above earlier ones far more often than exchangeable values would.
# - >= SUSTAINED_POINTS evaluations from the best to the end: the test's normal approximation is usable from ~8-10
#   points (Kendall 1975), and 8 epochs past the best is a run trained well past its held-out optimum;
# - z >= SUSTAINED_Z = 3.09, one-sided p < 0.001: below the 1 in 120 of the four-rises reading above, so this is no
#   looser a test of "a trend, not a wobble" (8 points need at most one discordant pair of the 28 to reach it);
# - the training loss over the same steps falls with the same significance (z <= -SUSTAINED_Z): memorisation's other
#   half; a training loss that is flat or rising beside a rising held-out loss is an unstable run, not a fit.
SUSTAINED_POINTS = 8
SUSTAINED_Z = 3.09
# the test compares every pair (O(n^2) memory): longer curves are read as medians of <= 200 bins, which keeps a trend
# (a bin's median moves with it) and only makes the test more conservative (fewer points, smaller z)
SUSTAINED_BINS = 200


def sustained_climb(eval_values: np.ndarray, eval_steps: np.ndarray, loss: Series | None
                    ) -> tuple[int, float, float] | None:
    """(evaluations from the held-out minimum to the end, held-out Mann-Kendall z, training-loss z over the same
    steps) when both trends are significant (see SUSTAINED_*); else None."""
    if loss is None or eval_values.size < SUSTAINED_POINTS:
        return None
    imin = int(np.argmin(eval_values))
    after = eval_values[imin:]
    if after.size < SUSTAINED_POINTS:
        return None
    z_eval = mann_kendall_z(downsample(eval_steps[imin:], after, SUSTAINED_BINS, "median")[1])
    if z_eval < SUSTAINED_Z:
        return None
    lst, lv = loss.finite()
    keep = lst >= eval_steps[imin]
    if int(keep.sum()) < SUSTAINED_POINTS:
        return None
    z_train = mann_kendall_z(downsample(lst[keep], lv[keep], SUSTAINED_BINS, "median")[1])
    if z_train > -SUSTAINED_Z:
        return None
    return int(after.size), float(z_eval), float(z_train)
