"""Plain PyTorch loops in several logging styles, as people write them:

- print:    `step 40 | loss 1.2345 | lr 1.00e-03 | grad_norm 0.812` lines and `eval step 40 | ...`, into train.log;
            stops with a message when the loss is not finite
- tutorial: the PyTorch-tutorial `[epoch, batch] loss: x` lines and an epoch summary line
- jsonl:    metrics.jsonl (one JSON object per logged step / eval) plus config.json
- csv:      metrics.csv with a header, empty cells where a column has no value that step, plus config.yaml
- logging:  the logging module's `INFO:train:step=40 loss=1.23 lr=0.001` lines (key=value)
- tqdm:     a tqdm bar with loss/lr in its postfix, written to train.log as a terminal shows it, plus eval lines
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import yaml

from corpusgen import spec as spec_mod
from corpusgen.loop import Trainer
from corpusgen.spec import Spec

STYLES = ("print", "tutorial", "jsonl", "csv", "logging", "tqdm")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion",
          "vanishing_gradients", "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf",
          "fp16_overflow", "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {"print": "print lines 'step N | loss x | lr x'", "tutorial": "PyTorch tutorial '[epoch, batch] loss: x'",
          "jsonl": "metrics.jsonl", "csv": "metrics.csv with header", "logging": "logging 'INFO:train:k=v'",
          "tqdm": "tqdm bar with postfix"}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("plain_pytorch", cause, seed)
    s.style = STYLES[(seed + len(cause)) % len(STYLES)]
    return s


def fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def run(s: Spec, out: Path) -> None:
    tr = Trainer(s)
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "train.log").open("w")
    if s.style == "jsonl":
        (out / "config.json").write_text(json.dumps(s.config(), indent=2) + "\n")
        sink = (out / "metrics.jsonl").open("w")
    elif s.style == "csv":
        (out / "config.yaml").write_text(yaml.safe_dump(s.config(), sort_keys=False))
        sink = (out / "metrics.csv").open("w")
        sink.write("step,epoch,train_loss,lr,grad_norm,val_loss,val_acc\n")
    else:
        sink = None
    logger = None
    if s.style == "logging":
        logger = logging.getLogger(f"train.{out.name}")
        logger.handlers.clear()
        logger.propagate = False
        h = logging.StreamHandler(log)
        h.setFormatter(logging.Formatter("%(levelname)s:train:%(message)s"))
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
        logger.info("config " + " ".join(f"{k}={v}" for k, v in s.config().items()))
    bar = None
    if s.style == "tqdm":
        from tqdm import tqdm
        bar = tqdm(total=s.steps, file=log, ncols=100, mininterval=0, miniters=s.log_every, desc="train")
    if s.style in ("print", "tutorial"):
        print(f"training {s.family} with {s.optimizer} lr={s.lr:.3g} batch={s.batch} steps={s.steps}", file=log)
    running, n_run = 0.0, 0
    for step in range(1, s.steps + 1):
        loss, gn, lr = tr.step()
        running, n_run = running + loss, n_run + 1
        epoch = (step - 1) // tr.steps_per_epoch + 1
        if step % s.log_every == 0 or step == 1:
            if s.style == "print":
                print(f"step {step:5d} | loss {loss:.4f} | lr {lr:.2e} | grad_norm {gn:.3f}", file=log)
            elif s.style == "tutorial" and step % (2 * s.log_every) == 0:
                print(f"[{epoch}, {step:5d}] loss: {running / n_run:.3f}", file=log)
                running, n_run = 0.0, 0
            elif s.style == "jsonl":
                rec = {"step": step, "epoch": epoch, "loss": loss, "lr": lr, "grad_norm": gn}
                sink.write(json.dumps(rec | tr.layer_grad_norms()) + "\n")
            elif s.style == "csv":
                sink.write(f"{step},{epoch},{fmt(loss)},{fmt(lr)},{fmt(gn)},,\n")
            elif s.style == "logging":
                logger.info(f"step={step} loss={loss:.4f} lr={lr:.3g} grad_norm={gn:.3f}")
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", refresh=False)
            bar.update(1)
        if step % s.eval_every == 0 or step == s.steps:
            vl, va = tr.evaluate()
            if s.style == "print":
                print(f"eval step {step:5d} | val_loss {vl:.4f}" + (f" | val_acc {va:.4f}" if va is not None
                                                                   else ""), file=log)
            elif s.style == "tutorial":
                print(f"Epoch {epoch} step {step}: val loss {vl:.4f}" + (f", val accuracy {100 * va:.1f}%"
                                                                          if va is not None else ""), file=log)
            elif s.style == "jsonl":
                sink.write(json.dumps({"step": step, "epoch": epoch, "val_loss": vl, "val_acc": va}) + "\n")
            elif s.style == "csv":
                sink.write(f"{step},{epoch},,,,{fmt(vl)},{fmt(va)}\n")
            elif s.style == "logging":
                logger.info(f"eval step={step} val_loss={vl:.4f}" + (f" val_acc={va:.4f}" if va is not None else ""))
            elif bar is not None:
                bar.write(f"eval @ {step}: val_loss={vl:.4f}" + (f" val_acc={va:.4f}" if va is not None else ""),
                          file=log)
        if s.style == "print" and not math.isfinite(loss):
            print(f"loss is {loss}, stopping training at step {step}", file=log)
            break
    if bar is not None:
        bar.close()
    if logger is not None:
        logger.handlers.clear()
    if sink is not None:
        sink.close()
    log.close()
