"""A PaddlePaddle stack: the recipes and fault mechanisms of spec.py trained by Paddle with its own APIs (paddle.nn
layers, paddle.optimizer with paddle.optimizer.lr schedulers, paddle.nn.ClipGradByGlobalNorm), logged the ways
Paddle users' runs log:

- fit2 / fit1: the high-level API, `paddle.Model(net).prepare(...)` and `model.fit(train, eval, verbose=2 or 1)`:
  Paddle's ProgBarLogger console (`Epoch 1/10`, `step 10/32 - loss: 2.3 - acc: 0.1 - 5ms/step`, `Eval begin...`,
  `Eval samples: 256`); an LR scheduler is stepped by the LRScheduler callback that fit adds by itself
  (by_step=True); `fit1` also passes `paddle.callbacks.LRScheduler` explicitly and an EarlyStopping-free run.
- loop: a custom dygraph loop printing the lines of Paddle's own tutorials,
  `epoch: 0, batch_id: 10, loss is: 2.30, lr: 0.01` and `[validation] accuracy/loss: 0.41/1.52` per epoch.
- logging: a custom dygraph loop reporting through the `logging` module every log interval
  (`step 10/200 - loss: 2.3 - lr: 0.01 - grad_norm: 1.2`) and per evaluation, plus `config.json`.

Mechanisms in Paddle's own API:
- scheduler_misuse: `paddle.optimizer.lr.StepDecay(step_size=N, gamma=0.1)` with N meant in epochs, stepped per
  batch -- by `scheduler.step()` inside the batch loop, or by the LRScheduler callback that `Model.fit` attaches
  with by_step=True
- zero_grad_missing: the loop never calls `optimizer.clear_grad()` (Paddle accumulates gradients until cleared)
- grad_accum_bug: `optimizer.step()` every micro-batch, `optimizer.clear_grad()` only every N
- frozen_params: `for p in model.parameters()[:-1]: p.stop_gradient = True`: only the output bias trains
- grad_explosion: `paddle.nn.SimpleRNN` with an Orthogonal(gain > 1) recurrent init, Momentum SGD, no grad_clip
- dead_units / vanishing_gradients / nan_inf / label_leakage / data_pipeline_bug / overfitting as spec.py says.

Not realised: `no_warmup` (spec.py) and `fp16_overflow`: Paddle 3.3.1 on CPU registers no float16 `matmul` kernel
(a float16 Linear fails with NotFound), and `paddle.amp.auto_cast(dtype="float16")` on CPU leaves the ops in float32,
so no float16 model trains there (tried 2026-12-06). `paddle.amp` is therefore not used. Requires
paddlepaddle (CPU wheel; not in the project's requirements: `pip install paddlepaddle`).
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from pathlib import Path

import numpy as np
import paddle
from paddle import nn

from corpusgen import data, models
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.spec import Spec

STYLES = ("fit2", "loop", "fit1", "logging")
LOOP_CAUSES = ("zero_grad_missing", "grad_accum_bug")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "label_leakage",
          "data_pipeline_bug", "overfitting")
FORMAT = {
    "fit2": "paddle.Model.fit(verbose=2) ProgBarLogger console: 'Epoch i/N', 'step k/M - loss: x - acc: x - "
            "ms/step', 'Eval begin...', 'Eval samples: n'",
    "fit1": "paddle.Model.fit(verbose=1) ProgBarLogger console (non-tty: one line per log_freq step)",
    "loop": "Paddle tutorial prints 'epoch: e, batch_id: i, loss is: x, lr: x' + '[validation] accuracy/loss: a/l'",
    "logging": "logging-module lines 'step k/N - loss: x - lr: x - grad_norm: x' + eval lines + config.json",
}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("paddle", cause, seed)
    styles = ("loop", "logging") if cause in LOOP_CAUSES or s.variant == "same_batch" else STYLES
    s.style = styles[(seed + len(cause)) % len(styles)]
    s.n_train = min(s.n_train, 512)  # Paddle dygraph on one CPU thread: half the data, at most 160 steps
    s.steps = min(s.steps, 160) if cause != "overfitting" else s.steps
    if cause == "scheduler_misuse":
        how = ("the LRScheduler callback that Model.fit attaches (by_step=True)" if s.style.startswith("fit")
               else "scheduler.step() inside the batch loop")
        s.mechanism = (f"paddle.optimizer.lr.StepDecay(step_size={s.extra['step_size']}, gamma=0.1) meant per epoch "
                       f"but stepped every batch by {how}: the LR is ~0 after a few dozen steps")
    if cause == "frozen_params":
        s.mechanism = ("`for p in model.parameters()[:-1]: p.stop_gradient = True` meant to freeze all but the last "
                       "layer; it leaves only the output layer's bias trainable")
    if cause == "zero_grad_missing":
        s.mechanism = "optimizer.clear_grad() never called: Paddle accumulates gradients over every step"
    if cause == "grad_accum_bug":
        k = s.extra["accum"]
        s.mechanism = (f"gradient accumulation over {k} micro-batches written with optimizer.step() after every "
                       f"micro-batch and optimizer.clear_grad() only every {k}: stale gradients are re-applied")
    return s


# --- models -----------------------------------------------------------------------------------------------------

def _attrs(s: Spec, hidden: bool) -> dict:
    """weight/bias ParamAttrs: N(0, 0.1) weights for the sigmoid stack, a negative constant hidden bias for
    dead_units; Paddle's defaults otherwise."""
    kw: dict = {}
    if s.act == "sigmoid":
        kw["weight_attr"] = paddle.ParamAttr(initializer=nn.initializer.Normal(0.0, 0.1))
        kw["bias_attr"] = paddle.ParamAttr(initializer=nn.initializer.Constant(0.0))
    if hidden and s.bias_init is not None:
        kw["bias_attr"] = paddle.ParamAttr(initializer=nn.initializer.Constant(s.bias_init))
    return kw


def _act(name: str) -> nn.Layer:
    return {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh()}[name]


class InputNorm(nn.Layer):
    """Per-sample input normalisation as users write it; eps=0 is the unguarded version (0/0 on a blank sample)."""

    def __init__(self, how: str, eps: float):
        super().__init__()
        self.how, self.eps = how, eps

    def forward(self, x):
        if self.how == "norm":
            return x / (paddle.linalg.norm(x, axis=-1, keepdim=True) + self.eps) * math.sqrt(x.shape[-1])
        if self.how == "std":
            m = x.mean(axis=[1, 2, 3], keepdim=True)
            return (x - m) / (x.std(axis=[1, 2, 3], keepdim=True) + self.eps)
        return x / (x.abs().max(axis=[1, 2], keepdim=True) + self.eps)


class MLP(nn.Layer):
    def __init__(self, s: Spec):
        super().__init__()
        width = 256 if s.extra.get("wide") else 64
        layers: list[nn.Layer] = [InputNorm("norm", s.norm_eps)]
        d = 16
        for _ in range(s.depth):
            layers += [nn.Linear(d, width, **_attrs(s, True)), _act(s.act)]
            d = width
        layers.append(nn.Linear(d, data.N_CLASSES["blobs"], **_attrs(s, False)))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class CNN(nn.Layer):
    def __init__(self, s: Spec):
        super().__init__()
        c = 16 if s.extra.get("wide") else 8
        layers: list[nn.Layer] = [InputNorm("std", s.norm_eps)]
        ch = 1
        for i in range(max(2, s.depth)):
            layers += [nn.Conv2D(ch, c, 3, padding=1, **_attrs(s, True)), _act(s.act)]
            ch = c
            if i < 2:
                layers.append(nn.MaxPool2D(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c * 9, data.N_CLASSES["images"], **_attrs(s, False))

    def forward(self, x):
        return self.classifier(paddle.flatten(self.features(x), 1))


class RNN(nn.Layer):
    def __init__(self, s: Spec):
        super().__init__()
        hidden = 64 if s.extra.get("wide") else 32
        self.norm = InputNorm("peak", s.norm_eps)
        if s.cause == "grad_explosion":
            self.rnn = nn.SimpleRNN(1, hidden, activation="tanh", weight_hh_attr=paddle.ParamAttr(
                initializer=nn.initializer.Orthogonal(gain=s.init_gain)))
        else:
            self.rnn = (nn.LSTM if s.seed % 2 == 0 else nn.GRU)(1, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(self.norm(x))
        return self.head(out[:, -1]).squeeze(-1)


class TinyTransformer(nn.Layer):
    def __init__(self, s: Spec):
        super().__init__()
        d = 64 if s.extra.get("wide") else 32
        self.embed = nn.Embedding(data.VOCAB, d)
        self.pos = self.create_parameter([data.LM_LEN, d], default_initializer=nn.initializer.Normal(0.0, 0.02))
        layer = nn.TransformerEncoderLayer(d, 2, 2 * d, dropout=0.0, normalize_before=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(d, data.VOCAB)

    def forward(self, ids):
        n = ids.shape[1]
        mask = paddle.triu(paddle.full([n, n], float("-inf")), diagonal=1)  # causal: -inf above the diagonal
        return self.head(self.encoder(self.embed(ids) + self.pos[:n], src_mask=mask))


def build(s: Spec) -> nn.Layer:
    net = {"mlp": MLP, "cnn": CNN, "rnn": RNN, "transformer": TinyTransformer}[s.family](s)
    if s.cause == "frozen_params":
        for p in net.parameters()[:-1]:
            p.stop_gradient = True
    return net


class LMLoss(nn.Layer):
    """Next-token cross-entropy over non-padding targets; for nan_inf the unguarded per-line mean (0/0 on a blank
    line)."""

    def __init__(self, unguarded: bool):
        super().__init__()
        self.unguarded = unguarded

    def forward(self, logits, labels):
        tok = nn.functional.cross_entropy(logits, labels.unsqueeze(-1), reduction="none").squeeze(-1)
        valid = (labels != data.PAD).astype("float32")
        if self.unguarded:
            return ((tok * valid).sum(1) / valid.sum(1)).mean()
        return (tok * valid).sum() / paddle.clip(valid.sum(), min=1.0)


class RegLoss(nn.Layer):
    def forward(self, pred, y):
        return nn.functional.mse_loss(pred, y.astype("float32"))


# --- data, loss, optimiser ----------------------------------------------------------------------------------------

def arrays(s: Spec):
    """numpy (x, y) train/val in Paddle layout (NCHW like torch; LM split into inputs and next-token targets)."""
    (tx, ty), (vx, vy) = models.datasets(s)
    tx, ty, vx, vy = (t.numpy() for t in (tx, ty, vx, vy))
    if s.task == "lm":
        leak = s.cause == "label_leakage"
        tx, ty = (tx[:, 1:] if leak else tx[:, :-1]), ty[:, 1:]  # leak: inputs pre-shifted, equal to the targets
        vx, vy = vx[:, :-1], vy[:, 1:]
    return (tx, ty), (vx, vy)


class ArrayDataset(paddle.io.Dataset):
    def __init__(self, x: np.ndarray, y: np.ndarray):
        super().__init__()
        self.x, self.y = x, y

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def __len__(self) -> int:
        return len(self.x)


def loss_layer(s: Spec) -> nn.Layer:
    kind = data.kind(s.task)
    if kind == "cls":
        return nn.CrossEntropyLoss()
    if kind == "reg":
        return RegLoss()
    return LMLoss(s.cause == "nan_inf")


def lr_schedule(s: Spec, total: int):
    """A paddle.optimizer.lr scheduler over `total` optimiser steps (warmup then the schedule), or the float LR."""
    if s.cause == "scheduler_misuse":
        return paddle.optimizer.lr.StepDecay(s.lr, step_size=s.extra["step_size"], gamma=0.1)
    after = max(1, total - s.warmup)
    if s.schedule == "cosine":
        sched = paddle.optimizer.lr.CosineAnnealingDecay(s.lr, T_max=after)
    elif s.schedule == "linear":
        sched = paddle.optimizer.lr.PolynomialDecay(s.lr, decay_steps=after, end_lr=0.0, power=1.0)
    elif s.schedule == "step":
        sched = paddle.optimizer.lr.PiecewiseDecay([after // 3, 2 * after // 3], [s.lr, s.lr * 0.1, s.lr * 0.01])
    else:
        sched = s.lr
    if s.warmup:
        return paddle.optimizer.lr.LinearWarmup(sched, warmup_steps=s.warmup, start_lr=s.lr / s.warmup, end_lr=s.lr)
    return sched


def optimizer(s: Spec, lr, params):
    clip = nn.ClipGradByGlobalNorm(s.clip) if s.clip else None
    wd = s.weight_decay or None
    if s.optimizer == "sgd":
        return paddle.optimizer.Momentum(lr, momentum=0.9, parameters=params, weight_decay=wd, grad_clip=clip)
    if s.optimizer == "adam":
        return paddle.optimizer.Adam(lr, parameters=params, weight_decay=wd, grad_clip=clip)
    if s.optimizer == "adamw":
        return paddle.optimizer.AdamW(lr, parameters=params, weight_decay=s.weight_decay or 0.01, grad_clip=clip)
    return paddle.optimizer.RMSProp(lr, parameters=params, weight_decay=wd, grad_clip=clip)


# --- the run --------------------------------------------------------------------------------------------------------

def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    paddle.set_device("cpu")
    paddle.seed(s.seed)
    np.random.seed(s.seed)
    # hapi's own to_tensor copy of int64 batches warns with this machine's install path: kept out of committed logs
    warnings.filterwarnings("ignore", message="To copy construct from a tensor")
    with captured(out / "train.log"):
        if s.style.startswith("fit"):
            _fit(s, out)
        else:
            _loop(s, out)


def _epochs(s: Spec, n: int) -> tuple[int, int]:
    spe = math.ceil(n / s.batch)
    return spe, max(4, math.ceil(s.steps / spe))


def _fit(s: Spec, out: Path) -> None:
    (tx, ty), (vx, vy) = arrays(s)
    spe, epochs = _epochs(s, len(tx))
    s.steps = spe * epochs  # fit runs whole epochs: the schedule spans every step really run
    net = build(s)
    lr = lr_schedule(s, s.steps)
    opt = optimizer(s, lr, net.parameters())
    model = paddle.Model(net)
    metrics = paddle.metric.Accuracy() if data.kind(s.task) == "cls" else None
    model.prepare(opt, loss_layer(s), metrics)
    if s.seed % 3 == 0:
        model.summary(input_size=(1, *tx.shape[1:]), dtype=str(tx.dtype))
    callbacks = [paddle.callbacks.LRScheduler(by_step=True, by_epoch=False)] if s.style == "fit1" else []
    model.fit(ArrayDataset(tx, ty), ArrayDataset(vx, vy), batch_size=s.batch, epochs=epochs, shuffle=True,
              verbose=2 if s.style == "fit2" else 1, log_freq=s.log_every * 2, callbacks=callbacks,
              save_dir=None)


def _loop(s: Spec, out: Path) -> None:
    (tx, ty), (vx, vy) = arrays(s)
    spe, epochs = _epochs(s, len(tx))
    accum = s.extra.get("accum", 1) if s.cause == "grad_accum_bug" else 1
    steps = s.steps
    net = build(s)
    lr = lr_schedule(s, steps)
    opt = optimizer(s, lr, net.parameters())
    loss_fn = loss_layer(s)
    kind = data.kind(s.task)
    log = None
    if s.style == "logging":
        (out / "config.json").write_text(json.dumps(s.config(), indent=2, sort_keys=True) + "\n")
        log = logging.getLogger("train")
        log.handlers.clear()
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s"))
        log.addHandler(h)
        log.setLevel(logging.INFO)
        log.propagate = False
        log.info("Config: %s", json.dumps(s.config(), sort_keys=True))
    loader = paddle.io.DataLoader(ArrayDataset(tx, ty), batch_size=s.batch, shuffle=s.variant != "same_batch",
                                  drop_last=False)
    first = next(iter(loader))

    def evaluate() -> tuple[float, float | None]:
        net.eval()
        with paddle.no_grad():
            x, y = paddle.to_tensor(vx), paddle.to_tensor(vy)
            logits = net(x)
            loss = float(loss_fn(logits, y))
            acc = None
            if kind == "cls":
                acc = float((logits.argmax(-1) == y).astype("float32").mean())
            elif kind == "lm":
                valid = (y != data.PAD).astype("float32")
                acc = float(((logits.argmax(-1) == y).astype("float32") * valid).sum() / valid.sum())
        net.train()
        return loss, acc

    step, micro = 0, 0
    t0 = time.time()
    for epoch in range(epochs):
        for batch_id, (x, y) in enumerate(loader):
            if s.variant == "same_batch":
                x, y = first
            loss = loss_fn(net(x), y)
            loss.backward()
            micro += 1
            grads = [p.grad for p in net.parameters() if p.grad is not None]
            gnorm = float(paddle.sqrt(sum((g.astype("float32") ** 2).sum() for g in grads))) if grads else 0.0
            cur_lr = opt.get_lr()
            opt.step()
            if s.cause == "grad_accum_bug":
                if micro % accum == 0:
                    opt.clear_grad()
            elif s.cause != "zero_grad_missing":
                opt.clear_grad()
            if isinstance(lr, paddle.optimizer.lr.LRScheduler):
                lr.step()
            step += 1
            if step % s.log_every == 0 or step == 1:
                if log is None:
                    print(f"epoch: {epoch}, batch_id: {batch_id}, loss is: {float(loss):.5f}, lr: {cur_lr:.6g}")
                else:
                    ms = 1000 * (time.time() - t0) / step
                    log.info("step %d/%d - loss: %.4f - lr: %.6g - grad_norm: %.4f - %.0fms/step", step, steps,
                             float(loss), cur_lr, gnorm, ms)
            if log is not None and step % s.eval_every == 0:
                vl, va = evaluate()
                extra = f" - acc: {va:.4f}" if va is not None else ""
                log.info("[Eval] step %d - loss: %.4f%s", step, vl, extra)
            if step >= steps:
                break
        if log is None:
            vl, va = evaluate()
            if va is None:
                print(f"[validation] loss: {vl:.5f}")
            else:
                print(f"[validation] accuracy/loss: {va:.4f}/{vl:.4f}")
        if step >= steps:
            break
