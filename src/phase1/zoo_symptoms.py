"""How the fault zoo judges a run: figures computed from metrics.jsonl alone, and per-scenario thresholds.

Kept apart from scenarios.py on purpose: tests/zoo_cache.py keys its trained workspaces on scenarios.py (what a run
IS), so tuning a threshold here does not force every test session to retrain the zoo. Never copied into a
workspace (it names the scenarios).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any


# ---- reading a run and measuring symptoms ----------------------------------------------------------------------
def read_records(run_dir: str | Path) -> list[dict[str, Any]]:
    """metrics.jsonl records (bare NaN/Infinity are read as floats, as json does)."""
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _finite(xs) -> list[float]:
    return [float(x) for x in xs if x is not None and math.isfinite(float(x))]


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def measure(records: list[dict[str, Any]]) -> dict[str, float]:
    """The figures every scenario's symptom is judged on (all computed from metrics.jsonl alone)."""
    meta = next((r for r in records if r["type"] == "meta"), {})
    steps = [r for r in records if r["type"] == "step"]
    evals = [r for r in records if r["type"] == "eval"]
    stages = [r for r in records if r["type"] == "stage"]
    end = next((r for r in records if r["type"] == "end"), {})
    losses = [r["loss"] for r in steps]
    gnorms = [r["grad_norm"] for r in steps]
    fin_loss = _finite(losses)
    fin_gn = _finite(gnorms)
    n = len(steps)
    k = max(1, n // 10)
    m: dict[str, float] = {"steps": float(n), "completed": float(end.get("status") == "completed")}
    m["nonfinite_loss_steps"] = float(sum(1 for x in losses if not math.isfinite(x)))
    first_bad = next((r["step"] for r in steps if not math.isfinite(r["loss"])), None)
    m["first_nonfinite_step"] = float(first_bad) if first_bad is not None else math.nan
    m["loss_first"] = _median(_finite(losses[:k]))
    m["loss_last"] = _median(_finite(losses[-k:]))
    m["loss_min"] = min(fin_loss) if fin_loss else math.nan
    m["loss_drop"] = 1 - m["loss_last"] / m["loss_first"] if fin_loss else math.nan  # share of the loss gone
    m["gn_median"] = _median(fin_gn)
    m["gn_max"] = max(fin_gn) if fin_gn else math.nan
    m["gn_max_vs_median"] = m["gn_max"] / m["gn_median"] if fin_gn else math.nan
    # spikiness of the grad norm over steps 6-40, after the initialisation transient and before the LR decays:
    # where an inverted (high-pass) Grokfast filter shows as oscillation
    early = _finite(gnorms[5:40])
    m["gn_early_spikiness"] = max(early) / _median(early) if len(early) >= 10 else math.nan
    m["gn_first_max"] = max(_finite(gnorms[:10])) if fin_gn else math.nan  # first 10 steps
    m["gn_first_vs_median"] = m["gn_first_max"] / m["gn_median"] if fin_gn else math.nan
    # jump of the grad norm right after the first update, relative to its value at initialisation
    m["gn_early_jump"] = max(_finite(gnorms[1:10])) / gnorms[0] if n > 1 and math.isfinite(gnorms[0]) else math.nan
    # growth of the grad norm: its largest finite value over the median of the first 10 steps (an explosion)
    first10 = _finite(gnorms[:10])
    m["gn_max_vs_first10_median"] = m["gn_max"] / _median(first10) if first10 else math.nan
    m["gn_last_vs_first"] = _median(_finite(gnorms[-k:])) / _median(_finite(gnorms[:k])) if fin_gn else math.nan
    # the Advanced stage switch (the seed's divergence point)
    adv = next((r["step"] for r in stages if r["stage"] == "Advanced"), None)
    if adv is not None:
        before = _finite(r["grad_norm"] for r in steps if r["step"] < adv)
        after = _finite(r["grad_norm"] for r in steps if r["step"] >= adv)
        m["switch_step"] = float(adv)
        m["gn_after_switch_max_vs_median"] = (max(after) / _median(before)) if after and before else math.nan
        after_loss = [r["loss"] for r in steps if r["step"] >= adv]
        fa = _finite(after_loss)
        m["loss_after_switch_rise"] = (_median(_finite(after_loss[-k:])) - min(fa)) if fa else math.nan
    # learning rates actually used
    muon_lrs = _finite(r["lr"].get("muon", math.nan) for r in steps)
    m["lr_muon_max_over_min"] = (max(muon_lrs) / min(muon_lrs)) if muon_lrs and min(muon_lrs) > 0 else math.nan
    # ACT halting
    hv = [r["act"]["halt_var"] for r in steps]
    sm = _finite(r["act"]["steps_mean"] for r in steps)
    m["halt_var_median_2nd_half"] = _median(_finite(hv[n // 2 :]))
    m["steps_mean_range_2nd_half"] = (max(sm[n // 2 :]) - min(sm[n // 2 :])) if sm[n // 2 :] else math.nan
    warns = [r for r in records if r["type"] == "warning"]
    m["var_dof_warnings"] = float(sum(1 for w in warns if "degrees of freedom" in w.get("message", "")))
    m["warnings"] = float(len(warns))
    # generalisation
    if evals:
        vals = [e["val_loss"] for e in evals]
        trains = [e["train_loss"] for e in evals]
        fv = _finite(vals)
        m["val_first"], m["val_last"], m["val_min"] = vals[0], vals[-1], (min(fv) if fv else math.nan)
        m["val_rise_from_min"] = vals[-1] - m["val_min"]
        m["train_last_epoch"] = trains[-1]
        m["val_minus_train_last"] = vals[-1] - trains[-1]
    # parameters
    params = meta.get("params", {})
    if params.get("total"):
        m["embedding_share"] = (params["embedding"] + params["unembedding"]) / params["total"]
        m["trainable_share"] = params["trainable"] / params["total"]
    # samples: share of the last epoch's sample text taken by its most frequent character
    samples = [r for r in records if r["type"] == "sample"]
    if samples:
        last_step = samples[-1]["step"]
        text = "".join(s["text"] for s in samples if s["step"] == last_step)
        m["sample_top_char_share"] = (max(text.count(c) for c in set(text)) / len(text)) if text else 1.0
    return m


# A symptom: (figure, present when ..., absent when ...). Thresholds leave a wide gap between the faulty and the
# fixed run on purpose (a borderline symptom makes a useless test and a useless demo).
Check = tuple[str, Callable[[float], bool], Callable[[float], bool]]


def _lt(x: float) -> Callable[[float], bool]:
    return lambda v: math.isfinite(v) and v < x


def _gt(x: float) -> Callable[[float], bool]:
    return lambda v: math.isfinite(v) and v > x


def _isnan() -> Callable[[float], bool]:
    return lambda v: not math.isfinite(v)


SYMPTOMS: dict[str, list[Check]] = {
    "healthy": [("loss_drop", _gt(0.5), _lt(0.2)), ("nonfinite_loss_steps", _lt(0.5), _gt(0.5))],
    "seed_divergence": [("gn_after_switch_max_vs_median", _gt(10.0), _lt(5.0)), ("loss_last", _gt(1.4), _lt(1.25))],
    "act_variance_collapse": [("halt_var_median_2nd_half", _lt(1e-6), _gt(1e-4)),
                              ("steps_mean_range_2nd_half", _lt(1e-9), _gt(1e-3)),
                              ("var_dof_warnings", _gt(0.5), _lt(0.5))],
    "embedding_heavy": [("embedding_share", _gt(0.75), _lt(0.5))],
    "future_leak": [("loss_last", _lt(0.3), _gt(0.6)), ("val_minus_train_last", _gt(1.0), _lt(0.5))],
    "grokfast_sign": [("gn_early_spikiness", _gt(4.5), _lt(3.5))],
    "scheduler_key": [("lr_muon_max_over_min", _lt(1.0 + 1e-9), _gt(5.0))],
    "no_warmup": [("gn_early_jump", _gt(1.8), _lt(1.3))],
    "lr_too_low": [("loss_drop", _lt(0.1), _gt(0.5))],
    "frozen_params": [("trainable_share", _lt(0.5), _gt(0.99))],
    "zero_grad_missing": [("gn_last_vs_first", _gt(10.0), _lt(3.0))],
    # the exploded run peaks ~2600x above its first steps' norm, then turns NaN; clipped at 1.0, ~5x
    "grad_explosion": [("gn_max_vs_first10_median", _gt(100.0), _lt(30.0))],
    "nan_log": [("nonfinite_loss_steps", _gt(0.5), _lt(0.5))],
    "overfitting": [("val_rise_from_min", _gt(0.3), _lt(0.1)), ("val_minus_train_last", _gt(0.5), _lt(0.3))],
}


def judge(name: str, figures: dict[str, float]) -> tuple[bool, bool]:
    """(symptom present, symptom clearly absent) for a scenario's figures."""
    checks = SYMPTOMS[name]
    present = all(ok(figures.get(key, math.nan)) for key, ok, _ in checks)
    absent = all(gone(figures.get(key, math.nan)) for key, _, gone in checks)
    return present, absent
