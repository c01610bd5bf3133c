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
    >= 5 points), or None. O(n)."""
    best: Compounding | None = None
    n = values.size
    i = 0
    while i < n - 1:
        j = i
        while j + 1 < n and values[j] > 0 and values[j + 1] >= COMPOUND_RATIO * values[j]:
            j += 1
        npts = j - i + 1
        if npts >= COMPOUND_POINTS and values[i] > 0:
            factor = float(values[j] / values[i])
            if factor >= COMPOUND_TOTAL and (best is None or factor > best.factor):
                best = Compounding(int(steps[i]), int(steps[j]), npts, factor, factor ** (1.0 / (npts - 1)))
        i = max(j, i + 1)
    return best


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
