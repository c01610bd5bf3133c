"""`vanishing_gradients`: gradients too small to train the early layers."""

from traindoc.causes.model import Cause, ExplainedBy, Manual, MetricOutcome, PlanPolicy, Remedy, Strategy
from traindoc.causes.outcomes import LOSS_FALLS

CAUSE = Cause(
    id="vanishing_gradients",
    group="Optimisation dynamics",
    what="gradients too small to train the early layers",
    evidence="grad norm tiny (<1e-4) from the start; input-side layers' grad norm < 1e-3 of the output side's; "
             "loss plateau; deep saturating activations",
    typical_fix="normalisation layers, residuals, better init, non-saturating activations",
    detectors=("detect_vanishing_gradients", "detect_layer_grad_decay", "detect_saturating_depth"),
    remedy=Remedy(
        "Gradients vanish before they reach the early layers",
        "Add normalisation/residual connections, use a better init and non-saturating activations",
        "high",
        "high",
        "medium",
        quick_wins=("Check the init scale and add LayerNorm",),
    ),
    explained_by=(ExplainedBy("frozen_params", 0.5), ExplainedBy("lr_too_low", 0.7)),
    outcomes=(
        LOSS_FALLS,
        MetricOutcome("grad_norm", "grad_norm median above 1e-4", "median", ">", 1e-4),
    ),
    # a norm / residual switch the project's config offers is turned on (plan/strategies.py)
    plan=PlanPolicy((Strategy("enable_norm_residual"),
                     Manual("add normalisation/residuals or a better init; raise the LR if grads are tiny"))),
)
