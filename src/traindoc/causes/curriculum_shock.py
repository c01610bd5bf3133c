"""`curriculum_shock`: a data/curriculum stage change shifts the distribution too sharply for the current LR."""

from traindoc.causes.model import Cause, ExplainedBy, MetricOutcome, PlanPolicy, Remedy, ScaleKey

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
    explained_by=(ExplainedBy("lr_too_high", 0.5, "lr_above"),),
    outcomes=(
        MetricOutcome(
            "grad_norm", "grad_norm stays below 10x its median{where}", "max_over_median", "<", 10, "boundary"
        ),
        MetricOutcome(
            "loss", "training loss ends within 10% of its minimum (no divergence)", "final_over_min", "<=", 1.1
        ),
        MetricOutcome("eval_loss", "eval loss ends within 10% of its minimum", "final_over_min", "<=", 1.1),
    ),
    plan=PlanPolicy((ScaleKey("lr_to_scale", 0.5, "a lower LR absorbs the stage change"),)),
)
