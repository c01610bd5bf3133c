"""MuGrokfast: Newton-Schulz orthogonalises, Grokfast amplifies the slow gradient, the schedule drives group["lr"]."""

from __future__ import annotations

import pytest
import torch

from phase1.config import Config, OptimConfig
from phase1.model import Phase1Model
from phase1.optim import (
    MuGrokfast,
    build_optimizer,
    filter_alignment,
    grokfast_ema_,
    lr_factor,
    newton_schulz5,
    set_lr,
    split_params,
)


@pytest.mark.parametrize("shape", [(64, 64), (32, 128), (128, 32)])
def test_newton_schulz_maps_singular_values_near_one(shape):
    torch.manual_seed(0)
    # badly conditioned input: singular values spread over three orders of magnitude
    U, _ = torch.linalg.qr(torch.randn(shape[0], shape[0]))
    V, _ = torch.linalg.qr(torch.randn(shape[1], shape[1]))
    k = min(shape)
    s = torch.logspace(0, -3, k)
    G = U[:, :k] @ torch.diag(s) @ V[:, :k].T
    sv = torch.linalg.svdvals(newton_schulz5(G))
    # Keller Jordan's quintic is deliberately inexact: singular values land in roughly [0.3, 1.2] instead of 1
    assert sv.max() < 1.25 and sv.min() > 0.2, (sv.min(), sv.max())
    assert sv.max() / sv.min() < 6  # input condition number was 1000
    assert torch.linalg.svdvals(G).max() / torch.linalg.svdvals(G).min() > 500


def test_muon_update_size_does_not_follow_gradient_scale():
    def update(scale: float) -> torch.Tensor:
        torch.manual_seed(1)
        w = torch.nn.Parameter(torch.randn(16, 32))
        opt = MuGrokfast([{"params": [w], "use_muon": True}], muon_lr=0.01, grokfast_lambda=0.0)
        before = w.detach().clone()
        w.grad = torch.randn(16, 32) * scale
        opt.step()
        return w.detach() - before

    small, large = update(1e-3), update(1e3)
    assert torch.allclose(small, large, rtol=1e-3, atol=1e-6)


def test_grokfast_adds_the_slow_gradient_with_positive_sign():
    """Constant gradient g: the EMA equals g, so the filtered gradient is (1 + lambda) * g (the reference sign).
    The inverted high-pass form g + lambda * (g - ema) would leave exactly g."""
    lamb = 2.0
    p = torch.nn.Parameter(torch.zeros(5))
    opt = MuGrokfast([{"params": [p]}], adam_lr=1e-3, grokfast_alpha=0.9, grokfast_lambda=lamb)
    for _ in range(3):
        p.grad = torch.full((5,), 0.5)
        opt.step()
        assert torch.allclose(p.grad, torch.full((5,), 0.5 * (1 + lamb)))


def test_grokfast_ema_low_passes_an_alternating_gradient():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = MuGrokfast([{"params": [p]}], grokfast_alpha=0.5, grokfast_lambda=1.0)
    p.grad = torch.tensor([1.0])
    opt.step()  # ema = 1
    p.grad = torch.tensor([-1.0])
    opt.step()  # ema = 0.5*1 + 0.5*(-1) = 0 -> filtered = -1 + 0
    assert torch.allclose(opt.state[p]["grokfast_ema"], torch.tensor([0.0]))
    assert torch.allclose(p.grad, torch.tensor([-1.0]))


def test_filter_alignment_shows_which_way_the_filter_turns_the_gradient():
    """Grokfast (+lamb*ema) turns every noisy gradient towards the slow EMA; the inverted form g + lamb*(g - ema)
    (the original Cognate code, the zoo's grokfast_sign) turns every one away: a sign, not a matter of degree."""
    torch.manual_seed(0)
    drift = torch.randn(50)
    p = torch.nn.Parameter(torch.zeros(50))
    opt = MuGrokfast([{"params": [p]}], grokfast_alpha=0.9, grokfast_lambda=2.0)
    state: dict = {}
    for step in range(30):
        g = drift + 3 * torch.randn(50)
        p.grad = g.clone()
        opt.step()
        real = opt.filter_alignment
        align = torch.zeros(5, dtype=torch.float64)
        grokfast_ema_(g.clone(), state, 0.9, 2.0, align)  # the same EMA as the optimiser's, and the raw sums
        ema = state["grokfast_ema"].double()
        inverted = g.double() + 2.0 * (g.double() - ema)
        ge, gg, ee = align[:3].tolist()
        fe, ff = float(inverted @ ema), float(inverted.square().sum())
        if step == 0:  # the EMA starts at the first gradient: nothing to turn
            assert real["cos_raw"] == pytest.approx(1.0) and real["cos_filtered"] == pytest.approx(1.0)
            continue
        assert real["cos_filtered"] > real["cos_raw"]
        assert fe / (ff * ee) ** 0.5 < ge / (gg * ee) ** 0.5
    assert filter_alignment(None) is None


def test_schedule_writes_exactly_what_the_step_reads():
    torch.manual_seed(0)
    model = Phase1Model(Config().model.__class__(d_model=32, n_layers=2, n_heads=2, max_seq_len=16,
                                                act_max_steps=2))
    opt = build_optimizer(model, OptimConfig(muon_lr=0.01, adam_lr=0.002, grokfast_lambda=0.0))
    names = {g["name"]: g for g in opt.param_groups}
    assert set(names) == {"muon", "adam"}

    set_lr(opt, 0.25)
    assert names["muon"]["lr"] == pytest.approx(0.0025) and names["adam"]["lr"] == pytest.approx(0.0005)

    # factor 0: the step must not move any parameter; factor 1 must (so the step reads group["lr"])
    idx = torch.randint(0, 256, (2, 8))
    for factor, should_move in ((0.0, False), (1.0, True)):
        set_lr(opt, factor)
        before = [p.detach().clone() for p in model.parameters()]
        opt.zero_grad(set_to_none=True)
        model(idx, idx).loss.backward()
        opt.step()
        moved = any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
        assert moved is should_move


def test_muon_step_size_is_proportional_to_the_scheduled_lr():
    def delta(factor: float) -> float:
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.randn(8, 8))
        opt = MuGrokfast([{"params": [w], "use_muon": True}], muon_lr=0.01, grokfast_lambda=0.0)
        set_lr(opt, factor)
        before = w.detach().clone()
        w.grad = torch.randn(8, 8)
        opt.step()
        return (w.detach() - before).norm().item()

    assert delta(0.5) == pytest.approx(0.5 * delta(1.0), rel=1e-4)


def test_cosine_with_warmup_shape():
    f = [lr_factor(s, warmup_steps=10, total_steps=110, min_ratio=0.1) for s in range(110)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(f[:9], f[1:10], strict=True))  # warmup rises
    assert all(a >= b for a, b in zip(f[10:-1], f[11:], strict=True))  # then decays
    assert f[-1] == pytest.approx(0.1, abs=1e-3)
    assert lr_factor(0, 0, 100, 0.1) == pytest.approx(1.0)  # no warmup: full LR at step 0


def test_routing_keeps_embeddings_head_norms_and_act_head_out_of_muon():
    model = Phase1Model(Config().model.__class__(d_model=32, n_layers=2, n_heads=2, max_seq_len=16,
                                                tie_embeddings=False))
    muon, adam = split_params(model)
    muon_ids = {id(p) for p in muon}
    for p in (model.wte.weight, model.wpe.weight, model.lm_head.weight, model.halt_head.weight, model.norm_f.weight):
        assert id(p) not in muon_ids
    assert all(p.dim() == 2 for p in muon)
    assert model.blocks[0].attn.qkv.weight in muon
    with pytest.raises(ValueError, match="2-D"):
        MuGrokfast([{"params": [model.norm_f.weight], "use_muon": True}])
