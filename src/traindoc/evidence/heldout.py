"""Held-out task metrics (accuracy, F1, BLEU, WER ...): which way is better, and whether a model got better on them.

A held-out task metric answers the question the loss curves cannot: did the model learn anything that transfers?
Overfitting and label leakage both show a train loss far below the held-out loss; what separates them is whether
the held-out task ever improved. A validation cross-entropy that edges up while accuracy, F1, BLEU or WER keeps
improving is over-confidence on the examples the model gets wrong, not memorisation that hurts the task (Guo et
al. 2017, "On Calibration of Modern Neural Networks", §3).

Improvements are measured on the *error* (1 - accuracy, 100 - a percentage, WER itself), relative to its own size:
a model at chance moves its accuracy by a point or two between evaluations, which is about 1 % of its error, so an
error cut by >= MATERIAL (3 %) is learning, not evaluation noise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from traindoc.evidence import stats
from traindoc.ingest.model import Run, Series

# "translation": Marian's `--valid-metrics translation` validator scores the translated dev set with the user's
# `--valid-script-path` (BLEU as a rule) and Marian counts a larger value as better ("new best" at the highest)
HIGHER_BETTER = ("acc", "f1", "bleu", "rouge", "map", "auc", "precision", "recall", "iou", "dice", "exact_match",
                 "top1", "top5", "chrf", "meteor", "translation")
# "bpb" / "bpc": bits per byte / per character (nanochat's and parameter-golf's `val_bpb`, character-level LMs' `bpc`),
# the cross-entropy in base 2 per unit of text: a loss on a log2 scale, lower is better. Not read as the held-out loss
# itself: its scale (bits per byte) is not the training loss's (nats per token), so no gap to it is measured; and, as a
# perplexity is, no second witness beside the held-out loss it restates (restates_loss).
BITS_PER_UNIT = ("bpb", "bpc", "bits_per_byte")
LOWER_BETTER = ("wer", "cer", "error", "perplexity", "ppl", *BITS_PER_UNIT)
ERR = re.compile(r"(?:^|[^a-z])err(?:[^a-z]|or|$)")  # "err", "err-top1", "top1_err", "error"
# Regression errors, lower-better by definition: the mean absolute / squared error and its root, the mean absolute
# percentage error and its symmetric form, the mean squared log error and its root (Keras names them "mae", "mse",
# "rmse", "mape", "msle"; fastai "mae", "rmse", "msle"). Matched as whole words of the name ("val_mae",
# "valid_rmse"), so "mape" is never read as "map" (mean average precision, higher-better).
REGRESSION_ERROR = re.compile(r"(?:^|[^a-z])(?:s?mape|r?msle|r?mse|mae)(?:[^a-z]|$)")
# Generative models' sample-quality distances, lower-better by definition: Frechet / kernel Inception distance
# (Heusel et al. 2017; Binkowski et al. 2018; StyleGAN's "fid50k_full", "kid50k_full") and LPIPS (Zhang et al. 2018).
# Whole tokens only ("confidence" holds "fid"), a sample count may follow ("fid50k").
SAMPLE_DISTANCE = re.compile(r"(?:^|[^a-z])(?:fid|kid|lpips)(?:\d|[^a-z]|$)")
MATERIAL = 0.03  # relative error reduction that counts as learning (module docstring)
# A held-out loss under any of the names trainers print it (val_loss, eval_loss, "Vali Loss", test_loss, ...)
HELDOUT_LOSS = re.compile(r"^(?:eval|val|vali|valid|validation|test|dev)[_ /.-]?loss$", re.IGNORECASE)


@dataclass(frozen=True)
class TaskMetric:
    """One held-out task metric: its series and its values turned into an error (lower is better)."""

    name: str
    series: Series
    steps: np.ndarray
    error: np.ndarray  # 1 - accuracy, 100 - a percentage, or the lower-better metric itself
    top: float | None = None  # 1 or 100 for an accuracy-like score, None for a lower-better metric

    def error_at(self, step: int) -> float | None:
        at = self.error[self.steps <= step]
        return float(at[-1]) if at.size else None

    def reduction(self, before: float, after: float) -> float:
        """Relative error reduction from `before` to `after` (> 0: better)."""
        return (before - after) / max(abs(before), 1e-12)

    def value(self, err: float) -> float:
        """The metric as logged, for an error value (for evidence sentences)."""
        return err if self.top is None else self.top - err


def task_metrics(run: Run, min_points: int = 3) -> list[TaskMetric]:
    """Every held-out (eval/val/test-prefixed, not a loss) metric whose direction is known, by name."""
    out = []
    for name, s in sorted(run.metrics.items()):
        low = name.lower()
        if not low.startswith(("eval", "val", "test")) or "loss" in low:
            continue
        tail = low.split("_", 1)[-1].split("/", 1)[-1]
        regression = REGRESSION_ERROR.search(tail) is not None
        down = (any(t in tail for t in LOWER_BETTER) or ERR.search(tail) is not None or regression
                or SAMPLE_DISTANCE.search(tail) is not None)
        # an error rate named after what it counts ("err-top1", "top1_err") is an error, whatever else it names
        up = any(t in tail for t in HIGHER_BETTER) and not ERR.search(tail) and not regression
        nameless = NAMELESS.match(low) is not None
        if up == down and not nameless:
            continue
        st, v = s.finite()
        if v.size < min_points:
            continue
        if (regression or nameless) and _is_heldout_loss(run, st, v):
            continue  # the loss itself under a metric's name: no evidence of its own (see SAME_AS_LOSS)
        if nameless:
            got = _nameless_direction(run, st, v)
            if got is None:
                continue
            up = got
        top = None
        if up:
            # a percentage (0..100) or a fraction (0..1); anything else is not an accuracy-like score
            top = 100.0 if float(np.max(v)) > 1.0 else 1.0
            if float(np.max(v)) > 100.0 or float(np.min(v)) < 0.0:
                continue
            err = top - v
        else:
            err = v.astype(np.float64)
        out.append(TaskMetric(name, s, st, err, top))
    return out


# A metric the log names by its place alone: fastai's Recorder printed without a progress bar (`learn.no_bar()`) gives
# each epoch as a bare list with no header, read as valid_metric_<k> (textlog_formats.parse_fastai_recorder). Its
# stock metrics run both ways (accuracy, error_rate, rmse, mae ...), and a complementary pair such as accuracy and
# error_rate cannot be told apart by its values, so no direction is assumed from them. What the run does show is
# which way the metric moved while the model learned: from the first evaluation to the held-out loss's minimum, a
# fall of the held-out loss by LEARNED_LOSS_DROP (a fifth, far beyond an evaluation's scatter) is learning that
# transfers, and a task metric of the same model improves with it. The metric takes the direction it moved in over
# that stretch, when it moved by MATERIAL relative (3 %: as an improvement is measured below); with a held-out loss
# that never fell so far, or a metric that hardly moved, the direction stays unknown and the metric unread. A
# metric named by a header or a history file (fastai's table, CSVLogger's history.csv) keeps that name and is read by
# it.
NAMELESS = re.compile(r"^(?:eval|val|valid)_metric_\d+$")
LEARNED_LOSS_DROP = 0.2


def _nameless_direction(run: Run, steps: np.ndarray, values: np.ndarray) -> bool | None:
    """True (higher is better) or False for a metric the log did not name, from the way it moved while the held-out
    loss fell to its minimum (see NAMELESS above); None when that cannot be read."""
    loss = run.series("eval_loss")
    if loss is None:
        return None
    ls, lv = loss.finite()
    if lv.size < 3 or lv[0] <= 0:
        return None
    k = int(np.argmin(lv))
    if lv[k] > (1.0 - LEARNED_LOSS_DROP) * lv[0]:
        return None
    first, at_min = values[steps <= ls[0]], values[steps <= ls[k]]
    if first.size == 0 or at_min.size == 0:
        return None
    before, after = float(first[-1]), float(at_min[-1])
    if abs(after - before) < MATERIAL * max(abs(before), abs(after), 1e-12):
        return None
    return after > before


def restates_loss(m: TaskMetric) -> bool:
    """Whether the metric measures the same errors the held-out loss does: a perplexity (exp of the same
    cross-entropy), a bits-per-byte or per-character loss (the same cross-entropy in base 2 per unit of text) or a
    regression error beside a regression loss (an MAE or RMSE beside an MSE: distances to the
    same targets, which rise together when the held-out loss rises). Such a metric can still excuse a rising loss
    (it kept improving: the rise is a few outliers' squares), but it is no second witness that the task is hurt,
    and its presence does not answer what a task metric would (data.detect_overfitting)."""
    tail = m.name.lower().split("_", 1)[-1].split("/", 1)[-1]
    return ("ppl" in tail or "perplexity" in tail or any(t in tail for t in BITS_PER_UNIT)
            or REGRESSION_ERROR.search(tail) is not None)


# A regression trained on its own error metric logs that metric twice: Keras's `loss="mse", metrics=["mse"]` gives a
# val_mse equal to val_loss, and an RMSE beside an MSE loss is its square root. Such a metric moves exactly as the
# held-out loss does, so read as a task metric it would count the loss a second time (a "task that turned down"
# beside the loss that rose). It is the loss when at every evaluation both share (>= 2) it equals the held-out loss,
# or its square does, to SAME_AS_LOSS relative: the two are computed in float32 on the same batches, which agree to
# ~1e-6; two different measurements agreeing to 0.1 % at every evaluation is no coincidence. With a regulariser the
# Keras loss adds its penalty and no longer equals the metric, which then is kept as a measurement of its own.
SAME_AS_LOSS = 1e-3


def _is_heldout_loss(run: Run, steps: np.ndarray, values: np.ndarray) -> bool:
    """Whether a regression metric's values are the held-out loss, or its square root, at every shared step."""
    for name, s in run.metrics.items():
        if not (name == "eval_loss" or HELDOUT_LOSS.match(name.strip())):
            continue
        ls, lv = s.finite()
        shared, i, j = np.intersect1d(steps, ls, return_indices=True)
        if shared.size < 2:
            continue
        a, b = values[i].astype(np.float64), lv[j].astype(np.float64)
        for x in (a, a * a):
            if np.all(np.abs(x - b) <= SAME_AS_LOSS * np.maximum(np.abs(b), 1e-12)):
                return True
    return False


def worsens_to_end(m: TaskMetric, since_step: int) -> int:
    """How many consecutive evaluations up to the last one the metric's error rose at, counting only rises after
    `since_step` (0 when its last evaluation is no worse than the one before)."""
    after = m.error[m.steps >= since_step]
    k = 0
    while k + 1 < after.size and after[-1 - k] > after[-2 - k]:
        k += 1
    return k


# Whether a metric's end "holds at its best" or has turned down is a question of its own scatter, not of a fixed share
# of its gain: a fine-tune whose F1 gained 0.009 after the eval-loss minimum and ends 0.0019 under its best (0.945
# best, 0.942 and 0.944 in the last two evaluations; realworld hfcard-bert-conll2003-ner-f1) has kept 78 % of that
# small gain, though its evaluations scatter by ~0.004 from one to the next. The end's distance below the best is
# measured against the metric's scatter between evaluations: sigma = 1.4826 MAD / sqrt(2) of its changes from one
# evaluation to the next (the difference of two noisy values has sqrt(2) times their spread; the MAD around the
# median change ignores the few large steps of the learning phase and a steady drift, and 1.4826 makes it a normal
# sd). On a plateau the best is the largest of n noisy values, ~2 sigma above the level (the expected maximum of n
# normal draws: 1.2 sigma at n = 5, 1.9 at n = 20, 2.2 at n = 40), and the end, a median of two, scatters by ~0.7
# sigma around that level: within HOLD_SIGMAS = 3 sigma of the best, the end holds there; further under it, the
# metric has turned down beyond its own scatter. The MAD needs >= HOLD_MIN_POINTS evaluations (4 changes): 2 or 3
# changes are mostly the learning phase's steps and measure no scatter.
# The former test, an end that keeps >= 90 % of the gain since the eval-loss minimum, stays as a floor, so nothing
# it read as holding reads otherwise (a metric frozen a few digits under its best has a MAD of 0). A tenth of the
# metric's whole range instead would not do: the learning phase makes that range large, and 10 % of a 0.14 -> 0.90
# climb excuses an accuracy that ended 3.5 points (9 examples of 256) under its best beside a held-out loss up 62 %
# (reallib keras-overfitting-s2).
# The test asks no more than that the metric did not turn down; that it improved after the eval-loss minimum is
# still MATERIAL's test (and, for an accuracy, gain_within_noise's).
HOLD_SIGMAS = 3.0
HOLD_MIN_POINTS = 5
HOLD_GAIN_SHARE = 0.1


def scatter(m: TaskMetric) -> float | None:
    """The metric's scatter between evaluations, 1.4826 MAD / sqrt(2) of its changes (see HOLD_SIGMAS above), in
    error units; None with fewer than HOLD_MIN_POINTS evaluations."""
    if m.error.size < HOLD_MIN_POINTS:
        return None
    return 1.4826 * stats.mad(np.diff(m.error)) / float(np.sqrt(2.0))


def holds_at_best(m: TaskMetric, then: float, end: float) -> bool:
    """The error `end` is within HOLD_SIGMAS x the metric's scatter of its best, or keeps >= 90 % of the gain from
    `then` to the best (see HOLD_SIGMAS above): the metric holds at its best rather than having turned down."""
    best = float(np.min(m.error))
    sigma = scatter(m)
    tol = max(HOLD_GAIN_SHARE * (then - best), HOLD_SIGMAS * sigma if sigma is not None else 0.0)
    return end <= best + tol


def still_improving(m: TaskMetric, since_step: int) -> tuple[float, float] | None:
    """(error then, error at the end) when the metric's error at the end is materially below its error at
    `since_step` and the end holds at the metric's best (holds_at_best: within three times its scatter between
    evaluations, or keeping 90 % of the gain; it has not turned down): the task is still improving. None otherwise."""
    then = m.error_at(since_step)
    if then is None:
        return None
    end = float(np.median(m.error[-2:]))
    if m.reduction(then, end) >= MATERIAL and holds_at_best(m, then, end):
        return then, end
    return None


# An accuracy over an evaluation set of n examples moves in steps of 1/n, so a held-out accuracy whose every logged
# value is a whole number of n-ths (to QUANT_TOL: a float32 of k/n is within ~1e-7 of it) shows the size of the set
# it was measured on. Such a measurement has the binomial standard error sqrt(p (1 - p) / n) (Dietterich 1998,
# "Approximate Statistical Tests for Comparing Supervised Classification Learning Algorithms", section 3: the test
# error is a binomial proportion). A gain smaller than NOISE_SE of those standard errors is a few examples flipping
# between evaluations, within the error of either figure: a plateau, not a task still improving (a 256-example
# validation set at 85 % has a standard error of 2.2 points, 5.7 examples). One standard error, not the 1.96 of a
# significance test: the reading only decides whether the gain can excuse a climbing held-out loss, and a gain
# within one standard error cannot be told from no gain at all. Values printed to d decimals all sit on the 1/10^d
# grid whatever the set's size, so a grid whose n divides 10^DISPLAY_DECIMALS (100, 1000, 10000 ...) may be the
# print's rounding and is not read: a set of 10,000 shown as "0.84" would otherwise pass for 100 examples and its
# noise band be overstated ten-fold. A set of such a size keeps the metric's verdict as it was.
# - >= QUANT_VALUES distinct values: four values that all sit on a 1/n grid by chance, for n <= MAX_EVAL_SET and
#   a tolerance of 1e-6, come less than once in 10^5 (each lands within 2 n QUANT_TOL <= 0.04 of the grid);
# - n <= MAX_EVAL_SET (20,000): an evaluation set larger than that has a standard error under 0.4 points at 50 %.
QUANT_TOL = 1e-6
QUANT_VALUES = 4
MAX_EVAL_SET = 20_000
DISPLAY_DECIMALS = 6
NOISE_SE = 1.0


def eval_set_size(m: TaskMetric) -> int | None:
    """The number of examples an accuracy is measured on, read from the 1/n grid its values sit on (see QUANT_TOL
    above); None for another metric, or when its values are no fractions of one whole set."""
    if m.top is None or "acc" not in m.name.lower():
        return None  # F1, BLEU, ROUGE, IoU are no share of examples right: only an accuracy is binomial
    frac = np.unique((m.top - m.error) / m.top)
    frac = frac[(frac > QUANT_TOL) & (frac < 1.0 - QUANT_TOL)]
    if frac.size < QUANT_VALUES:
        return None
    for lo in range(2, MAX_EVAL_SET + 1, 500):  # in blocks, smallest n first: most sets are small
        n = np.arange(lo, min(lo + 500, MAX_EVAL_SET + 1), dtype=np.float64)[:, None]
        k = frac[None, :64] * n
        hits = np.flatnonzero(np.all(np.abs(k - np.round(k)) <= QUANT_TOL * n, axis=1))
        if hits.size:
            size = int(n[hits[0], 0])
            return None if 10**DISPLAY_DECIMALS % size == 0 else size
    return None


def gain_within_noise(m: TaskMetric, then: float, end: float) -> tuple[int, float, float] | None:
    """(evaluation set size, the gain in examples, one standard error in the metric's units) when the metric's
    gain from error `then` to `end` is under NOISE_SE binomial standard errors of an accuracy on its evaluation set
    (see QUANT_TOL above); None when it is larger or the set's size cannot be read."""
    n = eval_set_size(m)
    if n is None or m.top is None:
        return None
    p = (m.top - end) / m.top
    se = float(np.sqrt(max(p * (1.0 - p), 0.0) / n))
    gain = (then - end) / m.top
    if se <= 0 or gain >= NOISE_SE * se:
        return None
    return n, float(gain * n), se * m.top

# The training loss right after a held-out best (median of the next third of its points) this far above its level
# at that best has not kept falling: the 10 % of smdebug's Overfit ratio that the held-out loss must rise by,
# applied to the training loss the other way. Memorisation keeps the training loss falling as the held-out side
# turns; both getting worse together, then coming back, is an unstable stretch (a step too large, gradients summed
# across updates).
TRAIN_ROSE = 1.1


def train_rose_after(steps: np.ndarray, values: np.ndarray, step: int, level: float) -> float | None:
    """The median training loss over the next third of its points after `step` when it is > TRAIN_ROSE x `level`
    (the training loss at the held-out best); None otherwise."""
    nxt = values[steps > step]
    nxt = nxt[:max(1, nxt.size // 3)]
    if nxt.size == 0 or level <= 0:
        return None
    med = float(np.median(nxt))
    return med if med > TRAIN_ROSE * level else None


def ever_improved(m: TaskMetric) -> bool:
    """The metric's best error is materially below its first: the model learned something that transfers."""
    return m.reduction(float(m.error[0]), float(np.min(m.error))) >= MATERIAL


def first_nonfinite_heldout_losses(run: Run) -> list[tuple[str, Series, int]]:
    """(name, series, index of its first non-finite value) for every held-out loss that goes non-finite."""
    out = []
    for name, s in run.metrics.items():
        if not (name == "eval_loss" or HELDOUT_LOSS.match(name.strip())) or not len(s):
            continue
        bad = ~np.isfinite(s.values)
        if bad.any():
            out.append((name, s, int(np.argmax(bad))))
    return out


# The held-out loss at the first evaluation this far below where the training loss started (<= 0.8x) was already
# lower than the untrained model's: an untrained model scores the same on training and held-out data of one
# distribution, and the first logged training loss (a first batch, or the first interval's or epoch's mean) is at
# most that untrained level, since training only lowers it. 20 % is beyond the batch-to-batch spread of a first
# logged loss; on the dev runs whose first evaluation is their held-out best, the leaked ones sit at 0.99-1.8x.
LEARNED_BEFORE_FIRST_EVAL = 0.8


def improved_before_first_eval(loss: Series | None, heldout_loss: Series | None) -> tuple[float, float] | None:
    """(training loss at the start, held-out loss at the first evaluation) when the held-out loss was already
    <= LEARNED_BEFORE_FIRST_EVAL x the start: the held-out set improved before it was first scored, so a first
    evaluation that is the best does not mean nothing transferred. The start is the median of the first <= 3
    training points logged no later than that evaluation. None otherwise."""
    if loss is None or heldout_loss is None:
        return None
    lst, lv = loss.finite()
    est, evv = heldout_loss.finite()
    if lv.size == 0 or evv.size == 0:
        return None
    early = lv[lst <= est[0]][:3]
    if early.size == 0:
        return None
    start, first = float(np.median(early)), float(evv[0])
    if start <= 0 or first < 0 or first > LEARNED_BEFORE_FIRST_EVAL * start:
        return None
    return start, first
