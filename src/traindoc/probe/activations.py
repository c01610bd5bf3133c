"""Activations on the batch, one forward pass under no_grad:

* dead units: an activation module's input never positive for any example (and position) of the batch: ReLU-like
  units pass nothing and get no gradient. A layer with >= 50 % such units fires (smdebug's DeadRelu layer share,
  as detect_dead_units uses for logged dead fractions);
* saturated units: Sigmoid/Tanh outputs (and recurrent layers' tanh states) within 1 % of their bounds for every
  example: their derivative is < 0.04 there, so they pass almost no gradient; same 50 % layer share;
* attention: every call of F.scaled_dot_product_attention is observed (nn.MultiheadAttention and most
  transformer code go through it): the maximum attention logit q.k/sqrt(d) and the mean entropy of the attention
  rows. Logits above 50 saturate the softmax into one-hot rows (the attention-logit growth of Dehghani et al.
  2023, ViT-22B, where they reached this range before diverging);
* output logits: log Z = logsumexp of the outputs per position (PaLM's z-loss drives it to 0); mean |log Z| above
  50 means logits far outside the range a softmax trains in.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from traindoc.evidence.finding import Finding
from traindoc.probe.inputs import ModelCall, fmt, logits_of, named, site
from traindoc.probe.safety import eval_mode

DEAD_SHARE = 0.5
SATURATION = 0.99  # |tanh| or |2 sigmoid - 1| beyond this is saturated
ATTN_LOGIT_MAX = 50.0
LOGZ_MAX = 50.0
RECTIFIERS = (nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.ELU, nn.CELU, nn.SELU, nn.Mish, nn.Softplus, nn.Hardswish)
SQUASHERS = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid)
RECURRENT = (nn.RNN, nn.GRU, nn.LSTM)


def _units(x: torch.Tensor) -> torch.Tensor:
    """x as (samples, units): channels are dim 1 of image-like tensors, the last dim otherwise."""
    if x.dim() >= 4:
        return x.transpose(0, 1).reshape(x.shape[1], -1).T
    return x.reshape(-1, x.shape[-1])


@contextlib.contextmanager
def _watch_attention(rows: list[tuple[float, float]]) -> Iterator[None]:
    """Record (max logit, mean row entropy) of every scaled_dot_product_attention call while inside."""
    real = F.scaled_dot_product_attention

    def observed(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **kw):  # noqa: ANN001
        s = scale if scale is not None else 1 / math.sqrt(q.shape[-1])
        if k.shape[-3] != q.shape[-3] and q.dim() == 4:  # grouped-query attention: repeat the kv heads
            k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
        logits = (q.float() @ k.float().transpose(-2, -1)) * s
        L, S = logits.shape[-2:]
        if is_causal:
            logits = logits.masked_fill(torch.ones(L, S, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
        if attn_mask is not None:
            logits = logits.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool \
                else logits + attn_mask
        p = logits.softmax(-1)
        ent = -(p * p.clamp_min(1e-12).log()).sum(-1)
        rows.append((float(logits[torch.isfinite(logits)].max()), float(ent.mean())))
        return real(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale, **kw)

    F.scaled_dot_product_attention = observed
    try:
        yield
    finally:
        F.scaled_dot_product_attention = real


def _layer_finding(model: nn.Module, shares: dict[str, float], base: float, cap: float, summary: str, what: str,
                   key: str) -> Finding | None:
    """One dead_units finding over the layers whose share of stuck units reaches DEAD_SHARE."""
    bad = {n: s for n, s in shares.items() if s >= DEAD_SHARE}
    if not bad:
        return None
    worst = max(bad, key=bad.get)
    return Finding("probe_activations", "dead_units", min(cap, base + 0.4 * bad[worst]), summary.format(k=len(bad)),
                   [f"{named(model, n)}: {s:.0%} {what}" for n, s in sorted(bad.items(), key=lambda kv: -kv[1])[:5]],
                   None, {key: dict(shares)}, [site(model, worst)])


def probe_activations(model: nn.Module, call: ModelCall) -> tuple[list[Finding], dict[str, Any]]:
    """(findings, the raw figures: dead and saturated share per layer, attention and output-logit statistics)."""
    dead: dict[str, float] = {}
    sat: dict[str, float] = {}
    hooks = []

    def on(name: str, kind: str):
        def hook(mod, args, out):  # noqa: ANN001 - torch hook signature
            if kind == "rect" and args and isinstance(args[0], torch.Tensor):
                u = _units(args[0].detach().float())
                dead[name] = max(dead.get(name, 0.0), float((u.amax(0) <= 0).float().mean()))
            else:
                y = out[0] if isinstance(out, tuple) else out
                if not isinstance(y, torch.Tensor):
                    return
                y = y.detach().float()
                if isinstance(mod, (nn.Sigmoid, nn.Hardsigmoid)):
                    y = 2 * y - 1
                u = _units(y)
                sat[name] = max(sat.get(name, 0.0), float((u.abs().amin(0) >= SATURATION).float().mean()))
        return hook

    for name, m in model.named_modules():
        if isinstance(m, RECTIFIERS):
            hooks.append(m.register_forward_hook(on(name, "rect")))
        elif isinstance(m, SQUASHERS) or (isinstance(m, RECURRENT) and not isinstance(m, nn.LSTM)):
            hooks.append(m.register_forward_hook(on(name, "sat")))
    attn: list[tuple[float, float]] = []
    try:
        # grad mode on (results identical): nn.TransformerEncoderLayer's no-grad fast path skips the observable
        # attention call; nothing is stored for backward beyond this one pass
        with eval_mode(model), _watch_attention(attn):
            out = call.forward(model)
    finally:
        for h in hooks:
            h.remove()
    logits = logits_of(out)
    logits = logits.detach() if logits is not None else None
    findings = [f for f in (
        _layer_finding(model, dead, 0.5, 0.9, "dead units: {k} activation layer(s) with >= 50% units never positive "
                       "on the batch", "of units never positive", "dead_share"),
        _layer_finding(model, sat, 0.45, 0.85, "saturated units: {k} layer(s) with >= 50% units pinned at the bounds "
                       "of their squashing function for every example", f"of units saturated (|y| >= {SATURATION})",
                       "saturated_share"),
    ) if f is not None]
    if attn:
        top = max(a for a, _ in attn)
        ent = sum(e for _, e in attn) / len(attn)
        if top > ATTN_LOGIT_MAX:
            findings.append(Finding("probe_activations", "attention_logit_growth", 0.6,
                                    f"attention logits reach {fmt(top)}: the softmax is saturated",
                                    [f"max attention logit {fmt(top)} (> {ATTN_LOGIT_MAX:g}) over {len(attn)} "
                                     f"attention call(s); mean row entropy {fmt(ent)} nats"], None,
                                    {"attn_logit_max": top, "attn_entropy": ent}, []))
    if logits is not None and logits.dim() >= 2 and logits.shape[-1] >= 2:
        logz = torch.logsumexp(logits.detach().float(), -1)
        z = float(logz.abs().mean())
        if math.isfinite(z) and z > LOGZ_MAX:
            findings.append(Finding("probe_activations", "output_logit_divergence", 0.6,
                                    f"output logits are huge: mean |log Z| = {fmt(z)}",
                                    [f"mean |logsumexp(logits)| {fmt(z)} (> {LOGZ_MAX:g}); max |logit| "
                                     f"{fmt(float(logits.detach().abs().max()))}"], None, {"logz_mean": z}, []))
    stats: dict[str, Any] = {"dead_share": dead, "saturated_share": sat, "logits": logits}
    if attn:
        stats.update(attn_logit_max=max(a for a, _ in attn), attn_entropy=sum(e for _, e in attn) / len(attn))
    if logits is not None and logits.dim() >= 2 and logits.shape[-1] >= 2:
        stats["logz_mean"] = float(torch.logsumexp(logits.detach().float(), -1).abs().mean())
    return findings, stats
