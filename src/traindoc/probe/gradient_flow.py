"""Gradient flow: one backward pass of the user's loss on a copy of the model.

* every trainable parameter must get a finite, non-zero gradient: none = it never reaches the loss (frozen in
  effect; for the ACT halting head that is the original code's bug, a head whose loss has no gradient); all zero =
  the signal is blocked on the way back (dead units);
* per-layer gradient RMS, layers in the order the forward pass runs them: falling by >= 100x (two orders of
  magnitude) from the last third of the layers to the first third is vanishing gradients. Healthy networks (ReLU
  MLPs and CNNs with Kaiming init, pre-norm transformers) stay within ~10x, the output layer's own larger gradient
  included (measured on the healthy models of tests/test_probe.py);
* most parameters with requires_grad=False (the checkpoint/config rule of detect_frozen_params: < 50 % trainable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from traindoc.evidence.finding import Finding
from traindoc.probe.inputs import ModelCall, fmt, named, site
from traindoc.probe.safety import copies, eval_mode

VANISH_RATIO = 100.0  # two orders of magnitude between the last and the first third of the layers
ACT_WORDS = ("halt", "ponder", "act_head")  # an adaptive-computation head: its silence is act_variance_collapse


@dataclass
class GradPass:
    model: nn.Module  # the copy that holds the gradients
    loss: float
    order: list[str] = field(default_factory=list)  # modules owning parameters, in forward execution order


def gradient_pass(model: nn.Module, call: ModelCall) -> GradPass:
    m, _, _ = copies(model)
    order: list[str] = []
    hooks = []
    for name, mod in m.named_modules():
        if any(True for _ in mod.parameters(recurse=False)):
            hooks.append(mod.register_forward_hook(
                lambda mod, a, o, name=name: order.append(name) if name not in order else None))
    try:
        with eval_mode(m):
            m.zero_grad(set_to_none=True)
            loss, _ = call.loss(m)
            loss.backward()
    finally:
        for h in hooks:
            h.remove()
    return GradPass(m, float(loss.detach()), order)


def _owner(name: str) -> str:
    return name.rpartition(".")[0]


def probe_gradient_flow(gp: GradPass) -> list[Finding]:
    m = gp.model
    out: list[Finding] = []
    params = list(m.named_parameters())
    total = sum(p.numel() for _, p in params)
    trainable = [(n, p) for n, p in params if p.requires_grad]
    n_train = sum(p.numel() for _, p in trainable)

    nonfinite = [n for n, p in trainable if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
    if nonfinite:
        out.append(Finding("probe_gradient_flow", "nan_inf", 0.8,
                           f"non-finite gradients in {len(nonfinite)} parameter(s) after one backward pass",
                           [f"{named(m, n)}: grad has NaN/Inf (loss {fmt(gp.loss)})" for n in nonfinite[:5]], None,
                           {"nonfinite_params": nonfinite[:20]}, [site(m, nonfinite[0])]))

    # no gradient at all: the parameter is not in the loss's graph (frozen in effect); an all-zero gradient: it is,
    # but the signal is blocked on the way (units that pass nothing: dead ReLUs, gates stuck shut)
    none = [n for n, p in trainable if p.grad is None]
    zero = [n for n, p in trainable if p.grad is not None and not bool(p.grad.abs().sum() > 0)]
    sizes = dict(params)
    act = [n for n in none + zero if any(w in n.lower() for w in ACT_WORDS)]
    if act:
        out.append(Finding("probe_gradient_flow", "act_variance_collapse", 0.85,
                           "the ACT halting head gets no gradient from the loss: halting can never be learned",
                           [f"{named(m, n)} gets {'no' if sizes[n].grad is None else 'an all-zero'} gradient"
                            for n in act[:5]], None, {"no_grad_params": act}, [site(m, act[0])]))
    none = [n for n in none if n not in act]
    zero = [n for n in zero if n not in act]
    for names_, cause, base, cap, what, key in (
            (none, "frozen_params", 0.3, 0.9, "are not in the loss's graph: they never learn", "no_grad"),
            (zero, "dead_units", 0.3, 0.8, "get an all-zero gradient: the signal is blocked on its way back (dead or "
             "saturated units)", "zero_grad")):
        if not names_:
            continue
        share = sum(sizes[n].numel() for n in names_) / max(n_train, 1)
        how = "no gradient (grad is None after backward)" if key == "no_grad" else "an all-zero gradient"
        out.append(Finding("probe_gradient_flow", cause, min(cap, base + (cap - base) * share),
                           f"{len(names_)} trainable parameter(s) ({share:.1%} of the trainable weights) {what}",
                           [f"{named(m, n)} gets {how}" for n in names_[:5]], None,
                           {f"{key}_params": names_[:20], f"{key}_share": share}, [site(m, names_[0])]))

    frozen = [(n, p) for n, p in params if not p.requires_grad]
    fshare = sum(p.numel() for _, p in frozen) / max(total, 1)
    if fshare >= 0.5:
        mods = sorted({_owner(n) for n, _ in frozen})
        out.append(Finding("probe_gradient_flow", "frozen_params", 0.3 + 0.5 * (fshare - 0.5) / 0.5,
                           f"{fshare:.0%} of the parameters have requires_grad=False",
                           [f"requires_grad=False in {len(mods)} module(s), e.g. " +
                            ", ".join(named(m, x) for x in mods[:3])], None,
                           {"frozen_share": fshare}, [site(m, mods[0])]))

    v = _vanishing(gp)
    if v:
        out.append(v)
    return out


def layer_grad_rms(gp: GradPass) -> list[tuple[str, float]]:
    """(module, RMS of its weight-matrix gradients) in forward order; embeddings skipped (their gradient is
    spread over the rows the batch used, so its RMS says nothing about depth)."""
    mods = dict(gp.model.named_modules())
    rows = []
    for name in gp.order:
        mod = mods[name]
        if isinstance(mod, nn.Embedding):
            continue
        gs = [p.grad for p in mod.parameters(recurse=False) if p.dim() >= 2 and p.grad is not None]
        if not gs:
            continue
        sq = sum(float(g.float().pow(2).sum()) for g in gs)
        n = sum(g.numel() for g in gs)
        rows.append((name, math.sqrt(sq / n)))
    return rows


def _vanishing(gp: GradPass) -> Finding | None:
    rows = layer_grad_rms(gp)
    if len(rows) < 4:
        return None
    k = max(1, len(rows) // 3)
    first = sorted(r for _, r in rows[:k])[(k - 1) // 2]
    last = sorted(r for _, r in rows[-k:])[(k - 1) // 2]
    if first <= 0 or not math.isfinite(first) or last / first < VANISH_RATIO:
        return None
    ratio = last / first
    m = gp.model
    shown = rows if len(rows) <= 6 else rows[:3] + rows[-3:]
    profile = ", ".join(f"{n} {fmt(r)}" for n, r in shown)
    return Finding("probe_gradient_flow", "vanishing_gradients",
                   min(0.9, 0.45 + 0.15 * (math.log10(ratio) - 2)),
                   f"gradients vanish with depth: the first layers get {fmt(ratio)}x smaller gradients than the last",
                   [f"per-layer gradient RMS in forward order: {profile}",
                    f"first layer {named(m, rows[0][0])}"], None,
                   {"grad_depth_ratio": ratio, "layer_grad_rms": {n: r for n, r in rows}}, [site(m, rows[0][0])])
