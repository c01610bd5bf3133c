"""What to do about each cause: the issue sentence, the fix, its impact/effort/risk, the outcomes `verify`
checks on the next run, and quick wins. Concrete changes come from the findings (config key + file:line +
before/after) and from traindoc.evidence.code_sites (code file:line + template)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Remedy:
    issue: str
    fix: str
    impact: str
    effort: str
    risk: str
    quick_wins: tuple[str, ...] = ()
    default_changes: tuple[dict[str, Any], ...] = field(default_factory=tuple)


REMEDIES: dict[str, Remedy] = {
    "lr_too_high": Remedy(
        "Learning rate too high for the optimiser: training becomes unstable",
        "Lower the learning rate to its reference value (a factor 2-10), keep warmup and gradient clipping on",
        "high", "low", "low",
        ("Reduce learning rates by 50%", "Enable gradient clipping at 1.0", "Enable early stopping on validation loss"),
        ({"target": "config", "key": "learning_rate", "description": "lower the learning rate 2-10x"},)),
    "lr_too_low": Remedy(
        "Learning rate far too low: updates are too small to make progress",
        "Raise the learning rate to the reference range for the optimiser", "high", "low", "low",
        ("Raise the learning rate 10x and watch the first 100 steps",),
        ({"target": "config", "key": "learning_rate", "description": "raise the learning rate"},)),
    "no_warmup": Remedy(
        "No learning-rate warmup: the full LR hits the freshly initialised model",
        "Add a linear warmup over ~1-5% of the steps", "medium", "low", "low",
        ("Add a linear LR warmup over the first 2% of steps",),
        ({"target": "config", "key": "warmup_steps", "description": "set warmup to ~2% of the steps"},)),
    "scheduler_misuse": Remedy(
        "The learning-rate schedule is not applied as configured",
        "Make the scheduler write the key the optimiser reads and step it once per optimiser step",
        "medium", "low", "low", ("Log the LR every step and check it follows the schedule",)),
    "grad_explosion": Remedy(
        "Gradients explode: the norm grows by orders of magnitude with no clipping",
        "Clip the global gradient norm (1.0) and find the layer whose gradients grow", "high", "low", "low",
        ("Enable gradient clipping at 1.0",),
        ({"target": "config", "key": "max_grad_norm", "after": "1.0", "description": "clip the global grad norm"},)),
    "vanishing_gradients": Remedy(
        "Gradients vanish before they reach the early layers",
        "Add normalisation/residual connections, use a better init and non-saturating activations",
        "high", "high", "medium", ("Check the init scale and add LayerNorm",)),
    "optimizer_misconfig": Remedy(
        "Optimiser settings other than the LR are wrong",
        "Restore the reference settings of the optimiser (filter sign, lambda/alpha, eps, momentum, decay)",
        "high", "low", "low", ("Restore the optimiser's reference settings",)),
    "zero_grad_missing": Remedy(
        "Gradients accumulate across steps because they are never cleared",
        "Call optimizer.zero_grad(set_to_none=True) once per optimiser step", "high", "low", "low",
        ("Call optimizer.zero_grad() every step",)),
    "grad_accum_bug": Remedy(
        "Gradient accumulation scales the loss wrongly",
        "Divide the loss by the accumulation steps exactly once", "medium", "low", "low",
        ("Check loss / accumulation_steps is applied once",)),
    "frozen_params": Remedy(
        "Parameters that should train are frozen",
        "Unfreeze them (requires_grad) and pass them to the optimiser", "high", "low", "low",
        ("Print the trainable parameter count before training",),
        ({"target": "config", "key": "freeze_backbone", "after": "false", "description": "unfreeze"},)),
    "dead_units": Remedy(
        "Units are dead or saturated, so no signal passes",
        "Fix the init, use GELU/leaky activations, lower the LR", "medium", "medium", "medium",
        ("Switch ReLU to GELU",)),
    "nan_inf": Remedy(
        "NaN/Inf from an unguarded numerical operation",
        "Guard the operation (clamp/eps) and stop at the first non-finite step", "high", "low", "low",
        ("Clamp inputs of log/sqrt/div with an eps", "Enable anomaly detection for one run to find the op")),
    "fp16_overflow": Remedy(
        "Half precision overflows",
        "Train in bf16 (or fp32 master weights) with dynamic loss scaling", "high", "low", "low",
        ("Switch fp16 to bf16",)),
    "label_leakage": Remedy(
        "The targets are visible to the model (non-causal attention or a shift bug)",
        "Restore the causal mask / the one-token label shift", "critical", "low", "low",
        ("Check that changing a future token does not change earlier predictions",)),
    "data_pipeline_bug": Remedy(
        "The data fed is not the data intended",
        "Fix the loader and check a batch by eye", "critical", "medium", "low",
        ("Print and inspect one batch", "Shuffle the training set every epoch")),
    "curriculum_shock": Remedy(
        "The curriculum stage switch shifts the data too sharply for the current LR",
        "Re-warm or lower the LR at the stage boundary, or blend the stages", "medium", "medium", "low",
        ("Re-warm the LR for a few hundred steps at each stage switch",)),
    "overfitting": Remedy(
        "The model memorises the training set: validation loss turns up",
        "Stop at the best validation step (early stopping) and add data or regularisation", "medium", "low", "low",
        ("Enable early stopping on validation loss", "Keep the best-validation checkpoint"),
        ({"target": "config", "key": "early_stopping_patience", "after": "3", "description": "stop early"},)),
    "param_imbalance": Remedy(
        "Most parameters sit in the embeddings, leaving the blocks little capacity",
        "Tie the input/output embeddings, use a smaller vocabulary or move capacity into layers",
        "medium", "medium", "medium", ("Tie input and output embeddings",)),
    "act_variance_collapse": Remedy(
        "ACT halting variance is ~0: every token uses the same number of steps",
        "Give the halting head a differentiable target and add a diversity term to the ACT loss",
        "high", "medium", "low", ("Add diversity loss to ACT head",)),
    "attention_logit_growth": Remedy(
        "Attention logits grow until attention entropy collapses",
        "Add QK-layernorm and/or lower the LR", "high", "medium", "low", ("Add QK-layernorm",)),
    "output_logit_divergence": Remedy(
        "Output logits drift away from zero",
        "Add a z-loss (~1e-4 * log^2 Z)", "medium", "low", "low", ("Add z-loss 1e-4",)),
    "mode_collapse": Remedy(
        "Generation degenerates to a repeated token",
        "Fix decoding (temperature, repetition penalty) or retrain from the last healthy checkpoint",
        "medium", "medium", "low", ("Sample with temperature 0.8 and a repetition penalty",)),
    "distributed_desync": Remedy(
        "Ranks of the data-parallel job disagree",
        "Use the same seeds and a correct data sharding; find and exclude the bad rank", "high", "medium", "medium",
        ("Compare per-rank losses at step 0",)),
}


def _pred(kind: str, description: str, **kw: Any) -> dict[str, Any]:
    d = {"kind": kind, "description": description}
    d.update({k: v for k, v in kw.items() if v is not None})
    return d


def expected_outcomes(cause: str, numbers: dict[str, Any], metrics: set[str]) -> list[dict[str, Any]]:
    """Predicates `verify` checks on the new run. Metric predicates only for metrics the run logs."""
    out: list[dict[str, Any]] = []
    g = "grad_norm" in metrics
    loss = "loss" in metrics
    ev = "eval_loss" in metrics
    lr_name = next((m for m in ("lr", "lr/muon", "lr/adam") if m in metrics), None)
    boundary = numbers.get("stage_boundary") or numbers.get("boundary_step")
    win = {"start_step": int(boundary)} if boundary else None
    if cause in ("lr_too_high", "grad_explosion", "zero_grad_missing", "curriculum_shock", "no_warmup"):
        if g:
            where = f" after step {boundary}" if boundary else " over the run"
            out.append(_pred("metric", f"grad_norm stays below 10x its median{where}", metric="grad_norm",
                             stat="max_over_median", op="<", value=10, window=win))
        if loss and cause != "no_warmup":
            out.append(_pred("metric", "training loss ends within 10% of its minimum (no divergence)",
                             metric="loss", stat="final_over_min", op="<=", value=1.1))
        if ev and cause in ("lr_too_high", "curriculum_shock"):
            out.append(_pred("metric", "eval loss ends within 10% of its minimum", metric="eval_loss",
                             stat="final_over_min", op="<=", value=1.1))
        if loss and cause in ("lr_too_high", "grad_explosion"):
            out.append(_pred("metric", "no NaN/Inf loss", metric="loss", stat="count_nonfinite", op="==", value=0))
    elif cause in ("lr_too_low", "frozen_params", "vanishing_gradients", "dead_units"):
        if loss:
            out.append(_pred("metric", "loss falls by at least 10% over the run", metric="loss", stat="rel_change",
                             op="<", value=-0.1))
        if g and cause == "vanishing_gradients":
            out.append(_pred("metric", "grad_norm median above 1e-4", metric="grad_norm", stat="median", op=">",
                             value=1e-4))
    elif cause == "scheduler_misuse" and lr_name:
        out.append(_pred("metric", f"{lr_name} follows a decaying schedule (changes over the run)", metric=lr_name,
                         stat="rel_change", op="<", value=-0.01))
    elif cause in ("nan_inf", "fp16_overflow"):
        if loss:
            out.append(_pred("metric", "no NaN/Inf loss", metric="loss", stat="count_nonfinite", op="==", value=0))
        if g:
            out.append(_pred("metric", "no NaN/Inf grad norm", metric="grad_norm", stat="count_nonfinite", op="==",
                             value=0))
        if cause == "fp16_overflow":
            out.append(_pred("no_warning", "no gradient-overflow messages", tag="grad_overflow"))
    elif cause == "overfitting" and ev:
        out.append(_pred("metric", "eval loss ends within 10% of its minimum", metric="eval_loss",
                         stat="final_over_min", op="<=", value=1.1))
    elif cause == "act_variance_collapse":
        if "act_halt_var" in metrics:
            out.append(_pred("metric", "halting variance stays above 1e-4 over the second half", metric="act_halt_var",
                             stat="mean", op=">", value=1e-4, window={"start_frac": 0.5}))
        out.append(_pred("no_warning", "no 'var(): degrees of freedom is <= 0' warnings", tag="var_dof"))
    elif cause == "attention_logit_growth" and "max_attn_logit" in metrics:
        out.append(_pred("metric", "max attention logit stays below 50", metric="max_attn_logit", stat="max",
                         op="<", value=50))
    out.append(_pred("cause_absent", f"{cause} is no longer diagnosed (confidence < 0.5)", cause=cause))
    return out
