"""A timm-style image-classification script (timm and torchvision do not install beside this torch, so the
script is written here with the plain-torch CNN of models.py), logging the way timm's train.py does:

- `args.yaml` in the output folder (every argument of the run)
- console lines `Train: E [ b/N ( p%)]  Loss: x (avg)  Time: ...  LR: x  Data: ...` every log interval and
  `Test: [ b/N]  Time: ...  Loss: x (avg)  Acc@1: x (avg)  Acc@5: x (avg)` per evaluation, into train.log
- `summary.csv`, one row per epoch: epoch,train_loss,eval_loss,eval_top1,eval_top5,lr

Training is by epoch; the fault mechanisms are those of loop.py (the same hand-written step).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import yaml

from corpusgen import spec as spec_mod
from corpusgen.loop import Trainer
from corpusgen.spec import Spec

CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "vanishing_gradients", "zero_grad_missing",
          "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "fp16_overflow", "data_pipeline_bug",
          "overfitting")
FORMAT = {"*": "timm-style console 'Train: E [b/N]  Loss: x (avg)' + summary.csv + args.yaml"}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("timm_style", cause, seed, families=("cnn",))
    s.style = "timm"
    return s


def topk(logits: torch.Tensor, y: torch.Tensor, k: int) -> float:
    return float((logits.topk(k, dim=-1).indices == y[:, None]).any(-1).float().mean()) * 100


def run(s: Spec, out: Path) -> None:
    tr = Trainer(s)
    out.mkdir(parents=True, exist_ok=True)
    epochs = max(3, math.ceil(s.steps / tr.steps_per_epoch))
    args = s.config() | {"model": "tinycnn", "epochs": epochs, "sched": s.schedule, "warmup_steps": s.warmup,
                         "opt": s.optimizer, "num_classes": 6, "img_size": 12, "log_interval": s.log_every,
                         "output": "output/train/tinycnn"}
    (out / "args.yaml").write_text(yaml.safe_dump(args, sort_keys=True))
    log = (out / "train.log").open("w")
    n_params = sum(p.numel() for p in tr.model.parameters())
    print(f"Model tinycnn created, param count:{n_params}", file=log)
    print(f"Scheduled epochs: {epochs}. LR stepped per update.", file=log)
    summary = (out / "summary.csv").open("w")
    summary.write("epoch,train_loss,eval_loss,eval_top1,eval_top5,lr\n")
    n = tr.steps_per_epoch
    for epoch in range(epochs):
        total, count, t_avg = 0.0, 0, 0.0
        for b in range(n):
            t0 = time.perf_counter()
            loss, _, lr = tr.step()
            dt = time.perf_counter() - t0
            total, count, t_avg = total + loss, count + 1, t_avg + dt
            if b % s.log_every == 0 or b == n - 1:
                print(f"Train: {epoch} [{b:>4d}/{n} ({100 * b / max(1, n - 1):>3.0f}%)]  "
                      f"Loss: {loss:#.3g} ({total / count:#.3g})  "
                      f"Time: {dt:.3f}s, {s.batch / dt:>7.2f}/s  "
                      f"({t_avg / count:.3f}s, {s.batch * count / t_avg:>7.2f}/s)  "
                      f"LR: {lr:.3e}  Data: 0.000 (0.000)", file=log)
        t0 = time.perf_counter()
        vl, _ = tr.evaluate()
        with torch.no_grad():
            tr.model.eval()
            x = tr.vx.half() if tr.half else tr.vx
            logits = tr.model(x).float()
            tr.model.train()
        top1, top5 = topk(logits, tr.vy, 1), topk(logits, tr.vy, 5)
        dt = time.perf_counter() - t0
        print(f"Test: [   0/0]  Time: {dt:.3f} ({dt:.3f})  Loss: {vl:>7.3f} ({vl:>7.3f})  "
              f"Acc@1: {top1:>7.3f} ({top1:>7.3f})  Acc@5: {top5:>7.3f} ({top5:>7.3f})", file=log)
        summary.write(f"{epoch},{total / count},{vl},{top1},{top5},{tr.opt.param_groups[0]['lr']}\n")
    summary.close()
    log.close()
