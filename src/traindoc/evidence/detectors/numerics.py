"""Numerics detectors: NaN/Inf from an unguarded op, and fp16 range overflow."""

from __future__ import annotations

import re

import numpy as np

from traindoc.evidence.context import (
    cite_config,
    cite_series,
    cite_source,
    configured_lrs,
    family_name,
    first_nonfinite,
    fix_site,
    loss_series,
    nan_context,
    nan_watch_series,
    run_length,
)
from traindoc.evidence.detectors.data import box_target_nan, detect_heldout_nonfinite
from traindoc.evidence.dof_warning import dof_reading
from traindoc.evidence.finding import Finding
from traindoc.evidence.nan_box import box_only_total
from traindoc.evidence.nan_grads import finite_grads
from traindoc.evidence.nan_inputs import inputs_first
from traindoc.evidence.nan_objective import log_objective
from traindoc.evidence.nan_prior import after_one_update, lr_cleared, lr_first, rose_into_nan, stable_before_nan
from traindoc.evidence.nan_terms import confined_terms, terms_blown_up
from traindoc.evidence.norm_eps import zero_norm_eps, zero_norm_eps_evidence
from traindoc.evidence.precision import sixteen_bit_weights, training_precision
from traindoc.evidence.scale_recovery import scale_recovered
from traindoc.evidence.skipped_warmup import skipped_warmup
from traindoc.evidence.stats import fmt
from traindoc.evidence.unmeasured_loss import unmeasured_loss
from traindoc.ingest.model import LogEvent, Run

_OVERFLOW_RE = re.compile(r"overflow|skipping step|loss scale|scaler", re.I)
# overflows that are no loss scaler's: numpy's floating-point warning ("RuntimeWarning: overflow encountered in
# matmul", float32/float64 arithmetic, e.g. scikit-learn's solvers) and Python's OverflowError (math.exp of a large
# loss for the perplexity); they say values left float range, which the non-finite readings weigh, not float16
_NOT_SCALER_RE = re.compile(r"overflow encountered in|OverflowError", re.I)


def _overflow_events(run: Run) -> list:
    return [e for e in run.events if e.tag in ("grad_overflow", "loss_scale_min", "fp16_overflow")
            or (e.tag is None and _OVERFLOW_RE.search(e.message or "") and "overflow" in e.message.lower()
                and not _NOT_SCALER_RE.search(e.message))]


def _hf_masked_nan(run: Run) -> int | None:
    """HF Trainer's NaN filter logs loss 0.0 on steps whose grad_norm is nan: a NaN, not a perfect model."""
    loss, g = run.series("loss"), run.series("grad_norm")
    if loss is None or g is None:
        return None
    bad_g = g.steps[~np.isfinite(g.values)]
    if bad_g.size == 0:
        return None
    zero_loss = set(loss.steps[loss.values == 0].tolist())
    hits = [int(s) for s in bad_g if int(s) in zero_loss]
    return hits[0] if hits else None


def _lr_above(run: Run) -> str | None:
    """The configured LR above its optimiser's reference range (the rule of detect_lr_too_high): a NaN in such a run
    is the LR's before anything else."""
    for c in configured_lrs(run):
        if c.value > c.reference[2] * 1.25:
            return (f"the LR {fmt(c.value)} is {c.value / c.reference[2]:.3g}x the top of the reference range for "
                    f"{family_name(c.family)} {cite_config(c.cv)}")
    return None


def _box_term_op(run: Run) -> list[Finding]:
    """A detector's box-regression term non-finite while its classification terms are finite, in a log with no
    training loss to watch (YOLO's `box obj cls total` table): the box targets are the first reading
    (data.detect_data_pipeline_bug, 0.45) and the box term's own op (an IoU loss without an epsilon, the log of a box
    ratio) the other; 0.35, listed beside it, since the log cannot tell a degenerate box from an op that fails on
    it (docs/diagnose.md, nan_inf row)."""
    box = box_target_nan(run)
    if box is None:
        return []
    ev = [f"non-finite from step {box.step}: the box-regression term alone goes non-finite, so its targets or its "
          f"own op (an IoU loss without an epsilon, the log of a box ratio) made it; the logs alone cannot tell "
          f"which", box.evidence[0]]
    term = run.series(str(box.numbers["term"]))
    # a NaN term is a NaN total (the backward pass runs through the sum): one still NaN at its last logged point
    # left the run non-finite (diagnosis/build.py: does_not_learn)
    stays = term is not None and not bool(np.isfinite(term.values[-1]))
    return [Finding("detect_nan_inf", "nan_inf", 0.35, "NaN/Inf appeared in a loss term", ev, box.step,
                    {"first_nonfinite_step": box.step, "box_term_only": True, "nan_recovers": not stays})]


def _heldout_only_op(run: Run) -> list[Finding]:
    """A held-out loss non-finite while the train loss stays finite throughout (data.detect_heldout_nonfinite: the
    held-out data first, 0.5): the other reading is an op on a path only evaluation takes (a padding mask built for
    batched evaluation, BatchNorm's running statistics, generation), which the inputs of the held-out pass drive to
    0/0; 0.3, listed below the data's reading, 0.2 where the train loss jumps at that evaluation (docs/diagnose.md,
    "A NaN the held-out loss shows first")."""
    held = detect_heldout_nonfinite(run)
    if not held:
        return []
    ev = [f"non-finite from step {held[0].step} in the held-out loss only: held-out inputs that hold NaN/Inf, or an "
          f"op on a path only evaluation takes (a padding mask, BatchNorm's running statistics, generation) that "
          f"they drive to 0/0; the logs alone cannot tell which", held[0].evidence[0]]
    # a train loss that jumps at that evaluation (the model leaving its range) weakens the op as it does the data
    strength = 0.2 if held[0].numbers.get("train_jump_after") else 0.3
    return [Finding("detect_nan_inf", "nan_inf", strength, "NaN/Inf appeared in the held-out loss", ev, held[0].step,
                    {"first_nonfinite_step": held[0].step, "heldout_only": True})]


# A NaN with no lead out of a KL term or an adversarial player's loss (evidence/nan_objective.py): the op ahead of
# fp16 overflow and the data (0.35 each, "cannot tell") but below OP_EVIDENCE (diagnosis/unexplained_nan.py, 0.5):
# the name of the term is a prior on where the guard goes, not an op located in the code
OBJECTIVE_OP = 0.4
# ... and the same NaN after the run was stable at its LR (evidence/nan_prior.py: stable_before_nan, STABLE_POINTS
# finite losses or a late-epoch excerpt): the LR is out, and what is left is float16 overflow, which narrows the
# range the op has but does not create the op (the guard is the fix either way), and one bad batch. The term's name
# then locates the op as finite companion terms do (confined terms, 0.5 where float16 is not stated): confirmed at
# OP_EVIDENCE (diagnosis/unexplained_nan.py). An early NaN whose LR nothing clears keeps the LR-first reading; a NaN
# from the first logged point, or one whose LR only a stated value clears, keeps OBJECTIVE_OP
OBJECTIVE_STABLE = 0.5


def _objective_reading(kind: str, lr_out: bool = False) -> str:
    term = "a KL divergence term" if kind == "KL divergence" else "an adversarial loss"
    if lr_out:
        return (f"the NaN came out of {term} with no blow-up and no LR change before it, after the run was stable at "
                f"its LR: its unguarded log (of a variance, a probability or a saturated discriminator) is the cause "
                f"to fix; float16 overflow (precision not stated) would only narrow that op's range, and one bad "
                f"batch is the remaining alternative")
    return (f"the NaN came out of {term} with no blow-up and no LR change before it: its unguarded log (of a "
            f"variance, a probability or a saturated discriminator) is the first suspect, fp16 overflow (precision "
            f"not stated) and the data the next; the logs alone cannot confirm it (an op located in the code would)")


def detect_nan_inf(run: Run) -> list[Finding]:
    """First non-finite loss or grad norm, weighed by what preceded it (evidence/context.py: NanContext).

    NaN is a symptom; this cause (an unguarded op) is a confident answer only with evidence that points at an op:
    one located in the code (detect_code_unguarded_log adds that), an autograd anomaly line naming it, or a NaN at
    once in a run whose stated precision rules fp16 out. From the logs alone:
    - a blow-up, a climbing loss, an LR still rising or just raised, or an LR above its reference: the NaN ends an
      instability (lr_too_high / grad_explosion explain it): weak;
    - NaN from the first logged step: inputs/labels first (data_pipeline_bug): weak;
    - NaN on some steps with training going on, or a NaN grad norm with a finite loss: the update was skipped
      (a dynamic loss scaler at work, fp16_overflow): weak;
    - NaN at once after finite training with none of these: an unguarded log/div/sqrt, fp16 overflow or one bad
      batch. Precision decides: bf16/fp32 stated -> 0.6 (fp16 ruled out); fp16 -> 0.3 (fp16_overflow is first);
      not stated -> 0.35, level with fp16_overflow's 0.35 and below the report threshold (no op is located, so
      neither is confirmed whatever the corpus the calibration saw), and the evidence says the logs cannot tell;
      0.25 where the LR is the first reading (evidence/nan_prior.py: an early NaN with no stated LR that clears
      it), the op being the last of the three. Out of a KL or adversarial term (evidence/nan_objective.py) the op
      comes first: 0.4, or 0.5 (confirmed, OBJECTIVE_STABLE) after a stable stretch at the run's LR.
    """
    loss, g = nan_watch_series(run), run.series("grad_norm")
    ctx = nan_context(run)
    evts = [e for e in run.events if e.tag in ("nan_loss", "nan_inf", "anomaly_nan")]
    if ctx is None and not evts:
        return _box_term_op(run) or _heldout_only_op(run)
    first = ctx.step if ctx is not None else evts[0].step
    nf_loss, nf_grad = first_nonfinite(loss), first_nonfinite(g)
    prec = training_precision(run)
    ev: list[str] = []
    if nf_loss is not None and loss is not None:
        nbad = int((~np.isfinite(loss.values)).sum())
        # a player's loss of an adversarial game is named as logged (nan_watch_series)
        name = "loss" if loss.name == "loss" else loss.raw_name or loss.name
        ev.append(f"{name} is {fmt(float(loss.values[np.searchsorted(loss.steps, nf_loss)]))} at step {nf_loss} "
                  f"({nbad} of {len(loss)} points non-finite) {cite_series(loss)}")
    if nf_grad is not None and g is not None:
        ev.append(f"grad_norm is {fmt(float(g.values[np.searchsorted(g.steps, nf_grad)]))} at step {nf_grad} "
                  f"{cite_series(g)}")
    masked = _hf_masked_nan(run)
    if masked is not None:
        ev.append(f"loss logged as 0.0 at step {masked} where grad_norm is nan: HF Trainer's NaN filter hides a "
                  f"NaN loss")
    for e in evts[:2]:
        ev.append(f"log at step {e.step}: {e.message[:120]} [{cite_source(e.source)}:{e.line}]")
    lr_above = _lr_above(run)
    if ctx is not None and (ctx.lr_lead or lr_above):
        ev.extend(ctx.lr_lead)
        if lr_above:
            ev.append(lr_above)
        reading = ("the NaN ends an instability or follows an LR above its range: the LR or exploding gradients "
                  "explain it better than an op")
        strength = 0.25
    elif ctx is not None and not ctx.loss_nan and ctx.recovers:
        reading = ("grad_norm is non-finite while the loss stays finite: the update was skipped (a loss scaler's "
                  "overflow skip), context rather than a cause")
        strength = 0.2
    elif ctx is not None and not ctx.recovers and (blown := terms_blown_up(run)) is not None:
        ev.append(f"{blown[0]} stays finite through the NaN but at {fmt(blown[2])}, {blown[2] / blown[1]:.0f}x its "
                  f"median {fmt(blown[1])} before it {cite_series(run.metrics[blown[0]])}")
        reading = ("the loss terms still finite had blown up before the others went NaN: the NaN ends a divergence "
                   "through the weights, so the LR or exploding gradients explain it better than an op")
        strength = 0.25  # as for a NaN the instability evidence reads (the lr_lead branch above)
    elif ctx is not None and not ctx.recovers and (confined := confined_terms(run)) is not None:
        reading = (f"the NaN is confined to some loss terms ({', '.join(confined.failing[:4])}) while the others "
                   f"stay finite: the weights are finite, so an op in those terms' computation makes it (a mean over "
                   f"an empty selection, a ratio with no positive sample, a log or IoU of a degenerate box), or the "
                   f"targets it reads; the op is where the guard goes either way")
        ev.append(confined.evidence)
        # the trace locates the op's term (OP_EVIDENCE, diagnosis/unexplained_nan.py): an LR too high and an applied
        # gradient overflow act through the weights and would reach every term; in a float16 run an activation
        # overflow inside the term stays possible, so the op is listed lower there
        strength = 0.35 if prec.half else 0.5
    elif ctx is not None and (box_only := box_only_total(run)) is not None:
        reading = ("the box-regression term alone went non-finite, at the step where the total did, while the "
                   "classification terms of the same forward pass stayed finite: the weights are finite, so the box "
                   "targets (a degenerate box) or the box term's own op (the log of a box ratio, an IoU without an "
                   "epsilon) made it; the logs alone cannot tell which")
        ev.append(box_only.evidence[0])
        # below the box targets' 0.45 (evidence/nan_box.py): the LR and an applied gradient overflow are out, and
        # nothing tells a degenerate box from an op that fails on it
        strength = 0.35
    elif ctx is not None and ctx.from_start:
        reading = ("non-finite from the first logged step, before anything trained: inputs or labels holding NaN, an "
                   "unguarded op the data drives to 0/0 or log 0, or a float16 overflow; the logs alone cannot tell "
                   "them apart")
        # level with data_pipeline_bug's reading of the same fact (detect_nan_from_start); below fp16 in a float16 run
        strength = 0.2 if prec.half else 0.35
        if prec.half is None and (objective := log_objective(run)) is not None:
            reading = _objective_reading(objective.kind)
            ev.append(objective.evidence)
            strength = OBJECTIVE_OP  # the op ahead of its level companions (evidence/nan_objective.py)
    elif ctx is not None and ctx.recovers:
        reading = ("non-finite on some steps while training goes on: those updates were skipped (a dynamic loss "
                  "scaler does that), so half-precision overflow or a few bad batches, not an op failing each step")
        strength = 0.35
    elif prec.half is False:
        reading = (f"the NaN came at once, with no blow-up and no LR change before it, in a run that is not float16 "
                  f"({prec.evidence}): overflow is ruled out, an unguarded log/div/sqrt (or one bad batch) is the "
                  f"first suspect")
        strength = 0.6
        if (inputs := inputs_first(run)) is not None:
            ev.append(inputs.evidence)
    elif prec.half:
        reading = (f"the NaN came at once in a float16 run ({prec.evidence}): fp16 overflow is the first suspect, "
                  f"an unguarded op the next")
        strength = 0.3
    elif (inputs := inputs_first(run)) is not None:
        reading = ("the held-out loss went non-finite first, through finite weights: some inputs make the forward "
                   "pass NaN, an op they drive to 0/0 or log 0 or NaN/Inf in the inputs themselves; the logs alone "
                   "cannot tell which (an op located in the code would)")
        ev.append(inputs.evidence)
        # level with the data's reading of the same trace (detect_heldout_nan_first), below the report threshold:
        # the LR and a gradient overflow are out, but nothing tells a 0/0 from a NaN stored in a sample
        strength = 0.35
    elif (grads := finite_grads(run)) is not None:
        reading = ("the grad norm stays finite where the loss is non-finite: the weights are finite, so no step size "
                   "made the NaN; an unguarded op some batches drive to 0/0 or log 0, or a float16 overflow in the "
                   "forward pass whose update never reached the weights, made it; the logs alone cannot tell which")
        ev.append(grads.evidence)
        # level with fp16 overflow's reading (0.35, the precision not stated): the LR is out, as for confined terms,
        # but no term or op places the NaN, so nothing confirms either (evidence/nan_grads.py)
        strength = 0.35
    elif lr_first(run):
        reading = ("the NaN came within the first logged points, with no blow-up before it, no stated precision and "
                   "no stated LR that clears it: an LR too high is the first suspect (it diverges within a few "
                   "updates, faster than a log interval), fp16 overflow the next, an unguarded log/div/sqrt the last "
                   "(it needs the code to confirm); the logs alone cannot tell them apart")
        if (rose := rose_into_nan(run)) is not None:
            # a late NaN whose loss turned up into it at a stated LR nothing clears (evidence/nan_prior.py)
            reading = (f"{rose}; no stated precision: an LR too high is the first suspect, fp16 overflow the next, "
                       f"an unguarded log/div/sqrt the last (it needs the code to confirm); the logs alone cannot "
                       f"tell them apart")
        # the op is the last of the three readings (evidence/nan_prior.py), level with fp16 overflow's 0.25 (whose
        # calibration puts it above an op's at the same strength)
        strength = 0.25
    else:
        reading = ("the NaN came at once, with no blow-up and no LR change before it: an unguarded log/div/sqrt, "
                  "fp16 overflow (the run does not state its precision) or one bad batch; the logs alone cannot "
                  "tell, so the candidates are listed below the report threshold (an op located in the code, or "
                  "the precision, would decide)")
        strength = 0.35
        cleared = lr_cleared(run)
        if cleared:
            ev.append(f"{cleared}: the LR does not explain it")
        if (objective := log_objective(run)) is not None:
            ev.append(objective.evidence)
            # a stable stretch before the NaN (evidence/nan_prior.py: stable_before_nan) puts the LR out by what the
            # run did, and the term that failed takes the log of a model output: the guard is the fix, as where
            # finite companion terms locate the failing ones (confined terms, 0.5 above). A stated LR alone
            # (lr_cleared: <= 1e-3 for an unnamed optimiser) is a weaker exclusion and keeps OBJECTIVE_OP
            stable = stable_before_nan(run)
            if stable is not None:
                ev.append(f"{stable}: the LR does not explain it")
            reading = _objective_reading(objective.kind, lr_out=stable is not None)
            strength = OBJECTIVE_STABLE if stable is not None else OBJECTIVE_OP
    anomaly = [e for e in evts if e.tag == "anomaly_nan"]
    if anomaly and not (ctx is not None and (ctx.lr_lead or lr_above)):
        # torch.autograd.detect_anomaly names the backward op that produced the NaN: the op is located
        ev.append(f"autograd anomaly detection names the op: {anomaly[0].message[:120]}")
        strength = max(strength, 0.75)
    op_warn = next((e for e in run.events if e.tag == "fp_op_warning"), None)
    if op_warn is not None and not (ctx is not None and (ctx.lr_lead or lr_above)) and \
            box_target_nan(run) is None and box_only_total(run) is None:
        # numpy names the op that made the inf/NaN ("divide by zero encountered in log": an unguarded log of 0), in a
        # run whose loss or gradients are non-finite and with nothing leading into it: the op is located, as with
        # torch's one-element std/var warning below (0.7, under anomaly detection's 0.75: the warning names an op, not
        # that its NaN is the one the loss carries); numpy computes in float64, so no float16 range is involved. Not
        # where the NaN is a detector's box term (tf-faster-rcnn#107: "invalid value encountered in log" of a negative
        # box height): the degenerate box targets feed the op there, which the box readings name
        ev.append(f"numpy warns: {op_warn.message.strip()[:120]} [{cite_source(op_warn.source)}"
                  f"{':' + str(op_warn.line) if op_warn.line else ''}]")
        strength = max(strength, 0.7)
    dof = dof_reading(run)
    if dof is not None and dof.elsewhere and not (ctx is not None and (ctx.lr_lead or lr_above)):
        # torch's own warning names an op that returns NaN by construction (a std/var over one element, unbiased:
        # n - 1 = 0), raised on a computation that is not an ACT halting variance (evidence/dof_warning.py), in a
        # run whose loss or gradients are non-finite: the op is located, as with an anomaly line (0.7, just under
        # anomaly detection's 0.75: the warning names the op, not that its NaN is the one the loss carries)
        w = dof.warnings[0]
        ev.append(f"torch warns that a std/var was taken over one element (it returns NaN), raised on "
                  f"`{(dof.source_line or '')[:100]}` [{cite_source(w.source)}{':' + str(w.line) if w.line else ''}]")
        strength = max(strength, 0.7)
    eps_cv = zero_norm_eps(run)
    if eps_cv is not None and not (ctx is not None and (ctx.lr_lead or lr_above)):
        # a normalisation whose epsilon the config sets to 0 divides by a spread that a zero-spread input makes 0
        # (evidence/norm_eps.py): the run names the op, as a dof warning's source line does (0.7, beside anomaly
        # detection's 0.75: the config names the op, not that its NaN is the one the loss carries)
        ev.append(zero_norm_eps_evidence(eps_cv))
        strength = max(strength, 0.7)
    if _overflow_events(run):
        strength -= 0.3  # fp16 overflow explains it better
    else:
        ev.append("no fp16 overflow / loss-scaler messages in the logs")
    # the reading first: it is what a one-line summary of this finding shows
    ev.insert(0, f"non-finite from step {first}: {reading}")
    total = run_length(run)
    located = eps_cv is not None and strength >= 0.5
    # PyTorch's LayerNorm/BatchNorm default epsilon (evidence/norm_eps.py): the guard the config took away
    sites = [fix_site(eps_cv, "1e-5")] if located else []
    return [Finding("detect_nan_inf", "nan_inf", float(max(0.05, min(1.0, strength))),
                    "NaN/Inf appeared in the loss or gradients", ev, first,
                    {"first_nonfinite_step": first, "preceded_by_blowup": bool(ctx and ctx.blowup),
                     "lr_lead": bool(ctx and (ctx.lr_lead or lr_above)), "nan_from_start": bool(ctx and ctx.from_start),
                     "nan_recovers": bool(ctx and ctx.recovers), "half_precision": prec.half, "run_length": total,
                     "inputs_first": inputs_first(run) is not None, "zero_norm_eps": eps_cv is not None,
                     "confined_terms": confined_terms(run) is not None,
                     "box_term_only": box_only_total(run) is not None,
                     "log_objective": log_objective(run) is not None,
                     "lr_cleared": lr_cleared(run) is not None,
                     "one_update": after_one_update(run) is not None,
                     "finite_grads": finite_grads(run) is not None}, sites)]


# Where a dynamic loss scaler's scale ends tells routine search from real overflow. fp16's largest finite value is
# 65504 (~2^16). Every scaler starts high (torch GradScaler and apex 2^16, DeepSpeed up to 2^32) and halves on each
# overflow until scaled gradients fit: a handful of "overflow, skipping step, reducing loss scale" lines early in
# a run is that search, and the run is healthy (Micikevicius et al. 2018, "Mixed Precision Training", §3.2).
# - scale <= 1 (DeepSpeed's default min_loss_scale; fairseq stops at 1e-4 with "loss is probably exploding"): the
#   unscaled gradients themselves overflow fp16; the scaler can no longer help;
# - scale < 2^8: some gradient element exceeds 65504 / 2^8 ~ 256, orders of magnitude above the per-element
#   gradients of a network that trains (<< 1): the overflow is a symptom of a real fault, not the search.
SCALE_FLOOR = 1.0
SCALE_LOW = 2.0 ** 8
# Paddle's GradScaler prints "current scale is: s, decrease to: s*0.5": the value read is s, the scale at the
# overflow, above the new one (s * decr_ratio, 0.5 by default), so a reading from it errs towards a higher (more
# benign) scale.
_SCALE_RE = re.compile(
    r"(?:reduc\w*(?: the)?(?: loss)?(?: scale)? to|loss scale to|decrease to)\s*:?\s*([0-9][0-9.]*(?:e[+-]?\d+)?)",
    re.I)
_MINIMUM_RE = re.compile(r"\bminimum\b", re.I)


def _scales(run: Run, over: list) -> list[float]:
    """Loss-scale values the scaler reported (from its messages, and a logged loss_scale series that fell)."""
    out: list[float] = []
    for e in over:
        m = _SCALE_RE.search(e.message or "")
        if m:
            try:
                out.append(float(m.group(1)))
            except ValueError:
                continue
    ls = run.series("loss_scale")
    if ls is not None:
        _, v = ls.finite()
        # a constant scale is no dynamic scaling at all (Megatron logs "loss scale: 1.0" in bf16 runs)
        if v.size >= 2 and float(v.min()) < float(v[0]):
            out.extend(float(x) for x in v if x > 0)
    return out


def _scale_drops(run: Run) -> tuple[int, int | None]:
    """Reductions in a logged loss_scale series and the step of the first: a dynamic scaler (torch GradScaler, apex,
    DeepSpeed) lowers its scale only on an overflow, so each logged drop is at least one overflow, whether or not it
    printed a message."""
    ls = run.series("loss_scale")
    if ls is None:
        return 0, None
    st, v = ls.finite()
    fell = np.nonzero(np.diff(v) < 0)[0] if v.size >= 2 else np.array([], dtype=int)
    return int(fell.size), (int(st[fell[0] + 1]) if fell.size else None)


# catalogued lines in which a trainer reports its training loss non-finite (ingest/catalogue.py)
_GUARD_TAGS = ("nan_loss", "inf_loss", "nan_inf")


def _stop_guard(run: Run) -> LogEvent | None:
    """The first trainer NaN-guard line at or after the last finite logged loss (the run stopped on it), or None;
    a guard followed by more logged losses is a skipped batch (detectors/optimisation.py reads it the same way)."""
    guard = next((e for e in run.events if e.tag in _GUARD_TAGS and e.step is not None), None)
    loss = loss_series(run)
    if guard is None or loss is None:
        return guard
    st, _ = loss.finite()
    return guard if st.size == 0 or guard.step >= int(st[-1]) else None


def detect_fp16_overflow(run: Run) -> list[Finding]:
    """Half precision overflows: the loss scale stuck at its floor or driven low, NaN with overflow messages or in
    an fp16 run, or skipping that never stops. Routine loss-scale search is reported as weak context only."""
    ev: list[str] = []
    over = _overflow_events(run)
    # overflows: the scaler's messages, or the drops of its logged scale when it prints none (NVIDIA's DLLogger
    # logs only "PARAMETER loss_scale : x")
    drops, first_drop = _scale_drops(run)
    n = max(sum(e.count for e in over), drops)
    scales = _scales(run, over)
    lowest = min(scales) if scales else None
    at_minimum = any(_MINIMUM_RE.search(e.message or "") for e in over)
    loss = nan_watch_series(run)
    nan_loss = first_nonfinite(loss) is not None
    precision = training_precision(run)
    fp16 = bool(precision.half)
    step = over[0].step if over else first_drop
    if over:
        ev.append(f"{n} overflow/skip messages, first at step {over[0].step}: {over[0].message[:100]} "
                  f"[{cite_source(over[0].source)}:{over[0].line}]")
    strength = 0.0
    # at the floor: the scaler says so, or the scale kept halving there (>= 3 overflows), or the loss went NaN;
    # one or two reductions to <= 1 with a finite loss are single skipped steps of a scaler that still copes
    # (fairseq runs for days at a scale of 0.5: its own floor is 1e-4)
    floor = lowest is not None and lowest <= SCALE_FLOOR
    if at_minimum or (floor and (n >= 3 or nan_loss)):
        ev.append(f"loss scale fell to {fmt(lowest) if lowest is not None else 'its minimum'}: the unscaled "
                  "gradients overflow fp16 (max 65504); the scaler cannot help")
        strength = 0.85
    elif floor:
        ev.append(f"loss scale at {fmt(lowest)} after {n} overflow(s) and a finite loss: gradients close to "
                  "fp16's range, but the scaler still copes; a risk to watch, not yet a cause")
        strength = 0.35
    elif lowest is not None and lowest < SCALE_LOW and n >= 2 and \
            (recovered := scale_recovered(run, scales, n)) is not None and not nan_loss:
        # the scale came back to the healthy band, few updates were lost and the run kept improving: the routine
        # search at a low point (evidence/scale_recovery.py), context as any routine search
        ev.append(recovered.evidence)
        strength = 0.2
    elif lowest is not None and lowest < SCALE_LOW and n >= 2:
        ev.append(f"loss scale driven down to {fmt(lowest)} (< 2^8): gradient elements above ~{65504 / lowest:.0f} "
                  "overflow, far beyond a healthy network's gradients")
        strength = 0.65
    elif over and nan_loss:
        ev.append("the loss went non-finite in a run whose scaler reports overflows")
        strength = 0.7
    elif over and not scales and n >= 20:
        # no scale value to read: skipping that goes on for 20+ steps is not a search that settles
        ev.append(f"{n} skipped steps: the scaler never settles")
        strength = 0.55
    elif over:
        ev.append(f"routine dynamic loss-scale search: the scale settles at {fmt(lowest)} (>= 2^8); context, not "
                  "a cause" if lowest is not None else "a few overflow messages while the scaler searches its "
                  "scale: routine, context rather than a cause")
        strength = 0.2
    if fp16 and strength >= 0.5:
        ev.append(f"the run is float16: {precision.evidence}")
        strength += 0.1
    if not over and (skipped := skipped_warmup(run)) is not None:
        # every step skipped with no scaler line in the log (evidence/skipped_warmup.py): the stated float16 reading
        # of a NaN that stays (0.65), the overflow being on every batch
        ev.append(skipped.evidence)
        strength = max(strength, 0.65)
        step = skipped.step if step is None else step
    ctx = nan_context(run)
    lead = ctx is not None and bool(ctx.lr_lead or _lr_above(run))
    if not over and ctx is not None and not ctx.recovers:
        # a NaN that stays, with no scaler messages: where the precision is known it decides (bf16/fp32 share fp32's
        # range, Kalamkar et al. 2019); where it is not, fp16 stays a candidate below the report threshold
        if fp16:
            ev.append(f"non-finite {'loss' if ctx.loss_nan else 'gradients'} from step {ctx.step} in a float16 run "
                      f"({precision.evidence}); bf16/fp32 have fp32's range")
            if lead:
                ev.append("an instability or an LR above its range came first: the overflow may be its symptom")
            strength = max(strength, 0.4 if lead else 0.65)
            step = ctx.step if step is None else step
        elif precision.half is None and not lead and (sixteen := sixteen_bit_weights(run)):
            # 16-bit weights (float16 or bfloat16: the size does not say which) and a NaN that stays with nothing
            # leading into it: float16 weights overflow (max 65504) where bfloat16's fp32 range does not, so fp16
            # overflow is a reading the log supports directly, listed with the data's (detect_nan_from_start) but
            # not confirmed over it: the format is not stated
            ev.append(f"non-finite from step {ctx.step} with no blow-up and no LR change before it, in a run whose "
                      f"weights are 16-bit: {sixteen}; in float16 they overflow (max 65504), in bfloat16 they would "
                      f"not, so fp16 overflow is a first suspect the logs cannot confirm")
            strength = max(strength, 0.45)
            step = ctx.step if step is None else step
        elif precision.half is None and not lead and (placed := _weights_stayed_finite(run, ctx.step)) is not None:
            # a float16 gradient overflow that was applied writes inf/NaN into the weights and reaches every term and
            # the train loss first; a NaN placed elsewhere leaves only an activation overflow there
            ev.append(placed)
            strength = max(strength, 0.2)
            step = ctx.step if step is None else step
        elif precision.half is None and not lead:
            ev.append(f"non-finite from step {ctx.step} with no blow-up and no LR change before it; the run does not "
                      f"state its precision: in float16 this is the range overflow (max 65504), so fp16 stays a "
                      f"candidate the logs cannot confirm")
            if (one := after_one_update(run)) is not None:
                ev.append(one)
            if (grads := finite_grads(run)) is not None:
                ev.append(grads.evidence)  # the LR is out (evidence/nan_grads.py), so fp16 is not second to it
            # an early NaN with no LR that clears it is the LR's first, fp16 next (evidence/nan_prior.py); otherwise
            # (from the first logged point too) level with an unguarded op and the data (0.35): the logs cannot tell
            strength = max(strength, 0.25 if lr_first(run) else 0.35)
            step = ctx.step if step is None else step
    guard = _stop_guard(run) if not over and ctx is None else None
    if guard is not None and precision.half is not False and not _lr_above(run):
        # the trainer's guard stopped the run on a NaN it never logged as a value ("Loss is nan, stopping training")
        # after its last finite loss: the NaN that stays of the branch above, read the same way (detect_nan_inf
        # reads the same line; docs/diagnose.md, "A NaN with no lead": a trainer's NaN guard)
        ev.append(f"the trainer stopped on a non-finite loss at step {guard.step} ({guard.message.strip()[:80]}) "
                  f"[{cite_source(guard.source)}:{guard.line}], after its last finite logged loss and with no "
                  + (f"blow-up before it, in a float16 run ({precision.evidence})" if fp16 else
                     "blow-up before it; the run does not state its precision: in float16 this is the range "
                     "overflow (max 65504), so fp16 stays a candidate the logs cannot confirm"))
        strength = max(strength, 0.65 if fp16 else 0.25 if lr_first(run) else 0.35)
        step = guard.step if step is None else step
    if not over and ctx is not None and ctx.loss_nan and ctx.recovers and not ctx.lr_lead and \
            precision.half is not False:
        # a NaN update reaches the weights and every later loss is NaN; finite losses after it mean the update
        # was skipped, which is the dynamic loss scaler of fp16 training (bf16/fp32 loops apply it). The NaN is in
        # the forward pass (the loss itself), so on those batches an activation left float16's range. In a run
        # whose precision is known to be float16 this gets the +0.1 every float16 reading above gets (0.65, as a
        # NaN that stays in a float16 run); a stated bf16/fp32 run has fp32's range and no float16 scaler, so its
        # skipped NaNs are some other guard's (a loop that skips non-finite losses), not this cause's
        ev.append(f"the loss is non-finite on some steps from step {ctx.step} yet finite again after: those "
                  "updates were skipped, as fp16's dynamic loss scaler does")
        if fp16:
            ev.append(f"the run is float16: {precision.evidence}")
        strength = max(strength, 0.65 if fp16 else 0.55)
        step = ctx.step if step is None else step
    if not ev:
        return []
    return [Finding("detect_fp16_overflow", "fp16_overflow", float(min(1.0, strength)),
                    "half-precision range exceeded", ev, step,
                    {"precision": precision.evidence, "half": precision.half, "lowest_loss_scale": lowest,
                     "overflow_messages": n, "routine_search": 0 < strength < 0.5})]



def _weights_stayed_finite(run: Run, step: int) -> str | None:
    """Why the weights were still finite at a NaN (so no float16 gradient overflow was applied), or None: the
    detector's box term alone (evidence/nan_box.py), some loss terms finite through it (evidence/nan_terms.py), the
    held-out loss non-finite first (evidence/nan_inputs.py)."""
    tail = "only an activation overflow {} fits, and the run does not state its precision"
    if (box_only := box_only_total(run)) is not None:
        return (f"non-finite from step {step} in {box_only.numbers['term']} alone: the classification terms of the "
                f"same forward pass stay finite, so the weights are finite and no float16 gradient overflow was "
                f"applied; " + tail.format("inside the box term"))
    if (confined := confined_terms(run)) is not None:
        return (f"non-finite from step {step}, but {', '.join(confined.finite[:3])} stay finite through it: the "
                f"weights are finite, so no float16 gradient overflow was applied; "
                + tail.format("inside " + ", ".join(confined.failing[:3])))
    if (inputs := inputs_first(run)) is not None:
        return (f"non-finite from step {step}, but {inputs.metric} went non-finite first (step {inputs.step}) "
                f"through finite weights: a float16 gradient overflow would have reached the train loss first; "
                + tail.format("on some inputs"))
    return None


# A ~0 training loss that the training accuracy beside it contradicts (evidence/unmeasured_loss.py): the loss stopped
# measuring the model. Float16 (an epsilon or a probability that underflows, max precision ~1e-3 near 1) and an op
# whose NaN the loop reports as 0 are listed level with a loss over no targets (detectors/data.py, UNMEASURED_DATA):
# 0.35 each, the level of readings the log cannot tell apart (as for a NaN with no lead); a stated float16 puts the
# range first (0.65, as a NaN in a float16 run), a stated bf16/fp32 crosses float16 off
UNMEASURED = 0.35
UNMEASURED_FP16 = 0.65


def detect_unmeasured_loss(run: Run) -> list[Finding]:
    """The training loss ~0 while the training accuracy logged with it is under 0.5 (evidence/unmeasured_loss.py):
    an op whose output underflows, or a NaN the loop reports as 0, listed as a numerical reading of a loss that
    stopped measuring the model (float16's reading is detect_unmeasured_loss_fp16)."""
    um = unmeasured_loss(run)
    if um is None:
        return []
    return [Finding("detect_unmeasured_loss", "nan_inf", UNMEASURED,
                    "the loss is ~0 while the training accuracy says the model predicts badly",
                    [um.evidence, "an op whose output underflows to 0, or a NaN the loop reports as 0, leaves a loss "
                     "that no longer measures anything; the logs cannot tell it from float16 or a loss over no "
                     "targets"], int(um.accuracy.steps[0]), {"unmeasured_loss": True})]


def detect_unmeasured_loss_fp16(run: Run) -> list[Finding]:
    """The same contradiction (evidence/unmeasured_loss.py) read as float16's: 0.35 where the precision is not
    stated, 0.65 in a stated float16 run, nothing in a stated bf16/fp32 one (fp32's range and resolution)."""
    um = unmeasured_loss(run)
    prec = training_precision(run)
    if um is None or prec.half is False:
        return []
    fp16 = bool(prec.half)
    why = (f"the run is float16 ({prec.evidence}): its resolution (~1e-3 near 1, nothing under ~6e-8) underflows a "
           "loss's epsilon and its probabilities" if fp16 else
           "the run does not state its precision: in float16 a loss's epsilon (1e-7) and probabilities near 1 "
           "underflow (resolution ~1e-3 near 1), which leaves a loss of 0 and no gradient")
    return [Finding("detect_unmeasured_loss_fp16", "fp16_overflow", UNMEASURED_FP16 if fp16 else UNMEASURED,
                    "the loss is ~0 while the training accuracy says the model predicts badly",
                    [um.evidence, why], int(um.accuracy.steps[0]), {"unmeasured_loss": True, "half": prec.half})]


DETECTORS = [detect_nan_inf, detect_fp16_overflow, detect_unmeasured_loss, detect_unmeasured_loss_fp16]
