"""The differential diagnosis: the other causes an engineer lists for a symptom the log establishes.

Detectors name a cause when its own trace is in the log. A symptom without such a trace (a NaN, a loss that does
not fall, a held-out loss that turns up) still narrows the field to a few causes, and a diagnosis that names one
of them while leaving out the rest hides the next thing to check. For each symptom established here, the
candidates of its row in the table (traindoc.causes.differential) that no detector weighed are listed:

- crossed off when the log rules them out (fp16 overflow in a run that states bfloat16/float32; an accumulation
  bug in a run that states no accumulation);
- ranked down (half the share) when their telling evidence would be visible in this log and is absent (an LR
  stated inside its range, a grad norm logged that never grows, a logged LR that never rises or collapses);
- otherwise given an equal share of what the symptom leaves unexplained: 1 / (n + 1) for the n candidates left
  standing on the row (the + 1 is "something the row does not hold"), times 1 - the highest score of a cause with
  findings (a confirmed cause already explains the symptom; an unexplained symptom is all the row's), never above
  CAP.

The share is a score like a detector's: one Platt model for every differential candidate turns it into the
confidence (tools/fit_calibration.py fits it apart from the detectors' shared curve, so their confidences do not
move; ranking.calibrate_differential). Candidates never reach the report threshold, never change the verdict, and
are listed after every cause with a finding of its own unless their telling evidence is seen in the log (then by
confidence among them: ranking.listed). docs/diagnose.md, "The differential", gives the reasoning.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from traindoc.causes.differential import BY_ID, Symptom
from traindoc.diagnosis.ranking import aggregate, explain_away
from traindoc.evidence import heldout
from traindoc.evidence.context import (
    LR_REFERENCE,
    ConfiguredLR,
    accumulation_steps,
    cite_series,
    configured_lrs,
    divergence,
    first_nonfinite,
    loss_series,
    nan_context,
    nan_watch_series,
)
from traindoc.evidence.finding import Finding
from traindoc.evidence.nan_prior import lr_cleared
from traindoc.evidence.precision import training_precision
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run, Series

DETECTOR = "differential"
# A differential candidate is a prior, never a finding: kept well under the report threshold (0.5) so that the
# verdict stays what the detectors say (a healthy run stays healthy).
CAP = 0.3
FLOOR = 1e-3  # a share is never 0: the symptom stays on record, and its logit stays finite for the calibration
ABSENT = 0.5  # telling evidence absent where the log would show it: half the share of one the log cannot see
# "does not fall": under 10 % progress from the first to the last tenth of the points (the threshold lr_too_low's
# rule uses, docs/diagnose.md), or in a 3-7 point excerpt every point within 10 % of the first
FLAT = 0.10
# a held-out loss 10 % above its best with >= 2 evaluations after it: detect_overfitting's turn (smdebug's ratio 0.1)
HELDOUT_RISE = 0.10
# held-out loss rising at every evaluation after its best: 2 %, beyond the evaluation-to-evaluation wobble of a
# fixed held-out set scored by a model that is still improving (healthy runs' curves flatten, they do not climb)
STEADY_RISE = 0.02
# a held-out loss >= 1.5x the training loss at the end: the generalisation gap detect_overfitting reads as opened
# (docs/diagnose.md: below 1.5x a late edge-up "opened no generalisation gap")
GAP = 1.5
# a jump >= 3x between two logged points: the overshoot factor lr_too_high's rules use (docs/diagnose.md);
# minibatch noise moves a loss by tens of percent, not 3x
SPIKE = 3.0
# near 0 early: the training loss at <= 5 % of its first value within the first 30 % of its points (the share
# detect_label_leakage allows a leaked loss to collapse in, with a looser level: this is the symptom, not the rule);
# or a held-out accuracy >= 0.99 of its scale at the first evaluation
COLLAPSE = 0.05
EARLY_SHARE = 0.30
PERFECT = 0.99
# grad-norm growth that would be visible: orders of magnitude for an explosion (detect_grad_explosion's 100x,
# halved to 10x so that only a grad norm plainly steady counts against it); 2x for gradients summed across steps
EXPLODE = 10.0
ACCUMULATE = 2.0
# telling evidence the log shows: twice the share of a candidate the log cannot see (the mirror of ABSENT)
SEEN = 2.0
# a loss that creeps down: a monotone downward trend by the Mann-Kendall test (Mann 1945; Kendall 1975), one-sided
# at 5 % (z <= -1.645, normal approximation with continuity correction; with 4 points only a fall at every point
# reaches it). An LR too small still descends, slowly and steadily (CS231n, "Babysitting the learning process": a
# low LR gives a slow, near-linear decrease); frozen weights, detached labels and dead or saturated units leave a
# loss that wanders around a level without a trend
TREND_Z = -1.645
# a non-finite objective under another name than the loss (Torch7's "err", a "cost"): a NaN objective is the
# symptom whatever the trainer calls it; task metrics (accuracy, F1) and the grad norm (a loss scaler's routine inf)
# are not objectives
# a held-out loss that stands still: of >= 4 evaluations, at least half repeat the one before to every printed digit
# (and at least 2 do). A fixed held-out set scored by the same weights gives the same number; any optimiser step
# moves it in its last digits, and a slow learner's value repeats now and then, not at every other evaluation. On a
# flat loss this is the trace of updates that do not happen at all: an LR at 0 (scheduler_misuse's telling, read
# where the LR is not logged) or nothing trainable (frozen_params); see docs/diagnose.md, "The differential"
STILL_MIN_EVALS = 4
STILL_SHARE = 0.5
OBJECTIVE = re.compile(r"(^|[^a-z])(err|error|cost|objf?|objective|nll|ppl|perplexity)([^a-z]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Established:
    symptom: Symptom
    evidence: str
    step: int | None


def _est(symptom: str, evidence: str, step: int | None) -> Established:
    return Established(BY_ID[symptom], evidence, step)


def _heldout_loss(run: Run) -> Series | None:
    for name in sorted(run.metrics):
        s = run.metrics[name]
        if (name == "eval_loss" or heldout.HELDOUT_LOSS.match(name.strip())) and len(s):
            return s
    return None


def _nonfinite(run: Run) -> Established | None:
    s = nan_watch_series(run)
    step = first_nonfinite(s)
    if s is not None and step is not None:
        return _est("nonfinite", f"the loss is non-finite from step {step} ({cite_series(s)})", step)
    bad = heldout.first_nonfinite_heldout_losses(run)
    if bad:
        _, hs, i = bad[0]
        return _est("nonfinite", f"the held-out loss {hs.raw_name} is non-finite from step "
                                 f"{int(hs.steps[i])} ({cite_series(hs)})", int(hs.steps[i]))
    for name in sorted(run.metrics):
        o = run.metrics[name]
        if OBJECTIVE.search(name) and "acc" not in name.lower() and (step := first_nonfinite(o)) is not None:
            return _est("nonfinite", f"the objective {o.raw_name} is non-finite from step {step} ({cite_series(o)})",
                        step)
    return None


def _diverged(run: Run) -> Established | None:
    d = divergence(run)
    if d is not None and d.nonfinite_step is None:
        return _est("diverged", f"the loss fell to {fmt(d.min_value)} at step {d.min_step} and rose to "
                                f"{fmt(d.end_value)} (+{d.rise:.0%})", d.onset_step)
    s = loss_series(run)
    if s is None:
        return None
    steps, v = s.finite()
    if v.size < 3 or v[0] <= 0:
        return None
    k = max(1, v.size // 10)
    a, b = float(np.median(v[:k])), float(np.median(v[-k:]))
    if b >= a * (1 + FLAT) and float(v.min()) >= 0.9 * a:  # it rose from the start and never fell first
        return _est("diverged", f"the loss rose from {fmt(a)} to {fmt(b)} without falling first "
                                f"({cite_series(s)})", int(steps[0]))
    return None


def _flat_series(run: Run) -> Series | None:
    """The series a flat loss is read from: the training loss, or with fewer than 3 of its points the held-out one."""
    s = loss_series(run)
    if s is None or s.finite()[1].size < 3:
        return _heldout_loss(run)
    return s


def _flat(run: Run) -> Established | None:
    ls, s = loss_series(run), _flat_series(run)
    what = "loss" if s is ls else "held-out loss"
    if s is None:
        return None
    steps, v = s.finite()
    # a loss at ~0 has nothing left to learn: flat is convergence there. A negative one (a log-likelihood objective
    # logged with its sign flipped, Kaldi's objf) is read by its size: progress is relative to |first|
    if v.size < 3 or float(v[0]) == 0 or float(np.median(np.abs(v))) < 1e-3:
        return None
    if v.size >= 8:
        k = max(2, v.size // 10)
        a, b = float(np.median(v[:k])), float(np.median(v[-k:]))
        flat = abs(a - b) < FLAT * abs(a)
    else:
        a, b = float(v[0]), float(v[-1])
        flat = bool(np.all(np.abs(v - a) < FLAT * abs(a)))
    if not flat:
        return None
    return _est("flat", f"the {what} stays at {fmt(a)} -> {fmt(b)} over {v.size} logged points, "
                        f"steps {int(steps[0])}-{int(steps[-1])} ({cite_series(s)})", int(steps[0]))


def _heldout_rises(run: Run) -> Established | None:
    s = _heldout_loss(run)
    if s is None:
        return None
    steps, v = s.finite()
    if v.size < 3:
        return None
    i = int(np.argmin(v))
    if i > v.size - 3:
        return None
    floor = max(abs(float(v[i])), 1e-8)
    rise = (float(v[-1]) - float(v[i])) / floor
    # a smaller rise counts when every evaluation after the best is worse than the one before while the training
    # loss keeps falling over the same stretch: the turn of a memorising model, not one noisy evaluation
    steady = bool(np.all(np.diff(v[i:]) > 0)) and rise >= STEADY_RISE and _train_fell_after(run, int(steps[i]))
    if rise < HELDOUT_RISE and not steady:
        return None
    return _est("heldout_rises", f"the held-out loss {s.raw_name} was best at {fmt(float(v[i]))} (step "
                                 f"{int(steps[i])}) and ends at {fmt(float(v[-1]))} ({cite_series(s)})",
                int(steps[i]))


def _train_fell_after(run: Run, step: int) -> bool:
    s = loss_series(run)
    if s is None:
        return False
    ts, tv = s.finite()
    before, after = tv[ts <= step], tv[ts > step]
    return bool(before.size and after.size and float(after[-1]) < float(before[-1]))


def _gap(run: Run) -> Established | None:
    """The held-out loss at its last evaluation >= GAP x the training loss at its last logged point: the two ends of
    the run, compared as logged (trainers count the two curves' steps in different units: updates, samples, epochs,
    so the ends are what lines up)."""
    s, h = loss_series(run), _heldout_loss(run)
    if s is None or h is None:
        return None
    tv = s.finite()[1]
    hs, hv = h.finite()
    if tv.size < 3 or hv.size < 3:
        return None
    train = float(tv[-1])
    if train <= 0 or float(hv[-1]) < GAP * train:
        return None
    return _est("gap", f"the held-out loss {h.raw_name} ends at {fmt(float(hv[-1]))} (step {int(hs[-1])}), "
                       f"{float(hv[-1]) / train:.1f}x the training loss {fmt(train)} ({cite_series(h)})", int(hs[-1]))


def _unstable(run: Run) -> Established | None:
    """The training or held-out loss jumps >= SPIKE x from one logged point to the next (whether or not it comes
    back). A loss near 0 needs the jump to matter (>= 10 % of the first value) so that a converged loss's absolute
    noise (0.001 -> 0.004) is no jump."""
    for s in (loss_series(run), _heldout_loss(run)):
        if s is None:
            continue
        steps, v = s.finite()
        if v.size < 3 or float(v[0]) <= 0:
            continue
        prev, nxt = v[:-1], v[1:]
        hit = np.nonzero((prev > 0) & (nxt >= SPIKE * prev) & (nxt - prev >= 0.1 * float(v[0])))[0]
        if hit.size:
            j = int(hit[0]) + 1
            return _est("unstable", f"the {s.raw_name} jumps from {fmt(float(v[j - 1]))} to {fmt(float(v[j]))} "
                                    f"at step {int(steps[j])} ({cite_series(s)})", int(steps[j]))
    return None


def _signed_objective(v: np.ndarray) -> bool:
    """Whether a training objective goes below 0: no loss with a floor at 0 (a whole-data or weighted-negative
    objective such as ENMF's, a log-likelihood bound). "Near perfect" means a loss near its floor of 0, which such an
    objective does not have: falling to a few percent of its first value, or past 0, says nothing of how well it fits
    (issue 8, session 31: ENMF's loss falls from 0.07 to -3757 in a healthy benchmark run)."""
    return bool(v.size) and float(np.min(v)) < 0


def _too_good_early(run: Run) -> Established | None:
    s = loss_series(run)
    if s is not None:
        steps, v = s.finite()
        if v.size >= 4 and float(v[0]) > 0 and not _signed_objective(v):
            early = v[: max(2, int(np.ceil(EARLY_SHARE * v.size)))]
            hit = np.nonzero(early <= COLLAPSE * float(v[0]))[0]
            if hit.size and float(v[-1]) <= COLLAPSE * float(v[0]):
                j = int(hit[0])
                return _est("too_good_early", f"the loss fell from {fmt(float(v[0]))} to {fmt(float(v[j]))} by "
                                              f"step {int(steps[j])}, within its first {EARLY_SHARE:.0%} of "
                                              f"points ({cite_series(s)})", int(steps[j]))
    for m in heldout.task_metrics(run, min_points=2):
        if m.top is None or "acc" not in m.name.lower():
            continue
        first = m.value(float(m.error[0]))
        if first >= PERFECT * m.top:
            return _est("too_good_early", f"the held-out {m.series.raw_name} is {fmt(first)} at its first "
                                          f"evaluation (step {int(m.steps[0])}; {cite_series(m.series)})",
                        int(m.steps[0]))
    return None


def _memorised(run: Run) -> Established | None:
    """The training loss ends at <= COLLAPSE of its first value (>= 4 points) in a log with no held-out loss: a
    model that fits its training batches this closely says nothing about whether it generalises, and the log holds
    nothing to tell (docs/diagnose.md, "The differential")."""
    s = loss_series(run)
    if s is None or _heldout_loss(run) is not None:
        return None
    steps, v = s.finite()
    if v.size < 4 or float(v[0]) <= 0 or float(v[-1]) > COLLAPSE * float(v[0]) or _signed_objective(v):
        return None
    return _est("memorised", f"the loss fell from {fmt(float(v[0]))} to {fmt(float(v[-1]))} (step {int(steps[-1])}) "
                             f"and no held-out loss is logged ({cite_series(s)})", int(steps[-1]))


def established(run: Run) -> list[Established]:
    """The symptoms the log establishes, in the table's order (a NaN run is read as non-finite, not as flat)."""
    nf = _nonfinite(run)
    if nf is not None:
        return [nf]
    out = [e for e in (_diverged(run), _heldout_rises(run), _gap(run), _unstable(run), _too_good_early(run))
           if e is not None]
    if not any(e.symptom.id in ("diverged", "too_good_early") for e in out) and (m := _memorised(run)) is not None:
        out.append(m)
    if not any(e.symptom.id in ("diverged", "too_good_early") for e in out) and (fl := _flat(run)) is not None:
        out.insert(0, fl)
    return out


# ------------------------------------------------------------------------------------ what the log shows of each


def _grad(run: Run) -> np.ndarray | None:
    g = run.series("grad_norm")
    if g is None:
        return None
    v = g.finite()[1]
    return v if v.size >= 3 else None


def _lr_values(run: Run) -> np.ndarray | None:
    s = run.series("lr")
    if s is None:
        return None
    v = s.finite()[1]
    return v if v.size >= 3 else None


def _trend_z(v: np.ndarray) -> float:
    """Mann-Kendall z of a series (normal approximation, continuity-corrected; no ties correction: logged losses
    rarely tie): negative for a downward trend."""
    n = v.size
    sgn = np.sign(v[None, :] - v[:, None])
    s = float(np.triu(sgn, 1).sum())
    var = n * (n - 1) * (2 * n + 5) / 18.0
    if var <= 0 or s == 0:
        return 0.0
    return (s - np.sign(s)) / float(np.sqrt(var))


def _heldout_still(run: Run) -> str | None:
    """Why the held-out loss stands still (STILL_MIN_EVALS, STILL_SHARE), or None."""
    h = _heldout_loss(run)
    if h is None:
        return None
    v = h.finite()[1]
    if v.size < STILL_MIN_EVALS:
        return None
    same = int(np.sum(np.diff(v) == 0))
    if same < 2 or same < STILL_SHARE * (v.size - 1):
        return None
    return (f"the held-out loss {h.raw_name} repeats the evaluation before it to every printed digit {same} times "
            f"in {v.size - 1}: no update moves the weights")


def _climb_before_nan(run: Run, symptom: str) -> str | None:
    """On a non-finite loss, the climb or blow-up the log shows before it (`context.NanContext`: the loss >= 1.25x
    its minimum over >= 5 finite points, >= 10x over 3-4, >= 1000x over 2; or the loss or grad norm > 10x its earlier
    median just before the NaN), or None. A loss that climbs into the NaN is a run that diverged past representable
    numbers: steps that grew too large (an LR above its range, gradients that grew through the network, summed across
    steps or across undivided micro-batches), the causes the `diverged` row holds. The log cannot tell them apart
    without a grad norm, so each is ranked up alike and the row keeps their order; a NaN at once, with no climb,
    ranks none of them (docs/diagnose.md, "The differential")."""
    if symptom != "nonfinite":
        return None
    c = nan_context(run)
    if c is None or not c.loss_nan:
        return None
    lead = c.loss_rising or c.blowup
    return f"{lead}: steps that grew before the NaN" if lead else None


def _low_floor(c: ConfiguredLR) -> float:
    """The LR under which lr_too_low stays a candidate. With no optimiser named, the mirror of lr_too_high's rule in
    `judge`: the unknown family's floor (1e-5) is set wide so that the detectors flag only extremes, but an LR of
    1e-5..1e-3 is low for SGD and Adam alike, so only an LR at or above SGD's floor rules the candidate out."""
    lo = c.floor_reference[0]
    if c.family == "unknown":
        return max(lo, LR_REFERENCE["sgd"][0] * min(1.0, c.scale))
    return lo


def judge(run: Run, symptom: str, cause: str) -> tuple[str, str]:
    """("out" | "absent" | "seen" | "unseen", why) for one candidate of a symptom's row."""
    if cause == "fp16_overflow":
        p = training_precision(run)
        if p.half is False:
            return "out", f"not float16 ({p.evidence}): no float16 range to overflow"
        return "unseen", ""
    if cause == "grad_accum_bug":
        n, _ = accumulation_steps(run)
        if n is not None and n <= 1:
            return "out", "no gradient accumulation is configured"
        climb = _climb_before_nan(run, symptom)
        return ("seen", climb) if climb else ("unseen", "")
    if cause == "lr_too_high":
        why = lr_cleared(run)
        climb = _climb_before_nan(run, symptom)
        if why and any(c.family == "unknown" for c in configured_lrs(run)):
            # an LR with no optimiser named is only "at most 1e-3": low for SGD, the default of Adam and the top of
            # a transformer's range, and safe ranges shrink with the batch (Goyal et al. 2017): not inside a range
            return ("seen", climb) if climb else ("unseen", "")
        if why:
            return "absent", why
        return ("seen", climb) if climb else ("unseen", "")
    if cause == "lr_too_low":
        lrs = [c for c in configured_lrs(run) if c.peak_seen]
        if lrs and all(c.value >= _low_floor(c) for c in lrs):
            return "absent", "the LR is not below its optimiser's range"
        if symptom == "flat" and (s := _flat_series(run)) is not None:
            v = s.finite()[1]
            if v.size >= 4 and (z := _trend_z(v)) <= TREND_Z:
                return "seen", f"the {s.raw_name} creeps down (Mann-Kendall z {z:.1f}): slow, steady progress"
        return "unseen", ""
    if cause in ("grad_explosion", "zero_grad_missing"):
        # a logged grad norm that stays steady rules the growth out before any climb of the loss ranks it up
        g = _grad(run)
        if g is None:
            climb = _climb_before_nan(run, symptom)
            return ("seen", climb) if climb else ("unseen", "")
        q = max(1, g.size // 4)
        early, late = float(np.median(g[:q])), float(np.median(g[-q:]))
        if cause == "grad_explosion" and float(g.max()) <= EXPLODE * max(early, 1e-12):
            return "absent", f"the logged grad norm stays within {EXPLODE:.0f}x its early level"
        if cause == "zero_grad_missing" and late <= ACCUMULATE * max(early, 1e-12):
            return "absent", "the logged grad norm does not keep growing"
        climb = _climb_before_nan(run, symptom)
        return ("seen", climb) if climb else ("unseen", "")
    # a held-out loss standing still on a flat loss: an optimiser that takes no step, an LR decayed to 0 or nothing
    # trainable. Dead units and vanishing gradients still leave some weights a gradient (the output bias at least)
    # and a too-low LR still steps: for them the standstill counts neither way
    still = _heldout_still(run) if symptom == "flat" and cause in ("scheduler_misuse", "frozen_params") else None
    if cause == "scheduler_misuse":
        lr = _lr_values(run)
        if lr is not None:
            peak = int(np.argmax(lr))
            if symptom == "diverged" and np.all(np.diff(lr[peak:]) <= 0):
                return "absent", "the logged LR never rises after its peak"
            if symptom == "flat" and float(lr.min()) > 1e-2 * float(lr.max()) > 0:
                return "absent", "the logged LR never falls to near 0"
        return ("seen", still) if still else ("unseen", "")
    if cause == "frozen_params" and still:
        return "seen", still
    if cause == "overfitting" and symptom == "heldout_rises":
        s, h = loss_series(run), _heldout_loss(run)
        if s is not None and h is not None:
            hs, hv = h.finite()
            best = int(hs[int(np.argmin(hv))])
            ts, tv = s.finite()
            at = tv[ts <= best]
            if at.size and tv.size and float(tv[-1]) >= float(at[-1]):
                return "absent", "the training loss did not keep falling after the held-out best"
        return "unseen", ""
    return "unseen", ""


def candidates(run: Run, findings: list[Finding]) -> list[Finding]:
    """Differential candidates (detector "differential", numbers["differential"] = the symptom) for the causes of
    each established symptom that no finding weighs, best first. Empty for a run with no symptom; on odd input
    that breaks a symptom's reading, empty with a warning on the run (the detectors' diagnosis still stands)."""
    import warnings

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _candidates(run, findings)
    except Exception as e:  # noqa: BLE001 - the differential must never sink a diagnosis
        if os.environ.get("TRAINDOC_DEBUG"):
            raise
        run.warnings.append(f"differential failed: {type(e).__name__}: {e}")
        return []


def _candidates(run: Run, findings: list[Finding]) -> list[Finding]:
    weighed = {f.cause for f in findings}
    # what the causes with findings already explain: the share left to the rest of a symptom's row
    scores, _ = explain_away(aggregate(findings), findings)
    left = 1.0 - max(scores.values(), default=0.0)
    per_cause: dict[str, list[Finding]] = {}
    for est in established(run):
        judged = [(c, *judge(run, est.symptom.id, c.cause)) for c in est.symptom.candidates]
        standing = [j for j in judged if j[1] != "out"]
        share = min(CAP, 1.0 / (len(standing) + 1))
        others = ", ".join(c.cause for c, _, _ in standing)
        for pos, (cand, status, why) in enumerate(standing):
            if cand.cause in weighed:
                continue
            factor = ABSENT if status == "absent" else SEEN if status == "seen" else 1.0
            strength = max(FLOOR, min(CAP, share * factor) * left)
            ev = [est.evidence,
                  f"differential: {est.symptom.what} is commonly caused by {others}; nothing in the log points to "
                  f"{cand.cause} specifically (it would show as: {cand.telling})"]
            if status == "absent":
                ev.append(f"ranked down: {why}")
            elif status == "seen":
                ev.append(f"ranked up: {why}")
            per_cause.setdefault(cand.cause, []).append(
                Finding(DETECTOR, cand.cause, strength, f"differential candidate for a symptom: {est.symptom.what}",
                        ev, est.step, {"differential": est.symptom.id, "telling": status, "row_position": pos}))
    return sorted((_combined(fs) for fs in per_cause.values()),
                  key=lambda f: (-f.strength, f.numbers["row_position"]))


def _combined(fs: list[Finding]) -> Finding:
    """One candidate on several symptoms' rows explains them all, where each other candidate explains one: its
    shares add up as independent evidence does (the noisy-or of ranking.aggregate), never past CAP."""
    fs = sorted(fs, key=lambda f: -f.strength)
    if len(fs) == 1:
        f = fs[0]
        f.strength = round(f.strength, 4)
        return f
    strength = min(CAP, 1.0 - float(np.prod([1.0 - f.strength for f in fs])))
    ev = [e for f in fs for e in f.evidence]
    symptoms = [str(f.numbers["differential"]) for f in fs]
    return Finding(DETECTOR, fs[0].cause, round(strength, 4),
                   f"differential candidate for {len(fs)} symptoms: " + "; ".join(f.summary.split(": ", 1)[1]
                                                                                  for f in fs),
                   list(dict.fromkeys(ev)), fs[0].step,
                   {"differential": symptoms[0], "symptoms": symptoms, "telling": fs[0].numbers["telling"],
                    "row_position": min(int(f.numbers["row_position"]) for f in fs)})
