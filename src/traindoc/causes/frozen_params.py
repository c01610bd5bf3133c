"""`frozen_params`: parameters that should train do not."""

from traindoc.causes.model import Cause, PlanPolicy, Remedy, SetKey
from traindoc.causes.outcomes import LOSS_FALLS

CAUSE = Cause(
    id="frozen_params",
    group="Optimisation dynamics",
    what="parameters that should train do not",
    evidence="grad norm ~0 or updates ~0; loss flat; trainable count far below total",
    typical_fix="set `requires_grad`, pass the params to the optimiser",
    tell_apart=(
        "Trainable count far below total, or grad norm ~0; look for `freeze_backbone` or `requires_grad = False`."
    ),
    detectors=("detect_frozen_params", "detect_loss_recurs", "detect_loss_never_moved", "detect_code_freeze",
               "detect_layers_without_gradient"),
    remedy=Remedy(
        "Parameters that should train are frozen",
        "Unfreeze them (requires_grad) and pass them to the optimiser",
        "high",
        "low",
        "low",
        quick_wins=("Print the trainable parameter count before training",),
        default_changes=({"target": "config", "key": "freeze_backbone", "after": "false", "description": "unfreeze"},),
    ),
    outcomes=(LOSS_FALLS,),
    plan=PlanPolicy((SetKey("freeze", False, "train the backbone again"),)),
)
