"""`grad_explosion`: gradients grow without bound while the LR is in range."""

from traindoc.causes.model import Cause, ExplainedBy, FixCode, MetricOutcome, PlanPolicy, Remedy, SetKey
from traindoc.causes.outcomes import LOSS_FINITE, LOSS_NOT_DIVERGED

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
    detectors=("detect_grad_explosion", "detect_epoch_compounding", "detect_epoch_spike"),
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
    # growth over the early median, the detector's own measure: the whole-run median is no yardstick for a clipped
    # SGD run that learns, whose grad norm ends ~10x below its first steps' (docs/fault-zoo.md, grad_explosion)
    outcomes=(
        MetricOutcome("grad_norm", "grad_norm stays below 30x its median over the first 10% of the run",
                      "max_over_early_median", "<", 30),
        LOSS_NOT_DIVERGED,
        LOSS_FINITE,
    ),
    plan=PlanPolicy((SetKey("grad_clip", 1.0, "clip the global grad norm at 1.0"), FixCode(first_only=True))),
)
