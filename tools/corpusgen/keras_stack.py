"""Keras 3 runs on the torch backend (`pip install keras`; optional extra `corpus`): Sequential / functional models
of the four families trained with `model.fit`, the console captured as train.log (verbose=2 epoch lines, or the
verbose=1 progress bar), plus `training.csv` from the CSVLogger callback or `history.json` (history.history
dumped by the script). Mechanisms in Keras's own API:

- scheduler_misuse: ExponentialDecay(decay_steps=N, decay_rate=0.1, staircase=True) with N meant in epochs --
  Keras schedules count optimiser steps
- zero_grad_missing / grad_accum_bug: a custom train_step (the torch-backend pattern of the Keras guide) that
  forgets `self.zero_grad()`, or clears gradients only every N steps while applying them every step
- frozen_params: a loop `layer.trainable = False` for every layer whose name is not "head" -- the output layer is
  called "dense_N", so nothing trains
- dead_units: hidden biases initialised with Constant(-3); vanishing_gradients: deep sigmoid stack, N(0, 0.1) init
- nan_inf: a per-sample normalisation layer without epsilon; grad_explosion: SimpleRNN with orthogonal recurrent
  init of gain > 1, SGD without clipnorm
- label_leakage: off-by-one windows (RNN) or hand pre-shifted inputs (LM) in the training data only
- data_pipeline_bug: inputs and labels shuffled with independent permutations
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

from corpusgen import data, models  # noqa: E402
from corpusgen import spec as spec_mod  # noqa: E402
from corpusgen.console import captured  # noqa: E402
from corpusgen.spec import Spec  # noqa: E402

CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "grad_accum_bug", "frozen_params", "dead_units", "nan_inf", "label_leakage",
          "data_pipeline_bug", "overfitting")
FORMAT = {"*": "Keras fit console (Epoch i/N lines) + CSVLogger training.csv or history.json"}


def draw(cause: str, seed: int) -> Spec:
    fams = ("mlp", "cnn", "rnn") if cause == "nan_inf" else spec_mod.FAMILIES
    s = spec_mod.draw("keras", cause, seed, families=fams)
    s.style = "csv" if seed % 2 == 0 else "history"
    # Keras on the torch backend costs several times a plain torch step here: half the data, at most 160 steps
    s.n_train = min(s.n_train, 512)
    s.steps = min(s.steps, 160) if cause != "overfitting" else s.steps
    if cause == "data_pipeline_bug":
        s.variant = "shuffled_labels"
        s.mechanism = ("np.random.shuffle(x) and np.random.shuffle(y) called separately: labels are unrelated to "
                       "inputs")
    if cause == "frozen_params":
        s.mechanism = ("`for layer in model.layers: if layer.name != 'head': layer.trainable = False` -- the output "
                       "layer is not named 'head', so every layer is frozen")
    return s


def build(s: Spec):
    import keras
    from keras import layers, ops

    class PerSampleNorm(layers.Layer):
        """x / max|x| per sample; eps 0 is the unguarded version."""

        def __init__(self, eps: float, **kw):
            super().__init__(**kw)
            self.eps = eps

        def call(self, x):
            axes = tuple(range(1, len(x.shape)))
            return x / (ops.max(ops.abs(x), axis=axes, keepdims=True) + self.eps)

    class AddPosition(layers.Layer):
        """Learned position vectors added to the token embeddings."""

        def build(self, shape):
            self.pos = self.add_weight(shape=(shape[1], shape[2]), initializer=keras.initializers.RandomNormal(0.02))

        def call(self, x):
            return x + self.pos[None]

    bias = keras.initializers.Constant(s.bias_init) if s.bias_init is not None else "zeros"
    kern = keras.initializers.RandomNormal(stddev=0.1) if s.act == "sigmoid" else "glorot_uniform"
    wide = s.extra.get("wide")
    if s.family == "mlp":
        inp = keras.Input((16,))
        h = PerSampleNorm(s.norm_eps)(inp)
        for _ in range(s.depth):
            h = layers.Dense(256 if wide else 64, activation=s.act, kernel_initializer=kern, bias_initializer=bias)(h)
        out = layers.Dense(data.N_CLASSES["blobs"])(h)
    elif s.family == "cnn":
        inp = keras.Input((12, 12, 1))
        h = PerSampleNorm(s.norm_eps)(inp)
        for i in range(max(2, s.depth)):
            h = layers.Conv2D(16 if wide else 8, 3, padding="same", activation=s.act, kernel_initializer=kern,
                              bias_initializer=bias)(h)
            if i < 2:
                h = layers.MaxPooling2D(2)(h)
        out = layers.Dense(data.N_CLASSES["images"])(layers.Flatten()(h))
    elif s.family == "rnn":
        inp = keras.Input((s.extra.get("seq_len", 20), 1))
        h = PerSampleNorm(s.norm_eps)(inp)
        if s.cause == "grad_explosion":
            h = layers.SimpleRNN(32, recurrent_initializer=keras.initializers.Orthogonal(gain=s.init_gain))(h)
        else:
            h = (layers.LSTM if s.seed % 2 == 0 else layers.GRU)(64 if wide else 32)(h)
        out = layers.Dense(1)(h)
    else:
        n, d = data.LM_LEN - 1, 64 if wide else 32
        inp = keras.Input((n,), dtype="int32")
        h = AddPosition()(layers.Embedding(data.VOCAB, d)(inp))
        # one pre-LN block (causal self-attention, then a ReLU MLP), residual around each
        n1 = layers.LayerNormalization()(h)
        h = h + layers.MultiHeadAttention(2, d // 2)(n1, n1, use_causal_mask=True)
        h = h + layers.Dense(d)(layers.Dense(2 * d, activation="relu")(layers.LayerNormalization()(h)))
        out = layers.Dense(data.VOCAB)(h)
    cls = keras.Model if s.cause not in ("zero_grad_missing", "grad_accum_bug") else custom_model_class(s)
    return cls(inp, out)


def custom_model_class(s: Spec):
    import keras
    import torch

    class CustomStep(keras.Model):
        """The torch-backend custom train_step of the Keras guide, as this user wrote it."""

        def train_step(self, batch):
            x, y = batch
            accum = s.extra.get("accum")
            if accum and int(self.optimizer.iterations.value) % accum == 0:
                self.zero_grad()  # grad_accum_bug: cleared every `accum` steps, applied at every step
            # zero_grad_missing: the guide's `self.zero_grad()` line is not here
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            loss.backward()
            weights = self.trainable_weights
            grads = [v.value.grad for v in weights]
            with torch.no_grad():
                self.optimizer.apply(grads, weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return CustomStep


def arrays(s: Spec):
    """numpy train/val arrays in Keras layout (channels last; LM split into inputs and next-token targets)."""
    (tx, ty), (vx, vy) = models.datasets(s)
    tx, ty, vx, vy = (t.numpy() for t in (tx, ty, vx, vy))
    if s.task == "images":
        tx, vx = tx.transpose(0, 2, 3, 1), vx.transpose(0, 2, 3, 1)
    if s.task == "lm":
        leak = s.cause == "label_leakage"
        tx, ty = (tx[:, 1:] if leak else tx[:, :-1]), ty[:, 1:]  # leak: inputs pre-shifted, equal to the targets
        vx, vy = vx[:, :-1], vy[:, 1:]
    return (tx, ty), (vx, vy)


def run(s: Spec, out: Path) -> None:
    import keras

    out.mkdir(parents=True, exist_ok=True)
    with captured(out / "train.log"):
        keras.utils.set_random_seed(s.seed)
        (tx, ty), (vx, vy) = arrays(s)
        model = build(s)
        if s.cause == "frozen_params":
            for layer in model.layers:
                if layer.name != "head":
                    layer.trainable = False
        spe = math.ceil(len(tx) / s.batch)
        epochs = max(4, math.ceil(s.steps / spe))
        lr = s.lr
        if s.cause == "scheduler_misuse":
            lr = keras.optimizers.schedules.ExponentialDecay(s.lr, decay_steps=s.extra["step_size"], decay_rate=0.1,
                                                             staircase=True)
        kw = {"learning_rate": lr}
        if s.clip and s.cause not in ("zero_grad_missing", "grad_accum_bug"):
            kw["clipnorm"] = s.clip
        opt = {"sgd": lambda: keras.optimizers.SGD(momentum=0.9, **kw),
               "adam": lambda: keras.optimizers.Adam(**kw),
               "adamw": lambda: keras.optimizers.AdamW(weight_decay=s.weight_decay or 0.01, **kw),
               "rmsprop": lambda: keras.optimizers.RMSprop(**kw)}[s.optimizer]()
        kind = data.kind(s.task)
        if kind == "reg":
            model.compile(optimizer=opt, loss="mse", metrics=["mae"])
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                              ignore_class=data.PAD if kind == "lm" else None)
            model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        if s.seed % 3 == 0:
            model.summary()
        callbacks = [keras.callbacks.CSVLogger(str(out / "training.csv"))] if s.style == "csv" else []
        hist = model.fit(tx, ty, batch_size=s.batch, epochs=epochs, validation_data=(vx, vy), shuffle=True,
                         verbose=2 if s.seed % 2 == 0 else 1, callbacks=callbacks)
        if s.style == "history":
            (out / "history.json").write_text(json.dumps({k: [float(v) for v in vs]
                                                          for k, vs in hist.history.items()}) + "\n")
