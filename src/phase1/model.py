"""Decoder-only transformer with a recursive refinement loop and per-token ACT halting.

Layout (nanoGPT-like):
    tokens -> token + position embeddings -> blocks[0 .. n_layers-2] (the backbone, run once)
           -> blocks[-1] applied up to act_max_steps times (the refinement loop; weights shared across steps)
           -> final RMSNorm -> lm_head (tied to the token embedding by default)

ACT (Graves 2016, per token as in the Universal Transformer): after each refinement step a halting head gives every
token a probability p_n. A token halts once its accumulated probability reaches act_threshold (or at the last step);
its output is the p-weighted mix of its states, with the remainder R = 1 - sum(p before halting) on the halting
step. The weights depend on p, so both the LM loss and the ACT loss reach the halting head through autograd.

Everything is strictly causal: attention uses `is_causal=True`, and the halting decision of a token depends only on
its own state, which depends only on earlier tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig

LOG_EPS = 1e-8  # every log in this package is taken of x.clamp_min(LOG_EPS): log(0) must never reach the loss


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        k = k.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        v = v.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        # Causal mask: position t attends to positions <= t only. (The original Cognate code used a symmetric band
        # here, so every prediction could read the answer it was asked to predict.)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm1 = nn.RMSNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.norm2 = nn.RMSNorm(cfg.d_model)
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.drop(self.mlp(self.norm2(x)))


@dataclass
class ActState:
    """What the refinement loop leaves for the ACT loss and the logs (all shaped batch x tokens unless noted)."""

    step_weights: torch.Tensor  # (B, T, act_max_steps): each token's distribution over refinement steps (sums to 1)
    halt_probs: torch.Tensor  # (B, T): each token's mean halting probability over the steps it ran
    n_updates: torch.Tensor  # (B, T): refinement steps each token used (N in Graves' notation, no gradient)
    remainders: torch.Tensor  # (B, T): R = 1 - sum of p before halting (carries gradient)


def compute_act_loss(act: ActState, cfg: ModelConfig) -> torch.Tensor:
    """Differentiable ACT loss: Graves' ponder cost plus a diversity term.

    * ponder = mean(N + R): N is piecewise constant, R carries the gradient that teaches the head to halt earlier
      when extra steps do not pay for themselves in LM loss.
    * diversity = KL(step distribution || truncated geometric prior), as in PonderNet: it keeps each token's
      distribution over steps spread out, so halting cannot collapse onto one fixed step count for every token.
    """
    ponder = (act.n_updates + act.remainders).mean()
    n_steps = act.step_weights.shape[-1]
    steps = torch.arange(n_steps, device=act.step_weights.device, dtype=act.step_weights.dtype)
    prior = cfg.act_prior_p * (1 - cfg.act_prior_p) ** steps
    prior = prior / prior.sum()
    q = act.step_weights
    kl = (q * (torch.log(q.clamp_min(LOG_EPS)) - torch.log(prior.clamp_min(LOG_EPS)))).sum(-1).mean()
    return cfg.act_ponder_weight * ponder + cfg.act_diversity_weight * kl


@torch.no_grad()
def halting_stats(act: ActState) -> dict[str, float]:
    """The ACT numbers logged every step: mean and variance of the halting probability over all tokens of the
    batch, and the mean number of refinement steps per token."""
    halt_probs = act.halt_probs.detach().float().reshape(-1)  # one entry per token of the batch
    halt_var = halt_probs.var(dim=0)  # spread of halting across tokens: ~0 means every token halts alike
    return {
        "halt_mean": halt_probs.mean().item(),
        "halt_var": halt_var.item(),
        "steps_mean": act.n_updates.float().mean().item(),
    }


@dataclass
class ModelOutput:
    logits: torch.Tensor
    loss: torch.Tensor | None  # LM cross-entropy + ACT loss: what backward() is called on
    lm_loss: torch.Tensor | None  # cross-entropy alone, nats/token: what is logged as loss / val_loss
    act: ActState


class Phase1Model(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.max_seq_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.halt_norm = nn.RMSNorm(cfg.d_model)
        self.halt_head = nn.Linear(cfg.d_model, 1)
        self.norm_f = nn.RMSNorm(cfg.d_model)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        # GPT-2 style: residual projections scaled down with depth (the refinement block counts act_max_steps times)
        depth = cfg.n_layers - 1 + cfg.act_max_steps
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * depth))
        nn.init.constant_(self.halt_head.bias, cfg.act_init_bias)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    # ---- parameter bookkeeping -------------------------------------------------------------------------------
    def param_counts(self) -> dict[str, int | bool]:
        """Unique parameters by role (a tied head is counted once, under embedding)."""

        def count(params) -> int:
            return sum(p.numel() for p in params)

        seen: set[int] = set()
        unique = []
        for p in self.parameters():  # parameters() already de-duplicates tied tensors
            seen.add(id(p))
            unique.append(p)
        tied = self.lm_head.weight is self.wte.weight
        embedding = count([self.wte.weight, self.wpe.weight])
        unembedding = 0 if tied else self.lm_head.weight.numel()
        blocks = count(self.blocks.parameters())
        act_head = count(self.halt_head.parameters()) + count(self.halt_norm.parameters())
        total = count(unique)
        return {
            "total": total,
            "embedding": embedding,
            "unembedding": unembedding,
            "blocks": blocks,
            "act_head": act_head,
            "other": total - embedding - unembedding - blocks - act_head,
            "trainable": count(p for p in unique if p.requires_grad),
            "tied": tied,
        }

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token (nanoGPT/PaLM estimate), counting the refinement block act_max_steps times."""
        d, L = self.cfg.d_model, self.cfg.n_layers - 1 + self.cfg.act_max_steps
        block = self.blocks[0]
        n_matmul = L * sum(p.numel() for p in block.parameters() if p.dim() == 2) + self.lm_head.weight.numel()
        return 6 * n_matmul + 12 * L * d * seq_len

    # ---- forward ---------------------------------------------------------------------------------------------
    def refine(self, h: torch.Tensor) -> tuple[torch.Tensor, ActState]:
        """Apply the last block up to act_max_steps times with per-token ACT halting."""
        cfg = self.cfg
        block = self.blocks[-1]
        B, T, _ = h.shape
        zeros = h.new_zeros(B, T, dtype=torch.float32)
        halt_cum, remainders, n_updates, prob_sum = zeros, zeros, zeros, zeros
        running = torch.ones_like(zeros)
        out = torch.zeros_like(h)
        weights: list[torch.Tensor] = []
        for n in range(cfg.act_max_steps):
            # halted tokens keep their state; running ones are refined once more
            h = h + running.unsqueeze(-1).to(h.dtype) * (block(h) - h)
            p = torch.sigmoid(self.halt_head(self.halt_norm(h)).squeeze(-1).float())
            if n == cfg.act_max_steps - 1:
                halting = running
            else:
                halting = ((halt_cum + p * running) >= cfg.act_threshold).float() * running
            still = running - halting
            w = p * still + halting * (1.0 - halt_cum)  # halting tokens take the remainder
            remainders = remainders + halting * (1.0 - halt_cum)
            halt_cum = halt_cum + p * still
            n_updates = n_updates + running
            prob_sum = prob_sum + p * running
            out = out + w.unsqueeze(-1).to(h.dtype) * h
            weights.append(w)
            running = still
        while len(weights) < cfg.act_max_steps:
            weights.append(torch.zeros_like(zeros))
        act = ActState(
            step_weights=torch.stack(weights, dim=-1),
            halt_probs=prob_sum / n_updates.clamp_min(1.0),
            n_updates=n_updates.detach(),
            remainders=remainders,
        )
        return out, act

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> ModelOutput:
        B, T = idx.shape
        if T > self.cfg.max_seq_len:
            raise ValueError(f"sequence length {T} exceeds model.max_seq_len {self.cfg.max_seq_len}")
        pos = torch.arange(T, device=idx.device)
        h = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.blocks[:-1]:
            h = block(h)
        h, act = self.refine(h)
        logits = self.lm_head(self.norm_f(h))
        loss = lm_loss = None
        if targets is not None:
            lm_loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
            loss = lm_loss + compute_act_loss(act, self.cfg)
        return ModelOutput(logits=logits, loss=loss, lm_loss=lm_loss, act=act)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, stop_token: int | None = None) -> torch.Tensor:
        """Greedy decoding (deterministic, so samples are comparable between runs and after a resume)."""
        for _ in range(max_new_tokens):
            ctx = idx[:, -self.cfg.max_seq_len :]
            logits = self.forward(ctx).logits[:, -1, :]
            nxt = logits.argmax(dim=-1, keepdim=True)
            idx = torch.cat([idx, nxt], dim=1)
            if stop_token is not None and bool((nxt == stop_token).all()):
                break
        return idx
