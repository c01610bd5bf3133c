"""A Lightning Fabric stack: the same recipes (spec.py) and models (models.py) trained by a hand-written loop under
`Fabric(accelerator="cpu")`: `fabric.setup(model, optimizer)`, `fabric.setup_dataloaders`, `fabric.backward`,
`fabric.clip_gradients`, and Fabric's gradient accumulation (`fabric.no_backward_sync` on the micro-batches between
optimiser steps, the loss divided by their number) in healthy runs of even seeds. The loop counts optimiser steps
and stops after the recipe's number, so the LR schedule spans exactly the steps run. Logged the ways Fabric
scripts log:

- csv:         Fabric's `CSVLogger` (`csv_logs/version_0/metrics.csv`) through `fabric.log_dict` (train_loss, lr,
               grad_norm by step; val_loss, val_acc at each evaluation), a `fabric.print` line per evaluation and
               the script's config.yaml (Fabric's CSVLogger refuses `log_hyperparams`)
- tensorboard: Fabric's `TensorBoardLogger` (`tb_logs/version_0/` events, hyper-parameters too, from
               `log_hyperparams`) through the same `fabric.log_dict` calls; the console keeps the `fabric.print` lines
- print:       `fabric.print` only, in the format of Fabric's image-classifier example (the PyTorch MNIST example's
               `Train Epoch: e [n/N (p%)]\\tLoss: x` and `Test set: Average loss: x, Accuracy: c/n (p%)`) + config.yaml

Mechanisms (the user's loop): `optimizer.zero_grad()` left out (zero_grad_missing); an accumulation loop that calls
`optimizer.step()` after every micro-batch but `zero_grad()` only every N and never divides the loss
(grad_accum_bug); an epoch `StepLR` stepped after every batch (scheduler_misuse); `Fabric(precision="16-true")`
(the module and its inputs cast to float16) with a static loss scale of 65536 multiplied into `fabric.backward` and
divided out of the gradients (fp16_overflow, Adam-type MLP as in accelerate_stack.py); `next(iter(train_loader))`
of a non-shuffling loader inside the loop (data_pipeline_bug same_batch variant, MLP and transformer only, see
accelerate_stack.pipeline_variant). The rest are in the model or data
(models.py). Every cause of spec.py except `no_warmup` (see spec.py) is realised. `lightning.fabric.Fabric` is
`lightning_fabric.Fabric` (the standalone package that pytorch-lightning ships); the runs were made with
pytorch-lightning / lightning_fabric 2.6.6 and torch 2.13.0.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import yaml
from lightning_fabric import Fabric
from lightning_fabric.loggers import CSVLogger, TensorBoardLogger
from torch.utils.data import DataLoader, TensorDataset

from corpusgen import models
from corpusgen import spec as spec_mod
from corpusgen.accelerate_stack import fp16_recipe, pipeline_variant
from corpusgen.console import captured
from corpusgen.spec import Spec

STYLES = ("csv", "tensorboard", "print")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "fp16_overflow",
          "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {
    "csv": "Fabric CSVLogger metrics.csv (fabric.log_dict) + fabric.print console lines",
    "tensorboard": "Fabric TensorBoardLogger events (fabric.log_dict, log_hyperparams) + fabric.print console lines",
    "print": "fabric.print 'Train Epoch: e [n/N (p%)]\\tLoss: x' + 'Test set: Average loss: x, Accuracy: ...'",
}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("fabric", cause, seed, families=("mlp",) if cause == "fp16_overflow" else spec_mod.FAMILIES)
    if cause == "fp16_overflow":
        fp16_recipe(s, seed)
        s.mechanism = s.mechanism.replace("model.half()", 'Fabric(precision="16-true")')
    pipeline_variant(s)
    s.style = STYLES[(seed + len(cause)) % len(STYLES)]
    s.extra["fabric_accum"] = 2 if cause == "healthy" and seed % 2 == 0 else 1
    return s


@torch.no_grad()
def _evaluate(s: Spec, model, loader) -> tuple[float, float, int]:
    """(mean validation loss, correct predictions, predictions counted; 0 counted for the regression task)."""
    model.eval()
    tot, correct, n, count = 0.0, 0.0, 0, 0
    for x, y in loader:
        loss, c, k = models.loss_fn(s, model, x, y)
        tot += float(loss) * len(y)
        count += len(y)
        if c is not None:
            correct, n = correct + c, n + k
    model.train()
    return tot / count, correct, n


def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    accum = s.extra["fabric_accum"]
    logger = None
    if s.style == "csv":
        logger = CSVLogger(root_dir=str(out), name="csv_logs", flush_logs_every_n_steps=50)
    elif s.style == "tensorboard":
        logger = TensorBoardLogger(root_dir=str(out), name="tb_logs")
    half = s.cause == "fp16_overflow"
    with captured(out / "train.log"):
        fabric = Fabric(accelerator="cpu", devices=1, precision="16-true" if half else "32-true", loggers=logger)
        fabric.seed_everything(s.seed)
        torch.manual_seed(s.seed)
        (tx, ty), (vx, vy) = models.datasets(s)
        model = models.build(s)
        optimizer = models.optimizer(s, model.parameters())  # frozen_params: the user passes every parameter
        model, optimizer = fabric.setup(model, optimizer)
        if s.cause == "scheduler_misuse":
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=s.extra["step_size"], gamma=0.1)
        else:
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, models.lr_lambda(s, s.steps))
        same_batch = s.cause == "data_pipeline_bug" and s.variant == "same_batch"
        g = torch.Generator().manual_seed(s.seed)
        train_loader = DataLoader(TensorDataset(tx, ty), batch_size=s.batch // accum, shuffle=not same_batch,
                                  generator=g, drop_last=True)
        val_loader = DataLoader(TensorDataset(vx, vy), batch_size=128)
        train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)
        if s.style == "tensorboard":  # Fabric's CSVLogger does not log hyper-parameters: the script writes them
            fabric.logger.log_hyperparams({k: v for k, v in s.config().items() if v is not None})
        else:
            (out / "config.yaml").write_text(yaml.safe_dump(s.config(), sort_keys=False))

        n_samples = len(train_loader) * (s.batch // accum)
        step, micro, epoch = 0, 0, 1
        model.train()
        while step < s.steps:
            for i, batch in enumerate(train_loader):
                if same_batch:
                    batch = next(iter(train_loader))  # the bug: the loader's first batch, every time
                x, y = batch
                leak = s.cause == "label_leakage" and s.task == "lm"
                if s.cause == "grad_accum_bug":
                    if micro % s.extra["accum"] == 0:
                        optimizer.zero_grad()
                    loss, _, _ = models.loss_fn(s, model, x, y)
                    fabric.backward(loss)  # not divided by the number of micro-batches
                    gn = fabric.clip_gradients(model, optimizer, max_norm=math.inf, error_if_nonfinite=False)
                    optimizer.step()  # the bug: a step on every micro-batch, on gradients summed since zero_grad
                    synced = True
                else:
                    synced = (micro + 1) % accum == 0
                    with fabric.no_backward_sync(model, enabled=not synced):
                        loss, _, _ = models.loss_fn(s, model, x, y, leak_shift=leak)
                        scale = s.extra["loss_scale"] if half else 1.0
                        fabric.backward(loss * scale / accum)
                    if synced:
                        if half:
                            for p in model.parameters():
                                if p.grad is not None:
                                    p.grad.div_(scale)
                        gn = fabric.clip_gradients(model, optimizer, max_norm=s.clip or math.inf,
                                                   error_if_nonfinite=False)
                        optimizer.step()
                        if s.cause != "zero_grad_missing":
                            optimizer.zero_grad()
                micro += 1
                if not synced:
                    continue
                lr = optimizer.param_groups[0]["lr"]
                scheduler.step()
                step += 1
                lv = float(loss.detach().float())
                if step % s.log_every == 0:
                    if s.style == "print":
                        seen = (i + 1) * len(x)
                        fabric.print(f"Train Epoch: {epoch} [{seen}/{n_samples} "
                                     f"({100.0 * (i + 1) / len(train_loader):.0f}%)]\tLoss: {lv:.6f}")
                    else:
                        fabric.log_dict({"train_loss": lv, "lr": lr, "grad_norm": float(gn)}, step=step)
                if step % s.eval_every == 0 or step == s.steps:
                    vl, correct, n = _evaluate(s, model, val_loader)
                    if s.style == "print":
                        acc = f", Accuracy: {int(correct)}/{n} ({100.0 * correct / n:.0f}%)" if n else ""
                        fabric.print(f"\nTest set: Average loss: {vl:.4f}{acc}\n")
                    else:
                        m = {"val_loss": vl} | ({"val_acc": correct / n} if n else {})
                        fabric.log_dict(m | {"epoch": epoch}, step=step)
                        fabric.print(f"step {step} epoch {epoch}: " + ", ".join(f"{k}={v:.4f}" for k, v in m.items()))
                if step >= s.steps:
                    break
            epoch += 1
        if logger is not None:
            logger.finalize("success")
