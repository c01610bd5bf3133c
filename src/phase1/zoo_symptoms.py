"""How the fault zoo judges a run: figures computed from metrics.jsonl alone, and per-scenario thresholds.

Kept apart from scenarios.py on purpose: tests/zoo_cache.py keys its trained workspaces on scenarios.py (what a run
IS), so tuning a threshold here does not force every test session to retrain the zoo. Never copied into a
workspace (it names the scenarios).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
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
    # the same jump as its excess over "no jump" (1): a ratio's null value is 1, so thresholds and margins are only
    # meaningful on what lies above it (1.3 vs 1.8 is a 1.4x factor, but 0.3 vs 0.8 is the 2.7x it really is)
    m["gn_early_jump_excess"] = m["gn_early_jump"] - 1
    # the Grokfast filter's own diagnostic (docs/phase1-log-format.md, step "grokfast"): the share of steps after the
    # first where filtering turned the gradient AWAY from the slow EMA. Grokfast adds lamb*ema, which always turns
    # it towards the EMA (share 0); a filter that amplifies g - ema turns it away at every step (share 1)
    turns = [r["grokfast"]["cos_filtered"] - r["grokfast"]["cos_raw"] for r in steps[1:] if r.get("grokfast")]
    turns = _finite(turns)
    m["grokfast_turned_away_share"] = sum(1 for t in turns if t <= 0) / len(turns) if turns else math.nan
    # growth of the grad norm: its largest finite value over the median of the first 10 steps (an explosion)
    first10 = _finite(gnorms[:10])
    m["gn_max_vs_first10_median"] = m["gn_max"] / _median(first10) if first10 else math.nan
    # the same growth, where a grad norm that overflowed (inf/NaN) counts as unbounded: an explosion that ends in
    # NaN within a few steps of leaving its range may have only ~100x of finite values to show for it
    overflowed = any(x is None or not math.isfinite(float(x)) for x in gnorms)
    m["gn_growth"] = math.inf if overflowed and first10 else m["gn_max_vs_first10_median"]
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


# A symptom check: the figure, when the symptom is present (op, threshold) and when it is clearly absent. Thresholds
# sit far inside the values measured on every seed in both forms (docs/fault-zoo.md, "Margins"; reproduce with
# tools/zoo_margins.py), with a wide gap between "present" and "absent": a borderline symptom makes a useless test
# and a useless demo.
@dataclass(frozen=True)
class Check:
    figure: str
    present: tuple[str, float]  # (">", 100.0): the symptom is there when figure > 100
    absent: tuple[str, float]  # ("<", 30.0): the symptom is clearly gone when figure < 30


def holds(rule: tuple[str, float], value: float) -> bool:
    """Whether a value satisfies (op, threshold). NaN (a figure the run could not produce) never does; inf (gn_growth
    of an overflowed run) compares as a number."""
    op, threshold = rule
    if math.isnan(value):
        return False
    return value > threshold if op == ">" else value < threshold


def margin(rule: tuple[str, float], value: float) -> float:
    """How far a value sits inside (op, threshold), as a factor: value / threshold for ">", threshold / value for
    "<" (inf for a value of 0 or below against a positive "<" threshold). Below 1 the rule does not hold."""
    op, threshold = rule
    if math.isnan(value):
        return math.nan
    if op == ">":
        return value / threshold if threshold > 0 else (math.inf if value > threshold else 0.0)
    return threshold / value if value > 0 else (math.inf if value < threshold else 0.0)


SYMPTOMS: dict[str, list[Check]] = {
    "healthy": [Check("loss_drop", (">", 0.5), ("<", 0.2)), Check("nonfinite_loss_steps", ("<", 0.5), (">", 0.5))],
    "seed_divergence": [Check("gn_after_switch_max_vs_median", (">", 10.0), ("<", 5.0)),
                        Check("loss_last", (">", 1.4), ("<", 1.25))],
    "act_variance_collapse": [Check("halt_var_median_2nd_half", ("<", 1e-6), (">", 1e-4)),
                              Check("steps_mean_range_2nd_half", ("<", 1e-9), (">", 1e-3)),
                              Check("var_dof_warnings", (">", 0.5), ("<", 0.5))],
    "embedding_heavy": [Check("embedding_share", (">", 0.75), ("<", 0.5))],
    "future_leak": [Check("loss_last", ("<", 0.3), (">", 0.6)), Check("val_minus_train_last", (">", 1.0), ("<", 0.5))],
    # structural, not dynamic: the inverted filter turns the gradient away from the slow EMA at every step, Grokfast
    # towards it (share 1 vs 0 by construction; measured on 5 seeds in docs/fault-zoo.md, "Margins"). The old figure,
    # grad-norm spikiness over steps 6-40, was 2.7-6.7 faulty vs 1.6-2.3 fixed: a knife edge
    "grokfast_sign": [Check("grokfast_turned_away_share", (">", 0.8), ("<", 0.2))],
    "scheduler_key": [Check("lr_muon_max_over_min", ("<", 1.0 + 1e-9), (">", 5.0))],
    # the jump above 1 over 5 seeds (docs/fault-zoo.md, "Margins"): faulty 0.53-1.38, fixed 0.03-0.13. "> 0.3" and
    # "< 0.2" sit between them with >= 1.5x on both sides (the old "> 1.8" on the ratio missed 2 of 5 faulty seeds)
    "no_warmup": [Check("gn_early_jump_excess", (">", 0.3), ("<", 0.2))],
    "lr_too_low": [Check("loss_drop", ("<", 0.1), (">", 0.5))],
    "frozen_params": [Check("trainable_share", ("<", 0.5), (">", 0.99))],
    "zero_grad_missing": [Check("gn_last_vs_first", (">", 10.0), ("<", 3.0))],
    # every faulty seed overflows (inf) in both forms; the clipped runs' early transient peaks at 16.6x
    # (worst of 5 seeds x 2 forms): "< 50" leaves it a 3.0x margin, "> 100" is detect_grad_explosion's growth
    "grad_explosion": [Check("gn_growth", (">", 100.0), ("<", 50.0))],
    "nan_log": [Check("nonfinite_loss_steps", (">", 0.5), ("<", 0.5))],
    "overfitting": [Check("val_rise_from_min", (">", 0.3), ("<", 0.1)),
                    Check("val_minus_train_last", (">", 0.5), ("<", 0.3))],
}


def judge(name: str, figures: dict[str, float]) -> tuple[bool, bool]:
    """(symptom present, symptom clearly absent) for a scenario's figures."""
    checks = SYMPTOMS[name]
    present = all(holds(c.present, figures.get(c.figure, math.nan)) for c in checks)
    absent = all(holds(c.absent, figures.get(c.figure, math.nan)) for c in checks)
    return present, absent
