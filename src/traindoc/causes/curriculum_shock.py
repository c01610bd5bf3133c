"""`curriculum_shock`: a data/curriculum stage change shifts the distribution too sharply for the current LR."""

from traindoc.causes.model import Cause, ExplainedBy, PlanPolicy, Remedy, ScaleKey
from traindoc.causes.outcomes import EVAL_LOSS_NEAR_MIN, GRAD_NORM_BOUNDED, LOSS_NOT_DIVERGED

CAUSE = Cause(
    id="curriculum_shock",
    group="Data and labels",
    what="a data/curriculum stage change shifts the distribution too sharply for the current LR",
    evidence="loss and grad-norm jump exactly at a stage boundary, training was smooth before",
    typical_fix="lower the LR or re-warm at the boundary, blend stages",
    tell_apart=(
        "Only when the jump sits exactly at a `stage` event and every LR is in its reference range; with an "
        "LR above range, report `lr_too_high` first and this at most as contributing."
    ),
    detectors=("detect_curriculum_shock",),
    templates=("warmup_cosine",),
    remedy=Remedy(
        "The curriculum stage switch shifts the data too sharply for the current LR",
        "Re-warm or lower the LR at the stage boundary, or blend the stages",
        "medium",
        "medium",
        "low",
        quick_wins=("Re-warm the LR for a few hundred steps at each stage switch",),
    ),
    # a jump at a stage boundary under an LR above its reference is the LR's fault, the boundary only its trigger
    explained_by=(ExplainedBy("lr_too_high", 0.5, "lr_above"),),
    outcomes=(
        GRAD_NORM_BOUNDED,
        LOSS_NOT_DIVERGED,
        EVAL_LOSS_NEAR_MIN,
    ),
    plan=PlanPolicy((ScaleKey("lr_to_scale", 0.5, "a lower LR absorbs the stage change"),)),
)
