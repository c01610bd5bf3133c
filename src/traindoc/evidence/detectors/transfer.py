"""What the held-out curves say about transfer: nothing learned on train transfers (held-out never improves while
the train loss collapses), or held-out task performance turns down while train keeps improving."""

from __future__ import annotations

import math
import re

import numpy as np

from traindoc.evidence import heldout, heldout_trend
from traindoc.evidence.context import cite_series, loss_series
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run, Series

COLLAPSE = 0.1  # train loss ends below 10 % of its start: learning an order of magnitude, on train
WORSENS = 1.25  # the held-out loss ends >= 25 % above its first evaluation (well past eval-to-eval noise)
NEVER_BETTER = 0.02  # the best evaluation is within 2 % of the first: held-out loss never really improved
# An epoch history (one train loss and one evaluation per epoch) of >= 4 epochs with >= 3 evaluations is enough: each
# point is a whole epoch's mean, so its noise is far below the 10x fall and 25 % rise asked for (docs/diagnose.md,
# "Held-out never improves on an epoch history"). Below 10 points the start and end are single epochs.
MIN_TRAIN_POINTS = 4


def detect_heldout_never_improves(run: Run) -> list[Finding]:
    """Train loss falls by 10x or more while the held-out loss is at its best at the very first evaluation and
    only worsens after: nothing the model learns transfers to the held-out set.

    Overfitting first learns what generalises (the held-out loss falls) and memorises after (it turns up: a U).
    A model that reads its targets from its inputs (an off-by-one window, a hand pre-shift, the answer in a
    feature) learns a shortcut that is absent from correctly built held-out batches, so the held-out loss never
    falls at all. A held-out task metric decides it: one that never improves materially (evidence/heldout.py)
    makes the finding (0.55); one that improved means the model learned something real (memorisation of a tiny
    training set can also make the first evaluation the best): no finding. Nor when the first evaluation's held-out
    loss is already <= 0.8x where the training loss started (heldout.improved_before_first_eval): the held-out set
    improved before it was first scored, the memorisation came after. Without a task metric the two readings
    stay open and this rule says nothing (detect_label_leakage and detect_overfitting each list their reading).
    """
    loss, ev_s = loss_series(run), run.series("eval_loss")
    if loss is None or ev_s is None:
        return []
    _, lv = loss.finite()
    est, evv = ev_s.finite()
    if lv.size < MIN_TRAIN_POINTS or evv.size < 3:
        return []
    k = max(2, lv.size // 10) if lv.size >= 10 else 1
    start, end = float(np.median(lv[:k])), float(np.median(lv[-k:]))
    if start <= 0 or end > COLLAPSE * start:
        return []
    first, best, last = float(evv[0]), float(np.min(evv)), float(np.median(evv[-2:]))
    if first <= 0 or best < (1 - NEVER_BETTER) * first or last < WORSENS * first:
        return []
    if heldout.improved_before_first_eval(loss, ev_s) is not None:
        return []  # the held-out loss fell below the untrained level before it was first scored: something transferred
    ev = [f"train loss fell {start / max(end, 1e-12):.3g}x ({fmt(start)} -> {fmt(end)}) {cite_series(loss)}",
          f"while eval_loss was at its best at the first evaluation (step {int(est[0])}, {fmt(first)}) and rose to "
          f"{fmt(last)}: nothing learned on train transfers {cite_series(ev_s)}"]
    metrics = heldout.task_metrics(run)
    if not metrics or any(heldout.ever_improved(m) for m in metrics):
        return []
    m = metrics[0]
    ev.append(f"{m.name} never improved ({fmt(m.value(float(m.error[0])))} -> {fmt(m.value(float(m.error[-1])))}): "
              f"the train-time shortcut is absent from the held-out batches {cite_series(m.series)}")
    strength = 0.55
    return [Finding("detect_heldout_never_improves", "label_leakage", strength,
                    "the model learns a shortcut that held-out data lacks: the target is visible in training",
                    ev, int(est[0]), {"train_fall": start / max(end, 1e-12), "eval_rise": last / first})]


METRIC_WORSE = 1.25  # the held-out error ends >= 25 % above its best (healthy runs wobble by <= ~7 % at the end)
METRIC_WORSE_STRENGTH = 0.45
# The held-out error rising at each of the last >= 4 evaluations after its best: values that only scatter around a
# level come in ascending order at k consecutive evaluations 1 time in (k + 1)! (evidence/heldout_trend.py, the
# reasoning detect_overfitting applies to the held-out loss), so 4 rises in a row (1 in 120) are a trend whatever the
# evaluation set's size; with the >= 25 % worsening and the training side still improving, that is the task itself
# getting worse while the training set is fit ever better: overfitting as an engineer confirms it (issue 8: the
# task metric falling, not one noisy point). 0.7, detect_accuracy_gap's strength for the same story told by the end
# points (a held-out accuracy that improved, then fell far behind a memorised training set).
METRIC_STEADY_EVALS = 4
METRIC_STEADY_STRENGTH = 0.7


def _train_side(run: Run) -> tuple[str, np.ndarray, np.ndarray, Series] | None:
    """(what it is, steps, lower-is-better values, series) of the training-side curve: the training loss, or, in a
    log that prints no training loss (a numpy loop's "Train-Acc", a Keras `acc` history), the training accuracy's
    error (its scale minus it): either says whether the model keeps fitting its training set."""
    loss = loss_series(run)
    if loss is not None:
        lst, lv = loss.finite()
        if lv.size >= 4:
            return "train loss", lst, lv, loss
    acc = _train_accuracy(run)
    if acc is None or acc[2].size < 4:
        return None
    name, st, v, top = acc
    return f"training error ({top:g} - {name})", st, top - v, run.metrics[name]


def detect_heldout_metric_degrades(run: Run) -> list[Finding]:
    """A held-out task metric peaks and then loses ground (its error ends >= 25 % above its best, by >= 1 point on
    a 0-1 or 0-100 scale, with >= 2 evaluations after the best) while the training side keeps improving (the train
    loss, or the training accuracy when no training loss is logged): the model trades held-out performance for the
    training set, which is overfitting as the task sees it, whatever the held-out cross-entropy does (it can stay
    flat while a few examples flip). 0.45: listed, not confirmed; the evaluation set's size, which decides how many
    examples a point is, is rarely in the log. 0.7 when the held-out error rose at each of the last >= 4
    evaluations (METRIC_STEADY_EVALS): a trend, not a few examples flipping."""
    side = _train_side(run)
    if side is None:
        return []
    what, lst, lv, tseries = side
    for m in heldout.task_metrics(run, min_points=4):
        ib = int(np.argmin(m.error))
        if m.error.size - 1 - ib < 2:
            continue
        best, end = float(m.error[ib]), float(np.median(m.error[-2:]))
        if end < METRIC_WORSE * max(best, 1e-12) or (m.top is not None and end - best < 0.01 * m.top):
            continue
        at = lv[lst <= m.steps[ib]]
        if at.size == 0 or float(np.median(lv[-max(1, lv.size // 10):])) >= float(at[-1]):
            continue
        if heldout.train_rose_after(lst, lv, int(m.steps[ib]), float(at[-1])) is not None:
            continue  # the training loss rose with the held-out error first: instability, not a trade for the train set
        ev = [f"{m.name} was best at step {int(m.steps[ib])} ({fmt(m.value(best))}) and ends at "
              f"{fmt(m.value(end))}: the held-out error is {end / max(best, 1e-12):.2f}x its best "
              f"{cite_series(m.series)}",
              f"while the {what} kept falling ({fmt(float(at[-1]))} -> {fmt(float(lv[-1]))}) {cite_series(tseries)}"]
        strength = METRIC_WORSE_STRENGTH
        climb = heldout_trend.rises_to_end(m.error, ib)
        if climb >= METRIC_STEADY_EVALS:
            odds = math.factorial(climb + 1)
            chance = f"1 time in {odds:,}" if odds <= 10**6 else "less than 1 time in a million"
            ev.append(f"the held-out error rose at each of the {climb} evaluations since its best: a trend (values "
                      f"that only scatter around a level line up {climb + 1} in a row {chance}), not a few examples "
                      "flipping")
            strength = METRIC_STEADY_STRENGTH
        return [Finding("detect_heldout_metric_degrades", "overfitting", strength,
                        "held-out task performance falls while the training side keeps improving", ev,
                        int(m.steps[ib]), {"error_ratio": end / max(best, 1e-12), "steady_rises": climb})]
    return []


MEMORISED = 0.95  # training accuracy at >= 95 % of its scale: the training set is (nearly) memorised
ACC_GAP = 0.3  # held-out accuracy a third of the scale below it
# A target the training batches carry (a leak) is the easiest feature there is and is fit at once; memorising
# examples is slow: networks fit real patterns first and individual examples over many epochs (Arpit et al. 2017,
# "A closer look at memorization in deep networks"). A training accuracy that reaches MEMORISED only after >= 30 %
# of the logged run (the share detect_label_leakage allows a leaked loss to collapse in) and >= 4 logged points
# climbed there by memorising.
GRADUAL_SHARE = 0.3
GRADUAL_POINTS = 4


def _train_accuracy(run: Run, min_points: int = 3) -> tuple[str, np.ndarray, np.ndarray, float] | None:
    """(name, steps, values, top) of the training accuracy: an accuracy-named series that is not held-out."""
    for name, s in sorted(run.metrics.items()):
        low = name.lower()
        if low.startswith(("eval", "val", "test")) or "loss" in low or "acc" not in low.rsplit("/", 1)[-1]:
            continue
        st, v = s.finite()
        if v.size < min_points or float(np.min(v)) < 0.0 or float(np.max(v)) > 100.0:
            continue
        return name, st, v, (100.0 if float(np.max(v)) > 1.0 else 1.0)
    return None


# A run that reports its accuracies only at the end (a course notebook's "train accuracy: 99 %" / "test accuracy:
# 70 %", a script's final evaluation) gives two numbers and no curve: whether the held-out side ever improved, and
# how fast the training set was fit, are out of sight. The textbook reading of such a pair is bias and variance
# (Ng, deeplearning.ai Course 2, "Bias / Variance": training error 1 % and dev error 11 % is his example of high
# variance, i.e. overfitting); but a well-generalising model keeps a perfect training accuracy within ~20 points of
# its held-out one (Zhang et al. 2017, above), so a gap of that size says "check regularisation", not "it overfits":
# - a training accuracy at >= ENDPOINT_FIT of its scale (the training set is fit: low bias) and a held-out one
#   >= ENDPOINT_GAP (Ng's 10 points) below it: overfitting listed (ENDPOINT_LISTING, below the report threshold);
# - with the training set memorised (MEMORISED) and the gap beyond any normal one (ACC_GAP, as for the curves):
#   ENDPOINT_STRENGTH, reported but not confirmed, since a target only the training batches carry (label_leakage)
#   reads the same from two numbers.
# The development corpus's healthy runs that end this way (a final pair, no held-out loss) sit within 4 points
# (dlai-initialization-he 0.993 / 0.960, dlib's MNIST nets 0.999 / 0.991); its healthy runs with curves and a
# training accuracy >= 0.95 within 1 point (see the rule above).
ENDPOINT_FIT = 0.9
ENDPOINT_GAP = 0.1
ENDPOINT_LISTING = 0.35
ENDPOINT_STRENGTH = 0.5


def _endpoint_gap(run: Run) -> list[Finding]:
    """detect_accuracy_gap's reading of a final training / held-out accuracy pair, where either side has fewer
    than 3 points (so the curves cannot be read): see ENDPOINT_* above."""
    train = _train_accuracy(run, min_points=1)
    if train is None:
        return []
    name, st, v, top = train
    end = float(np.median(v[-max(1, v.size // 10):]))
    if end < ENDPOINT_FIT * top:
        return []
    for m in heldout.task_metrics(run, min_points=1):
        if m.top is None or "acc" not in m.name.lower() or m.top != top or (v.size >= 3 and m.error.size >= 3):
            continue  # both curves long enough: the curve reading above judged them
        held = m.value(float(m.error[-1]))
        gap = (end - held) / top
        if gap < ENDPOINT_GAP:
            continue
        ev = [f"the run reports a final training accuracy ({name}) of {fmt(end)} {cite_series(run.metrics[name])} "
              f"and {m.name} of {fmt(held)} {cite_series(m.series)}: the training set is fit and the held-out "
              f"side is {gap:.0%} of the scale below it (high variance)"]
        if end >= MEMORISED * top and gap >= ACC_GAP:
            ev.append(f"a gap of {gap:.0%} with the training set memorised is beyond the ~20-point gap of a "
                      "well-generalising model; with no curve in the log, a target only the training batches carry "
                      "reads the same")
            return [Finding("detect_accuracy_gap", "overfitting", ENDPOINT_STRENGTH,
                            "the model memorised its training set: near-perfect training accuracy, far lower "
                            "held-out (final figures only)", ev, int(st[-1]),
                            {"train_accuracy": end, "heldout_accuracy": held, "endpoints_only": True})]
        ev.append("two final figures and no curve: a gap this size is within what well-generalising models show, "
                  "so overfitting is a reading to check (regularisation, more data), not a finding")
        return [Finding("detect_accuracy_gap", "overfitting", ENDPOINT_LISTING,
                        "training accuracy well above held-out at the end (final figures only)", ev, int(st[-1]),
                        {"train_accuracy": end, "heldout_accuracy": held, "endpoints_only": True, "listing": True})]
    return []


def detect_accuracy_gap(run: Run) -> list[Finding]:
    """Training accuracy at >= 95 % of its scale while held-out accuracy ends >= 30 points (of 100) below it, in a
    log with no held-out loss (where detect_overfitting judges the curves): the model memorised its training set.

    Over-parameterised models that generalise well keep their held-out accuracy within ~20 points of a perfect
    training accuracy (CIFAR-100 ResNets: ~100 % train, ~78 % test; Zhang et al. 2017, "Understanding deep
    learning requires rethinking generalization", Table 1); a 30-point gap is beyond the normal generalisation
    gap of a tuned model. 0.7 when the held-out accuracy improved at some point (learned, then memorised); 0.4
    when it never did, where a shortcut only the training batches carry (label_leakage) reads the same.
    """
    if run.series("eval_loss") is not None:
        return []
    train = _train_accuracy(run)
    if train is None:
        return _endpoint_gap(run)
    name, st, v, top = train
    end = float(np.median(v[-max(1, v.size // 10):]))
    if end < MEMORISED * top:
        return _endpoint_gap(run)
    for m in heldout.task_metrics(run):
        if m.top is None or "acc" not in m.name.lower() or m.top != top:
            continue
        held = m.value(float(np.median(m.error[-2:])))
        if end - held < ACC_GAP * top:
            continue
        learned = heldout.ever_improved(m)
        ev = [f"training accuracy ({name}) ends at {fmt(end)} {cite_series(run.metrics[name])}",
              f"while {m.name} ends at {fmt(held)} (best {fmt(m.value(float(np.min(m.error))))}): a gap of "
              f"{(end - held) / top:.0%} of the scale, beyond a normal generalisation gap {cite_series(m.series)}"]
        strength = 0.7 if learned else 0.4
        if not learned:
            reached = int(np.argmax(v >= MEMORISED * top))
            if reached >= GRADUAL_POINTS and reached >= GRADUAL_SHARE * (v.size - 1):
                ev.append(f"{m.name} never improved, while {name} climbed gradually from {fmt(float(v[0]))} to "
                          f"{fmt(float(v[reached]))} over {reached} logged points ({reached / (v.size - 1):.0%} of "
                          f"the run): memorising examples is slow, a leaked target is fit at once")
                strength = 0.6
            else:
                ev.append(f"{m.name} never improved materially: memorisation of a tiny training set and a target "
                          "only the training batches carry read the same")
        return [Finding("detect_accuracy_gap", "overfitting", strength,
                        "the model memorised its training set: near-perfect training accuracy, far lower held-out",
                        ev, int(st[-1]), {"train_accuracy": end, "heldout_accuracy": held})]
    return _endpoint_gap(run)


# A run that reports its losses only at the end (one epoch line: "loss=5.8" then "Validating, loss=766"; one
# translate.py step line with its training perplexity and an "eval:" perplexity) has no held-out curve for
# detect_overfitting (>= 4 evaluations) to read: two numbers, as in _endpoint_gap for accuracies. Healthy runs end
# with the held-out loss 1.0-1.15x the training loss (detect_label_leakage's comment), and 5x (LOSS_PAIR_GAP, the
# held-out/train ratio detect_overfitting's LEAKED_GAP and detect_label_leakage's train << val reading call far
# beyond any normal generalisation gap) means the training batches are fit and the held-out ones are not: the
# textbook high-variance reading, listed (ENDPOINT_LISTING, below the report threshold) because two numbers cannot
# tell memorisation from a train/eval mismatch or a target only the training batches carry. A perplexity pair is
# read as its log (perplexity = exp(per-token loss)). The held-out loss must also be above LOSS_PAIR_FLOOR, the floor
# detect_label_leakage's train << val reading uses: below it both sides are fit (a classifier at 99 % / 98.5 % has
# losses of ~0.01 and ~0.05 nats), and the ratio of two near-zero losses says nothing of a gap
# (flax-spin-spherical-cnn-smnist: 0.0088 against 0.056, a healthy run).
LOSS_PAIR_GAP = 5.0
LOSS_PAIR_FLOOR = 0.2
DIVERGED = 3.0  # detect_overfitting's: a training loss >= 3x its first value fitted nothing (lr_too_high's overshoot)
LOSS_PAIR_MAX_EVALS = 3  # detect_overfitting reads a held-out curve of >= 4 evaluations
_HELDOUT_PPL = re.compile(r"^(?:eval|val|vali|valid|validation|test|dev)[_ /.-]?(?:perplexity|ppl)$", re.IGNORECASE)
_TRAIN_PPL = ("perplexity", "ppl", "train_perplexity", "train_ppl")


def _loss_pairs(run: Run) -> list[tuple[Series, Series, bool]]:
    """(training series, held-out series, is a perplexity) pairs the endpoint reading may compare."""
    pairs: list[tuple[Series, Series, bool]] = []
    loss, ev_s = loss_series(run), run.series("eval_loss")
    if loss is not None and ev_s is not None:
        pairs.append((loss, ev_s, False))
    train_ppl = next((run.metrics[n] for n in _TRAIN_PPL if n in run.metrics), None)
    held_ppl = next((s for n, s in sorted(run.metrics.items()) if _HELDOUT_PPL.match(n)), None)
    if train_ppl is not None and held_ppl is not None:
        pairs.append((train_ppl, held_ppl, True))
    return pairs


# The same final loss pair read beside a task metric logged on both sides (`eval_accuracy` beside `accuracy`,
# `val_wer` beside `wer`) is two measures of one gap, and the metric tells what the loss ratio cannot: how much of
# the held-out task the model still gets right. The look-alikes of a loss-only pair leave the held-out side broken:
# a train/eval mismatch (inputs preprocessed differently, labels shuffled apart) or a target only the training
# batches carry puts the held-out score at chance or at 0 (the corpus's g21-mxnet-2308 at 0.097 on ten classes,
# g21-keras-tcn-27 at 0.11, g26-text-classification-5 and g21-reactnet-9 at 0.000), while a model that memorised
# its training set keeps what generalises (Arpit et al. 2017: networks fit the real patterns first, the individual
# examples last). So the gap is confirmed (PAIR_CORROBORATED, not a listing, and not capped by the few-point gate:
# diagnosis.ranking.final_pair_causes) when, besides the loss ratio above,
# - the held-out error is >= PAIR_ERR_RATIO x the training error and >= ENDPOINT_GAP (Ng's 10 points) of the scale
#   above it: the metric opens the gap too (two near-perfect scores, 0.2 % against 0.4 % error, do not), and
# - the held-out score (1 - error on the scale) is still >= PAIR_HELD_SHARE of the training score: half of what the
#   model does on its training set carries over, beyond chance for any task of 3 classes or more once the
#   training set is fit (a binary task's chance, 0.5 of a perfect 1.0, sits at the edge: the loss ratio then still
#   has to be >= 5x).
# keras-tuner#167 (0.99 / 0.59 with losses 0.035 / 2.68) and DeepSpeech#336 (WER 0.16 / 0.51, losses 13 / 178)
# pass. 0.7 is detect_overfitting's CORROBORATED_STRENGTH (data.py: a held-out loss and a held-out task metric that
# agree, two independent readings of one gap) and detect_accuracy_gap's for a curve that learned and fell behind;
# it sits above the report threshold after overfitting's calibration, where one measure alone (ENDPOINT_LISTING)
# stays below it.
PAIR_CORROBORATED = 0.7
PAIR_ERR_RATIO = 2.0
PAIR_HELD_SHARE = 0.5
_RATE_NAMES = ("wer", "cer", "err")  # lower-better metrics that are rates on a 0..1 scale (not a perplexity)


def _train_counterpart(run: Run, m: heldout.TaskMetric) -> tuple[str, float, float] | None:
    """(name, training error, scale) of the training series that `m` (a held-out task metric) evaluates, matched by
    the name after the held-out prefix (`eval_accuracy` -> `accuracy`, `val_wer` -> `wer`); None when absent, when
    the scales differ or when a lower-better metric is not a 0..1 rate."""
    low = m.name.lower()
    tail = re.sub(r"^(?:eval|val|vali|valid|validation|test|dev)[_ /.-]?", "", low)
    if not tail or tail == low:
        return None
    name = next((n for n in run.metrics if n.lower() == tail), None)
    if name is None:
        return None
    _, v = run.metrics[name].finite()
    if v.size == 0:
        return None
    end = float(v[-1])
    if m.top is not None:
        if end < 0 or end > 100.0 or (100.0 if end > 1.0 else 1.0) != m.top:
            return None
        return name, m.top - end, m.top
    if not any(t in tail for t in _RATE_NAMES) or not 0.0 <= end <= 1.0 or not 0.0 <= float(m.error[-1]) <= 1.0:
        return None
    return name, end, 1.0


def _metric_gap(run: Run) -> str | None:
    """Evidence that a held-out task metric shows the final loss pair's gap while still well above a broken held-out
    side (PAIR_* above); None when no metric pair does."""
    for m in heldout.task_metrics(run, min_points=1):
        got = _train_counterpart(run, m)
        if got is None:
            continue
        name, t_err, top = got
        h_err = float(m.error[-1])
        if h_err < PAIR_ERR_RATIO * t_err or h_err - t_err < ENDPOINT_GAP * top:
            continue
        if top - h_err < PAIR_HELD_SHARE * (top - t_err):
            continue  # the held-out side is broken, not behind: a mismatch's or a leak's picture
        return (f"{m.name} ends at {fmt(m.value(h_err))} against {name} {fmt(m.value(t_err))} "
                f"{cite_series(m.series)}: the task metric opens the same gap ({h_err / max(t_err, 1e-12):.3g}x the "
                f"training error) while the held-out side keeps {(top - h_err) / (top - t_err):.0%} of the "
                "training score, so the model works on held-out data, only far worse: memorisation, not a broken "
                "held-out set")
    return None


def detect_endpoint_loss_gap(run: Run) -> list[Finding]:
    """A held-out loss >= LOSS_PAIR_GAP x the training loss at the same point (and above LOSS_PAIR_FLOOR), in a log
    with fewer than 4 evaluations (no held-out curve to read): overfitting listed (ENDPOINT_LISTING); see
    LOSS_PAIR_GAP above."""
    for train, held, ppl in _loss_pairs(run):
        hst, hv = held.finite()
        tst, tv = train.finite()
        # a held-out curve with non-finite points is a blow-up's (the NaN rules read it), not two final figures
        if hv.size == 0 or len(held.steps) > LOSS_PAIR_MAX_EVALS or hv.size < len(held.steps) or tv.size == 0:
            continue
        before = tv[tst <= hst[-1]]
        t_raw = float(before[-1]) if before.size else float(tv[0])
        if not ppl and float(tv[0]) > 0 and t_raw >= DIVERGED * float(tv[0]):
            continue  # the training loss blew up (>= 3x its first value): the held-out loss follows it, no fit
        h_raw = float(hv[-1])
        if ppl:
            if t_raw <= 1.0 or h_raw <= 1.0:
                continue
            t_end, h_end = math.log(t_raw), math.log(h_raw)
        else:
            t_end, h_end = t_raw, h_raw
        if t_end <= 0 or h_end < LOSS_PAIR_GAP * t_end or h_end <= LOSS_PAIR_FLOOR:
            continue
        what = "perplexity" if ppl else "loss"
        corroborated = None if ppl else _metric_gap(run)
        if corroborated is not None:
            ev = [f"the held-out loss is {fmt(h_raw)} {cite_series(held)} against a training loss of {fmt(t_raw)} "
                  f"{cite_series(train)}: {h_end / t_end:.3g}x, far beyond the 1.0-1.15x of a model that "
                  "generalises (high variance)", corroborated]
            return [Finding("detect_endpoint_loss_gap", "overfitting", PAIR_CORROBORATED,
                            "held-out loss and task metric far behind the training ones (final figures, two "
                            "measures agree)", ev, int(hst[-1]),
                            {"train_loss": t_end, "heldout_loss": h_end, "endpoints_only": True,
                             "corroborated": True})]
        ev = [f"the held-out {what} is {fmt(h_raw)} {cite_series(held)} against a training {what} of {fmt(t_raw)} "
              f"{cite_series(train)}"
              + (f" (per-token losses {fmt(h_end)} and {fmt(t_end)} nats)" if ppl else "")
              + f": {h_end / t_end:.3g}x, far beyond the 1.0-1.15x of a model that generalises (high variance)",
              f"{hv.size} held-out figure(s) and no curve: the training batches are fit and held-out ones are not, "
              "but two numbers cannot tell memorisation from a train/eval mismatch or a target only the training "
              "batches carry, so overfitting is listed, not found"]
        return [Finding("detect_endpoint_loss_gap", "overfitting", ENDPOINT_LISTING,
                        "held-out loss far above the training loss (final figures only)", ev, int(hst[-1]),
                        {"train_loss": t_end, "heldout_loss": h_end, "endpoints_only": True, "listing": True})]
    return []


DETECTORS = [detect_heldout_never_improves, detect_heldout_metric_degrades, detect_accuracy_gap,
             detect_endpoint_loss_gap]
