"""A scikit-learn stack: `MLPClassifier` (Gaussian clusters; the CNN task's 12x12 images flattened) and
`MLPRegressor` (one-step forecasting of noisy sines, the window flattened) trained by sklearn's own solvers ('sgd'
with momentum 0.9 and Nesterov, or 'adam'), on inputs scaled by a `StandardScaler` fitted on the training split. The
model family is always an MLP: sklearn has no other network. Logged the ways sklearn users log:

- console:     `verbose=True`, sklearn's own `Iteration N, loss = X` lines (and `Validation score: Y` under
               `early_stopping=True`, the accuracy or R^2 on sklearn's internal validation split), its
               `Training loss did not improve ...` / ConvergenceWarning lines; + `params.json` (`get_params()`)
- csv:         `verbose=False`; the script dumps `loss_curve_` (and `validation_scores_`) to `loss_curve.csv`
               (`iteration,loss[,validation_score]`) + params.json
- json:        the verbose console + `curves.json` (`{"loss_curve": [...], "validation_scores": [...],
               "best_loss": ..., "n_iter": ...}`) + params.json
- partial_fit: a user loop over epochs of `partial_fit` (`verbose=False`) that prints the training loss sklearn
               reports (`loss_`) and a held-out log loss and accuracy (`val_mse` and `val_r2` for the regressor)
               per epoch: `epoch 3/40 - loss: 0.8123 - val_loss: 0.9012 - val_accuracy: 0.6410`, and stops by
               sklearn's own rule (no held-out improvement above `tol` for `n_iter_no_change` epochs; the
               overfitting recipe trains on); + params.json

A script that dies (a solver that produced non-finite weights raises a ValueError in sklearn) leaves its console
with the traceback and params.json, and none of the files it would have written after `fit`.

Mechanisms in sklearn's API: `learning_rate_init` far above the range (lr_too_high) or far below it
(lr_too_low; with sklearn's default `tol=1e-4, n_iter_no_change=10` the run stops itself after 11 flat iterations
as it really does); `solver='sgd', learning_rate='invscaling'` with `power_t` of 1.5-3 in place of the default 0.5
(scheduler_misuse: sklearn divides the LR by t**power_t with t the number of SAMPLES seen, so the LR is ~0 after the
first epoch); `activation='logistic'` on 10-14 hidden layers (vanishing_gradients); the label one-hot encoded into
the feature matrix by a feature-building function applied to every split (label_leakage: the accuracy reaches 1.0
through the 5-15% label noise); `y` re-ordered apart from `X` before `fit` (data_pipeline_bug); a wide
(256, 256) net with `alpha=0` on 40-60 training samples trained far past its best (overfitting; with sklearn's
early stopping the patience is set to `max_iter`, as users do to see the whole curve).

Not realised, since sklearn has no mechanism for them: zero_grad_missing, grad_accum_bug (sklearn's solvers own the
update), frozen_params, fp16_overflow (float64 only), nan_inf (sklearn's input validation rejects NaN/inf, and its
losses clip probabilities), grad_explosion (no recurrent nets), dead_units (no bias initialiser; only the
coefs_/intercepts_ of a fitted net could be overwritten, which no user does to initialise), no_warmup (see spec.py).
Requires scikit-learn (the `corpus` extra); the runs were made with scikit-learn 1.9.1 and numpy.
"""

from __future__ import annotations

import json
import math
import traceback
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from corpusgen import data
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.spec import Spec

STYLES = ("console", "csv", "json", "partial_fit")
CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "vanishing_gradients", "label_leakage",
          "data_pipeline_bug", "overfitting")
FORMAT = {
    "console": "sklearn verbose console 'Iteration N, loss = X' (+ 'Validation score: Y') + params.json",
    "csv": "loss_curve_ / validation_scores_ dumped to loss_curve.csv (iteration,loss[,validation_score]) + "
           "params.json",
    "json": "sklearn verbose console + curves.json (loss_curve, validation_scores) + params.json",
    "partial_fit": "user partial_fit loop printing 'epoch e/N - loss: x - val_loss: x - val_accuracy: x' + "
                   "params.json",
}
OPTIMIZERS = ("sgd", "adam")
# Usual learning_rate_init for these small scaled problems: sklearn's default is 1e-3 (adam); sgd with sklearn's
# default momentum 0.9 trains well at 1e-2..1e-1 (spec.GOOD_LR, the range the other stacks use).
GOOD_LR = {"sgd": (0.01, 0.1), "adam": (3e-4, 3e-3)}
HIGH_LR = {"sgd": (3.0, 20.0), "adam": (0.5, 5.0)}
LOW_LR = {"sgd": (1e-6, 1e-5), "adam": (3e-8, 3e-7)}
TASKS = ("blobs", "images", "series")


def draw(cause: str, seed: int) -> Spec:
    rng = spec_mod.rng_for("sklearn", cause, seed)
    optimizer = OPTIMIZERS[int(rng.integers(len(OPTIMIZERS)))]
    task = TASKS[(seed + int(rng.integers(3))) % 3]
    s = Spec(stack="sklearn", cause=cause, seed=seed, family="mlp", optimizer=optimizer,
             lr=spec_mod.log_uniform(rng, *GOOD_LR[optimizer]),
             batch=int(rng.choice([16, 32, 64, 200])),  # 200 is sklearn's batch_size='auto' for n >= 200
             steps=int(rng.choice([30, 50, 80, 120, 200])),  # max_iter, in epochs
             noise=float(rng.uniform(0.5, 1.5)),
             n_train=int(rng.choice([512, 1024, 2048])),
             weight_decay=float(rng.choice([1e-5, 1e-4, 1e-3])),  # alpha (sklearn's default 1e-4)
             depth=int(rng.choice([1, 2, 3])))
    # spread the four formats over the four seeds of every cause, at a per-cause offset
    s.style = STYLES[(seed + int(rng.integers(4))) % 4]
    s.extra = {"task": task, "hidden": [int(rng.choice([32, 64, 100]))] * s.depth,
               "early_stopping": bool(rng.random() < 0.5), "tol": 1e-4, "n_iter_no_change": 10,
               "learning_rate": "constant", "power_t": 0.5, "activation": "relu"}
    e = s.extra
    if cause == "healthy":
        s.mechanism = "healthy recipe"
        if optimizer == "sgd" and rng.random() < 0.5:
            e["learning_rate"] = "adaptive"  # divides the LR by 5 after two epochs without improvement
    elif cause == "lr_too_high":
        s.lr = spec_mod.log_uniform(rng, *HIGH_LR[optimizer])
        s.mechanism = (f"learning_rate_init={s.lr:.3g} for solver='{optimizer}': far above its usual range "
                       f"{GOOD_LR[optimizer]} (sklearn's default 0.001)")
    elif cause == "lr_too_low":
        s.lr = spec_mod.log_uniform(rng, *LOW_LR[optimizer])
        s.mechanism = (f"learning_rate_init={s.lr:.3g} for solver='{optimizer}': 1e3-1e4x below its usual range; "
                       "sklearn's tol=1e-4 / n_iter_no_change=10 stops the flat run itself")
    elif cause == "scheduler_misuse":
        s.optimizer = "sgd"
        s.lr = spec_mod.log_uniform(rng, *GOOD_LR["sgd"])
        e["learning_rate"], e["power_t"] = "invscaling", float(rng.choice([1.5, 2.0, 3.0]))
        s.mechanism = (f"solver='sgd', learning_rate='invscaling', power_t={e['power_t']} (default 0.5): sklearn "
                       "divides learning_rate_init by t**power_t with t the number of training samples seen, so the "
                       "LR is ~0 after the first epoch")
    elif cause == "vanishing_gradients":
        s.depth = int(rng.choice([10, 12, 14]))
        e["hidden"], e["activation"] = [32] * s.depth, "logistic"
        s.mechanism = f"activation='logistic' on hidden_layer_sizes=(32,)*{s.depth}: a deep sigmoid network"
    elif cause == "label_leakage":
        e["task"] = "blobs" if task == "series" else task
        s.mechanism = ("the feature-building function appends the one-hot encoded label to X (every split): the "
                       "target is an input")
    elif cause == "data_pipeline_bug":
        s.mechanism = ("X and y re-ordered with two independent permutations before fit (X shuffled, y not "
                       "re-indexed): labels are unrelated to inputs")
    elif cause == "overfitting":
        e["task"] = "blobs" if task == "series" else task
        s.n_train, s.weight_decay, s.depth = int(rng.choice([40, 50, 60])), 0.0, 2
        e["hidden"], s.steps, s.batch = [256, 256], 300, 16
        s.noise = max(s.noise, 1.2)
        s.lr = spec_mod.log_uniform(rng, math.sqrt(np.prod(GOOD_LR[s.optimizer])), GOOD_LR[s.optimizer][1])
        if s.style != "partial_fit":  # sklearn's validation split is then the only held-out figure: keep it whole
            e["early_stopping"], e["n_iter_no_change"] = True, s.steps
        s.mechanism = (f"{s.n_train} training samples, hidden_layer_sizes=(256, 256), alpha=0, {s.steps} "
                       "iterations with no early stop")
    else:
        raise ValueError(f"sklearn stack: no mechanism for cause {cause!r}")
    return s


def _arrays(s: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    task = s.extra["task"]
    # the validation set is drawn at a fixed size from another seed of the same generator, as models.datasets does
    tx, ty = (t.numpy() for t in data.make(task, s.n_train, s.noise, s.seed))
    vx, vy = (t.numpy() for t in data.make(task, 512, s.noise, s.seed + 10_000))
    tx, vx = tx.reshape(len(tx), -1).astype(np.float64), vx.reshape(len(vx), -1).astype(np.float64)
    if s.cause == "label_leakage":
        classes = data.N_CLASSES[task]
        tx = np.concatenate([tx, np.eye(classes)[ty]], axis=1)
        vx = np.concatenate([vx, np.eye(classes)[vy]], axis=1)
    if s.cause == "data_pipeline_bug":
        rng = np.random.default_rng(s.seed)
        tx = tx[rng.permutation(len(tx))]
    scaler = StandardScaler().fit(tx)
    return scaler.transform(tx), ty, scaler.transform(vx), vy


def _estimator(s: Spec, verbose: bool):
    e = s.extra
    cls = MLPRegressor if e["task"] == "series" else MLPClassifier
    early = e["early_stopping"] and s.style != "partial_fit"  # sklearn refuses early stopping in partial_fit
    return cls(hidden_layer_sizes=tuple(e["hidden"]), activation=e["activation"], solver=s.optimizer,
               alpha=s.weight_decay, batch_size=s.batch, learning_rate=e["learning_rate"],
               learning_rate_init=s.lr, power_t=e["power_t"], max_iter=s.steps, shuffle=True,
               random_state=s.seed, tol=e["tol"], verbose=verbose, early_stopping=early,
               n_iter_no_change=e["n_iter_no_change"], momentum=0.9, nesterovs_momentum=True)


def _partial_fit_loop(s: Spec, est, tx, ty, vx, vy) -> None:
    """The loop a user writes to watch a held-out set: one partial_fit per epoch, printed as it goes."""
    regression = isinstance(est, MLPRegressor)
    classes = np.arange(data.N_CLASSES[s.extra["task"]]) if not regression else None
    best, best_epoch = math.inf, 0
    for epoch in range(1, s.steps + 1):
        if regression:  # sklearn's regressor reports half the squared error as loss_; the user prints plain MSE
            est.partial_fit(tx, ty)
            pred = est.predict(vx)
            val = mean_squared_error(vy, pred)
            held = f"val_mse: {val:.4f} - val_r2: {r2_score(vy, pred):.4f}"
        else:
            est.partial_fit(tx, ty, classes=classes)
            proba = est.predict_proba(vx)
            val = log_loss(vy, proba, labels=classes)
            held = f"val_loss: {val:.4f} - val_accuracy: {accuracy_score(vy, proba.argmax(1)):.4f}"
        print(f"epoch {epoch}/{s.steps} - loss: {est.loss_:.4f} - {held}", flush=True)
        if val < best - est.tol:
            best, best_epoch = val, epoch
        # the user's own early stopping, sklearn's rule (tol, n_iter_no_change) on the held-out figure; the
        # overfitting recipe is the one that trains on regardless
        if s.cause != "overfitting" and epoch - best_epoch >= est.n_iter_no_change:
            print(f"early stopping: no improvement of the held-out loss for {est.n_iter_no_change} epochs "
                  f"(best {best:.4f} at epoch {best_epoch})", flush=True)
            break


def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tx, ty, vx, vy = _arrays(s)
    est = _estimator(s, verbose=s.style in ("console", "json"))
    (out / "params.json").write_text(json.dumps(est.get_params(), indent=2) + "\n")
    with captured(out / "train.log"):
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            if s.style == "partial_fit":
                _partial_fit_loop(s, est, tx, ty, vx, vy)
            else:
                est.fit(tx, ty)
        except ValueError:  # the script dies here, as a user's would, its traceback on the console
            traceback.print_exc()
            return
    if s.style == "partial_fit" or not hasattr(est, "loss_curve_"):
        return
    scores = est.validation_scores_ if est.early_stopping else None
    if s.style == "csv":
        head = "iteration,loss" + (",validation_score" if scores is not None else "")
        rows = [f"{i},{float(loss)!r}" + (f",{float(scores[i - 1])!r}" if scores is not None else "")
                for i, loss in enumerate(est.loss_curve_, start=1)]
        (out / "loss_curve.csv").write_text("\n".join([head, *rows]) + "\n")
    elif s.style == "json":
        curves = {"loss_curve": [float(v) for v in est.loss_curve_],
                  "validation_scores": [float(v) for v in scores] if scores is not None else None,
                  "best_loss": None if est.best_loss_ is None else float(est.best_loss_),
                  "n_iter": int(est.n_iter_)}
        (out / "curves.json").write_text(json.dumps(curves, indent=2) + "\n")
