"""PyTorch Lightning runs: a LightningModule around the tiny models, trained by `pl.Trainer` on CPU.

Artifacts as Lightning writes them: `lightning_logs/version_0/metrics.csv` + `hparams.yaml` (CSVLogger), a
TensorBoard events file for half the runs, and `train.log`, the captured console (banner, model summary, progress
bar). Checkpointing is off (the corpus keeps no weights). Mechanisms that live in Lightning's own API:

- zero_grad_missing: `optimizer_zero_grad` overridden with a no-op (meant for manual accumulation)
- grad_accum_bug: manual optimisation, `opt.step()` on every batch but `opt.zero_grad()` every N, loss not divided
- scheduler_misuse: StepLR(step_size in epochs) returned with `"interval": "step"`
- fp16_overflow: `precision="16-true"` with a static loss scale applied in training_step and undone in
  `on_before_optimizer_step`
- data_pipeline_bug: a collate_fn that sorts the inputs of a batch (for "bucketing") but not their labels
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from corpusgen import models
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.spec import Spec

CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion",
          "vanishing_gradients", "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf",
          "fp16_overflow", "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {"*": "Lightning CSVLogger metrics.csv + hparams.yaml (+ TensorBoard) + console"}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("lightning", cause, seed)
    s.style = "csv+tb" if seed % 2 == 0 else "csv"
    if cause == "data_pipeline_bug":
        s.variant = "sorted_inputs"
        s.mechanism = ("collate_fn sorts each batch's inputs (meant for bucketing) but leaves the labels in their "
                       "original order: labels no longer match inputs")
    return s


def sorted_collate(batch):
    """data_pipeline_bug: inputs sorted by their sum, labels left in arrival order."""
    xs = torch.stack([b[0] for b in batch])
    ys = torch.stack([b[1] for b in batch])
    order = xs.flatten(1).float().sum(1).argsort()
    return xs[order], ys


def build_module(s: Spec):
    import pytorch_lightning as pl

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.save_hyperparameters(s.config())
            self.net = models.build(s)
            self.automatic_optimization = s.cause != "grad_accum_bug"
            self.leak = s.cause == "label_leakage" and s.task == "lm"

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss, correct, n = models.loss_fn(s, self.net, x, y, leak_shift=self.leak)
            self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
            if correct is not None:
                self.log("train_acc", correct / n, on_step=False, on_epoch=True)
            if s.cause == "grad_accum_bug":
                opt = self.optimizers()
                accum = s.extra["accum"]
                if batch_idx % accum == 0:
                    opt.zero_grad()
                self.manual_backward(loss)  # not divided by accum
                self.log("grad_norm", self._grad_norm(), on_step=True)
                opt.step()  # the bug: every batch, not every accum-th
                self.lr_schedulers().step()
                return loss
            if s.cause == "fp16_overflow":
                return loss * s.extra["loss_scale"]
            return loss

        def _grad_norm(self) -> float:
            gs = [p.grad.detach().float().norm() for p in self.parameters() if p.grad is not None]
            return float(torch.stack(gs).norm()) if gs else 0.0

        def on_before_optimizer_step(self, optimizer):
            if s.cause == "fp16_overflow":
                for p in self.parameters():
                    if p.grad is not None:
                        p.grad.div_(s.extra["loss_scale"])
            if s.seed % 3 == 0:
                from pytorch_lightning.utilities import grad_norm
                norms = grad_norm(self.net, norm_type=2)
                self.log_dict({k: v for k, v in norms.items() if k.endswith("total") or ".0.weight" in k})
            else:
                self.log("grad_norm", self._grad_norm())

        def validation_step(self, batch, batch_idx):
            x, y = batch
            loss, correct, n = models.loss_fn(s, self.net, x, y)
            self.log("val_loss", loss, prog_bar=True)
            if correct is not None:
                self.log("val_acc", correct / n)

        def configure_optimizers(self):
            opt = models.optimizer(s, self.parameters())
            if s.cause == "scheduler_misuse":
                sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s.extra["step_size"], gamma=0.1)
            else:
                sched = torch.optim.lr_scheduler.LambdaLR(opt, models.lr_lambda(s, s.steps))
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    if s.cause == "zero_grad_missing":
        class NoZeroGrad(Module):
            def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
                pass  # "we accumulate ourselves" -- and nothing ever clears the gradients

        return NoZeroGrad()
    return Module()


def run(s: Spec, out: Path) -> None:
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import LearningRateMonitor
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    out.mkdir(parents=True, exist_ok=True)
    with captured(out / "train.log"):
        pl.seed_everything(s.seed)
        module = build_module(s)
        tr, va = models.datasets(s)
        collate = sorted_collate if s.cause == "data_pipeline_bug" else None
        g = torch.Generator().manual_seed(s.seed)
        train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*tr), batch_size=s.batch,
                                                   shuffle=True, generator=g, collate_fn=collate)
        val_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*va), batch_size=256)
        loggers = [CSVLogger(str(out), name="lightning_logs")]
        if s.style == "csv+tb":
            loggers.append(TensorBoardLogger(str(out), name="tb_logs"))
        steps_per_epoch = math.ceil(s.n_train / s.batch)
        trainer = pl.Trainer(
            max_steps=s.steps,
            max_epochs=-1,
            accelerator="cpu",
            devices=1,
            precision="16-true" if s.cause == "fp16_overflow" else "32-true",
            logger=loggers,
            callbacks=[LearningRateMonitor(logging_interval="step")],
            log_every_n_steps=s.log_every,
            val_check_interval=min(s.eval_every, steps_per_epoch),
            check_val_every_n_epoch=1,
            num_sanity_val_steps=0,
            enable_checkpointing=False,
            gradient_clip_val=s.clip if s.cause != "grad_accum_bug" else None,
            enable_model_summary=True,
        )
        trainer.fit(module, train_loader, val_loader)
