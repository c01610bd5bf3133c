"""Readings of loss and accuracy curves alone, for logs without grad norms (docs/diagnose.md, "Epoch-level
histories").

A Keras `History`, a per-epoch CSV and most pasted logs hold 5-50 rows of loss / accuracy / val_loss /
val_accuracy and no gradient norm. The rules elsewhere read a blow-up or a stalled optimiser from grad norms, the LR
or the config; these two read what an engineer reads from the curves themselves:

- a classifier's first loss far above any cross-entropy a fresh network gives, then falling by an order of magnitude
  into a classifier's range: the first updates blew the weights up (lr_too_high first);
- a held-out loss that falls at every evaluation by a negligible amount while the training loss does not move: the
  updates reach the weights but are tiny (lr_too_low first);
- a held-out loss that moved at first and then repeats to every printed digit for the rest of the run while the
  training loss still moves: the updates stopped mid-run (an LR decayed to 0: scheduler_misuse first);
- a training loss and accuracy frozen together at loss = (1 - accuracy) x c with c >= ln 1e6 nats: every error is
  made with a probability clipped at ~0, the output is saturated and passes no gradient (dead_units first).
- a loss that starts in a classifier's range and then climbs epoch after epoch, without a jump of an order of
  magnitude, and stays up: the step grows with every update (gradients never cleared: zero_grad_missing first);
- a loss that grows by >= 100x at each of two consecutive epochs from a sane start: compounding growth seen at an
  epoch's resolution (grad_explosion, as the per-step compounding rule reads it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.context import (
    ANY_VOCAB_NATS,
    cite_config,
    cite_series,
    configured_lrs,
    logged_lr,
    loss_series,
    mid_run,
    progress,
)
from traindoc.evidence.detectors.not_learning import (
    _ACC_NAME,
    MAX_INFERRED_K,
    _config_classes,
    _explained,
    lrs_below_reference,
    never_learned,
)
from traindoc.evidence.finding import Finding
from traindoc.evidence.geometric_start import geometric_from_start
from traindoc.evidence.grad_total import total_grad_norm
from traindoc.evidence.growth import compounding_growth
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import ConfigValue, Run, Series

# A fresh classifier's cross-entropy starts near ln(k), and ln of any label set or vocabulary is under ln 1e6 = 13.8
# (the bound detect_lr_too_high uses for a per-token loss, docs/diagnose.md). A first logged loss above it, in a run
# that logs an accuracy, is an average over updates that went far above the starting point: the weights blew up.
# A summed or per-sequence loss (CTC, a detector's total, an epoch sum) can start there too, so the loss must then
# fall >= 10x to under the bound: a per-sample cross-entropy comes back to a classifier's range; the healthy
# real-world runs with such losses fall 3-6x over their whole run (paddleocr-handwriting 22.9 -> 3.9, espnet 252
# -> 91) and stay at their scale.
BLOWUP_FALL = 10.0
BLOWUP_STRENGTH = 0.5  # the textbook reading, not confirmed alone: grad_explosion and a missing zero_grad read alike
# A blow-up inside the first logged interval puts a spike in that interval's mean; once the weights are back, the next
# interval's mean is at the recovered level, far below it (the dev corpus's flax lr_too_high run: 6475 -> 28.7, the
# next point 0.4 % of the first). A loss whose first value is set by its objective's scale falls as the model
# learns, a few percent per logged interval: a margin softmax (ArcFace, CosFace) multiplies the logits by a scale s
# (64 in arcface_torch) and subtracts a margin from the target's, so a fresh model's loss starts near s sin(m) + ln k,
# tens of nats (Deng et al. 2019, "ArcFace"; g17-arcface-torch: 56.4, 55.9, 53.9, ... 3.7); a summed or per-sequence
# loss starts at its own scale the same way (paddleocr-handwriting: 38.9, 36.3, 29.8, ... 3.8). Such a start is no
# blow-up when (a) no two of the first STEADY_POINTS logged points halve the loss (each keeps > STEADY_KEEP of the
# one before: never far above where the next interval found it) and (b) the task improves meanwhile: an accuracy's
# error falls >= STEADY_LEARNED below its first value, well past the few-percent wobble of a classifier at chance.
# A blow-up that killed the network can also fall steadily, but back to chance, with its accuracy flat (an 8-class
# history 27.3, 16.2, 13.3, 11.4, ... 2.08 = ln 8 with accuracy 0.10-0.14: its error moves < 5 %); that stays read.
STEADY_POINTS = 4
STEADY_KEEP = 0.5
STEADY_LEARNED = 0.25
# A spike inside the first logged interval is gone by the next interval: the weights are back and the loss goes on
# from the recovered level (the flax run: 6475, then 28.7, 3.7, 5.2; the 8-class history: 27.3, then 16.2, 13.3, 11.4).
# A loss that keeps falling >= BLOWUP_FALL from the second to the last of the first STEADY_POINTS points, and is still
# >= BLOWUP_FALL above its floor there, is descending from its own starting scale by orders of magnitude per interval
# after the first one too, as an unscaled regression output falls (a depth-24 residual MLP whose MSE is 2.2e11 at its
# untrained first evaluation, 1.6e9, 8.7e6, 7.2e5 the next three epochs: realworld g10-dd-fingerprint-resmlp24-*); no
# one-interval blow-up reads from that. A slow steady fall (the margin loss, a few percent per interval) is not one.

# Without an accuracy the loss's scale is unknown (a regression's MSE can start anywhere), but the held-out loss
# scored at the end of the same first epoch sets it: a first training row (the epoch's mean) >= 10x that held-out
# value, and the run's largest, says the loss went far above where the weights ended that epoch, then came back. A
# healthy epoch mean sits 1-4x above its end-of-epoch held-out loss (the dev corpus's healthy runs <= 3.8x; the
# real-world ones <= 8x, a transducer's summed loss 161x but falling under 5x over its run). The training loss must
# then fall >= 10x (as above), and stay >= 0.05 nats: a model that fits its labels almost perfectly (>= 95 % on the
# right label) can fall 10x within its first epoch by learning alone (a leaked label, an easy task). A candidate
# only (0.45): the scale is inferred, and exploding gradients and a missing zero_grad read alike. A run whose
# training loss ends several times above its held-out loss logs the two on different scales (or on sets of another
# kind): the 10x is then counted from the gap it ends with (_settled_gap).
HELDOUT_GAP = 10.0
FIT_FLOOR = 0.05
HELDOUT_BLOWUP_STRENGTH = 0.45

# A held-out loss is scored on fixed data, so it moves only when the weights do: one that falls at every evaluation
# (ties allowed at the printed precision, >= 2 strict falls) says every update reaches the weights and points
# downhill. A total fall under 0.5 % over >= 5 evaluations says those updates are negligible: the dev corpus's
# healthy runs with a monotone held-out curve fall >= 2.2 % (plain_pytorch-healthy-s16), its lr_too_low runs
# 0.001-0.07 %. With a training loss that does not move (< 10 % decrease, docs/causes.md's flat loss), an LR far
# too small is the first reading; a network dead but for its output bias, or frozen beside a tiny trainable part,
# reads the same, so the finding is listed, never confirmed. A run at chance level is left to the look-alike listing
# of not_learning (the dev runs at chance that creep are as often dead or frozen as starved of LR).
CREEP_MAX_FALL = 0.005
CREEP_MIN_EVALS = 5
FLAT_TRAIN = 0.10
CREEP_STRENGTH = 0.45

# A held-out loss identical to every printed digit from some evaluation on: the same weights scored on the same data
# (detect_heldout_unchanged's reasoning, not_learning.py). Printed to >= 6 significant digits only (a value that
# 5 digits already give exactly, 1.7912, is what a 4-decimal print of a converged model shows too). From an
# evaluation after the first, for >= 4 evaluations and at least half of them, while the training loss still moves
# (its batches differ): updates reached the weights and then stopped with half the run to go, which is what an LR
# decayed to 0 gives (a per-epoch scheduler stepped per batch: scheduler_misuse's collapse row, where a planned
# schedule keeps > 1e-3 x its peak until its last ~2 %). Only without a logged LR (the LR rules read it directly).
FROZEN_MIN_EVALS = 4
FROZEN_SHARE = 0.5
FROZEN_STRENGTH = 0.5
# The freeze is every not-learning look-alike's symptom too: units that are dead, parameters that are frozen or a
# gradient that vanishes stop the weights the same way. When the log holds one of those causes' own trace (a ReLU
# initialised with a negative bias, a frozen share, a zero or vanishing grad norm: not_learning's _explained), that
# cause's detector carries the diagnosis and the freeze is its symptom, not the schedule's: context, listed below the
# report threshold, as detect_loss_at_chance does for the same traces (docs/diagnose.md, "Weights that stop
# mid-run").
FROZEN_EXPLAINED_STRENGTH = 0.2
# ... and when the run's own config names a decaying schedule, the one mechanism that turns an LR to ~0 is there in the
# log beside the freeze: the reading an engineer checks first (docs/diagnose.md, "Weights that stop mid-run"), named
# at 0.65. A freeze of parameters mid-run is the rare look-alike left (gradual unfreezing goes the other way) and dead
# units leave their own trace (_explained, which drops the strength to 0.2 first). A constant or absent schedule
# keeps 0.5: nothing then decays the LR, and the freeze alone stays ambiguous. The names are the decaying schedules'
# public names, compared lower-case without separators and a leading "warmup": torch.optim.lr_scheduler (StepLR,
# MultiStepLR, ExponentialLR, CosineAnnealingLR, PolynomialLR, OneCycleLR, LinearLR), Keras (ExponentialDecay,
# CosineDecay, PolynomialDecay, InverseTimeDecay, PiecewiseConstantDecay), optax (exponential_decay,
# cosine_decay_schedule, polynomial_schedule, linear_schedule, piecewise_constant_schedule) and HF's SchedulerType
# (linear, cosine, cosine_with_restarts, polynomial, inverse_sqrt); constant, cyclic and plateau schedules are not.
FROZEN_SCHEDULED_STRENGTH = 0.65
DECAYING_SCHEDULES = ("step", "multistep", "exponential", "exp", "cosine", "linear", "poly", "onecycle",
                      "inversesqrt", "inversetime", "piecewise", "noam")
# The same freeze seen in an epoch history, where the training loss is an epoch mean: with the weights unchanged,
# that mean over the same training set is the same number whatever the batch order, so it repeats too (an LR that
# still moves the weights makes it depend on the path, and it wobbles in its last digits). Two series frozen at the
# same evaluations is what a converged model's 4-decimal print does not give by chance, so >= 4 significant digits
# suffice there (1.5069 repeated, not 0.0002: a memorised training set's loss printed as a single digit). The
# training mean must repeat at >= 3/4 of those evaluations: a run cut by a step budget ends on a partial epoch, a
# different subset of batches with a mean of its own.
EPOCH_FROZEN_DIGITS = 4
EPOCH_FROZEN_TRAIN_SHARE = 0.75

# A cross-entropy is the mean of -ln p(true class). When the loss equals (1 - accuracy) x c, the correctly classified
# samples cost ~0 and every misclassified one costs c nats. c >= ln 1e6 = 13.8 (ANY_VOCAB_NATS) means each error
# gives its true class <= 1e-6: the outputs are hard 0/1, a saturated sigmoid or softmax. Keras and TF compute the
# cross-entropy on probabilities clipped to [eps, 1 - eps] (backend.epsilon() = 1e-7: c = 16.12; float32's 2^-23:
# 15.94; Keras 0.x's 1e-15: 34.54), and the clip's gradient is 0 outside that range, so such an output gets no
# gradient and cannot leave; the loss and accuracy then repeat to every printed digit. c is capped at ln(1/2.2e-16)
# ~ 36.04 (float64's epsilon; no probability is clipped below it) plus a margin: 37. Frozen means spread <= 2e-3 (the
# 4 decimals logs print, not_learning.PIN_TOL) over >= 3 aligned points, the last 30 % at least; the ratio must hold
# within 1 % at every one of them (the 4-decimal rounding of a loss >= 0.5 moves it by < 0.02 %). The mechanism is
# certain, its origin is not (an output ReLU that died, a blow-up that saturated the logits, inputs that push the
# pre-activation off the scale), so dead_units is reported at 0.6 and the origins are listed below it.
SATURATED_NATS = ANY_VOCAB_NATS
SATURATED_MAX_NATS = 37.0
SATURATED_MIN_POINTS = 3
SATURATED_SPREAD = 2e-3
SATURATED_RATIO_TOL = 0.01
SATURATED_STRENGTH = 0.6
SATURATED_ORIGIN_STRENGTH = 0.3
# The same hard 0/1 output need not repeat to every digit: a Keras progress bar prints the running mean of the epoch
# so far, which moves from batch to batch while every batch's errors still cost c nats each (realworld
# g25-geeksmental-dsse-relu-output-bce-acc-0.5: loss 6.45 -> 7.90 and accuracy 0.60 -> 0.51 within epoch 1, loss /
# (1 - accuracy) = 16.12 at all 7 prints). Without the freeze the ratio alone says the output is saturated, not that
# it stays so; what says the run does not learn is the accuracy beside it at chance, 1/k (k from the configured class
# count, else the k <= MAX_INFERRED_K whose 1/k the accuracy is nearest), within half a class's share (0.5/k, the band
# not_learning reads an accuracy ~1/k with): hard outputs that score no better than a guess, clipped where the
# cross-entropy passes them no gradient. The ratio must hold within 1 % at each of the same >= 3 points (the last
# 30 % at least): a model that learns has soft probabilities, whose loss per error is no constant.
SATURATED_CHANCE_BAND = 0.5


def _classifier(run: Run) -> bool:
    return any(_ACC_NAME.search(n) and "@" not in n for n in run.metrics if run.series(n) is not None)


def _accuracy_learned(run: Run) -> float:
    """The largest relative fall of an accuracy's error (its scale, 1 or 100, minus it) from its first logged value
    to its best, over the accuracy series (training or held-out) with >= 3 finite points; 0 when there is none."""
    best = 0.0
    for name, s in run.metrics.items():
        if not _ACC_NAME.search(name) or "@" in name:
            continue
        _, v = s.finite()
        if v.size < 3 or float(np.min(v)) < 0.0 or float(np.max(v)) > 100.0:
            continue
        err = (100.0 if float(np.max(v)) > 1.0 else 1.0) - v
        if err[0] > 0:
            best = max(best, float((err[0] - np.min(err)) / err[0]))
    return best


def _classifier_loss(run: Run) -> tuple[Series, np.ndarray, np.ndarray] | None:
    """(loss series, finite steps, finite values) of a classifier's loss when no grad norm is logged (with grad norms,
    the grad-norm rules tell a blow-up's cause apart); None otherwise."""
    return loss_without_grad_norm(run) if _classifier(run) else None


def detect_first_loss_blowup(run: Run) -> list[Finding]:
    """A classifier's first logged loss > ln 1e6 and the loss's maximum, then >= 10x lower and under ln 1e6, with a
    fall of more than half between two of the first logged points or no accuracy that improves: the weights blew up
    during the first logged interval (an epoch's mean, in an epoch-level history). A steady fall from a large start
    while the task improves is the objective's own scale (STEADY_POINTS)."""
    read = _classifier_loss(run)
    if read is None:
        return []
    loss, st, v = read
    if v.size < 3 or not (v[0] > ANY_VOCAB_NATS and float(v[0]) == float(v.max())):
        return []
    j = int(np.argmin(v))
    low = float(v[j])
    if low <= 0 or v[0] / low < BLOWUP_FALL or low >= ANY_VOCAB_NATS:
        return []
    head = v[:STEADY_POINTS]
    if bool(np.all(head[1:] > STEADY_KEEP * head[:-1])) and _accuracy_learned(run) >= STEADY_LEARNED:
        return []  # a steady fall from a large start while the task improves: the objective's scale, not a blow-up
    if head.size == STEADY_POINTS and float(head[-1]) >= BLOWUP_FALL * low \
            and float(head[1]) >= BLOWUP_FALL * float(head[-1]):
        return []  # orders of magnitude down after the first interval too: a descent from its own scale, not a spike
    ev = [f"the first logged loss is {fmt(float(v[0]))} at step {int(st[0])}, above ln 1e6 = {ANY_VOCAB_NATS:.1f} "
          f"nats, where no fresh classifier's cross-entropy starts: the loss went far above its starting point "
          f"within the first logged interval {cite_series(loss)}",
          f"it then fell {v[0] / low:.3g}x to {fmt(low)} by step {int(st[j])}, back in a classifier's range: the "
          "weights blew up in the first updates and the run spent its steps recovering; a step size beyond the "
          "stable range is the first reading (exploding gradients and a missing zero_grad read alike without grad "
          "norms)"]
    return [Finding("detect_first_loss_blowup", "lr_too_high", BLOWUP_STRENGTH,
                    "the loss blew up in the first updates, then recovered", ev, int(st[0]),
                    {"first_loss": float(v[0]), "fall": float(v[0] / low)})]


# The same blow-up without the recovery: a classifier's loss above SATURATED_MAX_NATS (37) at every one of >=
# NEVER_BACK_POINTS logged points, with no accuracy that learned (_accuracy_learned under STEADY_LEARNED: the error
# never fell a quarter below its first value). A fresh classifier's cross-entropy starts near ln k < ln 1e6
# (ANY_VOCAB_NATS) and training only lowers it, so a loss above that bound from the first logged point to the last was
# thrown off its scale within the first logged interval and never came back, while the task stayed at its first
# level: the weights took steps far beyond the stable range at once and kept taking them (the textbook picture of a
# step size past the edge: LeCun et al. 1998, "Efficient BackProp", section 5; Goodfellow et al. 2016, 8.2.4). The
# bound is 37 nats, not 13.8: a probability-clipped cross-entropy (Keras, TF) frozen at hard 0/1 guesses sits at
# (1 - accuracy) x 16.1 (up to ~36 with float64's epsilon), which for a classifier at chance over 8+ classes is above
# ln 1e6; that output is detect_saturated_output's reading, and above 37 nats per example no clipped output can be:
# the logits themselves are off by tens of nats or more. The look-alikes of detect_first_loss_blowup are kept out the
# same way: a summed, per-sequence or margin loss that starts above the bound falls while its task improves (the
# accuracy condition). Three points, as the other epoch-curve readings ask: one or two logged means could be a
# single bad interval. Listed at BLOWUP_STRENGTH like the recovered blow-up: exploding gradients and a missing
# zero_grad read alike without grad norms, so it is one reading beside the divergence rules, never confirmation alone.
NEVER_BACK_POINTS = 3
# A loss that holds one level (its highest logged point under NEVER_BACK_SPREAD x its lowest) reads the same as a
# loss summed over batches or examples (`epoch_loss += loss.item()` never divided, reduction="sum") of a classifier
# that does not learn for any reason: N x ln k sits above 37 nats for N >= 17 and is as steady as the batch means are
# (a few % from one logged point to the next). Weights thrown off their scale swing by factors from one interval to
# the next (the reallib Keras run: 4e5 .. 1.4e7); a level held within 1.5x is listed only
# (NEVER_BACK_STEADY_STRENGTH). A level repeated to every printed digit is no sum (batch means scatter) but a cap:
# OpenNMT-py prints exp(min(loss, 100)), so a loss at 100 nats at every point is a loss beyond the cap (realworld
# opennmt-py-676, Adam at its default LR 1), and keeps the reading.
NEVER_BACK_SPREAD = 1.5
NEVER_BACK_STEADY_STRENGTH = 0.3
# A loss that falls at every logged point, by >= BLOWUP_FALL in all, is no step past the edge: a step size beyond the
# stable range does not lower the loss update after update (the same LeCun et al. 1998, section 5: past the edge
# gradient descent oscillates or diverges), and the weights it would have thrown off scale are coming back. Such a
# descent from far above ln 1e6 is an objective on a scale of its own, or an LR far below the range (an unscaled
# regression output trained at Adam 1e-6: 2.2e11 -> 4.5e7 over 16 evaluations, every one lower, realworld
# g10-dd-fingerprint-resmlp24-adam-lr1e-6-*); NEVER_BACK's wandering 2e6 <-> 1.4e7 is the picture this rule reads.


def detect_loss_never_back(run: Run) -> list[Finding]:
    """A classifier's loss above 37 nats (SATURATED_MAX_NATS) at every one of >= 3 logged points while no accuracy
    learned: the weights blew up within the first logged interval and never came back (lr_too_high 0.5)."""
    read = _classifier_loss(run)
    if read is None:
        return []
    loss, st, v = read
    if v.size < NEVER_BACK_POINTS or float(v.min()) <= SATURATED_MAX_NATS:
        return []
    learned = _accuracy_learned(run)
    if learned >= STEADY_LEARNED:
        return []  # a loss on a scale of its own (summed, per-sequence, margin) falling while the task improves
    if bool(np.all(np.diff(v) < 0)) and float(v[0]) >= BLOWUP_FALL * float(v[-1]):
        return []  # lower at every logged point, orders of magnitude in all: a stable descent, not a blow-up
    ev = [f"the loss stays above {SATURATED_MAX_NATS:.0f} nats at all {v.size} logged points, from "
          f"{fmt(float(v[0]))} at step {int(st[0])} to {fmt(float(v[-1]))} at step {int(st[-1])} (lowest "
          f"{fmt(float(v.min()))}): no fresh classifier's cross-entropy starts above ln 1e6 = {ANY_VOCAB_NATS:.1f}, "
          f"and no probability-clipped one reaches {SATURATED_MAX_NATS:.0f} {cite_series(loss)}",
          f"and no accuracy improved (its error fell {learned:.0%} at best): the weights blew up within the first "
          "logged interval and never came back; a step size far beyond the stable range is the first reading "
          "(exploding gradients and a missing zero_grad read alike without grad norms)"]
    strength = BLOWUP_STRENGTH
    if float(v.max()) != float(v.min()) and float(v.max()) < NEVER_BACK_SPREAD * float(v.min()):
        strength = NEVER_BACK_STEADY_STRENGTH
        ev.append(f"but the loss holds one level (highest {fmt(float(v.max()))} within {NEVER_BACK_SPREAD}x of the "
                  "lowest): a loss summed over batches of a classifier that does not learn for any reason reads the "
                  "same, so the reading is listed only")
    return [Finding("detect_loss_never_back", "lr_too_high", strength,
                    "the loss blew up in the first updates and never came back", ev, int(st[0]),
                    {"first_loss": float(v[0]), "lowest_loss": float(v.min())})]


def _settled_gap(train: np.ndarray, held: np.ndarray) -> float:
    """How far the training loss ends above the held-out loss (the median of their last points), at least 1: a
    training loss the run ends several times above its held-out loss is on another scale (MACE's per-batch training
    loss stays 8-11x its validation loss from the first epoch to the last while both errors agree:
    tests/corpus/realworld/g3s31-mace-*), and the first epoch's gap is read against that one."""
    t_end = float(np.median(train[-max(2, train.size // 10):]))
    h_end = float(np.median(held[-max(1, held.size // 4):]))
    return max(1.0, t_end / h_end) if h_end > 0 and t_end > 0 else 1.0


def detect_first_epoch_above_heldout(run: Run) -> list[Finding]:
    """No accuracy logged: the first training row is the loss's maximum, >= 10x the held-out loss scored at the end
    of that epoch, and the loss then falls >= 10x to >= 0.05: the first updates blew up (lr_too_high 0.45)."""
    ev_s = run.series("eval_loss")
    if run.series("grad_norm") is not None or _classifier(run) or ev_s is None:
        return []  # a classifier's scale is read by detect_first_loss_blowup
    loss = loss_series(run)
    if loss is None:
        return []
    st, v = loss.finite()
    est, ev = ev_s.finite()
    if v.size < 3 or v[0] <= 0 or float(v[0]) != float(v.max()):
        return []
    after = est >= st[0]
    if not bool(after.any()):
        return []
    j = int(np.nonzero(after)[0][0])
    held, low = float(ev[j]), float(v.min())
    if held <= 0 or v[0] < HELDOUT_GAP * held * _settled_gap(v, ev) or v[0] < BLOWUP_FALL * low or low < FIT_FLOOR:
        return []
    k = int(np.argmin(v))
    lines = [f"the first logged training loss, {fmt(float(v[0]))} at step {int(st[0])}, is {v[0] / held:.3g}x the "
             f"held-out loss {fmt(held)} scored at step {int(est[j])} {cite_series(loss)} {cite_series(ev_s)}: over "
             "the first logged interval the loss went far above where the weights ended it",
             f"the training loss then fell {v[0] / low:.3g}x to {fmt(low)} by step {int(st[k])}: the weights blew up "
             "in the first updates and came back; a step size beyond the stable range is the first reading, "
             "exploding gradients and a missing zero_grad read alike without grad norms"]
    return [Finding("detect_first_epoch_above_heldout", "lr_too_high", HELDOUT_BLOWUP_STRENGTH,
                    "the first epoch's loss stood far above the held-out loss at its end: an early blow-up", lines,
                    int(st[0]), {"first_over_heldout": float(v[0] / held), "fall": float(v[0] / low)})]


def detect_creeping_heldout(run: Run) -> list[Finding]:
    """A held-out loss that falls at every one of >= 5 evaluations by < 0.5 % in all while the training loss is
    flat: updates reach the weights but are negligible (listed as lr_too_low)."""
    ev_s = run.series("eval_loss")
    if ev_s is None or run.series("grad_norm") is not None:
        return []  # grad norms say directly whether gradients are tiny (vanishing) or the step is (the LR)
    if never_learned(run) is not None:
        return []  # at chance, the look-alikes are listed side by side (not_learning.unexplained_candidate)
    if any(c.family != "unknown" and c.value >= c.reference[0] / 3 for c in configured_lrs(run)):
        return []  # an LR inside a named optimiser's range: a too-small LR is not the reading
    est, v = ev_s.finite()
    if v.size < CREEP_MIN_EVALS or v.size != len(ev_s) or v[0] <= 0:
        return []
    if _frozen_tail(v) is not None:
        return []  # updates that stopped, not tiny ones: detect_heldout_frozen_midrun
    d = np.diff(v)
    fall = float(v[0] - v[-1]) / float(v[0])
    if not (bool(np.all(d <= 0)) and int((d < 0).sum()) >= 2 and 0 < fall < CREEP_MAX_FALL):
        return []
    loss = loss_series(run)
    prog = progress(run, "loss")
    if prog is None and loss is not None and not mid_run(run, loss):
        # too few points for `progress` (< 8, an epoch history with gaps): first against last logged point (not for
        # an excerpt that starts mid-run, whose first point is no start)
        lv = loss.finite()[1]
        prog = float(lv[0] - lv[-1]) / abs(float(lv[0])) if lv.size >= 3 and lv[0] != 0 else None
    if loss is None or prog is None or prog >= FLAT_TRAIN:
        return []
    ev = [f"the held-out loss falls at every one of {v.size} evaluations ({int(est[0])}..{int(est[-1])}) but only "
          f"{fall:.2%} in all, {fmt(float(v[0]))} -> {fmt(float(v[-1]))}: every update reaches the weights and "
          f"points downhill, and each is negligible {cite_series(ev_s)}",
          f"the training loss moved {max(prog, 0):.1%} over the run {cite_series(loss)}",
          "an LR far too small (or decayed to ~0) is the first reading; a network dead but for its output bias, or "
          "frozen beside a tiny trainable part, reads the same: log the LR and grad norms to tell"]
    return [Finding("detect_creeping_heldout", "lr_too_low", CREEP_STRENGTH,
                    "the held-out loss creeps down by a negligible amount: the updates are tiny", ev, int(est[0]),
                    {"heldout_fall": fall, "loss_progress": prog})]


def _frozen_tail(v: np.ndarray, digits: int = 6, from_first: bool = False) -> int | None:
    """Index of the first evaluation of an identical tail (its value printed to >= `digits` significant digits)
    covering >= 4 evaluations and at least half of them, after a first evaluation that differs (or from the first
    evaluation on, with `from_first`); None otherwise."""
    j = v.size - 1
    while j > 0 and v[j - 1] == v[-1]:
        j -= 1
    same = v.size - j
    x = float(v[-1])
    if (j < 1 and not from_first) or same < FROZEN_MIN_EVALS or same < FROZEN_SHARE * v.size \
            or x == float(f"{x:.{digits - 1}g}"):
        return None
    return j


def _epoch_means_frozen(lst: np.ndarray, lv: np.ndarray, est: np.ndarray) -> float | None:
    """The training loss repeated at >= 3/4 of the evaluations `est` (aligned at or before each), printed to >= 4
    significant digits: the value, else None."""
    at = [lv[lst <= int(s)] for s in est]
    if any(a.size == 0 for a in at):
        return None
    vals = np.array([float(a[-1]) for a in at])
    uniq, counts = np.unique(vals, return_counts=True)
    x = float(uniq[int(np.argmax(counts))])
    if int(counts.max()) < EPOCH_FROZEN_TRAIN_SHARE * vals.size or x == float(f"{x:.{EPOCH_FROZEN_DIGITS - 1}g}"):
        return None
    return x


def detect_heldout_frozen_midrun(run: Run) -> list[Finding]:
    """The held-out loss moved, then repeats exactly for the rest of the run (>= 4 evaluations, >= half) while the
    training loss moves: the updates stopped (scheduler_misuse 0.5, no LR logged)."""
    ev_s, loss = run.series("eval_loss"), loss_series(run)
    if ev_s is None or loss is None or logged_lr(run) is not None or lrs_below_reference(run):
        return []
    est, v = ev_s.finite()
    if v.size != len(ev_s) or v.size < FROZEN_MIN_EVALS + 1:
        return []
    j = _frozen_tail(v)
    lst, lv = loss.finite()
    after = lv[lst >= est[j]] if j is not None else lv[:0]
    if j is None or after.size < 3 or np.unique(after).size < after.size // 2 + 1:
        return _epoch_history_frozen(run, ev_s, loss)  # the training loss stopped moving too: an epoch history's freeze
    ev = [f"the held-out loss moved until evaluation {j + 1} (step {int(est[j])}) and is {fmt(float(v[-1]))} to "
          f"every printed digit at all {v.size - j} evaluations since, {v.size - j} of {v.size}, while the training "
          f"loss still moves: the weights stopped changing with half the run to go {cite_series(ev_s)}"]
    return _stopped_updates(run, ev, int(est[j]), j, int(v.size))


def _epoch_history_frozen(run: Run, ev_s: Series, loss: Series) -> list[Finding]:
    """The held-out loss and the training epoch mean both repeat (>= 4 significant digits) at the same >= 4
    evaluations and >= half of them (EPOCH_FROZEN_DIGITS), after the training mean moved: the weights stopped
    changing mid-run. The held-out loss may repeat from its first evaluation on: the first epoch's training mean is
    taken while the weights still move, the held-out loss at its end, so weights that stop within the first epoch
    give a first training row of its own and a held-out loss frozen from the start."""
    est, v = ev_s.finite()
    j = _frozen_tail(v, EPOCH_FROZEN_DIGITS, from_first=True)
    if j is None:
        return []
    lst, lv = loss.finite()
    k = max(j, 1)  # the training mean of the first epoch is taken while the weights move
    train = _epoch_means_frozen(lst, lv, est[k:]) if est.size - k >= FROZEN_MIN_EVALS - 1 else None
    before = lv[lst <= est[k - 1]]
    if train is None or before.size == 0 or bool(np.all(before == train)):
        return []  # a training loss that never moved at all is another rule's (a constant or pinned loss)
    held = (f"the held-out loss is {fmt(float(v[-1]))} to every printed digit at all {v.size} evaluations" if j == 0
            else f"the held-out loss moved until evaluation {j + 1} (step {int(est[j])}) and is {fmt(float(v[-1]))} "
                 f"to every printed digit at all {v.size - j} evaluations since, {v.size - j} of {v.size}")
    ev = [f"{held} {cite_series(ev_s)}",
          f"and the training loss, an epoch mean that depends on the batch order only while the weights move, is "
          f"{fmt(train)} at the same evaluations after moving from {fmt(float(lv[0]))}: the weights stopped changing "
          f"with half the run to go {cite_series(loss)}"]
    return _stopped_updates(run, ev, int(est[j]), j, int(v.size))


def _stopped_updates(run: Run, ev: list[str], step: int, j: int, n: int) -> list[Finding]:
    """The finding of both freezes above (per-step and epoch-history): the updates stopped from evaluation j of n;
    context only when a not-learning look-alike's own trace is in the log (FROZEN_EXPLAINED_STRENGTH)."""
    ev = ev + ["updates that stop mid-run are what an LR decayed to 0 gives (a per-epoch scheduler stepped every "
               "batch); log the LR to confirm"]
    strength = FROZEN_STRENGTH
    located = [c for c in _explained(run) if c != "scheduler_misuse"]
    if located:
        ev.append(f"but the log holds the trace of {', '.join(located)}, whose stopped updates look the same: that "
                  f"cause's detector carries the diagnosis, and the freeze is its symptom")
        strength = FROZEN_EXPLAINED_STRENGTH
    else:
        sched = _decaying_schedule(run)
        if sched is not None:
            ev.append(f"and the config names a decaying schedule, {sched.key}={sched.text or sched.value} "
                      f"{cite_config(sched)}: counted in updates where it was sized in epochs, it reaches ~0 early")
            strength = FROZEN_SCHEDULED_STRENGTH
    return [Finding("detect_heldout_frozen_midrun", "scheduler_misuse", strength,
                    "the weights stop changing mid-run", ev, step,
                    {"frozen_from_eval": j, "frozen_evals": n - j, "explained_by": located})]


def _decaying_schedule(run: Run) -> ConfigValue | None:
    """The config value that names a decaying LR schedule (DECAYING_SCHEDULES), else None."""
    cv = run.config_value(*KEYS["lr_schedule"])
    if cv is None or not isinstance(cv.value, str):
        return None
    name = re.sub(r"[^a-z0-9]", "", cv.value.lower()).removeprefix("warmup")
    return cv if name.startswith(DECAYING_SCHEDULES) else None


def _aligned_tail(loss: Series, acc: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Steps, loss and accuracy (as a fraction) at the steps both log, finite, in step order."""
    lst, lv = loss.finite()
    ast, av = acc.finite()
    common, li, ai = np.intersect1d(lst, ast, return_indices=True)
    if common.size < SATURATED_MIN_POINTS:
        return None
    a = av[ai] / 100.0 if float(np.max(av)) > 1.0 else av[ai]
    return common, lv[li], a


@dataclass
class Saturated:
    first_step: int
    evidence: list[str]
    numbers: dict[str, float | int]
    frozen: bool = True  # loss and accuracy repeat; False: they move, with the accuracy at chance 1/k


def _chance_k(run: Run, acc: np.ndarray) -> int | None:
    """The class count k whose chance accuracy 1/k every one of the accuracies sits at (within
    SATURATED_CHANCE_BAND / k): the configured class count, else the k <= MAX_INFERRED_K nearest their median."""
    level = float(np.median(acc))
    k = _config_classes(run)
    if k is None:
        k = int(round(1.0 / level)) if level > 0 else 0
        if k > MAX_INFERRED_K:
            return None
    if k < 2 or float(np.max(np.abs(acc - 1.0 / k))) > SATURATED_CHANCE_BAND / k:
        return None
    return k


def saturated_output(run: Run) -> Saturated | None:
    """Training loss and accuracy frozen together with loss = (1 - accuracy) x c, c in [ln 1e6, 37] nats (memoised):
    a saturated output clipped by the cross-entropy, passing no gradient; None otherwise."""
    return stats.cached(run, "saturated_output", lambda: _saturated_output(run))


def _saturated_output(run: Run) -> Saturated | None:
    loss, acc = loss_series(run), run.series("accuracy")
    if loss is None or acc is None:
        return None
    got = _aligned_tail(loss, acc)
    if got is None:
        return None
    st, lv, av = got
    n = max(SATURATED_MIN_POINTS, int(math.ceil(0.3 * lv.size)))
    tl, ta = lv[-n:], av[-n:]
    err = 1.0 - ta
    if float(err.min()) <= 0.01 or float(tl.min()) <= 0:
        return None  # a perfect (or near-perfect) classifier: the ratio says nothing
    c = tl / err
    if not (SATURATED_NATS <= float(c.min()) and float(c.max()) <= SATURATED_MAX_NATS
            and float(np.ptp(c)) <= SATURATED_RATIO_TOL * float(np.median(c))):
        return None
    if float(np.ptp(tl)) > SATURATED_SPREAD or float(np.ptp(ta)) > SATURATED_SPREAD:
        return _saturated_at_chance(run, loss, acc, st, lv, av, n)
    # how far back the freeze goes: the first aligned point from which loss and accuracy stay within the spread
    j = lv.size - n
    while j > 0 and abs(lv[j - 1] - tl[-1]) <= SATURATED_SPREAD and abs(av[j - 1] - ta[-1]) <= SATURATED_SPREAD:
        j -= 1
    cm = float(np.median(c))
    ev = [f"the training loss is {fmt(float(tl[-1]))} and the accuracy {float(ta[-1]):.4g} at every logged point "
          f"from step {int(st[j])} to {int(st[-1])} ({lv.size - j} points) {cite_series(loss)} {cite_series(acc)}",
          f"loss / (1 - accuracy) = {cm:.4g} nats at each of them: the correct predictions cost ~0 and every wrong "
          f"one costs {cm:.4g} nats, a probability of {math.exp(-cm):.1g} on the true class (>= ln 1e6 = "
          f"{ANY_VOCAB_NATS:.1f}): the outputs are hard 0/1, the sigmoid or softmax is saturated",
          "Keras and TF clip the probabilities inside the cross-entropy (eps 1e-7: 16.1 nats), and the clip passes "
          "no gradient: the output cannot leave saturation, which is why nothing moves"]
    return Saturated(int(st[j]), ev, {"nats_per_error": cm, "frozen_points": int(lv.size - j),
                                      "loss": float(tl[-1]), "accuracy": float(ta[-1])})


def _saturated_at_chance(run: Run, loss: Series, acc: Series, st: np.ndarray, lv: np.ndarray, av: np.ndarray,
                         n: int) -> Saturated | None:
    """The saturated output's ratio holding over the last `n` aligned points while loss and accuracy move, with the
    accuracy at chance 1/k there (SATURATED_CHANCE_BAND): a saturated output that does not learn."""
    k = _chance_k(run, av[-n:])
    if k is None:
        return None
    c_all = lv / np.maximum(1.0 - av, 1e-12)
    cm = float(np.median(c_all[-n:]))
    j = lv.size - n  # how far back the ratio and the chance accuracy hold
    while j > 0 and abs(c_all[j - 1] - cm) <= SATURATED_RATIO_TOL * cm and abs(av[j - 1] - 1.0 / k) \
            <= SATURATED_CHANCE_BAND / k:
        j -= 1
    ta = av[j:]
    over = float(np.median(lv[j:])) / math.log(k)
    ev = [f"the training loss moves from {fmt(float(lv[j]))} to {fmt(float(lv[-1]))} and the accuracy stays at "
          f"{float(np.min(ta)):.4g}-{float(np.max(ta)):.4g}, chance 1/{k} = {1 / k:.3g}, from step {int(st[j])} to "
          f"{int(st[-1])} ({lv.size - j} points) {cite_series(loss)} {cite_series(acc)}",
          f"loss / (1 - accuracy) = {cm:.4g} nats at each of them: the correct predictions cost ~0 and every wrong "
          f"one costs {cm:.4g} nats, a probability of {math.exp(-cm):.1g} on the true class (>= ln 1e6 = "
          f"{ANY_VOCAB_NATS:.1f}): the outputs are hard 0/1, the sigmoid or softmax is saturated",
          f"hard outputs that score no better than a guess over {k} classes: the loss sits {over:.3g}x above "
          f"chance ln({k}) = {math.log(k):.3g}, and Keras and TF clip the probabilities inside the cross-entropy "
          "(eps 1e-7: 16.1 nats), a clip that passes no gradient: the run does not learn"]
    return Saturated(int(st[j]), ev, {"nats_per_error": cm, "saturated_points": int(lv.size - j),
                                      "loss": float(lv[-1]), "accuracy": float(av[-1]), "saturated_classes": k},
                     frozen=False)


def detect_saturated_output(run: Run) -> list[Finding]:
    """A saturated, clipped output frozen with the loss and accuracy, or moving with the accuracy at chance
    (saturated_output): dead_units 0.6. Either is a run that does not learn (diagnosis/build.py: does_not_learn)."""
    sat = saturated_output(run)
    if sat is None:
        return []
    return [Finding("detect_saturated_output", "dead_units", SATURATED_STRENGTH,
                    "the output is saturated and passes no gradient: loss and accuracy are frozen" if sat.frozen
                    else "the output is saturated and passes no gradient: the accuracy stays at chance",
                    [*sat.evidence, "an output ReLU that died, logits blown up by a too-large step or inputs off "
                                    "their scale put it there (the latter two are listed below)"],
                    sat.first_step, sat.numbers)]


def _saturation_origin(run: Run, detector: str, cause: str, claim: str, why: str) -> list[Finding]:
    """One way the saturated, frozen output (saturated_output) can be reached, listed (SATURATED_ORIGIN_STRENGTH)."""
    sat = saturated_output(run)
    if sat is None:
        return []
    return [Finding(detector, cause, SATURATED_ORIGIN_STRENGTH, claim, [sat.evidence[1], why], sat.first_step,
                    sat.numbers)]


def detect_saturation_blowup(run: Run) -> list[Finding]:
    """The saturated, frozen output reached by a step too large: listed (lr_too_high 0.3)."""
    return _saturation_origin(run, "detect_saturation_blowup", "lr_too_high",
                              "a saturated, frozen output: a too-large step can put it there",
                              "a step too large blows the logits up into saturation, where the clipped cross-entropy "
                              "leaves them no gradient")


def detect_saturation_inputs(run: Run) -> list[Finding]:
    """The saturated, frozen output reached through the data: listed (data_pipeline_bug 0.3)."""
    return _saturation_origin(run, "detect_saturation_inputs", "data_pipeline_bug",
                              "a saturated, frozen output: inputs or labels of the wrong form can put it there",
                              "inputs off their expected scale (unnormalised, or all zeros after an integer division) "
                              "pin the pre-activations; check a batch by eye")


# A loop that never clears the gradient buffer applies lr * (g_1 + ... + g_t) at update t: the step grows with every
# update, so a run that is stable in its first epoch turns unstable later and worse each epoch after. An LR beyond
# the stable range overshoots within the first updates instead (the first epoch's mean is the worst: the blow-up
# rule above); a warmup to a too-high LR shows a rising LR (the LR rules read it). Read in an epoch history (<= 50
# rows, docs/diagnose.md "Epoch-level histories"): from its lowest point among the first epochs the loss climbs
# >= 3x (the 3x the LR rule takes for an overshoot) over >= 4 epochs, rising at >= 3/4 of them (a random walk
# rises 4 of 4 times 1 time in 16), with no single epoch jumping >= 10x (an order of magnitude in one epoch is a
# blow-up or a compounding explosion, other rules), and the last 30 % of the epochs stay >= 3x above that lowest
# point (a loss that comes back is a spike). A held-out loss, when logged, must climb too (>= 2x): the weights move
# away from every solution, not one batch stream. zero_grad_missing first at 0.5; lr_too_high stays listed beside
# it (an LR just past the edge, with Adam's moments growing, can climb late too). A climb that multiplies the loss by
# one constant factor from the first logged point (evidence/geometric_start.py) is not this picture: the first
# update of a loop that never clears its buffer applies g_1 alone, the step of a correct loop, and the summed step
# then grows linearly, so no constant ratio runs from the first point; a step past 2/lambda_max multiplies the error
# by |1 - lr*lambda| from the first update on (LeCun et al. 1998, Efficient BackProp §5), detect_lr_too_high's reading.
CLIMB_MAX_ROWS = 50
CLIMB_MIN_EPOCHS = 4
CLIMB_FACTOR = 3.0
CLIMB_RISE_SHARE = 0.75
CLIMB_MAX_JUMP = 10.0
CLIMB_HELDOUT = 2.0
CLIMB_TAIL = 0.3
CLIMB_STRENGTH = 0.5

# Compounding growth (evidence/growth.py: >= 5 points each >= 1.5x) needs more rows than an epoch history keeps
# before a NaN ends it. One epoch holds hundreds of updates, so the same feedback shows as >= 100x (two orders of
# magnitude) at each of two consecutive epochs, 1e4 in all (above the 1e3 of the per-step rule); no healthy or
# noisy epoch mean moves 100x, and an LR overshoot at the first updates shows in the first epoch (the blow-up rule),
# so the start must be in a classifier's range (< ln 1e6). Same strength as the per-step rule without grad norms.
EPOCH_COMPOUND = 100.0
EPOCH_COMPOUND_STRENGTH = 0.55
# Without an accuracy the loss's scale is unknown (a regression's MSE can start at 234), and ln 1e6 is no bound on it;
# the held-out loss scored at the end of the same epoch sets the scale as in detect_first_epoch_above_heldout: a
# training row within 4x of it is a sane epoch at its own scale (a healthy epoch mean sits 1-4x above its end-of-epoch
# held-out loss; the first updates blowing up put it >= 10x above), so compounding from there is no first-update
# overshoot either.
SANE_EPOCH_OVER_HELDOUT = 4.0


# A stable run whose epoch mean then jumps >= 10x above the epoch before it and later comes back under 2x that level:
# a whole epoch of hundreds of updates went unstable and recovered. Epoch means average away single bad batches, so
# no healthy history moves 10x between rows; the peak must also stand above the first logged loss (it undid all the
# learning: a converged loss near 0 jumps 10x by noise, 4e-4 -> 5e-3, without going back to the start). A fixed LR
# beyond the stable range is unstable from the first updates (the first epoch is the worst: the blow-up rules
# above); a burst after stable epochs is the cliff picture of exploding gradients (Pascanu et al. 2013: a gradient
# that explodes at a sharp wall throws the weights far, and training then recovers), what gradient clipping exists
# for. Listed (0.4, under the 0.45 of a grad-norm peak that settles back, detect_grad_explosion): no grad norm shows
# the burst, and an LR near the edge reads alike.
SPIKE_JUMP = 10.0
SPIKE_BACK = 2.0
SPIKE_STRENGTH = 0.4


def loss_without_grad_norm(run: Run) -> tuple[Series, np.ndarray, np.ndarray] | None:
    """(loss, steps, finite values) of the training loss when no global grad norm is logged: the epoch-level rules
    read an explosion or an overshoot from the loss alone, which a logged grad norm shows directly to other rules."""
    if run.series("grad_norm") is not None or run.series("grad_2.0_norm_total") is not None:
        return None
    loss = loss_series(run)
    if loss is None:
        return None
    st, v = loss.finite()
    return loss, st, v


def detect_epoch_spike(run: Run) -> list[Finding]:
    """An epoch history (5-50 rows, no grad norm) whose loss jumps >= 10x in one row after stable rows, from a
    level at its best so far, and comes back under 2x that level: a burst that recovered (grad_explosion 0.4)."""
    got = loss_without_grad_norm(run)
    if got is None:
        return []
    loss, st, v = got
    if v.size < 5 or v.size > CLIMB_MAX_ROWS or not bool(np.all(v > 0)):
        return []
    for j in range(1, v.size - 1):
        base = float(v[j - 1])
        if (base >= ANY_VOCAB_NATS or v[j] < SPIKE_JUMP * base or v[j] <= v[0]
                or base > 1.5 * float(v[:j].min())):
            continue  # not from a stable level at the run's best so far (a climb or a blow-up is read elsewhere)
        later = v[j + 1:]
        back = np.nonzero(later <= SPIKE_BACK * base)[0]
        if back.size == 0:
            return []
        r = j + 1 + int(back[0])
        peak = j + int(np.argmax(v[j:r]))
        ev = [f"the loss jumps from {fmt(base)} at step {int(st[j - 1])} to {fmt(float(v[j]))} at step {int(st[j])} "
              f"({v[j] / base:.3g}x in one logged interval), peaks at {fmt(float(v[peak]))} and is back at "
              f"{fmt(float(v[r]))} by step {int(st[r])} {cite_series(loss)}",
              "a whole interval of updates went unstable after stable ones and then recovered: a burst of exploding "
              "gradients (a sharp wall in the loss surface) is the first reading, what clipping stops; an LR near "
              "the stable edge reads alike, and no grad norm is logged to tell"]
        return [Finding("detect_epoch_spike", "grad_explosion", SPIKE_STRENGTH,
                        "the loss spiked by an order of magnitude for an epoch, then recovered", ev, int(st[j]),
                        {"spike": float(v[peak] / base), "recovered_step": int(st[r]), "loss_only": True})]
    return []


def _climb(v: np.ndarray) -> tuple[int, int] | None:
    """(start, peak) indices of a steady climb (see the constants above), or None."""
    if v.size < CLIMB_MIN_EPOCHS + 1 or v.size > CLIMB_MAX_ROWS or not bool(np.all(v > 0)):
        return None
    p = int(np.argmax(v))
    if p < CLIMB_MIN_EPOCHS:
        return None
    i = int(np.argmin(v[:p]))
    seg = v[i:p + 1]
    ratios = seg[1:] / seg[:-1]
    tail = v[-max(2, int(math.ceil(CLIMB_TAIL * v.size))):]
    if (p - i < CLIMB_MIN_EPOCHS or v[i] >= ANY_VOCAB_NATS or v[p] < CLIMB_FACTOR * v[i]
            or float((ratios > 1).mean()) < CLIMB_RISE_SHARE or float(ratios.max()) >= CLIMB_MAX_JUMP
            or float(np.median(tail)) < CLIMB_FACTOR * v[i]):
        return None
    return i, p


def detect_steady_climb(run: Run) -> list[Finding]:
    """From a sane start, the loss climbs >= 3x over >= 4 epochs without a 10x jump and stays up: the step grows
    with every update (zero_grad_missing 0.5, no grad norm logged, an epoch history)."""
    if total_grad_norm(run) is not None:
        return []  # the grad norm's own ramp (accumulation rules) reads it directly
    loss = loss_series(run)
    if loss is None:
        return []
    st, v = loss.finite()
    got = _climb(v)
    if got is None or geometric_from_start(run) is not None:
        return []  # no climb, or one constant factor from the first point: a step past the stable range (above)
    i, p = got
    lr = logged_lr(run)
    if lr is not None:
        lst, lrv = lr.finite()
        during = lrv[(lst >= st[i]) & (lst <= st[p])]
        if during.size >= 2 and float(during.max()) > float(during[0]) * 1.01:
            return []  # an LR rising into the climb: a warmup or a raise, the LR rules' reading
    ev_s = run.series("eval_loss")
    held = ""
    if ev_s is not None:
        _, ev = ev_s.finite()
        if ev.size >= 3:
            late = float(np.median(ev[-max(2, int(math.ceil(CLIMB_TAIL * ev.size))):]))
            if ev[0] <= 0 or late < CLIMB_HELDOUT * float(ev.min()):
                return []  # the held-out loss did not follow: not weights running away
            held = f"; the held-out loss climbs with it, {fmt(float(ev[0]))} -> {fmt(late)} (late median)"
    rises = int((np.diff(v[i:p + 1]) > 0).sum())
    ev_lines = [f"the loss climbs from {fmt(float(v[i]))} at step {int(st[i])} to {fmt(float(v[p]))} at step "
                f"{int(st[p])}, {v[p] / v[i]:.3g}x, rising at {rises} of {p - i} epochs with no epoch jumping 10x, "
                f"and stays up {cite_series(loss)}{held}",
                "a run stable at first that grows less stable every epoch is what a step growing with every update "
                "gives: gradients summed across updates because the buffer is never cleared (optimizer.zero_grad() "
                "missing); an LR just past the stable edge reads alike, so lr_too_high stays listed (log the grad "
                "norm to tell: an uncleared one ramps up linearly)"]
    return [Finding("detect_steady_climb", "zero_grad_missing", CLIMB_STRENGTH,
                    "the loss climbs epoch after epoch from a sane start: the step grows with every update", ev_lines,
                    int(st[i]), {"climb": float(v[p] / v[i]), "epochs": int(p - i)})]


def _sane_start(run: Run, step: float, value: float) -> str:
    """Why a training row is a sane starting point (empty when it is not): a loss in a classifier's range, or one
    within SANE_EPOCH_OVER_HELDOUT of the held-out loss scored at the end of the same logged interval."""
    if not value > 0:
        return ""
    if value < ANY_VOCAB_NATS:
        return "a loss in a classifier's range"
    # a test split scored each epoch counts too, even where too few of its points are finite to be published as the
    # run's held-out curve (Run._test_split_as_heldout): one value at the same step is all the scale needs
    ev_s = run.series("eval_loss") or run.series("test_loss")
    if ev_s is None:
        return ""
    est, ev = ev_s.finite()
    held = ev[est == step]
    if held.size and float(held[0]) > 0 and value <= SANE_EPOCH_OVER_HELDOUT * float(held[0]):
        return (f"a row {value / float(held[0]):.2g}x the held-out loss {fmt(float(held[0]))} scored at the same step "
                f"{cite_series(ev_s)} (a sane epoch at the loss's own scale)")
    return ""


def detect_epoch_compounding(run: Run) -> list[Finding]:
    """The loss grows >= 100x at each of two consecutive logged points from a sane start (< ln 1e6, or within 4x of
    the held-out loss scored at the same step): an explosion seen at an epoch's resolution (grad_explosion 0.55, no
    grad norm logged)."""
    got = loss_without_grad_norm(run)
    if got is None:
        return []
    loss, st, v = got
    if v.size < 3 or compounding_growth(st, v) is not None:
        return []  # the per-step compounding rule reads it (detect_grad_explosion)
    for j in range(v.size - 2):
        sane = _sane_start(run, float(st[j]), float(v[j]))
        if sane and v[j + 1] >= EPOCH_COMPOUND * v[j] and v[j + 2] >= EPOCH_COMPOUND * v[j + 1]:
            ev = [f"the loss grows {v[j + 1] / v[j]:.3g}x from step {int(st[j])} to {int(st[j + 1])} and "
                  f"{v[j + 2] / v[j + 1]:.3g}x again by step {int(st[j + 2])} ({fmt(float(v[j]))} -> "
                  f"{fmt(float(v[j + 2]))}) {cite_series(loss)}: two orders of magnitude per logged interval twice "
                  f"in a row, from {sane}, is growth that feeds on itself, the way exploding gradients grow the "
                  "weights (no grad norm is logged to confirm it)"]
            return [Finding("detect_epoch_compounding", "grad_explosion", EPOCH_COMPOUND_STRENGTH,
                            "the loss compounds by orders of magnitude per logged interval (grad norm not logged)",
                            ev, int(st[j + 1]), {"growth": float(v[j + 2] / v[j]), "loss_only": True})]
    return []


DETECTORS = [detect_first_loss_blowup, detect_loss_never_back, detect_first_epoch_above_heldout,
             detect_creeping_heldout, detect_heldout_frozen_midrun, detect_saturated_output, detect_saturation_blowup,
             detect_saturation_inputs, detect_steady_climb, detect_epoch_compounding, detect_epoch_spike]
