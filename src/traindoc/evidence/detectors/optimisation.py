"""Optimisation-dynamics detectors: one rule per function, thresholds justified where they are set."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.context import (
    ANY_VOCAB_NATS,
    BLOW_UP,
    LATE_EPOCH,
    LR_REFERENCE,
    accumulation_steps,
    cite_config,
    cite_series,
    config_number,
    configured_lrs,
    continued_from,
    divergence,
    family_name,
    fine_tune,
    first_epoch,
    first_nonfinite,
    fix_site,
    format_like,
    framework_optimizer,
    loss_series,
    mid_run,
    nan_context,
    near_boundary,
    optimizer_family,
    progress,
    rows_are_epochs,
    run_length,
    spikes,
)
from traindoc.evidence.finding import Finding
from traindoc.evidence.geometric_start import geometric_from_start
from traindoc.evidence.grad_total import total_grad_norm
from traindoc.evidence.growth import compounding_growth
from traindoc.evidence.heldout import still_improving, task_metrics
from traindoc.evidence.nan_box import box_only_total
from traindoc.evidence.nan_grads import finite_grads
from traindoc.evidence.nan_inputs import inputs_first
from traindoc.evidence.nan_prior import after_one_update, lr_cleared, lr_first, rose_into_nan
from traindoc.evidence.nan_terms import confined_terms, terms_blown_up
from traindoc.evidence.precision import training_precision
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run

# A rise that gives back less than this share of the fall from the first logged loss to the minimum leaves the run
# with >= 3/4 of its progress: a rebound (minibatch noise on a small loss, a late overfit, a data-order effect), not
# the divergence of a step size beyond the stable range, which undoes training (Goodfellow et al. 2016, §11.4.1:
# an LR too large makes gradient descent increase the training error). Real-library healthy runs rebound by
# 10-13 % of their fall, the divergences of the real-world logs by 40 % to many times it.
REBOUND = 0.25




def _first_stretch(mask: np.ndarray, n: int) -> int | None:
    """Index where the first run of n consecutive True values starts, or None."""
    count = 0
    for i, m in enumerate(mask):
        count = count + 1 if m else 0
        if count == n:
            return i - n + 1
    return None


def _given_back(loss, d) -> float:
    """Share of the fall (first logged loss -> minimum) that the rise to the end gave back; inf for a non-finite end
    or a curve that never fell. >= 1: the loss ended above where it started."""
    _, v = loss.finite()
    if v.size == 0 or not np.isfinite(d.end_value):
        return math.inf
    head = float(np.median(v[:max(1, v.size // 10)]))
    fall = head - d.min_value
    return (d.end_value - d.min_value) / fall if fall > 0 else math.inf


# The grad norm at the end of a sustained loss rise is at least this many times its value where the loss was
# lowest: the same ratio as a grad-norm spike above (5x the previous block's median; healthy runs bump 3x), here
# reached while the loss climbs rather than in one isolated step
GRAD_GROWTH = 5.0


def _grad_grows_with_loss(g, d) -> str | None:
    """Why the grad norm grew with a sustained loss rise (for the evidence), or None. The loss and the gradient
    rising together, every logged grad norm after the loss minimum above its value there and the last one
    GRAD_GROWTH x it, is the iterates leaving the basin: past the stable step size (sharpness above 2/LR) the
    oscillation along the sharpest direction grows each step and the gradient with it (Cohen et al. 2021, "Gradient
    Descent on Neural Networks Typically Occurs at the Edge of Stability"; Lewkowycz et al. 2020). A harder data
    stretch or a late overfit raises the loss, not a grad norm growing 5x with it."""
    if g is None:
        return None
    st, v = g.finite()
    if st.size < 4:
        return None
    at = int(np.searchsorted(st, d.min_step, side="right")) - 1
    if at < 0 or v[at] <= 0:
        return None
    after = v[at + 1:]
    if after.size < 2 or not bool((after > v[at]).all()) or float(after[-1]) < GRAD_GROWTH * float(v[at]):
        return None
    return (f"the grad norm grew with the loss, from {fmt(float(v[at]))} at step {int(st[at])} (the loss minimum) to "
            f"{fmt(float(after[-1]))} at step {int(st[-1])}, {float(after[-1]) / float(v[at]):.3g}x, above its value "
            f"there at every point between: the updates are leaving the basin, a step size past the stable range")


# Consecutive rises of an epoch-mean training loss, ending at its last row, that make a sustained climb. Epoch means
# of a run that is not getting worse are exchangeable noise around a flat or falling trend at worst: CLIMB_RISES
# rises in a row put the last CLIMB_RISES + 1 rows in increasing order, which such noise does with probability
# 1/(CLIMB_RISES + 1)! = 1/720 (runs up and down, Wald & Wolfowitz 1940); a falling trend makes it rarer still. A
# rebound (one bad epoch, a data-order effect) goes back down within that span; gradient descent whose step is
# past the stable range raises the training error it is minimising epoch after epoch (Goodfellow et al. 2016,
# §11.4.1: an LR too large makes the training error increase). Per-step losses and running averages are left out:
# a running mean drifts up for many rows after one bad batch, so only rows that are each an epoch's are read.
CLIMB_RISES = 5
CLIMB_STRENGTH = 0.6


def _epoch_climb(run: Run, loss, d) -> str | None:
    """Why the epoch-mean training loss climbs for good (for the evidence), or None: its last CLIMB_RISES + 1 rows,
    all after its minimum, strictly increasing, each row an epoch's, and the training accuracy (where logged) falling
    over the same rows (a loss that rises while the fit improves is the model's confidence, not the optimiser)."""
    st, v = loss.finite()
    if v.size < CLIMB_RISES + 2 or v.size != len(loss.values) or not rows_are_epochs(run, st):
        return None
    tail, tst = v[-(CLIMB_RISES + 1):], st[-(CLIMB_RISES + 1):]
    if int(tst[0]) < d.min_step or not bool((np.diff(tail) > 0).all()):
        return None
    acc, fell = run.series("accuracy"), False
    if acc is not None:
        ast, av = acc.finite()
        inside = av[(ast >= tst[0]) & (ast <= tst[-1])]
        if inside.size >= 2 and float(inside[-1]) >= float(inside[0]):
            return None
        fell = inside.size >= 2
    return (f"the epoch-mean training loss rose at each of the last {CLIMB_RISES} epochs ({fmt(float(tail[0]))} at "
            f"step {int(tst[0])} -> {fmt(float(tail[-1]))} at step {int(tst[-1])})"
            + (" while the training accuracy fell" if fell else "")
            + f": noise orders {CLIMB_RISES + 1} epochs so one time in 720, the optimiser is undoing the fit "
              f"{cite_series(loss)}")


def _instability_evidence(run: Run) -> tuple[list[str], int | None, float, dict]:
    """Symptoms of an unstable optimisation: grad-norm spikes, loss divergence, NaN after a blow-up.
    Returns evidence strings, the first step, a 0..1 severity and numbers."""
    ev: list[str] = []
    sev = 0.0
    first: int | None = None
    nums: dict = {}
    # >= 5x the previous block's median: smaller bumps (3x) occur in healthy runs of the zoo and of HF/Lightning,
    # the seed's spike is 22x (45.2 vs 2.0)
    gs = spikes(run, "grad_norm", ratio_min=5.0)
    g = run.series("grad_norm")
    if gs and g is not None:
        top = max(gs, key=lambda s: s.value / s.median)
        ev.append(f"grad_norm spiked to {fmt(top.value)} at step {top.step} (median {fmt(top.median)}) "
                  f"{cite_series(g)}")
        b = near_boundary(run, top.step)
        if b:
            ev.append(f"the spike follows the switch to curriculum stage '{b[1]}' at step {b[0]}")
            nums["stage_boundary"] = b[0]
        first = gs[0].step
        # a spike alone is moderate evidence (healthy LLM runs have recovered spikes, PaLM §5.1)
        sev = max(sev, min(0.6, 0.3 + 0.05 * math.log2(top.value / top.median)))
        nums.update(grad_spike_step=top.step, grad_spike_value=top.value, grad_median=top.median,
                    grad_spikes=len(gs))
    d = divergence(run, "loss")
    loss = loss_series(run)
    if d is not None and d.nonfinite_step is not None and (
            inputs_first(run) is not None or confined_terms(run) is not None or box_only_total(run) is not None
            or finite_grads(run) is not None):
        # the held-out loss went NaN first through finite weights (evidence/nan_inputs.py), or some loss terms stay
        # finite through it (evidence/nan_terms.py, evidence/nan_box.py): inputs or a term's op made it, not a step
        # size, so the NaN is no divergence here; so does a grad norm finite through it (evidence/nan_grads.py)
        d = None
    if d is not None and loss is not None:
        if d.nonfinite_step is not None:
            ev.append(f"loss became non-finite at step {d.nonfinite_step} after reaching {fmt(d.min_value)} "
                      f"{cite_series(loss)}")
            if (blown := terms_blown_up(run)) is not None:
                ev.append(f"{blown[0]} stays finite through the NaN at {fmt(blown[2])}, {blown[2] / blown[1]:.0f}x "
                          f"its median {fmt(blown[1])} before it: the terms diverged first (evidence/nan_terms.py)")
            sev = max(sev, 0.6)
        else:
            rise = f"{d.rise + 1:.3g}x" if d.rise >= 9 else f"{d.rise:.0%}"
            low = "fell to {} by" if d.min_step > int(loss.steps[0]) else "was {} at"
            ev.append(f"loss {low.format(fmt(d.min_value))} step {d.min_step} then rose {rise} to "
                      f"{fmt(d.end_value)} (rising from step {d.onset_step}) {cite_series(loss)}")
            # a rise that rests on one or two logged points (the last epoch of ten) is noise as often as a trend:
            # an engineer wants it sustained over >= 3 points before calling the run unstable
            after = int((loss.steps > d.min_step).sum())
            # ... unless the rise is an order of magnitude or more: no noise climbs 10x, one point is enough
            rise_sev = min(1.0, 0.4 + d.rise) if after >= 3 or d.rise >= 9 else 0.3
            back = _given_back(loss, d)
            climb = _epoch_climb(run, loss, d)
            if climb is not None:
                # a sustained climb of the epoch means is no rebound, however much of the fall it has given back yet
                ev.append(climb)
                nums["climb"] = True
            elif mid_run(run, loss) and d.rise < BLOW_UP - 1:
                # an excerpt that starts mid-run: its first value is no initial loss, so how much of the training the
                # rise gives back is unknown, and a rise inside it that ends above that value has not undone the
                # run; short of 10x its minimum (a blow-up at any start) it weighs as a rebound does
                ev.append("the log starts mid-run (its first loss is logged many intervals after step 0), so how "
                          "much of the training the rise gives back is unknown")
                rise_sev = min(rise_sev, 0.5)
            elif back < REBOUND and d.rise < BLOW_UP - 1:
                # the run keeps most of what it learned: a rebound, not a divergence
                ev.append(f"the rise gives back {back:.0%} of the fall from the first logged loss to the minimum: "
                          f"the run keeps most of what it learned, a rebound as often as a step size too large")
                rise_sev = min(rise_sev, 0.5)
            elif back >= 1 or d.rise >= BLOW_UP - 1:
                # the loss ended above where it started, or 10x its minimum: training was undone, not disturbed
                nums["undone"] = True
            grows = _grad_grows_with_loss(g, d) if after >= 3 and back >= REBOUND else None
            if grows:
                ev.append(grows + f" {cite_series(g)}")
                nums["grad_grows"] = True
            sev = max(sev, rise_sev)
            b = near_boundary(run, d.onset_step, 0.1)
            if b and "stage_boundary" not in nums:
                ev.append(f"the rise starts at the switch to curriculum stage '{b[1]}' at step {b[0]}")
                nums["stage_boundary"] = b[0]
        first = d.onset_step if first is None else min(first, d.onset_step)
        nums.update(loss_min=d.min_value, loss_min_step=d.min_step, loss_rise=d.rise)
    # a per-token cross-entropy (the run logs a perplexity = exp(loss)) of >= 25 nats: ln of any vocabulary is
    # below 14 (ln 1e6 = 13.8), so the model does far worse than guessing uniformly, which only a diverged model
    # does (its logits pushed to extremes); perplexity printed at a framework's cap (OpenNMT's exp(100)) is this
    # (only where perplexity = exp(loss) at the same steps: a summed cost, Marian's ce-sum, is no per-token loss)
    for pname, lname in (("ppl", "loss"), ("perplexity", "loss"), ("eval_ppl", "eval_loss")):
        ppl, ls = run.series(pname), loss_series(run) if lname == "loss" else run.series(lname)
        if ppl is None or ls is None:
            continue
        common, il, ip = np.intersect1d(ls.steps, ppl.steps, return_indices=True)
        lv, pv = ls.values[il], ppl.values[ip]
        ok = np.isfinite(lv) & (lv > 0)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            same = np.where(np.isfinite(pv), np.abs(np.log(np.maximum(pv, 1e-300)) - lv) <= 0.05 * lv, lv > 700)
        # the identity ppl = exp(loss) needs >= 3 points to rule out chance, except where the perplexity printed
        # as inf beside a loss above 709 (exp overflows float64 there): only exp of that very loss gives inf
        overflowed = bool((np.isinf(pv) & (lv > 709)).any())
        if not ((ok.sum() >= 3 or overflowed) and bool(same[ok].all())):
            continue
        # a run that climbs there mid-training shows it as a stretch of consecutive points above ln 1e6 rather than
        # as its median: three in a row, as for a sustained rise (a single batch spiking past it can be one bad batch)
        stretch = _first_stretch(ok & (lv > ANY_VOCAB_NATS), 3)
        if float(np.median(lv[ok])) >= 25 or stretch is not None:
            at = (f"at a median {fmt(float(np.median(lv[ok])))} nats" if stretch is None else
                  f"above {ANY_VOCAB_NATS:.1f} nats for 3+ consecutive points from step {int(common[stretch])}")
            ev.append(f"{ls.name} is a per-token cross-entropy ({pname} = exp of it is logged) {at}: beyond ln of any "
                      f"vocabulary (ln 1e6 = 13.8), far worse than uniform guessing, so the model diverged "
                      f"{cite_series(ls)}")
            sev = max(sev, 0.9)
            nums["undone"] = True  # worse than knowing nothing: whatever the run learned is gone
            hit = int(common[0] if stretch is None else common[stretch])
            first = hit if first is None else min(first, hit)
            break
    # what preceded a NaN (context.NanContext): a climbing loss, an LR still warming up or just raised point at
    # the LR as the NaN's cause (docs/causes.md: "NaN after a blow-up"); a blow-up is reported by the spikes above
    ctx = nan_context(run)
    if ctx is not None:
        leads = [x for x in (ctx.loss_rising, ctx.lr_rising, ctx.lr_raised) if x and x not in ev]
        if leads:
            ev.extend(leads)
            sev = max(sev, 0.9)
            first = ctx.step if first is None else min(first, ctx.step)
            nums["nan_step"] = ctx.step
    e = divergence(run, "eval_loss")
    ev_s = run.series("eval_loss")
    if e is not None and ev_s is not None and d is not None:
        ev.append(f"eval_loss rose {e.rise:.0%} from {fmt(e.min_value)} at step {e.min_step} {cite_series(ev_s)}")
    return ev, first, sev, nums



# A short climb (3-7 epoch rows, a pasted table) in which the training loss and the held-out loss both rise at every
# row from the first and end >= BLOW_UP (10x) above their first value. One curve rising 10x from its first logged
# point is below BLOW_UP_ANYWAY (1000x, context._blow_up) and could be one odd batch or a reader's mix-up; two curves
# measured apart (the epoch's training batches and a separate held-out pass) each climbing an order of magnitude,
# with no fall before it, is the minimal evidence an engineer accepts that training diverged from its start: no
# minibatch noise moves a loss 10x (context.BLOW_UP), and overfitting raises the held-out loss while the training
# loss falls. The textbook first reading is a step size past the stable range (Goodfellow et al. 2016, §11.4.1).
SHORT_CLIMB_ROWS = (3, 7)
# The row counts `progress` leaves unread (it needs 8 points): 3-7 rows, the short epoch histories.
SHORT_ROWS = (3, 8)


def _short_climb(run: Run) -> tuple[str, int] | None:
    """(evidence, step) for a short training and held-out loss that both climb >= 10x from their first row, no NaN."""
    loss, held = loss_series(run), run.series("eval_loss")
    if loss is None or held is None or mid_run(run, loss):
        return None
    out = []
    for s in (loss, held):
        st, v = s.finite()
        if not SHORT_CLIMB_ROWS[0] <= v.size <= SHORT_CLIMB_ROWS[1] or v.size != len(s.values):
            return None
        if float(v[0]) <= 0 or not bool((np.diff(v) > 0).all()) or float(v[-1]) < BLOW_UP * float(v[0]):
            return None
        out.append((s, st, v))
    (ls, lst, lv), (hs, _, hv) = out
    return (f"the training loss ({fmt(float(lv[0]))} -> {fmt(float(lv[-1]))}, {lv[-1] / lv[0]:.3g}x) and the held-out "
            f"loss ({fmt(float(hv[0]))} -> {fmt(float(hv[-1]))}, {hv[-1] / hv[0]:.3g}x) both rose at every one of "
            f"their first {lv.size} rows, with no NaN: training diverged from its start, the first reading a step "
            f"size beyond the stable range {cite_series(ls)}", int(lst[1]))


# A loss that climbs into a NaN in an excerpt that starts in epoch LATE_EPOCH or later (a whole epoch or more ran
# before the log began) with no blow-up and no LR change before it: the climb shows the run was not stable right
# before the NaN, and the late start shows it was stable at the same LR for at least an epoch before that. The two
# pull against each other, as in nan_prior.rose_into_nan (a late excerpt whose loss rose into the NaN at a stated LR
# nothing clears: the LR first at the prior's level, docs/diagnose.md "A NaN with no lead"), so the LR is read the
# same way here: listed first at that level, not confirmed (0.75 would make a log that states no LR at all more
# confident than one that states an LR nothing clears). An LR warming up or raised, a 10x blow-up, or a stated LR
# above its range keep their own, stronger readings. Real log: kvfrans/variational-autoencoder#5 (epoch 427 on, the
# VAE's latent (KL) loss 191 -> 58,515 in one epoch, then NaN; an epsilon of 1e-8 in a log, not the LR).
LATE_CLIMB_STRENGTH = 0.55


def _late_climb(run: Run) -> str | None:
    """Why a climbing-loss lead to a NaN stays unconfirmed (the note above), or None."""
    ctx = nan_context(run)
    if (ctx is None or not ctx.loss_rising or ctx.blowup or ctx.lr_rising or ctx.lr_raised or not ctx.finite_before
            or first_epoch(run) < LATE_EPOCH):
        return None
    return (f"but the log starts in epoch {first_epoch(run)}: at least one whole epoch ran at this LR without "
            f"diverging before the climb, so the LR is listed first, not confirmed")


def _unexplained_nan(run: Run, lrs: list) -> tuple[float, str, int | None] | None:
    """(strength, evidence, step) for a NaN that nothing in the logs explains and no known LR range clears.

    A training loss that turns NaN for good with no blow-up, no LR information and no stated precision cannot be
    told apart from the logs (detect_nan_inf lists an unguarded op and fp16 overflow at 0.35 each). An LR too high
    for the run is the commonest of those readings and the first remedy an engineer tries, so it is listed beside
    them, never confirmed: 0.55 where it is the first reading (evidence/nan_prior.py: an early NaN, nothing stated);
    0.45 from the first logged point (the data first, detect_nan_from_start; the LR next, at the cap of a candidate
    never confirmed: that loss is already an average over updates in most trainers); 0.3 where a stated float16
    precision puts overflow first or the loss was steady for many points before it. An LR that clears it (inside a
    named optimiser's range, or <= 1e-3 for any), or a stated bf16/fp32 precision with an unguarded op as the
    reading, rule it out here.
    """
    if lr_cleared(run) is not None:
        return None
    ctx = nan_context(run)
    evts = [e for e in run.events if e.tag in ("nan_loss", "nan_inf")]
    if ctx is not None and (not ctx.loss_nan or ctx.recovers or ctx.lr_lead):
        return None  # a skipped update (loss scaler), or a NaN the instability evidence already reads
    if inputs_first(run) is not None:
        return None  # the held-out loss went NaN first through finite weights (evidence/nan_inputs.py)
    if confined_terms(run) is not None:
        return None  # some loss terms stay finite through the NaN: finite weights (evidence/nan_terms.py)
    if box_only_total(run) is not None:
        return None  # the box term alone made the total's NaN: finite weights (evidence/nan_box.py)
    if after_one_update(run) is not None:
        return None  # NaN one update after a finite loss: no step size does that (evidence/nan_prior.py)
    if finite_grads(run) is not None:
        return None  # the grad norm stays finite through the NaN: finite weights (evidence/nan_grads.py)
    if ctx is None and not evts:
        return None
    half = training_precision(run).half
    if half is False:
        return None
    step = ctx.step if ctx is not None else evts[0].step
    where = f"at step {step}" if step is not None else f"({evts[0].message[:80]})"
    what = ("no LR is stated for a known optimiser" if not lrs else
            "the LR is stated for no named optimiser, so no reference range clears it")
    from_start = ctx is not None and ctx.from_start and not half
    strength = 0.55 if lr_first(run) else 0.45 if from_start else 0.3
    why = (f"the loss went non-finite {where} with no blow-up before it and {what}: an LR too high is the commonest "
           f"reading of an unexplained NaN, listed beside an unguarded op and fp16 overflow, which the logs cannot "
           f"tell apart")
    if strength == 0.55 and (rose := rose_into_nan(run)) is not None:
        why += f"; {rose}"  # the LR first although the run ran long at it (evidence/nan_prior.py: rose_into_nan)
    return strength, why, step


# catalogued lines in which a trainer reports its training loss non-finite (ingest/catalogue.py)
NAN_GUARD_TAGS = ("nan_loss", "inf_loss")


def _task_improving(run: Run) -> str | None:
    """How a held-out task metric (accuracy, AUC, BLEU, WER ...) is still improving at the end of the run, or None:
    its error at the end materially below its first evaluation's, the end no turn away from its best
    (heldout.still_improving)."""
    for m in task_metrics(run):
        got = still_improving(m, int(m.steps[0]))
        if got is not None:
            return f"{m.name} improves from {fmt(m.value(got[0]))} to {fmt(m.value(got[1]))}"
    return None


def detect_lr_too_high(run: Run) -> list[Finding]:
    """LR above its optimiser's reference range, made a cause when the run shows instability.

    The LR alone is weak evidence (many runs train well above a reference), so strength is <= 0.45 without a
    symptom; a 10x excess is strong on its own (docs/causes.md: lower by a factor of 2-10 is the usual fix).
    For a NaN (issue 8): the LR above its range, a loss climbing before it, an LR still warming up or raised make
    it the LR's; a stack's default optimiser (HF -> AdamW) is an assumption, not evidence: a run that trains without
    a blow-up is judged against the wide range, and an LR above only the assumed family's range is a candidate,
    except in a fine-tune of a pretrained model, which runs the default (docs/diagnose.md, "Framework defaults").
    """
    lrs = configured_lrs(run)
    sym, first, sev, nums = _instability_evidence(run)
    geo = geometric_from_start(run)
    if geo is not None:
        sym.append(f"the loss grew by one constant factor ({geo.per_point:.3g}x per point) at every one of "
                   f"{geo.points} log points from the first, {geo.factor:.3g}x in all, with no learning first: "
                   f"gradient descent past its stable step multiplies the loss by the same factor each update "
                   f"(LeCun et al. 1998, Efficient BackProp §5) {cite_series(loss_series(run))}")
        sev, nums["geometric"], nums["undone"] = max(sev, 0.6), True, True
        first = geo.first_step if first is None else min(first, geo.first_step)
    short = _short_climb(run) if geo is None else None
    if short is not None:
        sym.append(short[0])
        sev, nums["short_climb"], nums["undone"] = max(sev, 0.6), True, True
        first = short[1] if first is None else min(first, short[1])
    prog = progress(run, "loss")
    named = run.config_value("muon_lr") is not None or any(
        isinstance(run.meta.get(k), str) for k in ("optimizer", "optim", "optimizer_name")) or any(
        cv is not None and isinstance(cv.value, str) for cv in (run.config_value(k) for k in KEYS["optimizer_name"]))
    default, ft = framework_optimizer(run), fine_tune(run)
    stated: list[str] = []
    if not named and default is not None and ft is not None:
        # a fine-tune on the HF Trainer (LLaMA-Factory, TRL, axolotl, the PEFT and transformers example scripts)
        # picks its optimiser by TrainingArguments.optim, and one that names none runs the default: an optimiser
        # object passed in code, which leaves the default in doubt, is the from-scratch experimenter's way
        # (docs/diagnose.md, "Framework defaults")
        named = True
        stated = [f"the run names no optimiser: it fine-tunes a pretrained model ({ft.why}), so it runs {default[1]}"]
    if not named and default is not None and not stated:
        # the family judged below is the framework's default, an assumption the evidence states (fastai -> Adam)
        stated = [f"the run names no optimiser: {default[1]}"]
    assumed: list[str] = []
    loss_s = loss_series(run)
    lv = loss_s.finite()[1] if loss_s is not None else np.array([])
    # trained well: the end of the run at most half its first loss, and never 3x above it on the way (no blow-up)
    learned = lv.size >= 8 and lv[0] > 0 and float(np.median(lv[-max(2, lv.size // 10):])) <= 0.5 * lv[0] \
        and float(lv.max()) <= 3 * lv[0]
    if not named and learned:
        # the family is only the stack's default (HF Trainer -> AdamW): a run that halves its loss without a blow-up
        # at an LR far above that family's range is evidence that it runs another optimiser (a custom one passed in
        # code), so the LR is judged against the wide range of an unknown optimiser instead
        # (an LR inside the assumed family's range is low for any common optimiser: that family still clears it)
        high = [c.value > c.reference[2] * 1.25 and c.family != "unknown" for c in lrs]
        assumed = [f"the run does not name its optimiser and trains without a blow-up (loss {fmt(float(lv[0]))} -> "
                   f"{fmt(float(lv[-1]))}): {family_name(c.family)}, the stack's default, is not assumed"
                   for c, h in zip(lrs, high, strict=True) if h]
        lrs = [dataclasses.replace(c, family="unknown") if h else c for c, h in zip(lrs, high, strict=True)]
    above = [c for c in lrs if c.value > c.reference[2] * 1.25]
    ctx = nan_context(run)
    # what preceded a NaN that stays (a skipped-update NaN that recovers is the loss scaler's): a climbing loss, an
    # LR still warming up or just raised, a blow-up (context.NanContext) are the LR's signature (issue 8)
    nan_lead = ctx is not None and not ctx.recovers and bool(ctx.lr_lead)
    if above and ctx is not None and ctx.loss_nan and not ctx.recovers and "nan_step" not in nums:
        # a NaN with the LR above its range is the LR's before anything else, even a NaN from the first logged
        # point (an LR far too high diverges within the first updates, before the first log line)
        sym.append(f"the loss went non-finite at step {ctx.step} with the LR above its reference range")
        sev = max(sev, 0.6)
        first = ctx.step if first is None else min(first, ctx.step)
        nums["nan_step"] = ctx.step
    guard = next((e for e in run.events if e.tag in NAN_GUARD_TAGS), None)
    last_loss = int(loss_s.finite()[0][-1]) if lv.size else None
    if guard is not None and guard.step is not None and last_loss is not None and guard.step < last_loss:
        guard = None  # training went on after it: a batch skipped, not a run stopped
    if above and guard is not None and (ctx is None or not ctx.loss_nan) and "nan_step" not in nums:
        # the trainer's own guard stopped on a NaN/Inf it never logged as a value (fastText's EncounteredNaNError,
        # "Loss is nan, stopping training"), after the last finite loss: the same symptom as a non-finite logged
        # loss that stays, read the same way
        sym.append(f"the trainer reported a non-finite loss ({guard.message.strip()[:80]}) with the LR above its "
                   f"reference range")
        sev = max(sev, 0.6)
        if guard.step is not None:
            first = guard.step if first is None else min(first, guard.step)
            nums["nan_step"] = guard.step
    if above and lv.size >= 8 and lv[0] > 0 and not mid_run(run, loss_s):
        # the first updates overshoot: the loss climbs to >= 3x its first logged value within the first 10 % of the
        # points (a loss that starts high and falls is initialisation; one that rises at once is the step size)
        k = max(3, lv.size // 10)
        j = int(np.argmax(lv[:k]))
        if j > 0 and lv[j] >= 3 * lv[0]:
            st_l = loss_s.finite()[0]
            sym.append(f"the loss rose from {fmt(float(lv[0]))} to {fmt(float(lv[j]))} by step {int(st_l[j])}, "
                       f"{lv[j] / lv[0]:.3g}x its first value: the first updates overshoot {cite_series(loss_s)}")
            sev = max(sev, 0.6)
            first = int(st_l[j]) if first is None else min(first, int(st_l[j]))
    moved_little = above and not sym and prog is not None and prog < 0.1
    # A history too short for `progress` (3-7 rows, each an epoch's mean: no minibatch noise to see through) is asked
    # the stricter question instead, as the short lr_too_low rule is: did its last row end at or above its first? A
    # model that learns anything at its LR lowers its epoch mean from the first epoch to the last; one whose last
    # epoch is no better than its first made no progress over the whole run (realworld
    # g1s33-ayush-dl-keras-adam-lr0.1-dying-relu-acc-falls: Adam at 0.1, 1.47 -> 1.36 -> 1.57, accuracy 0.51 -> 0.35).
    short_stuck = (above and not sym and prog is None and loss_s is not None and SHORT_ROWS[0] <= lv.size
                   < SHORT_ROWS[1] and lv.size == len(loss_s.values) and lv[0] > 0 and float(lv[-1]) >= float(lv[0])
                   and not mid_run(run, loss_s) and continued_from(run) is None)
    moved_little = moved_little or short_stuck
    if short_stuck:
        prog = float((lv[0] - lv[-1]) / lv[0])
    improving = _task_improving(run) if moved_little else None
    if improving is not None:
        assumed.insert(0, f"the loss moved little, but {improving}: the run is learning, not stuck")
    elif moved_little and loss_s is not None:
        # "loss stuck well above what the model reaches at a normal LR" (docs/causes.md). A loss that moves little
        # while a held-out task metric is still improving at the end is no stuck run: a loss near its floor from
        # the first logs (a click-through model's cross-entropy at 0.13) has little left to fall, and what the model
        # learns shows on the task (evidence/heldout.py); the LR is then weighed alone, as below
        sym.append(f"loss decreased only {max(prog, 0):.1%} over the run {cite_series(loss_s)}")
        sev = 0.5
    if above and not sym and loss_s is None:
        # no loss logged, only an accuracy that never leaves chance (not_learning.never_learned: a constant one, or
        # one at ~1/k at every evaluation): the same stuck run as above, seen through its predictions; an LR far
        # above its range is the first reading of a run that never learns (the flat row of docs/diagnose.md, "Runs
        # that do not learn"), weighed as the stuck loss is
        from traindoc.evidence.detectors.not_learning import never_learned  # not_learning imports this module

        nl = never_learned(run)
        if nl is not None and nl.k_source == "accuracy":
            sym.append(f"{nl.evidence[0]}: the run never left chance")
            sev = 0.5
            first = nl.first_step if first is None else min(first, nl.first_step)
    ev: list[str] = []
    sites = []
    ratio = 0.0
    for c in above:
        lo, ref, hi = c.reference
        r = c.value / ref
        ratio = max(ratio, c.value / hi)
        name = c.cv.key.rsplit(".", 1)[-1] if c.cv else f"lr ({c.group})"
        ev.append(f"{name}={format_like(c.cv.text if c.cv else None, c.value)} is {r:.3g}x the reference "
                  f"{format_like(c.cv.text if c.cv else None, ref)} for {family_name(c.family)}{c.batch_note()} "
                  f"{cite_config(c.cv)}")
        sites.append(fix_site(c.cv, format_like(c.cv.text if c.cv else None, ref), key=f"lr.{c.group}"))
    # (a NaN that puts the LR first is read so even beside the divergence line its own non-finite point adds)
    lone_nan = _unexplained_nan(run, lrs) if not above and (not sym or lr_first(run)) else None
    if lone_nan is not None:
        sym.append(lone_nan[1])
        first = lone_nan[2]
    if not above and not sym:
        return []
    if above and sym:
        strength = min(1.0, 0.55 + 0.15 * math.log2(max(ratio, 1.0)) + 0.3 * sev)
        clip, clip_cv = _clip_config(run)
        if clip == 0 and clip_cv is not None and all(
                c.value <= LR_REFERENCE.get(c.family, LR_REFERENCE["unknown"])[2] * 1.25 for c in above):
            # above only the ceiling lowered for a small batch, with gradient clipping switched off: the blow-up is
            # the one clipping exists to stop (Pascanu et al. 2013), and the lowered ceiling is a prediction (SGD
            # with clipping trains word LMs at lr 20 on batches of 20, Zaremba et al. 2014). The LR is listed; the
            # switched-off clipping is the located cause (grad_explosion)
            ev.append(f"gradient clipping is off ({clip_cv.key}={clip_cv.text or clip_cv.value}) and the LR is "
                      f"inside {family_name(above[0].family)}'s range before batch scaling: the LR is a candidate "
                      f"beside the missing clipping")
            strength = min(strength, 0.45)
    elif above:
        # the LR alone, with a run that shows no instability: a risk, not a diagnosis, unless it is an order of
        # magnitude out (the zoo's no_warmup run trains fine at 4x with a warmup; HF's lr=0.1 is 33x)
        # a ceiling lowered for a small batch is a prediction that a run training without instability contradicts:
        # the LR alone is weighed against the batch-free range (the scaled one still names it in the evidence)
        ratio = min(ratio, max(c.value / LR_REFERENCE.get(c.family, LR_REFERENCE["unknown"])[2] for c in above))
        if ratio < 10:
            strength = min(0.35, 0.2 + 0.15 * math.log10(max(ratio, 1.0)))
        else:
            strength = min(0.7, 0.45 + 0.25 * math.log10(ratio / 10))
        if all(c.family == "unknown" for c in above):
            # an optimiser the run never names: plain SGD with clipping trains word LMs at lr 20 (PyTorch's
            # word_language_model default), so with no symptom the value alone stays a candidate
            ev.append("the optimiser is not named and the run shows no instability: an LR this high is normal for "
                      "some (SGD with clipping on language models runs at 20), so a candidate, not a cause")
            strength = min(strength, 0.45)
    else:
        # instability with the LR in range or unknown: lr_too_high stays a candidate (the most common cause of a
        # divergence a priori) but never a confident one without the LR itself as evidence
        # an LR known to be in range for a *known* optimiser makes lr_too_high unlikely; an unknown family's
        # wide range says little, so it counts as no LR information
        # for a NaN with nothing leading into it, an LR of an unnamed optimiser low enough for any of them clears
        # it too (evidence/nan_prior.py)
        lone = ctx is not None and ctx.loss_nan and not ctx.recovers and not nan_lead
        in_range = any(c.family != "unknown" for c in lrs) or (lone and lr_cleared(run) is not None)
        strength = (0.2 if in_range else 0.15) + (0.15 if in_range else 0.4) * sev
        if not in_range and nums.get("grad_grows") and not nums.get("undone"):
            # the loss and the grad norm rising together: the divergence of a step size beyond the stable range
            # (_grad_grows_with_loss), weighed as training undone is (the same +0.1, never both: one divergence)
            sym.append("the loss rose back with the grad norm growing 5x+ beside it: the first reading is a step size "
                       "beyond the stable range")
            strength += 0.1
        if not in_range and nums.get("undone"):
            # the loss ended above its first value, 10x its minimum or beyond any vocabulary: a step size beyond the
            # stable range is the textbook reading of training undone (an op failing gives NaN, not a climb; missing
            # zero_grad and exploding gradients, its look-alikes, are named by their own evidence)
            sym.append("the loss undid the training (it ended above its first value, 10x its minimum or beyond any "
                       "vocabulary): the first reading is a step size beyond the stable range")
            strength += 0.1
        if not in_range and (nums.get("geometric") or nums.get("short_climb")):
            # a loss multiplied by one factor from the first update (geometric_from_start), or a training and a
            # held-out loss that both climb 10x from the first epoch (_short_climb), with no LR range to clear the
            # LR: read as the epoch climb is, a step size beyond the stable range first
            strength = max(strength, CLIMB_STRENGTH)
        if not in_range and nums.get("climb"):
            # the training loss climbing epoch after epoch (_epoch_climb) with no LR range to clear the LR: the
            # textbook reading of a step size past the stable range, weighed as a NaN with the LR above its range is
            # (severity 0.6); a known optimiser's range that clears the LR leaves it at the in-range level above
            sym.append("the training loss climbed at every one of the last epochs with no known LR range to clear "
                       "the LR: the first reading is a step size beyond the stable range")
            strength = max(strength, CLIMB_STRENGTH)
        if nan_lead and not in_range:
            # a NaN right after the loss climbed or while the LR was still rising, with no reference to clear the
            # LR: the divergence is the LR's until something else is shown (Goyal et al. 2017 warm up because the
            # full LR diverges early; a loss that climbs into a NaN is a divergence, not an op failing)
            sym.append("the NaN followed a climbing loss or a rising LR, and no known LR range clears the LR: the "
                       "LR is the first suspect")
            late = _late_climb(run)
            if late is not None:
                sym.append(late)
            strength = max(strength, LATE_CLIMB_STRENGTH if late is not None else 0.75)
        if lone_nan is not None:
            if lone_nan[0] >= strength:
                # nothing but the unexplained NaN speaks for the LR: a look-alike listing beside the op and fp16
                # overflow (_unexplained_nan: "listed, never confirmed"), calibrated with the listings and kept below
                # the report threshold (ranking.calibrate). Fitted on the cause's own curve it crossed 0.5 as the
                # corpus grew (session 29: nine runs of other causes at 0.50-0.51, docs/diagnose.md)
                nums["listing"] = True
            strength = max(strength, lone_nan[0])
    wide_top = LR_REFERENCE["unknown"][2] * 1.25
    if above and not named and all(c.value <= wide_top for c in above):
        # above only the range of a family the run never named (the stack's default), and inside what some common
        # optimiser uses (SGD's 0.01..0.5): which optimiser ran decides, and the log does not say, so a candidate
        ev.append(f"the run does not name its optimiser: the LR is above the range of {family_name(above[0].family)}"
                  f" (the stack's default) but within SGD's; a candidate until the optimiser is known")
        strength = min(strength, 0.45)
    return [Finding(
        detector="detect_lr_too_high", cause="lr_too_high", strength=float(min(1.0, strength)),
        summary=("learning rate above the stable range for its optimiser" if above
                 else "training became unstable (spikes/divergence) with no LR information to rule it out"),
        evidence=sym + ev + (stated if above else []) + assumed[:1], step=first,
        numbers={**nums, "lr_over_reference_high": ratio, "configured_lrs": [c.value for c in lrs]},
        fix_sites=sites)]


# An early jump counts for a missing warmup only when no two later points reach half its height.
RECURS = 0.5
# A grad norm routinely stands 3x its later level in a healthy run's first steps (it falls as the loss falls); a
# loss is already a log-scale quantity (nats), so twice its settled level is a large loss of progress. Either jump is
# still checked against the rest of the run (RECURS), which is what keeps batch-to-batch noise from making one.
JUMP_RATIO = {"grad_norm": 3.0, "loss": 2.0}
# the loss after the first steps may sit this far above its first logged value (one batch) and still count as back
SETTLED = 1.25


def detect_no_warmup(run: Run) -> list[Finding]:
    """warmup = 0 (config) or a logged LR already at its peak at the first step, plus an early jump.

    Early jump: the max of loss or grad norm in the first 5 % of steps (>= 5 points) is >= 3x the median of the
    next 20 % (the run partially recovers; 2x for the loss, JUMP_RATIO), the pattern of docs/causes.md's 'large
    jumps in the first steps', and no two points after the first 5 % reach half its height above that median (a jump
    that recurs is the whole run's instability, or batch noise).
    """
    wv, wcv = config_number(run, *KEYS["warmup_steps"])
    wr, wrcv = config_number(run, *KEYS["warmup_ratio"])
    no_warm_cfg = (wv is not None and wv == 0) and not (wr is not None and wr > 0)
    lr = run.series("lr") or run.series("lr/muon") or run.series("lr/adam")
    logged_flat_start = False
    if lr is not None and len(lr) >= 10 and not mid_run(run, lr):
        # (an LR log that starts mid-run shows the LR after any warmup: its first value is no step-0 LR)
        _, v = lr.finite()
        if v.size >= 10 and v.max() > 0:
            logged_flat_start = bool(v[0] >= 0.9 * v.max())
    if not no_warm_cfg and not (logged_flat_start and wv is None):
        return []
    ev: list[str] = []
    if no_warm_cfg and wcv is not None:
        ev.append(f"{wcv.key.rsplit('.', 1)[-1]}={wcv.text or wcv.value}: full LR from the first step "
                  f"{cite_config(wcv)}")
    elif lr is not None:
        ev.append(f"logged LR is already {fmt(float(lr.values[0]))} at step {int(lr.steps[0])} "
                  f"(its peak is {fmt(float(np.nanmax(lr.values)))}) {cite_series(lr)}")
    jump = 0.0
    jump_step = None
    loss_jump = False
    recurs: list[str] = []
    jumped: list[str] = []
    for name in ("grad_norm", "loss"):
        s = run.series(name)
        if s is None or len(s) < 40 or mid_run(run, s):
            continue  # (an excerpt that starts mid-run has no first steps to jump in)
        st, v = s.finite()
        n = v.size
        k = max(5, n // 20)
        if n < 4 * k:
            continue
        early = v[:k]
        ref = float(np.median(v[k: k + max(5, n // 5)]))
        if ref <= 0:
            continue
        r = float(early.max()) / ref
        if name == "loss" and ref > SETTLED * float(early[0]):
            # warmup changes the first steps only: at a sound LR the run is back at its first loss or below once they
            # are over; a loss that settles well above where it started was damaged by the LR itself (lr_too_high's
            # 'training undone'), so no early jump is the warmup's
            recurs.append(f"the loss settles at {fmt(ref)} after the first steps, above its first value "
                          f"{fmt(float(early[0]))}: the LR undoes training beyond the first steps {cite_series(s)}")
            continue
        # a *jump*: the early max is >= 2x the very first value too (grad norms and losses that simply start
        # high and fall are normal initialisation, not a missing warmup)
        if r >= JUMP_RATIO[name] and float(early.max()) >= 2 * float(early[0]):
            # only a jump *after* the first points counts (initial loss is always high): the early max must
            # not be the very first point unless the series then rises again
            i = int(np.argmax(early))
            if i == 0 and name == "loss":
                continue
            # warmup tames the first steps only (Goyal et al. 2017): a jump that recurs later at half its height
            # or more is a sample of an instability the whole run has (exploding gradients, an LR too high). It
            # recurs when it shows twice: the later height is the second highest point after the first 5 % (one
            # point is one batch: a small-batch run's grad norm has single blips at 2-3x its median, and a trained
            # model continued without warmup jumps 4-5x, docs/plan-apply-verify.md)
            # heights are measured above the settled level `ref`, so a loss that doubles is compared with the
            # later excursions of the same loss, not with its floor
            rest = v[k:]
            later = float(np.partition(rest, -2)[-2])
            if later - ref >= RECURS * (float(early.max()) - ref):
                recurs.append(f"{name} jumps as high later (twice to {fmt(later)} or more after step {int(st[k])} vs "
                              f"{fmt(float(early.max()))} early): the instability is not the first steps' "
                              f"{cite_series(s)}")
                continue
            loss_jump = loss_jump or name == "loss"
            if r <= jump:
                continue
            jump, jump_step = r, int(st[i])
            jumped.append(f"{name} jumped to {fmt(float(early.max()))} at step {jump_step}, {r:.3g}x the median "
                          f"{fmt(ref)} of the steps after {cite_series(s)}")
    if recurs:
        # one tracked quantity jumping again later shows the run's instability (a loss that settles while its grad
        # norm keeps spiking is exploding gradients, not the first steps): the early jump is not the warmup's
        jump, jump_step, loss_jump, jumped = 0.0, None, False, []
    ev += jumped
    strength = 0.3 if no_warm_cfg else 0.15
    if jump:
        strength += min(0.6, 0.3 + 0.1 * math.log2(jump))
    if not no_warm_cfg and not loss_jump:
        # no config says warmup is 0, only an LR already at its peak at the first logged point (a warmup shorter
        # than the logging interval is invisible: HF logs every 500 steps) and a grad-norm transient, which is
        # ordinary in the first steps of a healthy run: context, not a cause
        strength = min(strength, 0.35)
    elif not loss_jump and jump < 10:
        # warmup = 0 stated, but only the grad norm moved, and by less than an order of magnitude: a grad norm also
        # falls as the loss does, so its first steps stand several times above the later median in runs that train
        # well; the harm a missing warmup does is the loss jumping (Goyal et al. 2017; Liu et al. 2020, RAdam) or a
        # grad norm 10x its later level (the blow-up scale of context.NanContext), so short of that a candidate
        strength = min(strength, 0.4)
    ev += recurs
    site = fix_site(wcv, str(max(1, run_length(run) // 50)), key="warmup_steps") if wcv else \
        {"key": "warmup_steps", "after": str(max(1, run_length(run) // 50))}
    return [Finding("detect_no_warmup", "no_warmup", float(min(1.0, strength)),
                    "no learning-rate warmup: full LR from step 0", ev, jump_step,
                    {"early_jump_ratio": jump, "warmup_steps": wv}, [site])]


def _clip_config(run: Run) -> tuple[float | None, object]:
    return config_number(run, *KEYS["grad_clip"])


JUMP = 1e3  # three orders of magnitude between two log lines: no noise or healthy spike (<= ~100x, PaLM §5.1) does it


def _short_jump(run: Run, g, loss, clip: float | None, site: dict) -> Finding | None:
    """A short excerpt (< 10 grad-norm points) whose grad norm jumps >= 1000x from one log line to the next: too
    few points for growth statistics, but a thousandfold jump is an explosion on its face. 0.55, 0.65 with the loss
    jumping >= 10x at the same line; clipping on keeps it a candidate (0.4: updates stay bounded)."""
    st, v = g.finite()
    if v.size < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(v[:-1] > 0, v[1:] / v[:-1], 0.0)
    i = int(np.argmax(r))
    if r[i] < JUMP:
        return None
    step = int(st[i + 1])
    ev = [f"grad_norm jumped from {fmt(float(v[i]))} at step {int(st[i])} to {fmt(float(v[i + 1]))} at step {step} "
          f"({r[i]:.3g}x between two log lines) {cite_series(g)}: a thousandfold jump is an explosion, not noise"]
    strength = 0.55
    if loss is not None:
        ls, lv = loss.finite()
        before, at = lv[ls <= st[i]], lv[ls == step]
        if before.size and at.size and before[-1] > 0 and at[0] >= 10 * before[-1]:
            ev.append(f"the loss jumped with it, {fmt(float(before[-1]))} -> {fmt(float(at[0]))} {cite_series(loss)}")
            strength = 0.65
    if clip:
        ev.append("gradient clipping is on: the updates stay bounded, so a candidate")
        strength = 0.4
    return Finding("detect_grad_explosion", "grad_explosion", strength,
                   "the gradient norm jumps by orders of magnitude between two log lines", ev, step,
                   {"growth": float(r[i]), "clip": clip, "short_excerpt": True}, [site])


def _loss_burst(loss, st: np.ndarray, base: int, imax: int) -> tuple[float, float] | None:
    """(the loss's median between the initial gradient and the burst, its largest value within two log points of
    the burst) when that largest value is >= BLOW_UP times the median; else None."""
    if loss is None:
        return None
    ls, lv = loss.finite()
    lo, peak_step = float(st[base]), float(st[imax])
    before = lv[(ls >= lo) & (ls < peak_step)]
    hi = float(st[min(imax + 2, st.size - 1)])
    at = lv[(ls >= peak_step) & (ls <= hi)]
    if before.size < 3 or at.size == 0:
        return None
    ref, top = float(np.median(before)), float(at.max())
    return (ref, top) if ref > 0 and top >= BLOW_UP * ref else None


def detect_grad_explosion(run: Run) -> list[Finding]:
    """Grad norm grows by >= 2 orders of magnitude (late max vs early median) with no clipping configured, or
    compounds (evidence/growth.py) over >= 5 log points.

    Orders of magnitude, not sigma: a grad norm that is spiky but bounded is lr/noise; explosion is unbounded
    growth (docs/causes.md). A peak that settles back is a spike (<= 0.45; not a second departure that takes the loss
    up 10x at an in-range LR, _loss_burst); compounding growth is the explosion's
    own shape (>= 0.65); with no grad norm logged, a compounding loss is a candidate (0.55).
    """
    g = run.series("grad_norm") or run.series("grad_2.0_norm_total")
    clip, clip_cv = _clip_config(run)
    site = fix_site(clip_cv, "1.0", key="max_grad_norm") if clip_cv is not None else {"key": "max_grad_norm",
                                                                                       "after": "1.0"}
    loss = loss_series(run)
    if g is None:
        # no grad norm logged: a loss that compounds (evidence/growth.py) is the explosion seen through its effect
        # on the weights; a candidate, weaker than the grad norm's own growth
        lc = compounding_growth(*loss.finite()) if loss is not None else None
        if lc is None:
            return []
        # per-parameter norms alone (Ignite's, Lightning's grad_norm per layer) are logged but not read for the
        # growth here: their total made a summed-gradient run (zero_grad missing) read as an explosion at 1.0 on the
        # real-library corpus; the evidence says which is the case
        missing = ("only per-parameter grad norms are logged, their total is not read here" if
                   total_grad_norm(run) is not None else "no grad norm is logged to confirm it")
        ev = [f"the loss grew at every one of {lc.points} log points from step {lc.first_step} to {lc.last_step} "
              f"({lc.factor:.3g}x, {lc.per_point:.3g}x per point) {cite_series(loss)}: compounding growth, the way "
              f"exploding gradients feed back into the weights ({missing})"]
        strength = 0.35 if clip else 0.55
        if geometric_from_start(run) is not None:
            # one constant factor from the first logged point, no recurrence known: gradient descent past its stable
            # step (detect_lr_too_high reads it); exploding gradients stay a candidate, as with clipping on
            ev.append("it grows by one constant factor from the first logged point, with no learning first and no "
                      "recurrent layer named: the shape of a step past the stable range more than of gradients "
                      "growing through depth, so a candidate")
            strength = 0.35
        return [Finding("detect_grad_explosion", "grad_explosion", strength,
                        "the loss compounds step after step (no total grad norm logged)", ev, lc.first_step,
                        {"growth": lc.factor, "clip": clip, "loss_only": True}, [site])]
    if len(g) < 10:
        jump = _short_jump(run, g, loss, clip, site)
        if jump is not None:
            return [jump]
    if len(g) < 5:
        return []
    st, v = g.finite()
    nf = first_nonfinite(g)
    compounding = compounding_growth(st, v)
    if v.size < 10 and compounding is None:
        return []
    k = max(3, v.size // 10)
    early = float(np.median(v[:k]))
    imax = int(np.argmax(v))
    growth = float(v[imax]) / early if early > 0 else 0.0
    base = 0  # where the run's own early level starts (after a leading transient, below)
    lead: str | None = None
    lead_burst = False
    if compounding is None and imax == 0 and v.size > k + 1:
        # the largest norm is the first logged point: the gradient of the initialised network before (or within) its
        # first updates, with nothing before it to grow from. A fresh network's gradients are commonly its largest
        # (its loss is), so that point is no growth: the early level is read after it, and the burst, if any, is the
        # largest norm after it
        base = 1
        lead_value = float(v[imax])
        early = float(np.median(v[base:base + k]))
        imax = base + int(np.argmax(v[base:]))
        growth = float(v[imax]) / early if early > 0 else 0.0
        lead_ratio = lead_value / early if early > 0 else 0.0
        lead = (f"the largest grad norm, {fmt(lead_value)} at step {int(st[0])}, is the first logged point "
                f"({lead_ratio:.3g}x the level after it): the gradient at initialisation, not growth")
        # two departures by orders of magnitude, an initial gradient >= 100x the trained level and a later burst
        # >= 10x it (the blow-up scale of context.NanContext), are one network repeatedly leaving its range, as an
        # RNN whose recurrent gain is above 1 does (Pascanu et al. 2013); either alone is a transient
        lead_burst = lead_ratio >= 100 and growth >= BLOW_UP
    if compounding is not None:
        # measured from where the compounding starts: an early median taken inside the blow-up says nothing
        growth = max(growth, compounding.factor)
    if growth < 100 and not (nf is not None and growth >= 20) and compounding is None and not lead_burst:
        if clip == 0 and clip_cv is not None:
            # clipping explicitly off is a risk factor, not a failure: listed weakly so the fix is at hand
            return [Finding("detect_grad_explosion", "grad_explosion", 0.3,
                            "gradient clipping is off (no explosion seen in this run)",
                            [f"gradient clipping is off: {clip_cv.key}={clip_cv.text or clip_cv.value} "
                             f"{cite_config(clip_cv)}",
                             f"grad_norm stayed within {growth:.3g}x of its early median {fmt(early)} "
                             f"{cite_series(g)}"], None,
                            {"growth": growth, "early_median": early, "clip": clip, "risk_only": True},
                            [fix_site(clip_cv, "1.0")])]
        return []
    span = f"the first {k} points" if lead is None else f"the {k} points after step {int(st[0])}"
    ev = [f"grad_norm grew from a median {fmt(early)} over {span} to {fmt(float(v[imax]))} at step "
          f"{int(st[imax])} ({growth:.3g}x) {cite_series(g)}"]
    if lead is not None:
        ev.append(lead)
    if nf is not None:
        ev.append(f"grad_norm became non-finite at step {nf} {cite_series(g)}")
    strength = 0.35 + 0.1 * min(4.0, math.log10(max(growth, 10.0)) - 1)
    after = v[imax + 1:]
    settled = compounding is None and nf is None and after.size >= 3 and float(np.median(after)) <= 10 * early
    settled_at = len(ev)
    if settled:
        # the norm came back to within an order of magnitude of its early level and stayed finite: a spike that
        # settled (an LR overshoot, one bad batch), not the unbounded growth an explosion is
        ev.append(f"after the peak the grad norm settled back (median {fmt(float(np.median(after)))} over the "
                  f"{after.size} points after it): bounded, so a spike more than an explosion")
    lc = compounding_growth(*loss.finite()) if loss is not None and compounding is None else None
    if lc is not None and growth >= 100:
        # the grad norm's own record is noisy (a chaotic regime after the blow-up), but it rose two orders of
        # magnitude while the loss compounded: the same explosion, read through the loss
        ev.append(f"the loss grew at every one of {lc.points} log points from step {lc.first_step} to "
                  f"{lc.last_step} ({lc.factor:.3g}x, {lc.per_point:.3g}x per point) {cite_series(loss)}: "
                  f"compounding growth")
        strength = max(strength, 0.6)
    if compounding is not None:
        c = compounding
        ev.append(f"grad_norm grew at every one of {c.points} log points from step {c.first_step} to {c.last_step} "
                  f"({c.factor:.3g}x, {c.per_point:.3g}x per point): growth that compounds step after step, the "
                  f"signature of gradients exploding through the network (Pascanu et al. 2013), where an LR "
                  f"overshoot jumps at once and then settles or stops")
        strength = max(strength, 0.65)
    if clip is not None and clip == 0:
        ev.append(f"gradient clipping is off: {clip_cv.key}={clip_cv.text or clip_cv.value} {cite_config(clip_cv)}")
        strength += 0.3
    elif clip is None:
        strength += 0.1
    else:
        strength -= 0.2  # clipping is on: the logged pre-clip norm may grow, updates are bounded
    # the optimiser's LR is in range: explosion rather than a too-high LR
    lrs = configured_lrs(run)
    in_range = bool(lrs) and all(c.value <= c.reference[2] * 1.25 for c in lrs)
    if in_range:
        strength += 0.1
    burst_loss = _loss_burst(loss, st, base, imax) if settled and lead_burst and in_range else None
    if burst_loss is not None:
        # the spike reading is "an LR overshoot or one bad batch". Neither fits here: the LR is within its optimiser's
        # range, and the network left its range twice by orders of magnitude (the initial gradient >= 100x the
        # trained level, then this burst >= 10x it, lead_burst above), taking the loss up >= 10x with it (the
        # blow-up scale of context.NanContext). Settling back after is the cliff picture of exploding gradients
        # (Pascanu et al. 2013: the step thrown off by the cliff, then training resumes), what clipping prevents;
        # the spike's cap does not apply
        ev[settled_at] = ev[settled_at].replace(": bounded, so a spike more than an explosion", "")
        ev.append(f"the loss went from {fmt(burst_loss[0])} to {fmt(burst_loss[1])} with the burst "
                  f"({burst_loss[1] / burst_loss[0]:.3g}x) at an LR within its optimiser's range: not an LR overshoot "
                  f"or one bad batch, but a network that left its range twice (the cliff of exploding gradients)")
    elif settled:
        strength = min(strength, 0.45)
    # it fires where the norm first leaves its early range by an order of magnitude (or where compounding starts)
    onset = compounding.first_step if compounding is not None else \
        int(st[base + int(np.argmax(v[base:] > min(10 * early, float(v[imax]))))])
    return [Finding("detect_grad_explosion", "grad_explosion", float(max(0.0, min(1.0, strength))),
                    "gradient norm grows by orders of magnitude without clipping", ev, onset,
                    {"growth": growth, "early_median": early, "clip": clip}, [site])]


def detect_optimizer_misconfig(run: Run) -> list[Finding]:
    """Optimiser settings other than the LR outside their reference ranges.

    - Grokfast lambda > 5 (the largest published setting, docs/references.md: Grokfast) or alpha outside (0.5, 1);
    - Adam eps > 1e-4 (default 1e-8; Wortsman et al.: eps reaching the grad RMS stalls updates);
    - beta/momentum >= 1 (the average no longer forgets);
    - decoupled weight decay > 0.5 (published settings are 0..0.1; Grokfast's larger values are paired with
      small-LR Adam).
    """
    ev: list[str] = []
    sites = []
    strength = 0.0
    lam, lam_cv = config_number(run, *KEYS["grokfast_lambda"])
    if lam is not None and lam > 5:
        ev.append(f"grokfast_lambda={lam_cv.text or lam} is above the largest published value 5 {cite_config(lam_cv)}")
        sites.append(fix_site(lam_cv, format_like(lam_cv.text, 2.0)))
        strength = max(strength, 0.6)
    alpha, a_cv = config_number(run, *KEYS["grokfast_alpha"])
    if alpha is not None and not (0.5 <= alpha < 1):
        ev.append(f"grokfast_alpha={a_cv.text or alpha} outside [0.5, 1): the EMA does not low-pass "
                  f"{cite_config(a_cv)}")
        sites.append(fix_site(a_cv, "0.98"))
        strength = max(strength, 0.6)
    eps, e_cv = config_number(run, *KEYS["adam_eps"])
    if eps is not None and eps > 1e-4:
        ev.append(f"{e_cv.key.rsplit('.', 1)[-1]}={e_cv.text or eps} is larger than typical gradients; Adam's "
                  f"update shrinks to ~grad/eps {cite_config(e_cv)}")
        sites.append(fix_site(e_cv, "1e-8"))
        strength = max(strength, 0.6)
    for key in ("momentum", "beta1", "adam_beta1", "beta2", "adam_beta2"):
        b, b_cv = config_number(run, key)
        if b is not None and b >= 1:
            ev.append(f"{key}={b_cv.text or b} >= 1: the moving average never forgets {cite_config(b_cv)}")
            sites.append(fix_site(b_cv, "0.9" if "2" not in key else "0.999"))
            strength = max(strength, 0.7)
    wd, wd_cv = config_number(run, *KEYS["weight_decay"])
    if wd is not None and wd > 0.5 and optimizer_family(run) in ("adamw", "adam", "muon", "mugrokfast"):
        ev.append(f"weight_decay={wd_cv.text or wd} is far above the usual 0..0.1 {cite_config(wd_cv)}")
        sites.append(fix_site(wd_cv, "0.01" if not wd_cv.text or "e" not in wd_cv.text else "1e-2"))
        strength = max(strength, 0.5)
    if not ev:
        return []
    return [Finding("detect_optimizer_misconfig", "optimizer_misconfig", strength,
                    "optimiser settings other than the LR are outside their reference ranges", ev, None,
                    {"grokfast_lambda": lam, "grokfast_alpha": alpha, "eps": eps, "weight_decay": wd}, sites)]


def detect_zero_grad_missing(run: Run) -> list[Finding]:
    """Grad norm grows roughly linearly step after step: accumulated, never-cleared gradients.

    Signature: after the first few steps a straight line in step fits grad_norm with R^2 >= 0.9, the norm grows
    >= 5x, and >= 80 % of consecutive changes (on a lightly smoothed curve) are increases. Exploding gradients
    grow geometrically (a line fits log, not linear values), and healthy grad norms fall or stay level.
    """
    g = total_grad_norm(run)
    if g is None or len(g) < 20:
        return []
    st, v = g.finite()
    if v.size < 20:
        return []
    st, v = stats.downsample(st, v, 2000, "mean")
    k = max(2, v.size // 10)
    x = st[k:].astype(np.float64)
    y = v[k:]
    b, r2 = stats.slope(x, y)
    lb, lr2 = stats.slope(x, np.log(np.maximum(y, 1e-12)))
    growth = float(np.median(v[-k:])) / max(float(np.median(v[:k])), 1e-12)
    sm = stats.smooth(v, max(3, v.size // 50))
    inc = float((np.diff(sm) > 0).mean())
    if not (b > 0 and r2 >= 0.9 and growth >= 5 and inc >= 0.8):
        return []
    ev = [f"grad_norm grows linearly from {fmt(float(np.median(v[:k])))} to {fmt(float(np.median(v[-k:])))} "
          f"({growth:.3g}x; linear fit R^2={r2:.2f}, {inc:.0%} of steps increase) {cite_series(g)}"]
    strength = 0.55 + 0.2 * (r2 - 0.9) / 0.1 + (0.1 if r2 >= lr2 else -0.15)
    d = divergence(run, "loss")
    if d is not None and d.nonfinite_step is None:
        ev.append(f"loss rose {d.rise:.0%} after step {d.min_step}")
        strength += 0.1
    return [Finding("detect_zero_grad_missing", "zero_grad_missing", float(max(0.0, min(1.0, strength))),
                    "gradients accumulate across steps (never zeroed)", ev, int(st[k]),
                    {"linear_r2": r2, "log_r2": lr2, "growth": growth, "increasing_share": inc})]


def detect_zero_grad_sawtooth(run: Run) -> list[Finding]:
    """Grad norm that ramps up and falls back again and again: gradients summed over steps and cleared only now
    and then (e.g. Lightning's manual optimisation without zero_grad, cleared by the validation loop).

    Segments are cut where the norm falls below half its previous value; a *ramp* is a segment of >= 3 points
    that rises on >= 75 % of its steps and ends >= 2x where it began. Three or more ramps covering >= half the
    points fire, when the logged order matters (`_order_matters`): heavy-tailed noise draws doubling runs by
    chance, as many in shuffled order; a healthy norm falls or stays level.
    Resets at the validation cadence keep it a cause (validation clears the buffer, nothing else does); resets at
    another cadence drop it to 0.4 (the user's code clears every few steps: an accumulation loop).
    """
    g = total_grad_norm(run)
    if g is None or len(g) < 12:
        return []
    st, v = g.finite()
    if v.size < 12:
        return []
    st, v = stats.downsample(st, v, 4000, "mean")
    ramps = _ramps(v)
    covered = sum(b - a for a, b in ramps)
    if len(ramps) < 3 or covered < 0.5 * v.size or not _order_matters(v, covered):
        return []
    resets = [int(st[a]) for a, _ in ramps[1:4]]
    period = float(np.median(np.diff([st[a] for a, _ in ramps]))) if len(ramps) > 1 else None
    ev = [f"grad_norm ramps up and resets {len(ramps)} times (e.g. {fmt(float(v[ramps[0][0]]))} -> "
          f"{fmt(float(v[ramps[0][1] - 1]))}; resets at steps {', '.join(map(str, resets))}"
          f"{f', every ~{period:.0f} steps' if period else ''}): gradients accumulate between clears "
          f"{cite_series(g)}"]
    strength = min(0.85, 0.55 + 0.05 * (len(ramps) - 3))
    # who clears the buffer? Frameworks clear gradients before validating (Lightning's
    # on_validation_model_zero_grad), so a loop that never calls zero_grad resets at the validation cadence. Resets
    # at another cadence come from the user's own code clearing every N steps: an accumulation loop that steps
    # on every micro-batch (grad_accum_bug, detectors/accumulation.py), so this reading drops below 0.5.
    cadence = _validation_cadence(run)
    at_validation = None
    if period and cadence:
        tol = max(0.15 * cadence, 0.5 * float(np.median(np.diff(st))))
        at_validation = abs(period - cadence) <= tol
        aligned = _resets_at_validation(run, [(int(st[a - 1]), int(st[a])) for a, _ in ramps[1:]])
        if at_validation and aligned is not None and aligned < RESETS_AT_VALIDATION:
            # a median period near the cadence is not enough: if validation is what clears the buffer, the resets
            # fall where validation ran, one by one (Lightning's on_validation_model_zero_grad; nothing else
            # clears). Resets of their own schedule (an accumulation loop's every k micro-batches) drift across
            # the evaluations and meet one only now and then
            ev.append(f"only {aligned:.0%} of the resets fall in a logging interval where validation ran (every "
                      f"~{cadence:.0f} steps): the buffer is cleared on a schedule of its own")
            at_validation = False
        at_epoch = _resets_at_epoch_starts(run, [(int(st[a - 1]), int(st[a])) for a, _ in ramps[1:]])
        if at_validation and at_epoch is not None and at_epoch >= EPOCH_START_SHARE:
            # validation at each epoch's end: the resets fall where an epoch also starts, and a loop that clears
            # every k micro-batches by its batch index (`if batch_idx % k == 0: zero_grad()`, k >= the epoch's
            # length) clears there too. The log cannot tell the two clears apart (a step or two between them), so
            # neither reading is confirmed: listed, above the accumulation reading (0.4), since one missing call
            # is a simpler fault than an accumulation factor that happens to equal the epoch. Resets that follow
            # validation away from the epoch's start (validation mid-epoch) stay a confirmed zero_grad_missing.
            ev.append(f"the resets follow the validation cadence (every ~{cadence:.0f} steps), and {at_epoch:.0%} "
                      f"of them fall where an epoch starts too: validation clears the gradients of a loop that "
                      f"never does, and so does a loop that clears them at each epoch's start (accumulation by "
                      f"batch index); check the loop")
            strength = min(strength, AT_EPOCH_START)
        elif at_validation:
            ev.append(f"the resets follow the validation cadence (every ~{cadence:.0f} steps): validation clears "
                      f"the gradients, nothing else does")
        else:
            ev.append(f"the resets (every ~{period:.0f} steps) do not follow validation (every ~{cadence:.0f}): "
                      f"the code clears the buffer every few steps itself, as an accumulation loop does")
            strength = 0.4
    return [Finding("detect_zero_grad_sawtooth", "zero_grad_missing", strength,
                    "gradients are summed across steps and cleared only occasionally", ev, int(st[ramps[0][0]]),
                    {"ramps": len(ramps), "ramp_coverage": covered / v.size, "period": period,
                     "validation_cadence": cadence, "at_validation": at_validation})]


# If validation is the only thing that clears the buffer, every reset follows a validation; ramp cuts on a noisy
# norm can add a spurious reset or two, so three in four (not all) must meet a validation. Resets of another
# schedule meet a validation by chance at the share of logging intervals that hold one (dt / cadence: one in six for
# a norm logged every 5 steps and validation every 30), far below it.
RESETS_AT_VALIDATION = 0.75


def _resets_at_validation(run: Run, resets: list[tuple[int, int]]) -> float | None:
    """The share of resets, each known to lie in a logging interval [previous logged step, step], whose interval
    holds an evaluation step (eval_loss); None without evaluations or resets. Both ends count: whether the logged
    step's gradient was taken before or after that step's validation is not in the log."""
    e = run.series("eval_loss")
    if e is None or not resets:
        return None
    es = np.asarray(e.steps, dtype=np.float64)
    hits = sum(bool(np.any((es >= lo) & (es <= hi))) for lo, hi in resets)
    return hits / len(resets)


AT_EPOCH_START = 0.45  # below the report threshold: the validation clear and an epoch-start clear read alike
EPOCH_START_SHARE = 0.5  # most resets (half or more) fall in a logging interval where an epoch starts


def _resets_at_epoch_starts(run: Run, resets: list[tuple[int, int]]) -> float | None:
    """The share of resets, each known to lie in a logging interval (after, at] of steps, whose interval meets one
    where the logged epoch's integer part steps up (an epoch starts somewhere in (previous logged step, step]); None
    without an epoch series that crosses an epoch boundary or without resets."""
    e = run.series("epoch")
    if e is None or not resets:
        return None
    es, ev = e.finite()
    if ev.size < 2:
        return None
    fl = np.floor(ev + 1e-9)
    up = np.flatnonzero(fl[1:] > fl[:-1]) + 1
    if not up.size:
        return None
    starts = [(int(es[i - 1]), int(es[i])) for i in up]
    hits = sum(any(a < d and c < b for c, d in starts) for a, b in resets)
    return hits / len(resets)


def _ramps(v: np.ndarray) -> list[tuple[int, int]]:
    """The sawtooth's ramps in `v`: segments cut where the norm falls below half its previous value, kept when
    they rise on >= 75 % of their >= 3 points and end >= 2x where they began (or, with resets at a regular
    interval, rise on >= 60 %, start at their minimum and peak >= 2.5x higher)."""
    cuts = [0] + (np.flatnonzero(v[1:] < 0.5 * v[:-1]) + 1).tolist() + [v.size]
    # resets at a regular interval (validation every N steps, epoch ends) allow noisier ramps: >= 60 % rises,
    # the segment starts at its minimum and peaks >= 2.5x higher; irregular resets need the strict form
    gaps = np.diff(cuts[1:-1]) if len(cuts) > 3 else np.array([])
    periodic = gaps.size >= 2 and float(np.std(gaps)) <= 0.35 * float(np.mean(gaps))
    ramps = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        seg = v[a:b]
        if seg.size < 3 or seg[0] <= 0:
            continue
        rises = float((np.diff(seg) > 0).mean())
        strict = rises >= 0.75 and seg[-1] >= 2 * seg[0]
        loose = periodic and rises >= 0.6 and seg[0] <= 1.05 * seg.min() and seg.max() >= 2.5 * seg[0]
        if strict or loose:
            ramps.append((a, b))
    return ramps


# A permutation test of the sawtooth against its own values in random order: a norm that is pure noise (one
# parameter's gradient, a tiny batch) draws doubling 3-point runs by chance, as many in shuffled order as in the
# logged one; gradients summed between clears draw ramps that shuffling destroys. The sawtooth counts only when
# at most 1 of 199 shuffles (seeded: the same answer on every machine) covers as many points with >= 3 ramps,
# p = (b + 1) / (N + 1) <= 0.01 for b shuffles as extreme out of N (Phipson & Smyth 2010).
_SHUFFLES = 199
_P_SAWTOOTH = 0.01


def _order_matters(v: np.ndarray, covered: int) -> bool:
    rng = np.random.default_rng(0)
    beaten = 0
    for _ in range(_SHUFFLES):
        r = _ramps(rng.permutation(v))
        if len(r) >= 3 and sum(b - a for a, b in r) >= covered:
            beaten += 1
            if (beaten + 1) / (_SHUFFLES + 1) > _P_SAWTOOTH:
                return False
    return True


def _validation_cadence(run: Run) -> float | None:
    """Median steps between evaluations (eval_loss), None with fewer than three."""
    e = run.series("eval_loss")
    if e is None or len(e) < 3:
        return None
    return float(np.median(np.diff(e.steps)))


def detect_grad_accum_bug(run: Run) -> list[Finding]:
    """Training loss off from eval loss by ~ the accumulation factor k (loss not divided, or divided twice).

    With k >= 2 configured, median(train)/median(eval) over the same steps within 25 % of k or 1/k. Healthy runs
    have train/eval within a factor ~1.5 (dropout, overfitting), so a factor 2+ that matches k is telling.
    """
    k, kcv = accumulation_steps(run)
    loss, ev_s = loss_series(run), run.series("eval_loss")
    if k is None or k < 2 or loss is None or ev_s is None:
        return []
    _, lv = loss.finite()
    _, evv = ev_s.finite()
    if lv.size < 5 or evv.size < 2:
        return []
    r = float(np.median(lv[-max(3, lv.size // 4):])) / max(float(np.median(evv[-max(2, evv.size // 4):])), 1e-12)
    for target, how in ((k, "multiplied"), (1 / k, "divided")):
        if abs(r / target - 1) < 0.25:
            return [Finding("detect_grad_accum_bug", "grad_accum_bug", 0.75,
                            f"training loss is {how} by the accumulation factor",
                            [f"train/eval loss ratio {r:.3g} ~ gradient accumulation {int(k)} "
                             f"{cite_config(kcv)} {cite_series(loss)}"], None,
                            {"train_eval_ratio": r, "accumulation": k})]
    return []


# Training that stops improving while a warmup is still raising the LR, and never improves again: the reading of an
# LR range test (Smith 2017, "Cyclical learning rates for training neural networks", section 3.3): a model's training
# metric improves as the LR grows until the LR passes the largest one it can use, then it stalls or gets worse. A
# warmup is such a test; a metric whose best comes while the LR is still rising, with the LR going on to >= 1.5x that
# value and the rest of the run (>= 30 % of its logged points, past the LR's peak) bringing nothing better, says the
# peak LR is beyond the usable range. Only while the model is far from trained (an accuracy under half its scale, or
# a loss not yet halved from its first value) and after it did learn first (+5 points of accuracy, or -10 % loss): a
# converged run that levels off during a warmup, or one that never learned, is not this reading.
STALL_LR_RISE = 1.5
STALL_REST = 0.3


def _training_metric(run: Run) -> tuple[str, np.ndarray, np.ndarray, bool] | None:
    """(name, steps, values, higher_is_better): the training loss, else a training accuracy (not held-out)."""
    loss = loss_series(run)
    if loss is not None:
        st, v = loss.finite()
        return loss.name, st, v, False
    for name, s in sorted(run.metrics.items()):
        low = name.lower()
        if low.startswith(("eval", "val", "test")) or "acc" not in low.rsplit("/", 1)[-1]:
            continue
        st, v = s.finite()
        if v.size and float(v.min()) >= 0.0 and float(v.max()) <= 100.0:
            return name, st, v, True
    return None


def detect_stall_during_warmup(run: Run) -> list[Finding]:
    """The training metric's best comes while the warmup still raises the LR; after it nothing improves while the
    LR climbs >= 1.5x further (module comment above: an LR range test reading)."""
    lr, got = run.series("lr"), _training_metric(run)
    if lr is None or got is None:
        return []
    lst, lv = lr.finite()
    name, st, v, higher = got
    if lv.size < 8 or v.size < 10 or float(lv.max()) <= 0:
        return []
    peak = float(lv.max())
    w = int(np.argmax(lv >= 0.99 * peak))
    if w < 3 or float(lv[0]) > 0.5 * peak or bool((np.diff(lv[: w + 1]) < -1e-9 * peak).any()):
        return []  # no warmup: the LR does not rise monotonically to its peak from at most half of it
    g = stats.smooth(v if higher else -v, max(3, v.size // 20))
    b = int(np.argmax(g))
    at = np.searchsorted(lst, st[b], side="right") - 1
    if at < 0 or st[b] >= lst[w]:
        return []  # the best came after the warmup (or before any LR was logged)
    lr_b = float(lv[at])
    rest = v.size - 1 - b
    if lr_b <= 0 or peak < STALL_LR_RISE * lr_b or rest < STALL_REST * v.size or st[-1] <= lst[w]:
        return []
    best, start = (float(g[b]), float(g[0])) if higher else (float(-g[b]), float(-g[0]))
    if higher:
        top = 100.0 if float(v.max()) > 1.0 else 1.0
        if best > 0.5 * top or best - start < 0.05 * top:
            return []  # nearly trained already, or never learned
    elif start <= 0 or best < 0.5 * start or start - best < 0.1 * start:
        return []
    s = run.metrics.get(name) or loss_series(run)
    cites = cite_series(s) if s.source == lr.source else f"{cite_series(s)} {cite_series(lr)}"
    ev = [f"{name} was best ({fmt(best)}) at step {int(st[b])}, while the warmup had the LR at {fmt(lr_b)}; the LR "
          f"went on rising to {fmt(peak)} ({peak / lr_b:.3g}x, step {int(lst[w])}) and in the {rest} logged points "
          f"after it {name} never improved (ends at {fmt(float(np.median(v[-max(1, v.size // 10):])))}) {cites}",
          "the LR range test's reading (Smith 2017): training improves as the LR grows until it passes the largest "
          "usable LR, then stalls; the peak LR is beyond it"]
    return [Finding("detect_stall_during_warmup", "lr_too_high", 0.5,
                    "training stopped improving while the warmup raised the LR, and never recovered", ev,
                    int(st[b]), {"lr_at_best": lr_b, "lr_peak": peak, "best": best})]


DETECTORS = [detect_lr_too_high, detect_no_warmup, detect_grad_explosion, detect_optimizer_misconfig,
             detect_zero_grad_missing, detect_zero_grad_sawtooth, detect_grad_accum_bug, detect_stall_during_warmup]

__all__ = ["DETECTORS", "LR_REFERENCE"]
