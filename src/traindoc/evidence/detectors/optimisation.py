"""Optimisation-dynamics detectors: one rule per function, thresholds justified where they are set."""

from __future__ import annotations

import math

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.context import (
    LR_REFERENCE,
    cite_config,
    cite_series,
    cite_source,
    config_bool,
    config_number,
    configured_lrs,
    divergence,
    first_nonfinite,
    fix_site,
    format_like,
    loss_series,
    nan_context,
    near_boundary,
    optimizer_family,
    progress,
    run_length,
    spikes,
)
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run


def _family_name(family: str) -> str:
    return "an unknown optimiser (wide range)" if family == "unknown" else family.replace("_", " ")


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
    if d is not None and loss is not None:
        if d.nonfinite_step is not None:
            ev.append(f"loss became non-finite at step {d.nonfinite_step} after reaching {fmt(d.min_value)} "
                      f"{cite_series(loss)}")
            sev = max(sev, 0.6)
        else:
            ev.append(f"loss fell to {fmt(d.min_value)} by step {d.min_step} then rose {d.rise:.0%} to "
                      f"{fmt(d.end_value)} (rising from step {d.onset_step}) {cite_series(loss)}")
            # a rise that rests on one or two logged points (the last epoch of ten) is noise as often as a trend:
            # an engineer wants it sustained over >= 3 points before calling the run unstable
            after = int((loss.steps > d.min_step).sum())
            sev = max(sev, min(1.0, 0.4 + d.rise) if after >= 3 else 0.3)
            b = near_boundary(run, d.onset_step, 0.1)
            if b and "stage_boundary" not in nums:
                ev.append(f"the rise starts at the switch to curriculum stage '{b[1]}' at step {b[0]}")
                nums["stage_boundary"] = b[0]
        first = d.onset_step if first is None else min(first, d.onset_step)
        nums.update(loss_min=d.min_value, loss_min_step=d.min_step, loss_rise=d.rise)
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


def detect_lr_too_high(run: Run) -> list[Finding]:
    """LR above its optimiser's reference range, made a cause when the run shows instability.

    The LR alone is weak evidence (many runs train well above a reference), so strength is <= 0.45 without a
    symptom; a 10x excess is strong on its own (docs/causes.md: lower by a factor of 2-10 is the usual fix).
    """
    lrs = configured_lrs(run)
    sym, first, sev, nums = _instability_evidence(run)
    above = [c for c in lrs if c.value > c.reference[2] * 1.25]
    prog = progress(run, "loss")
    loss_s = loss_series(run)
    if above and not sym and prog is not None and prog < 0.1 and loss_s is not None:
        # "loss stuck well above what the model reaches at a normal LR" (docs/causes.md)
        sym.append(f"loss decreased only {max(prog, 0):.1%} over the run {cite_series(loss_s)}")
        sev = 0.5
    ev: list[str] = []
    sites = []
    ratio = 0.0
    for c in above:
        lo, ref, hi = c.reference
        r = c.value / ref
        ratio = max(ratio, c.value / hi)
        name = c.cv.key.rsplit(".", 1)[-1] if c.cv else f"lr ({c.group})"
        ev.append(f"{name}={format_like(c.cv.text if c.cv else None, c.value)} is {r:.3g}x the reference "
                  f"{format_like(c.cv.text if c.cv else None, ref)} for {_family_name(c.family)} "
                  f"{cite_config(c.cv)}")
        sites.append(fix_site(c.cv, format_like(c.cv.text if c.cv else None, ref), key=f"lr.{c.group}"))
    if not above and not sym:
        return []
    if above and sym:
        strength = min(1.0, 0.55 + 0.15 * math.log2(max(ratio, 1.0)) + 0.3 * sev)
    elif above:
        # the LR alone, with a run that shows no instability: a risk, not a diagnosis, unless it is an order of
        # magnitude out (the zoo's no_warmup run trains fine at 4x with a warmup; HF's lr=0.1 is 33x)
        if ratio < 10:
            strength = min(0.35, 0.2 + 0.15 * math.log10(max(ratio, 1.0)))
        else:
            strength = min(0.7, 0.45 + 0.25 * math.log10(ratio / 10))
    else:
        # instability with the LR in range or unknown: lr_too_high stays a candidate (the most common cause of a
        # divergence a priori) but never a confident one without the LR itself as evidence
        # an LR known to be in range for a *known* optimiser makes lr_too_high unlikely; an unknown family's
        # wide range says little, so it counts as no LR information
        in_range = any(c.family != "unknown" for c in lrs)
        strength = (0.2 if in_range else 0.15) + (0.15 if in_range else 0.4) * sev
    return [Finding(
        detector="detect_lr_too_high", cause="lr_too_high", strength=float(min(1.0, strength)),
        summary=("learning rate above the stable range for its optimiser" if above
                 else "training became unstable (spikes/divergence) with no LR information to rule it out"),
        evidence=sym + ev, step=first,
        numbers={**nums, "lr_over_reference_high": ratio, "configured_lrs": [c.value for c in lrs]},
        fix_sites=sites)]


def detect_lr_too_low(run: Run) -> list[Finding]:
    """LR far below its reference (>= 10x under the low end) with a flat loss while grads are not tiny.

    "orders of magnitude below reference" (docs/causes.md); a flat loss is < 10 % decrease over the run.
    """
    lrs = configured_lrs(run)
    below = [c for c in lrs if c.value > 0 and c.value < c.reference[0] / 3]
    prog = progress(run, "loss")
    g = run.series("grad_norm")
    gfin = g.values[np.isfinite(g.values)] if g is not None else np.array([])
    gmed = float(np.median(gfin)) if gfin.size else None
    if not below and not (prog is not None and prog < 0.02 and gmed is not None and gmed > 1e-3 and lrs):
        return []
    ev: list[str] = []
    sites = []
    factor = 1.0
    for c in below:
        lo, ref, _ = c.reference
        factor = max(factor, ref / c.value)
        name = c.cv.key.rsplit(".", 1)[-1] if c.cv else f"lr ({c.group})"
        t = c.cv.text if c.cv else None
        ev.append(f"{name}={format_like(t, c.value)} is {ref / c.value:.3g}x below the reference "
                  f"{format_like(t, ref)} for {_family_name(c.family)} {cite_config(c.cv)}")
        sites.append(fix_site(c.cv, format_like(t, ref), key=f"lr.{c.group}"))
    loss = loss_series(run)
    flat = prog is not None and prog < 0.10
    if prog is not None and loss is not None:
        ev.append(f"loss decreased only {max(prog, 0):.1%} over the run {cite_series(loss)}")
    if gmed is not None and g is not None:
        ev.append(f"grad_norm median {fmt(gmed)} (gradients are flowing) {cite_series(g)}")
    healthy_grads = gmed is not None and gmed > 1e-4
    if below:
        strength = 0.3 + 0.1 * min(3.0, math.log10(factor))
        if flat:
            strength += 0.35
        if healthy_grads:
            strength += 0.05
    else:
        strength = 0.25  # flat loss with grads flowing and an LR in range: weak
    return [Finding("detect_lr_too_low", "lr_too_low", float(min(1.0, strength)),
                    "learning rate far below the reference range; the loss barely moves", ev, None,
                    {"lr_under_reference": factor, "loss_progress": prog, "grad_norm_median": gmed}, sites)]


def detect_no_warmup(run: Run) -> list[Finding]:
    """warmup = 0 (config) or a logged LR already at its peak at the first step, plus an early jump.

    Early jump: the max of loss or grad norm in the first 5 % of steps (>= 5 points) is >= 3x the median of the
    next 20 % (the run partially recovers), the pattern of docs/causes.md's 'large jumps in the first steps'.
    """
    wv, wcv = config_number(run, *KEYS["warmup_steps"])
    wr, wrcv = config_number(run, *KEYS["warmup_ratio"])
    no_warm_cfg = (wv is not None and wv == 0) and not (wr is not None and wr > 0)
    lr = run.series("lr") or run.series("lr/muon") or run.series("lr/adam")
    logged_flat_start = False
    if lr is not None and len(lr) >= 10:
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
    for name in ("grad_norm", "loss"):
        s = run.series(name)
        if s is None or len(s) < 40:
            continue
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
        # a *jump*: the early max is >= 2x the very first value too (grad norms and losses that simply start
        # high and fall are normal initialisation, not a missing warmup)
        if r >= 3 and float(early.max()) >= 2 * float(early[0]):
            # only a jump *after* the first points counts (initial loss is always high): the early max must
            # not be the very first point unless the series then rises again
            i = int(np.argmax(early))
            if i == 0 and name == "loss":
                continue
            loss_jump = loss_jump or name == "loss"
            if r <= jump:
                continue
            jump, jump_step = r, int(st[i])
            ev.append(f"{name} jumped to {fmt(float(early.max()))} at step {jump_step}, {r:.3g}x the median "
                      f"{fmt(ref)} of the steps after {cite_series(s)}")
    strength = 0.3 if no_warm_cfg else 0.15
    if jump:
        strength += min(0.6, 0.3 + 0.1 * math.log2(jump))
    if not no_warm_cfg and not loss_jump:
        # no config says warmup is 0, only an LR already at its peak at the first logged point (a warmup shorter
        # than the logging interval is invisible: HF logs every 500 steps) and a grad-norm transient, which is
        # ordinary in the first steps of a healthy run: context, not a cause
        strength = min(strength, 0.35)
    site = fix_site(wcv, str(max(1, run_length(run) // 50)), key="warmup_steps") if wcv else \
        {"key": "warmup_steps", "after": str(max(1, run_length(run) // 50))}
    return [Finding("detect_no_warmup", "no_warmup", float(min(1.0, strength)),
                    "no learning-rate warmup: full LR from step 0", ev, jump_step,
                    {"early_jump_ratio": jump, "warmup_steps": wv}, [site])]


def detect_scheduler_misuse(run: Run) -> list[Finding]:
    """A schedule is configured (warmup > 0, decay/cosine scheduler) but the logged LR never changes; or the LR
    hits 0 early; or warmup is longer than the run; or the 'scheduler before optimizer' warning."""
    ev: list[str] = []
    strength = 0.0
    step = None
    wv, wcv = config_number(run, *KEYS["warmup_steps"])
    sched_cv = run.config_value(*KEYS["lr_schedule"])
    sched_val = str(sched_cv.value).lower() if sched_cv is not None else ""
    schedule_configured = (wv is not None and wv > 0) or (
        sched_cv is not None and sched_val not in ("constant", "none", "false", "", "null", "0"))
    for name in ("lr", "lr/muon", "lr/adam"):
        s = run.series(name)
        if s is None or len(s) < 10:
            continue
        st, v = s.finite()
        if v.size < 10:
            continue
        vmax = float(np.abs(v).max())
        spread = float(v.max() - v.min()) / vmax if vmax > 0 else 0.0
        if schedule_configured and spread < 1e-6 and run_length(run) > 20:
            what = f"warmup_steps={wcv.text or wcv.value} {cite_config(wcv)}" if wv else \
                f"{sched_cv.key}={sched_cv.value} {cite_config(sched_cv)}"
            ev.append(f"logged {name} stays exactly {fmt(float(v[0]))} for all {v.size} points "
                      f"({int(st[0])}..{int(st[-1])}) although a schedule is configured ({what}) {cite_series(s)}")
            strength = max(strength, 0.85)
            step = int(st[0])
        zero = np.nonzero(v <= 0)[0]
        if zero.size and vmax > 0:
            z0 = int(zero[0])
            if z0 < 0.9 * v.size and (v[z0:] <= 0).mean() > 0.9 and z0 > 0:
                ev.append(f"{name} reaches 0 at step {int(st[z0])}, {1 - z0 / v.size:.0%} of the run before its end "
                          f"{cite_series(s)}")
                strength = max(strength, 0.7)
                step = int(st[z0])
        break
    # (a run of < 20 steps is a smoke test: its schedule says nothing; a run whose loss went non-finite stopped
    # early, so its logged length is not the length it was configured for, and a warmup longer than it says nothing)
    stopped_early = first_nonfinite(loss_series(run)) is not None
    if wv is not None and wv > 0 and run_length(run) >= 20 and wv > 1.0 * run_length(run) and not stopped_early:
        ev.append(f"warmup_steps={wcv.text or wcv.value} is longer than the run ({run_length(run)} steps) "
                  f"{cite_config(wcv)}")
        strength = max(strength, 0.7)
    for e in run.events:
        if e.tag == "scheduler_before_optimizer":
            ev.append(f"warning at step {e.step}: {e.message[:120]} [{cite_source(e.source)}:{e.line}]")
            strength = max(strength, 0.6)
            step = step if step is not None else e.step
            break
    if not ev:
        return []
    return [Finding("detect_scheduler_misuse", "scheduler_misuse", strength,
                    "the learning-rate schedule is not the one configured", ev, step,
                    {"schedule_configured": schedule_configured})]


def _clip_config(run: Run) -> tuple[float | None, object]:
    return config_number(run, *KEYS["grad_clip"])


def detect_grad_explosion(run: Run) -> list[Finding]:
    """Grad norm grows by >= 2 orders of magnitude (late max vs early median) with no clipping configured.

    Orders of magnitude, not sigma: a grad norm that is spiky but bounded is lr/noise; explosion is unbounded
    growth (docs/causes.md). Co-occurring loss spikes raise strength (docs/references.md: co-spike).
    """
    g = run.series("grad_norm")
    if g is None or len(g) < 10:
        return []
    st, v = g.finite()
    nf = first_nonfinite(g)
    if v.size < 10:
        return []
    k = max(3, v.size // 10)
    early = float(np.median(v[:k]))
    imax = int(np.argmax(v))
    growth = float(v[imax]) / early if early > 0 else 0.0
    clip, clip_cv = _clip_config(run)
    if growth < 100 and not (nf is not None and growth >= 20):
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
    ev = [f"grad_norm grew from a median {fmt(early)} over the first {k} points to {fmt(float(v[imax]))} at step "
          f"{int(st[imax])} ({growth:.3g}x) {cite_series(g)}"]
    if nf is not None:
        ev.append(f"grad_norm became non-finite at step {nf} {cite_series(g)}")
    strength = 0.35 + 0.1 * min(4.0, math.log10(growth) - 1)
    if clip is not None and clip == 0:
        ev.append(f"gradient clipping is off: {clip_cv.key}={clip_cv.text or clip_cv.value} {cite_config(clip_cv)}")
        strength += 0.3
    elif clip is None:
        strength += 0.1
    else:
        strength -= 0.2  # clipping is on: the logged pre-clip norm may grow, updates are bounded
    # the optimiser's LR is in range: explosion rather than a too-high LR
    lrs = configured_lrs(run)
    if lrs and all(c.value <= c.reference[2] * 1.25 for c in lrs):
        strength += 0.1
    site = fix_site(clip_cv, "1.0", key="max_grad_norm") if clip_cv is not None else {"key": "max_grad_norm",
                                                                                       "after": "1.0"}
    # it fires where the norm first leaves its early range by an order of magnitude
    onset = int(st[int(np.argmax(v > 10 * early))])
    return [Finding("detect_grad_explosion", "grad_explosion", float(max(0.0, min(1.0, strength))),
                    "gradient norm grows by orders of magnitude without clipping", ev, onset,
                    {"growth": growth, "early_median": early, "clip": clip}, [site])]


def detect_vanishing_gradients(run: Run) -> list[Finding]:
    """Grad norm below 1e-4 from the start (docs/causes.md) but not exactly zero, with a loss plateau.

    1e-4 on the *global* norm: smdebug's VanishingGradient uses 1e-7 on mean |grad| per tensor, which for a
    model with ~1e5-1e8 parameters corresponds to a global L2 norm around 1e-5..1e-3.
    """
    g = run.series("grad_norm")
    if g is None or len(g) < 5:
        return []
    _, v = g.finite()
    if v.size < 5:
        return []
    k = max(3, v.size // 5)
    med = float(np.median(v[:k]))
    if not (0 < med < 1e-4) and not (med == 0 and float(np.median(v)) > 0):
        return []
    frozen, _ = config_bool(run, *KEYS["freeze"])
    p = run.params
    if frozen or (p is not None and p.trainable is not None and p.total and p.trainable / p.total < 0.5):
        return []  # frozen parameters explain tiny grads
    prog = progress(run, "loss")
    ev = [f"grad_norm median {fmt(med)} over the first {k} points (< 1e-4) {cite_series(g)}"]
    strength = 0.5
    if prog is not None and prog < 0.1:
        ev.append(f"loss decreased only {max(prog, 0):.1%}")
        strength += 0.25
    return [Finding("detect_vanishing_gradients", "vanishing_gradients", strength,
                    "gradients are vanishingly small from the start", ev, int(g.steps[0]),
                    {"grad_norm_median_early": med, "loss_progress": prog})]


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
    g = run.series("grad_norm")
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
    points fire: noise does not produce repeated monotone doublings, and a healthy norm falls or stays level.
    """
    g = run.series("grad_norm")
    if g is None or len(g) < 12:
        return []
    st, v = g.finite()
    if v.size < 12:
        return []
    st, v = stats.downsample(st, v, 4000, "mean")
    cuts = [0] + [i for i in range(1, v.size) if v[i] < 0.5 * v[i - 1]] + [v.size]
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
    covered = sum(b - a for a, b in ramps)
    if len(ramps) < 3 or covered < 0.5 * v.size:
        return []
    resets = [int(st[a]) for a, _ in ramps[1:4]]
    period = float(np.median(np.diff([st[a] for a, _ in ramps]))) if len(ramps) > 1 else None
    ev = [f"grad_norm ramps up and resets {len(ramps)} times (e.g. {fmt(float(v[ramps[0][0]]))} -> "
          f"{fmt(float(v[ramps[0][1] - 1]))}; resets at steps {', '.join(map(str, resets))}"
          f"{f', every ~{period:.0f} steps' if period else ''}): gradients accumulate between clears "
          f"{cite_series(g)}"]
    strength = min(0.85, 0.55 + 0.05 * (len(ramps) - 3))
    return [Finding("detect_zero_grad_sawtooth", "zero_grad_missing", strength,
                    "gradients are summed across steps and cleared only occasionally", ev, int(st[ramps[0][0]]),
                    {"ramps": len(ramps), "ramp_coverage": covered / v.size, "period": period})]


def detect_grad_accum_bug(run: Run) -> list[Finding]:
    """Training loss off from eval loss by ~ the accumulation factor k (loss not divided, or divided twice).

    With k >= 2 configured, median(train)/median(eval) over the same steps within 25 % of k or 1/k. Healthy runs
    have train/eval within a factor ~1.5 (dropout, overfitting), so a factor 2+ that matches k is telling.
    """
    k, kcv = config_number(run, *KEYS["grad_accum"])
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


def detect_frozen_params(run: Run) -> list[Finding]:
    """Parameters that should train do not: trainable share < 50 %, a freeze flag set, or grad norm ~0.

    The trainable share comes from the checkpoint / meta counts; grad norm < 1e-8 is 'no gradient' in float32.
    """
    ev: list[str] = []
    strength = 0.0
    sites = []
    p = run.params
    if p is not None and p.trainable is not None and p.total:
        share = p.trainable / p.total
        if share < 0.5:
            ev.append(f"only {p.trainable:,} of {p.total:,} parameters ({share:.1%}) are trainable "
                      f"[{p.source or 'params'}]")
            strength = max(strength, 0.45 + 0.4 * (0.5 - share) / 0.5)
    fz, fcv = config_bool(run, *KEYS["freeze"])
    if fz:
        ev.append(f"{fcv.key}={fcv.text or fcv.value} {cite_config(fcv)}")
        sites.append(fix_site(fcv, "false" if (fcv.text or "").islower() else "False"))
        strength = max(strength, 0.5) + (0.2 if strength else 0)
    g = run.series("grad_norm")
    if g is not None:
        _, v = g.finite()
        if v.size >= 5 and float(np.median(v)) < 1e-8:
            ev.append(f"grad_norm median {fmt(float(np.median(v)))}: no gradient reaches the parameters "
                      f"{cite_series(g)}")
            strength = max(strength, 0.6) + 0.1
    prog = progress(run, "loss")
    if prog is not None and ev:
        ev.append(f"loss decreased {max(prog, 0):.1%} over the run")
        if prog < 0.15:
            strength += 0.1
    elif prog is not None and prog < 0.1 and g is not None and len(g) >= 20:
        # no parameter counts or flags: a loss that does not move while the LR is in its normal range (not below
        # reference/3: that is lr_too_low) and nothing blew up means the updates do not reach the weights
        lrs = configured_lrs(run)
        in_range = bool(lrs) and all(c.value >= c.reference[0] / 3 for c in lrs)
        _, gv = g.finite()
        unstable = bool(spikes(run, "grad_norm")) or divergence(run, "loss") is not None
        gmed = float(np.median(gv)) if gv.size else 0.0
        # grads below 1e-4 from the start are vanishing_gradients' signature (it checks freeze flags itself)
        if in_range and not unstable and gmed >= 1e-4:
            loss = loss_series(run)
            ev.append(f"loss decreased only {max(prog, 0):.1%} over {len(loss) if loss else 0} logged points while "
                      f"the LR is in its normal range ({', '.join(format_like(None, c.value) for c in lrs)})"
                      f"{' ' + cite_series(loss) if loss else ''}")
            strength = 0.4
            if gmed < 0.1:
                ev.append(f"grad_norm median {fmt(gmed)}: little gradient reaches trainable weights {cite_series(g)}")
                strength += 0.2
    if not ev:
        return []
    return [Finding("detect_frozen_params", "frozen_params", float(min(1.0, strength)),
                    "parameters that should train are frozen", ev, None,
                    {"trainable_share": (p.trainable / p.total) if p and p.trainable is not None and p.total else None,
                     "loss_progress": prog}, sites)]


def detect_dead_units(run: Run) -> list[Finding]:
    """Dead/saturated units: a logged dead fraction >= 50 % (smdebug DeadRelu's layer share), or a grad norm
    that collapses by >= 1000x within the run and stays there while the loss stops improving."""
    ev: list[str] = []
    strength = 0.0
    step = None
    for name, s in run.metrics.items():
        low = name.lower()
        if any(t in low for t in ("dead", "zero_frac", "frac_zero", "inactive", "saturat")):
            _, v = s.finite()
            if v.size and float(np.median(v[-max(1, v.size // 4):])) >= 0.5:
                ev.append(f"{name} = {fmt(float(v[-1]))} at step {int(s.steps[-1])} {cite_series(s)}")
                strength = max(strength, 0.75)
    g = run.series("grad_norm")
    if g is not None and len(g) >= 20:
        st, v = g.finite()
        if v.size >= 20:
            k = max(3, v.size // 10)
            early = float(np.median(v[:k]))
            late = float(np.median(v[-k:]))
            if early > 1e-6 and late < early / 1000:
                n_before = len(ev)
                idx = int(np.argmax(v < early / 100))
                step = int(st[idx])
                ev.append(f"grad_norm collapsed from {fmt(early)} to {fmt(late)} around step {step} "
                          f"{cite_series(g)}")
                prog_late = None
                loss = loss_series(run)
                converged = False
                if loss is not None:
                    ls, lv = loss.finite()
                    after = lv[ls >= step]
                    # gradients also vanish when the loss reaches ~0 (a memorised training set): that is
                    # convergence, not dead units
                    converged = bool(after.size and lv.size and float(np.median(after)) < 0.05 * abs(float(lv[0])))
                    if after.size >= 5:
                        prog_late = (after[0] - after[-1]) / max(abs(after[0]), 1e-12)
                        ev.append(f"loss moved {prog_late:.1%} after the collapse")
                if converged:
                    del ev[n_before:]
                else:
                    strength = max(strength, 0.5 + (0.2 if prog_late is not None and prog_late < 0.05 else 0))
    if not ev:
        return []
    return [Finding("detect_dead_units", "dead_units", strength, "units are dead or saturated: no signal passes",
                    ev, step, {})]


# A loss pinned at ln(k) is a model predicting the uniform distribution over k classes: its output no longer
# depends on the input. The tolerance is the 4 decimals logs print; ln(k) and ln(k+1) are >= 20x that apart for
# k <= 50, so a match there is no accident (beyond 50 the class count must come from the config).
CHANCE_TOL = 1e-3
CHANCE_MAX_INFERRED_K = 50


def detect_loss_at_chance(run: Run) -> list[Finding]:
    """The loss sits flat at chance level, ln(k) for the class count (config num_labels / vocab_size, else the k
    whose ln the loss matches to log precision), over >= 5 points and >= 30 % of the run: no signal passes.

    Reported as dead_units, the usual reason a network's output goes constant (ReLUs dead, saturated units); the
    evidence names the look-alikes, which their own detectors separate where the logs allow (frozen_params: grad
    norm exactly 0 or a small trainable share; vanishing_gradients: grad norm < 1e-4 from the start; lr_too_low:
    gradients flowing at an LR far below reference). A run that does not learn at all is never healthy.
    """
    loss = loss_series(run)
    if loss is None:
        return []
    st, v = loss.finite()
    if v.size < 5:
        return []
    tail = v[-max(5, int(0.3 * v.size)):]
    level = float(np.median(tail))
    if level <= 0 or float(tail.max() - tail.min()) > 2 * CHANCE_TOL:
        return []
    k_cfg = None
    for group in ("num_classes", "vocab_size"):
        val, _ = config_number(run, *KEYS[group])
        if val is not None and val >= 2:
            k_cfg = int(val)
            break
    k = k_cfg if k_cfg is not None else int(round(math.exp(level)))
    if k < 2 or (k_cfg is None and k > CHANCE_MAX_INFERRED_K) or abs(level - math.log(k)) > CHANCE_TOL:
        return []
    # where the pinned stretch begins: the first point from which every loss stays at the level
    off = np.nonzero(np.abs(v - level) > CHANCE_TOL)[0]
    j0 = int(off[-1]) + 1 if off.size else 0
    i0 = int(st[j0])
    ev = [f"the loss sits at {fmt(level)} = ln({k}) from step {i0} to {int(st[-1])} ({v.size - j0} points, spread "
          f"{float(tail.max() - tail.min()):.1g}): the model predicts the uniform distribution over {k} classes, "
          f"its output no longer depends on the input {cite_series(loss)}",
          "a network that does not learn at all: dead or saturated units most often; no gradient reaching the "
          "weights (frozen_params, vanishing_gradients) or an LR far too low are the look-alikes"]
    g = run.series("grad_norm")
    if g is not None:
        _, gv = g.finite()
        if gv.size:
            ev.append(f"grad_norm median {fmt(float(np.median(gv)))} {cite_series(g)}")
    return [Finding("detect_loss_at_chance", "dead_units", 0.55, "the loss sits flat at chance level", ev, i0,
                    {"chance_classes": k, "chance_level": level, "classes_from_config": k_cfg is not None})]


DETECTORS = [detect_lr_too_high, detect_lr_too_low, detect_no_warmup, detect_scheduler_misuse,
             detect_grad_explosion, detect_vanishing_gradients, detect_optimizer_misconfig,
             detect_zero_grad_missing, detect_zero_grad_sawtooth, detect_grad_accum_bug, detect_frozen_params,
             detect_dead_units, detect_loss_at_chance]

__all__ = ["DETECTORS", "LR_REFERENCE"]
