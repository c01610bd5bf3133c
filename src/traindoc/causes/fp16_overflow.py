"""`fp16_overflow`: half-precision range is exceeded."""

from traindoc.causes.model import Cause, NoWarning, PlanPolicy, Remedy, Strategy
from traindoc.causes.outcomes import GRAD_NORM_FINITE, LOSS_FINITE

CAUSE = Cause(
    id="fp16_overflow",
    group="Numerics",
    what="half-precision range is exceeded",
    evidence=(
        '"Gradient overflow. Skipping step", loss scale falling to its minimum, NaN in fp16/`16-true` runs that '
        "bf16/fp32 runs do not show"
    ),
    typical_fix="bf16 or fp32 master weights, dynamic loss scaling, lower LR",
    tell_apart=(
        "Needs half precision in the run (precision fp16 / 16-mixed, an fp16/amp flag, grad norms that are "
        "exact float16 numbers, or a training checkpoint whose weights are stored float16) or overflow/loss-scale "
        "messages; the same NaN in a bf16/fp32 run is `nan_inf`."
    ),
    detectors=("detect_fp16_overflow", "detect_unmeasured_loss_fp16"),
    remedy=Remedy(
        "Half precision overflows",
        "Train in bf16 (or fp32 master weights) with dynamic loss scaling",
        "high",
        "low",
        "low",
        quick_wins=("Switch fp16 to bf16",),
    ),
    outcomes=(
        LOSS_FINITE,
        GRAD_NORM_FINITE,
        NoWarning("grad_overflow", "no gradient-overflow messages"),
    ),
    # precision "16-mixed" -> "bf16-mixed", mixed_precision fp16 -> bf16, fp16: true -> bf16: true
    # (plan/fix_precision.py)
    plan=PlanPolicy((Strategy("half_to_bf16"),)),
)
