"""A training loss that does not move at all: the weights are not being updated (docs/diagnose.md, "A loss that
does not move at all").

Any update, and the noise of a new minibatch, changes a loss in its last printed digits. Two traces in a log say
that nothing changed instead, and an engineer reading them stops looking at the learning rate:

- the per-step losses *recur*: the same values come back in the same order one epoch later (a lag of L logged
  points matches exactly), so the same weights met the same batches again. The weights were never updated:
  frozen_params (the optimiser holds no trainable parameter, or other parameters than the ones evaluated).
- the loss is *bit-identical* over consecutive points while printed with enough digits that any change would show
  (>= 6 significant digits). If it moved before it froze, the updates were running and then the gradient died:
  units saturated or dead (dead_units). If it never moved from the first point, nothing ever updated it
  (frozen_params).

Look-alikes that also keep a loss still are left to their own detectors: a learning rate logged at or collapsing
to ~0 (scheduler_misuse), one far under its optimiser's range (lr_too_low), a loss pinned at exactly 0 or negative
(a data fault), non-finite values (numerics), a loss that has converged to ~0 (a memorised training set), a
frozen value that is a bfloat16 or float16 number (a loss computed in a 16-bit dtype holds a grid value while it
moves by less than the grid's step).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from traindoc.evidence.context import cite_series, loss_series
from traindoc.evidence.detectors.not_learning import lr_collapse, lrs_below_reference, uniform_from_start
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run, Series

# Recurrence: at least 5 aligned pairs, >= 80 % of the overlap equal to the printed digits, and >= 3 distinct values
# among them (a constant loss is the other trace). Five exact matches of a noisy minibatch loss printed to 4
# decimals have a chance of ~(1e-4 / spread)^5 under updates: no healthy log repeats itself, while a frozen model on
# an unshuffled loader repeats every batch (the two real logs in tests/corpus/realworld/*-repeats-each-epoch).
MIN_PAIRS = 5
MIN_MATCH_SHARE = 0.8
MIN_DISTINCT = 3
# Candidate lags come from the last few earlier occurrences of each value, and only the few lags seen most often
# are checked over the whole series: the search stays O(n log n) on a million-point log (checking
# every lag was quadratic: a 1M-step log did not finish in 10 minutes).
RECENT_OCCURRENCES = 4
MAX_CHECKED = 16
# Constancy: >= 5 consecutive equal points printed with >= 6 significant digits. Four-digit prints ("0.6931",
# "2.1384") are left alone: a too-low LR moves a loss by less than 1e-4 per epoch (the dev corpus's flax lr_too_low
# run repeats 2.1384 four times), and a loss pinned at chance is read by the not-learning rules.
MIN_CONSTANT_RUN = 5
MIN_SIG_DIGITS = 6
# A loss frozen at <= 1 % of where it started has converged (HF's "0.0002" on a memorised set), not stalled.
CONVERGED_SHARE = 0.01
# A logged LR this small is no update at all: the schedule, not the parameters, froze the loss.
ZERO_LR = 1e-12
# Significand bits of bfloat16 (8) and float16 (11). A loss computed in a 16-bit dtype takes only the values of that
# grid (bfloat16 steps 2^-8 of the value, ~0.4 %), so a loss that still moves slowly prints the same grid value for
# many steps: the stillness is the dtype's, not the weights'. A float32 loss printed to 6 digits lands within half
# a unit of its last digit of a bfloat16 value by chance ~0.03 % of the time (float16: ~0.2 %), so a frozen value
# on either grid is read as a 16-bit loss and left alone.
SIXTEEN_BIT_SIGNIFICANDS = (8, 11)


def significant_digits(x: float) -> int:
    """Digits of the shortest decimal that prints x (16771.4415 -> 9, 0.6931 -> 4, 100.0 -> 1)."""
    if not np.isfinite(x) or x == 0:
        return 0
    digits = Decimal(repr(float(x))).normalize().as_tuple().digits
    return len(digits)


def recurrence(v: np.ndarray) -> tuple[int, int, float] | None:
    """(lag, matched pairs, share) of the shortest lag at which the series repeats itself exactly.

    O(n log n) whatever the log's length: the candidate lags are the distances back to the last RECENT_OCCURRENCES
    earlier occurrences of each value, found by a stable sort (a value that recurs one period later has an
    occurrence exactly one lag back, unless it also recurs more often within the period), counted; the MAX_CHECKED
    lags seen most often (a true period is seen at nearly every point, a chance coincidence of printed digits
    rarely) are checked over the whole series, shortest first.
    """
    n = v.size
    order = np.argsort(v, kind="stable")  # equal values stay in step order, so later minus earlier is a lag
    sv = v[order]
    found = []
    for k in range(1, RECENT_OCCURRENCES + 1):
        same = sv[k:] == sv[:-k]
        found.append(order[k:][same] - order[:-k][same])
    lags_seen, seen_count = np.unique(np.concatenate(found), return_counts=True)
    keep = (lags_seen >= 2) & (lags_seen <= n - MIN_PAIRS) & (seen_count >= MIN_PAIRS)
    lags_seen, seen_count = lags_seen[keep], seen_count[keep]
    frequent = lags_seen[np.lexsort((lags_seen, -seen_count))[:MAX_CHECKED]]  # most often seen; ties: shorter
    for lag in sorted(int(x) for x in frequent):
        a, b = v[:-lag], v[lag:]
        eq = a == b
        pairs = int(eq.sum())
        if pairs >= MIN_PAIRS and eq.mean() >= MIN_MATCH_SHARE and np.unique(a[eq]).size >= MIN_DISTINCT:
            return lag, pairs, float(eq.mean())
    return None


def constant_run(v: np.ndarray) -> tuple[int, int] | None:
    """(start index, length) of the longest run of exactly equal consecutive values, when >= MIN_CONSTANT_RUN."""
    if v.size == 0:
        return None
    starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    lengths = np.diff(np.append(starts, v.size))
    k = int(np.argmax(lengths))  # the first of the longest runs, as a left-to-right scan keeps
    return (int(starts[k]), int(lengths[k])) if lengths[k] >= MIN_CONSTANT_RUN else None


def on_16bit_grid(x: float) -> bool:
    """Whether `x`, as printed, is a bfloat16 or float16 number (the nearest one within half its last digit)."""
    if not np.isfinite(x) or x == 0:
        return False
    half_unit = 0.5 * 10.0 ** (math.floor(math.log10(abs(x))) - significant_digits(x) + 1)
    m, e = math.frexp(x)
    return any(abs(math.ldexp(round(math.ldexp(m, b)), e - b) - x) <= half_unit for b in SIXTEEN_BIT_SIGNIFICANDS)


def _lr_explains(run: Run) -> bool:
    """A logged LR at ~0 or collapsing there, or one far under its range: the LR detectors own the still loss."""
    if lr_collapse(run) is not None or lrs_below_reference(run):
        return True
    lr = run.series("lr")
    if lr is None:
        return False
    _, v = lr.finite()
    return bool(v.size) and float(np.max(np.abs(v))) <= ZERO_LR


def _usable(run: Run) -> tuple[Series, np.ndarray, np.ndarray] | None:
    loss = loss_series(run)
    if loss is None or loss.values.size < MIN_PAIRS + 2:
        return None
    if not np.all(np.isfinite(loss.values)):
        return None  # a non-finite loss is the numerics detectors' evidence
    st, v = loss.finite()
    if float(np.min(v)) <= 0:
        return None  # a loss at exactly 0 or negative is a data fault's trace (labels out of range)
    if _lr_explains(run):
        return None
    return loss, st, v


def detect_loss_recurs(run: Run) -> list[Finding]:
    """The per-step losses come back exactly, in order, one period later: the same weights on the same batches."""
    got = _usable(run)
    if got is None:
        return []
    loss, st, v = got
    rec = recurrence(v)
    if rec is None:
        return []
    lag, pairs, share = rec
    i = int(np.argmax(v[:-lag] == v[lag:]))
    ev = [f"the loss repeats itself exactly every {lag} logged points: {pairs} aligned values equal to the printed "
          f"digits ({share:.0%} of the overlap), e.g. {fmt(float(v[i]))} at steps {int(st[i])} and "
          f"{int(st[i + lag])} {cite_series(loss)}",
          "the same losses on the same batches mean the same weights: no update reached the parameters"]
    return [Finding("detect_loss_recurs", "frozen_params", 0.7,
                    "the loss repeats exactly from one epoch to the next: the parameters are not updated",
                    ev, int(st[i + lag]), {"lag": lag, "pairs": pairs, "share": share})]


def _frozen_stretch(run: Run) -> tuple[Series, np.ndarray, np.ndarray, int, int, float] | None:
    """(loss, steps, values, start, length, value) of a bit-identical stretch printed with enough digits."""
    got = _usable(run)
    if got is None:
        return None
    loss, st, v = got
    cr = constant_run(v)
    if cr is None:
        return None
    start, length = cr
    value = float(v[start])
    if significant_digits(value) < MIN_SIG_DIGITS or on_16bit_grid(value):
        return None
    if value <= CONVERGED_SHARE * float(np.max(np.abs(v[: start + 1]))):
        return None
    return loss, st, v, start, length, value


def _stretch_evidence(loss: Series, st: np.ndarray, start: int, length: int, value: float) -> str:
    return (f"the loss is {fmt(value)} to every printed digit ({significant_digits(value)} significant) for {length} "
            f"consecutive points, steps {int(st[start])}-{int(st[start + length - 1])} {cite_series(loss)}")


def detect_loss_froze_after_moving(run: Run) -> list[Finding]:
    """The loss moved, then stayed bit-identical (>= 5 points, >= 6 significant digits): the gradient died."""
    got = _frozen_stretch(run)
    if got is None:
        return []
    loss, st, v, start, length, value = got
    if start == 0 or float(v[0]) == value:
        return []
    ev = [_stretch_evidence(loss, st, start, length, value),
          f"it moved before it froze ({fmt(float(v[0]))} at step {int(st[0])}): the updates ran, then no gradient "
          "came back, which is what saturated or dead units give"]
    return [Finding("detect_loss_froze_after_moving", "dead_units", 0.65,
                    "the loss froze to the last digit after training began: units are dead or saturated",
                    ev, int(st[start]), {"value": value, "run_length": length, "moved_first": True})]


# A loss that never moved and sits exactly at ln(k) from the start (not_learning.uniform_from_start): the still loss
# is what units passing no signal give, frozen or not, so frozen_params is listed, below the look-alikes' chance-level
# readings (not_learning.UNEXPLAINED), not named.
NEVER_MOVED_UNIFORM = 0.3


def detect_loss_never_moved(run: Run) -> list[Finding]:
    """The loss is bit-identical from its first logged point (>= 5 points, >= 6 significant digits)."""
    got = _frozen_stretch(run)
    if got is None:
        return []
    loss, st, _, start, length, value = got
    if start != 0:
        return []
    ev = [_stretch_evidence(loss, st, start, length, value),
          "it never moved from the first logged point: nothing updated the parameters"]
    uniform = uniform_from_start(run)
    if uniform is not None:
        # exactly ln(k) from the start: an output that ignores its input (zero or symmetric weights, units dead or
        # saturated at init), which frozen random weights do not give; their gradient is 0, so nothing moves either
        ev.append(f"{uniform}: units passing no signal leave no gradient to update the weights with, so the loss "
                  "stays put whether or not the parameters are frozen")
    return [Finding("detect_loss_never_moved", "frozen_params", NEVER_MOVED_UNIFORM if uniform else 0.6,
                    "the loss never changes to the last digit: the parameters are not updated",
                    ev, int(st[start]), {"value": value, "run_length": length, "moved_first": False})]


DETECTORS = [detect_loss_recurs, detect_loss_froze_after_moving, detect_loss_never_moved]
