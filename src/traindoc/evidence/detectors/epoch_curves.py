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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.evidence.context import cite_series, configured_lrs, loss_series, progress
from traindoc.evidence.detectors.not_learning import _ACC_NAME, _lr_series, lrs_below_reference, never_learned
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run, Series

# A fresh classifier's cross-entropy starts near ln(k), and ln of any label set or vocabulary is under ln 1e6 = 13.8
# (the bound detect_lr_too_high uses for a per-token loss, docs/diagnose.md). A first logged loss above it, in a run
# that logs an accuracy, is an average over updates that went far above the starting point: the weights blew up.
# A summed or per-sequence loss (CTC, a detector's total, an epoch sum) can start there too, so the loss must then
# fall >= 10x to under the bound: a per-sample cross-entropy comes back to a classifier's range; the healthy
# real-world runs with such losses fall 3-6x over their whole run (paddleocr-handwriting 22.9 -> 3.9, espnet 252
# -> 91) and stay at their scale.
ANY_LABELS_NATS = math.log(1e6)
BLOWUP_FALL = 10.0
BLOWUP_STRENGTH = 0.5  # the textbook reading, not confirmed alone: grad_explosion and a missing zero_grad read alike

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

# A cross-entropy is the mean of -ln p(true class). When the loss equals (1 - accuracy) x c, the correctly classified
# samples cost ~0 and every misclassified one costs c nats. c >= ln 1e6 = 13.8 (ANY_LABELS_NATS) means each error
# gives its true class <= 1e-6: the outputs are hard 0/1, a saturated sigmoid or softmax. Keras and TF compute the
# cross-entropy on probabilities clipped to [eps, 1 - eps] (backend.epsilon() = 1e-7: c = 16.12; float32's 2^-23:
# 15.94; Keras 0.x's 1e-15: 34.54), and the clip's gradient is 0 outside that range, so such an output gets no
# gradient and cannot leave; the loss and accuracy then repeat to every printed digit. c is capped at ln(1/2.2e-16)
# ~ 36.04 (float64's epsilon; no probability is clipped below it) plus a margin: 37. Frozen means spread <= 2e-3 (the
# 4 decimals logs print, not_learning.PIN_TOL) over >= 3 aligned points, the last 30 % at least; the ratio must hold
# within 1 % at every one of them (the 4-decimal rounding of a loss >= 0.5 moves it by < 0.02 %). The mechanism is
# certain, its origin is not (an output ReLU that died, a blow-up that saturated the logits, inputs that push the
# pre-activation off the scale), so dead_units is reported at 0.6 and the origins are listed below it.
SATURATED_NATS = ANY_LABELS_NATS
SATURATED_MAX_NATS = 37.0
SATURATED_MIN_POINTS = 3
SATURATED_SPREAD = 2e-3
SATURATED_RATIO_TOL = 0.01
SATURATED_STRENGTH = 0.6
SATURATED_ORIGIN_STRENGTH = 0.3


def _classifier(run: Run) -> bool:
    return any(_ACC_NAME.search(n) and "@" not in n for n in run.metrics if run.series(n) is not None)


def detect_first_loss_blowup(run: Run) -> list[Finding]:
    """A classifier's first logged loss > ln 1e6 and the loss's maximum, then >= 10x lower and under ln 1e6: the
    weights blew up during the first logged interval (an epoch's mean, in an epoch-level history)."""
    if run.series("grad_norm") is not None or not _classifier(run):
        return []  # with grad norms logged, the grad-norm rules tell a blow-up's cause apart
    loss = loss_series(run)
    if loss is None:
        return []
    st, v = loss.finite()
    if v.size < 3 or not (v[0] > ANY_LABELS_NATS and float(v[0]) == float(v.max())):
        return []
    j = int(np.argmin(v))
    low = float(v[j])
    if low <= 0 or v[0] / low < BLOWUP_FALL or low >= ANY_LABELS_NATS:
        return []
    ev = [f"the first logged loss is {fmt(float(v[0]))} at step {int(st[0])}, above ln 1e6 = {ANY_LABELS_NATS:.1f} "
          f"nats, where no fresh classifier's cross-entropy starts: the loss went far above its starting point "
          f"within the first logged interval {cite_series(loss)}",
          f"it then fell {v[0] / low:.3g}x to {fmt(low)} by step {int(st[j])}, back in a classifier's range: the "
          "weights blew up in the first updates and the run spent its steps recovering; a step size beyond the "
          "stable range is the first reading (exploding gradients and a missing zero_grad read alike without grad "
          "norms)"]
    return [Finding("detect_first_loss_blowup", "lr_too_high", BLOWUP_STRENGTH,
                    "the loss blew up in the first updates, then recovered", ev, int(st[0]),
                    {"first_loss": float(v[0]), "fall": float(v[0] / low)})]


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
    if prog is None and loss is not None:
        # too few points for `progress` (< 8, an epoch history with gaps): first against last logged point
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


def _frozen_tail(v: np.ndarray) -> int | None:
    """Index of the first evaluation of an identical (>= 6 significant digits) tail covering >= 4 evaluations and
    at least half of them, after a first evaluation that differs; None otherwise."""
    j = v.size - 1
    while j > 0 and v[j - 1] == v[-1]:
        j -= 1
    same = v.size - j
    x = float(v[-1])
    if j < 1 or same < FROZEN_MIN_EVALS or same < FROZEN_SHARE * v.size or x == float(f"{x:.5g}"):
        return None
    return j


def detect_heldout_frozen_midrun(run: Run) -> list[Finding]:
    """The held-out loss moved, then repeats exactly for the rest of the run (>= 4 evaluations, >= half) while the
    training loss moves: the updates stopped (scheduler_misuse 0.5, no LR logged)."""
    ev_s, loss = run.series("eval_loss"), loss_series(run)
    if ev_s is None or loss is None or _lr_series(run) is not None or lrs_below_reference(run):
        return []
    est, v = ev_s.finite()
    if v.size != len(ev_s) or v.size < FROZEN_MIN_EVALS + 1:
        return []
    j = _frozen_tail(v)
    lst, lv = loss.finite()
    after = lv[lst >= est[j]] if j is not None else lv[:0]
    if j is None or after.size < 3 or np.unique(after).size < after.size // 2 + 1:
        return []  # a training loss that stopped moving too is another rule's (a constant or pinned loss)
    ev = [f"the held-out loss moved until evaluation {j + 1} (step {int(est[j])}) and is {fmt(float(v[-1]))} to "
          f"every printed digit at all {v.size - j} evaluations since, {v.size - j} of {v.size}, while the training "
          f"loss still moves: the weights stopped changing with half the run to go {cite_series(ev_s)}",
          "updates that stop mid-run are what an LR decayed to 0 gives (a per-epoch scheduler stepped every batch); "
          "log the LR to confirm"]
    return [Finding("detect_heldout_frozen_midrun", "scheduler_misuse", FROZEN_STRENGTH,
                    "the weights stop changing mid-run", ev, int(est[j]), {"frozen_from_eval": j,
                                                                          "frozen_evals": int(v.size - j)})]


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
    if float(np.ptp(tl)) > SATURATED_SPREAD or float(np.ptp(ta)) > SATURATED_SPREAD:
        return None
    err = 1.0 - ta
    if float(err.min()) <= 0.01 or float(tl.min()) <= 0:
        return None  # a perfect (or near-perfect) classifier: the ratio says nothing
    c = tl / err
    if not (SATURATED_NATS <= float(c.min()) and float(c.max()) <= SATURATED_MAX_NATS
            and float(np.ptp(c)) <= SATURATED_RATIO_TOL * float(np.median(c))):
        return None
    # how far back the freeze goes: the first aligned point from which loss and accuracy stay within the spread
    j = lv.size - n
    while j > 0 and abs(lv[j - 1] - tl[-1]) <= SATURATED_SPREAD and abs(av[j - 1] - ta[-1]) <= SATURATED_SPREAD:
        j -= 1
    cm = float(np.median(c))
    ev = [f"the training loss is {fmt(float(tl[-1]))} and the accuracy {float(ta[-1]):.4g} at every logged point "
          f"from step {int(st[j])} to {int(st[-1])} ({lv.size - j} points) {cite_series(loss)} {cite_series(acc)}",
          f"loss / (1 - accuracy) = {cm:.4g} nats at each of them: the correct predictions cost ~0 and every wrong "
          f"one costs {cm:.4g} nats, a probability of {math.exp(-cm):.1g} on the true class (>= ln 1e6 = "
          f"{ANY_LABELS_NATS:.1f}): the outputs are hard 0/1, the sigmoid or softmax is saturated",
          "Keras and TF clip the probabilities inside the cross-entropy (eps 1e-7: 16.1 nats), and the clip passes "
          "no gradient: the output cannot leave saturation, which is why nothing moves"]
    return Saturated(int(st[j]), ev, {"nats_per_error": cm, "frozen_points": int(lv.size - j),
                                      "loss": float(tl[-1]), "accuracy": float(ta[-1])})


def detect_saturated_output(run: Run) -> list[Finding]:
    """A saturated, clipped output frozen with the loss and accuracy (saturated_output): dead_units 0.6."""
    sat = saturated_output(run)
    if sat is None:
        return []
    return [Finding("detect_saturated_output", "dead_units", SATURATED_STRENGTH,
                    "the output is saturated and passes no gradient: loss and accuracy are frozen",
                    [*sat.evidence, "an output ReLU that died, logits blown up by a too-large step or inputs off "
                                    "their scale put it there (the latter two are listed below)"],
                    sat.first_step, sat.numbers)]


def detect_saturation_blowup(run: Run) -> list[Finding]:
    """The saturated, frozen output (saturated_output) reached by a step too large: listed (lr_too_high 0.3)."""
    sat = saturated_output(run)
    if sat is None:
        return []
    return [Finding("detect_saturation_blowup", "lr_too_high", SATURATED_ORIGIN_STRENGTH,
                    "a saturated, frozen output: a too-large step can put it there",
                    [sat.evidence[1], "a step too large blows the logits up into saturation, where the clipped "
                                      "cross-entropy leaves them no gradient"], sat.first_step, sat.numbers)]


def detect_saturation_inputs(run: Run) -> list[Finding]:
    """The saturated, frozen output (saturated_output) reached through the data: listed (data_pipeline_bug 0.3)."""
    sat = saturated_output(run)
    if sat is None:
        return []
    return [Finding("detect_saturation_inputs", "data_pipeline_bug", SATURATED_ORIGIN_STRENGTH,
                    "a saturated, frozen output: inputs or labels of the wrong form can put it there",
                    [sat.evidence[1], "inputs off their expected scale (unnormalised, or all zeros after an integer "
                                      "division) pin the pre-activations; check a batch by eye"],
                    sat.first_step, sat.numbers)]


DETECTORS = [detect_first_loss_blowup, detect_creeping_heldout, detect_heldout_frozen_midrun,
             detect_saturated_output, detect_saturation_blowup, detect_saturation_inputs]
