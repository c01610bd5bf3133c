"""Loss sanity (Karpathy's "recipe for training neural networks": verify the loss at init, overfit one batch).

* initial loss: with C classes (or a vocabulary of C tokens) an untrained model's cross-entropy is ~ln C, plus
  sigma^2/2 for zero-mean logits of std sigma. More than ln C + max(1, 0.2 ln C) (logit std ~1.4 or more) means
  over-confident outputs at init: badly scaled output logits.
* single-batch overfit (the batch's first two examples): the user's optimiser (a copy, at the schedule's peak
  LR, held there) must at least halve the loss within `steps` steps. When it cannot, the probe says why where it
  can measure it: the same copy with every group's LR raised 10x .. 10000x does halve it (LR too low; the update
  size per step is reported), or the other probes' frozen / dead / vanishing findings explain it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from traindoc.evidence.finding import Finding
from traindoc.probe.inputs import ModelCall, fmt
from traindoc.probe.optimiser import advance, peak_step
from traindoc.probe.safety import copies, eval_mode, quiet

LEARNS = 0.5  # the loss on the batch halves: the optimiser and the model can learn
FLAT = 0.9  # less than 10 % down: not learning at all (detect_lr_too_low's 'flat' is < 10 % too)


ROWS = 2  # the overfit test fits the first two examples of the batch (Karpathy's "overfit one batch" in its
# cheapest form): a model and optimiser that can learn fit two examples quickly


def probe_initial_loss(logits: torch.Tensor | None, call: ModelCall) -> list[Finding]:
    """logits: the model's outputs on the batch (the activation probe's forward pass, reused)."""
    y = call.targets()
    if y is None or y.is_floating_point():
        return []
    if logits is None or logits.dim() < 2 or logits.shape[:-1] != y.shape or logits.shape[-1] < 2:
        return []
    C = logits.shape[-1]
    ce = float(F.cross_entropy(logits.reshape(-1, C).float(), y.reshape(-1), ignore_index=-100))
    expect = math.log(C)
    if not math.isfinite(ce) or ce <= expect + max(1.0, 0.2 * expect):
        return []
    std = float(logits.float().std())
    return [Finding("probe_initial_loss", "output_logit_divergence", 0.5,
                    f"the initial loss {fmt(ce)} is far above ln({C}) = {fmt(expect)}: over-confident outputs",
                    [f"cross-entropy of the model's outputs on the batch {fmt(ce)} vs ln C = {fmt(expect)} for an "
                     f"uninformed model; output logit std {fmt(std)}"], None,
                    {"initial_loss": ce, "ln_classes": expect, "logit_std": std}, [])]


def _train(model: nn.Module, optimizer: Any, call: ModelCall, steps: int, lr_scale: float = 1.0,
           scheduler: Any = None, at_step: int = 0) -> tuple[list[float], float]:
    """Losses of `steps` optimiser steps on one batch (on copies, the LR held where the schedule puts it at
    `at_step`), stopping once the loss has halved; and the median relative update size |dw|/|w| of the first
    step."""
    m, opt, sch = copies(model, optimizer, scheduler)
    advance(opt, sch, at_step)
    if lr_scale != 1.0:
        for g in opt.param_groups:
            g["lr"] = g["lr"] * lr_scale
    losses: list[float] = []
    rel = float("nan")
    with eval_mode(m):  # deterministic: no dropout noise in a 30-step test
        for i in range(steps):
            opt.zero_grad(set_to_none=True)
            loss, _ = call.loss(m)
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]) or losses[-1] <= LEARNS * losses[0]:
                break
            loss.backward()
            before = [p.detach().clone() for g in opt.param_groups for p in g["params"]] if i == 0 else None
            opt.step()
            if before is not None:
                ps = [p for g in opt.param_groups for p in g["params"]]
                r = sorted(float((p.detach() - b).norm() / b.norm().clamp_min(1e-12)) for p, b in zip(ps, before,
                                                                                                     strict=True))
                rel = r[len(r) // 2] if r else rel
    return losses, rel


def probe_overfit(model: nn.Module, call: ModelCall, optimizer: Any, steps: int = 100,
                  explained_by: list[str] | None = None, scheduler: Any = None) -> tuple[list[Finding], str]:
    """(findings, one-line outcome for the report). `explained_by`: causes other probes found that stop a batch
    from being fitted whatever the LR (frozen, dead, vanishing): then a higher LR is not tried as the reason."""
    if optimizer is None:
        return [], "overfit: skipped (no optimiser given)"
    call = call.rows(ROWS)
    at = peak_step(model, optimizer, scheduler)  # past any warmup: the LR the run trains at
    with quiet():
        losses, rel = _train(model, optimizer, call, steps, 1.0, scheduler, at)
    if not losses or not math.isfinite(losses[0]) or losses[0] <= 0:
        return [], "overfit: skipped (initial loss not positive and finite)"
    ratio = losses[-1] / losses[0]
    if not math.isfinite(losses[-1]):
        return [], f"overfit: the loss became non-finite after {len(losses) - 1} step(s)"
    if ratio <= LEARNS:
        return [], f"overfit: the loss halved in {len(losses) - 1} step(s) ({fmt(losses[0])} -> {fmt(losses[-1])})"
    outcome = f"overfit: {steps} steps took the loss only from {fmt(losses[0])} to {fmt(losses[-1])}"
    if ratio < FLAT:
        return [], outcome + " (slow, not flat)"
    if explained_by:
        return [], outcome + f" (explained by {', '.join(sorted(set(explained_by)))})"
    for scale in (10.0, 100.0, 1000.0, 10000.0):
        with quiet():
            hl, _ = _train(model, optimizer, call, steps, scale, scheduler, at)
        if hl and math.isfinite(hl[-1]) and hl[-1] <= LEARNS * hl[0]:
            m, opt, sch = copies(model, optimizer, scheduler)
            advance(opt, sch, at)
            lrs = ", ".join(fmt(float(g["lr"])) for g in opt.param_groups)
            return [Finding(
                "probe_overfit", "lr_too_low", min(0.9, 0.5 + 0.1 * math.log10(scale)),
                "the optimiser cannot fit a single batch at its learning rate, but can at a higher one",
                [f"on one batch, {steps} steps at lr {lrs} moved the loss {fmt(losses[0])} -> {fmt(losses[-1])} "
                 f"({1 - ratio:.1%}); the first step changed the weights by a median {fmt(rel)} of their norm",
                 f"the same optimiser with every LR x{scale:g} halved the loss in {len(hl) - 1} step(s)"],
                None, {"overfit_ratio": ratio, "relative_update": rel, "lr_scale_that_learns": scale}, [])], \
                outcome + f"; x{scale:g} LR learns"
    return [], outcome + "; a higher LR does not help either (see the frozen / dead / vanishing findings)"
