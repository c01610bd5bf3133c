"""Optimiser wiring, measured on copies of the user's optimiser and scheduler:

* groups: every trainable parameter in exactly one param group (missing ones never move: frozen in effect);
* scheduler: whatever numeric group value the scheduler changes between two schedule points must change the size
  of that group's update. The update is measured (one step from the same state with the same gradient at each
  point), never read back from the param_group dict: a scheduler that writes a key the optimiser never reads (the
  original code's `group["scheduled_lr"]`) changes the dict but not the update;
* gradient filter (Grokfast-style, in the optimiser or as `grad_filter(model)` before step): fed a constant slow
  gradient s and then s + n with a fast component n orthogonal to s, the filter's addition to the gradient must
  point along s (the EMA, i.e. the slow component, amplified); along n it amplifies noise (the original code's
  g + lambda * (g - ema) high-pass form), against s it subtracts the slow component.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn

from traindoc.evidence.finding import Finding
from traindoc.probe.inputs import fmt, named, site
from traindoc.probe.safety import copies, quiet

# schedule points (steps) compared: wide enough to span any warmup and most of a decay
POINTS = (0, 1, 3, 10, 30, 100, 300, 1000, 3000)
MIN_CHANGE = 1.5  # a scheduler change smaller than this factor is not tested (nothing to see)
SAMPLE = 3  # parameters per group whose updates are measured


def _group_name(g: dict, i: int) -> str:
    return str(g.get("name", i))


def probe_groups(model: nn.Module, optimizer: Any) -> list[Finding]:
    held = Counter(id(p) for g in optimizer.param_groups for p in g["params"])
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    n_train = sum(p.numel() for _, p in trainable)
    out = []
    missing = [n for n, p in trainable if held[id(p)] == 0]
    if missing:
        share = sum(p.numel() for n, p in trainable if n in missing) / max(n_train, 1)
        out.append(Finding("probe_optimizer_groups", "frozen_params", min(0.95, 0.45 + 0.5 * share),
                           f"{len(missing)} parameter(s) with requires_grad ({share:.1%} of the trainable weights) are "
                           f"in no optimiser group: they get gradients but never move",
                           [f"{named(model, n)} is in no param group" for n in missing[:5]], None,
                           {"not_in_optimizer": missing[:20], "not_in_optimizer_share": share},
                           [site(model, missing[0])]))
    dup = [n for n, p in trainable if held[id(p)] > 1]
    if dup:
        out.append(Finding("probe_optimizer_groups", "optimizer_misconfig", 0.7,
                           f"{len(dup)} parameter(s) sit in more than one optimiser group: updated twice per step",
                           [f"{named(model, n)} is in {held[id(dict(model.named_parameters())[n])]} groups"
                            for n in dup[:5]], None, {"duplicated_params": dup[:20]}, [site(model, dup[0])]))
    return out


def _advance(optimizer: Any, scheduler: Any, step: int) -> None:
    """Put a (copied) scheduler at `step`: a torch LRScheduler is stepped, a callable is called (opt, step)."""
    if hasattr(scheduler, "step") and hasattr(scheduler, "optimizer"):
        for _ in range(step):
            scheduler.step()
    elif callable(scheduler):
        scheduler(optimizer, step)
    else:
        raise TypeError("scheduler must be a torch LR scheduler or a callable (optimizer, step)")


def _reachable(optimizer: Any, scheduler: Any, step: int) -> bool:
    """Advance a copy to `step`; False when the schedule ends before it (OneCycleLR raises past total_steps)."""
    try:
        _advance(optimizer, scheduler, step)
    except (ValueError, IndexError, ZeroDivisionError):
        return False
    return True


def _numbers(optimizer: Any) -> list[dict[str, float]]:
    return [{k: float(v) for k, v in g.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            for g in optimizer.param_groups]


def _fixed_grads(params: list[torch.Tensor], seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(p.shape, generator=g, dtype=torch.float32).to(p.device, p.dtype) for p in params]


def peak_step(model: nn.Module, optimizer: Any, scheduler: Any) -> int:
    """The schedule point (of POINTS) where the groups' "lr" is highest: past any warmup."""
    if scheduler is None:
        return 0
    keep = {id(p): p for p in model.parameters()}
    best, at = -1.0, 0
    with quiet():
        for s in POINTS:
            opt, sch = copy.deepcopy((optimizer, scheduler), memo=dict(keep))
            if not _reachable(opt, sch, s):
                break
            total = sum(float(g.get("lr", 0.0)) for g in opt.param_groups)
            if total > best * (1 + 1e-9):
                best, at = total, s
    return at


def advance(optimizer: Any, scheduler: Any, step: int) -> None:
    if scheduler is not None:
        _advance(optimizer, scheduler, step)


def _sample(opt: Any) -> list[list[torch.Tensor]]:
    """Per group, the (up to) SAMPLE smallest parameters: an update's size and a filter's sign are properties of
    the group's hyperparameters and code, so a few small tensors measure them as well as all of them, and Muon's
    Newton-Schulz iterations on a 25M-parameter model's big matrices are skipped. Other parameters keep grad None,
    which every optimiser skips."""
    return [sorted(g["params"], key=lambda p: p.numel())[:SAMPLE] for g in opt.param_groups]


def _update_sizes(model: nn.Module, optimizer: Any, scheduler: Any, step: int) -> list[float]:
    """Size of each group's update for one optimiser step at schedule point `step`, from fresh optimiser state and
    the same seeded gradient on the sampled parameters."""
    m, opt, sch = copies(model, optimizer, scheduler)
    _advance(opt, sch, step)
    opt.state.clear()
    sample = _sample(opt)
    params = [p for ps in sample for p in ps]
    for p in (p for g in opt.param_groups for p in g["params"]):
        p.grad = None
    for p, g in zip(params, _fixed_grads(params, 0), strict=True):
        p.grad = g
    before = [[p.detach().clone() for p in ps] for ps in sample]
    opt.step()
    return [math.sqrt(sum(float((p.detach() - b).float().pow(2).sum()) for p, b in zip(ps, bs, strict=True)))
            for ps, bs in zip(sample, before, strict=True)]


def probe_scheduler(model: nn.Module, optimizer: Any, scheduler: Any) -> list[Finding]:
    if scheduler is None:
        return []
    keep = {id(p): p for p in model.parameters()}
    with quiet():
        snaps = {}
        for s in POINTS:  # the dicts only: parameters are shared (memo), nothing steps
            opt, sch = copy.deepcopy((optimizer, scheduler), memo=dict(keep))
            if not _reachable(opt, sch, s):
                break
            snaps[s] = _numbers(opt)
        # the pair of points where some group value changes most
        best = (0.0, 0, 0, 0, "")
        for a in snaps:
            for b in snaps:
                for gi, (ga, gb) in enumerate(zip(snaps[a], snaps[b], strict=True)):
                    for k, va in ga.items():
                        vb = gb.get(k)
                        if vb is None or va <= 0 or vb <= 0:
                            continue
                        r = abs(math.log(vb / va))
                        if r > best[0]:
                            best = (r, a, b, gi, k)
        intended, a, b, _, _ = best
        if intended < math.log(MIN_CHANGE):
            return []
        ua = _update_sizes(model, optimizer, scheduler, a)
        ub = _update_sizes(model, optimizer, scheduler, b)
    out_ev, names, keys = [], [], []
    for gi, (ga, gb) in enumerate(zip(snaps[a], snaps[b], strict=True)):
        changed = {k: gb[k] / ga[k] for k in ga if k in gb and ga[k] > 0 and gb[k] > 0
                   and abs(math.log(gb[k] / ga[k])) >= math.log(MIN_CHANGE)}
        if not changed or ua[gi] <= 0 or ub[gi] <= 0:
            continue
        key, want = max(changed.items(), key=lambda kv: abs(math.log(kv[1])))
        got = ub[gi] / ua[gi]
        if abs(math.log(got)) < 0.1 * abs(math.log(want)):
            name = _group_name(optimizer.param_groups[gi], gi)
            names.append(name)
            keys.append(key)
            out_ev.append(f"group '{name}': the scheduler changes group['{key}'] {fmt(want)}x between steps {a} and "
                          f"{b}, but the measured update size changes {fmt(got)}x")
    if not out_ev:
        return []
    return [Finding("probe_scheduler", "scheduler_misuse", 0.85,
                    "the LR schedule never reaches the updates: the scheduler changes a group value the optimiser "
                    "does not use", out_ev + [f"scheduler {type(scheduler).__name__} ({_where(scheduler)}), "
                                              f"optimiser {type(optimizer).__name__} ({_where(optimizer)})"],
                    None, {"groups": names, "keys": keys}, [])]


def _where(obj: Any) -> str:
    from traindoc.probe.inputs import where

    return where(obj)


def probe_grad_filter(model: nn.Module, optimizer: Any,
                      grad_filter: Callable[[nn.Module], Any] | None = None) -> list[Finding]:
    with quiet():
        m, opt, _ = copies(model, optimizer)
        opt.state.clear()
        sample = _sample(opt)
        for p in (p for g in opt.param_groups for p in g["params"]):
            p.grad = None
        params = [p for ps in sample for p in ps]
        slow = _fixed_grads(params, 1)
        fast = []
        for s, n in zip(slow, _fixed_grads(params, 2), strict=True):
            n = n - (n * s).sum() / (s * s).sum().clamp_min(1e-12) * s  # orthogonal to the slow direction
            fast.append(n * (s.norm() / n.norm().clamp_min(1e-12)))
        for p, s in zip(params, slow, strict=True):
            p.grad = s.clone()
        if grad_filter is not None:
            grad_filter(m)
        opt.step()
        for p, s, n in zip(params, slow, fast, strict=True):
            p.grad = s + n
        given = [p.grad.clone() for p in params]
        if grad_filter is not None:
            grad_filter(m)
        opt.step()
    names = {id(p): n for n, p in m.named_parameters()}
    ev, bad = [], []
    i = 0
    for gi, (g, ps) in enumerate(zip(opt.param_groups, sample, strict=True)):
        k = len(ps)
        rows = list(zip(ps, given[i:i + k], slow[i:i + k], fast[i:i + k], strict=True))
        i += k
        delta = [(p.grad - gv) if p.grad is not None else torch.zeros_like(gv) for p, gv, _, _ in rows]
        dn = math.sqrt(sum(float(d.float().pow(2).sum()) for d in delta))
        gn = math.sqrt(sum(float(gv.float().pow(2).sum()) for _, gv, _, _ in rows))
        if dn <= 1e-6 * max(gn, 1e-12):
            continue  # no filter changes this group's gradient
        sn = math.sqrt(sum(float(s.float().pow(2).sum()) for _, _, s, _ in rows))
        fn = math.sqrt(sum(float(f.float().pow(2).sum()) for _, _, _, f in rows))
        cos_s = sum(float((d * s).sum()) for d, (_, _, s, _) in zip(delta, rows, strict=True)) / (dn * sn)
        cos_f = sum(float((d * f).sum()) for d, (_, _, _, f) in zip(delta, rows, strict=True)) / (dn * fn)
        if cos_s < -0.5 or (cos_f > 0.5 and cos_s < 0.5):
            bad.append((_group_name(g, gi), cos_s, cos_f))
            ev.append(f"group '{_group_name(g, gi)}' (first parameter {names.get(id(rows[0][0]), '?')}): fed a "
                      f"constant gradient s then s + n (n orthogonal to s), the filter added a component with cosine "
                      f"{cos_s:+.2f} to s and {cos_f:+.2f} to n; a slow-gradient amplifier adds ~+1 along s")
    if not bad:
        return []
    subtracts = min(c for _, c, _ in bad) < -0.5
    what = "subtracts the slow component" if subtracts else "amplifies the fast (noisy) component"
    holder = (f"grad_filter {_where(grad_filter)}" if grad_filter
              else f"{type(optimizer).__name__} ({_where(optimizer)})")
    return [Finding("probe_grad_filter", "optimizer_misconfig", 0.85,
                    f"the gradient filter {what} instead of adding the slow one (wrong sign)",
                    [*ev, f"the filter runs in {holder}"], None,
                    {"groups": [b[0] for b in bad], "filter_cos_slow": min(b[1] for b in bad),
                     "filter_cos_fast": max(b[2] for b in bad)}, [])]
