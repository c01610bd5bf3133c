"""Numerics detectors: NaN/Inf from an unguarded op, and fp16 range overflow."""

from __future__ import annotations

import re

import numpy as np

from traindoc.evidence.context import cite_series, cite_source, first_nonfinite, run_length
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run

_OVERFLOW_RE = re.compile(r"overflow|skipping step|loss scale|scaler", re.I)


def _overflow_events(run: Run) -> list:
    return [e for e in run.events if e.tag in ("grad_overflow", "loss_scale_min", "fp16_overflow")
            or (e.tag is None and _OVERFLOW_RE.search(e.message or "") and "overflow" in e.message.lower())]


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


def detect_nan_inf(run: Run) -> list[Finding]:
    """First non-finite loss or grad norm, not preceded by a blow-up and without fp16 overflow messages.

    'Preceded by a blow-up': in the 20 points before the NaN, the grad norm (or loss) exceeds 10x its earlier
    median. Then NaN is the end of a divergence (lr_too_high / grad_explosion explain it) and strength drops.
    """
    loss, g = run.series("loss"), run.series("grad_norm")
    nf_loss, nf_grad = first_nonfinite(loss), first_nonfinite(g)
    masked = _hf_masked_nan(run)
    evts = [e for e in run.events if e.tag in ("nan_loss", "nan_inf", "anomaly_nan")]
    cands = [s for s in (nf_loss, nf_grad, masked) if s is not None]
    if not cands and not evts:
        return []
    first = min(cands) if cands else evts[0].step
    ev: list[str] = []
    if nf_loss is not None and loss is not None:
        nbad = int((~np.isfinite(loss.values)).sum())
        ev.append(f"loss is {fmt(float(loss.values[np.searchsorted(loss.steps, nf_loss)]))} at step {nf_loss} "
                  f"({nbad} of {len(loss)} points non-finite) {cite_series(loss)}")
    if nf_grad is not None and g is not None:
        ev.append(f"grad_norm is {fmt(float(g.values[np.searchsorted(g.steps, nf_grad)]))} at step {nf_grad} "
                  f"{cite_series(g)}")
    if masked is not None:
        ev.append(f"loss logged as 0.0 at step {masked} where grad_norm is nan: HF Trainer's NaN filter hides a "
                  f"NaN loss")
    for e in evts[:2]:
        ev.append(f"log at step {e.step}: {e.message[:120]} [{cite_source(e.source)}:{e.line}]")
    strength = 0.85 if (nf_loss is not None or masked is not None) else 0.65
    blowup = False
    for s in (g, loss):
        if s is None or first is None:
            continue
        i = int(np.searchsorted(s.steps, first))
        before = s.values[max(0, i - 20): i]
        earlier = s.values[: max(0, i - 20)]
        before, earlier = before[np.isfinite(before)], earlier[np.isfinite(earlier)]
        if before.size and earlier.size >= 5:
            med = float(np.median(np.abs(earlier)))
            if med > 0 and float(np.abs(before).max()) > 10 * med:
                blowup = True
                ev.append(f"{s.name} reached {fmt(float(np.abs(before).max()))} (10x+ its median {fmt(med)}) "
                          f"just before the first NaN: a blow-up preceded it")
    if blowup:
        strength -= 0.4
    if _overflow_events(run):
        strength -= 0.3  # fp16 overflow explains it better
    else:
        ev.append("no fp16 overflow / loss-scaler messages in the logs")
    total = run_length(run)
    return [Finding("detect_nan_inf", "nan_inf", float(max(0.05, min(1.0, strength))),
                    "NaN/Inf appeared in the loss or gradients", ev, first,
                    {"first_nonfinite_step": first, "preceded_by_blowup": blowup, "run_length": total})]


def detect_fp16_overflow(run: Run) -> list[Finding]:
    """'Gradient overflow. Skipping step' messages, a loss scale that keeps falling, NaN under fp16."""
    ev: list[str] = []
    strength = 0.0
    step = None
    over = _overflow_events(run)
    if over:
        n = sum(e.count for e in over)
        ev.append(f"{n} overflow/skip messages, first at step {over[0].step}: {over[0].message[:100]} "
                  f"[{cite_source(over[0].source)}:{over[0].line}]")
        strength = 0.5 + min(0.4, 0.05 * n)
        step = over[0].step
    ls = run.series("loss_scale")
    if ls is not None and len(ls) >= 5:
        _, v = ls.finite()
        if v.size >= 5 and v[0] > 0 and v.min() < v[0] / 2 ** 8:
            ev.append(f"loss scale fell from {fmt(float(v[0]))} to {fmt(float(v.min()))} {cite_series(ls)}")
            strength = max(strength, 0.6) + 0.15
    prec = str(run.meta.get("precision", "")).lower()
    fp16 = "16" in prec and "bf" not in prec
    if fp16 and ev:
        ev.append(f"precision is {prec}")
        strength += 0.1
    if fp16 and not ev and (first_nonfinite(run.series("loss")) is not None):
        ev.append(f"non-finite loss in a {prec} run")
        strength = 0.45
    if not ev:
        return []
    return [Finding("detect_fp16_overflow", "fp16_overflow", float(min(1.0, strength)),
                    "half-precision range exceeded", ev, step, {"precision": prec})]


DETECTORS = [detect_nan_inf, detect_fp16_overflow]
