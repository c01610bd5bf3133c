"""Data and label detectors: leakage, pipeline bugs, curriculum shocks, overfitting."""

from __future__ import annotations

import bisect
import math
import re

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import heldout, heldout_trend, stats
from traindoc.evidence.context import (
    ANY_VOCAB_NATS,
    FIRST_LOG_STEP,
    cite_config,
    cite_series,
    cite_source,
    config_number,
    configured_lrs,
    effective_batch,
    first_nonfinite,
    fix_site,
    late_window,
    loss_series,
    nan_context,
    nan_watch_series,
    run_length,
    sample_report,
    stage_boundaries,
    starts_at_first_interval,
    window_progress,
)
from traindoc.evidence.finding import Finding
from traindoc.evidence.nan_inputs import inputs_first
from traindoc.evidence.nan_terms import confined_terms
from traindoc.evidence.stats import fmt
from traindoc.evidence.unmeasured_loss import unmeasured_loss
from traindoc.ingest.model import Run, Series

# Regression error metrics by name ("f_mae", "val_rmse_e", "rmse_energy", "e/N_mae"), and the classification and
# language-model metrics a regression does not log
_REGRESSION_TOKENS = frozenset({"mae", "rmse", "mse", "mape", "rmsd"})
_CLASSIFICATION_TOKENS = frozenset({"accuracy", "f1", "auc", "bleu", "rouge", "map", "precision", "recall", "iou",
                                    "dice", "top1", "top5", "ppl", "perplexity", "wer", "cer", "chrf", "meteor"})
# held-out loss / training loss at the end above which the held-out data did not share the training loss's fall
LEAK_GAP = 5.0
# A smaller gap counts when the held-out loss never turned up. Memorisation opens its gap by fitting what only the
# training examples hold, which costs held-out data: the held-out loss passes its best and turns up (the U that early
# stopping cuts, Goodfellow et al. 2016, 7.8), and a gap of several times the training loss is far past that turn.
# A training loss that falls to a fraction of the held-out loss while the held-out loss is still at its lowest at
# the last evaluation has gained on the training batches at no cost to held-out data: they carry something the
# held-out ones lack (an off-by-one window whose target is an input). 3x is twice the 1.5x at which the differential
# reads a gap as opened (docs/diagnose.md, "The differential") and well above the 1.0-1.15 healthy runs end at
# (the degenerate-samples comment below); "still at its lowest" is within NO_TURN_RISE of the minimum, the
# differential's steady-rise size (2 %), below which a held-out loss has not turned.
NO_TURN_GAP = 3.0
NO_TURN_RISE = 0.02
# The held-out loss must stay >= NO_TURN_FLOOR nats: below it the model puts a geometric-mean probability above
# e^-0.1 ~ 0.9 on the held-out targets, it generalises, and a ratio of two losses near 0 is no gap (a fine-tune at
# 98 % ends 0.006 on training and 0.061 held out: tests/corpus/realworld/g24-nnabla-resnet18-caltech101-*). The
# training loss must end at <= half its start, so the gap opened in the window the log shows (an excerpt from late in
# a run whose training loss no longer moves says nothing of how it came).
NO_TURN_FLOOR = 0.1
# the same bound read from a held-out accuracy-like score where one is logged: at >= 90 % of its scale at the end the
# model is right on held-out data 9 times in 10, it generalises, whatever its held-out loss (a Keras classifier at
# 96 % held out whose training loss fell to 0.0005 in one epoch: 0.13 nats held out, 286x; realworld keras-1971)
NO_TURN_SCORE = 0.9
# the gap with no turn is evidence an engineer would act on (overfitting, the other reading of a gap, is ruled out
# by its own telling sign being absent): listed at 0.5, the level of the first-epoch gap (FIRST_EPOCH_STRENGTH)
NO_TURN_STRENGTH = 0.5


def heldout_scores_high(run: Run) -> bool:
    """A held-out accuracy-like task metric ends at >= NO_TURN_SCORE of its scale."""
    return any(m.top is not None and m.value(float(m.error[-1])) >= NO_TURN_SCORE * m.top
               for m in heldout.task_metrics(run))


def heldout_never_turned(ev_s: Series) -> bool:
    """The held-out loss (>= 3 evaluations) ends within NO_TURN_RISE of its minimum: it never turned up."""
    _, evv = ev_s.finite()
    if evv.size < 3 or float(np.min(evv)) <= 0:
        return False
    return float(evv[-1]) <= (1 + NO_TURN_RISE) * float(np.min(evv))


def regression_run(run: Run) -> bool:
    """The run logs a regression error (MAE, RMSE, MSE of a predicted quantity) and no classification or language
    metric: its loss is a regression loss, with no entropy floor. A reader whose format logs a regression objective
    by construction and names no metric that shows it (DeepXDE's loss.dat: sums of mean squared residuals) says so
    in run.meta["regression_loss"]."""
    if run.meta.get("regression_loss"):
        return True
    reg = cls = False
    for name in run.metrics:
        tokens = re.split(r"[^a-z0-9]+", name.lower())
        reg = reg or any(t in _REGRESSION_TOKENS for t in tokens)
        cls = cls or any(t in _CLASSIFICATION_TOKENS or t.startswith("acc") for t in tokens)
    return reg and not cls


def _leak_gap(ev_s: Series, end_train: float) -> bool:
    """The held-out loss ends >= LEAK_GAP x the training loss's end: it did not fall with it."""
    _, evv = ev_s.finite()
    if evv.size == 0:
        return False
    e_end = float(np.median(evv[-max(1, evv.size // 4):]))
    return e_end / max(end_train, 1e-6) >= LEAK_GAP


def detect_label_leakage(run: Run) -> list[Finding]:
    """Train loss collapses to ~0 implausibly fast, far below what held-out data reaches, or while the model
    generates garbage (a model that truly predicts its targets does not emit '::::').

    - collapse: the smoothed loss falls below 2 % of its initial value (and < 0.05 nats) within the first 30 % of
      the run; real learning of a non-trivial distribution keeps a floor of its entropy;
    - train << val: eval/train >= 5 with train < 0.1 at the end;
    - degenerate samples (>= 50 % of the latest) while train loss is tiny.
    """
    loss = loss_series(run)
    # the collapse reading needs >= 10 points (its "first 30 % of the run" is no span in fewer); the held-out gap is
    # read from the curves' ends and holds in a per-epoch log of a few epochs (>= 3 points, as the held-out turn needs)
    if loss is None or len(loss) < 3:
        return []
    st, v = loss.finite()
    if v.size < 3:
        return []
    st, v = stats.downsample(st, v, 4000, "mean")
    sm = stats.smooth(v, max(3, v.size // 30))
    head = v[: max(2, v.size // 20)]
    init = float(np.median(head))
    if init <= 0:
        return []
    floor = min(0.02 * init, 0.05)
    # the floor is in nats: a per-example cross-entropy keeps one of its labels' entropy, and starts at most near
    # ln(k) < ANY_VOCAB_NATS. A loss that starts above that is a sum or a squared error (R nnet's traced sum of
    # squares plus weight decay, 74.7 -> 0.0017 in a tutorial's healthy regression: tests/corpus/realworld/r-nnet-*),
    # whose scale is the data's and whose fall to ~0 is a fit, not a shortcut: the collapse reading is left to the
    # held-out gap below. The test reads the first points' largest value as well as their median: the median is
    # robust to one noisy point, but a logged window averaging above ln(1e6) nats is no per-token mean of any model's
    # cross-entropy whatever follows it (a loss summed over k gradient-accumulation micro-batches logs ~k x the mean;
    # a 2.2B VLM fine-tune with 16 micro-batches per step logged its answer-token loss at 19.2 then 14.4, healthy:
    # tests/corpus/realworld/g11s34-smolvlm2-*), and its fall to ~0 is read against the held-out loss as well
    per_token = init <= ANY_VOCAB_NATS and float(np.max(head)) <= ANY_VOCAB_NATS
    below = np.nonzero(sm < floor)[0] if per_token and v.size >= 10 else np.array([], dtype=int)
    ev: list[str] = []
    strength = 0.0
    step = None
    end_train = float(np.median(v[-max(2, v.size // 10):]))
    ev_s = run.series("eval_loss")
    no_turn = False
    if below.size and ev_s is not None and regression_run(run) and not _leak_gap(ev_s, end_train):
        # nor has a regression's error (a mean-squared or absolute error, logged with its MAE / RMSE): fitting a
        # smooth target (interatomic forces from DFT, a simulated curve) drives it toward 0 on training and held-out
        # data alike, so a collapse the held-out loss shares is a fit (NequIP on silicon forces, 0.825 -> 0.00048
        # with the validation loss at 0.00042: tests/corpus/realworld/g3s31-nequip-*); a leak there shows as the
        # held-out gap below, which this leaves to decide (an off-by-one forecasting window: the validation error
        # stays at the series' scale while the training error collapses)
        below = np.array([], dtype=int)
    if below.size:
        i = int(below[0])
        frac = i / v.size
        if frac <= 0.3:
            step = int(st[i])
            ev.append(f"train loss fell from {fmt(init)} to below {fmt(floor)} by step {step} ({frac:.0%} of the run) "
                      f"and ends at {fmt(end_train)} {cite_series(loss)}")
            strength = 0.4
            # a 100x+ collapse within the first 20 % of the run is faster than real learning of a non-trivial
            # distribution (the HF/Lightning Markov-chain runs reach ~1.1 nats; leaked ones reach 0.003)
            fast = np.nonzero(sm < 0.01 * init)[0]
            if fast.size and fast[0] / v.size <= 0.2:
                strength = 0.5
    if ev_s is not None:
        _, evv = ev_s.finite()
        if evv.size >= 1 and end_train < 0.1:
            e_end = float(np.median(evv[-max(1, evv.size // 4):]))
            ratio = e_end / max(end_train, 1e-6)
            no_turn = (ratio >= NO_TURN_GAP and e_end >= NO_TURN_FLOOR and end_train <= 0.5 * init
                       and heldout_never_turned(ev_s) and not heldout_scores_high(run))
            if (ratio >= LEAK_GAP and e_end > 0.2) or no_turn:
                ev.append(f"eval_loss ends at {fmt(e_end)}, {ratio:.3g}x the train loss {fmt(end_train)} "
                          f"{cite_series(ev_s)}")
                strength = strength + 0.3 if strength else 0.35
            if no_turn:
                ev.append(f"and eval_loss is still at its lowest at the last evaluation ({fmt(float(evv[-1]))}): it "
                          "never turned up, so the gap is no memorisation (which costs held-out data); the training "
                          "batches carry something the held-out ones lack")
                strength = max(strength, NO_TURN_STRENGTH)
                step = step if step is not None else int(ev_s.finite()[0][-1])  # the evaluation the gap is read at
    rep = sample_report(run)
    # teacher-forced train loss clearly below held-out loss while free-running generation is garbage: the model
    # scores well only when it can see the targets. Healthy runs (zoo, HF, Lightning) end with eval/train
    # 1.0-1.15; 1.25 plus degenerate samples is the combination, neither alone.
    if ev_s is not None and rep is not None and rep.late_share >= 0.5 and rep.late_count >= 3:
        _, evv = ev_s.finite()
        if evv.size and end_train > 0:
            gap = float(evv[-1]) / end_train
            if gap >= 1.25:
                ev.append(f"eval_loss {fmt(float(evv[-1]))} is {gap:.2f}x the final train loss {fmt(end_train)} while "
                          f"{rep.late_share:.0%} of the latest samples are degenerate, e.g. {rep.example!r} "
                          f"{cite_series(ev_s)}")
                strength = max(strength, 0.35 + min(0.2, gap - 1.25))
                step = step if step is not None else rep.example_step
    if rep is not None and rep.late_share >= 0.5 and end_train < 0.1 * init and strength > 0:
        ev.append(f"{rep.late_share:.0%} of the latest samples are degenerate although train loss is "
                  f"{fmt(end_train)}, e.g. {rep.example!r} at step {rep.example_step}")
        strength += 0.25
    if strength == 0 or (v.size < 10 and not no_turn):
        return []  # a log of < 10 points is read for the no-turn gap alone (the other readings were set at 10)
    # memorisation looks the same on the train curve; what differs is the held-out curve: with memorisation it
    # first improves and then turns up (a U), with leakage it never tracks the train loss at all
    if ev_s is not None:
        est_, evv_ = ev_s.finite()
        if evv_.size >= 4:
            i = int(np.argmin(evv_))
            first_drop = (float(evv_[0]) - float(evv_[i])) / max(abs(float(evv_[0])), 1e-8)
            rise = (float(evv_[-1]) - float(evv_[i])) / max(abs(float(evv_[i])), 1e-8)
            early = heldout.improved_before_first_eval(loss, ev_s) if i == 0 else None
            lst_, lv_ = loss.finite()
            near = lv_[lst_ <= est_[i]][-3:]
            if near.size and 0 < i and float(evv_[i]) <= float(np.median(near)) and strength > 0:
                # memorisation's U has the held-out loss above the training loss at its best (the gap it opens);
                # a held-out loss that fell to the training loss's level or below it collapsed with it: the
                # held-out batches carry the answer too (one collator for both), and a later small rise of both
                # is no U
                ev.append(f"eval_loss fell with it to {fmt(float(evv_[i]))} at step {int(est_[i])}, no higher than "
                          f"the training loss there ({fmt(float(np.median(near)))}): no memorisation gap "
                          f"{cite_series(ev_s)}")
            elif turned_in_first_epoch(run) is not None:
                ev.append("eval_loss turned up inside the first epoch while the training loss fell, before any "
                          "example was seen twice: a shortcut the training batches carry, not memorisation")
            elif 0 < i < evv_.size - 2 and first_drop >= 0.1 and rise >= 0.25:
                ev.append(f"but eval_loss first improved ({fmt(float(evv_[0]))} -> {fmt(float(evv_[i]))} at step "
                          f"{int(est_[i])}) then rose {rise:.0%}: the pattern of memorisation, not of leakage")
                strength *= 0.4
            elif early is not None and rise >= 0.25:
                # the U's falling half happened before the first evaluation: the held-out loss was first scored
                # already below where the training loss started (an untrained model's level on either set)
                ev.append(f"but eval_loss was first scored at {fmt(early[1])}, already below the training loss's start "
                          f"{fmt(early[0])}, and then rose {rise:.0%}: it improved before its first evaluation, the "
                          "pattern of memorisation, not of leakage")
                strength *= 0.4
    # a held-out task metric that got materially better means something learned on train transfers: the model
    # memorises (or grows over-confident), it does not read its targets from the input (evidence/heldout.py).
    # Not when the held-out loss collapses too: leaked evaluation batches improve every held-out number. Nor, in a
    # regression whose held-out loss never turned up (NO_TURN_GAP), for its error metric: an MAE or RMSE beside an
    # MSE loss is the same held-out error measured another way, already weighed by the no-turn reading. A held-out
    # accuracy that rose is other knowledge (a classifier that learned a real rule memorises a small set past it and
    # can keep its held-out loss level: 64 examples, eval accuracy 0.28 -> 0.83 in reallib paddle-overfitting-s1).
    if ev_s is not None and strength > 0 and not (no_turn and regression_run(run)):
        _, evv_ = ev_s.finite()
        gap = evv_.size and float(np.median(evv_[-max(1, evv_.size // 4):])) >= 2 * max(end_train, 1e-12)
        improved = next((m for m in heldout.task_metrics(run) if heldout.ever_improved(m)), None)
        if gap and improved is not None:
            first, best = float(improved.error[0]), float(np.min(improved.error))
            ev.append(f"but {improved.name} improved ({fmt(improved.value(first))} -> {fmt(improved.value(best))}): "
                      f"what the model learned transfers to held-out data, which leaked targets would not "
                      f"{cite_series(improved.series)}")
            strength *= 0.4
    return [Finding("detect_label_leakage", "label_leakage", float(min(1.0, strength)),
                    "the model sees its targets: train loss is implausibly low", ev, step,
                    {"initial_loss": init, "final_train_loss": end_train})]


# Progressive validation (Blum, Kalai & Langford 1999, "Beating the hold-out"): during the first pass over the
# training set every batch is scored before the model has been updated on it, so the first epoch's training loss is
# an estimate of the held-out loss, a pessimistic one (it lags the model, which only improves; dropout and
# augmentation raise it further). Memorisation cannot put the training loss below the held-out loss before any
# example has been seen twice. A training loss <= 2/3 of the held-out loss (the held-out loss 1.5x the training loss,
# where healthy runs end at 1.0-1.15x: detect_label_leakage's gap comment) at the evaluation that closes the first
# epoch, and a gap that stays (the median ratio over every later evaluation <= 2/3 too: one early held-out spike,
# BatchNorm statistics not settled after one epoch, does not count) means the training batches are easier than the
# held-out ones from the start: they carry the answer (an off-by-one window, a hand pre-shift), or the two sets are
# not drawn alike. Only when the log starts at the first epoch, the held-out loss did learn (its median over the run
# is below the training loss's start, so it is not a divergence both sets share) and the training loss ends below
# its start. Listed at 0.5: the first-epoch gap is evidence an engineer would accept for "the training set is not
# the held-out set's kind", but the log cannot say which of the two.
FIRST_EPOCH_GAP = 2 / 3
FIRST_EPOCH_STRENGTH = 0.5


def _first_epoch_end(run: Run, steps: np.ndarray) -> int | None:
    """The last step of the run's first epoch, when its epoch boundaries are logged and the log starts there."""
    starts = sorted(run.epoch_starts)
    if len(starts) < 2:
        return None
    (s0, e0), (s1, e1) = starts[0], starts[1]
    # the log must start at the first epoch (an excerpt from "Epoch 113/300" tells nothing about the first pass)
    if e0 > 1 or e1 != e0 + 1 or steps.size == 0 or float(steps[0]) >= s1:
        return None
    # a boundary step closes the epoch before it when the log is per epoch (Keras, Flax: step = epoch number)
    return int(s1) if s1 - s0 <= 1 else int(s1) - 1


def first_epoch_gap(run: Run) -> tuple[int, float, float, float, float] | None:
    """(evaluation step closing the first epoch, training loss there, held-out loss there, median later ratio,
    training loss's start) when the training loss sits <= FIRST_EPOCH_GAP x the held-out loss from the first epoch
    on; else None."""
    loss, ev_s = loss_series(run), run.series("eval_loss")
    if loss is None or ev_s is None:
        return None
    lst, lv = loss.finite()
    est, evv = ev_s.finite()
    if lv.size < 3 or evv.size < 3 or np.any(lv < 0) or np.any(evv <= 0):
        return None
    end1 = _first_epoch_end(run, lst)
    if end1 is None:
        return None
    ratios = []
    # the training points in (previous evaluation, this one]: the steps ascend (Run.finalize), so two binary searches
    # per evaluation, not a pass over the whole log each
    his = np.searchsorted(lst, est, side="right")
    los = np.concatenate(([0], his[:-1]))
    for t, e, lo, hi in zip(est, evv, los, his, strict=True):
        w = lv[lo:hi] if hi > lo else lv[:hi][-1:]
        # the later half of the points since the previous evaluation, at least two of them when there are: the
        # training loss near the evaluated model. One logged batch is no estimate of the first epoch's loss (a batch
        # mean scatters by the per-sample spread / sqrt(B), and a log of the last batch's loss jumps 0.93 -> 3.49
        # between two epochs in g13-gluonnlp-ner), so the first epoch's reading needs two training points
        tail = w[min(w.size // 2, max(0, w.size - 2)):]
        ratios.append((int(t), float(np.median(tail)) if tail.size else math.nan, float(e), tail.size))
    first = [r[:3] for r in ratios if r[0] <= end1 and not math.isnan(r[1]) and r[3] >= 2]
    later = [r[1] / r[2] for r in ratios if r[0] > end1 and not math.isnan(r[1])]
    if not first or len(later) < 2:
        return None
    t1, tr1, ev1 = first[-1]
    start = float(np.median(lv[:3]))
    if start <= 0 or tr1 > FIRST_EPOCH_GAP * ev1 or float(np.median(later)) > FIRST_EPOCH_GAP:
        return None
    if float(np.median(evv)) >= start or float(np.median(lv[-max(1, lv.size // 10):])) >= start:
        return None
    return t1, tr1, ev1, float(np.median(later)), start


# The same argument for a held-out loss that turns up: memorisation needs examples seen again, so a held-out loss that
# climbs >= 25 % above its minimum (detect_label_leakage's U size) before the first epoch has closed, while the
# training loss keeps falling over those steps, is the model learning something on the training batches that hurts
# held-out data (a shortcut only they carry), not memorising them. Needs >= 3 evaluations inside the first epoch.
FIRST_EPOCH_TURN = 1.25


def turned_in_first_epoch(run: Run) -> tuple[int, float, int, float] | None:
    """(step, value) of the held-out minimum and (step, value) of a later evaluation >= FIRST_EPOCH_TURN x it, both
    inside the first epoch, while the training loss fell between them; else None."""
    loss, ev_s = loss_series(run), run.series("eval_loss")
    if loss is None or ev_s is None:
        return None
    lst, lv = loss.finite()
    est, evv = ev_s.finite()
    end1 = _first_epoch_end(run, lst)
    if end1 is None or int(np.sum(est <= end1)) < 3 or np.any(evv <= 0):
        return None
    st1, v1 = est[est <= end1], evv[est <= end1]
    i = int(np.argmin(v1))
    j = i + int(np.argmax(v1[i:]))
    if j == i or v1[j] < FIRST_EPOCH_TURN * v1[i]:
        return None
    at_min, at_top = lv[lst <= st1[i]][-3:], lv[(lst > st1[i]) & (lst <= st1[j])]
    if at_min.size == 0 or at_top.size == 0 or float(np.median(at_top[-3:])) >= float(np.median(at_min)):
        return None  # the training loss rose too: instability, judged by the divergence rules
    return int(st1[i]), float(v1[i]), int(st1[j]), float(v1[j])


def detect_train_below_heldout_first_epoch(run: Run) -> list[Finding]:
    """The training loss sits well below the held-out loss from the end of the first epoch on, before any training
    example was seen twice (FIRST_EPOCH_GAP): the training batches carry something the held-out ones lack."""
    got = first_epoch_gap(run)
    if got is None:
        return []
    t1, tr1, ev1, later, start = got
    loss, ev_s = loss_series(run), run.series("eval_loss")
    assert loss is not None and ev_s is not None
    ev = [f"at step {t1}, the end of the first epoch, the training loss is {fmt(tr1)} and the held-out loss {fmt(ev1)} "
          f"({tr1 / ev1:.2f}x) {cite_series(loss)} {cite_series(ev_s)}",
          "in the first pass every training batch is scored before the model has trained on it, so the training loss "
          "is then an estimate of the held-out loss: memorisation cannot put it below, an answer the training batches "
          "carry (an off-by-one window, a hand pre-shift) or a training set unlike the held-out one can",
          f"the gap stays: the training loss is a median {later:.2f}x the held-out loss at the later evaluations, "
          f"while the held-out loss did improve (below the training loss's start {fmt(start)})"]
    return [Finding("detect_train_below_heldout_first_epoch", "label_leakage", FIRST_EPOCH_STRENGTH,
                    "the training batches are easier than the held-out ones from the first epoch", ev, t1,
                    {"first_epoch_ratio": tr1 / ev1, "later_ratio": later})]


# A ~0 loss that the training accuracy contradicts (evidence/unmeasured_loss.py): a loss over no targets stays one
# reading, level with float16 underflow and an op's NaN reported as 0 (detect_unmeasured_loss, 0.35 each, the level
# of readings the log cannot tell apart, as for a NaN with no lead); the calibration orders them
UNMEASURED_DATA = 0.35


# The other sawtooth that repeats with the epoch and is no loader's: the loss falls within every epoch and steps DOWN
# at each epoch boundary. A running mean restarted every epoch (the printed "Loss" of many loops and progress bars)
# falls from the epoch's first batches towards the epoch's mean and restarts lower; a model that sees the same
# examples again (a small set trained for several epochs) drops at each new pass. Data in an order repeats its
# pattern at one level instead: it must come back up at the boundary to start the epoch's pattern again (data sorted
# by class jumps up when the first class returns; one sorted by length or difficulty returns to its first items).
# Read over >= SAW_BOUNDARIES boundaries with points on both sides: >= 3/4 of them step down and >= SAW_FALLS of the
# steps within the epochs fall (a running mean falls at nearly every point; a per-step loss scatters and is read by
# the jagged rule above).
SAW_BOUNDARIES = 3
SAW_FALLS = 0.7


def _falls_and_steps_down(st: np.ndarray, v: np.ndarray, starts: list[int]) -> str | None:
    """Why the epoch-periodic loss is a running mean restarted each epoch or a repeated pass (see SAW_FALLS), or
    None."""
    cut = np.searchsorted(st, np.asarray(starts[1:]))
    cut = cut[(cut > 0) & (cut < v.size)]
    if cut.size < SAW_BOUNDARIES:
        return None
    down = float(np.mean(v[cut] < v[cut - 1]))
    inside = np.ones(v.size - 1, dtype=bool)
    inside[cut - 1] = False  # the step across a boundary is not a step within an epoch
    d = np.diff(v)[inside]
    falls = float(np.mean(d < 0)) if d.size else 0.0
    if down < 0.75 or falls < SAW_FALLS:
        return None
    return (f"but the loss falls within each epoch ({falls:.0%} of its steps) and steps down at {down:.0%} of the "
            f"{cut.size} epoch boundaries: a running mean restarted each epoch or a repeated pass over the same "
            "examples, not data in an order (which comes back up to repeat its pattern)")


def detect_data_pipeline_bug(run: Run) -> list[Finding]:
    """Loss ~0 from the very start (1e-4 nats: no real task starts solved), a loss that falls to exactly 0 within
    its first updates and stays there, a classifier's loss below -1 (targets outside the loss's range), a NaN in a
    detector's box-regression term alone (the box targets), a loss that
    never changes (identical batches / a constant target), or a loss periodic with the epoch (unshuffled or repeated
    data)."""
    loss = loss_series(run)
    negative = _negative_classification_loss(run, loss) if loss is not None else None
    if negative is not None:
        return [negative]
    boxes = box_target_nan(run)  # reads the loss terms: runs whether or not a total loss is logged
    if boxes is not None:
        return [boxes]
    no_boxes = _box_terms_zero(run)  # likewise: YOLO-style consoles log the terms and no total
    if no_boxes is not None:
        return [no_boxes]
    # five points are enough for "zero from the start" (a detector with no boxes to match logs loss_bbox 0.0000
    # from its first line, and the total follows by the second): no real task starts solved, at any log length
    if loss is None or len(loss) < 5:
        return []
    st, v = loss.finite()
    if v.size < 5:
        return []
    ev: list[str] = []
    strength = 0.0
    k = max(3, v.size // 10)
    first = float(np.median(np.abs(v[:k])))
    zero_from = _zero_early(run, st, v)
    unmeasured = unmeasured_loss(run)
    if unmeasured is not None and (zero_from is not None or first < 1e-4):
        # the training accuracy beside the ~0 loss contradicts it (evidence/unmeasured_loss.py): the loss stopped
        # measuring the model, which a trivial target does not do (it is learned, accuracy to 1 with the loss). A loss
        # over no targets (every label masked) stays a reading, level with the numerics ones (detect_unmeasured_loss)
        return [Finding("detect_data_pipeline_bug", "data_pipeline_bug", UNMEASURED_DATA,
                        "the loss is ~0 while the training accuracy says the model predicts badly",
                        [unmeasured.evidence, "a loss computed over no targets (every label masked) reads so too; the "
                         "logs cannot tell it from a numerical failure of the loss"],
                        int(st[0]), {"initial_loss": first, "unmeasured_loss": True})]
    if zero_from is not None and not first < 1e-4:
        i0 = zero_from
        return [Finding("detect_data_pipeline_bug", "data_pipeline_bug", 0.6,
                        "the data fed is not the data intended", [
                            f"loss falls from {fmt(float(v[0]))} to exactly 0 by step {int(st[i0])} and stays exactly "
                            f"0 at all {v.size - i0} later points {cite_series(loss)}",
                            "no real task is solved to every printed digit within its first updates: every target is "
                            "the same (one class in the data, a constant label) or read from the input"],
                        int(st[i0]), {"initial_loss": float(v[0]), "zero_from_step": int(st[i0])})]
    if v.size < 10 and not first < 1e-4:
        return []
    if first < 1e-4:
        ev.append(f"loss is {fmt(first)} from the first steps: nothing to learn {cite_series(loss)}")
        strength = 0.8
    elif v.size >= 20 and float(np.ptp(v)) == 0.0:
        ev.append(f"loss is exactly {fmt(float(v[0]))} at all {v.size} points {cite_series(loss)}")
        strength = 0.6
    # epoch periodicity; only in a model that learns: one whose weights barely move sees the same loss for the
    # same batch every epoch, which is a symptom of not learning, not of the loader
    prog = window_progress(run, "loss")  # (learning inside the logged window is enough)
    if len(run.epoch_starts) >= 4 and v.size >= 40 and prog is not None and prog >= 0.1:
        starts = [s for s, _ in run.epoch_starts]
        per = int(np.median(np.diff(starts)))
        idx_per = int(np.searchsorted(st, st[0] + per))
        if 4 <= idx_per <= v.size // 3:
            resid = np.log(np.maximum(v, 1e-12)) - stats.smooth(np.log(np.maximum(v, 1e-12)), idx_per)
            a, b = resid[:-idx_per], resid[idx_per:]
            if a.std() > 0 and b.std() > 0:
                r = float(np.corrcoef(a, b)[0, 1])
                if r >= 0.7:
                    ev.append(f"loss repeats with the epoch: lag-{per}-step autocorrelation {r:.2f} after detrending "
                              f"{cite_series(loss)}")
                    periodic = 0.4 + 0.4 * (r - 0.7) / 0.3
                    # two pictures repeat with the epoch. Data in an order (sorted by class, length or source)
                    # makes the loss drift with the position in the epoch: neighbouring points agree (lag-1
                    # autocorrelation of the residual >= 0.5) and the model chases the order. The same shuffled
                    # batches in a fixed order (a loader with shuffle off) repeat a jagged per-batch pattern whose
                    # neighbours do not agree; while the loss still halves that is context, not a cause (a
                    # Lightning MNIST run learning to 97 % does this: lag-1 -0.18)
                    r1 = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if resid.std() > 0 else 0.0
                    if prog >= 0.5 and r1 < 0.5:
                        ev.append(f"the loss still fell {prog:.0%} and the repeating pattern is jagged (lag-1 "
                                  f"autocorrelation {r1:.2f}): the same batches in a fixed order, the model learns")
                        periodic = min(periodic, 0.3)
                    saw = _falls_and_steps_down(st, v, starts)
                    if saw is not None:
                        ev.append(saw)
                        periodic = min(periodic, 0.3)
                    strength = max(strength, periodic)
    if not ev:
        return []
    return [Finding("detect_data_pipeline_bug", "data_pipeline_bug", float(min(1.0, strength)),
                    "the data fed is not the data intended", ev, int(st[0]), {"initial_loss": first})]


# Updates within which a loss that reaches exactly 0 (every printed digit) and stays there says the targets are
# trivial. A fresh classifier starts near ln(k) and a real task takes hundreds of updates to fall by orders of
# magnitude; 0 to every digit in a float32 cross-entropy needs every target at probability 1 - 1e-7 or more.
ZERO_EARLY_UPDATES = 100
ZERO_EARLY_POINTS = 3  # the zero persists: a single 0 is a rounding or a logging slip


def _zero_early(run: Run, st: np.ndarray, v: np.ndarray) -> int | None:
    """Index of the first point of a loss that is exactly 0 from an early step to the end, after a positive start:
    None unless the zero starts within ZERO_EARLY_UPDATES updates and, in a log with epochs, inside the first epoch
    with at least ZERO_EARLY_POINTS points logged in that epoch (so the steps count updates, not epochs)."""
    if not v[0] > 0:
        return None
    nz = np.flatnonzero(v != 0)
    i0 = int(nz[-1]) + 1
    if i0 >= v.size or v.size - i0 < ZERO_EARLY_POINTS or st[i0] > ZERO_EARLY_UPDATES:
        return None
    starts = sorted(s for s, _ in run.epoch_starts)
    if starts:
        second = starts[1] if len(starts) > 1 else None
        if second is not None and st[i0] >= second:
            return None
        if int(np.sum(st < (second if second is not None else np.inf))) < ZERO_EARLY_POINTS:
            return None
    return i0


# Catalogued lines that say the targets and the inputs the loss is computed over do not line up: labels masked out
# (labels_all_masked), shapes that must align and do not (shape_mismatch), targets broadcast against another shape
ZERO_LOSS_WITNESSES = ("labels_all_masked", "shape_mismatch", "target_size_mismatch", "empty_epoch_iterator")
# Updates within which no real task can reach a loss of exactly 0: a fresh head's cross-entropy starts near ln(k)
EARLY_UPDATES = 10


def detect_loss_exactly_zero(run: Run) -> list[Finding]:
    """Every logged training loss is exactly 0, in a log too short for detect_data_pipeline_bug (< 5 points).

    A loss is a mean of non-negative per-target terms; exactly 0 means no target contributed at all (every label
    masked to the ignore index, an empty target, a loss over zero tokens), since a model that has just started
    cannot predict every target with probability 1. Read from the first epoch (with no epoch counter, the first
    EARLY_UPDATES steps): 0.65; corroborated by a catalogued line saying targets and inputs do not line up: 0.7,
    0.8 with both. Later in a run, with nothing else, a loss printed as 0 may be a converged model's rounding
    (0.0000 at 4 decimals): listed (0.3), never confirmed.
    """
    loss = loss_series(run)
    if loss is None or len(loss) == 0 or len(loss) >= 5:
        return []  # five points or more: detect_data_pipeline_bug reads "zero from the start"
    st, v = loss.finite()
    if v.size < len(loss) or not np.all(v == 0):
        return []
    first = int(st[0])
    epoch = run.series("epoch")
    ep0 = None
    if epoch is not None:
        es, evals = epoch.finite()
        at = evals[es <= first]
        ep0 = float(at[-1]) if at.size else None
    # the epoch counter, when logged, says where the run is (a step count may only number the lines printed)
    early = ep0 < 1.0 if ep0 is not None else first <= EARLY_UPDATES
    ev = [f"the training loss is exactly 0 at all {v.size} logged point(s) from step {first}"
          f"{f' (epoch {fmt(ep0)})' if ep0 is not None else ''} {cite_series(loss)}: no target contributes to it"]
    strength = 0.3
    if early:
        ev.append("so early no model predicts every target with certainty: the loss is computed over nothing (every "
                  "label masked, empty targets), not learned")
        strength = 0.65
    witnesses = [e for e in run.events if e.tag in ZERO_LOSS_WITNESSES]
    if witnesses:
        e = witnesses[0]
        more = f" (and {len(witnesses) - 1} more)" if len(witnesses) > 1 else ""
        ev.append(f"the log says the targets and inputs do not line up: {e.message[:160]}{more} "
                  f"[{cite_source(e.source)}:{e.line}]")
        strength = 0.8 if early else 0.7
    unmeasured = unmeasured_loss(run) if not witnesses else None
    if unmeasured is not None:
        # the training accuracy contradicts the zero (evidence/unmeasured_loss.py): no target counted is one reading,
        # level with the numerical ones (detect_unmeasured_loss) unless a line says targets and inputs do not line up
        ev.append(unmeasured.evidence)
        strength = min(strength, UNMEASURED_DATA)
    return [Finding("detect_loss_exactly_zero", "data_pipeline_bug", strength,
                    "the loss is exactly 0: it is computed over no target", ev, first,
                    {"zero_points": int(v.size), "early": early, "witnessed": bool(witnesses)})]


# A never-finite loss names no cause of its own: listed at the level of an unguarded op's and float16's readings of
# the same fact (detectors/numerics.py), below the report threshold.
NAN_FROM_START = 0.35


def detect_nan_from_start(run: Run) -> list[Finding]:
    """The loss is non-finite from its first logged point: nothing has trained yet, so a growing weight does not
    explain it. Inputs or labels holding NaN/Inf, constant or unnormalised columns (a division by a zero std) are one
    reading (docs/causes.md: data_pipeline_bug, "NaN in inputs"); an unguarded op that the data drives to 0/0 or
    log 0 (nan_inf), a float16 range overflow and a blow-up in the very first steps leave the same never-finite
    loss. A candidate below the report threshold, level with the op's and fp16's readings (0.35): the log alone
    cannot tell them apart, and the summary says so (diagnosis/unexplained_nan.py)."""
    ctx = nan_context(run)
    if ctx is None or not ctx.loss_nan or not ctx.from_start or ctx.recovers:
        return []
    # the series nan_context watched: the loss, or what a run logs instead of one (a GAN's loss_d/loss_g pair)
    loss = loss_series(run) or nan_watch_series(run)
    where = f" {cite_series(loss)}" if loss is not None else ""
    ev = [f"the loss is non-finite from its first logged point (step {ctx.step}){where}",
          "no finite loss was ever logged: NaN/Inf, constant or unnormalised columns in a batch, an op the data "
          "drives to 0/0 or log 0, float16 overflow or an LR far too high from step 0 all give this; check a batch "
          "for NaN/Inf first, it is the cheapest look"]
    return [Finding("detect_nan_from_start", "data_pipeline_bug", NAN_FROM_START,
                    "non-finite loss from the first step: the data fed is one suspect", ev, ctx.step,
                    {"first_nonfinite_step": ctx.step})]


# A loss already this large at its first logged point, where that point is the run's start: no loss of valid targets
# through a network at initialisation reaches it. A cross-entropy starts at ln k (13.8 for a million classes) and
# its clipped saturation caps a sample at 16.1 nats (Keras/TF's eps 1e-7) or 87.3 (Caffe's FLT_MIN; see
# detect_saturated_output); a sum-reduced reconstruction loss over a whole batch stays well below too (a VAE on
# 784-pixel images at batch 100 sums ~5.5e4 at its start; g6-kvfrans-vae logs 7.4e4 after 427 epochs); a
# mean-squared error of 1e6 needs errors of 1e3 per element, which normalised targets never give. Two things reach
# it: targets or inputs off the scale the loss expects (unnormalised regression targets, 0-255 masks or raw class ids
# into a loss that is linear in them), or weights that already blew up inside the first logging interval.
HUGE_START_LOSS = 1e6
# listed at the level of the never-finite loss's reading (NAN_FROM_START): an LR far too high reads the same
HUGE_START_STRENGTH = NAN_FROM_START


def detect_huge_loss_before_nan(run: Run) -> list[Finding]:
    """The loss is astronomically large (>= HUGE_START_LOSS) from its first logged point, which is the run's start,
    never comes down to an ordinary value, and then goes non-finite for good without climbing into it (issue 8:
    "data: NaN/huge values from the start"). The NaN readings of an op and of float16 say "no blow-up before it"
    there; what the log does show is a loss off every initial scale from the first line, which off-scale targets or
    inputs give as well as an LR that diverged within the first interval. Listed level with the never-finite loss's
    data reading (below the report threshold): the LR's reading of the same trace stays beside it."""
    ctx = nan_context(run)
    loss = loss_series(run)
    if ctx is None or loss is None or not ctx.loss_nan or ctx.recovers or ctx.lr_lead or ctx.finite_before == 0:
        return []
    if int(loss.steps[0]) > FIRST_LOG_STEP or not starts_at_first_interval(loss) or late_window(run) is not None:
        return []  # an excerpt that starts later in the run: its first line is not the start
    st, v = loss.finite()
    before = v[st < ctx.step]
    if before.size == 0 or float(np.abs(before).min()) < HUGE_START_LOSS:
        return []
    ev = [f"the loss is {fmt(float(before[0]))} at its first logged point (step {int(st[0])}) {cite_series(loss)}"
          + (f" and never below {fmt(float(np.abs(before).min()))} before it" if before.size > 1 else "")
          + f", then non-finite from step {ctx.step}",
          f"no loss of valid targets starts near {fmt(HUGE_START_LOSS)} (a cross-entropy starts at ln k, a "
          "normalised regression target near 1): targets or inputs off the scale the loss expects (unnormalised "
          "targets, 0-255 masks or raw class ids) give it from the first batch, as an LR that diverged within the "
          "first logging interval does; check a batch's targets and inputs, then the LR"]
    return [Finding("detect_huge_loss_before_nan", "data_pipeline_bug", HUGE_START_STRENGTH,
                    "the loss is off every initial scale from its first point, then NaN", ev, int(st[0]),
                    {"first_loss": float(before[0]), "first_nonfinite_step": ctx.step})]


# A classifier's loss: a run that logs an accuracy is scored per target, and its cross-entropy (binary or categorical)
# is -sum(y log p), >= 0 whenever the targets y are probabilities in [0, 1]. Some segmentation losses go negative by
# design, but not below -1: nnU-Net's Dice + CE and "-Dice" losses have -1 as their optimum. A loss under
# NEGATIVE_LOSS_FLOOR at most points therefore says the targets are not in [0, 1]: class indices or 0-255 masks fed
# to binary cross-entropy, whose -y log p then rewards saturating the output (and the model stops learning there).
NEGATIVE_LOSS_FLOOR = -1.0
_ACCURACY_NAME = re.compile(r"acc", re.IGNORECASE)
# A segmentation run scores its targets too: Dice (DSC, F1 on pixels), IoU / Jaccard. Over masks in {0, 1} each is in
# [0, 1] (2|A∩B| / (|A| + |B|) and |A∩B| / |A∪B|), so a run logging one is as much a per-target classifier as one
# logging an accuracy, and the same floor reads its loss. A value above 1 (OVERLAP_MAX_SANE: 1 plus float slack) is
# itself a sign the masks are not {0, 1} (milesial/Pytorch-UNet's dice_coeff over 0-255 masks prints 1.97); a
# score logged in percent lies far above that, so only (1, 2] counts.
_OVERLAP_NAME = re.compile(r"dice|dsc|iou|jaccard|(?:^|[_/ .-])f1(?:[_/ .-]|$)", re.IGNORECASE)
OVERLAP_MAX_SANE = 1.0 + 1e-3
# A loss named a cross-entropy (BCE, CE, cross_entropy) is >= 0 over targets in [0, 1] whatever the model: below
# zero at most of its points (median and last under NAMED_CE_FLOOR, past float round-off) the targets are out of
# range, with no metric needed. A negative log-likelihood is not in it: a density's NLL (flows, Gaussian heads)
# goes below 0 by design.
_CE_LOSS_NAME = re.compile(r"bce|cross.?entropy|(?:^|[_/ .-])ce(?:[_/ .-]|$)", re.IGNORECASE)
NAMED_CE_FLOOR = -1e-3


def _overlap_above_one(run: Run) -> tuple[str, float] | None:
    """An overlap score (Dice/IoU/Jaccard/F1 by name) with a value in (OVERLAP_MAX_SANE, 2]: (name, max)."""
    for name, s in sorted(run.metrics.items()):
        if not _OVERLAP_NAME.search(s.raw_name or name):
            continue
        _, v = s.finite()
        if v.size and OVERLAP_MAX_SANE < float(v.max()) <= 2.0:
            return s.raw_name or name, float(v.max())
    return None


def _negative_classification_loss(run: Run, loss: Series) -> Finding | None:
    """The training loss of a run that logs an accuracy or an overlap score (Dice/IoU) sits below -1 at most of its
    points (median and the last point), or a loss named a cross-entropy sits below 0: no cross-entropy over targets
    in [0, 1] can, so the targets fed are not what the loss expects. Two points are enough: the sign says it, not a
    trend. One point (a single pasted epoch line) says it too, but from one line a misread or a line of another loss
    cannot be excluded: it is then listed as a reading of final figures alone (numbers["endpoints_only"]: below the
    report threshold under the insufficient_data verdict, diagnosis.build.few_points)."""
    st, v = loss.finite()
    if v.size == 0:
        return None
    med, last = float(np.median(v)), float(v[-1])
    named = bool(_CE_LOSS_NAME.search(loss.raw_name or loss.name)) and med < NAMED_CE_FLOOR and last < NAMED_CE_FLOOR
    scored = [n for n in run.metrics if _ACCURACY_NAME.search(n) or _OVERLAP_NAME.search(n)]
    if not named and not (scored and med < NEGATIVE_LOSS_FLOOR and last < NEGATIVE_LOSS_FLOOR):
        return None
    overlap = any(_OVERLAP_NAME.search(n) and not _ACCURACY_NAME.search(n) for n in scored)
    what = ("is named a cross-entropy" if named else
            "logs an overlap score (Dice/IoU)" if overlap and not any(_ACCURACY_NAME.search(n) for n in scored)
            else "logs an accuracy")
    points = f"{v.size} point{'' if v.size == 1 else 's'}"
    ev = [f"the training loss is negative, median {fmt(med)} over {points} {cite_series(loss)}, in a run that "
          f"{what}: a cross-entropy over targets in [0, 1] is never below 0, and no Dice-style term below -1",
          "the targets are outside the loss's range (class indices or 0-255 masks into binary cross-entropy)"]
    above = _overlap_above_one(run)
    if above is not None:
        ev.append(f"{above[0]} reaches {fmt(above[1])}: an overlap score over masks in {{0, 1}} is at most 1, so the "
                  "masks are not binary")
    tail = v[v.size // 2:]
    if tail.size >= 2 and float(np.ptp(tail)) == 0.0:
        ev.append(f"the loss is stuck at exactly {fmt(float(tail[-1]))}: the output saturated where the wrong targets "
                  "reward it, and the model no longer learns")
    return Finding("detect_data_pipeline_bug", "data_pipeline_bug", 0.6,
                   "a classifier's loss below zero: the targets are outside the loss's range", ev, int(st[0]),
                   {"median_loss": med, **({"endpoints_only": True} if v.size == 1 else {})})


# A loss with no floor. Every training loss is built bounded below: >= 0 (a cross-entropy over targets in [0, 1], a
# squared error), >= -1 (Dice-style terms), or above its data's negative entropy (a density's NLL), and a bounded loss
# approaches its floor with shrinking steps. A loss already below zero whose magnitude at least doubles
# (UNBOUNDED_RATIO) at every one of >= UNBOUNDED_INTERVALS consecutive logged intervals up to its last finite point,
# ending under NEGATIVE_LOSS_FLOOR, is falling towards minus infinity: three doublings in a row are 8x in magnitude,
# where noise around a negative level (an RL policy loss, a converged NLL) moves by fractions. The objective being
# minimised has no lower bound: a cross-entropy fed targets outside [0, 1] (raw pixel values or class ids into a
# binary cross-entropy, whose -(1 - y) log(1 - p) term then rewards saturating the output without limit), or a loss
# term with its sign flipped. The first is the data fed not being the data intended; the second is a code bug that no
# cause names. With no accuracy or loss name to rule the sign flip out (detect_data_pipeline_bug reads those runs),
# listed at the level of the never-finite loss's data reading (NAN_FROM_START), below the report threshold.
UNBOUNDED_RATIO = 2.0
UNBOUNDED_INTERVALS = 3
UNBOUNDED_STRENGTH = NAN_FROM_START


def unbounded_below(loss: Series) -> tuple[int, np.ndarray] | None:
    """(first step of the run-out, its values) when the loss's last finite points fall towards minus infinity
    (module notes above), or None."""
    st, v = loss.finite()
    k = v.size
    while k > 0 and v[k - 1] < 0:
        k -= 1
    neg = v[k:]
    if neg.size < UNBOUNDED_INTERVALS + 1 or float(neg[-1]) >= NEGATIVE_LOSS_FLOOR:
        return None
    tail = neg[-(UNBOUNDED_INTERVALS + 1):]
    if not bool(np.all(tail[1:] <= UNBOUNDED_RATIO * tail[:-1])):
        return None
    return int(st[v.size - tail.size]), tail


def detect_loss_unbounded_below(run: Run) -> list[Finding]:
    """The training loss runs towards minus infinity (unbounded_below): the objective has no floor, which targets
    outside the loss's range give (module notes above). Left to detect_data_pipeline_bug where the run's accuracy or
    the loss's name already says it is a classifier's loss below zero."""
    loss = loss_series(run)
    if loss is None or _negative_classification_loss(run, loss) is not None:
        return []
    got = unbounded_below(loss)
    if got is None:
        return []
    step, tail = got
    ev = [f"the training loss is negative and at least doubles in magnitude at each of its last {tail.size - 1} "
          f"logged intervals, {', '.join(fmt(float(x)) for x in tail)} from step {step} {cite_series(loss)}: it is "
          "falling towards minus infinity, which no loss with a floor does",
          "the objective has no lower bound: a cross-entropy fed targets outside [0, 1] (raw pixel values or class ids "
          "into a binary cross-entropy) or a loss term with its sign flipped; check that the targets are in the "
          "loss's range, then the loss's sign"]
    return [Finding("detect_loss_unbounded_below", "data_pipeline_bug", UNBOUNDED_STRENGTH,
                    "the loss falls towards minus infinity: the objective has no lower bound", ev, step,
                    {"last_loss": float(tail[-1])})]


# A detector's loss terms, by name: the box-regression terms (Faster R-CNN's rpn_loss_box / loss_bbox /
# loss_rpn_box_reg, SSD's loc loss, YOLO's box_loss, DETR's loss_giou, the IoU-family losses iou/giou/diou/ciou and
# the distribution focal loss dfl of YOLOv6/v8, which regress box edges) and the classification terms computed in the
# same forward pass (rpn_loss_cls, loss_classifier, loss_objectness, cls_loss, obj_loss, loss_ce). A term is a
# name with "loss" in it or a bare detector head name ("rpn_box", "rcnn_cls"); held-out copies are left out.
_BOX_TERM = re.compile(r"box|(?:^|[_/ .-])(?:loc|[gdc]?iou|dfl)(?:[_/ .-]|$)", re.IGNORECASE)
_CLS_TERM = re.compile(r"cls|class|objectness|(?:^|[_/ .-])obj(?:[_/ .-]|$)|(?:^|[_/ .-])ce(?:[_/ .-]|$)",
                       re.IGNORECASE)
_BARE_HEAD = re.compile(r"^(?:rpn_|rcnn_)?(?:box|bbox|cls|obj|loc)$", re.IGNORECASE)
_HELD_OUT_NAME = re.compile(r"^(?:eval|val|valid|validation|test)[_/ .-]", re.IGNORECASE)
BOX_NAN_STRENGTH = 0.45  # below 0.5: the term's own op (an IoU loss without an epsilon) reads the same
# A region-proposal network's box term (rpn_loss_box, loss_rpn_box_reg, rpn_bbox) has no such op: Faster R-CNN's RPN
# regresses the deltas t = ((x - x_a) / w_a, ..., log(w / w_a), log(h / h_a)) of each ground-truth box against a
# fixed anchor with a smooth L1 loss (Ren et al. 2015, eq. 1-2), and a smooth L1 of finite numbers is finite. With
# the anchors fixed and the prediction finite, only the target encoding can give NaN/Inf: the log of a ground-truth
# width or height <= 0 (0-based coordinates under a loader that subtracts 1, ymin > ymax). A prediction that
# overflowed would come out of the convolution the RPN's classification term reads too, and a logit that large makes
# its cross-entropy enormous, not ordinary: so where every classification term at that step is under RPN_CLS_SANE
# nats (a mean probability of 4.5e-5 on the true class, far beyond any trained or fresh head's loss; the two
# real logs' terms read 1e-4 to 2.8 there), the degenerate box is the reading an engineer checks, named just above
# the report threshold as a sole reading is. The IoU-family terms (YOLO's box/CIoU, GIoU, DIoU) keep 0.45: their
# op does fail on its own (WongKinYiu/yolov7#142, a CIoU bug).
RPN_BOX_TERM = re.compile(r"rpn", re.IGNORECASE)
RPN_CLS_SANE = 10.0
RPN_BOX_NAN_STRENGTH = 0.55


def box_target_nan(run: Run) -> Finding | None:
    """In a detector, the first non-finite value is in a box-regression loss term while the classification terms of
    the same forward pass are finite at that step. An LR blow-up or a float16 overflow reaches every head through the
    shared backbone; what belongs to the box term alone is its targets, a degenerate or out-of-image box (width or
    height <= 0, where the box encoding takes log(w_gt / w_anchor)), or its own op. So the data comes first, beside
    an unguarded op, both listed below 0.5."""
    terms = [s for name, s in sorted(run.metrics.items())
             if len(s) and not _HELD_OUT_NAME.match(name) and ("loss" in name.lower() or _BARE_HEAD.match(name))]
    box = [t for t in terms if _BOX_TERM.search(t.name)]
    cls = [t for t in terms if _CLS_TERM.search(t.name) and not _BOX_TERM.search(t.name)]
    firsts = [(f, t) for t in box if (f := first_nonfinite(t)) is not None]
    if not firsts or not cls:
        return None
    step, bad = min(firsts, key=lambda x: x[0])
    same = [(c, float(c.values[np.searchsorted(c.steps, step)])) for c in cls if step in c.steps]
    if not same or not all(np.isfinite(v) for _, v in same):
        return None
    finite = ", ".join(f"{c.name} {fmt(v)}" for c, v in same)
    ev = [f"at step {step} {bad.name} is non-finite while the classification terms of the same forward pass are "
          f"finite ({finite}) {cite_series(bad)}",
          "an LR blow-up or a float16 overflow reaches every head through the shared backbone; what belongs to the "
          "box term alone is its targets (a degenerate or out-of-image box: width or height <= 0, 0-based "
          "coordinates where the loader subtracts 1) or its own op (an IoU loss without an epsilon): check the "
          "annotations of the batch"]
    strength = BOX_NAN_STRENGTH
    if RPN_BOX_TERM.search(bad.name) and all(v < RPN_CLS_SANE for _, v in same):
        ev[1] = ("an LR blow-up or a float16 overflow reaches every head through the shared backbone, and the "
                 f"classification terms are ordinary (all under {RPN_CLS_SANE:g} nats), so no prediction overflowed; "
                 f"{bad.name} is the region-proposal smooth L1 of finite predictions against log(w_gt / w_anchor) "
                 "deltas, which only a ground-truth box of width or height <= 0 makes non-finite (0-based "
                 "coordinates where the loader subtracts 1, ymin > ymax): check the annotations of the batch")
        strength = RPN_BOX_NAN_STRENGTH
    return Finding("detect_data_pipeline_bug", "data_pipeline_bug", strength,
                   "a NaN in the box regression alone: the box targets are the first suspect", ev, step,
                   {"term": bad.name})


# A detector's box-regression terms are averaged over the anchors (or queries) matched to a ground-truth box; with no
# box in any image of a logging window they are exactly 0 (YOLOv5: "zero regression loss means that no label
# candidates are found"; YOLOv6 #614: iou_loss and dfl_loss 0 at every epoch, fixed by making it read its labels),
# while the classification / objectness term still has every background anchor to score. One positive anchor
# anywhere in the window makes an IoU or L1 loss > 0, so every box term at exactly 0 over BOX_ZERO_POINTS logged
# points or more (each a mean over many batches) says no target box reached the loss.
BOX_ZERO_POINTS = 3
BOX_ZERO_STRENGTH = 0.6  # a sure data symptom, level with a loss exactly 0 from the start (docs/diagnose.md)


def _box_terms_zero(run: Run) -> Finding | None:
    """In a detector, every box-regression loss term is exactly 0 at every logged point (>= BOX_ZERO_POINTS) while
    a classification / objectness term of the same log is positive: the box branch never saw a ground-truth box, so
    the labels are not reaching the loss (a label folder not found, a cache built for another format, annotations
    dropped by a filter)."""
    terms = [s for name, s in sorted(run.metrics.items())
             if len(s) and not _HELD_OUT_NAME.match(name) and ("loss" in name.lower() or _BARE_HEAD.match(name))]
    box = [t for t in terms if _BOX_TERM.search(t.name)]
    cls = [t for t in terms if _CLS_TERM.search(t.name) and not _BOX_TERM.search(t.name)]
    if not box or not cls:
        return None
    for t in box:
        v = t.values
        if v.size < BOX_ZERO_POINTS or not np.all(np.isfinite(v)) or not np.all(v == 0):
            return None
    scored = [c for c in cls if np.all(np.isfinite(c.values)) and float(np.median(c.values)) > 0]
    if not scored:
        return None
    c = scored[0]
    first = min(int(t.steps[0]) for t in box)
    names = ", ".join(t.name for t in box)
    ev = [f"{names} {'is' if len(box) == 1 else 'are'} exactly 0 at every one of {min(t.values.size for t in box)}+ "
          f"logged points from step {first} {cite_series(box[0])}, while {c.name} is positive (median "
          f"{fmt(float(np.median(c.values)))}) {cite_series(c)}",
          "a box-regression loss is averaged over the anchors matched to a ground-truth box: exactly 0 in every "
          "logging window means no image held a box, so the labels never reached the loss (a label folder not "
          "found, a cache built for another format, annotations dropped by a filter); check the loader's label count"]
    return Finding("detect_data_pipeline_bug", "data_pipeline_bug", BOX_ZERO_STRENGTH,
                   "the box-regression loss is exactly 0 throughout: no ground-truth box reaches the loss", ev, first,
                   {"box_terms": len(box), "zero_points": int(min(t.values.size for t in box))})


# A held-out overlap score (mIoU, IoU, Dice: mmseg's val_mIoU, segmentation_models' val_dice) by name
_HELDOUT_OVERLAP = re.compile(r"^(?:eval|val|valid|validation|test|dev)[_ /.-]?\w*(?:iou|dice)\w*$", re.IGNORECASE)
# A segmentation pixel accuracy by name, on any split: mmseg's decode.acc_seg / aux.acc_seg (the mean over a logging
# window of the pixels predicted right), pixel_accuracy, pixAcc. A classifier's acc is not one: a model that has
# memorised its training images scores 100 % on them per image, but a pixel accuracy of exactly 100 needs every
# boundary pixel of every mask in the window right.
_PIXEL_ACCURACY = re.compile(r"(?:^|[_/ .-])(?:acc_seg|pixel_?acc(?:uracy)?|pix_?acc)$", re.IGNORECASE)
# Logged points a training pixel accuracy must hold at its top: one window at 100 may be one that held no boundary at
# all; three in a row, each a mean over its window's batches, do not (ZERO_EARLY_POINTS's reasoning).
PERFECT_PIXEL_POINTS = 3


def detect_perfect_overlap(run: Run) -> list[Finding]:
    """A held-out segmentation overlap score (IoU, Dice) exactly at its top (100 % or 1.0) at every evaluation, or a
    segmentation pixel accuracy (acc_seg, pixel_accuracy) at its top at every one of >= PERFECT_PIXEL_POINTS points.

    Predicted masks never match real annotations at every boundary pixel (annotators themselves disagree there), so
    a perfect overlap to every digit printed says the targets hold one class only: every mask is background (label
    values the loader maps to "ignore" or to 0, e.g. a 0/255 mask read as 0/1 with reduce_zero_label), which a
    model predicts trivially from the first iterations. 0.6 (docs/causes.md: data_pipeline_bug, "one class only").
    """
    for name, s in sorted(run.metrics.items()):
        if not _HELDOUT_OVERLAP.match(name.strip()):
            continue
        st, v = s.finite()
        if v.size == 0 or v.size < len(s):
            continue
        top = 100.0 if float(v.max()) > 1.0 else 1.0
        if not np.all(v == top):
            continue
        ev = [f"{name} is exactly {fmt(top)} at all {v.size} evaluation(s) from step {int(st[0])} "
              f"{cite_series(s)}: no real segmentation matches its annotation at every boundary pixel",
              "a perfect overlap means the targets hold one class only (every mask background): check the label "
              "values the loader reads (0/255 vs 0/1, an ignore index that swallows the foreground)"]
        return [Finding("detect_perfect_overlap", "data_pipeline_bug", 0.6,
                        "a perfect held-out overlap: the targets hold one class only", ev, int(st[0]),
                        {"metric": name, "top": top})]
    # The same fact on the training side: a segmentation pixel accuracy exactly at its top at every logged window
    # (>= PERFECT_PIXEL_POINTS). Each point averages the pixels of every mask in its window, so 100 to every printed
    # digit, window after window, says no mask holds a pixel the model gets wrong: every pixel one class.
    for name, s in sorted(run.metrics.items()):
        if not _PIXEL_ACCURACY.search(name.strip()):
            continue
        st, v = s.finite()
        if v.size < PERFECT_PIXEL_POINTS or v.size < len(s):
            continue
        top = 100.0 if float(v.max()) > 1.0 else 1.0
        if not np.all(v == top):
            continue
        ev = [f"{name} is exactly {fmt(top)} at all {v.size} logged point(s) from step {int(st[0])} "
              f"{cite_series(s)}: each is a mean over the masks of its logging window, and no real segmentation "
              f"gets every boundary pixel of every mask right window after window",
              "a perfect pixel accuracy means the targets hold one class only (every mask background): check the "
              "label values the loader reads (0/255 vs 0/1, reduce_zero_label, an ignore index that swallows the "
              "foreground)"]
        return [Finding("detect_perfect_overlap", "data_pipeline_bug", 0.6,
                        "a perfect training pixel accuracy: the targets hold one class only", ev, int(st[0]),
                        {"metric": name, "top": top})]
    return []




# A training loss climb beyond noise: NanContext's 25 % (evidence/context.py), measured from the median of the last
# JUMP_HISTORY logged losses up to the evaluation (one noisy point sets no level) to the first one after it.
JUMP_RISE = 1.25
JUMP_HISTORY = 5


def _train_jump_after(loss: Series, step: int) -> str | None:
    """The first train loss logged after `step` is >= JUMP_RISE x the median of the last JUMP_HISTORY before or at
    it (needs >= 3 of those: fewer set no level): the description, or None."""
    before = loss.values[loss.steps <= step][-JUMP_HISTORY:]
    after_steps = loss.steps[loss.steps > step]
    if before.size < 3 or after_steps.size == 0:
        return None
    level = float(np.median(before))
    nxt = float(loss.values[loss.steps > step][0])
    if level <= 0 or nxt < JUMP_RISE * level:
        return None
    return (f"the train loss jumps to {fmt(nxt)} at step {int(after_steps[0])}, {nxt / level:.2f}x its level of "
            f"{fmt(level)} before the evaluation {cite_series(loss)}: the training itself is leaving its range "
            f"there, so the model's own overflow (an LR too high, float16) reads the same as bad held-out data")


def detect_heldout_nonfinite(run: Run) -> list[Finding]:
    """A held-out loss non-finite while the train loss is finite at every logged point, up to and past that
    evaluation: the weights are finite (every train batch's loss is), so the held-out inputs themselves make the
    NaN: NaN/Inf or empty batches in the validation/test data, or a per-item average over zero items. An op that
    fails on some inputs, or an overflow, would sooner or later hit a train batch too. 0.5: an engineer checks the
    held-out data first."""
    loss = loss_series(run)
    if loss is None or not np.all(np.isfinite(loss.values)):
        return []
    for name, s, i in heldout.first_nonfinite_heldout_losses(run):
        bad = ~np.isfinite(s.values)
        first = int(s.steps[i])
        if int(loss.steps[-1]) < first:
            continue  # no train loss logged after it: the train side may have gone the same way unseen
        ev = [f"{name} is {fmt(float(s.values[i]))} from step {first} ({int(bad.sum())} of "
              f"{len(s)} evaluations) {cite_series(s)}",
              f"while the train loss is finite at every one of its {len(loss)} points, through step "
              f"{int(loss.steps[-1])} {cite_series(loss)}: the weights are finite, so the held-out inputs make the "
              "NaN (NaN/Inf or empty batches in the held-out data, an average over zero items)"]
        strength = 0.5
        jump = _train_jump_after(loss, first)
        if jump is not None:
            # finite weights need not be sound ones: a training loss that jumps at the evaluation shows the model
            # itself leaving its range there, and its own activation overflow on the held-out pass (an LR too high,
            # float16) reads the same as bad held-out data: listed, not confirmed (docs/diagnose.md, "A held-out
            # NaN with a training loss that jumps")
            ev.append(jump)
            strength = 0.35
        return [Finding("detect_heldout_nonfinite", "data_pipeline_bug", strength,
                        "the held-out loss is non-finite while training stays finite", ev, first,
                        {"first_nonfinite_step": first, "train_jump_after": jump is not None})]
    return []


def detect_heldout_nan_first(run: Run) -> list[Finding]:
    """A held-out loss non-finite at an evaluation while the train loss is still finite after it, the train loss
    going non-finite later with no blow-up, climbing loss or LR change before it (evidence/nan_inputs.py): the
    weights were finite, so some inputs make the forward pass NaN. NaN/Inf stored in those inputs is one reading, an
    op they drive to 0/0 the other (detect_nan_inf lists it): level at 0.35, below the report threshold, since the
    log cannot tell a NaN in a sample from a 0/0 a sample causes."""
    inputs = inputs_first(run)
    if inputs is None:
        return []
    ev = [inputs.evidence, "check the inputs of the first failing batches for NaN/Inf and for all-zero or empty "
          "samples (a normalisation without an epsilon turns those into 0/0)"]
    return [Finding("detect_heldout_nan_first", "data_pipeline_bug", 0.35,
                    "the held-out loss went non-finite first: some inputs make the NaN", ev, inputs.step,
                    {"first_nonfinite_step": inputs.step, "train_finite_until": inputs.finite_until})]


def detect_nan_confined_terms(run: Run) -> list[Finding]:
    """Some loss terms non-finite while the others stay finite through them (evidence/nan_terms.py): the weights and
    the inputs every term reads are finite, so the failing terms' own computation makes the NaN, an op nothing guards
    (detect_nan_inf names it first) or the targets it reads (degenerate boxes, an empty positive set, labels outside
    the loss's range). The targets are this reading: 0.35, the level of a candidate the log cannot confirm."""
    confined = confined_terms(run)
    ctx = nan_context(run)
    if confined is None or ctx is None or ctx.recovers:
        return []
    ev = [confined.evidence, f"check the targets those terms read ({', '.join(confined.failing[:4])}): degenerate or "
          "out-of-range boxes, labels outside the loss's range, batches with no positive sample"]
    return [Finding("detect_nan_confined_terms", "data_pipeline_bug", 0.35,
                    "the NaN is confined to some loss terms: their targets are one suspect", ev, confined.step,
                    {"first_nonfinite_step": confined.step, "failing_terms": len(confined.failing)})]


def detect_curriculum_shock(run: Run) -> list[Finding]:
    """Loss and grad norm jump right after a stage boundary while the steps before were smooth.

    Jump: the max over the first max(5, 2 %) points after the boundary is >= 1.3x (loss) or >= 3x (grad norm)
    the median of the same number of points before it. Loss jumps are smaller than grad jumps: a new
    distribution raises the loss by tens of percent, the gradient by multiples.

    A jump alone is expected: a new stage is new data, and a healthy run (our trainer's own --test run: loss
    1.2 -> 4.8, grad 1.3 -> 11.7 at the Advanced switch) recovers within a few dozen steps. It is a *shock* when
    the stage does not recover: by the end of the stage (or run) the loss has won back less than half of the jump
    (recovery = (peak - end) / (peak - before)), or the grad norm stays >= 3x its pre-boundary median.
    A jump that recovers 50-80 % counts at reduced strength; one that recovers more is not reported.
    """
    out: list[Finding] = []
    bounds = stage_boundaries(run)
    if not bounds:
        return out
    total = max(1, run_length(run))
    best: tuple[float, list[str], int, str] | None = None
    # each boundary costs two windows of n/50 points, so a log with a "stage" per epoch or per line would make this
    # O(n x stages): a curriculum has a handful of stages, the first 64 switches are judged
    judged = bounds[:64]
    bound_steps = [bb for bb, _ in bounds]
    for b, name in judged:
        ev: list[str] = []
        score = 0.0
        for metric, ratio_min in (("loss", 1.3), ("grad_norm", 3.0)):
            s = run.series(metric)
            if s is None or len(s) < 20:
                continue
            st, v = stats.cached(run, f"finite:{metric}", s.finite)
            i = int(np.searchsorted(st, b))
            w = max(5, v.size // 50)
            if i < w or i + 1 >= v.size:
                continue
            before = v[i - w: i]
            after = v[i: i + w]
            med = float(np.median(before))
            if med <= 0:
                continue
            j = int(np.argmax(after))
            r = float(after[j]) / med
            # smooth before: no point of the previous window exceeds 2x its median
            smooth_before = float(before.max()) <= 2 * med
            # recovery over the rest of the stage
            k_next = bisect.bisect_right(bound_steps, b)  # the next switch after b (bounds are sorted)
            end_i = int(np.searchsorted(st, bound_steps[k_next])) if k_next < len(bound_steps) else v.size
            rest = v[i:end_i]
            tail = float(np.median(rest[-max(3, rest.size // 10):])) if rest.size >= 6 else float(after[-1])
            peak = float(after[j])
            recovery = (peak - tail) / (peak - med) if peak > med else 1.0
            if metric == "grad_norm":
                recovery = 0.0 if tail >= 3 * med else max(recovery, 0.8)
            if r >= ratio_min and recovery < 0.8:
                weight = 1.0 if recovery < 0.5 else 0.5
                ev.append(f"{metric} jumped from a median {fmt(med)} to {fmt(float(after[j]))} "
                          f"at step {int(st[i + j])}, "
                          f"{int(st[i + j]) - b} steps after the switch to stage '{name}' at step {b} {cite_series(s)}")
                ev.append(f"{metric} recovered only {max(recovery, 0):.0%} of the jump by the end of the stage "
                          f"({fmt(tail)})")
                score += weight * (0.3 + 0.1 * min(3.0, math.log2(r)) + (0.1 if smooth_before else 0))
        if ev and (best is None or score > best[0]):
            best = (score, ev, b, name)
    if best is None:
        return out
    score, ev, b, name = best
    lrs = configured_lrs(run)
    sites = []
    for c in lrs:
        if c.cv is not None:
            sites.append({"key": c.cv.key, "file": c.cv.file or None, "line": c.cv.line,
                          "before": c.cv.text or str(c.value), "after": None, "note": "re-warm / lower at boundary"})
    return [Finding("detect_curriculum_shock", "curriculum_shock", float(min(1.0, score)),
                    f"the switch to stage '{name}' shocked training", ev, b,
                    {"boundary_step": b, "boundary_frac": b / total, "stage": name}, sites)]


EDGING_UP = 0.6  # a held-out loss up to 60 % above its minimum with the task still improving is over-confidence
# a late edge-up that stays near the best (< 25 % above it) with eval/train < 1.5 at the end is context (see below)
NEAR_BEST = 0.25
SMALL_GAP = 1.5
# a held-out loss rise within EDGING_UP with no task metric logged: strong enough to list and to report when the other
# signs (train falling, a gap) are there, never a confident memorisation call on the loss alone
UNJUDGED = 0.55
# ... unless the generalisation gap opened: the held-out/train loss ratio at least doubled since the held-out minimum
# (the training loss keeps falling fast while the held-out loss climbs: memorisation's own signature, which a drift
# of calibration on a model that still fits both sets alike does not produce)
GAP_OPENED = 2.0
# a validation curve with this many points is long enough to measure its level robustly (a window of >= 3 points,
# 5 % of the curve); shorter ones keep the point-wise reading, since a window there would blur a real turn
LONG_EVAL = 20


def _eval_level(steps: np.ndarray, values: np.ndarray) -> tuple[int, float, float, int, float] | None:
    """(index of the lowest windowed median, that median, median of the last window, window, noise bound) for a
    long curve.

    Validation losses of small held-out sets swing by tens of percent from one evaluation to the next (a regression
    run's MSE over a few hundred examples is dominated by its worst ones); a single lucky low point followed by a
    single unlucky high one then reads as a 50 % turn although the curve is level. Medians over windows of 5 % of
    the curve (>= 3 points) measure where it sits; a real turn moves the level itself, not only its extremes.
    The lowest of many windowed medians is itself lucky, so a rise counts only beyond the noise of two such medians:
    3 standard errors of their difference, the median's standard error being 1.25 sigma / sqrt(window) and sigma
    the robust scatter (1.4826 MAD) of the points around the running median.
    """
    if values.size < LONG_EVAL:
        return None
    _, v = stats.downsample(steps, values, 2000, "median")
    scale = values.size / v.size
    w = max(3, v.size // 20) | 1
    med = np.median(np.lib.stride_tricks.sliding_window_view(v, w), axis=1)
    i = int(np.argmin(med))
    centre = min(values.size - 1, int(round((i + w // 2) * scale)))
    sigma = 1.4826 * stats.mad(v[w // 2: w // 2 + med.size] - med)
    bound = 3 * math.sqrt(2) * 1.2533 * sigma / math.sqrt(w)
    return centre, float(med[i]), float(med[-1]), int(round(w * scale)), bound


# A held-out loss that stops improving and edges up by less than 10 % is memorisation all the same when the training
# loss keeps falling by half or more after the held-out best: the model fits the training set ever better and none of
# it transfers, so the held-out/train ratio opens (>= GAP_OPENED, 2x, to a gap of >= 2x at the end). Healthy runs
# keep the two within a normal generalisation gap while the training loss still falls that much (a pre-training run
# has train ~ held-out; a fine-tune that halves its training loss also improves its held-out loss). 0.55: a
# confident reading of the curves, which a held-out task metric still improving brings down (below).
DIVERGED = 3.0  # a training loss >= 3x its first value (the "first updates overshoot" factor of lr_too_high)
FIT_BEYOND = 0.5  # the training loss at the end at most half of its value at the held-out best
FIT_BEYOND_GAP = 2.0
FIT_BEYOND_STRENGTH = 0.55


def _fit_beyond_heldout(loss: Series | None, best_step: float, mn: float, end: float
                        ) -> tuple[float, float, float, float] | None:
    """(train loss at the held-out best, at the end, held-out/train ratio then, at the end) when the training loss
    fell to <= FIT_BEYOND of its value after the held-out best and the ratio opened GAP_OPENED-fold to
    >= FIT_BEYOND_GAP; else None."""
    if loss is None or mn <= 0:
        return None
    lst, lv = loss.finite()
    at = lv[lst <= best_step]
    if lv.size < 4 or at.size == 0:
        return None
    t_at = float(np.median(at[-max(1, at.size // 10):]))
    t_end = float(np.median(lv[-max(1, lv.size // 10):]))
    if t_at <= 0 or t_end <= 0 or t_end > FIT_BEYOND * t_at:
        return None
    before, after = mn / t_at, end / t_end
    if after < FIT_BEYOND_GAP or after < GAP_OPENED * before:
        return None
    return t_at, t_end, before, after


# Rises under 10 % on a short held-out curve (point-wise reading), read by their trend (evidence/heldout_trend.py;
# docs/diagnose.md, "A held-out loss that climbs by small steps; a gap that opens"). Each needs the held-out loss to
# end >= 2 % above its best (SMALL_RISE): the development corpus's healthy held-out curves that end on consecutive
# rises drift <= 0.5 % (plain_pytorch-healthy-s12, whisper-tiny-nb-100k-trainer-state), an immaterial edge-up.
# - rising at each of the last >= 4 evaluations after a minimum that is not the first: 5 values in ascending order
#   come 1 time in 120 from a curve that only scatters around a level, so it is a trend, and the "late edge-up near
#   the best" context cap (NEAR_BEST) does not apply to it: that cap is for a wobble; with no held-out task metric
#   logged it is listed (0.45), a metric that does not improve (Marian's BLEU) leaves it a cause;
# - rising at each of the last 2-3 evaluations (1 in 6, 1 in 24 by chance): listed only (0.35);
# - the held-out/train loss ratio growing at each of the last >= 4 evaluations to >= 2 (FIT_BEYOND_GAP) with the
#   held-out loss ending >= 2 % above its best, even one evaluation after it: the generalisation gap opens at every
#   evaluation, memorisation's signature (the GAP_OPENED reasoning above), listed (0.45) since the held-out loss
#   itself has barely turned.
# A held-out loss already >= 5x the training loss at its best (detect_label_leakage's train << val gap) had its gap
# before it turned: a small climb after it tells nothing that separates memorisation from a shortcut only the
# training batches carry, so the trend readings stand down there (the leakage rule reads that gap).
LEAKED_GAP = 5.0
STEADY_CLIMB_EVALS = 4
SHORT_CLIMB_EVALS = 2
SMALL_RISE = 0.02
SHORT_CLIMB_STRENGTH = 0.35
STEADY_UNJUDGED = 0.45  # a climb under 10 % with no held-out task metric logged to say whether the task is hurt
GAP_WIDENS_EVALS = 4
# A climb found by ranks alone (heldout_trend.sustained_climb: a Mann-Kendall trend after the best, under a training
# loss that keeps falling, with no unbroken run of rises) is a trend, not a wobble, so the late-edge-up cap (0.3)
# does not fit it; but where that cap's other test holds (the held-out loss within NEAR_BEST of its best and under
# SMALL_GAP x the training loss) no material generalisation gap has opened, and a climb under 10 % is small: listed at
# the other trend listings' level (STEADY_UNJUDGED, GAP_WIDENS_STRENGTH), never reported on the trend alone: a run
# trained past its held-out optimum drifts the same way, and a cross-entropy edges up from over-confidence too
# (docs/diagnose.md, "A held-out loss that drifts up with scatter").
SUSTAINED_STRENGTH = 0.45
# A held-out loss climbing as a trend (the steady or sustained readings) under a training loss that keeps falling has
# two readings: memorisation, or a cross-entropy edging up from over-confidence while the task still improves (Guo et
# al. 2017; the caps above exist for that doubt). A held-out task metric (BLEU, accuracy, WER; not a perplexity,
# which is exp of the same loss) that got worse at each of the last >= CORROBORATING_EVALS evaluations after the
# held-out loss's minimum settles it: the task is hurt too. Four worsenings in a row come 1 time in 5! = 120 from
# values that only scatter around a level, the same test as the steady climb's (STEADY_CLIMB_EVALS), so two
# independent trends agree (Marian's early stopping: validation cross-entropy up and BLEU down at each of the last
# five validations, training cost still falling). Confirmed at the strength detect_heldout_metric_degrades gives a
# held-out error that rose at each of its last >= 4 evaluations.
CORROBORATING_EVALS = 4
CORROBORATED_STRENGTH = 0.7
GAP_WIDENS_STRENGTH = 0.45
# A log that begins after >= 2 evaluation intervals it does not show (its first held-out point at >= 3x the median
# spacing of its evaluations: "Epoch 113/300" at epoch-spaced validation, an excerpt of a long run) is a late window:
# the held-out best may lie before it, so a first logged evaluation that is the window's lowest says nothing about
# whether the held-out loss ever improved, and the climb is read from where the final unbroken run of rises starts
# (docs/diagnose.md, "A held-out loss that climbs by small steps; a gap that opens").
LATE_WINDOW_EVALS = 3


def _late_window(steps: np.ndarray) -> tuple[float, int] | None:
    """(median spacing of the evaluations, about how many evaluations precede the first logged one) when the log is a
    late window of its run (LATE_WINDOW_EVALS); else None."""
    if steps.size < 2:
        return None
    d = float(np.median(np.diff(steps)))
    if d <= 0 or float(steps[0]) < LATE_WINDOW_EVALS * d:
        return None
    return d, int(round(float(steps[0]) / d)) - 1


def detect_overfitting(run: Run) -> list[Finding]:
    """Validation loss turns up while training loss keeps falling (smdebug Overfit: ratio 0.1).

    Needs >= 4 eval points; the last eval is >= 10 % above the minimum with >= 2 evals after it, and the train
    loss at the end is below the train loss at the best-eval step. A held-out task metric (accuracy, F1, BLEU,
    WER ...) that keeps improving past the eval-loss minimum makes it context (weak), not a cause.
    """
    ev_s, loss = run.series("eval_loss"), loss_series(run)
    if ev_s is None:
        return []
    est, evv = ev_s.finite()
    if evv.size < 4:
        return []
    level = _eval_level(est, evv)
    if level is not None:
        # a long, noisy validation curve: its best single point is partly luck, so the turn is measured between
        # robust levels (the lowest windowed median against the median of the last window)
        imin, mn, end, width, noise = level
        if est.size - 1 - imin < 2 or end - mn < noise:
            return []
    climb, widens, gap_from, gap_to, gap_opens, leaked = 0, 0, math.nan, math.nan, False, False
    late = None
    doubted = False  # a reading above already weighed the turn down (scatter, no improvement, a divergence)
    if level is None:
        imin = int(np.argmin(evv))
        mn = float(evv[imin])
        late = _late_window(est) if imin == 0 else None
        if imin >= 1 or late is not None:
            # the held-out loss improved first (or, in a late window, before the log begins): its trend after the
            # best is read (evidence/heldout_trend.py)
            climb = heldout_trend.rises_to_end(evv, imin) if imin >= 1 else heldout_trend.rises_at_end(evv)
            ratios = heldout_trend.gap_ratios(loss, est, evv)
            widens, gap_from, gap_to = heldout_trend.widening_gap(ratios)
            leaked = ratios is not None and float(ratios[imin]) >= LEAKED_GAP
        gap_opens = widens >= GAP_WIDENS_EVALS and gap_to >= FIT_BEYOND_GAP
        if evv.size - 1 - imin < (1 if gap_opens else 2):
            return []
        end = float(np.median(evv[-2:])) if evv.size - imin > 3 else float(evv[-1])
    rise = (end - mn) / max(abs(mn), 1e-8)
    # an absolute floor too: eval losses of ~1e-6 wobble by 100 % without meaning anything
    if end - mn < 1e-3:
        return []
    # the fit-beyond reading asks the same material edge-up (SMALL_RISE) as the trend readings: a held-out loss
    # within 2 % of its best has plateaued, and a training loss that keeps falling beside a plateau is a run trained
    # past the point of held-out gain (g13-gluonnlp-textcnn: +1 % over 30 epochs, the held-out accuracy flat), not
    # a held-out result made worse
    fitted = _fit_beyond_heldout(loss, float(est[imin]), mn, end) if SMALL_RISE <= rise < 0.1 else None
    # the same trend read by ranks over the whole stretch after the best, for a curve whose scatter breaks every run
    # of rises (heldout_trend.sustained_climb): counted as steady, so the late-wobble cap below does not apply to it
    sustained = heldout_trend.sustained_climb(evv, est, loss)
    sustained_only = sustained is not None and climb < STEADY_CLIMB_EVALS
    steady = ((climb >= STEADY_CLIMB_EVALS or sustained is not None) and rise >= SMALL_RISE
              and not (leaked and rise < 0.1))
    small = "" if rise >= 0.1 or fitted is not None else (
        "steady" if steady else "none" if leaked else "gap" if gap_opens and rise >= SMALL_RISE
        else "short" if SHORT_CLIMB_EVALS <= climb < STEADY_CLIMB_EVALS and rise >= SMALL_RISE else "none")
    if small == "none":
        return []
    if level is None:
        ev = [f"eval_loss reached its minimum {fmt(mn)} at step {int(est[imin])} then rose {rise:.0%} to "
              f"{fmt(float(evv[-1]))} by step {int(est[-1])} {cite_series(ev_s)}"]
    else:
        ev = [f"eval_loss (median over {width} evaluations) was lowest at {fmt(mn)} around step {int(est[imin])} "
              f"and rose {rise:.0%} to {fmt(end)} over the last {width} evaluations {cite_series(ev_s)}"]
    if steady and sustained_only and sustained is not None:
        n_after, z_eval, z_train = sustained
        ev.append(f"over the {n_after} evaluations from its best to the end the held-out loss drifts up "
                  f"(Mann-Kendall z {z_eval:.2f}) while the training loss falls (z {z_train:.2f}): both trends "
                  "hold with one-sided p < 0.001, a sustained climb under a training loss still fitting, not a wobble")
    elif steady or small == "short":
        n = climb
        ev.append(f"the held-out loss rose at each of the last {n} evaluations ({fmt(float(evv[-1 - n]))} -> "
                  f"{fmt(float(evv[-1]))}): "
                  + (f"a trend, not a wobble (values that only wobble around a level line up {n + 1} in a row 1 "
                     f"time in {math.factorial(n + 1)})" if steady else
                     f"{n} rises in a row come 1 time in {math.factorial(n + 1)} by chance, so it is listed only"))
    if small == "gap":
        ev.append(f"the held-out/train loss ratio grew at each of the last {widens} evaluations, {gap_from:.3g} -> "
                  f"{gap_to:.3g}: the training loss falls faster than the held-out loss at every one, the "
                  f"generalisation gap opens {cite_series(loss) if loss is not None else ''}".rstrip())
    strength = 0.45 + min(0.35, rise / 2)
    if fitted is not None:
        t_at, t_end, before, after = fitted
        ev.append(f"after the held-out best the training loss fell {t_at / t_end:.3g}x ({fmt(t_at)} -> {fmt(t_end)}) "
                  f"while the held-out loss only edged up: the held-out/train ratio opened from {before:.3g} to "
                  f"{after:.3g}, the further training fits only the training set {cite_series(loss)}")
        strength = FIT_BEYOND_STRENGTH
    if level is None and imin >= 2 and mn > 0 and bool(np.all(evv[:imin + 1] > 0)):
        jumps = evv[1:imin + 1] / evv[:imin]
        up = float(jumps.max())
        if up > 1 and up >= end / mn:
            # on its way down to the minimum the held-out loss already jumped up by as much as this rise: the turn is
            # within the curve's own scatter, an unstable run's bouncing (a memorising model's held-out curve falls
            # and then turns; it does not bounce by more than the turn before it)
            ev.append(f"on its way to the minimum the held-out loss already jumped {up:.3g}x between two evaluations, "
                      f"as much as the {rise:.0%} rise: the turn is within its own scatter")
            strength *= 0.4
            doubted = True
    early = heldout.improved_before_first_eval(loss, ev_s) if imin == 0 else None
    if early is not None and loss is not None:
        lst0, lv0 = loss.finite()
        at0 = lv0[lst0 <= est[0]]
        if at0.size and heldout.train_rose_after(lst0, lv0, int(est[0]), float(at0[-1])) is not None:
            early = None  # both losses rose after the first evaluation: an unstable stretch, judged below
    if early is not None:
        # the first evaluation is the best, but it was scored already below where the training loss started (an
        # untrained model's level on either set): the held-out loss improved before it was first scored
        ev.append(f"the first evaluation is the best, and at {fmt(early[1])} already below the training loss's start "
                  f"{fmt(early[0])}: the held-out loss improved before it was first scored")
    elif late is not None:
        ev.append(f"the log begins at step {int(est[0])}, after about {late[1]} evaluations it does not show (one "
                  f"every {fmt(late[0])} steps): the held-out best may lie before it, so its first evaluation being "
                  "the lowest is no sign that the held-out loss never improved")
    elif imin == 0:
        # the first evaluation is already the best: held-out loss never improved, which fits a train/eval
        # mismatch (leakage, a wrong eval set) at least as well as memorisation
        ev.append("the first evaluation is already the best: the held-out loss never improved")
        strength *= 0.6
        doubted = True
    train_falls = None
    opened = None  # how many times the held-out/train loss ratio grew since the held-out minimum
    if loss is not None:
        lst, lv = loss.finite()
        if lv.size >= 4:
            at = lv[lst <= est[imin]]
            t_at = float(np.median(at[-max(1, at.size // 10):])) if at.size else float(lv[0])
            t_end = float(np.median(lv[-max(1, lv.size // 10):]))
            train_falls = t_end < t_at
            rose = heldout.train_rose_after(lst, lv, int(est[imin]), t_at) if train_falls else None
            if rose is not None:
                # lower at the end than at the held-out best, but higher right after it: both got worse together
                ev.append(f"the training loss rose with the held-out loss after its best ({fmt(t_at)} -> median "
                          f"{fmt(rose)} over the next third) before it came back: instability rather than "
                          f"memorisation {cite_series(loss)}")
                train_falls = False
            if train_falls:
                ev.append(f"train loss kept falling: {fmt(t_at)} -> {fmt(t_end)} over the same steps "
                          f"{cite_series(loss)}")
                strength += 0.15
            else:
                strength *= 0.4  # both rise: divergence, not overfitting
            first = float(np.median(lv[:max(1, min(3, lv.size // 10))]))
            if first > 0 and min(t_at, t_end) > DIVERGED * first:
                # memorising is fitting the training set: a training loss that stays far above where it started has
                # fitted nothing (it blew up, and the held-out loss follows it), whatever the held-out curve does
                ev.append(f"but the training loss is {min(t_at, t_end) / first:.3g}x its first value "
                          f"({fmt(first)}): it diverged, it did not fit the training set")
                strength *= 0.4
                doubted = True
            gap = end / t_end if t_end > 0 and end > 0 else None
            if gap is not None and t_at > 0 and mn > 0:
                opened = gap / (mn / t_at)
            if gap is not None and rise < NEAR_BEST and gap < SMALL_GAP and not steady:
                # memorisation is a generalisation gap that opens; a held-out loss still within 25 % of its best
                # and within 1.5x of the training loss has not opened one: the late wobble of a converged run
                # (what early stopping with patience waits out), context to mention, not a cause
                ev.append(f"the held-out loss is still within {rise:.0%} of its best and {gap:.2f}x the training "
                          f"loss: no material generalisation gap, a late edge-up rather than memorisation")
                strength = min(strength, 0.3)
            elif gap is not None and rise < NEAR_BEST and gap < SMALL_GAP and sustained_only:
                # a trend by ranks, not a wobble, yet no material gap opened: listed above a wobble, never reported
                # on this alone (SUSTAINED_STRENGTH)
                ev.append(f"the held-out loss is still within {rise:.0%} of its best and {gap:.2f}x the training "
                          f"loss: no material generalisation gap yet, so the trend is listed, not reported")
                strength = min(strength, SUSTAINED_STRENGTH)
    # a held-out task metric still improving (materially, and at its best at the end) past the eval-loss minimum:
    # the cross-entropy edges up from over-confidence, the task is not hurt (evidence/heldout.py). A metric that
    # moved by noise or already turned down does not excuse a rising held-out loss.
    metrics = heldout.task_metrics(run)
    # a regression error beside the regression loss (val_mae beside an MSE val_loss) measures the same errors: it
    # can excuse the rise (still improving), but it does not settle what the loss alone cannot (heldout.restates_loss)
    judging = [m for m in metrics if not heldout.restates_loss(m)]
    if not judging and rise <= EDGING_UP and strength > UNJUDGED and (opened is None or opened < GAP_OPENED):
        # no task metric in the log to say whether the task is hurt: a held-out loss up by no more than what
        # over-confidence alone produces (EDGING_UP), with the held-out/train ratio not even doubled, reads as
        # memorisation or as a calibration drift the metric would shrug off (CenterNet's maintainer: "check the
        # AP"); moderate, a candidate a task metric would settle
        what = (f"only {', '.join(m.name for m in metrics)}, a measure of the same errors as the loss, is logged"
                if metrics else "no held-out task metric is logged")
        ev.append(f"{what}: a {rise:.0%} rise of the held-out loss alone cannot tell "
                  f"memorisation from over-confidence (the task metric would)")
        strength = UNJUDGED
    for m in metrics:
        better = heldout.still_improving(m, int(est[imin]))
        noise = heldout.gain_within_noise(m, *better) if better is not None else None
        if better is not None and noise is not None:
            # an accuracy whose gain since the eval-loss minimum is a few examples of its evaluation set, under one
            # standard error (heldout.QUANT_TOL's comment): a plateau, which cannot excuse the climbing held-out loss
            n, flipped, se = noise
            ev.append(f"{m.name} moved {fmt(m.value(better[0]))} -> {fmt(m.value(better[1]))} after the eval-loss "
                      f"minimum: {flipped:.0f} of the {n} examples it is measured on (its values are whole "
                      f"{n}ths), under one standard error ({fmt(se)}) of an accuracy on {n} examples: a plateau, "
                      f"not a task still improving {cite_series(m.series)}")
            continue
        if better is not None:
            then, now = better
            ev.append(f"{m.name} kept improving after the eval-loss minimum ({fmt(m.value(then))} -> "
                      f"{fmt(m.value(now))}): the task is not hurt; over-confidence, not memorisation "
                      f"{cite_series(m.series)}")
            # "edging up" has a size: whisper fine-tunes whose WER keeps improving end 30-50 % above their best
            # eval loss; far beyond that the model is confidently wrong on a growing share of held-out examples,
            # and the metric's small gain only keeps the finding below confirmation (listed as possible)
            strength = min(strength, 0.25 if rise <= EDGING_UP else 0.45)
            break
    if small == "steady" and sustained_only:
        # a rise under 10 % read by ranks only (no unbroken run of rises): listed, whatever the metric says
        strength = min(strength, SUSTAINED_STRENGTH)
    if small == "steady" and not judging:
        # the climb is a trend, but the loss alone cannot tell memorisation from a calibration drift the task would
        # shrug off (the UNJUDGED reasoning above) when no task metric is logged and the gap did not open: listed
        strength = min(strength, STEADY_UNJUDGED)
    if small == "short":
        strength = min(strength, SHORT_CLIMB_STRENGTH)
    elif small == "gap":
        strength = min(strength, GAP_WIDENS_STRENGTH)
    if steady and train_falls and not doubted and early is None and late is None:
        for m in judging:  # a perplexity (exp of the held-out loss) or a regression error: no second witness
            worse = heldout.worsens_to_end(m, int(est[imin]))
            if worse >= CORROBORATING_EVALS:
                k = int(m.steps.size)
                ev.append(f"{m.name} got worse at each of its last {worse} evaluations "
                          f"({fmt(m.value(float(m.error[k - 1 - worse])))} -> {fmt(m.value(float(m.error[-1]))) }) "
                          f"after the eval-loss minimum: the task is hurt too, memorisation rather than "
                          f"over-confidence {cite_series(m.series)}")
                strength = max(strength, CORROBORATED_STRENGTH)
                break
    gap1 = first_epoch_gap(run)
    if gap1 is not None:
        # memorisation opens the gap after the held-out best, over repeated passes; one already there when the first
        # pass closed (FIRST_EPOCH_GAP) came with the data, so the rise reads as that gap's, not a memorising model's
        ev.append(f"but the training loss was already {gap1[1] / gap1[2]:.2f}x the held-out loss at the end of the "
                  f"first epoch (step {gap1[0]}), before any example was seen twice: the gap predates memorisation")
        strength *= 0.5
    turn1 = turned_in_first_epoch(run)
    if turn1 is not None:
        ev.append(f"but the held-out loss turned up inside the first epoch ({fmt(turn1[1])} at step {turn1[0]} -> "
                  f"{fmt(turn1[3])} at step {turn1[2]}) while the training loss fell: before any example was seen "
                  "twice, so not memorisation")
        strength *= 0.5
    sites = []
    pat, pcv = config_number(run, *KEYS["early_stopping_patience"])
    if pcv is not None and pat == 0:
        ev.append(f"early stopping is off: {pcv.key}={pcv.text or pcv.value} {cite_config(pcv)}")
        sites.append(fix_site(pcv, "3"))
    return [Finding("detect_overfitting", "overfitting", float(max(0.0, min(1.0, strength))),
                    "the model memorises the training set: validation loss turns up", ev, int(est[imin]),
                    {"eval_min": mn, "eval_min_step": int(est[imin]), "eval_rise": rise,
                     "train_keeps_falling": train_falls}, sites)]


# A loop that trains on one batch over and over (`batch = next(iter(loader))` inside the loop, a loader that yields a
# single batch) fits that batch: the train loss falls toward 0 without the batch-to-batch scatter of fresh
# mini-batches (a fresh batch's mean loss varies by the per-sample spread / sqrt(B), a few % even for B = 256, so
# a noisy falling curve rises at some logged points), while the held-out loss turns up exactly as in overfitting.
# A train loss that falls at >= 95 % of >= 20 logged steps next to an overfitting held-out curve is one batch
# memorised, or a loss averaged over many steps (which the log may not say): the same-batch loop is listed beside
# overfitting (0.3), never confirmed; the loop or the loader shows which.
# Without an overfitting held-out curve the same smoothness still says it when the points are optimizer steps: a
# gradient norm logged at (nearly) every loss point and no epoch boundary in the log mark a per-step log, not an
# epoch history (whose rows are means over a whole epoch and fall smoothly in healthy runs: the dev corpus's
# monotone healthy curves are all epoch histories). One batch fitted over and over improves the held-out loss too
# while the batch's features generalise, so that curve is no alibi; still listed only (a loss averaged over many
# steps reads the same).
SAME_BATCH_GRAD_SHARE = 0.8


def _per_step_log(run: Run, steps: np.ndarray) -> bool:
    """The loss points are optimizer steps: a grad norm logged at >= 80 % of them, no epoch boundary logged."""
    g = run.series("grad_norm")
    if g is None or run.epoch_starts or run.meta.get("planned_epochs"):
        return False
    return float(np.isin(steps, g.steps).mean()) >= SAME_BATCH_GRAD_SHARE


SAME_BATCH_POINTS = 20
SAME_BATCH_FALLS = 0.95
SAME_BATCH = 0.3
# Both signs together: an overfitting held-out curve AND a scatter-free curve whose points are optimizer steps (not
# epoch means). A fresh mini-batch's mean loss moves by the per-sample spread / sqrt(B) from step to step, a few % even
# at B = 256, so per-step points that fall at >= 95 % of >= 20 steps are one batch fitted over and over, and the held-
# out U is what fitting one batch gives. Named just above the report threshold (as SOLE_READING in not_learning.py),
# unless the stated batch covers the whole training set: full-batch training is one batch by design.
SAME_BATCH_BOTH = 0.55
# The other second sign, for a per-step curve whose held-out loss has not (yet) turned up: a training loss far under
# the held-out loss. One batch fitted over and over is memorised while the held-out loss still falls on what the
# batch's features share with the rest (flax-data_pipeline_bug-s1: 0.23 against 1.02, 4.4x). The other reading of
# a scatter-free curve, a loss averaged over many steps, cannot open that gap: a running mean of a falling loss lags
# *above* the model's current loss. Healthy runs end with the held-out loss 1.0-1.15x the training loss
# (detect_label_leakage's comment above); 1.5x is FIRST_EPOCH_GAP's gap, a third beyond that range. On the
# development stacks no healthy per-step run falls at >= 95 % of its points at all (their largest share is 0.83, the
# same-batch runs 1.00), so this sign only ever decides between listing and naming a curve already found smooth.
SAME_BATCH_GAP = 1.5
# ... unless the training loss has collapsed to ~0 (under detect_label_leakage's 0.1): a train-only shortcut (the answer
# in the inputs) drives a fresh-batch loss down so steeply that it too falls at every logged step, and opens the same
# gap; the shortcut is detect_label_leakage's reading, and the smooth curve stays listed (0.3).
SAME_BATCH_COLLAPSED = 0.1


def _full_batch(run: Run) -> str | None:
    """Evidence that the stated batch covers the stated training set (full-batch training: one batch by design)."""
    batch, (cap, cap_cv) = effective_batch(run), config_number(run, *KEYS["train_cap"])
    if batch is not None and cap is not None and batch.size >= cap:
        return (f"the batch ({batch.how}) covers the {int(cap)} training samples ({cite_config(cap_cv)}): "
                "full-batch training fits one batch by design")
    return None


def _heldout_gap(run: Run, loss: Series) -> tuple[int, float, float] | None:
    """(step, held-out loss, training loss) at the last evaluation with a training point at or before it, when the
    held-out loss there is >= SAME_BATCH_GAP x a training loss that has not collapsed to ~0."""
    ev_s = run.series("eval_loss")
    if ev_s is None:
        return None
    es, evv = ev_s.finite()
    st, v = loss.finite()
    if es.size < 2 or v.size == 0:
        return None
    i = int(np.searchsorted(st, es[-1], side="right")) - 1
    if i < 0 or v[i] < SAME_BATCH_COLLAPSED or evv[-1] < SAME_BATCH_GAP * v[i]:
        return None
    return int(es[-1]), float(evv[-1]), float(v[i])


def detect_same_batch_every_step(run: Run) -> list[Finding]:
    """A train loss that falls at almost every logged step, beside an overfitting held-out curve or in a per-step
    log: the model may see one batch only."""
    over = [f for f in detect_overfitting(run) if f.strength >= 0.5]
    loss = loss_series(run)
    if loss is None:
        return []
    st, v = loss.finite()
    if v.size < SAME_BATCH_POINTS or not (over or _per_step_log(run, st)):
        return []
    falls = float((np.diff(v) < 0).mean())
    if falls < SAME_BATCH_FALLS:
        return []
    per_step = _per_step_log(run, st)
    first = over[0].evidence[:1] if over else [
        "a grad norm is logged with the loss at its steps: these are optimizer steps, not epoch means"]
    ev = [*first,
          f"the train loss fell at {falls:.0%} of its {v.size - 1} logged steps ({fmt(float(v[0]))} -> "
          f"{fmt(float(v[-1]))}) {cite_series(loss)}: none of the scatter fresh mini-batches give, the curve of one "
          "batch fitted over and over (or of a loss averaged over many steps)"]
    strength = SAME_BATCH
    gap = _heldout_gap(run, loss) if per_step and not over else None
    if (over and per_step) or gap is not None:
        full = _full_batch(run)
        if full is not None:
            ev.append(full)
        elif over:
            ev.append("a grad norm is logged at the same steps: these are optimizer steps, whose fresh batches would "
                      "scatter, and the held-out U is what fitting one batch gives")
            strength = SAME_BATCH_BOTH
        elif gap is not None:
            ev.append(f"and the held-out loss is {gap[1] / gap[2]:.2f}x the training loss at step {gap[0]} "
                      f"({fmt(gap[1])} against {fmt(gap[2])}) {cite_series(run.series('eval_loss'))}: the training "
                      "batches are memorised while the held-out loss still falls, which one batch fitted over and over "
                      "gives and a loss averaged over many steps (lagging above the current loss) cannot")
            strength = SAME_BATCH_BOTH
    return [Finding("detect_same_batch_every_step", "data_pipeline_bug", strength,
                    "the train loss has no batch-to-batch scatter: the loop may train on one batch", ev, int(st[0]),
                    {"falling_share": falls})]


# A held-out accuracy of exactly 0 at every evaluation logged. Chance is 1/k > 0, and a constant or random output
# scores about the share of the labels it predicts, so a classifier right on no held-out example at all is scored
# against targets that are never the ones it predicts: labels shuffled or shifted apart from their inputs, a label
# mapping that differs between the splits, an accuracy computed against the wrong tensor. Listed below 0.5: from
# final figures alone a metric of another kind cannot be excluded (an exact match over whole sequences, which a young
# model legitimately scores 0, is left out by name); one or two points are a reading of final figures alone
# (numbers["endpoints_only"], as a one-line negative loss: below the report threshold under insufficient_data).
ZERO_ACCURACY = 0.45
_NOT_PER_EXAMPLE = re.compile(r"exact|match|(?:^|[^a-z])em(?:[^a-z]|$)|seq|sentence", re.IGNORECASE)


def _scores_nothing_anyway(run: Run) -> bool:
    """A NaN in any logged loss (a NaN output matches no label, so every accuracy computed from it is 0) or a
    training accuracy that never reaches 0.1 either: an accuracy logged for a regression (Keras's `acc` compares
    floats exactly: 0 to 1/n), or a model that classifies nothing yet, where a small held-out set scores 0 by chance
    (1000 classes, 100 examples). A training accuracy >= 0.1 beside a held-out 0 is a split-level mismatch."""
    for name, s in run.metrics.items():
        low = name.lower()
        _, v = s.finite()
        if "loss" in low and v.size < len(s):
            return True
        if "acc" in low and not low.startswith(("eval", "val", "test")) and v.size and float(np.max(v)) < 0.1:
            return True
    return False


def _loss_also_zero(run: Run, name: str, points: int) -> bool:
    """The loss of the same head (`val_c_acc` -> `val_c_loss`, `val_accuracy` -> `val_loss`) is exactly 0 at as
    many evaluations as the accuracy. A loss of exactly 0 says every example is right and an accuracy of exactly 0
    says none is: one evaluation cannot give both, so the pair was never measured. A metric object the evaluation
    step does not update reports its initial 0 (Keras's `Mean` and `SparseCategoricalAccuracy` before any
    `update_state`: a custom `test_step` that logs only some of the model's metrics)."""
    low = name.lower()
    cut = low.rfind("acc")
    twin = low[:cut] + "loss"
    for other, s in run.metrics.items():
        if other.lower() != twin:
            continue
        _, v = s.finite()
        return v.size == points == len(s) and bool(np.all(v == 0))
    return False


def detect_heldout_accuracy_zero(run: Run) -> list[Finding]:
    """Every logged held-out accuracy is exactly 0 (see ZERO_ACCURACY above), with every loss finite, any
    training accuracy above 0, and the same head's held-out loss not exactly 0 beside it (`_loss_also_zero`)."""
    if _scores_nothing_anyway(run):
        return []
    for m in heldout.task_metrics(run, min_points=1):
        tail = m.name.lower().split("_", 1)[-1]
        if m.top is None or "acc" not in tail or _NOT_PER_EXAMPLE.search(m.name):
            continue
        st, v = m.series.finite()
        if v.size == 0 or v.size < len(m.series) or not np.all(v == 0):
            continue
        if _loss_also_zero(run, m.name, int(v.size)):
            continue
        points = "its only evaluation" if v.size == 1 else f"all {v.size} evaluations"
        ev = [f"{m.name} is exactly 0 at {points} {cite_series(m.series)}: "
              "chance is 1/k and a constant output scores the share of the class it predicts, so a classifier right "
              "on no held-out example is scored against targets that never match its inputs (labels shuffled or "
              "shifted apart from the inputs, a label mapping that differs between the splits)"]
        return [Finding("detect_heldout_accuracy_zero", "data_pipeline_bug", ZERO_ACCURACY,
                        "the held-out accuracy is exactly 0: below chance", ev, int(st[0]),
                        {"zero_evaluations": int(v.size), **({"endpoints_only": True} if v.size < 3 else {})})]
    return []


DETECTORS = [detect_label_leakage, detect_train_below_heldout_first_epoch, detect_data_pipeline_bug,
             detect_loss_exactly_zero, detect_nan_from_start, detect_huge_loss_before_nan, detect_loss_unbounded_below,
             detect_heldout_nonfinite, detect_heldout_nan_first, detect_nan_confined_terms, detect_perfect_overlap,
             detect_curriculum_shock,
             detect_overfitting, detect_same_batch_every_step, detect_heldout_accuracy_zero]
