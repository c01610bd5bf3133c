"""Causality: a next-token model's prediction at position t may depend on tokens <= t only.

Change every token after t, run the model again, and compare the outputs at positions <= t. Any change is a
future-token leak (the original Cognate code's symmetric attention band; a missing `is_causal=True`; an encoder
used without its mask). Forward hooks then name the module that first lets the future in: the innermost module
whose inputs at <= t are unchanged but whose output at <= t changed.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from traindoc.evidence.finding import Finding
from traindoc.probe.inputs import ModelCall, fmt, logits_of, named, site
from traindoc.probe.safety import eval_mode

# Relative change of the outputs at <= t that counts as a leak: far above float32 round-off of the same matmuls on
# different data (~1e-6 relative), far below what one visible future token does (order 1e-2 .. 1).
TOL = 1e-4


def _prefix(x: Any, B: int, T: int, t: int) -> torch.Tensor | None:
    """x restricted to positions <= t, finding the time axis by shape (batch-first or time-first)."""
    if isinstance(x, (tuple, list)):
        x = next((v for v in x if isinstance(v, torch.Tensor)), None)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() < 2:
        return None
    if x.shape[0] == B and x.shape[1] == T:
        return x[:, : t + 1].detach().float()
    if x.shape[0] == T and x.shape[1] == B:
        return x[: t + 1].detach().float()
    return None


def _changed(a: torch.Tensor | None, b: torch.Tensor | None) -> float:
    if a is None or b is None or a.shape != b.shape:
        return 0.0
    return float((a - b).abs().max() / (a.abs().max() + 1e-6))


def _trace(model: nn.Module, call: ModelCall, batch: Any, B: int, T: int, t: int) -> dict[str, tuple]:
    """(input prefix, output prefix) of every module, in the order the modules finish."""
    seen: dict[str, tuple] = {}
    hooks = []
    for name, m in model.named_modules():
        if not name:
            continue

        def hook(mod, args, out, name=name):  # noqa: ANN001 - torch hook signature
            if name not in seen:  # a module called several times (shared refinement block): its first call
                seen[name] = (_prefix(args, B, T, t), _prefix(out, B, T, t))
        hooks.append(m.register_forward_hook(hook))
    try:
        logits = logits_of(call.forward(model, batch))
    finally:
        for h in hooks:
            h.remove()
    seen[""] = (None, _prefix(logits, B, T, t))
    return seen


ROWS = 2  # examples used: one changed future token shows in any row


def probe_causality(model: nn.Module, call: ModelCall, seed: int = 0) -> list[Finding]:
    """Perturb every token after t = T/2 (any leak, a symmetric band included, reaches the positions just before
    t); silent when the model has no (batch, time) token input."""
    call = call.rows(ROWS)
    x = call.inputs()
    if x is None or x.dim() != 2 or x.is_floating_point() or x.shape[1] < 4:
        return []
    B, T = x.shape
    with torch.no_grad(), eval_mode(model):
        base_logits = logits_of(call.forward(model))
        if base_logits is None or _prefix(base_logits, B, T, 0) is None:
            return []
        vocab = int(max(int(x.max()) + 1, base_logits.shape[-1] if base_logits.dim() == 3 else 0))
        g = torch.Generator().manual_seed(seed)
        worst = (0.0, -1)
        for t in (T // 2,):
            pert = x.clone()
            noise = torch.randint(0, vocab, (B, T - t - 1), generator=g).to(x.device)
            pert[:, t + 1:] = noise
            out = logits_of(call.forward(model, call.with_inputs(pert)))
            d = _changed(_prefix(base_logits, B, T, t), _prefix(out, B, T, t))
            if d > worst[0]:
                worst = (d, t)
        rel, t = worst
        if rel <= TOL:
            return []
        base = _trace(model, call, call.batch, B, T, t)
        pert = x.clone()
        pert[:, t + 1:] = torch.randint(0, vocab, (B, T - t - 1), generator=g).to(x.device)
        other = _trace(model, call, call.with_inputs(pert), B, T, t)
    leaking = [n for n in base if n and _changed(base[n][0], other[n][0]) <= TOL
               and _changed(base[n][1], other[n][1]) > TOL and base[n][0] is not None]
    culprits = [n for n in leaking if not any(o != n and o.startswith(n + ".") for o in leaking)]
    ev = [f"changing only the tokens after position {t} (of {T}) changed the outputs at positions <= {t} by "
          f"{fmt(rel)} of their scale (tolerance {TOL:g})"]
    sites = []
    if culprits:
        ev.append("the future first leaks in at " + ", ".join(named(model, n) for n in culprits[:3]))
        sites = [site(model, n) for n in culprits[:3]]
    return [Finding("probe_causality", "label_leakage", 0.9,
                    "the model reads future tokens: outputs at position t change when only later tokens change",
                    ev, None, {"causal_violation": rel, "cut_position": t, "modules": culprits[:3]}, sites)]
