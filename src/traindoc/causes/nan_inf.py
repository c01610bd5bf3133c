"""`nan_inf`: NaN/Inf appear in the loss or gradients from an unguarded operation."""

from traindoc.causes.model import Cause, ExplainedBy, FixCode, PlanPolicy, Remedy
from traindoc.causes.outcomes import GRAD_NORM_FINITE, LOSS_FINITE

CAUSE = Cause(
    id="nan_inf",
    group="Numerics",
    what="NaN/Inf appear in the loss or gradients from an unguarded operation",
    evidence=(
        "loss nan/inf (HF Trainer logs `loss 0` with `grad_norm nan`); no overflow-scaler messages; log(0), "
        "division by zero, sqrt of negative"
    ),
    typical_fix="guard the op (clamp/eps), find the first bad step",
    tell_apart=(
        "The first non-finite step matters: NaN with no preceding grad-norm growth points at an unguarded op "
        "(log, division, sqrt) only where the run's precision rules fp16 out (bf16/fp32 stated) or the op is "
        "located; without the precision the logs cannot tell it from `fp16_overflow`. NaN after a blow-up, a "
        "climbing loss or a rising LR points at `lr_too_high` or `grad_explosion`; NaN from the first step at the data."
    ),
    detectors=("detect_nan_inf", "detect_code_unguarded_log", "detect_unmeasured_loss"),
    locators=("locate_unguarded_log",),
    templates=("nan_guard",),
    remedy=Remedy(
        "NaN/Inf from an unguarded numerical operation",
        "Guard the operation (clamp/eps) and stop at the first non-finite step",
        "high",
        "low",
        "low",
        quick_wins=("Clamp inputs of log/sqrt/div with an eps", "Enable anomaly detection for one run to find the op"),
    ),
    explained_by=(ExplainedBy("fp16_overflow", 0.6),),
    outcomes=(
        LOSS_FINITE,
        GRAD_NORM_FINITE,
    ),
    plan=PlanPolicy((FixCode(),), fix_all_sites=True),
)
