"""What one corpus run trains: the recipe drawn from (stack, cause, seed), and the fault mechanism it carries.

A healthy recipe is drawn per seed (model family, optimiser, an LR inside the usual range for that optimiser,
batch size, label noise, run length, schedule), so "normal" is many curves. A fault run draws the same way and then
applies one real mechanism (a missing zero_grad, a per-batch step of an epoch scheduler, a shift bug ...); the
mechanism is described in words in `Spec.mechanism` and lands in label.json. Numbers in the logs are never edited.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

FAMILIES = ("mlp", "cnn", "rnn", "transformer")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# Usual LR ranges (log-uniform draws) for these tiny models: SGD with momentum 0.9, Adam-type, RMSprop.
GOOD_LR = {"sgd": (0.01, 0.1), "adam": (3e-4, 3e-3), "adamw": (3e-4, 3e-3), "rmsprop": (1e-4, 1e-3)}
# lr_too_high: 30-1500x the top of the range; lr_too_low: 1e3-1e4x below its bottom.
HIGH_LR = {"sgd": (3.0, 20.0), "adam": (0.5, 5.0), "adamw": (0.5, 5.0), "rmsprop": (0.2, 2.0)}
LOW_LR = {"sgd": (1e-6, 1e-5), "adam": (3e-8, 3e-7), "adamw": (3e-8, 3e-7), "rmsprop": (1e-8, 1e-7)}

# The model families a cause is realised on (where its mechanism makes sense); default: all four.
CAUSE_FAMILIES = {
    "grad_explosion": ("rnn",),
    "vanishing_gradients": ("mlp", "cnn"),
    "dead_units": ("mlp", "cnn"),
    "fp16_overflow": ("mlp", "transformer"),
    "label_leakage": ("rnn", "transformer"),
}
TASK_OF = {"mlp": "blobs", "cnn": "images", "rnn": "series", "transformer": "lm"}


@dataclass
class Spec:
    stack: str
    cause: str
    seed: int
    family: str
    optimizer: str
    lr: float
    batch: int
    steps: int
    noise: float
    n_train: int = 1024
    eval_every: int = 20
    log_every: int = 5
    warmup: int = 0
    schedule: str = "constant"  # constant | cosine | linear | step
    clip: float | None = None
    weight_decay: float = 0.0
    depth: int = 2
    act: str = "relu"
    bias_init: float | None = None
    norm_eps: float = 1e-6
    init_gain: float = 1.0
    style: str = ""
    variant: str = ""
    mechanism: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def task(self) -> str:
        return TASK_OF[self.family]

    def config(self) -> dict:
        """The training script's own config, as it would write it next to its logs."""
        d = asdict(self)
        for k in ("stack", "cause", "mechanism", "variant", "extra"):
            d.pop(k)
        d["task"] = self.task
        return d


def rng_for(stack: str, cause: str, seed: int) -> np.random.Generator:
    """One generator per (stack, cause, seed): the same triple always draws the same recipe."""
    return np.random.default_rng([zlib.crc32(f"{stack}/{cause}".encode()), seed])


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def draw(stack: str, cause: str, seed: int, families: tuple[str, ...] = FAMILIES,
         optimizers: tuple[str, ...] = OPTIMIZERS) -> Spec:
    """The healthy recipe for this triple, then the cause's mechanism on top (stack-independent parts only)."""
    rng = rng_for(stack, cause, seed)
    allowed = [f for f in CAUSE_FAMILIES.get(cause, FAMILIES) if f in families] or list(families)
    # seeds walk through the allowed families; other stacks start the walk at a per-(stack, cause) offset so that
    # a few seeds per cause still cover different families in different stacks
    offset = 0 if stack == "plain_pytorch" else zlib.crc32(f"{stack}/{cause}/family".encode()) % len(allowed)
    family = allowed[(seed + offset) % len(allowed)]
    optimizer = optimizers[int(rng.integers(len(optimizers)))]
    s = Spec(
        stack=stack, cause=cause, seed=seed, family=family, optimizer=optimizer,
        lr=log_uniform(rng, *GOOD_LR[optimizer]),
        batch=int(rng.choice([16, 32, 64])),
        steps=int(rng.choice([150, 200, 300])),
        noise=float(rng.uniform(0.5, 1.5)),
        schedule=str(rng.choice(["constant", "cosine", "linear", "step"])),
        warmup=int(rng.choice([0, 0, 10, 20])),
        clip=float(rng.choice([0.0, 1.0, 5.0])) or None,
        weight_decay=float(rng.choice([0.0, 1e-4, 1e-2])),
    )
    # no_warmup is not realised: on these tiny post-LN transformers, Adam at 1e-2 and 3e-2 gave the same curve with
    # and without 40 warmup steps (tried for seeds 0 and 1), so no honest wide-margin symptom exists at this scale.
    if family == "cnn":  # the small CNN sits on a plateau at chance for ~200 steps at the bottom of the range
        s.lr = log_uniform(rng, float(np.sqrt(np.prod(GOOD_LR[optimizer]))), GOOD_LR[optimizer][1])
    s.eval_every = max(10, s.steps // 10)
    if family == "transformer":
        s.warmup = max(s.warmup, 10)
    if family == "rnn":
        s.clip = s.clip or 1.0  # recurrent nets are trained with clipping as a matter of course
    apply_cause(s, rng)
    return s


def apply_cause(s: Spec, rng: np.random.Generator) -> None:
    """Stack-independent mechanisms; loop-level ones (zero_grad, accumulation, scheduler stepping) are applied by
    each stack from `s.cause`."""
    c = s.cause
    if c == "lr_too_high":
        s.lr = log_uniform(rng, *HIGH_LR[s.optimizer])
        s.warmup, s.clip = 0, None
        s.mechanism = f"learning rate {s.lr:.3g} for {s.optimizer}: far above its usual range {GOOD_LR[s.optimizer]}"
    elif c == "lr_too_low":
        s.lr = log_uniform(rng, *LOW_LR[s.optimizer])
        s.mechanism = f"learning rate {s.lr:.3g} for {s.optimizer}: 1e3-1e4x below its usual range"
    elif c == "scheduler_misuse":
        s.schedule, s.warmup = "step", 0
        s.extra["step_size"] = int(rng.choice([2, 3, 5]))  # meant as epochs
        s.mechanism = (f"StepLR(step_size={s.extra['step_size']}, gamma=0.1) meant per epoch but stepped after "
                       "every batch: the LR is ~0 after a few dozen steps")
    elif c == "grad_explosion":
        s.optimizer, s.lr, s.clip = "sgd", log_uniform(rng, 0.06, 0.1), None
        s.init_gain = float(rng.uniform(1.5, 2.5))
        s.extra["seq_len"] = 40
        s.mechanism = (f"vanilla tanh RNN, recurrent weights initialised orthogonal with gain {s.init_gain:.2f}, "
                       "40-step sequences, SGD, no gradient clipping")
    elif c == "vanishing_gradients":
        s.depth, s.act = int(rng.choice([10, 12, 14])), "sigmoid"
        s.optimizer = "sgd" if s.optimizer == "sgd" else s.optimizer
        s.mechanism = f"{s.depth}-layer sigmoid network without normalisation or residuals"
    elif c == "frozen_params":
        s.mechanism = ("`for p in list(model.parameters())[:-1]: p.requires_grad = False` meant to freeze all but "
                       "the last layer; it leaves only the last layer's bias trainable")
    elif c == "dead_units":
        s.bias_init = float(rng.choice([-3.0, -4.0]))
        s.mechanism = f"hidden ReLU biases initialised to {s.bias_init} (a 'sparse activation' init): units dead"
    elif c == "nan_inf":
        s.norm_eps = 0.0
        s.mechanism = {
            "mlp": "per-sample normalisation x / x.norm() with no epsilon; rows of all-zero features give 0/0",
            "cnn": "per-image standardisation (x - mean) / std with no epsilon; blank images give 0/0",
            "rnn": "per-sequence scaling x / x.abs().max() with no epsilon; all-zero sequences give 0/0",
            "transformer": "per-line mean loss sum / count with no guard; blank lines have count 0, giving 0/0",
        }[s.family]
    elif c == "fp16_overflow":
        s.extra["loss_scale"] = 65536.0
        s.clip = None
        s.mechanism = ("model cast to float16 (model.half()) with a static loss scale of 65536 copied from an old "
                       "apex config: the scaled gradients overflow float16, inf/NaN reach the weights")
    elif c == "label_leakage":
        s.lr = log_uniform(rng, np.sqrt(np.prod(GOOD_LR[s.optimizer])), GOOD_LR[s.optimizer][1])  # upper half
        s.mechanism = {
            "rnn": "training windows built with an off-by-one (x = s[i+1:i+L+1]): the target is the last "
                   "input; the validation windows come from the correct eval function",
            "transformer": "training inputs pre-shifted by hand (input = ids[1:]) while the loss shifts too: the "
                           "target token is the current input; validation batches are built correctly",
        }[s.family]
    elif c == "data_pipeline_bug":
        s.variant = str(rng.choice(["shuffled_labels", "same_batch"]))
        s.mechanism = {
            "shuffled_labels": "inputs and labels shuffled with two independent permutations: labels are unrelated "
                               "to inputs",
            "same_batch": "`batch = next(iter(loader))` inside the loop with a non-shuffling loader: every step "
                          "trains on the same first batch",
        }[s.variant]
        s.steps = max(s.steps, 200)
    elif c == "overfitting":
        s.n_train = int(rng.choice([32, 48, 64]))
        s.steps, s.weight_decay, s.batch, s.schedule = 300, 0.0, 16, "constant"
        s.lr = log_uniform(rng, float(np.sqrt(np.prod(GOOD_LR[s.optimizer]))), GOOD_LR[s.optimizer][1])
        s.noise = max(s.noise, 1.2)
        s.extra["wide"] = True
        s.mechanism = f"{s.n_train} training samples, a wide model, {s.steps} steps, no regularisation"
    elif c == "zero_grad_missing":
        s.optimizer, s.lr, s.clip = "sgd", log_uniform(rng, *GOOD_LR["sgd"]), None
        s.mechanism = "optimizer.zero_grad() never called: gradients sum over every step"
    elif c == "grad_accum_bug":
        s.extra["accum"] = int(rng.choice([8, 16]))
        s.optimizer, s.lr, s.clip = "sgd", log_uniform(rng, *GOOD_LR["sgd"]), None
        s.mechanism = (f"gradient accumulation over {s.extra['accum']} micro-batches written with optimizer.step() "
                       "after every micro-batch and zero_grad() only every "
                       f"{s.extra['accum']}: stale gradients are re-applied")
    elif c == "healthy":
        s.mechanism = "healthy recipe"
    else:
        raise ValueError(f"no mechanism for cause {c!r}")
