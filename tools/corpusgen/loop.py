"""The plain PyTorch training step shared by the hand-written loops (plain.py, timm_style.py): one optimiser step
with the loop-level fault mechanisms (zero_grad missing, accumulation bug, per-batch StepLR, static fp16 loss
scale) applied exactly where a user's loop would carry them."""

from __future__ import annotations

import math

import torch
from torch import nn

from corpusgen import models
from corpusgen.spec import Spec


class Trainer:
    """Owns model, optimiser, scheduler and data order for one run; `step()` does one optimiser step and returns
    (loss, grad_norm, lr); `evaluate()` returns (val_loss, val_acc or None)."""

    def __init__(self, s: Spec):
        torch.manual_seed(s.seed)
        self.s = s
        (self.tx, self.ty), (self.vx, self.vy) = models.datasets(s)
        self.model = models.build(s)
        self.half = s.cause == "fp16_overflow"
        if self.half:
            self.model.half()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        # frozen_params: the optimiser still gets model.parameters(), as the user's code passes it
        self.opt = models.optimizer(s, self.model.parameters())
        if s.cause == "scheduler_misuse":
            self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=s.extra["step_size"], gamma=0.1)
        else:
            self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, models.lr_lambda(s, s.steps))
        self.gen = torch.Generator().manual_seed(s.seed)
        self.order: list[int] = []
        self.t = 0
        self.steps_per_epoch = math.ceil(s.n_train / s.batch)

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.s.cause == "data_pipeline_bug" and self.s.variant == "same_batch":
            idx = list(range(self.s.batch))  # next(iter(loader)) of an unshuffled loader: always the first batch
        else:
            if len(self.order) < self.s.batch:
                self.order += torch.randperm(len(self.tx), generator=self.gen).tolist()
            idx, self.order = self.order[:self.s.batch], self.order[self.s.batch:]
        return self._cast(self.tx[idx], self.ty[idx])

    def _cast(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.half and x.is_floating_point():
            x = x.half()
        return x, y

    def _loss(self, x, y):
        leak = self.s.cause == "label_leakage" and self.s.task == "lm"
        return models.loss_fn(self.s, self.model, x, y, leak_shift=leak)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[float, float, float]:
        """One optimiser step on `batch` (a loader's batch, as an engine hands it over) or, when None, on the
        Trainer's own draw (the data_pipeline_bug same-batch variant keeps its first batch)."""
        s = self.s
        draw = self._batch if batch is None else (lambda: self._cast(*batch))
        lr = self.opt.param_groups[0]["lr"]
        if s.cause == "grad_accum_bug":
            accum = s.extra["accum"]
            if self.t % accum == 0:
                self.opt.zero_grad()
            x, y = draw()
            loss, _, _ = self._loss(x, y)
            loss.backward()  # not divided by accum
            gn = nn.utils.clip_grad_norm_(self.params, math.inf)
            self.opt.step()  # the bug: stepped on every micro-batch, on gradients summed since the last zero_grad
        else:
            if s.cause != "zero_grad_missing":
                self.opt.zero_grad()
            x, y = draw()
            loss, _, _ = self._loss(x, y)
            if self.half:
                (loss * s.extra["loss_scale"]).backward()
                for p in self.params:
                    if p.grad is not None:
                        p.grad.div_(s.extra["loss_scale"])
            else:
                loss.backward()
            gn = nn.utils.clip_grad_norm_(self.params, s.clip or math.inf)
            self.opt.step()
        self.sched.step()
        self.t += 1
        return float(loss.item()), float(gn), lr

    def layer_grad_norms(self) -> dict[str, float]:
        """Gradient norm of the first and the last weight matrix, as users log them to see vanishing gradients."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.grad is not None and p.dim() > 1]
        if not named:
            return {}
        return {f"grad_norm/{n}": float(p.grad.norm()) for n, p in (named[0], named[-1])}

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float | None]:
        self.model.eval()
        x, y = self.vx, self.vy
        if self.half and x.is_floating_point():
            x = x.half()
        loss, correct, n = models.loss_fn(self.s, self.model, x, y)
        self.model.train()
        return float(loss.item()), (correct / n if correct is not None else None)
