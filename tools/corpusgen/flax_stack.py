"""A JAX / Flax (linen) + optax stack: the same recipes and fault mechanisms as the torch stacks (spec.py), written
the way a JAX user writes them: a jitted `train_step` returning new params and optimiser state, optax for the
optimiser, its schedule, clipping and freezing, and absl logging as the Flax examples use it. Two logging styles:

- `absl` (the Flax MNIST example): one line per epoch,
  `I1206 01:02:03.456789 1234 flax_stack.py:NN] epoch:  1, train_loss: 2.0512, train_accuracy: 21.48, test_loss: ...`
  and nothing per step; no LR, no grad norm.
- `clu` (CLU's LoggingWriter, used by the larger Flax examples): `[step] key=value, key=value` lines through absl
  logging every log interval (train_loss, learning_rate, grad_norm) and at each evaluation (eval_loss,
  eval_accuracy), plus the run's config as `config.json` in the work dir.

JAX has no `zero_grad` (gradients are values, not buffers), so zero_grad_missing is not realised; grad_accum_bug is
the JAX form of the bug: micro-batch gradients summed with `jax.tree.map(jnp.add, ...)` and applied once, without
the division by the number of micro-batches. Requires jax, flax, optax, absl-py (not in the project's
requirements; `pip install jax flax optax absl-py` in a side environment).
"""

from __future__ import annotations

import json
import logging as py_logging
import math
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging
from flax import traverse_util

from corpusgen import data
from corpusgen import spec as spec_mod
from corpusgen.spec import Spec

CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "vanishing_gradients", "frozen_params",
          "dead_units", "nan_inf", "fp16_overflow", "data_pipeline_bug", "overfitting", "grad_explosion",
          "label_leakage", "grad_accum_bug")
FORMAT = {
    "absl": "Flax example absl log 'I... file.py:N] epoch:  1, train_loss: x, train_accuracy: x, test_loss: x, "
            "test_accuracy: x' (one line per epoch)",
    "clu": "CLU LoggingWriter '[step] train_loss=x, learning_rate=x, grad_norm=x' via absl + config.json",
    "*": "Flax/optax absl log",
}
ACT = {"relu": nn.relu, "sigmoid": nn.sigmoid, "tanh": nn.tanh}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("flax", cause, seed)
    s.style = "absl" if seed % 2 == 0 else "clu"
    if cause == "grad_accum_bug":
        k = s.extra["accum"]
        s.mechanism = (f"gradient accumulation over {k} micro-batches written as jax.tree.map(jnp.add, acc, grads) "
                       f"and applied once without dividing by {k}: each update is {k}x the mean gradient")
    if cause == "frozen_params":
        s.mechanism = ("optax.multi_transform with labels meant to train only the output layer, built as 'train' "
                       "for the last leaf of jax.tree.leaves(params) and set_to_zero() for the rest: only the "
                       "output kernel trains (its bias, and every hidden layer, stay frozen)")
    if cause == "scheduler_misuse":
        s.mechanism = (f"optax.exponential_decay(transition_steps={s.extra['step_size']}, decay_rate=0.1, "
                       "staircase=True) meant per epoch, but optax counts updates: the LR is ~0 after a few dozen "
                       "steps")
    if cause == "fp16_overflow":
        s.mechanism = ("params and inputs cast to jnp.float16 with a static loss scale of 65536 (jmp-style, no "
                       "dynamic scaling): the scaled gradients overflow float16 and inf/NaN reach the params")
    return s


# --- models -----------------------------------------------------------------------------------------------------

def _kernel_init(s: Spec):
    # vanishing_gradients: the small Gaussian init of old tutorials; otherwise flax's default (lecun normal)
    return nn.initializers.normal(0.1) if s.act == "sigmoid" else nn.initializers.lecun_normal()


def _bias_init(s: Spec, hidden: bool):
    return nn.initializers.constant(s.bias_init) if (hidden and s.bias_init is not None) else nn.initializers.zeros


def input_norm(x: jnp.ndarray, how: str, eps: float) -> jnp.ndarray:
    """Per-sample normalisation as users write it; eps=0 is the unguarded version (0/0 on a blank sample)."""
    if how == "norm":
        return x / (jnp.linalg.norm(x, axis=-1, keepdims=True) + eps) * math.sqrt(x.shape[-1])
    if how == "std":
        m = x.mean(axis=(1, 2, 3), keepdims=True)
        return (x - m) / (x.std(axis=(1, 2, 3), keepdims=True) + eps)
    return x / (jnp.abs(x).max(axis=(1, 2), keepdims=True) + eps)


class MLP(nn.Module):
    s: Spec
    n_out: int

    @nn.compact
    def __call__(self, x):
        s = self.s
        width = 256 if s.extra.get("wide") else 64
        x = input_norm(x, "norm", s.norm_eps)
        for _ in range(s.depth):
            x = ACT[s.act](nn.Dense(width, kernel_init=_kernel_init(s), bias_init=_bias_init(s, True))(x))
        return nn.Dense(self.n_out, kernel_init=_kernel_init(s))(x)


class CNN(nn.Module):
    s: Spec
    n_out: int

    @nn.compact
    def __call__(self, x):
        s = self.s
        c = 16 if s.extra.get("wide") else 8
        x = input_norm(x, "std", s.norm_eps)
        for i in range(max(2, s.depth)):
            x = ACT[s.act](nn.Conv(c, (3, 3), kernel_init=_kernel_init(s), bias_init=_bias_init(s, True))(x))
            if i < 2:
                x = nn.max_pool(x, (2, 2), strides=(2, 2))
        return nn.Dense(self.n_out, kernel_init=_kernel_init(s))(x.reshape(x.shape[0], -1))


class RNN(nn.Module):
    s: Spec

    @nn.compact
    def __call__(self, x):
        s = self.s
        hidden = 64 if s.extra.get("wide") else 32
        x = input_norm(x, "peak", s.norm_eps)
        if s.cause == "grad_explosion":
            cell = nn.SimpleCell(hidden, activation_fn=jnp.tanh,
                                 recurrent_kernel_init=nn.initializers.orthogonal(scale=s.init_gain))
        else:
            cell = nn.LSTMCell(hidden) if s.seed % 2 == 0 else nn.GRUCell(hidden)
        out = nn.RNN(cell)(x)
        return nn.Dense(1)(out[:, -1]).squeeze(-1)


class Block(nn.Module):
    d: int

    @nn.compact
    def __call__(self, h, mask):
        h = h + nn.SelfAttention(num_heads=2, qkv_features=self.d)(nn.LayerNorm()(h), mask=mask)
        z = nn.Dense(self.d)(nn.gelu(nn.Dense(2 * self.d)(nn.LayerNorm()(h))))
        return h + z


class TinyTransformer(nn.Module):
    s: Spec

    @nn.compact
    def __call__(self, ids):
        d = 64 if self.s.extra.get("wide") else 32
        n = ids.shape[1]
        pos = self.param("pos", nn.initializers.normal(0.02), (data.LM_LEN, d))
        h = nn.Embed(data.VOCAB, d)(ids) + pos[:n]
        mask = nn.make_causal_mask(ids)
        for _ in range(2):
            h = Block(d)(h, mask)
        return nn.Dense(data.VOCAB)(nn.LayerNorm()(h))


def build(s: Spec) -> nn.Module:
    if s.family == "mlp":
        return MLP(s, data.N_CLASSES["blobs"])
    if s.family == "cnn":
        return CNN(s, data.N_CLASSES["images"])
    if s.family == "rnn":
        return RNN(s)
    return TinyTransformer(s)


# --- data, loss, optimiser ----------------------------------------------------------------------------------------

def datasets(s: Spec):
    kw = {"seq_len": s.extra.get("seq_len", 20)} if s.task == "series" else {}
    tr = data.make(s.task, s.n_train, s.noise, seed=1000 + s.seed, **kw)
    va = data.make(s.task, 256, s.noise, seed=2000 + s.seed, **kw)
    if s.cause == "label_leakage" and s.task == "series":
        tr = data.series(s.n_train, s.noise, seed=1000 + s.seed, shift=1, **kw)
    tx, ty = tr[0].numpy(), tr[1].numpy()
    vx, vy = va[0].numpy(), va[1].numpy()
    if s.task == "images":  # NCHW (torch) -> NHWC (flax)
        tx, vx = tx.transpose(0, 2, 3, 1), vx.transpose(0, 2, 3, 1)
    if s.cause == "data_pipeline_bug" and s.variant == "shuffled_labels":
        rng = np.random.default_rng(s.seed)
        tx, ty = tx[rng.permutation(len(tx))], ty[rng.permutation(len(ty))]
    return (tx, ty), (vx, vy)


def loss_and_correct(s: Spec, logits, y, leak: bool = False):
    """(mean loss, n_correct, n) for one batch, in float32 whatever the params' dtype."""
    kind = data.kind(s.task)
    logits = logits.astype(jnp.float32)
    if kind == "cls":
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, (logits.argmax(-1) == y).sum(), y.shape[0]
    if kind == "reg":
        return ((logits - y) ** 2).mean(), jnp.zeros(()), y.shape[0]
    logits, tgt = logits[:, :-1], y[:, 1:]
    valid = (tgt != data.PAD).astype(jnp.float32)
    tok = optax.softmax_cross_entropy_with_integer_labels(logits, tgt)
    if s.cause == "nan_inf":  # the unguarded per-line mean: a blank line has count 0
        loss = ((tok * valid).sum(1) / valid.sum(1)).mean()
    else:
        loss = (tok * valid).sum() / jnp.maximum(valid.sum(), 1.0)
    return loss, ((logits.argmax(-1) == tgt) * valid).sum(), valid.sum()


def schedule(s: Spec, total: int):
    if s.cause == "scheduler_misuse":
        return optax.exponential_decay(s.lr, transition_steps=s.extra["step_size"], decay_rate=0.1, staircase=True)
    after = max(1, total - s.warmup)
    if s.schedule == "cosine":
        main = optax.cosine_decay_schedule(s.lr, after)
    elif s.schedule == "linear":
        main = optax.linear_schedule(s.lr, 0.0, after)
    elif s.schedule == "step":
        main = optax.piecewise_constant_schedule(s.lr, {after // 3: 0.1, 2 * after // 3: 0.1})
    else:
        main = optax.constant_schedule(s.lr)
    if not s.warmup:
        return main
    return optax.join_schedules([optax.linear_schedule(s.lr / s.warmup, s.lr, s.warmup), main], [s.warmup])


def optimizer(s: Spec, lr_fn, params):
    if s.optimizer == "sgd":
        opt = optax.chain(optax.add_decayed_weights(s.weight_decay), optax.sgd(lr_fn, momentum=0.9))
    elif s.optimizer == "adam":
        opt = optax.chain(optax.add_decayed_weights(s.weight_decay), optax.adam(lr_fn))
    elif s.optimizer == "adamw":
        opt = optax.adamw(lr_fn, weight_decay=s.weight_decay or 0.01)
    else:
        opt = optax.chain(optax.add_decayed_weights(s.weight_decay), optax.rmsprop(lr_fn))
    if s.clip:
        opt = optax.chain(optax.clip_by_global_norm(s.clip), opt)
    if s.cause == "frozen_params":
        leaves = jax.tree.leaves(params)
        flat = traverse_util.flatten_dict(params)
        last = next(k for k, v in flat.items() if v is leaves[-1])
        labels = traverse_util.unflatten_dict({k: ("train" if k == last else "freeze") for k in flat})
        opt = optax.multi_transform({"train": opt, "freeze": optax.set_to_zero()}, labels)
    return opt


# --- the run --------------------------------------------------------------------------------------------------------

def run(s: Spec, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    handler = py_logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.PythonFormatter())
    logging.get_absl_logger().addHandler(handler)
    logging.set_verbosity(logging.INFO)
    try:
        _train(s, out)
    finally:
        logging.get_absl_logger().removeHandler(handler)
        handler.close()


def _train(s: Spec, out: Path) -> None:
    (tx, ty), (vx, vy) = datasets(s)
    model = build(s)
    key = jax.random.PRNGKey(s.seed)
    params = model.init(key, jnp.asarray(tx[:2]))["params"]
    half = s.cause == "fp16_overflow"
    if half:
        params = jax.tree.map(lambda p: p.astype(jnp.float16), params)
    steps_per_epoch = math.ceil(s.n_train / s.batch)
    lr_fn = schedule(s, s.steps)
    opt = optimizer(s, lr_fn, params)
    opt_state = opt.init(params)
    leak = s.cause == "label_leakage" and s.task == "lm"
    scale = 65536.0 if half else 1.0
    config = s.config() | {"workdir": str(out.name), "num_epochs": math.ceil(s.steps / steps_per_epoch)}
    if s.style == "clu":
        (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    else:
        logging.info("Config:\n%s", "\n".join(f"{k}: {v}" for k, v in sorted(config.items())))
    n_params = sum(int(p.size) for p in jax.tree.leaves(params))
    logging.info("Model %s with %d parameters", type(model).__name__, n_params)

    def batch_loss(p, x, y):
        inp = x
        if leak:  # the user pre-shifts the inputs although the loss shifts as well
            inp = jnp.concatenate([x[:, 1:], jnp.zeros_like(x[:, :1])], axis=1)
        if half and jnp.issubdtype(inp.dtype, jnp.floating):
            inp = inp.astype(jnp.float16)
        loss, correct, n = loss_and_correct(s, model.apply({"params": p}, inp), y, leak)
        return loss * scale, (loss, correct, n)

    grad_fn = jax.value_and_grad(batch_loss, has_aux=True)

    @jax.jit
    def grads_of(p, x, y):
        (_, (loss, correct, n)), g = grad_fn(p, x, y)
        g = jax.tree.map(lambda t: t / scale, g)
        return g, loss, correct, n

    @jax.jit
    def apply(p, state, g):
        updates, state = opt.update(g, state, p)
        return optax.apply_updates(p, updates), state

    @jax.jit
    def evaluate(p, x, y):
        loss, correct, n = loss_and_correct(s, model.apply({"params": p}, x.astype(jnp.float16) if half and
                                                           jnp.issubdtype(x.dtype, jnp.floating) else x), y)
        return loss, correct, n

    rng = np.random.default_rng(s.seed)
    order: list[int] = []

    def next_batch():
        nonlocal order
        if s.cause == "data_pipeline_bug" and s.variant == "same_batch":
            idx = np.arange(s.batch)
        else:
            if len(order) < s.batch:
                order += rng.permutation(len(tx)).tolist()
            idx, order = np.array(order[:s.batch]), order[s.batch:]
        return jnp.asarray(tx[idx]), jnp.asarray(ty[idx])

    accum = s.extra.get("accum", 1) if s.cause == "grad_accum_bug" else 1
    kind = data.kind(s.task)
    ep_loss, ep_correct, ep_n, ep_batches = 0.0, 0.0, 0.0, 0
    for step in range(1, s.steps + 1):
        acc = None
        for _ in range(accum):
            x, y = next_batch()
            g, loss, correct, n = grads_of(params, x, y)
            acc = g if acc is None else jax.tree.map(jnp.add, acc, g)
        params, opt_state = apply(params, opt_state, acc)
        loss = float(loss)
        ep_loss, ep_correct, ep_n, ep_batches = ep_loss + loss, ep_correct + float(correct), ep_n + float(n), \
            ep_batches + 1
        if s.style == "clu" and (step % s.log_every == 0 or step == 1):
            gnorm = float(optax.global_norm(acc))
            logging.info("[%d] grad_norm=%s, learning_rate=%s, train_loss=%s", step, gnorm, float(lr_fn(step - 1)),
                         loss)
        if s.style == "clu" and step % s.eval_every == 0:
            vl, vc, vn = evaluate(params, jnp.asarray(vx), jnp.asarray(vy))
            fields = [f"eval_loss={float(vl)}"]
            if kind != "reg":
                fields.insert(0, f"eval_accuracy={float(vc) / float(vn)}")
            logging.info("[%d] %s", step, ", ".join(fields))
        if s.style == "absl" and (step % steps_per_epoch == 0 or step == s.steps):
            epoch = math.ceil(step / steps_per_epoch)
            vl, vc, vn = evaluate(params, jnp.asarray(vx), jnp.asarray(vy))
            if kind == "reg":
                logging.info("epoch:% 3d, train_loss: %.4f, test_loss: %.4f", epoch, ep_loss / ep_batches,
                             float(vl))
            else:
                logging.info("epoch:% 3d, train_loss: %.4f, train_accuracy: %.2f, test_loss: %.4f, "
                             "test_accuracy: %.2f", epoch, ep_loss / ep_batches, 100 * ep_correct / max(ep_n, 1),
                             float(vl), 100 * float(vc) / float(vn))
            ep_loss, ep_correct, ep_n, ep_batches = 0.0, 0.0, 0.0, 0
