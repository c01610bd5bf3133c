"""`grad_explosion`: gradients grow without bound while the LR is in range."""

from traindoc.causes.model import Cause, ExplainedBy, FixCode, PlanPolicy, Remedy, SetKey
from traindoc.causes.outcomes import GRAD_NORM_BOUNDED, LOSS_FINITE, LOSS_NOT_DIVERGED

CAUSE = Cause(
    id="grad_explosion",
    group="Optimisation dynamics",
    what="gradients grow without bound while the LR is in range",
    evidence="grad norm rises by orders of magnitude, no clipping configured, loss spikes follow",
    typical_fix="clip the global grad norm (e.g. 1.0); find the layer whose grads grow",
    tell_apart=(
        "Growth over orders of magnitude with clipping off (`grad_clip` 0) and an LR in range; a single spike "
        "that recovers is evidence, not this cause."
    ),
    detectors=("detect_grad_explosion",),
    locators=("locate_step_without_clip",),
    templates=("clip_grad_norm",),
    remedy=Remedy(
        "Gradients explode: the norm grows by orders of magnitude with no clipping",
        "Clip the global gradient norm (1.0) and find the layer whose gradients grow",
        "high",
        "low",
        "low",
        quick_wins=("Enable gradient clipping at 1.0",),
        default_changes=(
            {"target": "config", "key": "max_grad_norm", "after": "1.0", "description": "clip the global grad norm"},
        ),
    ),
    explained_by=(ExplainedBy("zero_grad_missing", 0.4), ExplainedBy("lr_too_high", 0.7, "lr_above")),
    outcomes=(
        GRAD_NORM_BOUNDED,
        LOSS_NOT_DIVERGED,
        LOSS_FINITE,
    ),
    plan=PlanPolicy((SetKey("grad_clip", 1.0, "clip the global grad norm at 1.0"), FixCode(first_only=True))),
)
