"""A Hugging Face Accelerate stack: the same recipes (spec.py) and models (models.py) trained by a custom loop the way
Accelerate's examples and the transformers `*_no_trainer` scripts write it: `Accelerator(cpu=True)` prepares model,
optimiser, data loaders and LR scheduler; `accelerator.backward`, `accelerator.clip_grad_norm_`, and
`accelerator.accumulate(model)` around each micro-batch where the recipe accumulates (healthy runs of even seeds
take two half-batches per optimiser step). The loop counts optimiser steps and stops after the recipe's number, so
the LR schedule spans exactly the steps run. Logged the ways such scripts log:

- print:       `accelerator.print` lines, `epoch e step t: loss x lr y` every log interval and the examples'
               `epoch e: {'accuracy': ..., 'eval_loss': ...}` dict after each evaluation, into train.log
- logger:      `accelerate.logging.get_logger(__name__)` through `logging.basicConfig` with the no_trainer scripts'
               format (`%m/%d/%Y %H:%M:%S - INFO - <module> - ...`): the accelerator state, the `***** Running
               training *****` block, `epoch e: eval_loss: x accuracy: y` per evaluation; a tqdm bar over the
               optimiser steps (`disable=not accelerator.is_local_main_process`) with the loss in its postfix
- tensorboard: `Accelerator(log_with="tensorboard", project_dir=...)`, `init_trackers(name, config)` (event files
               plus the tracker's hparams.yml) and `accelerator.log({...}, step=t)` of train_loss, lr, grad_norm and
               eval_loss/accuracy; the console keeps only the final `accelerator.print` line

Mechanisms (the user's loop): `optimizer.zero_grad()` left out (zero_grad_missing); an accumulation loop written by
hand that calls `optimizer.step()` after every micro-batch but `zero_grad()` only every N and never divides the
loss (grad_accum_bug); an epoch `StepLR` prepared and stepped after every batch (scheduler_misuse); `model.half()`
with a static loss scale of 65536 multiplied into `accelerator.backward` and divided out of the gradients
(fp16_overflow: Accelerate's own fp16 needs a GPU); `next(iter(train_dataloader))` of a non-shuffling loader inside
the loop (data_pipeline_bug same_batch variant, MLP and transformer only: see `pipeline_variant`). The rest are in
the model or data (models.py). Every cause of spec.py except `no_warmup` (see spec.py) is realised. The runs were
made with accelerate 1.16.0 and torch 2.13.0.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
import yaml
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.state import AcceleratorState, GradientState
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from corpusgen import models
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.spec import Spec

STYLES = ("print", "logger", "tensorboard")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "fp16_overflow",
          "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {
    "print": "accelerator.print lines 'epoch e step t: loss x lr y' + 'epoch e: {...eval dict...}'",
    "logger": "accelerate.logging get_logger lines (no_trainer format) + tqdm bar with loss postfix",
    "tensorboard": "Accelerate TensorBoard tracker events (accelerator.log) + hparams.yml",
}


def fp16_recipe(s: Spec, seed: int) -> None:
    """fp16_overflow on an Adam-type MLP only, as in skorch_stack.py: with SGD, or on the tiny transformer, the
    float16 model trained without overflow at this scale (its loss fell as in a healthy run)."""
    if s.optimizer not in ("adam", "adamw"):
        s.optimizer = "adam"
        s.lr = spec_mod.log_uniform(np.random.default_rng(seed), *spec_mod.GOOD_LR["adam"])
    s.mechanism = (f"model.half() trained with {s.optimizer} on float16 inputs, the loss multiplied by a static "
                   "scale of 65536 (an old apex config) before backward and the gradients divided by it: weights, "
                   "gradients and optimiser state in pure float16, inf/NaN reach the weights")


def pipeline_variant(s: Spec) -> None:
    """data_pipeline_bug's same-batch variant on the MLP and the transformer only: a CNN trained on its loader's
    first batch still reached 0.93 validation accuracy and a forecasting RNN ended near a healthy run's loss
    (accelerate seeds 3 and 0 of a first generation), so there the labels-shuffled variant is drawn instead."""
    if s.cause == "data_pipeline_bug" and s.variant == "same_batch" and s.family in ("cnn", "rnn"):
        s.variant = "shuffled_labels"
        s.mechanism = ("inputs and labels shuffled with two independent permutations: labels are unrelated to "
                       "inputs")


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("accelerate", cause, seed, families=("mlp",) if cause == "fp16_overflow" else spec_mod.FAMILIES)
    if cause == "fp16_overflow":
        fp16_recipe(s, seed)
    pipeline_variant(s)
    s.style = STYLES[(seed + len(cause)) % len(STYLES)]
    # accumulation as Accelerate does it (healthy, even seeds): two half-batches per optimiser step
    s.extra["accelerate_accum"] = 2 if cause == "healthy" and seed % 2 == 0 else 1
    return s


@torch.no_grad()
def _evaluate(s: Spec, model: torch.nn.Module, loader: DataLoader, half: bool) -> dict:
    """Validation loss (sample-weighted mean of the recipe's loss) and, for a classifier or LM, accuracy."""
    model.eval()
    tot, correct, n, count = 0.0, 0.0, 0, 0
    for x, y in loader:
        if half and x.is_floating_point():
            x = x.half()
        loss, c, k = models.loss_fn(s, model, x, y)
        tot += float(loss) * len(y)
        count += len(y)
        if c is not None:
            correct, n = correct + c, n + k
    model.train()
    out = {"eval_loss": tot / count}
    if n:
        out["accuracy"] = correct / n
    return out


def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Accelerate keeps its state in process-wide singletons: each run starts from a fresh one
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    accum = s.extra["accelerate_accum"]
    tb = s.style == "tensorboard"
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=accum,
                              log_with="tensorboard" if tb else None, project_dir=str(out) if tb else None)
    torch.manual_seed(s.seed)
    (tx, ty), (vx, vy) = models.datasets(s)
    model = models.build(s)
    half = s.cause == "fp16_overflow"
    if half:
        model.half()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = models.optimizer(s, model.parameters())  # frozen_params: the user passes every parameter
    if s.cause == "scheduler_misuse":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=s.extra["step_size"], gamma=0.1)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, models.lr_lambda(s, s.steps))
    same_batch = s.cause == "data_pipeline_bug" and s.variant == "same_batch"
    g = torch.Generator().manual_seed(s.seed)
    train_dl = DataLoader(TensorDataset(tx, ty), batch_size=s.batch // accum, shuffle=not same_batch, generator=g,
                          drop_last=True)
    eval_dl = DataLoader(TensorDataset(vx, vy), batch_size=128)
    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(model, optimizer, train_dl, eval_dl,
                                                                         scheduler)
    logger = get_logger(__name__)
    if s.style == "logger":
        (out / "config.yaml").write_text(yaml.safe_dump(s.config(), sort_keys=False))
    elif s.style == "print":
        (out / "config.yaml").write_text(yaml.safe_dump(s.config(), sort_keys=False))
    if tb:
        accelerator.init_trackers("accelerate_run", config={k: v for k, v in s.config().items() if v is not None})

    per_epoch = len(train_dl) // accum
    with captured(out / "train.log"):
        if s.style == "logger":
            # the no_trainer scripts' setup: stderr, which the capture sends to train.log
            logging.basicConfig(format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
                                datefmt="%m/%d/%Y %H:%M:%S", level=logging.INFO, force=True)
            logger.info(accelerator.state, main_process_only=False)
            logger.info("***** Running training *****")
            logger.info(f"  Num examples = {len(tx)}")
            logger.info(f"  Num Epochs = {math.ceil(s.steps / per_epoch)}")
            logger.info(f"  Instantaneous batch size per device = {s.batch // accum}")
            logger.info(f"  Gradient Accumulation steps = {accum}")
            logger.info(f"  Total optimization steps = {s.steps}")
        bar = tqdm(range(s.steps), disable=not accelerator.is_local_main_process or s.style != "logger",
                   ncols=100)
        model.train()
        step, micro, epoch = 0, 0, 0
        while step < s.steps:
            for batch in train_dl:
                if same_batch:
                    batch = next(iter(train_dl))  # the bug: the loader's first batch, every time
                x, y = batch
                if half and x.is_floating_point():
                    x = x.half()
                if s.cause == "grad_accum_bug":
                    k = s.extra["accum"]
                    if micro % k == 0:
                        optimizer.zero_grad()
                    loss, _, _ = models.loss_fn(s, model, x, y)
                    accelerator.backward(loss)  # not divided by k
                    gn = accelerator.clip_grad_norm_(params, math.inf)
                    optimizer.step()  # the bug: a step on every micro-batch, on gradients summed since zero_grad
                    scheduler.step()
                    synced = True
                else:
                    with accelerator.accumulate(model):
                        leak = s.cause == "label_leakage" and s.task == "lm"
                        loss, _, _ = models.loss_fn(s, model, x, y, leak_shift=leak)
                        if half:
                            accelerator.backward(loss * s.extra["loss_scale"])
                            for p in params:
                                if p.grad is not None:
                                    p.grad.div_(s.extra["loss_scale"])
                        else:
                            accelerator.backward(loss)
                        synced = accelerator.sync_gradients
                        gn = accelerator.clip_grad_norm_(params, s.clip or math.inf) if synced else None
                        optimizer.step()
                        scheduler.step()
                        if s.cause != "zero_grad_missing":
                            optimizer.zero_grad()
                micro += 1
                if not synced:
                    continue
                step += 1
                lr = scheduler.get_last_lr()[0]
                lv = float(loss.detach().float())
                if s.style == "logger":
                    bar.update(1)
                    bar.set_postfix(loss=lv)
                if step % s.log_every == 0:
                    if s.style == "print":
                        accelerator.print(f"epoch {epoch} step {step}: loss {lv:.4f} lr {lr:.4g}")
                    elif tb:
                        accelerator.log({"train_loss": lv, "lr": lr, "grad_norm": float(gn)}, step=step)
                if step % s.eval_every == 0 or step == s.steps:
                    m = _evaluate(s, model, eval_dl, half)
                    if s.style == "print":
                        accelerator.print(f"epoch {epoch}:", {k: round(v, 4) for k, v in m.items()})
                    elif s.style == "logger":
                        logger.info(f"epoch {epoch}: " + " ".join(f"{k}: {v}" for k, v in m.items()))
                    else:
                        accelerator.log(m | {"epoch": epoch}, step=step)
                if step >= s.steps:
                    break
            epoch += 1
        bar.close()
        if tb:
            accelerator.print(f"Training finished after {s.steps} steps.")
        logging.getLogger().handlers.clear()
    if tb:
        accelerator.end_training()
