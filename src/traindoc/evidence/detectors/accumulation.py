"""Gradients that accumulate across optimiser steps: a grad norm that behaves like a running sum, and the sawtooth
of a buffer cleared only every few steps (an accumulation loop that steps on every micro-batch)."""

from __future__ import annotations

import math

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.context import (
    BLOW_UP,
    accumulation_steps,
    cite_config,
    cite_series,
    config_number,
    configured_lrs,
    divergence,
    first_nonfinite,
    loss_series,
)
from traindoc.evidence.detectors.optimisation import (
    _validation_cadence,
    detect_grad_explosion,
    detect_zero_grad_sawtooth,
)
from traindoc.evidence.finding import Finding
from traindoc.evidence.grad_total import total_grad_norm
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run, Series

GROWTH = 5.0  # the late grad norm is >= 5x the early one (the linear rule's growth, docs/diagnose.md)
# A mini-batch gradient's norm changes by 10 % or more from one step to the next (different samples, sampling
# noise ~ 1/sqrt(batch)); a buffer that sums every step's gradient changes by about 1/n of itself after n steps.
# Half the run with a median step-to-step change of <= 5 % (half the mini-batch noise) is a sum, not a fresh
# mini-batch gradient.
SMOOTH = 0.05
LOSS_WORSE = 1.5  # the loss ends >= 1.5x its minimum: the growing steps do harm


def _loss_worsened(run: Run) -> str | None:
    """Evidence that the finite loss ends >= LOSS_WORSE x its minimum (the growing steps do harm), or None."""
    loss = loss_series(run)
    if loss is None:
        return None
    _, lv = loss.finite()
    if lv.size < 5:
        return None
    kl = max(2, lv.size // 10)
    end, low = float(np.median(lv[-kl:])), float(np.min(lv))
    if low <= 0 or end < LOSS_WORSE * low:
        return None
    return (f"the loss ends at {fmt(end)}, {end / low:.3g}x its minimum {fmt(low)}: ever larger steps make the run "
            f"worse {cite_series(loss)}")


def detect_grad_norm_running_sum(run: Run) -> list[Finding]:
    """Grad norm that grows >= 5x and then changes by <= 5 % per logged step over the second half of the run:
    the logged gradient is a running sum of every step's gradient (zero_grad never called), which grows while the
    steps point the same way and then creeps as new per-step gradients add little to a huge sum. A fresh
    mini-batch gradient is never that smooth, and exploding gradients grow geometrically (large relative steps).

    0.55 from the grad norm alone; 0.7 when the loss also ends >= 1.5x its minimum (ever larger steps in the same
    direction make the run worse, whatever the LR).
    """
    g = total_grad_norm(run)
    if g is None:
        return []
    st, v = g.finite()
    if v.size < 12 or v.size < 0.9 * len(g):
        return []
    k = max(2, v.size // 10)
    early = float(np.median(v[:k]))
    late = float(np.median(v[-max(3, int(0.3 * v.size)):]))
    if early <= 0 or late < GROWTH * early:
        return []
    half = v[v.size // 2:]
    rel = float(np.median(np.abs(np.diff(half)) / np.maximum(half[:-1], 1e-12)))
    if rel > SMOOTH:
        return []
    ev = [f"grad_norm grew {late / early:.3g}x ({fmt(early)} -> {fmt(late)}) and then changed by a median "
          f"{rel:.1%} per logged step over the second half: a running sum of gradients, not a fresh mini-batch "
          f"gradient {cite_series(g)}"]
    strength = 0.55
    worse = _loss_worsened(run)
    if worse:
        ev.append(worse)
        strength = 0.7
    return [Finding("detect_grad_norm_running_sum", "zero_grad_missing", strength,
                    "gradients accumulate across steps (never zeroed): the grad norm is a running sum", ev,
                    int(st[v.size // 2]), {"growth": late / early, "late_step_change": rel})]


# A buffer that is never cleared holds the sum of every gradient so far: after t steps its norm is at most t times
# the largest per-step gradient, so from the first logged step it climbs at most in proportion to the step count.
# RAMP_POINTS consecutive rises from the first logged point are ~1/24 by chance for noise (4 points in order),
# and a fresh mini-batch gradient falls or stays level as the loss falls (healthy dev runs: <= 3.2x over their
# first six points). RAMP_SLACK lets the per-step gradient itself double as the run degrades; compounding growth
# (exploding gradients, Pascanu et al. 2013) leaves any linear bound within two or three points, which is where
# the ramp is cut: what follows is the blow-up the sum drives, not evidence of its own.
# Three points (two rises, ~1/6 by chance) with the same growth are a shorter ramp, often all a log shows before the
# blow-up: listed (<= 0.45), not confirmed.
RAMP_POINTS = 4
SHORT_RAMP_POINTS = 3
RAMP_SLACK = 2.0
# A three-point ramp that ends in a non-finite loss while every stated LR sits inside its optimiser's range: the
# chance ramp (~1/6) must then also coincide with a blow-up that the LR does not explain, and of the two readings
# left for such a blow-up (summed gradients, docs/diagnose.md's SUMMED_GRADIENTS listing, or gradients exploding
# through the network) only the sum climbs within a bound linear in the step count before it: compounding
# growth (Pascanu et al. 2013) has no such phase. Named just above the report threshold (the SOLE_READING level of
# docs/diagnose.md), no further: the log still shows two rises only (lightning-zero_grad_missing-s0, 0.45 before).
SHORT_RAMP_SANE_LR = 0.55


def _ramp_from_start(st: np.ndarray, v: np.ndarray) -> int:
    """Length of the strictly rising prefix whose growth stays within RAMP_SLACK x the step-count ratio."""
    c = max(float(st[0]), 1.0)  # gradients summed by the first logged step (a log at step 0 holds one)
    n = 1
    while n < v.size and v[n] > v[n - 1] and v[n] / v[0] <= RAMP_SLACK * (float(st[n] - st[0]) + c) / c:
        n += 1
    return n


def _reset_after(run: Run, st: np.ndarray, v: np.ndarray, n: int) -> bool:
    """The buffer is cleared after the ramp by the user's code: the norm falls under half the ramp's top at a step
    that no validation precedes within one logging interval (frameworks clear gradients before validating, so a
    never-cleared loop resets there; a reset elsewhere is code clearing every N steps, the accumulation loop that
    steps on every micro-batch, which the sawtooth rules read)."""
    low = np.nonzero(v[n:] < 0.5 * v[n - 1])[0]
    if not low.size:
        return False
    i = n + int(low[0])
    e = run.series("eval_loss")
    gap = float(st[i] - st[i - 1])
    return e is None or not bool(np.any((e.steps < st[i]) & (e.steps >= st[i] - gap)))


def detect_grad_norm_ramp_from_start(run: Run) -> list[Finding]:
    """The grad norm climbs from the first logged step, every logged point above the one before, >= 5x within a
    bound linear in the step count: gradients summed since step 0 (zero_grad never called). 0.65 when the loss
    then ends >= 1.5x its minimum or non-finite (the growing steps do harm; the blow-up that often follows is the
    sum's doing, and grad_explosion is explained away by it); 0.4 otherwise (a warmup can raise a fresh gradient's
    norm for a while), and then silent where the ramp is a sawtooth's first tooth (detect_zero_grad_sawtooth reads
    it); a three-point ramp at most 0.45."""
    g = total_grad_norm(run)
    if g is None or len(g) < RAMP_POINTS or not np.isfinite(g.values[0]) or g.values[0] <= 0:
        return []
    ok = np.isfinite(g.values)
    stop = int(np.argmin(ok)) if not ok.all() else len(g)
    st, v = g.steps[:stop], g.values[:stop]
    n = _ramp_from_start(st, v)
    if n < SHORT_RAMP_POINTS or v[n - 1] < GROWTH * v[0] or _reset_after(run, st, v, n):
        return []  # (a reset by the code itself, every few steps, is the sawtooth rules' picture)
    ev = [f"grad_norm rises at every logged point from the first: {fmt(float(v[0]))} at step {int(st[0])} -> "
          f"{fmt(float(v[n - 1]))} at step {int(st[n - 1])} ({v[n - 1] / v[0]:.3g}x over {n} points, no faster than "
          f"the step count): the logged gradient is a sum of every step's gradient {cite_series(g)}"]
    strength = 0.4
    loss = loss_series(run)
    bad = first_nonfinite(loss)
    ls = loss.finite()[0] if loss is not None else np.array([], dtype=np.int64)
    worse = _loss_worsened(run)
    blew_up = bad is not None and ls.size > 0 and bad > int(ls[0])
    if blew_up:  # finite first, then non-finite
        ev.append(f"the loss then goes non-finite at step {bad}: the summed steps blow the weights up "
                  f"{cite_series(loss)}")
        strength = 0.65
    elif worse:
        ev.append(worse)
        strength = 0.65
    if strength < 0.5:
        if detect_zero_grad_sawtooth(run):
            # the ramp is the first tooth of a sawtooth that rule reads (and weighs: who clears the buffer); with
            # nothing of its own to add (the loss does not suffer), counting it again would read one observation
            # twice in the noisy-or of the cause's findings
            return []
        ev.append("the loss does not suffer: a warmup can raise a fresh gradient's norm for a while")
    if n < RAMP_POINTS:
        lrs = configured_lrs(run) if blew_up else []
        # (a named optimiser only: the unknown family's ceiling of 0.3 spans Adam's blow-up range)
        if lrs and all(c.family != "unknown" and c.value <= c.reference[2] for c in lrs):
            lr = ", ".join(f"{c.value:.3g}" for c in lrs)
            ev.append(f"only {n} points before the ramp ends, but the LR ({lr}) is within its optimiser's range: "
                      "the blow-up after the ramp is not the LR's, and the climb before it is linear in the step "
                      "count, not compounding")
            strength = SHORT_RAMP_SANE_LR
        else:
            ev.append(f"only {n} points before the ramp ends: a short ramp, listed rather than confirmed")
            strength = min(strength, 0.45)
    return [Finding("detect_grad_norm_ramp_from_start", "zero_grad_missing", strength,
                    "gradients accumulate from the first step (never zeroed): the grad norm climbs with the step "
                    "count", ev, int(st[0]), {"growth": float(v[n - 1] / v[0]), "ramp_points": n})]


CLIMB = 3.0  # the loss ends >= 3x its early minimum
STEADY = 0.7  # the smoothed loss rises on >= 70 % of the logged steps after its minimum
NOT_A_BLOW_UP = 100.0  # and stays within 100x of it: a geometric blow-up is the LR's or the gradients' picture
# Where the minimum may lie: in the first fifth of a long log; in the first half of a short one (< 20 points: ten
# prints of a loss), where a fifth is one or two points and a loss that falls for four prints and then climbs for
# six is the same picture, a buffer never cleared acting as momentum with no friction: the summed step carries the
# weights past the minimum and keeps growing (the loss falls smoothly, then climbs smoothly, no zigzag of a step
# too large). The climb itself must span >= CLIMB_POINTS logged points in both cases, so a short log is read only
# when most of it is the climb.
EARLY_MIN = 0.2
SHORT_LOG = 20
SHORT_EARLY_MIN = 0.5
CLIMB_POINTS = 6
MIN_POINTS = 10  # the fewest that hold a minimum in the first half and CLIMB_POINTS after it with a fall before


def detect_loss_climbs_as_lr_decays(run: Run) -> list[Finding]:
    """The loss reaches its minimum early (first 20 % of the run, first half of a log under 20 points: EARLY_MIN)
    and then climbs steadily to >= 3x it while the
    LR stays level or decays: the updates grow although the LR does not, which is what a gradient buffer that is
    never cleared does (each step applies the sum of every gradient so far). An LR too high diverges from the
    first steps or oscillates, and a decaying schedule calms it; a blow-up by orders of magnitude is left to the
    LR and gradient-explosion rules. Without a grad norm the log cannot show the sum itself, so this stays listed
    (0.45) next to lr_too_high, unless the first steps at the LR trained before the climb (0.55,
    _trained_before_climb) or the climb outlives a halved LR (0.55, _climbs_through_halved_lr)."""
    loss = loss_series(run)
    if loss is None:
        return []
    st, v = loss.finite()
    if v.size < MIN_POINTS or v.size < 0.9 * len(loss):
        return []
    sm = stats.smooth(v, max(3, v.size // 10))  # a tenth of the run: mini-batch noise out, the trend kept
    i = int(np.argmin(sm))
    low, end = float(sm[i]), float(np.median(v[-max(2, v.size // 10):]))
    early = SHORT_EARLY_MIN if v.size < SHORT_LOG else EARLY_MIN
    if i > early * v.size or low <= 0 or not CLIMB * low <= end <= NOT_A_BLOW_UP * low:
        return []
    after = sm[i:]
    if after.size < CLIMB_POINTS or float((np.diff(after) > 0).mean()) < STEADY:
        return []
    lr = run.series("lr")
    if lr is not None:
        _, lrv = lr.finite()
        if lrv.size >= 2 and float(lrv[-1]) > 1.05 * float(np.median(lrv[: max(2, lrv.size // 5)])):
            return []  # a rising LR explains a rising loss
    ev = [f"the loss reached {fmt(low)} by step {int(st[i])} and then climbed steadily to {fmt(end)} "
          f"({end / low:.3g}x; the smoothed loss rose on {float((np.diff(after) > 0).mean()):.0%} of the steps) "
          f"{cite_series(loss)}",
          "while the LR stayed level or decayed: the updates grow by themselves, as when gradients are summed "
          "across steps (zero_grad missing); an LR too high is the other reading"]
    strength = 0.45
    trained = _trained_before_climb(v, sm, i)
    if trained is not None:
        ev[-1] = (f"while the LR stayed level or decayed, after the first steps at that LR had trained: the loss fell "
                  f"from {fmt(trained[0])} to {fmt(low)} by step {int(st[i])} with no logged point above "
                  f"{fmt(trained[1])} ({OVERSHOOT:.3g}x the first) on the way: a step beyond the stable range "
                  f"overshoots from the first updates; updates that sum every gradient so far start as plain steps "
                  f"and grow with the step count (zero_grad missing)")
        strength = TRAINED_FIRST_STRENGTH
    halved = _climbs_through_halved_lr(lr, st, sm, i)
    if halved is not None:
        ev[-1] = (f"while the LR decayed: from {fmt(halved[0])} at the minimum to half that by step {halved[1]}, and "
                  f"the loss kept climbing after it (smoothed {fmt(halved[2])} -> {fmt(halved[3])}) "
                  f"{cite_series(lr)}: a step beyond the stable range is calmed by halving it, updates that sum "
                  f"every gradient so far keep growing (zero_grad missing)")
        strength = HALVED_LR_STRENGTH
    return [Finding("detect_loss_climbs_as_lr_decays", "zero_grad_missing", strength,
                    "the loss climbs steadily while the LR does not grow: gradients may accumulate", ev,
                    int(st[i]), {"climb": end / low, "lr_halved": halved is not None,
                                 "trained_first": trained is not None})]


# The climb follows a phase where the first steps at the run's LR trained: the smoothed loss reached its minimum
# after the first logged point, >= FELL below where it began, and no raw logged point before the minimum rose above
# OVERSHOOT x the first one. A step size beyond the stable range overshoots from the first updates (gradient
# descent diverges once lr x sharpness > 2; below that bound training settles at the edge of stability, where the
# loss keeps falling over long horizons, non-monotonically, rather than climbing steadily: Cohen et al. 2021,
# docs/references.md), so a too-high LR either jumps within the first logged points or does not climb 3x steadily.
# A buffer never cleared applies lr x (g_1 + ... + g_t): its first updates are plain steps at a sane LR, which
# train, and the sum then grows with t, carrying the weights past the minimum (momentum with no friction).
# OVERSHOOT is lr_too_high's 25 % rise that is a trend, not mini-batch noise (the KEEPS_CLIMBING ratio); FELL asks
# the smoothed minimum to lie >= 10 % below the first print, beyond the ~10 % print-to-print scatter of a mini-batch
# quantity (SMOOTH above), so the fall is more than one noisy print. Confirmed at the level of the
# halved-LR reading (HALVED_LR_STRENGTH): with lr_too_high at 0.5 or more, zero_grad_missing at >= 0.5 halves that
# reading (its explained_by, when no stated LR is above its range).
TRAINED_FIRST_STRENGTH = 0.55
OVERSHOOT = 1.25
FELL = 0.9


def _trained_before_climb(v: np.ndarray, sm: np.ndarray, i: int) -> tuple[float, float] | None:
    """(first logged loss, OVERSHOOT x it) when the loss fell to its smoothed minimum at index i (>= 1) by
    >= 10 % of its first value (the minimum <= FELL x the first) with no raw point before it above OVERSHOOT x the
    first; else None."""
    if i < 1 or v[0] <= 0 or sm[i] > FELL * float(v[0]):
        return None
    ceiling = OVERSHOOT * float(v[0])
    if float(np.max(v[: i + 1])) > ceiling:
        return None
    return float(v[0]), ceiling


# The climb outlives a halved LR: the logged LR falls to <= half its value at the loss minimum during the climb, and
# the smoothed loss after that point still rises >= 25 % above its value there (the 25 % of a divergence that is a
# trend, not noise: lr_too_high's "rose >= 25 %"). A step size just past the stable edge (the only LR too high that
# climbs steadily rather than blowing up by orders of magnitude, NOT_A_BLOW_UP) is back inside it once halved, the
# stable range being a bound on lr x curvature (gradient descent diverges past 2 / sharpness: Cohen et al. 2021,
# docs/references.md); a gradient buffer never cleared applies lr x (g_1 + ... + g_t), which grows with t faster
# than a schedule decays. Confirmed (0.55) rather than listed: with lr_too_high at 0.5 or more it halves that
# reading (its explained_by), which stays listed.
HALVED_LR_STRENGTH = 0.55
LR_HALVED = 0.5
KEEPS_CLIMBING = 1.25


def _climbs_through_halved_lr(lr, st: np.ndarray, sm: np.ndarray, i: int
                              ) -> tuple[float, int, float, float] | None:
    """(LR at the loss minimum, first step where it is <= half that, the smoothed loss there, its max after) when
    the loss keeps climbing >= KEEPS_CLIMBING-fold past the halved LR; else None."""
    if lr is None:
        return None
    lst, lrv = lr.finite()
    if lrv.size < 4:
        return None
    at_min = lrv[lst <= st[i]]
    if at_min.size == 0 or float(at_min[-1]) <= 0:
        return None
    lr0 = float(at_min[-1])
    half = np.nonzero((lst > st[i]) & (lrv <= LR_HALVED * lr0))[0]
    if half.size == 0:
        return None
    h_step = int(lst[half[0]])
    j = int(np.searchsorted(st, h_step))
    if j >= sm.size - 2:
        return None  # the LR halves at the very end: no climb after it to read
    there, later = float(sm[j]), float(np.max(sm[j + 1:]))
    if there <= 0 or later < KEEPS_CLIMBING * there:
        return None
    return lr0, h_step, there, later


SUM_MATCH = 0.25  # the first loss within 25 % of k x chance: the same tolerance as the train/eval ratio rule
ABOVE_CHANCE = 1.5  # and >= 1.5x chance: an honest mean cross-entropy of an untrained model sits near ln(C)


def detect_loss_summed_over_accumulation(run: Run) -> list[Finding]:
    """The first logged loss is ~k times chance level, ln(C) for the C classes (num_labels / num_classes, or
    vocab_size for a language model), with gradient_accumulation_steps = k configured: the loss is summed over the
    k micro-batches instead of averaged, so the logged loss and the gradient (the LR, in effect) are k times too
    large. An untrained model's mean cross-entropy is close to ln(C) (near-uniform outputs at a standard init);
    one k times that, with k the accumulation factor, is the sum of k such means."""
    k, kcv = accumulation_steps(run)
    if k is None or k < 2:
        return []
    classes = None
    for group in ("num_classes", "vocab_size"):
        val, ccv = config_number(run, *KEYS[group])
        if val is not None and val >= 2:
            classes, cls_cv = int(val), ccv
            break
    loss = loss_series(run)
    if classes is None or loss is None:
        return []
    st, v = loss.finite()
    if v.size < 3:
        return []
    first = float(np.median(v[:3]))
    chance = float(np.log(classes))
    r = first / chance
    if r < ABOVE_CHANCE or abs(r / k - 1) > SUM_MATCH:
        return []
    ev = [f"the first logged loss {fmt(first)} is {r:.3g}x chance level ln({classes}) = {fmt(chance)} "
          f"{cite_config(cls_cv)} {cite_series(loss)}",
          f"and gradient accumulation is {int(k)} {cite_config(kcv)}: the loss is summed over the micro-batches, "
          f"not averaged (the gradient is {int(k)}x too large as well)"]
    return [Finding("detect_loss_summed_over_accumulation", "grad_accum_bug", 0.65,
                    "the loss is summed over the accumulation steps instead of averaged", ev, int(st[0]),
                    {"first_over_chance": r, "accumulation": k})]


def _log_interval(run: Run) -> float | None:
    g = total_grad_norm(run)
    if g is None or len(g) < 3:
        return None
    return float(np.median(np.diff(g.steps)))


def detect_accumulation_sawtooth(run: Run) -> list[Finding]:
    """A grad-norm sawtooth (repeated monotone ramps that reset: detect_zero_grad_sawtooth's rule) read as an
    accumulation loop: the gradient buffer is cleared every k micro-batches but the optimiser steps on every one,
    so the step grows k-fold through each cycle. Missing zero_grad cleared now and then by the framework (a
    validation loop) draws the same picture, so without more both stay listed (0.4). Resets at a cadence other
    than validation's are the user's code clearing every N steps: 0.55 (detect_zero_grad_sawtooth then drops to
    0.4). With gradient_accumulation_steps = k configured and resets every ~k steps (within 30 %, or within one
    logging interval), the sawtooth has the accumulation period: 0.65."""
    saw = detect_zero_grad_sawtooth(run)
    if not saw:
        return []
    period = saw[0].numbers.get("period")
    ev = [saw[0].evidence[0]]
    k, kcv = accumulation_steps(run)
    strength = 0.4
    if saw[0].numbers.get("at_validation") is False:
        ev.append(saw[0].evidence[-1])
        strength = 0.55
    if k is not None and k >= 2 and period:
        tol = max(0.3 * k, _log_interval(run) or 0.0)
        if abs(period - k) <= tol:
            ev.append(f"the resets come every ~{period:.0f} steps, the accumulation factor {int(k)} "
                      f"{cite_config(kcv)}: the buffer is cleared once per cycle but stepped on every micro-batch")
            strength = 0.65
    if strength < 0.5:
        ev.append("a buffer cleared every few steps while the optimiser steps on every micro-batch (an accumulation "
                  "loop with step() inside it) or zero_grad missing and cleared only by validation: check the loop")
    return [Finding("detect_accumulation_sawtooth", "grad_accum_bug", strength,
                    "the gradient buffer is cleared only every few steps but applied on every step", ev,
                    saw[0].step, {"period": period, "accumulation": k})]


# Phase-locked grad norm (docs/diagnose.md, "An accumulation period the log samples off-beat"). A loop that clears
# the buffer every k micro-batches but steps on each one logs, at micro-batch j of a cycle, the sum of j gradients:
# the norm is a rising function of the step's phase in the cycle, (step - offset) mod k, up to ~k times its
# one-gradient value. A log every d steps with d not dividing k samples the cycle off-beat (k = 8, d = 5: phases 1,
# 6, 3, 0, 5 ...), so no monotone ramps show, but folding the steps on k lines the points up again. Folding on every
# candidate period and offset is a search; its best correlation is compared with the best the same search finds in
# shuffled copies of the same values (order destroyed, values kept), so the test's false-positive rate is that of a
# permutation test, whatever the series' distribution: FOLD_SHUFFLES copies, all beaten by FOLD_MARGIN.
FOLD_MAX_POINTS = 256  # the first points of the run: a cycle shows from the start; bounds the search's cost
FOLD_MIN_POINTS = 20
FOLD_MAX_PERIOD = 64  # accumulation factors in use are 2..64 (HF/Lightning examples 2-32; LLM recipes up to 64)
FOLD_MIN_CYCLES = 4  # a period must repeat at least 4 times in the folded stretch
FOLD_SHUFFLES = 19  # beating all 19 shuffles: p < 0.05
FOLD_MARGIN = 0.1  # and by 0.1 of correlation, so a value at the edge of the null does not count
# The last third of the cycle >= 1.6x its first third: j summed gradients, not sampling noise. The weakest rise a sum
# of j gradients gives is that of uncorrelated ones, whose norm grows as sqrt(j): the median j of the cycle's last
# third over that of its first, square-rooted, is 1.63 for k = 4 and ~1.9-2.0 for k = 8-64, so 1.6 keeps every
# accumulation factor in use (2.0 dropped half the k = 8 cycles of weakly correlated gradients); chance structure is
# the permutation test's job, not this floor's.
FOLD_RISE = 1.6


def _fold_scores(st: np.ndarray, ranks: np.ndarray, unit: int = 1) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Best correlation of the step's phase with each column of `ranks` (n x m), over periods (multiples of `unit`,
    `_held_block`) and offsets."""
    span = float(st[-1] - st[0])
    rc = ranks - ranks.mean(axis=0)
    rn = np.linalg.norm(rc, axis=0)
    best = np.full(ranks.shape[1], -1.0)
    where: list[tuple[int, int]] = [(0, 0)] * ranks.shape[1]
    for p in range(3 * unit, FOLD_MAX_PERIOD * unit + 1, unit):
        if span < FOLD_MIN_CYCLES * p:
            break
        ph = (st[None, :] - np.arange(p)[:, None]) % p  # (offsets x points)
        ph = ph - ph.mean(axis=1, keepdims=True)
        pn = np.linalg.norm(ph, axis=1)
        ok = pn > 0
        if not ok.any():
            continue
        c = (ph[ok] @ rc) / (pn[ok][:, None] * rn[None, :])
        i = np.argmax(c, axis=0)
        top = c[i, np.arange(c.shape[1])]
        for j in np.flatnonzero(top > best):
            best[j], where[j] = float(top[j]), (p, int(np.flatnonzero(ok)[i[j]]))
    return best, where


# A run whose grad norm grows (parameters drifting to where every gradient is larger, as re-applied stale gradients
# push them) ranks its points by that drift first: the cycle is still there but the late points outrank the early
# ones whatever their phase; a grad norm that collapses (the run wrecked by the oversized steps, units dying) ranks
# them the other way. When the grad norm's last fifth is >= FOLD_TREND x its first fifth, or <= 1 / FOLD_TREND of
# it, the fold is also tried on the log norm's residual around its running median over FOLD_DETREND_POINTS logged
# points (a window of several cycles for the periods searched at the usual log intervals, so the median follows the
# drift and not the cycle); the shuffled copies are drawn from the same residuals, so the permutation test holds as
# before.
FOLD_TREND = 3.0
FOLD_DETREND_POINTS = 9


def _fold(st: np.ndarray, v: np.ndarray, log_scale: bool, unit: int = 1) -> tuple[int, int, float, float, float] | None:
    """Period, offset, correlation, null best and the cycle's last-third / first-third rise of the best fold of `v`,
    or None when it does not beat its shuffled copies by FOLD_MARGIN or rises < FOLD_RISE (`log_scale`: `v` holds
    log norms, the rise is exp of the difference of medians). Periods are multiples of `unit` steps."""
    rng = np.random.default_rng(0)
    cols = [v] + [rng.permutation(v) for _ in range(FOLD_SHUFFLES)]
    ranks = np.stack([np.argsort(np.argsort(c, kind="stable"), kind="stable") for c in cols], axis=1).astype(float)
    best, where = _fold_scores(st.astype(np.int64), ranks, unit)
    if best[0] < float(best[1:].max()) + FOLD_MARGIN:
        return None
    p, o = where[0]
    phase = (st - o) % p
    lo, hi = v[phase < p / 3], v[phase >= 2 * p / 3]
    if not lo.size or not hi.size:
        return None
    rise = (math.exp(float(np.median(hi)) - float(np.median(lo))) if log_scale
            else float(np.median(hi)) / float(np.median(lo)))
    if rise < FOLD_RISE:
        return None
    return p, o, float(best[0]), float(best[1:].max()), rise


# A logger that writes the grad norm at every micro-batch but measures it once per optimiser step (Lightning's
# per-batch `log_dict` under manual optimisation, a value held between updates) repeats each measurement k times.
# Repeats are one observation, not k: shuffling them apart would hand the permutation test a null of k-fold more
# independent points than the series holds, and a blocky series then beats its shuffles by chance at some long
# period. Runs of exactly equal consecutive values are folded as their first point.
def _distinct(st: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(v.size, dtype=bool)
    keep[1:] = v[1:] != v[:-1]
    return st[keep], v[keep]


# Held in blocks of b logged steps, a measurement is taken once per b micro-batches: once per optimiser step of a loop
# that accumulates b of them, which is what a correct accumulation loop does (Lightning's manual optimisation logs
# its on_before_optimizer_step norm so). A buffer cleared every c updates is then a cycle of c x b logged steps; any
# other period is an alias: the measurements all sit at one phase of the micro-batch cycle, and a period of b + 1
# steps sweeps them in order, so it folds the slow drift of an autocorrelated norm (the permutation test assumes
# exchangeable points and fired on 2 of 10 correct Lightning runs at 9 steps for b = 8). b is the length most inner
# runs of equal values have (the first and last may be cut by the log's ends), when at least half have it.
def _held_block(v: np.ndarray) -> int:
    # the runs of the folded stretch only (its first FOLD_MAX_POINTS distinct values): a million-point log is not
    # measured whole for a fold of its start
    bounds = np.concatenate(([0], np.flatnonzero(v[1:] != v[:-1]) + 1, [v.size]))[:FOLD_MAX_POINTS + 2]
    lens = np.diff(bounds)[1:-1]
    if lens.size < FOLD_MIN_CYCLES:
        return 1
    b = int(np.median(lens))
    return b if b >= 2 and float(np.mean(lens == b)) >= 0.5 else 1


# A grad norm that follows the epoch (an unshuffled loader's fixed order of easy and hard batches, a short last
# batch, a held-over partial accumulation at each epoch's end) is periodic in the epoch's length: data order, not a
# buffer cleared every k steps. The epoch length is the median step gap between the logged epoch's integer
# boundaries (>= 2 of them).
def _epoch_length(run: Run) -> float | None:
    s = run.series("epoch")
    if s is None:
        return None
    st, v = s.finite()
    if v.size < 3:
        return None
    fl = np.floor(v + 1e-9)
    starts = st[1:][fl[1:] > fl[:-1]]
    if starts.size < 2:
        return None
    return float(np.median(np.diff(starts)))


def _detrended(v: np.ndarray) -> np.ndarray:
    """log v minus its running median over FOLD_DETREND_POINTS points (centred, shorter at the ends)."""
    lv = np.log(v)
    h = FOLD_DETREND_POINTS // 2
    med = np.array([np.median(lv[max(0, i - h):i + h + 1]) for i in range(lv.size)])
    return lv - med


def detect_grad_norm_phase_locked(run: Run) -> list[Finding]:
    """The grad norm rises with the step's phase in a fixed cycle of k steps (see the constants above): the buffer
    is cleared every k steps while the optimiser steps on every one (an accumulation loop with step() inside it).
    0.55, the reading of a sawtooth whose resets are the code's own (detect_accumulation_sawtooth); 0.65 when the
    period matches a configured gradient_accumulation_steps; 0.4 when it matches the validation cadence (validation
    clears the buffer of a loop that never does: zero_grad_missing draws the same); silent when it is the epoch's
    length (data order, `_epoch_length`). Repeated values are one measurement (`_distinct`). Silent where the ramps show
    directly (detect_zero_grad_sawtooth reads them). A grad norm that grows or collapses >= 3x is folded on its
    detrended log as well (FOLD_TREND)."""
    g = total_grad_norm(run)
    if g is None:
        return []
    raw = g.finite()
    unit = _held_block(raw[1])
    st, v = _distinct(*raw)
    st, v = st[:FOLD_MAX_POINTS], v[:FOLD_MAX_POINTS]
    if v.size < FOLD_MIN_POINTS or float(v.min()) <= 0 or detect_zero_grad_sawtooth(run):
        return []
    got = _fold(st, v, log_scale=False, unit=unit)
    detrended = False
    fifth = max(3, v.size // 5)
    drift = float(np.median(v[-fifth:])) / float(np.median(v[:fifth]))
    if got is None and (drift >= FOLD_TREND or drift <= 1 / FOLD_TREND):
        got = _fold(st, _detrended(v), log_scale=True, unit=unit)
        detrended = True
    if got is None:
        return []
    p, o, corr, null, rise = got
    how = (f" once its {'growth' if drift > 1 else 'collapse'} is taken out (log norm against its running median "
           f"over {FOLD_DETREND_POINTS} points; it moved {drift:.3g}x over the run)" if detrended else "")
    ev = [f"grad_norm rises with the step's phase in a {p}-step cycle{how} (folded on (step - {o}) mod {p}: "
          f"correlation {corr:.2f}, above the {null:.2f} the same search finds in {FOLD_SHUFFLES} shuffled "
          f"copies; the cycle's last third {rise:.3g}x its first) {cite_series(g)}",
          f"a buffer cleared every {p} steps while the optimiser steps on every one sums 1..{p} gradients through "
          f"the cycle: an accumulation loop with optimizer.step() inside it"]
    strength = 0.55
    k, kcv = accumulation_steps(run)
    cadence = _validation_cadence(run)
    epoch = _epoch_length(run)
    dt = float(np.median(np.diff(st)))
    matches_k = k is not None and k >= 2 and abs(p - k) <= max(0.3 * k, dt)
    if not matches_k and epoch and abs(p - epoch) <= max(0.15 * epoch, dt):
        return []
    if matches_k:
        ev.append(f"the cycle is the accumulation factor {int(k)} {cite_config(kcv)}")
        strength = 0.65
    elif cadence and abs(p - cadence) <= max(0.15 * cadence, dt):
        ev.append(f"the cycle is the validation cadence (~{cadence:.0f} steps): validation clears the gradients of "
                  f"a loop that never does, so zero_grad missing draws the same picture")
        strength = 0.4
    return [Finding("detect_grad_norm_phase_locked", "grad_accum_bug", strength,
                    "the grad norm follows a fixed cycle of steps: gradients are summed through it and applied on "
                    "every step", ev, int(st[0]), {"period": p, "offset": o, "fold_correlation": corr,
                                                   "null_best": null, "phase_rise": rise,
                                                   "detrended": detrended})]


# A loop that accumulates k micro-batches and back-propagates each one's mean loss undivided applies k times the
# gradient of the accumulated batch's mean at every step: for plain SGD (with or without momentum) exactly the update
# of an LR k times the configured one (an optimizer that normalises the gradient's scale, Adam's m / sqrt(v), is
# nearly unaffected). The log then shows the LR's own picture, a loss that blows up (non-finite, or >= BLOW_UP times
# its minimum after falling to it; a 10 % rise is overfitting's picture, not this), and cannot tell the two apart;
# the code can (plan/fix_accum.py finds the undivided loss). With k >= 2 configured the undivided loss is listed
# beside lr_too_high, not confirmed (0.4): the user, who can read the loop, picks it.
def detect_blow_up_under_accumulation(run: Run) -> list[Finding]:
    """The loss blows up (non-finite after finite values, or >= 10x its minimum) with gradient accumulation k >= 2
    configured: an undivided loss makes every update k times the configured one. 0.4 (listed)."""
    k, kcv = accumulation_steps(run)
    loss = loss_series(run)
    if k is None or k < 2 or loss is None:
        return []
    d = divergence(run, loss.name)
    if d is None or (d.nonfinite_step is None and d.rise < BLOW_UP - 1):
        return []
    how = (f"goes non-finite at step {d.nonfinite_step}" if d.nonfinite_step is not None else
           f"climbs to {fmt(d.end_value)}, {d.rise + 1:.3g}x")
    ev = [f"the loss fell to {fmt(d.min_value)} by step {d.min_step} and then {how} {cite_series(loss)}",
          f"with gradient accumulation {int(k)} {cite_config(kcv)}: a loop that back-propagates each micro-batch's "
          f"mean loss without dividing it by {int(k)} makes every update {int(k)}x the configured one (an LR "
          f"{int(k)}x too high in effect); the log cannot tell that from the LR itself, the loop can: check that "
          f"the loss is divided by the accumulation steps once"]
    strength = 0.4
    eff = _effective_lr_out_of_range(run, k)
    if eff:
        ev.append(eff)
        strength = EFFECTIVE_LR_STRENGTH
    return [Finding("detect_blow_up_under_accumulation", "grad_accum_bug", strength,
                    "the loss blows up under gradient accumulation: the accumulated update may be k times too large",
                    ev, d.onset_step, {"accumulation": k, "rise": d.rise, "effective_lr_out_of_range": bool(eff)})]


# With plain SGD an undivided accumulated loss is exactly an LR k times the configured one. A configured SGD LR inside
# its reference range (context.LR_REFERENCE, scaled to the run's batch) whose k-fold lies above that range's top makes
# the undivided loss the better reading of a blow-up than the configured LR: still the log's reading, not the loop's
# (a model may be stable only below the reference range), so it stays listed, just under the report threshold.
EFFECTIVE_LR_STRENGTH = 0.45


def _effective_lr_out_of_range(run: Run, k: float) -> str | None:
    for c in configured_lrs(run):
        if c.family != "sgd":
            continue  # Adam's m / sqrt(v) cancels a constant gradient scale: k x the gradient is not k x the step
        hi = c.reference[2]
        if c.value <= hi < k * c.value:
            return (f"the configured SGD LR {c.value:.3g} is inside its range (<= {hi:.3g}) but {int(k)}x it, "
                    f"{k * c.value:.3g}, the LR an undivided accumulated loss trains at, is above it: the blow-up fits "
                    f"the undivided loss better than the configured LR")
    return None


# ------------------------------------------------------------------ an explosion the LR does not explain

# Gradients that are never cleared (zero_grad missing), or cleared only every k micro-batches while step() runs on
# each one (an accumulation loop with step() inside), make every update a sum of many gradients: the step grows
# with the number of gradients summed, not with the LR, and the weights are driven off until the loss and the grad
# norm blow up. From the loss and grad norm alone that is the picture of gradients exploding through the network,
# and the LR cannot tell them apart when it sits inside its optimiser's range (a too-high LR is then not the
# reading). An engineer reading such a blow-up lists the never-cleared buffer beside the explosion: below the
# report threshold, since only the loop (or a smooth running-sum / sawtooth grad norm, which their own detectors
# read) confirms it.
SUMMED_GRADIENTS = 0.3
EXPLOSION = 0.5  # detect_grad_explosion's own reading of a blow-up (a settled spike or a risk stays under 0.45)


def _explosion_at_sane_lr(run: Run) -> tuple[list[str], int | None] | None:
    """Evidence and step of a blow-up (detect_grad_explosion >= 0.5) while every configured LR is within its
    optimiser's range, or None. The LRs first: reading the explosion costs a pass over the grad norm, and both
    look-alikes ask (memoised on the run)."""
    lrs = configured_lrs(run)
    if not lrs or any(c.value > c.reference[2] for c in lrs):
        return None
    return stats.cached(run, "explosion_at_sane_lr", lambda: _explained_blow_up(run, lrs))


def _explained_blow_up(run: Run, lrs: list) -> tuple[list[str], int | None] | None:
    boom = [f for f in detect_grad_explosion(run) if f.strength >= EXPLOSION]
    if not boom:
        return None
    lr = ", ".join(f"{c.value:.3g}" for c in lrs)
    ev = [*boom[0].evidence[:2],
          f"the LR ({lr}) is within its optimiser's range: a too-high LR does not explain the blow-up; updates that "
          "sum many gradients (a buffer never cleared, or cleared every k micro-batches with step() on each) grow "
          "the same way at any LR"]
    return ev, boom[0].step


def detect_explosion_zero_grad_lookalike(run: Run) -> list[Finding]:
    """A blow-up at an LR inside its range: gradients never cleared give the same picture (listed, 0.3)."""
    got = _explosion_at_sane_lr(run)
    if got is None:
        return []
    return [Finding("detect_explosion_zero_grad_lookalike", "zero_grad_missing", SUMMED_GRADIENTS,
                    "a blow-up the LR does not explain: gradients summed over every step look the same", got[0],
                    got[1], {"lookalike": True, "listing": True})]


def detect_explosion_accumulation_lookalike(run: Run) -> list[Finding]:
    """A blow-up at an LR inside its range: an accumulation loop stepping on every micro-batch gives the same picture
    (listed, 0.3)."""
    got = _explosion_at_sane_lr(run)
    if got is None:
        return []
    return [Finding("detect_explosion_accumulation_lookalike", "grad_accum_bug", SUMMED_GRADIENTS,
                    "a blow-up the LR does not explain: stale gradients re-applied on every micro-batch look the same",
                    got[0], got[1], {"lookalike": True, "listing": True})]


# The last accumulation cycle of an epoch, cut short (the Hugging Face Trainer before transformers#39659): a loop that
# divides every micro-batch's loss by k, the configured accumulation steps, also divides the j < k micro-batches left
# at an epoch's end by k, so that step logs j/k of the mean loss and its gradient is j/k of the mean gradient. Both the
# loss and the grad norm at the step that closes an epoch then drop by the same factor and come back on the next step.
# An easier batch lowers the loss but does not scale the gradient's norm by the same factor, and learning does not
# come back: the two ratios (point / mean of its two neighbours) agreeing within PARTIAL_MATCH, while both neighbours
# agree with each other within PARTIAL_FLAT (the run is level there, so the dip is not a trend), is the division.
# PARTIAL_DROP: a drop of >= 25 % (j/k <= 0.75: any j <= 3 of k = 4, half a cycle or less of larger k) is several
# times the step-to-step noise of a level stretch, which PARTIAL_FLAT bounds at 10 %.
PARTIAL_DROP = 0.75
PARTIAL_MATCH = 0.05
PARTIAL_FLAT = 0.1
PARTIAL_CYCLE = 0.6  # confirmed: the exact joint scaling is the division's signature; more epochs, more so
PARTIAL_CYCLES = 0.7


def detect_partial_cycle_at_epoch_end(run: Run) -> list[Finding]:
    """The loss and the grad norm at an epoch's last step both drop >= 25 % by the same factor (within 5 %) and come
    back on the next logged step, on a level stretch (see the constants above): the incomplete last accumulation
    cycle is divided by the full accumulation count. 0.6 for one epoch end, 0.7 for two or more."""
    loss, g, ep = loss_series(run), total_grad_norm(run), run.series("epoch")
    if loss is None or g is None or ep is None or len(loss) < 3:
        return []
    hits, n_hits = _partial_cycle_hits(loss, g, ep)
    if not n_hits:
        return []
    step, e, rl, rg = hits[0]
    k, kcv = accumulation_steps(run)
    cites = " ".join(dict.fromkeys((cite_series(loss), cite_series(g))))  # one file holds both, most often
    ev = [f"at step {step}, the end of epoch {round(e)}, the loss is {rl:.3g}x and the grad norm {rg:.3g}x the "
          f"mean of the steps either side, which agree with each other, and both come back on the next step "
          f"{cites}",
          "the loss and its gradient scaled down together by the same factor at the step that closes the epoch: "
          "the last accumulation cycle holds fewer micro-batches but each is still divided by the full "
          "accumulation count (an easier batch lowers the loss, not the gradient's norm by the same factor)"]
    if n_hits > 1:
        ev.append(f"the same at {n_hits} epoch ends (steps {', '.join(str(h[0]) for h in hits[:5])})")
    if k is not None and k >= 2:
        ev.append(f"gradient accumulation is {int(k)} {cite_config(kcv)}: {rl:.3g} ~ j/{int(k)} for the j "
                  f"micro-batches left")
    return [Finding("detect_partial_cycle_at_epoch_end", "grad_accum_bug",
                    PARTIAL_CYCLES if n_hits > 1 else PARTIAL_CYCLE,
                    "the incomplete last accumulation cycle of an epoch is divided by the full accumulation count",
                    ev, step, {"loss_ratio": rl, "grad_ratio": rg, "epoch_ends": n_hits})]


# Inner loss positions scanned per block: bounds the scan's arrays to a few MB whatever the log's length (the scan
# once held two dicts of every logged step, ~100 MB on the 1M-step bench log: bench/RESULTS.md, "Diagnose").
_SCAN_BLOCK = 1 << 16


def _sorted_steps(s: Series) -> tuple[np.ndarray, np.ndarray]:
    """`s`'s steps ascending and its values in the same order; equal steps keep their logged order (a step logged
    twice reads as the last value logged there). No copy when already ascending (every series after Run.finalize)."""
    if len(s.steps) < 2 or bool(np.all(s.steps[1:] >= s.steps[:-1])):
        return s.steps, s.values
    order = np.argsort(s.steps, kind="stable")
    return s.steps[order], s.values[order]


def _logged_at(keys: np.ndarray, vals: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The value logged at each of `steps` exactly (the last one where a step is logged twice), NaN where none was;
    keys ascending."""
    if not len(keys):
        return np.full(len(steps), np.nan)
    j = np.searchsorted(keys, steps, side="right") - 1
    jc = np.maximum(j, 0)
    return np.where((j >= 0) & (keys[jc] == steps), vals[jc], np.nan)


def _partial_cycle_hits(loss: Series, g: Series, ep: Series) -> tuple[list[tuple[int, float, float, float]], int]:
    """The first five (step, epoch, loss ratio, grad-norm ratio) and the number of the inner loss positions i whose
    step closes an epoch (an integer epoch >= 1 logged there) and whose loss trio loss[i-1:i+2] and grad-norm trio
    (the grad norm logged at the same steps) are finite, positive and level at the ends (PARTIAL_FLAT), with the
    middle dropped to <= PARTIAL_DROP of the ends' mean in both, by the same factor (PARTIAL_MATCH); in log order."""
    st, lv = loss.steps, loss.values
    gk, gvals = _sorted_steps(g)
    ek, evals = _sorted_steps(ep)
    first: list[tuple[int, float, float, float]] = []
    count = 0
    for a in range(1, len(st) - 1, _SCAN_BLOCK):
        b = min(a + _SCAN_BLOCK, len(st) - 1)  # inner positions a..b-1, their neighbours a-1..b
        e = _logged_at(ek, evals, st[a:b])
        i = np.flatnonzero(np.isfinite(e) & (e >= 1) & (np.abs(e - np.round(e)) <= 1e-6))
        if not len(i):
            continue
        gv = _logged_at(gk, gvals, st[a - 1:b + 1])
        l0, l1, l2 = lv[i + a - 1], lv[i + a], lv[i + a + 1]
        g0, g1, g2 = gv[i], gv[i + 1], gv[i + 2]
        ok = np.ones(len(i), dtype=bool)
        for x in (l0, l1, l2, g0, g1, g2):
            ok &= np.isfinite(x) & (x > 0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # non-finite trios are already out
            ok &= np.abs(l0 - l2) <= PARTIAL_FLAT * 0.5 * (l0 + l2)
            ok &= np.abs(g0 - g2) <= PARTIAL_FLAT * 0.5 * (g0 + g2)
            rl = l1 / (0.5 * (l0 + l2))
            rg = g1 / (0.5 * (g0 + g2))
        ok &= rl <= PARTIAL_DROP
        m = np.flatnonzero(ok)
        ok[m] = np.abs(rl[m] / rg[m] - 1) <= PARTIAL_MATCH  # rg > 0 there: finite, positive grad norms
        hit = np.flatnonzero(ok)
        count += len(hit)
        first.extend((int(st[i[k] + a]), float(e[i[k]]), float(rl[k]), float(rg[k])) for k in hit[:5 - len(first)])
    return first, count


DETECTORS = [detect_grad_norm_running_sum, detect_grad_norm_ramp_from_start, detect_loss_climbs_as_lr_decays,
             detect_accumulation_sawtooth, detect_loss_summed_over_accumulation, detect_grad_norm_phase_locked,
             detect_blow_up_under_accumulation, detect_explosion_zero_grad_lookalike,
             detect_explosion_accumulation_lookalike, detect_partial_cycle_at_epoch_end]
