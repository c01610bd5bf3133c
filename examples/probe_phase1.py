"""A `traindoc probe` factory for the bundled Phase 1 trainer (docs/probe.md).

    traindoc probe --factory examples/probe_phase1.py:factory                    # the trainer's --test size
    traindoc probe --factory examples/probe_phase1.py:factory_full --checkpoint runs/x/checkpoints/last.pt

The model, optimiser and LR schedule are the trainer's own (build_optimizer, set_lr/lr_factor); the batch is one
training batch of the offline curriculum. `phase1_parts` also takes another copy of the package (the fault zoo's
workspaces inject their faults into such copies).
"""

from __future__ import annotations

import importlib
import types
from typing import Any


def phase1_parts(pkg: types.ModuleType | str = "phase1", test: bool = True, batch_size: int = 8,
                 seq_len: int | None = None, seed: int = 0) -> dict[str, Any]:
    import torch

    pkg = importlib.import_module(pkg) if isinstance(pkg, str) else pkg
    config = importlib.import_module(pkg.__name__ + ".config")
    model_mod = importlib.import_module(pkg.__name__ + ".model")
    optim = importlib.import_module(pkg.__name__ + ".optim")
    cfg = config.build_config("reasoning", test=test)
    torch.manual_seed(seed)
    model = model_mod.Phase1Model(cfg.model)
    optimizer = optim.build_optimizer(model, cfg.optim)
    total = 1000

    def scheduler(opt: Any, step: int) -> None:  # the trainer's schedule, as its loop applies it
        optim.set_lr(opt, optim.lr_factor(step, cfg.optim.warmup_steps, total, cfg.optim.min_lr_ratio))

    T = seq_len or cfg.data.seq_len
    g = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, 256, (batch_size, T + 1), generator=g)  # byte tokens
    return {
        "model": model,
        "batch": (rows[:, :-1], rows[:, 1:]),
        "forward": lambda m, b: m(b[0], b[1]),
        "loss_fn": lambda out, b: out.loss,  # LM cross-entropy + ACT loss: what the trainer calls backward() on
        "optimizer": optimizer,
        "scheduler": scheduler,
    }


def factory() -> dict[str, Any]:
    return phase1_parts(test=True)


def factory_full() -> dict[str, Any]:
    """The trainer's default size (about 25M parameters)."""
    return phase1_parts(test=False, batch_size=4)
