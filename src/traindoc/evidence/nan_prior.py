"""Which cause a NaN points at first when nothing before it leads anywhere (issue 8; docs/diagnose.md, "A NaN with
no lead").

A loss that turns NaN for good with no blow-up, no climbing loss and no LR change before it (evidence/context.py:
NanContext) leaves an LR too high, fp16 overflow and an unguarded log/div/sqrt as readings the log cannot tell
apart. What an experienced engineer answers such a thread with is not a coin toss: "lower the LR" first (a step
beyond the stable range diverges within a few updates, Lewkowycz et al. 2020, faster than a log interval), "are you
in fp16?" where half precision may be on, an unguarded op last, because it needs the code to confirm. Two things a
log can show overturn that prior:
- the LR is stated and low enough to clear it (`lr_cleared`): inside its optimiser's range, or at most 1e-3 when the
  optimiser is not named (the wide range's reference, a third of Adam's ceiling of 3e-3, the lowest ceiling of
  the common optimisers: SGD's is 0.5, Muon's 0.05), or logged as exactly 0 at every point up to the first
  non-finite one (a warmup that starts at 0, a schedule stuck at 0): no update has moved the weights, so the NaN
  came out of the forward or backward pass itself, never out of a step size;
- the loss was logged steady for STABLE_POINTS or more points before the NaN, none of them climbing: the run was
  stable at its LR, and a NaN out of a steady loss is the signature of a range overflow or of one bad batch;
- or the log is an excerpt whose first finite line is already in epoch LATE_EPOCH or later (`epoch 4, iter 8`): at
  least one whole epoch (whether the count starts at 0 or 1), far more updates than STABLE_POINTS log lines, ran at
  that LR without diverging before the log begins;
- some loss terms stay finite at every step where the total is non-finite (`evidence/nan_terms.py`), or a
  detector's box term alone made the total's NaN (`evidence/nan_box.py`): the weights are finite, so no step size
  made the NaN;
- the grad norm is logged finite at the steps where the loss is non-finite (`evidence/nan_grads.py`): NaN weights
  would make every gradient NaN, so the weights are finite and no step size made the NaN;
- the loss was logged finite at one step and non-finite at the very next (`after_one_update`): one update lies
  between them. One update does not take weights out of fp32's range (max ~3.4e38) at any LR in use: Adam's first
  step moves each weight by about the LR whatever the gradient (bias-corrected m/sqrt(v) ~ +-1, Kingma & Ba 2015,
  §2.1), SGD's by LR x gradient, and a too-large step raises the loss it does not make NaN. An LR too high diverges
  by compounding over updates (the loss grows for several steps before it overflows, Lewkowycz et al. 2020), so
  a NaN one update in comes from that update's own gradient being non-finite (an op) or from a float16 range
  overflow, the LR out.
Neither present: the LR comes first (`lr_first`), listed beside the others, never confirmed from the log alone.
A stable stretch or a late excerpt is overturned in turn when the run states an LR that nothing clears and the loss
rose into the NaN (`rose_into_nan`): the run was not stable at its LR right before it, and a loss that turns up and
then overflows at an LR above every range that could clear it is the LR's trace (wav2letter's tutorial at lr 0.1,
its per-epoch loss up 11 % the epoch before inf), not a precision the run never states.
"""

from __future__ import annotations

from traindoc.evidence import stats
from traindoc.evidence.context import (
    LATE_EPOCH,
    configured_lrs,
    family_name,
    first_epoch,
    fmt_lr,
    nan_context,
    nan_watch_series,
)
from traindoc.evidence.nan_box import box_only_total
from traindoc.evidence.nan_grads import finite_grads
from traindoc.evidence.nan_inputs import inputs_first
from traindoc.evidence.nan_terms import confined_terms
from traindoc.evidence.precision import training_precision
from traindoc.ingest.model import Run

LR_CLEAR_ANY = 1e-3
# finite logged losses before the NaN that show a stable stretch: the blow-up test (context.NanContext) wants 5
# points of history to set a median; 8 is that plus the 3 of its climbing-loss test, so a loss this steady has been
# checked for both leads and shown neither
STABLE_POINTS = 8
# A rise into the NaN: the last finite loss is the highest of the last RISE_WINDOW finite ones (the climbing-loss
# test's history, context.CLIMB_POINTS) and >= RISE_INTO x their minimum. 10 % is the step-to-step noise level of a
# logged training loss that context.NanContext cites (smdebug's Overfit flags a 10 % rise); it is below that test's
# 25 % lead because it never confirms anything: it only takes away the stable-stretch exclusion, and only where a
# stated LR is above every range that could clear it (lr_cleared is None), so that the LR is ranked first among
# readings the log cannot tell apart, at the LR-first prior's level (below the report threshold)
RISE_INTO = 1.10
RISE_WINDOW = 5


def lr_cleared(run: Run) -> str | None:
    """Why every configured LR rules out an LR too high (for the evidence), or None when one does not or none is
    stated. A known optimiser's range is scaled to the run's batch (context.ConfiguredLR.reference)."""
    lrs = configured_lrs(run)
    if not lrs:
        return _zero_lr_until_nan(run)
    why = []
    for c in lrs:
        hi = c.reference[2] if c.family != "unknown" else LR_CLEAR_ANY
        if c.value > (hi * 1.25 if c.family != "unknown" else hi):
            return None
        where = (f"inside the range of {family_name(c.family)} (top {fmt_lr(hi)})" if c.family != "unknown"
                 else f"at most {fmt_lr(LR_CLEAR_ANY)}, low for every common optimiser")
        why.append(f"the LR {fmt_lr(c.value)} is {where}")
    return "; ".join(why)


def _zero_lr_until_nan(run: Run) -> str | None:
    """Why a logged LR of 0 at every point up to the first non-finite loss or grad norm rules an LR too high out."""
    ctx = nan_context(run)
    lr = run.series("lr")
    if ctx is None or lr is None:
        return None
    steps, vals = lr.finite()
    upto = vals[steps <= ctx.step]
    if upto.size == 0 or bool((upto != 0).any()):
        return None
    return (f"the logged LR is 0 at every point up to the first non-finite one (step {ctx.step}): no update had moved "
            f"the weights, so no step size produced it")


def rose_into_nan(run: Run) -> str | None:
    """Why the run was not stable at its LR right before a NaN that stays (for the evidence), or None: an LR is stated
    (configured or logged) and nothing clears it (`lr_cleared`), and the last finite loss before the NaN is the
    highest of the last RISE_WINDOW finite ones and >= RISE_INTO x their minimum (module docstring)."""
    ctx = nan_context(run)
    loss = nan_watch_series(run)
    if ctx is None or loss is None or not ctx.loss_nan or ctx.recovers or ctx.finite_before < 2:
        return None
    lrs = configured_lrs(run)
    if not lrs or lr_cleared(run) is not None:
        return None
    st, v = loss.finite()
    prior = v[st < ctx.step][-RISE_WINDOW:]
    if prior.size < 2 or float(prior.min()) <= 0:
        return None
    last, low = float(prior[-1]), float(prior.min())
    if last < float(prior.max()) or last < RISE_INTO * low:
        return None
    return (f"the loss rose from {stats.fmt(low)} to {stats.fmt(last)} just before the NaN at step {ctx.step}, with "
            f"the LR {fmt_lr(max(c.value for c in lrs))} stated and above every range that would clear it: the run was "
            f"not stable at its LR")


def stable_before_nan(run: Run) -> str | None:
    """Why the run shows itself stable at its LR before a NaN that stays with no lead (for the evidence), or None:
    STABLE_POINTS or more finite losses before it, or an excerpt whose first epoch marker names epoch LATE_EPOCH or
    later with finite losses before the NaN (a whole epoch or more ran at that LR without diverging). The converse
    of `lr_first`'s stable-stretch tests; behaviour, not a stated value (`lr_cleared` reads the stated LR)."""
    ctx = nan_context(run)
    if ctx is None or not ctx.loss_nan or ctx.recovers or ctx.lr_lead or rose_into_nan(run) is not None:
        return None
    if ctx.finite_before >= STABLE_POINTS:
        return (f"the loss was finite for {ctx.finite_before} logged points before it, none climbing: the run was "
                f"stable at its LR")
    if ctx.finite_before and first_epoch(run) >= LATE_EPOCH:
        return (f"the log starts in epoch {first_epoch(run)} with a finite loss: at least one whole epoch ran at "
                f"that LR without diverging")
    return None


def lr_first(run: Run) -> bool:
    """A NaN that stays, with no lead before it, no stated precision, no LR that clears it and no stable stretch:
    an LR too high is the first reading (module docstring)."""
    return stats.cached(run, "nan_lr_first", lambda: _lr_first(run))


def _lr_first(run: Run) -> bool:
    ctx = nan_context(run)
    if ctx is None:
        # no series to read it from, only a trainer's NaN message (detectron2's FloatingPointError): nothing shows a
        # stable stretch either
        if not any(e.tag in ("nan_loss", "nan_inf") for e in run.events):
            return False
    elif not ctx.loss_nan or ctx.recovers or ctx.lr_lead or ctx.from_start:
        return False
    elif (ctx.finite_before >= STABLE_POINTS or (ctx.finite_before and first_epoch(run) >= LATE_EPOCH)) and \
            rose_into_nan(run) is None:
        return False  # stable at its LR before the NaN, unless the loss rose into it at a stated LR nothing clears
    if inputs_first(run) is not None:
        return False  # the held-out loss went NaN first through finite weights: no step size did that
    if confined_terms(run) is not None:
        return False  # some loss terms stay finite through the NaN: the weights are finite (evidence/nan_terms.py)
    if box_only_total(run) is not None:
        return False  # the box term alone made the total's NaN: the weights are finite (evidence/nan_box.py)
    if after_one_update(run) is not None:
        return False  # one update between the last finite loss and the NaN: no step size does that (docstring)
    if finite_grads(run) is not None:
        return False  # the grad norm stays finite through the NaN: the weights are finite (evidence/nan_grads.py)
    return training_precision(run).half is None and lr_cleared(run) is None


def after_one_update(run: Run) -> str | None:
    """Why the NaN came one update after a finite loss (the only finite logged loss at the step just before the
    first non-finite one, nothing climbing into it), or None. Logs name a step by the optimiser updates before it
    (HF's step 1 is the first batch, litgpt's `step 0` the micro-batches before the first update), so consecutive
    step numbers have exactly one update between them."""
    ctx = nan_context(run)
    loss = nan_watch_series(run)
    if ctx is None or loss is None or not ctx.loss_nan or ctx.finite_before != 1 or ctx.lr_lead:
        return None
    st, _ = loss.finite()
    if st.size == 0 or int(st[0]) != ctx.step - 1:
        return None
    # a log whose step axis counts epochs (Keras's `Epoch 2/10`, a history with one row an epoch) has a whole
    # epoch of updates between consecutive numbers: an epoch marker at the NaN's step, or a held-out loss logged at
    # both points (no one evaluates after every update), says so
    if any(int(st[0]) < s <= ctx.step for s, _ in run.epoch_starts):
        return None
    for name, series in run.metrics.items():
        if name != loss.name and ("val" in name or "eval" in name or "test" in name) and \
                {int(st[0]), ctx.step} <= set(series.steps.astype(int).tolist()):
            return None
    return (f"the loss was finite at step {int(st[0])} and non-finite at step {ctx.step}, one update later: one step "
            f"does not take weights out of fp32's range at any LR in use, an LR too high needs several updates to "
            f"diverge, so that update's gradient was non-finite (an op, or a float16 overflow)")
