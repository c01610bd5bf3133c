"""optim.name=sgd: torch SGD on every parameter, driven by set_lr like the others; its step scales with the gradient,
which is why the fault zoo's grad_explosion scenario needs it (clipping changes nothing under Muon/AdamW)."""

from __future__ import annotations

import pytest
import torch

from phase1.config import Config, ConfigError, apply_overrides, validate
from phase1.model import Phase1Model
from phase1.optim import build_optimizer, group_lrs, set_lr


def small_model_and_config() -> tuple[Phase1Model, Config]:
    cfg = Config()
    apply_overrides(cfg, {"model.d_model": 32, "model.n_heads": 2, "model.n_layers": 1, "model.vocab_size": 64,
                          "optim.name": "sgd", "optim.adam_lr": 0.1})
    validate(cfg)
    torch.manual_seed(0)
    return Phase1Model(cfg.model), cfg


def test_sgd_covers_every_parameter_and_follows_set_lr() -> None:
    model, cfg = small_model_and_config()
    opt = build_optimizer(model, cfg.optim)
    assert isinstance(opt, torch.optim.SGD)
    covered = {id(p) for g in opt.param_groups for p in g["params"]}
    assert covered == {id(p) for p in model.parameters() if p.requires_grad}
    assert all(g["momentum"] == cfg.optim.momentum for g in opt.param_groups)
    set_lr(opt, 0.25)
    assert group_lrs(opt) == {"muon": pytest.approx(0.025), "adam": pytest.approx(0.025)}


def test_sgd_step_scales_with_the_gradient() -> None:
    def update(scale: float) -> torch.Tensor:
        model, cfg = small_model_and_config()
        opt = build_optimizer(model, cfg.optim)
        w = next(model.parameters())
        before = w.detach().clone()
        for p in model.parameters():
            p.grad = torch.ones_like(p) * scale
        opt.step()
        return (w.detach() - before).abs().max()

    # unlike Muon/AdamW (normalised updates), 1000x the gradient is 1000x the step: clipping matters here
    assert update(1e3) / update(1.0) == pytest.approx(1e3, rel=1e-3)


def test_unknown_optimiser_name_is_a_config_error() -> None:
    cfg = Config()
    cfg.optim.name = "lion"
    with pytest.raises(ConfigError):
        validate(cfg)
