"""Compounding growth of a logged series: the shape that tells an explosion from a spike.

An explosion feeds on itself: each step's gradient grows the weights that grow the next gradient (Pascanu et al.
2013, "On the difficulty of training recurrent neural networks"), so the series multiplies log point after log
point. A spike (an LR overshoot, one bad batch) jumps in one or two points and then settles or stops.

Thresholds: >= 5 consecutive log points (4 ratios), each >= 1.5x the one before, >= 1000x in all (three orders of
magnitude). A healthy grad norm or loss is noisy around a level or falling, so 4 rises in a row are ~1/24 by chance
and 1.5x each is far beyond its step-to-step noise; linear accumulation (gradients summed without zero_grad: n,
n+1, ...) rises by ratios that shrink towards 1 and fails the 1.5x floor after a few points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPOUND_POINTS = 5
COMPOUND_RATIO = 1.5
COMPOUND_TOTAL = 1e3


@dataclass(frozen=True)
class Compounding:
    first_step: int
    last_step: int
    points: int
    factor: float  # last / first value of the stretch
    per_point: float  # geometric mean factor per log point


def compounding_growth(steps: np.ndarray, values: np.ndarray) -> Compounding | None:
    """The stretch of consecutive finite points that each grow >= 1.5x with the largest total factor (>= 1000x over
    >= 5 points), or None. O(n), vectorised."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < COMPOUND_POINTS:
        return None
    # grows[k]: point k + 1 is >= 1.5x point k (> 0); a stretch is a run of consecutive True, from its first k to one
    # past its last. Vectorised: a million-point log is read in milliseconds (bench/bench_diagnose.py)
    with np.errstate(invalid="ignore"):
        grows = (v[:-1] > 0) & (v[1:] >= COMPOUND_RATIO * v[:-1])
    edges = np.diff(np.concatenate(([0], grows.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # ends: one past the run's last True
    keep = ends - starts + 1 >= COMPOUND_POINTS
    if not keep.any():
        return None
    starts, ends = starts[keep], ends[keep]
    factors = v[ends] / v[starts]
    ok = factors >= COMPOUND_TOTAL
    if not ok.any():
        return None
    # the largest factor; on a tie, the earliest stretch (the loop this replaced kept the first it met)
    b = int(np.flatnonzero(ok)[np.argmax(factors[ok])])
    i, j = int(starts[b]), int(ends[b])
    npts = j - i + 1
    factor = float(factors[b])
    return Compounding(int(steps[i]), int(steps[j]), npts, factor, factor ** (1.0 / (npts - 1)))


# How far one log point's growth factor may stray from the stretch's median factor and still count as the same
# factor: a factor of 2 either way (|ln r - median ln r| <= ln 2). Gradient descent whose step is past 2/lambda_max
# multiplies the error along the top curvature direction by |1 - lr*lambda| at every update (LeCun et al. 1998,
# "Efficient BackProp" §5), so once that direction leads, the loss grows by the same factor per evenly spaced log
# point (the linear model of the real-world Keras log: 3.555x at each of 12 epochs, within 0.1 %). Growth fed back
# through the weights (an RNN's recurrent gain, Pascanu et al. 2013) changes its own rate as the weights grow: the
# real-library RNN's factor moves 7x between its first and later points. Twice or half the median is well outside
# the first and well inside the second.
CONSTANT_FACTOR = 2.0


def constant_factor(steps: np.ndarray, values: np.ndarray, c: Compounding) -> bool:
    """The compounding stretch `c` of (steps, values) grows by one factor per point: every point's factor within
    CONSTANT_FACTOR of the stretch's median factor, and the log points evenly spaced in steps (a factor per point
    is a factor per update only then)."""
    idx = np.nonzero((steps >= c.first_step) & (steps <= c.last_step))[0]
    v, s = values[idx], steps[idx].astype(float)
    if v.size < COMPOUND_POINTS or not bool((v > 0).all()):
        return False
    gaps = np.diff(s)
    if gaps.size == 0 or float(gaps.min()) <= 0 or float(gaps.max()) > 1.01 * float(gaps.min()):
        return False
    lr = np.log(v[1:] / v[:-1])
    return bool(np.abs(lr - np.median(lr)).max() <= np.log(CONSTANT_FACTOR))
