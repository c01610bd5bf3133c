"""`lr_too_low`: updates are too small to make progress."""

from traindoc.causes.model import Cause, ExplainedBy, PlanPolicy, Remedy, ScaleKey
from traindoc.causes.outcomes import LOSS_FALLS

CAUSE = Cause(
    id="lr_too_low",
    group="Optimisation dynamics",
    what="updates are too small to make progress",
    evidence="loss almost flat while grad norms are healthy; LR orders of magnitude below reference",
    typical_fix="raise the LR",
    tell_apart="Flat loss with healthy grad norms; frozen parameters instead show grad norms near 0.",
    detectors=("detect_lr_too_low", "detect_creeping_heldout"),
    remedy=Remedy(
        "Learning rate far too low: updates are too small to make progress",
        "Raise the learning rate to the reference range for the optimiser",
        "high",
        "low",
        "low",
        quick_wins=("Raise the learning rate 10x and watch the first 100 steps",),
        default_changes=({"target": "config", "key": "learning_rate", "description": "raise the learning rate"},),
    ),
    explained_by=(ExplainedBy("frozen_params", 0.6), ExplainedBy("vanishing_gradients", 0.6)),
    outcomes=(LOSS_FALLS,),
    plan=PlanPolicy((ScaleKey("lr_to_scale", 10.0, "10x: updates large enough to make progress"),)),
)
