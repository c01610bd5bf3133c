"""A fastai v2 stack: the same recipes (spec.py) and torch models (models.py) trained by fastai's own `Learner`
(`Learner.fit`, `fit_one_cycle` or `fit_flat_cos`, fastai's native SGD / Adam / RMSProp optimisers) on fastai
`DataLoaders` built from the tensors, with fastai's callbacks for clipping (`GradientClip`), gradient accumulation
(`GradientAccumulation`, healthy runs of even seeds: two half-batches per step) and logging. Logged the ways fastai
scripts log:

- table:  the console as fastai prints it outside a notebook (fastprogress's console bars and the per-epoch table
          `epoch  train_loss  valid_loss  accuracy  time`) + the script's config.yaml
- csv:    the same console + `CSVLogger`'s `history.csv` (one row per epoch, the table's columns)
- print:  `with learn.no_bar()`: no progress bars, the Recorder's per-epoch log printed as Python lists
          (`[0, 1.93, 1.71, 0.39, '00:00']`, no header line), + config.yaml

The `train_loss` fastai shows is the Recorder's exponentially smoothed training loss (beta 0.98) at the epoch's
end; `valid_loss` and the metrics are over the validation set. Metrics: `accuracy` (classifiers), `rmse` (the
forecasting RNN), a token accuracy (the language model).

Mechanisms in fastai's API: `lr=` far outside the range (lr_too_high / lr_too_low); a user callback meant to divide
the LR by 10 every k epochs written in `after_batch`, so it fires every k batches (scheduler_misuse); a `Learner`
subclass whose `_do_grad_opt` override leaves out `self.opt.zero_grad()` (zero_grad_missing), or zeroes the
gradients only every N batches while stepping on every one, the loss undivided (grad_accum_bug); the model cast to
float16 (`learn.model.half()`, inputs cast in `before_batch`) with a callback multiplying `loss_grad` by a static
65536 and dividing the gradients in `before_step` (fp16_overflow, Adam-type MLP as in accelerate_stack.py); an
"overfit one batch" debugging callback left on, which replaces every training batch with the first one
(data_pipeline_bug same_batch variant, MLP and transformer only, see accelerate_stack.pipeline_variant). The rest
are in the model or data (models.py); `requires_grad=False` parameters are left out of the optimiser by fastai's
default `trainable_params` splitter, which changes nothing in what trains (frozen_params). Every cause of spec.py
except `no_warmup` (see spec.py) is realised. Requires fastai (not in the project's requirements: `pip install
--target DIR --no-deps fastai fastcore fasttransform plum-dispatch fastdownload "fastprogress<1.1" pandas matplotlib
scikit-learn scipy` and their small dependencies, DIR on PYTHONPATH, so that torch stays the environment's; fastprogress
1.1 needs python-fasthtml, and nothing here needs fastai's torchvision or spacy). The runs were made with fastai
2.8.12, fastcore 2.2.41, fastprogress 1.0.3 and torch 2.13.0; fastai's DataLoader draws its shuffling seed from the
`random` module, so each run starts with fastai's `set_seed`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import fastai.callback.schedule  # noqa: F401  (patches fit_one_cycle / fit_flat_cos onto Learner)
import torch
import yaml
from fastai.callback.core import Callback, CancelBackwardException, CancelStepException
from fastai.callback.progress import CSVLogger
from fastai.callback.training import GradientAccumulation, GradientClip
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat, MSELossFlat
from fastai.metrics import accuracy, rmse
from fastai.optimizer import SGD, Adam, OptimWrapper, RMSProp
from fastai.torch_core import set_seed
from torch import nn

from corpusgen import data, models
from corpusgen import spec as spec_mod
from corpusgen.accelerate_stack import fp16_recipe, pipeline_variant
from corpusgen.console import captured
from corpusgen.spec import Spec

STYLES = ("table", "csv", "print")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "fp16_overflow",
          "label_leakage", "data_pipeline_bug", "overfitting")
FORMAT = {
    "table": "fastai console: fastprogress bars + per-epoch table 'epoch train_loss valid_loss accuracy time'",
    "csv": "fastai console table + CSVLogger history.csv (epoch,train_loss,valid_loss,<metric>,time)",
    "print": "fastai console under learn.no_bar(): Recorder per-epoch lists '[0, 1.93, 1.71, 0.39, '00:00']'",
}
# fastai's fit methods for the recipe's schedule: constant -> fit; cosine / linear -> fit_one_cycle (warmup then
# cosine annealing); step -> fit_flat_cos (flat, then cosine)
FIT = {"constant": "fit", "cosine": "fit_one_cycle", "linear": "fit_one_cycle", "step": "fit_flat_cos"}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("fastai", cause, seed, families=("mlp",) if cause == "fp16_overflow" else spec_mod.FAMILIES)
    if cause == "fp16_overflow":
        fp16_recipe(s, seed)
        s.mechanism = s.mechanism.replace("model.half()", "learn.model.half()")
    pipeline_variant(s)
    s.style = STYLES[(seed + len(cause)) % len(STYLES)]
    # fastai trains by epochs: half the data keeps runs at 5-40 epochs for the drawn number of steps
    s.n_train = min(s.n_train, 512)
    s.extra["fastai_accum"] = 2 if cause == "healthy" and seed % 2 == 0 else 1
    s.extra["fit"] = "fit" if cause in ("scheduler_misuse", "lr_too_high", "lr_too_low") else FIT[s.schedule]
    if cause == "scheduler_misuse":
        k = s.extra["step_size"]
        s.mechanism = (f"a callback meant to divide the LR by 10 every {k} epochs, written in after_batch: it "
                       f"fires every {k} batches, so the LR is ~0 after a few dozen batches")
    elif cause == "zero_grad_missing":
        s.mechanism = ("Learner subclass overriding _do_grad_opt (backward + step) without self.opt.zero_grad(): "
                       "gradients sum over every step")
    elif cause == "grad_accum_bug":
        k = s.extra["accum"]
        s.mechanism = (f"hand-written accumulation over {k} batches in a Learner._do_grad_opt override: "
                       f"opt.step() on every batch, opt.zero_grad() only every {k}, loss not divided: stale "
                       "gradients are re-applied")
    elif cause == "data_pipeline_bug" and s.variant == "same_batch":
        s.mechanism = ("an 'overfit one batch' debugging callback left on (before_batch replaces every training "
                       "batch with the first one): every step trains on the same batch")
    return s


class StepDecayPerBatch(Callback):
    """The scheduler_misuse bug: 'LR /10 every k epochs', but counted in after_batch."""

    def __init__(self, k: int):
        self.k, self.n = k, 0

    def after_batch(self) -> None:
        if not self.training:
            return
        self.n += 1
        if self.n % self.k == 0:
            self.opt.set_hyper("lr", self.opt.hypers[0]["lr"] * 0.1)


class OneBatch(Callback):
    """The data_pipeline_bug same-batch variant: a sanity-check callback that trains on the first batch only."""

    def before_batch(self) -> None:
        if not self.training:
            return
        if not hasattr(self, "first"):
            self.first = (self.learn.xb, self.learn.yb)
        self.learn.xb, self.learn.yb = self.first


class StaticFP16(Callback):
    """fp16_overflow: half model and inputs, loss times a static scale, gradients divided by it before the step."""
    order = 10

    def __init__(self, scale: float):
        self.scale = scale

    def before_batch(self) -> None:
        self.learn.xb = tuple(x.half() if x.is_floating_point() else x for x in self.learn.xb)

    def after_pred(self) -> None:  # the loss in float32, as the other stacks' fp16 runs compute it
        self.learn.pred = self.learn.pred.float()

    def after_loss(self) -> None:
        if self.training:
            self.learn.loss_grad = self.learn.loss_grad * self.scale

    def before_step(self) -> None:
        for p in self.model.parameters():
            if p.grad is not None:
                p.grad.div_(self.scale)


class NoZeroGradLearner(Learner):
    def _do_grad_opt(self) -> None:  # the bug: self.opt.zero_grad() left out
        self._with_events(self._backward, "backward", CancelBackwardException)
        self._with_events(self._step, "step", CancelStepException)


class AccumBugLearner(Learner):
    accum = 8

    def _do_grad_opt(self) -> None:
        self._with_events(self._backward, "backward", CancelBackwardException)
        self._with_events(self._step, "step", CancelStepException)  # the bug: a step on every batch
        if (self.iter + 1) % self.accum == 0:
            self.opt.zero_grad()


def lm_loss(s: Spec):
    """Next-token cross-entropy over the model's (batch, len, vocab) output, padding ignored; for nan_inf the
    unguarded per-line mean (0/0 on a blank line)."""
    def f(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        lg, tgt = logits[:, :-1].float(), y[:, 1:]
        valid = (tgt != data.PAD).float()
        tok = nn.functional.cross_entropy(lg.reshape(-1, data.VOCAB), tgt.reshape(-1), reduction="none")
        tok = tok.view_as(valid)
        if s.cause == "nan_inf":
            return ((tok * valid).sum(1) / valid.sum(1)).mean()
        return (tok * valid).sum() / valid.sum().clamp_min(1)
    return f


def token_accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    tgt = y[:, 1:]
    valid = tgt != data.PAD
    return ((logits[:, :-1].argmax(-1) == tgt) & valid).float().sum() / valid.float().sum().clamp_min(1)


def _opt_func(s: Spec):
    wd = s.weight_decay
    if s.cause == "fp16_overflow":
        # torch's Adam through fastai's OptimWrapper (as fastai's docs show it): its eps of 1e-8 is 0 in float16;
        # fastai's own Adam (eps 1e-5) kept the half MLP finite in a first generation (seed 0 learnt as if healthy)
        opt = torch.optim.AdamW if s.optimizer == "adamw" else torch.optim.Adam
        return partial(OptimWrapper, opt=opt, weight_decay=wd or (0.01 if s.optimizer == "adamw" else 0.0))
    if s.optimizer == "sgd":
        return partial(SGD, mom=0.9, wd=wd, decouple_wd=False)
    if s.optimizer == "adam":
        return partial(Adam, wd=wd, decouple_wd=False)
    if s.optimizer == "adamw":
        return partial(Adam, wd=wd or 0.01, decouple_wd=True)
    return partial(RMSProp, wd=wd, decouple_wd=False)


def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    set_seed(s.seed)  # fastai's DataLoader draws its shuffling seed from the `random` module
    (tx, ty), (vx, vy) = models.datasets(s)
    if s.cause == "label_leakage" and s.task == "lm":  # the user pre-shifts the inputs; the loss shifts as well
        tx = torch.cat([tx[:, 1:], torch.zeros_like(tx[:, :1])], dim=1)
    accum = s.extra["fastai_accum"]
    bs = s.batch // accum
    same_batch = s.cause == "data_pipeline_bug" and s.variant == "same_batch"
    train_dl = DataLoader(list(zip(tx, ty, strict=True)), bs=bs, shuffle=True, drop_last=True)
    valid_dl = DataLoader(list(zip(vx, vy, strict=True)), bs=128)
    dls = DataLoaders(train_dl, valid_dl, device=torch.device("cpu"))
    model = models.build(s)
    k = data.kind(s.task)
    loss_func = {"cls": CrossEntropyLossFlat(), "reg": MSELossFlat()}.get(k) or lm_loss(s)
    metrics = {"cls": accuracy, "reg": rmse}.get(k, token_accuracy)
    cbs: list[Callback] = []
    if s.clip:
        cbs.append(GradientClip(s.clip))
    if accum > 1:
        cbs.append(GradientAccumulation(n_acc=s.batch))
    if s.cause == "scheduler_misuse":
        cbs.append(StepDecayPerBatch(s.extra["step_size"]))
    if same_batch:
        cbs.append(OneBatch())
    if s.cause == "fp16_overflow":
        cbs.append(StaticFP16(s.extra["loss_scale"]))
    if s.style == "csv":
        cbs.append(CSVLogger(fname="history.csv"))
    cls = Learner
    if s.cause == "zero_grad_missing":
        cls = NoZeroGradLearner
    elif s.cause == "grad_accum_bug":
        cls = type("AccumBugLearner", (AccumBugLearner,), {"accum": s.extra["accum"]})
    learn = cls(dls, model, loss_func=loss_func, opt_func=_opt_func(s), metrics=metrics, cbs=cbs, path=out,
                model_dir=".")
    if s.cause == "fp16_overflow":
        learn.model.half()
    (out / "config.yaml").write_text(yaml.safe_dump(s.config(), sort_keys=False))
    batches = len(train_dl) // accum
    n_epoch = max(3, round(s.steps / batches))
    fit = s.extra["fit"]
    with captured(out / "train.log"):
        if s.style == "print":
            with learn.no_bar():  # fastai prints the bare lists, no header
                getattr(learn, fit)(n_epoch, s.lr)
        else:
            getattr(learn, fit)(n_epoch, s.lr)
