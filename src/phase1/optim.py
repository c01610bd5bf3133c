"""MuGrokfast: Muon on 2-D hidden matrices, AdamW on everything else, both fed Grokfast-filtered gradients.

Per parameter and step (see docs/phase1.md and the references in it):
  1. Grokfast EMA filter (ironjr/grokfast `gradfilter_ema`): ema <- alpha*ema + (1-alpha)*g (ema starts at the first
     g), then g <- g + lambda*ema. The slow component is ADDED (amplified); the original Cognate code used
     g + lambda*(g - ema), a high-pass filter that amplifies noise.
  2a. "muon" group (hidden 2-D matrices of the blocks): Nesterov momentum, Newton-Schulz orthogonalisation with
     Keller Jordan's quintic coefficients (3.4445, -4.7750, 2.0315), shape scaling, decoupled weight decay.
  2b. "adam" group (embeddings, lm_head, norms, biases, halting head): AdamW.
Each group reads its learning rate from group["lr"]; the schedule writes exactly that key through set_lr().
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from .config import OptimConfig

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # Keller Jordan's quintic (also torch.optim.Muon's default)


def newton_schulz5(G: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """Approximately orthogonalise G (map its singular values to ~[0.5, 1.2]) with 5 quintic Newton-Schulz steps.

    Runs in bf16 on CUDA as the reference does; on CPU bf16 matmuls are slow and gain nothing, so fp32 there.
    """
    assert G.dim() == 2, "Muon only handles 2-D matrices"
    a, b, c = NS_COEFFICIENTS
    X = G.bfloat16() if G.is_cuda else G.float()
    transposed = X.size(0) > X.size(1)
    if transposed:  # iterate on the wide orientation: X @ X.T is then the small Gram matrix
        X = X.T
    X = X / (X.norm() + eps)  # Frobenius norm >= spectral norm, so every singular value starts <= 1
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    if transposed:
        X = X.T
    return X.to(G.dtype)


def grokfast_ema_(
    grad: torch.Tensor, state: dict, alpha: float, lamb: float, align: torch.Tensor | None = None
) -> None:
    """Grokfast EMA filter, in place on grad: ema tracks the slow gradient, which is then added lamb times.

    align (5 float64 sums, see filter_alignment) accumulates how the raw and the filtered gradient line up with ema."""
    if "grokfast_ema" not in state:
        state["grokfast_ema"] = grad.detach().clone()  # mu_1 = g_1, as in the reference implementation
    else:
        state["grokfast_ema"].mul_(alpha).add_(grad, alpha=1 - alpha)
    ema = state["grokfast_ema"]
    if align is not None:  # the raw gradient against the slow EMA, before the filter touches it
        g, e = grad.float(), ema.float()
        align[:3] += torch.stack([(g * e).sum(), g.square().sum(), e.square().sum()]).double()
    grad.add_(ema, alpha=lamb)
    if align is not None:  # and the gradient the optimiser will apply
        g = grad.float()
        align[3:] += torch.stack([(g * e).sum(), g.square().sum()]).double()


def filter_alignment(align: torch.Tensor | None) -> dict[str, float] | None:
    """Cosine of the raw and of the filtered gradient (all filtered parameters as one vector) with the slow EMA.

    A diagnostic of the filter itself: adding lamb*ema to g (lamb > 0) always turns g towards ema, so cos_filtered >
    cos_raw at every step after the first (where g = ema and both are 1); a filter that amplifies anything else does
    not. None when no gradient was filtered (grokfast_lambda 0)."""
    if align is None:
        return None
    ge, gg, ee, fe, ff = align.tolist()
    return {"cos_raw": ge / math.sqrt(gg * ee) if gg * ee > 0 else math.nan,
            "cos_filtered": fe / math.sqrt(ff * ee) if ff * ee > 0 else math.nan}


def set_lr(optimizer: torch.optim.Optimizer, factor: float) -> None:
    """The LR schedule's only way into the optimiser: scale every group's initial LR by `factor`."""
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * factor


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Linear warmup to 1 over warmup_steps, then cosine decay to min_ratio at total_steps (step is 0-based)."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class MuGrokfast(torch.optim.Optimizer):
    """Muon + AdamW behind one optimiser, with a Grokfast EMA filter in front of both.

    Param groups carry a "name" ("muon" or "adam") and "use_muon"; group defaults hold the named hyperparameters
    muon_lr, adam_lr, grokfast_alpha, grokfast_lambda (a group's "lr" starts at muon_lr or adam_lr).
    """

    def __init__(
        self,
        param_groups: list[dict],
        muon_lr: float = 5e-3,
        adam_lr: float = 3e-3,
        grokfast_alpha: float = 0.98,
        grokfast_lambda: float = 0.5,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_steps: int = 5,
        muon_scaling: str = "match_rms_adamw",
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.95),
        eps: float = 1e-8,
    ) -> None:
        defaults = dict(
            muon_lr=muon_lr,
            adam_lr=adam_lr,
            grokfast_alpha=grokfast_alpha,
            grokfast_lambda=grokfast_lambda,
            momentum=momentum,
            nesterov=nesterov,
            ns_steps=ns_steps,
            muon_scaling=muon_scaling,
            weight_decay=weight_decay,
            betas=tuple(betas),
            eps=eps,
        )
        for group in param_groups:
            use_muon = bool(group.get("use_muon", False))
            group.setdefault("name", "muon" if use_muon else "adam")
            group["use_muon"] = use_muon
            lr = group.get("lr", muon_lr if use_muon else adam_lr)
            group["lr"] = lr
            group.setdefault("initial_lr", lr)
            if use_muon:
                bad = [tuple(p.shape) for p in group["params"] if p.dim() != 2]
                if bad:
                    raise ValueError(f"Muon group holds non-2-D parameters {bad}; route them to the adam group")
        super().__init__(param_groups, defaults)

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 - torch's signature
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        align = None  # sums for filter_alignment, over every filtered parameter
        for group in self.param_groups:
            lr = group["lr"]
            alpha, lamb = group["grokfast_alpha"], group["grokfast_lambda"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                grad = p.grad
                if lamb != 0:
                    if align is None:
                        align = torch.zeros(5, dtype=torch.float64, device=grad.device)
                    grokfast_ema_(grad, state, alpha, lamb, align)
                if group["use_muon"]:
                    self._muon_update(p, grad, state, group, lr)
                else:
                    self._adamw_update(p, grad, state, group, lr)
        self.filter_alignment = filter_alignment(align)  # the trainer logs it with the step
        return loss

    @staticmethod
    def _muon_update(p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict, lr: float) -> None:
        momentum = group["momentum"]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(grad)
        buf = state["momentum_buffer"]
        buf.lerp_(grad, 1 - momentum)  # B <- beta*B + (1-beta)*G
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        ortho = newton_schulz5(update, steps=group["ns_steps"])
        rows, cols = p.shape
        if group["muon_scaling"] == "original":
            scale = max(1.0, rows / cols) ** 0.5
        else:  # match_rms_adamw: update RMS ~ 0.2, like AdamW's, so AdamW-scale LRs apply
            scale = 0.2 * max(rows, cols) ** 0.5
        if group["weight_decay"]:
            p.mul_(1 - lr * group["weight_decay"])
        p.add_(ortho, alpha=-lr * scale)

    @staticmethod
    def _adamw_update(p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict, lr: float) -> None:
        beta1, beta2 = group["betas"]
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["weight_decay"] and p.dim() >= 2:  # never decay norms and biases
            p.mul_(1 - lr * group["weight_decay"])
        denom = (exp_avg_sq / (1 - beta2**t)).sqrt_().add_(group["eps"])
        p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**t))


def split_params(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Route parameters: 2-D hidden matrices of the transformer blocks -> Muon; everything else -> AdamW.

    Embeddings and the (possibly tied) lm_head are 2-D but are NOT hidden matrices: Muon's guidance and the
    original Cognate bug #11 both say they belong with AdamW. Frozen parameters are left out.
    """
    muon, adam = [], []
    seen: set[int] = set()
    for name, p in model.named_parameters():
        if id(p) in seen or not p.requires_grad:
            continue
        seen.add(id(p))
        if name.startswith("blocks.") and p.dim() == 2:
            muon.append(p)
        else:
            adam.append(p)
    return muon, adam


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    muon, adam = split_params(model)
    if cfg.name == "adamw":
        # Baseline / fallback: AdamW on every parameter, still two named groups so logs keep one shape.
        groups = [
            {"params": muon, "name": "muon", "lr": cfg.adam_lr, "initial_lr": cfg.adam_lr},
            {"params": adam, "name": "adam", "lr": cfg.adam_lr, "initial_lr": cfg.adam_lr},
        ]
        groups = [g for g in groups if g["params"]]
        return torch.optim.AdamW(groups, lr=cfg.adam_lr, betas=tuple(cfg.adam_betas), eps=cfg.adam_eps,
                                 weight_decay=cfg.weight_decay)
    if cfg.name == "sgd":
        # Plain SGD with (Nesterov) momentum on every parameter, at optim.adam_lr with optim.momentum/nesterov.
        # Unlike Muon and AdamW, its update scales with the raw gradient, so it is the optimiser under which
        # grad-norm clipping really matters (the fault zoo's grad_explosion scenario). Two named groups so logs
        # keep one shape; set_lr drives group["lr"] from group["initial_lr"] as for the others.
        groups = [
            {"params": muon, "name": "muon", "lr": cfg.adam_lr, "initial_lr": cfg.adam_lr},
            {"params": adam, "name": "adam", "lr": cfg.adam_lr, "initial_lr": cfg.adam_lr},
        ]
        groups = [g for g in groups if g["params"]]
        return torch.optim.SGD(groups, lr=cfg.adam_lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                               weight_decay=cfg.weight_decay)
    groups = [
        {"params": muon, "name": "muon", "use_muon": True},
        {"params": adam, "name": "adam", "use_muon": False},
    ]
    groups = [g for g in groups if g["params"]]
    return MuGrokfast(
        groups,
        muon_lr=cfg.muon_lr,
        adam_lr=cfg.adam_lr,
        grokfast_alpha=cfg.grokfast_alpha,
        grokfast_lambda=cfg.grokfast_lambda,
        momentum=cfg.momentum,
        nesterov=cfg.nesterov,
        ns_steps=cfg.ns_steps,
        muon_scaling=cfg.muon_scaling,
        weight_decay=cfg.weight_decay,
        betas=tuple(cfg.adam_betas),
        eps=cfg.adam_eps,
    )


def group_lrs(optimizer: torch.optim.Optimizer) -> dict[str, float]:
    """What the optimiser will actually use: group["lr"], keyed by group name."""
    return {g.get("name", str(i)): float(g["lr"]) for i, g in enumerate(optimizer.param_groups)}
