"""`dead_units`: activations dead or saturated so no signal passes."""

from traindoc.causes.model import Cause, ExplainedBy, PlanPolicy, Remedy, ScaleKey
from traindoc.causes.outcomes import LOSS_FALLS

CAUSE = Cause(
    id="dead_units",
    group="Optimisation dynamics",
    what="activations dead or saturated so no signal passes",
    evidence="loss stalls early; many zero activations or gradients; large negative biases",
    typical_fix="fix init, use leaky/GELU, lower the LR",
    tell_apart=(
        "A loss pinned at chance is the mechanism, not the cause: vs `lr_too_high`, a stated LR far above its range "
        "kills units in the first updates (the LR is the cause); vs `data_pipeline_bug`, labels detached from their "
        "inputs give the same constant output (the label marginal). Dead units from the start show as a negative "
        "bias init, a loss exactly ln(k) from step 0, or a logged dead fraction; with none of that and no LR stated, "
        "the three are a tie."
    ),
    detectors=("detect_dead_units", "detect_dead_init", "detect_loss_at_chance", "detect_saturated_output",
               "detect_loss_froze_after_moving"),
    remedy=Remedy(
        "Units are dead or saturated, so no signal passes",
        "Fix the init, use GELU/leaky activations, lower the LR",
        "medium",
        "medium",
        "medium",
        quick_wins=("Switch ReLU to GELU",),
    ),
    explained_by=(ExplainedBy("frozen_params", 0.5),),
    outcomes=(LOSS_FALLS,),
    plan=PlanPolicy((ScaleKey("lr_to_scale", 0.5, "lower the LR so units are not pushed into saturation"),)),
)
