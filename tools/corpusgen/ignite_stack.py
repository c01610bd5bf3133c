"""A PyTorch-Ignite stack: the same recipes (spec.py), models (models.py) and hand-written step with its loop-level
fault mechanisms (loop.py), driven by Ignite's `Engine` over a real `DataLoader`, evaluated each epoch by an
evaluator `Engine` with Ignite metrics, and logged the ways Ignite's own examples and handlers log:

- quickstart:  the README quickstart's prints, `Epoch[e] Loss: x.xx` every log interval and
               `Training Results - Epoch[e] Avg accuracy: x.xx Avg loss: x.xx` / `Validation Results - ...` per epoch
               (two decimals, as the quickstart prints them), into train.log
- logger:      `ignite.utils.setup_logger`'s `asctime name LEVEL: message` lines: the engines' own messages
               (`Engine run starting with max_epochs=...`, `Epoch[e] Complete. Time taken: ...`,
               `TerminateOnNan` stopping the run), the user's `Epoch[e] Iter[i] loss=x lr=x` lines, and the
               cifar10 example's multi-line evaluation block (`Epoch e - Evaluation time (seconds): t - val
               metrics:` then one tab-indented `name: value` line per metric); plus config.yaml
- tensorboard: `ignite.handlers.tensorboard_logger.TensorboardLogger`: `training/batchloss`, `lr/group_0`,
               `grads_norm/<param>` (GradsScalarHandler, every parameter) by iteration and `validation/<metric>` by
               the trainer's iteration (global_step_from_engine); config.yaml; a quiet console
- progressbar: `ignite.handlers.ProgressBar(persist=True)` with the running-average loss in its postfix, as a
               terminal shows it, and the mnist example's `Validation Results - Epoch: e  Avg accuracy: x.xx Avg
               loss: x.xx` lines written through the bar; `TerminateOnNan` attached

The data_pipeline_bug same-batch variant is a process function that trains on `next(iter(train_loader))` (the
first batch of a non-shuffling loader) instead of the batch the engine hands it. Every cause of spec.py except
`no_warmup` (see spec.py) is realised. Requires pytorch-ignite (not in the project's requirements: the runs were
made with pytorch-ignite 0.5.5 and torch 2.13.0; `pip install pytorch-ignite`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

import torch
import yaml
from ignite.engine import Engine, Events
from ignite.handlers import ProgressBar, TerminateOnNan, global_step_from_engine
from ignite.handlers.tensorboard_logger import (
    GradsScalarHandler,
    OptimizerParamsHandler,
    OutputHandler,
    TensorboardLogger,
)
from ignite.metrics import Accuracy, Average, RunningAverage
from ignite.utils import setup_logger
from torch.utils.data import DataLoader, TensorDataset

from corpusgen import data, models
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.loop import Trainer
from corpusgen.spec import Spec

STYLES = ("quickstart", "logger", "tensorboard", "progressbar")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "fp16_overflow",
          "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {
    "quickstart": "Ignite README quickstart prints 'Epoch[e] Loss: x.xx' + 'Validation Results - Epoch[e] Avg ...'",
    "logger": "ignite.utils.setup_logger lines + cifar10-example multi-line evaluation blocks + config.yaml",
    "tensorboard": "Ignite TensorboardLogger events (training/batchloss, lr/group_0, grads_norm/*, validation/*)",
    "progressbar": "Ignite ProgressBar (tqdm) with running loss + 'Validation Results - Epoch: e  Avg ...' lines",
}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("ignite", cause, seed)
    s.style = STYLES[(seed + len(cause)) % len(STYLES)]
    if cause == "data_pipeline_bug" and s.variant == "same_batch":
        s.mechanism = ("the trainer's process function calls `next(iter(train_loader))` on a non-shuffling loader "
                       "instead of using the batch the engine passes: every step trains on the same first batch")
    return s


def _evaluator(s: Spec, tr: Trainer) -> Engine:
    """An evaluator Engine over the validation set: per batch the recipe's loss (and predictions for a classifier),
    averaged by Ignite's `Average`, accuracy by Ignite's `Accuracy`."""
    kind = data.kind(s.task)

    @torch.no_grad()
    def eval_step(engine: Engine, batch: tuple[torch.Tensor, torch.Tensor]) -> dict:
        tr.model.eval()
        x, y = tr._cast(*batch)
        loss, _, _ = models.loss_fn(s, tr.model, x, y)
        out = {"loss": float(loss)}
        if kind == "cls":
            out |= {"y_pred": tr.model(x).float(), "y": y}
        tr.model.train()
        return out

    ev = Engine(eval_step)
    Average(output_transform=lambda o: o["loss"]).attach(ev, "loss")
    if kind == "cls":
        Accuracy(output_transform=lambda o: (o["y_pred"], o["y"])).attach(ev, "accuracy")
    return ev


def _results_line(split: str, epoch: int, m: dict, bracket: bool) -> str:
    """The examples' per-epoch line: `... - Epoch[e] Avg ...` (README quickstart) or `... - Epoch: e  Avg ...`
    (mnist example)."""
    acc = f"Avg accuracy: {m['accuracy']:.2f} " if "accuracy" in m else ""
    head = f"{split} Results - Epoch[{epoch}] " if bracket else f"{split} Results - Epoch: {epoch}  "
    return f"{head}{acc}Avg loss: {m['loss']:.2f}"


def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Ignite trains whole epochs: the schedule (built by the Trainer over s.steps) spans the iterations really run,
    # as a script that sizes it by max_epochs * len(train_loader) does; an LR at 0 for the last epochs would be a
    # schedule fault of its own in a run labelled otherwise
    per_epoch = s.n_train // s.batch  # drop_last=True below
    epochs = max(3, math.ceil(s.steps / per_epoch))
    s = dataclasses.replace(s, steps=epochs * per_epoch)
    tr = Trainer(s)
    g = torch.Generator().manual_seed(s.seed)
    train_loader = DataLoader(TensorDataset(tr.tx, tr.ty), batch_size=s.batch, shuffle=True, generator=g,
                              drop_last=True)
    val_loader = DataLoader(TensorDataset(tr.vx, tr.vy), batch_size=128)
    train_eval_loader = DataLoader(TensorDataset(tr.tx, tr.ty), batch_size=128)
    same_batch = s.cause == "data_pipeline_bug" and s.variant == "same_batch"

    def train_step(engine: Engine, batch: tuple[torch.Tensor, torch.Tensor]) -> float:
        # same_batch: the process function ignores `batch` and takes the first batch again (the Trainer's draw)
        loss, gn, lr = tr.step(None if same_batch else batch)
        engine.state.metrics_extra = {"grad_norm": gn, "lr": lr}
        return loss

    trainer = Engine(train_step)
    evaluator = _evaluator(s, tr)
    assert len(train_loader) == per_epoch
    (out / "train.log").write_text("")
    # appended, line-buffered: the redirected console (captured) writes into the same file
    log = (out / "train.log").open("a", buffering=1)
    if s.style != "quickstart":
        (out / "config.yaml").write_text(yaml.safe_dump(s.config() | {"max_epochs": epochs}, sort_keys=False))

    if s.style == "quickstart":
        @trainer.on(Events.ITERATION_COMPLETED(every=s.log_every))
        def log_training_loss(engine: Engine) -> None:
            print(f"Epoch[{engine.state.epoch}] Loss: {engine.state.output:.2f}", file=log)

        @trainer.on(Events.EPOCH_COMPLETED)
        def log_results(engine: Engine) -> None:
            evaluator.run(train_eval_loader)
            print(_results_line("Training", engine.state.epoch, evaluator.state.metrics, True), file=log)
            evaluator.run(val_loader)
            print(_results_line("Validation", engine.state.epoch, evaluator.state.metrics, True), file=log)

    elif s.style == "logger":
        trainer.logger = setup_logger("trainer", stream=log, reset=True)
        evaluator.logger = setup_logger("val_evaluator", stream=log, reset=True)
        trainer.add_event_handler(Events.ITERATION_COMPLETED, TerminateOnNan())

        @trainer.on(Events.ITERATION_COMPLETED(every=s.log_every))
        def log_iter(engine: Engine) -> None:
            x = engine.state.metrics_extra
            engine.logger.info(f"Epoch[{engine.state.epoch}] Iter[{engine.state.iteration}] "
                               f"loss={engine.state.output:.4f} lr={x['lr']:.4g} grad_norm={x['grad_norm']:.4f}")

        @trainer.on(Events.EPOCH_COMPLETED)
        def run_validation(engine: Engine) -> None:
            t0 = time.perf_counter()
            evaluator.run(val_loader)
            metrics = "\n".join(f"\t{k}: {v}" for k, v in evaluator.state.metrics.items())
            engine.logger.info(f"\nEpoch {engine.state.epoch} - Evaluation time (seconds): "
                               f"{time.perf_counter() - t0:.2f} - val metrics:\n {metrics}")

    elif s.style == "tensorboard":
        tb = TensorboardLogger(log_dir=str(out / "tb_logs"))
        tb.attach_output_handler(trainer, event_name=Events.ITERATION_COMPLETED(every=s.log_every), tag="training",
                                 output_transform=lambda loss: {"batchloss": loss})
        tb.attach(trainer, event_name=Events.ITERATION_COMPLETED(every=s.log_every),
                  log_handler=OptimizerParamsHandler(tr.opt))
        tb.attach(trainer, event_name=Events.ITERATION_COMPLETED(every=s.log_every),
                  log_handler=GradsScalarHandler(tr.model, reduction=torch.norm))
        trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda _: evaluator.run(val_loader))
        tb.attach(evaluator, event_name=Events.EPOCH_COMPLETED,
                  log_handler=OutputHandler(tag="validation", metric_names="all",
                                            global_step_transform=global_step_from_engine(trainer)))

    else:  # progressbar
        trainer.add_event_handler(Events.ITERATION_COMPLETED, TerminateOnNan())
        RunningAverage(output_transform=lambda loss: loss).attach(trainer, "loss")
        pbar = ProgressBar(persist=True, ncols=100)
        pbar.attach(trainer, metric_names=["loss"])

        @trainer.on(Events.EPOCH_COMPLETED)
        def log_validation(engine: Engine) -> None:
            evaluator.run(val_loader)
            pbar.log_message(_results_line("Validation", engine.state.epoch, evaluator.state.metrics, False))

    logging.captureWarnings(True)
    with captured(out / "train.log"):
        log.flush()
        trainer.run(train_loader, max_epochs=epochs)
        if s.style == "progressbar" and pbar.pbar is not None:
            pbar.pbar.close()  # a run TerminateOnNan stopped leaves its bar open: the terminal shows it at exit
        log.flush()
    log.close()
    if s.style == "logger":
        for lg in (trainer.logger, evaluator.logger):
            lg.handlers.clear()
    if s.style == "tensorboard":
        tb.close()
