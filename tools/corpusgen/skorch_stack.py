"""A skorch stack: the same recipes (spec.py) and torch models (models.py) trained by skorch's own loop --
`NeuralNetClassifier` (MLP, CNN), `NeuralNetRegressor` (RNN forecasting) or the base `NeuralNet` with a next-token
criterion (transformer) -- with skorch's callbacks for the schedule (`LRScheduler`), clipping
(`GradientNormClipping`) and freezing (`Freezer`), and a validation set given by `predefined_split`. What a run
leaves is what skorch and the user's script write:

- train.log: the captured console, i.e. skorch's `PrintLog` table (`epoch  train_loss  valid_acc  valid_loss  dur`,
  with the ANSI colours skorch puts on each column's best value), and whatever warnings torch or skorch print;
- history.json (odd seeds): `net.save_params(f_history=...)`, skorch's history with per-batch entries;
- config.yaml: the script's own hyper-parameters.

Mechanisms in skorch's API: `lr=` far outside the range (lr_too_high / lr_too_low); an epoch `StepLR` given to
`LRScheduler(..., step_every='batch')` (scheduler_misuse); a custom `train_step` without `zero_grad`
(zero_grad_missing), or one that steps every micro-batch but clears gradients only every N (grad_accum_bug);
`Freezer` with a callable that keeps only the last parameter name trainable (frozen_params); dead ReLU biases, a
deep sigmoid stack, an unguarded 0/0 in the module or criterion, a tanh RNN with recurrent gain > 1 and no
`GradientNormClipping` (models.py); `module.half()` with a static loss scale in an overridden `train_step_single`
(fp16_overflow, MLP with Adam only); labels shuffled apart from their inputs (data_pipeline_bug); off-by-one / hand
pre-shifted training inputs (label_leakage); a tiny training split (overfitting).

Every cause of spec.py is realised here except `no_warmup`, which no stack realises (see spec.py). Tried and
dropped as no wide-margin symptom: class-sorted arrays fitted with skorch's default `iterator_train__shuffle=False`
as a data_pipeline_bug (a CNN still reached 0.84 validation accuracy), and fp16_overflow on the transformer or
with SGD (see `draw`). Requires skorch
(not in the project's requirements; `pip install skorch` in a side environment; the runs were made with skorch 1.4.0
and torch 2.13.0).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch
import yaml
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Freezer, GradientNormClipping, LRScheduler
from skorch.dataset import Dataset, unpack_data
from skorch.helper import predefined_split
from torch import nn

from corpusgen import data, models
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.spec import Spec

CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "fp16_overflow",
          "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {
    "table": "skorch PrintLog table 'epoch  train_loss  valid_acc  valid_loss  dur' (ANSI-coloured) in the console",
    "history": "skorch PrintLog table in the console + net.save_params(f_history=...) history.json",
    "*": "skorch PrintLog console table",
}
LOSS_SCALE = 65536.0
MAX_EPOCHS = 100


def draw(cause: str, seed: int) -> Spec:
    # fp16_overflow on the MLP only: on CPU float16 the tiny transformer's scaled gradients stayed below the float16
    # limit in 2 of 3 seeds (its loss fell as in a healthy run), so no honest symptom there at this scale
    fams = ("mlp",) if cause == "fp16_overflow" else spec_mod.FAMILIES
    s = spec_mod.draw("skorch", cause, seed, families=fams)
    s.style = "history" if seed % 2 else "table"
    # skorch trains by epochs: half the data keeps runs at 10-20 epochs for the drawn number of steps
    s.n_train = min(s.n_train, 512)
    if cause == "scheduler_misuse":
        k = s.extra["step_size"]
        s.mechanism = (f"LRScheduler(policy=StepLR, step_size={k}, gamma=0.1, step_every='batch'): step_size meant "
                       "in epochs, but the callback steps the policy after every batch, so the LR is ~0 after a few "
                       "dozen batches")
    elif cause == "zero_grad_missing":
        s.mechanism = ("custom NeuralNet.train_step (train_step_single + optimizer_.step()) that never calls "
                       "zero_grad: gradients sum over every step")
    elif cause == "grad_accum_bug":
        k = s.extra["accum"]
        s.mechanism = (f"gradient accumulation over {k} batches in an overridden train_step that calls "
                       f"optimizer_.step() after every batch and zero_grad() only every {k}: stale gradients are "
                       "re-applied")
    elif cause == "frozen_params":
        s.mechanism = ("Freezer(lambda name: name != last) with last = the final name of "
                       "module.named_parameters(), meant to train only the output layer: it is the output bias, so "
                       "everything else is frozen")
    elif cause == "fp16_overflow":
        # Adam-type only: with SGD the float16 MLP trained without overflow in 2 of 2 seeds at this scale
        if s.optimizer not in ("adam", "adamw"):
            s.optimizer = "adam"
            s.lr = spec_mod.log_uniform(np.random.default_rng(seed), *spec_mod.GOOD_LR["adam"])
        s.mechanism = (f"module.half() trained with {s.optimizer} on float16 inputs, train_step_single overridden "
                       "to backprop loss * 65536 (a static scale from an old apex config) and divide the grads: "
                       "weights, gradients and optimiser state in pure float16 (eps 1e-8 and small squared "
                       "gradients round to 0), inf/NaN reach the weights")
    elif cause == "data_pipeline_bug":
        s.variant = "shuffled_labels"
        s.mechanism = ("X and y shuffled with two independent torch.randperm permutations before net.fit(X, y): labels "
                       "are unrelated to inputs")
    return s


# --- modules and criteria skorch is given -------------------------------------------------------------------------

class SeriesRegressor(nn.Module):
    """NeuralNetRegressor wants (n, 1) predictions for (n, 1) targets."""

    def __init__(self, s: Spec):
        super().__init__()
        self.rnn = models.RNN(s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x).unsqueeze(-1)


class NextTokenLoss(nn.Module):
    """Next-token cross-entropy over (logits, ids); padding ignored. `guarded=False` is the per-line mean without a
    guard on lines of count 0 (nan_inf)."""

    def __init__(self, guarded: bool = True):
        super().__init__()
        self.guarded = guarded

    def forward(self, logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        logits, tgt = logits[:, :-1].float(), ids[:, 1:]
        valid = (tgt != data.PAD).float()
        tok = nn.functional.cross_entropy(logits.reshape(-1, data.VOCAB), tgt.reshape(-1), reduction="none")
        tok = tok.view_as(valid)
        if not self.guarded:
            return ((tok * valid).sum(1) / valid.sum(1)).mean()
        return (tok * valid).sum() / valid.sum().clamp_min(1)


def _net_class(s: Spec) -> type:
    base = {"cls": NeuralNetClassifier, "reg": NeuralNetRegressor, "lm": NeuralNet}[data.kind(s.task)]
    body: dict = {}
    if s.cause == "zero_grad_missing":
        def train_step(self, batch, **fit_params):
            step = self.train_step_single(batch, **fit_params)
            self.optimizer_.step()
            return step
        body["train_step"] = train_step
    elif s.cause == "grad_accum_bug":
        accum = s.extra["accum"]

        seen = [0]  # batches trained so far

        def train_step(self, batch, **fit_params):
            step = self.train_step_single(batch, **fit_params)
            self.optimizer_.step()  # the bug: a step on every batch, on gradients summed since the last zero_grad
            seen[0] += 1
            if seen[0] % accum == 0:
                self.optimizer_.zero_grad()
            return step
        body["train_step"] = train_step
    elif s.cause == "fp16_overflow":
        def train_step_single(self, batch, **fit_params):
            self._set_training(True)
            xi, yi = unpack_data(batch)
            y_pred = self.infer(xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=xi, training=True)
            (loss * LOSS_SCALE).backward()
            for p in self.module_.parameters():
                if p.grad is not None:
                    p.grad.div_(LOSS_SCALE)
            return {"loss": loss, "y_pred": y_pred}

        def get_loss(self, y_pred, y_true, X=None, training=False):  # noqa: N803 (skorch's signature)
            return base.get_loss(self, y_pred.float(), y_true, X=X, training=training)
        body |= {"train_step_single": train_step_single, "get_loss": get_loss}
    return type(f"{base.__name__}", (base,), body) if body else base


def _arrays(s: Spec):
    """(X_train, y_train), (X_valid, y_valid) as numpy arrays in the dtypes skorch's nets expect."""
    (tx, ty), (vx, vy) = models.datasets(s)
    tx, ty, vx, vy = tx.numpy(), ty.numpy(), vx.numpy(), vy.numpy()
    kind = data.kind(s.task)
    if kind == "reg":
        ty, vy = ty.reshape(-1, 1), vy.reshape(-1, 1)
    if kind == "lm" and s.cause == "label_leakage":  # the user pre-shifts the inputs; the criterion shifts too
        tx = np.concatenate([tx[:, 1:], np.zeros_like(tx[:, :1])], axis=1)
    if s.cause == "fp16_overflow" and tx.dtype == np.float32:
        tx, vx = tx.astype(np.float16), vx.astype(np.float16)
    return (tx, ty), (vx, vy)


def _optimizer_kw(s: Spec) -> dict:
    kw: dict = {"optimizer": {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                              "rmsprop": torch.optim.RMSprop}[s.optimizer]}
    if s.optimizer == "sgd":
        kw["optimizer__momentum"] = 0.9
    wd = s.weight_decay or (0.01 if s.optimizer == "adamw" else 0.0)
    if wd:
        kw["optimizer__weight_decay"] = wd
    return kw


def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(s.seed)
    np.random.seed(s.seed)
    (tx, ty), (vx, vy) = _arrays(s)
    module = models.build(dataclasses.replace(s, cause="healthy") if s.cause == "frozen_params" else s)
    if s.task == "series":
        module = SeriesRegressor(s) if s.cause != "frozen_params" else SeriesRegressor(
            dataclasses.replace(s, cause="healthy"))
    if s.cause == "fp16_overflow":
        module = module.half()
    steps_per_epoch = math.ceil(len(tx) / s.batch)
    # at least 10 epochs: a skorch table of fewer rows is not how people train with it
    epochs = min(MAX_EPOCHS, max(10, math.ceil(s.steps / steps_per_epoch)))
    callbacks: list = []
    if s.cause == "scheduler_misuse":
        callbacks.append(LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=s.extra["step_size"],
                                     gamma=0.1, step_every="batch"))
    elif s.warmup or s.schedule != "constant":
        callbacks.append(LRScheduler(policy=torch.optim.lr_scheduler.LambdaLR,
                                     lr_lambda=models.lr_lambda(s, epochs * steps_per_epoch), step_every="batch"))
    if s.clip:
        callbacks.append(GradientNormClipping(gradient_clip_value=s.clip))
    if s.cause == "frozen_params":
        last = list(dict(module.named_parameters()))[-1]
        callbacks.append(Freezer(lambda name: name != last))
    kind = data.kind(s.task)
    kw: dict = {}
    if kind == "cls":
        kw["criterion"] = nn.CrossEntropyLoss
    elif kind == "lm":
        kw["criterion"] = NextTokenLoss
        kw["criterion__guarded"] = s.cause != "nan_inf"
    kw["iterator_train__shuffle"] = True  # skorch's default is False
    net = _net_class(s)(
        module, lr=s.lr, max_epochs=epochs, batch_size=s.batch, train_split=predefined_split(Dataset(vx, vy)),
        callbacks=callbacks or None, device="cpu", **_optimizer_kw(s), **kw)
    # the overriding subclasses carry their base's name, as the user's `class NeuralNetClassifier(...)` would
    config = s.config() | {"max_epochs": epochs, "net": type(net).__name__,
                           "callbacks": [type(c).__name__ for c in callbacks]}
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with captured(out / "train.log"):
        net.fit(tx, ty)
    if s.style == "history":
        net.save_params(f_history=str(out / "history.json"))
        json.loads((out / "history.json").read_text())  # skorch wrote valid JSON
