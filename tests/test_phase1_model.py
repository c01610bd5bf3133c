"""Phase 1 model: strict causality, a halting head that really learns, parameter split at the pinned sizes."""

from __future__ import annotations

import pytest
import torch

from phase1.config import Config, ModelConfig, apply_overrides
from phase1.model import Phase1Model, compute_act_loss, halting_stats


def small_model(**kw) -> Phase1Model:
    cfg = ModelConfig(d_model=32, n_layers=2, n_heads=2, max_seq_len=32, act_max_steps=3, **kw)
    torch.manual_seed(0)
    return Phase1Model(cfg)


def test_perturbing_future_tokens_leaves_earlier_logits_unchanged():
    model = small_model().eval()
    idx = torch.randint(0, 256, (2, 24))
    cut = 12
    changed = idx.clone()
    changed[:, cut:] = torch.randint(0, 256, (2, 24 - cut))
    with torch.no_grad():
        a = model(idx).logits
        b = model(changed).logits
    assert torch.equal(a[:, :cut], b[:, :cut]), "logits before the perturbed position moved: future tokens leak"
    assert not torch.allclose(a[:, cut:], b[:, cut:]), "the perturbation should change later logits"


def test_halting_head_receives_gradient_from_the_act_loss_alone_and_from_the_total():
    model = small_model()
    idx = torch.randint(0, 256, (2, 16))
    out = model(idx, idx)
    act_loss = compute_act_loss(out.act, model.cfg)
    assert act_loss.requires_grad
    act_loss.backward(retain_graph=True)
    g = model.halt_head.weight.grad
    assert g is not None and g.abs().sum() > 0, "ACT loss does not reach the halting head"
    model.zero_grad(set_to_none=True)
    out.loss.backward()
    assert model.halt_head.weight.grad.abs().sum() > 0
    assert model.halt_head.bias.grad.abs().sum() > 0


def test_act_state_is_a_distribution_over_steps_and_stats_are_finite():
    model = small_model(act_init_bias=0.0, act_threshold=0.9)
    out = model(torch.randint(0, 256, (3, 16)))
    sums = out.act.step_weights.sum(-1)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)
    assert ((out.act.n_updates >= 1) & (out.act.n_updates <= 3)).all()
    stats = halting_stats(out.act)
    assert set(stats) == {"halt_mean", "halt_var", "steps_mean"}
    assert 0 < stats["halt_mean"] < 1 and stats["halt_var"] >= 0 and 1 <= stats["steps_mean"] <= 3


def test_default_size_is_about_25m_with_the_split_reported():
    counts = Phase1Model(Config().model).param_counts()
    assert 22e6 <= counts["total"] <= 28e6, counts
    assert counts["tied"] is True and counts["unembedding"] == 0
    parts = ("embedding", "unembedding", "blocks", "act_head", "other")
    assert sum(counts[k] for k in parts) == counts["total"]
    assert counts["blocks"] > 0.9 * counts["total"]  # byte vocabulary: the blocks hold the capacity


@pytest.mark.parametrize("tie", [True, False])
def test_tied_and_untied_embeddings(tie):
    model = small_model(tie_embeddings=tie)
    counts = model.param_counts()
    assert (model.lm_head.weight is model.wte.weight) is tie
    assert counts["unembedding"] == (0 if tie else model.lm_head.weight.numel())


def test_seed_embedding_heavy_configuration_puts_over_75_percent_in_embeddings():
    cfg = apply_overrides(Config(), {"model.vocab_size": 50257, "model.d_model": 320, "model.n_layers": 8,
                                     "model.n_heads": 5, "model.tie_embeddings": False})
    with torch.device("meta"):  # counting only: no 43M-parameter allocation
        counts = Phase1Model(cfg.model).param_counts()
    share = (counts["embedding"] + counts["unembedding"]) / counts["total"]
    assert share > 0.75, share
