"""Labelled synthetic runs, one family per cause plus healthy ones: the smdebug pattern of testing rules on
chosen series, and one of the three sources the confidence calibration is fitted on (with the fault zoo and the
real-library runs).

Each builder draws its severity, length, noise and which artifacts exist (config or not, eval or not) at random,
so that some faults are mild enough to be missed and some healthy runs are bumpy: the calibration must see both.
These are *not* used to tune detector thresholds (those are set from the literature, see each detector).
"""

from __future__ import annotations

import numpy as np

from traindoc.ingest.model import ConfigValue, LogEvent, ParamCounts, Run, Sample, Series

SRC = "run/metrics.jsonl"
CFG = "run/config.yaml"


def _cfg(run: Run, key: str, value: object, line: int, text: str | None = None) -> None:
    run.config[key] = ConfigValue(key, value, CFG, line, "yaml", text if text is not None else str(value))


def _base(rng: np.random.Generator, n: int | None = None, family: str | None = None,
          with_config: bool | None = None) -> tuple[Run, dict[str, np.ndarray]]:
    """A healthy run: loss decays to a floor with multiplicative noise, grad norm settles, warmup + cosine LR,
    eval every ~n/20 steps (val slightly above train), healthy samples."""
    n = int(n or rng.integers(300, 2500))
    family = family or str(rng.choice(["mugrokfast", "adamw"]))
    with_config = bool(rng.random() < 0.85) if with_config is None else with_config
    t = np.arange(n, dtype=np.float64)
    l0, floor, tau = rng.uniform(3, 8), rng.uniform(0.3, 1.5), rng.uniform(0.05, 0.3) * n
    noise = rng.uniform(0.01, 0.06)
    loss = (l0 - floor) * np.exp(-t / tau) + floor
    loss = loss * np.exp(noise * rng.standard_normal(n))
    g0 = rng.uniform(0.5, 5)
    grad = g0 * (1 + 1.5 * np.exp(-t / (0.1 * n))) * np.exp(0.15 * rng.standard_normal(n))
    warm = max(1, int(n * rng.uniform(0.01, 0.05)))
    peak = 5e-3 if family == "mugrokfast" else float(rng.choice([1e-4, 3e-4, 6e-4, 1e-3]))
    lr = peak * np.minimum(1.0, (t + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * t / n)))
    arrays = {"t": t, "loss": loss, "grad_norm": grad, "lr": lr}
    run = Run()
    run.meta["optimizer"] = family
    if with_config:
        if family == "mugrokfast":
            _cfg(run, "optim.muon_lr", peak, 14, "5e-3")
            _cfg(run, "optim.adam_lr", 1e-3, 15, "1e-3")
            _cfg(run, "optim.grokfast_alpha", 0.98, 16)
            _cfg(run, "optim.grokfast_lambda", 0.05, 17)
            _cfg(run, "optim.warmup_steps", warm, 18)
            _cfg(run, "optim.grad_clip", 1.0, 19)
            _cfg(run, "train.early_stopping_patience", 3, 30)
        else:
            _cfg(run, "training_args.learning_rate", peak, 5, f"{peak:g}")
            _cfg(run, "training_args.warmup_steps", warm, 6)
            _cfg(run, "training_args.max_grad_norm", 1.0, 7)
            _cfg(run, "training_args.optim", "adamw_torch", 8)
            _cfg(run, "training_args.lr_scheduler_type", "cosine", 9)
    return run, arrays


def _finish(run: Run, a: dict[str, np.ndarray], rng: np.random.Generator, eval_curve: np.ndarray | None = None,
            samples: list[str] | None = None) -> Run:
    t = a["t"].astype(np.int64)
    n = t.size
    for name in ("loss", "grad_norm"):
        run.add_series(Series(name, t, a[name], SRC, name))
    lr_name = "lr/muon" if run.meta.get("optimizer") == "mugrokfast" else "lr"
    run.add_series(Series(lr_name, t, a["lr"], SRC, lr_name))
    for extra in ("act_halt_var", "max_attn_logit", "output_logit_mean", "loss_scale"):
        if extra in a:
            run.add_series(Series(extra, t, a[extra], SRC, extra))
    every = max(1, n // 20)
    ev_idx = np.arange(every - 1, n, every)
    if eval_curve is None:
        eval_curve = a["loss"] * 1.05
    run.add_series(Series("eval_loss", t[ev_idx], eval_curve[ev_idx], SRC, "val_loss"))
    if samples is None:
        words = "the model adds two numbers and carries the one to the next column".split()
        samples = [" ".join(rng.choice(words, 8)) for _ in range(8)]
    for i, text in enumerate(samples):
        run.samples.append(Sample(text, int(t[min(n - 1, (i + 1) * n // len(samples) - 1)]), "Q:", SRC))
    run.sources.append(__import__("traindoc.ingest.model", fromlist=["Source"]).Source(SRC, "synthetic", ["loss"], n))
    return run.finalize()


def healthy(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    # a healthy run may have a benign blip (data noise) and a stage switch with a small bump
    if rng.random() < 0.3:
        i = int(rng.integers(a["t"].size // 3, a["t"].size))
        a["grad_norm"][i] *= rng.uniform(1.5, 2.5)
    if rng.random() < 0.3:
        b = int(a["t"].size * rng.uniform(0.4, 0.7))
        run.stages = [(0, "foundation"), (b, "advanced")]
        a["loss"][b:] *= 1.05
    return _finish(run, a, rng)


def lr_too_high(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    factor = float(rng.choice([2, 3, 5, 10, 30]))
    n = a["t"].size
    if "optim.muon_lr" in run.config:
        v = 5e-3 * factor
        _cfg(run, "optim.muon_lr", v, 14, f"{v:.0e}".replace("e-0", "e-"))
    elif run.config:
        v = float(run.config["training_args.learning_rate"].value) * factor * 3
        _cfg(run, "training_args.learning_rate", v, 5, f"{v:g}")
    a["lr"] *= factor
    t0 = int(n * rng.uniform(0.4, 0.7))
    if rng.random() < 0.5:
        run.stages = [(0, "foundation"), (t0 - 3, "advanced")]
    sev = rng.uniform(0.15, 1.0)
    a["grad_norm"][t0] *= rng.uniform(8, 40) * sev + 1
    a["grad_norm"][t0:] *= 1 + sev * 2
    a["loss"][t0:] *= 1 + sev * np.linspace(0, rng.uniform(0.1, 0.8), n - t0)
    samples = None
    if rng.random() < 0.5:
        samples = ["the sum is four"] * 4 + ["::::::::::::::::"] * 4
    return _finish(run, a, rng, samples=samples)


def lr_too_low(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    f = float(rng.choice([30, 100, 1000]))
    for k in ("optim.muon_lr", "optim.adam_lr", "training_args.learning_rate"):
        if k in run.config:
            v = float(run.config[k].value) / f
            _cfg(run, k, v, run.config[k].line or 1, f"{v:.0e}")
    a["lr"] /= f
    n = a["t"].size
    l0 = float(a["loss"][0])
    a["loss"] = l0 * (1 - rng.uniform(0.0, 0.08) * np.arange(n) / n) * np.exp(0.02 * rng.standard_normal(n))
    return _finish(run, a, rng)


def no_warmup(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    for k in ("optim.warmup_steps", "training_args.warmup_steps"):
        if k in run.config:
            _cfg(run, k, 0, run.config[k].line or 1, "0")
    n = a["t"].size
    a["lr"] = a["lr"].max() * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * a["t"] / n)))
    k = max(3, n // 40)
    i = int(rng.integers(2, k))
    a["grad_norm"][i: i + 3] *= rng.uniform(4, 30)
    a["loss"][i: i + k] *= rng.uniform(1.0, 1.6)
    return _finish(run, a, rng)


def scheduler_misuse(rng: np.random.Generator) -> Run:
    run, a = _base(rng, with_config=True)
    a["lr"] = np.full_like(a["lr"], a["lr"].max())
    if rng.random() < 0.3:
        run.events.append(LogEvent("warning", "Detected call of `lr_scheduler.step()` before `optimizer.step()`.",
                                   1, "scheduler_before_optimizer", SRC, 3))
    return _finish(run, a, rng)


def grad_explosion(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    for k in ("optim.grad_clip", "training_args.max_grad_norm"):
        if k in run.config:
            _cfg(run, k, 0, run.config[k].line or 1, "0")
    n = a["t"].size
    t0 = int(n * rng.uniform(0.3, 0.7))
    rate = rng.uniform(5, 12) / (n - t0)
    a["grad_norm"][t0:] *= np.exp(rate * np.arange(n - t0))
    a["loss"][t0:] *= 1 + 0.3 * (np.exp(rate * np.arange(n - t0) / 3) - 1) / 10
    if rng.random() < 0.4:
        a["loss"][-5:] = np.nan
        a["grad_norm"][-5:] = np.inf
    return _finish(run, a, rng)


def vanishing_gradients(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    a["grad_norm"] = a["grad_norm"] * rng.uniform(1e-8, 3e-6)
    n = a["t"].size
    a["loss"] = float(a["loss"][0]) * np.exp(0.01 * rng.standard_normal(n))
    return _finish(run, a, rng)


def optimizer_misconfig(rng: np.random.Generator) -> Run:
    run, a = _base(rng, with_config=True)
    choice = rng.integers(0, 3)
    if choice == 0:
        _cfg(run, "optim.grokfast_lambda", 20.0, 17, "20.0")
        _cfg(run, "optim.grokfast_alpha", 0.98, 16)
    elif choice == 1:
        _cfg(run, "training_args.adam_epsilon", 0.1, 10, "0.1")
    else:
        _cfg(run, "optim.momentum", 1.05, 12, "1.05")
    n = a["t"].size
    a["loss"] = a["loss"] * (1 + rng.uniform(0.1, 0.5) * np.arange(n) / n)
    return _finish(run, a, rng)


def zero_grad_missing(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    base = float(np.median(a["grad_norm"][: n // 10]))
    a["grad_norm"] = base * (1 + rng.uniform(0.5, 3) * a["t"] / 10) * np.exp(0.03 * rng.standard_normal(n))
    a["loss"] = a["loss"] * (1 + rng.uniform(0.0, 0.5) * np.arange(n) / n)
    return _finish(run, a, rng)


def grad_accum_bug(rng: np.random.Generator) -> Run:
    run, a = _base(rng, with_config=True)
    k = int(rng.choice([2, 4, 8]))
    _cfg(run, "training_args.gradient_accumulation_steps", k, 11)
    ev = a["loss"] * 1.02
    a["loss"] = a["loss"] * k
    return _finish(run, a, rng, eval_curve=ev)


def frozen_params(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    total = int(rng.integers(10**6, 10**8))
    run.params = ParamCounts(total, int(total * 0.2), 0, int(total * 0.75), other=0,
                             trainable=int(total * rng.uniform(0.001, 0.2)), source="run/checkpoints/last.pt")
    if run.config and rng.random() < 0.6:
        _cfg(run, "train.freeze_backbone", True, 33, "true")
    n = a["t"].size
    a["loss"] = float(a["loss"][0]) * (1 - rng.uniform(0.02, 0.2) * (1 - np.exp(-a["t"] / (0.1 * n))))
    a["grad_norm"] *= rng.uniform(0.01, 0.3)
    return _finish(run, a, rng)


def dead_units(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    t0 = int(n * rng.uniform(0.1, 0.4))
    a["grad_norm"][t0:] *= rng.uniform(1e-7, 1e-4)
    a["loss"][t0:] = a["loss"][t0] * np.exp(0.005 * rng.standard_normal(n - t0))
    return _finish(run, a, rng)


def nan_inf(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    # an unguarded op is told apart from fp16 overflow by the run's precision: these runs state one with fp32's range
    run.meta["precision"] = str(rng.choice(["32-true", "bf16-mixed"]))
    n = a["t"].size
    t0 = int(n * rng.uniform(0.2, 0.9))
    a["loss"][t0:] = np.nan
    if rng.random() < 0.7:
        a["grad_norm"][t0:] = np.nan
    return _finish(run, a, rng)


def fp16_overflow(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    run.meta["precision"] = "16-mixed"
    n = a["t"].size
    scale = np.full(n, 65536.0)
    t0 = int(n * rng.uniform(0.2, 0.7))
    scale[t0:] = 65536.0 / 2.0 ** np.minimum(np.arange(n - t0) // 3, 16)
    a["loss_scale"] = scale
    for i in range(int(rng.integers(1, 20))):
        run.events.append(LogEvent("warning", "Gradient overflow. Skipping step, loss scaler reducing loss scale",
                                   t0 + 3 * i, "grad_overflow", "run/train.log", 100 + i))
    if rng.random() < 0.5:
        a["loss"][t0 + 40:] = np.nan
    return _finish(run, a, rng)


def label_leakage(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    a["loss"] = float(a["loss"][0]) * np.exp(-a["t"] / (rng.uniform(0.01, 0.05) * n)) + 1e-3
    ev = np.full(n, float(a["loss"][0]) * rng.uniform(0.4, 1.2))
    samples = ["the sum is four"] * 3 + [":::::::::::::", "aaaaaaaaaaaa", "::::::::::", ":::::::", "........."]
    return _finish(run, a, rng, eval_curve=ev, samples=samples if rng.random() < 0.7 else None)


def data_pipeline_bug(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    if rng.random() < 0.5:
        a["loss"] = np.abs(1e-6 * rng.standard_normal(n))
    else:
        per = int(rng.integers(40, 100))
        run.epoch_starts = [(int(s), i) for i, s in enumerate(range(0, n, per))]
        phase = (a["t"] % per) / per
        a["loss"] = a["loss"] * (1 + rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * phase) ** 2)
    return _finish(run, a, rng)


def curriculum_shock(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    b = int(n * rng.uniform(0.3, 0.7))
    run.stages = [(0, "foundation"), (b, "advanced")]
    j = rng.uniform(1.4, 3)
    keep = rng.uniform(0.3, 1.0)  # share of the jump that never recovers
    decay = np.exp(-(a["t"][b:] - b) / (0.05 * n))
    a["loss"][b:] *= 1 + (j - 1) * (keep + (1 - keep) * decay)
    a["grad_norm"][b:] *= 1 + rng.uniform(3, 14) * (keep + (1 - keep) * decay)
    return _finish(run, a, rng)


def overfitting(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    tmin = int(n * rng.uniform(0.25, 0.6))
    ev = a["loss"] * 1.05
    ev[tmin:] = ev[tmin] * (1 + rng.uniform(0.15, 1.0) * (a["t"][tmin:] - tmin) / (n - tmin))
    a["loss"][tmin:] *= np.linspace(1, rng.uniform(0.3, 0.7), n - tmin)
    if run.config and "train.early_stopping_patience" in run.config:
        _cfg(run, "train.early_stopping_patience", 0, 30, "0")
    return _finish(run, a, rng, eval_curve=ev)


def param_imbalance(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    total = int(rng.integers(10**6, 10**8))
    share = rng.uniform(0.55, 0.9)
    run.params = ParamCounts(total, int(total * share / 2), int(total * share / 2), int(total * (1 - share)),
                             trainable=total, tied=False, source="run/meta")
    return _finish(run, a, rng)


def act_variance_collapse(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    a["act_halt_var"] = np.where(a["t"] < n * rng.uniform(0.05, 0.3), 0.02, 0.0)
    if rng.random() < 0.8:
        run.events.append(LogEvent("warning", "var(): degrees of freedom is <= 0. Correction should be strictly less "
                                   "than the reduction factor", 1, "var_dof", SRC, 7, count=n))
    return _finish(run, a, rng)


def attention_logit_growth(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    a["max_attn_logit"] = 10 * np.exp(rng.uniform(2, 5) * a["t"] / n)
    return _finish(run, a, rng)


def output_logit_divergence(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    a["output_logit_mean"] = -2 - rng.uniform(20, 100) * a["t"] / n
    return _finish(run, a, rng)


def mode_collapse(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    k = int(rng.integers(4, 10))
    samples = ["the sum of two and two is four"] * k + [str(rng.choice([":::::::::", "the the the the the the",
                                                                         "1111111111"]))] * k
    return _finish(run, a, rng, samples=samples)


def distributed_desync(rng: np.random.Generator) -> Run:
    run, a = _base(rng)
    n = a["t"].size
    t = a["t"].astype(np.int64)
    bad = int(rng.integers(0, 4))
    t0 = int(n * rng.uniform(0.2, 0.7))
    for k in range(4):
        v = a["loss"] * np.exp(0.02 * rng.standard_normal(n))
        if k == bad:
            if rng.random() < 0.5:
                v[t0:] = np.nan
            else:
                v[t0:] *= np.linspace(1, rng.uniform(2, 5), n - t0)
        run.add_series(Series(f"loss@rank{k}", t, v, f"run/rank{k}.log", "loss"))
    return _finish(run, a, rng)


BUILDERS = {
    "healthy": healthy, "lr_too_high": lr_too_high, "lr_too_low": lr_too_low, "no_warmup": no_warmup,
    "scheduler_misuse": scheduler_misuse, "grad_explosion": grad_explosion,
    "vanishing_gradients": vanishing_gradients, "optimizer_misconfig": optimizer_misconfig,
    "zero_grad_missing": zero_grad_missing, "grad_accum_bug": grad_accum_bug, "frozen_params": frozen_params,
    "dead_units": dead_units, "nan_inf": nan_inf, "fp16_overflow": fp16_overflow, "label_leakage": label_leakage,
    "data_pipeline_bug": data_pipeline_bug, "curriculum_shock": curriculum_shock, "overfitting": overfitting,
    "param_imbalance": param_imbalance, "act_variance_collapse": act_variance_collapse,
    "attention_logit_growth": attention_logit_growth, "output_logit_divergence": output_logit_divergence,
    "mode_collapse": mode_collapse, "distributed_desync": distributed_desync,
}


def make(label: str, seed: int) -> Run:
    """A labelled synthetic run ('healthy' or a cause id)."""
    return BUILDERS[label](np.random.default_rng(seed))
