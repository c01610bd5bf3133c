"""Run every probe on the user's model, batch, loss, optimiser and scheduler; never change any of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from traindoc.evidence.finding import Finding


@dataclass
class ProbeReport:
    findings: list[Finding] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)  # causes a probe tested for and found absent
    notes: list[str] = field(default_factory=list)  # one line per probe: what ran and what it saw
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings], "cleared": self.cleared, "notes": self.notes,
                "stats": self.stats, "seconds": self.seconds}


def run_probes(model: Any, batch: Any, loss_fn: Callable | None = None, optimizer: Any = None,
               scheduler: Any = None, forward: Callable | None = None, grad_filter: Callable | None = None,
               device: str | None = None, overfit_steps: int = 100) -> ProbeReport:
    """model: an nn.Module; batch: one batch as the training loop feeds it (tensor, (inputs, targets), or dict);
    loss_fn(output, batch) -> scalar (default: output.loss, else CE/MSE on the targets); optimizer: the training
    optimiser (its groups, schedule and filter are probed; the overfit test uses a copy of it); scheduler: a torch
    LR scheduler or a callable (optimizer, step) that sets the LR for a step; forward(model, batch) -> output
    replaces the default call; grad_filter(model) is what the loop calls between backward() and step() (Grokfast's
    gradfilter_ema, for instance); device: the accelerator the user allows (None = CPU only)."""
    import torch.nn as nn

    from traindoc.probe import ProbeError, activations, causality, gradient_flow, leak, loss_sanity, optimiser
    from traindoc.probe.inputs import ModelCall
    from traindoc.probe.safety import check_device, quiet

    if not isinstance(model, nn.Module):
        raise ProbeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_device(model, batch, device)
    call = ModelCall(batch, forward, loss_fn)
    rep = ProbeReport()

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        with quiet():
            out = fn()
        rep.seconds[name] = round(time.perf_counter() - t0, 3)
        return out

    fs = timed("causality", lambda: causality.probe_causality(model, call))
    rep.findings += fs
    x = call.inputs()
    if x is not None and x.dim() == 2 and not x.is_floating_point():
        rep.notes.append("causality: " + ("outputs at t depend on later tokens" if fs else
                                           "outputs at t do not depend on later tokens"))
        if not fs:
            rep.cleared.append("label_leakage")
    fs, ran = timed("feature_leak", lambda: leak.probe_feature_leak(call))
    rep.findings += fs
    if ran:
        rep.notes.append("feature leak: " + ("a single feature gives the label away" if fs else "no single feature "
                                             "separates the classes"))
        if not fs and "label_leakage" not in rep.cleared:
            rep.cleared.append("label_leakage")

    gp = timed("backward", lambda: gradient_flow.gradient_pass(model, call))
    fs = timed("gradient_flow", lambda: gradient_flow.probe_gradient_flow(gp))
    rep.findings += fs
    rep.stats["loss"] = gp.loss
    rep.stats["layer_grad_rms"] = dict(gradient_flow.layer_grad_rms(gp))
    causes = {f.cause for f in fs}
    if len(rep.stats["layer_grad_rms"]) >= 4 and "vanishing_gradients" not in causes:
        rep.cleared.append("vanishing_gradients")
    gp = None  # the copy with gradients: free it before the next copies

    fs, stats = timed("activations", lambda: activations.probe_activations(model, call))
    rep.findings += fs
    logits = stats.pop("logits")
    rep.stats.update(stats)
    if (stats["dead_share"] or stats["saturated_share"]) and not any(f.cause == "dead_units" for f in fs):
        rep.cleared.append("dead_units")

    rep.findings += timed("initial_loss", lambda: loss_sanity.probe_initial_loss(logits, call))
    if optimizer is not None:
        gs = timed("optimizer_groups", lambda: optimiser.probe_groups(model, optimizer))
        rep.findings += gs
        if "frozen_params" not in causes and not any(f.cause == "frozen_params" for f in gs):
            rep.cleared.append("frozen_params")
        fs = timed("scheduler", lambda: optimiser.probe_scheduler(model, optimizer, scheduler))
        rep.findings += fs
        rep.findings += timed("grad_filter", lambda: optimiser.probe_grad_filter(model, optimizer, grad_filter))
        blocked = [f.cause for f in rep.findings if f.cause in ("frozen_params", "dead_units", "vanishing_gradients")]
        fs, note = timed("overfit", lambda: loss_sanity.probe_overfit(model, call, optimizer, overfit_steps,
                                                                              blocked, scheduler))
        rep.findings += fs
        rep.notes.append(note)
        if note.startswith("overfit: the loss halved"):
            rep.cleared.append("lr_too_low")
    else:
        rep.notes.append("optimiser: not given; groups, schedule, filter and overfit probes skipped")
    rep.findings.sort(key=lambda f: -f.strength)
    return rep
