"""A `traindoc probe` factory for a Lightning module: the optimiser and scheduler come from its own
configure_optimizers(), the loss is the one its training_step computes (docs/probe.md).

    traindoc probe --factory examples/probe_lightning.py:factory
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(pl.LightningModule):
    def __init__(self, d: int = 16, classes: int = 4, lr: float = 1e-3) -> None:
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):  # noqa: ANN001 - Lightning's signature
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):  # noqa: ANN201
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=500)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def factory() -> dict[str, Any]:
    torch.manual_seed(0)
    module = Classifier()
    conf = module.configure_optimizers()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 16, generator=g)
    y = (x @ torch.randn(16, 4, generator=g)).argmax(-1)
    return {
        "model": module,
        "batch": (x, y),
        # training_step's loss, from the output the probe computed (a loss_fn must not call the model itself: the
        # probes run it on copies of the model)
        "loss_fn": lambda out, batch: F.cross_entropy(out, batch[1]),
        "optimizer": conf["optimizer"],
        "scheduler": conf["lr_scheduler"]["scheduler"],
    }
